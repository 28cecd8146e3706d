"""Text cells safe to open in a spreadsheet, and back.

A CSV cell starting with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return) is a
formula to Excel and LibreOffice, which may run it when the file is opened (CSV
injection, OWASP). Site ids, street names (from OpenStreetMap, which anyone can edit)
and notes reach the plan's CSV files, so every text cell that would start a formula is
written with a leading apostrophe (:func:`neutralise`), which spreadsheets show as text;
the readers of those files strip it again (:func:`restore`). Numbers are left alone.
"""

from __future__ import annotations

import pandas as pd

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _escape(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _unescape(value: object) -> object:
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


def neutralise(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells (and text index) cannot start a formula."""
    out = _map_text(df, _escape)
    if out.index.dtype == object:
        out.index = out.index.map(_escape)
    return out


def restore(df: pd.DataFrame) -> pd.DataFrame:
    """Undo :func:`neutralise` on a table read back as text."""
    return _map_text(df, _unescape)


def _map_text(df: pd.DataFrame, fn) -> pd.DataFrame:
    """A copy of ``df`` with ``fn`` applied to every cell of its text columns."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(fn)
    return out
