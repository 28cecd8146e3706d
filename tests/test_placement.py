"""A city in EPSG:25833 is placed where it is (issue 20's defect: GeoJSON sites were
always projected to EPSG:25832, ~400 km off); ``validate`` fails with exit 2, naming how
many points lie where, when sites, refill points and streets do not lie together."""

from __future__ import annotations

import math

import pytest
from kreuzberg import TREES, haversine_m, make_city

from irrigation.cli import main
from irrigation.io.city import load_city
from irrigation.placement import placement_problems


@pytest.mark.parametrize("sites_crs", [None, "urn:ogc:def:crs:EPSG::25833"])
def test_epsg_25833_geojson_city_is_placed_where_it_is(tmp_path, sites_crs):
    """WGS84 (RFC 7946) or declared EPSG:25833 sites in an EPSG:25833 city: west of zone
    33's central meridian (15 E) by the right distance, the distances between trees those
    on the sphere, and next to the refill points."""
    city = load_city(make_city(tmp_path / "c", city_crs="EPSG:25833", sites_crs=sites_crs))
    x, y = city.sites.x.values, city.sites.y.values
    lon, lat = TREES["T1"]
    # easting: 500 km false easting minus the arc to 15 E along the parallel
    east = 500_000 - haversine_m(lon, lat, 15.0, lat)
    assert x[0] == pytest.approx(east, abs=0.005 * (500_000 - east))
    assert 5_800_000 < y[0] < 5_830_000  # ~52.5 N on the 0.9996-scaled meridian arc
    for a, b in [(0, 1), (1, 2), (0, 2)]:
        (la, pa), (lb, pb) = TREES[f"T{a + 1}"], TREES[f"T{b + 1}"]
        d = math.hypot(x[a] - x[b], y[a] - y[b])
        assert d == pytest.approx(haversine_m(la, pa, lb, pb), rel=0.005)
    assert placement_problems(city) == []
    assert main(["validate", "--city", str(city.path)]) == 0


def test_validate_fails_when_sites_and_refill_points_do_not_lie_together(tmp_path, capsys):
    """The same WGS84 sites in a city declared EPSG:25832 land ~400 km west of the
    EPSG:25833 refill points: validate exits 2 and says how many and where."""
    folder = make_city(tmp_path / "c", city_crs="EPSG:25832", sites_crs=None)
    city = load_city(folder)
    problems = placement_problems(city)
    assert len(problems) == 2  # sites far from refill points, the depot far from the sites
    assert problems[0].startswith("3 of 3 sites lie more than 10 km from every refill point")
    gap_km = float(problems[0].split("(nearest ")[1].split("-")[0])
    assert 350 < gap_km < 450
    assert "e.g. T1 at" in problems[0] and "EPSG:25832" in problems[0]
    assert problems[1].startswith("1 of 1 depots lie more than 10 km from every site")
    capsys.readouterr()
    assert main(["validate", "--city", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "do not lie together" in err and "3 of 3 sites" in err


def test_sites_off_the_streets_and_outside_the_groundwater_grid(city_copy):
    """The demo city lies together; two of its sites moved 5 km east are off the street
    graph and outside the groundwater grid, and both are named."""
    import pandas as pd

    from irrigation.io.city import load_groundwater

    city = load_city(city_copy)
    model = load_groundwater(city)
    assert placement_problems(city, model) == []
    sites = pd.read_csv(city_copy / "sites.csv", dtype=str, keep_default_na=False)
    moved = sites["id"].iloc[[3, 7]].tolist()
    sites.loc[[3, 7], "x"] = (sites.loc[[3, 7], "x"].astype(float) + 5000).round(2).astype(str)
    sites.to_csv(city_copy / "sites.csv", index=False)
    problems = placement_problems(load_city(city_copy), model)
    n = len(sites)
    assert problems[0].startswith(f"2 of {n} sites lie more than 1 km from every street node")
    assert f"e.g. {moved[0]} at" in problems[0]
    assert problems[-1].startswith(f"2 of {n} sites lie outside the groundwater grid")
    assert main(["validate", "--city", str(city_copy)]) == 2


def test_a_city_without_weather_groundwater_and_run_validates_and_run_names_what_it_lacks(
        tmp_path, capsys):
    """city.toml without [weather], [groundwater] and [run]: validate exits 0; run exits 2
    with one line naming the missing key, and writes nothing."""
    folder = make_city(tmp_path / "c", city_crs="EPSG:25833", sites_crs=None)
    assert main(["validate", "--city", str(folder)]) == 0
    ws = tmp_path / "ws"
    capsys.readouterr()
    assert main(["run", "--city", str(folder), "--date", "2022-07-05", "--out", str(ws)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'run.season_start'" in err
    with open(folder / "city.toml", "a") as fh:
        fh.write("\n[run]\nseason_start = 2022-07-01\n")
    assert main(["run", "--city", str(folder), "--date", "2022-07-05", "--out", str(ws),
                 "--forecast", "nowhere.csv"]) == 2
    assert main(["run", "--city", str(folder), "--date", "2022-07-05", "--out", str(ws)]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1].startswith("error: ") and "weather.forecast" in err
    assert not ws.exists()
    with open(folder / "city.toml", "a") as fh:
        fh.write('\n[weather]\nforecast = "observed"\n')
    assert main(["run", "--city", str(folder), "--date", "2022-07-05", "--out", str(ws)]) == 2
    err = capsys.readouterr().err
    assert "'weather.observed'" in err and "needs it" in err and not ws.exists()
