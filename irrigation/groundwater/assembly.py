"""Residual and Jacobian of MODFLOW 6's GWF control-volume equations on a DIS grid.

For every active, non-constant-head cell n the residual

    F_n(h) = sum_m Q_nm(h) + Q_sto,n(h) + sum_b q_b,n(h)        [m3 d-1]

(flows into the cell positive; Langevin et al. 2017, eq. 2-1 and ch. 4-8). The iteration
matrix is A = -dF/dh (NEWTON) or the Picard matrix with frozen conductances (standard
formulation), written into one fixed CSR pattern; fixed cells (inactive, dry, constant
head) get identity rows. Everything that depends only on the period or the time step
(boundary nodes, masks of fixed cells, the old-head storage terms) is computed once there,
not per iteration.
"""

from __future__ import annotations

import hashlib

import numpy as np
import scipy.sparse as sp

from .boundaries import Boundary, boundary_flow, locate
from .connections import Connections, harmonic_conductance
from .model import GwfModel


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


class Pattern:
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
        self._dropped = np.zeros(0, np.int64)

    def set_free(self, free: np.ndarray) -> None:
        """Fixed (non-free) cells: their rows and columns hold only a unit diagonal."""
        keep = (free[self.row_of] & free[self.col_of]) | (self.row_of == self.col_of)
        self._dropped = np.flatnonzero(~keep)

    def build(self, jnm, jmn, diag) -> sp.csr_matrix:
        """-J as CSR; ``diag`` must already be 1 (times -1) on fixed cells."""
        data = np.empty(self.matrix.nnz)
        data[self.p_nm] = -jnm
        data[self.p_mn] = -jmn
        data[self.p_diag] = -diag
        data[self._dropped] = 0.0
        a = self.matrix.copy()
        a.data = data
        return a


def _digest(*values) -> bytes:
    """A short digest of the values (arrays, numbers, strings) with their dtypes and
    shapes: a key of what a matrix was built from."""
    h = hashlib.blake2b(digest_size=16)
    for v in values:
        a = np.asarray(v)
        h.update(repr(a.tolist()).encode() if a.dtype == object
                 else np.ascontiguousarray(a).tobytes())
        h.update(f"{a.dtype.str}{a.shape}".encode())
    return h.digest()


def _matrix_inputs(model: GwfModel, conn: Connections, sc1: np.ndarray, sc2: np.ndarray
                   ) -> list:
    """What the matrix is built from besides the heads, the fixed cells and the step
    length: the saturated conductances, storage, cell types, geometry, formulation and
    every boundary package's blocks but recharge's (a rate on the right-hand side only:
    its derivative is 0, see :func:`~.boundaries.boundary_flow`)."""
    out = [conn.condsat, sc1, sc2, model.icelltype, model.iconvert, model.cell_top,
           model.botm, model.newton]
    for p in model.packages:
        if p.kind == "rch":
            continue
        out += [p.kind, p.name, repr((p.readasarrays, p.fixed_cell, p.auto_flow_reduce))]
        for kper in sorted(p.periods):
            out += [kper, *(x for k in sorted(p.periods[kper]) for x in (k, p.periods[kper][k]))]
    return out


class System:
    """Residual and Jacobian of one model; what changes per period or step lives here.

    ``fixed_cells`` identifies which cells are fixed (a period's constant heads, cells
    inactive or gone dry) and ``properties`` what else the matrix is built from
    (:func:`_matrix_inputs`: conductances, storage, boundaries but recharge): a matrix
    factorised for other fixed cells, or for another model, is out of date.
    """

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
        self.properties = _digest(*_matrix_inputs(model, conn, self.sc1, self.sc2))
        both_confined = ~self.conv[conn.n] & ~self.conv[conn.m]
        hc = ~conn.vertical & ~both_confined
        self.hc = np.flatnonzero(hc)                 # connections with a variable conductance
        self.hc_n, self.hc_m = conn.n[self.hc], conn.m[self.hc]
        self.condsat_hc = conn.condsat[self.hc]
        self.any_conv = bool(self.conv.any())
        self.ibound = np.where(model.idomain.ravel() > 0, 1, 0)
        self.pattern = Pattern(self.top.size, conn)
        self.boundaries: list[Boundary] = []
        self.nodes: list[np.ndarray] = []
        self.chd_nodes = np.zeros(0, int)
        self.chd_name = "chd"
        self._fixed_changed()
        self.delt: float | None = None

    # ------------------------------------------------------------------ stresses
    def set_period(self, boundaries: list[Boundary], chd_nodes, chd_name: str) -> None:
        """Constant heads (ibound -1) and the boundary list of a stress period."""
        old = self.ibound.copy()
        self.ibound[self.ibound < 0] = 1
        self.ibound[chd_nodes] = np.where(self.ibound[chd_nodes] != 0, -1, 0)
        self.chd_nodes, self.chd_name = chd_nodes, chd_name
        self.boundaries = boundaries
        if not np.array_equal(old, self.ibound):
            self._fixed_changed()
        self.locate()

    def locate(self) -> None:
        """Nodes of every boundary entry for the current inactive/dry/constant cells."""
        ib = self.ibound.reshape(self.model.shape)
        self.nodes = [locate(b, ib, self.model.idomain) for b in self.boundaries]
        every = np.concatenate(self.nodes) if self.nodes else np.zeros(0, int)
        self._bok_all = np.flatnonzero(every >= 0)
        self._bnode_all = every[self._bok_all]

    def _fixed_changed(self) -> None:
        """Masks that depend on which cells are fixed, and their digest."""
        self.free = self.ibound > 0
        self.fixed_idx = np.flatnonzero(~self.free)
        self.active = self.ibound != 0
        c = self.conn
        self.off_idx = np.flatnonzero((self.ibound[c.n] == 0) | (self.ibound[c.m] == 0))
        self.pattern.set_free(self.free)
        self.fixed_cells = _digest(self.ibound.astype(np.int8))

    def dry_cells(self, dry: np.ndarray) -> None:
        """Standard formulation: take the cells ``dry`` (bool) out of the solution."""
        self.ibound[dry] = 0
        self._fixed_changed()
        self.locate()

    # ------------------------------------------------------------------ steps
    def begin_step(self, hold: np.ndarray, delt: float | None) -> None:
        """Old-head terms of storage for a step of length ``delt`` [d] (None: steady).

        Notes
        -----
        MF6 STO (Langevin et al. 2017, eq. 5-8 to 5-13; ``SsTerms``/``SyTerms``):
        confined Q_ss = SC1/dt (h_old - h); convertible
        Q_ss = SC1/dt [s_o (h_o - z_o) - s (h - z)], z = bot + s b/2;
        Q_sy = SC2 b/dt (s_o - s). Steady-state periods have no storage.
        """
        self.delt = delt
        if delt is None:
            return
        self.rho1 = self.sc1 / delt
        self.rho2b = self.sc2 * self.thk / delt
        so, _ = saturation(hold, self.top, self.bot)
        zo = self.bot + 0.5 * self.thk * so
        self.qss_old = self.rho1 * np.where(self.sto_conv, so * (hold - zo), hold)
        self.qsy_old = np.where(self.sto_conv, self.rho2b * so, 0.0)

    def _storage(self, h, s, ds, jacobian: bool):
        """Storage inflow [m3 d-1] of active cells and its diagonal derivative."""
        cv = self.sto_conv
        zn = self.bot + 0.5 * self.thk * s
        qss = self.qss_old - self.rho1 * np.where(cv, s * (h - zn), h)
        qsy = np.where(cv, self.qsy_old - self.rho2b * s, 0.0)
        q = np.where(self.active, qss + qsy, 0.0)
        if not jacobian:
            return q, None
        if self.newton:
            dss = np.where(cv, -self.rho1 * (ds * (h - zn) + s * (1.0 - 0.5 * self.thk * ds)),
                           -self.rho1)
        else:
            dss = np.where(cv, -self.rho1 * s, -self.rho1)
        dsy = np.where(cv, -self.rho2b * ds, 0.0)
        return q, np.where(self.active, dss + dsy, 0.0)

    # ------------------------------------------------------------------ conductance
    def conductance(self, h: np.ndarray, s: np.ndarray, ds: np.ndarray,
                    derivatives: bool = False):
        """Conductance of every connection and, with NEWTON and ``derivatives``, its
        derivatives wrt h_n and h_m (``None`` otherwise).

        Notes
        -----
        Standard formulation: harmonic mean of K s b (MF6 ``hcond``); NEWTON: saturated
        conductance times the saturated fraction of the upstream cell (MF6 ``hcond`` with
        upstream weighting; Niswonger et al. 2011, eq. 7). Vertical: saturated conductance
        (no VARIABLECV). Zero to inactive or dry cells.
        """
        c = self.conn
        cond = c.condsat.copy()
        dcn = dcm = None
        hc, n, m = self.hc, self.hc_n, self.hc_m
        if hc.size:
            if self.newton:
                up_n = h[n] > h[m]
                cs = self.condsat_hc
                cond[hc] = cs * np.where(up_n, s[n], s[m])
                if derivatives:
                    dcn = np.zeros_like(cond)
                    dcm = np.zeros_like(cond)
                    dcn[hc] = np.where(up_n, cs * ds[n], 0.0)
                    dcm[hc] = np.where(up_n, 0.0, cs * ds[m])
            else:
                cond[hc] = harmonic_conductance(c.kn[hc], c.km[hc], s[n] * self.thk[n],
                                                s[m] * self.thk[m], c.cln[hc], c.clm[hc],
                                                c.width[hc])
        cond[self.off_idx] = 0.0
        return cond, dcn, dcm

    # ------------------------------------------------------------------ assembly
    def evaluate(self, h: np.ndarray, jacobian: bool = False):
        """F(h) for free cells (0 elsewhere) and, if asked, the iteration matrix -J."""
        c = self.conn
        ncell = h.size
        s, ds = saturation(h, self.top, self.bot)
        s_flow = np.where(self.conv, s, 1.0)
        ds_flow = np.where(self.conv, ds, 0.0)
        cond, dcn, dcm = self.conductance(h, s_flow, ds_flow, derivatives=jacobian)
        dh = h[c.m] - h[c.n]
        q = cond * dh
        f = np.bincount(c.n, q, ncell) - np.bincount(c.m, q, ncell)
        diag = np.zeros(ncell) if jacobian else None
        if self.delt is not None:
            qs, dqs = self._storage(h, s, ds, jacobian)
            f += qs
            if jacobian:
                diag += dqs
        if self.boundaries:  # all packages in one scatter
            flows = [boundary_flow(b, node, h, self.area, self.top, self.bot)
                     for b, node in zip(self.boundaries, self.nodes, strict=True)]
            f += np.bincount(self._bnode_all, np.concatenate([q for q, _ in flows])[
                self._bok_all], ncell)
            if jacobian:
                diag += np.bincount(self._bnode_all, np.concatenate([d for _, d in flows])[
                    self._bok_all], ncell)
        f[self.fixed_idx] = 0.0
        if not jacobian:
            return f, None
        # d q / d h_n and d q / d h_m of the flow into n; the flow into m is -q
        if self.newton and dcn is not None:
            dq_dn = dcn * dh - cond
            dq_dm = cond + dcm * dh
        else:
            dq_dn, dq_dm = -cond, cond
        diag += np.bincount(c.n, dq_dn, ncell) - np.bincount(c.m, dq_dm, ncell)
        tiny = self.free & (np.abs(diag) < 1e-30)
        diag[tiny] = -1.0  # isolated dry cell: keep its head
        diag[self.fixed_idx] = -1.0
        return f, self.pattern.build(dq_dm, -dq_dn, diag)

    def inflow(self, h, cond) -> np.ndarray:
        """Net flow into every cell through its connections, sum_m C_nm (h_m - h_n) [m3 d-1]."""
        c = self.conn
        q = cond * (h[c.m] - h[c.n])
        return np.bincount(c.n, q, h.size) - np.bincount(c.m, q, h.size)

    def flows(self, h) -> list[tuple[str, str, np.ndarray]]:
        """(term, package, per-entry rate) for the budget, flows into the aquifer > 0."""
        out = []
        s, ds = saturation(h, self.top, self.bot)
        if self.model.has_sto:  # steady periods: zero rows, as in MF6's budget file
            cv = self.sto_conv
            act = self.ibound > 0
            if self.delt is not None:
                zn = self.bot + 0.5 * self.thk * s
                qss = self.qss_old - self.rho1 * np.where(cv, s * (h - zn), h)
                qsy = np.where(cv, self.qsy_old - self.rho2b * s, 0.0)
            else:
                qss = qsy = np.zeros_like(h)
            sto = self.model.sto_name
            out.append(("STO-SS", sto, qss[act]))
            if cv.any():
                out.append(("STO-SY", sto, qsy[act]))
        if len(self.chd_nodes):
            cond = self.conductance(h, np.where(self.conv, s, 1.0),
                                    np.where(self.conv, ds, 0.0))[0]
            into = self.inflow(h, cond)
            chd = self.ibound[self.chd_nodes] < 0
            out.append(("CHD", self.chd_name, -into[self.chd_nodes[chd]]))
        for b, node in zip(self.boundaries, self.nodes, strict=True):
            qb, _ = boundary_flow(b, node, h, self.area, self.top, self.bot)
            out.append((b.budget_name, b.name, qb))
        return out
