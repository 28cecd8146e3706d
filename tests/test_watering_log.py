"""``irrigation log add``: what the crews report goes into the watering log, checked, and
the next run reads it (hand-made plan folders; no run needed)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from irrigation.cli import main
from irrigation.io.city import load_city
from irrigation.io.observations import read_observed
from irrigation.io.watering import add_to_log, read_report
from irrigation.io.workspace import Workspace

DAY = "2018-07-02"


@pytest.fixture(scope="module")
def city(demo_city_dir):
    return load_city(demo_city_dir)


def _sheet(path, sites, given, day=DAY):
    """A driver sheet as the plan writes it: start, visits, a refill, end."""
    n = len(sites)
    rows = pd.DataFrame({
        "date": day, "truck": 1, "kind": ["start", *["visit"] * n, "refill", "end"],
        "site": ["DEPOT", *sites, "H01", "DEPOT"],
        "planned_l": [np.nan, *[150.0] * n, np.nan, np.nan],
        "given_l": ["", *given, "", ""]})
    rows.to_csv(path, index=False)
    return path


def _workspace(tmp_path, days=(DAY,)):
    ws = Workspace(tmp_path / "ws")
    for d in days:
        (ws.root / "plans" / d).mkdir(parents=True)
    return ws


def test_a_driver_sheet_is_logged_and_read_by_the_next_run(city, tmp_path):
    ws = _workspace(tmp_path)
    ids = city.sites["site"].values[:3].tolist()
    sheet = _sheet(tmp_path / "driver_01.csv", ids, ["150", "0", ""])
    report = read_report(sheet)
    assert report.kind == "driver sheet"
    assert report.rows["litres"].tolist() == [150.0, 0.0]  # the empty one: not reported
    assert len(report.skipped) == 1 and ids[2] in report.skipped[0]
    added = add_to_log(report, sheet, city.sites, ws.root / "plans", ws.watering_log)
    assert added.log == ws.watering_log and len(added.rows) == 2
    obs = read_observed(city, np.datetime64("2018-06-25"), np.datetime64(DAY),
                        reported=ws.watering_log)
    day = obs.watering_l.sel(time=DAY)
    assert float(day.sel(site=ids[0])) == 150.0
    assert float(day.sel(site=ids[1])) == 0.0
    # the reported day replaces the city log's rows of that day (the demo's rotation)
    city_log = pd.read_csv(city.config.watering_log)
    rotation = city_log[city_log["date"] == DAY]
    assert len(rotation) > 0 and float(day.sum()) == 150.0
    before = obs.watering_l.sel(time="2018-07-01")
    assert float(before.sum()) == city_log[city_log["date"] == "2018-07-01"]["litres"].sum()


def test_as_planned_counts_empty_rows_and_split_visits_are_summed(city, tmp_path):
    ws = _workspace(tmp_path)
    ids = city.sites["site"].values[:2].tolist()
    sheet = _sheet(tmp_path / "driver_02.csv", [ids[0], ids[0], ids[1]], ["", "", "80"])
    report = read_report(sheet, as_planned=True)
    added = add_to_log(report, sheet, city.sites, ws.root / "plans", ws.watering_log)
    assert added.rows.set_index("site")["litres"].to_dict() == {ids[0]: 300.0, ids[1]: 80.0}


@pytest.mark.parametrize(("edit", "message"), [
    (lambda r: r.assign(tree_id=["S99999", *r["tree_id"][1:]]), "unknown site"),
    (lambda r: r.assign(date="2018-07-09"), "outside the plan"),
])
def test_bad_reports_are_refused_whole(city, tmp_path, edit, message):
    ws = _workspace(tmp_path)
    ids = city.sites["site"].values[:2].tolist()
    app = tmp_path / "app.csv"
    export = pd.DataFrame({"tree_id": ids, "Liters": [100, 120], "timestamp": [
        f"{DAY}T08:15:00+02:00", f"{DAY}T09:00:00+02:00"]})
    edit(export).to_csv(app, index=False)
    report = read_report(app)
    assert report.kind == "crew app export"
    with pytest.raises(Exception, match=message) as info:
        add_to_log(report, app, city.sites, ws.root / "plans", ws.watering_log)
    assert "app.csv" in str(info.value) and "line 2" in str(info.value)
    assert not ws.watering_log.exists()


def test_parts_of_a_split_visit_from_two_trucks_are_both_logged(city, tmp_path):
    ws = _workspace(tmp_path)
    site = city.sites["site"].values[:1].tolist()
    one = _sheet(tmp_path / "driver_01.csv", site, ["1500"])
    two = _sheet(tmp_path / "driver_03.csv", site, ["1500"])
    pd.read_csv(two).assign(truck=3).to_csv(two, index=False)
    for sheet in (one, two):
        add_to_log(read_report(sheet), sheet, city.sites, ws.root / "plans", ws.watering_log)
    log = pd.read_csv(ws.watering_log)
    assert log["by"].tolist() == ["truck 1", "truck 3"] and log["litres"].sum() == 3000.0
    with pytest.raises(Exception, match="duplicate"):
        add_to_log(read_report(two), two, city.sites, ws.root / "plans", ws.watering_log)


def test_duplicates_and_other_days_are_refused(city, tmp_path):
    ws = _workspace(tmp_path, days=(DAY, "2018-07-03"))
    ids = city.sites["site"].values[:2].tolist()
    sheet = _sheet(tmp_path / "driver_01.csv", ids, ["100", "120"])
    add_to_log(read_report(sheet), sheet, city.sites, ws.root / "plans", ws.watering_log)
    with pytest.raises(Exception, match="duplicate"):
        add_to_log(read_report(sheet), sheet, city.sites, ws.root / "plans", ws.watering_log)
    with pytest.raises(Exception, match="outside the plan of 2018-07-03"):
        add_to_log(read_report(sheet), sheet, city.sites, ws.root / "plans", ws.watering_log,
                   date="2018-07-03")
    assert len(pd.read_csv(ws.watering_log)) == 2


def test_cli_log_add(city, tmp_path, capsys, demo_city_dir):
    ws = _workspace(tmp_path)
    ids = city.sites["site"].values[:2].tolist()
    export = tmp_path / "crew.json"
    export.write_text(json.dumps({"visits": [{"site_id": ids[0], "amount_l": 95},
                                             {"site_id": ids[1], "amount_l": 110}]}))
    code = main(["log", "add", str(export), "--city", str(demo_city_dir), "--out",
                 str(ws.root), "--date", DAY])
    out = capsys.readouterr().out
    assert code == 0 and "2 rows, 205 L" in out
    code = main(["log", "add", str(export), "--city", str(demo_city_dir), "--out",
                 str(ws.root), "--date", DAY])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error:") and "duplicate" in err
