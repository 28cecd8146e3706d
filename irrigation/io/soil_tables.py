"""Readers of the package data tables ``soil_textures.csv`` and ``species.csv``.

Both return a ``pandas.DataFrame`` indexed by the key column (``texture``, ``species``),
validated by the rules of the city tables (:mod:`irrigation.io.tables`): required columns
present, keys unique, numbers in range; errors name the file, line and column. A city may
pass its own extended copy of either file (same columns); see ``irrigation/data/README.md``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..soil import SoilParams, van_genuchten_theta
from .columns import Column, in_set, read_csv_table, validate_columns

_DATA = resources.files("irrigation") / "data"

#: Required columns and allowed ranges of the soil texture table: the van Genuchten
#: parameters, the tension that defines field capacity [kPa] and the field capacity and
#: wilting point [m3 m-3] the curve passes through.
TEXTURE_COLUMNS: dict[str, tuple[float, float]] = {
    "theta_r": (0.0, 0.5),
    "theta_s": (0.1, 0.8),
    "alpha_per_cm": (1e-4, 2.0),
    "n": (1.01, 10.0),
    "fc_tension_kpa": (1.0, 100.0),
    "theta_fc": (0.01, 0.8),
    "theta_wp": (0.0, 0.8),
}

#: Largest difference [m3 m-3] between a row's ``theta_fc``/``theta_wp`` and its curve at
#: ``fc_tension_kpa``/the wilting point (the table's parameters are rounded to 6 digits).
CURVE_TOLERANCE = 1e-3

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
    """Retention by texture and tree-pit substrate (default: the packaged table).

    Each row is one van Genuchten curve (``theta_r``, ``theta_s``, ``alpha_per_cm``,
    ``n``), the tension that defines its field capacity (``fc_tension_kpa``) and the field
    capacity and wilting point it passes through (``theta_fc``, ``theta_wp``, checked
    against the curve within :data:`CURVE_TOLERANCE`); ``ks_cm_per_d`` is optional
    (informative, not used by the model). Sources: ``irrigation/data/README.md``.
    """
    frame = _read(path, "soil_textures.csv", [
        _key("texture"), *_numbers(TEXTURE_COLUMNS),
        Column("ks_cm_per_d", float, lambda s: (s >= 0) & (s <= 1e5),
               "a number in [0, 100000] (or empty)", required=False, default=np.nan),
    ])
    where = path if path is not None else "irrigation/data/soil_textures.csv"
    order = (frame["theta_r"] < frame["theta_wp"]) & (frame["theta_wp"] < frame["theta_fc"]) & (
        frame["theta_fc"] < frame["theta_s"])
    if not order.all():
        raise InputError("expected theta_r < theta_wp < theta_fc < theta_s", file=where,
                         field="theta_fc", row=int((~order).to_numpy().argmax()) + 2)
    vg = [frame[k].to_numpy(float) for k in ("theta_r", "theta_s", "alpha_per_cm", "n")]
    wp_kpa = SoilParams().wp_tension_kpa
    for field, kpa in (("theta_fc", frame["fc_tension_kpa"].to_numpy(float)),
                       ("theta_wp", wp_kpa)):
        curve = van_genuchten_theta(kpa, *vg)
        off = np.abs(curve - frame[field].to_numpy(float)) > CURVE_TOLERANCE
        if off.any():
            i = int(off.argmax())
            raise InputError(
                f"the van Genuchten curve of {frame.index[i]!r} gives {curve[i]:.4f} at "
                f"{np.broadcast_to(kpa, off.shape)[i]:g} kPa, not {field} "
                f"{frame[field].iloc[i]:g}: one curve must give field capacity, wilting "
                "point and tensions (refit with irrigation.soil.fit_van_genuchten)",
                file=where, field=field, row=i + 2)
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
