"""Rasters in the ESRI ASCII grid format (``.asc``), e.g. a map of the depth to water.

The format (ESRI ArcInfo ASCII grid, also written by GDAL's ``AAIGrid`` driver): six
header lines ``ncols``, ``nrows``, ``xllcorner`` (or ``xllcenter``), ``yllcorner`` (or
``yllcenter``), ``cellsize`` and an optional ``NODATA_value``, keys in any case, then
``nrows`` rows of ``ncols`` numbers separated by spaces, the northern row first::

    ncols 3
    nrows 2
    xllcorner 390000
    yllcorner 5818000
    cellsize 100
    NODATA_value -9999
    2.5 3.0 -9999
    2.0 2.5 3.5

Coordinates are in the city CRS [m]; values in metres below land surface.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError
from ..groundwater.assumed import DepthGrid

_KEYS = ("ncols", "nrows", "xllcorner", "yllcorner", "cellsize")


def read_ascii_grid(path: str | Path, *, lowest: float = 0.0, highest: float = 1000.0
                    ) -> DepthGrid:
    """Read an ESRI ASCII grid of depths [m] (format in the module docstring).

    Parameters
    ----------
    lowest, highest
        Accepted range of the values [m]; NODATA cells become NaN.

    Raises
    ------
    InputError
        Missing file, a header key missing or not a number, a row with another number of
        values than ``ncols``, a value that is not a number or out of range.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="ascii").splitlines()
    except FileNotFoundError:
        raise InputError("file not found", file=path) from None
    except (UnicodeDecodeError, IsADirectoryError) as exc:
        raise InputError(f"not an ASCII grid ({type(exc).__name__})", file=path) from None
    header: dict[str, float] = {}
    k = 0
    while k < len(lines) and lines[k].strip() and lines[k].split()[0][:1].isalpha():
        parts = lines[k].split()
        key = parts[0].lower()
        if len(parts) != 2:
            raise InputError(f"expected 'key value' in the header, got {lines[k]!r}",
                             file=path, row=k + 1)
        try:
            header[key] = float(parts[1])
        except ValueError:
            raise InputError(f"expected a number, got {parts[1]!r}", file=path, row=k + 1,
                             field=key) from None
        k += 1
    centre = "xllcenter" in header
    for key in ("xllcenter", "yllcenter"):
        if key in header:
            header[key.replace("center", "corner")] = header.pop(key)
    missing = [key for key in _KEYS if key not in header]
    if missing:
        raise InputError(f"missing header key {missing[0]!r}; expected {', '.join(_KEYS)}",
                         file=path, field=missing[0])
    ncols, nrows, size = int(header["ncols"]), int(header["nrows"]), header["cellsize"]
    if not (ncols >= 1 and nrows >= 1 and ncols * nrows <= 10**8 and size > 0
            and float(header["ncols"]).is_integer() and float(header["nrows"]).is_integer()):
        raise InputError("expected whole ncols, nrows >= 1 and cellsize > 0", file=path)
    rows = [ln for ln in lines[k:] if ln.strip()]
    if len(rows) != nrows:
        raise InputError(f"expected {nrows} rows of values (nrows), got {len(rows)}", file=path)
    values = np.empty((nrows, ncols))
    for i, ln in enumerate(rows):
        cells = ln.split()
        if len(cells) != ncols:
            raise InputError(f"expected {ncols} values (ncols), got {len(cells)}", file=path,
                             row=k + 1 + i)
        try:
            values[i] = [float(c) for c in cells]
        except ValueError:
            raise InputError("expected numbers", file=path, row=k + 1 + i) from None
    nodata = header.get("nodata_value")
    if nodata is not None:
        values[values == nodata] = np.nan
    bad = np.isfinite(values) & ((values < lowest) | (values > highest))
    bad |= ~np.isfinite(values) & ~np.isnan(values)
    if bad.any():
        i, j = (int(v[0]) for v in np.nonzero(bad))
        raise InputError(f"expected a depth in [{lowest:g}, {highest:g}] m, got "
                         f"{values[i, j]:g} (column {j + 1})", file=path, row=k + 1 + i)
    shift = 0.5 * size if centre else 0.0
    return DepthGrid(header["xllcorner"] - shift, header["yllcorner"] - shift, size, values,
                     source=path.name)
