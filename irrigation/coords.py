"""Coordinates shared between arrays: a new array over the sites of a dataset takes the
dataset's ``site`` coordinate with its index instead of building the index again (a
pandas index of the site ids, rebuilt for every array built from the bare ids; the
closed-loop season builds several such arrays each morning)."""

from __future__ import annotations

import xarray as xr


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
