"""Readers of the tabular parts of a city folder: sites, sensors and refill points.

Each reader checks every row and raises :class:`~irrigation.errors.InputError` naming
the file, the line (1-based, header = line 1) and the column of the first bad value.
The column formats are documented in the README ("City folder").

Sites may come as CSV (coordinates ``x``, ``y`` in the city CRS) or as GeoJSON point
features (coordinates in the CRS the file declares in a legacy ``crs`` member, else WGS84
longitude/latitude as RFC 7946 requires; projected to the city CRS on load).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..city import REFILL_KINDS, SEALING_CLASSES, SENSOR_KINDS, SITE_KINDS
from ..errors import InputError
from ..soil import SITE_SOIL_COLUMNS
from .columns import (
    Column,
    check_unique_ids,
    in_set,
    positive,
    read_csv_table,
    validate_columns,
)
from .points import project, read_geojson_points

# --------------------------------------------------------------------------- sites


#: Largest area of one site [m2]: 1 km2, a large park lawn; one street tree pit is ~5 m2.
MAX_SITE_AREA_M2 = 1e6
#: Earliest planting year accepted (old park trees).
MIN_PLANTING_YEAR = 1600


def latest_planting_year() -> int:
    """The latest planting year accepted: next year (trees about to be planted)."""
    return dt.date.today().year + 1


def site_columns(textures: Iterable[str], species: Iterable[str]) -> list[Column]:
    """The columns of a sites table, their units and checks."""
    textures, species = list(textures), list(species)
    return [
        Column("id", str),
        Column("x", float, units="m"),
        Column("y", float, units="m"),
        Column("kind", str, in_set(SITE_KINDS), f"one of {', '.join(SITE_KINDS)}"),
        Column("species", str, in_set(species), "a species listed in irrigation/data/species.csv"),
        Column("planting_year", int,
               lambda s: (s >= MIN_PLANTING_YEAR) & (s <= latest_planting_year()),
               f"a year in [{MIN_PLANTING_YEAR}, {latest_planting_year()}] (next year: "
               "planted soon)"),
        Column("area_m2", float, lambda s: (s > 0) & (s <= MAX_SITE_AREA_M2),
               f"an area in (0, {MAX_SITE_AREA_M2:g}] m2", units="m2"),
        Column("soil_texture", str, in_set(textures), f"one of {', '.join(textures)}"),
        Column("sealing", str, in_set(SEALING_CLASSES), f"one of {', '.join(SEALING_CLASSES)}"),
        Column(
            "root_depth_m", float, lambda s: (s > 0) & (s <= 5), "a depth in (0, 5] m", units="m"
        ),
        Column("priority", int, lambda s: s.isin([1, 2, 3]), "1 (highest), 2 or 3"),
        Column(
            "pit_capacity_l",
            float,
            positive,
            "a volume > 0 L (or empty)",
            required=False,
            default=np.nan,
            units="L",
        ),
        Column("street", str, required=False, default=""),
        Column("fixed_system", str, required=False, default=""),
        *(Column(name, float, lambda v, lo=lo, hi=hi: (v > lo) & (v < hi),
                 f"{what} (or empty: from the soil_texture)", required=False, default=np.nan,
                 units=SITE_SOIL_COLUMNS[name])
          for name, (lo, hi, what) in MEASURED_SOIL_RANGES.items()),
    ]


#: The optional measured-soil columns of a sites table (``irrigation.soil.site_hydraulics``):
#: open range and what is expected; empty cells take the soil texture's value.
MEASURED_SOIL_RANGES: dict[str, tuple[float, float, str]] = {
    "theta_fc": (0.0, 1.0, "a water content in (0, 1) m3/m3"),
    "theta_wp": (0.0, 1.0, "a water content in (0, 1) m3/m3"),
    "awc_mm_per_m": (0.0, 600.0, "available water in (0, 600) mm/m"),
    "theta_s": (0.0, 1.0, "a water content in (0, 1) m3/m3"),
    "fc_tension_kpa": (0.0, 1500.0, "a tension in (0, 1500) kPa"),
}


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
        df, first_line = read_csv_table(path), 2
    cols = site_columns(textures, species)
    if path.suffix.lower() in (".geojson", ".json"):
        df = df.astype(str).where(df.notna(), None)
    table = validate_columns(df, cols, path, first_line)
    if len(table) == 0:
        raise InputError("expected at least one site, the file has none", file=path)
    check_unique_ids(table["id"], path, first_line)
    units = {c.name: c.units for c in cols if c.units}
    return _to_dataset(table, "site", units)


def _geojson_points(path: Path, crs: str) -> pd.DataFrame:
    """Point features as a table with ``x``, ``y`` projected to ``crs`` [m], from the CRS
    the file declares (legacy ``crs`` member) or WGS84 lon/lat (RFC 7946)."""
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
    path = Path(path)
    known = set(sites.site.values.tolist())
    cols = [
        Column("id", str),
        Column("site", str, in_set(known), "the id of a site in the sites file"),
        Column("depth_cm", int, lambda s: (s > 0) & (s <= 300), "a depth in (0, 300] cm"),
        Column("kind", str, in_set(SENSOR_KINDS), f"one of {', '.join(SENSOR_KINDS)}"),
    ]
    table = validate_columns(read_csv_table(path), cols, path)
    check_unique_ids(table["id"] + " at " + table["depth_cm"].astype(str) + " cm", path,
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
    path = Path(path)
    cols = [
        Column("id", str),
        Column("kind", str, in_set(REFILL_KINDS), f"one of {', '.join(REFILL_KINDS)}"),
        Column("x", float, units="m"),
        Column("y", float, units="m"),
        Column("refill_l_per_min", float, lambda s: s >= 0, "a rate >= 0 L/min",
               units="L min-1"),
    ]
    table = validate_columns(read_csv_table(path), cols, path)
    check_unique_ids(table["id"], path)
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
    raw = read_csv_table(path)
    known = set(sites.site.values.tolist())
    cols = [
        Column("date", str),
        Column("site", str, in_set(known), "the id of a site in the sites file"),
        Column("litres", float, lambda s: (s >= 0) & (s <= 1e5), "litres in [0, 100000]",
               units="L"),
    ]
    table = validate_columns(raw, cols, path)
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
