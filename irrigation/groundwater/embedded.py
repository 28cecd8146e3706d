"""Embedded solver of MODFLOW 6's control-volume finite-difference GWF equations (DIS grid).

For every active, non-constant-head cell n the residual

    F_n(h) = sum_m Q_nm(h) + Q_sto,n(h) + sum_b q_b,n(h) = 0        [m3 d-1]

(flows into the cell positive; Langevin et al. 2017, eq. 2-1 and ch. 4-8) is solved each
time step by Newton-Raphson iterations J dh = -F (NEWTON formulation, Niswonger et al. 2011
as implemented in MF6) or by Picard iterations with frozen conductances and MF6's drying of
convertible cells (standard formulation). Linear systems are solved with SuperLU for small
models and with pyamg-preconditioned BiCGSTAB for large ones (the AMG hierarchy is reused
for all iterations of a time step).
"""

from __future__ import annotations

import logging
import time as _time
from typing import Literal

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..errors import ConvergenceError
from .boundaries import Boundary, boundary_flow, locate, period_boundaries
from .connections import Connections, build_connections, harmonic_conductance
from .model import HDRY, HNOFLO, GwfModel
from .result import SolveResult

log = logging.getLogger(__name__)

LinearMethod = Literal["auto", "direct", "amg"]
#: Above this many cells "auto" uses AMG-preconditioned BiCGSTAB instead of SuperLU.
AMG_THRESHOLD = 40_000

#: Relative residual at which BiCGSTAB stops in a Newton iteration. An inexact Newton step
#: (Dembo, Eisenstat & Steihaug 1982, SIAM J. Numer. Anal. 19, 400-408) only has to reduce
#: the residual; the outer iterations still run to ``hclose``, so the heads do not change
#: (3e-14 m on the large city's 14-day forecast, where 1e-11 cost 1.5x the time).
LINEAR_RTOL = 1e-6


def saturation(h: np.ndarray, top: np.ndarray, bot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Saturated fraction of a cell and its derivative [m-1].

    Notes
    -----
    s = (h - bot)/(top - bot) clipped to [0, 1]: MF6 ``sQuadraticSaturation`` with the
    default smoothing interval ``satomega = 0`` (Langevin et al. 2017, eq. 4-31; Panday et
    al. 2013 for the quadratic form).
    """
    thk = top - bot
    s = np.clip((h - bot) / thk, 0.0, 1.0)
    ds = np.where((h > bot) & (h < top), 1.0 / thk, 0.0)
    return s, ds


class _Pattern:
    """Fixed CSR pattern (diagonal + both directions of every connection) and positions."""

    def __init__(self, ncell: int, conn: Connections):
        nc = len(conn.n)
        rows = np.concatenate([conn.n, conn.m, np.arange(ncell)])
        cols = np.concatenate([conn.m, conn.n, np.arange(ncell)])
        a = sp.csr_matrix((np.arange(1, len(rows) + 1, dtype=float), (rows, cols)),
                          shape=(ncell, ncell))
        a.sort_indices()
        pos = np.empty(len(rows), dtype=np.int64)
        pos[a.data.astype(np.int64) - 1] = np.arange(a.nnz)
        self.matrix = a
        self.p_nm, self.p_mn, self.p_diag = pos[:nc], pos[nc:2 * nc], pos[2 * nc:]
        self.row_of = np.repeat(np.arange(ncell), np.diff(a.indptr))
        self.col_of = a.indices

    def build(self, jnm, jmn, diag, free: np.ndarray) -> sp.csr_matrix:
        """-J as CSR with identity rows/columns for fixed (non-free) cells."""
        data = np.zeros(self.matrix.nnz)
        data[self.p_nm] = -jnm
        data[self.p_mn] = -jmn
        data[self.p_diag] = np.where(free, -diag, 1.0)
        keep = free[self.row_of] & free[self.col_of]
        data = np.where(keep | (self.row_of == self.col_of), data, 0.0)
        a = self.matrix.copy()
        a.data = data
        return a


class _LinearSolver:
    """SuperLU or AMG-preconditioned BiCGSTAB; the AMG hierarchy is reused per time step."""

    def __init__(self, method: LinearMethod, ncell: int):
        if method == "auto":
            method = "amg" if ncell > AMG_THRESHOLD else "direct"
        self.method = method
        self._ml = None

    def new_step(self) -> None:
        self._ml = None

    def solve(self, a: sp.csr_matrix, b: np.ndarray) -> np.ndarray:
        if self.method == "direct":
            return spla.splu(a.tocsc()).solve(b)
        import pyamg

        if self._ml is None:
            self._ml = pyamg.smoothed_aggregation_solver(a, max_coarse=500)
        x, info = spla.bicgstab(a, b, rtol=LINEAR_RTOL,
                                atol=1e-14 * max(1.0, np.abs(b).max()),
                                maxiter=500, M=self._ml.aspreconditioner())
        if info != 0:  # stale hierarchy: rebuild once and retry
            self._ml = pyamg.smoothed_aggregation_solver(a, max_coarse=500)
            x, info = spla.bicgstab(a, b, x0=x, rtol=LINEAR_RTOL, maxiter=1000,
                                    M=self._ml.aspreconditioner())
        return x


class _System:
    """Residual and Jacobian of one model; state that changes per step lives in attributes."""

    def __init__(self, model: GwfModel, conn: Connections):
        self.model = model
        self.conn = conn
        self.top = model.cell_top.ravel()
        self.bot = model.botm.ravel()
        self.thk = self.top - self.bot
        self.area = np.broadcast_to(model.area[None], model.shape).ravel().copy()
        self.conv = (model.icelltype > 0).ravel()
        self.sto_conv = (model.iconvert > 0).ravel()
        self.newton = model.newton
        if model.storagecoefficient:
            self.sc1 = model.ss.ravel() * self.area
        else:
            self.sc1 = model.ss.ravel() * self.thk * self.area
        self.sc2 = model.sy.ravel() * self.area
        self.both_confined = ~self.conv[conn.n] & ~self.conv[conn.m]
        self.hconv = ~conn.vertical & ~self.both_confined
        self.ibound = np.where(model.idomain.ravel() > 0, 1, 0)
        self.pattern = _Pattern(self.top.size, conn)
        self.boundaries: list[Boundary] = []
        self.nodes: list[np.ndarray] = []

    # ------------------------------------------------------------------ stresses
    def set_period(self, boundaries: list[Boundary], chd_nodes, chd_name: str) -> None:
        """Constant heads (ibound -1) and the boundary list of a stress period."""
        self.ibound[self.ibound < 0] = 1
        self.ibound[chd_nodes] = np.where(self.ibound[chd_nodes] != 0, -1, 0)
        self.chd_nodes, self.chd_name = chd_nodes, chd_name
        self.boundaries = boundaries
        self.locate()

    def locate(self) -> None:
        ib = self.ibound.reshape(self.model.shape)
        self.nodes = [locate(b, ib) for b in self.boundaries]

    # ------------------------------------------------------------------ conductance
    def conductance(self, h: np.ndarray):
        """Conductance of every connection and its derivatives wrt h_n and h_m.

        Notes
        -----
        Standard formulation: harmonic mean of K s b (MF6 ``hcond``); NEWTON: saturated
        conductance times the saturated fraction of the upstream cell (MF6 ``hcond`` with
        upstream weighting; Niswonger et al. 2011, eq. 7). Vertical: saturated conductance
        (no VARIABLECV). Zero to inactive or dry cells.
        """
        c = self.conn
        cond = c.condsat.copy()
        dcn = np.zeros_like(cond)
        dcm = np.zeros_like(cond)
        hn, hm = h[c.n], h[c.m]
        s, ds = saturation(h, self.top, self.bot)
        s = np.where(self.conv, s, 1.0)
        ds = np.where(self.conv, ds, 0.0)
        hc = self.hconv
        if self.newton:
            up_n = hn > hm
            s_up = np.where(up_n, s[c.n], s[c.m])
            cond = np.where(hc, c.condsat * s_up, cond)
            dcn = np.where(hc & up_n, c.condsat * ds[c.n], 0.0)
            dcm = np.where(hc & ~up_n, c.condsat * ds[c.m], 0.0)
        else:
            thn = s[c.n] * self.thk[c.n]
            thm = s[c.m] * self.thk[c.m]
            cstd = harmonic_conductance(c.kn, c.km, thn, thm, c.cln, c.clm, c.width)
            cond = np.where(hc, cstd, cond)
        off = (self.ibound[c.n] == 0) | (self.ibound[c.m] == 0)
        return np.where(off, 0.0, cond), dcn, dcm

    # ------------------------------------------------------------------ storage
    def storage(self, h, hold, delt: float | None):
        """Storage flow into the aquifer [m3 d-1] (SS, SY) and derivatives.

        Notes
        -----
        MF6 STO (Langevin et al. 2017, eq. 5-8 to 5-13; ``SsTerms``/``SyTerms``):
        confined Q_ss = SC1/dt (h_old - h); convertible
        Q_ss = SC1/dt [s_o (h_o - z_o) - s (h - z)], z = bot + s b/2;
        Q_sy = SC2 b/dt (s_o - s). Steady-state periods (``delt is None``) have no storage.
        """
        zero = np.zeros_like(h)
        if delt is None:
            return zero, zero, zero, zero, zero
        rho1, rho2 = self.sc1 / delt, self.sc2 / delt
        s, ds = saturation(h, self.top, self.bot)
        so, _ = saturation(hold, self.top, self.bot)
        cv = self.sto_conv
        zo = self.bot + 0.5 * self.thk * so
        zn = self.bot + 0.5 * self.thk * s
        qss_c = rho1 * (so * (hold - zo) - s * (h - zn))
        dss_c = -rho1 * (ds * (h - zn) + s * (1.0 - 0.5 * self.thk * ds))
        pss_c = -rho1 * s
        qss = np.where(cv, qss_c, rho1 * (hold - h))
        dss = np.where(cv, dss_c, -rho1)
        pss = np.where(cv, pss_c, -rho1)
        qsy = np.where(cv, rho2 * self.thk * (so - s), 0.0)
        dsy = np.where(cv, -rho2 * self.thk * ds, 0.0)
        act = self.ibound > 0
        return (np.where(act, qss, 0.0), np.where(act, qsy, 0.0),
                np.where(act, dss, 0.0), np.where(act, dsy, 0.0), np.where(act, pss, 0.0))

    # ------------------------------------------------------------------ assembly
    def inflow(self, h, cond) -> np.ndarray:
        """Net flow into every cell through its connections, sum_m C_nm (h_m - h_n) [m3 d-1]."""
        c = self.conn
        q = cond * (h[c.m] - h[c.n])
        return np.bincount(c.n, q, h.size) - np.bincount(c.m, q, h.size)

    def residual(self, h, hold, delt, jacobian: bool = True):
        """F(h) for free cells (0 elsewhere) and, if asked, the iteration matrix -J."""
        c = self.conn
        ncell = h.size
        cond, dcn, dcm = self.conductance(h)
        dh = h[c.m] - h[c.n]
        f = self.inflow(h, cond)
        qss, qsy, dss, dsy, pss = self.storage(h, hold, delt)
        f += qss + qsy
        diag = dss + dsy if self.newton else pss + dsy
        for b, node in zip(self.boundaries, self.nodes, strict=True):
            qb, dqb = boundary_flow(b, node, h, self.area, self.top, self.bot)
            ok = node >= 0
            f += np.bincount(node[ok], qb[ok], ncell)
            diag = diag + np.bincount(node[ok], dqb[ok], ncell)
        free = self.ibound > 0
        f = np.where(free, f, 0.0)
        if not jacobian:
            return f, None
        # d q / d h_n and d q / d h_m of the flow into n; the flow into m is -q
        dq_dn = -cond + (dcn * dh if self.newton else 0.0)
        dq_dm = cond + (dcm * dh if self.newton else 0.0)
        diag = diag + np.bincount(c.n, dq_dn, ncell) - np.bincount(c.m, dq_dm, ncell)
        tiny = free & (np.abs(diag) < 1e-30)
        diag = np.where(tiny, -1.0, diag)  # isolated dry cell: keep its head
        a = self.pattern.build(dq_dm, -dq_dn, diag, free)
        return f, a

    def flows(self, h, hold, delt) -> list[tuple[str, str, np.ndarray]]:
        """(term, package, per-entry rate) for the budget, flows into the aquifer > 0."""
        out = []
        qss, qsy, *_ = self.storage(h, hold, delt)
        if delt is not None:
            sto = self.model.sto_name
            out.append(("STO-SS", sto, qss[self.ibound > 0]))
            if self.sto_conv.any():
                out.append(("STO-SY", sto, qsy[self.ibound > 0]))
        if len(self.chd_nodes):
            into = self.inflow(h, self.conductance(h)[0])
            chd = self.ibound[self.chd_nodes] < 0
            out.append(("CHD", self.chd_name, -into[self.chd_nodes[chd]]))
        for b, node in zip(self.boundaries, self.nodes, strict=True):
            qb, _ = boundary_flow(b, node, h, self.area, self.top, self.bot)
            out.append((b.budget_name, b.name, qb))
        return out


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
    """Nonlinear iterations of one time step."""

    def __init__(self, system: _System, linear: _LinearSolver, hclose: float, max_iter: int):
        self.sys, self.linear = system, linear
        self.hclose, self.max_iter = hclose, max_iter
        self.model_bottom = np.broadcast_to(system.model.botm[-1:], system.model.shape).ravel()

    def solve(self, h: np.ndarray, hold: np.ndarray, delt: float | None) -> tuple[np.ndarray, int]:
        sys = self.sys
        self.linear.new_step()
        fnorm = np.inf
        for it in range(1, self.max_iter + 1):
            if not sys.newton and self._dry(h):
                sys.locate()
            f, a = sys.residual(h, hold, delt)
            fnorm = float(np.abs(f).max()) if f.size else 0.0
            dh = self.linear.solve(a, f)
            h_new = self._relax(h, dh, hold, delt, f)
            change = float(np.abs(h_new - h)[sys.ibound > 0].max(initial=0.0))
            h = h_new
            if change <= self.hclose and (sys.newton or not self._dry(h, probe=True)):
                return h, it
        raise ConvergenceError(
            f"groundwater solve did not converge in {self.max_iter} iterations "
            f"(last max head change {change:.3g} m)",
            last_iterate=h.reshape(sys.model.shape), residual=fnorm)

    def _relax(self, h, dh, hold, delt, f) -> np.ndarray:
        """Next iterate [m] of a Newton step ``dh`` [m] from ``h`` [m].

        Notes
        -----
        Convertible cells whose new head falls below the model bottom z_b are set to
        0.1 h + 0.9 z_b (MF6 ``npf_nur``, the NEWTON bottom under-relaxation of Langevin et
        al. 2017; applied here even without the UNDER_RELAXATION option). The step is then
        halved up to three times until the residual norm [m3 d-1] does not grow, like IMS
        backtracking (Hughes et al. 2017, TM 6-A57); the last halving is taken regardless.
        """
        sys = self.sys
        h_new = h + dh
        if not sys.newton:
            return h_new
        below = sys.conv & (h_new < self.model_bottom) & (sys.ibound > 0)
        h_new = np.where(below, 0.1 * h + 0.9 * self.model_bottom, h_new)  # MF6 npf_nur
        f0 = np.linalg.norm(f)
        step = h_new - h
        for alpha in (1.0, 0.5, 0.25):
            trial = h + alpha * step
            f1, _ = sys.residual(trial, hold, delt, jacobian=False)
            if np.linalg.norm(f1) <= f0:
                return trial
        return h + 0.125 * step

    def _dry(self, h: np.ndarray, probe: bool = False) -> bool:
        """Standard formulation: convertible cells with h <= bottom become dry (ibound 0).

        Notes
        -----
        MF6 ``sgwf_npf_wetdry`` (no REWET): the cell is removed for the rest of the run
        and its head set to HDRY.
        """
        sys = self.sys
        dry = sys.conv & (sys.ibound > 0) & (np.minimum(h, sys.top) - sys.bot <= 0.0)
        if probe or not dry.any():
            return bool(dry.any())
        sys.ibound[dry] = 0
        h[dry] = HDRY
        return True


def simulate(model: GwfModel, *, linear: LinearMethod = "auto", hclose: float = 1e-7,
             max_iter: int | None = None) -> SolveResult:
    """Run every stress period of ``model`` with the embedded solver.

    Parameters
    ----------
    model
        The GWF model.
    linear
        ``"direct"`` (SuperLU), ``"amg"`` (pyamg-preconditioned BiCGSTAB) or ``"auto"``.
    hclose
        Convergence criterion: largest head change of an iteration [m].
    max_iter
        Maximum nonlinear iterations per step (default: max(IMS outer_maximum, 100)).

    Returns
    -------
    SolveResult

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
    t0 = _time.perf_counter()
    conn = build_connections(model)
    system = _System(model, conn)
    lin = _LinearSolver(linear, system.top.size)
    stepper = _Stepper(system, lin, hclose, max_iter or max(model.outer_maximum, 100))
    resolved = {p.name: p.resolved(model.nper) for p in model.packages}
    save_head = model.oc.saved("head", model.nstp)
    save_budget = model.oc.saved("budget", model.nstp)
    h = model.strt.ravel().astype(float).copy()
    h[system.ibound == 0] = HNOFLO
    heads, times, kk, budget, iters = [], [], [], [], []
    totim, last_kper = 0.0, -1
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
            for term, pkg, q in system.flows(h, hold, dt):
                budget.append({"time": totim, "kper": kper, "kstp": kstp, "term": term,
                               "package": pkg, "rate_in": float(q[q > 0].sum()),
                               "rate_out": float(-q[q < 0].sum())})
    log.info("embedded solve: %d steps, %d iterations, %.2f s", len(iters), sum(iters),
             _time.perf_counter() - t0)
    stacked = np.stack(heads) if heads else np.zeros((0, *model.shape))
    return SolveResult(stacked, np.array(times), kk, budget, iters)
