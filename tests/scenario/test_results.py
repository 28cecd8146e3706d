"""Scenario results: outcomes per kind against hand-computed numbers, intervals, the
iso-water front, plots, files and atomic writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats

from irrigation.scenario import results
from irrigation.scenario.results import (
    costs,
    front,
    interval,
    members_needed,
    outcomes,
    paired,
    plot_critical_sites,
    plot_cumulative_water,
    plot_front,
    plot_groundwater_head,
    plot_stress_map,
    summary,
    write_results,
)

#: policy name -> type
POLICIES = {"none": "none", "rot-a": "fixed-interval", "rot-b": "fixed-interval",
            "fc": "forecast"}
MEMBERS, DAYS, SITES, WELLS = 3, 20, 10, 2
#: sites 0-5 young trees, 6-7 lawns, 8-9 street trees
KIND = np.array(["young_tree"] * 6 + ["lawn"] * 2 + ["street_tree"] * 2)
#: litres per young-tree site-day of each policy (member factor below)
WATER_L = {"none": 0.0, "rot-a": 10.0, "rot-b": 30.0, "fc": 20.0}
MEMBER_FACTOR = np.array([1.0, 2.0, 3.0])
#: critical (> 80 kPa) days of site 0 per policy and member: the rest of the tensions is
#: 50 kPa (moderate) on sites 0-2 and 20 kPa (good) on the others
CRITICAL_DAYS = {"none": [16, 17, 18], "rot-a": [12, 13, 14], "rot-b": [4, 5, 6],
                 "fc": [5, 5, 8]}
ROUTING = "the fleet day estimated (test)"


def _dataset(description: str = "Rain -30 % over the 2018 season.",
             water_scale: float = 1.0) -> xr.Dataset:
    names = list(POLICIES)
    n_p = len(names)
    tension = np.full((n_p, MEMBERS, DAYS, SITES), 20.0, np.float32)
    tension[..., :3] = 50.0
    ks = np.ones(tension.shape, np.float32)
    water = np.zeros(tension.shape, np.float32)
    for p, name in enumerate(names):
        for m in range(MEMBERS):
            d = CRITICAL_DAYS[name][m]
            tension[p, m, :d, 0] = 120.0
            ks[p, m, :d, 0] = 0.5
            water[p, m, :, :6] = WATER_L[name] * MEMBER_FACTOR[m] * water_scale
    water[1, :, :, 6] = 100.0  # rot-a also waters lawn 6
    daily = np.ones((n_p, MEMBERS, DAYS))
    head = np.broadcast_to(73.03 + 0.0001 * np.arange(DAYS)[None, None, :, None],
                           (n_p, MEMBERS, DAYS, WELLS)).copy()
    four = ("policy", "member", "time", "site")
    three = ("policy", "member", "time")
    return xr.Dataset(
        {
            "water_l": (four, water, {"units": "L"}),
            "dr_mm": (four, np.full(ks.shape, 10.0, np.float32), {"units": "mm"}),
            "ks": (four, ks, {"units": "1"}),
            "tension_kpa": (four, tension, {"units": "kPa"}),
            "taw_mm": (("member", "site"), np.full((MEMBERS, SITES), 60.0, np.float32),
                       {"units": "mm"}),
            "planned_l": (three, water.sum(-1), {"units": "L"}),
            "visits": (three, daily.astype(int)),
            "deferred": (three, np.zeros(daily.shape, dtype=int)),
            "km": (three, daily * 2.0, {"units": "km"}),
            "truck_hours": (three, daily * 0.5, {"units": "h"}),
            "head_wells_m": ((*three, "well"), head, {"units": "m"}),
            "precip_mm": ("time", np.zeros(DAYS), {"units": "mm d-1"}),
            "et0_mm": ("time", np.full(DAYS, 4.5), {"units": "mm d-1"}),
        },
        coords={
            "policy": names,
            "policy_type": ("policy", list(POLICIES.values())),
            "member": np.arange(MEMBERS),
            "time": pd.date_range("2018-07-01", periods=DAYS, freq="D"),
            "site": [f"S{i:03d}" for i in range(SITES)],
            "x": ("site", 390_000.0 + 100.0 * np.arange(SITES), {"units": "m"}),
            "y": ("site", 5_820_000.0 + 50.0 * (np.arange(SITES) % 7), {"units": "m"}),
            "kind": ("site", KIND),
            "well": ["W1", "W2"],
            "well_x": ("well", [390_500.0, 392_000.0], {"units": "m"}),
            "well_y": ("well", [5_820_100.0, 5_820_200.0], {"units": "m"}),
        },
        attrs={
            "scenario": "dry-test", "description": description, "city": "Test City",
            "routing": ROUTING,
            "groundwater": "Embedded solver, heads from the spin-up steady state.",
            "forecast": "Perfect forecast of the true weather, 5 members.",
            "execution_rate": 0.9, "members": MEMBERS, "seed": 7,
            "spinup_start": "2018-04-01", "season": "2018-07-01..2018-07-20",
            "scenario_toml": 'name = "dry-test"\n[season]\nstart = 2018-07-01\n',
        },
    )


@pytest.fixture(scope="module")
def ds() -> xr.Dataset:
    return _dataset()


@pytest.fixture(scope="module")
def written(ds, tmp_path_factory) -> Path:
    return write_results(ds, tmp_path_factory.mktemp("out") / "dry-test")


# --------------------------------------------------------------------------- outcomes


def test_outcomes_per_kind_against_hand_counts(ds):
    out = outcomes(ds)
    young = out.sel(kind="young_tree")
    for p, name in enumerate(POLICIES):
        crit = np.array(CRITICAL_DAYS[name], float)
        np.testing.assert_array_equal(young["critical_site_days"][p], crit)
        # sites 0-2 moderate (50 kPa) when not critical, sites 3-5 good (20 kPa)
        np.testing.assert_array_equal(young["moderate_site_days"][p], 3 * DAYS - crit)
        np.testing.assert_array_equal(young["good_site_days"][p], [3 * DAYS] * 3)
        np.testing.assert_allclose(young["stress_index"][p], 0.5 * crit)
        # a run of >= 14 critical days: site 0 when its critical days are >= 14
        np.testing.assert_array_equal(young["dying_sites"][p], (crit >= 14).astype(float))
        # worst 10 % of 6 sites = 1 site: site 0
        np.testing.assert_array_equal(young["worst10_critical_days"][p], crit)
        water = WATER_L[name] * MEMBER_FACTOR * 6 * DAYS / 1000
        np.testing.assert_allclose(young["water_m3"][p], water, rtol=1e-6)
    lawn = out.sel(kind="lawn")
    np.testing.assert_allclose(lawn["water_m3"].sel(policy="rot-a"), 2.0)  # 100 L x 20 d
    assert float(lawn["critical_site_days"].sum()) == 0
    np.testing.assert_allclose(out["truck_hours"].sel(policy="fc"), 10.0)


def test_interval_is_students_t():
    v = np.array([3.0, 5.0, 10.0])
    m, lo, hi = interval(v)
    half = stats.t.ppf(0.975, 2) * v.std(ddof=1) / np.sqrt(3)
    assert m == pytest.approx(6.0) and hi - m == pytest.approx(half)
    assert m - lo == pytest.approx(half)
    assert np.isnan(interval(np.array([1.0]))[1])


def test_summary_rows_per_policy_and_kind(ds):
    s = summary(ds)
    assert list(s.index.names) == ["policy", "kind"]
    # every kind of the city, watered or not (tables of two scenarios line up)
    assert set(s.index.get_level_values("kind")) == {"young_tree", "lawn", "street_tree"}
    assert (s.filter(like="_lo") >= 0).all().all()  # amounts: intervals clipped at 0
    row = s.loc[("rot-b", "young_tree")]
    assert row["critical_site_days"] == pytest.approx(5.0)
    assert row["critical_site_days_lo"] < 5.0 < row["critical_site_days_hi"]
    # m³ per avoided critical site-day against "none": water (30 L x 6 sites x 20 d x
    # mean member factor 2 = 7.2 m³) per (17 - 5) avoided days
    assert row["m3_per_avoided_critical_day"] == pytest.approx(7.2 / 12)
    assert np.isnan(s.loc[("none", "young_tree"), "m3_per_avoided_critical_day"])


def test_paired_differences_member_by_member(ds):
    d = paired(ds, "rot-a")
    assert "rot-a" not in d.index
    diff = np.array(CRITICAL_DAYS["fc"]) - np.array(CRITICAL_DAYS["rot-a"])  # -7, -8, -6
    m, lo, hi = interval(diff.astype(float))
    assert d.loc["fc", "critical_site_days"] == pytest.approx(m)
    assert (d.loc["fc", "critical_site_days_lo"], d.loc["fc", "critical_site_days_hi"]) == (
        pytest.approx(lo), pytest.approx(hi))


def test_front_interpolates_the_rotations_at_equal_water(ds):
    f = front(ds)
    assert set(f.index) == {"none", "fc"}
    fc = f.loc["fc"]
    # fc's water (20 L) lies halfway between rot-a (10 L) and rot-b (30 L) in every
    # member: the front there is the mean of their critical days
    ref = (np.array(CRITICAL_DAYS["rot-a"]) + CRITICAL_DAYS["rot-b"]) / 2
    diff = np.array(CRITICAL_DAYS["fc"]) - ref
    assert fc["inside"] and fc["difference"] == pytest.approx(diff.mean())
    assert fc["front_critical_site_days"] == pytest.approx(ref.mean())
    assert not f.loc["none", "inside"] and np.isnan(f.loc["none", "difference"])
    assert np.isnan(f.loc["none", "front_critical_site_days"])  # no clamped front value
    text = results.front_sentence(ds)
    assert "fc beats the rotation front at equal water" in text
    assert "95 % interval" in text


def test_members_needed_from_the_paired_spread(ds):
    d = (np.array(CRITICAL_DAYS["fc"]) - np.array(CRITICAL_DAYS["rot-a"])).astype(float)
    s = d.std(ddof=1)
    n = members_needed(ds, "fc", "rot-a", halfwidth=0.5)
    assert stats.t.ppf(0.975, n - 1) * s / np.sqrt(n) <= 0.5
    assert stats.t.ppf(0.975, n - 2) * s / np.sqrt(n - 1) > 0.5


def test_costs_per_policy(ds):
    c = costs(ds)
    assert list(c.index) == list(POLICIES)
    assert c.loc["fc", "truck_hours"] == pytest.approx(10.0)
    # young trees 10 L x member factor (mean 2) x 6 sites x 20 d, plus lawn 100 L x 20 d
    assert c.loc["rot-a", "water_m3"] == pytest.approx(10 * 2 * 6 * DAYS / 1000 + 2.0)


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.drop_vars("tension_kpa"), "no variable 'tension_kpa'"),
    (lambda d: d.assign(water_l=d["water_l"].assign_attrs(units="m3")), "'water_l' in 'L'"),
    (lambda d: d.assign(km=d["km"].isel(member=0)), "'km' on"),
    (lambda d: d.drop_vars("kind"), "no site coordinate 'kind'"),
])
def test_outcomes_reject_another_layout(ds, change, message):
    with pytest.raises(ValueError, match=message):
        outcomes(change(ds))


# --------------------------------------------------------------------------- plots


def test_plots(ds):
    water = plot_cumulative_water(ds).axes[0]
    assert [t.get_text() for t in water.get_legend().get_texts()] == list(POLICIES)
    assert "[m³]" in water.get_ylabel()
    crit = plot_critical_sites(ds).axes[0].lines[0].get_ydata()  # policy none
    # day 0: site 0 critical in every member; day 17: only in member 2 (18 days)
    assert crit[0] == 1 and crit[17] == 0
    head = plot_groundwater_head(ds).axes[0]
    low, top = head.get_ylim()
    assert top - low >= results.HEAD_MIN_SPAN_M - 1e-9  # no sub-millimetre ticks
    assert head.yaxis.get_major_formatter().get_offset() == ""
    fig = plot_front(ds)
    assert "water delivered to the young_tree sites" in fig.axes[0].get_xlabel()
    panels = [ax for ax in plot_stress_map(ds).axes if ax.get_label() != "<colorbar>"]
    assert len(panels) == len(POLICIES)


# --------------------------------------------------------------------------- files


FILES = {"dry-test.nc", "summary.csv", "costs.csv", "paired.csv", "front.csv",
         "iso_water_front.png", "cumulative_water.png", "critical_sites.png",
         "groundwater_head.png", "stress_map.png", "report.md", "report.html"}


def test_write_results_writes_every_file(written):
    assert {p.name for p in written.iterdir()} == FILES
    assert [p.name for p in written.parent.iterdir()] == [written.name]


def test_netcdf_round_trips_compressed(ds, written):
    with xr.open_dataset(written / "dry-test.nc", engine="h5netcdf") as back:
        xr.testing.assert_identical(back.load(), ds)
        assert back["water_l"].encoding["zlib"] and back["ks"].encoding["zlib"]


def test_summary_csv_is_the_summary(ds, written):
    csv = pd.read_csv(written / "summary.csv", index_col=["policy", "kind"])
    pd.testing.assert_frame_equal(csv, summary(ds), check_dtype=False, rtol=1e-9)


def test_report_states_the_run_and_rounds(written):
    md = (written / "report.md").read_text(encoding="utf-8")
    page = (written / "report.html").read_text(encoding="utf-8")
    for text in (md, page):
        assert ROUTING in text and "Rain -30 % over the 2018 season." in text
        assert all(p in text for p in POLICIES)
        assert "How to read this" in text and "FAO-56 eq. 84" in text
        assert "beats the rotation front at equal water" in text
    assert md.startswith("# Drought scenario dry-test — Test City\n")
    assert "Outcomes of the 6 young_tree sites" in md
    assert "99999" not in md and "00000" not in md  # no float32 noise
    assert all(f"]({name})" in md for name in FILES if name.endswith(".png"))
    assert page.count('src="data:image/png;base64,') == 5


def test_rewriting_replaces_the_results(tmp_path):
    out = tmp_path / "dry-test"
    write_results(_dataset(), out)
    new = _dataset("Second run.", water_scale=2.0)
    write_results(new, out)
    assert {p.name for p in out.iterdir()} == FILES
    assert "Second run." in (out / "report.md").read_text(encoding="utf-8")
    with xr.open_dataset(out / "dry-test.nc", engine="h5netcdf") as back:
        xr.testing.assert_identical(back.load(), new)


def test_failure_while_plotting_leaves_previous_results(written, tmp_path, monkeypatch):
    out = tmp_path / "dry-test"
    out.mkdir()
    for f in written.iterdir():
        (out / f.name).write_bytes(f.read_bytes())
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def boom(ds):
        raise RuntimeError("plot failed")

    monkeypatch.setattr(results, "plot_stress_map", boom)
    with pytest.raises(RuntimeError, match="plot failed"):
        write_results(_dataset("Second run.", water_scale=2.0), out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == [out.name]
