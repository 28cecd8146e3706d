"""Benchmark: CPU seconds of one closed-loop season per policy (issue 21), ours against an
earlier revision of the package measured in the same run.

Run: ``python benchmarks/season_cpu.py [--size tiny|default] [--peer REV] [--repeat N]
[--policy NAME] [--warm]``.

Each policy of ``scenarios/baseline-2018.toml`` (demo city, spin-up from 1 April 2018,
season May-September, forecasts of 20 members over 14 days; ``fixed-interval``,
``sensor-threshold``, ``forecast``) is simulated for member 0 with
:func:`irrigation.scenario.season.simulate_season`, and the process CPU time of each is
recorded. ``--peer REV`` checks out REV (e.g. the commit before the issue-21 season
engine) into a temporary git worktree and runs the same measurement there in a
subprocess, alternating ours and the peer's policy by policy, so both see the same
machine load. The peer uses its own scenario file and code; it is the same season with the
same policies. ``tiny`` (smoke test): a 5-day season after 3 days of spin-up, 4 forecast
members over 4 days.

``--repeat N`` measures each policy N times, ours and the peer's alternated, and reports
the median with the range (the same code measures up to +-20 % apart between runs on a
shared machine); ``--policy NAME`` (repeatable) measures only those policies. ``--warm``
first runs the same season untimed in the measuring process and times the second one: the
cost of a season in a worker that has run others (a scenario's dask worker runs dozens),
without the first season's warm-up of the process (caches, allocator, ~0.3 s).

Prints one line per policy: ours, the peer's and the ratio peer / ours of the medians
(> 1: ours is faster), and writes them as JSON with ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: The measurement, run in this process and in the peer's: prints JSON {policy: cpu_s}.
MEASURE = r"""
import dataclasses, datetime as dt, json, sys, time
from pathlib import Path
from irrigation.scenario import load_scenario
from irrigation.scenario.season import prepare, simulate_season
root, size, policy, warm = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4] == "warm"
scn = load_scenario(root / "scenarios" / "baseline-2018.toml")
scn = dataclasses.replace(scn, members=1)
if size == "tiny":
    scn = dataclasses.replace(
        scn, season=dataclasses.replace(scn.season, spinup_start=dt.date(2018, 6, 28),
                                        start=dt.date(2018, 7, 1), end=dt.date(2018, 7, 5)),
        forecast=dataclasses.replace(scn.forecast, members=4, horizon_days=4))
setup = prepare(scn)
pol = [p for p in scn.policies if p.name == policy][0]
if warm:
    simulate_season(setup, pol, 0)
t0 = time.process_time()
simulate_season(setup, pol, 0)
print(json.dumps({policy: time.process_time() - t0, "days": int(setup.days.size)}))
"""

POLICIES = ("fixed-interval", "sensor-threshold", "forecast")


def _measure(root: Path, size: str, policy: str, warm: bool = False) -> dict:
    env = {**os.environ, "PYTHONPATH": str(root), "OPENBLAS_NUM_THREADS": "1",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", MEASURE, str(root), size, policy,
                          "warm" if warm else "first"],
                         capture_output=True, text=True, env=env, cwd=root, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", choices=["tiny", "default"], default="default")
    p.add_argument("--peer", default=None, help="git revision to compare with")
    p.add_argument("--out", type=Path, default=None, help="JSON file of the results")
    p.add_argument("--repeat", type=int, default=1, help="measurements per policy and code")
    p.add_argument("--policy", action="append", choices=POLICIES, default=None,
                   help="measure this policy only (repeatable)")
    p.add_argument("--warm", action="store_true",
                   help="time a second season in the process (after one untimed)")
    args = p.parse_args(argv)
    rows = {}
    with tempfile.TemporaryDirectory(prefix="season-peer-") as tmp:
        peer_root = None
        if args.peer:
            peer_root = Path(tmp) / "peer"
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach",
                            str(peer_root), args.peer], check=True, capture_output=True)
        try:
            for policy in args.policy or POLICIES:
                t0 = time.perf_counter()
                ours, peer, loads = [], [], []
                for _ in range(args.repeat):
                    loads.append(os.getloadavg()[0])
                    run = _measure(ROOT, args.size, policy, args.warm)
                    ours.append(run[policy])
                    if peer_root:
                        peer.append(_measure(peer_root, args.size, policy, args.warm)[policy])
                rows[policy] = r = {
                    "ours_cpu_s": statistics.median(ours), "ours_runs_s": ours,
                    "days": run["days"], "load": max(loads),
                    "peer_cpu_s": statistics.median(peer) if peer else None,
                    "peer_runs_s": peer or None}
                print(f"{policy:18s} ours {_spread(ours)} s CPU for {r['days']} days"
                      + ("" if not peer else f", peer ({args.peer}) {_spread(peer)} s, "
                         f"ratio peer/ours {r['peer_cpu_s'] / r['ours_cpu_s']:.2f}")
                      + f"  (load up to {r['load']:.1f}, {time.perf_counter() - t0:.0f} s wall)",
                      flush=True)
        finally:
            if peer_root is not None:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                                str(peer_root)], capture_output=True)
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1))
    return rows


def _spread(values: list[float]) -> str:
    """The median of ``values`` [s], with their range when there are several."""
    med = f"{statistics.median(values):5.2f}"
    return med if len(values) == 1 else f"{med} ({min(values):.2f}-{max(values):.2f})"


if __name__ == "__main__":
    main()
