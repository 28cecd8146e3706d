"""Observed daily weather from the German weather service's open climate data (DWD CDC).

The Climate Data Center publishes daily station data ("KL": climate summary) as one zip
per station (``tageswerte_KL_<station>_<from>_<to>_hist.zip``, ``..._akt.zip``) holding
the data file ``produkt_klima_tag_<from>_<to>_<station>.txt`` and metadata files. The data
file is semicolon-separated ASCII text, a header line, one line per day, values padded
with spaces, ``-999`` for missing, a final ``eor`` (end of record) column::

    STATIONS_ID;MESS_DATUM;QN_3;  FX;  FM;QN_4; RSK;RSKF; SDK;SHK_TAG;  NM; VPM; ...;eor
            433;20220701;  10;12.3; 3.1;    3;   0.0;   0;  12.517;   0;   3.1;  13.4; ...

Columns (DWD dataset description "obsgermany climate daily kl"; units as published):

===========  ============  =========================================  ====================
column       units         meaning                                    read as
===========  ============  =========================================  ====================
MESS_DATUM   YYYYMMDD      day of the measurement                     ``time``
QN_3, QN_4   code          quality level of FX/FM and of the rest     not used
FX           m s-1         daily maximum wind gust                    not used
FM           m s-1         daily mean wind speed (anemometer height)  ``wind_ms`` (to 2 m)
RSK          mm            precipitation, 06 UTC to 06 UTC next day   ``precip_mm``
RSKF         code          precipitation form                         not used
SDK          h             sunshine duration                          ``sunshine_h``
SHK_TAG      cm            snow depth                                 not used
NM           1/8           mean cloud cover                           not used
VPM          hPa           mean vapour pressure                       ``tdew_c``
PM           hPa           mean air pressure at station height        not used
TMK          degC          mean air temperature 2 m                   ``tmean_c``
UPM          %             mean relative humidity                     ``rh_mean_pct``
TXK, TNK     degC          maximum, minimum air temperature 2 m       ``tmax_c``, ``tmin_c``
TGK          degC          minimum air temperature 5 cm above ground  not used
===========  ============  =========================================  ====================

Dewpoint from the vapour pressure: e_a = VPM / 10 [kPa], Tdew = 237.3 ln(e_a / 0.6108) /
(17.27 - ln(e_a / 0.6108)) [degC], the inverse of FAO-56 eq. 11 (e° at Tdew = e_a, eq. 14).
KL has no global radiation (the DWD ``solar`` dataset has it); radiation comes from the
sunshine duration by the Angstrom fallback of :func:`irrigation.weather.complete_weather`.

Missing values: a day without TXK, TNK or RSK is an error (no fallback exists); another
variable missing on any day of the read period is left out of the dataset as a whole and
a note in ``attrs["notes"]`` says so (its fallback then applies). ``start``/``end`` read a
period without the gaps.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import InputError
from ..weather import UNITS, validate_weather, wind_to_2m

#: KL columns read: DWD column -> our variable.
DWD_KL_COLUMNS: dict[str, str] = {
    "TXK": "tmax_c",
    "TNK": "tmin_c",
    "TMK": "tmean_c",
    "UPM": "rh_mean_pct",
    "FM": "wind_ms",
    "SDK": "sunshine_h",
    "RSK": "precip_mm",
}

#: KL columns without which a day cannot be used.
DWD_REQUIRED = ("TXK", "TNK", "RSK")

#: The DWD's missing-value code.
DWD_MISSING = -999.0

#: Anemometer height assumed for FM [m]: the WMO standard of 10 m, used at DWD synoptic
#: stations; the station zip's ``Metadaten_Geraete_Windgeschwindigkeit_*.txt`` gives the
#: real height (pass it as ``wind_height_m``).
DWD_WIND_HEIGHT_M = 10.0

#: Magnus coefficients of FAO-56 eq. 11 (e° = 0.6108 exp(17.27 T / (T + 237.3)) [kPa]).
_E0_KPA, _MAGNUS_A, _MAGNUS_B_C = 0.6108, 17.27, 237.3

#: Name pattern of the data file inside the station zip.
PRODUCT_PREFIX = "produkt_klima_tag"


def read_dwd_daily(
    path: str | Path,
    *,
    start: str | None = None,
    end: str | None = None,
    wind_height_m: float = DWD_WIND_HEIGHT_M,
) -> xr.Dataset:
    """Read a DWD CDC daily climate (KL) station file as a weather dataset.

    Parameters
    ----------
    path
        The station zip (``tageswerte_KL_*.zip``) or the ``produkt_klima_tag_*.txt`` in it.
    start, end
        Optional first and last day (``YYYY-MM-DD``) to keep.
    wind_height_m
        Anemometer height of FM [m] (:data:`DWD_WIND_HEIGHT_M`); ``wind_ms`` is returned
        at 2 m (FAO-56 eq. 47).

    Returns
    -------
    xr.Dataset
        Over ``time`` with the variables of :data:`DWD_KL_COLUMNS` (and ``tdew_c`` from
        VPM) in the units of :mod:`irrigation.weather`; attrs ``station`` (DWD station
        id), ``source`` and ``notes`` (variables left out, and why).

    Raises
    ------
    InputError
        Not a KL file, a line with another number of fields than the header, a bad date,
        a repeated day, a required value missing (naming the line and column), or
        implausible values (wrong units).
    """
    path = Path(path)
    text, name = _product_text(path)
    where = f"{path}!{name}" if name else str(path)
    frame, lines = _table(text, where)
    time = pd.to_datetime(frame["MESS_DATUM"], format="%Y%m%d", errors="coerce")
    if time.isna().any():
        i = int(np.argmax(time.isna().to_numpy()))
        raise InputError(f"expected a date YYYYMMDD, got {frame['MESS_DATUM'].iloc[i]!r}",
                         file=where, row=int(lines[i]), field="MESS_DATUM")
    keep = np.ones(len(frame), bool)
    if start is not None:
        keep &= (time >= pd.Timestamp(start)).to_numpy()
    if end is not None:
        keep &= (time <= pd.Timestamp(end)).to_numpy()
    frame, lines, time = frame[keep], lines[keep], pd.DatetimeIndex(time[keep])
    if len(frame) == 0:
        raise InputError(f"no days between {start} and {end}", file=where, field="MESS_DATUM")
    if time.has_duplicates:
        i = int(np.argmax(time.duplicated()))
        raise InputError(f"day {time[i].date()} appears twice", file=where,
                         row=int(lines[i]), field="MESS_DATUM")
    values = {col: _numbers(frame, col, lines, where) for col in (*DWD_KL_COLUMNS, "VPM")}
    for col in DWD_REQUIRED:
        gap = np.isnan(values[col])
        if gap.any():
            i = int(np.argmax(gap))
            raise InputError(f"missing value (-999) on {time[i].date()}; {col} has no "
                             "fallback: choose start/end without the gap", file=where,
                             row=int(lines[i]), field=col)
    data, notes = {}, []
    with np.errstate(divide="ignore", invalid="ignore"):
        values["VPM"] = np.where(values["VPM"] > 0, values["VPM"], np.nan)
        ln = np.log(values["VPM"] / 10.0 / _E0_KPA)
        tdew = _MAGNUS_B_C * ln / (_MAGNUS_A - ln)
    for col, var, arr in [*((c, v, values[c]) for c, v in DWD_KL_COLUMNS.items()),
                          ("VPM", "tdew_c", tdew)]:
        gap = np.isnan(arr)
        if gap.any():
            notes.append(f"{col} ({var}) missing on {int(gap.sum())} day(s) from "
                         f"{time[int(np.argmax(gap))].date()}: left out")
            continue
        data[var] = ("time", arr)
    ds = xr.Dataset(data, coords={"time": time.values.astype("datetime64[ns]")},
                    attrs={"station": str(frame["STATIONS_ID"].iloc[0]).strip(),
                           "source": where, "notes": "; ".join(notes),
                           "wind_height_m_original": wind_height_m})
    if "wind_ms" in ds:
        ds["wind_ms"] = wind_to_2m(ds["wind_ms"], wind_height_m)
    for var in ds.data_vars:
        ds[var].attrs["units"] = UNITS[var]
    validate_weather(ds, source=where)
    return ds


def _product_text(path: Path) -> tuple[str, str]:
    """The text of the data file and its name inside the zip ('' for a plain file)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", file=path) from None
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror})", file=path) from None
    name = ""
    if zipfile.is_zipfile(io.BytesIO(data)):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = [n for n in zf.namelist()
                         if Path(n).name.startswith(PRODUCT_PREFIX) and n.endswith(".txt")]
                if not names:
                    raise InputError(f"zip without a {PRODUCT_PREFIX}_*.txt file (a DWD "
                                     "daily KL station zip expected)", file=path)
                name = names[0]
                data = zf.read(name)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
            raise InputError(f"not a readable zip ({exc})", file=path) from None
    return data.decode("latin-1"), name


def _table(text: str, where: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Header and rows as stripped text, with the 1-based line of every row."""
    lines = text.splitlines()
    header = [h.strip() for h in lines[0].split(";")] if lines else []
    missing = [c for c in ("STATIONS_ID", "MESS_DATUM", *DWD_KL_COLUMNS, "VPM")
               if c not in header]
    if missing:
        raise InputError("expected a DWD daily KL header 'STATIONS_ID;MESS_DATUM;QN_3;FX;"
                         f"FM;...'; missing column(s) {', '.join(missing)}", file=where,
                         row=1)
    rows, numbers = [], []
    for k, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = [f.strip() for f in line.split(";")]
        if len(fields) != len(header):
            raise InputError(f"expected {len(header)} fields like the header, got "
                             f"{len(fields)}", file=where, row=k)
        rows.append(fields)
        numbers.append(k)
    if not rows:
        raise InputError("no data lines after the header", file=where, row=1)
    return pd.DataFrame(rows, columns=header), np.array(numbers)


def _numbers(frame: pd.DataFrame, col: str, lines: np.ndarray, where: str) -> np.ndarray:
    raw = frame[col]
    num = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(num) | ~np.isfinite(num)
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(f"expected a number (or -999), got {raw.iloc[i]!r}", file=where,
                         row=int(lines[i]), field=col)
    return np.where(num == DWD_MISSING, np.nan, num)

