"""Cell connections and saturated conductances of a structured (DIS) grid.

Nodes are numbered ``n = k * nrow * ncol + i * ncol + j`` (0-based, MF6's user node order).
Each connection is stored once with ``n < m``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .model import GwfModel


@dataclass(frozen=True)
class Connections:
    """Connections between active cells.

    Attributes
    ----------
    n, m
        Node numbers, ``n < m`` (int arrays, one entry per connection).
    vertical
        True for a vertical (layer-to-layer) connection (MF6 ``ihc = 0``).
    condsat
        Saturated conductance [m2 d-1]: harmonic mean with full cell thickness for
        horizontal connections, half-cell thicknesses and K33 for vertical ones.
    kn, km
        Directional K of n and m along the connection [m d-1].
    cln, clm
        Distance from the centre of n (m) to the shared face [m].
    width
        Face width (horizontal) or area (vertical) [m] / [m2].
    """

    n: np.ndarray
    m: np.ndarray
    vertical: np.ndarray
    condsat: np.ndarray
    kn: np.ndarray
    km: np.ndarray
    cln: np.ndarray
    clm: np.ndarray
    width: np.ndarray


def harmonic_conductance(kn, km, thkn, thkm, cln, clm, width) -> np.ndarray:
    """Harmonic-mean horizontal conductance [m2 d-1].

    Notes
    -----
    C = w T_n T_m / (T_n L_m + T_m L_n), T = K b (Langevin et al. 2017, eq. 4-11;
    MF6 ``condmean`` with ``iavgmeth = 0``); zero when either transmissivity is zero.
    """
    tn, tm = kn * thkn, km * thkm
    denom = tn * clm + tm * cln
    with np.errstate(divide="ignore", invalid="ignore"):
        c = width * tn * tm / denom
    return np.where(tn * tm > 0.0, c, 0.0)


def vertical_conductance(k33n, k33m, thkn, thkm, area) -> np.ndarray:
    """Vertical conductance between two stacked cells [m2 d-1].

    Notes
    -----
    C = A / (0.5 b_n / K33_n + 0.5 b_m / K33_m) with the full cell thicknesses b
    (Langevin et al. 2017, eq. 4-15; MF6 uses full thickness for convertible cells unless
    VARIABLECV is set); zero when a K33 is zero.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        res = 0.5 * thkn / k33n + 0.5 * thkm / k33m
        c = area / res
    return np.where(np.isfinite(c) & (k33n > 0) & (k33m > 0), c, 0.0)


def next_cell_below(idomain: np.ndarray) -> np.ndarray:
    """Layer of the cell each cell connects to vertically downward, -1 where none.

    Notes
    -----
    MF6 DIS connections (``disconnections``): below a cell, cells with IDOMAIN < 0
    (vertical pass-through) are skipped; the first cell with IDOMAIN > 0 is connected, one
    with IDOMAIN = 0 ends the column (Langevin et al. 2017, DIS "IDOMAIN").
    """
    nlay = idomain.shape[0]
    below = np.full(idomain.shape, -1, dtype=int)
    for k in range(nlay - 2, -1, -1):
        nxt = idomain[k + 1]
        below[k] = np.where(nxt > 0, k + 1, np.where(nxt < 0, below[k + 1], -1))
    return below


def build_connections(model: GwfModel) -> Connections:
    """All connections between active cells of ``model`` and their saturated conductance.

    Vertical connections skip pass-through cells (:func:`next_cell_below`); their
    conductance uses the half thicknesses of the two connected cells only.
    """
    nlay, nrow, ncol = model.shape
    idx = np.arange(nlay * nrow * ncol).reshape(model.shape)
    act = model.idomain > 0
    thk = model.cell_top - model.botm
    dr = np.broadcast_to(model.delr[None, None, :], model.shape)
    dc = np.broadcast_to(model.delc[None, :, None], model.shape)
    full, head, tail = slice(None), slice(None, -1), slice(1, None)
    cols: dict[str, list[np.ndarray]] = {k: [] for k in
                                         ("n", "m", "vertical", "kn", "km", "cln", "clm", "width")}

    def add(n, m, kn, km, cln, clm, width, vert):
        for key, val in (("n", n), ("m", m), ("kn", kn), ("km", km), ("cln", cln),
                         ("clm", clm), ("width", width)):
            cols[key].append(val)
        cols["vertical"].append(np.full(len(n), vert))

    # x direction (along a row): K11, half column widths, face width delc;
    # y direction (along a column): K22, half row heights, face width delr
    for sa, sb, kk, half, width in (((full, full, head), (full, full, tail), model.k,
                                     0.5 * dr, dc),
                                    ((full, head, full), (full, tail, full), model.k22,
                                     0.5 * dc, dr)):
        ok = act[sa] & act[sb]
        add(idx[sa][ok], idx[sb][ok], kk[sa][ok], kk[sb][ok], half[sa][ok], half[sb][ok],
            width[sa][ok], False)
    # z direction: K33, half thicknesses, area; to the next cell below (pass-through)
    below = next_cell_below(model.idomain)
    k3, r3, c3 = np.nonzero(act & (below >= 0))
    kb = below[k3, r3, c3]
    area = (dr * dc)[k3, r3, c3]
    add(idx[k3, r3, c3], idx[kb, r3, c3], model.k33[k3, r3, c3], model.k33[kb, r3, c3],
        0.5 * thk[k3, r3, c3], 0.5 * thk[kb, r3, c3], area, True)
    c = {k: np.concatenate(v) for k, v in cols.items()}
    thk_f = thk.ravel()
    thkn, thkm = thk_f[c["n"]], thk_f[c["m"]]
    hor = harmonic_conductance(c["kn"], c["km"], thkn, thkm, c["cln"], c["clm"], c["width"])
    ver = vertical_conductance(c["kn"], c["km"], thkn, thkm, c["width"])
    condsat = np.where(c["vertical"], ver, hor)
    return Connections(condsat=condsat, **c)
