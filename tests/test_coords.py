"""Shared index coordinates build the arrays the bare ids build."""

from __future__ import annotations

import numpy as np
import pytest
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


@pytest.mark.parametrize("time", [
    np.array(["2018-07-01", "2018-07-03"], "datetime64[ns]"),
    np.array(["2018-07-01"], "datetime64[D]"),  # not ns: xarray's own way
])
def test_dim_coords_make_the_arrays_the_values_make(time):
    from irrigation.coords import dim_coords

    sites = xr.Dataset(coords={"site": ["s1", "s2", "s3"]})
    v = np.arange(time.size * 3.0).reshape(-1, 3)
    got = xr.DataArray(v, dims=("time", "site"),
                       coords=dim_coords(index_coords(sites), time=time))
    want = xr.DataArray(v, dims=("time", "site"),
                        coords={"time": time, "site": sites["site"].values})
    xr.testing.assert_identical(got, want)
    assert type(got.coords["time"].variable) is type(want.coords["time"].variable)
    member = np.arange(4)
    both = dim_coords(time=time, member=member)
    ds = xr.Dataset({"a": (("time", "member"), np.zeros((time.size, 4)))}, coords=both)
    xr.testing.assert_identical(ds, xr.Dataset(
        {"a": (("time", "member"), np.zeros((time.size, 4)))},
        coords={"time": time, "member": member}))
