"""Benchmark: FAO-56 Penman-Monteith ET0 over a (time x site) grid vs a per-site pyet loop.

Run: ``python benchmarks/et0_grid.py [--size tiny|default|large]``, or as part of the suite
(``python -m benchmarks --only et0``).

Ours is one :func:`irrigation.weather.et0` call on a weather dataset over ``time`` and
``site`` (checks, fallbacks and :func:`pyet.pm_fao56` on the whole grid). The peer is what
a user without it would write: a loop over sites, each a :func:`pyet.pm_fao56` call on
pandas Series of the same daily inputs (mean humidity, so both use FAO-56 eq. 19 for e_a,
and pyet's own Ra and Rso from the latitude). Both results are compared; the largest
absolute difference [mm d-1] is recorded.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import pyet
import xarray as xr

from irrigation.weather import et0

try:
    from .common import Result, check_size, measure
except ImportError:  # run as a script
    from common import Result, check_size, measure

SIZES = {"tiny": (365, 20), "default": (365, 2_000), "large": (365, 10_000)}
"""Days and sites."""

LATITUDE_DEG, ELEVATION_M = 51.5, 40.0
AGREE_MM = 1e-9
"""Largest |ours - peer| [mm d-1] called agreement: same formulas, so rounding only. The
issue names no ET0 speed target."""


def weather_grid(nt: int, ns: int, seed: int = 0) -> xr.Dataset:
    """Seeded plausible daily weather over ``time`` (from 2018-01-01) and ``site``."""
    rng = np.random.default_rng(seed)
    time = pd.date_range("2018-01-01", periods=nt)
    season = -np.cos(2 * np.pi * (np.arange(nt) - 15) / 365)[:, None]
    tmin = 5 + 8 * season + rng.normal(0, 2, (nt, ns))
    tmax = tmin + rng.uniform(4, 14, (nt, ns))
    ra = np.asarray(pyet.extraterrestrial_r(time, np.deg2rad(LATITUDE_DEG)))[:, None]
    values = {
        "tmin_c": (tmin, "degC"),
        "tmax_c": (tmax, "degC"),
        "rh_mean_pct": (rng.uniform(45, 95, (nt, ns)), "%"),
        "wind_ms": (rng.uniform(0.5, 6, (nt, ns)), "m s-1"),
        "rs_mj_m2_d": (ra * rng.uniform(0.25, 0.75, (nt, ns)), "MJ m-2 d-1"),
        "precip_mm": (np.zeros((nt, ns)), "mm d-1"),
    }
    return xr.Dataset(
        {k: xr.DataArray(v, dims=("time", "site"), attrs={"units": u})
         for k, (v, u) in values.items()},
        coords={"time": time, "site": [f"S{i:05d}" for i in range(ns)]},
    )


def ours(ds: xr.Dataset) -> np.ndarray:
    out = et0(ds, latitude_deg=LATITUDE_DEG, elevation_m=ELEVATION_M, method="pm")
    return out.transpose("time", "site").values


def pyet_loop(ds: xr.Dataset) -> np.ndarray:
    """One :func:`pyet.pm_fao56` call per site on pandas Series; (time, site) array."""
    time = pd.DatetimeIndex(ds["time"].values)
    arrays = {k: ds[k].transpose("time", "site").values for k in ds.data_vars}
    out = np.empty((len(time), ds.sizes["site"]))
    for i in range(out.shape[1]):
        tmin = pd.Series(arrays["tmin_c"][:, i], index=time)
        tmax = pd.Series(arrays["tmax_c"][:, i], index=time)
        out[:, i] = pyet.pm_fao56(
            (tmin + tmax) / 2, pd.Series(arrays["wind_ms"][:, i], index=time),
            rs=pd.Series(arrays["rs_mj_m2_d"][:, i], index=time), tmax=tmax, tmin=tmin,
            rh=pd.Series(arrays["rh_mean_pct"][:, i], index=time), elevation=ELEVATION_M,
            lat=np.deg2rad(LATITUDE_DEG),
        ).to_numpy()
    return out


def run(size: str = "default") -> list[Result]:
    """ET0 over days x sites: :func:`irrigation.weather.et0` vs a per-site pyet loop."""
    nt, ns = SIZES[check_size(size)]
    ds = weather_grid(nt, ns)
    mine = measure(lambda: ours(ds), repeat=3)
    peer = measure(lambda: pyet_loop(ds))
    diff = float(np.nanmax(np.abs(mine.value - peer.value)))
    agree = diff <= AGREE_MM
    return [Result(
        "ET0 FAO-56 PM grid: weather.et0", f"{nt} days x {ns:,} sites", mine.wall_s,
        mine.peak_rss_mb, nt * ns / mine.wall_s, "site-days/s",
        peer="pyet.pm_fao56 per site (pandas Series loop)", peer_wall_s=peer.wall_s,
        notes=f"max |ours - peer| = {diff:.2g} mm/d ({'agree' if agree else 'DISAGREE'})",
        extra={"max_abs_diff_mm_d": diff, "agree": agree, "peer_peak_rss_mb": peer.peak_rss_mb})]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=list(SIZES), default="default")
    for r in run(ap.parse_args().size):
        print(f"{r.name} [{r.params}]: {r.wall_s:.3f} s, {r.throughput:.3g} {r.throughput_unit}"
              f"; {r.peer}: {r.peer_wall_s:.3f} s; speed-up {r.ratio:.3g}; {r.notes}")


if __name__ == "__main__":
    main()
