"""Daily weather as an ``xr.Dataset`` and reference evapotranspiration (ET0).

The weather dataset
-------------------
Every reader in :mod:`irrigation.io.weather` returns, and every function here takes, an
``xr.Dataset`` over ``time`` (daily ``datetime64``, midnight, one-day steps) and optionally
``member`` (ensemble member) and a station/site dimension. Variable names carry their unit;
``attrs["units"]`` repeats it:

=================  ==============  =====================================================
variable           units           meaning
=================  ==============  =====================================================
``tmin_c``         degC            daily minimum air temperature (2 m)
``tmax_c``         degC            daily maximum air temperature (2 m)
``tmean_c``        degC            daily mean air temperature
``rh_mean_pct``    %               daily mean relative humidity
``rh_min_pct``     %               daily minimum relative humidity (optional)
``rh_max_pct``     %               daily maximum relative humidity (optional)
``tdew_c``         degC            dewpoint temperature (optional)
``wind_ms``        m s-1           mean wind speed **at 2 m** (readers convert, FAO-56 eq. 47)
``rs_mj_m2_d``     MJ m-2 d-1      global (incoming shortwave) radiation
``sunshine_h``     h               bright sunshine duration (optional)
``precip_mm``      mm d-1          precipitation
=================  ==============  =====================================================

Fallbacks (:func:`complete_weather`), applied in this order and logged; each one used is
listed in ``attrs["fallbacks"]``:

1. ``tmean_c`` missing -> ``(tmin_c + tmax_c) / 2`` (FAO-56 eq. 9).
2. ``rs_mj_m2_d`` missing -> from ``sunshine_h`` by the Angstrom formula (FAO-56 eq. 35,
   a_s = 0.25, b_s = 0.50); else from the temperature range by Hargreaves' radiation formula
   (FAO-56 eq. 50, k_Rs = 0.16 interior / 0.19 coastal).
3. humidity: ``tdew_c`` (FAO-56 eq. 14) is preferred, then ``rh_max_pct``/``rh_min_pct``
   (eq. 17), then ``rh_mean_pct`` (eq. 19); with none of them ``tdew_c = tmin_c`` (FAO-56
   p. 58, "Tdew ~ Tmin" for well-watered reference sites).
4. ``wind_ms`` missing -> 2 m s-1 (FAO-56 p. 63, global average for missing wind).

``tmin_c``, ``tmax_c`` and ``precip_mm`` cannot be derived: their absence is an
:class:`~irrigation.errors.InputError`. NaN values are an error too (the message lists the
first dates); a forecast provider's gaps must be filled before, on purpose.

References
----------
Allen, R. G., Pereira, L. S., Raes, D. & Smith, M. (1998). Crop evapotranspiration. FAO
Irrigation and Drainage Paper 56 ("FAO-56").
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import pyet
import xarray as xr

from .errors import InputError

logger = logging.getLogger(__name__)

#: Variables of the weather dataset and their units.
UNITS: dict[str, str] = {
    "tmin_c": "degC",
    "tmax_c": "degC",
    "tmean_c": "degC",
    "rh_mean_pct": "%",
    "rh_min_pct": "%",
    "rh_max_pct": "%",
    "tdew_c": "degC",
    "wind_ms": "m s-1",
    "rs_mj_m2_d": "MJ m-2 d-1",
    "sunshine_h": "h",
    "precip_mm": "mm d-1",
}

#: Variables that have no fallback.
REQUIRED: tuple[str, ...] = ("tmin_c", "tmax_c", "precip_mm")

#: Relative humidity [%] up to which readings above 100 % are accepted as saturated air
#: and clipped to 100 % (:func:`clip_relative_humidity`): hygrometers read a few percent
#: high in fog and dew (a US network's daily file reports up to 102.1 %). Above this limit
#: the series is rejected as wrong units or a broken sensor.
RH_CLIP_LIMIT_PCT = 103.0

#: The relative-humidity variables of the weather dataset.
RH_VARIABLES: tuple[str, ...] = ("rh_mean_pct", "rh_min_pct", "rh_max_pct")

#: Plausible ranges [min, max] per variable, used to catch wrong units (e.g. W m-2 or
#: J cm-2 given as MJ m-2 d-1, Kelvin given as degC, tenths of mm).
PLAUSIBLE: dict[str, tuple[float, float]] = {
    "tmin_c": (-60.0, 50.0),
    "tmax_c": (-50.0, 60.0),
    "tmean_c": (-55.0, 55.0),
    "rh_mean_pct": (0.0, RH_CLIP_LIMIT_PCT),
    "rh_min_pct": (0.0, RH_CLIP_LIMIT_PCT),
    "rh_max_pct": (0.0, RH_CLIP_LIMIT_PCT),
    "tdew_c": (-70.0, 40.0),
    "wind_ms": (0.0, 60.0),
    "rs_mj_m2_d": (0.0, 45.0),
    "sunshine_h": (0.0, 24.0),
    "precip_mm": (0.0, 500.0),
}

#: FAO-56 p. 63: "2 m/s ... can be used as a temporary estimate" of missing wind [m s-1].
DEFAULT_WIND_MS = 2.0


@dataclass(frozen=True)
class RadiationParams:
    """Coefficients of the radiation fallbacks.

    Attributes
    ----------
    angstrom_a, angstrom_b
        Angstrom coefficients a_s, b_s [-] (FAO-56 eq. 35 defaults 0.25, 0.50).
    krs
        Hargreaves radiation adjustment k_Rs [degC-0.5] (FAO-56 eq. 50): 0.16 interior,
        0.19 coastal locations.
    """

    angstrom_a: float = 0.25
    angstrom_b: float = 0.50
    krs: float = 0.16

    def __post_init__(self) -> None:
        if not (0 < self.angstrom_a < 1 and 0 < self.angstrom_b < 1):
            raise ValueError("Expected Angstrom coefficients in (0, 1).")
        if not 0.1 <= self.krs <= 0.25:
            raise ValueError("Expected krs in [0.1, 0.25].")


# --------------------------------------------------------------------------- conversions


def wind_to_2m(wind_ms: xr.DataArray | np.ndarray | float, height_m: float):
    """Convert wind speed measured at ``height_m`` to 2 m above ground [m s-1].

    Notes
    -----
    FAO-56 eq. 47 (logarithmic profile over short grass):
    ``u2 = uz * 4.87 / ln(67.8 z - 5.42)``.
    """
    if height_m <= 0.5:
        raise ValueError(f"Expected a wind measurement height > 0.5 m, got {height_m}.")
    return wind_ms * 4.87 / np.log(67.8 * height_m - 5.42)


def saturation_vapour_pressure_kpa(t_c):
    """Saturation vapour pressure e°(T) [kPa] at air temperature ``t_c`` [degC] (FAO-56 eq. 11)."""
    return 0.6108 * np.exp(17.27 * t_c / (t_c + 237.3))


def actual_vapour_pressure_kpa(ds: xr.Dataset | Mapping[str, np.ndarray]):
    """Actual vapour pressure e_a [kPa] from the best humidity variable available, of a
    weather dataset (a DataArray) or of a mapping of its variables' arrays (an array).

    Notes
    -----
    Order (FAO-56 ch. 3): ``tdew_c`` (eq. 14), ``rh_max_pct`` with ``rh_min_pct`` (eq. 17),
    ``rh_mean_pct`` (eq. 19, with e° of Tmax and Tmin). :func:`complete_weather` guarantees
    one of them.
    """
    if "tdew_c" in ds:
        return saturation_vapour_pressure_kpa(ds["tdew_c"])
    e_tmin = saturation_vapour_pressure_kpa(ds["tmin_c"])
    e_tmax = saturation_vapour_pressure_kpa(ds["tmax_c"])
    if "rh_max_pct" in ds and "rh_min_pct" in ds:
        return (e_tmin * ds["rh_max_pct"] + e_tmax * ds["rh_min_pct"]) / 200.0
    if "rh_mean_pct" in ds:
        return ds["rh_mean_pct"] / 100.0 * (e_tmin + e_tmax) / 2.0
    raise InputError("no humidity variable (tdew_c, rh_max/min_pct or rh_mean_pct)")


def extraterrestrial_radiation(time: pd.DatetimeIndex, latitude_deg: float) -> np.ndarray:
    """Daily extraterrestrial radiation Ra [MJ m-2 d-1] (FAO-56 eq. 21, via :mod:`pyet`)."""
    ra = pyet.extraterrestrial_r(pd.DatetimeIndex(time), np.deg2rad(latitude_deg))
    return np.asarray(ra, dtype=float)


def daylight_hours(time: pd.DatetimeIndex, latitude_deg: float) -> np.ndarray:
    """Maximum possible sunshine duration N [h] (FAO-56 eqs. 24, 25, 34)."""
    doy = pd.DatetimeIndex(time).dayofyear.to_numpy()
    decl = 0.409 * np.sin(2 * np.pi / 365 * doy - 1.39)
    ws = np.arccos(np.clip(-np.tan(np.deg2rad(latitude_deg)) * np.tan(decl), -1, 1))
    return 24 / np.pi * ws


def clear_sky_radiation_asce(
    ra: np.ndarray, ea_kpa: np.ndarray, pressure_kpa: float, dates: np.ndarray,
    latitude_deg: float
) -> np.ndarray:
    """Clear-sky solar radiation Rso [MJ m-2 d-1], full ASCE-EWRI (2005) form, from Ra
    [MJ m-2 d-1] and e_a [kPa] on ``dates`` (``datetime64``, broadcastable to them).

    Notes
    -----
    ASCE-EWRI (2005), Appendix D, eqs. D.1-D.6 with turbidity K_t = 1:
    ``Rso = (K_B + K_D) Ra``, ``K_B = 0.98 exp(-0.00146 P / sin(b24) - 0.075 (W / sin(b24))^0.4)``,
    ``W = 0.14 e_a P + 2.1`` (precipitable water, mm), ``sin(b24) = sin(0.85 + 0.3 phi
    sin(2 pi J / 365 - 1.39) - 0.42 phi^2)`` (bounded below by 0.1), ``K_D = 0.35 - 0.36 K_B``
    for ``K_B >= 0.15`` else ``0.18 + 0.82 K_B``. This is the Rso of REF-ET (Allen 2016).
    """
    phi = np.deg2rad(latitude_deg)
    doy = pd.DatetimeIndex(np.ravel(dates)).dayofyear.to_numpy().reshape(np.shape(dates))
    sin_b = np.maximum(
        np.sin(0.85 + 0.3 * phi * np.sin(2 * np.pi * doy / 365 - 1.39) - 0.42 * phi**2), 0.1
    )
    w = 0.14 * ea_kpa * pressure_kpa + 2.1
    kb = 0.98 * np.exp(-0.00146 * pressure_kpa / sin_b - 0.075 * (w / sin_b) ** 0.4)
    kd = np.where(kb >= 0.15, 0.35 - 0.36 * kb, 0.18 + 0.82 * kb)
    return (kb + kd) * ra


def air_pressure_kpa(elevation_m: float) -> float:
    """Mean air pressure [kPa] at ``elevation_m`` (FAO-56 eq. 7)."""
    return 101.3 * ((293.0 - 0.0065 * elevation_m) / 293.0) ** 5.26


def _along_time(values: np.ndarray, like: xr.DataArray) -> xr.DataArray:
    """A 1-D array over ``time`` as a DataArray that broadcasts against ``like``."""
    return xr.DataArray(values, dims=("time",), coords={"time": like["time"]})


# --------------------------------------------------------------------------- checks


def validate_weather(ds: xr.Dataset, *, source: str | None = None) -> None:
    """Check a weather dataset: daily time axis, known variables, units, ranges, no NaN.

    Relative humidity up to :data:`RH_CLIP_LIMIT_PCT` passes (readers and
    :func:`complete_weather` then clip it to 100 %, :func:`clip_relative_humidity`).

    Raises
    ------
    InputError
        Naming ``source``, the variable and what was expected.
    """
    if "time" not in ds.dims:
        raise InputError("expected a 'time' dimension", file=source)
    time = pd.DatetimeIndex(ds["time"].values)
    if len(time) == 0:
        raise InputError("no days in the weather data", file=source, field="time")
    if (time != time.normalize()).any():
        bad = time[time != time.normalize()][0]
        raise InputError(
            f"expected daily timestamps at midnight (one value per day), got {bad}",
            file=source,
            field="time",
        )
    steps = np.diff(time.values).astype("timedelta64[s]").astype(np.int64)
    if (steps != 86400).any():
        i = int(np.argmax(steps != 86400))
        raise InputError(
            f"expected consecutive days, got {time[i].date()} followed by {time[i + 1].date()}",
            file=source,
            field="time",
        )
    for name in ds.data_vars:
        if name not in UNITS:
            continue
        units = ds[name].attrs.get("units", UNITS[name])
        if units != UNITS[name]:
            raise InputError(f"expected units '{UNITS[name]}', got '{units}'", file=source,
                             field=name)
        da = ds[name]
        values = np.asarray(da.values, dtype=float)
        nan = np.isnan(values)
        if nan.any():
            on_day = (np.moveaxis(nan, da.dims.index("time"), 0).reshape(len(time), -1).any(1)
                      if "time" in da.dims else np.ones(len(time), bool))
            days = time[on_day]
            listed = ", ".join(str(d.date()) for d in days[:3])
            raise InputError(
                f"missing values (NaN) on {len(days)} day(s), first {listed}", file=source,
                field=name,
            )
        lo, hi = PLAUSIBLE[name]
        vmin, vmax = float(values.min()), float(values.max())
        if vmin < lo or vmax > hi:
            raise InputError(
                f"values {vmin:g}..{vmax:g} outside the plausible range [{lo:g}, {hi:g}] "
                f"{UNITS[name]}; wrong units?",
                file=source,
                field=name,
            )
    tn, tx = ds.get("tmin_c"), ds.get("tmax_c")
    if tn is not None and tx is not None and bool(
            (tn.values > tx.values + 1e-9).any() if tn.dims == tx.dims else (tn > tx + 1e-9).any()):
        raise InputError("tmin_c above tmax_c on some days", file=source, field="tmin_c")


def clip_relative_humidity(ds: xr.Dataset, *, source: str | None = None) -> xr.Dataset:
    """Relative humidity between 100 % and :data:`RH_CLIP_LIMIT_PCT` set to 100 %, noted.

    Returns
    -------
    xr.Dataset
        ``ds`` itself when no humidity exceeds 100 %; else a copy with those values set to
        100 % and one line per variable in ``attrs["notes"]`` (e.g. ``"rh_max_pct: 3
        value(s) above 100 % (up to 102.1 %) clipped to 100 %"``), also logged. Values above
        the limit are left for :func:`validate_weather` to reject.
    """
    notes = []
    out = ds
    for name in RH_VARIABLES:
        if name not in ds or not (np.asarray(ds[name].values) > 100.0).any():
            continue
        over = (ds[name] > 100.0) & (ds[name] <= RH_CLIP_LIMIT_PCT)
        count = int(over.sum())
        if count:
            if out is ds:
                out = ds.copy()
            notes.append(f"{name}: {count} value(s) above 100 % (up to "
                         f"{float(ds[name].where(over).max()):g} %) clipped to 100 %")
            out[name] = ds[name].where(~over, 100.0)
    for msg in notes:
        logger.info("weather%s: %s", f" ({source})" if source else "", msg)
    if notes:
        out.attrs["notes"] = "; ".join([*filter(None, [ds.attrs.get("notes")]), *notes])
    return out


def complete_weather(
    ds: xr.Dataset,
    *,
    latitude_deg: float,
    coastal: bool = False,
    params: RadiationParams | None = None,
    source: str | None = None,
) -> xr.Dataset:
    """Validate ``ds`` and fill missing variables by the documented fallbacks.

    Parameters
    ----------
    ds
        Weather dataset (see module docstring).
    latitude_deg
        Latitude [degrees north], for Ra and N.
    coastal
        Use k_Rs = 0.19 instead of ``params.krs`` in the Hargreaves radiation fallback.
    params
        Radiation fallback coefficients.
    source
        File name for error messages.

    Returns
    -------
    xr.Dataset
        A copy with ``tmean_c``, ``rs_mj_m2_d``, a humidity variable and ``wind_ms``
        present; ``attrs["fallbacks"]`` lists what was derived, ``attrs["notes"]`` the
        humidity clipped to 100 % (:func:`clip_relative_humidity`).
    """
    params = params or RadiationParams()
    missing = [v for v in REQUIRED if v not in ds]
    if missing:
        raise InputError(
            f"required weather variable(s) {', '.join(missing)} missing and not derivable; "
            f"present: {', '.join(map(str, ds.data_vars)) or 'none'}",
            file=source,
            field=missing[0],
        )
    validate_weather(ds, source=source)
    out = clip_relative_humidity(ds, source=source).copy()
    used: list[str] = []
    time = pd.DatetimeIndex(out["time"].values)
    if "tmean_c" not in out:
        out["tmean_c"] = (out["tmin_c"] + out["tmax_c"]) / 2
        used.append("tmean_c = (tmin_c + tmax_c) / 2 (FAO-56 eq. 9)")
    if "rs_mj_m2_d" not in out:
        ra = _along_time(extraterrestrial_radiation(time, latitude_deg), out["tmin_c"])
        if "sunshine_h" in out:
            n_max = _along_time(daylight_hours(time, latitude_deg), out["tmin_c"])
            ratio = (out["sunshine_h"] / n_max).clip(0, 1)
            out["rs_mj_m2_d"] = (params.angstrom_a + params.angstrom_b * ratio) * ra
            used.append("rs_mj_m2_d from sunshine_h (Angstrom, FAO-56 eq. 35)")
        else:
            krs = 0.19 if coastal else params.krs
            out["rs_mj_m2_d"] = krs * np.sqrt((out["tmax_c"] - out["tmin_c"]).clip(0)) * ra
            used.append(f"rs_mj_m2_d from temperature range (Hargreaves, FAO-56 eq. 50, "
                        f"krs={krs})")
    has_humidity = "tdew_c" in out or "rh_mean_pct" in out or (
        "rh_max_pct" in out and "rh_min_pct" in out)
    if not has_humidity:
        out["tdew_c"] = out["tmin_c"]
        used.append("tdew_c = tmin_c (FAO-56 p. 58)")
    if "wind_ms" not in out:
        out["wind_ms"] = xr.full_like(out["tmin_c"], DEFAULT_WIND_MS)
        used.append(f"wind_ms = {DEFAULT_WIND_MS} m/s (FAO-56 p. 63)")
    for name in out.data_vars:
        if name in UNITS:
            out[name].attrs["units"] = UNITS[name]
    for msg in used:
        logger.info("weather fallback%s: %s", f" ({source})" if source else "", msg)
    out.attrs["fallbacks"] = "; ".join([*filter(None, [ds.attrs.get("fallbacks")]), *used])
    return out


# --------------------------------------------------------------------------- ET0


def et0(
    ds: xr.Dataset,
    *,
    latitude_deg: float,
    elevation_m: float,
    method: Literal["auto", "pm", "hargreaves"] = "auto",
    rso: Literal["fao56", "asce_full"] = "fao56",
) -> xr.DataArray:
    """Reference evapotranspiration ET0 [mm d-1] of grass (short reference crop).

    Parameters
    ----------
    ds
        Weather dataset with daily ``time`` (see module docstring); ``wind_ms`` at 2 m.
    latitude_deg
        Latitude [degrees north].
    elevation_m
        Elevation [m a.s.l.] for the air pressure (FAO-56 eq. 7) and Rso (eq. 37).
    method
        ``"pm"`` FAO-56 Penman-Monteith, ``"hargreaves"`` Hargreaves-Samani, ``"auto"``
        Penman-Monteith when radiation or sunshine is present (missing humidity or wind
        then fall back as in :func:`complete_weather`, as FAO-56 ch. 3 recommends), else
        Hargreaves (logged).
    rso
        Clear-sky radiation for the net longwave term: ``"fao56"`` the simple form
        (FAO-56 eq. 37), ``"asce_full"`` the ASCE-EWRI (2005) Appendix D form used by REF-ET
        (:func:`clear_sky_radiation_asce`).

    Returns
    -------
    xr.DataArray
        ``et0_mm`` with the dims of ``ds["tmin_c"]``, ``attrs["units"] = "mm d-1"``.

    Notes
    -----
    Penman-Monteith: FAO-56 eq. 6 with G = 0 for daily steps (eq. 42), e_s as the mean of
    e°(Tmax) and e°(Tmin) (eq. 12), e_a by :func:`actual_vapour_pressure_kpa`, Rso =
    (0.75 + 2e-5 z) Ra (eq. 37), net longwave with Tmax/Tmin (eq. 39), albedo 0.23;
    computed by :func:`pyet.pm_fao56`. These are also the ASCE-EWRI (2005) standardized
    daily short-reference choices (Cn = 900, Cd = 0.34).
    Hargreaves: Hargreaves & Samani (1985), FAO-56 eq. 52, via :func:`pyet.hargreaves`.
    """
    pm_ready = "rs_mj_m2_d" in ds or "sunshine_h" in ds
    if method == "auto":
        method = "pm" if pm_ready else "hargreaves"
        if method == "hargreaves":
            logger.info("ET0 by Hargreaves: no radiation or sunshine in the weather data")
    if method == "hargreaves":
        return _et0_hargreaves(ds, latitude_deg)
    ds = complete_weather(ds, latitude_deg=latitude_deg)
    like = ds["tmin_c"].transpose("time", ...)
    dates = ds["time"].values.reshape(-1, *[1] * (like.ndim - 1))
    pet = et0_penman_monteith({name: _values_like(ds[name], like) for name in ds.data_vars},
                              dates, latitude_deg=latitude_deg, elevation_m=elevation_m,
                              rso=rso)
    return _finish(pet, like, "FAO-56 Penman-Monteith (pyet.pm_fao56)")


def et0_penman_monteith(
    weather: Mapping[str, np.ndarray],
    dates: np.ndarray,
    *,
    latitude_deg: float,
    elevation_m: float,
    rso: Literal["fao56", "asce_full"] = "fao56",
) -> np.ndarray:
    """FAO-56 Penman-Monteith ET0 [mm d-1] of complete weather given as arrays.

    The computation of :func:`et0` without the dataset (FAO-56 eq. 6 with the choices
    listed in its Notes, by :func:`pyet.pm_fao56`): for many forecasts at once (e.g. every
    morning's ensemble of a season stacked as (issue day, lead, member)).

    Parameters
    ----------
    weather
        Arrays of one shape of ``tmin_c``, ``tmax_c``, ``wind_ms``, ``rs_mj_m2_d`` and a
        humidity variable (:func:`actual_vapour_pressure_kpa`), as
        :func:`complete_weather` leaves them.
    dates
        The day of every value (``datetime64``), broadcastable to their shape.
    latitude_deg, elevation_m, rso
        As for :func:`et0`.
    """
    shape = np.shape(weather["tmin_c"])

    def flat(values) -> pd.Series:
        # pyet takes pandas or xarray: one flat Series over every value computes the
        # same numbers as broadcast DataArrays at a fraction of the cost
        return pd.Series(np.broadcast_to(values, shape).ravel())

    dates = np.asarray(dates, "datetime64[ns]")
    ra = extraterrestrial_radiation(pd.DatetimeIndex(dates.ravel()), latitude_deg).reshape(
        dates.shape)
    tmin, tmax = flat(weather["tmin_c"]), flat(weather["tmax_c"])
    tmean = (tmin + tmax) / 2  # FAO-56 eq. 9 (ASCE: Tmean of the extremes for daily steps)
    ea = actual_vapour_pressure_kpa(weather)
    if rso == "asce_full":
        rso_mj = clear_sky_radiation_asce(ra, ea, air_pressure_kpa(elevation_m), dates,
                                          latitude_deg)
    else:
        rso_mj = pyet.calc_rso(ra, elevation_m)
    pet = pyet.pm_fao56(tmean, flat(weather["wind_ms"]), rs=flat(weather["rs_mj_m2_d"]),
                        tmax=tmax, tmin=tmin, ea=flat(ea), rso=flat(rso_mj),
                        elevation=elevation_m)
    return pet.to_numpy().reshape(shape)


def _values_like(da: xr.DataArray, like: xr.DataArray) -> np.ndarray:
    """The values of ``da`` over the dims of ``like``, in its order (broadcast when
    ``da`` has fewer dims)."""
    if set(da.dims) != set(like.dims):
        da = da.broadcast_like(like)
    return np.asarray(da.transpose(*like.dims).values, dtype=float)


def _et0_hargreaves(ds: xr.Dataset, latitude_deg: float) -> xr.DataArray:
    missing = [v for v in ("tmin_c", "tmax_c") if v not in ds]
    if missing:
        raise InputError(f"ET0 needs at least {', '.join(missing)}", field=missing[0])
    validate_weather(ds)
    tmin, tmax = ds["tmin_c"].transpose("time", ...), ds["tmax_c"].transpose("time", ...)
    tmean = ds["tmean_c"].transpose(*tmin.dims) if "tmean_c" in ds else (tmin + tmax) / 2
    time = pd.DatetimeIndex(ds["time"].values)

    def cube(da: xr.DataArray) -> xr.DataArray:
        # pyet.hargreaves broadcasts Ra (from the time index) as (time, 1, 1): give it
        # (time, every other dim flattened, 1) and compute all members/stations at once
        return xr.DataArray(da.values.reshape(len(time), -1, 1), dims=("time", "col", "one"),
                            coords={"time": time})

    pet = pyet.hargreaves(cube(tmean), cube(tmax), cube(tmin), np.deg2rad(latitude_deg))
    return _finish(np.asarray(pet).reshape(tmin.shape), tmin,
                   "Hargreaves-Samani (pyet.hargreaves, FAO-56 eq. 52)")


def _finish(pet, like: xr.DataArray, method: str) -> xr.DataArray:
    out = xr.DataArray(np.asarray(pet, dtype=float), dims=like.dims, coords=like.coords)
    out.name = "et0_mm"
    out.attrs = {"units": "mm d-1", "long_name": "reference evapotranspiration",
                 "method": method}
    return out


# --------------------------------------------------------------------------- ensembles


@dataclass(frozen=True)
class EnsembleErrorParams:
    """Error model that turns a deterministic forecast into an ensemble.

    Member 0 is the deterministic forecast itself (control); members 1.. add errors whose
    spread grows linearly with lead time ``L`` [d] (0 for the first forecast day):

    * temperature: one additive error per member, AR(1) in time with lag-1 correlation
      ``temp_autocorr`` and standard deviation ``temp_sd_c + temp_sd_growth_c_d * L`` [degC],
      added to tmin, tmax, tmean and tdew (tdew kept <= tmin);
    * precipitation: multiplicative, log-normal with mean 1 and log-sd
      ``precip_log_sd + precip_log_sd_growth_d * L`` (capped at the plausible daily
      maximum of :data:`PLAUSIBLE`); a dry day (< ``wet_threshold_mm``)
      becomes wet with probability ``p_false_dry`` (exponential amount, mean
      ``false_rain_mean_mm``), a wet day dry with probability ``p_false_wet``;
    * radiation and wind: multiplicative, log-normal with mean 1 and log-sd ``rs_log_sd``
      and ``wind_log_sd`` (growing like precipitation, scaled by ``rs_log_sd``/``wind_log_sd``
      at L = 0);
    * relative humidity: additive normal, sd ``rh_sd_pct``, clipped to [1, 100] %.

    Values are typical magnitudes of day-ahead to two-week errors of global NWP models over
    Central Europe (ECMWF ensemble verification); calibrate against local forecast archives.
    """

    temp_sd_c: float = 1.0
    temp_sd_growth_c_d: float = 0.25
    temp_autocorr: float = 0.7
    precip_log_sd: float = 0.6
    precip_log_sd_growth_d: float = 0.05
    wet_threshold_mm: float = 0.1
    p_false_dry: float = 0.1
    p_false_wet: float = 0.1
    false_rain_mean_mm: float = 3.0
    rs_log_sd: float = 0.15
    wind_log_sd: float = 0.2
    rh_sd_pct: float = 5.0

    def __post_init__(self) -> None:
        if not -1 < self.temp_autocorr < 1:
            raise ValueError("Expected temp_autocorr in (-1, 1).")
        for name in ("p_false_dry", "p_false_wet"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"Expected {name} in [0, 1].")
        for name in ("temp_sd_c", "temp_sd_growth_c_d", "precip_log_sd",
                     "precip_log_sd_growth_d", "false_rain_mean_mm", "rs_log_sd",
                     "wind_log_sd", "rh_sd_pct", "wet_threshold_mm"):
            if getattr(self, name) < 0:
                raise ValueError(f"Expected {name} >= 0.")


def ensemble_from_deterministic(
    ds: xr.Dataset,
    members: int,
    *,
    seed: int,
    params: EnsembleErrorParams | None = None,
) -> xr.Dataset:
    """Generate an ensemble (new dim ``member``) from a deterministic daily forecast.

    Parameters
    ----------
    ds
        Weather dataset over ``time`` (first day = lead 0), without ``member``; every
        variable has ``time``.
    members
        Number of members including the control (member 0 = ``ds``).
    seed
        Seed of the random generator; the same seed gives the same ensemble.
    params
        Error model (see :class:`EnsembleErrorParams`).

    Returns
    -------
    xr.Dataset
        Over (``time``, ``member``, other dims of ``ds``); the errors are drawn over
        (``time``, ``member``) and shared by the other dims.
    """
    params = params or EnsembleErrorParams()
    if "member" in ds.dims:
        raise InputError("the forecast already has members", field="member")
    v = ensemble_arrays({name: da.transpose("time", ...).values
                         for name, da in ds.data_vars.items()}, members, seed=seed,
                        params=params)
    out = xr.Dataset(
        {name: (("time", "member", *(d for d in da.dims if d != "time")), v[name],
                {"units": UNITS[name]} if name in UNITS else dict(da.attrs))
         for name, da in ds.data_vars.items()},
        coords={**{k: c for k, c in ds.coords.items()}, "member": np.arange(members)},
        attrs=dict(ds.attrs))
    out.attrs["ensemble"] = f"generated: {members} members, seed {seed}, {params}"
    return out


def ensemble_arrays(
    weather: Mapping[str, np.ndarray],
    members: int,
    *,
    seed: int,
    params: EnsembleErrorParams | None = None,
) -> dict[str, np.ndarray]:
    """The ensemble of :func:`ensemble_from_deterministic` as arrays: each variable of
    ``weather`` over (time, ...) becomes (time, member, ...); the same seed gives the same
    numbers as the dataset function."""
    params = params or EnsembleErrorParams()
    if members < 1:
        raise ValueError(f"Expected members >= 1, got {members}.")
    rng = np.random.default_rng(seed)
    nt = len(weather["precip_mm"])
    lead = np.arange(nt, dtype=float)
    shape = (nt, members)
    v = {name: np.repeat(np.asarray(a)[:, None], members, axis=1)
         for name, a in weather.items()}

    def err(a: np.ndarray) -> np.ndarray:  # (time, member) against (time, member, ...)
        return a.reshape(shape + (1,) * (v["precip_mm"].ndim - 2))

    # temperature: AR(1) standard normal series scaled by the lead-dependent sd
    z = rng.standard_normal(shape)
    ar = np.empty(shape)
    ar[0] = z[0]
    rho = params.temp_autocorr
    for t in range(1, nt):
        ar[t] = rho * ar[t - 1] + np.sqrt(1 - rho**2) * z[t]
    dt_c = ar * (params.temp_sd_c + params.temp_sd_growth_c_d * lead)[:, None]
    dt_c[:, 0] = 0.0

    def lognormal(sd0: float, growth: float) -> np.ndarray:
        sd = (sd0 + growth * lead)[:, None] * np.ones(shape)
        f = np.exp(sd * rng.standard_normal(shape) - sd**2 / 2)
        f[:, 0] = 1.0
        return f

    for name in ("tmin_c", "tmax_c", "tmean_c", "tdew_c"):
        if name in v:
            v[name] = v[name] + err(dt_c)
    if "tdew_c" in v:
        v["tdew_c"] = np.minimum(v["tdew_c"], v["tmin_c"])
    growth = params.precip_log_sd_growth_d
    p0 = v["precip_mm"]
    p = p0 * err(lognormal(params.precip_log_sd, growth))
    u = err(rng.random(shape))
    extra = err(rng.exponential(params.false_rain_mean_mm, shape))
    dry = p0 < params.wet_threshold_mm
    p = np.where(dry & (u < params.p_false_dry), extra, p)
    p = np.where(~dry & (u < params.p_false_wet), 0.0, p)
    p[:, 0] = p0[:, 0]
    v["precip_mm"] = np.minimum(p, PLAUSIBLE["precip_mm"][1])  # the log-normal's far tail
    for name, sd in (("rs_mj_m2_d", params.rs_log_sd), ("wind_ms", params.wind_log_sd)):
        if name in v:
            scale = growth * sd / max(params.precip_log_sd, 1e-9)
            v[name] = v[name] * err(lognormal(sd, scale))
    if "rs_mj_m2_d" in v:
        v["rs_mj_m2_d"] = np.clip(v["rs_mj_m2_d"], 0, PLAUSIBLE["rs_mj_m2_d"][1])
    e = params.rh_sd_pct * rng.standard_normal(shape)  # one error for mean, min and max
    e[:, 0] = 0.0
    for name in ("rh_mean_pct", "rh_min_pct", "rh_max_pct"):
        if name in v:
            v[name] = np.clip(v[name] + err(e), 1, 100)
    return v
