"""Scenario results: summary against hand-computed numbers, plots, files and atomic writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from irrigation.scenario import results
from irrigation.scenario.results import (
    plot_cumulative_water,
    plot_groundwater_head,
    plot_stress_map,
    plot_stressed_sites,
    summary,
    write_results,
)

POLICIES = ["fixed-interval", "forecast"]
MEMBERS, DAYS, SITES, WELLS = 3, 20, 30, 2
KINDS = ["young_tree", "street_tree", "park_tree", "lawn", "shrub_bed"]
#: Season water [m³] of member m is 6 (p + 1) WATER_FACTOR[m]: 10 (p + 1) f L per site-day.
WATER_FACTOR = [2.0, 1.0, 3.0]
#: Stressed (Ks = 0.6) site-days of target sites: (policy, member, site, first day, days).
#: Sites: S005, S010 young trees, S007, S012 park trees; every 5th site (S004, S009, ...)
#: is a shrub bed no policy waters and is stressed all season in every run (not counted).
STRESSED = [
    (0, 0, 5, 0, 5), (0, 0, 10, 7, 1), (0, 1, 5, 3, 3), (0, 2, 7, 10, 2),
    (1, 0, 7, 5, 1), (1, 1, 12, 0, 2), (1, 2, 12, 18, 2),
]
ROUTING = ("PyVRP stopped after 50 iterations or 5 s per day (fast mode; the daily run "
           "uses 2000)")


def _dataset(description: str = "Rain -30 % over the 2018 season.",
             water_scale: float = 1.0) -> xr.Dataset:
    p = np.arange(len(POLICIES))[:, None, None, None]
    m = np.asarray(WATER_FACTOR)[None, :, None, None]
    water = np.broadcast_to(10.0 * (p + 1) * m * water_scale, (2, MEMBERS, DAYS, SITES))
    kind = np.array(KINDS * (SITES // len(KINDS)))
    ks = np.ones((2, MEMBERS, DAYS, SITES), dtype=np.float32)
    ks[..., kind == "shrub_bed"] = 0.2
    for pol, mem, site, first, n in STRESSED:
        ks[pol, mem, first:first + n, site] = 0.6
    pm = np.arange(2)[:, None, None], np.arange(MEMBERS)[None, :, None]
    daily = np.ones((2, MEMBERS, DAYS))
    head = np.broadcast_to(30.0 - 0.01 * np.arange(DAYS)[None, None, :, None],
                           (2, MEMBERS, DAYS, WELLS)).copy()
    head[0, 1, 15, 1] = 27.25
    four = ("policy", "member", "time", "site")
    three = ("policy", "member", "time")
    return xr.Dataset(
        {
            "water_l": (four, water.astype(np.float32), {"units": "L"}),
            "dr_mm": (four, np.full(ks.shape, 10.0, np.float32), {"units": "mm"}),
            "ks": (four, ks, {"units": "1"}),
            "taw_mm": (("member", "site"), np.full((MEMBERS, SITES), 60.0, np.float32),
                       {"units": "mm"}),
            "planned_l": (three, water.sum(-1), {"units": "L"}),
            "visits": (three, (daily * (pm[0] + pm[1])).astype(int)),
            "deferred": (three, np.zeros(daily.shape, dtype=int)),
            "km": (three, daily * (pm[0] + 1) * (pm[1] + 1), {"units": "km"}),
            "truck_hours": (three, daily * (0.5 + 0.25 * pm[0]), {"units": "h"}),
            "head_wells_m": ((*three, "well"), head, {"units": "m"}),
            "precip_mm": ("time", np.zeros(DAYS), {"units": "mm d-1"}),
            "et0_mm": ("time", np.full(DAYS, 4.5), {"units": "mm d-1"}),
        },
        coords={
            "policy": POLICIES,
            "member": np.arange(MEMBERS),
            "time": pd.date_range("2018-07-01", periods=DAYS, freq="D"),
            "site": [f"S{i:03d}" for i in range(SITES)],
            "x": ("site", 390_000.0 + 100.0 * np.arange(SITES), {"units": "m"}),
            "y": ("site", 5_820_000.0 + 50.0 * (np.arange(SITES) % 7), {"units": "m"}),
            "kind": ("site", kind),
            "target": ("site", kind != "shrub_bed"),
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


# --------------------------------------------------------------------------- summary


def test_summary_against_hand_computed_values(ds):
    s = summary(ds)
    assert list(s.index) == POLICIES and s.index.name == "policy"
    expected = pd.DataFrame({
        "water_m3": [12.0, 24.0], "water_m3_min": [6.0, 12.0], "water_m3_max": [18.0, 36.0],
        "truck_hours": [10.0, 15.0], "km": [40.0, 80.0], "visits": [20.0, 40.0],
        "stress_site_days": [11 / 3, 5 / 3], "stress_site_days_young_tree": [3.0, 0.0],
        "worst_site": ["S005", "S012"], "worst_site_stress_days": [8 / 3, 4 / 3],
        "min_head_wells_m": [27.25, 29.81],
    }, index=pd.Index(POLICIES, name="policy"))
    assert list(s.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(s, expected, check_dtype=False, rtol=1e-6)


def test_summary_without_stress_names_no_worst_site(ds):
    calm = ds.assign(ks=xr.ones_like(ds["ks"]))
    s = summary(calm)
    assert (s["worst_site"] == "").all()
    assert (s[["stress_site_days", "worst_site_stress_days"]] == 0).all().all()


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.drop_vars("ks"), "no variable 'ks'"),
    (lambda d: d.assign(water_l=d["water_l"].assign_attrs(units="m3")), "'water_l' in 'L'"),
    (lambda d: d.assign(km=d["km"].isel(member=0)), "'km' on"),
    (lambda d: d.drop_vars("target"), "no site coordinate 'target'"),
])
def test_summary_rejects_another_layout(ds, change, message):
    with pytest.raises(ValueError, match=message):
        summary(change(ds))


# --------------------------------------------------------------------------- plots


def test_series_plots_show_median_and_band(ds):
    water = plot_cumulative_water(ds).axes[0]
    assert [t.get_text() for t in water.get_legend().get_texts()] == POLICIES
    # season totals per member 12, 6, 18 m³ (policy 0): the median line ends at 12
    assert water.lines[0].get_ydata()[-1] == pytest.approx(12.0)
    assert "[m³]" in water.get_ylabel()
    stressed = plot_stressed_sites(ds).axes[0].lines[0].get_ydata()
    # policy 0, day 0: one member stressed (S005), day 3: two of three (S005 twice)
    assert stressed[0] == 0 and stressed[3] == 1
    head = plot_groundwater_head(ds).axes[0]
    assert head.lines[1].get_ydata()[0] == pytest.approx(30.0)
    assert "m above datum" in head.get_ylabel()


def test_stress_map_panels_share_one_colour_scale(ds):
    fig = plot_stress_map(ds)
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(panels) == len(POLICIES)
    # most stress days per member of any target site: S005 under fixed-interval, 8 / 3
    for ax, site_days in zip(panels, [11 / 3, 5 / 3], strict=True):
        grey, coloured = ax.collections
        assert (coloured.norm.vmin, coloured.norm.vmax) == (0.0, pytest.approx(8 / 3))
        assert coloured.get_array().sum() == pytest.approx(site_days)
        assert len(grey.get_offsets()) == SITES // len(KINDS)
        assert grey.get_offsets()[0, 0] == pytest.approx(390.4)  # S004 at x = 390 400 m
        assert ax.get_aspect() == 1.0 and ax.get_xlabel() == "x [km]"


# --------------------------------------------------------------------------- files


FILES = {"dry-test.nc", "summary.csv", "cumulative_water.png", "stressed_sites.png",
         "groundwater_head.png", "stress_map.png", "report.md", "report.html"}


def test_write_results_writes_every_file(written):
    assert {p.name for p in written.iterdir()} == FILES
    assert [p.name for p in written.parent.iterdir()] == [written.name]


def test_netcdf_round_trips_compressed(ds, written):
    with xr.open_dataset(written / "dry-test.nc", engine="h5netcdf") as back:
        xr.testing.assert_identical(back.load(), ds)
        assert back["water_l"].encoding["zlib"] and back["ks"].encoding["zlib"]


def test_summary_csv_is_the_summary(ds, written):
    csv = pd.read_csv(written / "summary.csv", index_col="policy")
    pd.testing.assert_frame_equal(csv, summary(ds), check_dtype=False, rtol=1e-9)


def test_report_states_the_run(written):
    md = (written / "report.md").read_text(encoding="utf-8")
    page = (written / "report.html").read_text(encoding="utf-8")
    for text in (md, page):
        assert ROUTING in text and "Rain -30 % over the 2018 season." in text
        assert all(p in text for p in POLICIES)
        assert "How to read this" in text and "FAO-56 eq. 84" in text
    assert md.startswith("# Drought scenario dry-test — Test City\n")
    assert "| policy | water [m³] |" in md and "| fixed-interval | 12 | 6 | 18 |" in md
    assert all(f"]({name})" in md for name in FILES if name.endswith(".png"))
    assert page.count('src="data:image/png;base64,') == 4


def test_rewriting_replaces_the_results(tmp_path):
    out = tmp_path / "dry-test"
    write_results(_dataset(), out)
    new = _dataset("Second run.", water_scale=2.0)
    write_results(new, out)
    assert {p.name for p in out.iterdir()} == FILES
    assert [p.name for p in tmp_path.iterdir()] == [out.name]
    assert pd.read_csv(out / "summary.csv")["water_m3"].tolist() == [24.0, 48.0]
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
