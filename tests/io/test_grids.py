"""ESRI ASCII grids of the depth to water, and the water table a city without a
groundwater model assumes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from irrigation.errors import InputError
from irrigation.groundwater.assumed import AssumedWaterTable
from irrigation.io.grids import read_ascii_grid

GRID = """ncols 3
nrows 2
xllcorner 1000
yllcorner 5000
cellsize 100
NODATA_value -9999
2.5 3.0 -9999
2.0 2.5 3.5
"""


def test_values_by_cell_north_row_first(tmp_path):
    path = tmp_path / "dtw.asc"
    path.write_text(GRID)
    grid = read_ascii_grid(path)
    # (x, y) -> the cell holding it: row 0 is the northern row (y 5100-5200)
    x = np.array([1050, 1150, 1250, 1050, 1250, 999, 1301, 1050])
    y = np.array([5150, 5150, 5150, 5050, 5050, 5050, 5050, 5201])
    got = grid.at(x, y)
    np.testing.assert_allclose(got[:5], [2.5, 3.0, np.nan, 2.0, 3.5], equal_nan=True)
    assert np.isnan(got[5:]).all()  # outside
    table = AssumedWaterTable(10.0, grid)
    np.testing.assert_allclose(table.at(x, y), [2.5, 3.0, 10.0, 2.0, 3.5, 10.0, 10.0, 10.0])
    assert "at 4 of 8 sites" in table.describe(x, y)


def test_cell_centre_header(tmp_path):
    path = tmp_path / "c.asc"
    path.write_text(GRID.replace("xllcorner 1000", "xllcenter 1050").replace(
        "yllcorner 5000", "yllcenter 5050"))
    grid = read_ascii_grid(path)
    assert (grid.xll, grid.yll) == (1000, 5000)


@pytest.mark.parametrize(("text", "match"), [
    (GRID.replace("ncols 3\n", ""), "missing header key 'ncols'"),
    (GRID.replace("cellsize 100", "cellsize ten"), "expected a number"),
    (GRID.replace("2.0 2.5 3.5", "2.0 2.5"), "expected 3 values"),
    (GRID.replace("2.0 2.5 3.5", "2.0 x 3.5"), "expected numbers"),
    (GRID.replace("2.0 2.5 3.5", "2.0 2.5 -3.5"), r"depth in \[0, 1000\]"),
    (GRID.replace("nrows 2", "nrows 3"), "expected 3 rows"),
    ("", "missing header key"),
])
def test_bad_grids_are_one_input_error(tmp_path, text, match):
    path = tmp_path / "bad.asc"
    path.write_text(text)
    with pytest.raises(InputError, match=match) as err:
        read_ascii_grid(path)
    assert "bad.asc" in str(err.value) and "\n" not in str(err.value)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=200))
def test_any_bytes_read_or_input_error(tmp_path, data):
    path = tmp_path / "f.asc"
    path.write_bytes(GRID.encode()[:60] + data)
    try:
        grid = read_ascii_grid(path)
    except InputError as exc:
        assert "\n" not in str(exc)
    else:
        assert grid.values.ndim == 2


def test_city_with_a_depth_grid_runs_the_groundwater_steps(tmp_path):
    """PlanningModel without a model: depth per site from the grid (constant elsewhere),
    heads one NaN cell that never moves, zero recharge."""
    from kreuzberg import make_city

    from irrigation.day import PlanningModel, groundwater_step, steady_heads
    from irrigation.io.city import load_city, load_groundwater
    from irrigation.io.soil_tables import read_soil_textures

    folder = make_city(tmp_path / "c", city_crs="EPSG:25833", sites_crs=None)
    city = load_city(folder)
    x, y = city.sites.x.values, city.sites.y.values
    (folder / "dtw.asc").write_text(f"ncols 1\nnrows 1\nxllcorner {x[0] - 10}\nyllcorner "
                                    f"{y[0] - 10}\ncellsize 20\n1.25\n")
    with open(folder / "city.toml", "a") as fh:
        fh.write('\n[groundwater]\ndepth_to_water_grid = "dtw.asc"\ndepth_to_water_m = 4.0\n')
    city = load_city(folder)
    pm = PlanningModel.build(city, load_groundwater(city), read_soil_textures(), city.species)
    heads = steady_heads(pm)
    dtw = pm.depth_to_water_m(np.stack([heads] * 3))
    assert dtw.shape == (3, 3)
    np.testing.assert_allclose(dtw.values, [[1.25, 4.0, 4.0]] * 3)
    run = groundwater_step(pm, heads, pm.recharge_mm_d(np.ones((5, 3))), start=np.datetime64(
        "2022-07-01"))
    assert run.converged and run.heads_m.shape == (5, 1, 1, 1)
    assert "dtw.asc at 1 of 3 sites, 4 m elsewhere" in pm.groundwater_text
