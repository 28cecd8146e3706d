"""Refill points (hydrants, street pumps, wells) from GeoJSON or CSV files, with status.

A truck refills at a refill point; which points work is often recorded in the data as a
status text (OSM ``pump:status``, ``operational_status``, or a city's own column, in
German or English). :func:`read_refill_point_file` keeps the working points, drops the
broken and locked ones and counts every point per status and reason
(:class:`RefillReport`). Points of unknown status are kept by default (counted), since a
status is often simply not recorded; ``keep_unknown=False`` drops them.

Status texts are classified by :func:`status_class`: first the exact texts of
:data:`STATUS_VALUES`, then the words of :data:`STATUS_KEYWORDS` (checked in the order
broken, locked, working, so "funktioniert nicht" is broken); any other text is
``unrecognised`` and treated like ``unknown``, and listed with its count.

The returned table has the columns of the city's ``refill_points.csv`` (``id``, ``kind``,
``x``, ``y`` [m, city CRS], ``refill_l_per_min`` [L min-1]) and ``name`` and ``status``
(the original text). ``kind`` is ``hydrant`` (the project's word for any refill point
that is not a depot).

Sources: the Berlin street-pump export of OpenStreetMap (technologiestiftung/
giessdenkiez-de-osm-pumpen-harvester, ``pump:status`` values ``funktionsfähig``,
``defekt``, ``verriegelt``, ``unbekannt`` and free text); OSM tags ``pump:status``
and ``operational_status`` (wiki.openstreetmap.org).
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from .points import PointTable, csv_points, project, read_csv_table, read_geojson_points

#: Status classes.
STATUS_CLASSES = ("working", "broken", "locked", "unknown", "unrecognised")

#: Exact status texts (compared case-insensitively, spaces trimmed) -> class.
STATUS_VALUES: dict[str, str] = {
    "funktionsfähig": "working", "funktionstüchtig": "working", "in betrieb": "working",
    "ok": "working", "yes": "working", "working": "working", "operational": "working",
    "defekt": "broken", "kaputt": "broken", "außer betrieb": "broken",
    "broken": "broken", "out_of_order": "broken", "out of order": "broken",
    "disused": "broken", "abandoned": "broken", "no": "broken",
    "verriegelt": "locked", "gesperrt": "locked", "abgeschlossen": "locked",
    "locked": "locked", "closed": "locked",
    "unbekannt": "unknown", "unknown": "unknown", "": "unknown",
}  # fmt: skip

#: Words searched in other status texts, per class, in this order.
STATUS_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("broken", ("defekt", "kaputt", "außer betrieb", "ausser betrieb", "funktioniert nicht",
                "nicht funktions", "broken", "out of order", "out_of_order")),
    ("locked", ("verriegelt", "gesperrt", "abgeschlossen", "locked")),
    ("working", ("funktionsfähig", "funktioniert", "working")),
)

#: Properties holding a point's status, tried in this order.
STATUS_FIELDS = ("pump:status", "operational_status", "status")

#: Properties holding a point's name or address, tried in this order.
NAME_FIELDS = ("name", "addr:full", "description")


def status_class(text: str | None) -> str:
    """The class of a status text: one of :data:`STATUS_CLASSES`."""
    norm = unicodedata.normalize("NFC", str(text or "")).strip().casefold()
    if norm in STATUS_VALUES:
        return STATUS_VALUES[norm]
    for cls, words in STATUS_KEYWORDS:
        if any(w in norm for w in words):
            return cls
    return "unrecognised"


@dataclass
class RefillReport:
    """What :func:`read_refill_point_file` kept and dropped.

    Attributes
    ----------
    file
        The file read.
    n_read, n_kept
        Points read and kept.
    by_status
        Status class -> number of points (all points read).
    dropped
        Reason -> number of points dropped.
    unrecognised
        Status texts not classified, with their counts (kept or dropped like unknown).
    """

    file: str
    n_read: int = 0
    n_kept: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    unrecognised: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """The report as short lines of text."""
        out = [f"{self.file}: {self.n_read} points, {self.n_kept} kept"]
        out.append("status: " + ", ".join(f"{k} {n}" for k, n in self.by_status.items()))
        if self.dropped:
            out.append("dropped: " + ", ".join(f"{n} {k}" for k, n in self.dropped.items()))
        if self.unrecognised:
            out.append("unrecognised status texts (treated as unknown): " + "; ".join(
                f"{t!r} {n}" for t, n in self.unrecognised.items()))
        return out


def read_refill_point_file(
    path: str | Path,
    *,
    crs: str,
    refill_l_per_min: float | None = None,
    keep_unknown: bool = True,
    id_prefix: str = "",
    x: str = "lon",
    y: str = "lat",
    csv_crs: str = "EPSG:4326",
    delimiter: str = ",",
) -> tuple[pd.DataFrame, RefillReport]:
    """Read refill points from a GeoJSON (Point features) or CSV file.

    Parameters
    ----------
    path
        ``.geojson``/``.json`` in the CRS it declares (default WGS84), or a CSV with
        coordinate columns ``x``, ``y`` in ``csv_crs``.
    crs
        The city's projected CRS [m].
    refill_l_per_min
        Refill rate of these points [L min-1] when the file has no ``refill_l_per_min``
        column; required then (street hand pumps and hydrants differ by two orders of
        magnitude: state the city's value).
    keep_unknown
        Keep points whose status is unknown, absent or unrecognised (counted either way).
    id_prefix
        Put before every id (e.g. ``"P"``), so ids stay distinct from the depot's.
    x, y, csv_crs, delimiter
        Layout of a CSV file.

    Returns
    -------
    points, report
        The kept points (columns in the module docstring) and a :class:`RefillReport`.

    Raises
    ------
    InputError
        Unreadable file, bad coordinates, no id, repeated ids, a rate that is not a
        number > 0, or no rate at all.
    """
    path = Path(path)
    if path.suffix.lower() in (".geojson", ".json"):
        points = read_geojson_points(path)
    else:
        frame = read_csv_table(path, delimiter=delimiter)
        points = csv_points(frame, x, y, csv_crs, path)
    props = points.properties
    report = RefillReport(str(path), n_read=len(props))
    ids = _ids(points, path, id_prefix)
    rate = _rates(points, path, refill_l_per_min)
    status = _first_field(props, STATUS_FIELDS)
    classes = np.array([status_class(s) for s in status], dtype=object)
    report.by_status = {c: int((classes == c).sum()) for c in STATUS_CLASSES
                        if (classes == c).any()}
    report.unrecognised = dict(Counter(
        str(s) for s, c in zip(status, classes, strict=True) if c == "unrecognised"
    ).most_common())
    keep = (classes == "working") | (keep_unknown & np.isin(classes, ["unknown",
                                                                       "unrecognised"]))
    for cls in ("broken", "locked", "unknown", "unrecognised"):
        n = int(((classes == cls) & ~keep).sum())
        if n:
            report.dropped[f"{cls}" if cls != "unrecognised" else "status unrecognised"] = n
    xs, ys = project(points, crs, path)
    out = pd.DataFrame({
        "id": ids, "kind": "hydrant", "x": np.round(xs, 2), "y": np.round(ys, 2),
        "refill_l_per_min": rate, "name": _first_field(props, NAME_FIELDS),
        "status": [s or "" for s in status],
    })[keep].reset_index(drop=True)
    report.n_kept = len(out)
    return out, report


def _first_field(props: pd.DataFrame, names: tuple[str, ...]) -> list[str | None]:
    """Per row, the first non-empty value among the properties ``names``."""
    out: list[str | None] = [None] * len(props)
    for name in reversed(names):
        if name in props.columns:
            out = [v if v not in (None, "") else o for v, o in zip(props[name], out,
                                                                    strict=True)]
    return out


def _ids(points: PointTable, path: Path, prefix: str) -> np.ndarray:
    props = points.properties
    col = next((c for c in ("id", "@id", "osm_id") if c in props.columns), None)
    if col is None:
        raise InputError("expected an 'id' column or property", file=path)
    ids = props[col]
    empty = ids.isna() | (ids.astype(str).str.strip() == "")
    if empty.any():
        i = int(np.flatnonzero(empty.to_numpy())[0])
        raise _error(points, path, i, col, "an id", ids.iloc[i])
    text = prefix + ids.astype(str).str.strip()
    dup = text.duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise _error(points, path, i, col, "a unique id", ids.iloc[i])
    return text.to_numpy(dtype=object)


def _rates(points: PointTable, path: Path, default: float | None) -> np.ndarray:
    props = points.properties
    n = len(props)
    if default is not None and not (np.isfinite(default) and default > 0):
        raise InputError(f"expected refill_l_per_min > 0 L/min, got {default!r}",
                         file=path, field="refill_l_per_min")
    if "refill_l_per_min" not in props.columns:
        if default is None:
            raise InputError("no refill_l_per_min column: give the refill rate of these "
                             "points [L/min]", file=path, field="refill_l_per_min")
        return np.full(n, float(default))
    raw = props["refill_l_per_min"]
    num = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    absent = raw.isna().to_numpy()
    bad = ~absent & ~(num > 0)
    if absent.any() and default is None:
        bad |= absent
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise _error(points, path, i, "refill_l_per_min", "a rate > 0 L/min", raw.iloc[i])
    return np.where(absent, default if default is not None else np.nan, num)


def _error(points: PointTable, path: Path, i: int, col: str, expected: str, got
           ) -> InputError:
    if points.properties.attrs.get("csv", False):
        return InputError(f"expected {expected}, got {got!r}", file=path,
                          row=int(points.line[i]), field=col)
    return InputError(f"expected {expected}, got {got!r}", file=path,
                      field=f"features[{int(points.line[i])}].properties.{col}")
