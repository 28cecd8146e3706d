"""Readers of the tabular parts of a city folder: sites, sensors and refill points.

Each reader checks every row and raises :class:`~irrigation.errors.InputError` naming
the file, the line (1-based, header = line 1) and the column of the first bad value.
The column formats are documented in the README ("City folder").

Sites may come as CSV (coordinates ``x``, ``y`` in the city CRS) or as GeoJSON point
features (coordinates in the CRS the file declares in a legacy ``crs`` member, else WGS84
longitude/latitude as RFC 7946 requires; projected to the city CRS on load).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import InputError


@dataclass(frozen=True)
class Column:
    """One expected column: name, dtype, a vectorised check and what it expects."""

    name: str
    dtype: type
    check: Callable[[pd.Series], pd.Series] | None = None
    expected: str = ""
    required: bool = True
    default: object = None
    units: str | None = None


def _positive(s: pd.Series) -> pd.Series:
    return s > 0


def _in(values: Iterable[str]) -> Callable[[pd.Series], pd.Series]:
    allowed = frozenset(values)
    return lambda s: s.isin(allowed)


def _validate(
    df: pd.DataFrame, columns: list[Column], file: Path, first_line: int = 2
) -> pd.DataFrame:
    """Convert and check columns; the first bad row raises an InputError."""
    missing = [c.name for c in columns if c.required and c.name not in df.columns]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}; found {', '.join(map(str, df.columns))}",
            file=file,
        )
    out = {}
    for col in columns:
        if col.name not in df.columns:
            out[col.name] = pd.Series([col.default] * len(df), dtype=col.dtype, index=df.index)
            continue
        raw = df[col.name]
        absent = (raw.isna() | (raw.astype("string").str.strip() == "")).fillna(True).astype(bool)
        if col.dtype is str:
            values = raw.astype("string").str.strip()
            what = "a non-empty text"
        else:
            values = pd.to_numeric(raw, errors="coerce")
            what = "a number"
        bad = values.isna() & ~absent
        if col.dtype is int:
            bad |= values.notna() & (values != np.round(values))
            what = "a whole number"
        if col.required:
            bad |= absent
        if col.check is not None and not bad.any():
            ok = col.check(values).fillna(False).astype(bool)
            bad |= ~ok & ~absent
            what = col.expected or what
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(
                f"expected {what}, got {raw.iloc[i]!r}",
                file=file,
                row=first_line + i,
                field=col.name,
            )
        if absent.any():
            values = values.astype(object).where(~absent, col.default)
        out[col.name] = values.astype(object if col.dtype is str else col.dtype)
    return pd.DataFrame(out, index=df.index)


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except FileNotFoundError:
        raise InputError("file not found", file=path) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"not a readable CSV file ({exc})", file=path) from None


def _unique_ids(ids: pd.Series, file: Path, first_line: int = 2, field: str = "id") -> None:
    dup = ids.duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError(
            f"expected unique {field} values, {ids.iloc[i]!r} appears twice",
            file=file,
            row=first_line + i,
            field=field,
        )


# --------------------------------------------------------------------------- sites


def site_columns(textures: Iterable[str], species: Iterable[str]) -> list[Column]:
    """The columns of a sites table, their units and checks."""
    from ..city import SEALING_CLASSES, SITE_KINDS

    textures, species = list(textures), list(species)
    return [
        Column("id", str),
        Column("x", float, units="m"),
        Column("y", float, units="m"),
        Column("kind", str, _in(SITE_KINDS), f"one of {', '.join(SITE_KINDS)}"),
        Column("species", str, _in(species), "a species listed in irrigation/data/species.csv"),
        Column("planting_year", int, lambda s: (s > 1700) & (s < 2200), "a year such as 2021"),
        Column("area_m2", float, _positive, "an area > 0 m2", units="m2"),
        Column("soil_texture", str, _in(textures), f"one of {', '.join(textures)}"),
        Column("sealing", str, _in(SEALING_CLASSES), f"one of {', '.join(SEALING_CLASSES)}"),
        Column(
            "root_depth_m", float, lambda s: (s > 0) & (s <= 5), "a depth in (0, 5] m", units="m"
        ),
        Column("priority", int, lambda s: s.isin([1, 2, 3]), "1 (highest), 2 or 3"),
        Column(
            "pit_capacity_l",
            float,
            _positive,
            "a volume > 0 L (or empty)",
            required=False,
            default=np.nan,
            units="L",
        ),
        Column("street", str, required=False, default=""),
    ]


def read_sites(
    path: str | Path, *, textures: Iterable[str], species: Iterable[str], crs: str = "EPSG:25832"
) -> xr.Dataset:
    """Read planting sites (CSV or GeoJSON) into a Dataset over ``site``.

    Parameters
    ----------
    path
        ``.csv`` with columns as in :func:`site_columns`, or ``.geojson``/``.json`` with
        point features whose properties carry the same columns (no ``x``/``y``).
    textures, species
        Allowed soil textures and species.
    crs
        The city CRS [m] that GeoJSON coordinates (in the CRS the file declares, else
        WGS84) are projected to.
    """
    path = Path(path)
    if path.suffix.lower() in (".geojson", ".json"):
        df, first_line = _geojson_points(path, crs), 1
    else:
        df, first_line = _read_csv(path), 2
    cols = site_columns(textures, species)
    if path.suffix.lower() in (".geojson", ".json"):
        df = df.astype(str).where(df.notna(), None)
    table = _validate(df, cols, path, first_line)
    _unique_ids(table["id"], path, first_line)
    units = {c.name: c.units for c in cols if c.units}
    return _to_dataset(table, "site", units)


def _geojson_points(path: Path, crs: str) -> pd.DataFrame:
    """Point features as a table with ``x``, ``y`` projected to ``crs`` [m], from the CRS
    the file declares (legacy ``crs`` member) or WGS84 lon/lat (RFC 7946)."""
    from .points import project, read_geojson_points

    points = read_geojson_points(path)
    df = points.properties.copy()
    df["x"], df["y"] = project(points, crs, path)
    return df


def _to_dataset(table: pd.DataFrame, dim: str, units: dict[str, str]) -> xr.Dataset:
    ds = xr.Dataset(
        {c: (dim, table[c].to_numpy()) for c in table.columns if c not in ("id", "x", "y")},
        coords={
            dim: table["id"].to_numpy(str),
            "x": (dim, table["x"].to_numpy(float)),
            "y": (dim, table["y"].to_numpy(float)),
        },
    )
    for name, unit in units.items():
        ds[name].attrs["units"] = unit
    return ds


# --------------------------------------------------------------------------- sensors


def read_sensors(path: str | Path, sites: xr.Dataset) -> xr.Dataset:
    """Read the sensor table into a Dataset over ``sensor`` (probe) and ``depth`` [cm].

    One row per channel: ``id`` (the probe in one tree pit), ``site``, ``depth_cm``,
    ``kind`` (``tension`` or ``vwc``). A probe has one site and one kind and each depth
    once; its coordinates are the site's.

    Returns
    -------
    xr.Dataset
        ``site``, ``kind`` over ``sensor``; ``installed`` (bool) over (``sensor``,
        ``depth``); coords ``x``, ``y`` [m].
    """
    from ..city import SENSOR_KINDS

    path = Path(path)
    known = set(sites.site.values.tolist())
    cols = [
        Column("id", str),
        Column("site", str, _in(known), "the id of a site in the sites file"),
        Column("depth_cm", int, lambda s: (s > 0) & (s <= 300), "a depth in (0, 300] cm"),
        Column("kind", str, _in(SENSOR_KINDS), f"one of {', '.join(SENSOR_KINDS)}"),
    ]
    table = _validate(_read_csv(path), cols, path)
    _unique_ids(table["id"] + " at " + table["depth_cm"].astype(str) + " cm", path,
                field="depth_cm")
    for col in ("site", "kind"):
        first = table.groupby("id")[col].transform("first")
        bad = np.flatnonzero((table[col] != first).to_numpy())
        if bad.size:
            i = int(bad[0])
            raise InputError(
                f"probe {table['id'].iloc[i]!r} has {col} {table[col].iloc[i]!r} here but "
                f"{first.iloc[i]!r} on an earlier line; expected one {col} per probe",
                file=path, row=2 + i, field=col)
    probes = table.drop_duplicates("id").sort_values("id")
    installed = pd.crosstab(table["id"], table["depth_cm"]).sort_index() > 0
    return _sensor_dataset(probes["id"].to_numpy(str), probes["site"].to_numpy(str),
                           probes["kind"].to_numpy(str), installed.columns.to_numpy(int),
                           installed.to_numpy(bool), sites)


def _sensor_dataset(ids, site, kind, depth, installed, sites: xr.Dataset | None) -> xr.Dataset:
    xy = (sites.sel(site=site) if sites is not None and len(site) else None)
    empty = np.array([], dtype=float)
    return xr.Dataset(
        {
            "site": ("sensor", site),
            "kind": ("sensor", kind),
            "installed": (("sensor", "depth"), installed),
        },
        coords={
            "sensor": ids,
            "depth": ("depth", depth, {"units": "cm"}),
            "x": ("sensor", xy.x.values if xy is not None else empty, {"units": "m"}),
            "y": ("sensor", xy.y.values if xy is not None else empty, {"units": "m"}),
        },
    )


def empty_sensors() -> xr.Dataset:
    """A sensor Dataset with no sensors (for cities without any)."""
    e = np.array([], dtype=str)
    return _sensor_dataset(e, e, e, np.array([], int), np.zeros((0, 0), bool), None)


# --------------------------------------------------------------------------- refill points


def read_refill_points(path: str | Path) -> xr.Dataset:
    """Read depots and hydrants (id, kind, x, y, refill_l_per_min) over dim ``refill``.

    ``refill_l_per_min`` [L min-1] is >= 0: a depot with rate 0 is a yard where shifts
    start and end but trucks cannot refill; a hydrant must refill (rate > 0).
    """
    from ..city import REFILL_KINDS

    path = Path(path)
    cols = [
        Column("id", str),
        Column("kind", str, _in(REFILL_KINDS), f"one of {', '.join(REFILL_KINDS)}"),
        Column("x", float, units="m"),
        Column("y", float, units="m"),
        Column("refill_l_per_min", float, lambda s: s >= 0, "a rate >= 0 L/min",
               units="L min-1"),
    ]
    table = _validate(_read_csv(path), cols, path)
    _unique_ids(table["id"], path)
    dry = np.flatnonzero(((table["kind"] == "hydrant") & (table["refill_l_per_min"] == 0))
                         .to_numpy())
    if dry.size:
        raise InputError(
            "expected a rate > 0 L/min for a hydrant: a hydrant with rate 0 cannot refill a "
            "truck (rate 0 is only for a depot that is a yard); give its rate or remove it",
            file=path, row=2 + int(dry[0]), field="refill_l_per_min")
    return _to_dataset(table, "refill", {"refill_l_per_min": "L min-1"})


# --------------------------------------------------------------------------- watering log


def read_watering_log(path: str | Path, sites: xr.Dataset) -> pd.DataFrame:
    """Read the watering actually done: CSV ``date,site,litres`` (one row per visit).

    ``date`` is the calendar day (YYYY-MM-DD, local), ``site`` a site id, ``litres`` the
    water given [L] (0 for a planned visit that was skipped). Further columns (e.g.
    ``vehicle``, ``note``) are kept.
    """
    path = Path(path)
    raw = _read_csv(path)
    known = set(sites.site.values.tolist())
    cols = [
        Column("date", str),
        Column("site", str, _in(known), "the id of a site in the sites file"),
        Column("litres", float, lambda s: (s >= 0) & (s <= 1e5), "litres in [0, 100000]",
               units="L"),
    ]
    table = _validate(raw, cols, path)
    dates = pd.to_datetime(table["date"], format="%Y-%m-%d", errors="coerce")
    if dates.isna().any():
        i = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise InputError(f"expected a date YYYY-MM-DD, got {table['date'].iloc[i]!r}",
                         file=path, row=2 + i, field="date")
    table["date"] = dates
    extra = [c for c in raw.columns if c not in table.columns]
    return pd.concat([table, raw[extra]], axis=1)


def watering_by_day(log: pd.DataFrame, days, site_ids) -> xr.DataArray:
    """Litres given per (``time``, ``site``) on ``days`` from a watering log [L]."""
    days = pd.DatetimeIndex(np.asarray(days, dtype="datetime64[D]"))
    sites = pd.Index(np.asarray(site_ids))
    out = np.zeros((days.size, sites.size))
    if len(log):
        ti = days.get_indexer(pd.DatetimeIndex(log["date"]).normalize())
        si = sites.get_indexer(log["site"].to_numpy())
        ok = (ti >= 0) & (si >= 0)
        np.add.at(out, (ti[ok], si[ok]), log["litres"].to_numpy(float)[ok])
    return xr.DataArray(out, dims=("time", "site"),
                        coords={"time": days.values, "site": sites.values},
                        attrs={"units": "L"})
