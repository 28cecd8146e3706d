"""Groundwater forecast for the daily run and depth to the water table under sites.

:func:`run_forecast` continues a model from the current heads over daily transient stress
periods with per-cell recharge from the soil model and the plan's well pumping;
:func:`depth_to_water` reads the water table under x/y points from the heads.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import InputError
from .backend import Backend, solve_model
from .load import check_cells
from .mf6 import DEFAULT_TIMEOUT_S
from .mf6files import OutputControl
from .model import GwfModel, Package, rowcol_in_edges
from .output import heads_dataset

log = logging.getLogger(__name__)

Well = tuple[int, int, int, float]


def _wells_block(wells: Sequence[Well], idomain: np.ndarray) -> dict:
    shape = idomain.shape
    arr = np.asarray(list(wells), dtype=float).reshape(-1, 4)
    cid = arr[:, :3].astype(int)
    bad = np.any((cid < 0) | (cid >= np.array(shape)), axis=1) | (arr[:, :3] != cid).any(1)
    if bad.any():
        w = tuple(arr[np.flatnonzero(bad)[0]])
        raise InputError(f"well (layer, row, col, q) = {w} is outside the "
                         f"{shape[0]} x {shape[1]} x {shape[2]} grid (0-based indices)",
                         field="wells")
    check_cells(cid, idomain, "wel")
    if not np.all(np.isfinite(arr[:, 3])):
        raise InputError("well rates must be finite numbers [m3 d-1]", field="wells")
    return {"cellid": cid, "q": arr[:, 3]}


def _recharge_days(recharge_mm_d, days: int, shape2d: tuple[int, int]) -> np.ndarray:
    """Recharge [m d-1] per day, (days, nrow, ncol), from mm d-1 (2-D or per day)."""
    r = np.asarray(recharge_mm_d, dtype=float)
    if r.ndim == 0:
        r = np.full(shape2d, float(r))
    if r.shape == shape2d:
        r = np.broadcast_to(r, (days, *shape2d))
    if r.shape != (days, *shape2d):
        raise InputError(f"recharge must be (nrow, ncol) = {shape2d} or (days, nrow, ncol), "
                         f"got {r.shape}", field="recharge_mm_d")
    if not np.all(np.isfinite(r)):
        raise InputError("recharge contains NaN or infinite values", field="recharge_mm_d")
    return r / 1000.0


def forecast_model(model: GwfModel, heads: np.ndarray | None = None, *,
                   recharge_mm_d=None, wells: Sequence[Well] | Sequence[Sequence[Well]] = (),
                   days: int = 7) -> GwfModel:
    """The model of a forecast: ``days`` daily transient periods from ``heads``.

    Parameters
    ----------
    model
        The city's groundwater model (needs STO).
    heads
        Current heads (nlay, nrow, ncol) [m]; NaN or HDRY cells start at their bottom.
        Default: the model's starting heads.
    recharge_mm_d
        Recharge [mm d-1] per cell, (nrow, ncol) for every day or (days, nrow, ncol);
        replaces the model's RCH packages. ``None`` keeps the RCH in force at the end of
        the model's last period.
    wells
        The plan's pumping as ``(layer, row, col, q_m3_d)`` (0-based, q < 0 extracts),
        the same every day, or one such list per day. Added to the model's own WEL.
    days
        Forecast horizon [d].

    The forecast saves the heads of every day and no budget; packages only mf6 runs keep
    the stresses of the model's last period (see :func:`~.writer.carried_periods`).
    """
    if not model.has_sto:
        raise InputError("a forecast needs a transient model, but it has no STO package",
                         file=model.sim_dir, field="STO6")
    strt = model.strt if heads is None else np.asarray(heads, dtype=float)
    if strt.shape != model.shape:
        raise InputError(f"heads must have shape {model.shape}, got {strt.shape}",
                         field="heads")
    strt = np.where(np.isfinite(strt) & (np.abs(strt) < 1e29), strt, model.botm)
    last = model.nper - 1
    packages = []
    for pkg in model.packages:
        if pkg.kind == "rch" and recharge_mm_d is not None:
            continue
        block = pkg.resolved(model.nper)[last]
        packages.append(Package(pkg.kind, pkg.name, {0: block}, pkg.readasarrays,
                                pkg.fixed_cell, pkg.auto_flow_reduce, pkg.file))
    if recharge_mm_d is not None:
        rch = _recharge_days(recharge_mm_d, days, model.shape[1:])
        packages.append(Package("rch", "rcha_forecast",
                                {d: {"recharge": rch[d]} for d in range(days)},
                                readasarrays=True))
    wells = list(wells)
    if wells:
        per_day = wells if isinstance(wells[0][0], (list, tuple)) else [wells] * days
        if len(per_day) != days:
            raise InputError(f"expected {days} daily well lists, got {len(per_day)}",
                             field="wells")
        packages.append(Package("wel", "wel_plan", {d: _wells_block(w, model.idomain) if w
                                                    else {} for d, w in enumerate(per_day)}))
    kper = None if model.source_kper is None else np.full(days, model.source_kper[-1])
    return model.replace(
        strt=strt, packages=packages, perlen=np.ones(days), nstp=np.ones(days, int),
        tsmult=np.ones(days), steady=np.zeros(days, bool),
        oc=OutputControl.every_step(budget=False), source_kper=kper)


def run_forecast(model: GwfModel, heads: np.ndarray | None = None, *, recharge_mm_d=None,
                 wells: Sequence = (), days: int = 7, start: str | np.datetime64 | None = None,
                 backend: Backend = "auto", mf6_exe: str | Path | None = None,
                 timeout_s: float = DEFAULT_TIMEOUT_S) -> xr.Dataset:
    """Run the groundwater forecast and return heads on (time, layer, row, col).

    See :func:`forecast_model` for the arguments; ``start`` is the date of the starting
    heads (then ``time`` holds the end of each forecast day); ``timeout_s`` limits an mf6
    run [s]. Raises :class:`~irrigation.errors.ConvergenceError` (with the last iterate)
    if a day does not converge, with either backend, so the caller can fall back to the
    last good heads.
    """
    fmodel = forecast_model(model, heads, recharge_mm_d=recharge_mm_d, wells=wells, days=days)
    result = solve_model(fmodel, backend=backend, mf6_exe=mf6_exe, timeout_s=timeout_s)
    return heads_dataset(fmodel, result, start=start)


def water_table(heads: xr.DataArray, botm: xr.DataArray) -> xr.DataArray:
    """Head of the uppermost active, saturated cell (head > cell bottom) per column [m]."""
    wet = heads.notnull() & (heads > botm)
    first = wet.argmax("layer")
    wt = heads.isel(layer=first)
    return wt.where(wet.any("layer"))


def depth_to_water(heads_ds: xr.Dataset, x, y, *, model: GwfModel | None = None,
                   land_surface=None) -> xr.DataArray:
    """Depth from the land surface to the water table at points (sites) [m].

    Parameters
    ----------
    heads_ds
        Output of :func:`run_forecast` / :func:`~.output.heads_dataset`.
    x, y
        Point coordinates [m] (same CRS as the model grid).
    model
        The model whose grid locates the points (default: the cell centres in ``heads_ds``).
    land_surface
        Land surface [m]: one value per point, or a (row, col) DEM array; default the
        model top.

    Returns
    -------
    xr.DataArray
        (time, site) depth to water [m], positive below ground; NaN outside the grid or
        where no cell is saturated.
    """
    x = np.atleast_1d(np.asarray(x, dtype=float))
    y = np.atleast_1d(np.asarray(y, dtype=float))
    row, col = _locate_points(heads_ds, x, y, model)
    surface = heads_ds["top"].values if land_surface is None else np.asarray(land_surface,
                                                                            dtype=float)
    depth = depth_to_water_at(heads_ds["head"].transpose("time", "layer", "row", "col").values,
                              heads_ds["botm"].transpose("layer", "row", "col").values,
                              surface, row, col)
    return xr.DataArray(depth, dims=("time", "site"),
                        coords={"time": heads_ds["time"], "x": ("site", x), "y": ("site", y)},
                        name="depth_to_water",
                        attrs={"long_name": "depth to water table below land surface",
                               "units": "m"})


def depth_to_water_at(heads_m: np.ndarray, botm_m: np.ndarray, surface_m: np.ndarray,
                      row: np.ndarray, col: np.ndarray) -> np.ndarray:
    """Depth from the land surface to the water table in cells (row, col) [m].

    Parameters
    ----------
    heads_m
        Heads (time, layer, nrow, ncol) [m], NaN where inactive or dry.
    botm_m
        Cell bottoms (layer, nrow, ncol) [m].
    surface_m
        Land surface [m]: (nrow, ncol), or one value per point.
    row, col
        The points' cells (0-based), -1 outside the grid.

    Returns
    -------
    numpy.ndarray
        (time, point) [m], positive below ground: the surface minus the head of the
        uppermost saturated cell (head > bottom) of the column; NaN outside the grid or
        where no cell is saturated.
    """
    inside = row >= 0
    if (~inside).any():
        log.warning("%d of %d points lie outside the groundwater grid", (~inside).sum(),
                    len(row))
    r, c = np.where(inside, row, 0), np.where(inside, col, 0)
    h = heads_m[:, :, r, c]
    wet = ~np.isnan(h) & (h > botm_m[:, r, c])
    wt = np.take_along_axis(h, wet.argmax(1)[:, None], axis=1)[:, 0]
    surface = np.asarray(surface_m, dtype=float)
    surf = surface[r, c] if surface.ndim == 2 else np.broadcast_to(surface, row.shape)
    return np.where(inside & wet.any(1), surf - wt, np.nan)


def _locate_points(ds: xr.Dataset, x, y, model: GwfModel | None):
    if model is not None:
        return model.xy_to_rowcol(x, y)
    # row 0 is the northern row: y centres descend
    return rowcol_in_edges(_edges(ds["x"].values), _edges(ds["y"].values[::-1]), x, y)


def _edges(centres: np.ndarray) -> np.ndarray:
    """Cell edges [m] from ascending cell centres: midpoints, the outer edges half a cell out.

    Exact for uniform spacing; a single cell is taken as 1 m wide.
    """
    if len(centres) == 1:
        return centres[0] + np.array([-0.5, 0.5])
    mid = 0.5 * (centres[1:] + centres[:-1])
    first = centres[0] - 0.5 * (centres[1] - centres[0])
    last = centres[-1] + 0.5 * (centres[-1] - centres[-2])
    return np.concatenate([[first], mid, [last]])
