"""Street graphs in GraphML.

The city's street graph is a directed GraphML file: nodes carry ``x`` and ``y`` [m, city
CRS]; edges carry ``length_m`` [m] and ``name`` (street name). A two-way street is two
edges, one each way; a one-way street is one edge. networkx reads and writes the XML.
"""

from __future__ import annotations

from pathlib import Path
from xml.etree.ElementTree import ParseError

import networkx as nx
import numpy as np

from ..errors import InputError
from ..streets import StreetNetwork


def read_streets(path: str | Path) -> StreetNetwork:
    """Read a directed GraphML street graph into a :class:`StreetNetwork`."""
    path = Path(path)
    try:
        g = nx.read_graphml(path, force_multigraph=False)
    except FileNotFoundError:
        raise InputError("file not found", file=path) from None
    except (ParseError, nx.NetworkXError, KeyError, ValueError) as exc:
        raise InputError(f"not a readable GraphML street graph ({exc})", file=path) from None
    if not g.is_directed():
        raise InputError('expected a directed graph (edgedefault="directed")', file=path)
    nodes = list(g.nodes)
    if len(nodes) < 2 or g.number_of_edges() == 0:
        raise InputError(f"expected a street graph with nodes and edges, got {len(nodes)} "
                         f"nodes and {g.number_of_edges()} edges", file=path)
    index = {n: i for i, n in enumerate(nodes)}
    try:
        x = np.array([float(g.nodes[n]["x"]) for n in nodes])
        y = np.array([float(g.nodes[n]["y"]) for n in nodes])
    except KeyError as exc:
        raise InputError(f"expected node attribute {exc} on every node", file=path) from None
    except (TypeError, ValueError):
        raise InputError("expected numbers as node x and y", file=path) from None
    bad = np.flatnonzero(~(np.isfinite(x) & np.isfinite(y)))
    if bad.size:
        raise InputError(f"expected finite coordinates x, y [m] on every node; node "
                         f"{nodes[bad[0]]!r} has x={x[bad[0]]}, y={y[bad[0]]} ({bad.size} "
                         "such nodes)", file=path)
    edges = list(g.edges(data=True))
    try:
        length = np.array([float(d["length_m"]) for _, _, d in edges])
    except KeyError:
        raise InputError("expected edge attribute 'length_m' on every edge", file=path) from None
    if (length <= 0).any() or not np.isfinite(length).all():
        raise InputError("expected every edge length_m to be a finite number > 0", file=path)
    return StreetNetwork(
        node_id=np.array(nodes, dtype=str),
        x=x,
        y=y,
        edge_from=np.array([index[u] for u, _, _ in edges], dtype=np.int64),
        edge_to=np.array([index[v] for _, v, _ in edges], dtype=np.int64),
        length_m=length,
        name=np.array([str(d.get("name", "")) for _, _, d in edges], dtype=str),
        attribution=_attribution(g, edges),
    )


#: Credit line of OpenStreetMap data (ODbL 1.0).
OSM_CREDIT = "© OpenStreetMap contributors"


def _attribution(g: nx.DiGraph, edges: list) -> str:
    """The graph's ``attribution`` attribute, else the OSM credit for a graph from
    OpenStreetMap (written by osmnx, or with ``osmid`` on its edges), else empty."""
    if g.graph.get("attribution"):
        return str(g.graph["attribution"])
    from_osm = str(g.graph.get("created_with", "")).lower().startswith("osmnx") or any(
        "osmid" in d for _, _, d in edges[:50])
    return OSM_CREDIT if from_osm else ""


def write_streets(net: StreetNetwork, path: str | Path) -> None:
    """Write a :class:`StreetNetwork` as directed GraphML (deterministic order)."""
    g = nx.DiGraph()
    for nid, x, y in zip(net.node_id, net.x, net.y, strict=True):
        g.add_node(str(nid), x=round(float(x), 2), y=round(float(y), 2))
    for u, v, length, name in zip(net.edge_from, net.edge_to, net.length_m, net.name, strict=True):
        g.add_edge(
            str(net.node_id[u]),
            str(net.node_id[v]),
            length_m=round(float(length), 2),
            name=str(name),
        )
    nx.write_graphml(g, str(path))
