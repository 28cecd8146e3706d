"""Benchmark: a drought-scenario season (``irrigation scenario``, issue 8) on 1 and 2 dask
workers.

Run: ``python benchmarks/scenario_season.py [--size tiny|default]`` or as part of the suite
(``python -m benchmarks --only scenario``).

Runs ``scenarios/baseline-2018.toml`` (demo city, May-September 2018 after an April
spin-up, the three policies, 10 closed-loop members, forecasts of 20 members over 14
days, routing in the fast season mode) with :func:`irrigation.scenario.run_scenario` on a
local dask cluster of 1 worker and of 2 workers (one thread each), and checks that the
two give identical Datasets. The row of 2 workers has the 1-worker run as its peer, so
its ratio is the speed-up from the second worker. Peak RSS is that of the calling process
only (the workers are separate processes).

Sizes: ``default`` and ``large``: the scenario as shipped. ``tiny`` (smoke test): a
3-day season after 3 days of spin-up, 2 members, 4 forecast members over 4 days.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import time
from pathlib import Path

try:
    from .common import Result, check_size, peak_rss_mb, reset_peak_rss
except ImportError:  # run as a script
    from common import Result, check_size, peak_rss_mb, reset_peak_rss

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "baseline-2018.toml"
NAME = "scenario season"


def scenario(size: str):
    """The benchmarked scenario at ``size``."""
    from irrigation.scenario import load_scenario

    scn = load_scenario(SCENARIO)
    if size == "tiny":
        season = dataclasses.replace(scn.season, spinup_start=dt.date(2018, 6, 28),
                                     start=dt.date(2018, 7, 1), end=dt.date(2018, 7, 3))
        scn = dataclasses.replace(
            scn, season=season, members=2,
            forecast=dataclasses.replace(scn.forecast, members=4, horizon_days=4))
    return scn


def run(size: str = "default") -> list[Result]:
    import xarray as xr

    from irrigation.scenario import costs, run_scenario

    check_size(size)
    scn = scenario(size)
    walls, peaks, out = {}, {}, {}
    for workers in (1, 2):
        reset_peak_rss()
        t0 = time.perf_counter()
        out[workers] = run_scenario(scn, workers=workers, progress=False)
        walls[workers] = time.perf_counter() - t0
        peaks[workers] = peak_rss_mb()
    try:
        xr.testing.assert_identical(out[1], out[2])
        same = True
    except AssertionError:
        same = False
    n = len(scn.policies) * scn.members
    days = (scn.season.end - scn.season.start).days + 1
    params = (f"{scn.name}: {len(scn.policies)} policies x {scn.members} members, season "
              f"{scn.season.start}..{scn.season.end} ({days} d) after spin-up from "
              f"{scn.season.first_day}, forecasts {scn.forecast.members} members x "
              f"{scn.forecast.horizon_days} d, routing {scn.routing.mode}; demo city")
    table = costs(out[1])[["water_m3", "truck_hours", "km"]].round(1)
    notes = (f"1 and 2 workers identical: {'yes' if same else 'NO'}; water m3 per policy: "
             + ", ".join(f"{p} {v:g}" for p, v in table["water_m3"].items()))
    rows = []
    for workers in (1, 2):
        rows.append(Result(
            f"{NAME}: {workers} dask worker{'s' if workers > 1 else ''}", params,
            wall_s=walls[workers], peak_rss_mb=peaks[workers],
            throughput=n / walls[workers], throughput_unit="seasons/s",
            peer=None if workers == 1 else "the same run on 1 worker",
            peer_wall_s=None if workers == 1 else walls[1],
            target="2 workers give the numbers of 1 (issue 8)", met=same, notes=notes,
            extra={"seasons": n, "identical": same,
                   "summary": table.reset_index().to_dict(orient="records")}))
    return rows


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", default="default", choices=["tiny", "default", "large"])
    args = p.parse_args(argv)
    for r in run(args.size):
        print(r)


if __name__ == "__main__":
    main()
