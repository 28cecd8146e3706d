"""Readers of the package data tables ``soil_textures.csv`` and ``species.csv``.

Both return a ``pandas.DataFrame`` indexed by the key column (``texture``, ``species``),
validated by the rules of the city tables (:mod:`irrigation.io.tables`): required columns
present, keys unique, numbers in range; errors name the file, line and column. A city may
pass its own extended copy of either file (same columns); see ``irrigation/data/README.md``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

from ..errors import InputError
from .columns import Column, in_set, read_csv_table, validate_columns

_DATA = resources.files("irrigation") / "data"

#: Required columns and allowed ranges of the soil texture table.
TEXTURE_COLUMNS: dict[str, tuple[float, float]] = {
    "theta_r": (0.0, 0.5),
    "theta_s": (0.1, 0.8),
    "alpha_per_cm": (1e-4, 1.0),
    "n": (1.01, 10.0),
    "ks_cm_per_d": (0.0, 1e4),
}

#: Required columns and allowed ranges of the species table (numeric columns).
SPECIES_COLUMNS: dict[str, tuple[float, float]] = {
    "k_species": (0.0, 1.5),
    "p_depletion": (0.1, 0.8),
}

WUCOLS = ("H", "M", "L", "VL")


def _key(name: str) -> Column:
    return Column(name, str, lambda s: ~s.duplicated(), f"a {name} not listed on a line above")


def _numbers(ranges: dict[str, tuple[float, float]]) -> list[Column]:
    return [Column(name, float, lambda s, lo=lo, hi=hi: (s >= lo) & (s <= hi),
                   f"a number in [{lo}, {hi}]") for name, (lo, hi) in ranges.items()]


def _read(path: str | Path | None, default: str, columns: list[Column]) -> pd.DataFrame:
    """The table at ``path`` (default: the packaged one), checked by the city-table rules
    of :mod:`irrigation.io.tables` and indexed by its first column."""
    if path is None:
        with resources.as_file(_DATA / default) as packaged:
            return _read(packaged, default, columns)
    path = Path(path)
    return validate_columns(read_csv_table(path), columns, path).set_index(columns[0].name)


def read_soil_textures(path: str | Path | None = None) -> pd.DataFrame:
    """Van Genuchten parameters by texture (default: the packaged Carsel & Parrish table)."""
    frame = _read(path, "soil_textures.csv", [_key("texture"),
                                              *_numbers(TEXTURE_COLUMNS)])
    bad = frame["theta_r"] >= frame["theta_s"]
    if bad.any():
        raise InputError("expected theta_r < theta_s", file=path, field="theta_r",
                         row=int(bad.to_numpy().argmax()) + 2)
    return frame


def read_species(path: str | Path | None = None) -> pd.DataFrame:
    """Species table with WUCOLS class, ``k_species`` and ``p_depletion`` (default: packaged)."""
    return _read(path, "species.csv", [
        _key("species"),
        Column("common_name", str, required=False, default=""),
        Column("kind_hint", str, required=False, default=""),
        Column("wucols", str, in_set(WUCOLS), f"a WUCOLS class {', '.join(WUCOLS)}"),
        *_numbers(SPECIES_COLUMNS),
    ])
