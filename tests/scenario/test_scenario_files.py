"""Scenario files: the shipped ones load, every kind of mistake names the file and the key
(or the missing file), the weather perturbation does exactly what it says, and no mutation
of a valid file gets past the loader as anything but an InputError."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import tempfile
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tomli_w
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from irrigation.config import load_city_config
from irrigation.errors import InputError
from irrigation.io.weather import read_weather_csv
from irrigation.scenario import (
    POLICIES,
    DrySpell,
    FixedIntervalPolicy,
    ForecastPolicy,
    ForecastQuality,
    HeatWave,
    Perturbation,
    SensorThresholdPolicy,
    apply_fleet_change,
    load_scenario,
    perturb_weather,
    scenario_to_toml,
    scenario_weather,
)
from irrigation.weather import EnsembleErrorParams, validate_weather

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
DEMO = ROOT / "models" / "demo-city"
SHIPPED = sorted(SCENARIOS.glob("*.toml"))
BASELINE = SCENARIOS / "baseline-2018.toml"
SEASON = (dt.date(2018, 5, 1), dt.date(2018, 9, 30))


# --------------------------------------------------------------------------- helpers


def _scenario(tmp_path: Path, *edits: tuple[str, str], src: Path = BASELINE) -> Path:
    """A copy of a shipped scenario in ``tmp_path`` (city path absolute), edited."""
    text = src.read_text().replace('city = "../models/demo-city"', f'city = "{DEMO}"')
    for old, new in edits:
        assert old in text, f"test setup: {old!r} not in the scenario"
        text = text.replace(old, new, 1)
    path = tmp_path / "scenario.toml"
    path.write_text(text)
    return path


def _error(path: Path) -> InputError:
    with pytest.raises(InputError) as info:
        load_scenario(path)
    return info.value


@pytest.fixture(scope="module")
def demo_weather() -> xr.Dataset:
    return read_weather_csv(DEMO / "weather" / "observed.csv", wind_height_m=10.0)


def _season_mask(ds: xr.Dataset, first=SEASON[0], last=SEASON[1]) -> np.ndarray:
    t = pd.DatetimeIndex(ds.time.values)
    return np.asarray((t >= pd.Timestamp(first)) & (t <= pd.Timestamp(last)))


def _days(ds: xr.Dataset, start: dt.date, days: int) -> np.ndarray:
    return _season_mask(ds, start, start + dt.timedelta(days=days - 1))


# --------------------------------------------------------------------------- shipped files


def test_the_five_scenarios_of_issue_8_are_shipped():
    names = {p.stem for p in SHIPPED}
    assert {"baseline-2018", "dry-2018-minus30pct-rain", "heatwave-plus2C", "low-groundwater",
            "small-fleet"} <= names


ISSUE8 = [p for p in SHIPPED if not p.stem.startswith("policy-front")]
FRONTS = [p for p in SHIPPED if p.stem.startswith("policy-front")]


@pytest.mark.parametrize("path", FRONTS, ids=[p.stem for p in FRONTS])
def test_policy_front_scenarios_compare_like_with_like(path):
    """The planners' comparison: nobody watering, several rotations (the front) and the
    forecast policy on young trees only, 20 members, 2018 and a season of median rain."""
    scn = load_scenario(path)
    year = int(path.stem[-4:])
    assert (scn.season.start, scn.season.end) == (dt.date(year, 5, 1), dt.date(year, 9, 30))
    types = [p.type for p in scn.policies]
    assert types[0] == "none" and types.count("fixed-interval") >= 4
    assert types.count("forecast") >= 2
    for p in scn.policies:
        if p.type == "forecast":
            assert p.kinds == ("young_tree",)
        if p.type == "fixed-interval":
            assert p.kinds == ("young_tree",)
    assert any(p.type == "fixed-interval" and p.rain_skip_mm for p in scn.policies)
    assert scn.members == 20 and scn.routing.mode == "estimate"


@pytest.mark.parametrize("path", ISSUE8, ids=[p.stem for p in ISSUE8])
def test_shipped_scenario_loads(path):
    scn = load_scenario(path)
    assert scn.name == path.stem
    assert scn.description
    assert scn.city == DEMO.resolve() and (scn.city / "city.toml").is_file()
    assert (scn.season.start, scn.season.end) == SEASON
    assert scn.season.first_day == dt.date(2018, 4, 1)
    assert [p.name for p in scn.policies] == ["fixed-interval", "sensor-threshold", "forecast"]
    fixed = scn.policy("fixed-interval")
    assert (fixed.interval_days, fixed.litres, fixed.kinds) == (7, 100.0, ("young_tree",))
    assert scn.policy("sensor-threshold").tension_kpa == 80.0
    assert (scn.members, scn.seed) == (10, 2018)
    assert scn.forecast.members == 20 and scn.forecast.horizon_days == 14
    assert scn.execution_rate == 1.0


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_scenario_round_trips_through_toml(path, tmp_path):
    scn = load_scenario(path)
    again = tmp_path / "again.toml"
    again.write_text(scenario_to_toml(scn))
    assert load_scenario(again) == scn


def test_shipped_scenarios_differ_from_the_baseline_as_named():
    base = load_scenario(BASELINE)
    assert base.perturb.is_identity and base.groundwater.head_offset_m == 0.0
    assert base.fleet.changes == ()

    def only(name: str, **changed) -> None:
        scn = load_scenario(SCENARIOS / f"{name}.toml")
        same = dataclasses.replace(scn, name=base.name, description=base.description,
                                   **{k: getattr(base, k) for k in changed})
        assert same == base, f"{name} differs from the baseline in more than {set(changed)}"
        for key, value in changed.items():
            assert getattr(scn, key) == value

    only("dry-2018-minus30pct-rain", perturb=Perturbation(precip_factor=0.7))
    only("heatwave-plus2C", perturb=Perturbation(
        temp_delta_c=2.0, heat_waves=(HeatWave(dt.date(2018, 7, 20), 10, 4.0),)))
    low = load_scenario(SCENARIOS / "low-groundwater.toml")
    only("low-groundwater", groundwater=low.groundwater)
    assert low.groundwater.head_offset_m == -1.5
    small = load_scenario(SCENARIOS / "small-fleet.toml")
    only("small-fleet", fleet=small.fleet)
    city_fleet = load_city_config(DEMO).fleet
    fleet = apply_fleet_change(city_fleet, small.fleet)
    assert sum(v.count for v in fleet) == sum(v.count for v in city_fleet) - 1


def test_heatwave_scenario_weather(demo_weather):
    scn = load_scenario(SCENARIOS / "heatwave-plus2C.toml")
    w = scenario_weather(scn)
    t = pd.DatetimeIndex(w.time.values)
    assert t[0] == pd.Timestamp("2018-04-01")
    assert t[-1] == pd.Timestamp("2018-10-14")  # season end + 14-day horizon
    base = demo_weather.sel(time=w.time)
    wave = _days(w, dt.date(2018, 7, 20), 10)
    assert wave.sum() == 10
    np.testing.assert_array_equal(w.tmax_c.values[wave], base.tmax_c.values[wave] + 6.0)
    np.testing.assert_array_equal(w.tmax_c.values[~wave], base.tmax_c.values[~wave] + 2.0)
    np.testing.assert_array_equal(w.precip_mm.values, base.precip_mm.values)
    validate_weather(w)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(("edit", "field", "words"), [
    (('name = "baseline-2018"', 'name = "baseline-2018"\ncolour = "red"'), "colour",
     "known key"),
    (("[weather]", '[weather]\nbse = "city"'), "weather.bse", "did you mean 'base'"),
    (("[season]", "[season]\nstrat = 2018-05-01"), "season.strat", "did you mean 'start'"),
    (("[weather]", "[perturb]\nprecip_factr = 0.7\n\n[weather]"), "perturb.precip_factr",
     "did you mean 'precip_factor'"),
    (("interval_days = 7", "interval = 7"), "policies.fixed-interval.interval",
     "did you mean 'interval_days'"),
    (("[policies.forecast]", "[policies.forecast]\nsensor = false"),
     "policies.forecast.sensor", "did you mean 'sensors'"),
    (("[weather]", "[[perturb.heat_waves]]\nstart = 2018-07-20\ndays = 10\ndelta = 4.0\n\n"
      "[weather]"), "perturb.heat_waves[0].delta", "did you mean 'delta_c'"),
])
def test_unknown_key_names_key_and_file(tmp_path, edit, field, words):
    path = _scenario(tmp_path, edit)
    err = _error(path)
    assert err.field == field
    assert err.file == str(path)
    assert str(path) in str(err) and f"'{field}'" in str(err) and words in str(err)


@pytest.mark.parametrize(("edit", "field", "words"), [
    (("end = 2018-09-30", "end = 2018-04-15"), "season.end", "after start"),
    (("end = 2018-09-30", "end = 2018-05-01"), "season.end", "after start"),
    (("spinup_start = 2018-04-01", "spinup_start = 2018-05-02"), "season.spinup_start",
     "before start"),
    (("start = 2018-05-01", 'start = "first of May"'), "season.start", "YYYY-MM-DD"),
    (("[weather]", "[[perturb.dry_spells]]\nstart = 2018-04-20\ndays = 5\n\n[weather]"),
     "perturb.dry_spells[0].start", "inside the season"),
    (("[weather]", "[[perturb.heat_waves]]\nstart = 2018-09-25\ndays = 10\ndelta_c = 4.0\n\n"
      "[weather]"), "perturb.heat_waves[0].days", "inside the season"),
    (("[weather]", "[[perturb.dry_spells]]\nstart = 2018-06-01\ndays = 0\n\n[weather]"),
     "perturb.dry_spells[0].days", "1..366"),
    (("[weather]", "[perturb]\nprecip_factor = -0.5\n\n[weather]"), "perturb.precip_factor",
     "[0, 5]"),
    (("[weather]", '[perturb]\nprecip_factor = "lots"\n\n[weather]'), "perturb.precip_factor",
     "a number"),
    (("[weather]", "[perturb]\ntemp_delta_c = nan\n\n[weather]"), "perturb.temp_delta_c",
     "a finite number, got nan"),
    (("members = 10", "members = 0"), "members", "1..1000"),
    (("members = 20", "members = 1001"), "forecast.members", "1..1000"),
    (("seed = 2018", "seed = -1"), "seed", "[0, 2**63 - 1]"),
    (("seed = 2018", "seed = [1, 2]"), "seed", "whole number"),
    (("execution_rate = 1.0", "execution_rate = 1.2"), "execution_rate", "(0, 1]"),
    (('name = "baseline-2018"', 'name = "my scenario/1"'), "name", "folder name"),
    (('quality = "growing"', 'quality = "good"'), "forecast.quality", "'perfect', 'growing'"),
    (('quality = "growing"', 'quality = "perfect"\nerror_scale = 2.0'), "forecast.error_scale",
     "'growing'"),
    (('kinds = ["young_tree"]', 'kinds = ["oak"]'), "policies.fixed-interval.kinds",
     "site kinds"),
    (("interval_days = 7", "interval_days = 7\nstart = 2018-04-15"),
     "policies.fixed-interval.start", "inside the season"),
    (("tension_kpa = 80.0", "tension_kpa = 300.0"), "policies.sensor-threshold.tension_kpa",
     "(0, 239)"),
    (('lookalike = ["kind", "species", "soil_texture"]', 'lookalike = ["colour"]'),
     "policies.sensor-threshold.lookalike", "attributes"),
    (("[policies.forecast]", "[policies.forecast]\ndue_probability = 0"),
     "policies.forecast.due_probability", "(0, 1]"),
    (("[weather]", '[fleet]\nchanges = [{ vehicle = "tanker-9000", count_delta = -1 }]\n\n'
      "[weather]"), "fleet.changes[0].vehicle", "tanker-5000"),
    (("[weather]", '[fleet]\nchanges = [{ vehicle = "tanker-5000", count_delta = -3 }]\n\n'
      "[weather]"), "fleet.changes[0].count_delta", "leaves -1 trucks"),
    (("[weather]", '[fleet]\nchanges = [{ vehicle = "tanker-5000", count = 0 }, '
      '{ vehicle = "pickup-2000", count = 0 }]\n\n[weather]'), "fleet.changes", "no truck"),
    (("[weather]", "[budget]\ncap_m3_per_day = -5\n\n[weather]"), "budget.cap_m3_per_day",
     "> 0"),
    (("[weather]", "[groundwater]\nhead_offset_m = -100.0\n\n[weather]"),
     "groundwater.head_offset_m", "[-20, 20]"),
    (('base = "city"', 'base = "city"\nwind_height_m = 10.0'), "weather.wind_height_m",
     "base = 'city'"),
    (("members = 10", "members = 99999999999999999999999"), "members", "64 bits"),
])
def test_bad_value_names_field_and_file(tmp_path, edit, field, words):
    path = _scenario(tmp_path, edit)
    err = _error(path)
    assert (err.field, err.file) == (field, str(path))
    assert words in str(err), str(err)


def test_unknown_policy_lists_the_valid_ones(tmp_path):
    err = _error(_scenario(tmp_path, ("[policies.forecast]", "[policies.forcast]")))
    assert err.field == "policies.forcast"
    assert "did you mean 'forecast'" in str(err)
    assert all(name in str(err) for name in POLICIES)


def test_no_policies_is_an_error(tmp_path):
    text = _scenario(tmp_path).read_text()
    path = tmp_path / "scenario.toml"
    path.write_text(text[: text.index("[policies.fixed-interval]")])
    err = _error(path)
    assert err.field == "policies" and "fixed-interval" in str(err)


@pytest.mark.parametrize(("edit", "field", "days"), [
    (("start = 2018-05-01\nend = 2018-09-30", "start = 2020-05-01\nend = 2020-09-30"),
     "season.start", "2020-05-01"),
    (("end = 2018-09-30", "end = 2020-01-15"), "season.end", "2020-01-15"),
    (("spinup_start = 2018-04-01", "spinup_start = 2016-12-01"), "season.spinup_start",
     "2016-12-01"),
])
def test_season_outside_the_base_weather(tmp_path, edit, field, days):
    err = _error(_scenario(tmp_path, edit))
    assert err.field == field
    assert days in str(err)
    assert "observed.csv" in str(err) and "2017-01-01..2019-12-31" in str(err)


def test_season_outside_a_knmi_base_file(tmp_path):
    knmi = DEMO / "weather" / "knmi_260_2017-2019.txt"
    ok = load_scenario(_scenario(tmp_path, ('base = "city"', f'base = "{knmi}"')))
    assert ok.weather.base == str(knmi.resolve())
    err = _error(_scenario(tmp_path, ('base = "city"', f'base = "{knmi}"'),
                           ("end = 2018-09-30", "end = 2020-03-01")))
    assert err.field == "season.end" and knmi.name in str(err)


def test_missing_weather_file_names_the_file(tmp_path):
    path = _scenario(tmp_path, ('base = "city"', 'base = "weather/de-bilt-2018.csv"'))
    err = _error(path)
    assert err.field == "weather.base" and err.file == str(path)
    assert str(tmp_path / "weather" / "de-bilt-2018.csv") in str(err)
    assert "not found" in str(err)


def test_weather_file_of_unknown_type(tmp_path):
    (tmp_path / "weather.xlsx").write_text("")
    err = _error(_scenario(tmp_path, ('base = "city"', 'base = "weather.xlsx"')))
    assert err.field == "weather.base" and "weather.xlsx" in str(err) and ".csv" in str(err)


def test_relative_weather_file_is_resolved_against_the_scenario(tmp_path, demo_weather):
    (tmp_path / "w").mkdir()
    src = DEMO / "weather" / "observed.csv"
    (tmp_path / "w" / "mine.csv").write_text(src.read_text())
    scn = load_scenario(_scenario(tmp_path, ('base = "city"', 'base = "w/mine.csv"')))
    assert scn.weather.base == str((tmp_path / "w" / "mine.csv").resolve())
    w = scenario_weather(scn)  # the wind height is the city's (10 m), as for "city"
    xr.testing.assert_identical(w.wind_ms, demo_weather.wind_ms.sel(time=w.time))


def test_missing_city_folder_names_the_folder(tmp_path):
    src = BASELINE.read_text().replace('city = "../models/demo-city"',
                                       'city = "../models/no-such-city"')
    path = tmp_path / "scenario.toml"
    path.write_text(src)
    err = _error(path)
    assert err.field == "city" and err.file == str(path)
    assert "no-such-city" in str(err) and "not found" in str(err)


def test_city_folder_without_city_toml(tmp_path):
    (tmp_path / "empty-city").mkdir()
    err = _error(_scenario(tmp_path, (f'city = "{DEMO}"', 'city = "empty-city"')))
    assert err.field == "city" and "city.toml" in str(err)


def test_city_path_is_relative_to_the_scenario_file(tmp_path):
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    rel = Path("..", "..", *([".."] * len(tmp_path.parts)))  # back to "/"
    path = sub / "s.toml"
    path.write_text(BASELINE.read_text().replace('"../models/demo-city"',
                                                 f'"{(rel / DEMO.relative_to("/")).as_posix()}"'))
    assert load_scenario(path).city == DEMO.resolve()


def test_sensor_policy_needs_a_city_with_sensors(tmp_path, city_copy):
    toml = city_copy / "city.toml"
    toml.write_text(toml.read_text().replace('sensors = "sensors.csv"\n', ""))
    err = _error(_scenario(tmp_path, (f'city = "{DEMO}"', f'city = "{city_copy}"')))
    assert err.field == "policies.sensor-threshold" and "no sensors" in str(err)


def test_missing_and_broken_scenario_files(tmp_path):
    err = _error(tmp_path / "nope.toml")
    assert "nope.toml" in str(err) and "not found" in str(err)
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[season\n')
    assert "not valid TOML" in str(_error(bad))
    bad.write_bytes(b'name = "\xff\xfe"\n')
    assert "not valid TOML" in str(_error(bad))


# --------------------------------------------------------------------------- perturbation


def test_identity_perturbation_changes_nothing(demo_weather):
    out = perturb_weather(demo_weather, Perturbation(), season=SEASON)
    for name in demo_weather.data_vars:
        xr.testing.assert_identical(out[name], demo_weather[name])


def test_precipitation_factor_and_dry_spells_exact(demo_weather):
    spells = (DrySpell(dt.date(2018, 6, 10), 14), DrySpell(dt.date(2018, 9, 25), 6))
    p = Perturbation(precip_factor=0.7, dry_spells=spells)
    out = perturb_weather(demo_weather, p, season=SEASON)
    base = demo_weather.precip_mm.values
    new = out.precip_mm.values
    season = _season_mask(demo_weather)
    dry = _days(demo_weather, spells[0].start, 14) | _days(demo_weather, spells[1].start, 6)
    assert dry.sum() == 20 and (base[dry] > 0).any()  # the spells remove some rain
    assert (new[dry] == 0).all()
    np.testing.assert_array_equal(new[season & ~dry], base[season & ~dry] * 0.7)
    np.testing.assert_array_equal(new[~season], base[~season])
    assert new[season].sum() == pytest.approx(0.7 * base[season & ~dry].sum(), rel=1e-12)
    assert new.sum() == pytest.approx(base.sum() - base[season].sum()
                                      + 0.7 * base[season & ~dry].sum(), rel=1e-12)
    for name in demo_weather.data_vars:
        if name != "precip_mm":
            xr.testing.assert_identical(out[name], demo_weather[name])


def test_dry_spell_alone_keeps_every_other_day(demo_weather):
    spell = DrySpell(dt.date(2018, 5, 1), 1)
    out = perturb_weather(demo_weather, Perturbation(dry_spells=(spell,)), season=SEASON)
    changed = out.precip_mm.values != demo_weather.precip_mm.values
    day = _days(demo_weather, spell.start, 1)
    assert demo_weather.precip_mm.values[day][0] > 0  # it rained on 1 May 2018
    np.testing.assert_array_equal(changed, day)


def test_temperature_delta_and_heat_waves_exact(demo_weather):
    waves = (HeatWave(dt.date(2018, 7, 20), 10, 4.0), HeatWave(dt.date(2018, 7, 25), 3, 1.5))
    p = Perturbation(temp_delta_c=2.0, heat_waves=waves)
    out = perturb_weather(demo_weather, p, season=SEASON)
    season = _season_mask(demo_weather)
    w1 = _days(demo_weather, waves[0].start, 10)
    w2 = _days(demo_weather, waves[1].start, 3)
    expected_shift = np.where(season, 2.0, 0.0) + np.where(w1, 4.0, 0.0) + np.where(w2, 1.5, 0.0)
    assert set(np.unique(expected_shift)) == {0.0, 2.0, 6.0, 7.5}
    for name in ("tmin_c", "tmax_c", "tmean_c"):
        base = demo_weather[name].values
        np.testing.assert_array_equal(out[name].values, base + expected_shift)
        np.testing.assert_array_equal(out[name].values[~season], base[~season])
        assert out[name].attrs["units"] == "degC"
    for name in ("rh_mean_pct", "rh_min_pct", "rh_max_pct", "wind_ms", "rs_mj_m2_d",
                 "precip_mm"):
        xr.testing.assert_identical(out[name], demo_weather[name])
    # mean shift over the season: 2 degC on 153 days, +4 on 10, +1.5 on 3
    diff = (out.tmax_c - demo_weather.tmax_c).values[season]
    assert diff.sum() == pytest.approx(2.0 * 153 + 4.0 * 10 + 1.5 * 3)
    validate_weather(out)


def _with_dewpoint() -> xr.Dataset:
    time = pd.date_range("2018-07-01", periods=6, freq="D")
    tmin = np.array([10.0, 12.0, 14.0, 9.0, 11.0, 13.0])
    return xr.Dataset(
        {"tmin_c": ("time", tmin), "tmax_c": ("time", tmin + 10.0),
         "tdew_c": ("time", np.array([8.0, 12.0, 15.0, 5.0, 11.0, 20.0])),  # days 3, 6 > tmin
         "precip_mm": ("time", np.zeros(6)), "rs_mj_m2_d": ("time", np.full(6, 25.0))},
        coords={"time": time})


def test_dewpoint_shifts_and_stays_at_or_below_tmin():
    ds = _with_dewpoint()
    p = Perturbation(temp_delta_c=1.0, heat_waves=(HeatWave(dt.date(2018, 7, 2), 2, 3.0),))
    out = perturb_weather(ds, p, season=(dt.date(2018, 7, 1), dt.date(2018, 7, 5)))
    shift = np.array([1.0, 4.0, 4.0, 1.0, 1.0, 0.0])  # 6 July is outside the season
    np.testing.assert_array_equal(out.tmin_c.values, ds.tmin_c.values + shift)
    expected = np.minimum(ds.tdew_c.values + shift, ds.tmin_c.values + shift)
    expected[5] = ds.tdew_c.values[5]  # outside: untouched
    np.testing.assert_array_equal(out.tdew_c.values, expected)
    assert (out.tdew_c.values[:5] <= out.tmin_c.values[:5]).all()


def test_radiation_factor_exact_and_capped():
    ds = _with_dewpoint()
    ds["rs_mj_m2_d"] = ("time", np.array([10.0, 20.0, 30.0, 40.0, 44.0, 5.0]))
    out = perturb_weather(ds, Perturbation(radiation_factor=1.2),
                          season=(dt.date(2018, 7, 1), dt.date(2018, 7, 5)))
    np.testing.assert_array_equal(out.rs_mj_m2_d.values,
                                  [10.0 * 1.2, 20.0 * 1.2, 30.0 * 1.2, 45.0, 45.0, 5.0])
    with pytest.raises(ValueError, match="rs_mj_m2_d"):
        perturb_weather(ds.drop_vars("rs_mj_m2_d"), Perturbation(radiation_factor=0.9),
                        season=(dt.date(2018, 7, 1), dt.date(2018, 7, 5)))


def test_perturbation_does_not_change_the_input_and_records_itself(demo_weather):
    before = demo_weather.copy(deep=True)
    p = Perturbation(precip_factor=0.5, temp_delta_c=1.0, radiation_factor=0.9,
                     dry_spells=(DrySpell(dt.date(2018, 7, 1), 5),),
                     heat_waves=(HeatWave(dt.date(2018, 7, 20), 10, 4.0),))
    out = perturb_weather(demo_weather, p, season=SEASON)
    xr.testing.assert_identical(demo_weather, before)
    assert out.attrs["perturb_precip_factor"] == 0.5
    assert out.attrs["perturb_temp_delta_c"] == 1.0
    assert out.attrs["perturb_radiation_factor"] == 0.9
    assert out.attrs["perturb_dry_spells"] == "2018-07-01..2018-07-05"
    assert out.attrs["perturb_heat_waves"] == "2018-07-20..2018-07-29 +4 degC"
    assert out.attrs["perturb_season"] == "2018-05-01..2018-09-30"
    assert "precip x 0.5" in out.attrs["perturbation"]
    assert out.attrs["source"] == demo_weather.attrs["source"]
    again = perturb_weather(out, Perturbation(precip_factor=0.5), season=SEASON)
    assert again.attrs["perturbation"].count("precip x 0.5") == 2
    np.testing.assert_array_equal(again.precip_mm.values[_season_mask(out)],
                                  out.precip_mm.values[_season_mask(out)] * 0.5)


def test_window_then_perturb_equals_perturb_then_window(demo_weather):
    """A forecast issued inside a heat wave sees the same perturbed days as the truth."""
    p = Perturbation(precip_factor=0.7, temp_delta_c=2.0,
                     dry_spells=(DrySpell(dt.date(2018, 7, 15), 10),),
                     heat_waves=(HeatWave(dt.date(2018, 7, 20), 10, 4.0),))
    whole = perturb_weather(demo_weather, p, season=SEASON)
    window = slice("2018-07-24", "2018-08-06")  # 14 days cutting spell and heat wave
    part = perturb_weather(demo_weather.sel(time=window), p, season=SEASON)
    for name in demo_weather.data_vars:
        xr.testing.assert_identical(part[name], whole[name].sel(time=window))


def test_ensemble_members_are_perturbed_alike(demo_weather):
    det = demo_weather.sel(time=slice("2018-07-15", "2018-07-31"))
    ens = det.expand_dims(member=np.arange(3)).transpose("time", "member")
    p = Perturbation(precip_factor=0.7, temp_delta_c=2.0,
                     heat_waves=(HeatWave(dt.date(2018, 7, 20), 10, 4.0),))
    out = perturb_weather(ens, p, season=SEASON)
    ref = perturb_weather(det, p, season=SEASON)
    assert out.tmax_c.dims == ("time", "member")
    for m in range(3):
        for name in det.data_vars:
            np.testing.assert_array_equal(out[name].isel(member=m).values, ref[name].values)


def test_perturbation_rejects_a_reversed_season_and_missing_variables(demo_weather):
    with pytest.raises(ValueError, match="last >= first"):
        perturb_weather(demo_weather, Perturbation(), season=(SEASON[1], SEASON[0]))
    with pytest.raises(ValueError, match="precip_mm"):
        perturb_weather(demo_weather.drop_vars("precip_mm"), Perturbation(), season=SEASON)


# --------------------------------------------------------------------------- parts


def test_forecast_error_params():
    assert ForecastQuality(quality="perfect").error_params() is None
    default = EnsembleErrorParams()
    assert ForecastQuality().error_params() == default
    q = ForecastQuality(error_scale=2.0, temp_sd_c=0.5).error_params()
    assert q.temp_sd_c == 1.0 and q.temp_sd_growth_c_d == 2 * default.temp_sd_growth_c_d
    assert q.precip_log_sd == 2 * default.precip_log_sd
    assert q.p_false_dry == 2 * default.p_false_dry
    assert ForecastQuality(error_scale=5.0).error_params().p_false_wet <= 1.0
    assert ForecastQuality(error_scale=0.0).error_params().temp_sd_c == 0.0


def test_policy_defaults_are_the_issue_examples():
    assert (FixedIntervalPolicy().interval_days, FixedIntervalPolicy().litres) == (7, 100.0)
    assert FixedIntervalPolicy().kinds == ("young_tree",)
    assert SensorThresholdPolicy().tension_kpa == 80.0
    assert ForecastPolicy().due_probability is None  # the city's [decide] rules
    assert list(POLICIES) == ["none", "fixed-interval", "sensor-threshold", "forecast"]


# --------------------------------------------------------------------------- fuzzing

def _full_valid() -> dict:
    """A valid scenario that uses every table and list (the fuzzing's starting point)."""
    data = tomllib.loads(scenario_to_toml(load_scenario(SCENARIOS / "heatwave-plus2C.toml")))
    data["perturb"]["dry_spells"] = [{"start": dt.date(2018, 6, 1), "days": 10}]
    data["fleet"]["changes"] = [{"vehicle": "tanker-5000", "count_delta": -1}]
    data["budget"] = {"cap_m3_per_day": 40.0, "cap_m3_per_season": 3000.0}
    data["groundwater"]["max_pumping_m3_per_day"] = 300.0
    data["policies"]["fixed-interval"].update(start=dt.date(2018, 6, 1), end=dt.date(2018, 9, 15))
    data["policies"]["forecast"].update(due_probability=0.5, lead_days=1)
    return data


_VALID = _full_valid()


def _paths(table, prefix=()):
    """Every (path to a value) in the nested dict/list structure."""
    items = table.items() if isinstance(table, dict) else enumerate(table)
    for k, v in items:
        yield (*prefix, k)
        if isinstance(v, dict | list):
            yield from _paths(v, (*prefix, k))


_SCALARS = st.one_of(
    st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(), st.text(max_size=12),
    st.dates(), st.sampled_from(["city", "2018-05-01", "young_tree", "fixed-interval", "",
                                 "../models/demo-city", "/", "."]),
    st.datetimes(), st.times())
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6)
_KEYS = st.one_of(st.text(max_size=10), st.sampled_from(
    ["start", "end", "days", "delta_c", "policies", "forecast", "kinds", "perturb", "base",
     "dry_spells", "heat_waves", "count", "count_delta", "vehicle", "members", "seed", "routing"]))


def _mutate_dict(data, op: str, where: tuple, key: str, value) -> None:
    parent = data
    for k in where[:-1]:
        parent = parent[k]
    last = where[-1]
    if op == "delete":
        del parent[last]
    elif op == "replace":
        parent[last] = value
    elif isinstance(parent[last], dict):  # "add" a key to a table
        parent[last][key] = value
    else:
        parent[last] = {key: value}


@st.composite
def _mutated_text(draw) -> str:
    import copy

    data = copy.deepcopy(_VALID)
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(data))
        if not paths:
            break
        _mutate_dict(data, draw(st.sampled_from(["delete", "replace", "add"])),
                     draw(st.sampled_from(paths)), draw(_KEYS), draw(_VALUES))
    try:
        text = tomli_w.dumps(data)
    except (TypeError, ValueError):  # a value TOML cannot hold (e.g. list of mixed tables)
        text = tomli_w.dumps(_VALID)
    if draw(st.booleans()):  # and a textual edit: cut or insert characters
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 20)))
        text = text[:i] + draw(st.text(max_size=8)) + text[j:]
    return text


def test_fuzzing_starts_from_a_valid_file(tmp_path):
    path = tmp_path / "valid.toml"
    path.write_text(tomli_w.dumps(_VALID))
    scn = load_scenario(path)
    assert scn.budget.cap_m3_per_day == 40.0 and scn.perturb.dry_spells


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated_text())
def test_mutated_scenarios_load_or_raise_input_error(floats_in, text):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mutant.toml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            scn = load_scenario(path)
        except InputError as exc:
            assert exc.file is not None  # every error names a file
            return
        assert scn.policies and scn.season.end > scn.season.start
        assert all(math.isfinite(v) for v in floats_in(scn))  # no inf or nan gets through


