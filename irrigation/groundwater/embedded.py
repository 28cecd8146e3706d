"""Embedded solver of MODFLOW 6's control-volume finite-difference GWF equations (DIS grid).

Each time step solves F(h) = 0 (:mod:`.assembly`) by Newton-Raphson iterations A dh = F,
A = -dF/dh (NEWTON formulation, Niswonger et al. 2011 as implemented in MF6), or by
Picard iterations with frozen conductances and MF6's drying of convertible cells
(standard formulation). The matrix is factorised (SuperLU) or given an AMG hierarchy
(pyamg) only when the last one stops working (:mod:`.linear`), so most iterations cost one
residual evaluation and one triangular solve; the iteration stops when the largest head
change is below ``hclose``, MF6's ``OUTER_DVCLOSE`` criterion.
"""

from __future__ import annotations

import logging
import time as _time

import numpy as np

from ..errors import ConvergenceError
from .assembly import System, saturation
from .boundaries import Boundary, period_boundaries
from .connections import build_connections
from .linear import (
    AmgSolver,
    DirectSolver,
    LinearMethod,
    blas_threads,
    default_blas_threads,
    resolve_method,
)
from .model import HDRY, HNOFLO, GwfModel
from .result import SolveResult

log = logging.getLogger(__name__)

__all__ = ["LinearMethod", "SolveResult", "saturation", "simulate"]

HCLOSE_MAX = 1e-6
"""Loosest head-change criterion of the embedded solver [m]: a model's OUTER_DVCLOSE is
used when it is tighter."""

CHORD_CONTRACTION = 0.3
"""When an iteration's head change is more than this fraction of the previous one (the
lagged Jacobian no longer contracts fast), the next step is a Newton step on the current
Jacobian: GMRES preconditioned with the older factorisation, or a new factorisation when
GMRES needs more than :data:`~.linear.GMRES_MAX_ITERATIONS` iterations."""


def _chd(boundaries: list[Boundary], shape) -> tuple[np.ndarray, np.ndarray, str]:
    nodes, heads, name = [], [], "chd"
    for b in boundaries:
        if b.kind == "chd":
            nodes.append((b.layer * shape[1] + b.row) * shape[2] + b.col)
            heads.append(b.values["head"])
            name = b.name
    if not nodes:
        return np.zeros(0, int), np.zeros(0), name
    return np.concatenate(nodes), np.concatenate(heads), name


class _Stepper:
    """Nonlinear iterations of one time step, with the linear solver kept across steps
    (and across runs when the caller keeps ``lu``, see :func:`simulate`)."""

    def __init__(self, system: System, method: str, hclose: float, max_iter: int,
                 lu: DirectSolver | None = None):
        self.sys = system
        self.direct = method == "direct"
        self.lu = DirectSolver() if lu is None or not lu.fits(system.top.size) else lu
        self.amg = AmgSolver()
        self.hclose, self.max_iter = hclose, max_iter
        self.model_bottom = np.broadcast_to(system.model.botm[-1:], system.model.shape).ravel()

    def _key(self) -> tuple:
        """What the matrix depends on besides the heads: step length, fixed cells and the
        model's other matrix inputs (:attr:`~.assembly.System.properties`)."""
        return (self.sys.delt, self.sys.fixed_cells, self.sys.properties)

    def _direction(self, h: np.ndarray, f: np.ndarray, renew: bool) -> tuple[np.ndarray, bool]:
        """Step dh of A dh = F; True when A is the current matrix (a Newton or Picard step),
        False for a step with the factorisation of an earlier matrix (a chord step)."""
        key = self._key()
        if self.direct:
            if self.lu.lu is not None and not renew and not self.lu.stale(key):
                return self.lu.solve(f), False
            _, a = self.sys.evaluate(h, jacobian=True)
            # another step length or other fixed cells: the old factorisation may still
            # precondition the new matrix well
            dh = self.lu.solve_preconditioned(a, f) if self.lu.lu is not None else None
            if dh is None:
                self.lu.factor(a, key)
                dh = self.lu.solve(f)
            return dh, True
        _, a = self.sys.evaluate(h, jacobian=True)
        return self.amg.solve(a, f, key), True

    def solve(self, h: np.ndarray, hold: np.ndarray, delt: float | None) -> tuple[np.ndarray, int]:
        sys = self.sys
        sys.begin_step(hold, delt)
        if not sys.newton:
            self._dry(h)
        f, _ = sys.evaluate(h)
        renew, last_change, change = False, np.inf, np.inf
        for it in range(1, self.max_iter + 1):
            dh, fresh = self._direction(h, f, renew)
            step = self._next(h, dh, f)
            if step is None and not fresh:  # a stale matrix gave no descent: renew it
                dh, fresh = self._direction(h, f, True)
                step = self._next(h, dh, f)
            if step is None:
                step = self._fallback(h, dh)
            h_new, f_new = step
            change = float(np.abs(h_new - h)[sys.ibound > 0].max(initial=0.0))
            renew = not fresh and change > CHORD_CONTRACTION * last_change
            last_change = change
            h, f = h_new, f_new
            if not sys.newton and self._dry(h):
                f, _ = sys.evaluate(h)
                renew, last_change = True, np.inf
                continue
            if change <= self.hclose:
                return h, it
        fnorm = float(np.abs(f).max()) if f.size else 0.0
        raise ConvergenceError(
            f"groundwater solve did not converge in {self.max_iter} iterations "
            f"(last max head change {change:.3g} m)",
            last_iterate=h.reshape(sys.model.shape), residual=fnorm)

    def _under_relaxed(self, h: np.ndarray, dh: np.ndarray) -> np.ndarray:
        """h + dh with MF6's NEWTON bottom under-relaxation.

        Notes
        -----
        Convertible cells whose new head falls below the model bottom z_b are set to
        0.1 h + 0.9 z_b (MF6 ``npf_nur``, the NEWTON bottom under-relaxation of Langevin et
        al. 2017; applied here even without the UNDER_RELAXATION option).
        """
        sys = self.sys
        h_new = h + dh
        below = sys.conv & (h_new < self.model_bottom) & (sys.ibound > 0)
        return np.where(below, 0.1 * h + 0.9 * self.model_bottom, h_new)

    def _next(self, h, dh, f):
        """(h, F) after the step, or None when no step length reduces the residual.

        Notes
        -----
        NEWTON: the step is halved up to twice until the residual norm [m3 d-1] does not
        grow, like IMS backtracking (Hughes et al. 2017, TM 6-A57). Standard formulation:
        the full Picard step.
        """
        sys = self.sys
        if not sys.newton:
            h_new = h + dh
            return h_new, sys.evaluate(h_new)[0]
        target = self._under_relaxed(h, dh)
        step = target - h
        f0 = np.linalg.norm(f)
        for alpha in (1.0, 0.5, 0.25):
            trial = h + alpha * step if alpha != 1.0 else target
            f1, _ = sys.evaluate(trial)
            if np.linalg.norm(f1) <= f0:
                return trial, f1
        return None

    def _fallback(self, h, dh):
        """An eighth of the (current-matrix) step when no halving reduced the residual."""
        trial = h + 0.125 * (self._under_relaxed(h, dh) - h)
        return trial, self.sys.evaluate(trial)[0]

    def _dry(self, h: np.ndarray) -> bool:
        """Standard formulation: convertible cells with h <= bottom become dry (ibound 0).

        Notes
        -----
        MF6 ``sgwf_npf_wetdry`` (no REWET): the cell is removed for the rest of the run
        and its head set to HDRY.
        """
        sys = self.sys
        dry = sys.conv & (sys.ibound > 0) & (np.minimum(h, sys.top) - sys.bot <= 0.0)
        if not dry.any():
            return False
        sys.dry_cells(dry)
        h[dry] = HDRY
        return True


def default_hclose(model: GwfModel) -> float:
    """Head-change criterion [m]: the model's IMS OUTER_DVCLOSE, at most :data:`HCLOSE_MAX`."""
    return min(float(model.outer_dvclose), HCLOSE_MAX)


def simulate(model: GwfModel, *, linear: LinearMethod = "auto", hclose: float | None = None,
             max_iter: int | None = None, threads: int | None = None,
             factorisation: DirectSolver | None = None) -> SolveResult:
    """Run every stress period of ``model`` with the embedded solver.

    Parameters
    ----------
    model
        The GWF model.
    linear
        ``"direct"`` (SuperLU), ``"amg"`` (pyamg-preconditioned BiCGSTAB) or ``"auto"``
        (AMG above :data:`~.linear.AMG_THRESHOLD` cells).
    hclose
        Convergence criterion: largest head change of an iteration [m]; default
        :func:`default_hclose`.
    max_iter
        Maximum nonlinear iterations per step (default: max(IMS outer_maximum, 100)).
    threads
        BLAS threads during the solve; default ``$IRRIGATION_BLAS_THREADS`` or 1
        (:func:`~.linear.default_blas_threads`).
    factorisation
        A :class:`~.linear.DirectSolver` the caller keeps across runs of one model (e.g.
        a season's weekly steps, which change the starting heads and the recharge; direct
        method only). A run whose step length, fixed cells and matrix inputs
        (conductances, storage, boundaries but recharge) are those of the kept
        factorisation uses it as it uses an earlier time step's: chord steps while they
        contract, then GMRES preconditioned with it, a new factorisation when GMRES
        stalls; another run starts with the GMRES step. Either way the run stops on the
        same criterion (``hclose`` on the head change), so the heads are not bit for bit
        those of a fresh factorisation. None: the run factorises its own.

    Returns
    -------
    SolveResult
        Heads and budgets of the steps the model's OC saves.

    Raises
    ------
    ConvergenceError
        A step did not converge; carries the last iterate (nlay, nrow, ncol) and the
        largest absolute residual [m3 d-1].
    InputError
        The model has a package or option the embedded solver does not run
        (:attr:`~.model.GwfModel.unsupported`, e.g. HFB6 or NPF XT3D).
    """
    if model.unsupported:
        raise model.unsupported[0].error()
    with blas_threads(default_blas_threads() if threads is None else threads):
        return _simulate(model, linear, default_hclose(model) if hclose is None else hclose,
                         max_iter or max(model.outer_maximum, 100), factorisation)


def _simulate(model: GwfModel, linear: LinearMethod, hclose: float,
              max_iter: int, factorisation: DirectSolver | None = None) -> SolveResult:
    t0 = _time.perf_counter()
    system = System(model, build_connections(model))
    stepper = _Stepper(system, resolve_method(linear, system.top.size), hclose, max_iter,
                       factorisation)
    factorised = stepper.lu.factorisations
    resolved = {p.name: p.resolved(model.nper) for p in model.packages}
    save_head = model.oc.saved("head", model.nstp)
    save_budget = model.oc.saved("budget", model.nstp)
    h = model.strt.ravel().astype(float).copy()
    h[system.ibound == 0] = HNOFLO
    heads, times, kk, budget, iters = [], [], [], [], []
    totim, last_kper = 0.0, -1
    chd_nodes = chd_heads = None
    for i, (kper, kstp, delt) in enumerate(model.time_steps()):
        if kper != last_kper:
            bnds = period_boundaries(model, kper, resolved)
            chd_nodes, chd_heads, chd_name = _chd(bnds, model.shape)
            system.set_period([b for b in bnds if b.kind != "chd"], chd_nodes, chd_name)
            last_kper = kper
        fixed = system.ibound[chd_nodes] < 0
        h[chd_nodes[fixed]] = chd_heads[fixed]
        hold = h.copy()
        dt = None if model.steady[kper] or not model.has_sto else delt
        h, n_it = stepper.solve(h.copy(), hold, dt)
        totim += delt
        iters.append(n_it)
        if save_head[i]:
            out = np.where(system.ibound == 0,
                           np.where(model.idomain.ravel() > 0, HDRY, HNOFLO), h)
            heads.append(out.reshape(model.shape))
            times.append(totim)
            kk.append((kstp, kper))
        if save_budget[i]:
            flows = system.flows(h)
            present = {pkg for _, pkg, _ in flows}
            # a package switched off this period still has its (zero) budget row, as in MF6
            flows += [(p.budget_name, p.name, np.zeros(0)) for p in model.packages
                      if p.name not in present]
            for term, pkg, q in flows:
                budget.append({"time": totim, "kper": kper, "kstp": kstp, "term": term,
                               "package": pkg, "rate_in": float(q[q > 0].sum()),
                               "rate_out": float(-q[q < 0].sum()) + 0.0})
    log.info("embedded solve: %d steps, %d iterations, %d factorisations, %d AMG set-ups, "
             "%.2f s", len(iters), sum(iters), stepper.lu.factorisations - factorised,
             stepper.amg.setups,
             _time.perf_counter() - t0)
    stacked = np.stack(heads) if heads else np.zeros((0, *model.shape))
    return SolveResult(stacked, np.array(times), kk, budget, iters)
