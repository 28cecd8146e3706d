"""Linear solvers of the embedded groundwater solver, and the BLAS thread limit.

Two solvers behind one small interface; both keep their expensive part across Newton
iterations and time steps and renew it only when it stops working:

* :class:`DirectSolver` — a SuperLU factorisation (minimum-degree ordering on A + A^T)
  used for every iteration until the iterations stop contracting (a lagged Jacobian:
  the "chord" or Shamanskii variant of Newton's method, Kelley 2003, *Solving Nonlinear
  Equations with Newton's Method*, SIAM, ch. 2.3 and 5.4); then, before a new
  factorisation, GMRES on the current Jacobian preconditioned by the old one (Saad 2003,
  *Iterative Methods for Sparse Linear Systems*, ch. 6.5 and 9.3). For a linear model
  (confined, linear boundaries) one factorisation serves the whole run.
* :class:`AmgSolver` — BiCGSTAB preconditioned by a smoothed-aggregation AMG hierarchy
  (pyamg) built once and rebuilt only after BiCGSTAB needed more than
  :data:`AMG_REBUILD_ITERATIONS` iterations (the matrix of a groundwater model changes
  slowly between iterations and days).

The sparse kernels are single-threaded, and threaded BLAS in the Krylov dot products only
adds overhead on small vectors: by default the solve runs under one BLAS thread
(:func:`blas_threads`, threadpoolctl).
"""

from __future__ import annotations

import contextlib
import os
from typing import Literal

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

LinearMethod = Literal["auto", "direct", "amg"]

AMG_THRESHOLD = 40_000
"""Above this many cells ``"auto"`` uses AMG-preconditioned BiCGSTAB instead of SuperLU."""

LINEAR_RTOL = 1e-3
"""Relative residual at which BiCGSTAB stops in a Newton iteration. An inexact Newton step
(Dembo, Eisenstat & Steihaug 1982, SIAM J. Numer. Anal. 19, 400-408) only has to reduce the
residual; the outer iterations still run to ``hclose``. On the large city's model (3 x 300
x 300, 15 periods) 1e-3 instead of 1e-6 changes the heads by 3e-10 m and saves a quarter
of the time."""

GMRES_MAX_ITERATIONS = 8
"""GMRES iterations with an older factorisation as preconditioner before it is renewed."""

GMRES_RTOL = 1e-6
"""Relative residual of those GMRES solves (1e-3 let case d's heads end 1.5e-6 m from the
converged ones, more than the head criterion; 1e-6: 5e-7 m at the same cost)."""

AMG_REBUILD_ITERATIONS = 10
"""BiCGSTAB iterations above which the AMG hierarchy is rebuilt from the current matrix
before the next solve."""

BLAS_THREADS_ENV = "IRRIGATION_BLAS_THREADS"
"""Environment variable with the default number of BLAS threads of the embedded solver."""


def default_blas_threads() -> int:
    """BLAS threads for the embedded solver: ``$IRRIGATION_BLAS_THREADS``, else 1."""
    try:
        return max(1, int(os.environ.get(BLAS_THREADS_ENV, "1")))
    except ValueError:
        return 1


def blas_threads(n: int | None):
    """Context manager limiting BLAS/OpenMP to ``n`` threads (``None``: leave as is)."""
    if n is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=n)


def resolve_method(method: LinearMethod, ncell: int) -> Literal["direct", "amg"]:
    """The method ``"auto"`` stands for at ``ncell`` cells."""
    if method == "auto":
        return "amg" if ncell > AMG_THRESHOLD else "direct"
    if method not in ("direct", "amg"):
        raise ValueError(f"Expected linear method auto, direct or amg, got {method!r}.")
    return method


class DirectSolver:
    """A SuperLU factorisation kept for as long as the caller uses it.

    ``key`` identifies what the factorised matrix depends on beyond the heads (time-step
    length, constant-head and dry cells, the model's conductances, storage and boundaries);
    a different key forces a new factorisation, or a step preconditioned with this one.
    """

    def __init__(self) -> None:
        self.lu = None
        self.key: object = None
        self.factorisations = 0
        self.krylov_iterations = 0

    def fits(self, n: int) -> bool:
        """True when there is no factorisation or it is of an ``n`` x ``n`` matrix."""
        return self.lu is None or self.lu.shape == (n, n)

    def stale(self, key: object) -> bool:
        """True when there is no factorisation for ``key``."""
        return self.lu is None or key != self.key

    def factor(self, a: sp.csr_matrix, key: object) -> None:
        """Factorise ``a`` (minimum degree on A^T + A: the pattern is symmetric)."""
        self.lu = spla.splu(a.tocsc(), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.1,
                            options={"SymmetricMode": True})
        self.key = key
        self.factorisations += 1

    def solve(self, b: np.ndarray) -> np.ndarray:
        """x of (the factorised matrix) x = b."""
        return self.lu.solve(b)

    def solve_preconditioned(self, a: sp.csr_matrix, b: np.ndarray,
                             rtol: float = GMRES_RTOL) -> np.ndarray | None:
        """x of ``a`` x = b by GMRES preconditioned with the (older) factorisation, or None
        when GMRES needs more than :data:`GMRES_MAX_ITERATIONS` iterations (then the
        factorisation is too far from ``a``: renew it)."""
        m = spla.LinearOperator(a.shape, matvec=self.lu.solve, dtype=float)
        count = [0]

        def tick(_r) -> None:
            count[0] += 1

        x, info = spla.gmres(a, b, x0=self.lu.solve(b), rtol=rtol, atol=0.0,
                             restart=GMRES_MAX_ITERATIONS, maxiter=1, M=m, callback=tick,
                             callback_type="pr_norm")
        self.krylov_iterations += count[0]
        return x if info == 0 else None


class AmgSolver:
    """BiCGSTAB with a reused smoothed-aggregation AMG preconditioner.

    The hierarchy (symmetric Gauss-Seidel split into a forward pre- and a backward
    post-smoothing sweep) is rebuilt from the current matrix when ``key`` changed, when
    the previous solve needed more than :data:`AMG_REBUILD_ITERATIONS` iterations (the
    matrix has moved away from the one the hierarchy was built for: a fresh one pays
    for its set-up within that solve), or when BiCGSTAB fails.
    """

    def __init__(self) -> None:
        self.ml = None
        self.key: object = None
        self.setups = 0
        self.iterations = 0
        self._last = 0

    def solve(self, a: sp.csr_matrix, b: np.ndarray, key: object,
              rtol: float = LINEAR_RTOL) -> np.ndarray:
        """x of a x = b to the relative residual ``rtol``."""
        if self.ml is None or key != self.key or self._last > AMG_REBUILD_ITERATIONS:
            self._setup(a, key)
        x, its, ok = self._bicgstab(a, b, rtol)
        if not ok:
            self._setup(a, key)
            x, more, ok = self._bicgstab(a, b, rtol, x0=x)
            its += more
        self._last = its
        self.iterations += its
        return x

    def _setup(self, a: sp.csr_matrix, key: object) -> None:
        import pyamg

        self.ml = pyamg.smoothed_aggregation_solver(
            a, max_coarse=500, presmoother=("gauss_seidel", {"sweep": "forward"}),
            postsmoother=("gauss_seidel", {"sweep": "backward"}))
        for level in self.ml.levels:  # 1 x 1 BSR blocks: CSR kernels are ~1.6x faster
            for name in ("A", "P", "R"):
                if hasattr(level, name):
                    setattr(level, name, getattr(level, name).tocsr())
        self.key = key
        self.setups += 1
        self._last = 0

    def _bicgstab(self, a, b, rtol: float, x0=None) -> tuple[np.ndarray, int, bool]:
        count = [0]

        def tick(_x) -> None:
            count[0] += 1

        atol = 1e-14 * max(1.0, float(np.abs(b).max(initial=0.0)))
        x, info = spla.bicgstab(a, b, x0=x0, rtol=rtol, atol=atol,
                                maxiter=4 * AMG_REBUILD_ITERATIONS,
                                M=self.ml.aspreconditioner(), callback=tick)
        return x, count[0], info == 0
