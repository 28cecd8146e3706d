"""Benchmark: the daily run (``irrigation run``, issue 7) on consecutive days of the demo city.

Run: ``python benchmarks/daily_run.py [--size tiny|default|large] [--start D] [--days N]
[--workspace DIR]``, or as part of the suite (``python -m benchmarks --only daily_run``).

Calls :func:`irrigation.pipeline.run_day` for ``N`` consecutive days into one fresh
(temporary) workspace, as an operator's daily cron job would: the first run spins the
state up from ``run.season_start`` (2018-04-01 in the demo city), every later run
continues the state the run before it saved. Per run it records the wall and CPU time,
the wall time per stage (:data:`irrigation.pipeline.STAGES`, from ``DayRun.timings``), the
peak RSS (``VmHWM`` reset just before the run), the warnings, the plan totals and where
the state came from; it checks that the plan folder, the state file and the run record
were written.

The row's wall time is the **median over runs 2..N** (what a continuing day costs); the
first run (spin-up) and the median of every stage over runs 2..N are in the notes and in
``extra``. Peak RSS is the largest over all runs, spin-up included. The target (issue 7)
is that every run completes and continues the state of the day before.

Sizes: ``default`` and ``large``: 14 days from 2018-07-02, the demo city as configured
(``city.toml``: 20 members, 14-day horizon, routing stopped after 1,000 iterations, 600 s
as a safety net). ``tiny`` (smoke test): 2 days from 2018-04-08 (one week of spin-up), 5 members and
200 routing iterations. The logger ``irrigation`` is at INFO, as under the command line,
so the run log ``logs/run-D.log`` holds what ``irrigation run`` would write.

At size ``large`` it also runs the large city of issue 10
(:meth:`irrigation.demo.CitySize.large`: 150,000 sites of which 30,000 of watered kinds, 20
trucks, 60 hydrants, 50 members, 14-day horizon, groundwater 3 x 300 x 300, routing
stopped after 60 s), generated once into ``benchmarks/results/large-city`` (regenerated
when the generator's size or seed changes; ~2 min): the first day 2018-07-02 spins the
state up from 1 April (92 days), the second day continues it. Target (issue 10): a daily
run <= 10 min wall and <= 8 GB peak on 2 cores; it is judged on the continuing day, the
operating case, and the spin-up day is reported beside it against the same target.
Each large-city day runs in its own fresh process (a cron job's), loading the city first;
its wall time and peak RSS are those of ``run_day`` in that process.
``python benchmarks/daily_run.py --large [--workspace DIR]`` runs only the large city.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import multiprocessing as mp
import os
import statistics
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

try:
    from .common import Result, check_size, peak_rss_mb, reset_peak_rss
except ImportError:  # run as a script
    from common import Result, check_size, peak_rss_mb, reset_peak_rss

DEMO = Path(__file__).resolve().parents[1] / "models" / "demo-city"

SIZES = {  # first day, consecutive days, members, routing max_iterations (None: city.toml)
    "tiny": ("2018-04-08", 2, 5, 200),
    "default": ("2018-07-02", 14, None, None),
    "large": ("2018-07-02", 14, None, None),
}

NAME = "daily run"
UNIT = "sites/s"
"""Sites of the city (all kinds) per second of a continuing run."""

LARGE_NAME = "daily run: large city"
#: Targets of the large city's runs (issue 24): wall [s] and peak RSS [MB] of the first run of
#: a season and of a continuing run.
LARGE_TARGETS = {"first": (240.0, 3072.0), "continuing": (120.0, 3072.0)}
LARGE_DAYS = ("2018-07-02", 2)
LARGE_CITY = Path(__file__).resolve().parent / "results" / "large-city"
LARGE_SEED = 2018


def demo_city(members: int | None = None, max_iterations: int | None = None):
    """The bundled demo city, optionally with fewer members / another routing limit."""
    from irrigation.io.city import load_city

    city = load_city(DEMO)
    cfg = city.config
    if members is not None:
        cfg = dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, members=members))
    if max_iterations is not None:
        cfg = dataclasses.replace(cfg, routing=dataclasses.replace(
            cfg.routing, max_iterations=max_iterations))
    return dataclasses.replace(city, config=cfg)


def large_city(folder: Path = LARGE_CITY) -> tuple[Path, float | None]:
    """The large city in ``folder``, generated unless a stamp says it is already there with
    this size and seed; returns the folder and the generation wall time [s] (None: cached)."""
    from irrigation.demo import KNMI_SOURCE, CitySize, generate_city

    stamp = folder / "GENERATED"
    want = f"{CitySize.large()!r} seed={LARGE_SEED}\n"
    if stamp.is_file() and stamp.read_text() == want:
        return folder, None
    t0 = time.perf_counter()
    generate_city(folder, size=CitySize.large(), seed=LARGE_SEED,
                  knmi_file=DEMO / KNMI_SOURCE)
    stamp.write_text(want)
    return folder, time.perf_counter() - t0


def one_run(city, day: np.datetime64, workspace: Path) -> dict:
    """Run day ``day`` into ``workspace``; its times, peak RSS, warnings, totals, checks."""
    from irrigation.io.workspace import Workspace
    from irrigation.pipeline import run_day

    out = {"day": str(day)}
    reset_peak_rss()
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        run = run_day(city, day, workspace)
    except Exception as exc:  # a failed day is a result: recorded, the series goes on
        out.update(ok=False, error=f"{type(exc).__name__}: {exc}",
                   wall_s=time.perf_counter() - t0, peak_rss_mb=peak_rss_mb())
        return out
    import resource

    out.update(wall_s=time.perf_counter() - t0, cpu_s=time.process_time() - c0,
               peak_rss_mb=peak_rss_mb(),
               # the route search's forked child: the parent's pages it shares count too
               child_peak_rss_mb=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    ws = Workspace(workspace)
    written = {"plan": ws.plan_dir(day).is_dir(), "state": ws.state_path(day).is_file(),
               "record": ws.record_path(day).is_file(), "log": ws.log_path(day).is_file()}
    record_stages = []
    if written["record"]:
        record_stages = list(json.loads(ws.record_path(day).read_text())["timings_s"])
    total = run.plan.totals.iloc[-1]
    out.update(
        ok=all(written.values()), written=written,
        timings_s={k: round(v, 4) for k, v in run.timings.items()},
        stages_missing_in_record=[s for s in run.timings if s not in record_stages],
        warnings=list(run.warnings), state_start=run.info.get("state_start", ""),
        groundwater=run.info.get("groundwater", ""),
        routing_runtime_s=run.info.get("routing_runtime_s"),
        routing_feasible=run.info.get("routing_feasible"),
        visits=len(run.visits), deferred=len(run.deferred),
        totals={k: float(total[k]) for k in ("stops", "litres", "km", "hours")},
    )
    if not out["ok"]:
        out["error"] = "not written: " + ", ".join(k for k, v in written.items() if not v)
    return out


def daily_runs(city, first, n_days: int, workspace: Path) -> list[dict]:
    """``n_days`` consecutive runs from day ``first`` into ``workspace`` (see :func:`one_run`)."""
    first = np.datetime64(first, "D")
    return [one_run(city, first + k, workspace) for k in range(n_days)]


def _median(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def summarize(city, runs: list[dict], first_day: str) -> Result:
    """One row: median wall of runs 2..N, first run and stage medians in the notes."""
    from irrigation.pipeline import STAGES

    cfg = city.config
    n = len(runs)
    done = [r for r in runs if r["ok"]]
    later = [r for r in runs[1:] if r["ok"]]
    # runs 2..N must each continue the state the run before saved
    chained = all(r["ok"] and r["state_start"].endswith(
        str(np.datetime64(r["day"], "D") - 1)) for r in runs[1:])
    spun_up = runs[0]["ok"] and runs[0]["state_start"].startswith("spun up")
    med = _median([r["wall_s"] for r in later])
    stages = {s: _median([r["timings_s"][s] for r in later if s in r["timings_s"]])
              for s in STAGES}
    first = runs[0]
    warnings = [w for r in done for w in r["warnings"]]
    n_sites = city.sites.sizes["site"]
    watered = int(np.isin(city.sites["kind"].values, list(cfg.decide.watered_kinds)).sum())
    trucks = sum(v.count for v in cfg.fleet)
    season = np.datetime64(cfg.run.season_start, "D")
    spin_days = int((np.datetime64(first_day, "D") - season).astype(int))
    iters = cfg.routing.max_iterations
    iters = "no" if iters is None else f"{iters:,}"
    params = (f"demo city: {n_sites:,} sites ({watered:,} of watered kinds), {trucks} trucks, "
              f"{cfg.run.members} members, {cfg.run.horizon_days}-day horizon; {n} consecutive "
              f"days {runs[0]['day']}..{runs[-1]['day']} into a fresh workspace; routing "
              f"<= {iters} iterations / {cfg.routing.time_limit_s:g} s")
    failed = [f"{r['day']}: {r['error']}" for r in runs if not r["ok"]]
    later_walls = [r["wall_s"] for r in later]
    stage_txt = ", ".join(f"{s} {v:.2f}" for s, v in stages.items() if v is not None)
    notes = [
        f"wall = median of runs 2..{n} (each continuing the saved state)"
        + (f", min {min(later_walls):.1f} s, max {max(later_walls):.1f} s" if later_walls else ""),
        "first run (spin-up from " + f"{season}, {spin_days} days): "
        + (f"{first['wall_s']:.1f} s" if first["ok"] else "FAILED"),
        f"median per stage over runs 2..{n} [s]: {stage_txt or '—'}",
        "peak RSS = largest over all runs, spin-up included",
        f"{len(done)} of {n} runs complete" + ("" if not failed else "; FAILED " + "; ".join(
            failed)),
        ("each later run continued the state of the day before" if chained
         else "NOT every later run continued the state of the day before"),
        f"warnings: {len(warnings)}" + (f" ({len(set(warnings))} distinct)" if warnings else ""),
    ]
    missing = sorted({s for r in done for s in r["stages_missing_in_record"]})
    if missing:
        notes.append(f"stages timed in DayRun.timings but missing from logs/run-D.json "
                     f"timings_s: {', '.join(missing)}")
    return Result(
        f"{NAME}: demo city, {n} consecutive days", params,
        wall_s=med, peak_rss_mb=max((r["peak_rss_mb"] or 0.0) for r in runs) or None,
        throughput=None if med is None else n_sites / med, throughput_unit=UNIT,
        peer="none", target=f"{n} consecutive runs complete (issue 7)",
        met=len(done) == n and chained and spun_up, notes="; ".join(notes),
        extra={
            "first_run_s": first["wall_s"] if first["ok"] else None,
            "first_run_cpu_s": first.get("cpu_s"),
            "spin_up_days": spin_days,
            "median_run_s": med,
            "median_run_cpu_s": _median([r["cpu_s"] for r in later]),
            "median_stage_s": stages,
            "first_run_stage_s": first.get("timings_s"),
            "runs_complete": len(done), "runs": runs,
            "warnings": dict(Counter(warnings)),
            "chained": chained, "spun_up": spun_up,
            "stages_missing_in_record": missing,
        })


def run_case(first: str, n_days: int, members: int | None = None,
             max_iterations: int | None = None, workspace: Path | None = None) -> Result:
    """``n_days`` daily runs of the demo city from ``first``; into ``workspace`` when given
    (it must be empty: the first run has to spin up), else a temporary folder."""
    logging.getLogger("irrigation").setLevel(logging.INFO)  # as under `irrigation run`
    city = demo_city(members, max_iterations)
    load0 = os.getloadavg()
    if workspace is not None:
        workspace.mkdir(parents=True, exist_ok=True)
        if any(workspace.iterdir()):
            raise ValueError(f"workspace {workspace} is not empty: the first run must spin up")
        runs = daily_runs(city, first, n_days, workspace)
    else:
        with tempfile.TemporaryDirectory(prefix="bench_daily_run_") as tmp:
            runs = daily_runs(city, first, n_days, Path(tmp))
    row = summarize(city, runs, first)
    row.extra["load_avg_1_5_15_start"] = [round(x, 2) for x in load0]
    row.extra["load_avg_1_5_15_end"] = [round(x, 2) for x in os.getloadavg()]
    return row


def _stage_text(r: dict) -> str:
    return ", ".join(f"{k} {v:.1f}" for k, v in r["timings_s"].items())


def large_rows(workspace: Path | None = None) -> list[Result]:
    """The large city's first (spin-up) and second (continuing) daily run, one row each."""
    from irrigation.demo import CitySize
    from irrigation.io.city import load_city

    logging.getLogger("irrigation").setLevel(logging.INFO)
    folder, gen_s = large_city()
    city = load_city(folder)
    cfg = city.config
    s = city.sites
    watered = int(np.isin(s["kind"].values, list(cfg.decide.watered_kinds)).sum())
    size = CitySize.large()
    cells = f"{size.gw_nlay}x{size.gw_nrow}x{size.gw_ncol}"
    params = (f"{s.sizes['site']:,} sites ({watered:,} of watered kinds), "
              f"{sum(v.count for v in cfg.fleet)} trucks, "
              f"{int((city.refill_points['kind'] == 'hydrant').sum())} hydrants, "
              f"{city.sensors.sizes['sensor']:,} probes, {cfg.run.members} members, "
              f"{cfg.run.horizon_days}-day horizon, groundwater {cells} (layer x row x col), "
              f"routing <= {cfg.routing.time_limit_s:g} s")
    first, n_days = LARGE_DAYS
    days = [str(np.datetime64(first, "D") + k) for k in range(n_days)]
    with tempfile.TemporaryDirectory(prefix="bench_large_") as tmp:
        ws = workspace or Path(tmp)
        ws.mkdir(parents=True, exist_ok=True)
        runs = [_fresh_run(folder, d, ws) for d in days]
    gen = ("generated in " + f"{gen_s:.0f} s" if gen_s is not None
           else "generated earlier (cached in benchmarks/results/large-city)")
    rows = []
    for r, what, key in zip(runs, ("first run of the season (spin-up from 2018-04-01, 92 days)",
                                   "continuing run (the state of the day before)"),
                            ("first", "continuing"), strict=True):
        wall, peak = LARGE_TARGETS[key]
        target = f"<= {wall:g} s wall, <= {peak / 1024:g} GB peak (issue 24)"
        if not r["ok"]:
            rows.append(Result(f"{LARGE_NAME}: {what}", params, target=target,
                               skipped=f"FAILED: {r['error']}"))
            continue
        met = r["wall_s"] <= wall and r["peak_rss_mb"] <= peak
        t = r["totals"]
        rows.append(Result(
            f"{LARGE_NAME}: {what}", f"{r['day']}; {params}", wall_s=r["wall_s"],
            peak_rss_mb=r["peak_rss_mb"], throughput=s.sizes["site"] / r["wall_s"],
            throughput_unit=UNIT, peer="none", target=target, met=met,
            notes=(f"stages [s]: {_stage_text(r)}; route search child peak "
                   f"{r['child_peak_rss_mb']:,.0f} MB (shares the run's pages); "
                   f"plan: {t['stops']:.0f} visits, "
                   f"{t['litres']:,.0f} L, {t['km']:.0f} km; {r['deferred']:,} deferred; "
                   f"routing feasible {r['routing_feasible']}; warnings {len(r['warnings'])}; "
                   f"city {gen}; state: {r['state_start']}"),
            extra={"run": r, "generation_s": gen_s}))
    return rows


def _one_run_of(folder: str, day: str, workspace: str) -> dict:
    from irrigation.io.city import load_city

    logging.getLogger("irrigation").setLevel(logging.INFO)
    return one_run(load_city(Path(folder)), np.datetime64(day, "D"), Path(workspace))


def _fresh_run(folder: Path, day: str, workspace: Path) -> dict:
    """:func:`one_run` in a fresh spawned process, as a daily cron job runs: its peak RSS
    is that day's alone, not what earlier days left in the heap."""
    ctx = mp.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        return pool.submit(_one_run_of, str(folder), day, str(workspace)).result()


def run(size: str = "default") -> list[Result]:
    """The demo city's consecutive daily runs at ``size``; at ``large`` also the large city
    (SKIPPED, see the module docstring)."""
    first, n_days, members, iters = SIZES[check_size(size)]
    try:
        from irrigation.pipeline import run_day  # noqa: F401  (issue 7)
    except ImportError:
        return [Result(NAME, target="see the rows", skipped="needs `irrigation run` (issue 7)")]
    rows = [run_case(first, n_days, members, iters)]
    if size == "large":
        rows += large_rows()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=list(SIZES), default="default")
    ap.add_argument("--start", help="first day (default: by size)")
    ap.add_argument("--days", type=int, help="consecutive days (default: by size)")
    ap.add_argument("--workspace", type=Path,
                    help="empty folder to keep the outputs in (default: a temporary one)")
    ap.add_argument("--large", action="store_true",
                    help="only the large city (generated into benchmarks/results/large-city)")
    args = ap.parse_args()
    if args.large:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s",
                            datefmt="%H:%M:%S")
        for row in large_rows(args.workspace):
            print(f"{row.name}: wall {row.wall_s} s, peak {row.peak_rss_mb} MB, met {row.met}"
                  f"\n  {row.params}\n  {row.notes or row.skipped}")
        return
    first, n_days, members, iters = SIZES[args.size]
    row = run_case(args.start or first, args.days or n_days, members, iters, args.workspace)
    print(f"{row.name}\n  {row.params}")
    print(f"{'day':>10s} {'wall [s]':>9s} {'cpu [s]':>8s} {'peak [MB]':>9s} {'stops':>6s} "
          f"{'litres':>8s} {'warn':>4s}  stages [s]")
    for r in row.extra["runs"]:
        if not r["ok"]:
            print(f"{r['day']:>10s} FAILED: {r['error']}")
            continue
        stages = " ".join(f"{k}={v:.2f}" for k, v in r["timings_s"].items())
        print(f"{r['day']:>10s} {r['wall_s']:9.2f} {r['cpu_s']:8.2f} "
              f"{r['peak_rss_mb'] or float('nan'):9.0f} {r['totals']['stops']:6.0f} "
              f"{r['totals']['litres']:8.0f} {len(r['warnings']):4d}  {stages}")
    print("; ".join(row.notes.split("; ")))
    print(f"met: {row.met}")


if __name__ == "__main__":
    main()
