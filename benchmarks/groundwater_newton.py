"""Benchmark: unconfined 3-layer NEWTON model, 14 daily stress periods, embedded solver.

Usage::

    python benchmarks/groundwater_newton.py            # 50k, 120k (200x200x3), 480k cells
    python benchmarks/groundwater_newton.py 200        # one size: 200 x 200 x 3
    python -m benchmarks --only groundwater [--size tiny|default|large]

Reports wall time, nonlinear iterations and peak memory (``VmHWM`` of the process, reset
before each size; see ``benchmarks/common.py``) and the fitted exponent b of
time ~ cells^b (target, issue 10: no worse than ~n^1.2). The real ``mf6`` is timed on the
same model as the peer when :func:`irrigation.groundwater.mf6.find_mf6` finds it.

Measured on the shared 2-core Xeon VM (embedded solver, SA-AMG + BiCGSTAB, one BLAS thread;
peak RSS then taken as ``ru_maxrss`` of a forked child):

| cells | grid | wall | Newton iterations | peak RSS |
|---|---|---|---|---|
| 49,923 | 129 x 129 x 3 | 9.8 s | 46 | 131 MB |
| 120,000 | 200 x 200 x 3 | 23.2 s | 46 | 227 MB |
| 480,000 | 400 x 400 x 3 | 79.1 s | 44 | 740 MB |

fitted exponent: time ~ cells^0.92.
"""

from __future__ import annotations

import os

# one BLAS thread: on a shared 2-core machine threaded BLAS in the Krylov dot products
# oversubscribes the cores and is >10x slower
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import sys
import tempfile
from pathlib import Path

import numpy as np

from irrigation.errors import InputError
from irrigation.groundwater.embedded import simulate
from irrigation.groundwater.mf6 import find_mf6, run_simulation_folder
from irrigation.groundwater.model import Package
from irrigation.groundwater.synthetic import grid_model, list_package
from irrigation.groundwater.writer import write_model

try:
    from .common import Result, check_size, measure
except ImportError:  # run as a script
    from common import Result, check_size, measure

NDAYS = 14
SIZES = {"tiny": (30, 45), "default": (129, 200), "large": (129, 200, 400)}
"""Grid sides n (n x n x 3 cells): tiny 2,700 / 6,075; 49,923 / 120,000 / 480,000 cells."""
TARGET_EXPONENT = 1.2


def city_model(n: int):
    """n x n x 3 convertible model, 10 m cells: GHB east, DRN stream, RCHA, EVTA, wells."""
    delr = 10.0
    ii, jj = np.mgrid[0:n, 0:n] / n
    top = 30.0 - 4.0 * jj + 0.8 * np.sin(6 * ii) * np.cos(5 * jj)
    botm = np.stack([np.full((n, n), 18.0) + 2.0 * np.sin(3 * ii), np.full((n, n), 9.0),
                     np.zeros((n, n))])
    k1 = np.exp(np.log(6.0) + 0.7 * np.sin(9 * ii + 2) * np.cos(7 * jj))
    k = np.stack([k1, 0.5 * k1 + 1.0, np.full((n, n), 3.0)])
    rows = np.arange(n)
    ghb = list_package("ghb", np.c_[0 * rows + 1, rows, 0 * rows + n - 1], bhead=22.0,
                       cond=200.0)
    sr = n // 2
    drn = list_package("drn", np.c_[0 * rows, 0 * rows + sr, rows],
                       elev=top[sr] - 2.5, cond=50.0)
    rng = np.random.default_rng(1)
    wells = np.c_[np.full(20, 1), rng.integers(5, n - 5, 20), rng.integers(5, n - 5, 20)]
    wel = Package("wel", "wel", {d: ({"cellid": wells, "q": np.full(20, -150.0)}
                                      if d % 3 else {}) for d in range(NDAYS)})
    rain = np.where(np.arange(NDAYS) % 4 == 0, 8.0, 0.0)
    rch = Package("rch", "rcha", {d: {"recharge": np.full((n, n), 3e-4 + 3.5e-4 * rain[d])}
                                  for d in range(NDAYS)}, readasarrays=True)
    evt = Package("evt", "evta", {0: {"surface": top, "rate": np.full((n, n), 3.5e-3),
                                      "depth": np.full((n, n), 2.0)}}, readasarrays=True)
    return grid_model((3, n, n), delr=delr, delc=delr, top=top, botm=botm, k=k, k33=k / 10,
                      icelltype=1, strt=np.stack([top - 3.0] * 3), ss=1e-5, sy=0.15,
                      perlen=[1.0] * NDAYS, newton=True, packages=[ghb, drn, wel, rch, evt])


def _mf6() -> tuple[str | None, str]:
    """The mf6 executable (or None) and how the peer column names it."""
    try:
        exe = find_mf6()
    except InputError as exc:
        return None, f"mf6 (not available: {exc})"
    if exe is None:
        return None, "mf6 (not available: not on PATH, no $MF6_EXE)"
    return exe, f"mf6 ({exe})"


def measure_size(n: int, mf6_exe: str | None = None, peer: str = "") -> Result:
    """Embedded solver on the n x n x 3 model (and mf6 on the same model when given)."""
    model = city_model(n)
    ours = measure(lambda: simulate(model, linear="amg"))
    peer_s = None
    if mf6_exe is not None:
        with tempfile.TemporaryDirectory(prefix="bench_mf6_") as tmp:
            ws = write_model(model, Path(tmp) / "sim")
            peer_s = measure(lambda: run_simulation_folder(ws, mf6_exe)).wall_s
    cells = 3 * n * n
    iterations = int(sum(ours.value.iterations))
    return Result(
        "groundwater: embedded NEWTON solver", f"{cells:,} cells ({n} x {n} x 3), {NDAYS} days",
        ours.wall_s, ours.peak_rss_mb, cells * NDAYS / ours.wall_s, "cell-days/s",
        peer=peer or None, peer_wall_s=peer_s,
        notes=f"{iterations} Newton iterations, SA-AMG + BiCGSTAB",
        extra={"n": n, "cells": cells, "iterations": iterations})


def fitted_exponent(rows: list[Result]) -> float:
    """b of wall time ~ cells^b, least squares in log-log."""
    cells = [r.extra["cells"] for r in rows]
    return float(np.polyfit(np.log(cells), np.log([r.wall_s for r in rows]), 1)[0])


def warm_up() -> None:
    """Solve a 20 x 20 x 3 model once: first-call costs (lazy imports) out of the timings."""
    simulate(city_model(20), linear="amg")


def run(size: str = "default") -> list[Result]:
    """Each grid size of ``size``, then the scaling fit against the n^1.2 target."""
    exe, peer = _mf6()
    warm_up()
    rows = [measure_size(n, exe, peer) for n in SIZES[check_size(size)]]
    b = fitted_exponent(rows)
    cells = [r.extra["cells"] for r in rows]
    note = f"b = {b:.2f} over {len(rows)} sizes"
    if size == "tiny":
        note += "; tiny grids: fixed costs dominate, b says little"
    rows.append(Result(
        "groundwater: scaling fit, wall ~ cells^b", f"{min(cells):,}-{max(cells):,} cells",
        target=f"b <= {TARGET_EXPONENT} (no worse than ~n^1.2)", met=b <= TARGET_EXPONENT,
        notes=note, extra={"exponent": b, "cells": cells, "wall_s": [r.wall_s for r in rows]}))
    return rows


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or list(SIZES["large"])
    exe, peer = _mf6()
    warm_up()
    rows = [measure_size(n, exe, peer) for n in sizes]
    for r in rows:
        print(f"{r.params}: {r.wall_s:.2f} s, {r.extra['iterations']} iterations, "
              f"peak RSS {r.peak_rss_mb:.0f} MB; peer {r.peer}: {r.peer_wall_s}")
    if len(rows) > 1:
        print(f"fitted exponent: time ~ cells^{fitted_exponent(rows):.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
