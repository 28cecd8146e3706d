"""Plan outputs on the demo city: driver sheets, GeoJSON, map, summary; atomic writes."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

from irrigation.io.city import load_city
from irrigation.plan import make_plan, street_paths, write_plan
from irrigation.routing import build_problem, solve


@pytest.fixture(scope="module")
def city(demo_city_dir):
    return load_city(demo_city_dir)


def _visits(city, n, litres=150.0):
    s = city.sites.where(city.sites.kind == "young_tree", drop=True).isel(site=slice(0, n))
    return pd.DataFrame(
        {
            "site": s.site.values,
            "x": s.x.values,
            "y": s.y.values,
            "litres": np.full(n, litres),
            "street": s.street.values,
        }
    )


def _plan(city, visits):
    problem = build_problem(visits, city.refill_points, city.config.fleet, city.streets)
    sol = solve(problem, time_limit_s=1.0, seed=1)
    deferred = pd.DataFrame(
        {
            "site": ["S99999"],
            "litres": [100.0],
            "due_day": [0.0],
            "latest_safe_day": [np.datetime64("2018-07-02")],
            "reason": ["test"],
        }
    )
    return problem, sol, make_plan("2018-07-02", problem, sol, visits, deferred)


def test_plan_files_and_invariants(city, tmp_path):
    visits = _visits(city, 60)
    _, sol, plan = _plan(city, visits)
    out = write_plan(
        plan, tmp_path / "plans" / "2018-07-02", crs=city.config.crs, network=city.streets
    )
    names = sorted(p.name for p in out.iterdir())
    for f in (
        "routes.geojson",
        "map.png",
        "driver_sheets.pdf",
        "summary.json",
        "summary.csv",
        "deferred.csv",
    ):
        assert f in names
    sheets = [pd.read_csv(out / n) for n in names if n.startswith("driver_") and n.endswith(".csv")]
    assert len(sheets) == (plan.trucks["stops"] > 0).sum() >= 1
    assert len(plan.trucks) == sum(v.count for v in city.config.fleet)  # idle ones too
    served = pd.concat(sheets)
    served = served[served["kind"] == "visit"]
    # every scheduled site exactly once (none unserved with ample capacity)
    assert sorted(served["site"]) == sorted(visits["site"]) and len(sol.unserved) == 0
    # load between refills never exceeds the tank of the truck's type
    tank = {v.name: v.tank_l for v in city.config.fleet}
    loads = (
        plan.stops[plan.stops["kind"] == "visit"]
        .groupby(["vehicle", "trip"])
        .agg(litres=("litres", "sum"), vtype=("vehicle_type", "first"))
    )
    assert (loads["litres"] <= loads["vtype"].map(tank) + 1e-6).all()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["litres"] == pytest.approx(visits["litres"].sum())
    assert summary["deferred_sites"] == 1
    gj = json.loads((out / "routes.geojson").read_text())
    coords = np.array(
        [
            c
            for f in gj["features"]
            if f["geometry"]["type"] == "LineString"
            for c in f["geometry"]["coordinates"]
        ]
    )
    # WGS84 lon/lat of the demo district near Bochum (7.2 E, 51.5 N)
    assert coords[:, 0].min() > 7.1 and coords[:, 0].max() < 7.3
    assert coords[:, 1].min() > 51.45 and coords[:, 1].max() < 51.52


def test_driver_sheets_say_where_what_and_have_room_for_what_was_given(city, tmp_path):
    visits = _visits(city, 40)
    _, _, plan = _plan(city, visits)
    out = write_plan(plan, tmp_path / "p", crs=city.config.crs, network=city.streets,
                     sites=city.sites, refill_points=city.refill_points,
                     attribution="© test credit")
    sheet = pd.read_csv(out / "driver_01.csv", keep_default_na=False)
    for col in ("street", "position", "lat", "lon", "nav", "species", "site_kind",
                "planned_l", "given_l", "done", "notes"):
        assert col in sheet.columns
    visit = sheet[sheet["kind"] == "visit"]
    assert (visit["given_l"] == "").all()  # for the crew to fill in
    assert visit["number"].astype(int).tolist() == list(range(1, len(visit) + 1))
    assert (visit["street"] != "").all() and visit["position"].str.contains(" m |corner").all()
    assert visit["lat"].between(51.45, 51.52).all() and visit["lon"].between(7.1, 7.3).all()
    assert visit["nav"].str.startswith("geo:").all()
    s = city.sites.sel(site=visit["site"].to_numpy())
    assert visit["species"].tolist() == s["species"].values.tolist()
    # a route longer than half a shift has its break placed, 30 min
    brk = sheet[sheet["kind"] == "break"]
    if plan.trucks["work_h"].iloc[0] > 1:
        assert len(brk) == 1
    refills = sheet[sheet["kind"] == "refill"]
    assert (refills["fill_l"].astype(float) > 0).all()
    # every route with its break still passes the independent checker
    assert (out / "driver_sheets.pdf").read_bytes()[:4] == b"%PDF"


def test_plan_files_are_reproducible_and_readable_by_others(city, tmp_path):
    """A plan written twice is byte for byte the same (PDFs included); the folder has
    the mode of a new folder, not the 0700 of a temporary one."""
    import os

    _, _, plan = _plan(city, _visits(city, 20))
    a = write_plan(plan, tmp_path / "a", crs=city.config.crs, network=city.streets)
    b = write_plan(plan, tmp_path / "b", crs=city.config.crs, network=city.streets)
    for f in sorted(p.name for p in a.iterdir()):
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
    umask = os.umask(0)
    os.umask(umask)
    assert a.stat().st_mode & 0o777 == 0o777 & ~umask


def test_street_paths_follow_the_graph(city):
    n = city.streets
    x, y = n.x[[0, 50, 200]], n.y[[0, 50, 200]]
    legs = street_paths(n, x, y)
    assert len(legs) == 2
    for leg in legs:
        seg = np.hypot(*np.diff(leg, axis=0).T)
        assert seg.max() < 400  # hops between neighbouring intersections, not a straight jump
    # the path length equals the shortest-path distance (access legs are zero here)
    from scipy.sparse.csgraph import dijkstra

    d = dijkstra(n.adjacency(), indices=[0])[0, 50]
    assert np.hypot(*np.diff(legs[0], axis=0).T).sum() <= d + 1e-6


def test_empty_plan_is_valid(city, tmp_path):
    _, _, plan = _plan(city, _visits(city, 0))
    out = write_plan(plan, tmp_path / "empty", crs=city.config.crs, network=city.streets)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["litres"] == 0 and summary["served_sites"] == 0
    assert json.loads((out / "routes.geojson").read_text())["type"] == "FeatureCollection"


def test_failed_write_keeps_previous_plan(city, tmp_path, monkeypatch):
    _, _, plan = _plan(city, _visits(city, 10))
    out = write_plan(plan, tmp_path / "day", crs=city.config.crs, network=city.streets)
    before = (out / "summary.json").read_bytes()

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("irrigation.plan._write_pdf", boom)
    with pytest.raises(RuntimeError):
        write_plan(plan, out, crs=city.config.crs, network=city.streets)
    assert (out / "summary.json").read_bytes() == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["day"]


def test_writing_a_plan_leaves_the_plotting_backend_alone(city, tmp_path):
    """A notebook's inline backend survives writing plans (map PNG, driver-sheet PDF): the
    writers draw on their own Figures instead of switching pyplot to Agg."""
    import matplotlib

    before = matplotlib.get_backend()
    matplotlib.use("svg")
    try:
        _, _, plan = _plan(city, _visits(city, 5))
        out = write_plan(plan, tmp_path / "p", crs=city.config.crs, network=city.streets)
        assert (out / "map.png").read_bytes()[:4] == b"\x89PNG"
        assert (out / "driver_sheets.pdf").read_bytes()[:4] == b"%PDF"
        assert matplotlib.get_backend() == "svg"
    finally:
        matplotlib.use(before)


def test_truck_maps_drawn_by_worker_processes_are_the_same_pixels(city):
    from irrigation.plan import MapDrawing, Sheets

    _, _, plan = _plan(city, _visits(city, 400, litres=400.0))
    sheet = Sheets(plan, city.streets, city.config.crs, city.sites, city.refill_points, "")
    trucks = sorted(int(v) for v in plan.stops["vehicle"].unique())
    assert len(trucks) >= 2
    maps = {}
    for workers in (1, 2):
        with MapDrawing(sheet, trucks, workers=workers) as drawing:
            assert drawing.workers == workers
            maps[workers] = [drawing.truck_image(t) for t in trucks]
    here, forked = maps[1], maps[2]
    assert [a.tobytes() for a in here] == [b.tobytes() for b in forked]
    assert here[0].size == (1125, 1440)  # 7.5 x 9.6 in at 150 dpi


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the maps are drawn by forked workers")
def test_the_day_map_drawn_by_a_worker_is_the_same_file(city, tmp_path):
    from irrigation.plan import MapDrawing, Sheets

    _, _, plan = _plan(city, _visits(city, 400, litres=400.0))
    sheet = Sheets(plan, city.streets, city.config.crs, city.sites, city.refill_points, "")
    for workers in (1, 2):
        with MapDrawing(sheet, [1], tmp_path / f"map{workers}.png", workers) as drawing:
            assert drawing.workers == workers
            assert drawing.truck_image(1).size == (1125, 1440)
            drawing.write_day_map()
    assert (tmp_path / "map1.png").read_bytes() == (tmp_path / "map2.png").read_bytes()


def _broken_map(sheet, truck):
    if truck == 2:
        raise RuntimeError("no map for truck 2")
    os._exit(3)  # a worker that dies (killed, out of memory)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the maps are drawn by forked workers")
def test_a_worker_error_reaches_the_writer_and_a_dead_worker_does_not_hang(
        city, tmp_path, monkeypatch):
    from concurrent.futures.process import BrokenProcessPool

    from irrigation.plan import MapDrawing, Sheets

    _, _, plan = _plan(city, _visits(city, 400, litres=400.0))
    sheet = Sheets(plan, city.streets, city.config.crs, city.sites, city.refill_points, "")
    monkeypatch.setattr("irrigation.plan.truck_map_image", _broken_map)
    with MapDrawing(sheet, [2], workers=2) as drawing:
        with pytest.raises(RuntimeError, match="no map for truck 2"):
            drawing.truck_image(2)
    with MapDrawing(sheet, [1, 2], workers=2) as drawing:
        with pytest.raises(BrokenProcessPool):
            drawing.truck_image(1)
