"""A synthetic "truth" world: the soil model with a different parameter draw, and the
sensor readings it would produce, with noise and injected faults.

The demo city's sensor series and the closed-loop scenarios use it: the planning model
never sees these parameters, only readings drawn from them. Everything is seeded.

The truth differs from the planning model in (all drawn once per world):

- the landscape coefficient of each species (``k_species`` x lognormal, σ = ``k_sigma``);
- the van Genuchten curve of each texture (α x lognormal σ = 0.2, n - 1 x lognormal
  σ = 0.1, θs ± 0.02);
- the root depth of each site (x lognormal, σ = ``root_sigma``);
- the share of a watering that reaches the root zone (spill, runoff from a compacted
  pit surface): uniform in [``efficiency_low``, 1] per site;
- the rain of each day over the district vs the station's (the station is not in the
  city; summer showers are local): x lognormal σ = ``rain_day_sigma``, mean 1;
- a smooth spatial field of evaporative demand and of rain (urban heat and rain shadows,
  ±``field_amplitude``), built from a few random plane waves of 0.5-3 km wavelength.

Sensor channels see the root-zone water content with a depth lag (deeper channels follow
with a time constant τ = (depth / 40 cm)² days), a fixed offset per channel (local soil
heterogeneity, σ = 0.015 m3 m-3), a diurnal temperature effect on tension (±3 %), and
reading noise (tension: 3 % + 0.5 kPa, integer kPa like a Watermark logger, capped at
239 kPa; VWC: 0.004 m3 m-3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from .soil import SoilParams, site_hydraulics, van_genuchten_tension_kpa

FAULTS = ("stuck", "spike", "drift", "dropout", "range")
"""Kinds of injected sensor faults (see :func:`inject_faults`)."""


@dataclass(frozen=True)
class TruthWorld:
    """The truth's parameters: perturbed tables, sites and forcing factors per site."""

    sites: xr.Dataset
    textures: pd.DataFrame
    species: pd.DataFrame
    et0_factor: xr.DataArray
    precip_factor: xr.DataArray
    watering_efficiency: xr.DataArray
    precip_day_factor: xr.DataArray

    def forcing(self, et0_mm: xr.DataArray, precip_mm: xr.DataArray
                ) -> tuple[xr.DataArray, xr.DataArray]:
        """The truth's ET0 and precipitation [mm d-1] per site from the station's."""
        f = self.precip_day_factor.reindex(time=precip_mm["time"], fill_value=1.0)
        return et0_mm * self.et0_factor, precip_mm * f * self.precip_factor


def _smooth_field(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, amplitude: float,
                  n_waves: int = 6) -> np.ndarray:
    """A smooth random field of mean 1 and peak ~±amplitude (sum of plane waves)."""
    f = np.zeros_like(x, dtype=float)
    for _ in range(n_waves):
        wl = rng.uniform(500.0, 3000.0)
        ang = rng.uniform(0, np.pi)
        ph = rng.uniform(0, 2 * np.pi)
        f += np.cos(2 * np.pi * (x * np.cos(ang) + y * np.sin(ang)) / wl + ph)
    f /= np.sqrt(n_waves / 2.0)
    return 1.0 + amplitude * np.clip(f, -2.0, 2.0) / 2.0


def draw_world(
    sites: xr.Dataset,
    textures: pd.DataFrame,
    species: pd.DataFrame,
    rng: np.random.Generator,
    *,
    k_sigma: float = 0.2,
    root_sigma: float = 0.15,
    field_amplitude: float = 0.1,
    efficiency_low: float = 0.6,
    rain_day_sigma: float = 0.5,
    time: np.ndarray | None = None,
) -> TruthWorld:
    """Draw a truth world around the planning model's parameters (see module docstring).

    ``time`` are the days the daily rain factor is drawn for (none: factor 1).
    """
    sp = species.copy()
    sp["k_species"] = sp["k_species"] * rng.lognormal(0.0, k_sigma, len(sp))
    tx = textures.copy()
    tx["alpha_per_cm"] = tx["alpha_per_cm"] * rng.lognormal(0.0, 0.2, len(tx))
    tx["n"] = 1.0 + (tx["n"] - 1.0) * rng.lognormal(0.0, 0.1, len(tx))
    tx["theta_s"] = tx["theta_s"] + rng.uniform(-0.02, 0.02, len(tx))
    st = sites.copy()
    st["root_depth_m"] = sites["root_depth_m"] * rng.lognormal(0.0, root_sigma, sites.sizes["site"])
    x, y = sites["x"].values, sites["y"].values
    site = sites["site"].values
    et0f = _smooth_field(x, y, rng, field_amplitude)
    pf = _smooth_field(x, y, rng, field_amplitude)
    eff = rng.uniform(efficiency_low, 1.0, site.size)
    time = np.array([], "datetime64[ns]") if time is None else np.asarray(time)
    day_f = rng.lognormal(-rain_day_sigma**2 / 2, rain_day_sigma, time.size)
    return TruthWorld(
        st, tx, sp,
        *(xr.DataArray(v, dims="site", coords={"site": site}, attrs={"units": "1"})
          for v in (et0f, pf, eff)),
        xr.DataArray(day_f, dims="time", coords={"time": time}, attrs={"units": "1"}),
    )


def sensor_readings(
    theta_rz: xr.DataArray,
    world: TruthWorld,
    sensors: xr.Dataset,
    rng: np.random.Generator,
    *,
    every_hours: int = 1,
    params: SoilParams | None = None,
    offset_m3m3: np.ndarray | None = None,
) -> xr.Dataset:
    """Readings the probes would log, from the truth's daily root-zone water content.

    Parameters
    ----------
    theta_rz
        Truth root-zone θ at the end of each day [m3 m-3] over (``time``, ``site``).
    world
        The truth world (its soil curves convert θ to tension).
    sensors
        The city's probes (``site``, ``kind``, ``installed`` over ``depth``).
    rng
        Random generator.
    every_hours
        Logging interval [h].
    offset_m3m3
        The fixed water-content offset of each channel (``sensor``, ``depth``)
        [m3 m-3] (:func:`channel_offsets`); drawn from ``rng`` when None.

    Returns
    -------
    xr.Dataset
        ``value`` over (``sensor``, ``depth``, ``time``) hourly UTC, coord ``quantity``;
        the layout of :func:`irrigation.io.sensors.read_sensor_csv`.
    """
    probes = sensors["sensor"].values
    depth = sensors["depth"].values.astype(float)
    at = world.sites.sel(site=sensors["site"].values)
    th_day = theta_rz.sel(site=sensors["site"].values).transpose("time", "site").values
    n_days = th_day.shape[0]
    tau = (depth / 40.0) ** 2
    keep = np.exp(-1.0 / tau)
    lagged = np.empty((n_days, probes.size, depth.size))
    lagged[0] = th_day[0][:, None]
    for d in range(1, n_days):  # a time loop; sites and depths are vectorised
        lagged[d] = keep * lagged[d - 1] + (1 - keep) * th_day[d][:, None]
    hyd = site_hydraulics(at, world.textures, params)
    offset = channel_offsets(sensors, rng) if offset_m3m3 is None else offset_m3m3
    lagged = lagged + offset[None]
    lagged = np.clip(lagged, hyd["theta_r"][None, :, None] + 0.01,
                     hyd["theta_s"][None, :, None])
    day0 = theta_rz["time"].values[0].astype("datetime64[h]")
    hours = np.arange(0, n_days * 24, every_hours)
    time = day0 + hours.astype("timedelta64[h]")
    d_idx = hours // 24
    frac = (hours % 24 + every_hours) / 24.0
    prev = np.concatenate([lagged[:1], lagged[:-1]])
    th_h = prev[d_idx] + (lagged[d_idx] - prev[d_idx]) * frac[:, None, None]  # (t, s, z)
    vg = [hyd[k][None, :, None] for k in ("theta_r", "theta_s", "alpha_per_cm", "n")]
    psi = van_genuchten_tension_kpa(th_h, *vg)
    diurnal = 1.0 + 0.03 * np.sin(2 * np.pi * ((hours % 24) - 8) / 24.0)[:, None, None]
    psi = psi * diurnal * (1 + rng.normal(0, 0.03, psi.shape)) + rng.normal(0, 0.5, psi.shape)
    psi = np.clip(np.round(psi), 0.0, 239.0)
    vwc = np.round(th_h + rng.normal(0, 0.004, th_h.shape), 3)
    is_t = (sensors["kind"].values == "tension")[None, :, None]
    value = np.where(is_t, psi, vwc).transpose(1, 2, 0)
    value = np.where(sensors["installed"].values[..., None], value, np.nan)
    return xr.Dataset(
        {"value": (("sensor", "depth", "time"), value,
                   {"units": "kPa or m3 m-3 (see quantity)"})},
        coords={"sensor": probes, "depth": ("depth", sensors["depth"].values, {"units": "cm"}),
                "time": ("time", time.astype("datetime64[ns]"), {"timezone": "UTC"}),
                "quantity": ("sensor", sensors["kind"].values)},
    )


def channel_offsets(sensors: xr.Dataset, rng: np.random.Generator) -> np.ndarray:
    """Fixed water-content offset of each probe channel [m3 m-3] (``sensor``, ``depth``):
    local soil heterogeneity N(0, 0.015²) plus +0.01 per 30 cm below the top channel."""
    depth = sensors["depth"].values.astype(float)
    return (rng.normal(0.0, 0.015, (sensors.sizes["sensor"], depth.size))
            + 0.01 * (depth - depth[0]) / 30)


def inject_faults(
    readings: xr.Dataset,
    rng: np.random.Generator,
    counts: dict[str, int] | None = None,
) -> tuple[xr.Dataset, pd.DataFrame]:
    """Inject sensor faults into a copy of ``readings``; return it and the labels.

    Faults (per channel, placed at random, not overlapping on one channel):

    - ``stuck``: the logger repeats one value for 2-5 days (in a drying spell, > 20 kPa);
    - ``spike``: 3-8 single readings off by ±40-80 kPa (tension) or ±0.1-0.2 m3 m-3;
    - ``drift``: the reading creeps by +1.5-3 kPa/day or -0.004 m3 m-3/day from a day on
      to the end of the record (a degrading sensor);
    - ``dropout``: no readings for 1-5 days;
    - ``range``: 2-12 h of logger error codes (255 or -1).

    Returns
    -------
    (xr.Dataset, pandas.DataFrame)
        The faulty readings and one label row per fault: sensor, depth_cm, fault, start,
        end (UTC, inclusive).
    """
    counts = counts or {"stuck": 4, "spike": 4, "drift": 3, "dropout": 4, "range": 3}
    ds = readings.copy(deep=True)
    v = ds["value"].transpose("sensor", "depth", "time").values
    time = ds["time"].values
    n_t = time.size
    step_h = max(1, int(np.median(np.diff(time)) / np.timedelta64(1, "h"))) if n_t > 1 else 1
    per_day = 24 // step_h
    is_t = ds["quantity"].values == "tension"
    channels = np.argwhere(np.isfinite(v).any(-1))
    order = rng.permutation(len(channels))
    used = 0
    labels = []
    for fault in FAULTS:
        for _ in range(counts.get(fault, 0)):
            placed = None
            while placed is None and used < len(order):
                s, z = channels[order[used]]
                used += 1
                placed = _place(fault, v[s, z], bool(is_t[s]), per_day, step_h, rng)
            if placed is None:
                break
            labels += [(s, z, fault, i0, i1) for i0, i1 in placed]
    ds["value"] = (("sensor", "depth", "time"), v, ds["value"].attrs)
    lab = pd.DataFrame(labels, columns=["s", "z", "fault", "i0", "i1"])
    out = pd.DataFrame({
        "sensor": ds["sensor"].values[lab["s"].to_numpy(int)],
        "depth_cm": ds["depth"].values[lab["z"].to_numpy(int)],
        "fault": lab["fault"].to_numpy(str),
        "start": time[lab["i0"].to_numpy(int)],
        "end": time[np.minimum(lab["i1"].to_numpy(int), n_t - 1)],
    })
    return ds, out


def _place(fault: str, series: np.ndarray, tension: bool, per_day: int, step_h: int,
           rng: np.random.Generator) -> list[tuple[int, int]] | None:
    """Put one fault into ``series`` (in place); its (start, end) indices, None if it
    does not fit this channel."""
    n_t = series.size
    if fault == "stuck":
        ok = np.flatnonzero((series > 20) if tension else np.isfinite(series))
        ok = ok[(ok > 10 * per_day) & (ok < n_t - 6 * per_day)]
        if not ok.size:
            return None
        i0 = int(rng.choice(ok))
        i1 = i0 + int(rng.integers(2, 6)) * per_day - 1
        series[i0:i1 + 1] = series[i0]
    elif fault == "spike":
        idx = np.sort(rng.choice(np.arange(5 * per_day, n_t - 5), int(rng.integers(3, 9)),
                                 replace=False))
        sign = rng.choice([-1.0, 1.0], idx.size)
        mag = rng.uniform(40, 80, idx.size) if tension else rng.uniform(0.1, 0.2, idx.size)
        if tension:  # a spike is away from the reading, within the logger's range
            sign = np.where(series[idx] + sign * mag < 0, 1.0, sign)
            series[idx] = np.clip(series[idx] + sign * mag, 0, 239)
        else:
            series[idx] = series[idx] + sign * mag
        return [(int(i), int(i)) for i in idx]
    elif fault == "drift":
        i0 = int(rng.integers(30 * per_day, max(31 * per_day, n_t - 40 * per_day)))
        i1 = n_t - 1
        days = np.arange(n_t - i0) / per_day
        rate = rng.uniform(1.5, 3.0) if tension else -0.004
        series[i0:] = series[i0:] + rate * days
        if tension:
            series[i0:] = np.clip(np.round(series[i0:]), 0, 239)
    elif fault == "dropout":
        i0 = int(rng.integers(5 * per_day, n_t - 6 * per_day))
        i1 = i0 + int(rng.integers(1, 6)) * per_day - 1
        series[i0:i1 + 1] = np.nan
    else:  # range
        i0 = int(rng.integers(5 * per_day, n_t - per_day))
        i1 = i0 + max(1, int(rng.integers(2, 13)) // step_h) - 1
        series[i0:i1 + 1] = rng.choice([255.0, -1.0])
    return [(i0, i1)]
