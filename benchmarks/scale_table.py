"""Benchmark: the table of issue 24 in one run — the demo's daily run before/after and the
large city's first and continuing run.

Run: ``python benchmarks/scale_table.py --before DIR [--demo-days 4] [--repeat 2]
[--out benchmarks/results/scale]``. ``DIR`` is a checkout of the code to compare with
(e.g. ``git worktree add ../before fd80a99``).

1. The demo city: ``daily_run.run_case`` (a fresh workspace, ``--demo-days`` consecutive
   days from 2018-07-02: a spin-up, then continuing runs) with the code of ``DIR`` and
   with this checkout, alternating, ``--repeat`` times, each in its own interpreter.
   The continuing run is the median over runs 2..N, per stage too.
2. The large city with this checkout: ``daily_run.large_rows`` (first run of the season
   and the continuing run, each in a fresh process; wall time, peak RSS, stages).

Every measurement records the load average (1/5/15 min) before and after it. Writes
``scale.md`` and ``scale.json`` to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

_DEMO = """
import json, sys
sys.path.insert(0, "benchmarks")
from daily_run import run_case
row = run_case("2018-07-02", {days})
x = row.extra
print("RESULT" + json.dumps({{"median_run_s": x["median_run_s"], "first_run_s": x["first_run_s"],
    "median_stage_s": x["median_stage_s"], "peak_rss_mb": row.peak_rss_mb,
    "walls": [r["wall_s"] for r in x["runs"]], "complete": x["runs_complete"]}}))
"""

_LARGE = """
import json, sys
sys.path.insert(0, "benchmarks")
from pathlib import Path
from daily_run import large_rows
rows = large_rows(Path({workspace!r}))
print("RESULT" + json.dumps([{{"name": r.name, "wall_s": r.wall_s, "peak_rss_mb": r.peak_rss_mb,
    "notes": r.notes, "skipped": r.skipped, "met": r.met, "target": r.target,
    "run": r.extra.get("run")}} for r in rows], default=str))
"""


def _python(tree: Path, code: str) -> tuple[object, list[float], list[float], float]:
    """Run ``code`` with the package of ``tree``; its RESULT, load before/after, wall."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], cwd=tree, env=env, check=True,
                         capture_output=True, text=True)
    wall = time.perf_counter() - t0
    line = [x for x in out.stdout.splitlines() if x.startswith("RESULT")][-1]
    return json.loads(line[6:]), list(load0), list(os.getloadavg()), wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", type=Path, required=True)
    ap.add_argument("--demo-days", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--no-large", action="store_true")
    ap.add_argument("--workspace", type=Path, default=Path("/tmp/scale_table_large"))
    ap.add_argument("--out", type=Path, default=HERE / "benchmarks" / "results" / "scale")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    demo: dict[str, list[dict]] = {"before": [], "after": []}
    for _ in range(args.repeat):
        for label, tree in (("before", args.before.resolve()), ("after", HERE)):
            res, l0, l1, _ = _python(tree, _DEMO.format(days=args.demo_days))
            demo[label].append({**res, "load_start": l0, "load_end": l1})
            print(label, f"{res['median_run_s']:.1f} s", l0, l1, flush=True)
    large = None
    if not args.no_large:
        if args.workspace.exists():
            raise SystemExit(f"{args.workspace} exists: the first run must spin up")
        res, l0, l1, _ = _python(HERE, _LARGE.format(workspace=str(args.workspace)))
        large = {"rows": res, "load_start": l0, "load_end": l1}
    (args.out / "scale.json").write_text(json.dumps({"demo": demo, "large": large}, indent=1))
    (args.out / "scale.md").write_text(render(demo, large, args.demo_days))
    print(render(demo, large, args.demo_days))


def _load(x: list[float]) -> str:
    return "/".join(f"{v:.1f}" for v in x)


def render(demo: dict, large: dict | None, days: int) -> str:
    """The markdown table."""
    lines = [f"## Demo city, continuing run (median of runs 2..{days} per repeat)", "",
             "| code | repeat | continuing [s] | first run [s] | peak [MB] | stages (median) [s] "
             "| load before -> after |", "|---|---|---|---|---|---|---|"]
    for label, rs in demo.items():
        for k, r in enumerate(rs, 1):
            st = ", ".join(f"{s} {v:.1f}" for s, v in r["median_stage_s"].items() if v)
            lines.append(f"| {label} | {k} | {r['median_run_s']:.1f} | {r['first_run_s']:.1f} "
                         f"| {r['peak_rss_mb']:.0f} | {st} | {_load(r['load_start'])} -> "
                         f"{_load(r['load_end'])} |")
    for label, rs in demo.items():
        if rs:
            lines.append(f"\n{label}: median continuing run over repeats "
                         f"{statistics.median(r['median_run_s'] for r in rs):.2f} s")
    if large is not None:
        lines += ["", "## Large city", "", f"load before {_load(large['load_start'])}, after "
                  f"{_load(large['load_end'])}", "",
                  "| run | wall [s] | peak [GB] | stages [s] |", "|---|---|---|---|"]
        for r in large["rows"]:
            stages = ", ".join(f"{k} {v:.1f}" for k, v in (r["run"] or {}).get(
                "timings_s", {}).items())
            peak = (r["peak_rss_mb"] or 0) / 1024
            lines.append(f"| {r['name']} | {r['wall_s'] or 0:.1f} | {peak:.2f} | {stages} |")
        lines += [""] + [f"- {r['name']}: {'met' if r.get('met') else 'NOT met'} "
                         f"({r.get('target', '')}); {r['notes']}" for r in large["rows"]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
