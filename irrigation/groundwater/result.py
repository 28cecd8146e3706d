"""What a backend returns: heads, times and budgets of the saved time steps."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class SolveResult:
    """Heads and budgets of a run, at the time steps its output control saves.

    Attributes
    ----------
    heads
        (ntimes, nlay, nrow, ncol) [m]; HNOFLO (1e30) inactive, HDRY (-1e30) dry cells.
    times
        Simulated time at the end of every saved step [d].
    kstpkper
        (kstp, kper) of every saved step, 0-based.
    budget
        One dict per saved step and term: ``time``, ``kper``, ``kstp``, ``term`` (MF6
        budget text), ``package`` (package name), ``rate_in``, ``rate_out`` [m3 d-1].
    iterations
        Nonlinear iterations per step (embedded backend; empty for mf6).
    """

    heads: np.ndarray
    times: np.ndarray
    kstpkper: list[tuple[int, int]]
    budget: list[dict] = field(default_factory=list)
    iterations: list[int] = field(default_factory=list)
