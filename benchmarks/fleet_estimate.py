"""Measurement: the season's fleet estimate against PyVRP routes of the same visits (issue 21).

Run: ``python benchmarks/fleet_estimate.py [--sizes 60 120 ...] [--iterations 1000]
[--out benchmarks/results]``.

The season's ``estimate`` routing mode (:mod:`irrigation.scenario.fleet`) serves a day's
visits in order of urgency while an estimate of the fleet's working time allows, instead of
routing. This script checks that estimate where it matters, on days from a light load to
well beyond what the demo fleet can do in a shift: for each size n it draws n truck visits
from the demo city (young trees and shrub beds that are not on a fixed system, with the
litres :func:`irrigation.decide.visit_litres` gives at a depletion drawn from 20-80 mm, a
fixed seed), then

- estimates the day (:func:`irrigation.scenario.fleet.estimate_day`): visits served,
  litres, driving km and working hours;
- routes the same visits with the daily run's routing (``build_problem`` and ``solve``,
  seed 42, ``--iterations`` iterations, an hour's time limit) and reads the same quantities from
  the plan (working hours exclude the crews' break, as the estimate does).

It writes ``fleet_estimate.md`` and ``.json``: one row per size and the median, minimum
and maximum of the ratios estimate / routes. The constants of the estimate
(:data:`~irrigation.scenario.fleet.TOUR_FACTOR`, :data:`~irrigation.scenario.fleet.USABLE_SHARE`)
are calibrated on this table. Not part of ``python -m benchmarks``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

import irrigation
from irrigation.decide import fixed_system_sites, urgency_weight, visit_litres
from irrigation.plan import make_plan
from irrigation.routing import build_problem, solve
from irrigation.scenario.fleet import estimate_day, fleet_model

SIZES = (60, 120, 180, 240, 300, 360, 450)
"""Visits per day: from a light day to about twice what the demo fleet serves in a shift."""

RATIOS = (("served", "est_served", "vrp_served"), ("litres", "est_l", "vrp_l"),
          ("km", "est_km", "vrp_km"), ("hours", "est_h", "vrp_h"))


def visit_pool(city: irrigation.City, seed: int = 1) -> pd.DataFrame:
    """Every truck-watered site of ``city`` once, with litres for a depletion of 20-80 mm."""
    s = city.sites
    rules = city.config.decide
    truck = np.isin(s.kind.values, ["young_tree", "shrub_bed"]) & ~fixed_system_sites(s, rules)
    s = s.isel(site=np.flatnonzero(truck))
    dr = np.random.default_rng(seed).uniform(20.0, 80.0, s.sizes["site"])
    litres = visit_litres(xr.DataArray(dr, dims="site"), s, rules).values
    return pd.DataFrame({"site": s.site.values.astype(str), "x": s.x.values, "y": s.y.values,
                         "priority": s.priority.values, "litres": litres})


def measure(city: irrigation.City, n: int, iterations: int, seed: int) -> dict:
    """Estimate and route one day of ``n`` visits drawn from :func:`visit_pool`."""
    cfg = city.config
    pool = visit_pool(city)
    day = (pool.sample(n=min(n, len(pool)), random_state=seed)
           .sort_values("priority", kind="stable").reset_index(drop=True)
           .assign(reason="due", due_day=0.0, latest_safe_day=0.0))
    model = fleet_model(cfg.fleet, city.refill_points, cfg.routing.refill_connect_min,
                        cfg.network.detour_factor)
    t0 = time.perf_counter()
    est = estimate_day(model, day)
    est_s = time.perf_counter() - t0
    visits = day.assign(urgency=urgency_weight(day.priority.to_numpy(), day.due_day.to_numpy(),
                                               cfg.decide) - 1.0)
    t0 = time.perf_counter()
    problem = build_problem(visits, city.refill_points, cfg.fleet, city.streets,
                            cfg.network.detour_factor, cfg.routing)
    solution = solve(problem, 3600.0, seed=42, max_iterations=iterations)
    plan = make_plan(str(cfg.run.season_start), problem, solution, visits,
                     day.iloc[:0][["site", "litres", "due_day", "latest_safe_day", "reason",
                                   "x", "y"]])
    vrp_s = time.perf_counter() - t0
    stops = plan.stops[plan.stops.kind == "visit"]
    given = stops.groupby("site").litres.sum()
    wanted = day.set_index("site").litres.reindex(given.index)
    total = plan.total
    return {"n": len(day), "litres_asked": float(day.litres.sum()),
            "est_served": int(est.served.sum()), "vrp_served": int((given >= wanted - 0.5).sum()),
            "est_l": float(day.litres[est.served].sum()), "vrp_l": float(given.sum()),
            "est_km": round(est.km, 2), "vrp_km": round(float(total.km), 2),
            "est_h": round(est.truck_hours, 2), "vrp_h": round(float(total.work_h), 2),
            "est_s": round(est_s, 4), "vrp_s": round(vrp_s, 1)}


def summary(rows: list[dict]) -> dict[str, dict[str, float]]:
    """Median, minimum and maximum of estimate / routes per quantity (:data:`RATIOS`)."""
    df = pd.DataFrame(rows)
    out = {}
    for name, a, b in RATIOS:
        r = df[a] / df[b]
        out[name] = {"median": round(float(r.median()), 3), "min": round(float(r.min()), 3),
                     "max": round(float(r.max()), 3)}
    return out


def markdown(df: pd.DataFrame) -> str:
    """``df`` as a Markdown table."""
    lines = ["| " + " | ".join(map(str, df.columns)) + " |", "|" + "---|" * df.shape[1]]
    lines += ["| " + " | ".join(map(str, r)) + " |" for r in df.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    p.add_argument("--iterations", type=int, default=1000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = p.parse_args(argv)
    city = irrigation.demo_city()
    rows = []
    for i, n in enumerate(args.sizes):
        rows.append(measure(city, n, args.iterations, args.seed + i))
        print(rows[-1], flush=True)
    ratios = summary(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "fleet_estimate.json").write_text(
        json.dumps({"rows": rows, "ratios": ratios}, indent=2) + "\n")
    text = markdown(pd.DataFrame(rows)) + "\nestimate / routes:\n\n"
    text += markdown(pd.DataFrame(ratios).T.rename_axis("ratio").reset_index())
    (args.out / "fleet_estimate.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
