"""What every benchmark shares: the result row, timing, peak memory and machine facts.

Peak memory
-----------
The harness runs each benchmark in a fresh *spawned* interpreter, and a benchmark reads the
peak resident set size of its own process from ``VmHWM`` in ``/proc/self/status``, after
resetting it (``echo 5 > /proc/self/clear_refs``, Linux >= 4.0) just before the measured
call. It is therefore the peak of that call alone, on top of what the process already
holds (interpreter, libraries, inputs): what a process doing this work needs.

``resource.getrusage`` is not used because it is wrong here: ``RUSAGE_CHILDREN`` is the
largest peak of *all* children ever waited for (a later, smaller benchmark reports an
earlier, larger one), and a spawned child's own ``RUSAGE_SELF.ru_maxrss`` starts from its
parent's peak (Linux keeps the pre-``execve`` high-water mark), so a child that uses 30 MB
of a parent holding 800 MB reports 800 MB. ``VmHWM`` belongs to the current process image
and starts afresh at ``execve``.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

SIZES = ("tiny", "default", "large")
"""Benchmark sizes: ``tiny`` (smoke test, seconds), ``default`` (minutes), ``large``."""

RATIO = "speed-up vs peer = peer wall time / our wall time (> 1: ours is faster)"
"""Definition of :attr:`Result.ratio`, written beside every table."""


@dataclass
class Result:
    """One measurement: our code on one problem, and its peer on the same problem.

    Attributes
    ----------
    name
        What was measured, e.g. ``"soil balance: water_balance"``.
    params
        Size and parameters of the problem, human-readable.
    wall_s
        Our wall time [s] (best of the repeats when repeated).
    peak_rss_mb
        Peak resident memory of the benchmark process during our call [MB] (see module).
    throughput, throughput_unit
        Work per second of our code, and its unit (e.g. ``"site-member-days/s"``).
    peer, peer_wall_s
        The peer implementation and its wall time [s] for the same work (``None``: no peer
        or not available; the reason is in ``peer``).
    ratio
        ``peer_wall_s / wall_s`` (:data:`RATIO`).
    target, met
        The target an issue names, and whether the measurement meets it.
    notes
        Anything needed to read the row (sampling, agreement, costs).
    skipped
        Reason when the benchmark did not run; then the numbers are ``None``.
    extra
        Machine-readable details (only in the JSON).
    """

    name: str
    params: str = ""
    wall_s: float | None = None
    peak_rss_mb: float | None = None
    throughput: float | None = None
    throughput_unit: str = ""
    peer: str | None = None
    peer_wall_s: float | None = None
    ratio: float | None = None
    target: str | None = None
    met: bool | None = None
    notes: str = ""
    skipped: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.ratio is None and self.peer_wall_s and self.wall_s:
            self.ratio = self.peer_wall_s / self.wall_s

    def to_json(self) -> dict[str, Any]:
        """Plain dict with NaN/inf as ``None`` (JSON has no NaN)."""
        return {k: _finite_or_none(v) for k, v in asdict(self).items()}


def _finite_or_none(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _finite_or_none(x) for k, x in v.items()}
    return v


def check_size(size: str) -> str:
    if size not in SIZES:
        raise ValueError(f"expected size in {SIZES}, got {size!r}")
    return size


# --------------------------------------------------------------------------- measuring


def _status_mb(key: str) -> float | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024.0  # kB
    except OSError:
        pass
    return None


def reset_peak_rss() -> bool:
    """Reset this process's peak RSS to its current RSS; False when the kernel refuses."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_mb() -> float | None:
    """Peak resident set size of this process since start or the last reset [MB]."""
    return _status_mb("VmHWM")


@dataclass
class Timing:
    """Best wall and CPU time of ``repeat`` calls [s], peak RSS over them [MB], last value.

    CPU time (of the whole process) is less disturbed than wall time by other programs
    competing for the cores, so it helps to read small differences on a loaded machine.
    """

    wall_s: float
    cpu_s: float
    peak_rss_mb: float | None
    value: Any


def measure(fn: Callable[[], Any], repeat: int = 1) -> Timing:
    """Call ``fn`` ``repeat`` times; best wall and CPU time and the peak RSS during the calls."""
    reset_peak_rss()
    wall = cpu = math.inf
    value = None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        value = fn()
        wall = min(wall, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return Timing(wall, cpu, peak_rss_mb(), value)


# --------------------------------------------------------------------------- machine


THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
               "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")
"""Set to 1 for the benchmark processes: on a shared 2-core machine threaded BLAS in the
groundwater solver's Krylov dot products oversubscribes the cores and is > 10x slower
(see ``groundwater_newton.py``); every figure is then per core."""


def single_thread_env() -> None:
    """Set :data:`THREAD_VARS` to 1 in ``os.environ`` (inherited by spawned children)."""
    for var in THREAD_VARS:
        os.environ[var] = "1"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or "unknown"


def _ram_gb() -> float | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("irrigation", "numpy", "scipy", "pandas", "xarray", "pyvrp", "pyet",
                "pyfao56", "pyamg", "flopy"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def machine_facts() -> dict[str, Any]:
    """CPU, RAM, load, Python and library versions, thread settings, git commit."""
    import platform
    import subprocess
    import sys

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True, cwd=os.path.dirname(__file__)
                                ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "ram_gb": _ram_gb(),
        "load_avg_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "versions": _versions(),
        "threads": {v: os.environ.get(v) for v in THREAD_VARS},
        "git_commit": commit,
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
    }
