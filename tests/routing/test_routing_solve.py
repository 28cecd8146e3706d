"""Solving through the PyVRP adapter; every solution passes the independent checker."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from routecases import fleet, grid_network, refill_points, visits
from routecheck import check_routes

from irrigation.routing import RoutingConfig, VehicleType, build_problem, solve

HYDRANTS = np.array([[0, 0], [500, 2500], [2500, 500], [1500, 1500], [3000, 3000]])


def _assert_valid(problem, sol):
    assert sol.feasible
    assert check_routes(problem, sol.stops) == []
    served = set(sol.stops.client[sol.stops.kind == "visit"])
    assert served.isdisjoint(sol.unserved)
    assert len(served) + len(sol.unserved) == problem.n_clients
    n_routes, n_refills = sol.stops.vehicle.nunique(), (sol.stops.kind == "refill").sum()
    assert sol.n_trips == n_routes + n_refills  # PyVRP's count against the stop table
    assert (sol.stops.groupby("vehicle").vehicle_type.nunique() == 1).all()  # none: no routes


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
    urgency = v.set_index("site").urgency.reindex(problem.client_id).to_numpy()  # per part
    assert urgency[served].mean() > urgency[sol.unserved].mean()


def _line(n: int, litres: float, tank: float, speed_kmh: float = 20.0, pump: float = 100.0):
    """``n`` visits 200 m apart east of a yard with water, and one truck type."""
    v = pd.DataFrame({"site": [f"S{i}" for i in range(n)], "x": 200.0 * (1 + np.arange(n)),
                      "y": np.zeros(n), "litres": np.full(n, litres)})
    truck = VehicleType("t", 1, tank, pump, setup_min=1.0, speed_kmh=speed_kmh)
    return v, truck


@pytest.mark.parametrize(("n", "refills"), [(4, 0), (6, 1), (11, 2)])
def test_a_truck_refills_only_when_the_next_stops_need_it(n, refills):
    """200 L visits on a line, a 1,000 L tank, water at the yard and at every 400 m: the
    truck refills ceil(n * 200 / 1000) - 1 times (a refill costs its time), and never
    while the water left covers the rest of the route."""
    v, truck = _line(n, 200.0, 1000.0)
    pts = refill_points(np.array([[0.0, 0.0], *[[400.0 * k, 10.0] for k in range(1, 7)]]))
    problem = build_problem(v, pts, (truck,))
    sol = solve(problem, time_limit_s=30.0, seed=1, max_iterations=300)
    _assert_valid(problem, sol)
    assert len(sol.unserved) == 0
    assert (sol.stops.kind == "refill").sum() == refills
    loads = sol.stops[sol.stops.kind == "visit"].groupby("trip").litres.sum().to_numpy()
    for k in range(refills):
        assert 1000.0 - loads[k] < loads[k + 1:].sum()


def test_each_type_drives_and_pumps_at_its_own_rate():
    """One far visit (3 km) whose window closes 20 min after the shift starts: only the
    fast type gets there in time (3 km at 12 km/h take 15 min, at 6 km/h 30 min)."""
    v, fast = _line(1, 100.0, 1000.0, speed_kmh=12.0)
    v["x"] = 3000.0
    v["tw_late_s"] = 7 * 3600.0 + 20 * 60
    slow = dataclasses.replace(fast, name="slow", speed_kmh=6.0)
    pts = refill_points(np.array([[0.0, 0.0]]))
    for fleet_ in ((slow, fast), (fast, slow)):
        problem = build_problem(v, pts, fleet_)
        sol = solve(problem, time_limit_s=10.0, seed=1, max_iterations=100)
        _assert_valid(problem, sol)
        assert set(sol.stops.vehicle_type) == {"t"}
    problem = build_problem(v, pts, (slow,))
    assert len(solve(problem, time_limit_s=10.0, seed=1, max_iterations=100).unserved) == 1


def test_trucks_keep_their_numbers_through_the_types():
    v = visits(np.random.default_rng(3), 60, windows=False)
    for hours, used in ((8, {1: "truck", 2: "truck"}),
                        (2, {1: "truck", 2: "truck", 3: "pickup"})):
        problem = build_problem(v, refill_points(HYDRANTS), fleet(count=2, shift=(7, 7 + hours)))
        sol = solve(problem, time_limit_s=10.0, seed=1, max_iterations=200)
        _assert_valid(problem, sol)
        assert sol.stops.groupby("vehicle").vehicle_type.first().to_dict() == used


def test_an_iteration_limit_is_reproducible_and_a_time_cut_is_reported():
    problem = build_problem(visits(np.random.default_rng(2), 60), refill_points(HYDRANTS),
                            fleet())
    a = solve(problem, time_limit_s=60.0, seed=3, max_iterations=100)
    assert (a.iterations, a.cut_by_time) == (100, False)
    cut = solve(problem, time_limit_s=0.01, seed=3, max_iterations=10**6)
    assert cut.cut_by_time and cut.iterations < 10**6


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


def test_search_progress_records_each_improvement_and_what_the_time_bought():
    from irrigation.routing import search_summary

    rng = np.random.default_rng(11)
    v = visits(rng, 80, windows=False)
    problem = build_problem(v, refill_points(HYDRANTS), fleet(count=2))
    sol = solve(problem, time_limit_s=60.0, seed=1, max_iterations=400)
    t, cost = sol.progress[:, 0], sol.progress[:, 1]
    assert len(t) >= 2  # the search improved on its first feasible solution
    assert np.all(np.diff(t) > 0) and np.all(np.diff(cost) < 0)
    assert t[-1] <= sol.runtime_s
    assert sol.objective_at(sol.runtime_s) == cost[-1]
    assert np.isnan(sol.objective_at(t[0] / 2))
    assert sol.objective_at(t[1]) == cost[1]
    # PyVRP's objective of the best solution: distance + prizes (+ duration cost, 0 here)
    assert cost[-1] >= sol.cost
    info = search_summary(sol)
    assert info["routing_objective"] == round(cost[-1])
    assert info["routing_improvements"] == len(t)
    assert info["routing_gain_second_half_pct"] >= 0.0
    for t, v in info["routing_objective_at_s"].items():
        assert float(t) <= sol.runtime_s
        assert v is None or v == round(sol.objective_at(float(t)))
