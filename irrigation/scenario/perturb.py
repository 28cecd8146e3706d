"""The weather of a scenario: the base weather perturbed by delta change.

:func:`perturb_weather` is the pure, vectorised perturbation of a weather dataset;
:func:`scenario_weather` reads the scenario's base weather and applies it. Perturbations
are tied to calendar dates, so perturbing a whole series and then cutting a window out of
it gives the same values as perturbing the window alone (as a forecast issued inside a
heat wave sees it).

References
----------
Hay, L. E., Wilby, R. L. & Leavesley, G. H. (2000). A comparison of delta change and
downscaled GCM scenarios for three mountainous basins in the United States. JAWRA 36(2),
387-397 (the "delta change" perturbation of an observed series).
Held, I. M. & Soden, B. J. (2006). Robust responses of the hydrological cycle to global
warming. J. Climate 19, 5686-5699 (relative humidity roughly constant under warming).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import xarray as xr

from ..config import CityConfig
from ..weather import PLAUSIBLE, UNITS
from .load import read_base_weather
from .schema import Perturbation, Scenario, period_text

#: Temperature variables shifted by temperature deltas and heat waves.
TEMPERATURES: tuple[str, ...] = ("tmin_c", "tmax_c", "tmean_c", "tdew_c")


def _days(time: pd.DatetimeIndex, start, end) -> np.ndarray:
    """Boolean mask of the days of ``time`` in ``[start, end]`` (inclusive)."""
    day = time.normalize()
    return np.asarray((day >= pd.Timestamp(start)) & (day <= pd.Timestamp(end)))


def perturb_weather(weather: xr.Dataset, p: Perturbation, *, season) -> xr.Dataset:
    """Apply a scenario's weather perturbation (delta change) to a weather dataset.

    Parameters
    ----------
    weather
        Weather dataset over ``time`` (see :mod:`irrigation.weather`), optionally with
        more dimensions (``member``, a station); ``tmin_c``, ``tmax_c`` and
        ``precip_mm`` are required, ``rs_mj_m2_d`` when ``radiation_factor != 1``.
    p
        The perturbation.
    season
        ``(first, last)`` day the perturbation applies to (dates or anything
        ``pandas.Timestamp`` reads); days outside are returned unchanged. Dry spells and
        heat waves apply on their own days, where these lie inside.

    Returns
    -------
    xr.Dataset
        A perturbed copy (the input is not changed), in this order, on the days inside
        ``season``:

        1. ``precip_mm`` x ``precip_factor``; then 0 on the days of every dry spell;
        2. ``tmin_c``, ``tmax_c``, ``tmean_c`` and ``tdew_c`` (those present) +
           ``temp_delta_c``, + ``delta_c`` of every heat wave on its days; ``tdew_c`` is
           then capped at the new ``tmin_c`` (FAO-56 p. 58: Tdew <= Tmin); relative
           humidity is not changed;
        3. ``rs_mj_m2_d`` x ``radiation_factor``, capped at 45 MJ m-2 d-1.

        ``attrs["perturbation"]`` describes what was applied (appended to an earlier
        one); ``attrs["perturb_*"]`` hold the parameters.

    Raises
    ------
    ValueError
        A required variable is missing or ``season`` ends before it starts.

    Notes
    -----
    The delta change method (Hay et al. 2000): an observed series is shifted
    (temperatures) or scaled (precipitation, radiation) so that its day-to-day
    variability is kept. Perturbations are tied to calendar days, so perturbing a
    series and then selecting days gives the same values as the reverse.
    """
    first, last = pd.Timestamp(season[0]), pd.Timestamp(season[1])
    if last < first:
        raise ValueError(f"Expected a season (first, last) with last >= first, got {season}.")
    need = ["tmin_c", "tmax_c", "precip_mm"]
    if p.radiation_factor != 1.0:
        need.append("rs_mj_m2_d")
    missing = [v for v in need if v not in weather]
    if missing:
        raise ValueError(f"Expected weather variable(s) {', '.join(missing)} for the "
                         f"perturbation (complete the weather first).")
    time = pd.DatetimeIndex(weather["time"].values)
    inside = _days(time, first, last)

    def along_time(values: np.ndarray) -> xr.DataArray:
        return xr.DataArray(values, dims=("time",), coords={"time": weather["time"]})

    def put(name: str, new: xr.DataArray) -> None:
        old = weather[name]
        out[name] = new.transpose(*old.dims).assign_attrs(old.attrs)

    out = weather.copy()
    rain = np.where(inside, p.precip_factor, 1.0)
    for spell in p.dry_spells:
        rain[_days(time, spell.start, spell.end) & inside] = 0.0
    put("precip_mm", weather["precip_mm"] * along_time(rain))

    shift = np.where(inside, p.temp_delta_c, 0.0)
    for wave in p.heat_waves:
        shift = shift + np.where(_days(time, wave.start, wave.end) & inside, wave.delta_c, 0.0)
    dt_c = along_time(shift)
    for name in TEMPERATURES:
        if name in weather:
            put(name, weather[name] + dt_c)
    if "tdew_c" in weather:
        capped = np.minimum(out["tdew_c"], out["tmin_c"])
        put("tdew_c", xr.where(along_time(inside), capped, out["tdew_c"]))

    if "rs_mj_m2_d" in weather:
        factor = along_time(np.where(inside, p.radiation_factor, 1.0))
        put("rs_mj_m2_d", (weather["rs_mj_m2_d"] * factor).clip(max=PLAUSIBLE["rs_mj_m2_d"][1]))

    for var in out.data_vars:
        if var in UNITS:
            out[var].attrs["units"] = UNITS[str(var)]
    spells = ", ".join(period_text(s.start, s.days) for s in p.dry_spells)
    waves = ", ".join(f"{period_text(w.start, w.days)} +{w.delta_c:g} degC" for w in p.heat_waves)
    text = (f"on {first.date()}..{last.date()}: precip x {p.precip_factor:g}, "
            f"dry spells [{spells}], temperatures {p.temp_delta_c:+g} degC, "
            f"heat waves [{waves}], radiation x {p.radiation_factor:g}")
    earlier = weather.attrs.get("perturbation")
    out.attrs.update({
        "perturbation": f"{earlier}; {text}" if earlier else text,
        "perturb_season": f"{first.date()}..{last.date()}",
        "perturb_precip_factor": p.precip_factor,
        "perturb_dry_spells": spells,
        "perturb_temp_delta_c": p.temp_delta_c,
        "perturb_heat_waves": waves,
        "perturb_radiation_factor": p.radiation_factor,
    })
    return out


def scenario_weather(scn: Scenario, cfg: CityConfig | None = None) -> xr.Dataset:
    """The scenario's truth weather: the base weather, perturbed.

    Covers the first simulated day (``season.first_day``) to ``season.end`` plus the
    forecast horizon (so that forecasts issued late in the season see perturbed days
    too), or to the last day of the base weather if that comes first. The perturbation
    applies to all these days.

    Parameters
    ----------
    scn
        A scenario from :func:`load_scenario`.
    cfg
        The city configuration, if already loaded.
    """
    base = read_base_weather(scn, cfg)
    tail = scn.forecast.horizon_days or 0
    last = min(pd.Timestamp(scn.season.end + dt.timedelta(days=tail)),
               pd.Timestamp(base["time"].values[-1]))
    window = base.sel(time=slice(pd.Timestamp(scn.season.first_day), last))
    return perturb_weather(window, scn.perturb, season=(scn.season.first_day, last.date()))
