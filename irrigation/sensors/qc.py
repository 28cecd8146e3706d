"""Quality control of soil sensor readings: CF bit flags per reading, a summary per channel.

:func:`quality_control` adds ``qc_flags`` (a CF bit mask per reading, :data:`QC_FLAGS`) and
``valid`` to the readings of :mod:`irrigation.io.sensors`; flagged values never reach the
model. :func:`qc_summary` is the per-channel table of the daily report. Every threshold is
a field of :class:`QCRules` (the ``[qc]`` table of ``city.toml``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from ..params import require

QC_FLAGS = {"gap": 1, "range": 2, "stuck": 4, "spike": 8, "drift": 16, "implausible": 32,
            "censored": 64}
"""Bits of ``qc_flags`` (CF ``flag_masks``/``flag_meanings``).

``censored`` is not a fault: a tension reading at the top of the sensor's range
(``QCRules.tension_range_kpa``, 239 kPa for a Watermark 200SS) says only that the soil is
at least that dry. Such a reading is not ``valid`` (it is not a measured value, and an
average of pinned readings would be biased wet) and is used by the observation operator
as a lower bound of the tension (:func:`irrigation.sensors.window_bounds`,
:func:`irrigation.sensors.root_zone_depletion`)."""

#: Flags that describe a reading without saying it is wrong (not counted as problems).
INFORMATIVE_FLAGS = ("censored",)

_HOUR = np.timedelta64(1, "h")


@dataclass(frozen=True)
class QCRules:
    """Quality control of soil sensor readings (the ``[qc]`` table of ``city.toml``).

    Attributes
    ----------
    tension_range_kpa
        Physical range of a granular-matrix (Watermark-type) tension reading [kPa]; the
        sensor reads 0-239 kPa (Irrometer Watermark 200SS manual).
    vwc_range
        Physical range of volumetric water content [m3 m-3].
    stuck_hours
        A reading repeated unchanged for this long is stuck [h]...
    stuck_min_kpa
        ...unless the soil is wetter than this: near saturation a tension sensor
        legitimately reads a constant [kPa].
    spike_window
        Readings in the centred running median a spike is measured against [-].
    spike_kpa, spike_vwc
        A reading further than this from the running median is a spike [kPa, m3 m-3]...
    spike_rel
        ...and (for tension) further than this fraction of the median [-].
    drift_theta
        A channel whose daily water content, relative to the model and to the other
        channels at its depth, moves this far from its own past offset has drifted
        [m3 m-3]...
    drift_days
        ...for at least this many days in a row [d].
    drift_baseline_days
        Length of the past window the offset is measured over, ending a week before
        the day tested [d].
    watering_min_l
        A watering of at least this many litres must wet the shallowest channel...
    watering_response_kpa
        ...by at least this many kPa within the day of watering and the next...
    watering_dry_kpa
        ...when it read more than this the day before (clearly drier than field
        capacity); otherwise the readings of the two days are implausible [kPa].
    wetting_kpa
        A drop of tension by more than this within 6 h on a day without rain
        (< ``dry_day_mm``) or watering is implausible [kPa].
    dry_day_mm
        Days with less precipitation than this count as dry [mm].
    """

    tension_range_kpa: tuple[float, ...] = (0.0, 239.0)
    vwc_range: tuple[float, ...] = (0.0, 0.6)
    stuck_hours: float = 24.0
    stuck_min_kpa: float = 10.0
    spike_window: int = 5
    spike_kpa: float = 20.0
    spike_rel: float = 0.25
    spike_vwc: float = 0.05
    drift_theta: float = 0.05
    drift_days: int = 3
    drift_baseline_days: int = 21
    watering_min_l: float = 50.0
    watering_response_kpa: float = 5.0
    watering_dry_kpa: float = 30.0
    wetting_kpa: float = 20.0
    dry_day_mm: float = 0.5

    def __post_init__(self) -> None:
        for name in ("tension_range_kpa", "vwc_range"):
            pair = getattr(self, name)
            require(len(pair) == 2 and pair[0] < pair[-1], name, "[low, high] with low < high")
        require(self.stuck_hours > 0, "stuck_hours", "> 0 h")
        require(self.spike_window >= 3 and self.spike_window % 2 == 1, "spike_window",
                "an odd number >= 3")
        require(min(self.spike_kpa, self.spike_vwc, self.drift_theta) > 0, "spike_kpa",
                "thresholds > 0")
        require(self.drift_days >= 1 and self.drift_baseline_days >= 3, "drift_days",
                "drift_days >= 1 and drift_baseline_days >= 3")


DEFAULT_QC = QCRules()


def in_physical_range(values: np.ndarray, quantity: np.ndarray,
                      rules: QCRules = DEFAULT_QC) -> np.ndarray:
    """True where a reading is finite and inside its sensor's physical range.

    Parameters
    ----------
    values
        Readings over (``sensor``, ...): tension [kPa] or VWC [m3 m-3].
    quantity
        ``"tension"`` or ``"vwc"`` per sensor.
    rules
        The ranges ``tension_range_kpa`` and ``vwc_range``.
    """
    v = np.asarray(values, dtype=float)
    is_t = (np.asarray(quantity) == "tension").reshape((-1,) + (1,) * (v.ndim - 1))
    lo = np.where(is_t, rules.tension_range_kpa[0], rules.vwc_range[0])
    hi = np.where(is_t, rules.tension_range_kpa[1], rules.vwc_range[1])
    return np.isfinite(v) & (v >= lo) & (v <= hi)


def at_ceiling(values: np.ndarray, quantity: np.ndarray, rules: QCRules = DEFAULT_QC
               ) -> np.ndarray:
    """True where a tension reading is pinned at the top of the sensor's range (within
    half a kPa): censored, the soil is at least that dry. ``values`` over (``sensor``,
    ...), ``quantity`` per sensor."""
    v = np.asarray(values, dtype=float)
    is_t = (np.asarray(quantity) == "tension").reshape((-1,) + (1,) * (v.ndim - 1))
    with np.errstate(invalid="ignore"):
        return is_t & in_physical_range(v, quantity, rules) & (
            v >= rules.tension_range_kpa[1] - 0.5)


def range_check(readings: xr.Dataset, rules: QCRules = DEFAULT_QC) -> xr.Dataset:
    """The checks of :func:`quality_control` that need no history: ``qc_flags`` with the
    ``range`` and ``censored`` bits, and ``valid`` (in range, not censored). For readings
    that arrive one day at a time (the closed-loop season)."""
    v = readings["value"].transpose("sensor", ...)
    flags, valid = range_flags(v.values, readings["quantity"].values, rules)
    return readings.assign(qc_flags=(v.dims, flags), valid=(v.dims, valid))


def range_flags(values: np.ndarray, quantity: np.ndarray, rules: QCRules = DEFAULT_QC
                ) -> tuple[np.ndarray, np.ndarray]:
    """The ``qc_flags`` and ``valid`` of :func:`range_check` for readings over
    (``sensor``, ...) as arrays, ``quantity`` per sensor."""
    have = np.isfinite(values)
    ok = in_physical_range(values, quantity, rules)
    cens = at_ceiling(values, quantity, rules)
    flags = np.zeros(np.shape(values), np.uint8)
    flags[have & ~ok] |= QC_FLAGS["range"]
    flags[cens] |= QC_FLAGS["censored"]
    return flags, ok & ~cens


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
        ``readings`` plus ``qc_flags`` (uint8, bits :data:`QC_FLAGS`) and ``valid`` (no
        flag at all: a censored reading is not valid, see :data:`QC_FLAGS`).

    Notes
    -----
    Tests, each on its own bit: *gap* (no reading inside a channel's reporting span),
    *range* (outside the sensor's physical range), *censored* (a tension reading at the
    top of its range, within 0.5 kPa: a lower bound, not a value), *stuck* (identical
    values for ``stuck_hours``; tension wetter than ``stuck_min_kpa`` and censored
    readings exempt: near saturation and at the ceiling a sensor legitimately reads a
    constant), *spike* (far from the
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
    bad_range = have & ~in_physical_range(v, readings["quantity"].values, rules)
    flags[bad_range] |= QC_FLAGS["range"]
    censored = have & at_ceiling(v, readings["quantity"].values, rules)
    flags[censored] |= QC_FLAGS["censored"]
    w = np.where(bad_range, np.nan, v)
    if v.shape[-1]:
        stuck = _stuck(w, hours, rules.stuck_hours) & have & ~censored
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


def daily_mean(a: np.ndarray, pos: np.ndarray, n_days: int) -> np.ndarray:
    """Mean over the finite values of each day along the last axis, NaN when none.

    ``pos`` is the day index (0..``n_days``-1) of each value along the last axis."""
    ok = np.isfinite(a)
    s = np.zeros((*a.shape[:-1], n_days))
    c = np.zeros_like(s)
    np.add.at(s.T, pos, np.where(ok, a, 0.0).T)
    np.add.at(c.T, pos, ok.T.astype(float))
    with np.errstate(invalid="ignore"):
        return s / c


def _drift(th, pos, days, expected_theta, readings, rules: QCRules) -> np.ndarray:
    """Days (sensor, depth, day) on which a channel's offset has drifted."""
    daily = daily_mean(th, pos, days.size)
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
        flag, ``longest_gap_h`` and ``problems`` (a short text, empty when clean; the
        informative ``censored`` count is not a problem).
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
        parts = [f"{name} {int(row[name])}" for name in QC_FLAGS
                 if name != "gap" and name not in INFORMATIVE_FLAGS and row[name]]
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

