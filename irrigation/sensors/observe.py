"""The observation operator: sensor channels to root-zone depletion with an error variance.

:func:`window_means` averages the valid readings of the hours before each analysis time
(midnight starting day D) into one value per channel and day, :func:`window_bounds` the
censored ones (a tension channel pinned at the top of its range) into a lower bound;
:func:`channel_theta`
converts tension to water content through the van Genuchten curve of the site's soil;
:func:`root_zone_depletion` weights the channels over the root zone
(:func:`layer_weights`) into an observed depletion Dr [mm] with an error variance;
:func:`daily_observations` chains them for a city's probes.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import xarray as xr

from ..soil import (
    SoilParams,
    site_hydraulics,
    total_available_water_mm,
    van_genuchten_theta,
)
from .assimilate import DEFAULT_ASSIMILATION, AssimilationRules
from .qc import QC_FLAGS, daily_mean

_DAY = np.timedelta64(1, "D")


def probe_hydraulics(sensors: xr.Dataset, sites: xr.Dataset, textures: pd.DataFrame,
                     params: SoilParams | None = None) -> xr.Dataset:
    """Van Genuchten parameters, θFC, θWP and root depth at each probe's site (dim
    ``sensor``): the site's own measured soil where it has one, else its texture's
    (:func:`irrigation.soil.site_hydraulics`)."""
    at = sites.sel(site=sensors["site"].values)
    hyd = site_hydraulics(at, textures, params)
    ds = xr.Dataset({k: ("sensor", v) for k, v in hyd.items()},
                    coords={"sensor": sensors["sensor"].values})
    ds["root_depth_m"] = ("sensor", at["root_depth_m"].values.astype(float))
    ds["site"] = ("sensor", sensors["site"].values)
    return ds


def channel_theta(values: xr.DataArray, quantity: xr.DataArray, hyd: xr.Dataset) -> xr.DataArray:
    """Water content [m3 m-3] of each channel: tension through van Genuchten (1980), VWC as is."""
    vg = [hyd[k].sel(sensor=values["sensor"]) for k in ("theta_r", "theta_s", "alpha_per_cm", "n")]
    from_t = van_genuchten_theta(values.clip(min=0.0), *vg)
    th = xr.where(quantity.sel(sensor=values["sensor"]) == "tension", from_t, values)
    th.attrs["units"] = "m3 m-3"
    return th


def _window_index(times: np.ndarray, days: np.ndarray, window_hours: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Which readings at ``times`` fall in the window [D - window, D) of one of the
    ``days`` (bool over time), and the index of that day (int over time)."""
    d = np.asarray(days, dtype="datetime64[D]")
    ends = (times.astype("datetime64[D]") + _DAY)
    inwin = (ends - times) <= np.timedelta64(window_hours, "h")
    pos = np.searchsorted(d, ends)
    keep = inwin & (pos < d.size) & (d[np.minimum(pos, d.size - 1)] == ends)
    return keep, pos


def _window_average(v: np.ndarray, use: np.ndarray, keep: np.ndarray, pos: np.ndarray,
                    n_days: int) -> np.ndarray:
    """Mean of ``v`` (sensor, depth, time) where ``use``, per day of
    :func:`_window_index` (sensor, depth, day); NaN when none."""
    v = np.where(use, v, np.nan)
    return daily_mean(v[..., keep], pos[keep], n_days) if keep.any() else np.full(
        (*v.shape[:-1], n_days), np.nan)


def _channels(qc: xr.Dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``value``, ``valid`` and the censored bit of ``qc_flags`` over (sensor, depth,
    time)."""
    dims = ("sensor", "depth", "time")
    var = qc.variables
    v = var["value"].transpose(*dims).values
    valid = var["valid"].transpose(*dims).values
    if "qc_flags" not in qc:
        return v, valid, np.zeros(v.shape, bool)
    flags = var["qc_flags"].transpose(*dims).values
    return v, valid, (flags & QC_FLAGS["censored"]) > 0


def _days_array(qc: xr.Dataset, days: np.ndarray, values: np.ndarray) -> xr.DataArray:
    d = np.asarray(days, dtype="datetime64[D]")
    return xr.DataArray(values, dims=("sensor", "depth", "time"), coords={
        "sensor": qc["sensor"].values, "depth": qc["depth"].values,
        "time": d.astype("datetime64[ns]")}, attrs={"units": "kPa or m3 m-3 (see quantity)"})


def window_means(qc: xr.Dataset, days: np.ndarray, window_hours: int, *,
                 censored: bool = False) -> xr.DataArray:
    """Mean of the valid readings in [D - window, D) for each day D (UTC midnight).

    With ``censored``, readings pinned at the top of the range (the ``censored`` bit of
    ``qc_flags``) are averaged too, at their value (the ceiling): what the sensor read,
    e.g. to score a model whose predictions are capped at the same ceiling.

    Returns ``value`` over (``sensor``, ``depth``, ``time`` = the days), NaN when no valid
    reading fell in a window.
    """
    v, use, cens = _channels(qc)
    if censored:
        use = use | cens
    keep, pos = _window_index(qc["time"].values, days, window_hours)
    return _days_array(qc, days, _window_average(v, use, keep, pos, np.size(days)))


def _bounds(v: np.ndarray, valid: np.ndarray, cens: np.ndarray, keep: np.ndarray,
            pos: np.ndarray, n_days: int) -> np.ndarray:
    """The window bounds of :func:`window_bounds` (sensor, depth, day)."""
    mean = _window_average(v, valid | cens, keep, pos, n_days)
    any_cens = _window_average(cens.astype(float), np.ones(cens.shape, bool), keep, pos,
                               n_days)
    return np.where(any_cens > 0, mean, np.nan)


def window_bounds(qc: xr.Dataset, days: np.ndarray, window_hours: int) -> xr.DataArray:
    """Lower bound of each channel's window mean where its window holds censored readings.

    For each day D, the channels with at least one censored reading (a tension pinned at
    the top of the sensor's range, ``qc_flags`` bit ``censored``) in [D - window, D):
    the mean of their valid and censored readings, the censored ones at the ceiling.
    Since a censored reading's tension is at least its value, this mean is a lower bound
    of the window's mean tension. NaN where a window has no censored reading.
    """
    v, valid, cens = _channels(qc)
    keep, pos = _window_index(qc["time"].values, days, window_hours)
    return _days_array(qc, days, _bounds(v, valid, cens, keep, pos, np.size(days)))


def layer_weights(depth_cm: np.ndarray, root_depth_m: np.ndarray) -> np.ndarray:
    """Share of the root zone each channel represents (sensor, depth).

    A channel stands for the layer between the midpoints to its neighbours (the top one
    from the surface, the bottom one half a spacing below it).
    """
    z = np.asarray(depth_cm, float) / 100.0
    mids = (z[1:] + z[:-1]) / 2 if z.size > 1 else np.array([])
    tail = (z[-1] - z[-2]) / 2 if z.size > 1 else z[-1]
    top = np.concatenate([[0.0], mids])
    bot = np.concatenate([mids, [z[-1] + tail]])
    zr = np.asarray(root_depth_m, float)[:, None]
    return np.clip(np.minimum(bot, zr) - top, 0.0, None) / zr


def root_zone_depletion(
    values: xr.DataArray,
    quantity: xr.DataArray,
    hyd: xr.Dataset,
    rules: AssimilationRules = DEFAULT_ASSIMILATION,
    censored: xr.DataArray | None = None,
) -> xr.Dataset:
    """Observation operator: channel readings to root-zone depletion Dr [mm] and its variance.

    Parameters
    ----------
    values
        Readings over (``sensor``, ``depth`` [cm], ...): tension [kPa] or VWC [m3 m-3].
    quantity
        ``tension`` or ``vwc`` per sensor.
    hyd
        :func:`probe_hydraulics` of the probes.
    rules
        Error variances.
    censored
        True where a channel's value is only a lower bound of its tension (like
        ``values``; :func:`window_bounds`); None: none is.

    Returns
    -------
    xr.Dataset
        ``dr_obs_mm`` and ``var_obs_mm2`` over (``sensor``, ...), NaN where no channel
        inside the root zone had a valid reading; ``theta_obs`` [m3 m-3]; ``above_fc``
        (bool): the root zone read wetter than field capacity; ``censored`` (bool): a
        channel inside the root zone was censored, so ``dr_obs_mm`` is a lower bound of
        the depletion.

    Notes
    -----
    θ of a tension channel from van Genuchten (1980) eq. 21 of the site's soil; the
    root-zone θ is the layer-weighted mean (:func:`layer_weights`) of the channels with a
    reading, Dr = 1000 Zr (θFC - θ) (FAO-56 eq. 87 in reverse), kept within [0, TAW].
    Channel error σ² = σ_channel² + (dθ/dψ · σ_rel ψ)² for tension; the root-zone error is
    Σ w² σ² / (Σ w)² + σ_profile².

    *Readings wetter than field capacity.* The daily balance drains water above field
    capacity within the day it arrives (FAO-56 eq. 88, deep percolation), so its morning
    state is never wetter than Dr = 0. A root zone that reads wetter (drainage still under
    way after rain or watering, which takes days in fine soils; or a pit that holds more
    than its soil class) is observed as Dr = 0, and the water above field capacity,
    1000 Zr (θ - θFC) [mm], is added to the observation error as a standard deviation:
    the further above field capacity, the less the reading says about the drained state
    the model represents. A reading just above field capacity still pulls a dry
    background towards it; a soaked pit after a storm barely does.

    *Censored channels.* A tension at least ψ_c means a water content at most θ(ψ_c)
    (the retention curve falls monotonically), so the layer-weighted θ with θ(ψ_c) put
    in for a censored channel is an upper bound of the root zone's θ, and its Dr a lower
    bound. :func:`irrigation.sensors.analysis` uses such an observation one-sidedly.
    """
    values = values.transpose("sensor", "depth", ...)
    rest = values.dims[2:]
    ids = values["sensor"].values
    if not np.array_equal(hyd["sensor"].values, ids):
        hyd = hyd.sel(sensor=ids)
    if not np.array_equal(quantity["sensor"].values, ids):
        quantity = quantity.sel(sensor=ids)
    c = None if censored is None else censored.transpose(
        "sensor", "depth", ...).fillna(False).values
    out = channel_depletion(values.values, quantity.values == "tension",
                            values["depth"].values, hyd, rules, c)
    dims = ("sensor", *rest)
    coords = {"sensor": values["sensor"].values}
    coords.update({d: values[d].values for d in rest if d in values.coords})
    return xr.Dataset({k: (dims, v, OBSERVATION_ATTRS[k]) for k, v in out.items()},
                      coords=coords)


#: The per-sensor hydraulics :func:`channel_depletion` reads.
HYDRAULICS = ("theta_r", "theta_s", "alpha_per_cm", "n", "theta_fc", "theta_wp",
              "root_depth_m")

#: Attributes of the variables of :func:`root_zone_depletion`.
OBSERVATION_ATTRS = {"dr_obs_mm": {"units": "mm"}, "var_obs_mm2": {"units": "mm2"},
                     "theta_obs": {"units": "m3 m-3"}, "above_fc": {}, "censored": {}}


def channel_depletion(values: np.ndarray, is_tension: np.ndarray, depth_cm: np.ndarray,
                      hyd: Mapping[str, np.ndarray | xr.DataArray],
                      rules: AssimilationRules = DEFAULT_ASSIMILATION,
                      censored: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The observation operator of :func:`root_zone_depletion` on arrays.

    Parameters
    ----------
    values
        Readings (sensor, depth, ...): tension [kPa] or VWC [m3 m-3].
    is_tension
        True for a tension probe (sensor,).
    depth_cm
        Channel depths [cm] (depth,).
    hyd
        Per sensor: ``theta_r``, ``theta_s``, ``alpha_per_cm``, ``n``, ``theta_fc``,
        ``theta_wp`` and ``root_depth_m`` (:func:`probe_hydraulics`, in the order of
        ``values``).
    rules
        Error variances.
    censored
        Like ``values``: True where a channel's value is only a lower bound of its
        tension; None: none is.

    Returns
    -------
    dict
        ``dr_obs_mm``, ``var_obs_mm2``, ``theta_obs``, ``above_fc`` and ``censored`` over
        (sensor, ...), as :func:`root_zone_depletion` documents them.
    """
    v = np.asarray(values).astype(float)
    extra = (1,) * (v.ndim - 2)

    def per_sensor(name: str, depth: bool = True) -> np.ndarray:
        a = np.asarray(hyd[name], dtype=float)
        return a.reshape((-1, 1, *extra)) if depth else a.reshape((-1, *extra))

    vg = [per_sensor(k) for k in ("theta_r", "theta_s", "alpha_per_cm", "n")]
    is_t = np.asarray(is_tension).reshape((-1, 1, *extra))
    psi = np.clip(v, 0.0, None)
    theta = np.where(is_t, van_genuchten_theta(psi, *vg), v)
    dpsi = 0.01 * psi + 0.1
    slope = np.abs(van_genuchten_theta(psi + dpsi, *vg) - van_genuchten_theta(psi, *vg)) / dpsi
    var_ch = rules.sigma_theta_channel**2 + np.where(
        is_t, (slope * rules.sigma_tension_rel * psi) ** 2, 0.0)
    w = layer_weights(depth_cm, np.asarray(hyd["root_depth_m"])).reshape(
        theta.shape[:2] + extra)
    w = np.where(np.isfinite(theta), w, 0.0)
    sw = w.sum(1)
    has = sw > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        th_rz = (w * np.nan_to_num(theta)).sum(1) / sw
        var_th = (w**2 * np.nan_to_num(var_ch)).sum(1) / sw**2 + rules.sigma_theta_profile**2
    zr_mm = 1000.0 * per_sensor("root_depth_m", depth=False)
    fc = per_sensor("theta_fc", depth=False)
    taw = total_available_water_mm(fc, per_sensor("theta_wp", depth=False),
                                   per_sensor("root_depth_m", depth=False))
    deficit = zr_mm * (fc - th_rz)  # < 0: wetter than field capacity
    above = deficit < 0
    dr = np.where(deficit > taw, taw, np.clip(deficit, 0.0, None))
    var = zr_mm**2 * var_th + np.where(above, deficit**2, 0.0)
    cens = np.zeros(sw.shape, bool)
    if censored is not None:
        cens = (w * np.asarray(censored).astype(float)).sum(1) > 0
    nan = np.nan
    return {"dr_obs_mm": np.where(has, dr, nan), "var_obs_mm2": np.where(has, var, nan),
            "theta_obs": np.where(has, th_rz, nan), "above_fc": above & has,
            "censored": cens & has}


def daily_observations(readings: xr.Dataset, days: np.ndarray, sensors: xr.Dataset,
                       hyd: xr.Dataset, rules: AssimilationRules = DEFAULT_ASSIMILATION
                       ) -> xr.Dataset:
    """Root-zone observations of every probe on the mornings ``days``.

    The valid readings of the ``rules.window_hours`` before each morning
    (:func:`window_means`), or a lower bound where the window holds censored readings
    (:func:`window_bounds`), through the observation operator
    (:func:`root_zone_depletion`).

    Parameters
    ----------
    readings
        ``value`` and ``valid`` over (``sensor``, ``depth``, ``time``), coord ``quantity``.
    days
        The mornings (UTC midnight starting each day).
    sensors
        The city's probes (their ``site``).
    hyd
        :func:`probe_hydraulics` of the probes.

    Returns
    -------
    xr.Dataset
        Over (``sensor``, ``time`` = ``days``): ``dr_obs_mm``, ``var_obs_mm2``,
        ``theta_obs``, ``censored`` (``dr_obs_mm`` is a lower bound); ``site`` of each
        probe.
    """
    return _observations(readings, days, sensors, hyd, rules)


def morning_observations(readings: xr.Dataset, day: np.datetime64, sensors: xr.Dataset,
                         hyd: xr.Dataset, rules: AssimilationRules = DEFAULT_ASSIMILATION
                         ) -> xr.Dataset:
    """The root-zone observations of every probe on the morning of ``day``:
    ``daily_observations(readings, [day], ...).isel(time=0)`` (over ``sensor``, ``time``
    a scalar coordinate), built once, for a caller that assimilates one morning at a
    time (the closed-loop season)."""
    return _observations(readings, np.array([np.datetime64(day, "D")]), sensors, hyd,
                         rules, one=True)


def _observations(readings: xr.Dataset, days: np.ndarray, sensors: xr.Dataset,
                  hyd: xr.Dataset, rules: AssimilationRules, one: bool = False
                  ) -> xr.Dataset:
    """:func:`daily_observations`; with ``one``, of its only day as :func:`morning_observations`."""
    v, valid, cens = _channels(readings)
    var = readings.variables
    keep, pos = _window_index(var["time"].values, days, rules.window_hours)
    n_days = np.size(days)
    bounds = _bounds(v, valid, cens, keep, pos, n_days)
    censored = ~np.isnan(bounds)
    means = np.where(censored, bounds, _window_average(v, valid, keep, pos, n_days))
    ids = var["sensor"].values
    if not np.array_equal(hyd.variables["sensor"].values, ids):
        hyd = hyd.sel(sensor=ids)
    q = var["quantity"].values  # over sensor, as the readings
    out = channel_depletion(means, q == "tension", var["depth"].values,
                            {k: hyd.variables[k].values for k in HYDRAULICS}, rules, censored)
    time = np.asarray(days, dtype="datetime64[D]").astype("datetime64[ns]")
    site = sensors["site"]
    if one:  # the day's column, time a scalar coordinate (as isel(time=0))
        data = {k: ("sensor", v[:, 0], dict(OBSERVATION_ATTRS[k])) for k, v in out.items()}
        coords = {"sensor": ids, "time": ((), time[0])}
    else:
        data = {k: (("sensor", "time"), v, dict(OBSERVATION_ATTRS[k])) for k, v in out.items()}
        coords = {"sensor": ids, "time": time}
    if not np.array_equal(site["sensor"].values, ids):
        obs = xr.Dataset(data, coords=coords)
        obs["site"] = site  # aligned on sensor
        return obs
    # as obs["site"] = site, without the alignment
    return xr.Dataset({**data, "site": site.variable}, coords={
        **coords, **{k: c.variable for k, c in site.coords.items() if k != "sensor"}})
