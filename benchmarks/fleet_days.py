"""Measurement: consecutive demo days with the crews' work fed back (issue 19).

Run: ``python benchmarks/fleet_days.py [--start 2018-07-02] [--days 14] [--workspace DIR]
[--out benchmarks/results] [--fast]``.

Each day: ``irrigation.run_day`` plans the day in one workspace (the first day spins up
from ``run.season_start``); the crews then "do" the plan: every driver sheet
(``driver_NN.csv``) and ``fixed_systems.csv`` gets its ``given_l`` filled with the
planned litres, and the filled sheets go back through ``irrigation log add`` (the command
line, as an operator would), so the next day continues from what was done.

Per day it records: sites served by the trucks (due and pulled forward), fixed-system
zones run, sites deferred by reason, due-today sites deferred (overdue or due within the
lead time), per truck the work hours against the usable shift, refills and the mean
litres put back per refill, idle trucks, and repeat visits (sites served again within 3
days, and how many of those were due again). :func:`check` states the invariants the
slow test asserts: no idle truck and no truck under 90 % of its shift while due sites
are deferred for shift time, and no repeat within 3 days unless the site is due again.

``--fast`` (the slow test's setting): season start 2018-06-20, 8 members, 300 routing
iterations.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from irrigation.cli import main as cli
from irrigation.io.city import DEMO_CITY_DIR, load_city
from irrigation.io.workspace import Workspace
from irrigation.pipeline import run_day

#: A site served again within this many days is a repeat visit.
REPEAT_DAYS = 3


def fast_city(city):
    """The demo city with a short spin-up, 8 members and 300 routing iterations."""
    cfg = city.config
    return dataclasses.replace(city, config=dataclasses.replace(
        cfg, run=dataclasses.replace(cfg.run, season_start=dt.date(2018, 6, 20), members=8),
        routing=dataclasses.replace(cfg.routing, max_iterations=300)))


def crews_do_the_plan(plan_dir: Path, out: Path) -> list[Path]:
    """Copies of the day's sheets with ``given_l`` = the planned litres (all done)."""
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for sheet in sorted(plan_dir.glob("driver_*.csv")):
        s = pd.read_csv(sheet, keep_default_na=False, dtype=str)
        s["given_l"] = np.where(s["kind"] == "visit", s["planned_l"], "")
        s["done"] = np.where(s["kind"] == "visit", "x", "")
        s.to_csv(out / sheet.name, index=False)
        files.append(out / sheet.name)
    fixed = plan_dir / "fixed_systems.csv"
    f = pd.read_csv(fixed, keep_default_na=False, dtype=str)
    if len(f):
        f["given_l"], f["done"] = f["litres"], "x"
        f.to_csv(out / fixed.name, index=False)
        files.append(out / fixed.name)
    return files


def day_row(plan_dir: Path, record: Path, lead_days: int) -> dict:
    """The day's numbers (see the module docstring), from the files the run wrote: the
    plan folder (``summary.csv``, ``visits.csv``, ``deferred.csv``, ``demand.csv``,
    ``fixed_systems.csv``) and the run record."""
    trucks = pd.read_csv(plan_dir / "summary.csv", dtype={"truck": str})
    trucks = trucks[trucks["truck"] != "all"]
    visits = pd.read_csv(plan_dir / "visits.csv", dtype={"site": str})
    by_truck = visits[visits["by"].str.startswith("truck")]
    d = pd.read_csv(plan_dir / "deferred.csv")
    fixed = pd.read_csv(plan_dir / "fixed_systems.csv")
    demand = pd.read_csv(plan_dir / "demand.csv")
    info = json.loads(record.read_text())["info"]
    row = {"date": plan_dir.name,
           "due": int(demand["due"].sum()),
           "served": len(by_truck),
           "served_due": int((by_truck["reason"] == "due").sum()),
           "pulled_forward": int((by_truck["reason"] == "pulled forward").sum()),
           "fixed_zones": int(fixed["zone"].nunique()),
           "deferred": len(d),
           "deferred_due_today": int((d["due_day"].astype(float) <= lead_days).sum()),
           "deferred_reasons": {str(k): int(v) for k, v in
                                d["reason"].value_counts().sort_index().items()},
           "litres": round(float(by_truck["litres"].sum())),
           "idle_trucks": int((trucks["stops"] == 0).sum()),
           "routing_s": info.get("routing_runtime_s"),
           "routing_passes": info.get("routing_passes"),
           "routing_cut": bool(info.get("routing_cut_by_time", False))}
    for _, r in trucks.iterrows():
        k = int(r["truck"])
        row[f"t{k}_h"] = f"{r['work_h']:.2f}/{r['shift_h']:.2f}"
        row[f"t{k}_used"] = round(float(r["used"]), 3)
        row[f"t{k}_refills"] = int(r["refills"])
        lpr = r["litres_per_refill"]
        row[f"t{k}_l_per_refill"] = None if not np.isfinite(lpr) else round(float(lpr))
    return row


def served_sites(plan_dir: Path) -> pd.DataFrame:
    """The sites the trucks served on a day, with the reason (``visits.csv``)."""
    v = pd.read_csv(plan_dir / "visits.csv", dtype={"site": str})
    return v[v["by"].str.startswith("truck")][["site", "reason"]]


def repeats(served: dict[str, pd.DataFrame]) -> dict[str, tuple[int, int]]:
    """Per day: sites served that were served in the :data:`REPEAT_DAYS` days before, and
    how many of them were due again (reason "due")."""
    out = {}
    days = sorted(served)
    for i, day in enumerate(days):
        before = set()
        for prev in days[max(0, i - REPEAT_DAYS):i]:
            before |= set(served[prev]["site"])
        again = served[day][served[day]["site"].isin(before)]
        out[day] = (len(again), int((again["reason"] == "due").sum()))
    return out


def shortfall(rows: list[dict]) -> int:
    """Due sites the route search left out although a truck had time ("not reached")."""
    return sum(r["deferred_reasons"].get("not reached", 0) for r in rows)


def check(rows: list[dict], strict: bool = True) -> list[str]:
    """Violations of the invariants (empty when they hold). ``strict`` counts every due
    site waiting for the trucks; else a site the search left out although a truck had
    time ("not reached", counted by :func:`shortfall`) does not count."""
    bad = []
    for r in rows:
        # due today and waiting for the trucks (a water cap or a visit no truck can carry
        # are the city's limits, not the fleet's)
        exempt = ("water cap", "not routable") + (() if strict else ("not reached",))
        waiting = sum(n for k, n in r["deferred_reasons"].items() if k not in exempt) > 0
        if waiting and r["idle_trucks"]:
            bad.append(f"{r['date']}: {r['idle_trucks']} idle trucks while due sites wait")
        used = [v for k, v in r.items() if k.endswith("_used")]
        if waiting and min(used) < 0.9:
            bad.append(f"{r['date']}: a truck used {min(used):.0%} of its shift while due "
                       f"sites wait ({r['deferred_reasons']})")
        if r["repeats"] > r["repeats_due_again"]:
            bad.append(f"{r['date']}: {r['repeats'] - r['repeats_due_again']} sites served "
                       f"again within {REPEAT_DAYS} days without being due")
    return bad


def run(start: str, days: int, workspace: Path, fast: bool = False) -> list[dict]:
    """Plan ``days`` consecutive days from ``start``, feeding each day's work back."""
    city = load_city(DEMO_CITY_DIR)
    city = fast_city(city) if fast else city
    ws = Workspace(workspace)
    for k in range(days):
        day = np.datetime64(start, "D") + k
        run_day(city, day, ws.root)
        files = crews_do_the_plan(ws.plan_dir(day), ws.root / "reports" / str(day))
        code = cli(["-q", "log", "add", *map(str, files), "--city", str(city.path), "--out",
                    str(ws.root), "--date", str(day)])
        if code != 0:
            raise RuntimeError(f"irrigation log add failed on {day}")
    return measure(ws.root, start, days, city.config.decide.lead_days)


def measure(workspace: Path, start: str, days: int, lead_days: int = 1) -> list[dict]:
    """The rows of ``days`` planned days from ``start`` in ``workspace`` (from its files)."""
    ws = Workspace(Path(workspace))
    rows, served = [], {}
    for k in range(days):
        day = np.datetime64(start, "D") + k
        rows.append(day_row(ws.plan_dir(day), ws.record_path(day), lead_days))
        served[str(day)] = served_sites(ws.plan_dir(day))
    again = repeats(served)
    for r in rows:
        r["repeats"], r["repeats_due_again"] = again[r["date"]]
    return rows


def table(rows: list[dict]) -> str:
    """The rows as a Markdown table."""
    trucks = sorted({k.split("_")[0] for r in rows for k in r
                     if k[0] == "t" and k[1:2].isdigit()}, key=lambda t: int(t[1:]))
    head = ["date", "due", "served (due + pulled fwd)", "fixed zones", "deferred (due today)",
            "why deferred", "idle trucks",
            *[f"truck {t[1:]} h used/shift, refills, L/refill" for t in trucks],
            "repeats <= 3 d (due again)", "routing s (passes)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        why = ", ".join(f"{k} {v}" for k, v in r["deferred_reasons"].items()) or "-"
        cells = [r["date"], r["due"], f"{r['served']} ({r['served_due']} + "
                 f"{r['pulled_forward']})", r["fixed_zones"],
                 f"{r['deferred']} ({r['deferred_due_today']})", why, r["idle_trucks"]]
        for t in trucks:
            lpr = r[f"{t}_l_per_refill"]
            cells.append(f"{r[f'{t}_h']}, {r[f'{t}_refills']}, "
                         f"{'-' if lpr is None else f'{lpr:,}'}")
        cells += [f"{r['repeats']} ({r['repeats_due_again']})",
                  f"{r['routing_s']} ({r['routing_passes']}){' CUT' if r['routing_cut'] else ''}"]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--start", default="2018-07-02")
    p.add_argument("--days", type=int, default=14)
    p.add_argument("--workspace", type=Path, default=Path("irrigation-runs/fleet-days"))
    p.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    p.add_argument("--fast", action="store_true")
    p.add_argument("--measure-only", action="store_true",
                   help="only measure the days already planned in --workspace")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    rows = (measure(args.workspace, args.start, args.days) if args.measure_only
            else run(args.start, args.days, args.workspace, fast=args.fast))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "fleet_days.json").write_text(json.dumps(rows, indent=2) + "\n")
    text = table(rows)
    bad = check(rows)
    text += (f"\nDue sites the search left out although a truck had time: {shortfall(rows)} "
             f"of {sum(r['due'] for r in rows)} due site-days.\n")
    text += "\n" + ("Invariants hold.\n" if not bad else "\n".join(f"- {b}" for b in bad) + "\n")
    (args.out / "fleet_days.md").write_text(text)
    print(text)
    return 0 if not bad else 1


if __name__ == "__main__":
    raise SystemExit(main())
