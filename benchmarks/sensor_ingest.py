"""Benchmark: reading a season's sensor readings every morning, in full or through the store.

Run: ``python benchmarks/sensor_ingest.py [--city DIR] [--repeat 3]`` (default: the large
city, ``benchmarks/results/large-city``, made by ``daily_run.py --large``).

Three measurements on the city's ``sensor_data``, each in its own fresh spawned process
(its wall time and peak RSS, ``VmHWM`` reset before the call), interleaved ``repeat``
times; medians are reported with the load average before and after:

* ``full``: :func:`irrigation.io.sensors.read_sensor_data` of the whole file, as the daily
  run did every morning before the store;
* ``first``: the first read through an empty store (the season's first run: parsed in
  chunks of :data:`irrigation.io.sensorstore.CHUNK_BYTES`, then stored);
* ``morning``: a read through the store after a day of readings (1/92 of the rows) was
  appended to the file, as every later morning.

It also checks that ``morning`` gives the readings and problems of ``full`` (the same
file).
"""

from __future__ import annotations

import argparse
import gzip
import multiprocessing as mp
import os
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

try:
    from .common import peak_rss_mb, reset_peak_rss
except ImportError:  # run as a script
    from common import peak_rss_mb, reset_peak_rss

LARGE_CITY = Path(__file__).resolve().parent / "results" / "large-city"


def _read(kind: str, city_dir: str, data: str, store: str | None) -> dict:
    """One read in this (fresh) process: wall time, peak RSS, a digest of the result."""
    import hashlib

    from irrigation.io.city import load_city
    from irrigation.io.observations import known_channels
    from irrigation.io.sensors import read_sensor_data

    known = known_channels(load_city(Path(city_dir)))
    reset_peak_rss()
    t0 = time.perf_counter()
    ds, problems = read_sensor_data(data, known=known, store=store)
    wall = time.perf_counter() - t0
    digest = hashlib.sha256(ds["value"].values.tobytes() + repr(
        [(p.line, p.reason) for p in problems]).encode()).hexdigest()[:16]
    return {"kind": kind, "wall_s": wall, "peak_rss_mb": peak_rss_mb(),
            "rows": int(ds.attrs["n_rows_read"]), "digest": digest}


def _fresh(*args) -> dict:
    with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
        return pool.submit(_read, *args).result()


def _split(src: Path, tmp: Path) -> tuple[Path, bytes]:
    """The readings file without its last 1/92 of lines (written to ``tmp``), and those."""
    raw = src.read_bytes()
    data = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    cut = data.rfind(b"\n", 0, len(data) - len(data) // 92) + 1
    head = tmp / "readings.csv"
    head.write_bytes(data[:cut])
    return head, data[cut:]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--city", type=Path, default=LARGE_CITY)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from irrigation.io.city import load_city

    src = Path(load_city(args.city).config.sensor_data)
    files = sorted(src.glob("*.csv*")) if src.is_dir() else [src]
    assert len(files) == 1, "one readings file expected"
    load0 = os.getloadavg()
    runs: dict[str, list[dict]] = {"full": [], "first": [], "morning": []}
    with tempfile.TemporaryDirectory(prefix="bench_ingest_") as tmp:
        tmp = Path(tmp)
        for _ in range(args.repeat):
            head, day = _split(files[0], tmp)
            store = tmp / "store"
            for p in store.glob("*"):
                p.unlink()
            runs["first"].append(_fresh("first", str(args.city), str(head), str(store)))
            with head.open("ab") as f:
                f.write(day)
            runs["morning"].append(_fresh("morning", str(args.city), str(head), str(store)))
            runs["full"].append(_fresh("full", str(args.city), str(head), None))
    load1 = os.getloadavg()
    print(f"sensor readings {files[0].name}: {runs['full'][0]['rows']:,} rows; "
          f"load average {load0[0]:.2f} -> {load1[0]:.2f} (1 min)")
    print(f"{'read':>8s} {'wall [s] median (all)':>28s} {'peak [MB] max':>14s}  digest")
    for kind, rs in runs.items():
        walls = [r["wall_s"] for r in rs]
        print(f"{kind:>8s} {statistics.median(walls):8.2f} "
              f"({', '.join(f'{w:.2f}' for w in walls):>17s}) "
              f"{max(r['peak_rss_mb'] or 0 for r in rs):14.0f}  {rs[0]['digest']}")
    same = len({r["digest"] for k in ("full", "morning") for r in runs[k]}) == 1
    print("the morning's read through the store gives the full read's readings and "
          "problems:", same)


if __name__ == "__main__":
    main()
