"""Travel matrices: straight line x detour factor, and shortest paths on a street graph."""

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from routecases import grid_network

from irrigation.routing import UNREACHABLE_FACTOR, detour_matrices, street_matrices


def test_detour_matrix_is_a_scaled_3_4_5_triangle():
    dist, dur = detour_matrices(np.array([0.0, 3.0, 0.0]), np.array([0.0, 0.0, 4.0]), 1.3, 36.0)
    assert dist[1, 2] == pytest.approx(1.3 * 5.0)
    assert dur[1, 2] == pytest.approx(1.3 * 5.0 / 10.0)  # 36 km/h = 10 m/s
    assert np.allclose(np.diag(dist), 0.0)


def test_street_matrix_matches_networkx_between_nodes():
    net = grid_network()
    g = nx.DiGraph()
    g.add_weighted_edges_from(zip(net.edge_from, net.edge_to, net.length_m, strict=True))
    pick = np.array([0, 3, 5, 12, 29])
    dist, dur = street_matrices(net, net.x[pick], net.y[pick], speed_kmh=18.0, chunk=2)
    for a, i in enumerate(pick):
        for b, j in enumerate(pick):
            expect = nx.shortest_path_length(g, i, j, weight="weight")
            assert dist[a, b] == pytest.approx(expect)
    assert np.allclose(dur, dist / 5.0)


def test_one_way_street_makes_the_matrix_asymmetric():
    net = grid_network(spacing_m=500.0)
    dist, _ = street_matrices(net, np.array([0.0, 1000.0]), np.array([0.0, 0.0]), 20.0)
    assert dist[0, 1] == pytest.approx(1000.0)  # eastbound along the one-way row
    assert dist[1, 0] == pytest.approx(2000.0)  # up, west, down


def test_access_legs_are_added_at_both_ends():
    net = grid_network()
    dist, _ = street_matrices(net, np.array([0.0, 1000.0]), np.array([30.0, 520.0]), 20.0)
    assert dist[0, 1] == pytest.approx(30.0 + 1500.0 + 20.0)


def test_unreachable_pairs_get_a_long_straight_line():
    net = grid_network()
    cut = net.edge_to != 0  # nothing leads into node 0
    net = type(net)(
        net.node_id,
        net.x,
        net.y,
        net.edge_from[cut],
        net.edge_to[cut],
        net.length_m[cut],
        net.name[cut],
    )
    dist, _ = street_matrices(net, np.array([0.0, 500.0]), np.array([0.0, 0.0]), 20.0)
    assert dist[1, 0] == pytest.approx(UNREACHABLE_FACTOR * 500.0)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.floats(-200, 2700), st.floats(-200, 2200)), min_size=2, max_size=12))
def test_street_distance_is_at_least_straight_line(points):
    net = grid_network()
    xy = np.array(points)
    dist, _ = street_matrices(net, xy[:, 0], xy[:, 1], 20.0)
    straight = np.hypot(xy[:, 0, None] - xy[None, :, 0], xy[:, 1, None] - xy[None, :, 1])
    assert (dist >= straight - 1e-6).all()
    assert (dist + dist.T >= 0).all() and np.allclose(np.diag(dist), 0.0)
    # shortest paths on a strongly connected graph obey the triangle inequality
    assert (dist[:, None, :] <= dist[:, :, None] + dist[None, :, :] + 1e-6).all()
