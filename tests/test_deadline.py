"""The hard wall-clock guard of calls that may not return (issue 23)."""

from __future__ import annotations

import datetime as dt
import time

import pandas as pd
import pytest
import xarray as xr

from irrigation import routing
from irrigation.deadline import DeadlineExceeded, call_with_deadline
from irrigation.errors import InputError


def _spin() -> None:
    while True:  # a loop that never gives up, like a stuck local search
        pass


def _raise() -> None:
    raise InputError("bad")


def test_a_stuck_call_is_killed_at_its_deadline():
    t0 = time.monotonic()
    with pytest.raises(DeadlineExceeded, match="the spin did not finish within 1 s"):
        call_with_deadline(_spin, 1.0, "the spin")
    assert time.monotonic() - t0 < 10


def test_value_and_exceptions_come_back():
    assert call_with_deadline(lambda: {"a": [1, 2]}, 30, "x") == {"a": [1, 2]}
    with pytest.raises(InputError, match="bad"):
        call_with_deadline(_raise, 30, "x")


def test_the_route_search_runs_under_the_guard(monkeypatch):
    """A search that hangs (as PyVRP's local search did with an infinite tank) stops."""
    visits = pd.DataFrame({"site": ["a", "b"], "x": [10.0, 200.0], "y": [0.0, 50.0],
                           "litres": [100.0, 150.0]})
    refill = xr.Dataset({"kind": ("refill", ["depot", "hydrant"]),
                         "refill_l_per_min": ("refill", [0.0, 500.0])},
                        coords={"refill": ["D", "H"], "x": ("refill", [0.0, 100.0]),
                                "y": ("refill", [0.0, 0.0])})
    fleet = (routing.VehicleType("t", 1, tank_l=1000.0, pump_l_per_min=100.0,
                                 shift_start=dt.time(7), shift_end=dt.time(12)),)
    problem = routing.build_problem(visits, refill, fleet)
    assert routing.solve(problem, 5.0, seed=1, max_iterations=50).feasible
    monkeypatch.setattr(routing, "pyvrp_solve", lambda *a, **k: _spin())
    monkeypatch.setattr(routing, "hard_limit_s", lambda limit: 1.0)
    with pytest.raises(DeadlineExceeded, match="route search"):
        routing.solve(problem, 0.5, seed=1)
