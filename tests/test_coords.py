"""Shared index coordinates build the arrays the bare ids build."""

from __future__ import annotations

import numpy as np
import xarray as xr

from irrigation.coords import index_coords


def test_arrays_over_shared_coords_are_those_over_the_ids():
    sites = xr.Dataset({"a": ("site", np.arange(4.0))},
                       coords={"site": ["s1", "s2", "s3", "s4"], "x": ("site", np.ones(4))})
    v = np.random.default_rng(0).random((4, 3))
    for obj in (sites, sites["a"]):
        got = xr.DataArray(v, dims=("site", "member"), coords=index_coords(obj))
        want = xr.DataArray(v, dims=("site", "member"),
                            coords={"site": obj["site"].values})
        xr.testing.assert_identical(got, want)
        assert got.indexes["site"] is obj.indexes["site"]  # not built again
    sites["site"].attrs["long_name"] = "site id"  # a new array does not carry it
    got = xr.Dataset({"b": ("site", v[:, 0])}, coords=index_coords(sites))
    xr.testing.assert_identical(got, xr.Dataset({"b": ("site", v[:, 0])},
                                                coords={"site": sites["site"].values}))


def test_without_a_coordinate_the_positions():
    a = xr.DataArray(np.zeros((2, 3)), dims=("site", "member"))
    assert list(index_coords(a)["site"]) == [0, 1]
