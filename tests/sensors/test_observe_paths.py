"""The array paths of the observation operator give what the public functions composed
give: :func:`daily_observations` against window means, bounds and
:func:`root_zone_depletion` on DataArrays."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from irrigation.io.city import load_city
from irrigation.io.soil_tables import read_soil_textures, read_species
from irrigation.sensors import (
    daily_observations,
    morning_observations,
    probe_hydraulics,
    range_check,
    range_flags,
    root_zone_depletion,
    window_bounds,
    window_means,
)
from irrigation.soil import van_genuchten_theta
from irrigation.truth import draw_probes, draw_world

DAYS = np.arange(np.datetime64("2018-06-01"), np.datetime64("2018-06-04"))


@pytest.fixture(scope="module")
def city(demo_city_dir):
    return load_city(demo_city_dir)


@pytest.fixture(scope="module")
def world(city):
    return draw_world(city.sites, read_soil_textures(), read_species(),
                      np.random.default_rng(3), time=DAYS)


@pytest.fixture(scope="module")
def probes(city, world):
    return draw_probes(world, city.sensors, np.random.default_rng(1))


@pytest.fixture(scope="module")
def readings(city, world, probes):
    """Three days of readings from wet to dry past the loggers' range (some censored)."""
    state, days = None, []
    for k, psi in enumerate((20.0, 150.0, 900.0)):
        th = van_genuchten_theta(psi, *(v.T for v in world.vg))
        state = probes.initial_state(th) if state is None else state
        values, state = probes.readings_of_day(th, state, np.random.default_rng(k))
        days.append(values)
    r = range_check(probes.dataset(np.concatenate(days, axis=-1), DAYS[0]), city.config.qc)
    assert (r["qc_flags"].values > 0).any()
    return r


def composed(readings, days, sensors, hyd, rules) -> xr.Dataset:
    means = window_means(readings, days, rules.window_hours)
    bounds = window_bounds(readings, days, rules.window_hours)
    censored = bounds.notnull()
    obs = root_zone_depletion(means.where(~censored, bounds), readings["quantity"], hyd,
                              rules, censored)
    obs["site"] = sensors["site"]
    return obs


@pytest.mark.parametrize("days", [DAYS[1:], DAYS[2:], DAYS + 1])
def test_daily_observations_equal_the_composed_operator(city, readings, days):
    hyd = probe_hydraulics(city.sensors, city.sites, read_soil_textures())
    rules = city.config.assimilation
    got = daily_observations(readings, days, city.sensors, hyd, rules)
    xr.testing.assert_identical(got, composed(readings, days, city.sensors, hyd, rules))
    assert got["censored"].values[:, -1].any() == (days[-1] == DAYS[-1] + 1)  # dry day
    some = city.sensors.isel(sensor=slice(None, None, -1))  # another order: aligned
    xr.testing.assert_identical(daily_observations(readings, days, some, hyd, rules),
                                composed(readings, days, some, hyd, rules))


def test_range_flags_in_the_probes_dataset_are_range_check(city, probes, readings):
    """The season's readings: the flags of range_flags put into the probes' dataset in
    one construction equal range_check of that dataset."""
    values = readings["value"].values
    flags, valid = range_flags(values, probes.quantity, city.config.qc)
    xr.testing.assert_identical(probes.dataset(values, DAYS[0], qc_flags=flags, valid=valid),
                                readings)


@pytest.mark.parametrize("day", [*DAYS[1:], DAYS[-1] + 1])
def test_morning_observations_are_that_day_of_daily_observations(city, readings, day):
    hyd = probe_hydraulics(city.sensors, city.sites, read_soil_textures())
    rules = city.config.assimilation
    for sensors in (city.sensors, city.sensors.isel(sensor=slice(None, None, -1))):
        want = daily_observations(readings, np.array([day]), sensors, hyd, rules)
        xr.testing.assert_identical(morning_observations(readings, day, sensors, hyd, rules),
                                    want.isel(time=0))


def test_probes_dataset_is_the_dataset_of_the_values(probes, readings):
    """ProbeModel.dataset (channel coordinates kept, the hours' index built directly)
    is the dataset the values make."""
    values = readings["value"].values
    time = (DAYS[0].astype("datetime64[h]") + np.arange(values.shape[-1]).astype(
        "timedelta64[h]")).astype("datetime64[ns]")
    want = xr.Dataset(
        {"value": (("sensor", "depth", "time"), values,
                   {"units": "kPa or m3 m-3 (see quantity)"})},
        coords={"sensor": probes.sensor, "depth": ("depth", probes.depth_cm, {"units": "cm"}),
                "time": ("time", time, {"timezone": "UTC"}),
                "quantity": ("sensor", probes.quantity)})
    for _ in range(2):  # the kept coordinates are not changed by a dataset
        got = probes.dataset(values, DAYS[0])
        xr.testing.assert_identical(got, want)
        assert list(got.coords) == list(want.coords)
        assert all(type(got.variables[k]) is type(want.variables[k]) for k in want.variables)
