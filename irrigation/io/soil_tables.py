"""Readers of the package data tables ``soil_textures.csv`` and ``species.csv``.

Both return a ``pandas.DataFrame`` indexed by the key column (``texture``, ``species``),
validated: required columns present, numbers in range. A city may pass its own extended
copy of either file (same columns); see ``irrigation/data/README.md``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

from ..errors import InputError

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


def _read(path: str | Path | None, default: str, key: str) -> tuple[pd.DataFrame, str]:
    if path is None:
        with resources.as_file(_DATA / default) as p:
            frame, name = pd.read_csv(p, dtype={key: str}), str(p)
    else:
        try:
            frame, name = pd.read_csv(path, dtype={key: str}), str(path)
        except FileNotFoundError:
            raise InputError("file not found", file=path) from None
    if key not in frame.columns:
        raise InputError(f"expected a '{key}' column", file=name, field=key, row=1)
    if frame[key].duplicated().any():
        i = int(frame[key].duplicated().to_numpy().argmax())
        raise InputError(f"{frame[key].iloc[i]!r} appears twice", file=name, field=key,
                         row=i + 2)
    return frame.set_index(key), name


def _check_numbers(frame: pd.DataFrame, columns: dict, name: str) -> None:
    for col, (lo, hi) in columns.items():
        if col not in frame.columns:
            raise InputError(f"expected a '{col}' column", file=name, field=col, row=1)
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = values.isna() | (values < lo) | (values > hi)
        if bad.any():
            i = int(bad.to_numpy().argmax())
            raise InputError(f"expected a number in [{lo}, {hi}], got {frame[col].iloc[i]!r}",
                             file=name, field=col, row=i + 2)
        frame[col] = values.astype(float)


def read_soil_textures(path: str | Path | None = None) -> pd.DataFrame:
    """Van Genuchten parameters by texture (default: the packaged Carsel & Parrish table)."""
    frame, name = _read(path, "soil_textures.csv", "texture")
    _check_numbers(frame, TEXTURE_COLUMNS, name)
    bad = frame["theta_r"] >= frame["theta_s"]
    if bad.any():
        raise InputError("expected theta_r < theta_s", file=name, field="theta_r",
                         row=int(bad.to_numpy().argmax()) + 2)
    return frame


def read_species(path: str | Path | None = None) -> pd.DataFrame:
    """Species table with WUCOLS class, ``k_species`` and ``p_depletion`` (default: packaged)."""
    frame, name = _read(path, "species.csv", "species")
    _check_numbers(frame, SPECIES_COLUMNS, name)
    bad = ~frame["wucols"].isin(WUCOLS)
    if bad.any():
        raise InputError(f"expected a WUCOLS class {', '.join(WUCOLS)}", file=name,
                         field="wucols", row=int(bad.to_numpy().argmax()) + 2)
    return frame
