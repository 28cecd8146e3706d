"""What the crews did, back into the watering log: ``irrigation log add``.

A day's plan folder holds sheets with a ``given_l`` column for the litres actually given
(``driver_NN.csv``, ``fixed_systems.csv``, ``visits.csv``); a crew app may export its own
CSV or JSON. :func:`read_report` reads any of them into watering-log rows (``date``,
``site``, ``litres``), :func:`add_to_log` checks them (unknown site, a date without a plan
or outside the plan of ``--date``, a site logged twice) and appends them atomically to the
workspace's log (:data:`REPORTED_LOG`), which the next run reads together with the city's
own ``watering_log`` (:func:`irrigation.io.observations.read_observed`): for a day the
workspace log holds, its rows are the record of that day.

Column names of a crew app export are matched case-insensitively against
:data:`ALIASES`; its dates may be ISO dates or timestamps (the local date is used).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import InputError
from .cells import restore
from .files import atomic_write

#: The log of reported watering in a workspace (relative to it).
REPORTED_LOG = Path("watering") / "executed.csv"

#: Accepted column names of a crew app export, per watering-log column.
ALIASES = {
    "site": ("site", "site_id", "tree_id", "baum_id", "object_id"),
    "litres": ("given_l", "litres", "liters", "litres_given", "amount_l", "volume_l",
               "menge_l"),
    "date": ("date", "day", "datum", "timestamp", "time", "done_at"),
    "by": ("by", "truck", "vehicle", "crew", "team"),
}

#: Largest plausible water of one visit [L] (a lawn zone of a fixed system included).
MAX_LITRES = 1e5


@dataclass
class Report:
    """Rows read from one file: ``rows`` (date, site, litres, line), the kind of file
    and what was skipped."""

    rows: pd.DataFrame
    kind: str
    skipped: list[str] = field(default_factory=list)


def _table(path: Path) -> pd.DataFrame:
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(path.read_text())
            items = data.get("visits", data.get("items", data)) if isinstance(data, dict) \
                else data
            return pd.DataFrame(items).astype(str).replace({"None": "", "nan": ""})
        return restore(pd.read_csv(path, dtype=str, keep_default_na=False))
    except FileNotFoundError:
        raise InputError("file not found", file=path) from None
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"not a readable CSV or JSON report ({exc})", file=path) from None


def _pick(df: pd.DataFrame, what: str, path: Path) -> str | None:
    lower = {c.lower().strip(): c for c in df.columns}
    for name in ALIASES[what]:
        if name in lower:
            return lower[name]
    return None


def read_report(path: str | Path, *, date: str | None = None, as_planned: bool = False
                ) -> Report:
    """Watering-log rows from a driver sheet, ``fixed_systems.csv``, ``visits.csv`` or a
    crew app export.

    A planned row whose ``given_l`` is empty was not reported: it is skipped (and named
    in ``skipped``) unless ``as_planned``, which counts the planned litres. Rows of a
    driver sheet that are not visits (start, refill, break, end) are ignored. A file
    without dates takes ``date``.

    Raises
    ------
    InputError
        Unreadable file, missing columns, a bad number or date (naming the line).
    """
    path = Path(path)
    df = _table(path)
    first_line = 2 if path.suffix.lower() != ".json" else 1
    df.index = np.arange(first_line, first_line + len(df))
    if {"given_l", "planned_l", "kind"} <= set(df.columns):
        kind, planned = "driver sheet", "planned_l"
        df = df[df["kind"] == "visit"]
    elif {"given_l", "zone", "litres"} <= set(df.columns):
        kind, planned = "fixed systems", "litres"
    elif {"given_l", "litres", "site", "date"} <= set(df.columns):
        kind, planned = "visits", "litres"
    else:
        kind, planned = "crew app export", None
    site_col = "site" if kind != "crew app export" else _pick(df, "site", path)
    litres_col = "given_l" if kind != "crew app export" else _pick(df, "litres", path)
    date_col = "date" if "date" in df.columns else _pick(df, "date", path)
    if site_col is None or litres_col is None:
        raise InputError("expected a site column (" + ", ".join(ALIASES["site"]) + ") and a "
                         "litres column (" + ", ".join(ALIASES["litres"]) + ")", file=path)
    given = df[litres_col].astype(str).str.strip()
    skipped = []
    empty = given == ""
    if empty.any():
        if as_planned and planned is not None:
            given = given.where(~empty, df[planned].astype(str).str.strip())
        else:
            skipped = [f"line {i}: {s} has no given_l (not reported)"
                       for i, s in zip(df.index[empty], df[site_col][empty], strict=True)]
            df, given = df[~empty], given[~empty]
    litres = pd.to_numeric(given, errors="coerce")
    bad = litres.isna() | (litres < 0) | (litres > MAX_LITRES)
    if bad.any():
        i = bad.to_numpy().argmax()
        raise InputError(f"expected litres in [0, {MAX_LITRES:,.0f}], got {given.iloc[i]!r}",
                         file=path, row=int(df.index[i]), field=litres_col)
    if date_col is not None:
        days = pd.to_datetime(df[date_col], errors="coerce", format="mixed")
        if days.isna().any():
            i = days.isna().to_numpy().argmax()
            raise InputError(f"expected a date or timestamp, got {df[date_col].iloc[i]!r}",
                             file=path, row=int(df.index[i]), field=date_col)
        day = days.dt.strftime("%Y-%m-%d")
    elif date is not None:
        day = pd.Series(str(date), index=df.index)
    else:
        raise InputError("the file has no date column: pass --date", file=path)
    rows = pd.DataFrame({"date": day.to_numpy(), "site": df[site_col].astype(str).str.strip()
                         .to_numpy(), "litres": litres.to_numpy(float),
                         "by": _by(df, kind, path), "line": df.index.to_numpy()})
    return Report(rows, kind, skipped)


def _by(df: pd.DataFrame, kind: str, path: Path) -> np.ndarray:
    """Who watered each row: ``truck N`` (driver sheet), ``fixed system ZONE``, the
    ``by`` of visits.csv or a crew column of an export; else the file's name."""
    if kind == "driver sheet" and "truck" in df.columns:
        return ("truck " + df["truck"].astype(str)).to_numpy()
    if kind == "fixed systems":
        return ("fixed system " + df["zone"].astype(str)).to_numpy()
    col = _pick(df, "by", path)
    if col is not None:
        return df[col].astype(str).str.strip().to_numpy()
    return np.full(len(df), path.name, dtype=object)


@dataclass
class Added:
    """What :func:`add_to_log` appended: rows per date, the litres, the log file, and
    notes (sites logged that the day's plan did not list, rows skipped)."""

    rows: pd.DataFrame
    log: Path
    notes: list[str]


def read_log(path: Path) -> pd.DataFrame:
    """A watering log as it is (``date``, ``site``, ``litres``, further columns kept);
    empty when the file does not exist."""
    if not Path(path).exists():
        return pd.DataFrame(columns=["date", "site", "litres", "by", "source"])
    return pd.read_csv(path, dtype={"date": str, "site": str})


def add_to_log(report: Report, source: Path, sites: xr.Dataset, plans: Path, log: Path,
               *, date: str | None = None) -> Added:
    """Check a report and append it to ``log`` (atomically).

    Checks, each an :class:`~irrigation.errors.InputError` naming the file and line, with
    nothing appended:

    - every site is a site of the city;
    - every date has a plan in ``plans`` (``plans/YYYY-MM-DD``) and, with ``date``, is
      that date ("date outside the plan");
    - no (date, site, by) is already in ``log`` or twice in the report: ``by`` is who
      watered (the truck of a driver sheet, a fixed-system zone, a crew; see
      :func:`read_report`), so the parts of a split visit that two trucks gave are two
      rows, and a sheet added twice is refused (the parts of a split visit in one driver
      sheet are summed first).

    A site the day's plan did not list is logged with a note (crews water what they
    find dry).
    """
    rows = report.rows
    known = set(sites["site"].values.astype(str))
    unknown = ~rows["site"].isin(known)
    if unknown.any():
        i = int(np.flatnonzero(unknown.to_numpy())[0])
        raise InputError(f"unknown site {rows['site'].iloc[i]!r}: not in the city's sites",
                         file=source, row=int(rows["line"].iloc[i]), field="site")
    for d, line in zip(rows["date"], rows["line"], strict=True):
        if date is not None and d != str(date):
            raise InputError(f"date {d} outside the plan of {date}", file=source,
                             row=int(line), field="date")
        if not (plans / d).is_dir():
            raise InputError(f"date {d} outside the plan: no plan for {d} in {plans}",
                             file=source, row=int(line), field="date")
    if report.kind == "driver sheet":  # parts of a split visit
        rows = rows.groupby(["date", "site", "by"], as_index=False, sort=False).agg(
            litres=("litres", "sum"), line=("line", "first"))
    twice = rows.duplicated(["date", "site", "by"])
    if twice.any():
        i = int(np.flatnonzero(twice.to_numpy())[0])
        raise InputError(f"site {rows['site'].iloc[i]} on {rows['date'].iloc[i]} appears "
                         "twice in the report", file=source, row=int(rows["line"].iloc[i]),
                         field="site")
    old = read_log(log)
    old_by = old["by"].fillna("").astype(str) if "by" in old else pd.Series("", old.index)
    key = set(zip(old["date"].astype(str), old["site"].astype(str), old_by, strict=True))
    dup = [(d, s, b, li) for d, s, b, li in zip(rows["date"], rows["site"], rows["by"],
                                               rows["line"], strict=True) if (d, s, b) in key]
    if dup:
        d, s, b, li = dup[0]
        raise InputError(f"duplicate: site {s} on {d} by {b} is already in the watering log "
                         f"{log} ({len(dup)} of {len(rows)} rows are); nothing added",
                         file=source, row=int(li), field="site")
    notes = list(report.skipped)
    for d, g in rows.groupby("date"):
        planned = plans / d / "visits.csv"
        if planned.is_file():
            listed = set(pd.read_csv(planned, dtype={"site": str})["site"])
            extra = sorted(set(g["site"]) - listed)
            if extra:
                notes.append(f"{d}: {len(extra)} sites not in the plan logged as well "
                             f"({', '.join(extra[:5])}{', ...' if len(extra) > 5 else ''})")
    new = rows.assign(source=source.name)[["date", "site", "litres", "by", "source"]]
    out = pd.concat([old, new], ignore_index=True) if len(old) else new
    atomic_write(log, lambda t: out.to_csv(t, index=False, float_format="%.1f",
                                           lineterminator="\n"))
    return Added(new, log, notes)
