"""Synthetic probes: channel geometry, the tension error model against closed forms, the
ceiling, the wet floor, water-content offsets, and one day at a time = a season."""

from __future__ import annotations

import numpy as np
import pytest

from irrigation.io.city import load_city
from irrigation.io.soil_tables import read_soil_textures, read_species
from irrigation.soil import van_genuchten_theta
from irrigation.truth import ProbeParams, draw_probes, draw_world, sensor_readings
from irrigation.truth.probes import channel_layers

DAYS = np.arange(np.datetime64("2018-06-01"), np.datetime64("2018-06-11"))
QUIET = ProbeParams(wet_floor_kpa=(0.0, 0.0), diurnal_rel=0.0, noise_rel=0.0, noise_kpa=0.0,
                    vwc_noise=0.0)


@pytest.fixture(scope="module")
def city(demo_city_dir):
    return load_city(demo_city_dir)


@pytest.fixture(scope="module")
def world(city):
    return draw_world(city.sites, read_soil_textures(), read_species(),
                      np.random.default_rng(3), time=DAYS)


def at_tension(world, psi_kpa):
    """Layer water contents with every layer of every site at ``psi_kpa`` (site, 3)."""
    return van_genuchten_theta(psi_kpa, *(v.T for v in world.vg))


def test_channel_layers_interpolate_between_layer_midpoints():
    bottom = np.array([[0.3, 0.6, 1.0]])  # mids 0.15, 0.45, 0.8
    lo, up, w = channel_layers(np.array([0.1, 0.3, 0.6, 0.9]), bottom)
    np.testing.assert_array_equal(lo[0], [0, 0, 1, 2])
    np.testing.assert_array_equal(up[0], [1, 1, 2, 2])
    np.testing.assert_allclose(w[0], [0.0, 0.5, 0.15 / 0.35, 0.0])


def test_tension_reading_is_the_biased_truth_in_integer_kpa(city, world):
    """Noise off: a channel in soil at 60 kPa reads round(60 exp(b)), b its bias."""
    probes = draw_probes(world, city.sensors, np.random.default_rng(1), QUIET)
    th = at_tension(world, 60.0)
    values, state = probes.readings_of_day(th, probes.initial_state(th),
                                           np.random.default_rng(2))
    t = probes.is_tension
    expect = np.clip(np.round(60.0 * np.exp(probes.bias_ln)), 0, 239)
    inst = probes.installed
    got = values[t][..., 5]
    np.testing.assert_array_equal(got[inst[t]], expect[t][inst[t]])
    np.testing.assert_allclose(state.tension_kpa, 60.0, rtol=1e-9)
    assert np.std(probes.bias_ln) == pytest.approx(ProbeParams().tension_bias_ln, rel=0.25)


def test_dry_soil_pins_tension_at_the_ceiling_never_beyond(city, world):
    probes = draw_probes(world, city.sensors, np.random.default_rng(1))
    th = at_tension(world, 900.0)
    values, _ = probes.readings_of_day(th, probes.initial_state(th), np.random.default_rng(2))
    v = values[probes.is_tension]
    v = v[np.isfinite(v)]
    assert v.max() == 239.0 and (v == 239.0).mean() > 0.99


def test_wet_soil_reads_near_the_channels_floor(city, world):
    """At 0.5 kPa (near saturation) a Watermark-type channel reads about its floor ψ0
    ((ψ³ + ψ0³)^(1/3) with ψ0 in 2-10 kPa), not the soil's tension."""
    prm = ProbeParams(noise_rel=0.0, noise_kpa=0.0, diurnal_rel=0.0, tension_bias_ln=0.0)
    probes = draw_probes(world, city.sensors, np.random.default_rng(1), prm)
    th = at_tension(world, 0.5)
    values, _ = probes.readings_of_day(th, probes.initial_state(th), np.random.default_rng(2))
    t = probes.is_tension
    got = values[t][..., 0]
    ok = probes.installed[t]
    expect = np.round(np.cbrt(0.5**3 + probes.floor_kpa[t] ** 3))
    np.testing.assert_array_equal(got[ok], expect[ok])
    assert got[ok].min() >= 2.0


def test_water_content_channels_carry_a_fixed_offset(city, world):
    probes = draw_probes(world, city.sensors, np.random.default_rng(1), QUIET)
    th = at_tension(world, 30.0)
    values, state = probes.readings_of_day(th, probes.initial_state(th),
                                           np.random.default_rng(2))
    v = ~probes.is_tension
    inst = probes.installed[v]
    np.testing.assert_allclose(values[v][..., 0][inst],
                               np.round(state.theta[v] + probes.offset_theta[v], 3)[inst],
                               atol=1e-12)
    assert np.std(probes.offset_theta) == pytest.approx(ProbeParams().vwc_offset, rel=0.25)


def test_a_day_runs_from_yesterday_to_today(city, world):
    """Hourly values go from the previous day's state to today's (last hour = today)."""
    probes = draw_probes(world, city.sensors, np.random.default_rng(1), QUIET)
    wet, dry = at_tension(world, 20.0), at_tension(world, 80.0)
    values, _ = probes.readings_of_day(dry, probes.initial_state(wet),
                                       np.random.default_rng(2))
    t = probes.is_tension & probes.installed[:, 0]
    series = values[t, 0]
    assert (np.diff(series, axis=-1) >= 0).all()  # drying all day
    np.testing.assert_array_equal(series[:, -1],
                                  np.clip(np.round(80.0 * np.exp(probes.bias_ln[t, 0])), 0,
                                          239))


def test_season_equals_one_day_at_a_time(city, world):
    """:func:`sensor_readings` over a season gives the same values as the incremental
    interface with the same generator (what the closed-loop season uses)."""
    probes = draw_probes(world, city.sensors, np.random.default_rng(1))
    rng = np.random.default_rng(4)
    th = np.stack([at_tension(world, 20.0 + 15.0 * k) for k in range(DAYS.size)])
    ds = sensor_readings(th, probes, DAYS[0], np.random.default_rng(5))
    state = probes.initial_state(th[0])
    rng = np.random.default_rng(5)
    days = []
    for k in range(DAYS.size):
        v, state = probes.readings_of_day(th[k], state, rng)
        days.append(v)
    np.testing.assert_array_equal(ds["value"].values, np.concatenate(days, axis=-1))
    assert ds.sizes["time"] == 24 * DAYS.size
    assert ds["time"].values[0] == np.datetime64("2018-06-01T00:00")
