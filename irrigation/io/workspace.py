"""The workspace of a city's daily runs: where state, plans and run records live.

Layout (one folder per city, ``irrigation run --out``)::

    <workspace>/
        state/state-YYYY-MM-DD.nc   soil water and heads at the morning of the day
        plans/YYYY-MM-DD/           the day's plan: report, map, driver sheets, GeoJSON, ...
        logs/run-YYYY-MM-DD.json    run record: inputs with hashes, configuration,
                                    versions, seeds, timings per stage, warnings
        logs/run-YYYY-MM-DD.log     the run's progress lines
        watering/executed.csv       watering reported by the crews (irrigation log add)

A day is one transaction (:class:`DayCommit`): plan folder, state, run record and log are
first written into ``.txn-D/`` of the workspace; a ``COMMIT`` marker is written there
last, then the files are renamed into place and the folder removed. :func:`recover`, run
at every start under the workspace lock (:mod:`irrigation.io.lock`), finishes a
committed transaction a killed run left (roll forward) and removes an uncommitted one
and every other temporary file of a killed run (roll back). So the plan, state and record
of a day are all of one run: the old ones or the new ones.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import InputError
from .files import atomic_write

#: Packages whose versions go into the run record.
RECORDED_PACKAGES = ("irrigation", "numpy", "scipy", "pandas", "xarray", "flopy", "pyvrp",
                     "pyet", "matplotlib", "h5netcdf")


@dataclass(frozen=True)
class Workspace:
    """Paths of a city's workspace (see the module docstring)."""

    root: Path

    def state_path(self, day: np.datetime64) -> Path:
        return self.root / "state" / f"state-{np.datetime64(day, 'D')}.nc"

    def plan_dir(self, day: np.datetime64) -> Path:
        return self.root / "plans" / str(np.datetime64(day, "D"))

    def record_path(self, day: np.datetime64) -> Path:
        return self.root / "logs" / f"run-{np.datetime64(day, 'D')}.json"

    def log_path(self, day: np.datetime64) -> Path:
        return self.root / "logs" / f"run-{np.datetime64(day, 'D')}.log"

    def txn_dir(self, day: np.datetime64) -> Path:
        """Where day D's outputs are staged before they are committed."""
        return self.root / f"{TXN_PREFIX}{np.datetime64(day, 'D')}"

    @property
    def watering_log(self) -> Path:
        """The watering the crews reported through ``irrigation log add``
        (:mod:`irrigation.io.watering`)."""
        return self.root / "watering" / "executed.csv"

    def previous_state(self, day: np.datetime64, not_before: np.datetime64
                       ) -> tuple[np.datetime64, Path] | None:
        """The latest saved state strictly before ``day`` and not before ``not_before``."""
        found = []
        for p in (self.root / "state").glob("state-*.nc"):
            try:
                d = np.datetime64(p.stem.removeprefix("state-"), "D")
            except ValueError:
                continue
            if np.datetime64(not_before, "D") <= d < np.datetime64(day, "D"):
                found.append((d, p))
        return max(found) if found else None

    def later_states(self, day: np.datetime64) -> list[np.datetime64]:
        """Days after ``day`` with a saved state, in order."""
        out = []
        for p in (self.root / "state").glob("state-*.nc"):
            try:
                d = np.datetime64(p.stem.removeprefix("state-"), "D")
            except ValueError:
                continue
            if d > np.datetime64(day, "D"):
                out.append(d)
        return sorted(out)


#: Prefix of a day's staging folder in the workspace (``.txn-YYYY-MM-DD``).
TXN_PREFIX = ".txn-"
#: A day in a file name (YYYY-MM-DD).
DAY_GLOB = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
#: Marker file written last into a staging folder: the day is committed.
COMMIT_MARKER = "COMMIT"
#: Folders of the workspace that must be real folders (renames stay on one file system).
WORKSPACE_DIRS = ("plans", "state", "logs", "watering")


@dataclass(frozen=True)
class DayCommit:
    """Day D's outputs staged in ``.txn-D/``, renamed into place together by :meth:`commit`.

    Write ``plan`` (a folder), ``state``, ``record`` and ``log`` (files), then call
    :meth:`commit`. A run killed before the marker leaves a staging folder that
    :func:`recover` removes; after the marker, :func:`recover` completes the renames.
    """

    ws: Workspace
    day: np.datetime64

    @property
    def dir(self) -> Path:
        return self.ws.txn_dir(self.day)

    @property
    def plan(self) -> Path:
        return self.dir / "plan"

    @property
    def state(self) -> Path:
        return self.dir / "state.nc"

    @property
    def record(self) -> Path:
        return self.dir / "run.json"

    @property
    def log(self) -> Path:
        return self.dir / "run.log"

    def begin(self) -> DayCommit:
        """Start from an empty staging folder (a leftover one is removed)."""
        check_workspace(self.ws, self.day)
        _remove(self.dir)
        self.dir.mkdir(parents=True)
        return self

    def abort(self) -> None:
        """Remove the staging folder of a day that failed before its commit."""
        _remove(self.dir)

    def moves(self) -> list[tuple[Path, Path]]:
        """(staged, final) pairs, files first; the plan folder last."""
        ws, d = self.ws, self.day
        return [(self.state, ws.state_path(d)), (self.record, ws.record_path(d)),
                (self.log, ws.log_path(d)), (self.plan, ws.plan_dir(d))]

    def commit(self) -> None:
        """Write the marker (the point of no return), then move everything into place."""
        for staged, _ in self.moves():
            if not staged.exists():
                raise FileNotFoundError(f"{staged} was not staged")
        _fsync_tree(self.dir)
        marker = self.dir / COMMIT_MARKER
        with open(marker, "w") as fh:
            fh.write(f"{self.day}\n")
            fh.flush()
            os.fsync(fh.fileno())
        _fsync_dir(self.dir)
        self.roll_forward()

    def roll_forward(self) -> None:
        """Move the staged outputs into place (idempotent: a move already done is
        skipped), then remove the staging folder."""
        for staged, final in self.moves():
            if not staged.exists():
                continue  # moved before a kill
            final.parent.mkdir(parents=True, exist_ok=True)
            if staged.is_dir():
                if final.exists() or final.is_symlink():
                    old = self.dir / "old-plan"
                    _remove(old)
                    os.rename(final, old)
                os.rename(staged, final)
            else:
                os.replace(staged, final)
            _fsync_dir(final.parent)
        _remove(self.dir)


def check_workspace(ws: Workspace, day: np.datetime64) -> None:
    """Refuse symbolic links where a day's commit renames: the workspace's folders and
    ``plans/D`` must be real (a rename through a link would move or break the link, and
    a folder on another file system cannot be renamed into).

    Raises
    ------
    InputError
        Naming the link.
    """
    for p in [ws.root / d for d in WORKSPACE_DIRS] + [ws.plan_dir(day)]:
        if p.is_symlink():
            raise InputError("is a symbolic link; the workspace's folders and plans must be "
                             "real folders (replace the link by a folder, or use another "
                             "--out)", file=p)


def recover(ws: Workspace) -> list[str]:
    """Finish or undo what a killed run left in the workspace ``ws`` (call it holding the
    workspace lock); returns what was done, one line each.

    A committed staging folder is rolled forward; an uncommitted one is removed; the
    temporary files of :func:`~irrigation.io.files.atomic_write` (``.NAME.*.tmp``) and
    of :func:`~irrigation.plan.write_plan` (``plans/.D.*``) are removed. Nothing else is
    touched.
    """
    done = []
    if not ws.root.is_dir():
        return done
    for txn in sorted(ws.root.glob(f"{TXN_PREFIX}*")):
        try:
            day = np.datetime64(txn.name.removeprefix(TXN_PREFIX), "D")
        except ValueError:
            continue
        if txn.is_dir() and not txn.is_symlink() and (txn / COMMIT_MARKER).is_file():
            check_workspace(ws, day)
            DayCommit(ws, day).roll_forward()
            done.append(f"completed the interrupted commit of {day}")
        else:
            _remove(txn)
            done.append(f"removed the unfinished outputs of a killed run of {day}")
    for folder, pattern in (("plans", f".{DAY_GLOB}.*"), ("state", ".state-*.tmp"),
                            ("logs", ".run-*.tmp"), ("watering", ".executed.csv.*.tmp")):
        d = ws.root / folder
        if not d.is_dir() or d.is_symlink():
            continue
        for p in sorted(d.glob(pattern)):
            _remove(p)
            done.append(f"removed {p.relative_to(ws.root)} left by a killed run")
    return done


def _remove(path: Path) -> None:
    """Remove a file, a link (never its target) or a folder tree, if present."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(path: Path) -> None:
    """Flush every staged file and folder to disk (a commit survives a power cut)."""
    for p in sorted(path.rglob("*")):
        if p.is_file() and not p.is_symlink():
            with open(p, "rb") as fh:
                os.fsync(fh.fileno())
    for p in [path, *sorted(q for q in path.rglob("*") if q.is_dir())]:
        _fsync_dir(p)


def read_state(path: Path) -> xr.Dataset:
    """Read a saved state (``dr_mm``, ``var_mm2`` over ``site``; ``heads_m``)."""
    try:
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            state = ds.load()
    except (OSError, ValueError) as exc:
        raise InputError(f"not a readable state file ({exc})", file=path) from None
    missing = {"dr_mm", "var_mm2", "heads_m"} - set(state.data_vars)
    if missing:
        raise InputError(f"state file lacks {sorted(missing)}", file=path)
    return state


def write_state(state: xr.Dataset, path: Path) -> Path:
    """Write a state atomically (NetCDF4 via h5netcdf)."""
    return atomic_write(path, lambda t: state.to_netcdf(t, engine="h5netcdf"))


def sha256(path: Path) -> str:
    """SHA-256 of a file, or of a folder's files in name order."""
    h = hashlib.sha256()
    files = sorted(p for p in Path(path).rglob("*") if p.is_file()) if Path(path).is_dir() \
        else [Path(path)]
    for f in files:
        with open(f, "rb") as fh:
            for chunk in iter(lambda fh=fh: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def versions() -> dict[str, str]:
    """Python and package versions for the run record."""
    out = {"python": platform.python_version()}
    for name in RECORDED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _jsonable(value):
    if dataclasses.is_dataclass(value):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (Path, dt.date, dt.time, np.datetime64)):
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return str(value)
    return value


def write_run_record(record: dict, path: Path) -> Path:
    """Write the run record as indented JSON, atomically."""
    text = json.dumps(_jsonable(record), indent=2) + "\n"
    return atomic_write(path, lambda t: Path(t).write_text(text))
