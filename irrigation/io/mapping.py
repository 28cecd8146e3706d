"""Column mappings of tree cadastres: a small TOML file per cadastre format.

A mapping says which column (CSV) or property (GeoJSON) of a cadastre holds which site
column of the project (README, "sites.csv"), how the CSV is laid out, which texts mean
"missing", and the defaults for what the cadastre does not have. Two ship with the
package (``irrigation/data/mappings/``): ``berlin`` (the Berlin tree cadastre as in the
Gieß den Kiez exports) and ``generic`` (the project's own column names). Every key::

    description = "free text"

    [csv]                     # only for CSV files
    delimiter = ";"           # default ","
    encoding = "utf-8"        # default "utf-8"
    x = "lng"                 # coordinate columns (required for CSV)
    y = "lat"
    crs = "EPSG:4326"         # CRS of x, y (required for CSV); GeoJSON declares its own

    [rows]
    one_row_per = "event"     # "tree" (default): ids unique; "event": rows grouped by id
    missing_values = ["undefined"]   # texts read as missing (empty cells always are)

    [columns]                 # project column = cadastre column; all optional but id
    id = "id"
    species = "baumart"       # Latin or German species name
    genus = "gattung"         # genus (Latin or German), used when the species is unknown
    planting_year = "pflanzjahr"
    street = "strname"
    district = "bezirk"       # district, to select one (city init --district NAME)
    # also: kind, area_m2, soil_texture, sealing, root_depth_m, priority, pit_capacity_l

    [kind_values]             # cadastre kind text = project kind (only with columns.kind)
    "Jungbaum" = "young_tree"

    [defaults]                # any field of SiteDefaults

:func:`load_mapping` reads one by name or path; unknown keys are errors.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from ..errors import InputError

#: Project site columns a mapping may take from a cadastre (``genus`` helps matching,
#: ``district`` selects a part of the city).
MAPPABLE = ("id", "kind", "species", "genus", "planting_year", "area_m2", "soil_texture",
            "sealing", "root_depth_m", "priority", "pit_capacity_l", "street", "district")

#: Names of the mappings shipped in ``irrigation/data/mappings/``.
SHIPPED = ("berlin", "generic")


@dataclass(frozen=True)
class SiteDefaults:
    """Values for what a cadastre does not say; every filled value is reported.

    Attributes
    ----------
    young_years
        A tree planted at most this many years before the reference year is a
        ``young_tree`` [a]; 5 follows the age-graded watering of German towns (years 1-3
        every 14 days, year 4 every 4 weeks, year 5 every 2 months; DESIGN.md) and the
        demo city.
    old_kind
        Kind of older trees: ``street_tree`` (cadastres of street trees) or ``park_tree``.
    species
        Species of trees whose name matches nothing in the species table: the packaged
        ``tree (unspecified)`` row, WUCOLS class M (k_species 0.5), the middle class.
    planting_year
        Planting year of trees without one; ``None``: the median of the file's known
        years (reported).
    area_m2
        Open tree-pit area [m2]: 6 m2, the minimum open area per street tree of the FLL
        recommendations for tree plantings (FLL Empfehlungen für Baumpflanzungen, Teil 2).
    soil_texture
        ``sandy_loam``, the texture of FLL tree-pit substrates (as in the demo city).
    sealing
        ``slabs``: the middle of the infiltration fractions (open 0.9 ... asphalt 0.2,
        Wessolek & Kluge), neither optimistic nor pessimistic about rain reaching the pit.
    root_depth_young_m, root_depth_old_m
        Root-zone depth [m] of young and older trees (middles of the demo city's ranges
        0.5-0.8 m and 1.0-1.5 m).
    priority_young, priority_old
        Watering priority (1 highest) of young and older trees.
    """

    young_years: int = 5
    old_kind: Literal["street_tree", "park_tree"] = "street_tree"
    species: str = "tree (unspecified)"
    planting_year: int | None = None
    area_m2: float = 6.0
    soil_texture: str = "sandy_loam"
    sealing: str = "slabs"
    root_depth_young_m: float = 0.6
    root_depth_old_m: float = 1.2
    priority_young: int = 1
    priority_old: int = 2

    def __post_init__(self) -> None:
        if not (isinstance(self.young_years, int) and 0 <= self.young_years <= 50):
            raise ValueError("Expected young_years a whole number in [0, 50].")
        if self.old_kind not in ("street_tree", "park_tree"):
            raise ValueError("Expected old_kind 'street_tree' or 'park_tree'.")
        if self.planting_year is not None and not 1700 < self.planting_year < 2200:
            raise ValueError("Expected planting_year a year such as 2015.")
        if not self.area_m2 > 0:
            raise ValueError("Expected area_m2 > 0.")
        if not (0 < self.root_depth_young_m <= 5 and 0 < self.root_depth_old_m <= 5):
            raise ValueError("Expected root depths in (0, 5] m.")
        if self.priority_young not in (1, 2, 3) or self.priority_old not in (1, 2, 3):
            raise ValueError("Expected priorities 1, 2 or 3.")


@dataclass(frozen=True)
class CadastreMapping:
    """A parsed mapping file (format in the module docstring)."""

    name: str
    columns: dict[str, str]
    description: str = ""
    delimiter: str = ","
    encoding: str = "utf-8"
    x: str | None = None
    y: str | None = None
    crs: str | None = None
    one_row_per: Literal["tree", "event"] = "tree"
    missing_values: tuple[str, ...] = ()
    kind_values: dict[str, str] = field(default_factory=dict)
    defaults: SiteDefaults = field(default_factory=SiteDefaults)


_SECTIONS = {
    "description": None,
    "csv": ("delimiter", "encoding", "x", "y", "crs"),
    "rows": ("one_row_per", "missing_values"),
    "columns": MAPPABLE,
    "kind_values": None,
    "defaults": tuple(f.name for f in fields(SiteDefaults)),
}


def load_mapping(name_or_path: str | Path) -> CadastreMapping:
    """Read a cadastre mapping: a shipped one by name (:data:`SHIPPED`) or a TOML file.

    Raises
    ------
    InputError
        Unknown name, unreadable TOML, an unknown key (named), or a value of the wrong
        kind.
    """
    text, source, name = _mapping_text(name_or_path)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML ({exc})", file=source) from None
    return parse_mapping(doc, source=source, name=name)


def _mapping_text(name_or_path: str | Path) -> tuple[str, str, str]:
    if str(name_or_path) in SHIPPED:
        res = resources.files("irrigation") / "data" / "mappings" / f"{name_or_path}.toml"
        return res.read_text(encoding="utf-8"), f"mapping '{name_or_path}'", str(name_or_path)
    path = Path(name_or_path)
    if not path.is_file():
        raise InputError(f"no such mapping file; expected a file or one of "
                         f"{', '.join(SHIPPED)}", file=path)
    try:
        return path.read_text(encoding="utf-8"), str(path), path.stem
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", file=path) from None


def parse_mapping(doc: dict[str, Any], *, source: str = "mapping", name: str = "mapping"
                  ) -> CadastreMapping:
    """A :class:`CadastreMapping` from a parsed TOML document (checked)."""
    for key, value in doc.items():
        if key not in _SECTIONS:
            raise InputError(f"unknown key; expected one of {', '.join(_SECTIONS)}",
                             file=source, field=key)
        allowed = _SECTIONS[key]
        if key == "description":
            continue
        if not isinstance(value, dict):
            raise InputError("expected a table [" + key + "]", file=source, field=key)
        for sub in value:
            if allowed is not None and sub not in allowed:
                raise InputError(f"unknown key; expected one of {', '.join(allowed)}",
                                 file=source, field=f"{key}.{sub}")
    csv, rows = doc.get("csv", {}), doc.get("rows", {})
    columns = {k: _text(v, source, f"columns.{k}") for k, v in doc.get("columns", {}).items()}
    if "id" not in columns:
        raise InputError("expected the cadastre column of the tree id", file=source,
                         field="columns.id")
    kinds = {str(k): _text(v, source, f"kind_values.{k}")
             for k, v in doc.get("kind_values", {}).items()}
    one = rows.get("one_row_per", "tree")
    if one not in ("tree", "event"):
        raise InputError(f"expected 'tree' or 'event', got {one!r}", file=source,
                         field="rows.one_row_per")
    missing = rows.get("missing_values", [])
    if not isinstance(missing, list) or not all(isinstance(m, str) for m in missing):
        raise InputError("expected a list of texts", file=source, field="rows.missing_values")
    try:
        defaults = SiteDefaults(**doc.get("defaults", {}))
    except (TypeError, ValueError) as exc:
        raise InputError(str(exc), file=source, field="defaults") from None
    text = {k: _text(csv[k], source, f"csv.{k}") for k in csv}
    if "delimiter" in text and len(text["delimiter"]) != 1:
        raise InputError("expected one character", file=source, field="csv.delimiter")
    return CadastreMapping(
        name=name, columns=columns, description=str(doc.get("description", "")),
        delimiter=text.get("delimiter", ","), encoding=text.get("encoding", "utf-8"),
        x=text.get("x"), y=text.get("y"), crs=text.get("crs"), one_row_per=one,
        missing_values=tuple(missing), kind_values=kinds, defaults=defaults)


def _text(value: Any, source: str, key: str) -> str:
    if not isinstance(value, str) or not value:
        raise InputError(f"expected a non-empty text, got {value!r}", file=source, field=key)
    return value
