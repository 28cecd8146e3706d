"""Benchmark hook (placeholder): the full daily run at demo size and at the large city.

Issue 10 asks for the daily run (``irrigation run``, issue 7) at demo size and at a
generated large city (30,000 watered sites among 150,000, 20 trucks, 60 hydrants,
50 members, 14-day horizon, groundwater 300 x 300 x 3; target <= 10 min wall, <= 8 GB).
Until ``irrigation.pipeline.run_day`` exists this reports SKIPPED with the reason; it
never reports numbers it did not measure.
"""

from __future__ import annotations

try:
    from .common import Result, check_size
except ImportError:  # run as a script
    from common import Result, check_size

NAME = "daily run (irrigation run)"
TARGET = "large city: <= 600 s wall, <= 8 GB peak"


def run(size: str = "default") -> list[Result]:
    """SKIPPED until the daily run exists (see module docstring)."""
    check_size(size)
    try:
        from irrigation.pipeline import run_day  # noqa: F401  (issue 7)
    except ImportError:
        return [Result(NAME, target=TARGET, skipped="needs `irrigation run` (issue 7)")]
    # TODO(issue 10): generate the demo/large city and time run_day here.
    return [Result(NAME, target=TARGET,
                   skipped="irrigation.pipeline.run_day exists but this hook is not wired yet")]


if __name__ == "__main__":
    for r in run():
        print(f"{r.name}: SKIPPED ({r.skipped})")
