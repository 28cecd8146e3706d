"""Boundary-package flows of MF6 (CHD, WEL, RCH, EVT, DRN, GHB, RIV) as (q, dq/dh) per entry.

Sign convention: q > 0 is water entering the aquifer [m3 d-1]. Every function is vectorised
over the entries of one package in one stress period. Cells that are inactive, dry (standard
formulation) or constant-head receive no stress (MF6 ``bnd_cf``: ``ibound <= 0`` skipped).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .connections import next_cell_below
from .model import GwfModel, Package


@dataclass(frozen=True)
class Boundary:
    """One package's stresses in one stress period, located on nodes.

    Attributes
    ----------
    kind, name, budget_name
        Package kind (``"wel"``...), package name and MF6 budget term (``"RCHA"``...).
    layer, row, col
        Target cell of each entry (before RCH/EVT reassignment) [0-based].
    values
        Value arrays by column name (``"q"``, ``"cond"``, ``"recharge"`` [m d-1], ...).
    movable
        RCH/EVT entries move from a cell that went dry to the first wet cell below.
    auto_flow_reduce
        WEL ``AUTO_FLOW_REDUCE`` fraction or ``None``.
    """

    kind: str
    name: str
    budget_name: str
    layer: np.ndarray
    row: np.ndarray
    col: np.ndarray
    values: dict[str, np.ndarray]
    movable: bool = False
    auto_flow_reduce: float | None = None


def period_boundaries(model: GwfModel, kper: int,
                      resolved: dict[str, list[dict]]) -> list[Boundary]:
    """The boundaries of every package in force in stress period ``kper`` (0-based).

    ``resolved`` maps package name to :meth:`~.model.Package.resolved` (computed once
    per run by the caller).
    """
    out = []
    for pkg in model.packages:
        block = resolved[pkg.name][kper]
        if block:
            out.append(_boundary(model, pkg, block))
    return out


def _boundary(model: GwfModel, pkg: Package, block: dict) -> Boundary:
    if not pkg.readasarrays:
        cid = block["cellid"]
        values = {k: v for k, v in block.items() if k != "cellid"}
        return Boundary(pkg.kind, pkg.name, pkg.budget_name, cid[:, 0], cid[:, 1], cid[:, 2],
                        values, movable=pkg.kind in ("rch", "evt") and not pkg.fixed_cell,
                        auto_flow_reduce=pkg.auto_flow_reduce)
    rows, cols = np.indices((model.nrow, model.ncol))
    lay_key = "irch" if pkg.kind == "rch" else "ievt"
    lay = block.get(lay_key)
    layer = np.zeros(rows.size, int) if lay is None else lay.astype(int).ravel()
    names = ("recharge",) if pkg.kind == "rch" else ("surface", "rate", "depth")
    missing = [n for n in names if n not in block]
    values = {n: (np.zeros(rows.size) if n in missing else block[n].ravel()) for n in names}
    if pkg.kind == "evt" and "depth" in missing:
        values["depth"] = np.ones(rows.size)  # MF6 default extinction depth (1.0)
    return Boundary(pkg.kind, pkg.name, pkg.budget_name, layer, rows.ravel(), cols.ravel(),
                    values, movable=not pkg.fixed_cell)


def locate(b: Boundary, ibound: np.ndarray, idomain: np.ndarray) -> np.ndarray:
    """Node of each entry; -1 where no stress applies.

    Parameters
    ----------
    b
        The boundary.
    ibound
        (nlay, nrow, ncol): 1 active, -1 constant head, 0 inactive or dry.
    idomain
        (nlay, nrow, ncol) IDOMAIN of DIS.

    Notes
    -----
    MF6 RCH/EVT ``*_cf``: an entry on a cell that is not part of the model (IDOMAIN <= 0:
    array input on such a cell, with the default IRCH/IEVT of layer 1 or the given layer)
    is dropped, not moved. Without FIXED_CELL an entry on a cell that has *gone dry* moves
    down the column's vertical connections (``highest_active``: across pass-through cells,
    not past an IDOMAIN = 0 cell) to the first cell that is not dry. Any entry whose cell is
    dry, inactive or constant head receives no stress (``bnd_cf``: ``ibound <= 0``;
    Langevin et al. 2017, ch. 8, "no recharge in CHD cells").
    """
    nlay, nrow, ncol = ibound.shape
    layer = b.layer.copy()
    exists = idomain[layer, b.row, b.col] > 0
    if b.movable:
        below = next_cell_below(idomain)
        for _ in range(nlay - 1):  # loop over layers, vectorised over entries
            nxt = below[layer, b.row, b.col]
            down = exists & (ibound[layer, b.row, b.col] == 0) & (nxt >= 0)
            if not down.any():
                break
            layer = np.where(down, nxt, layer)
    node = (layer * nrow + b.row) * ncol + b.col
    ok = exists & (ibound.ravel()[node] > 0)
    return np.where(ok, node, -1)


def cubic_saturation(top, bot, h) -> tuple[np.ndarray, np.ndarray]:
    """Smooth saturation factor s [-] of WEL ``AUTO_FLOW_REDUCE`` and d s / d h [m-1].

    ``top``, ``bot`` bound the reduction interval [m]; ``h`` is the head [m].

    Notes
    -----
    s = 3x^2 - 2x^3, x = (h - bot)/(top - bot) clipped to [0, 1] (MF6 ``sQSaturation``).
    Reducing extraction as the head nears the cell bottom comes from MODFLOW-NWT
    (Niswonger et al. 2011, TM 6-A37, pumping reduction); in MF6 it is the WEL
    ``AUTO_FLOW_REDUCE`` option (Langevin et al. 2017, ch. 8).
    """
    b = top - bot
    x = np.clip((h - bot) / b, 0.0, 1.0)
    s = x * x * (3.0 - 2.0 * x)
    ds = np.where((x > 0) & (x < 1), 6.0 * x * (1.0 - x) / b, 0.0)
    return s, ds


def boundary_flow(b: Boundary, node: np.ndarray, h: np.ndarray, area: np.ndarray,
                  top: np.ndarray, bot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flow q into the aquifer [m3 d-1] and dq/dh [m2 d-1] of every entry (0 where node < 0).

    Parameters
    ----------
    b
        The boundary.
    node
        Node of each entry (from :func:`locate`).
    h, area, top, bot
        Heads [m], cell areas [m2], cell tops and bottoms [m] of all nodes (flat).

    Notes
    -----
    Langevin et al. (2017) ch. 8: WEL q = Q (with AUTO_FLOW_REDUCE q = Q s(h), MF6
    ``sQSaturation`` over the lowest ``f`` of the cell); RCH q = R A; EVT (one segment)
    q = -E A for h >= S, -E A (h - (S - d))/d above the extinction depth, 0 below; DRN
    q = C (z - h) for h > z; GHB q = C (h_b - h); RIV q = C (H_s - h) for h > R_bot,
    C (H_s - R_bot) below.
    """
    ok = node >= 0
    nd = np.where(ok, node, 0)
    hn = h[nd]
    v = b.values
    zero = np.zeros(len(nd))
    if b.kind == "wel":
        q, dq = v["q"].copy(), zero
        if b.auto_flow_reduce is not None:
            tp = bot[nd] + b.auto_flow_reduce * (top[nd] - bot[nd])
            s, ds = cubic_saturation(tp, bot[nd], hn)
            red = q < 0
            q = np.where(red, q * s, q)
            dq = np.where(red, v["q"] * ds, 0.0)
    elif b.kind == "rch":
        q, dq = v["recharge"] * area[nd], zero
    elif b.kind == "evt":
        c = v["rate"] * area[nd]
        surf, depth = v["surface"], v["depth"]
        above = hn >= surf
        band = (~above) & (hn > surf - depth) & (depth > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(band, (hn - (surf - depth)) / depth, 0.0)
        q = -c * np.where(above, 1.0, frac)
        dq = np.where(band, -c / np.where(depth > 0, depth, 1.0), 0.0)
    elif b.kind == "drn":
        on = hn > v["elev"]
        q = np.where(on, v["cond"] * (v["elev"] - hn), 0.0)
        dq = np.where(on, -v["cond"], 0.0)
    elif b.kind == "ghb":
        q, dq = v["cond"] * (v["bhead"] - hn), -v["cond"]
    elif b.kind == "riv":
        on = hn > v["rbot"]
        q = v["cond"] * (v["stage"] - np.where(on, hn, v["rbot"]))
        dq = np.where(on, -v["cond"], 0.0)
    else:  # chd handled as fixed heads by the solver
        q, dq = zero, zero
    return np.where(ok, q, 0.0), np.where(ok, dq, 0.0)
