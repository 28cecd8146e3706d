"""Benchmark: routing through our adapter vs raw PyVRP on the same instance and seed.

Run: ``python benchmarks/routing_adapter.py [--size tiny|default|large]``, or as part of the
suite (``python -m benchmarks --only routing``).

Ours is :func:`irrigation.routing.build_problem` (visits table, refill points, fleet ->
matrices and problem) plus :func:`irrigation.routing.solve` (conversion to PyVRP, search,
stops table). The peer builds the same :class:`pyvrp.ProblemData` directly from the same
arrays, as a PyVRP user would, and calls :func:`pyvrp.solve`. Both stop after the same
number of iterations (not a time limit) with the same seed, so the search is the same and
the costs must be equal; the routes are compared too.

Target (issue 10): overhead = (ours - raw) / raw < 5 %, and the same cost.
"""

from __future__ import annotations

import argparse
import datetime as dt

import numpy as np
import pandas as pd
import xarray as xr
from pyvrp import Client, Depot, Location, ProblemData, VehicleType
from pyvrp import solve as pyvrp_solve
from pyvrp.stop import MaxIterations

from irrigation.routing import (
    COST_PER_SECOND,
    URGENCY_PRIZE_FACTOR,
    RoutingConfig,
    build_problem,
    solve,
    to_pyvrp,
)
from irrigation.routing import VehicleType as FleetVehicle

try:
    from .common import Result, check_size, measure
except ImportError:  # run as a script
    from common import Result, check_size, measure

SIZES = {  # visits, hydrants, trucks, iterations, repeats
    "tiny": (40, 4, 2, 300, 3),
    "default": (1_000, 15, 6, 1_000, 2),  # ~15 ms per iteration on the 2-core VM
    "large": (3_000, 60, 20, 300, 1),  # ~0.3 s per iteration
}
TARGET_OVERHEAD = 0.05
DETOUR = 1.3
"""Street / straight-line distance [-]."""
TANK_L, PUMP_L_MIN, SETUP_MIN, SPEED_KMH, HYDRANT_L_MIN = 5000.0, 150.0, 2.0, 25.0, 300.0
SEED = 1
NO_TIME_LIMIT_S = 1e9
"""Our :func:`solve` always takes a time limit; this one never binds."""


def instance(n_visits: int, n_hydrants: int, n_trucks: int, seed: int = SEED):
    """Seeded visits (75-200 L, 8 x 9 km), yard + hydrants on a grid, one truck type."""
    rng = np.random.default_rng(seed)
    visits = pd.DataFrame({
        "site": [f"T{i:05d}" for i in range(n_visits)],
        "x": rng.uniform(0, 8000, n_visits), "y": rng.uniform(0, 9000, n_visits),
        "litres": rng.uniform(75, 200, n_visits).round(), "urgency": rng.uniform(0, 1, n_visits),
    })  # fmt: skip
    g = int(np.ceil(np.sqrt(n_hydrants + 1)))
    gx, gy = np.meshgrid(np.linspace(0.1, 0.9, g), np.linspace(0.1, 0.9, g))
    refill = xr.Dataset(
        {"kind": ("refill", ["depot"] + ["hydrant"] * n_hydrants),
         "refill_l_per_min": ("refill", [0.0] + [HYDRANT_L_MIN] * n_hydrants)},
        coords={"refill": [f"H{i}" for i in range(n_hydrants + 1)],
                "x": ("refill", 8000 * gx.ravel()[: n_hydrants + 1]),
                "y": ("refill", 9000 * gy.ravel()[: n_hydrants + 1])},
    )  # fmt: skip
    fleet = (FleetVehicle("truck", n_trucks, TANK_L, PUMP_L_MIN, setup_min=SETUP_MIN,
                          speed_kmh=SPEED_KMH, shift_start=dt.time(6), shift_end=dt.time(18)),)
    return visits, refill, fleet


def ours(visits, refill, fleet, iterations: int):
    problem = build_problem(visits, refill, fleet, detour_factor=DETOUR)
    return solve(problem, NO_TIME_LIMIT_S, seed=SEED, max_iterations=iterations)


def raw_data(visits: pd.DataFrame, refill: xr.Dataset, fleet) -> ProblemData:
    """The same instance written directly against PyVRP (integer m, s, L), as
    :func:`irrigation.routing.to_pyvrp` documents it: the time at a location (refill at a
    hydrant, set-up + pumping at a client) on the arcs leaving it, the cost of a refill's
    time on the distances leaving a hydrant, the break kept free at the end of the
    window, due prizes above any visit's cost."""
    truck = fleet[0]
    wet = np.flatnonzero(refill["refill_l_per_min"].values > 0)
    rows = np.concatenate([[0], wet])  # the yard (first depot), then every hydrant
    x = np.concatenate([refill.x.values[rows], visits["x"].to_numpy()])
    y = np.concatenate([refill.y.values[rows], visits["y"].to_numpy()])
    dist_m = DETOUR * np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    refill_s = 60 * (RoutingConfig.refill_connect_min
                     + truck.tank_l / refill["refill_l_per_min"].values[wet])
    litres = visits["litres"].to_numpy()
    service = 60 * (truck.setup_min + litres / truck.pump_l_per_min)
    leave = np.concatenate([[0.0], refill_s, service])
    dur = dist_m / (truck.speed_kmh / 3.6) + leave[:, None]
    cost = dist_m + COST_PER_SECOND * np.concatenate([[0.0], refill_s,
                                                      np.zeros(len(litres))])[:, None]
    for m in (dur, cost):
        np.fill_diagonal(m, 0.0)
    depots = [Depot(location=i) for i in range(len(rows))]
    unit = 2 * dist_m.max() + COST_PER_SECOND * refill_s.max()
    prize = np.round(URGENCY_PRIZE_FACTOR * (1 + visits["urgency"].to_numpy()) * unit)
    clients = [Client(location=len(rows) + i, delivery=[int(d)], prize=int(p),
                      required=False)
               for i, (d, p) in enumerate(zip(np.round(litres), prize, strict=True))]
    shift = truck.shift_minutes * 60
    vehicle = VehicleType(
        num_available=truck.count, capacity=[int(truck.tank_l)], start_depot=0, end_depot=0,
        tw_early=truck.shift_start.hour * 3600,
        tw_late=round(truck.shift_end.hour * 3600 - 60 * truck.break_min),
        shift_duration=round(shift), reload_depots=list(range(1, len(rows))),
        name=truck.name)
    return ProblemData(
        locations=[Location(x=a, y=b) for a, b in zip(x.tolist(), y.tolist(), strict=True)],
        clients=clients, depots=depots, vehicle_types=[vehicle],
        distance_matrices=[np.round(cost).astype(np.int64)],
        duration_matrices=[np.round(dur).astype(np.int64)])


def raw(visits, refill, fleet, iterations: int):
    data = raw_data(visits, refill, fleet)
    return pyvrp_solve(data, stop=MaxIterations(iterations), seed=SEED, display=False)


def same_instance(visits, refill, fleet) -> bool:
    """Whether our adapter and :func:`raw_data` give the same PyVRP instance."""
    a = to_pyvrp(build_problem(visits, refill, fleet, detour_factor=DETOUR))
    b = raw_data(visits, refill, fleet)
    fields = ("delivery", "service_duration", "tw_early", "tw_late", "prize", "required")
    vfields = ("num_available", "capacity", "tw_early", "tw_late", "shift_duration",
               "reload_depots", "max_reloads")
    return (
        np.array_equal(a.distance_matrix(0), b.distance_matrix(0))
        and np.array_equal(a.duration_matrix(0), b.duration_matrix(0))
        and [d.service_duration for d in a.depots()] == [d.service_duration for d in b.depots()]
        and all(getattr(c, f) == getattr(d, f)
                for c, d in zip(a.clients(), b.clients(), strict=True) for f in fields)
        and all(getattr(a.vehicle_type(0), f) == getattr(b.vehicle_type(0), f) for f in vfields)
    )


def _routes_ours(sol) -> list[list[int]]:
    visits = sol.stops[sol.stops.kind == "visit"]
    return [g.client.tolist() for _, g in visits.groupby("vehicle", sort=True)]


def _routes_raw(result) -> list[list[int]]:
    routes = ([a.idx for a in r.schedule() if not a.is_depot()] for r in result.best.routes())
    return [r for r in routes if r]


def run(size: str = "default") -> list[Result]:
    """Adapter vs raw PyVRP at ``size``, repeated and interleaved; best time of each."""
    n, h, trucks, iterations, repeats = SIZES[check_size(size)]
    case = instance(n, h, trucks)
    identical = same_instance(*case)
    raw(*case, 10)  # warm-up: first-call costs out of the timings
    ours(*case, 10)
    t_ours, t_raw = [], []
    for i in range(repeats):  # interleaved, order alternating: load and drift hit both alike
        for who in ("raw", "ours") if i % 2 == 0 else ("ours", "raw"):
            if who == "raw":
                t_raw.append(measure(lambda: raw(*case, iterations)))
            else:
                t_ours.append(measure(lambda: ours(*case, iterations)))
    best_o = min(t_ours, key=lambda m: m.wall_s)
    best_r = min(t_raw, key=lambda m: m.wall_s)
    sol, res = best_o.value, best_r.value
    raw_cost = int(res.best.distance_cost() + res.best.uncollected_prizes())
    same_cost = sol.cost == raw_cost
    same_routes = _routes_ours(sol) == _routes_raw(res)
    overhead = (best_o.wall_s - best_r.wall_s) / best_r.wall_s
    cpu_o, cpu_r = min(m.cpu_s for m in t_ours), min(m.cpu_s for m in t_raw)
    cpu_overhead = (cpu_o - cpu_r) / cpu_r
    # time outside the (identical) PyVRP search: what the adapter adds, free of search noise
    own_s, raw_own_s = best_o.wall_s - sol.runtime_s, best_r.wall_s - res.runtime
    own_pct = 100 * (own_s - raw_own_s) / best_r.wall_s
    return [Result(
        "routing: build_problem + solve (adapter)",
        f"{n:,} visits, {h} hydrants, {trucks} trucks, {iterations:,} iterations, seed {SEED}",
        best_o.wall_s, best_o.peak_rss_mb, iterations / best_o.wall_s, "iterations/s",
        peer="raw PyVRP (ProblemData + pyvrp.solve)", peer_wall_s=best_r.wall_s,
        target="overhead (ours - raw) / raw < 5 % and same cost",
        met=overhead < TARGET_OVERHEAD and same_cost,
        notes=(f"overhead {100 * overhead:+.1f} % wall, {100 * cpu_overhead:+.1f} % CPU; "
               f"outside the search ours {own_s:.2f} s, "
               f"raw {raw_own_s:.2f} s ({own_pct:+.1f} % of raw); "
               f"cost ours {sol.cost} / raw {raw_cost} ({'equal' if same_cost else 'DIFFER'})"
               f"; routes {'identical' if same_routes else 'DIFFER'}"
               f"; instance {'identical' if identical else 'DIFFERS'}; best of {repeats}"),
        extra={"overhead": overhead, "cpu_overhead": cpu_overhead, "cpu_ours_s": cpu_o,
               "cpu_raw_s": cpu_r, "outside_search_s": own_s,
               "raw_outside_search_s": raw_own_s, "outside_search_overhead_pct": own_pct,
               "cost_ours": sol.cost,
               "cost_raw": raw_cost, "same_cost": same_cost, "same_routes": same_routes,
               "same_instance": identical, "feasible": sol.feasible,
               "wall_ours_s": [m.wall_s for m in t_ours], "wall_raw_s": [m.wall_s for m in t_raw],
               "peer_peak_rss_mb": best_r.peak_rss_mb})]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=list(SIZES), default="default")
    for r in run(ap.parse_args().size):
        print(f"{r.params}: ours {r.wall_s:.2f} s, raw {r.peer_wall_s:.2f} s; {r.notes}")


if __name__ == "__main__":
    main()
