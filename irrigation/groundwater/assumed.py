"""The depth to water assumed under a city that has no groundwater model.

A city without a MODFLOW 6 model still plans: the water table is taken at a stated depth
below every site (a constant), or read from a raster of the depth to water (e.g. a
groundwater depth map of a city's environmental atlas), with the constant where the
raster has no value. The assumption is fixed in time (no recharge moves it) and every
report states it (:meth:`AssumedWaterTable.describe`). Its values are read by
:mod:`irrigation.io.grids`; defaults in :class:`irrigation.config.GroundwaterConfig`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DepthGrid:
    """A regular raster of the depth to water [m], north-up, in the city CRS.

    Attributes
    ----------
    xll, yll
        Lower-left corner of the lower-left cell [m].
    cellsize
        Cell width and height [m].
    values
        Depth to water [m] (nrow, ncol), row 0 the northern row; NaN where there is none.
    source
        Where it came from (the file), for the report.
    """

    xll: float
    yll: float
    cellsize: float
    values: np.ndarray
    source: str = ""

    def at(self, x, y) -> np.ndarray:
        """Depth at points (x, y) [m]: the value of the cell holding each point, NaN
        outside the raster or on a cell without value."""
        x, y = np.atleast_1d(np.asarray(x, float)), np.atleast_1d(np.asarray(y, float))
        nrow, ncol = self.values.shape
        col = np.floor((x - self.xll) / self.cellsize).astype(int)
        row = nrow - 1 - np.floor((y - self.yll) / self.cellsize).astype(int)
        inside = (col >= 0) & (col < ncol) & (row >= 0) & (row < nrow)
        out = np.full(x.shape, np.nan)
        out[inside] = self.values[row[inside], col[inside]]
        return out


@dataclass(frozen=True)
class AssumedWaterTable:
    """The water table assumed under the sites [m below land surface].

    Attributes
    ----------
    depth_m
        Depth everywhere the grid gives none [m].
    grid
        Depth raster, or None (the constant everywhere).
    origin
        Where ``depth_m`` comes from, for the report (a city.toml key, or the default).
    """

    depth_m: float
    grid: DepthGrid | None = None
    origin: str = "[groundwater] depth_to_water_m"

    def at(self, x, y) -> np.ndarray:
        """Depth to water at points (x, y) [m]."""
        x = np.atleast_1d(np.asarray(x, float))
        if self.grid is None:
            return np.full(x.shape, float(self.depth_m))
        d = self.grid.at(x, y)
        return np.where(np.isfinite(d), d, float(self.depth_m))

    def describe(self, x=None, y=None) -> str:
        """One sentence for the report: what is assumed (and, given the sites' x, y, how
        many the grid covers)."""
        if self.grid is None:
            return (f"assumed: no groundwater model, the water table {self.depth_m:g} m "
                    f"below every site ({self.origin})")
        text = (f"assumed: no groundwater model, the depth to water of the grid "
                f"{self.grid.source or '(depth_to_water_grid)'}")
        if x is not None:
            n_in = int(np.isfinite(self.grid.at(x, y)).sum())
            text += f" at {n_in} of {np.size(x)} sites"
        return text + f", {self.depth_m:g} m elsewhere ({self.origin})"
