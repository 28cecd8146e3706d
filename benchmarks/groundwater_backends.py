"""Benchmark: the embedded solver against the real mf6 on the same MF6 folders (issue 22).

Usage::

    python benchmarks/groundwater_backends.py [--size tiny|default|large] [--repeat 3]
    python -m benchmarks --only gw_backends [--size ...]

Models: reference case c (Theis, 10,201 cells, 12 steps), case d (2-layer NEWTON city,
9,600 cells, 30 steps), "e" (the 3-layer demo-like city: the demo generator with
``CitySize(gw_nlay=3)``, 11,250 cells, 15 periods), the demo city (2 x 50 x 75, 15
periods) and, at ``large``, the large city's 3 x 300 x 300 model (15 periods).

Two rows per model, each the median of ``repeat`` runs with the backends *interleaved*
(embedded, mf6, embedded, mf6, ...), the load average before and after in the notes:

* whole command: ``irrigation groundwater solve SIM --backend B --out heads.nc`` in a
  fresh interpreter (load, solve, NetCDF and budget CSV written);
* solve alone: :func:`irrigation.groundwater.embedded.simulate` on the loaded model
  against the mf6 executable alone on a copy of the folder.

``ratio`` of the harness is mf6 time / embedded time (> 1: the embedded solver is faster);
the notes also give embedded / mf6, the issue's measure (target <= 1).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

try:
    from .common import Result, check_size, peak_rss_mb, reset_peak_rss
except ImportError:  # run as a script
    from common import Result, check_size, peak_rss_mb, reset_peak_rss

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "data" / "mf6"
DEMO = ROOT / "models" / "demo-city"
E_CITY = Path(__file__).resolve().parent / "results" / "e-city"
SHARED_MF6 = ROOT.parent / "shared" / "bin" / "mf6"

MODELS = {"tiny": ("c",), "default": ("c", "d", "e", "demo"),
          "large": ("c", "d", "e", "demo", "3x300x300")}


def mf6_exe() -> str | None:
    """The real mf6: ``$MF6_EXE``, PATH, then ``../shared/bin/mf6`` beside the checkout."""
    for cand in (os.environ.get("MF6_EXE"), shutil.which("mf6"), SHARED_MF6):
        if cand and Path(cand).is_file() and os.access(cand, os.X_OK):
            return str(cand)
    return None


def _case(name: str, dest: Path) -> Path:
    """A reference case decompressed into ``dest``."""
    sys.path.insert(0, str(ROOT / "tests"))
    from groundwater.conftest import copy_case

    return copy_case(name, dest)


def e_city() -> Path:
    """Groundwater folder of the 3-layer demo-like city (generated once, cached)."""
    from irrigation.demo import KNMI_SOURCE, CitySize, generate_city

    stamp = E_CITY / "GENERATED"
    size = CitySize(gw_nlay=3)
    want = f"{size!r} seed=2018\n"
    if not (stamp.is_file() and stamp.read_text() == want):
        generate_city(E_CITY, size=size, seed=2018, knmi_file=DEMO / KNMI_SOURCE)
        stamp.write_text(want)
    return E_CITY / "groundwater"


def model_folder(name: str, work: Path) -> Path:
    """The simulation folder of benchmark model ``name``."""
    if name == "c":
        return _case("c_transient_confined_theis_wel", work / "c")
    if name == "d":
        return _case("d_city_transient_newton", work / "d")
    if name == "e":
        return e_city()
    if name == "demo":
        return DEMO / "groundwater"
    try:
        from .daily_run import large_city
    except ImportError:
        from daily_run import large_city
    return large_city()[0] / "groundwater"


def _child(args: list[str], env: dict, cwd: Path | None = None
           ) -> tuple[float, float, float]:
    """Wall and CPU time [s] and peak RSS [MB] of one child process (its own rusage, via
    wait4)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if status != 0:
        raise RuntimeError(f"{args[:4]} failed ({status}): {err[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0


def whole_command(sim: Path, backend: str, exe: str, out: Path
                  ) -> tuple[float, float, float]:
    """``irrigation groundwater solve`` in a fresh interpreter."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MF6_EXE": exe}
    code = "import sys; from irrigation.cli import main; sys.exit(main(sys.argv[1:]))"
    return _child([sys.executable, "-c", code, "groundwater", "solve", str(sim), "--backend",
                   backend, "--out", str(out / f"{backend}.nc")], env)


def solve_alone(sim: Path, model, backend: str, exe: str, work: Path
                ) -> tuple[float, float, float]:
    """The embedded solver on the loaded model, or the mf6 executable alone."""
    if backend == "embedded":
        from irrigation.groundwater.embedded import simulate

        reset_peak_rss()
        t0, c0 = time.perf_counter(), time.process_time()
        simulate(model)
        return time.perf_counter() - t0, time.process_time() - c0, peak_rss_mb() or 0.0
    from irrigation.groundwater.mf6 import copy_inputs
    from irrigation.groundwater.mf6files import read_simulation_files

    run = Path(tempfile.mkdtemp(dir=work))
    copy_inputs(sim, run, read_simulation_files(sim))
    try:
        return _child([exe], dict(os.environ), cwd=run)
    finally:
        shutil.rmtree(run, ignore_errors=True)


def measure_model(name: str, exe: str, repeat: int, work: Path) -> list[Result]:
    """Two rows (whole command, solve alone) for one model."""
    from irrigation.groundwater.load import load_simulation

    sim = model_folder(name, work)
    model = load_simulation(sim)
    cells = model.nlay * model.nrow * model.ncol
    params = f"{name}: {model.nlay} x {model.nrow} x {model.ncol} ({cells:,} cells), " \
             f"{len(model.time_steps())} steps"
    rows = []
    for what, fn in (("whole command", lambda b: whole_command(sim, b, exe, work)),
                     ("solve alone", lambda b: solve_alone(sim, model, b, exe, work))):
        load0 = os.getloadavg()
        times: dict[str, list[tuple[float, float, float]]] = {"embedded": [], "mf6": []}
        for _ in range(repeat):
            for backend in ("embedded", "mf6"):  # interleaved
                times[backend].append(fn(backend))
        load1 = os.getloadavg()
        med = {b: (statistics.median(w for w, _, _ in t), statistics.median(c for _, c, _ in t))
               for b, t in times.items()}
        rss = max(r for _, _, r in times["embedded"])
        (ew, ec), (mw, mc) = med["embedded"], med["mf6"]
        rows.append(Result(
            f"groundwater backends: {what}", params, wall_s=ew, peak_rss_mb=rss,
            throughput=cells / ew,
            throughput_unit="cells/s", peer=f"mf6 ({exe})", peer_wall_s=mw,
            target="embedded / mf6 <= 1 (issue 22)", met=ew <= mw,
            notes=(f"median of {repeat}, interleaved; embedded/mf6 wall {ew / mw:.2f}, CPU "
                   f"{ec:.2f} / {mc:.2f} s = {ec / mc:.2f}; load {load0[0]:.2f} -> "
                   f"{load1[0]:.2f}"),
            extra={"model": name, "cells": cells, "embedded": times["embedded"],
                   "mf6": times["mf6"], "load_before": load0, "load_after": load1}))
    return rows


def run(size: str = "default", repeat: int | None = None) -> list[Result]:
    """Rows for every model of ``size`` (skipped rows when there is no mf6)."""
    exe = mf6_exe()
    names = MODELS[check_size(size)]
    if exe is None:
        return [Result(f"groundwater backends: {w}", n, skipped="no mf6 (PATH, $MF6_EXE, "
                       "../shared/bin/mf6)") for n in names for w in
                ("whole command", "solve alone")]
    repeat = repeat or (1 if size == "tiny" else 3)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_gw_") as tmp:
        for name in names:
            rows += measure_model(name, exe, repeat, Path(tmp))
    return rows


def main(argv: list[str]) -> None:
    import argparse

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", default="default", choices=list(MODELS))
    p.add_argument("--repeat", type=int, default=None)
    args = p.parse_args(argv)
    for r in run(args.size, args.repeat):
        if r.skipped:
            print(f"{r.name} | {r.params} | SKIPPED {r.skipped}")
        else:
            print(f"{r.name} | {r.params} | embedded {r.wall_s:.2f} s | mf6 "
                  f"{r.peer_wall_s:.2f} s | {r.notes}")


if __name__ == "__main__":
    main(sys.argv[1:])
