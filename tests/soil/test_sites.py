"""Hydraulics, landscape coefficient, the xarray wrapper and the groundwater coupling."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from irrigation.errors import InputError
from irrigation.io.soil_tables import read_soil_textures, read_species
from irrigation.landscape import landscape_coefficient
from irrigation.soil import (
    SoilParams,
    recharge_to_grid,
    simulate_sites,
    texture_hydraulics,
    van_genuchten_tension_kpa,
    van_genuchten_theta,
)


@pytest.fixture(scope="module")
def tables():
    return read_soil_textures(), read_species()


SPECIES = ["Tilia cordata", "Acer campestre", "Betula pendula", "turf cool-season",
           "mixed shrubs"]


def make_sites(n=5):
    kinds = ["young_tree", "street_tree", "park_tree", "lawn", "shrub_bed"]
    return xr.Dataset(
        {
            "kind": ("site", [kinds[i % 5] for i in range(n)]),
            "species": ("site", [SPECIES[i % 5] for i in range(n)]),
            "planting_year": ("site", np.full(n, 2022)),
            "area_m2": ("site", np.full(n, 4.0)),
            "soil_texture": ("site", ["loamy_sand", "sandy_loam", "loam", "sand", "silt_loam"]
                             * (n // 5) + ["sand"] * (n % 5)),
            "sealing": ("site", ["open", "small_cobbles", "slabs", "asphalt", "open"] * (n // 5)
                        + ["open"] * (n % 5)),
            "root_depth_m": ("site", np.full(n, 0.6)),
            "priority": ("site", np.ones(n, int)),
            "pit_capacity_l": ("site", np.where(np.arange(n) % 2, 120.0, np.nan)),
        },
        coords={"site": [f"s{i}" for i in range(n)], "x": ("site", np.arange(n) * 10.0),
                "y": ("site", np.arange(n) * 10.0)},
    )


def test_van_genuchten_fc_wp_and_inverse(tables):
    textures, _ = tables
    hyd = texture_hydraulics(["loam", "sand"], textures, SoilParams())
    # loam: θ(33 kPa) = 0.2625, θ(1500 kPa) = 0.1075 (centre of FAO-56 Table 19); sand at 10 kPa
    assert hyd["theta_fc"][0] == pytest.approx(0.2625, abs=1e-4)
    assert hyd["theta_wp"][0] == pytest.approx(0.1075, abs=1e-4)
    assert list(hyd["fc_tension_kpa"]) == [33.0, 10.0]
    assert (hyd["theta_fc"] > hyd["theta_wp"]).all()
    vg = [textures.loc["loam", k] for k in ("theta_r", "theta_s", "alpha_per_cm", "n")]
    h = np.array([1.0, 10.0, 33.0, 80.0, 1500.0])
    np.testing.assert_allclose(van_genuchten_tension_kpa(van_genuchten_theta(h, *vg), *vg), h,
                               rtol=1e-9)


def test_landscape_coefficient(tables):
    _, species = tables
    k_l = landscape_coefficient(make_sites(), species)
    # Tilia (M 0.5) young tree (0.8) open (1.0); turf 0.95 lawn asphalt 1.3
    assert k_l.values[0] == pytest.approx(0.4)
    assert k_l.values[3] == pytest.approx(0.95 * 1.3)


def test_simulate_sites_dims_units_and_balance(tables):
    textures, species = tables
    sites = make_sites()
    time = pd.date_range("2024-07-01", periods=10)
    et0 = xr.DataArray(np.full((10, 3), 4.0), dims=("time", "member"),
                       coords={"time": time, "member": [0, 1, 2]})
    rain = xr.zeros_like(et0)
    rain[3] = 20.0
    irr = xr.DataArray(np.zeros((10, 5)), dims=("time", "site"),
                       coords={"time": time, "site": sites["site"]})
    irr[5] = 200.0
    dtw = xr.DataArray([0.8, 5.0, 0.9, np.nan, 3.0], dims="site")
    ds = simulate_sites(sites, et0, rain, textures=textures, species=species,
                        irrigation_l=irr, depth_to_water_m=dtw,
                        initial_depletion_mm=xr.DataArray(np.full(5, 10.0), dims="site"))
    assert ds["dr_mm"].dims == ("time", "site", "member")
    assert ds["tension_kpa"].attrs["units"] == "kPa"
    assert float(np.abs(ds["residual_mm"]).max()) < 1e-9
    # pit capacity 120 L on odd sites: 200 L delivered, 80 L overflow over 4 m2 = 20 mm
    assert float(ds["irrigation_overflow_mm"].sel(site="s1").isel(time=5, member=0)) == 20.0
    assert float(ds["capillary_rise_mm"].sel(site="s1").sum()) == 0.0  # deep water table
    assert float(ds["capillary_rise_mm"].sel(site="s0").sum()) > 0.0
    assert ((ds["theta"] > 0) & (ds["theta"] < 0.5)).all()


def test_simulate_sites_unknown_texture(tables):
    textures, species = tables
    sites = make_sites()
    sites["soil_texture"][0] = "moon_dust"
    et0 = xr.DataArray(np.ones(3), dims="time", coords={"time": pd.date_range("2024-01-01",
                                                                                periods=3)})
    with pytest.raises(InputError, match="moon_dust"):
        simulate_sites(sites, et0, et0 * 0, textures=textures, species=species)


def test_recharge_to_grid_area_weighted_and_conserving():
    delr, delc = np.full(4, 10.0), np.full(3, 20.0)  # 4 columns x 3 rows
    dp = np.array([10.0, 20.0, 5.0, 99.0])
    area = np.array([10.0, 30.0, 200.0, 5.0])
    x = np.array([5.0, 7.0, 35.0, 500.0])  # last site outside the grid
    y = np.array([55.0, 41.0, 5.0, 5.0])  # ytop = 60: row 0 is y in (40, 60]
    rch = recharge_to_grid(dp, area, x, y, xorigin=0.0, ytop=60.0, delr=delr, delc=delc,
                           background_mm_d=0.5)
    assert rch.shape == (3, 4)
    assert rch[0, 0] == pytest.approx((10 * 10 + 20 * 30 + 0.5 * 160) / 200)
    assert rch[2, 3] == pytest.approx(5.0)  # fully covered cell
    assert rch[1, 1] == 0.5  # no sites: background
    total = (rch * 200).sum()
    assert total == pytest.approx(10 * 10 + 20 * 30 + 5 * 200 + 0.5 * (12 * 200 - 240))


def test_knmi_forecast_ensemble_to_site_balance(tables):
    """Weather reader -> generated ensemble -> ET0 -> site balance, end to end."""
    from pathlib import Path

    from irrigation.io.weather import read_knmi_daily
    from irrigation.weather import ensemble_from_deterministic, et0

    textures, species = tables
    path = Path(__file__).parents[1] / "data" / "weather" / "etmgeg_260_2018summer.txt"
    det = read_knmi_daily(path).isel(time=slice(30, 44))
    ens = ensemble_from_deterministic(det, 10, seed=1)
    e0 = et0(ens, latitude_deg=52.1, elevation_m=2.0)
    ds = simulate_sites(make_sites(10), e0, ens["precip_mm"], textures=textures,
                        species=species)
    assert ds.sizes == {"time": 14, "site": 10, "member": 10}
    assert float(np.abs(ds["residual_mm"]).max()) < 1e-9
    assert float(ds["dr_mm"].isel(time=-1).std("member").max()) > 0  # members differ


@pytest.mark.parametrize(
    ("old", "new", "row", "field"),
    [
        ("Acer campestre,field maple,tree,L,0.2,", "Acer campestre,field maple,tree,L,2.2,", 4,
         "k_species"),
        ("Acer campestre,field maple,tree,L,", "Acer campestre,field maple,tree,X,", 4, "wucols"),
        ("Acer platanoides,Norway maple", "Tilia cordata,Norway maple", 3, "species"),
        ("tree,M,0.5,0.5", "tree,M,abc,0.5", 2, "k_species"),
    ],
)
def test_species_table_bad_input(tmp_path, old, new, row, field):
    from importlib import resources

    text = (resources.files("irrigation") / "data" / "species.csv").read_text()
    assert old in text
    path = tmp_path / "species.csv"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(InputError) as info:
        read_species(path)
    assert (info.value.file, info.value.row, info.value.field) == (str(path), row, field)
