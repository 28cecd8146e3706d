"""Benchmark: what the route search's time buys on a city's day (the cost-vs-time curve).

Run: ``python benchmarks/routing_budget.py --workspace WS --day D [--city DIR]
[--limit 300] [--seeds 1 2] [--check 30]``. ``WS`` is a workspace holding the state of
D-1 (e.g. the one ``daily_run.py --large --workspace WS`` kept); the city defaults to the
large city (``benchmarks/results/large-city``).

It plans day D once, in a scratch copy of the workspace with a 1 s route search, to get
the day's routing problem (:attr:`irrigation.day.DayRun.problem`), then searches it for
``--limit`` seconds per seed with the city's settings and no iteration limit, recording
the best feasible objective after each improvement
(:attr:`irrigation.routing.RoutingSolution.progress`). The search does not depend on
when it will be stopped (PyVRP's iterated local search checks its stopping criterion
between iterations and has no time-dependent schedule), so the best objective after t
seconds of a long search is that of a search stopped at t; ``--check T`` confirms it
with one search stopped by a T s limit. Printed: per budget (15, 30, 60, 120, ... s up to
the limit) the objective per seed, its excess over the best objective found, and the
iterations per second; the load average before and after; ``--json`` writes it all.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

LARGE_CITY = Path(__file__).resolve().parent / "results" / "large-city"
BUDGETS_S = (5, 10, 15, 30, 45, 60, 90, 120, 180, 240, 300, 450, 600)


def day_problem(city, workspace: Path, day: np.datetime64):
    """The routing problem of ``day``, planned in a scratch copy of ``workspace`` (its
    states and stores) with a 1 s route search."""
    from irrigation.pipeline import run_day

    cfg = city.config
    quick = dataclasses.replace(cfg, routing=dataclasses.replace(
        cfg.routing, time_limit_s=1.0, max_iterations=0))
    with tempfile.TemporaryDirectory(prefix="bench_budget_") as tmp:
        for sub in ("state", "ingest", "watering"):
            if (workspace / sub).is_dir():
                shutil.copytree(workspace / sub, Path(tmp) / sub)
        t0 = time.perf_counter()
        run = run_day(dataclasses.replace(city, config=quick), day, tmp)
        logging.getLogger(__name__).info("planned %s up to routing in %.0f s", day,
                                         time.perf_counter() - t0)
    return run.problem


def curve(problem, cfg, limit_s: float, seed: int) -> dict:
    """One search of ``limit_s`` seconds: objective at each budget, iterations, served."""
    from irrigation.routing import solve

    sol = solve(problem, limit_s, seed=seed, max_iterations=None,
                num_neighbours=cfg.routing.num_neighbours)
    budgets = [b for b in BUDGETS_S if b <= limit_s]
    return {"seed": seed, "runtime_s": sol.runtime_s, "iterations": sol.iterations,
            "served_clients": int(problem.n_clients - len(sol.unserved)),
            "clients": int(problem.n_clients),
            "objective_at": {str(b): sol.objective_at(b) for b in budgets},
            "progress": sol.progress.tolist()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workspace", type=Path, required=True)
    ap.add_argument("--day", required=True)
    ap.add_argument("--city", type=Path, default=LARGE_CITY)
    ap.add_argument("--limit", type=float, default=300.0)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1])
    ap.add_argument("--check", type=float, help="also one search stopped at this limit [s]")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s",
                        datefmt="%H:%M:%S")
    logging.getLogger("irrigation").setLevel(logging.WARNING)
    from irrigation.io.city import load_city

    city = load_city(args.city)
    problem = day_problem(city, args.workspace, np.datetime64(args.day, "D"))
    load0 = os.getloadavg()
    runs = [curve(problem, city.config, args.limit, s) for s in args.seeds]
    check = None
    if args.check:
        check = curve(problem, city.config, args.check, args.seeds[0])
    load1 = os.getloadavg()
    best = min(min(v for v in r["objective_at"].values() if np.isfinite(v)) for r in runs)
    print(f"{city.config.name} {args.day}: {problem.n_clients} clients (visit parts), "
          f"{city.refill_points.sizes['refill']} refill points; load average (1/5/15 min) "
          f"{' '.join(f'{x:.2f}' for x in load0)} -> {' '.join(f'{x:.2f}' for x in load1)}")
    print(f"{'budget [s]':>10s} " + " ".join(f"{'seed ' + str(r['seed']):>22s}" for r in runs))
    for b in runs[0]["objective_at"]:
        cells = [r["objective_at"][b] for r in runs]
        print(f"{b:>10s} " + " ".join(f"{c:14.0f} ({100 * (c / best - 1):+5.2f}%)"
                                      for c in cells))
    for r in runs:
        print(f"seed {r['seed']}: {r['iterations']} iterations in {r['runtime_s']:.0f} s "
              f"({r['iterations'] / r['runtime_s']:.1f}/s), served {r['served_clients']} "
              f"of {r['clients']} clients")
    if check is not None:
        t = str(int(args.check))
        print(f"check: a search stopped at {args.check:g} s ended at "
              f"{check['objective_at'].get(t, float('nan')):.0f} after {check['iterations']} "
              f"iterations; the long search had {runs[0]['objective_at'].get(t, float('nan')):.0f}"
              f" at {t} s")
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "check": check, "load_avg_start": load0,
                                         "load_avg_end": load1, "best": best}, indent=1))


if __name__ == "__main__":
    main()
