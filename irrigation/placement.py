"""Do the parts of a city lie in the same place?

Sites, refill points, the street graph and the groundwater grid come from different files,
often in different coordinate systems. One of them in the wrong CRS (a GeoJSON read as
EPSG:25832 in an EPSG:25833 city lands ~400 km away) gives a plan that serves nothing,
with no error. :func:`placement_problems` measures, for every site and refill point, the
distance to the nearest street node, refill point and depot, and lists what lies too far
away: how many, the extent of those points and of what they should be near.
``irrigation validate`` fails on any problem; the daily run reports them as warnings.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from .city import City
from .groundwater.model import GwfModel

#: A site or refill point farther than this from every street node is off the street
#: graph [m]: the routing would drive this distance in a straight line to reach it.
MAX_STREET_GAP_M = 1_000.0

#: A site farther than this from every refill point (depots included), or a depot farther
#: than this from every site, is not in the same district [m] (a truck's day is a few tens
#: of km).
MAX_REFILL_GAP_M = 10_000.0


def placement_problems(city: City, groundwater: GwfModel | None = None) -> list[str]:
    """What lies too far from the rest of the city, one sentence per problem.

    Checks: sites and refill points within :data:`MAX_STREET_GAP_M` of a street node (when
    the city has streets); sites within :data:`MAX_REFILL_GAP_M` of a refill point; depots
    within :data:`MAX_REFILL_GAP_M` of a site; sites inside the groundwater grid (when
    ``groundwater`` is given).

    Returns
    -------
    list of str
        Empty when everything lies together.
    """
    s, r = city.sites, city.refill_points
    sxy = np.column_stack([s.x.values, s.y.values]).astype(float)
    rxy = np.column_stack([r.x.values, r.y.values]).astype(float)
    sid, rid = s.site.values.astype(str), r.refill.values.astype(str)
    crs = city.config.crs
    out = []
    if city.streets is not None and city.streets.n_nodes:
        nxy = np.column_stack([city.streets.x, city.streets.y])
        for what, xy, ids in (("sites", sxy, sid), ("refill points", rxy, rid)):
            out += _far(what, xy, ids, nxy, MAX_STREET_GAP_M, "every street node",
                        "the streets", crs)
    if len(rxy):
        out += _far("sites", sxy, sid, rxy, MAX_REFILL_GAP_M, "every refill point",
                    "the refill points", crs)
    depot = (r.kind == "depot").values
    if depot.any() and len(sxy):
        out += _far("depots", rxy[depot], rid[depot], sxy, MAX_REFILL_GAP_M, "every site",
                    "the sites", crs)
    if groundwater is not None and len(sxy):
        row, _ = groundwater.xy_to_rowcol(sxy[:, 0], sxy[:, 1])
        outside = row < 0
        if outside.any():
            gx = groundwater.xorigin + np.array([0.0, float(np.sum(groundwater.delr))])
            gy = groundwater.yorigin + np.array([0.0, float(np.sum(groundwater.delc))])
            out.append(f"{int(outside.sum())} of {len(sxy)} sites lie outside the groundwater "
                       f"grid ({_extent(gx, gy, crs)}): they are at "
                       f"{_extent(sxy[outside, 0], sxy[outside, 1], crs)}, e.g. site "
                       f"{sid[outside][0]} at {_point(sxy[outside][0])}")
    return out


def _far(what: str, xy: np.ndarray, ids: np.ndarray, targets: np.ndarray, limit_m: float,
         every: str, target_name: str, crs: str) -> list[str]:
    if not len(xy):
        return []
    gap, _ = cKDTree(targets).query(xy)
    far = gap > limit_m
    if not far.any():
        return []
    return [f"{int(far.sum())} of {len(xy)} {what} lie more than {limit_m / 1000:g} km from "
            f"{every} (nearest {gap[far].min() / 1000:,.1f}-{gap[far].max() / 1000:,.1f} km): "
            f"they are at {_extent(xy[far, 0], xy[far, 1], crs)}, e.g. {ids[far][0]} at "
            f"{_point(xy[far][0])}; {target_name} are at "
            f"{_extent(targets[:, 0], targets[:, 1], crs)}"]


def _extent(x: np.ndarray, y: np.ndarray, crs: str) -> str:
    return (f"x {np.min(x):,.0f}-{np.max(x):,.0f} m, y {np.min(y):,.0f}-{np.max(y):,.0f} m "
            f"({crs})")


def _point(p: np.ndarray) -> str:
    return f"({p[0]:,.0f}, {p[1]:,.0f})"
