"""The column machinery of the city and package tables: declared columns, checked rows.

A table is a list of :class:`Column` (name, type, a vectorised check, what it expects,
units); :func:`validate_columns` converts and checks a raw string table against it and
raises :class:`~irrigation.errors.InputError` naming the file, the line (1-based, header =
line 1) and the column of the first bad value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

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


#: Longest text of a file echoed in an error, and most column names listed: an error
#: names what is wrong, it does not print the file (which may be any file on the system).
MAX_ECHOED_CHARS = 30
MAX_ECHOED_COLUMNS = 12


def short(value: object) -> str:
    """``value`` as text, cut to :data:`MAX_ECHOED_CHARS` characters."""
    text = str(value)
    return text if len(text) <= MAX_ECHOED_CHARS else text[:MAX_ECHOED_CHARS - 3] + "..."


def positive(s: pd.Series) -> pd.Series:
    """Check: values > 0."""
    return s > 0


def in_set(values: Iterable[str]) -> Callable[[pd.Series], pd.Series]:
    """Check: values among ``values``."""
    allowed = frozenset(values)
    return lambda s: s.isin(allowed)


def validate_columns(
    df: pd.DataFrame, columns: list[Column], file: Path, first_line: int = 2
) -> pd.DataFrame:
    """Convert and check the columns of a raw string table; the first bad row raises.

    ``first_line`` is the file line of the table's first row (2 below a header line).
    """
    missing = [c.name for c in columns if c.required and c.name not in df.columns]
    if missing:
        found = [short(c) for c in df.columns[:MAX_ECHOED_COLUMNS]]
        more = len(df.columns) - len(found)
        raise InputError(
            f"missing column(s) {', '.join(missing)}; found {', '.join(found)}"
            + (f" and {more} more" if more > 0 else ""),
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
            values = values.where(np.isfinite(values.astype(float)))  # inf: not a number
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
                f"expected {what}, got {short(raw.iloc[i])!r}",
                file=file,
                row=first_line + i,
                field=col.name,
            )
        if absent.any():
            values = values.astype(object).where(~absent, col.default)
        out[col.name] = values.astype(object if col.dtype is str else col.dtype)
    return pd.DataFrame(out, index=df.index)


def read_csv_table(path: Path) -> pd.DataFrame:
    """A CSV file as a table of strings (empty cells NaN); unreadable files raise."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except FileNotFoundError:
        raise InputError("file not found", file=path) from None
    except IsADirectoryError:
        raise InputError("expected a CSV file, got a folder", file=path) from None
    except PermissionError:
        raise InputError("cannot read the file (permission denied)", file=path) from None
    except pd.errors.EmptyDataError:
        raise InputError("expected a CSV table with a header line, the file is empty",
                         file=path) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"expected UTF-8 text, byte {exc.start} is not", file=path) from None
    except pd.errors.ParserError as exc:
        raise InputError(f"not a readable CSV file ({exc})", file=path) from None


def check_unique_ids(ids: pd.Series, file: Path, first_line: int = 2, field: str = "id"
                     ) -> None:
    """Raise naming the line of the first repeated id."""
    dup = ids.duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError(
            f"expected unique {field} values, {ids.iloc[i]!r} appears twice",
            file=file,
            row=first_line + i,
            field=field,
        )


