"""Coordinates shared between arrays: a new array over the sites of a dataset takes the
dataset's ``site`` coordinate with its index instead of building the index again (a
pandas index of the site ids, rebuilt for every array built from the bare ids; the
closed-loop season builds several such arrays each morning)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from xarray.indexes import PandasIndex


def index_coords(obj: xr.Dataset | xr.DataArray, dim: str = "site"
                 ) -> xr.Coordinates | dict:
    """The coordinate ``dim`` of ``obj`` with its index, for new arrays over ``dim``.

    The arrays are those built with ``coords={dim: obj[dim].values}``: when the
    coordinate carries attributes or an encoding (which such arrays do not get), or has no
    index, the bare values are returned instead.
    """
    if dim not in obj.xindexes:  # no coordinate, or one without index
        return {dim: obj[dim].values}
    var = obj.variables[dim] if isinstance(obj, xr.Dataset) else obj.coords[dim].variable
    if var.attrs or var.encoding:
        return {dim: var.values}
    return xr.Coordinates({dim: var}, indexes={dim: obj.xindexes[dim]})


def dim_coords(shared: xr.Coordinates | dict | None = None, **dims: np.ndarray
               ) -> xr.Coordinates | dict:
    """Dimension coordinates ``dims`` (1-D arrays of numbers or of datetime64[ns]) with
    their pandas indexes built directly, with the coordinates ``shared``
    (:func:`index_coords`): the coordinates ``{**shared, **dims}`` makes, without
    xarray's inference on the values. Other arrays: that dict itself."""
    arrays = {d: np.asarray(v) for d, v in dims.items()}
    plain = all(a.ndim == 1 and (a.dtype.kind in "iuf" or a.dtype == "datetime64[ns]")
                for a in arrays.values())
    if not plain or isinstance(shared, dict):
        return {**({} if shared is None else dict(shared)), **arrays}
    variables, indexes = {}, {}
    for d, a in arrays.items():
        indexes[d] = PandasIndex(pd.Index(a), d, coord_dtype=a.dtype)
        variables.update(indexes[d].create_variables())
    if shared is not None:
        variables.update({k: shared.variables[k] for k in shared})
        indexes.update(shared.xindexes)
    return xr.Coordinates(variables, indexes=indexes)
