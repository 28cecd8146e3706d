"""Tree cadastres (GeoJSON or CSV) as a sites table, through a column mapping.

:func:`read_tree_cadastre` reads a city's tree list in whatever layout its cadastre has,
maps it with a :class:`~irrigation.io.mapping.CadastreMapping` onto the project's site
columns (README, "sites.csv"), projects the coordinates to the city's CRS, matches the
species names (:mod:`irrigation.io.species`), derives the kind from the age and fills
the rest with documented defaults (:class:`~irrigation.io.mapping.SiteDefaults`). It
returns the table and a :class:`CadastreReport` saying what was grouped, matched, left
unmatched and filled, so a person can check it before the city is used.

Sources: GeoJSON (RFC 7946, or the legacy ``crs`` member, see :mod:`irrigation.io.points`);
CSV with coordinate columns in the CRS the mapping states. The Berlin cadastre's columns
are those of the Gieß den Kiez open-data exports
(github.com/technologiestiftung/giessdenkiez-de-opendata, from the Berlin tree cadastre).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from .mapping import CadastreMapping, SiteDefaults, load_mapping
from .points import (
    PointTable,
    csv_points,
    lonlat,
    project,
    read_csv_table,
    read_geojson_points,
)
from .species import match_species, read_species_table

#: The columns of the returned sites table, in the order of the README's sites.csv.
SITE_COLUMNS = ("id", "x", "y", "kind", "species", "planting_year", "area_m2",
                "soil_texture", "sealing", "root_depth_m", "priority", "pit_capacity_l",
                "street")

#: Numeric site columns: name -> (lowest, highest, whole number?, what is expected).
_NUMBERS = {
    "area_m2": (1e-9, 1e7, False, "an area > 0 m2"),
    "root_depth_m": (1e-9, 5.0, False, "a depth in (0, 5] m"),
    "priority": (1, 3, True, "1 (highest), 2 or 3"),
    "pit_capacity_l": (1e-9, 1e6, False, "a volume > 0 L"),
}

#: Suffixes read as GeoJSON; anything else is read as CSV.
GEOJSON_SUFFIXES = (".geojson", ".json")


@dataclass
class CadastreReport:
    """What :func:`read_tree_cadastre` did, for a person to check.

    Attributes
    ----------
    file, mapping
        The cadastre read and the mapping's name.
    n_rows, n_trees
        Data rows read and trees (sites) returned; more rows than trees when the mapping
        groups rows per id (``one_row_per = "event"``).
    species_rules
        Number of trees per match rule (:data:`irrigation.io.species.MATCH_RULES`).
    unmatched
        Names that matched no species or genus, with their number of trees.
    filled
        Site column -> (number of trees filled, the value or rule used).
    kinds
        Number of trees per kind.
    conflicts
        Column -> number of trees whose grouped rows disagree (the first row is kept).
    absent_columns
        Mapped columns not found in the file (their defaults apply to every tree).
    selection
        What a district or box selection kept and left out, one line each.
    """

    file: str
    mapping: str
    n_rows: int = 0
    n_trees: int = 0
    species_rules: dict[str, int] = field(default_factory=dict)
    unmatched: dict[str, int] = field(default_factory=dict)
    filled: dict[str, tuple[int, str]] = field(default_factory=dict)
    kinds: dict[str, int] = field(default_factory=dict)
    conflicts: dict[str, int] = field(default_factory=dict)
    absent_columns: list[str] = field(default_factory=list)
    selection: list[str] = field(default_factory=list)

    def lines(self, max_unmatched: int = 10) -> list[str]:
        """The report as short lines of text (for the city init output and README)."""
        out = [f"{self.file}: {self.n_rows} rows -> {self.n_trees} trees "
               f"(mapping '{self.mapping}')"]
        out += self.selection
        if self.absent_columns:
            out.append("mapped columns not in the file: " + ", ".join(self.absent_columns))
        out.append("species matched: " + ", ".join(
            f"{n} by {rule}" for rule, n in self.species_rules.items()))
        if self.unmatched:
            shown = list(self.unmatched.items())[:max_unmatched]
            more = len(self.unmatched) - len(shown)
            out.append(f"unmatched names ({sum(self.unmatched.values())} trees, "
                       f"{len(self.unmatched)} names): "
                       + "; ".join(f"{name} {n}" for name, n in shown)
                       + (f"; ... {more} more" if more > 0 else ""))
        for col, (n, how) in self.filled.items():
            out.append(f"{col} filled for {n} trees: {how}")
        for col, n in self.conflicts.items():
            out.append(f"{col}: {n} trees have differing values between their rows; "
                       "the first row's is kept")
        out.append("kinds: " + ", ".join(f"{k} {n}" for k, n in self.kinds.items()))
        return out


def read_tree_cadastre(
    path: str | Path,
    mapping: str | Path | CadastreMapping = "generic",
    *,
    crs: str,
    reference_year: int,
    species: pd.DataFrame | None = None,
    textures=None,
    district: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> tuple[pd.DataFrame, CadastreReport]:
    """Read a tree cadastre (GeoJSON or CSV) as the project's sites table.

    Parameters
    ----------
    path
        ``.geojson``/``.json`` (Point features, in the CRS the file declares, else WGS84)
        or a delimited text file laid out as ``mapping`` says.
    mapping
        A shipped mapping name (``"berlin"``, ``"generic"``), a TOML file, or a parsed
        :class:`~irrigation.io.mapping.CadastreMapping`.
    crs
        The city's projected CRS [m], e.g. ``"EPSG:25833"``; coordinates are projected to it.
    reference_year
        The year ages are counted from (the season planned): a tree planted at most
        ``defaults.young_years`` before it is a ``young_tree``.
    species
        Species table indexed by ``species`` with ``genus``/``german_names`` columns
        (default: the packaged one, :func:`irrigation.io.species.read_species_table`; a
        city table merged with :func:`irrigation.io.species.merge_species_tables`).
    textures
        Allowed soil textures (default: the packaged table's).
    district
        Keep only the trees of this district (the mapping's ``district`` column, compared
        ignoring case and surrounding spaces).
    bbox
        Keep only the trees inside this box: west, south, east, north [degrees WGS84].

    Returns
    -------
    sites, report
        ``sites``: one row per tree with :data:`SITE_COLUMNS` (x, y [m] in ``crs``,
        area_m2 [m2], root_depth_m [m], pit_capacity_l [L] or NaN), in file order of
        each tree's first row. ``report``: a :class:`CadastreReport`.

    Raises
    ------
    InputError
        Unreadable file, missing id or coordinate column, an empty or (with one row per
        tree) repeated id, a value that is not what its column expects (naming the file,
        line or feature and column), a CRS that is not understood, or a selection that
        keeps no tree.
    """
    m = mapping if isinstance(mapping, CadastreMapping) else load_mapping(mapping)
    path = Path(path)
    table_species = read_species_table() if species is None else species
    if textures is None:
        from .soil_tables import read_soil_textures

        textures = read_soil_textures().index
    points = _read_points(path, m)
    if len(points.x) == 0:
        raise InputError("no trees: the file has no data rows or features", file=path)
    report = CadastreReport(str(path), m.name, n_rows=len(points.x))
    points, report.selection = _select(points, m, path, district, bbox)
    frame = _mapped(points, m, path, report)
    first = _group(frame, m, _Where(path, points.line, frame), report)
    x, y = project(_subset(points, first), crs, path)
    frame = frame.iloc[first].reset_index(drop=True)
    report.n_trees = len(frame)
    lines = points.line[first]
    sites = _fill(frame, lines, path, m.defaults, reference_year, report,
                  set(textures), m.kind_values)
    match = match_species(frame["species"], frame["genus"], table_species,
                          default=m.defaults.species)
    sites.insert(0, "species", match.species)
    report.species_rules, report.unmatched = match.counts(), match.unmatched
    if match.unmatched:
        report.filled["species"] = (sum(match.unmatched.values()),
                                    f"default '{m.defaults.species}' (unmatched names)")
    sites.insert(0, "y", np.round(y, 2))
    sites.insert(0, "x", np.round(x, 2))
    sites.insert(0, "id", frame["id"].astype(str).to_numpy())
    report.kinds = dict(Counter(sites["kind"]).most_common())
    return sites[list(SITE_COLUMNS)], report


# --------------------------------------------------------------------------- reading


def _read_points(path: Path, m: CadastreMapping) -> PointTable:
    if path.suffix.lower() in GEOJSON_SUFFIXES:
        return read_geojson_points(path)
    if m.x is None or m.y is None or m.crs is None:
        raise InputError(f"mapping '{m.name}' has no [csv] x, y and crs for a CSV file",
                         file=path, field="csv")
    frame = read_csv_table(path, delimiter=m.delimiter, encoding=m.encoding)
    return csv_points(frame, m.x, m.y, m.crs, path)


def _select(points: PointTable, m: CadastreMapping, path: Path, district: str | None,
            bbox: tuple[float, float, float, float] | None) -> tuple[PointTable, list[str]]:
    """The rows of one district and/or inside a lon/lat box, and what was left out."""
    props = points.properties
    ids = props[m.columns["id"]] if m.columns["id"] in props else pd.Series(props.index)

    def trees(mask: np.ndarray) -> int:
        return int(ids[mask].nunique())

    keep = np.ones(len(points.x), bool)
    notes = []
    if district is not None:
        col = m.columns.get("district")
        if col is None or col not in props:
            raise InputError(f"cannot select district {district!r}: mapping '{m.name}' maps "
                             "no district column found in the file ([columns] district)",
                             file=path, field="columns.district")
        values = props[col].map(lambda v: "" if v is None else str(v).strip())
        match = (values.str.casefold() == district.strip().casefold()).to_numpy()
        if not match.any():
            found = values[values != ""].value_counts().head(20)
            raise InputError(f"no tree in district {district!r}; the districts in the file: "
                             + ", ".join(f"{k} ({n} rows)" for k, n in found.items()),
                             file=path, field=col)
        notes.append(f"district {district!r} (column {col}): {trees(match)} of "
                     f"{trees(keep)} trees kept")
        keep &= match
    if bbox is not None:
        w, s, e, n = bbox
        lon, lat = lonlat(points, path)
        inside = (lon >= w) & (lon <= e) & (lat >= s) & (lat <= n)
        out = keep & ~inside
        keep &= inside
        if not keep.any():
            raise InputError(f"no tree inside the box {w:g},{s:g},{e:g},{n:g} (west, south, "
                             "east, north in degrees WGS84)", file=path)
        notes.append(f"box {w:g},{s:g},{e:g},{n:g}: {trees(out)} trees outside it left out")
    return _subset(points, np.flatnonzero(keep)), notes


def _subset(points: PointTable, rows: np.ndarray) -> PointTable:
    return PointTable(points.properties.iloc[rows], points.x[rows], points.y[rows],
                      points.crs, points.line[rows])


def _mapped(points: PointTable, m: CadastreMapping, path: Path, report: CadastreReport
            ) -> pd.DataFrame:
    """The mapped columns as stripped text, missing values as None."""
    props = points.properties
    if m.columns["id"] not in props.columns:
        raise InputError(f"missing id column {m.columns['id']!r} (mapping '{m.name}'); "
                         f"found {', '.join(map(str, props.columns))}", file=path)
    missing = {"", *m.missing_values}
    out = {}
    for site_col in ("id", "kind", "species", "genus", "planting_year", *_NUMBERS,
                     "soil_texture", "sealing", "street"):
        src = m.columns.get(site_col)
        if src is not None and src not in props.columns:
            report.absent_columns.append(f"{src} ({site_col})")
            src = None
        values = (props[src].map(lambda v: None if v is None else str(v).strip())
                  if src is not None else pd.Series([None] * len(props), dtype=object))
        out[site_col] = values.where(~values.isin(missing), None).to_numpy(dtype=object)
    return pd.DataFrame(out)


def _group(frame: pd.DataFrame, m: CadastreMapping, where: _Where, report: CadastreReport
           ) -> np.ndarray:
    """Row positions of the trees: every row, or each id's first row when grouping."""
    ids = frame["id"]
    if ids.isna().any():
        i = int(np.flatnonzero(ids.isna().to_numpy())[0])
        raise where.error(i, m.columns["id"], "a tree id", None)
    dup = ids.duplicated()
    if m.one_row_per == "tree":
        if dup.any():
            i = int(np.flatnonzero(dup.to_numpy())[0])
            raise where.error(i, m.columns["id"], "a unique tree id (or [rows] one_row_per "
                              "= \"event\" to group rows per tree)", ids.iloc[i])
        return np.arange(len(frame))
    for col in frame.columns.drop("id"):
        per_id = frame[[col]].assign(id=ids).dropna().drop_duplicates()
        n = int(per_id["id"].duplicated().sum())
        if n:
            report.conflicts[col] = n
    return np.flatnonzero(~dup.to_numpy())


# --------------------------------------------------------------------------- filling


def _fill(frame: pd.DataFrame, lines: np.ndarray, path: Path, d: SiteDefaults,
          reference_year: int, report: CadastreReport, textures: set[str],
          kind_values: dict[str, str]) -> pd.DataFrame:
    """Every site column but id, x, y and species, checked and with defaults filled."""
    from ..city import SEALING_CLASSES, SITE_KINDS

    where = _Where(path, lines, frame)
    year = _years(frame["planting_year"], where, d, reference_year, report)
    young = year >= reference_year - d.young_years
    kind = _kinds(frame["kind"], kind_values, young, d, where, report, SITE_KINDS)
    is_young = kind == "young_tree"
    out = pd.DataFrame({"kind": kind, "planting_year": year})
    out["area_m2"] = _number(frame, "area_m2", np.full(len(frame), d.area_m2), where, report,
                             f"{d.area_m2:g} m2 (FLL minimum open tree pit)")
    out["soil_texture"] = _choice(frame, "soil_texture", d.soil_texture, textures, where,
                                  report)
    out["sealing"] = _choice(frame, "sealing", d.sealing, set(SEALING_CLASSES), where, report)
    out["root_depth_m"] = _number(
        frame, "root_depth_m", np.where(is_young, d.root_depth_young_m, d.root_depth_old_m),
        where, report, f"{d.root_depth_young_m:g} m young, {d.root_depth_old_m:g} m older")
    out["priority"] = _number(
        frame, "priority", np.where(is_young, d.priority_young, d.priority_old), where,
        report, f"{d.priority_young} young, {d.priority_old} older").astype(int)
    out["pit_capacity_l"] = _number(frame, "pit_capacity_l", np.full(len(frame), np.nan),
                                    where, None, "")
    out["street"] = frame["street"].fillna("").to_numpy(dtype=object)
    return out


@dataclass(frozen=True)
class _Where:
    """Locates tree ``i`` in the file for error messages."""

    path: Path
    lines: np.ndarray
    frame: pd.DataFrame

    def error(self, i: int, column: str, expected: str, got) -> InputError:
        if self.path.suffix.lower() in GEOJSON_SUFFIXES:
            return InputError(f"expected {expected}, got {got!r}", file=self.path,
                              field=f"features[{int(self.lines[i])}].properties.{column}")
        return InputError(f"expected {expected}, got {got!r}", file=self.path,
                          row=int(self.lines[i]), field=column)


def _years(raw: pd.Series, where: _Where, d: SiteDefaults, reference_year: int,
           report: CadastreReport) -> np.ndarray:
    num = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = (raw.notna().to_numpy() & (np.isnan(num) | (num != np.round(num))))
    bad |= ~np.isnan(num) & ((num <= 1700) | (num > reference_year + 1))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise where.error(i, "planting_year", f"a year in (1700, {reference_year + 1}] (or "
                          "a text listed in [rows] missing_values)", raw.iloc[i])
    absent = np.isnan(num)
    if absent.any():
        if d.planting_year is not None:
            fill, how = d.planting_year, f"{d.planting_year} (defaults.planting_year)"
        elif (~absent).any():
            fill = int(np.median(num[~absent]))
            how = f"{fill}, the median of the known planting years"
        else:
            raise InputError("no tree has a planting year; map the column or set "
                             "[defaults] planting_year in the mapping", file=where.path,
                             field="planting_year")
        num[absent] = fill
        report.filled["planting_year"] = (int(absent.sum()), how)
    return num.astype(int)


def _kinds(raw: pd.Series, kind_values: dict[str, str], young: np.ndarray, d: SiteDefaults,
           where: _Where, report: CadastreReport, site_kinds) -> np.ndarray:
    by_age = np.where(young, "young_tree", d.old_kind).astype(object)
    mapped = raw.map(lambda v: kind_values.get(v, v) if v is not None else None)
    bad = mapped.notna() & ~mapped.isin(site_kinds)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise where.error(i, "kind", f"one of {', '.join(site_kinds)} (or a text mapped in "
                          "[kind_values])", raw.iloc[i])
    absent = mapped.isna().to_numpy()
    if absent.any():
        report.filled["kind"] = (int(absent.sum()), f"from age: young_tree when planted "
                                 f"within {d.young_years} years, else {d.old_kind}")
    return np.where(absent, by_age, mapped.to_numpy(dtype=object))


def _number(frame: pd.DataFrame, col: str, default: np.ndarray, where: _Where,
            report: CadastreReport | None, how: str) -> np.ndarray:
    lo, hi, whole, expected = _NUMBERS[col]
    raw = frame[col]
    num = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = raw.notna().to_numpy() & ~((num >= lo) & (num <= hi))
    if whole:
        bad |= raw.notna().to_numpy() & (num != np.round(num))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise where.error(i, col, expected, raw.iloc[i])
    absent = np.isnan(num)
    if absent.any() and report is not None:
        report.filled[col] = (int(absent.sum()), how)
    return np.where(absent, default, num)


def _choice(frame: pd.DataFrame, col: str, default: str, allowed: set[str], where: _Where,
            report: CadastreReport) -> np.ndarray:
    if default not in allowed:
        raise InputError(f"default {default!r} is not one of {', '.join(sorted(allowed))}",
                         field=f"defaults.{col}")
    raw = frame[col]
    bad = raw.notna() & ~raw.isin(allowed)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise where.error(i, col, f"one of {', '.join(sorted(allowed))}", raw.iloc[i])
    absent = raw.isna().to_numpy()
    if absent.any():
        report.filled[col] = (int(absent.sum()), f"'{default}' (defaults.{col})")
    return np.where(absent, default, raw.to_numpy(dtype=object))
