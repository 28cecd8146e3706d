"""Run ``irrigation`` and SIGKILL it at a chosen point (the kill test's driver).

Usage: ``python tests/killrun.py POINT irrigation-arguments...`` where POINT is

- ``stage:NAME``: just before stage NAME of the daily run starts (after the one before
  it finished; ``stage:write`` is after routing);
- ``plot``: half way through writing the plan folder (the forecast plot);
- ``state-half``: after half of the state file is written;
- ``rename:K``: before the K-th file or folder rename of the write stage (the atomic
  writes, the plan folder swap and the commit's moves);
- ``count:FILE``: no kill; append one line per rename of the write stage to FILE.

The hooks wrap the package's functions from outside (monkeypatching in this process), so
the package holds no test code.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path

import xarray as xr

from irrigation import pipeline
from irrigation.cli import main


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def install(point: str) -> None:
    """Patch the hooks for ``point`` (see the module docstring)."""
    kind, _, arg = point.partition(":")
    writing = {"on": False}
    calls = {"n": 0}

    class StageEnd(logging.Handler):
        """Each stage logs '[k/8] name' when it ends: the next one starts."""

        def emit(self, record: logging.LogRecord) -> None:
            message = record.getMessage()
            for k, name in enumerate(pipeline.STAGES[:-1]):
                if message.startswith(f"[{k + 1}/{len(pipeline.STAGES)}] {name} "):
                    following = pipeline.STAGES[k + 1]
                    if kind == "stage" and following == arg:
                        _die()
                    writing["on"] = following == "write"

    logger = logging.getLogger("irrigation.pipeline")
    logger.addHandler(StageEnd())
    logger.setLevel(logging.INFO)  # also under -q
    if kind == "plot":
        def plot(*a, **k):
            _die()
        pipeline.plot_forecast = plot
    if kind == "state-half":
        to_netcdf = xr.Dataset.to_netcdf

        def half(self, path, *a, **k):
            to_netcdf(self, path, *a, **k)
            size = Path(path).stat().st_size
            os.truncate(path, size // 2)
            _die()
        xr.Dataset.to_netcdf = half
    if kind in ("rename", "count"):
        for name in ("replace", "rename"):
            real = getattr(os, name)

            def hooked(src, dst, *a, _real=real, _name=name, **k):
                if writing["on"]:
                    calls["n"] += 1
                    if kind == "count":
                        with open(arg, "a") as fh:
                            fh.write(f"{calls['n']} {_name} {src} -> {dst}\n")
                    elif calls["n"] == int(arg):
                        _die()
                return _real(src, dst, *a, **k)
            setattr(os, name, hooked)


if __name__ == "__main__":
    install(sys.argv[1])
    sys.exit(main(sys.argv[2:]))
