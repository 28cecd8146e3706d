"""Readers of observed and forecast daily weather.

Every reader returns the weather ``xr.Dataset`` described in :mod:`irrigation.weather`
(variables with the unit in the name, ``wind_ms`` at 2 m) and checks it with
:func:`irrigation.weather.validate_weather`; bad input raises
:class:`~irrigation.errors.InputError` naming the file, the line or field and what was
expected.

The project weather CSV
-----------------------
One row per day, comma separated, a header line with these column names (order free,
unknown columns are an error so that typos do not pass silently):

==============  ==========  ========  =====================================================
column          units       required  meaning
==============  ==========  ========  =====================================================
``date``        YYYY-MM-DD  yes       the day (consecutive days, no gaps, no duplicates)
``tmin_c``      degC        yes       minimum air temperature
``tmax_c``      degC        yes       maximum air temperature
``tmean_c``     degC        yes       mean air temperature
``rh_mean_pct`` %           yes       mean relative humidity
``rh_min_pct``  %           no        minimum relative humidity
``rh_max_pct``  %           no        maximum relative humidity
``tdew_c``      degC        no        dewpoint temperature
``wind_ms``     m s-1       yes       mean wind speed at ``weather.wind_height_m`` of
                                      city.toml; converted to 2 m (FAO-56 eq. 47)
``rs_mj_m2_d``  MJ m-2 d-1  yes*      global radiation (*or ``sunshine_h``)
``sunshine_h``  h           no        sunshine duration; used when ``rs_mj_m2_d`` is absent
``precip_mm``   mm          yes       precipitation of the day
==============  ==========  ========  =====================================================

Empty cells are missing values; a missing value in a column that is present is an error
(fill gaps on purpose before). The same text is in ``docs/weather-csv.md``.

Other formats: :func:`read_knmi_daily` (KNMI ``etmgeg_*.txt``),
:func:`irrigation.io.dwd.read_dwd_daily` (DWD CDC daily KL), :func:`read_weather_netcdf`
(CF NetCDF), :func:`read_open_meteo` (Open-Meteo JSON, daily and ensemble API) and
:func:`read_mosmix` (DWD MOSMIX KML/KMZ, hourly aggregated to days).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import InputError
from ..weather import UNITS, clip_relative_humidity, validate_weather, wind_to_2m
from .dwd import read_dwd_daily
from .files import atomic_write

logger = logging.getLogger(__name__)

#: Columns of the project weather CSV: name -> required.
CSV_COLUMNS: dict[str, bool] = {
    "date": True,
    "tmin_c": True,
    "tmax_c": True,
    "tmean_c": True,
    "rh_mean_pct": True,
    "rh_min_pct": False,
    "rh_max_pct": False,
    "tdew_c": False,
    "wind_ms": True,
    "rs_mj_m2_d": False,
    "sunshine_h": False,
    "precip_mm": True,
}


def _dataset(frame: pd.DataFrame, time: pd.DatetimeIndex, **attrs) -> xr.Dataset:
    return xr.Dataset(
        {name: ("time", frame[name].to_numpy(dtype=float)) for name in frame.columns},
        coords={"time": time.values.astype("datetime64[ns]")},
        attrs=attrs,
    )


def _finish(ds: xr.Dataset, path: Path, wind_height_m: float) -> xr.Dataset:
    """Every reader's last step: wind to 2 m (FAO-56 eq. 47), units, source, validation,
    relative humidity slightly above 100 % clipped (noted in ``attrs["notes"]``)."""
    if "wind_ms" in ds:
        ds["wind_ms"] = wind_to_2m(ds["wind_ms"], wind_height_m)
    for name in ds.data_vars:
        ds[name].attrs["units"] = UNITS[name]
    ds.attrs["source"] = str(path)
    validate_weather(ds, source=str(path))
    return clip_relative_humidity(ds, source=str(path))


# --------------------------------------------------------------------------- project CSV


def read_weather_csv(path: str | Path, *, wind_height_m: float = 2.0) -> xr.Dataset:
    """Read the project's daily weather CSV (format in the module docstring).

    Parameters
    ----------
    path
        The CSV file.
    wind_height_m
        Height of the wind measurement [m] (city.toml ``weather.wind_height_m``); the
        returned ``wind_ms`` is at 2 m (FAO-56 eq. 47).

    Raises
    ------
    InputError
        Unknown or missing columns, unparsable numbers or dates (with the line number),
        gaps or duplicates in the dates, NaN, implausible values (wrong units).
    """
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, skipinitialspace=True)
    except FileNotFoundError:
        raise InputError("file not found", file=path) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"not a readable CSV ({exc})", file=path) from None
    frame.columns = [c.strip() for c in frame.columns]
    unknown = [c for c in frame.columns if c not in CSV_COLUMNS]
    if unknown:
        raise InputError(
            f"unknown column; expected columns {', '.join(CSV_COLUMNS)}", file=path,
            field=unknown[0], row=1,
        )
    missing = [c for c, req in CSV_COLUMNS.items() if req and c not in frame.columns]
    if "rs_mj_m2_d" not in frame.columns and "sunshine_h" not in frame.columns:
        missing.append("rs_mj_m2_d (or sunshine_h)")
    if missing:
        raise InputError(f"required column(s) missing: {', '.join(missing)}", file=path, row=1)
    for col in frame.columns:
        text = frame[col]
        if col == "date":
            parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
        else:
            parsed = pd.to_numeric(text, errors="coerce")
        bad = parsed.isna() & text.notna()
        if bad.any():
            i = int(np.argmax(bad.to_numpy()))
            expected = "a date YYYY-MM-DD" if col == "date" else "a number"
            raise InputError(f"expected {expected}, got {text.iloc[i]!r}", file=path,
                             field=col, row=i + 2)
        empty = parsed.isna()
        if empty.any():
            i = int(np.argmax(empty.to_numpy()))
            raise InputError("missing value (empty cell)", file=path, field=col, row=i + 2)
        frame[col] = parsed
    time = pd.DatetimeIndex(frame.pop("date"))
    if time.has_duplicates:
        i = int(np.argmax(time.duplicated()))
        raise InputError(f"date {time[i].date()} appears twice", file=path, field="date",
                         row=i + 2)
    return _finish(_dataset(frame, time, wind_height_m_original=wind_height_m), path,
                   wind_height_m)


def write_weather_csv(ds: xr.Dataset, path: str | Path, *, wind_height_m: float = 2.0) -> None:
    """Write a 1-D (time) weather dataset as the project CSV.

    ``wind_ms`` (2 m in the dataset) is written at ``wind_height_m`` (inverse of FAO-56 eq. 47),
    so that :func:`read_weather_csv` with the same height gives the dataset back.
    """
    frame = pd.DataFrame({"date": pd.DatetimeIndex(ds["time"].values).strftime("%Y-%m-%d")})
    for col in CSV_COLUMNS:
        if col != "date" and col in ds:
            frame[col] = ds[col].values
    if "wind_ms" in frame:
        frame["wind_ms"] = frame["wind_ms"] / wind_to_2m(1.0, wind_height_m)
    atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False, float_format="%.4f"))


# --------------------------------------------------------------------------- KNMI


#: KNMI daily columns used: name -> (our variable, scale).
_KNMI = {
    "TN": ("tmin_c", 0.1),
    "TX": ("tmax_c", 0.1),
    "TG": ("tmean_c", 0.1),
    "UG": ("rh_mean_pct", 1.0),
    "UN": ("rh_min_pct", 1.0),
    "UX": ("rh_max_pct", 1.0),
    "FG": ("wind_ms", 0.1),
    "Q": ("rs_mj_m2_d", 0.01),  # J cm-2 -> MJ m-2
    "SQ": ("sunshine_h", 0.1),
    "RH": ("precip_mm", 0.1),
}

#: Height of the KNMI wind measurement [m].
KNMI_WIND_HEIGHT_M = 10.0


def read_knmi_daily(
    path: str | Path, *, start: str | None = None, end: str | None = None
) -> xr.Dataset:
    """Read a KNMI daily station file (``etmgeg_<STN>.txt``) as a weather dataset.

    Parameters
    ----------
    path
        KNMI file: comments, a header line ``# STN,YYYYMMDD,...``, comma-separated rows.
    start, end
        Optional first and last day (``YYYY-MM-DD``) to keep.

    Notes
    -----
    Units 0.1 degC, 0.1 m s-1 (FG at 10 m, converted to 2 m with FAO-56 eq. 47), 0.1 h,
    0.1 mm (``RH = -1`` means < 0.05 mm, read as 0), Q in J cm-2 (x 0.01 -> MJ m-2).
    ``SQ = -1`` (< 0.05 h) is read as 0. Days with an empty cell in a used column keep NaN
    and make validation fail unless ``start``/``end`` exclude them.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="latin-1").splitlines()
    except FileNotFoundError:
        raise InputError("file not found", file=path) from None
    header_row = next((i for i, ln in enumerate(lines) if ln.startswith("# STN,YYYYMMDD")), None)
    if header_row is None:
        raise InputError("expected a header line starting with '# STN,YYYYMMDD'", file=path)
    names = [c.strip() for c in lines[header_row][1:].split(",")]
    missing = [c for c in ("YYYYMMDD", *_KNMI) if c not in names]
    if missing:
        raise InputError(f"KNMI column(s) {', '.join(missing)} missing", file=path,
                         row=header_row + 1)
    body = "\n".join(ln for ln in lines[header_row + 1:] if ln.strip())
    frame = pd.read_csv(io.StringIO(body), header=None, names=names, skipinitialspace=True,
                        na_values=[""], dtype=str)
    time = pd.to_datetime(frame["YYYYMMDD"].str.strip(), format="%Y%m%d", errors="coerce")
    if time.isna().any():
        i = int(np.argmax(time.isna().to_numpy()))
        raise InputError("expected a date YYYYMMDD", file=path, field="YYYYMMDD",
                         row=header_row + 2 + i)
    keep = np.ones(len(frame), bool)
    if start is not None:
        keep &= (time >= pd.Timestamp(start)).to_numpy()
    if end is not None:
        keep &= (time <= pd.Timestamp(end)).to_numpy()
    frame, time = frame[keep], pd.DatetimeIndex(time[keep])
    out = pd.DataFrame(index=frame.index)
    for col, (name, scale) in _KNMI.items():
        values = pd.to_numeric(frame[col].str.strip(), errors="coerce")
        if col in ("RH", "SQ"):
            values = values.where(values != -1, 0.0)
        out[name] = values * scale
    station = str(frame["STN"].iloc[0]).strip() if len(frame) else ""
    return _finish(_dataset(out, time, station=station), path, KNMI_WIND_HEIGHT_M)


# --------------------------------------------------------------------------- NetCDF


#: CF standard names accepted by :func:`read_weather_netcdf` -> our variable.
CF_NAMES = {
    "air_temperature_min": "tmin_c",
    "air_temperature_max": "tmax_c",
    "air_temperature": "tmean_c",
    "relative_humidity": "rh_mean_pct",
    "dew_point_temperature": "tdew_c",
    "wind_speed": "wind_ms",
    "surface_downwelling_shortwave_flux_in_air": "rs_mj_m2_d",
    "duration_of_sunshine": "sunshine_h",
    "precipitation_amount": "precip_mm",
}

#: Unit conversions at ingest: (variable, units attribute) -> (scale, offset).
_UNIT_CONVERSIONS = {
    ("tmin_c", "K"): (1.0, -273.15), ("tmax_c", "K"): (1.0, -273.15),
    ("tmean_c", "K"): (1.0, -273.15), ("tdew_c", "K"): (1.0, -273.15),
    ("rh_mean_pct", "1"): (100.0, 0.0), ("rh_min_pct", "1"): (100.0, 0.0),
    ("rh_max_pct", "1"): (100.0, 0.0),
    ("rs_mj_m2_d", "J m-2"): (1e-6, 0.0), ("rs_mj_m2_d", "MJ m-2"): (1.0, 0.0),
    ("rs_mj_m2_d", "W m-2"): (0.0864, 0.0),  # daily mean flux -> daily sum
    ("precip_mm", "mm"): (1.0, 0.0), ("precip_mm", "kg m-2"): (1.0, 0.0),
    ("sunshine_h", "s"): (1 / 3600, 0.0),
    ("wind_ms", "m/s"): (1.0, 0.0),
}


def read_weather_netcdf(path: str | Path, *, wind_height_m: float = 10.0) -> xr.Dataset:
    """Read daily weather from a CF NetCDF file.

    Variables are found by our names or by CF ``standard_name`` (:data:`CF_NAMES`; for
    temperatures ``cell_methods`` ``minimum``/``maximum`` pick tmin/tmax). The
    ``units`` attribute is required and converted at ingest (K -> degC, J m-2 -> MJ m-2,
    daily-mean W m-2 -> MJ m-2 d-1, fraction -> %); any other unit is an error. Dims
    ``time`` and optionally ``member`` and a station dim are kept.
    """
    path = Path(path)
    try:
        raw = xr.open_dataset(path)
    except FileNotFoundError:
        raise InputError("file not found", file=path) from None
    except (OSError, ValueError) as exc:
        raise InputError(f"not a readable NetCDF file ({exc})", file=path) from None
    with raw:
        out = {}
        for var in raw.data_vars:
            da = raw[var]
            name = str(var) if var in UNITS else CF_NAMES.get(da.attrs.get("standard_name", ""))
            if name in ("tmean_c",):
                cm = da.attrs.get("cell_methods", "")
                name = "tmin_c" if "minimum" in cm else "tmax_c" if "maximum" in cm else name
            if name is None:
                continue
            units = da.attrs.get("units")
            if units is None:
                raise InputError("expected a 'units' attribute", file=path, field=str(var))
            if units != UNITS[name]:
                conv = _UNIT_CONVERSIONS.get((name, units))
                if conv is None:
                    raise InputError(f"units '{units}' not understood; expected "
                                     f"'{UNITS[name]}'", file=path, field=str(var))
                da = da * conv[0] + conv[1]
            out[name] = da.load()
        ds = xr.Dataset(out)
    if "time" in ds.indexes:
        ds = ds.assign_coords(time=pd.DatetimeIndex(ds["time"].values))
    return _finish(ds, path, wind_height_m)


# --------------------------------------------------------------------------- Open-Meteo


#: Open-Meteo daily variable -> our variable.
OPEN_METEO_VARS = {
    "temperature_2m_min": "tmin_c",
    "temperature_2m_max": "tmax_c",
    "temperature_2m_mean": "tmean_c",
    "relative_humidity_2m_mean": "rh_mean_pct",
    "relative_humidity_2m_min": "rh_min_pct",
    "relative_humidity_2m_max": "rh_max_pct",
    "dew_point_2m_mean": "tdew_c",
    "wind_speed_10m_mean": "wind_ms",
    "shortwave_radiation_sum": "rs_mj_m2_d",
    "sunshine_duration": "sunshine_h",
    "precipitation_sum": "precip_mm",
}

#: Open-Meteo unit strings -> (our unit, scale, offset).
_OM_UNITS = {
    "°C": ("degC", 1.0, 0.0),
    "°F": ("degC", 5 / 9, -32 * 5 / 9),
    "%": ("%", 1.0, 0.0),
    "km/h": ("m s-1", 1 / 3.6, 0.0),
    "m/s": ("m s-1", 1.0, 0.0),
    "mp/h": ("m s-1", 0.44704, 0.0),
    "kn": ("m s-1", 0.514444, 0.0),
    "MJ/m²": ("MJ m-2 d-1", 1.0, 0.0),
    "mm": ("mm d-1", 1.0, 0.0),
    "inch": ("mm d-1", 25.4, 0.0),
    "s": ("h", 1 / 3600, 0.0),
}

#: Height of the Open-Meteo ``wind_speed_10m_*`` variables [m].
OPEN_METEO_WIND_HEIGHT_M = 10.0


def read_open_meteo(path: str | Path) -> xr.Dataset:
    """Read an Open-Meteo JSON response (forecast or ensemble API, ``daily`` block).

    Ensemble responses carry ``<variable>_memberNN`` keys beside the control ``<variable>``
    (member 0); the result then has a ``member`` dim. Units come from ``daily_units`` and
    are converted at ingest (km/h -> m/s, s -> h, °F -> °C, ...); wind at 10 m is converted
    to 2 m (FAO-56 eq. 47). ``latitude``, ``longitude`` and ``elevation`` go to attrs.
    """
    path = Path(path)
    return _open_meteo_dataset(_open_meteo_doc(path), path)


def read_open_meteo_archive(path: str | Path) -> xr.Dataset:
    """Read an Open-Meteo historical weather API (archive) JSON response, ``daily`` block.

    The archive response has the layout of the forecast API (:func:`read_open_meteo`); its
    reanalysis lags real time by a few days, so the last requested days are ``null`` for
    every variable. Such trailing days are left out and ``attrs["notes"]`` says which; a
    ``null`` before them is an error like in the forecast reader. Days are the response's
    ``timezone`` days (GMT unless the request set one).
    """
    path = Path(path)
    doc = _open_meteo_doc(path)
    daily = doc.get("daily")
    notes = ""
    if isinstance(daily, dict) and isinstance(daily.get("time"), list):
        series = [v for k, v in daily.items()
                  if k != "time" and k.partition("_member")[0] in OPEN_METEO_VARS
                  and isinstance(v, list)]
        n = len(daily["time"])
        while n > 0 and series and all(len(v) >= n and v[n - 1] is None for v in series):
            n -= 1
        if n < len(daily["time"]):
            gone = daily["time"][n:]
            notes = (f"{len(gone)} trailing day(s) without data left out ({gone[0]} .. "
                     f"{gone[-1]}; the archive is not yet complete there)")
            doc = {**doc, "daily": {k: (v[:n] if isinstance(v, list) else v)
                                    for k, v in daily.items()}}
    ds = _open_meteo_dataset(doc, path)
    ds.attrs["notes"] = notes
    return ds


def _open_meteo_doc(path: Path) -> dict:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("file not found", file=path) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc})", file=path, row=exc.lineno) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason})", file=path) from None
    if not isinstance(doc, dict):
        raise InputError("expected a JSON object (an Open-Meteo response)", file=path)
    return doc


def _open_meteo_dataset(doc: dict, path: Path) -> xr.Dataset:
    """The weather dataset of a parsed Open-Meteo response (forecast, ensemble, archive)."""
    if doc.get("error"):
        raise InputError(f"Open-Meteo error response: {doc.get('reason')}", file=path)
    daily, units = doc.get("daily"), doc.get("daily_units", {})
    if not isinstance(daily, dict) or not isinstance(daily.get("time"), list):
        raise InputError("expected a 'daily' object with a 'time' list", file=path,
                         field="daily")
    if not isinstance(units, dict):
        raise InputError("expected 'daily_units' to be an object", file=path,
                         field="daily_units")
    time = pd.to_datetime(pd.Series(daily["time"], dtype=object), format="%Y-%m-%d",
                          errors="coerce")
    if time.isna().any():
        raise InputError("expected ISO dates YYYY-MM-DD", file=path, field="daily.time")
    members: dict[str, dict[int, np.ndarray]] = {}
    for key, values in daily.items():
        base, _, suffix = key.partition("_member")
        if base not in OPEN_METEO_VARS or not (suffix == "" or suffix.isdigit()):
            continue
        member = int(suffix) if suffix else 0
        unit = units.get(key, units.get(base))
        if unit not in _OM_UNITS:
            raise InputError(f"unit {unit!r} not understood", file=path,
                             field=f"daily_units.{key}")
        _, scale, offset = _OM_UNITS[unit]
        if not isinstance(values, list) or not all(
                v is None or (isinstance(v, int | float) and not isinstance(v, bool))
                for v in values):
            raise InputError("expected a list of numbers (or null), not text", file=path,
                             field=f"daily.{key}")
        arr = np.array([np.nan if v is None else v for v in values], dtype=float)
        if arr.ndim != 1 or len(arr) != len(time):
            raise InputError(f"expected {len(time)} values like 'time', got {len(arr)}",
                             file=path, field=f"daily.{key}")
        members.setdefault(OPEN_METEO_VARS[base], {})[member] = arr * scale + offset
    if not members:
        raise InputError("no known daily variable; expected some of "
                         + ", ".join(OPEN_METEO_VARS), file=path, field="daily")
    n_members = max(len(v) for v in members.values())
    data_vars = {}
    for name, by_member in members.items():
        if n_members == 1:
            data_vars[name] = (("time",), by_member[0])
        else:
            if len(by_member) != n_members:
                raise InputError(f"expected {n_members} members, got {len(by_member)}",
                                 file=path, field=name)
            stacked = np.stack([by_member[m] for m in sorted(by_member)], axis=1)
            data_vars[name] = (("time", "member"), stacked)
    coords = {"time": pd.DatetimeIndex(time).values}
    if n_members > 1:
        coords["member"] = np.arange(n_members)
    attrs = {k: doc[k] for k in ("latitude", "longitude", "elevation") if k in doc}
    ds = xr.Dataset(data_vars, coords=coords, attrs=attrs)
    return _finish(ds, path, OPEN_METEO_WIND_HEIGHT_M)


# --------------------------------------------------------------------------- DWD MOSMIX


_KML_NS = {
    "kml": "http://www.opengis.net/kml/2.2",
    "dwd": "https://opendata.dwd.de/weather/lib/pointforecast_dwd_extension_V1_0.xsd",
}

#: MOSMIX elements used (hourly): element -> meaning.
MOSMIX_ELEMENTS = {
    "TTT": "air temperature 2 m [K]",
    "Td": "dewpoint 2 m [K]",
    "FF": "wind speed 10 m [m s-1]",
    "Rad1h": "global radiation of the last hour [kJ m-2]",
    "RR1c": "precipitation of the last hour [kg m-2]",
    "SunD1": "sunshine duration of the last hour [s]",
}

#: Height of the MOSMIX wind ``FF`` [m].
MOSMIX_WIND_HEIGHT_M = 10.0


#: Fewest forecast hours for a partial day to be kept (completed) by :func:`read_mosmix`:
#: a quarter day, so a forecast issued up to 18 UTC covers its own day, while the 21 UTC
#: issue (3 h left of its day) starts the next day.
MOSMIX_MIN_HOURS = 6


def read_mosmix(path: str | Path, *, station: str | None = None,
                min_hours: int = MOSMIX_MIN_HOURS) -> xr.Dataset:
    """Read a DWD MOSMIX forecast (KML or KMZ) and aggregate hours to days.

    Parameters
    ----------
    path
        ``MOSMIX_L_*.kmz`` (zip with one KML) or the KML itself.
    station
        Placemark name (station id); default: the first placemark.

    Notes
    -----
    Days are UTC days; an hourly value stamped at hh:00 belongs to the hour before it, so
    a day D holds the values stamped D 01:00 .. D+1 00:00. A forecast may be issued at any
    hour, so its first (and last) day is partial: a partial day with at least ``min_hours``
    hours (:data:`MOSMIX_MIN_HOURS`) is completed, its missing hours taken from the same
    clock hours of the nearest complete day of the file (the next day for the first day,
    the previous for the last), with their precipitation counted as 0 (rain is never
    copied: the conservative choice for watering); a day with fewer hours is dropped.
    ``attrs["partial_days"]`` states what was done per day, ``attrs["issue_time"]`` the
    issue time. A forecast issued on day D up to 18 UTC thus starts on D; the 21 UTC
    issue starts on D+1. Aggregation: tmin/tmax
    = min/max of hourly ``TTT``, tmean = mean ``TTT``, tdew = mean ``Td``, wind = mean
    ``FF`` (10 m -> 2 m, FAO-56 eq. 47), radiation = sum ``Rad1h`` (kJ -> MJ), sunshine =
    sum ``SunD1`` (s -> h), precipitation = sum ``RR1c``. Missing values ("-") in a kept
    day are an error. ``Rad1h`` or ``SunD1`` may be absent (fallbacks of
    :func:`irrigation.weather.complete_weather` then apply).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", file=path) from None
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            kmls = [n for n in zf.namelist() if n.lower().endswith(".kml")]
            if not kmls:
                raise InputError("KMZ without a .kml file", file=path)
            data = zf.read(kmls[0])
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise InputError(f"not valid KML ({exc})", file=path) from None
    steps = [e.text for e in root.iterfind(".//dwd:ForecastTimeSteps/dwd:TimeStep", _KML_NS)]
    if not steps:
        raise InputError("no dwd:ForecastTimeSteps/TimeStep", file=path)
    times = pd.DatetimeIndex(pd.to_datetime(steps, utc=True)).tz_convert(None)
    placemarks = root.findall(".//kml:Placemark", _KML_NS)
    if station is not None:
        placemarks = [p for p in placemarks if p.findtext("kml:name", "", _KML_NS) == station]
    if not placemarks:
        raise InputError(f"no placemark {station or ''}".strip(), file=path, field="Placemark")
    pm = placemarks[0]
    hourly = {}
    for fc in pm.iterfind(".//dwd:Forecast", _KML_NS):
        element = fc.get(f"{{{_KML_NS['dwd']}}}elementName")
        if element in MOSMIX_ELEMENTS:
            text = fc.findtext("dwd:value", "", _KML_NS).split()
            hourly[element] = np.array([np.nan if v == "-" else float(v) for v in text])
    for element in ("TTT", "FF", "RR1c"):
        if element not in hourly:
            raise InputError(f"MOSMIX element {element} ({MOSMIX_ELEMENTS[element]}) missing",
                             file=path, field=element)
    frame = pd.DataFrame(hourly, index=times - pd.Timedelta(hours=1))
    if len(frame) > 1 and (np.diff(frame.index.values) != np.timedelta64(1, "h")).any():
        raise InputError("expected hourly time steps", file=path, field="ForecastTimeSteps")
    frame, notes = _complete_days(frame, min_hours, path)
    groups = frame.groupby(frame.index.floor("D"))
    agg = pd.DataFrame({
        "tmin_c": groups["TTT"].min() - 273.15,
        "tmax_c": groups["TTT"].max() - 273.15,
        "tmean_c": groups["TTT"].mean() - 273.15,
        "wind_ms": groups["FF"].mean(),
        "precip_mm": groups["RR1c"].sum(min_count=24),
    })
    nan_check = {"TTT": groups["TTT"].count(), "FF": groups["FF"].count()}
    if "Td" in frame:
        agg["tdew_c"] = groups["Td"].mean() - 273.15
        nan_check["Td"] = groups["Td"].count()
    if "Rad1h" in frame:
        agg["rs_mj_m2_d"] = groups["Rad1h"].sum(min_count=24) / 1000.0
    if "SunD1" in frame:
        agg["sunshine_h"] = groups["SunD1"].sum(min_count=24) / 3600.0
    for element, count in nan_check.items():
        if (count < 24).any():
            bad = count.index[count < 24][0]
            raise InputError(f"missing hourly values on {bad.date()}", file=path, field=element)
    ds = _dataset(agg, pd.DatetimeIndex(agg.index), station=pm.findtext("kml:name", "", _KML_NS),
                  issue_time=root.findtext(".//dwd:IssueTime", "", _KML_NS),
                  partial_days="; ".join(notes))
    return _finish(ds, path, MOSMIX_WIND_HEIGHT_M)


def _complete_days(frame: pd.DataFrame, min_hours: int, path: Path
                   ) -> tuple[pd.DataFrame, list[str]]:
    """Hourly rows (index = start of the hour, UTC) of the days kept, partial days completed.

    A day with fewer than 24 but at least ``min_hours`` hours gets its missing hours from
    the same clock hours of the nearest complete day in the file (the next one for a first
    day, the previous one for a last day); the precipitation of those hours is 0 (rain is
    never copied). Days with fewer hours are dropped. Returns the rows and one note per
    partial day.
    """
    day = frame.index.floor("D")
    counts = frame.groupby(day).size()
    complete = counts.index[counts == 24]
    parts, notes = [frame[day.isin(complete)]], []
    for d, n in counts[counts < 24].items():
        hours = frame.index[day == d]
        span = f"{n} of 24 h ({hours[0]:%H}-{hours[-1] + pd.Timedelta(hours=1):%H} UTC)"
        if n < min_hours or len(complete) == 0:
            notes.append(f"{d.date()}: {span}, fewer than {min_hours} h or no complete day "
                         "to complete it from: dropped")
            continue
        ref = complete[np.argmin(np.abs((complete - d).days.to_numpy() - 0.1))]
        missing = pd.date_range(d, periods=24, freq="h").difference(hours)
        fill = frame.loc[missing + (ref - d)].set_axis(missing)
        fill["RR1c"] = 0.0
        parts.append(pd.concat([frame[day == d], fill]))
        notes.append(f"{d.date()}: {span}; the other {24 - n} h completed from "
                     f"{ref.date()} (same hours), their precipitation counted as 0")
    for note in notes:
        logger.info("MOSMIX %s: %s", path.name, note)
    if len(parts) == 1 and parts[0].empty:
        raise InputError(f"no day with at least {min_hours} forecast hours", file=path,
                         field="ForecastTimeSteps")
    return pd.concat(parts).sort_index(), notes


def _is_dwd_kl(path: Path) -> bool:
    """Whether a text file starts like a DWD daily KL product (``STATIONS_ID;MESS_DATUM``)."""
    with open(path, "rb") as fh:
        return fh.read(64).lstrip(b"\xef\xbb\xbf").startswith(b"STATIONS_ID;MESS_DATUM")


#: Weather file types by suffix, read by :func:`read_weather_file`.
WEATHER_FILE_TYPES: dict[str, str] = {
    ".csv": "project weather CSV",
    ".txt": "KNMI daily station file (etmgeg), or DWD daily KL (produkt_klima_tag_*.txt)",
    ".zip": "DWD CDC daily KL station zip (tageswerte_KL_*.zip)",
    ".nc": "CF NetCDF",
    ".json": "Open-Meteo JSON",
    ".kml": "DWD MOSMIX KML",
    ".kmz": "DWD MOSMIX KMZ",
}


def read_weather_file(path: str | Path, *, wind_height_m: float = 10.0) -> xr.Dataset:
    """Read observed or forecast weather by the file's suffix (:data:`WEATHER_FILE_TYPES`).

    ``wind_height_m`` is the measurement height of the wind in project CSV and NetCDF
    files (the city's ``weather.wind_height_m``); the KNMI, Open-Meteo and MOSMIX readers
    know their own heights.

    Raises
    ------
    InputError
        The file is missing, of an unknown type, or not as its reader expects.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in WEATHER_FILE_TYPES:
        raise InputError(f"unknown weather file type {suffix!r}; expected "
                         + "; ".join(f"{k}: {v}" for k, v in WEATHER_FILE_TYPES.items()),
                         file=path)
    if not path.is_file():
        raise InputError("weather file not found", file=path)
    if suffix == ".csv":
        return read_weather_csv(path, wind_height_m=wind_height_m)
    if suffix == ".nc":
        return read_weather_netcdf(path, wind_height_m=wind_height_m)
    if suffix == ".zip" or (suffix == ".txt" and _is_dwd_kl(path)):
        return read_dwd_daily(path)
    if suffix == ".txt":
        return read_knmi_daily(path)
    if suffix == ".json":
        return read_open_meteo(path)
    return read_mosmix(path)


def read_weather_period(path: str | Path, *, start: str | None = None, end: str | None = None,
                        wind_height_m: float = 10.0) -> xr.Dataset:
    """Read a weather file of any type (:func:`read_weather_file`) over the days
    ``start``..``end`` (``YYYY-MM-DD``, inclusive; None: from the first / to the last).

    The KNMI and DWD station readers cut the period before checking the values, so gaps
    outside it do not matter; other files are read whole and then cut.

    Raises
    ------
    InputError
        As :func:`read_weather_file`, a bad date, or no day in the period.
    """
    path = Path(path)
    for label, day in (("start", start), ("end", end)):
        if day is not None:
            try:
                dt.date.fromisoformat(day)
            except ValueError:
                raise InputError(f"expected a date YYYY-MM-DD, got {day!r}",
                                 field=label) from None
    suffix = path.suffix.lower()
    if path.is_file() and (suffix == ".zip" or (suffix == ".txt" and _is_dwd_kl(path))):
        ds = read_dwd_daily(path, start=start, end=end)
    elif path.is_file() and suffix == ".txt":
        ds = read_knmi_daily(path, start=start, end=end)
    else:
        ds = read_weather_file(path, wind_height_m=wind_height_m)
        ds = ds.sel(time=slice(start, end))
    if ds.sizes.get("time", 0) == 0:
        raise InputError(f"no day between {start or 'the start'} and {end or 'the end'}",
                         file=path)
    return ds
