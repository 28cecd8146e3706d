"""The truth world on the demo city: per-site draws with the documented spreads, the
season's mass balance, watering efficiency, run-on, leaf-out, the watering log's errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from irrigation.io.city import load_city
from irrigation.io.soil_tables import read_soil_textures, read_species
from irrigation.soil import site_hydraulics, van_genuchten_tension_kpa
from irrigation.truth import TruthParams, draw_world, leaf_factor, run_truth

DAYS = np.arange(np.datetime64("2018-03-01"), np.datetime64("2018-10-01"))


@pytest.fixture(scope="module")
def city(demo_city_dir):
    return load_city(demo_city_dir)


@pytest.fixture(scope="module")
def world(city):
    return draw_world(city.sites, read_soil_textures(), read_species(),
                      np.random.default_rng(7), time=DAYS)


@pytest.fixture(scope="module")
def season(world):
    """A season with random station weather and watering, water table at 1.5 m."""
    rng = np.random.default_rng(11)
    n = world.site.size
    et0 = rng.uniform(0.5, 6.0, DAYS.size)
    precip = np.where(rng.random(DAYS.size) < 0.3, rng.exponential(6.0, DAYS.size), 0.0)
    delivered = np.where(rng.random((DAYS.size, n)) < 0.1, rng.uniform(50, 300, (DAYS.size, n)),
                         0.0)
    start = world.initial_state(np.random.default_rng(3))
    end, run = run_truth(world, start, et0, precip, delivered, np.full(n, 1.5))
    return start, end, run, et0, precip, delivered


def test_soil_draws_have_the_fao56_table19_spreads(city, world):
    """Per site and layer: θWP and θFC - θWP scatter around the site's planner values with
    σ = FAO-56 Table 19 width / 4 (sandy loam: θWP 0.06-0.16, θFC - θWP 0.11-0.15)."""
    base = site_hydraulics(city.sites, read_soil_textures())
    sandy = city.sites["soil_texture"].values == "sandy_loam"
    wp = world.theta_wp[sandy]  # (site, 3)
    aw = world.theta_fc[sandy] - wp
    assert wp.size > 500
    assert np.std(wp - base["theta_wp"][sandy, None]) == pytest.approx(0.10 / 4, rel=0.12)
    assert np.std(aw - (base["theta_fc"] - base["theta_wp"])[sandy, None]) == pytest.approx(
        0.04 / 4, rel=0.12)
    assert abs(np.mean(aw - (base["theta_fc"] - base["theta_wp"])[sandy, None])) < 0.002


def test_draws_are_per_site_not_per_class(city, world):
    """Two sites of the same species, texture and kind differ in soil, K_L and roots."""
    s = city.sites
    key = pd.Series(list(zip(s["species"].values, s["soil_texture"].values,
                             s["kind"].values, s["sealing"].values, strict=True)))
    first = key[key.duplicated(keep="first")].iloc[0]
    a, b = key.index[key == first][:2]
    assert world.theta_fc[a, 0] != world.theta_fc[b, 0]
    assert world.k_l[a] != world.k_l[b]
    assert world.zr_m[a] / s["root_depth_m"].values[a] != world.zr_m[b] / s[
        "root_depth_m"].values[b]


def test_root_depth_spread(city, world):
    ratio = np.log(world.zr_m / city.sites["root_depth_m"].values.astype(float))
    assert np.std(ratio) == pytest.approx(TruthParams().root_sigma_ln, rel=0.1)
    assert abs(np.mean(ratio)) < 0.02


def test_layer_tension_is_van_genuchten_of_each_layer(world):
    th = world.initial_state(np.random.default_rng(2)).theta
    expect = van_genuchten_tension_kpa(th, *(v.T for v in world.vg))
    np.testing.assert_allclose(world.tension_kpa(th), expect, rtol=1e-10)


def test_layers_span_the_root_zone_and_below(world):
    bottom = world.layer_bottom_m
    np.testing.assert_allclose(bottom[:, 1], world.zr_m)
    np.testing.assert_allclose(bottom[:, 0], np.minimum(0.3, world.zr_m / 2))
    assert (bottom[:, 2] >= np.maximum(world.zr_m + 0.3, 1.0) - 1e-12).all()
    np.testing.assert_allclose(world.root_share.sum(0), 1.0)
    assert (world.root_share[2] == 0).all()


def test_mass_balance_of_a_season_closes(season, world):
    """Storage change = infiltration + CR - ET - DP each day, and the surface balance
    infiltration = precip - interception - runoff + run-on + watering, to rounding."""
    start, end, run, *_ = season
    dz = world.dz_mm.T  # (site, 3)
    storage = np.concatenate([(start.theta * dz).sum(1)[None],
                              (run["theta_layers"] * dz).sum(2)])
    d_storage = np.diff(storage, axis=0)
    soil = run["infiltration_mm"] + run["capillary_rise_mm"] - run["et_mm"] - run[
        "deep_percolation_mm"]
    assert np.abs(d_storage - soil).max() < 1e-9
    surface = (run["precip_mm"] - run["interception_mm"] - run["runoff_mm"] + run["runon_mm"]
               + run["irrigation_mm"])
    assert np.abs(surface - run["infiltration_mm"]).max() < 1e-9
    np.testing.assert_allclose(end.theta, run["theta_layers"][-1])
    assert (run["capillary_rise_mm"] > 0).any()  # the water table at 1.5 m feeds some


def test_watering_reaches_the_soil_times_efficiency(world):
    """A delivery within the pit capacity adds efficiency x litres / area [mm]."""
    n = world.site.size
    litres = np.where(np.isfinite(world.cap_l), np.minimum(world.cap_l, 100.0), 100.0)
    _, day = world.step(world.initial_state(np.random.default_rng(0)), 100, 0.0, 0.0,
                        litres, np.full(n, np.nan))
    np.testing.assert_allclose(day.irrigation_mm, world.efficiency * litres / world.area_m2)
    p = world.params
    assert p.efficiency_low <= world.efficiency.min() < world.efficiency.max() <= 1.0


def test_runon_only_into_sealed_pits_and_rain_spread(city, world):
    sealed = city.sites["sealing"].values != "open"
    assert (world.runon[~sealed] == 0).all()
    share = (world.runon[sealed] > 0).mean()
    assert share == pytest.approx(TruthParams().runon_share, abs=0.06)
    f = np.log(world.rain_day_factor)
    assert np.std(f) == pytest.approx(TruthParams().rain_day_sigma, rel=0.15)


def test_leaf_out_of_deciduous_trees_only(city, world):
    """FAO-56 Table 12 ratios: 0.45 / 0.95 before leaf-out, 1 in full leaf; lawns and
    shrubs keep the planner's K_L all season."""
    f0 = 0.45 / 0.95
    assert leaf_factor(60, 110.0, 295.0) == pytest.approx(f0)
    assert leaf_factor(110 + 20, 110.0, 295.0) == pytest.approx(f0 + (1 - f0) * 0.5)
    assert leaf_factor(200, 110.0, 295.0) == pytest.approx(1.0)
    assert leaf_factor(295 - 1e-9, 110.0, 295.0) == pytest.approx(0.70 / 0.95)
    assert leaf_factor(300, 110.0, 295.0) == pytest.approx(f0)
    kind = city.sites["kind"].values
    trees = np.char.find(kind.astype(str), "tree") >= 0
    assert world.deciduous[trees].all() and not world.deciduous[~trees].any()
    march = np.flatnonzero(DAYS == np.datetime64("2018-03-15"))[0]
    july = np.flatnonzero(DAYS == np.datetime64("2018-07-15"))[0]
    np.testing.assert_allclose(world.leaf[march, trees], f0)
    np.testing.assert_allclose(world.leaf[july], 1.0)
    np.testing.assert_allclose(world.leaf[:, ~trees], 1.0)


def test_initial_state_is_not_field_capacity(world):
    s = world.initial_state(np.random.default_rng(5))
    rel = (s.theta - world.theta_wp) / (world.theta_fc - world.theta_wp)
    lo, hi = TruthParams().initial_wetness
    assert rel.min() >= lo - 1e-9 and rel.max() <= hi + 1e-9
    assert np.std(rel) == pytest.approx((hi - lo) / np.sqrt(12), rel=0.1)


def test_watering_log_errs_as_documented(world):
    """Reported litres: lognormal error σ 0.1 rounded to 10 L, 3 % of visits unlogged,
    25 % of planned visits not done logged as done."""
    rng = np.random.default_rng(9)
    n = world.site.size
    reps = 40
    done = np.where(np.arange(n) % 2 == 0, 100.0, 0.0)
    logged = np.stack([world.logged_l(done, rng, planned_l=np.full(n, 100.0))
                       for _ in range(reps)])
    p = world.params
    visit = done > 0
    assert (logged[:, visit] == 0).mean() == pytest.approx(p.p_unlogged, abs=0.01)
    assert (logged[:, ~visit] > 0).mean() == pytest.approx(p.p_phantom, abs=0.02)
    reported = logged[:, visit][logged[:, visit] > 0]
    assert (reported % 10 == 0).all()
    assert np.std(np.log(reported / 100.0)) == pytest.approx(p.log_sigma_ln, rel=0.2)
    # the draws do not depend on the inputs: same generator state afterwards
    r1, r2 = np.random.default_rng(1), np.random.default_rng(1)
    world.logged_l(np.zeros(n), r1)
    world.logged_l(np.full(n, 80.0), r2, planned_l=np.full(n, 10.0))
    assert r1.random() == r2.random()


def test_same_seed_same_world_and_season(city):
    a, b = (draw_world(city.sites, read_soil_textures(), read_species(),
                       np.random.default_rng(42), time=DAYS[:10]) for _ in range(2))
    sa, sb = a.initial_state(np.random.default_rng(1)), b.initial_state(np.random.default_rng(1))
    n = a.site.size
    _, ra = run_truth(a, sa, np.full(10, 3.0), np.full(10, 1.0), np.zeros((10, n)),
                      np.full(n, 2.0))
    _, rb = run_truth(b, sb, np.full(10, 3.0), np.full(10, 1.0), np.zeros((10, n)),
                      np.full(n, 2.0))
    for k in ra:
        np.testing.assert_array_equal(ra[k], rb[k])


def test_day_outputs_agree_with_the_layers(season, world):
    """Dr from the root layers against the truth's own field capacity, TAW, Ks in [0, 1],
    the root-zone tension between its layers' tensions."""
    _, _, run, *_ = season
    theta = run["theta_layers"][-1]
    dz = world.dz_mm.T
    fc = world.theta_fc
    dr = np.maximum(((fc - theta) * dz)[:, :2].sum(1), 0.0)
    np.testing.assert_allclose(run["dr_mm"][-1], dr, atol=1e-9)
    assert (run["dr_mm"] <= world.taw_mm + 1e-9).all()
    assert ((run["ks"] >= 0) & (run["ks"] <= 1)).all()
    t = run["tension_layers_kpa"][-1][:, :2]
    assert (run["tension_kpa"][-1] >= t.min(1) - 1e-9).all()
    assert (run["tension_kpa"][-1] <= t.max(1) + 1e-9).all()
