"""Benchmark: unconfined 3-layer NEWTON model, 14 daily stress periods, embedded solver.

Usage::

    python benchmarks/groundwater_newton.py            # 50k, 120k (200x200x3), 480k cells
    python benchmarks/groundwater_newton.py 200        # one size: 200 x 200 x 3

Reports wall time, nonlinear iterations and peak memory (ru_maxrss of a fresh child process
per size) and the fitted exponent b of time ~ cells^b.

Measured on the shared 2-core Xeon VM (embedded solver, SA-AMG + BiCGSTAB, one BLAS thread):

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

import json
import multiprocessing as mp
import resource
import sys
import time

import numpy as np

from irrigation.groundwater.embedded import simulate
from irrigation.groundwater.model import Package
from irrigation.groundwater.synthetic import grid_model, list_package

NDAYS = 14


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


def _run(n: int, queue) -> None:
    model = city_model(n)
    t0 = time.perf_counter()
    res = simulate(model, linear="amg")
    wall = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    queue.put({"n": n, "cells": 3 * n * n, "wall_s": round(wall, 2),
               "iterations": int(sum(res.iterations)), "peak_rss_mb": round(peak_mb, 1)})


def measure(n: int) -> dict:
    """Run one size in a fresh process (clean peak memory)."""
    q = mp.get_context("fork").Queue()
    p = mp.get_context("fork").Process(target=_run, args=(n, q))
    p.start()
    out = q.get()
    p.join()
    return out


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [129, 200, 400]  # 49,923 / 120,000 / 480,000 cells
    rows = [measure(n) for n in sizes]
    for r in rows:
        print(json.dumps(r))
    if len(rows) > 1:
        b = np.polyfit(np.log([r["cells"] for r in rows]), np.log([r["wall_s"] for r in rows]),
                       1)[0]
        print(f"fitted exponent: time ~ cells^{b:.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
