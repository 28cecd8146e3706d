"""Where a point is, in words: hand-made streets with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from irrigation.places import describe, lat_lon, nav_link, nearest_street
from irrigation.streets import StreetNetwork


def _cross() -> StreetNetwork:
    """Ahornweg runs east from (0, 0) to (200, 0); Birkenweg north from (100, -100) through
    (100, 0) to (100, 100); a nameless lane from (200, 0) to (200, 100). Two-way."""
    x = np.array([0.0, 100.0, 200.0, 100.0, 100.0, 200.0])
    y = np.array([0.0, 0.0, 0.0, -100.0, 100.0, 100.0])
    pairs = [(0, 1, "Ahornweg"), (1, 2, "Ahornweg"), (3, 1, "Birkenweg"),
             (1, 4, "Birkenweg"), (2, 5, "")]
    fr, to, name = [], [], []
    for a, b, n in pairs:
        fr += [a, b]
        to += [b, a]
        name += [n, n]
    fr, to = np.array(fr), np.array(to)
    return StreetNetwork(np.arange(6).astype(str), x, y, fr, to,
                         np.hypot(x[fr] - x[to], y[fr] - y[to]), np.array(name, dtype=object))


def test_positions_from_the_nearer_corner():
    net = _cross()
    where = nearest_street(net, np.array([135.0, 60.0, 104.0, 195.0, 106.0]),
                           np.array([7.0, -7.0, 3.0, 60.0, 70.0]))
    assert where["street"].tolist() == ["Ahornweg", "Ahornweg", "Ahornweg", "Ahornweg",
                                        "Birkenweg"]
    assert where["position"].tolist() == [
        "35 m east of Birkenweg",       # 135 m along Ahornweg, the corner at 100 m
        "40 m west of Birkenweg",
        "at the corner of Birkenweg",   # 4 m from the corner
        "5 m west of the end of the block",  # beside the nameless lane: nearest named edge
        "30 m south of the end of the block",  # Birkenweg's north end has no cross street
    ]
    assert where["off_m"].iloc[0] == pytest.approx(7.0)


def test_a_given_street_name_wins_over_the_nearest():
    net = _cross()
    where = nearest_street(net, np.array([104.0]), np.array([3.0]),
                           prefer=np.array(["Birkenweg"], dtype=object))
    assert where["street"].tolist() == ["Birkenweg"]
    assert where["position"].tolist() == ["at the corner of Ahornweg"]


def test_without_streets_the_descriptions_are_empty_but_coordinates_remain():
    import pandas as pd

    t = describe(pd.DataFrame({"x": [375294.59], "y": [5704126.71]}), None, "EPSG:25832")
    assert t["street"].tolist() == [""] and t["position"].tolist() == [""]
    lat, lon = lat_lon([375294.59], [5704126.71], "EPSG:25832")
    assert 51.45 < lat[0] < 51.5 and 7.19 < lon[0] < 7.22  # Bochum
    assert t["nav"].tolist() == nav_link(lat, lon) and t["nav"][0].startswith("geo:51.")


def _brute_force(net: StreetNetwork, x: float, y: float, want: str
                 ) -> tuple[int, float, float]:
    """The nearest named edge of one point by trying every edge in order (the given name's
    edges when it has any), its distance and that of the nearest edge of another name
    [m]."""
    best, best_d, dist = -1, np.inf, {}
    has = want != "" and (np.asarray(net.name) == want).any()
    for e in range(len(net.name)):
        if net.name[e] == "" or (has and net.name[e] != want):
            continue
        ax, ay = net.x[net.edge_from[e]], net.y[net.edge_from[e]]
        bx, by = net.x[net.edge_to[e]], net.y[net.edge_to[e]]
        t = min(max(((x - ax) * (bx - ax) + (y - ay) * (by - ay))
                    / max((bx - ax) ** 2 + (by - ay) ** 2, 1e-12), 0.0), 1.0)
        d = float(np.hypot(x - (ax + t * (bx - ax)), y - (ay + t * (by - ay))))
        dist[e] = d
        if d < best_d - 1e-9:
            best, best_d = e, d
    other = min([d for e, d in dist.items() if net.name[e] != net.name[best]], default=np.inf)
    return best, best_d, other


@pytest.mark.parametrize("seed", range(6))
def test_the_pruned_search_finds_the_nearest_edge_of_a_brute_force(seed):
    """Random streets with repeated names and points inside and far outside the graph: the
    block-wise pruned search and the per-name search give the brute force's edge."""
    rng = np.random.default_rng(seed)
    n_nodes, n_edges = 60, 90
    x, y = rng.uniform(0, 2000, n_nodes), rng.uniform(0, 2000, n_nodes)
    fr = rng.integers(0, n_nodes, n_edges)
    to = (fr + rng.integers(1, n_nodes, n_edges)) % n_nodes
    name = rng.choice(np.array(["", "Ahornweg", "Birkenweg", "Eichenallee", "Lindenstraße"],
                               dtype=object), n_edges)
    net = StreetNetwork(np.arange(n_nodes).astype(str), x, y, fr, to,
                        np.hypot(x[fr] - x[to], y[fr] - y[to]), name)
    px, py = rng.uniform(-1500, 3500, 700), rng.uniform(-1500, 3500, 700)
    want = rng.choice(np.array(["", "Ahornweg", "Lindenstraße", "Nowhere"], dtype=object), 700)
    where = nearest_street(net, px, py, prefer=want)
    expect = [_brute_force(net, a, b, w) for a, b, w in zip(px, py, want, strict=True)]
    np.testing.assert_allclose(where["off_m"], [d for _, d, _ in expect], rtol=1e-9)
    clear = np.array([o - d > 1e-6 for _, d, o in expect])  # no other street as near
    assert clear.sum() > 400  # many far points are nearest to a node several streets share
    assert (where["street"].to_numpy()[clear]
            == np.array([str(name[e]) for e, _, _ in expect])[clear]).all()


def test_a_point_without_coordinates_gets_no_street():
    where = nearest_street(_cross(), np.array([135.0, np.nan]), np.array([7.0, 3.0]),
                           prefer=np.array(["", "Ahornweg"], dtype=object))
    assert where["street"].tolist() == ["Ahornweg", ""]
    assert where["position"].tolist() == ["35 m east of Birkenweg", ""]
    assert np.isnan(where["off_m"].iloc[1])
