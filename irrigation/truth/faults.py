"""Injected sensor faults: a copy of clean readings spoiled at known places, with labels.

The demo's shipped series and notebook 04 use it to score the quality control
(:func:`irrigation.sensors.quality_control`) against faults whose place is known.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

FAULTS = ("stuck", "spike", "drift", "dropout", "range")
"""Kinds of injected sensor faults (see :func:`inject_faults`)."""


def inject_faults(
    readings: xr.Dataset,
    rng: np.random.Generator,
    counts: dict[str, int] | None = None,
    *,
    ceiling_kpa: float = 239.0,
) -> tuple[xr.Dataset, pd.DataFrame]:
    """Inject sensor faults into a copy of ``readings``; return it and the labels.

    Faults (per channel, placed at random, not overlapping on one channel):

    - ``stuck``: the logger repeats one value for 2-5 days (in a drying spell, > 20 kPa
      and at least 10 kPa below the ceiling: a channel pinned at the top of its range
      reads a constant legitimately);
    - ``spike``: 3-8 single readings off by ±40-80 kPa (tension) or ±0.1-0.2 m3 m-3;
    - ``drift``: the reading creeps by +1.5-3 kPa/day or -0.004 m3 m-3/day from a day on
      to the end of the record (a degrading sensor); tension channels pinned at the
      ceiling for more than a quarter of that time are not chosen (a drift there is
      invisible);
    - ``dropout``: no readings for 1-5 days;
    - ``range``: 2-12 h of logger error codes (255 or -1).

    Tension readings stay within [0, ``ceiling_kpa``]; a spike that would pass the
    ceiling (or 0) goes the other way.

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
                placed = _place(fault, v[s, z], bool(is_t[s]), per_day, step_h, rng,
                                ceiling_kpa)
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
           rng: np.random.Generator, ceiling_kpa: float) -> list[tuple[int, int]] | None:
    """Put one fault into ``series`` (in place); its (start, end) indices, None if it
    does not fit this channel."""
    n_t = series.size
    if fault == "stuck":
        ok = np.flatnonzero(((series > 20) & (series < ceiling_kpa - 10)) if tension
                            else np.isfinite(series))
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
            out = (series[idx] + sign * mag < 0) | (series[idx] + sign * mag > ceiling_kpa)
            sign = np.where(out, -sign, sign)
            series[idx] = np.clip(series[idx] + sign * mag, 0, ceiling_kpa)
        else:
            series[idx] = series[idx] + sign * mag
        return [(int(i), int(i)) for i in idx]
    elif fault == "drift":
        i0 = int(rng.integers(30 * per_day, max(31 * per_day, n_t - 40 * per_day)))
        i1 = n_t - 1
        if tension and np.mean(series[i0:] >= ceiling_kpa) > 0.25:
            return None
        days = np.arange(n_t - i0) / per_day
        rate = rng.uniform(1.5, 3.0) if tension else -0.004
        series[i0:] = series[i0:] + rate * days
        if tension:
            series[i0:] = np.clip(np.round(series[i0:]), 0, ceiling_kpa)
    elif fault == "dropout":
        i0 = int(rng.integers(5 * per_day, n_t - 6 * per_day))
        i1 = i0 + int(rng.integers(1, 6)) * per_day - 1
        series[i0:i1 + 1] = np.nan
    else:  # range
        i0 = int(rng.integers(5 * per_day, n_t - per_day))
        i1 = i0 + max(1, int(rng.integers(2, 13)) // step_h) - 1
        series[i0:i1 + 1] = rng.choice([255.0, -1.0])
    return [(i0, i1)]
