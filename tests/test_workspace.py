"""The workspace as a transaction store (issue 23): commit, recovery, lock, symlinks.
The end-to-end kills are in ``tests/test_kill.py`` (slow)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from irrigation.errors import InputError
from irrigation.io.lock import WorkspaceBusy, workspace_lock
from irrigation.io.workspace import DayCommit, Workspace, check_workspace, recover

ROOT = Path(__file__).resolve().parents[1]
D = np.datetime64("2018-07-03")


def _stage(ws: Workspace, text: str) -> DayCommit:
    txn = DayCommit(ws, D).begin()
    txn.plan.mkdir()
    (txn.plan / "report.md").write_text(text)
    for p in (txn.state, txn.record, txn.log):
        p.write_text(text)
    return txn


def _day(ws: Workspace) -> tuple:
    def read(p: Path):
        return p.read_text() if p.exists() else None
    return (read(ws.plan_dir(D) / "report.md"), read(ws.state_path(D)),
            read(ws.record_path(D)), read(ws.log_path(D)))


def test_commit_replaces_the_day_as_a_whole(tmp_path):
    ws = Workspace(tmp_path)
    _stage(ws, "old").commit()
    assert _day(ws) == ("old",) * 4
    _stage(ws, "new").commit()
    assert _day(ws) == ("new",) * 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["logs", "plans", "state"]


def test_recover_removes_an_uncommitted_day_and_finishes_a_committed_one(tmp_path):
    ws = Workspace(tmp_path)
    _stage(ws, "old").commit()
    _stage(ws, "half")  # killed before the marker
    assert recover(ws) == ["removed the unfinished outputs of a killed run of 2018-07-03"]
    assert _day(ws) == ("old",) * 4
    txn = _stage(ws, "new")
    (txn.dir / "COMMIT").write_text("2018-07-03\n")  # killed after the marker ...
    txn.state.replace(ws.state_path(D))  # ... and after the first move
    assert recover(ws) == ["completed the interrupted commit of 2018-07-03"]
    assert _day(ws) == ("new",) * 4
    assert not txn.dir.exists()


def test_recover_removes_temporary_files_and_a_symlinked_old_plan(tmp_path):
    ws = Workspace(tmp_path)
    _stage(ws, "x").commit()
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / "keep.txt").write_text("keep")
    (tmp_path / "plans" / ".2018-07-03.old").symlink_to(target)
    (tmp_path / "plans" / ".2018-07-03.abc123").mkdir()
    (tmp_path / "state" / ".state-2018-07-03.nc.x1.tmp").write_text("half")
    (tmp_path / "logs" / ".run-2018-07-03.json.x2.tmp").write_text("half")
    assert len(recover(ws)) == 4
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob(".*")) == []
    assert (target / "keep.txt").read_text() == "keep"  # a link is removed, not followed


def test_a_symlinked_plan_folder_is_refused(tmp_path):
    ws = Workspace(tmp_path / "ws")
    (ws.root / "plans").mkdir(parents=True)
    (tmp_path / "real").mkdir()
    ws.plan_dir(D).symlink_to(tmp_path / "real")
    with pytest.raises(InputError, match="is a symbolic link"):
        check_workspace(ws, D)
    with pytest.raises(InputError, match="is a symbolic link"):
        DayCommit(ws, D).begin()


def test_a_second_process_is_refused_while_one_holds_the_lock(tmp_path):
    code = ("import sys, time; from irrigation.io.lock import workspace_lock\n"
            "with workspace_lock(sys.argv[1]):\n    print('held', flush=True)\n"
            "    time.sleep(30)\n")
    holder = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)],
                              stdout=subprocess.PIPE, text=True, cwd=ROOT,
                              env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(WorkspaceBusy, match=f"pid {holder.pid}") as err:
            with workspace_lock(tmp_path):
                pass
        assert "another run holds this workspace" in str(err.value)
        holder.kill()  # SIGKILL: the kernel drops its lock
        holder.wait()
        t0 = time.monotonic()
        with workspace_lock(tmp_path):
            assert (tmp_path / ".lock").read_text().startswith("host ")
        assert time.monotonic() - t0 < 5
        assert not (tmp_path / ".lock").exists()
    finally:
        holder.kill()
        holder.wait()


def test_the_lock_is_reentrant_and_removes_a_workspace_it_created_empty(tmp_path):
    ws = tmp_path / "new-ws"
    with workspace_lock(ws):
        with workspace_lock(ws):
            assert (ws / ".lock").exists()
    assert not ws.exists()
    with pytest.raises(InputError, match="expected a workspace folder, got a file"):
        (tmp_path / "file").write_text("x")
        with workspace_lock(tmp_path / "file"):
            pass


def test_cli_refuses_a_symlinked_plan_folder_before_computing(tmp_path, capsys):
    from irrigation.cli import main

    ws = tmp_path / "ws"
    (ws / "plans").mkdir(parents=True)
    (tmp_path / "real").mkdir()
    (ws / "plans" / "2018-07-02").symlink_to(tmp_path / "real")
    capsys.readouterr()
    assert main(["-q", "run", "--demo", "--date", "2018-07-02", "--out", str(ws)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "plans/2018-07-02: is a symbolic link" in err[0]
    assert sorted(p.name for p in ws.rglob("*")) == ["2018-07-02", "plans"]
