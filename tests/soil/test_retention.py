"""Retention curves of the texture table against measured soils (FAO-56 Table 19), the
tree-pit substrates against their published requirements, and per-site measured values."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from irrigation.errors import InputError
from irrigation.io.soil_tables import read_soil_textures
from irrigation.soil import (
    available_water_table,
    fit_van_genuchten,
    site_hydraulics,
    site_water_capacity,
    texture_hydraulics,
    van_genuchten_tension_kpa,
    van_genuchten_theta,
)

#: FAO-56 (Allen, Pereira, Raes & Smith 1998, Irrigation and Drainage Paper 56), Chapter 8,
#: Table 19 "Typical soil water characteristics for different soil types" (p. 144 of the
#: printed edition), typed from the publication: θFC range, θWP range and θFC - θWP range
#: [m3 m-3]. (The online HTML edition misprints silty clay's θFC as "0-30 - 0.42".)
FAO56_TABLE19 = {
    #                  θFC          θWP          θFC - θWP
    "sand": ((0.07, 0.17), (0.02, 0.07), (0.05, 0.11)),
    "loamy_sand": ((0.11, 0.19), (0.03, 0.10), (0.06, 0.12)),
    "sandy_loam": ((0.18, 0.28), (0.06, 0.16), (0.11, 0.15)),
    "loam": ((0.20, 0.30), (0.07, 0.17), (0.13, 0.18)),
    "silt_loam": ((0.22, 0.36), (0.09, 0.21), (0.13, 0.19)),
    "silt": ((0.28, 0.36), (0.12, 0.22), (0.16, 0.20)),
    "silty_clay_loam": ((0.30, 0.37), (0.17, 0.24), (0.13, 0.18)),
    "silty_clay": ((0.30, 0.42), (0.17, 0.29), (0.13, 0.19)),
    "clay": ((0.32, 0.40), (0.20, 0.24), (0.12, 0.20)),
}

USDA_CLASSES = ("sand", "loamy_sand", "sandy_loam", "loam", "silt_loam", "silt",
                "sandy_clay_loam", "clay_loam", "silty_clay_loam", "sandy_clay", "silty_clay",
                "clay")


@pytest.fixture(scope="module")
def textures():
    return read_soil_textures()


def curve(textures, name):
    return [textures.loc[name, k] for k in ("theta_r", "theta_s", "alpha_per_cm", "n")]


def test_every_usda_class_is_in_the_table(textures):
    assert set(USDA_CLASSES) <= set(textures.index)


@pytest.mark.parametrize("texture", list(FAO56_TABLE19))
def test_available_water_inside_fao56_table19(textures, texture):
    (fc_lo, fc_hi), (wp_lo, wp_hi), (aw_lo, aw_hi) = FAO56_TABLE19[texture]
    hyd = texture_hydraulics([texture], textures)
    fc, wp = hyd["theta_fc"][0], hyd["theta_wp"][0]  # from the curve, not the table columns
    assert fc_lo <= fc <= fc_hi
    assert wp_lo <= wp <= wp_hi
    assert aw_lo <= fc - wp <= aw_hi
    taw = available_water_table(textures).loc[texture, "taw_mm_per_m"]
    assert 1000 * aw_lo <= taw <= 1000 * aw_hi


def saxton_rawls_2006(sand, clay, om_pct=2.5):
    """θ33 and θ1500 [m3 m-3] of Saxton & Rawls (2006), SSSAJ 70:1569, eqs. 1-2 (Table 1).

    ``sand``, ``clay`` as weight fractions, organic matter in % by weight.
    """
    t1500 = (-0.024 * sand + 0.487 * clay + 0.006 * om_pct + 0.005 * sand * om_pct
             - 0.013 * clay * om_pct + 0.068 * sand * clay + 0.031)
    t33 = (-0.251 * sand + 0.195 * clay + 0.011 * om_pct + 0.006 * sand * om_pct
           - 0.027 * clay * om_pct + 0.452 * sand * clay + 0.299)
    return t33 + (1.283 * t33**2 - 0.374 * t33 - 0.015), t1500 + (0.14 * t1500 - 0.02)


@pytest.mark.parametrize(("texture", "sand", "clay"), [
    ("sandy_clay_loam", 0.60, 0.25), ("clay_loam", 0.30, 0.35), ("sandy_clay", 0.50, 0.40)])
def test_classes_outside_table19_follow_saxton_rawls(textures, texture, sand, clay):
    """The three USDA classes FAO-56 Table 19 does not list: field capacity at 33 kPa and
    wilting point of the Saxton & Rawls (2006) estimate at the class's typical composition."""
    fc, wp = saxton_rawls_2006(sand, clay)
    hyd = texture_hydraulics([texture], textures)
    assert textures.loc[texture, "fc_tension_kpa"] == 33.0
    assert hyd["theta_fc"][0] == pytest.approx(fc, abs=0.002)
    assert hyd["theta_wp"][0] == pytest.approx(wp, abs=0.002)


def test_one_curve_gives_fc_wp_and_tensions(textures):
    """θ(ψFC) = θFC and θ(1500 kPa) = θWP for every row, and tension <-> θ round-trips."""
    for name, row in textures.iterrows():
        vg = curve(textures, name)
        fc, wp = van_genuchten_theta(np.array([row["fc_tension_kpa"], 1500.0]), *vg)
        assert fc == pytest.approx(row["theta_fc"], abs=1e-4), name
        assert wp == pytest.approx(row["theta_wp"], abs=1e-4), name
        assert van_genuchten_tension_kpa(row["theta_fc"], *vg) == pytest.approx(
            row["fc_tension_kpa"], rel=2e-3), name
        h = np.array([1.0, 10.0, 33.0, 80.0, 239.0, 1500.0])
        np.testing.assert_allclose(van_genuchten_tension_kpa(van_genuchten_theta(h, *vg), *vg),
                                   h, rtol=1e-8)


def test_table_curves_are_the_documented_fit(textures):
    """α and n of every row are the curve through its θFC at ψFC and θWP at 1500 kPa."""
    alpha, n = fit_van_genuchten(textures["theta_fc"], textures["theta_wp"],
                                 textures["fc_tension_kpa"], textures["theta_r"],
                                 textures["theta_s"])
    np.testing.assert_allclose(alpha, textures["alpha_per_cm"], rtol=1e-5)
    np.testing.assert_allclose(n, textures["n"], rtol=1e-5)


def test_field_capacity_tension_is_per_texture(textures):
    # USDA-NRCS convention: 10 kPa (1/10 bar) for sands, 33 kPa (1/3 bar) for finer soils
    assert set(textures.loc[["sand", "loamy_sand"], "fc_tension_kpa"]) == {10.0}
    finer = [t for t in USDA_CLASSES if t not in ("sand", "loamy_sand")]
    assert set(textures.loc[finer, "fc_tension_kpa"]) == {33.0}


@settings(max_examples=40, deadline=None)
@given(wp=st.floats(0.01, 0.30), aw=st.floats(0.02, 0.25), air=st.floats(0.02, 0.3),
       psi_fc=st.sampled_from([6.3, 10.0, 33.0]), r_frac=st.floats(0.0, 0.9))
def test_fit_passes_through_both_points(wp, aw, air, psi_fc, r_frac):
    fc, sat, res = wp + aw, wp + aw + air, r_frac * wp
    alpha, n = fit_van_genuchten(fc, wp, psi_fc, res, sat)
    got = van_genuchten_theta(np.array([psi_fc, 1500.0]), res, sat, alpha, n)
    np.testing.assert_allclose(got, [fc, wp], atol=1e-9)


def test_fit_rejects_unordered_points():
    with pytest.raises(ValueError, match="theta_r < theta_wp"):
        fit_van_genuchten(0.10, 0.20, 33.0, 0.0, 0.45)


# --------------------------------------------------------------------------- substrates

#: Tension [kPa] at which the substrates' "water capacity" and "air volume" are read off
#: the curve: pF 1.8 (6.3 kPa), where the German soil survey (KA5) puts field capacity and
#: separates air-filled coarse pores (> 50 µm) from water-filled ones.
PF18_KPA = 10**1.8 * 0.0980665

#: FLL (2010), Empfehlungen für Baumpflanzungen Teil 2, substrate requirements of pit
#: designs 1 (open pit) and 2 (pit built over, compacted): minimum water capacity and
#: minimum air volume [m3 m-3] (see irrigation/data/README.md for the caveat on the source).
FLL_2010 = {"fll_pit_1": (0.25, 0.15), "fll_pit_2": (0.20, 0.12)}


@pytest.mark.parametrize("substrate", list(FLL_2010))
def test_fll_substrates_meet_water_and_air_requirements(textures, substrate):
    min_water, min_air = FLL_2010[substrate]
    vg = curve(textures, substrate)
    water = van_genuchten_theta(PF18_KPA, *vg)
    assert water >= min_water
    assert textures.loc[substrate, "theta_s"] - water >= min_air


def test_skeletal_soil_within_published_ranges(textures):
    """Stone-skeleton structural soil: available water 7-12 % by volume (CU-Structural
    Soil, Bassuk et al. 2005), pore space at most the voids of the uniformly graded stone
    skeleton (about 30 %, Embrén et al. 2009)."""
    row = available_water_table(textures).loc["skeletal_soil"]
    assert 70.0 <= row["taw_mm_per_m"] <= 120.0
    assert textures.loc["skeletal_soil", "theta_s"] <= 0.30 + 1e-9


def test_substrates_are_named_like_textures(textures):
    hyd = texture_hydraulics(["fll_pit_1", "fll_pit_2", "skeletal_soil", "loam"], textures)
    assert (hyd["theta_fc"] > hyd["theta_wp"]).all()


# --------------------------------------------------------------------------- reader


def test_reader_rejects_a_row_whose_curve_misses_its_field_capacity(tmp_path):
    from importlib import resources

    text = (resources.files("irrigation") / "data" / "soil_textures.csv").read_text()
    line = next(ln for ln in text.splitlines() if ln.startswith("loam,"))
    cells = line.split(",")
    cells[-2] = "0.2825"  # θFC 0.02 above the curve at 33 kPa
    path = tmp_path / "soil_textures.csv"
    path.write_text(text.replace(line, ",".join(cells)))
    with pytest.raises(InputError, match="one curve") as info:
        read_soil_textures(path)
    assert (info.value.row, info.value.field) == (text.splitlines().index(line) + 1, "theta_fc")


# --------------------------------------------------------------------------- measured sites


def sites(**columns):
    n = len(next(iter(columns.values())))
    data = {"soil_texture": ("site", ["sandy_loam"] * n),
            "root_depth_m": ("site", np.full(n, 0.6))}
    data.update({k: ("site", np.asarray(v, dtype=object if k == "soil_texture" else float))
                 for k, v in columns.items()})
    return xr.Dataset(data, coords={"site": [f"s{i}" for i in range(n)]})


def test_measured_fc_and_wp_win_and_refit_one_curve(textures):
    ds = sites(theta_fc=[0.28, np.nan], theta_wp=[0.12, np.nan])
    hyd = site_hydraulics(ds, textures)
    assert list(hyd["measured"]) == [True, False]
    assert hyd["theta_fc"][0] == pytest.approx(0.28, abs=1e-9)
    assert hyd["theta_wp"][0] == pytest.approx(0.12, abs=1e-9)
    vg = [hyd[k][0] for k in ("theta_r", "theta_s", "alpha_per_cm", "n")]
    assert van_genuchten_tension_kpa(0.28, *vg) == pytest.approx(33.0, rel=1e-6)
    # the unmeasured site keeps its texture's curve exactly
    plain = texture_hydraulics(["sandy_loam"], textures)
    for key in ("theta_r", "theta_s", "alpha_per_cm", "n", "theta_fc", "theta_wp"):
        assert hyd[key][1] == plain[key][0], key


def test_available_water_alone_keeps_the_texture_wilting_point(textures):
    ds = sites(awc_mm_per_m=[90.0])
    hyd, taw = site_water_capacity(ds, textures)
    wp = texture_hydraulics(["sandy_loam"], textures)["theta_wp"][0]
    assert hyd["theta_wp"][0] == pytest.approx(wp, abs=1e-9)
    assert hyd["theta_fc"][0] == pytest.approx(wp + 0.090, abs=1e-9)
    assert float(taw[0]) == pytest.approx(90.0 * 0.6)


def test_lab_values_at_another_tension(textures):
    """A lab reporting field capacity at pF 1.8 (6.3 kPa, KA5) on a substrate."""
    ds = sites(soil_texture=["fll_pit_1"], theta_fc=[0.27], fc_tension_kpa=[6.3])
    hyd = site_hydraulics(ds, textures)
    vg = [hyd[k][0] for k in ("theta_r", "theta_s", "alpha_per_cm", "n")]
    assert van_genuchten_theta(6.3, *vg) == pytest.approx(0.27, abs=1e-9)
    assert hyd["theta_wp"][0] == pytest.approx(
        texture_hydraulics(["fll_pit_1"], textures)["theta_wp"][0], abs=1e-9)


@pytest.mark.parametrize(("columns", "match"), [
    ({"theta_fc": [0.30], "theta_wp": [0.10], "awc_mm_per_m": [150.0]}, "awc_mm_per_m"),
    ({"theta_fc": [0.40]}, "theta_fc < theta_s"),
    ({"theta_fc": [0.10], "theta_wp": [0.12]}, "theta_wp < theta_fc"),
    ({"theta_wp": [0.0]}, "0 < theta_wp"),
])
def test_bad_measured_values_name_the_site(textures, columns, match):
    with pytest.raises(InputError, match=match) as info:
        site_hydraulics(sites(**columns), textures)
    assert "'s0'" in str(info.value)


def test_simulation_uses_the_measured_available_water(textures):
    from irrigation.io.soil_tables import read_species
    from irrigation.soil import simulate_sites

    ds = sites(awc_mm_per_m=[200.0, np.nan])
    for name, value in (("kind", "young_tree"), ("species", "Tilia cordata"),
                        ("sealing", "open")):
        ds[name] = ("site", [value] * 2)
    ds["area_m2"] = ("site", [4.0, 4.0])
    ds["pit_capacity_l"] = ("site", [np.nan, np.nan])
    ds["planting_year"] = ("site", [2022, 2022])
    time = pd.date_range("2024-07-01", periods=3)
    et0 = xr.DataArray(np.full(3, 4.0), dims="time", coords={"time": time})
    out = simulate_sites(ds, et0, et0 * 0, textures=textures, species=read_species())
    taw = out["taw_mm"].isel(time=0, member=0).values
    assert taw[0] == pytest.approx(200.0 * 0.6)
    assert taw[1] == pytest.approx(textures.loc["sandy_loam", "theta_fc"] * 600
                                   - textures.loc["sandy_loam", "theta_wp"] * 600, rel=1e-3)
