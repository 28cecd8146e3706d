"""Heads as a CF-style :class:`xarray.Dataset`, budgets as a table, and their writers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..io.files import atomic_write
from .model import GwfModel
from .result import SolveResult

NO_HEAD = 1e29
"""Heads at or beyond +-this [m] are MF6's flags, not heads: HDRY (-1e30, a dry cell) and
HNOFLO (1e30, an inactive one)."""


def head_values(result: SolveResult) -> np.ndarray:
    """The heads of every saved step [m] (time, layer, row, col), NaN where inactive or
    dry (:data:`NO_HEAD`): :func:`heads_dataset`'s ``head`` without its dataset."""
    heads = np.asarray(result.heads, dtype=float)
    return np.where(np.abs(heads) >= NO_HEAD, np.nan, heads)


def heads_dataset(model: GwfModel, result: SolveResult,
                  start: np.datetime64 | str | None = None) -> xr.Dataset:
    """Heads of every saved step on dims (time, layer, row, col).

    Parameters
    ----------
    model
        The model (grid coordinates, cell tops and bottoms).
    result
        Output of a backend.
    start
        Calendar date of simulated time 0; ``time`` is then datetime64, else days.

    Returns
    -------
    xr.Dataset
        ``head`` [m] (NaN where inactive or dry), ``dry`` and ``active`` masks, and
        coordinates ``x``/``y`` of cell centres [m], ``top``/``botm`` [m].
    """
    dry = np.asarray(result.heads, dtype=float) <= -NO_HEAD
    head = head_values(result)
    xc, yc = model.x_centres, model.y_centres
    days = np.asarray(result.times, dtype=float)
    if start is not None:
        t0 = np.datetime64(start, "s")
        time = t0 + (days * 86400.0).round().astype("timedelta64[s]")
        time_attrs = {"standard_name": "time", "long_name": "end of time step"}
    else:
        time = days
        time_attrs = {"long_name": "simulated time since start at end of step",
                      "units": "d"}
    ds = xr.Dataset(
        {
            "head": (("time", "layer", "row", "col"), head,
                     {"long_name": "hydraulic head", "units": "m",
                      "standard_name": "hydraulic_head",
                      "comment": "m above datum; NaN where inactive or dry"}),
            "dry": (("time", "layer", "row", "col"), dry,
                    {"long_name": "dry cell (MF6 HDRY)"}),
            "active": (("layer", "row", "col"), model.idomain > 0,
                       {"long_name": "active cell (IDOMAIN > 0)"}),
        },
        coords={
            "time": ("time", time, time_attrs),
            "layer": ("layer", np.arange(1, model.nlay + 1), {"long_name": "layer (1-based)"}),
            "row": ("row", np.arange(1, model.nrow + 1), {"long_name": "row (1-based)"}),
            "col": ("col", np.arange(1, model.ncol + 1), {"long_name": "column (1-based)"}),
            "x": ("col", xc, {"long_name": "x of cell centre", "units": "m",
                              "standard_name": "projection_x_coordinate"}),
            "y": ("row", yc, {"long_name": "y of cell centre", "units": "m",
                              "standard_name": "projection_y_coordinate"}),
            "top": (("row", "col"), model.top, {"long_name": "model top", "units": "m"}),
            "botm": (("layer", "row", "col"), model.botm,
                     {"long_name": "cell bottom", "units": "m"}),
            "kstp": ("time", np.array([k[0] + 1 for k in result.kstpkper])),
            "kper": ("time", np.array([k[1] + 1 for k in result.kstpkper])),
        },
        attrs={"Conventions": "CF-1.8", "title": f"MODFLOW 6 heads of model {model.name}",
               "source": "irrigation.groundwater"},
    )
    return ds


def budget_table(result: SolveResult) -> pd.DataFrame:
    """Volumetric budget per step and package: rate_in / rate_out [m3 d-1] (>= 0)."""
    cols = ["time", "kper", "kstp", "term", "package", "rate_in", "rate_out"]
    df = pd.DataFrame(result.budget, columns=cols)
    if len(df):
        df["kper"] += 1
        df["kstp"] += 1
        df = df.groupby(["time", "kper", "kstp", "term", "package"], as_index=False,
                        sort=False)[["rate_in", "rate_out"]].sum()
    return df


def write_heads_netcdf(ds: xr.Dataset, path: str | Path) -> Path:
    """Write the heads dataset to NetCDF (written to a temporary name, then renamed)."""
    enc = {"head": {"zlib": True, "complevel": 4, "_FillValue": np.nan}}
    return atomic_write(path, lambda tmp: ds.to_netcdf(tmp, encoding=enc))


def write_budget_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write the budget table to CSV (temporary name, then renamed)."""
    return atomic_write(path, lambda tmp: df.to_csv(tmp, index=False, float_format="%.10g"))
