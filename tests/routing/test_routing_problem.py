"""Building the routing problem from city pieces: splitting, service and refill times."""

import numpy as np
import pandas as pd
import pytest
from routecases import fleet, refill_points, visits

from irrigation.errors import InputError
from irrigation.routing import (
    RoutingConfig,
    RoutingVehicle,
    build_problem,
    split_visits,
    to_pyvrp,
)


@pytest.mark.parametrize(
    ("litres", "tank", "parts"),
    [
        ([100.0], 2000.0, [100.0]),
        ([2000.0], 2000.0, [2000.0]),
        ([2001.0], 2000.0, [1000.5] * 2),
        ([5000.0, 10.0], 2000.0, [5000 / 3] * 3 + [10.0]),
        ([0.0], 500.0, [0.0]),
    ],
)
def test_split_visits_conserves_litres_and_fits_the_tank(litres, tank, parts):
    out = split_visits(pd.DataFrame({"site": range(len(litres)), "litres": litres}), tank)
    assert out.litres.tolist() == pytest.approx(parts)
    assert out.groupby("site").litres.sum().tolist() == pytest.approx(litres)
    assert (out.litres <= tank).all()


def test_split_visits_rejects_negative_litres():
    with pytest.raises(InputError, match="litres"):
        split_visits(pd.DataFrame({"site": [1], "litres": [-5.0]}), 1000.0)


def test_build_problem_layout_and_times():
    rng = np.random.default_rng(3)
    v = visits(rng, 20, windows=False)
    v.loc[0, "litres"] = 2500.0  # more than half the pickup's 500 L tank: split in ten
    pts = refill_points(np.array([[0, 0], [1000, 1000], [2000, 0]]), rate_l_per_min=400.0)
    p = build_problem(
        v, pts, fleet(), detour_factor=1.25, routing=RoutingConfig(refill_connect_min=4.0)
    )
    assert p.n_depots == 4  # yard + 3 points with water (the yard too)
    assert p.n_clients == 20 + 9  # every part fits half the smallest tank: any truck takes it
    assert p.delivery_l.sum() == pytest.approx(v.litres.sum())
    truck, pickup = p.vehicles
    assert (truck.profile, pickup.profile, p.n_profiles) == (0, 1, 2)
    big, small = p.times(truck.profile), p.times(pickup.profile)
    # each type its own set-up and pump: truck 3 min + L / 120, pickup 2 min + L / 60
    litres = p.delivery_l[-1]
    assert big.service_s[-1] == pytest.approx(60 * (3 + litres / 120.0))
    assert small.service_s[-1] == pytest.approx(60 * (2 + litres / 60.0))
    # each type refills its own tank: 4 min + 2000 L (500 L) / 400 L/min
    assert big.depot_service_s.tolist() == pytest.approx([0.0] + [60 * (4 + 5)] * 3)
    assert small.depot_service_s.tolist() == pytest.approx([0.0] + [60 * (4 + 1.25)] * 3)
    # and drives at its own speed: 20 and 25 km/h
    assert big.duration_s[0, 5] == pytest.approx(p.distance_m[0, 5] / (20 / 3.6))
    assert small.duration_s[0, 5] == pytest.approx(p.distance_m[0, 5] / (25 / 3.6))
    assert p.distance_m[0, 1] == pytest.approx(0.0)  # yard and its own tap
    assert (truck.tw_early_s, truck.tw_late_s, truck.shift_duration_s, truck.break_s) == (
        7 * 3600,
        15 * 3600,
        7.5 * 3600,
        30 * 60,
    )
    assert truck.reload_depots == (1, 2, 3)
    assert not p.required.any()
    # a due visit is worth more than any single visit can cost
    assert p.prize.min() >= p.prize_unit() >= 2 * p.distance_m.max()


def test_build_problem_needs_a_depot():
    pts = refill_points(np.array([[0, 0], [10, 10]]))
    pts["kind"][:] = "hydrant"
    with pytest.raises(InputError, match="depot"):
        build_problem(visits(np.random.default_rng(0), 3), pts, fleet())


@pytest.mark.parametrize("urgency", [-0.5, np.nan])
def test_build_problem_rejects_bad_urgency(urgency):
    v = visits(np.random.default_rng(0), 3)
    v.loc[1, "urgency"] = urgency
    with pytest.raises(InputError, match="urgency"):
        build_problem(v, refill_points(np.array([[0, 0], [10, 10]])), fleet())


def test_vehicle_rejects_bad_capacity():
    with pytest.raises(InputError, match="capacity"):
        RoutingVehicle("x", 1, 0.0)


def test_pyvrp_data_is_integer_scaled():
    v = visits(np.random.default_rng(1), 5)
    p = build_problem(v, refill_points(np.array([[0, 0], [500, 500]])), fleet())
    data = to_pyvrp(p)
    assert data.num_clients == p.n_clients and data.num_depots == 3  # yard, its tap, hydrant
    assert data.distance_matrix(0)[0, 2] == round(p.distance_m[0, 2])
    client = data.client(0)
    assert client.delivery == [round(p.delivery_l[0])]
    # service folded into the arcs leaving a client, per profile
    assert client.service_duration == 0
    for k in range(p.n_profiles):
        t = p.times(k)
        assert data.duration_matrix(k)[3, 4] == round(t.duration_s[3, 4] + t.service_s[0])
        assert data.duration_matrix(k)[1, 3] == round(t.duration_s[1, 3] + t.depot_service_s[1])
    assert data.vehicle_type(1).profile == 1
    # the break is kept free at the end of the window
    assert data.vehicle_type(0).shift_duration == 7.5 * 3600
    assert data.vehicle_type(0).tw_late == 15 * 3600 - 30 * 60


def test_arc_ints_in_row_blocks_equal_the_whole_matrix_at_once(monkeypatch):
    """Block-wise conversion (memory) gives the elementwise formula: leaving time added
    per row, diagonal 0, rounded half to even, inf to UNBOUNDED."""
    from irrigation import routing

    rng = np.random.default_rng(5)
    m = rng.uniform(0, 5000, (23, 23))
    m[np.arange(23) % 2 == 0, 3] += 0.5 - m[np.arange(23) % 2 == 0, 3] % 1  # exact halves
    m[4, 7] = np.inf
    leave = rng.uniform(0, 900, 23).round()
    want = np.round(m + leave[:, None])
    np.fill_diagonal(want, 0.0)
    big = ~np.isfinite(want)
    want[big] = 0
    want = want.astype(np.int64)
    want[big] = routing.UNBOUNDED
    monkeypatch.setattr(routing, "MATRIX_ROWS", 5)  # blocks of 5 rows, the last of 3
    got = routing.arc_ints(m, leave, 1)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, want)


def test_pyvrp_matrices_are_the_folded_problem_matrices():
    """Every profile's distance and duration matrix as PyVRP holds it, against the
    problem's float matrices folded by hand."""
    v = visits(np.random.default_rng(2), 30)
    p = build_problem(v, refill_points(np.array([[0, 0], [500, 500], [900, 100]])), fleet())
    data = to_pyvrp(p)
    for k in range(p.n_profiles):
        t = p.times(k)
        leave = np.concatenate([t.depot_service_s, t.service_s])
        dur = np.round(t.duration_s + leave[:, None])
        np.fill_diagonal(dur, 0.0)
        np.testing.assert_array_equal(np.asarray(data.duration_matrix(k)), dur.astype(np.int64))
        refill = np.zeros(len(leave))
        refill[: p.n_depots] = t.depot_service_s  # COST_PER_SECOND = 1
        dist = np.round(p.distance_m + refill[:, None])
        np.fill_diagonal(dist, 0.0)
        np.testing.assert_array_equal(np.asarray(data.distance_matrix(k)), dist.astype(np.int64))


def test_travel_times_are_the_distances_divided_by_the_speed():
    """The lazy travel times read as the whole matrix divided at once, bit for bit, for
    every kind of index; the problem keeps one distance matrix for every truck type."""
    from irrigation.routing import TravelTimes

    d = np.random.default_rng(4).uniform(0, 9000, (7, 7))
    speed = 20 / 3.6
    t = TravelTimes(d, speed)
    whole = d / speed
    assert t.shape == (7, 7) and len(t) == 7
    np.testing.assert_array_equal(np.asarray(t), whole)
    np.testing.assert_array_equal(t[2:5], whole[2:5])
    np.testing.assert_array_equal(t[[0, 3], [6, 1]], whole[[0, 3], [6, 1]])
    assert t[1, 4] == whole[1, 4]
    p = build_problem(visits(np.random.default_rng(6), 10),
                      refill_points(np.array([[0, 0], [500, 500]])), fleet())
    for k in range(p.n_profiles):
        assert p.times(k).duration_s.distance_m is p.distance_m


def test_offered_visits_are_an_upper_bound_on_what_the_fleet_can_make():
    """``offer_count``: the ranked visits whose least time (set-up and pumping on the
    quickest truck type, no driving) sums to at most factor x the fleet's shift minutes."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from irrigation.routing import offer_count

    trucks = fleet()
    minutes = sum(v.count * v.shift_minutes for v in trucks)

    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.floats(0.0, 20_000.0), max_size=400), st.floats(1.0, 10.0))
    def check(litres, factor):
        litres = np.array(litres)
        n = offer_count(litres, trucks, factor)
        least = np.min([v.setup_min + litres / v.pump_l_per_min for v in trucks], axis=0)
        assert least[:n].sum() <= factor * minutes * (1 + 1e-12)
        assert n == litres.size or least[:n + 1].sum() > factor * minutes
        assert offer_count(litres, trucks, 0) == litres.size
        assert offer_count(litres, trucks, factor + 1) >= n

    check()


def test_offer_count_worked_example():
    """Two trucks, 07:00-15:00 with a 30 min break: 2 x 450 = 900 min a day. A 200 L
    visit takes at least 4 min set-up + 200 / 100 L/min = 6 min: 150 such visits fill
    the day, 300 fill it twice."""
    import datetime as dt

    from irrigation.routing import VehicleType, offer_count

    trucks = (VehicleType("truck", 2, 2000.0, 100.0, setup_min=4.0, speed_kmh=20.0,
                          shift_start=dt.time(7), shift_end=dt.time(15), break_min=30.0),)
    litres = np.full(400, 200.0)
    assert offer_count(litres, trucks, 1.0) == 150
    assert offer_count(litres, trucks, 2.0) == 300
    assert offer_count(litres, trucks, 2.5) == 375
    assert offer_count(litres[:101], trucks, 2.5) == 101
    assert offer_count(litres, trucks, 0) == 400
