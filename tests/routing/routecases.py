"""Small synthetic city pieces for routing tests: visits, refill points, fleet, streets.

Numbers are taken from practice: young street trees get 75-200 L per visit; Berlin has
~1,900 public street pumps on ~890 km2 (one per ~0.5 km2, OSM "Berliner Strassenbrunnen");
trucks carry 1-5 m3 and pump 50-200 L/min.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import xarray as xr

from irrigation.routing import VehicleType
from irrigation.streets import StreetNetwork


def refill_points(xy: np.ndarray, rate_l_per_min: float = 300.0) -> xr.Dataset:
    """A yard (first row, with water) and hydrants at ``xy`` [m], shape (n, 2)."""
    n = len(xy)
    kind = np.array(["depot"] + ["hydrant"] * (n - 1))
    return xr.Dataset(
        {"kind": ("refill", kind), "refill_l_per_min": ("refill", np.full(n, rate_l_per_min))},
        coords={
            "refill": [f"R{i}" for i in range(n)],
            "x": ("refill", xy[:, 0]),
            "y": ("refill", xy[:, 1]),
        },
    )


def fleet(count: int = 2, tank_l: float = 2000.0, shift: tuple[int, int] = (7, 15)) -> tuple:
    """Two vehicle types: a big truck and a small pick-up with a trailer tank."""
    return (
        VehicleType(
            "truck",
            count,
            tank_l,
            120.0,
            setup_min=3.0,
            speed_kmh=20.0,
            shift_start=dt.time(shift[0]),
            shift_end=dt.time(shift[1]),
        ),
        VehicleType(
            "pickup",
            1,
            tank_l / 4,
            60.0,
            setup_min=2.0,
            speed_kmh=25.0,
            shift_start=dt.time(shift[0]),
            shift_end=dt.time(shift[1]),
        ),
    )


def visits(
    rng: np.random.Generator, n: int, extent_m: float = 3000.0, windows: bool = True
) -> pd.DataFrame:
    """``n`` visits of 75-200 L (a few of 2,500 L, larger than a tank) in a square."""
    litres = rng.uniform(75, 200, n).round()
    litres[rng.random(n) < 0.03] = 2500.0
    df = pd.DataFrame(
        {
            "site": [f"S{i:04d}" for i in range(n)],
            "x": rng.uniform(0, extent_m, n),
            "y": rng.uniform(0, extent_m, n),
            "litres": litres,
            "urgency": rng.uniform(0, 1, n),
        }
    )
    if windows:
        early = np.where(rng.random(n) < 0.2, 9 * 3600.0, 0.0)
        df["tw_early_s"] = early
        df["tw_late_s"] = np.where(early > 0, 12 * 3600.0, np.inf)
    return df


def grid_network(nx_: int = 6, ny: int = 5, spacing_m: float = 500.0) -> StreetNetwork:
    """A grid of two-way streets whose bottom row is one-way eastbound [m]."""
    ii, jj = np.meshgrid(np.arange(nx_), np.arange(ny), indexing="xy")
    idx = (jj * nx_ + ii).ravel()
    x, y = (ii.ravel() * spacing_m).astype(float), (jj.ravel() * spacing_m).astype(float)
    fr, to = [], []
    for a in idx:
        i, j = a % nx_, a // nx_
        if i + 1 < nx_:
            fr.append(a), to.append(a + 1)
            if j > 0:
                fr.append(a + 1), to.append(a)
        if j + 1 < ny:
            fr += [a, a + nx_]
            to += [a + nx_, a]
    fr, to = np.array(fr), np.array(to)
    length = np.hypot(x[fr] - x[to], y[fr] - y[to])
    return StreetNetwork(idx, x, y, fr, to, length, np.array([""] * len(fr), dtype=object))
