"""OpenStreetMap XML street graphs (``.osm``, ``.osm.gz``) as a :class:`StreetNetwork`.

Needs ``osmnx`` (the ``osm`` extra: ``pip install irrigation[osm]``). Ways are kept when
their ``highway`` tag is a street a truck may drive (:data:`DRIVABLE`); one-way tags are
respected (a one-way street is one directed edge, a two-way street two). The graph is
simplified to intersections, reduced to its largest strongly connected component (so
every node reaches every other) and projected to a metric CRS; edge lengths are
osmnx's great-circle lengths [m].

Map data © OpenStreetMap contributors, ODbL 1.0: credit them wherever a network read here,
or a matrix or plot derived from it, is shown.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..streets import StreetNetwork

log = logging.getLogger(__name__)

DRIVABLE = frozenset({
    "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link",
    "secondary", "secondary_link", "tertiary", "tertiary_link", "unclassified",
    "residential", "living_street", "service", "road",
})  # fmt: skip
"""``highway`` values of ways a watering truck may drive on."""


def read_osm(path: str | Path, crs: str | None = "EPSG:25832") -> StreetNetwork:
    """Read the drivable streets of an OSM XML file.

    Parameters
    ----------
    path
        ``.osm`` or ``.osm.gz`` file (OSM XML, e.g. an Overpass export).
    crs
        Projected metric CRS of the node coordinates [m]; ``None`` picks the UTM zone of
        the data.

    Returns
    -------
    StreetNetwork
        Intersections and directed street segments of the largest strongly connected
        component; node ids are OSM node ids.

    Raises
    ------
    InputError
        The file is missing, not OSM XML, or has no drivable street.
    """
    ox = _osmnx()
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", file=path)
    try:
        g = ox.graph_from_xml(path, bidirectional=False, simplify=False, retain_all=True)
    except Exception as exc:  # osmnx raises many kinds for a bad file
        raise InputError(f"not a readable OSM XML file ({exc})", file=path) from None
    g = _drivable(g, path)
    g = ox.simplify_graph(g)
    g = ox.truncate.largest_component(g, strongly=True)
    g = ox.project_graph(g, to_crs=crs)
    log.info(
        "%s: %d nodes, %d edges (© OpenStreetMap contributors)",
        path.name,
        g.number_of_nodes(),
        g.number_of_edges(),
    )
    return _to_network(g)


def _osmnx():
    try:
        import osmnx
    except ImportError:
        raise InputError("reading OSM files needs osmnx: pip install 'irrigation[osm]'") from None
    return osmnx


def _drivable(g, path: Path):
    """The subgraph of edges whose ``highway`` tag is in :data:`DRIVABLE`."""
    keep = [(u, v, k) for u, v, k, hw in g.edges(keys=True, data="highway") if _is_drivable(hw)]
    if not keep:
        raise InputError("has no drivable street (highway=residential, ...)", file=path)
    return g.edge_subgraph(keep).copy()


def _is_drivable(highway) -> bool:
    tags = highway if isinstance(highway, list) else [highway]
    return any(t in DRIVABLE for t in tags)


def _to_network(g) -> StreetNetwork:
    ids = list(g.nodes)
    index = {n: i for i, n in enumerate(ids)}
    edges = list(g.edges(data=True))
    return StreetNetwork(
        node_id=np.array(ids),
        x=np.array([g.nodes[n]["x"] for n in ids], float),
        y=np.array([g.nodes[n]["y"] for n in ids], float),
        edge_from=np.array([index[u] for u, _, _ in edges], dtype=np.int64),
        edge_to=np.array([index[v] for _, v, _ in edges], dtype=np.int64),
        length_m=np.array([float(d["length"]) for _, _, d in edges]),
        name=np.array([_name(d.get("name")) for _, _, d in edges], dtype=object),
    )


def _name(value) -> str:
    if isinstance(value, list):
        return " / ".join(str(v) for v in value)
    return "" if value is None else str(value)
