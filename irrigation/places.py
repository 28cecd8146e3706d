"""Where a point is, in words a crew can drive to: street, position on it, lat/lon.

A city's sites carry coordinates, rarely an address. :func:`nearest_street` snaps each
point to the nearest named street edge of the street graph and describes the position from
the nearer corner ("35 m east of Ahornweg"); :func:`lat_lon` gives WGS84 coordinates and
:func:`nav_link` a link a phone opens in its map app. Everything is vectorised over points,
in blocks of :data:`CHUNK` points against the edges that can be nearest (the edges of the
given street name, or those within the block's reach; exact, not approximate).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .streets import StreetNetwork

#: Points per block of the point-to-edge distances (block x candidate edges in memory).
CHUNK = 256

#: Closer to a corner than this, a position reads "at the corner of ..." [m].
CORNER_M = 10.0

_COMPASS = ("east", "north-east", "north", "north-west", "west", "south-west", "south",
            "south-east")


def _compass(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """The 8-point compass word of direction (dx, dy) (x east, y north)."""
    k = np.round(np.degrees(np.arctan2(dy, dx)) / 45.0).astype(int) % 8
    return np.asarray(_COMPASS, dtype=object)[k]


def _segment_d2(net: StreetNetwork, edge: np.ndarray, x: np.ndarray, y: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """Squared distance of points to edges, elementwise or broadcast [m2], and the fraction
    along the edge of the nearest point on it."""
    ax, ay = net.x[net.edge_from[edge]], net.y[net.edge_from[edge]]
    dx, dy = net.x[net.edge_to[edge]] - ax, net.y[net.edge_to[edge]] - ay
    len2 = np.maximum(dx * dx + dy * dy, 1e-12)
    t = np.clip(((x - ax) * dx + (y - ay) * dy) / len2, 0.0, 1.0)
    return (x - (ax + t * dx)) ** 2 + (y - (ay + t * dy)) ** 2, t


def _first_min(point: np.ndarray, edge: np.ndarray, d2: np.ndarray, n: int
               ) -> np.ndarray:
    """Per point (0..n-1) the position in the pair arrays of its nearest edge, ties to the
    lowest edge index; -1 for points without pairs."""
    order = np.lexsort((edge, d2, point))
    first = np.ones(order.size, bool)
    first[1:] = point[order][1:] != point[order][:-1]
    best = np.full(n, -1)
    best[point[order][first]] = order[first]
    return best


def _nearest_of_name(net: StreetNetwork, named: np.ndarray, names: np.ndarray,
                     x: np.ndarray, y: np.ndarray, want: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The nearest edge of the street named ``want`` (index into the graph's edges, -1
    where no named edge has that name; ties to the lowest index), the fraction along it
    and the squared distance [m2], per point: each point against its name's edges only
    (the edges sorted by name, a point's candidates one contiguous run)."""
    by_name = np.argsort(names, kind="stable")
    sorted_names = names[by_name]
    lo = np.searchsorted(sorted_names, want, "left")
    hi = np.searchsorted(sorted_names, want, "right")
    edge, frac, d2_best = np.full(x.size, -1), np.zeros(x.size), np.full(x.size, np.inf)
    for s in range(0, x.size, CHUNK):
        count = hi[s:s + CHUNK] - lo[s:s + CHUNK]
        point = np.repeat(np.arange(count.size), count)
        start = np.repeat(np.cumsum(count) - count, count)
        cand = named[by_name[lo[s:s + CHUNK][point] + np.arange(point.size) - start]]
        d2, t = _segment_d2(net, cand, x[s:s + CHUNK][point], y[s:s + CHUNK][point])
        best = _first_min(point, cand, d2, count.size)
        ok = best >= 0
        edge[s:s + CHUNK][ok], frac[s:s + CHUNK][ok] = cand[best[ok]], t[best[ok]]
        d2_best[s:s + CHUNK][ok] = d2[best[ok]]
    return edge, frac, d2_best


def _nearest_named(net: StreetNetwork, named: np.ndarray, x: np.ndarray, y: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The nearest named edge (ties to the lowest index), the fraction along it and the
    squared distance [m2], per point. Exact with pruning: the nearest end of a named edge
    (k-d tree) bounds each point's distance ``r``; points are taken in blocks of
    :data:`CHUNK` along a grid of cells, and a block compares only with the edges whose
    bounding box comes within the block's largest ``r`` of the block's box."""
    from scipy.spatial import cKDTree

    fx, fy = net.x[net.edge_from[named]], net.y[net.edge_from[named]]
    tx, ty = net.x[net.edge_to[named]], net.y[net.edge_to[named]]
    r = cKDTree(np.column_stack([np.r_[fx, tx], np.r_[fy, ty]])).query(
        np.column_stack([x, y]))[0]
    ex0, ex1 = np.minimum(fx, tx), np.maximum(fx, tx)
    ey0, ey1 = np.minimum(fy, ty), np.maximum(fy, ty)
    cell = max(float(np.ptp(x) + np.ptp(y)) / 64.0, 1.0)
    gx, gy = ((x - x.min()) // cell).astype(int), ((y - y.min()) // cell).astype(int)
    walk = np.lexsort((np.where(gy % 2 == 1, -gx, gx), gy))
    edge, frac, d2_best = np.empty(x.size, int), np.empty(x.size), np.empty(x.size)
    for s in range(0, x.size, CHUNK):
        p = walk[s:s + CHUNK]
        reach = r[p].max()
        near = np.flatnonzero((ex0 <= x[p].max() + reach) & (ex1 >= x[p].min() - reach)
                              & (ey0 <= y[p].max() + reach) & (ey1 >= y[p].min() - reach))
        d2, t = _segment_d2(net, named[near], x[p][:, None], y[p][:, None])
        k = np.argmin(d2, axis=1)
        rows = np.arange(p.size)
        edge[p], frac[p], d2_best[p] = named[near[k]], t[rows, k], d2[rows, k]
    return edge, frac, d2_best


def cross_streets(net: StreetNetwork, node: np.ndarray, street: np.ndarray) -> np.ndarray:
    """Per (node, street) pair the first name (alphabetically) of another street meeting at
    the node, ``""`` when none does."""
    node = np.asarray(node, int)
    street = np.asarray(street, object).astype(str)
    ends = np.r_[net.edge_from, net.edge_to]
    label = np.r_[net.name, net.name].astype(str)
    keep = (label != "") & np.isin(ends, node)
    vocab, code = np.unique(label[keep], return_inverse=True)
    out = np.full(node.size, "", dtype=object)
    if not keep.any():
        return out
    pairs = np.unique(np.column_stack([ends[keep], code.ravel()]), axis=0)  # by node, name
    first = np.searchsorted(pairs[:, 0], node, "left")
    count = np.searchsorted(pairs[:, 0], node, "right") - first
    for k in (0, 1):  # the first name, or the second when the first is the street itself
        name = vocab[pairs[np.minimum(first + k, len(pairs) - 1), 1]]
        take = (count > k) & (out == "") & (name != street)
        out[take] = name[take]
    return out


def nearest_street(net: StreetNetwork | None, x: np.ndarray, y: np.ndarray,
                   prefer: np.ndarray | None = None) -> pd.DataFrame:
    """Street and position of each point.

    Parameters
    ----------
    net
        The street graph; None gives empty descriptions.
    x, y
        Points [m] in the graph's CRS.
    prefer
        A street name per point (e.g. the sites table's ``street``); when an edge of that
        name exists the point is placed on the nearest such edge, else on the nearest
        named edge.

    Returns
    -------
    pandas.DataFrame
        ``street`` (the name), ``position`` (e.g. ``"35 m east of Ahornweg"``, ``"at the
        corner of Ahornweg"``, or the distance from the nearer end of the street segment
        when no other street meets there) and ``off_m`` (distance from the street [m]);
        empty and NaN for a point without finite coordinates.
    """
    x, y = np.asarray(x, float).ravel(), np.asarray(y, float).ravel()
    n = len(x)
    if net is None or n == 0 or not (np.asarray(net.name) != "").any():
        return pd.DataFrame({"street": [""] * n, "position": [""] * n,
                             "off_m": np.full(n, np.nan)})
    named = np.flatnonzero(np.asarray(net.name) != "")
    names = np.asarray(net.name)[named].astype(str)
    want = (np.full(n, "") if prefer is None else np.asarray(prefer, object).astype(str))
    finite = np.isfinite(x) & np.isfinite(y)
    edge, frac, d2 = _nearest_of_name(net, named, names, x, y, np.where(finite, want, ""))
    rest = np.flatnonzero((edge < 0) & finite)
    if rest.size:
        edge[rest], frac[rest], d2[rest] = _nearest_named(net, named, x[rest], y[rest])
    nowhere = edge < 0  # no coordinates: no street
    edge[nowhere], frac[nowhere], d2[nowhere] = named[0], 0.0, np.nan
    off = np.sqrt(d2)
    street = np.asarray(net.name)[edge].astype(str)
    a, b = net.edge_from[edge], net.edge_to[edge]
    length = np.hypot(net.x[b] - net.x[a], net.y[b] - net.y[a])
    near_a = frac <= 0.5
    corner = np.where(near_a, a, b)
    far = np.where(near_a, b, a)
    dist = np.where(near_a, frac, 1.0 - frac) * length
    word = _compass(net.x[far] - net.x[corner], net.y[far] - net.y[corner])
    other = cross_streets(net, corner, street)
    position = [f"at the corner of {o}" if o and d < CORNER_M else
                f"{d:.0f} m {w} of {o}" if o else f"{d:.0f} m {w} of the end of the block"
                for o, d, w in zip(other, dist, word, strict=True)]
    street[nowhere] = ""
    position = np.where(nowhere, "", np.asarray(position, dtype=object))
    return pd.DataFrame({"street": street, "position": position, "off_m": off})


def lat_lon(x: np.ndarray, y: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 latitude and longitude [degrees] of points [m] in ``crs``."""
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(
        np.asarray(x, float), np.asarray(y, float))
    return np.round(np.asarray(lat), 6), np.round(np.asarray(lon), 6)


def nav_link(lat: np.ndarray, lon: np.ndarray) -> list[str]:
    """A ``geo:`` URI (RFC 5870) per point: a phone opens it in its map app."""
    return [f"geo:{a:.6f},{o:.6f}" for a, o in zip(np.ravel(lat), np.ravel(lon), strict=True)]


def osm_link(lat: float, lon: float) -> str:
    """The OpenStreetMap page of a point at street zoom."""
    return f"https://www.openstreetmap.org/?mlat={lat:.6f}&mlon={lon:.6f}#map=19/{lat:.6f}/{lon:.6f}"


def describe(table: pd.DataFrame, net: StreetNetwork | None, crs: str) -> pd.DataFrame:
    """``table`` (with ``x``, ``y`` [m] and optionally ``street``) with ``street``,
    ``position``, ``lat``, ``lon`` and ``nav`` (:func:`nav_link`) added or filled."""
    out = table.copy()
    if not len(out):
        for c in ("street", "position", "lat", "lon", "nav"):
            out[c] = pd.Series(dtype=float if c in ("lat", "lon") else object)
        return out
    x, y = out["x"].to_numpy(float), out["y"].to_numpy(float)
    given = out["street"].fillna("").astype(str).to_numpy(object) if "street" in out else None
    where = nearest_street(net, x, y, prefer=given)
    street = where["street"].to_numpy(object)
    if given is not None:
        street = np.where(given != "", given, street)
    out["street"] = street
    out["position"] = where["position"].to_numpy()
    out["lat"], out["lon"] = lat_lon(x, y, crs)
    out["nav"] = nav_link(out["lat"], out["lon"])
    return out
