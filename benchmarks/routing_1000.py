"""Routing benchmark: 1,000 visits, 6 trucks, 15 hydrants, 60 s search.

Streets are the north-Bayreuth OpenStreetMap extract (© OpenStreetMap contributors,
ODbL 1.0) when osmnx and the file are available, else straight line x detour factor 1.3
over the same 8 x 9 km. Trees are placed beside random street nodes with 75-200 L each
(young-tree practice), hydrants spread evenly over the area.

Run::

    python benchmarks/routing_1000.py [--osm FILE] [--time-limit 60] [--seed 1]

Prints the time to read the network and build the matrices, and the cost, trips,
served/unserved visits and solve time. Every route is checked with tests/routing/routecheck.py.

Result (2 shared cores, seed 1, osmnx 2.1.1, pyvrp 0.14.1): network 891 nodes / 2,064 edges
read in 4.4 s; 1,016 x 1,016 street matrices and the problem built in 0.07 s; 60 s search:
feasible, 0 checker errors, 6 routes / 28 trips, 418.8 km, 912 visits served and 88 left
unserved (the shifts are full: ~2,650 min of pumping and set-up, ~480 min of refills and
~1,000 min of driving against 6 x 690 min of shift).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from irrigation.routing import VehicleType, build_problem, solve

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OSM = ROOT.parent / "shared" / "data" / "osm" / "north-bayreuth.osm.gz"


def _network(path: Path):
    try:
        from irrigation.io.osm import read_osm

        return read_osm(path)
    except Exception as exc:  # no osmnx or no file: fall back to the detour factor
        print(f"no street network ({exc}); using straight line x 1.3")
        return None


def _case(rng: np.random.Generator, net, n_visits: int, n_hydrants: int):
    if net is None:
        x, y = rng.uniform(0, 8000, n_visits), rng.uniform(0, 9000, n_visits)
        extent = (0.0, 8000.0, 0.0, 9000.0)
    else:
        k = rng.integers(0, net.n_nodes, n_visits)
        x, y = net.x[k] + rng.uniform(-10, 10, n_visits), net.y[k] + rng.uniform(-10, 10, n_visits)
        extent = (net.x.min(), net.x.max(), net.y.min(), net.y.max())
    visits = pd.DataFrame({
        "site": [f"T{i:05d}" for i in range(n_visits)], "x": x, "y": y,
        "litres": rng.uniform(75, 200, n_visits).round(), "urgency": rng.uniform(0, 1, n_visits),
    })  # fmt: skip
    g = int(np.ceil(np.sqrt(n_hydrants + 1)))
    gx, gy = np.meshgrid(np.linspace(0.1, 0.9, g), np.linspace(0.1, 0.9, g))
    fx = extent[0] + gx.ravel()[: n_hydrants + 1] * (extent[1] - extent[0])
    fy = extent[2] + gy.ravel()[: n_hydrants + 1] * (extent[3] - extent[2])
    kind = ["depot"] + ["hydrant"] * n_hydrants
    refill = xr.Dataset(
        {"kind": ("refill", kind), "refill_l_per_min": ("refill", [0.0] + [300.0] * n_hydrants)},
        coords={"refill": [f"H{i}" for i in range(n_hydrants + 1)], "x": ("refill", fx),
                "y": ("refill", fy)},
    )  # fmt: skip
    fleet = (VehicleType("truck", 6, 5000.0, 150.0, setup_min=2.0, speed_kmh=25.0,
                         shift_start=dt.time(6), shift_end=dt.time(18)),)  # fmt: skip
    return visits, refill, fleet


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--osm", type=Path, default=DEFAULT_OSM)
    p.add_argument("--time-limit", type=float, default=60.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--visits", type=int, default=1000)
    p.add_argument("--hydrants", type=int, default=15)
    args = p.parse_args()
    t0 = time.perf_counter()
    net = _network(args.osm)
    t_net = time.perf_counter() - t0
    visits, refill, fleet = _case(np.random.default_rng(args.seed), net, args.visits, args.hydrants)
    t0 = time.perf_counter()
    problem = build_problem(visits, refill, fleet, network=net)
    t_build = time.perf_counter() - t0
    sol = solve(problem, args.time_limit, seed=args.seed)
    sys.path.insert(0, str(ROOT / "tests" / "routing"))
    from routecheck import check_routes

    errors = check_routes(problem, sol.stops)
    where = "none" if net is None else f"{net.n_nodes} nodes / {net.n_edges} edges"
    print(f"network      {where}, read in {t_net:.1f} s")
    print(f"matrices     {len(problem.x)} x {len(problem.x)} + problem built in {t_build:.2f} s")
    print(
        f"solve        {sol.runtime_s:.1f} s, feasible {sol.feasible}, checker errors {len(errors)}"
    )
    print(f"cost         {sol.cost} (distance {sol.distance_m / 1000:.1f} km + uncollected prizes)")
    print(f"routes/trips {sol.stops.vehicle.nunique()} / {sol.n_trips}")
    served = problem.n_clients - len(sol.unserved)
    print(
        f"visits       {served} served, {len(sol.unserved)} unserved, "
        f"{sol.stops.litres.sum() / 1000:.1f} m3 delivered of {problem.delivery_l.sum() / 1000:.1f}"
    )


if __name__ == "__main__":
    main()
