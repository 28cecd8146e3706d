"""The season's array paths equal the table operations they replace."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from irrigation.scenario.fleet import FleetModel, estimate_day
from irrigation.scenario.season import service_order


@pytest.mark.parametrize("seed", range(5))
def test_service_order_is_the_stable_sort_by_pulled_then_priority(seed):
    rng = np.random.default_rng(seed)
    n = 40
    prio = rng.integers(1, 4, n).astype(float)
    if seed % 2:
        prio[rng.random(n) < 0.2] = np.nan
    v = pd.DataFrame({"site": [f"s{i}" for i in range(n)], "priority": prio,
                      "reason": rng.choice(["due", "pulled forward", "fixed system"], n)},
                     index=rng.permutation(n))
    want = v.assign(_pulled=v["reason"] == "pulled forward").sort_values(
        ["_pulled", "priority"], kind="stable").drop(columns="_pulled")
    pd.testing.assert_frame_equal(v.iloc[service_order(v)], want)
    np.testing.assert_array_equal(  # the columns' arrays order the same
        service_order({k: v[k].to_numpy() for k in ("reason", "priority")}), service_order(v))


def test_estimate_day_takes_a_table_or_its_arrays():
    fleet = FleetModel(minutes=2 * 480.0, trucks=2, shift_min=480.0, tank_l=5000.0,
                       pump_l_per_min=100.0, setup_min=5.0, speed_m_per_min=400.0,
                       refill_min=20.0, depot_xy=np.array([0.0, 0.0]),
                       hydrants_xy=np.array([[100.0, 100.0], [2000.0, 0.0]]), detour=1.3)
    rng = np.random.default_rng(1)
    t = pd.DataFrame({"x": rng.uniform(0, 3000, 300), "y": rng.uniform(0, 2000, 300),
                      "litres": rng.uniform(50, 400, 300)})
    a = estimate_day(fleet, t)
    b = estimate_day(fleet, {k: t[k].to_numpy() for k in ("x", "y", "litres")})
    assert 0 < a.served.sum() < 300
    np.testing.assert_array_equal(a.served, b.served)
    assert (a.km, a.truck_hours) == (b.km, b.truck_hours)
    assert estimate_day(fleet, t.iloc[:0]).served.size == 0


def _visits(n, seed, prio_dtype=int):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "site": np.array([f"s{i}" for i in rng.integers(0, 99, n)], dtype=object),
        "x": rng.random(n), "y": rng.random(n),
        "kind": np.array(["young_tree"] * n, dtype=object),
        "priority": rng.integers(1, 4, n).astype(prio_dtype), "litres": rng.random(n),
        "reason": np.array(["due"] * n, dtype=object), "due_day": rng.random(n)},
        index=rng.permutation(n))


@pytest.mark.parametrize("n,m,dtype", [(5, 3, int), (0, 3, int), (5, 0, int), (0, 0, int),
                                       (4, 2, float)])
def test_stack_visits_is_their_concatenation(n, m, dtype):
    from irrigation.scenario.policies import VISIT_COLUMNS, stack_visits

    a, b = _visits(n, 1), _visits(m, 2, dtype)
    want = pd.concat([a[list(VISIT_COLUMNS)], b[list(VISIT_COLUMNS)]], ignore_index=True)
    pd.testing.assert_frame_equal(stack_visits(a, b), want)
    as_dict = {c: b[c].to_numpy() for c in VISIT_COLUMNS}
    pd.testing.assert_frame_equal(stack_visits(a, as_dict), want)


def test_yesterday_by_index_position_is_the_label_selection():
    """The season takes yesterday's weather by the time index's positions: what
    sel(time=slice(day - 1, day - 1)) selects (nothing on the first day)."""
    import xarray as xr

    days = np.arange(np.datetime64("2018-06-01"), np.datetime64("2018-06-11"))
    w = xr.Dataset({"precip_mm": ("time", np.arange(days.size, dtype=float), {"units": "mm"})},
                   coords={"time": days.astype("datetime64[ns]")})
    index = w.indexes["time"]
    for k, day in enumerate(days[:-1]):
        y = slice(day - 1, day - 1) if k else slice(day, day - 1)
        xr.testing.assert_identical(w.isel(time=index.slice_indexer(y.start, y.stop)),
                                    w.sel(time=y))
