"""Solving through the PyVRP adapter; every solution passes the independent checker."""

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from routecases import fleet, grid_network, refill_points, visits
from routecheck import check_routes

from irrigation.routing import RoutingConfig, build_problem, solve

HYDRANTS = np.array([[0, 0], [500, 2500], [2500, 500], [1500, 1500], [3000, 3000]])


def _assert_valid(problem, sol):
    assert sol.feasible
    assert check_routes(problem, sol.stops) == []
    served = set(sol.stops.client[sol.stops.kind == "visit"])
    assert served.isdisjoint(sol.unserved)
    assert len(served) + len(sol.unserved) == problem.n_clients
    n_routes, n_refills = sol.stops.vehicle.nunique(), (sol.stops.kind == "refill").sum()
    assert sol.n_trips == n_routes + n_refills  # PyVRP's count against the stop table


def test_a_day_that_fits_serves_every_visit_on_a_street_grid():
    rng = np.random.default_rng(7)
    v = visits(rng, 40, extent_m=2500.0)
    problem = build_problem(v, refill_points(HYDRANTS), fleet(), network=grid_network())
    sol = solve(problem, time_limit_s=1.0, seed=1)
    _assert_valid(problem, sol)
    assert len(sol.unserved) == 0
    assert sol.stops.litres.sum() == pytest.approx(v.litres.sum(), abs=1.0)
    assert sol.n_trips > sol.stops.vehicle.nunique()  # 2,500 L sites force refills
    assert set(sol.stops.kind) == {"start", "visit", "refill", "end"}


def test_too_much_water_leaves_the_least_urgent_unserved_without_crashing():
    rng = np.random.default_rng(8)
    v = visits(rng, 120, windows=False)
    v["litres"] = 400.0
    problem = build_problem(
        v,
        refill_points(HYDRANTS),
        fleet(count=1, shift=(7, 10)),
        routing=RoutingConfig(max_reloads=2),
    )
    sol = solve(problem, time_limit_s=1.0, seed=1)
    _assert_valid(problem, sol)
    assert len(sol.unserved) > 0
    served = np.setdiff1d(np.arange(problem.n_clients), sol.unserved)
    assert v.urgency.to_numpy()[served].mean() > v.urgency.to_numpy()[sol.unserved].mean()


def test_same_seed_same_routes():
    problem = build_problem(visits(np.random.default_rng(2), 30), refill_points(HYDRANTS), fleet())
    a = solve(problem, time_limit_s=5.0, seed=3, max_iterations=200)
    b = solve(problem, time_limit_s=5.0, seed=3, max_iterations=200)
    assert a.cost == b.cost
    assert a.stops.equals(b.stops)


def test_required_visits_are_served():
    v = visits(np.random.default_rng(4), 15)
    v["required"] = True
    problem = build_problem(v, refill_points(HYDRANTS), fleet())
    sol = solve(problem, time_limit_s=0.5, seed=1)
    _assert_valid(problem, sol)
    assert len(sol.unserved) == 0


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**16),
    n=st.integers(1, 35),
    tank=st.sampled_from([300.0, 1000.0, 4000.0]),
    hours=st.integers(2, 8),
    windows=st.booleans(),
    max_reloads=st.sampled_from([None, 0, 1, 3]),
)
def test_random_instances_pass_the_checker(seed, n, tank, hours, windows, max_reloads):
    rng = np.random.default_rng(seed)
    problem = build_problem(
        visits(rng, n, windows=windows),
        refill_points(HYDRANTS[: 1 + seed % 5]),
        fleet(count=1 + seed % 3, tank_l=tank, shift=(7, 7 + hours)),
        routing=RoutingConfig(max_reloads=max_reloads),
    )
    sol = solve(problem, time_limit_s=0.3, seed=seed)
    _assert_valid(problem, sol)


def test_checker_catches_a_broken_route():
    problem = build_problem(
        visits(np.random.default_rng(5), 10), refill_points(HYDRANTS), fleet(tank_l=300.0)
    )
    sol = solve(problem, time_limit_s=0.3, seed=1)
    stops = sol.stops.copy()
    stops = stops[stops.kind != "refill"]  # drop the refills: tanks overflow
    bad = dataclasses.replace(problem, tw_late_s=np.zeros(problem.n_clients))
    assert any("load" in e for e in check_routes(problem, stops))
    assert any("window" in e for e in check_routes(bad, sol.stops))
    doubled = sol.stops.copy()
    doubled.loc[doubled.kind == "visit", "client"] = 0
    assert any("visited" in e for e in check_routes(problem, doubled))
