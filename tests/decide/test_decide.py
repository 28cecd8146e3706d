"""Demand, fixed systems and the visits offered to the trucks: hand-checked cases and
invariants."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from irrigation.decide import (
    DecideRules,
    demand,
    first_crossing_day,
    fixed_system_plan,
    fixed_system_sites,
    fleet_capacity_l,
    resting_sites,
    routability_warnings,
    threshold_mm,
    todays_candidates,
    visit_litres,
)
from irrigation.routing import VehicleType
from irrigation.soil import van_genuchten_theta


def _sites(n, kind="young_tree", area=8.0, pit=np.nan, x=None, priority=1, year=2016):
    return xr.Dataset(
        {
            "kind": ("site", np.array([kind] * n, dtype=object)),
            "area_m2": ("site", np.full(n, area)),
            "pit_capacity_l": ("site", np.full(n, pit)),
            "priority": ("site", np.full(n, priority)),
            "planting_year": ("site", np.full(n, year)),
            "root_depth_m": ("site", np.full(n, 0.6)),
        },
        coords={
            "site": [f"s{i}" for i in range(n)],
            "x": ("site", np.arange(n) * 1000.0 if x is None else np.asarray(x, float)),
            "y": ("site", np.zeros(n)),
        },
    )


def _ramp(start_mm, rate_mm_d, days=10, members=1):
    """Depletion rising linearly: Dr[t] = start + rate * t, per site (and member offsets)."""
    t = np.arange(days)[:, None, None]
    start = np.asarray(start_mm, float)[None, :, None]
    rate = np.asarray(rate_mm_d, float)[None, :, None]
    spread = np.linspace(-1, 1, members)[None, None, :] if members > 1 else np.zeros((1, 1, 1))
    return xr.DataArray(
        start + rate * t + spread,
        dims=("time", "site", "member"),
        coords={"site": [f"s{i}" for i in range(len(start_mm))]},
    )


def test_first_crossing_day_by_hand():
    dr = _ramp([0.0, 25.0, 5.0], [5.0, 1.0, 0.0])
    thr = xr.DataArray([20.0, 20.0, 20.0], dims="site", coords={"site": dr.site})
    first = first_crossing_day(dr, thr).isel(member=0)
    # site 0: 0,5,...,25 -> first > 20 at t=5; site 1 already above; site 2 never
    assert first.values.tolist() == [5.0, 0.0, np.inf]


def test_due_day_is_the_quantile_over_members():
    # 5 members cross on days 2, 3, 4, 5, 6
    t = np.arange(10)[:, None, None]
    dr = xr.DataArray(
        10.0 * (t - np.arange(5)[None, None, :]) + 0.5,
        dims=("time", "site", "member"),
        coords={"site": ["s0"]},
    )
    thr = xr.DataArray([20.0], dims="site", coords={"site": ["s0"]})
    d = demand(dr, thr, _sites(1), DecideRules(due_probability=0.5, lead_days=1))
    assert d.due_day.item() == 4.0  # the 3rd of 5 crossing days (ceil(0.5 * 5) = 3)
    assert d.p_cross.item() == 1.0
    assert d.p_cross_lead.item() == 0.0
    assert not d.due.item()
    d2 = demand(dr, thr, _sites(1), DecideRules(due_probability=0.2, lead_days=2))
    assert d2.due_day.item() == 2.0 and d2.due.item()


def test_litres_caps():
    rules = DecideRules(refill_fraction=1.0, min_visit_l=75, max_visit_l_tree=200)
    s = xr.concat(
        [
            _sites(1, area=8.0),
            _sites(1, area=8.0, pit=120.0),
            _sites(1, area=2.0),
            _sites(1, kind="lawn", area=500.0),
            _sites(1, kind="shrub_bed", area=40.0),
        ],
        "site",
    )
    s = s.assign_coords(site=[f"s{i}" for i in range(5)])
    dr = xr.DataArray([40.0, 40.0, 5.0, 60.0, 10.0], dims="site", coords={"site": s.site})
    got = visit_litres(dr, s, rules).values
    # tree: 40 mm * 8 m2 = 320 L -> max 200; pit 120 L; 10 L -> min 75;
    # lawn: 60 mm capped at 20 mm * 500 m2; bed: 10 mm * 40 m2 = 400 L (under 25 mm)
    assert got.tolist() == [200.0, 120.0, 75.0, 10_000.0, 400.0]


def test_young_tree_threshold_is_stricter_for_younger_trees():
    s = xr.concat(
        [_sites(1, year=2018), _sites(1, year=2017), _sites(1, year=2010), _sites(1, kind="lawn")],
        "site",
    ).assign_coords(site=["a", "b", "c", "d"])
    hyd = {
        "theta_r": np.full(4, 0.065),
        "theta_s": np.full(4, 0.41),
        "alpha_per_cm": np.full(4, 0.075),
        "n": np.full(4, 1.89),
    }
    hyd["theta_fc"] = van_genuchten_theta(
        10.0, *(hyd[k] for k in ("theta_r", "theta_s", "alpha_per_cm", "n"))
    )
    raw = xr.DataArray(np.full(4, 1e3), dims="site")
    thr = threshold_mm(s, raw, hyd, 2018, DecideRules(young_tree_tension_kpa=(50.0, 60.0, 80.0)))
    expect = [
        1000 * (hyd["theta_fc"][0] - van_genuchten_theta(t, 0.065, 0.41, 0.075, 1.89)) * 0.6
        for t in (50.0, 60.0, 80.0)
    ]
    np.testing.assert_allclose(thr.values[:3], expect)
    assert thr.values[0] < thr.values[1] < thr.values[2]
    assert thr.values[3] == 1e3  # lawns use RAW


TRUCK = VehicleType("t", 1, tank_l=1000.0, pump_l_per_min=100.0)


def test_every_due_site_is_offered_ranked_by_urgency():
    n = 6
    s = _sites(n)
    s["priority"] = ("site", np.array([2, 1, 1, 2, 1, 3]))
    dr = _ramp([30, 50, 40, 45, 35, 60], [1] * n)  # all above threshold 20 today: overdue
    thr = xr.DataArray(np.full(n, 20.0), dims="site", coords={"site": s.site})
    rules = DecideRules(refill_fraction=1.0)
    d = demand(dr, thr, s, rules)
    assert d.due.all()
    cand, deferred = todays_candidates(d, s, [TRUCK], "2018-07-01", rules)
    assert deferred.empty and (cand["reason"] == "due").all()
    # priority 1 first (by depletion 50, 40, 35), then 2 (45, 30), then 3
    assert cand["site"].tolist() == ["s1", "s2", "s4", "s3", "s0", "s5"]
    # urgency = priority weight (4, 2, 1) x overdue weight (2) - 1
    assert cand["urgency"].tolist() == [7.0, 7.0, 7.0, 3.0, 3.0, 1.0]
    assert cand["max_detour_m"].isna().all()


def test_a_water_cap_defers_the_least_urgent():
    n = 6
    s = _sites(n)
    s["priority"] = ("site", np.array([2, 1, 1, 2, 1, 3]))
    dr = _ramp([30, 50, 40, 45, 35, 60], [1] * n)
    thr = xr.DataArray(np.full(n, 20.0), dims="site", coords={"site": s.site})
    rules = DecideRules(refill_fraction=1.0, max_litres_per_day=3 * 200.0)
    cand, deferred = todays_candidates(demand(dr, thr, s, rules), s, [TRUCK], "2018-07-01",
                                       rules)
    assert cand["site"].tolist() == ["s1", "s2", "s4"]
    assert sorted(deferred["site"]) == ["s0", "s3", "s5"]
    assert (deferred["reason"] == "water cap").all()
    assert (deferred["status"] == "overdue").all()
    assert (deferred["latest_safe_day"] == np.datetime64("2018-07-01")).all()


def test_a_visit_larger_than_the_tanks_is_not_routable():
    s = _sites(2, kind="shrub_bed", area=200.0)
    dr = _ramp([40, 40], [1, 1])
    thr = xr.DataArray(np.full(2, 20.0), dims="site", coords={"site": s.site})
    rules = DecideRules(max_visit_mm_bed=25.0)  # 25 mm x 200 m2 = 5,000 L per visit
    d = demand(dr, thr, s, rules)
    cand, deferred = todays_candidates(d, s, [TRUCK], "2018-07-01", rules)  # 2 x 1,000 L
    assert cand.empty and (deferred["reason"] == "not routable").all()
    assert "fixed system" in deferred["detail"].iloc[0]
    big = VehicleType("big", 1, tank_l=2500.0, pump_l_per_min=100.0)
    cand, deferred = todays_candidates(d, s, [big], "2018-07-01", rules)  # 2 x 2,500 L
    assert len(cand) == 2 and deferred.empty


def test_zero_demand_gives_empty_tables():
    s = _sites(4)
    dr = _ramp([0, 0, 0, 0], [0.5] * 4)
    thr = xr.DataArray(np.full(4, 20.0), dims="site", coords={"site": s.site})
    cand, deferred = todays_candidates(demand(dr, thr, s), s, [TRUCK], "2018-07-01")
    assert cand.empty and deferred.empty
    assert "litres" in cand.columns and "latest_safe_day" in deferred.columns


def test_pull_forward_candidates_only_near_due_sites():
    s = _sites(3, x=[0.0, 100.0, 5000.0])
    dr = _ramp([30, 15, 15], [1, 2, 2])  # s0 due today; s1, s2 cross 20 on day 3
    thr = xr.DataArray(np.full(3, 20.0), dims="site", coords={"site": s.site})
    rules = DecideRules(lead_days=0, pull_forward_days=3, pull_forward_radius_m=150)
    cand, deferred = todays_candidates(demand(dr, thr, s, rules), s, [TRUCK], "2018-07-01",
                                       rules)
    assert cand["site"].tolist() == ["s0", "s1"]
    assert cand["reason"].tolist() == ["due", "pulled forward"]
    assert cand["max_detour_m"].iloc[1] == 300.0 and np.isnan(cand["max_detour_m"].iloc[0])
    assert deferred.empty
    # s1 was watered two days ago: it rests (served again only when due again)
    log = xr.DataArray(np.array([[0.0, 150.0, 0.0], [0.0, 0.0, 0.0]]), dims=("time", "site"),
                       coords={"time": np.array(["2018-06-29", "2018-06-30"],
                                                dtype="datetime64[ns]"), "site": s.site.values})
    resting = resting_sites(log, "2018-07-01", rules)
    assert resting.tolist() == [False, True, False]
    cand, _ = todays_candidates(demand(dr, thr, s, rules), s, [TRUCK], "2018-07-01", rules,
                                resting)
    assert cand["site"].tolist() == ["s0"]


def test_unwatered_kinds_are_never_offered():
    s = _sites(2, kind="park_tree")
    dr = _ramp([80, 80], [1, 1])
    thr = xr.DataArray(np.full(2, 20.0), dims="site", coords={"site": s.site})
    cand, deferred = todays_candidates(demand(dr, thr, s), s, [TRUCK], "2018-07-01")
    assert cand.empty and deferred.empty


def test_fixed_systems_are_planned_per_zone_in_mm_and_minutes():
    """Two lawns on one valve (zone A) needing 10 and 16 mm, a lawn on its own zone by
    kind, a bed watered by trucks: zone A runs 16 mm for both, 60 * 16 / 12 = 80 min."""
    s = _sites(4, kind="lawn", area=100.0)
    s["kind"] = ("site", np.array(["lawn", "lawn", "lawn", "shrub_bed"], dtype=object))
    s["fixed_system"] = ("site", np.array(["A", "A", "", ""], dtype=object))
    dr = _ramp([10.0, 16.0, 30.0, 30.0], [0.0] * 4)
    thr = xr.DataArray([5.0, 5.0, 5.0, 5.0], dims="site", coords={"site": s.site})
    rules = DecideRules(refill_fraction=1.0, fixed_system_kinds=("lawn",),
                        fixed_system_mm_per_h=12.0, max_visit_mm_lawn=20.0)
    d = demand(dr, thr, s, rules)
    assert fixed_system_sites(s, rules).tolist() == [True, True, True, False]
    f = fixed_system_plan(d, s, rules)
    assert f["zone"].tolist() == ["A", "A", "s2"]
    assert f["mm"].tolist() == [16.0, 16.0, 20.0]  # s2: 30 mm capped at 20 mm
    assert f["minutes"].tolist() == [80.0, 80.0, 100.0]
    assert f["litres"].tolist() == [1600.0, 1600.0, 2000.0]
    big = VehicleType("big", 1, tank_l=2500.0, pump_l_per_min=100.0)
    cand, _ = todays_candidates(d, s, [big], "2018-07-01", rules)
    assert cand["site"].tolist() == ["s3"]  # only the bed goes to the trucks


def test_validate_warns_about_kinds_no_truck_can_serve():
    s = _sites(3, kind="lawn", area=2000.0)
    warn = routability_warnings(s, [TRUCK], DecideRules())
    assert len(warn) == 1 and "3 of 3 lawn sites" in warn[0] and "40,000 L" in warn[0]
    assert routability_warnings(s, [TRUCK], DecideRules(fixed_system_kinds=("lawn",))) == []


def test_fleet_capacity_by_hand():
    v = VehicleType(
        name="t", count=2, tank_l=5000, pump_l_per_min=100, setup_min=3, break_min=30
    )  # 07:00-15:00 -> 450 min
    rules = DecideRules(travel_min_per_stop=4, trip_overhead_min=15)
    cap = fleet_capacity_l([v], refill_l_per_min=1000, mean_visit_l=140, rules=rules)
    per_l = 1 / 100 + 1 / 1000 + 7 / 140 + 15 / 5000
    assert cap == pytest.approx(2 * 450 / per_l)


@settings(max_examples=50, deadline=None)
@given(
    dr0=st.lists(st.floats(0, 100), min_size=1, max_size=30),
    cap=st.floats(1, 5000),
    prio=st.integers(1, 3),
)
def test_candidates_and_deferred_partition_the_due_sites(dr0, cap, prio):
    n = len(dr0)
    s = _sites(n, priority=prio)
    dr = _ramp(dr0, [2.0] * n, members=3)
    thr = xr.DataArray(np.full(n, 20.0), dims="site", coords={"site": s.site})
    rules = DecideRules(pull_forward_radius_m=0, max_litres_per_day=cap)
    d = demand(dr, thr, s, rules)
    cand, deferred = todays_candidates(d, s, [TRUCK], "2018-07-01", rules)
    assert cand["litres"].sum() <= cap + 1e-9
    due = set(d.site.values[d.due.values])
    assert set(cand["site"]) | set(deferred["site"]) == due
    assert not set(cand["site"]) & set(deferred["site"])
    assert isinstance(deferred, pd.DataFrame)


def test_the_stricter_of_raw_and_the_young_tree_tension_applies_and_is_reported():
    """On loamy sand RAW (p = 0.5) is used up near 56 kPa, so a configured 80 kPa for a
    2-year-old tree is looser and RAW applies; on loam (RAW ~129 kPa) the 80 kPa applies.
    The summary says so per soil and age."""
    from irrigation.decide import DecideRules, site_thresholds, threshold_summary
    from irrigation.io.soil_tables import read_soil_textures
    from irrigation.soil import site_water_capacity

    sites = xr.Dataset(
        {"kind": ("site", ["young_tree", "young_tree", "young_tree", "lawn"]),
         "planting_year": ("site", [2016, 2016, 2018, 2000]),
         "root_depth_m": ("site", [0.6, 0.6, 0.6, 0.3]),
         "soil_texture": ("site", ["loamy_sand", "loam", "loamy_sand", "loam"])},
        coords={"site": ["a", "b", "c", "d"]})
    hyd, taw = site_water_capacity(sites, read_soil_textures())
    raw = 0.5 * taw
    thr = site_thresholds(sites, raw, hyd, 2018, DecideRules())
    assert list(thr["rule"].values) == ["RAW", "young-tree tension", "young-tree tension",
                                        "RAW"]
    assert 50 < float(thr["raw_kpa"][0]) < 60  # RAW tension of loamy sand
    np.testing.assert_allclose(thr["threshold_mm"][0], raw[0])
    np.testing.assert_allclose(thr["threshold_kpa"][1:3], [80.0, 50.0], rtol=1e-9)
    assert np.isnan(thr["young_tree_kpa"][3])
    table = threshold_summary(thr, sites, 2018)
    row = table[(table["soil_texture"] == "loamy_sand") & (table["age"] == 2)].iloc[0]
    assert row["rule"] == "RAW" and "looser than RAW" in row["note"]
    assert (table.loc[table["soil_texture"] == "loam", "note"] == "").all()
