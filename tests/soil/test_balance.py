"""Mass balance and physical sanity of the root-zone balance."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from irrigation.errors import InputError
from irrigation.soil import SoilParams, capillary_rise_potential_mm, water_balance


def random_season(seed: int, n_sites: int = 1000, n_days: int = 180, n_members: int = 1):
    rng = np.random.default_rng(seed)
    shape = (n_days, n_sites, n_members)
    wet = rng.random(shape) < 0.35
    return dict(
        dr0_mm=rng.uniform(0, 40, (n_sites, n_members)),
        taw_mm=rng.uniform(20, 200, (n_sites, 1)),
        p=rng.uniform(0.2, 0.7, (n_sites, 1)),
        etc_mm=rng.uniform(0, 8, shape),
        precip_mm=np.where(wet, rng.exponential(6, shape), 0.0),
        kc=rng.uniform(0.1, 1.2, (n_sites, 1)),
        infiltration=rng.choice([0.9, 0.8, 0.55, 0.2], (n_sites, 1)),
        irrigation_mm=np.where(rng.random(shape) < 0.05, rng.uniform(0, 200, shape), 0.0),
        irrigation_cap_mm=rng.choice([np.inf, 30.0, 80.0], (n_sites, 1)),
        cr_potential_mm=rng.uniform(0, 4, (1, n_sites, 1)),
        evap_mm=rng.uniform(0, 1, shape),
    )


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_mass_balance_closes_for_1000_sites(seed):
    res = water_balance(**random_season(seed))
    assert np.abs(res["residual_mm"]).max() < 1e-9
    assert (res["dr_mm"] >= 0).all() and (res["dr_mm"] <= res["taw_mm"] + 1e-9).all()
    for name in ("runoff_mm", "irrigation_overflow_mm", "capillary_rise_mm", "eta_mm",
                 "deep_percolation_mm"):
        assert (res[name] >= 0).all(), name
    assert ((res["ks"] >= 0) & (res["ks"] <= 1)).all()


def test_without_fluxes_the_same_state_and_computed_fluxes():
    kw = random_season(3, n_sites=40, n_days=20, n_members=3)
    full, part = water_balance(**kw), water_balance(**kw, fluxes=False)
    assert set(part) == {"dr_mm", "ks", "taw_mm", "raw_mm", "capillary_rise_mm", "eta_mm",
                         "deep_percolation_mm"}
    for k, v in part.items():
        np.testing.assert_array_equal(v, full[k], err_msg=k)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), extra=st.floats(0.1, 50.0))
def test_more_rain_never_increases_depletion(seed, extra):
    kw = random_season(seed, n_sites=50, n_days=60)
    # within the scheme's monotonicity condition (see irrigation.soil docstring): a day's
    # demand below (1 - p) TAW and the potential capillary rise below RAW
    rng = np.random.default_rng(seed)
    kw["taw_mm"] = rng.uniform(60, 200, (50, 1))
    kw["p"] = rng.uniform(0.3, 0.6, (50, 1))
    base = water_balance(**kw)
    kw["precip_mm"] = kw["precip_mm"] + extra * (np.random.default_rng(seed).random(
        kw["precip_mm"].shape) < 0.3)
    more = water_balance(**kw)
    assert (more["dr_mm"] <= base["dr_mm"] + 1e-9).all()


@given(d1=st.floats(0, 5), d2=st.floats(0, 5), zr=st.floats(0.1, 2.0))
def test_deeper_water_table_never_increases_capillary_rise(d1, d2, zr):
    shallow, deep = sorted((d1, d2))
    assert capillary_rise_potential_mm(deep, zr) <= capillary_rise_potential_mm(shallow, zr)


def test_capillary_rise_zero_when_water_table_deep_and_shallower_gives_more_water():
    params = SoilParams()
    assert capillary_rise_potential_mm(0.5 + params.cr_cutoff_m + 0.01, 0.5) == 0.0
    assert capillary_rise_potential_mm(np.nan, 0.5) == 0.0
    kw = random_season(3, n_sites=100, n_days=60)
    depths = np.array([0.6, 1.0, 1.4, 3.0])
    crs = []
    for d in depths:
        kw["cr_potential_mm"] = capillary_rise_potential_mm(d, 0.5, params)
        crs.append(water_balance(**kw)["capillary_rise_mm"].sum())
    assert all(a >= b for a, b in itertools.pairwise(crs)) and crs[-1] == 0.0


def test_sealed_pits_get_less_rain_than_open_ones():
    sealing = np.array([0.9, 0.8, 0.55, 0.2])  # open, small cobbles, slabs, asphalt
    kw = dict(dr0_mm=np.full(4, 50.0), taw_mm=100.0, p=0.5, etc_mm=np.full((10, 4), 3.0),
              precip_mm=np.full((10, 4), 8.0), infiltration=sealing)
    res = water_balance(**kw)
    infiltrated = (res["precip_mm"] - res["runoff_mm"]).sum(axis=0)
    assert (np.diff(infiltrated) < 0).all()
    assert (np.diff(res["dr_mm"][-1]) >= 0).all()


def test_pit_capacity_caps_irrigation():
    res = water_balance(np.array([80.0, 80.0]), 100.0, 0.5, np.zeros((1, 2)), np.zeros((1, 2)),
                        irrigation_mm=np.full((1, 2), 60.0),
                        irrigation_cap_mm=np.array([np.inf, 25.0]))
    assert res["dr_mm"][0].tolist() == [20.0, 55.0]
    assert res["irrigation_overflow_mm"][0].tolist() == [0.0, 35.0]


def test_water_table_in_root_zone_refills_only_to_field_capacity():
    res = water_balance(np.array(10.0), 100.0, 0.5, np.zeros(5), np.zeros(5),
                        cr_potential_mm=capillary_rise_potential_mm(0.2, 0.5))
    # CR = CRpot * Dr / RAW = 3 * Dr / 50 mm d-1: Dr falls by 6 % a day, no drainage
    np.testing.assert_allclose(res["dr_mm"], 10.0 * 0.94 ** np.arange(1, 6), rtol=1e-12)
    assert res["deep_percolation_mm"].sum() == 0.0
    # a rise larger than the depletion stops at field capacity (Dr = 0), none drains
    res = water_balance(np.array(4.0), 10.0, 0.5, np.zeros(2), np.zeros(2),
                        cr_potential_mm=20.0)
    assert res["capillary_rise_mm"].tolist() == [4.0, 0.0]
    assert res["dr_mm"].tolist() == [0.0, 0.0]
    assert res["deep_percolation_mm"].sum() == 0.0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"taw_mm": 0.0}, "taw_mm"),
        ({"taw_mm": np.nan}, "taw_mm"),
        ({"p": 0.0}, "p"),  # RAW = 0: the capillary-rise scaling Dr / RAW would be 0/0
        ({"p": 1.0}, "p"),
        ({"infiltration": 1.2}, "infiltration"),
        ({"dr0_mm": np.array([-1.0])}, "dr0_mm"),
        ({"precip_mm": np.full((3, 1), np.nan)}, "precip_mm"),
        ({"cr_potential_mm": -0.5}, "cr_potential_mm"),
    ],
)
def test_invalid_inputs_are_rejected(change, field):
    kw = dict(dr0_mm=np.array([10.0]), taw_mm=100.0, p=0.5, etc_mm=np.full((3, 1), 4.0),
              precip_mm=np.zeros((3, 1)), infiltration=0.9, cr_potential_mm=1.0)
    water_balance(**kw)  # the valid base case runs
    with pytest.raises(InputError) as info:
        water_balance(**{**kw, **change})
    assert info.value.field == field
