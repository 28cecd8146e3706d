"""The `irrigation groundwater solve` command and the forecast runner."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from irrigation.cli import main
from irrigation.errors import ConvergenceError
from irrigation.groundwater.embedded import SolveResult
from irrigation.groundwater.forecast import depth_to_water, run_forecast
from irrigation.groundwater.load import load_simulation
from irrigation.groundwater.output import heads_dataset
from irrigation.groundwater.synthetic import grid_model

D = "d_city_transient_newton"


def test_cli_solve_writes_netcdf_and_budget(case_dirs, tmp_path, capsys):
    out = tmp_path / "heads.nc"
    code = main(["groundwater", "solve", str(case_dirs["c_transient_confined_theis_wel"]),
                 "--backend", "embedded", "--out", str(out)])
    assert code == 0
    assert "heads:" in capsys.readouterr().out
    with xr.open_dataset(out) as ds:
        assert ds["head"].dims == ("time", "layer", "row", "col")
        assert ds["head"].attrs["units"] == "m"
        assert ds.sizes["time"] == 12
        assert ds.attrs["Conventions"].startswith("CF")
    df = pd.read_csv(tmp_path / "heads.budget.csv")
    assert {"time", "kper", "kstp", "term", "package", "rate_in", "rate_out"} <= set(df)
    assert df.loc[df.term == "WEL", "rate_out"].max() == pytest.approx(600.0)


def test_cli_bad_input_exit_code_2(tmp_path, capsys):
    assert main(["groundwater", "solve", str(tmp_path), "--out", str(tmp_path / "h.nc")]) == 2
    assert "mfsim.nam" in capsys.readouterr().err


@pytest.fixture(scope="module")
def city(case_dirs):
    return load_simulation(case_dirs[D])


def test_forecast_heads_and_depth(city):
    rch = np.full((city.nrow, city.ncol), 2.0)  # mm/d
    ds = run_forecast(city, recharge_mm_d=rch, wells=[(1, 18, 26, -300.0)], days=3,
                      start="2025-06-01", backend="embedded")
    assert ds["head"].dims == ("time", "layer", "row", "col")
    assert ds.sizes["time"] == 3
    assert str(ds.time.values[0]).startswith("2025-06-02")
    # a point in cell (row 18, col 26): x = 26.5 * 25, y = 1500 - 18.5 * 25
    x, y = 26.5 * 25.0, 1500.0 - 18.5 * 25.0
    d = depth_to_water(ds, [x, 1e6], [y, 0.0])
    assert d.dims == ("time", "site")
    assert np.isnan(d.values[:, 1]).all()
    head = ds["head"].isel(row=18, col=26)
    lay = 0 if head.isel(layer=0, time=0) > ds["botm"].isel(layer=0, row=18, col=26) else 1
    expect = float(ds["top"][18, 26]) - head.isel(layer=lay).values
    np.testing.assert_allclose(d.values[:, 0], expect)
    dem = np.full((city.nrow, city.ncol), 40.0)
    d2 = depth_to_water(ds, [x], [y], model=city, land_surface=dem)
    np.testing.assert_allclose(d2.values[:, 0], 40.0 - head.isel(layer=lay).values)


def test_more_pumping_lowers_the_water_table(city):
    wells = [(1, 18, 26, -300.0)]
    a = run_forecast(city, wells=wells, days=2, backend="embedded")
    b = run_forecast(city, wells=[(1, 18, 26, -1300.0)], days=2, backend="embedded")
    assert float(b["head"][-1, 1, 18, 26]) < float(a["head"][-1, 1, 18, 26]) - 0.1


def test_forecast_nonconvergence_keeps_last_iterate(city):
    from irrigation.groundwater import embedded, forecast

    fm = forecast.forecast_model(city, days=1)
    with pytest.raises(ConvergenceError) as err:
        embedded.simulate(fm, max_iter=1)
    assert err.value.last_iterate.shape == city.shape


@pytest.mark.parametrize("with_model", [False, True])
def test_depth_to_water_finds_the_cell_of_each_point(with_model):
    """Points map to the hand-computed cell, from the model grid or from the cell centres."""
    rows, cols = np.mgrid[0:4, 0:5]
    top = 100.0 + 10.0 * rows + cols  # the depth below reveals the cell: 50 + 10 row + col
    m = grid_model((1, 4, 5), delr=10.0, delc=10.0, top=top, botm=[0.0]).replace(
        xorigin=1000.0, yorigin=2000.0)
    result = SolveResult(np.full((1, *m.shape), 50.0), np.array([1.0]), [(0, 0)])
    ds = heads_dataset(m, result)
    # grid spans x 1000-1050, y 2000-2040; row 0 is the northern row (y 2030-2040)
    x = [1005.0, 1019.0, 1049.0, 1031.0, 999.0, 1020.0]
    y = [2039.0, 2021.0, 2001.0, 2015.0, 2020.0, 2041.0]
    d = depth_to_water(ds, x, y, model=m if with_model else None)
    expect = [50.0 + 10 * r + c for r, c in ((0, 0), (1, 1), (3, 4), (2, 3))] + [np.nan] * 2
    np.testing.assert_array_equal(d.values[0], expect)
