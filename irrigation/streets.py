"""The street graph of a city: directed edges with lengths and names, as plain arrays.

Read from GraphML (:mod:`irrigation.io.graphml`) or OpenStreetMap (:mod:`irrigation.io.osm`);
routing (:mod:`irrigation.routing`) turns it into travel matrices and the plan
(:mod:`irrigation.plan`) draws routes along it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse
import scipy.sparse.csgraph
from scipy.spatial import cKDTree


@dataclass(frozen=True)
class StreetNetwork:
    """A directed street graph as plain arrays.

    Two-way streets appear as two edges, one each way; one-way streets as one.

    Attributes
    ----------
    node_id
        Node labels, shape (n_nodes,).
    x, y
        Node coordinates [m] in the city CRS.
    edge_from, edge_to
        Indices into the node arrays, shape (n_edges,).
    length_m
        Edge lengths [m].
    name
        Street names of the edges (for driver-sheet addresses).
    attribution
        Credit line the data's licence asks for wherever it is shown (e.g. "©
        OpenStreetMap contributors"); empty when none is needed.
    """

    node_id: np.ndarray
    x: np.ndarray
    y: np.ndarray
    edge_from: np.ndarray
    edge_to: np.ndarray
    length_m: np.ndarray
    name: np.ndarray
    attribution: str = ""

    @property
    def n_nodes(self) -> int:
        return len(self.node_id)

    @property
    def n_edges(self) -> int:
        return len(self.edge_from)

    def adjacency(self) -> scipy.sparse.csr_matrix:
        """Sparse (n_nodes, n_nodes) matrix of edge lengths [m] (shortest of parallel edges)."""
        order = np.lexsort((self.length_m, self.edge_to, self.edge_from))
        u, v, w = self.edge_from[order], self.edge_to[order], self.length_m[order]
        first = np.ones(len(u), dtype=bool)
        first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
        n = self.n_nodes
        return scipy.sparse.csr_matrix((w[first], (u[first], v[first])), shape=(n, n))

    @cached_property
    def _tree(self) -> cKDTree:
        return cKDTree(np.column_stack([self.x, self.y]))

    def nearest_node(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Index of the node nearest to each point and the distance to it [m]."""
        dist, idx = self._tree.query(np.column_stack([np.ravel(x), np.ravel(y)]))
        return idx, dist

    def n_strongly_connected(self) -> int:
        """Number of strongly connected components (1 means every node reaches every other)."""
        n, _ = scipy.sparse.csgraph.connected_components(self.adjacency(), connection="strong")
        return int(n)
