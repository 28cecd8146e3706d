"""OpenStreetMap XML street graphs (``.osm``, ``.osm.gz``) as a :class:`StreetNetwork`.

Needs ``osmnx`` (the ``osm`` extra: ``pip install irrigation[osm]``). Ways are kept when
their ``highway`` tag is a street a truck may drive (:data:`DRIVABLE`), unless the public
may not use them (``access`` in :data:`NOT_PUBLIC`) or they are the service roads of a
car park or a house (``service`` in :data:`SERVICE_EXCLUDED`); one-way tags are
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
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError
from ..streets import StreetNetwork

if TYPE_CHECKING:
    import pandas as pd

    from .refill import RefillReport

log = logging.getLogger(__name__)

DRIVABLE = frozenset({
    "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link",
    "secondary", "secondary_link", "tertiary", "tertiary_link", "unclassified",
    "residential", "living_street", "service", "road",
})  # fmt: skip
"""``highway`` values of ways a watering truck may drive on."""

#: ``access`` values of ways and points the public (a city's truck) may not use.
NOT_PUBLIC = frozenset({"private", "no", "customers"})

#: ``service`` values of ``highway=service`` ways a watering truck does not route through:
#: the aisles of car parks and the driveways to single buildings.
SERVICE_EXCLUDED = frozenset({"parking_aisle", "driveway"})


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
    """The subgraph of public drivable edges (:func:`is_drivable`)."""
    keep = [(u, v, k) for u, v, k, d in g.edges(keys=True, data=True) if is_drivable(d)]
    if not keep:
        raise InputError("has no drivable street (highway=residential, ...)", file=path)
    return g.edge_subgraph(keep).copy()


def is_drivable(tags: dict) -> bool:
    """Whether a way with these OSM tags is a public street a truck may drive: ``highway``
    in :data:`DRIVABLE`, ``access`` not in :data:`NOT_PUBLIC`, ``service`` not in
    :data:`SERVICE_EXCLUDED` (osmnx gives a list where merged ways differ)."""
    def values(key):
        v = tags.get(key)
        return v if isinstance(v, list) else [v]

    return (any(t in DRIVABLE for t in values("highway"))
            and not any(t in NOT_PUBLIC for t in values("access"))
            and not any(t in SERVICE_EXCLUDED for t in values("service")))


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
        attribution="© OpenStreetMap contributors",
    )


def _name(value) -> str:
    if isinstance(value, list):
        return " / ".join(str(v) for v in value)
    return "" if value is None else str(value)


# --------------------------------------------------------------------------- refill points


#: Refill rate of a fire hydrant [L min-1]: 48 m3/h, the basic fire-water supply a
#: hydrant network provides for two hours (DVGW worksheet W 405), i.e. 800 L/min.
HYDRANT_L_PER_MIN = 800.0

#: OSM tags of the nodes read as refill points: (key, value) -> source name.
REFILL_TAGS = {
    ("emergency", "fire_hydrant"): "fire_hydrant",
    ("man_made", "water_well"): "water_well",
    ("amenity", "water_point"): "water_point",
}



def read_osm_refill_points(
    path: str | Path,
    *,
    crs: str,
    hydrant_l_per_min: float = HYDRANT_L_PER_MIN,
    pump_l_per_min: float | None = None,
    keep_unknown: bool = True,
) -> tuple[pd.DataFrame, RefillReport]:
    """Refill points from the tagged nodes of an OSM XML file (``.osm``, ``.osm.gz``).

    Nodes tagged ``emergency=fire_hydrant`` are hydrants; ``man_made=water_well`` (street
    pumps, e.g. Berlin's Straßenbrunnen) and ``amenity=water_point`` are pumps. A point's
    status comes from ``pump:status``, else ``operational_status`` (classified by
    :func:`irrigation.io.refill.status_class`); ``disused=yes`` is broken; ``access``
    private/no/customers is not public. Broken, locked and non-public points are left out
    and counted, as are pumps when ``pump_l_per_min`` is ``None``. Needs no osmnx.

    Parameters
    ----------
    path
        OSM XML, plain or gzip-compressed.
    crs
        The city's projected CRS [m].
    hydrant_l_per_min, pump_l_per_min
        Refill rates [L min-1] of hydrants (:data:`HYDRANT_L_PER_MIN`) and of pumps/wells
        (no default: hand pumps are slow, state the city's value; ``None`` leaves them out).
    keep_unknown
        Keep points without a recognised status.

    Returns
    -------
    points, report
        Columns ``id`` (``osm<node id>``), ``kind`` (``hydrant``), ``x``, ``y`` [m],
        ``refill_l_per_min``, ``name``, ``status``, ``source`` (the tag); a
        :class:`irrigation.io.refill.RefillReport`.
    """
    import pandas as pd

    from .points import PointTable, project
    from .refill import STATUS_CLASSES, RefillReport, status_class

    path = Path(path)
    rows = _tagged_nodes(path)
    report = RefillReport(str(path), n_read=len(rows))
    kept, dropped = [], {}
    for node in rows:
        tags = node["tags"]
        source = node["source"]
        status = tags.get("pump:status") or tags.get("operational_status") or ""
        cls = "broken" if tags.get("disused") == "yes" else status_class(status)
        report.by_status[cls] = report.by_status.get(cls, 0) + 1
        if cls == "unrecognised":
            report.unrecognised[status] = report.unrecognised.get(status, 0) + 1
        reason = None
        if tags.get("access") in NOT_PUBLIC:
            reason = "not public (access)"
        elif cls in ("broken", "locked") or (cls in ("unknown", "unrecognised")
                                              and not keep_unknown):
            reason = cls if cls != "unrecognised" else "status unrecognised"
        elif source != "fire_hydrant" and pump_l_per_min is None:
            reason = f"{source} (no pump_l_per_min given)"
        if reason is not None:
            dropped[reason] = dropped.get(reason, 0) + 1
            continue
        rate = hydrant_l_per_min if source == "fire_hydrant" else pump_l_per_min
        kept.append({"id": f"osm{node['id']}", "kind": "hydrant", "lon": node["lon"],
                     "lat": node["lat"], "refill_l_per_min": float(rate),
                     "name": tags.get("name") or tags.get("addr:street", ""),
                     "status": status, "source": source})
    report.by_status = {c: report.by_status[c] for c in STATUS_CLASSES if c in report.by_status}
    report.dropped = dropped
    columns = ["id", "kind", "x", "y", "refill_l_per_min", "name", "status", "source"]
    frame = pd.DataFrame(kept, columns=[*columns[:2], "lon", "lat", *columns[4:]])
    table = PointTable(frame, frame["lon"].to_numpy(float), frame["lat"].to_numpy(float),
                       "EPSG:4326", frame.index.to_numpy())
    x, y = project(table, crs, path)
    frame = frame.drop(columns=["lon", "lat"]).assign(x=x.round(2), y=y.round(2))[columns]
    report.n_kept = len(frame)
    return frame, report


def _tagged_nodes(path: Path) -> list[dict]:
    """Nodes with one of :data:`REFILL_TAGS`: id, lon, lat, tags and the matching source."""
    import gzip
    import zlib
    from xml.etree.ElementTree import ParseError, iterparse

    if not path.is_file():
        raise InputError("file not found", file=path)
    with open(path, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    out = []
    try:
        with (gzip.open(path, "rb") if gz else open(path, "rb")) as fh:
            for _, elem in iterparse(fh, events=("end",)):
                if elem.tag == "node":
                    tags = {t.get("k"): t.get("v") for t in elem.iter("tag")}
                    source = next((s for (k, v), s in REFILL_TAGS.items()
                                   if tags.get(k) == v), None)
                    if source is not None:
                        out.append(_node(elem, tags, source, path))
                    elem.clear()
                elif elem.tag in ("way", "relation"):
                    elem.clear()
    except (ParseError, OSError, EOFError, zlib.error) as exc:
        raise InputError(f"not a readable OSM XML file ({exc})", file=path) from None
    return out


def _node(elem, tags: dict, source: str, path: Path) -> dict:
    try:
        lon, lat = float(elem.get("lon")), float(elem.get("lat"))
        node_id = int(elem.get("id"))
    except (TypeError, ValueError):
        raise InputError(f"node {elem.get('id')!r}: expected numeric id, lat and lon",
                         file=path) from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InputError(f"node {node_id}: lon/lat ({lon}, {lat}) out of range", file=path)
    return {"id": node_id, "lon": lon, "lat": lat, "tags": tags, "source": source}
