"""The day engine's groundwater steps: the fallbacks a non-converging model takes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import irrigation
from irrigation import day as engine
from irrigation.errors import ConvergenceError
from irrigation.groundwater.load import load_simulation
from irrigation.io.soil_tables import read_soil_textures
from irrigation.soil import simulate_sites


@pytest.fixture(scope="module")
def pm():
    city = irrigation.demo_city()
    return irrigation.PlanningModel.build(city, load_simulation(city.config.groundwater.sim_dir),
                                          read_soil_textures(), city.species)


def _diverge(*args, **kwargs):
    raise ConvergenceError("no convergence (test)")


def test_steady_state_falls_back_to_the_starting_heads(pm, monkeypatch):
    monkeypatch.setattr(engine, "solve_model", _diverge)
    run = engine.steady_state(pm)
    assert not run.converged and "starting heads" in run.warning
    strt = pm.groundwater.strt
    ok = np.abs(strt) < 1e29
    np.testing.assert_array_equal(run.heads_m[0][ok], strt[ok])


def test_groundwater_step_holds_the_heads_and_says_so(pm, monkeypatch):
    heads = engine.steady_heads(pm)
    monkeypatch.setattr(engine, "solve_model", _diverge)
    rch = np.zeros((3, *heads.shape[1:]))
    run = engine.groundwater_step(pm, heads, rch, start=np.datetime64("2018-07-02"))
    assert run.heads_m.shape == (3, *heads.shape)
    np.testing.assert_array_equal(run.heads_m[2], heads)
    assert "2018-07-02..2018-07-05" in run.warning and "held" in run.warning


def test_morning_heads_are_today_then_each_day_but_the_last():
    today = np.zeros((1, 2, 2))
    ends = np.arange(1, 4)[:, None, None, None] * np.ones((3, 1, 2, 2))
    m = engine.morning_heads(today, ends)
    assert m.shape == (3, 1, 2, 2) and list(m[:, 0, 0, 0]) == [0, 1, 2]


def test_open_loop_at_the_probes_is_that_of_the_whole_city(pm):
    """The sensor stage simulates only the probes' sites; their theta is that of a run
    over every site of the city, taken at the probes."""
    city = pm.city
    rng = np.random.default_rng(8)
    time = np.arange(np.datetime64("2018-06-01"), np.datetime64("2018-06-21"))
    et0 = xr.DataArray(rng.uniform(2, 6, time.size), dims="time", coords={"time": time})
    precip = xr.DataArray(rng.exponential(1.5, time.size), dims="time", coords={"time": time})
    sites = city.sites["site"].values
    water = xr.DataArray(np.where(rng.random((time.size, sites.size)) < 0.05, 200.0, 0.0),
                         dims=("time", "site"), coords={"time": time, "site": sites})
    dtw = pm.depth_to_water_m(engine.steady_heads(pm)).isel(time=0)
    got = engine.open_loop_theta(pm, et0, precip, water, dtw)
    whole = simulate_sites(city.sites, et0, precip, irrigation_l=water, depth_to_water_m=dtw,
                           textures=pm.textures, species=pm.species, soil=pm.soil)
    want = whole["theta"].isel(member=0).sel(site=city.sensors["site"].values)
    assert got.dims == ("sensor", "time") and got.sizes["sensor"] == city.sensors.sizes["sensor"]
    assert city.sensors.sizes["sensor"] > 0 and np.unique(city.sensors["site"]).size < sites.size
    np.testing.assert_array_equal(got.values, want.transpose("site", "time").values)
    np.testing.assert_array_equal(got["sensor"].values, city.sensors["sensor"].values)


@pytest.mark.parametrize("with_nan,cap_l", [(False, None), (True, 20_000.0)])
def test_decide_day_is_the_decide_steps_composed(pm, with_nan, cap_l):
    """decide_day (the fixed-system zones of the model, the deferred sites' x, y by
    position, the median without NaN passes) equals the public decide steps composed."""
    import dataclasses

    from irrigation.decide import demand, fixed_system_plan, todays_candidates

    cfg = pm.city.config
    cfg = dataclasses.replace(cfg, decide=dataclasses.replace(cfg.decide,
                                                              max_litres_per_day=cap_l))
    pm = dataclasses.replace(pm, city=dataclasses.replace(pm.city, config=cfg))
    s, rules = pm.city.sites, pm.city.config.decide
    n = s.sizes["site"]
    rng = np.random.default_rng(5)
    dr = np.cumsum(rng.uniform(0.0, 6.0, (6, n, 5)), axis=0) + rng.uniform(0, 60, (n, 1))
    if with_nan:
        dr[0, :7, 2] = np.nan
    thr = rng.uniform(20.0, 60.0, n)
    fc = xr.Dataset({"dr_mm": (("time", "site", "member"), dr),
                     "threshold_mm": ("site", thr)},
                    coords={"site": s["site"].values, "x": ("site", s["x"].values)})
    day = np.datetime64("2018-07-02")
    d = engine.decide_day(pm, day, fc)
    dem = demand(fc["dr_mm"].reset_coords(drop=True),
                 fc["threshold_mm"].reset_coords(drop=True), s, rules)
    visits, deferred = todays_candidates(dem, s, pm.city.config.fleet, day, rules)
    xy = pd.DataFrame({"x": s["x"].values, "y": s["y"].values},
                      index=pd.Index(s["site"].values, name="site"))
    xr.testing.assert_identical(d.demand, dem)
    pd.testing.assert_frame_equal(d.visits, visits)
    pd.testing.assert_frame_equal(d.deferred, deferred.join(xy, on="site"))
    again = engine.decide_day(pm, day, fc).deferred  # a second call: an equal, new table
    pd.testing.assert_frame_equal(again, deferred.join(xy, on="site"))
    assert again is not d.deferred
    pd.testing.assert_frame_equal(d.fixed, fixed_system_plan(dem, s, rules))
    assert len(d.visits) and len(d.fixed) and bool(len(d.deferred)) == (cap_l is not None)


def test_assimilate_gives_the_analysis_variables(pm):
    """assimilate of a state over the sites alone builds analysis' dr_mm and var_mm2
    without its dataset: the same arrays."""
    from irrigation.sensors import analysis, probe_correlation

    rules = pm.city.config.assimilation
    sens = pm.city.sensors
    rng = np.random.default_rng(2)
    state = engine.SoilState.at_field_capacity(pm, np.datetime64("2018-07-02"),
                                               engine.NO_MODEL_HEADS)
    state = engine.SoilState(state.day, state.dr_mm.copy(data=rng.uniform(0, 40, state.dr_mm.size)),
                             state.var_mm2, state.heads_m)
    n = sens.sizes["sensor"]
    obs = xr.Dataset({"dr_obs_mm": ("sensor", rng.uniform(0, 60, n)),
                      "var_obs_mm2": ("sensor", rng.uniform(1, 20, n)),
                      "censored": ("sensor", rng.random(n) < 0.3),
                      "site": ("sensor", sens["site"].values)},
                     coords={"sensor": sens["sensor"].values})
    obs["dr_obs_mm"][:3] = np.nan
    rho = probe_correlation(pm.city.sites, sens, rules)
    got, n_obs = engine.assimilate(pm, state, obs, rho)
    a = analysis(state.dr_mm, state.var_mm2, obs, pm.city.sites, pm.taw_mm, rules, rho)
    xr.testing.assert_identical(got.dr_mm, a["dr_mm"])
    xr.testing.assert_identical(got.var_mm2, a["var_mm2"])
    assert n_obs == a.attrs["n_obs"] > 0


def test_forecast_coordinates_are_those_of_the_values(pm):
    """forecast's coordinates (the sites' index and variables shared, time and member
    indexes built directly) are those the bare values make; with ``decide_only`` it is
    the forecast's ``dr_mm`` and ``threshold_mm`` over its dimension coordinates."""
    day = np.datetime64("2018-07-02")
    time = np.arange(day, day + 5).astype("datetime64[ns]")
    rng = np.random.default_rng(4)
    w = xr.Dataset({"precip_mm": (("time", "member"), rng.uniform(0, 3, (5, 4)))},
                   coords={"time": time, "member": np.arange(4)})
    et0 = xr.DataArray(rng.uniform(2, 5, (5, 4)), dims=("time", "member"), coords=w.coords)
    heads = engine.steady_heads(pm)
    state = engine.SoilState.at_field_capacity(pm, day, heads)
    fc = engine.forecast(pm, engine.forecast_ensemble(pm, state, w, et0_mm=et0), heads)
    s = pm.city.sites
    want = xr.Coordinates({"time": time, "site": s["site"].values, "member": np.arange(4),
                           "x": ("site", s["x"].values), "y": ("site", s["y"].values),
                           **{k: ("site", s[k].values) for k in ("kind", "priority",
                                                                 "soil_texture",
                                                                 "planting_year")}})
    xr.testing.assert_identical(fc.coords.to_dataset(), want.to_dataset())
    assert list(fc.coords) == list(want)
    part = engine.forecast(pm, engine.forecast_ensemble(pm, state, w, et0_mm=et0), heads,
                           decide_only=True)
    xr.testing.assert_identical(part, fc[["dr_mm", "threshold_mm"]].reset_coords(drop=True))


def test_head_values_are_the_heads_datasets(pm):
    """groundwater_step's heads (head_values) and heads_dataset's ``head``: the solver's
    heads with NaN where MF6 flags a cell dry (HDRY) or inactive (HNOFLO)."""
    from irrigation.groundwater.model import HDRY, HNOFLO
    from irrigation.groundwater.output import head_values, heads_dataset
    from irrigation.groundwater.result import SolveResult

    m = pm.groundwater
    heads = np.random.default_rng(1).uniform(0, 10, (2, *m.shape))
    heads[0, 0, :2] = HDRY
    heads[1, -1, -3:] = HNOFLO
    result = SolveResult(heads, np.array([1.0, 2.0]), [(0, 0), (0, 1)], [], [1, 1])
    want = heads.copy()  # the flagged cells NaN, every other head as it is
    want[0, 0, :2] = np.nan
    want[1, -1, -3:] = np.nan
    got = head_values(result)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(heads_dataset(m, result)["head"].values, want)


def test_spinup_periods_keep_the_water_and_the_days():
    """7-day periods of a 17-day spin-up: 7 + 7 + 3 days, each the mean of its days; the
    recharge times the period lengths is the daily recharge's sum."""
    from irrigation.day import spinup_periods

    rch = np.random.default_rng(3).uniform(0, 4, (17, 2, 3))
    mean, days = spinup_periods(rch, 7)
    assert days.tolist() == [7.0, 7.0, 3.0]
    np.testing.assert_allclose(mean[2], rch[14:].mean(0))
    np.testing.assert_allclose((mean * days[:, None, None]).sum(0), rch.sum(0))
    same, ones = spinup_periods(rch, 1)
    np.testing.assert_array_equal(same, rch)
    assert (ones == 1).all()
