"""Benchmark: the embedded groundwater solver under one and under two BLAS threads.

Run: ``python benchmarks/blas_threads.py [--city DIR] [--days 14] [--repeat 3]``
(default: the large city's 3 x 300 x 300 model, ``benchmarks/results/large-city``).

The daily run holds BLAS at one thread (``$IRRIGATION_BLAS_THREADS``, default 1;
:func:`irrigation.groundwater.linear.default_blas_threads`). This checks that one thread
does not slow its largest solve: the forecast model of ``--days`` daily periods from the
model's starting heads with 1 mm d-1 of recharge, solved by
:func:`irrigation.groundwater.embedded.simulate` with ``threads=1`` and ``threads=2``,
interleaved ``--repeat`` times in this process; it prints wall and CPU time of each
(median) and the load average before and after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np

LARGE_CITY = Path(__file__).resolve().parent / "results" / "large-city"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--city", type=Path, default=LARGE_CITY)
    ap.add_argument("--days", type=int, default=14)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from irrigation.groundwater.embedded import simulate
    from irrigation.groundwater.forecast import forecast_model
    from irrigation.io.city import load_city, load_groundwater

    gwf = load_groundwater(load_city(args.city))
    model = forecast_model(gwf, recharge_mm_d=np.ones(gwf.shape[1:]), days=args.days)
    load0 = os.getloadavg()
    times: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
    heads = {}
    for _ in range(args.repeat):
        for n in (1, 2):
            t0, c0 = time.perf_counter(), time.process_time()
            heads[n] = simulate(model, threads=n).heads
            times[n].append((time.perf_counter() - t0, time.process_time() - c0))
    load1 = os.getloadavg()
    print(f"embedded solver, {'x'.join(map(str, gwf.shape))} cells, {args.days} daily "
          f"periods; load average (1/5/15 min) {' '.join(f'{x:.2f}' for x in load0)} -> "
          f"{' '.join(f'{x:.2f}' for x in load1)}")
    for n, ts in times.items():
        walls, cpus = [t[0] for t in ts], [t[1] for t in ts]
        print(f"{n} BLAS thread(s): wall median {statistics.median(walls):.2f} s "
              f"({', '.join(f'{w:.2f}' for w in walls)}), CPU median "
              f"{statistics.median(cpus):.2f} s")
    diff = float(np.nanmax(np.abs(np.asarray(heads[1]) - np.asarray(heads[2]))))
    print(f"largest head difference between them: {diff:.2e} m")


if __name__ == "__main__":
    main()
