"""Readers and writer of soil-moisture sensor readings (logger exports, OGC SensorThings).

Field data is noisy: a logger export has garbage lines, repeated rows after a re-download,
local times without an offset. The readers here are tolerant: a bad row is dropped and
reported as a :class:`~irrigation.errors.ReadProblem` (file, line, reason), everything else
is kept. Only a file that cannot be read at all (missing, not UTF-8 text, no or wrong
header, invalid JSON) raises :class:`~irrigation.errors.InputError`.

Both readers return ``(readings, problems)`` with ``readings`` an ``xr.Dataset``:

==============  ======================  ==================================================
name            dims / type             meaning
==============  ======================  ==================================================
``sensor``      coord (sensor), str     probe id (one probe = one tree pit), sorted
``depth``       coord (depth), int      channel depth below the surface [cm], sorted
``time``        coord (time)            datetime64[ns] in UTC (naive; attr
                                        ``timezone = "UTC"``), sorted union of all
                                        readings' times
``quantity``    coord (sensor), str     ``"tension"`` or ``"vwc"``; ``""`` for a probe
                                        given in ``known`` that sent no valid reading
``value``       (sensor, depth, time)   soil water tension [kPa] (suction positive) or
                                        volumetric water content [m3 m-3], per
                                        ``quantity``; NaN where there is no reading
==============  ======================  ==================================================

Attributes: ``source`` (the file), ``n_rows_read`` (data rows or observations seen),
``n_rows_dropped``. A channel (probe x depth) without readings is all NaN; with ``known``
every known probe and installed depth is present.

The sensor readings CSV
-----------------------
UTF-8 text (a byte-order mark is allowed), optionally gzip-compressed (``.csv.gz``; any file
starting with the gzip magic bytes is decompressed). Lines starting with ``#`` (in the first
column) and blank lines are comments, anywhere in the file. The first other line is the
header; it must name these columns (any order; further columns are ignored). Then one
reading per line::

    # logger export 2018-06-02, probes in Tilia pits of Hauptstrasse
    sensor_id,timestamp,depth_cm,quantity,value,unit
    T001,2018-06-01T06:00:00+02:00,30,tension,12.5,kPa
    T001,2018-06-01T06:00:00+02:00,60,tension,18,cbar
    T002,2018-06-01T04:00:00Z,30,vwc,23.4,%

=============  =====================================================================
column         content
=============  =====================================================================
``sensor_id``  probe id, e.g. ``T001``; a probe has channels at several depths
``timestamp``  ISO 8601 ``YYYY-MM-DDThh:mm[:ss[.fffffffff]]`` (``T`` or one space)
               followed by ``Z`` or a UTC offset ``+hh:mm`` (also ``+hhmm``, ``+hh``);
               stored in UTC. A time without offset is ambiguous local time: reported,
               not guessed
``depth_cm``   whole cm below the surface, 0 < depth <= 300
``quantity``   ``tension`` (soil water tension, suction positive) or ``vwc``
               (volumetric water content)
``value``      a finite number (decimal point)
``unit``       tension: ``kPa``, ``cbar`` (= kPa), ``hPa`` (/ 10), ``bar`` (x 100),
               ``MPa`` (x 1000); vwc: ``m3/m3``, ``m3 m-3``, ``m³/m³``
               (x 1), ``%``, ``vol%`` (/ 100). Case is ignored.
=============  =====================================================================

Fields are separated by commas and may not contain one; spaces and double quotes around a
field are removed. A probe measures one quantity. Within one channel the unit may change
(e.g. after a logger swap): values are converted, and an ``info`` problem says so.

Rows dropped (each one a ``ReadProblem`` with its line): wrong number of fields, empty
``sensor_id``, timestamp not ISO 8601 or without timezone, bad depth, unknown quantity,
value empty/not a number/not finite, unknown unit or a unit of the other quantity; with
``known``: unknown probe or a depth not installed there; a probe's reading of another
quantity than its first; a repeated (probe, depth, time), the first is kept.

:func:`write_sensor_csv` writes this format (UTC with ``Z``, canonical units ``kPa`` and
``m3 m-3``). :func:`read_sensorthings` reads OGC SensorThings API 1.1 JSON (FROST server
exports); its mapping is in its docstring.
"""

from __future__ import annotations

import gzip as _gzip
import json
import re
import zlib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import InputError, ReadProblem
from .files import atomic_write

#: The columns of the sensor readings CSV, in the order the writer uses.
CSV_COLUMNS = ("sensor_id", "timestamp", "depth_cm", "quantity", "value", "unit")

#: Quantities and their canonical units.
QUANTITIES = {"tension": "kPa", "vwc": "m3 m-3"}

_UNIT_SPELLING: dict[str, tuple[str, float]] = {
    "kPa": ("tension", 1.0),
    "cbar": ("tension", 1.0),
    "hPa": ("tension", 0.1),
    "bar": ("tension", 100.0),
    "MPa": ("tension", 1000.0),
    "m3/m3": ("vwc", 1.0),
    "m3 m-3": ("vwc", 1.0),
    "m³/m³": ("vwc", 1.0),
    "%": ("vwc", 0.01),
    "vol%": ("vwc", 0.01),
}

#: Accepted units (matched ignoring case): unit -> (quantity, factor to the canonical unit).
UNITS: dict[str, tuple[str, float]] = {u.lower(): v for u, v in _UNIT_SPELLING.items()}

#: Most ``@iot.nextLink`` pages :func:`read_sensorthings` fetches in one read.
MAX_PAGES = 10_000

#: Deepest accepted channel [cm].
MAX_DEPTH_CM = 300

_GZIP_MAGIC = b"\x1f\x8b"
_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?"
)
_QUANTITY_CODE = {"tension": 0, "vwc": 1}
_QUANTITY_NAME = np.array(["tension", "vwc"])


# --------------------------------------------------------------------------- files


def read_file_bytes(path: Path) -> bytes:
    """The content of ``path``: gunzipped if it starts with the gzip magic, checked to be
    UTF-8 text, without a byte-order mark."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", file=path) from None
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror})", file=path) from None
    if data.startswith(_GZIP_MAGIC):
        try:
            data = _gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"not a valid gzip file ({exc})", file=path) from None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start}); "
            "export the file as UTF-8",
            file=path,
        ) from None
    return data.removeprefix(b"\xef\xbb\xbf")


def _clean(texts: np.ndarray) -> np.ndarray:
    """Strip spaces and surrounding double quotes (applied to unique values only)."""
    return np.array([str(t).strip().strip('"').strip() for t in texts], dtype=object)


def known_sets(known: Mapping[str, Collection[int]] | None) -> dict[str, set[int]] | None:
    """The known channels (probe id -> its installed depths [cm]) as sets, or None."""
    if known is None:
        return None
    return {str(k): {int(d) for d in v} for k, v in known.items()}


# --------------------------------------------------------------------------- row checks


@dataclass
class RawRows:
    """Raw rows of any reader, as text, before the checks shared by all readers.

    ``order`` sorts problems (the line in a CSV, the observation index in JSON); ``line``
    is the CSV line (``None`` for JSON) and ``where`` the JSON location of each row.
    """

    sensor: np.ndarray
    timestamp: np.ndarray
    depth: np.ndarray
    quantity: np.ndarray
    value: np.ndarray
    unit: np.ndarray
    order: np.ndarray
    line: np.ndarray | None = None
    where: list[str] | None = None


@dataclass
class Labels:
    """How a reader names its fields in problem messages."""

    timestamp: str = "timestamp"
    depth: str = "depth_cm"
    value: str = "value"
    unit: str = "unit"


class ProblemList:
    """Collects problems with a sort key, rendered for one file."""

    def __init__(self, file: str, rows: RawRows | None = None) -> None:
        self.file = file
        self.rows = rows
        self._items: list[tuple[float, int, ReadProblem]] = []

    def add(self, order: float, reason: str, *, line: int | None = None,
            severity: str = "error") -> None:
        self._items.append(
            (order, len(self._items), ReadProblem(self.file, line, reason, severity))
        )

    def row(self, i: int, reason: str, severity: str = "error") -> None:
        """A problem of row ``i`` of ``self.rows``."""
        rows = self.rows
        assert rows is not None
        if rows.line is not None:
            self.add(float(rows.order[i]), reason, line=int(rows.line[i]), severity=severity)
        else:
            where = rows.where[i] if rows.where is not None else f"row {i}"
            self.add(float(rows.order[i]), f"{where}: {reason}", severity=severity)

    def sorted(self) -> list[ReadProblem]:
        return [p for _, _, p in sorted(self._items, key=lambda t: t[:2])]


def _factorize_clean(texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes and cleaned unique values of a text column (cleaning runs on uniques only)."""
    codes, uniques = pd.factorize(texts)
    clean = _clean(np.asarray(uniques, dtype=object))
    codes2, uniques2 = pd.factorize(clean)
    return np.asarray(codes2)[codes], np.asarray(uniques2, dtype=object)


def _parse_times(uniques: np.ndarray) -> tuple[np.ndarray, list[str | None]]:
    """UTC ns since epoch and a reason (None if fine) per unique timestamp text."""
    ns = np.zeros(len(uniques), dtype=np.int64)
    reasons: list[str | None] = [None] * len(uniques)
    ok_idx, ok_text = [], []
    for k, text in enumerate(uniques):
        m = _TIMESTAMP.fullmatch(text)
        if m is None:
            reasons[k] = "is not an ISO 8601 date-time"
        elif m.group("tz") is None:
            reasons[k] = ("has no timezone (Z or a UTC offset such as +02:00): "
                          "local time is ambiguous")
        else:
            ok_idx.append(k)
            ok_text.append(text)
    if ok_text:
        parsed = pd.to_datetime(pd.Series(ok_text), format="ISO8601", utc=True, errors="coerce")
        bad = parsed.isna().to_numpy()
        values = parsed.dt.tz_convert(None).astype("datetime64[ns]").to_numpy()
        for j, k in enumerate(ok_idx):
            if bad[j]:
                reasons[k] = "is not a valid date-time (or not within the years 1678-2261)"
            else:
                ns[k] = values[j].astype(np.int64)
    return ns, reasons


def _parse_depths(uniques: np.ndarray) -> tuple[np.ndarray, list[str | None]]:
    numbers = pd.to_numeric(pd.Series(uniques, dtype=object), errors="coerce").to_numpy(float)
    ok = np.isfinite(numbers) & (numbers == np.round(numbers))
    ok &= (numbers > 0) & (numbers <= MAX_DEPTH_CM)
    depth = np.where(ok, numbers, 0).astype(np.int64)
    reasons = [None if good else f"is not a whole number of cm in (0, {MAX_DEPTH_CM}]"
               for good in ok]
    return depth, reasons


def _parse_values(texts: np.ndarray) -> np.ndarray:
    """Floats of a value column (NaN where not a number); vectorised, stripped on retry."""
    values = pd.to_numeric(pd.Series(texts, dtype=object), errors="coerce")
    values = values.to_numpy(dtype=float, na_value=np.nan)
    retry = np.flatnonzero(np.isnan(values))
    if len(retry):
        stripped = pd.Series(texts[retry], dtype=object).astype(str).str.strip().str.strip('"')
        again = pd.to_numeric(stripped, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        values[retry] = again
    return values


def _check_rows(
    rows: RawRows,
    problems: ProblemList,
    known: dict[str, set[int]] | None,
    labels: Labels,
) -> KeptRows:
    """The checks all readers share; returns the kept rows (codes and canonical values).

    Every check is vectorised, over rows or over unique texts; only the reasons of dropped
    rows are built one by one.
    """
    return check_across_rows(check_fields(rows, problems, known, labels), problems, rows)


def _check_row_fields(rows: RawRows, problems: ProblemList, labels: Labels) -> KeptRows:
    """Each row's fields: parsed, converted to canonical units, or dropped with a reason."""
    n = len(rows.order)
    s_code, s_uniq = _factorize_clean(rows.sensor)
    t_code, t_uniq = _factorize_clean(rows.timestamp)
    d_code, d_uniq = _factorize_clean(rows.depth)
    q_code, q_uniq = _factorize_clean(rows.quantity)
    u_code, u_uniq = _factorize_clean(rows.unit)

    t_ns_u, t_why = _parse_times(t_uniq)
    d_int_u, d_why = _parse_depths(d_uniq)
    q_u = np.array([_QUANTITY_CODE.get(q.lower(), -1) for q in q_uniq], dtype=np.int64)
    u_entry = [UNITS.get(u.lower()) for u in u_uniq]
    u_q_u = np.array([-1 if e is None else _QUANTITY_CODE[e[0]] for e in u_entry], np.int64)
    u_f_u = np.array([np.nan if e is None else e[1] for e in u_entry], dtype=float)
    value = _parse_values(rows.value)

    bad_s = (s_uniq == "")[s_code] if len(s_uniq) else np.zeros(n, bool)
    bad_t = np.array([w is not None for w in t_why], bool)[t_code] if n else np.zeros(0, bool)
    bad_d = np.array([w is not None for w in d_why], bool)[d_code] if n else np.zeros(0, bool)
    q = q_u[q_code] if n else np.zeros(0, np.int64)
    uq = u_q_u[u_code] if n else np.zeros(0, np.int64)
    bad_q = q < 0
    bad_u = (uq < 0) | ((q >= 0) & (uq != q))
    bad_v = ~np.isfinite(value)
    bad = bad_s | bad_t | bad_d | bad_q | bad_u | bad_v
    for i in np.flatnonzero(bad):
        why = []
        if bad_s[i]:
            why.append("empty sensor_id")
        if bad_t[i]:
            why.append(f"{labels.timestamp} {t_uniq[t_code[i]]!r} {t_why[t_code[i]]}")
        if bad_d[i]:
            why.append(f"{labels.depth} {d_uniq[d_code[i]]!r} {d_why[d_code[i]]}")
        if bad_q[i]:
            why.append(f"unknown quantity {q_uniq[q_code[i]]!r}; expected tension or vwc")
        if bad_u[i]:
            why.append(_unit_reason(u_uniq[u_code[i]], q[i], labels))
        if bad_v[i]:
            text = str(rows.value[i]).strip()
            why.append(f"{labels.value} is empty" if text == "" else
                       f"{labels.value} {text[:40]!r} is not a finite number")
        problems.row(int(i), "; ".join(why))

    # units that differ only in case are one unit: code of the first spelling seen
    first_spelling: dict[str, int] = {}
    u_same = np.array([first_spelling.setdefault(u.lower(), k) for k, u in enumerate(u_uniq)],
                      dtype=np.int64)
    keep = np.flatnonzero(~bad)
    kept = KeptRows(
        row=keep,
        s=s_code[keep],
        depth=d_int_u[d_code[keep]] if n else np.zeros(0, np.int64),
        time=t_ns_u[t_code[keep]] if n else np.zeros(0, np.int64),
        q=q[keep],
        value=value[keep] * u_f_u[u_code[keep]] if n else np.zeros(0),
        u=u_same[u_code[keep]] if n else np.zeros(0, np.int64),
        names=s_uniq,
        units=u_uniq,
    )
    return kept


def check_fields(rows: RawRows, problems: ProblemList, known: dict[str, set[int]] | None,
                 labels: Labels) -> KeptRows:
    """The checks of each row on its own (fields, units, ``known``); the rows kept."""
    return _check_known(_check_row_fields(rows, problems, labels), known, problems)


def check_across_rows(kept: KeptRows, problems: ProblemList, rows: RawRows) -> KeptRows:
    """The checks between rows (one quantity per probe, one reading per channel and time;
    units changing within a channel noted): the rows kept, in reading order."""
    kept = _check_quantity(kept, problems, rows)
    kept = _check_duplicates(kept, problems, rows)
    _note_mixed_units(kept, problems)
    return kept


@dataclass
class KeptRows:
    """Rows that passed the checks so far: codes and canonical values, one entry per row.

    ``s`` indexes ``names`` (probe ids), ``u`` indexes ``units`` (units as written);
    ``row`` indexes the reader's raw rows; ``time`` is ns since 1970 UTC; ``q`` is 0 for
    tension, 1 for vwc; ``value`` is in kPa or m3 m-3.
    """

    row: np.ndarray
    s: np.ndarray
    depth: np.ndarray
    time: np.ndarray
    q: np.ndarray
    value: np.ndarray
    u: np.ndarray
    names: np.ndarray
    units: np.ndarray

    def subset(self, mask: np.ndarray) -> KeptRows:
        if mask.all():
            return self
        return KeptRows(self.row[mask], self.s[mask], self.depth[mask], self.time[mask],
                     self.q[mask], self.value[mask], self.u[mask], self.names, self.units)

    def first(self, keys: list[np.ndarray]) -> np.ndarray:
        """For every row, the position of the first row with the same keys."""
        frame = pd.DataFrame({f"k{i}": k for i, k in enumerate(keys)})
        frame["pos"] = np.arange(len(self.row))
        return frame.groupby(list(frame.columns[:-1]), sort=False)["pos"].transform(
            "first").to_numpy()


def _unit_reason(unit: str, q: int, labels: Labels) -> str:
    entry = UNITS.get(unit.lower())
    if q < 0:
        return f"unknown {labels.unit} {unit!r}"
    quantity = str(_QUANTITY_NAME[q])
    if entry is not None:
        return f"{labels.unit} {unit!r} is a {entry[0]} unit, but the quantity is {quantity}"
    expected = ", ".join(u for u, (qq, _) in _UNIT_SPELLING.items() if qq == quantity)
    return f"unknown {labels.unit} {unit!r} for {quantity}; expected one of {expected}"


def _check_known(kept: KeptRows, known: dict[str, set[int]] | None,
                 problems: ProblemList) -> KeptRows:
    if known is None or len(kept.row) == 0:
        return kept
    probe_ok = np.array([name in known for name in kept.names], bool)[kept.s]
    key = kept.s.astype(np.int64) * (MAX_DEPTH_CM + 1) + kept.depth
    installed = [k * (MAX_DEPTH_CM + 1) + d for k, name in enumerate(kept.names)
                 for d in known.get(name, ())]
    ok = probe_ok & np.isin(key, installed)
    for i in np.flatnonzero(~ok):
        s, d = kept.names[kept.s[i]], int(kept.depth[i])
        if not probe_ok[i]:
            reason = f"unknown sensor id {s!r} (not among the known probes)"
        else:
            at = ", ".join(map(str, sorted(known[s])))
            reason = f"depth {d} cm is not installed at probe {s} (installed: {at} cm)"
        problems.row(int(kept.row[i]), reason)
    return kept.subset(ok)


def _check_quantity(kept: KeptRows, problems: ProblemList, rows: RawRows) -> KeptRows:
    """A probe measures one quantity: the first valid row of a probe decides."""
    if len(kept.row) == 0:
        return kept
    first = kept.first([kept.s])
    other = kept.q != kept.q[first]
    for i in np.flatnonzero(other):
        j = first[i]
        problems.row(
            int(kept.row[i]),
            f"probe {kept.names[kept.s[i]]} reports {_QUANTITY_NAME[kept.q[i]]} here, "
            f"but {_QUANTITY_NAME[kept.q[j]]} first ({_at(rows, int(kept.row[j]))}); "
            "a probe has one quantity, the first is kept",
        )
    return kept.subset(~other)


def _check_duplicates(kept: KeptRows, problems: ProblemList, rows: RawRows) -> KeptRows:
    """One reading per (probe, depth, time): the first is kept, later ones reported."""
    if len(kept.row) == 0:
        return kept
    frame = pd.DataFrame({"s": kept.s, "d": kept.depth, "t": kept.time})
    dup = frame.duplicated(keep="first").to_numpy()
    if not dup.any():
        return kept
    first = kept.first([kept.s, kept.depth, kept.time])
    for i in np.flatnonzero(dup):
        j = first[i]
        v, v0 = float(kept.value[i]), float(kept.value[j])
        unit = QUANTITIES[str(_QUANTITY_NAME[kept.q[i]])]
        same = ("same value" if v == v0 else
                f"value differed: {v:g} {unit} here, {v0:g} {unit} first")
        stamp = np.datetime_as_string(np.datetime64(int(kept.time[i]), "ns"), unit="s",
                                      timezone="UTC")
        problems.row(
            int(kept.row[i]),
            f"duplicate reading of {kept.names[kept.s[i]]} at {kept.depth[i]} cm, {stamp} "
            f"(first {_at(rows, int(kept.row[j]))}; {same}); the first is kept",
        )
    return kept.subset(~dup)


def _note_mixed_units(kept: KeptRows, problems: ProblemList) -> None:
    """One info problem per channel whose unit changes (the values were converted)."""
    if len(kept.row) == 0:
        return
    channel = kept.first([kept.s, kept.depth])
    changed = np.flatnonzero(kept.u != kept.u[channel])
    seen: set[int] = set()
    for i in changed:  # rows are in reading order: the first change of a channel comes first
        c = int(channel[i])
        if c in seen:
            continue
        seen.add(c)
        in_channel = channel == c
        units = [str(kept.units[u]) for u in pd.unique(kept.u[in_channel])]
        canonical = QUANTITIES[str(_QUANTITY_NAME[kept.q[c]])]
        problems.row(
            int(kept.row[i]),
            f"{kept.names[kept.s[c]]} at {kept.depth[c]} cm: mixed units "
            f"{', '.join(units)} (all converted to {canonical}); "
            f"{kept.units[kept.u[i]]!r} first appears here",
            severity="info",
        )


def _at(rows: RawRows, i: int) -> str:
    """Where row ``i`` is, for a message: ``line 7`` or a JSON location."""
    if rows.line is not None:
        return f"line {int(rows.line[i])}"
    return rows.where[i] if rows.where is not None else f"row {i}"


# --------------------------------------------------------------------------- the Dataset


def build_readings(
    kept: KeptRows,
    *,
    source: str,
    n_read: int,
    known: dict[str, set[int]] | None,
) -> xr.Dataset:
    """The readings Dataset (sensor x depth x time) from checked rows; shared by all readers."""
    present = np.unique(kept.s)
    sensors = set(kept.names[present].tolist())
    depths = set(np.unique(kept.depth).tolist())
    if known is not None:
        sensors |= set(known)
        depths |= {d for ds in known.values() for d in ds}
    sensor = np.array(sorted(sensors), dtype=str)
    depth = np.array(sorted(depths), dtype=np.int64)
    time = np.unique(kept.time).astype("datetime64[ns]")
    at = np.searchsorted(sensor, kept.names[present]) if len(present) else present
    position = np.zeros(len(kept.names), dtype=np.int64)
    position[present] = at
    i = position[kept.s]
    j = np.searchsorted(depth, kept.depth)
    k = np.searchsorted(time, kept.time.astype("datetime64[ns]"))
    value = np.full((len(sensor), len(depth), len(time)), np.nan)
    value[i, j, k] = kept.value
    quantity = np.full(len(sensor), "", dtype=object)
    quantity[i] = _QUANTITY_NAME[kept.q]  # one quantity per probe (checked)
    return xr.Dataset(
        {
            "value": (
                ("sensor", "depth", "time"),
                value,
                {
                    "units": "kPa or m3 m-3 (see quantity)",
                    "long_name": "soil water tension (suction positive) or volumetric water "
                    "content",
                },
            )
        },
        coords={
            "sensor": ("sensor", sensor),
            "depth": ("depth", depth, {"units": "cm", "long_name": "depth below the surface"}),
            "time": ("time", time, {"timezone": "UTC"}),
            "quantity": ("sensor", quantity.astype(str),
                         {"long_name": "tension [kPa] or vwc [m3 m-3]"}),
        },
        attrs={
            "source": source,
            "n_rows_read": int(n_read),
            "n_rows_dropped": int(n_read - len(kept.row)),
        },
    )


# --------------------------------------------------------------------------- CSV


def read_sensor_csv(
    path: str | Path, *, known: Mapping[str, Collection[int]] | None = None
) -> tuple[xr.Dataset, list[ReadProblem]]:
    """Read the sensor readings CSV (format in the module docstring), tolerantly.

    Parameters
    ----------
    path
        The CSV file, plain or gzip-compressed.
    known
        Installed channels: probe id -> depths [cm]. When given, readings of other probes or
        depths are dropped (and reported) and every known channel is in the result.

    Returns
    -------
    readings
        Dataset over ``sensor`` x ``depth`` [cm] x ``time`` (UTC) with ``value`` in kPa
        (tension) or m3 m-3 (vwc), see the module docstring.
    problems
        Dropped rows (``severity="error"``, with the 1-based line) and notes
        (``"info"``: units mixed within a channel), sorted by line.

    Raises
    ------
    InputError
        The file is missing, not gzip/UTF-8 text, or has no header or one without the
        required columns. A file without any valid row is not an error.
    """
    path = Path(path)
    data = read_file_bytes(path)
    problems = ProblemList(str(path))
    _, rows, n_read = csv_rows(data, path, problems)
    k = known_sets(known)
    kept = _check_rows(rows, problems, k, Labels())
    return build_readings(kept, source=str(path), n_read=n_read, known=k), problems.sorted()


def csv_rows(data: bytes, path: Path, problems: ProblemList, *, first_line: int = 0,
             columns: list[str] | None = None) -> tuple[list[str], RawRows, int]:
    """The rows of whole lines of a sensor readings CSV, as text, before any check.

    ``data`` holds the file's lines from line ``first_line + 1`` on (1-based); without
    ``columns`` its first line that is no comment or blank is the header. Lines with the
    wrong number of fields go to ``problems``. Returns the columns, the rows (``line``:
    the line in the file) and the number of data lines seen.
    """
    data = data.replace(b"\r\n", b"\n")
    lines = np.array(data.decode("utf-8").split("\n"), dtype=object)
    # per line, on the bytes (fast): number of commas, comment, maybe blank
    raw = np.frombuffer(data, dtype=np.uint8)
    ends = np.append(np.flatnonzero(raw == ord("\n")), len(raw))
    starts = np.insert(ends[:-1] + 1, 0, 0)
    at_comma = np.flatnonzero(raw == ord(","))
    commas = np.searchsorted(at_comma, ends) - np.searchsorted(at_comma, starts)
    padded = np.append(raw, 0)
    comment = (padded[starts] == ord("#")) & (starts < ends)
    blank = np.zeros(len(lines), bool)
    for i in np.flatnonzero(commas == 0):
        blank[i] = lines[i].strip() == ""
    content = np.flatnonzero(~(comment | blank))
    if columns is None:
        if len(content) == 0:
            raise InputError(f"no header line; expected {','.join(CSV_COLUMNS)}", file=path)
        h = int(content[0])
        columns = _header(str(lines[h]), path, first_line + h + 1)
        content = content[1:]
    body = content
    right = commas[body] == len(columns) - 1
    for i in body[~right]:
        got = int(commas[i]) + 1
        hint = " (a decimal comma?)" if got == len(columns) + 1 else ""
        line = first_line + int(i) + 1
        problems.add(float(line), f"wrong number of fields: expected {len(columns)}, got "
                     f"{got}{hint}", line=line)
    good = body[right]
    if len(good):
        cells = np.array(",".join(lines[good]).split(","), dtype=object)
        cells = cells.reshape(len(good), len(columns))
    else:
        cells = np.empty((0, len(columns)), dtype=object)
    col = {name: cells[:, columns.index(name)] for name in CSV_COLUMNS}
    rows = RawRows(
        sensor=col["sensor_id"], timestamp=col["timestamp"], depth=col["depth_cm"],
        quantity=col["quantity"], value=col["value"], unit=col["unit"],
        order=first_line + good + 1, line=first_line + good + 1,
    )
    problems.rows = rows
    return columns, rows, len(body)


def _header(line: str, path: Path, lineno: int) -> list[str]:
    columns = [c.lower() for c in _clean(np.array(line.split(","), dtype=object))]
    missing = [c for c in CSV_COLUMNS if c not in columns]
    if missing:
        raise InputError(
            f"header misses column(s) {', '.join(missing)}; expected "
            f"{','.join(CSV_COLUMNS)}, got {line[:120]!r}",
            file=path, row=lineno,
        )
    repeated = sorted({c for c in columns if columns.count(c) > 1 and c in CSV_COLUMNS})
    if repeated:
        raise InputError(f"column(s) {', '.join(repeated)} appear twice in the header",
                         file=path, row=lineno)
    return columns


def write_sensor_csv(ds: xr.Dataset, path: str | Path, *, gzip: bool | None = None) -> Path:
    """Write readings as the sensor readings CSV, atomically.

    Parameters
    ----------
    ds
        Readings as returned by :func:`read_sensor_csv` (``value`` over sensor x depth x time,
        ``quantity`` per sensor); NaN values are not written.
    path
        The file; a ``.gz`` suffix writes gzip (unless ``gzip`` says otherwise).
    gzip
        Compress with gzip (``mtime`` 0, so equal data gives equal bytes); ``None``: by suffix.

    Notes
    -----
    Timestamps are UTC with ``Z``; units canonical (``kPa``, ``m3 m-3``); tension is
    rounded to 0.1 kPa and vwc to 0.001 m3 m-3. Rows are sorted by probe, depth, time.
    """
    path = Path(path)
    values = ds["value"].transpose("sensor", "depth", "time").to_numpy()
    quantity = ds["quantity"].to_numpy().astype(str)
    s, d, t = np.nonzero(np.isfinite(values))
    q = quantity[s]
    unknown = sorted(set(np.unique(q).tolist()) - set(QUANTITIES))
    if unknown:
        raise ValueError(f"Expected quantity tension or vwc for probes with readings, got "
                         f"{unknown}.")
    v = values[s, d, t]
    tension = q == "tension"
    v = np.where(tension, np.round(v, 1), np.round(v, 3)) + 0.0
    times = ds["time"].to_numpy().astype("datetime64[ns]")
    whole = bool(np.all(times.astype(np.int64) % 1_000_000_000 == 0))
    stamps = np.datetime_as_string(times, unit="s" if whole else "ns", timezone="UTC")
    frame = pd.DataFrame({
        "sensor_id": ds["sensor"].to_numpy().astype(str)[s],
        "timestamp": stamps[t],
        "depth_cm": ds["depth"].to_numpy().astype(np.int64)[d],
        "quantity": q,
        "value": v,
        "unit": np.where(tension, QUANTITIES["tension"], QUANTITIES["vwc"]),
    })
    data = frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
    if gzip is None:
        gzip = path.suffix.lower() == ".gz"
    if gzip:
        data = _gzip.compress(data, compresslevel=6, mtime=0)
    return atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))


# --------------------------------------------------------------------------- SensorThings


_TENSION_WORDS = ("tension", "matric", "suction")
_VWC_WORDS = ("water content", "moisture", "vwc")
_DEPTH_IN_NAME = re.compile(r"(\d+(?:\.\d+)?)\s*cm\b", re.IGNORECASE)


def read_sensorthings(
    path_or_dict: str | Path | Mapping[str, Any] | Sequence[str | Path],
    *,
    known: Mapping[str, Collection[int]] | None = None,
    fetch: Callable[[str], Any] | None = None,
    max_pages: int = MAX_PAGES,
) -> tuple[xr.Dataset, list[ReadProblem]]:
    """Read OGC SensorThings API 1.1 JSON (a FROST server export), tolerantly.

    Parameters
    ----------
    path_or_dict
        A JSON file (plain or gzip; a ``str`` is a path), the parsed document, or a list of
        JSON files that are the pages of one export in order (page 1, the document its
        ``@iot.nextLink`` pointed to, ...). Accepted shapes: a collection
        ``{"value": [Thing, ...]}`` of Things fetched with
        ``$expand=Datastreams($expand=ObservedProperty,Observations)``, a single Thing, or
        a collection of Datastreams each with an expanded ``Thing`` (and
        ``ObservedProperty``, ``Observations``).
    known
        Installed channels: probe id -> depths [cm], as in :func:`read_sensor_csv`.
    fetch
        Called with each ``@iot.nextLink`` URL (of the collection, of a Thing's
        ``Datastreams`` and of a Datastream's ``Observations``), returns the parsed JSON
        of that page (``{"value": [...], "@iot.nextLink": ...}``); e.g. an HTTP GET. The
        values of the page are appended where the link was and its own next link is
        followed in turn. ``None``: links are not followed (an ``info`` problem says so).
    max_pages
        Most pages fetched in all (:data:`MAX_PAGES`); a link seen before is not fetched
        again (a loop), and a failing ``fetch`` stops that chain; each is reported.

    Returns
    -------
    readings, problems
        The Dataset of :func:`read_sensor_csv`. Problems have ``line=None`` and a reason
        that starts with the JSON location, e.g. ``value[0].Datastreams[2].Observations[17]``.

    Raises
    ------
    InputError
        The file is missing or not JSON (with the line of the JSON error), or the document
        is none of the accepted shapes.

    Notes
    -----
    Mapping: probe id = Thing ``properties.sensor_id``, else Thing ``name``; depth =
    Datastream ``properties.depth_cm``, else a ``"<n> cm"`` in the Datastream ``name``;
    quantity from ObservedProperty ``name`` and ``definition``: "tension", "matric" or
    "suction" -> tension, "water content", "moisture" or "vwc" -> vwc; unit =
    ``unitOfMeasurement.symbol`` (units of the CSV format); time = Observation
    ``phenomenonTime`` (with timezone; of an interval ``start/end`` the end); value =
    ``result`` (a number or a numeric string). A Datastream without depth, quantity or
    observations is reported once and its observations dropped. ``@iot.nextLink``
    (pagination) is followed with ``fetch``, or through the given page files; a link
    left unfollowed gives an ``info`` problem saying that only these pages were read.
    """
    if isinstance(path_or_dict, Mapping):
        docs: list[Any] = [dict(path_or_dict)]
        sources = ["<SensorThings document>"]
    else:
        paths = ([Path(path_or_dict)] if isinstance(path_or_dict, str | Path)
                 else [Path(p) for p in path_or_dict])
        if not paths:
            raise InputError("no SensorThings pages given")
        sources = [str(p) for p in paths]
        docs = [_json_file(p) for p in paths]
    source = sources[0] if len(sources) == 1 else f"{sources[0]} (+{len(sources) - 1} pages)"
    problems = ProblemList(source)
    walk = _Walk(problems, fetch, max_pages)
    for k, (doc, page_source) in enumerate(zip(docs, sources, strict=True)):
        walk.document(doc, page_source, last_page=k == len(docs) - 1)
    rows = walk.rows()
    problems.rows = rows
    k = known_sets(known)
    kept = _check_rows(rows, problems, k,
                       Labels("phenomenonTime", "depth", "result", "unitOfMeasurement.symbol"))
    return build_readings(kept, source=source, n_read=walk.n_read, known=k), problems.sorted()


def _json_file(path: Path) -> Any:
    text = read_file_bytes(path).decode("utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg} (column {exc.colno})", file=path,
                         row=exc.lineno) from None
    except (ValueError, RecursionError) as exc:
        raise InputError(f"not valid JSON ({type(exc).__name__}: {str(exc)[:80]})",
                         file=path) from None


def _obj(x: Any) -> dict:
    return x if isinstance(x, dict) else {}


def _text(x: Any) -> str:
    """A JSON scalar as text for the row checks (numbers exactly, others as JSON)."""
    if isinstance(x, str):
        return x
    if x is None:
        return ""
    if isinstance(x, bool):
        return json.dumps(x)
    if isinstance(x, int | float):
        try:
            return repr(x)
        except ValueError:  # an int too long to print
            return "?"
    try:
        return json.dumps(x)[:40]
    except (TypeError, ValueError, RecursionError):
        return "?"


class _Walk:
    """Walks a SensorThings document and collects one raw row per Observation."""

    def __init__(self, problems: ProblemList, fetch: Callable[[str], Any] | None = None,
                 max_pages: int = 0) -> None:
        self.problems = problems
        self.n_read = 0
        self.fetch = fetch
        self.pages_left = max_pages
        self.seen: set[str] = set()
        self._cols: dict[str, list] = {c: [] for c in
                                       ("sensor", "timestamp", "depth", "quantity", "value",
                                        "unit", "order", "where")}

    def rows(self) -> RawRows:
        c = {k: np.array(v, dtype=object) for k, v in self._cols.items() if k != "where"}
        return RawRows(sensor=c["sensor"], timestamp=c["timestamp"], depth=c["depth"],
                     quantity=c["quantity"], value=c["value"], unit=c["unit"],
                     order=np.array(self._cols["order"], dtype=np.int64),
                     where=list(self._cols["where"]))

    def note(self, where: str, reason: str, severity: str = "error") -> None:
        prefix = f"{where}: " if where else ""
        self.problems.add(self.n_read - 0.5, prefix + reason, severity=severity)

    def document(self, doc: Any, source: str, last_page: bool = True) -> None:
        if isinstance(doc, dict) and "value" in doc:
            items = doc["value"]
            if not isinstance(items, list):
                raise InputError("expected 'value' to be a list of Things or Datastreams",
                                 file=source)
            if last_page or not isinstance(doc.get("@iot.nextLink"), str):
                items = self._pages(doc, "value", "", "")
            for i, item in enumerate(items):
                where = f"value[{i}]"
                if not isinstance(item, dict):
                    self.note(where, "expected a Thing or Datastream object; skipped")
                elif "Datastreams" in item:
                    self.thing(item, where)
                elif "Thing" in item:
                    self.datastream(item, where, self.sensor_id(item["Thing"]))
                else:
                    self.note(where, "neither a Thing with expanded Datastreams nor a "
                              "Datastream with an expanded Thing; skipped")
        elif isinstance(doc, dict) and "Datastreams" in doc:
            self.thing(doc, "")
        elif isinstance(doc, dict) and "Thing" in doc and "Observations" in doc:
            self.datastream(doc, "", self.sensor_id(doc["Thing"]))
        else:
            raise InputError(
                "expected SensorThings JSON: a collection {\"value\": [...]} of Things or "
                "Datastreams, or a Thing with expanded Datastreams",
                file=source,
            )

    def _pages(self, obj: dict, key: str, link_key: str, where: str) -> list:
        """``obj[key]`` with the values of the pages its ``@iot.nextLink`` chain adds."""
        items = list(obj.get(key) or [])
        link = obj.get(f"{link_key}@iot.nextLink")
        what = f"{link_key} are" if link_key else "the collection is"
        while link is not None:
            shown = str(link)[:80]
            if self.fetch is None:
                self.note(where, f"{what} paginated (@iot.nextLink {shown!r}); only this "
                          "page was read (no fetcher to follow the link)", severity="info")
                break
            if not isinstance(link, str) or link in self.seen:
                self.note(where, f"@iot.nextLink {shown!r} already read or not a URL; "
                          "paging stopped", severity="info")
                break
            if self.pages_left <= 0:
                self.note(where, f"page limit reached before @iot.nextLink {shown!r}; "
                          "later pages not read", severity="error")
                break
            self.seen.add(link)
            self.pages_left -= 1
            try:
                page = self.fetch(link)
            except Exception as exc:  # a fetcher (HTTP, files) may fail in many ways
                self.note(where, f"fetching @iot.nextLink {shown!r} failed "
                          f"({type(exc).__name__}: {str(exc)[:80]}); later pages not read")
                break
            values = page.get("value") if isinstance(page, dict) else None
            if not isinstance(values, list):
                self.note(where, f"page {shown!r} has no 'value' list; paging stopped")
                break
            items.extend(values)
            link = page.get("@iot.nextLink")
        return items

    @staticmethod
    def sensor_id(thing: Any) -> str | None:
        """Thing ``properties.sensor_id``, else ``name``; None if neither is usable."""
        thing = _obj(thing)
        sid = _obj(thing.get("properties")).get("sensor_id")
        if sid is None:
            sid = thing.get("name")
        if isinstance(sid, str) and sid.strip():
            return sid.strip()
        if isinstance(sid, int) and not isinstance(sid, bool):
            return str(sid)
        return None

    def thing(self, thing: dict, where: str) -> None:
        sid = self.sensor_id(thing)
        streams = thing.get("Datastreams")
        dot = f"{where}." if where else ""
        if not isinstance(streams, list):
            self.note(where, "Datastreams is not a list; skipped")
            return
        streams = self._pages(thing, "Datastreams", "Datastreams", where)
        for j, stream in enumerate(streams):
            self.datastream(stream, f"{dot}Datastreams[{j}]", sid)

    def datastream(self, stream: Any, where: str, sid: str | None) -> None:
        stream = _obj(stream)
        obs = stream.get("Observations")
        if not isinstance(obs, list):
            self.note(where, "no expanded Observations (export with "
                      "$expand=Datastreams($expand=ObservedProperty,Observations)); skipped")
            return
        obs = self._pages(stream, "Observations", "Observations", where)
        depth, depth_why = _stream_depth(stream)
        quantity = _stream_quantity(stream)
        why = []
        if sid is None:
            why.append("its Thing has no name (or properties.sensor_id)")
        if depth is None:
            why.append(depth_why)
        if quantity is None:
            why.append("ObservedProperty names neither tension nor water content")
        if why:
            self.note(where, f"{'; '.join(why)}: its {len(obs)} observation(s) are dropped",
                      severity="error" if obs else "info")
            self.n_read += len(obs)
            return
        unit = _text(_obj(stream.get("unitOfMeasurement")).get("symbol"))
        for m, ob in enumerate(obs):
            ob = _obj(ob)
            stamp = _text(ob.get("phenomenonTime"))
            if "/" in stamp:
                stamp = stamp.rsplit("/", 1)[1]
            for key, val in (("sensor", sid), ("timestamp", stamp), ("depth", str(depth)),
                             ("quantity", quantity), ("value", _text(ob.get("result"))),
                             ("unit", unit), ("order", self.n_read),
                             ("where", f"{where}.Observations[{m}]")):
                self._cols[key].append(val)
            self.n_read += 1


def _stream_depth(stream: dict) -> tuple[int | None, str]:
    """The depth [cm] of a Datastream, or None and why not."""
    raw = _obj(stream.get("properties")).get("depth_cm")
    if raw is None:
        match = _DEPTH_IN_NAME.search(_text(stream.get("name")))
        if match is None:
            return None, "no depth (properties.depth_cm, or '<n> cm' in the name)"
        raw = match.group(1)
    try:
        depth = float(raw) if not isinstance(raw, bool) else np.nan
    except (TypeError, ValueError, OverflowError):
        depth = np.nan
    if not (np.isfinite(depth) and depth == round(depth) and 0 < depth <= MAX_DEPTH_CM):
        return None, f"depth {_text(raw)[:40]!r} is not a whole number of cm in (0, {MAX_DEPTH_CM}]"
    return int(depth), ""


def _words(x: Any) -> str:
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", _text(x))
    return re.sub(r"[^a-z0-9]+", " ", text.lower())


def _stream_quantity(stream: dict) -> str | None:
    prop = _obj(stream.get("ObservedProperty"))
    text = f"{_words(prop.get('name'))} | {_words(prop.get('definition'))}"
    if any(w in text for w in _TENSION_WORDS):
        return "tension"
    if any(w in text for w in _VWC_WORDS):
        return "vwc"
    return None



def read_sensor_data(
    path: str | Path, *, known: Mapping[str, Collection[int]] | None = None,
    read_csv: Callable[..., tuple[xr.Dataset, list[ReadProblem]]] | None = None,
) -> tuple[xr.Dataset, list[ReadProblem]]:
    """Read one readings file, or every ``*.csv``, ``*.csv.gz`` and ``*.json`` in a folder.

    ``read_csv(file, known=...)`` reads each CSV (default :func:`read_sensor_csv`; the
    daily run passes :func:`~irrigation.io.sensorstore.read_sensor_csv_stored`, which
    parses only the lines added since the last read, with the same result).

    The ``*.json`` files of a folder are read together as the pages, in name order, of one
    SensorThings export (:func:`read_sensorthings`; name them ``page-001.json``, ...).
    Files are read in name order and merged: a (probe, depth, time) read twice keeps the
    first file's value and reports the later one. Problems of all files are returned.

    Raises
    ------
    InputError
        ``path`` does not exist, or a file is unreadable as a whole.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("sensor data not found", file=path)
    files = ([path] if path.is_file() else sorted(
        p for p in path.iterdir() if p.is_file() and p.name.endswith((".csv", ".csv.gz", ".json"))))
    pages = [f for f in files if f.suffix == ".json"]
    parts, problems, used = [], [], []
    for f in files:
        if f.suffix == ".json" and f != pages[0]:
            continue  # read with the first page
        if f.suffix == ".json":
            ds, probs = read_sensorthings(pages, known=known)
        else:
            ds, probs = (read_csv or read_sensor_csv)(str(f), known=known)
        parts.append(ds)
        used.append(f)
        problems += probs
    if not parts:
        raise InputError("no readings files (*.csv, *.csv.gz, *.json) in the folder", file=path)
    out = parts[0]
    for i, ds in enumerate(parts[1:], start=1):
        clash = out["value"].notnull() & ds["value"].reindex_like(out["value"]).notnull()
        n = int(clash.sum())
        if n:
            problems.append(ReadProblem(str(used[i]), None,
                                        f"{n} readings already read from an earlier file; "
                                        "the earlier values are kept"))
        q = out["quantity"].combine_first(ds["quantity"])
        out = out.drop_vars("quantity").combine_first(ds.drop_vars("quantity"))
        out = out.assign_coords(quantity=q.reindex(sensor=out["sensor"]))
    out.attrs["source"] = str(path)
    return out, problems

