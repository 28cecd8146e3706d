"""The daily run as a transaction (issue 23): SIGKILL at every stage boundary and mid-write,
and two runs at once on one workspace.

Each killed run is a real ``irrigation run`` process (``tests/killrun.py`` kills itself at
the chosen point). After the kill and the next start: the previous day is byte-identical,
no temporary file or folder is left, and day D is either absent or complete and equal to
an uninterrupted run (plan folder and state byte for byte, run record of the same
inputs). The demo city is planned with a 12-day spin-up, 8 members, 300 route iterations.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from robust_cases import fast_city  # the same fast copy of the demo as the bad-input cases

ROOT = Path(__file__).resolve().parents[1]
KILLRUN = Path(__file__).with_name("killrun.py")
D0, D1 = "2018-07-02", "2018-07-03"
STAGES = ("sensors", "state", "groundwater", "forecast", "decide", "routing", "write")
#: Renames of the write stage of a first run of D1 (plan folder, 3 staged files, the
#: commit's 4 moves); the kill lands before each.
RENAMES = 8

pytestmark = pytest.mark.slow


def irrigation(*args: str, kill: str | None = None, timeout: float = 600
               ) -> subprocess.CompletedProcess:
    """``irrigation ARGS`` in a fresh process, killed at ``kill`` (see killrun.py)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, str(KILLRUN), kill or "count:/dev/null", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)


def run(city: Path, ws: Path, day: str, kill: str | None = None,
        forecast: Path | None = None) -> subprocess.CompletedProcess:
    extra = [] if forecast is None else ["--forecast", str(forecast)]
    return irrigation("-q", "run", "--city", str(city), "--date", day, "--out", str(ws),
                      *extra, kill=kill)


def tree(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` by relative path."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def day_files(ws: Path, day: str) -> dict[str, object]:
    """What of ``day`` is visible: plan files, state bytes, the hashes of the record's
    inputs (their paths name the workspace), whether the log is there."""
    plan, state = ws / "plans" / day, ws / "state" / f"state-{day}.nc"
    record, log = ws / "logs" / f"run-{day}.json", ws / "logs" / f"run-{day}.log"
    return {"plan": tree(plan) if plan.exists() else None,
            "state": state.read_bytes() if state.exists() else None,
            "record": ({k: v["sha256"] for k, v in json.loads(record.read_text())["inputs"]
                        .items()} if record.exists() else None),
            "log": log.exists() or None}


def hidden(ws: Path) -> list[str]:
    return sorted(str(p.relative_to(ws)) for p in ws.rglob(".*"))


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A fast copy of the demo city, a workspace with D0 planned, and the reference of
    D1 planned in a copy of it without interruption."""
    tmp = tmp_path_factory.mktemp("kill")
    city = fast_city(tmp / "city")
    ws0 = tmp / "ws0"
    assert run(city, ws0, D0).returncode == 0
    ref = tmp / "ref"
    shutil.copytree(ws0, ref)
    assert run(city, ref, D1).returncode == 0
    return city, ws0, ref


KILLS = ([f"stage:{s}" for s in STAGES] + ["plot", "state-half"]
         + [f"rename:{k}" for k in range(1, RENAMES + 1)])


@pytest.mark.parametrize("kill", KILLS)
def test_a_kill_leaves_the_day_all_or_nothing(base, kill, tmp_path):
    city, ws0, ref = base
    ws = tmp_path / "ws"
    shutil.copytree(ws0, ws)
    before = tree(ws0)
    out = run(city, ws, D1, kill=kill)
    assert out.returncode == -9, out.stderr
    # the next start: a run that stops on a missing forecast still cleans up first
    nxt = run(city, ws, D1, forecast=tmp_path / "missing.csv")
    assert nxt.returncode == 2 and "not found" in nxt.stderr
    assert hidden(ws) == []
    assert {k: v for k, v in tree(ws).items() if D1 not in k} == before  # D0 untouched
    seen = day_files(ws, D1)
    expected = day_files(ref, D1)
    committed = kill.startswith("rename:") and int(kill.split(":")[1]) > 4
    assert seen == (expected if committed else dict.fromkeys(expected))
    if kill in ("stage:routing", "rename:6"):  # and a re-run gives the uninterrupted day
        assert run(city, ws, D1).returncode == 0
        assert day_files(ws, D1) == expected
        assert hidden(ws) == []


@pytest.mark.parametrize("kill", [f"rename:{k}" for k in (4, 5, 6, 8, 9)] + ["plot"])
def test_a_killed_rerun_with_changed_inputs_is_all_old_or_all_new(base, kill, tmp_path):
    city, _, ref = base
    old = day_files(ref, D1)
    changed = tmp_path / "changed"  # the crews' report of D0 added: other inputs for D1
    shutil.copytree(ref, changed)
    logged = irrigation("-q", "log", "add", str(changed / "plans" / D0 / "visits.csv"),
                        "--city", str(city), "--date", D0, "--out", str(changed),
                        "--as-planned")
    assert logged.returncode == 0, logged.stderr
    ws = tmp_path / "ws"
    shutil.copytree(changed, ws)
    assert run(city, changed, D1).returncode == 0
    new = day_files(changed, D1)
    assert new["record"] != old["record"] and new["state"] != old["state"]
    assert run(city, ws, D1, kill=kill).returncode == -9
    run(city, ws, D1, forecast=tmp_path / "missing.csv")
    assert hidden(ws) == []
    assert day_files(ws, D1) in (old, new)
    assert day_files(ws, D1) == (new if kill.startswith("rename:") and
                                 int(kill.split(":")[1]) > 4 else old)


def test_two_runs_at_once_one_is_refused_and_nothing_is_corrupted(base, tmp_path):
    city, ws0, ref = base
    ws = tmp_path / "ws"
    shutil.copytree(ws0, ws)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "irrigation.cli", "-q", "run", "--city", str(city),
           "--out", str(ws)]
    first = subprocess.Popen([*cmd, "--date", D1], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    for _ in range(600):  # until the first run holds the lock
        if (ws / ".lock").exists() and (ws / ".lock").read_text():
            break
        time.sleep(0.05)
    second = subprocess.run([*cmd, "--date", "2018-07-04"], env=env, capture_output=True,
                            text=True, timeout=600)
    _out, err = first.communicate(timeout=600)
    assert first.returncode == 0, err
    assert second.returncode == 2
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and "another run holds this workspace" in lines[0]
    assert f"pid {first.pid}" in lines[0]
    assert not (ws / "plans" / "2018-07-04").exists()
    assert day_files(ws, D1) == day_files(ref, D1)
    assert hidden(ws) == []
    # the lock of a killed run is no obstacle: the kernel dropped it
    assert run(city, ws, "2018-07-04", kill="stage:routing").returncode == -9
    again = run(city, ws, "2018-07-04")
    assert again.returncode == 0, again.stderr
    assert hidden(ws) == []
