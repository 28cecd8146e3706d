"""Routing on a real street network read from OpenStreetMap.

Map data © OpenStreetMap contributors (ODbL 1.0), see tests/data/osm/SOURCE.md. Sites and
hydrants are placed as in Berlin practice: young street trees along the kerb getting
75-200 L each, and a street pump ("Strassenbrunnen") every few hundred metres.
"""

from pathlib import Path

import numpy as np
import pytest
from routecases import fleet, refill_points, visits
from routecheck import check_routes

from irrigation.io.osm import read_osm
from irrigation.routing import build_problem, solve, street_matrices

pytest.importorskip("osmnx")

BAUTZEN = Path(__file__).parents[1] / "data" / "osm" / "bautzen.osm"


@pytest.fixture(scope="module")
def bautzen():
    return read_osm(BAUTZEN)


def test_osm_network_is_drivable_connected_and_has_one_way_streets(bautzen):
    assert bautzen.n_nodes > 15 and bautzen.n_edges > 30
    assert bautzen.n_strongly_connected() == 1
    pairs = set(zip(bautzen.edge_from.tolist(), bautzen.edge_to.tolist(), strict=True))
    assert any((v, u) not in pairs for u, v in pairs)
    assert 10 < np.median(bautzen.length_m) < 500  # metres in EPSG:25832


def test_osm_street_matrix_matches_networkx(bautzen):
    """Independent: brute-force nearest node, networkx Dijkstra on the parallel edges."""
    nx = pytest.importorskip("networkx")
    g = nx.MultiDiGraph()
    g.add_weighted_edges_from(
        zip(bautzen.edge_from, bautzen.edge_to, bautzen.length_m, strict=True)
    )
    rng = np.random.default_rng(3)
    k = rng.choice(bautzen.n_nodes, 5, replace=False)
    x, y = bautzen.x[k] + rng.uniform(-30, 30, 5), bautzen.y[k] + rng.uniform(-30, 30, 5)
    gap = np.hypot(x[:, None] - bautzen.x[None, :], y[:, None] - bautzen.y[None, :])
    node, access = gap.argmin(axis=1), gap.min(axis=1)
    dist, _ = street_matrices(bautzen, x, y, 20.0)
    for a in range(5):
        for b in range(5):
            if a != b:
                path = nx.shortest_path_length(g, node[a], node[b], weight="weight")
                assert dist[a, b] == pytest.approx(access[a] + path + access[b])


def test_route_on_the_osm_street_matrix(bautzen):
    rng = np.random.default_rng(11)
    k = rng.choice(bautzen.n_nodes, 12, replace=False)
    v = visits(rng, 12, windows=False)
    v["x"] = bautzen.x[k] + rng.uniform(-8, 8, 12)  # trees beside the street
    v["y"] = bautzen.y[k] + rng.uniform(-8, 8, 12)
    pumps = np.column_stack([bautzen.x[[0, 5, 17]], bautzen.y[[0, 5, 17]]])
    problem = build_problem(v, refill_points(pumps), fleet(tank_l=500.0), network=bautzen)
    dist, _ = street_matrices(bautzen, problem.x, problem.y, 20.0)
    assert np.allclose(problem.distance_m, dist)
    assert not np.allclose(dist, dist.T)  # one-way streets
    sol = solve(problem, time_limit_s=1.0, seed=1)
    assert sol.feasible and len(sol.unserved) == 0
    assert check_routes(problem, sol.stops) == []
    assert sol.distance_m == pytest.approx(
        sum(
            problem.distance_m[a, b]
            for _, r in sol.stops.groupby("vehicle")
            for a, b in zip(r.location[:-1], r.location[1:], strict=True)
        ),
        abs=len(sol.stops),
    )
