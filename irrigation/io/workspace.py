"""The workspace of a city's daily runs: where state, plans and run records live.

Layout (one folder per city, ``irrigation run --out``)::

    <workspace>/
        state/state-YYYY-MM-DD.nc   soil water and heads at the morning of the day
        plans/YYYY-MM-DD/           the day's plan: report, map, driver sheets, GeoJSON, ...
        logs/run-YYYY-MM-DD.json    run record: inputs with hashes, configuration,
                                    versions, seeds, timings per stage, warnings
        logs/run-YYYY-MM-DD.log     the run's progress lines
        watering/executed.csv       watering reported by the crews (irrigation log add)

Every file is written to a temporary sibling and renamed (:func:`atomic_write`); a plan
folder is renamed as a whole (:func:`irrigation.plan.write_plan`), so a killed run leaves
either the old files or the complete new ones.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import platform
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
