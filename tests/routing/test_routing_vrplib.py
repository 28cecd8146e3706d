"""VRPLIB benchmarks through the same adapter; published costs keep it honest."""

from pathlib import Path

import numpy as np
import pytest
import pyvrp
from pyvrp.stop import MaxIterations
from routecheck import check_routes

from irrigation.cli import main
from irrigation.errors import InputError
from irrigation.io.vrplib import read_solution_cost, read_vrplib, solution_path
from irrigation.routing import solve

DATA = Path(__file__).parents[1] / "data" / "cvrplib"
X110 = DATA / "CVRP" / "X-n110-k13.vrp"
X157 = DATA / "CVRP" / "X-n157-k13.vrp"
C201 = DATA / "MTVRPTWR" / "C201R0.5.vrp"


def test_cvrp_distances_are_rounded_euclidean():
    inst = read_vrplib(X110)
    p = inst.problem
    assert inst.rounding == "round" and p.n_depots == 1 and p.n_clients == 109
    expect = np.round(np.hypot(p.x[0] - p.x[5], p.y[0] - p.y[5]))
    assert p.distance_m[0, 5] == expect
    assert p.vehicles[0].capacity_l == 66 and p.required.all()


def test_mtvrptwr_uses_dimacs_values_reloads_and_release_times():
    inst = read_vrplib(C201)
    p = inst.problem
    assert inst.rounding == "dimacs"
    (v,) = p.vehicles
    assert (v.count, v.capacity_l, v.reload_depots, v.tw_late_s) == (8, 1000, (0,), 33900)
    assert p.service_s[0] == 900 and p.release_s.max() > 0
    assert p.distance_m[0, 1] == np.trunc(10 * np.hypot(40 - 52, 50 - 75))


def test_published_costs_are_read():
    assert read_solution_cost(solution_path(X110)) == 14971
    assert read_solution_cost(solution_path(C201)) == 15006


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_vrplib(tmp_path / "nope.vrp")


def test_unknown_rounding_is_named_in_the_error():
    with pytest.raises(InputError, match="rounding"):
        read_vrplib(X110, rounding="nearest")


@pytest.mark.parametrize("path", [X110, C201])
def test_short_solve_is_feasible_and_passes_the_checker(path):
    p = read_vrplib(path).problem
    sol = solve(p, time_limit_s=1.5, seed=1)
    assert sol.feasible and len(sol.unserved) == 0
    assert check_routes(p, sol.stops) == []


def test_adapter_gives_the_same_cost_as_raw_pyvrp():
    """Issue 10: the adapter adds no modelling difference (same instance, seed, iterations)."""
    raw = pyvrp.solve(pyvrp.read(C201, round_func="dimacs"), MaxIterations(300), seed=5)
    ours = solve(read_vrplib(C201).problem, time_limit_s=60.0, seed=5, max_iterations=300)
    assert ours.cost == raw.cost()


def test_cli_route_prints_cost_routes_and_gap(capsys):
    assert main(["route", "--vrplib", str(C201), "--time-limit", "1"]) == 0
    out = capsys.readouterr().out
    assert "cost " in out and "Route #1:" in out and "% to 15006" in out


@pytest.mark.slow
@pytest.mark.parametrize("path", [X110, X157])
def test_x_instances_within_one_percent_in_30_s(path):
    inst = read_vrplib(path)
    sol = solve(inst.problem, time_limit_s=30.0, seed=1)
    best = read_solution_cost(solution_path(path))
    assert sol.feasible and check_routes(inst.problem, sol.stops) == []
    assert (sol.cost - best) / best < 0.01


@pytest.mark.slow
def test_multi_trip_instance_feasible_in_30_s():
    inst = read_vrplib(C201)
    sol = solve(inst.problem, time_limit_s=30.0, seed=1)
    assert sol.feasible and check_routes(inst.problem, sol.stops) == []
    assert sol.cost >= read_solution_cost(solution_path(C201))  # 15006 is optimal


def test_cli_route_bad_file_exits_2(tmp_path, capsys):
    assert main(["route", "--vrplib", str(tmp_path / "missing.vrp")]) == 2
    assert "not found" in capsys.readouterr().err
