"""Where a point is, in words a crew can drive to: street, position on it, lat/lon.

A city's sites carry coordinates, rarely an address. :func:`nearest_street` snaps each
point to the nearest named street edge of the street graph and describes the position from
the nearer corner ("35 m east of Ahornweg"); :func:`lat_lon` gives WGS84 coordinates and
:func:`nav_link` a link a phone opens in its map app. Everything is vectorised over points
(chunks of :data:`CHUNK` points against all named edges).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .streets import StreetNetwork

#: Points per block of the point-to-edge distances (block x edges floats in memory).
CHUNK = 256

#: Closer to a corner than this, a position reads "at the corner of ..." [m].
CORNER_M = 10.0

_COMPASS = ("east", "north-east", "north", "north-west", "west", "south-west", "south",
            "south-east")


def _compass(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """The 8-point compass word of direction (dx, dy) (x east, y north)."""
    k = np.round(np.degrees(np.arctan2(dy, dx)) / 45.0).astype(int) % 8
    return np.asarray(_COMPASS, dtype=object)[k]


def _segments(net: StreetNetwork, named: np.ndarray, x: np.ndarray, y: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """Squared distance of each point to each named edge (points, edges) [m2] and the
    fraction along the edge of the nearest point on it (points, edges)."""
    ax, ay = net.x[net.edge_from[named]], net.y[net.edge_from[named]]
    bx, by = net.x[net.edge_to[named]], net.y[net.edge_to[named]]
    dx, dy = bx - ax, by - ay
    len2 = np.maximum(dx * dx + dy * dy, 1e-12)
    t = np.clip(((x[:, None] - ax) * dx + (y[:, None] - ay) * dy) / len2, 0.0, 1.0)
    px, py = ax + t * dx, ay + t * dy
    return (x[:, None] - px) ** 2 + (y[:, None] - py) ** 2, t


def cross_street(net: StreetNetwork, node: int, street: str) -> str:
    """The first name (alphabetically) of another street meeting at ``node``; ``""`` when
    none does."""
    touching = (net.edge_from == node) | (net.edge_to == node)
    names = sorted({str(n) for n in net.name[touching]} - {"", street})
    return names[0] if names else ""


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
        when no other street meets there) and ``off_m`` (distance from the street [m]).
    """
    x, y = np.asarray(x, float).ravel(), np.asarray(y, float).ravel()
    n = len(x)
    if net is None or n == 0 or not (np.asarray(net.name) != "").any():
        return pd.DataFrame({"street": [""] * n, "position": [""] * n,
                             "off_m": np.full(n, np.nan)})
    named = np.flatnonzero(np.asarray(net.name) != "")
    names = np.asarray(net.name)[named].astype(str)
    prefer = np.full(n, "", dtype=object) if prefer is None else np.asarray(prefer, object)
    edge = np.empty(n, int)
    frac = np.empty(n)
    off = np.empty(n)
    for s in range(0, n, CHUNK):
        d2, t = _segments(net, named, x[s:s + CHUNK], y[s:s + CHUNK])
        want = prefer[s:s + CHUNK].astype(str)
        match = names[None, :] == want[:, None]
        d2 = np.where(match.any(1, keepdims=True) & ~match, np.inf, d2)
        k = np.argmin(d2, axis=1)
        rows = np.arange(len(k))
        edge[s:s + CHUNK], frac[s:s + CHUNK] = named[k], t[rows, k]
        off[s:s + CHUNK] = np.sqrt(d2[rows, k])
    street = np.asarray(net.name)[edge].astype(str)
    a, b = net.edge_from[edge], net.edge_to[edge]
    length = np.hypot(net.x[b] - net.x[a], net.y[b] - net.y[a])
    near_a = frac <= 0.5
    corner = np.where(near_a, a, b)
    far = np.where(near_a, b, a)
    dist = np.where(near_a, frac, 1.0 - frac) * length
    word = _compass(net.x[far] - net.x[corner], net.y[far] - net.y[corner])
    position = []
    for i in range(n):
        other = cross_street(net, int(corner[i]), street[i])
        if other and dist[i] < CORNER_M:
            position.append(f"at the corner of {other}")
        elif other:
            position.append(f"{dist[i]:.0f} m {word[i]} of {other}")
        else:
            position.append(f"{dist[i]:.0f} m {word[i]} of the end of the block")
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
