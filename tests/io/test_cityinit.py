"""``irrigation city init``: a city folder from a city's own data (the Berlin samples of
tests/data), ready for validate and run; bad input is one line, exit 2, nothing written."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from irrigation.cli import build_parser, main
from irrigation.io.city import load_city
from irrigation.io.cityinit import InitSpec, init_city

DATA = Path(__file__).parents[1] / "data"
TREES = DATA / "cadastre" / "gdk_berlin_sample.csv"
PUMPS = DATA / "refill" / "berlin_pumps_sample.geojson"
DWD = DATA / "weather" / "produkt_klima_tag_20220701_20220710_00433.txt"
FUZZ = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def _args(out: Path, *extra: str) -> list[str]:
    return ["city", "init", str(out), "--trees", str(TREES), "--mapping", "berlin",
            "--refill-points", str(PUMPS), "--pump-l-per-min", "40", "--weather", str(DWD),
            "--weather-end", "2022-07-06", "--forecast", "observed", "--reference-year",
            "2022", "--season-start", "2022-07-01", *extra]


@pytest.fixture(scope="module")
def berlin(tmp_path_factory):
    out = tmp_path_factory.mktemp("init") / "berlin"
    assert main(_args(out)) == 0
    return out


def test_init_builds_a_city_that_validates(berlin, capsys):
    city = load_city(berlin)
    assert city.config.crs == "EPSG:25833"  # UTM zone 33 of the trees, not given
    assert city.sites.sizes["site"] == 8  # 22 event rows grouped to 8 trees
    kinds = pd.Series(city.sites.kind.values).value_counts()
    assert kinds["young_tree"] == 2 and kinds["street_tree"] == 6  # planted 2018, 2019
    assert city.config.groundwater.sim_dir is None
    assert main(["validate", "--city", str(berlin)]) == 0
    assert "depth to water assumed (10 m, the default)" in capsys.readouterr().out


def test_refill_points_kept_and_dropped_by_reason(berlin):
    """13 sample pumps: 2 broken and 2 locked left out by status; of the 9 others those
    beyond the trees' extent + 1 km left out; a depot (yard, rate 0) added."""
    table = pd.read_csv(berlin / "refill_points.csv", keep_default_na=False)
    assert table["id"].iloc[0] == "depot" and table["refill_l_per_min"].iloc[0] == 0
    pumps = table.iloc[1:]
    assert (pumps["refill_l_per_min"] == 40).all()
    assert not pumps["status"].isin(["defekt", "verriegelt"]).any()
    sites = pd.read_csv(berlin / "sites.csv")
    for _, p in pumps.iterrows():
        assert sites["x"].min() - 1000 <= p["x"] <= sites["x"].max() + 1000
        assert sites["y"].min() - 1000 <= p["y"] <= sites["y"].max() + 1000
    readme = (berlin / "README.md").read_text()
    assert "13 points, 9 kept" in readme and "dropped: 2 broken, 2 locked" in readme
    assert f"left out: {9 - len(pumps)} outside the trees' extent + 1000 m" in readme
    assert "depot ASSUMED at the centre of the trees" in readme


def test_weather_converted_to_the_project_csv(berlin):
    """The DWD KL values of 1 July 2022 in the file (TXK 28.9, TNK 14.6, RSK 0.0, SDK
    12.517, UPM 55.67) in the project CSV, wind FM 3.1 m/s at 10 m written at 2 m
    (FAO-56 eq. 47: x 4.87 / ln(67.8 x 10 - 5.42))."""
    w = pd.read_csv(berlin / "weather" / "observed.csv")
    assert list(w["date"]) == [f"2022-07-0{d}" for d in range(1, 7)]
    first = w.iloc[0]
    assert first["tmax_c"] == pytest.approx(28.9) and first["tmin_c"] == pytest.approx(14.6)
    assert first["precip_mm"] == 0 and first["sunshine_h"] == pytest.approx(12.517)
    assert first["rh_mean_pct"] == pytest.approx(55.67)
    from irrigation.io.weather import read_weather_csv

    u2 = read_weather_csv(berlin / "weather" / "observed.csv", wind_height_m=2.0)["wind_ms"]
    assert float(u2[0]) == pytest.approx(3.1 * 4.87 / np.log(67.8 * 10 - 5.42), abs=1e-4)
    toml = (berlin / "city.toml").read_text()
    assert 'observed = "weather/observed.csv"' in toml and "wind_height_m = 2.0" in toml


def test_readme_and_source_say_what_was_done(berlin):
    readme = (berlin / "README.md").read_text()
    assert "22 rows -> 8 trees (mapping 'berlin')" in readme
    assert "unmatched names (2 trees, 2 names)" in readme
    assert "area_m2 filled for 8 trees: 6 m2" in readme
    assert "water table assumed 10 m below every site" in readme
    assert "streets" in readme and "detour_factor" in readme
    source = (berlin / "SOURCE.md").read_text()
    import hashlib

    assert hashlib.sha256(TREES.read_bytes()).hexdigest() in source


def test_the_command_in_the_readme_parses_to_the_same_spec(tmp_path):
    """InitSpec.command() is the CLI's own command line: parsed again it gives the spec."""
    spec = InitSpec(out=str(tmp_path / "x"), trees=str(TREES), mapping="berlin",
                    district=("Neukölln", "13.3,52.4,13.5,52.6"), pump_l_per_min=40.0,
                    depot=(13.41, 52.49), notes=("a note", "two words"), trucks=3,
                    refill_spacing_m=300.0, attribution="© X")
    argv = shlex.split(spec.command())
    assert argv[:3] == ["irrigation", "city", "init"]
    args = build_parser().parse_args(argv[1:])
    assert args.district == ["Neukölln", "13.3,52.4,13.5,52.6"]
    assert args.note == ["a note", "two words"] and args.depot == "13.41,52.49"
    assert args.trucks == 3 and args.refill_spacing_m == 300.0 and args.attribution == "© X"
    defaults = build_parser().parse_args(["city", "init", "o", "--trees", "t"])
    plain = InitSpec(out="o", trees="t")
    for f in ("mapping", "hydrant_l_per_min", "depot_l_per_min", "margin_m", "trucks",
              "tank_l", "truck_pump_l_per_min", "refill_spacing_m"):
        assert getattr(defaults, f) == getattr(plain, f), f


def test_district_box_species_table_and_run_without_groundwater(tmp_path, capsys):
    """A district and a box select trees; a city species table takes the genus the
    packaged one lacks (Schnurbaum, from 'Japanischer Schnurbaum') with its own k_species,
    which the water balance uses; the city runs without groundwater model (a depot with
    water, no pump near Neukölln) and the report states the assumed depth to water."""
    species = tmp_path / "species.csv"
    species.write_text("species,common_name,kind_hint,wucols,k_species,p_depletion,genus,"
                       "german_names\nStyphnolobium,pagoda tree,tree,H,0.8,0.5,Styphnolobium,"
                       "Schnurbaum\n")
    out = tmp_path / "c"
    assert main(_args(out, "--district", "Neukölln", "--district", "13.3,52.3,13.6,52.7",
                      "--species", str(species), "--depth-to-water", "1.5",
                      "--depot-l-per-min", "100", "--run-date", "2022-07-04",
                      "--attribution", "Pumps: © OpenStreetMap contributors, ODbL 1.0")) == 0
    city = load_city(out)
    readme = (out / "README.md").read_text()
    assert "district 'Neukölln' (column bezirk): 3 of 8 trees kept" in readme
    assert "1 added to the packaged table" in readme
    assert "Styphnolobium" in city.species.index
    sp = pd.read_csv(out / "sites.csv")
    assert sorted(sp["species"]) == ["Styphnolobium", "Tilia", "Tilia"]  # genus LINDE
    assert set(sp["kind"]) == {"street_tree"}
    from irrigation.landscape import landscape_coefficient

    k = landscape_coefficient(city.sites, city.species).to_series()
    by = dict(zip(sp["species"], sp["id"], strict=True))  # one Tilia is enough
    assert k[by["Styphnolobium"]] / k[by["Tilia"]] == pytest.approx(0.8 / 0.5)
    ws = tmp_path / "ws"
    capsys.readouterr()
    assert main(["-q", "run", "--city", str(out), "--out", str(ws)]) == 0
    report = (ws / "plans" / "2022-07-04" / "report.md").read_text()
    assert "the water table 1.5 m below every site ([groundwater] depth_to_water_m)" in report
    assert "## Data credits\n\nPumps: © OpenStreetMap contributors, ODbL 1.0" in report
    record = json.loads((ws / "logs" / "run-2022-07-04.json").read_text())
    assert record["info"]["groundwater"].startswith("assumed: no groundwater model")
    dtw = pd.read_csv(ws / "plans" / "2022-07-04" / "demand.csv")["depth_to_water_m"]
    assert (dtw == 1.5).all() or len(dtw) == 0


def test_a_run_that_serves_none_of_the_due_sites_says_so(tmp_path):
    """Trucks whose shift holds no visit: every due site deferred, and the report and the
    run record say '0 of N due sites are served'."""
    out = tmp_path / "c"
    assert main(_args(out, "--run-date", "2022-07-05")) == 0
    toml = (out / "city.toml").read_text()
    toml = toml.replace('pump_l_per_min = 150.0', 'pump_l_per_min = 150.0\n'
                        'shift_start = "07:00"\nshift_end = "07:02"\nbreak_min = 0.0')
    (out / "city.toml").write_text(toml)
    sites = pd.read_csv(out / "sites.csv", keep_default_na=False)
    sites["root_depth_m"] = 0.1  # a shallow root zone dries within days: trees fall due
    sites["kind"] = "young_tree"
    sites.to_csv(out / "sites.csv", index=False)
    ws = tmp_path / "ws"
    assert main(["-q", "run", "--city", str(out), "--out", str(ws)]) == 0
    report = (ws / "plans" / "2022-07-05" / "report.md").read_text()
    record = json.loads((ws / "logs" / "run-2022-07-05.json").read_text())
    warn = [w for w in record["warnings"] if "due sites are served today" in w]
    assert len(warn) == 1 and warn[0].startswith("0 of ")
    assert warn[0] in report


@pytest.mark.parametrize(("extra", "field"), [
    (["--district", "Atlantis"], "no tree in district 'Atlantis'"),
    (["--district", "13.0,52.0,13.01,52.01"], "no tree inside the box"),
    (["--mapping", "nowhere.toml"], "no such mapping file"),
    (["--depot", "13.4"], "expected LON,LAT"),
    (["--depot", "200,52"], "expected LON,LAT in degrees"),
    (["--pump-l-per-min", "-4"], "--pump-l-per-min"),
    (["--depth-to-water", "deep"], "expected a depth in m or an .asc grid"),
    (["--depth-to-water", "missing.asc"], "file not found"),
    (["--crs", "EPSG:4326"], "EPSG:4326"),
    (["--forecast", "nowhere.kml"], "not found"),
    (["--weather-start", "2022-08-01"], "no days between"),
    (["--sensor-data", "x.csv"], "--sensor-data needs --sensors"),
    (["--season-start", "first of April"], "YYYY-MM-DD"),
])
def test_bad_options_one_line_exit_2_nothing_written(tmp_path, capsys, extra, field):
    out = tmp_path / "city"
    capsys.readouterr()
    assert main(_args(out, *extra)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and field in err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_existing_folder_is_kept(tmp_path, capsys):
    out = tmp_path / "city"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    assert main(_args(out)) == 2
    assert "not an empty folder" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


@FUZZ
@given(data=st.binary(max_size=300), suffix=st.sampled_from([".csv", ".geojson"]))
def test_any_trees_file_builds_a_city_or_one_input_error(tmp_path_factory, data, suffix):
    """Garbage after a Berlin header (or as GeoJSON): exit 0 with a loadable city, or exit
    2 with nothing written."""
    tmp = tmp_path_factory.mktemp("fuzz")
    trees = tmp / f"trees{suffix}"
    trees.write_bytes((b"id;lng;lat;baumart;gattung;pflanzjahr\n" if suffix == ".csv"
                       else b"") + data)
    out = tmp / "city"
    spec = InitSpec(out=str(out), trees=str(trees), mapping="berlin", reference_year=2022,
                    depot_l_per_min=100.0, crs="EPSG:25833")
    try:
        init_city(spec)
    except Exception as exc:
        from irrigation.errors import InputError

        assert isinstance(exc, InputError), repr(exc)
        assert "\n" not in str(exc)
        assert not out.exists() and [p.name for p in tmp.iterdir()] == [trees.name]
    else:
        assert load_city(out).sites.sizes["site"] >= 1


def test_weather_convert_cli(tmp_path, capsys):
    from irrigation.io.dwd import read_dwd_daily
    from irrigation.io.weather import read_weather_csv

    out = tmp_path / "w.csv"
    assert main(["weather", "convert", str(DWD), str(out), "--end", "2022-07-06"]) == 0
    got = read_weather_csv(out, wind_height_m=2.0)
    ref = read_dwd_daily(DWD, end="2022-07-06")
    for var in ("tmax_c", "tmin_c", "precip_mm", "sunshine_h", "wind_ms"):
        np.testing.assert_allclose(got[var].values, ref[var].values, atol=1e-4)
    assert main(["weather", "convert", str(DWD), str(tmp_path / "bad.csv"), "--start",
                 "2030-01-01"]) == 2
    assert not (tmp_path / "bad.csv").exists()


OSM = DATA / "osm" / "bautzen.osm"


def _bautzen_trees(path: Path, far: bool = False) -> Path:
    """Generic-mapping CSV: four young trees in the Bautzen extract (one 3 km off)."""
    rows = ["id,lon,lat,species,planting_year",
            "B1,14.4100,51.1890,Tilia cordata,2021", "B2,14.4120,51.1900,Acer,2022",
            "B3,14.4140,51.1885,Linde,2020", "B4,14.4130,51.1905,Spitz-Ahorn,2021"]
    if far:
        rows.append("B5,14.4550,51.1890,Tilia,2021")
    path.write_text("\n".join(rows) + "\n")
    return path


def test_osm_streets_and_the_osm_credit(tmp_path, capsys):
    pytest.importorskip("osmnx")
    out = tmp_path / "bautzen"
    args = ["city", "init", str(out), "--trees", str(_bautzen_trees(tmp_path / "t.csv")),
            "--osm", str(OSM), "--depot-l-per-min", "100", "--reference-year", "2022"]
    assert main(args) == 0
    city = load_city(out)
    assert city.streets is not None and city.streets.n_strongly_connected() == 1
    assert city.config.attribution == "Map data © OpenStreetMap contributors, ODbL 1.0"
    assert city.config.crs == "EPSG:25833"
    readme = (out / "README.md").read_text()
    assert "-> streets.graphml" in readme and "OSM tags" in readme
    assert set(city.sites.species.values) == {"Tilia cordata", "Acer", "Tilia",
                                              "Acer platanoides"}
    # a tree 3 km east of the extract: the city would not lie together, nothing written
    out2 = tmp_path / "far"
    args[2], args[4] = str(out2), str(_bautzen_trees(tmp_path / "far.csv", far=True))
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "1 of 5 sites lie more than 1 km from every street node" in err
    assert "e.g. B5 at" in err and not out2.exists()


@pytest.mark.parametrize("readings", ["readings_good.csv", "sensorthings_things.json"])
def test_sensor_probes_and_readings(tmp_path, readings):
    """A probe table on two of the sample trees and readings (long CSV or a SensorThings
    export) become sensors.csv and sensor-data/, read back with the city's channels."""
    probes = tmp_path / "probes.csv"
    probes.write_text("id,site,depth_cm,kind\nT001,_476eifu91,30,tension\n"
                      "T001,_476eifu91,60,tension\nT002,_kfx8hr7yk,30,vwc\n"
                      "T002,_kfx8hr7yk,60,vwc\n")
    out = tmp_path / "c"
    assert main(_args(out, "--sensors", str(probes), "--sensor-data",
                      str(DATA / "sensors" / readings))) == 0
    city = load_city(out)
    assert list(city.sensors.sensor.values) == ["T001", "T002"]
    assert city.config.sensor_data == (out / "sensor-data" / readings).resolve()
    readme = (out / "README.md").read_text()
    assert "values of 2 probes" in readme
    bad = tmp_path / "bad.csv"
    bad.write_text("id,site,depth_cm,kind\nT001,nosuchtree,30,tension\n")
    assert main(_args(tmp_path / "d", "--sensors", str(bad))) == 2
    assert not (tmp_path / "d").exists()


def test_groundwater_model_copied_and_sites_outside_its_grid_refused(tmp_path, capsys,
                                                                     demo_city_dir):
    """Ten demo-city sites as an EPSG:25832 GeoJSON with the demo's MODFLOW 6 folder: the
    model is checked and copied, the city runs on it; the Berlin trees with the same
    model lie ~400 km outside its grid, and init refuses with nothing written."""
    sites = pd.read_csv(demo_city_dir / "sites.csv", keep_default_na=False).iloc[:10]
    feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [r.x, r.y]},
              "properties": {"id": r.id, "kind": r.kind, "species": r.species,
                             "planting_year": int(r.planting_year)}}
             for r in sites.itertuples()]
    trees = tmp_path / "t.geojson"
    trees.write_text(json.dumps({"type": "FeatureCollection", "features": feats, "crs": {
        "type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}}}))
    gw = str(demo_city_dir / "groundwater")
    out = tmp_path / "c"
    assert main(["city", "init", str(out), "--trees", str(trees), "--groundwater", gw,
                 "--crs", "EPSG:25832", "--depot-l-per-min", "100",
                 "--reference-year", "2018"]) == 0
    city = load_city(out)
    assert city.config.groundwater.sim_dir == (out / "groundwater").resolve()
    assert (out / "groundwater" / "mfsim.nam").read_bytes() == \
        (demo_city_dir / "groundwater" / "mfsim.nam").read_bytes()
    np.testing.assert_allclose(city.sites.x.values, sites["x"].to_numpy(float), atol=0.01)
    capsys.readouterr()
    bad = tmp_path / "berlin"
    assert main(_args(bad, "--groundwater", gw)) == 2
    err = capsys.readouterr().err
    assert "8 of 8 sites lie outside the groundwater grid" in err and not bad.exists()
