"""Soil sensors: quality control, observation operator and assimilation into site states.

Readings come from :mod:`irrigation.io.sensors` as a Dataset over ``sensor`` (a probe in
one tree pit), ``depth`` [cm] and ``time`` (UTC) with ``value`` in kPa (tension) or
m3 m-3 (volumetric water content) and the probe's ``quantity``.

1. :func:`quality_control` adds ``qc_flags`` (a CF bit mask per reading) and ``valid``;
   flagged values never reach the model. :func:`qc_summary` is the per-channel table of
   the daily report.
2. :func:`window_means` averages the valid readings of the hours before each analysis
   time (midnight starting day D) into one value per channel and day;
   :func:`channel_theta` converts tension to water content through the van Genuchten
   curve of the site's soil; :func:`root_zone_depletion` weights the channels over the
   root zone into an observed depletion Dr [mm] with an error variance.
3. :func:`analysis` updates Dr of all sites by optimal interpolation: the sensed sites
   directly, the others through a background-error correlation that decays with distance
   and with dissimilarity of soil, species, age and kind.
4. :func:`hindcast` replays a season day by day with and without assimilation and scores
   the ``lead_days``-ahead prediction of tension at held-out probes.

All rules and error variances are :class:`~irrigation.config.QCRules` and
:class:`~irrigation.config.AssimilationRules` (tables ``[qc]`` and ``[assimilation]`` of
``city.toml``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from .config import AssimilationRules, QCRules
from .errors import InputError
from .landscape import LandscapeParams
from .soil import (
    SoilParams,
    simulate_sites,
    site_water_capacity,
    texture_hydraulics,
    total_available_water_mm,
    van_genuchten_tension_kpa,
    van_genuchten_theta,
)

QC_FLAGS = {"gap": 1, "range": 2, "stuck": 4, "spike": 8, "drift": 16, "implausible": 32}
"""Bits of ``qc_flags`` (CF ``flag_masks``/``flag_meanings``)."""

DEFAULT_QC = QCRules()
DEFAULT_ASSIMILATION = AssimilationRules()

_HOUR = np.timedelta64(1, "h")
_DAY = np.timedelta64(1, "D")


# --------------------------------------------------------------------------- QC


def _stuck(v: np.ndarray, hours: np.ndarray, min_duration_h: float) -> np.ndarray:
    """True where a reading belongs to a run of identical values lasting >= the duration."""
    n = v.shape[-1]
    same = np.zeros(v.shape, bool)
    same[..., 1:] = v[..., 1:] == v[..., :-1]
    idx = np.broadcast_to(np.arange(n), v.shape)
    start = np.maximum.accumulate(np.where(~same, idx, 0), axis=-1)
    nxt_diff = np.ones(v.shape, bool)
    nxt_diff[..., :-1] = ~same[..., 1:]
    end = np.flip(np.minimum.accumulate(np.flip(np.where(nxt_diff, idx, n - 1), -1), -1), -1)
    return (hours[end] - hours[start]) >= min_duration_h


def _running_median(frame: np.ndarray, window: int) -> np.ndarray:
    """Centred running median along the last axis of a (..., time) array, NaN-aware."""
    shape = frame.shape
    df = pd.DataFrame(frame.reshape(-1, shape[-1]).T)
    r = df.rolling(window, center=True, min_periods=window // 2 + 1).median()
    return r.to_numpy().T.reshape(shape)


def quality_control(
    readings: xr.Dataset,
    rules: QCRules = DEFAULT_QC,
    *,
    theta: xr.DataArray | None = None,
    expected_theta: xr.DataArray | None = None,
    watering_l: xr.DataArray | None = None,
    precip_mm: xr.DataArray | None = None,
) -> xr.Dataset:
    """Flag every reading that must not enter the model.

    Parameters
    ----------
    readings
        ``value`` over (``sensor``, ``depth``, ``time``) with coord ``quantity``.
    rules
        Thresholds, see :class:`~irrigation.config.QCRules`.
    theta
        The readings as water content [m3 m-3] (:func:`channel_theta`), needed with
        ``expected_theta`` for the drift test.
    expected_theta
        The model's root-zone water content at each probe's site [m3 m-3] over
        (``sensor``, daily ``time``); without it drift is measured against the other
        channels at the same depth only.
    watering_l
        Water given at each probe's site [L] over (``sensor``, daily ``time``).
    precip_mm
        Precipitation [mm d-1] over daily ``time``.

    Returns
    -------
    xr.Dataset
        ``readings`` plus ``qc_flags`` (uint8, bits :data:`QC_FLAGS`) and ``valid``.

    Notes
    -----
    Tests, each on its own bit: *gap* (no reading inside a channel's reporting span),
    *range* (outside the sensor's physical range), *stuck* (identical values for
    ``stuck_hours``, tension wetter than ``stuck_min_kpa`` exempt), *spike* (far from the
    centred running median, Hampel-type filter, Pearson 2002), *drift* (the channel's
    daily water content minus the model, minus the median of that over the channels at
    its depth, leaves its own median of the past ``drift_baseline_days`` by more than
    ``drift_theta`` for ``drift_days`` days), *implausible* (a watering that does not wet
    the shallowest channel; a sudden wetting on a dry day without watering).
    """
    v = readings["value"].transpose("sensor", "depth", "time").values.astype(float)
    time = readings["time"].values
    hours = (time - time[0]) / _HOUR if time.size else np.zeros(0)
    is_t = (readings["quantity"].values == "tension")[:, None, None]
    flags = np.zeros(v.shape, np.uint8)
    have = np.isfinite(v)
    idx = np.arange(v.shape[-1])
    first = np.where(have.any(-1), np.where(have, idx, v.shape[-1]).min(-1), v.shape[-1])
    last = np.where(have, idx, -1).max(-1)
    inside = (idx >= first[..., None]) & (idx <= last[..., None])
    flags[~have & inside] |= QC_FLAGS["gap"]
    lo, hi = np.where(is_t, rules.tension_range_kpa[0], rules.vwc_range[0]), np.where(
        is_t, rules.tension_range_kpa[1], rules.vwc_range[1])
    bad_range = have & ((v < lo) | (v > hi))
    flags[bad_range] |= QC_FLAGS["range"]
    w = np.where(bad_range, np.nan, v)
    if v.shape[-1]:
        stuck = _stuck(w, hours, rules.stuck_hours) & have
        stuck &= ~is_t | (w > rules.stuck_min_kpa)
        flags[stuck] |= QC_FLAGS["stuck"]
        med = _running_median(w, rules.spike_window)
        dev = np.abs(w - med)
        spike = np.where(is_t, (dev > rules.spike_kpa) & (dev > rules.spike_rel * np.abs(med)),
                         dev > rules.spike_vwc)
        flags[spike & have] |= QC_FLAGS["spike"]
    day = time.astype("datetime64[D]")
    days = np.unique(day)
    pos = np.searchsorted(days, day)
    flags |= _implausible(w, hours, is_t, days, pos, readings, rules, watering_l, precip_mm)
    if theta is not None and days.size:
        th = theta.transpose("sensor", "depth", "time").values.astype(float)
        th = np.where(flags == 0, th, np.nan)
        drift_days = _drift(th, pos, days, expected_theta, readings, rules)
        flags[drift_days[..., pos] & have] |= QC_FLAGS["drift"]
    out = readings.copy()
    out["qc_flags"] = (("sensor", "depth", "time"), flags, {
        "flag_masks": np.array(list(QC_FLAGS.values()), np.uint8),
        "flag_meanings": " ".join(QC_FLAGS)})
    out["valid"] = (("sensor", "depth", "time"), have & (flags == 0))
    return out


def _daily_mean(a: np.ndarray, pos: np.ndarray, n_days: int) -> np.ndarray:
    """Mean over the readings of each day (last axis), NaN when none."""
    ok = np.isfinite(a)
    s = np.zeros((*a.shape[:-1], n_days))
    c = np.zeros_like(s)
    np.add.at(s.T, pos, np.where(ok, a, 0.0).T)
    np.add.at(c.T, pos, ok.T.astype(float))
    with np.errstate(invalid="ignore"):
        return s / c


def _drift(th, pos, days, expected_theta, readings, rules: QCRules) -> np.ndarray:
    """Days (sensor, depth, day) on which a channel's offset has drifted."""
    daily = _daily_mean(th, pos, days.size)
    if expected_theta is not None:
        exp = expected_theta.sel(sensor=readings["sensor"].values)
        exp = exp.reindex(time=days.astype("datetime64[ns]")).transpose("sensor", "time").values
        daily = daily - exp[:, None, :]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # days without any reading
        common = np.nanmedian(daily, axis=0, keepdims=True)
    r = daily - common
    lag = 7
    shape = r.shape
    df = pd.DataFrame(r.reshape(-1, shape[-1]).T)
    base = df.shift(lag).rolling(rules.drift_baseline_days, min_periods=5).median()
    off = np.abs(df - base).to_numpy().T.reshape(shape) > rules.drift_theta
    runs = pd.DataFrame(off.reshape(-1, shape[-1]).T.astype(float))
    run_ok = runs.rolling(rules.drift_days, min_periods=rules.drift_days).min().to_numpy()
    ending = np.nan_to_num(run_ok) > 0
    # a day belongs to a flagged run if a qualifying window ends within drift_days after it
    flag = pd.DataFrame(ending[::-1].astype(float)).rolling(
        rules.drift_days, min_periods=1).max().to_numpy()[::-1] > 0
    return flag.T.reshape(shape)


def _implausible(w, hours, is_t, days, pos, readings, rules, watering_l, precip_mm):
    flags = np.zeros(w.shape, np.uint8)
    if not days.size:
        return flags
    water = np.zeros((w.shape[0], days.size))
    if watering_l is not None:
        water = (watering_l.sel(sensor=readings["sensor"].values)
                 .reindex(time=days.astype("datetime64[ns]"), fill_value=0.0)
                 .transpose("sensor", "time").fillna(0.0).values)
    rain = np.zeros(days.size)
    if precip_mm is not None:
        rain = precip_mm.reindex(time=days.astype("datetime64[ns]")).fillna(0.0).values
    wet_input = (water > 0) | (rain >= rules.dry_day_mm)[None, :]
    wet_recent = wet_input.copy()
    wet_recent[:, 1:] |= wet_input[:, :-1]
    # sudden wetting without rain or watering (tension only)
    prev_max = _rolling_time_max(w, hours, 6.0)
    drop = (prev_max - w) > rules.wetting_kpa
    sudden = drop & is_t & ~wet_recent[:, None, pos]
    flags[sudden] |= QC_FLAGS["implausible"]
    # watering that does not wet the shallowest channel
    watered = water >= rules.watering_min_l
    if watered.any():
        have = np.isfinite(w)
        shallow = np.argmax(have.any(-1), axis=1)  # first depth with readings
        s_idx = np.arange(w.shape[0])
        ws = w[s_idx, shallow]  # (sensor, time)
        before = _daily_last(ws, pos, days.size)
        after_min = _daily_min(ws, pos, days.size)
        after2 = np.fmin(after_min, np.concatenate([after_min[:, 1:], after_min[:, -1:]], 1))
        pre = np.concatenate([np.full((w.shape[0], 1), np.nan), before[:, :-1]], 1)
        no_response = (watered & (pre > rules.watering_dry_kpa)
                       & (after2 > pre - rules.watering_response_kpa)
                       & is_t[:, 0, 0][:, None])
        bad_day = no_response.copy()
        bad_day[:, 1:] |= no_response[:, :-1]
        mark = bad_day[:, pos]
        sub = flags[s_idx, shallow]
        sub[mark & np.isfinite(ws)] |= QC_FLAGS["implausible"]
        flags[s_idx, shallow] = sub
    return flags


def _rolling_time_max(w: np.ndarray, hours: np.ndarray, span_h: float) -> np.ndarray:
    """Max of each channel over the readings of the preceding ``span_h`` hours."""
    shape = w.shape
    idx = pd.to_datetime(hours, unit="h")
    df = pd.DataFrame(w.reshape(-1, shape[-1]).T, index=idx)
    r = df.rolling(f"{int(span_h)}h", closed="left").max().to_numpy()
    return r.T.reshape(shape)


def _daily_last(a, pos, n_days):
    out = np.full((*a.shape[:-1], n_days), np.nan)
    ok = np.isfinite(a)
    for_idx = np.where(ok, np.arange(a.shape[-1]), -1)
    last_idx = np.full(out.shape, -1)
    np.maximum.at(last_idx.T, pos, for_idx.T)
    got = last_idx >= 0
    out[got] = np.take_along_axis(a, np.where(got, last_idx, 0), -1)[got]
    return out


def _daily_min(a, pos, n_days):
    out = np.full((*a.shape[:-1], n_days), np.inf)
    np.minimum.at(out.T, pos, np.where(np.isfinite(a), a, np.inf).T)
    return np.where(np.isinf(out), np.nan, out)


def qc_summary(qc: xr.Dataset) -> pd.DataFrame:
    """Per channel: readings, valid share, flags by type and the longest gap.

    Returns
    -------
    pandas.DataFrame
        Index (sensor, depth_cm); columns ``readings``, ``valid_pct``, one count per
        flag, ``longest_gap_h`` and ``problems`` (a short text, empty when clean).
    """
    flags = qc["qc_flags"].transpose("sensor", "depth", "time").values
    have = np.isfinite(qc["value"].transpose("sensor", "depth", "time").values)
    time = qc["time"].values
    step_h = float(np.median(np.diff(time)) / _HOUR) if time.size > 1 else 1.0
    gap = (flags & QC_FLAGS["gap"]) > 0
    longest = _longest_run(gap) * step_h
    data = {"readings": have.sum(-1)}
    n_valid = qc["valid"].transpose("sensor", "depth", "time").values.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        data["valid_pct"] = np.round(100.0 * n_valid / have.sum(-1), 1)
    for name, bit in QC_FLAGS.items():
        if name != "gap":
            data[name] = ((flags & bit) > 0).sum(-1)
    data["longest_gap_h"] = longest
    index = pd.MultiIndex.from_product(
        [qc["sensor"].values, qc["depth"].values], names=["sensor", "depth_cm"])
    df = pd.DataFrame({k: np.asarray(v).ravel() for k, v in data.items()}, index=index)
    df = df[df["readings"] > 0]
    texts = []
    for _, row in df.iterrows():
        parts = [f"{name} {int(row[name])}" for name in QC_FLAGS if name != "gap" and row[name]]
        if row["longest_gap_h"] >= 24:
            parts.append(f"gap {row['longest_gap_h']:.0f} h")
        texts.append(", ".join(parts))
    df["problems"] = texts
    return df


def _longest_run(mask: np.ndarray) -> np.ndarray:
    """Longest run of True along the last axis."""
    m = mask.astype(np.int64)
    csum = np.cumsum(m, -1)
    reset = np.maximum.accumulate(np.where(m == 0, csum, 0), -1)
    return (csum - reset).max(-1) if m.shape[-1] else np.zeros(m.shape[:-1], int)


# --------------------------------------------------------------------------- observations


def probe_hydraulics(sensors: xr.Dataset, sites: xr.Dataset, textures: pd.DataFrame,
                     params: SoilParams | None = None) -> xr.Dataset:
    """Van Genuchten parameters, θFC, θWP and root depth at each probe's site (dim ``sensor``)."""
    at = sites.sel(site=sensors["site"].values)
    hyd = texture_hydraulics(at["soil_texture"].values, textures, params)
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


def window_means(qc: xr.Dataset, days: np.ndarray, window_hours: int) -> xr.DataArray:
    """Mean of the valid readings in [D - window, D) for each day D (UTC midnight).

    Returns ``value`` over (``sensor``, ``depth``, ``time`` = the days), NaN when no valid
    reading fell in a window.
    """
    t = qc["time"].values
    d = np.asarray(days, dtype="datetime64[D]")
    ends = (t.astype("datetime64[D]") + _DAY)
    inwin = (ends - t) <= np.timedelta64(window_hours, "h")
    pos = np.searchsorted(d, ends)
    keep = inwin & (pos < d.size) & (d[np.minimum(pos, d.size - 1)] == ends)
    v = qc["value"].where(qc["valid"]).transpose("sensor", "depth", "time").values
    out = _daily_mean(v[..., keep], pos[keep], d.size) if keep.any() else np.full(
        (*v.shape[:-1], d.size), np.nan)
    return xr.DataArray(out, dims=("sensor", "depth", "time"), coords={
        "sensor": qc["sensor"].values, "depth": qc["depth"].values,
        "time": d.astype("datetime64[ns]")}, attrs={"units": "kPa or m3 m-3 (see quantity)"})


def _layer_weights(depth_cm: np.ndarray, root_depth_m: np.ndarray) -> np.ndarray:
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

    Returns
    -------
    xr.Dataset
        ``dr_obs_mm`` and ``var_obs_mm2`` over (``sensor``, ...), NaN where no channel
        inside the root zone had a valid reading; ``theta_obs`` [m3 m-3].

    Notes
    -----
    θ of a tension channel from van Genuchten (1980) eq. 21 of the site's soil; the
    root-zone θ is the layer-weighted mean (:func:`_layer_weights`) of the channels with a
    reading, Dr = 1000 Zr (θFC - θ) (FAO-56 eq. 87 in reverse), kept within [0, TAW].
    Channel error σ² = σ_channel² + (dθ/dψ · σ_rel ψ)² for tension; the root-zone error is
    Σ w² σ² / (Σ w)² + σ_profile².
    """
    hyd = hyd.sel(sensor=values["sensor"].values)
    theta = channel_theta(values, quantity, hyd)
    vg = [hyd[k] for k in ("theta_r", "theta_s", "alpha_per_cm", "n")]
    psi = values.clip(min=0.0)
    dpsi = 0.01 * psi + 0.1
    slope = np.abs(van_genuchten_theta(psi + dpsi, *vg) - van_genuchten_theta(psi, *vg)) / dpsi
    is_t = quantity.sel(sensor=values["sensor"]) == "tension"
    var_ch = rules.sigma_theta_channel**2 + xr.where(
        is_t, (slope * rules.sigma_tension_rel * psi) ** 2, 0.0)
    w = xr.DataArray(_layer_weights(values["depth"].values, hyd["root_depth_m"].values),
                     dims=("sensor", "depth"), coords={"sensor": values["sensor"].values,
                                                       "depth": values["depth"].values})
    w = w.where(np.isfinite(theta), 0.0)
    sw = w.sum("depth")
    th_rz = (w * theta.fillna(0.0)).sum("depth") / sw
    var_th = (w**2 * var_ch.fillna(0.0)).sum("depth") / sw**2 + rules.sigma_theta_profile**2
    zr_mm = 1000.0 * hyd["root_depth_m"]
    taw = total_available_water_mm(hyd["theta_fc"], hyd["theta_wp"], hyd["root_depth_m"])
    dr = (zr_mm * (hyd["theta_fc"] - th_rz)).clip(min=0.0)
    dr = xr.where(dr > taw, taw, dr).where(sw > 0)
    out = xr.Dataset({"dr_obs_mm": dr, "var_obs_mm2": (zr_mm**2 * var_th).where(sw > 0),
                      "theta_obs": th_rz.where(sw > 0)})
    out["dr_obs_mm"].attrs["units"] = "mm"
    out["var_obs_mm2"].attrs["units"] = "mm2"
    out["theta_obs"].attrs["units"] = "m3 m-3"
    return out


# --------------------------------------------------------------------------- analysis


def _age(sites: xr.Dataset) -> np.ndarray:
    if "planting_year" in sites:
        return np.nan_to_num(sites["planting_year"].values.astype(float), nan=-9999.0)
    return np.zeros(sites.sizes["site"])


def background_correlation(a: xr.Dataset, b: xr.Dataset, rules: AssimilationRules) -> np.ndarray:
    """Correlation of background errors between sites ``a`` and ``b`` (len(a) x len(b)).

    ρ = exp(-d / L) · s_soil^[texture differs] · s_species^[species differs] ·
    s_age^[planting years differ by more than the tolerance] · [same kind]. The exponential
    is a valid correlation in the plane (Gaspari & Cohn 1999, eq. 4.2 family); each
    category factor s·J + (1 - s)·[same] is positive semi-definite, and by the Schur product
    theorem (Horn & Johnson 2013, Matrix Analysis, thm. 7.5.3) so is the product.
    """
    d = np.hypot(a["x"].values[:, None] - b["x"].values[None, :],
                 a["y"].values[:, None] - b["y"].values[None, :])
    rho = np.exp(-d / rules.length_scale_m)
    for name, s in (("soil_texture", rules.similarity_soil), ("species", rules.similarity_species)):
        rho *= np.where(a[name].values[:, None] == b[name].values[None, :], 1.0, s)
    age = np.abs(_age(a)[:, None] - _age(b)[None, :]) > rules.age_tolerance_years
    rho *= np.where(age, rules.similarity_age, 1.0)
    rho *= a["kind"].values[:, None] == b["kind"].values[None, :]
    return rho


def analysis(
    dr_b_mm: xr.DataArray,
    var_b_mm2: xr.DataArray,
    obs: xr.Dataset,
    sites: xr.Dataset,
    taw_mm: xr.DataArray,
    rules: AssimilationRules = DEFAULT_ASSIMILATION,
    rho: np.ndarray | None = None,
) -> xr.Dataset:
    """Optimal-interpolation update of the root-zone depletion of every site.

    Parameters
    ----------
    dr_b_mm
        Background (model) depletion [mm] over ``site`` [, ``member``].
    var_b_mm2
        Background error variance [mm2] over ``site``.
    obs
        Over dim ``sensor``: ``site``, ``dr_obs_mm`` and ``var_obs_mm2``
        (:func:`root_zone_depletion`); NaN observations are skipped.
    sites
        City sites (x, y, kind, species, soil_texture, planting_year).
    taw_mm
        Total available water per site [mm]; the analysis is kept within [0, TAW].
    rules
        Correlation model (:func:`background_correlation`).
    rho
        The correlation between all sites and the sites of ``obs`` (len(sites) x
        len(obs)), when the caller has it already (it depends on the geometry only);
        computed here otherwise.

    Returns
    -------
    xr.Dataset
        ``dr_mm`` (like ``dr_b_mm``), ``var_mm2``, ``increment_mm``; attrs ``n_obs``.

    Notes
    -----
    x_a = x_b + K (y - H x_b) with K = B Hᵀ (H B Hᵀ + R)⁻¹, and
    diag(A) = diag(B) - rowsum(K ∘ B Hᵀ) (optimal interpolation; Kalnay 2003, Atmospheric
    Modeling, Data Assimilation and Predictability, sec. 5.4), with B_ij = σ_i σ_j ρ_ij.
    Only the diagonal of B is carried from day to day; the correlations come from ρ every
    time (a stated simplification of a full Kalman filter).
    """
    ok = np.isfinite(obs["dr_obs_mm"].values) & np.isfinite(obs["var_obs_mm2"].values)
    out = xr.Dataset({"dr_mm": dr_b_mm.copy(), "var_mm2": var_b_mm2.copy()})
    out["increment_mm"] = xr.zeros_like(dr_b_mm)
    out.attrs["n_obs"] = int(ok.sum())
    if not ok.any():
        return out
    o = obs.isel(sensor=np.flatnonzero(ok))
    site_ids = sites["site"].values
    pos = pd.Index(site_ids).get_indexer(o["site"].values)
    if (pos < 0).any():
        raise InputError(f"observation at unknown site {o['site'].values[pos < 0][0]!r}",
                         field="site")
    sig = np.sqrt(var_b_mm2.sel(site=site_ids).values)
    rho_so = (background_correlation(sites, sites.isel(site=pos), rules) if rho is None
              else rho[:, ok])
    # only sites correlated with some observation change (rho is 0 between kinds): the gain
    # is computed for those rows alone, the others keep their background exactly
    near = np.flatnonzero(np.any(rho_so != 0.0, axis=1))
    b_so = sig[near, None] * sig[pos][None, :] * rho_so[near]
    s = (sig[pos, None] * sig[pos][None, :] * rho_so[pos]) + np.diag(o["var_obs_mm2"].values)
    k = np.linalg.solve(s, b_so.T).T  # (near site, obs); S is symmetric
    xb = dr_b_mm.transpose("site", ...)
    innov = o["dr_obs_mm"].values.reshape((-1,) + (1,) * (xb.ndim - 1)) - xb.values[pos]
    inc = np.zeros(xb.shape)
    inc[near] = np.tensordot(k, innov, axes=(1, 0))
    taw = taw_mm.sel(site=site_ids).values.reshape((-1,) + (1,) * (xb.ndim - 1))
    xa = np.clip(xb.values + inc, 0.0, taw)
    out["dr_mm"] = xb.copy(data=xa).transpose(*dr_b_mm.dims)
    out["increment_mm"] = xb.copy(data=xa - xb.values).transpose(*dr_b_mm.dims)
    reduction = np.zeros(sig.size)
    reduction[near] = (k * b_so).sum(1)
    out["var_mm2"] = var_b_mm2.copy(data=np.maximum(sig**2 - reduction, 0.0))
    for name in ("dr_mm", "increment_mm"):
        out[name].attrs["units"] = "mm"
    out["var_mm2"].attrs["units"] = "mm2"
    return out


def advance_variance(var_a_mm2, etc_mm, taw_mm, rules: AssimilationRules = DEFAULT_ASSIMILATION):
    """Background variance of the next day: P + (σ_q ETc)², capped at (σ_max TAW)² [mm2]."""
    return np.minimum(var_a_mm2 + (rules.sigma_q_frac * etc_mm) ** 2,
                      (rules.sigma_b_max_frac * taw_mm) ** 2)


# --------------------------------------------------------------------------- hindcast


def hindcast(
    sites: xr.Dataset,
    sensors: xr.Dataset,
    qc: xr.Dataset,
    et0_mm: xr.DataArray,
    precip_mm: xr.DataArray,
    *,
    textures: pd.DataFrame,
    species: pd.DataFrame,
    irrigation_l: xr.DataArray | None = None,
    depth_to_water_m: xr.DataArray | None = None,
    lead_days: int = 3,
    holdout: Sequence[Sequence[str]] | None = None,
    rules: AssimilationRules = DEFAULT_ASSIMILATION,
    tension_max_kpa: float = DEFAULT_QC.tension_range_kpa[1],
    params: SoilParams | None = None,
    landscape: LandscapeParams | None = None,
) -> xr.Dataset:
    """Replay a season with and without assimilation; score the held-out probes.

    Every day D of ``et0_mm`` (from field capacity on the first day): the analysis at the
    start of D assimilates the window means of all probes except the held-out group, the
    model runs ``lead_days`` ahead with the observed weather (a perfect forecast), and the
    predicted root-zone tension is compared with what the held-out probes read at the
    start of D + ``lead_days``. The open loop (no assimilation) is run alongside.

    Parameters
    ----------
    sites, sensors
        The city's sites and probes.
    qc
        Quality-controlled readings (:func:`quality_control`).
    et0_mm, precip_mm
        Observed weather [mm d-1] over ``time``.
    textures, species
        Soil and species tables.
    irrigation_l
        Executed watering [L] over (``time``, ``site``).
    depth_to_water_m
        Water table depth [m] over ``site``.
    lead_days
        Forecast lead scored [d].
    holdout
        Groups of probe ids; each group is held out in its own run (a member of the
        result). Default: 4 groups, every 4th probe.
    rules
        Error variances and correlation model.
    tension_max_kpa
        Top of the tension sensors' range [kPa]: predicted tension is capped there, as
        the sensor would read it.

    Returns
    -------
    xr.Dataset
        Over (``run`` = open_loop/assimilated, ``sensor``, ``depth``, ``time``):
        predicted root-zone ``tension_pred_kpa`` and ``theta_pred``; observed
        ``tension_obs_kpa`` and ``theta_obs`` per channel and ``rz_tension_obs_kpa`` of
        the layer-weighted root zone; per run ``rmse_tension_kpa``, ``bias_tension_kpa``,
        ``rmse_theta`` and ``n_scored`` over the held-out channels within the root zone,
        and ``rmse_rz_tension_kpa`` over the held-out tension probes.
    """
    probes = sensors["sensor"].values
    if holdout is None:
        holdout = [list(probes[i::4]) for i in range(min(4, len(probes)))]
    days = et0_mm["time"].values.astype("datetime64[D]")
    n_days = days.size
    site_ids = sites["site"].values
    hyd_p = probe_hydraulics(sensors, sites, textures, params)
    _, taw = site_water_capacity(sites, textures, params)
    means = window_means(qc, days, rules.window_hours)
    obs = root_zone_depletion(means, qc["quantity"], hyd_p, rules)
    obs["site"] = sensors["site"]
    psite = pd.Index(site_ids).get_indexer(sensors["site"].values)
    rho = background_correlation(sites, sites.isel(site=psite), rules)  # static: once
    n_m = 1 + len(holdout)
    dr = np.zeros((site_ids.size, n_m))
    var = np.tile(((rules.sigma_b0_frac * taw.values) ** 2)[:, None], (1, n_m))
    pred = np.full((n_m, probes.size, n_days), np.nan)
    group = np.full(probes.size, -1)
    for g, ids in enumerate(holdout):
        group[pd.Index(probes).get_indexer(list(ids))] = g
    irr = irrigation_l
    for k in range(n_days):
        for m in range(1, n_m):
            use = obs.isel(time=k).where(xr.DataArray(group != m - 1, dims="sensor"))
            a = analysis(xr.DataArray(dr[:, m], dims="site", coords={"site": site_ids}),
                         xr.DataArray(var[:, m], dims="site", coords={"site": site_ids}),
                         use, sites, taw, rules, rho)
            dr[:, m] = a["dr_mm"].values
            var[:, m] = a["var_mm2"].values
        sl = slice(k, min(k + lead_days, n_days))
        sim = simulate_sites(
            sites, et0_mm.isel(time=sl).expand_dims(member=n_m, axis=-1),
            precip_mm.isel(time=sl), textures=textures,
            species=species,
            irrigation_l=None if irr is None else irr.isel(time=sl),
            depth_to_water_m=depth_to_water_m,
            initial_depletion_mm=xr.DataArray(dr, dims=("site", "member"),
                                              coords={"site": site_ids}),
            params=params, landscape=landscape, derived=False)
        dr_end = sim["dr_mm"].values  # (time, site, member)
        etc = (sim["k_l"].values[:, None] * et0_mm.isel(time=k).values)
        if k + lead_days < n_days:
            pred[:, :, k + lead_days] = dr_end[-1][psite].T
        dr = np.array(dr_end[0])
        var = advance_variance(var, etc, taw.values[:, None], rules)
    # predicted θ and tension (uniform root zone) at the probes
    zr_p = hyd_p["root_depth_m"].values
    theta_pred = hyd_p["theta_fc"].values[None, :, None] - pred / (1000.0 * zr_p[None, :, None])
    vg = [hyd_p[k].values[None, :, None] for k in ("theta_r", "theta_s", "alpha_per_cm", "n")]
    tens_pred = np.minimum(van_genuchten_tension_kpa(theta_pred, *vg), tension_max_kpa)
    # held-out only: member m scores the probes of group m-1; the open loop all of them
    w = _layer_weights(qc["depth"].values, zr_p) > 0  # (sensor, depth)
    obs_t = means.where(qc["quantity"] == "tension").transpose("sensor", "depth", "time").values
    rz_obs = np.minimum(van_genuchten_tension_kpa(
        obs["theta_obs"].transpose("sensor", "time").values, *(v[0] for v in vg)),
        tension_max_kpa)
    obs_th = channel_theta(means, qc["quantity"], hyd_p).transpose(
        "sensor", "depth", "time").values
    runs = ["open_loop", "assimilated"]
    tp = np.full((2, probes.size, n_days), np.nan)
    thp = np.full((2, probes.size, n_days), np.nan)
    tp[0], thp[0] = tens_pred[0], theta_pred[0]
    for g in range(len(holdout)):
        sel = group == g
        tp[1, sel], thp[1, sel] = tens_pred[g + 1, sel], theta_pred[g + 1, sel]
    scored = (group >= 0)[:, None] & w
    ds = xr.Dataset(
        {
            "tension_pred_kpa": (("run", "sensor", "time"), tp, {"units": "kPa"}),
            "theta_pred": (("run", "sensor", "time"), thp, {"units": "m3 m-3"}),
            "tension_obs_kpa": (("sensor", "depth", "time"), obs_t, {"units": "kPa"}),
            "theta_obs": (("sensor", "depth", "time"), obs_th, {"units": "m3 m-3"}),
            "rz_tension_obs_kpa": (("sensor", "time"), rz_obs, {"units": "kPa"}),
            "scored": (("sensor", "depth"), scored),
        },
        coords={"run": runs, "sensor": probes, "depth": qc["depth"].values,
                "time": days.astype("datetime64[ns]")},
    )
    ds.attrs.update(lead_days=lead_days, n_groups=len(holdout))
    err_t = ds["tension_pred_kpa"] - ds["tension_obs_kpa"]
    err_th = ds["theta_pred"] - ds["theta_obs"]
    sc = ds["scored"]
    ds["rmse_tension_kpa"] = np.sqrt((err_t**2).where(sc).mean(("sensor", "depth", "time")))
    ds["bias_tension_kpa"] = err_t.where(sc).mean(("sensor", "depth", "time"))
    ds["rmse_theta"] = np.sqrt((err_th**2).where(sc).mean(("sensor", "depth", "time")))
    ds["n_scored"] = (np.isfinite(err_t) & sc).sum(("sensor", "depth", "time"))
    err_rz = ds["tension_pred_kpa"] - ds["rz_tension_obs_kpa"]
    rz_sc = xr.DataArray(group >= 0, dims="sensor") & (qc["quantity"] == "tension")
    ds["rmse_rz_tension_kpa"] = np.sqrt((err_rz**2).where(rz_sc).mean(("sensor", "time")))
    return ds
