"""The city loader: the demo city loads with the documented dims and units, and bad
rows in sites, sensors and refill points are reported with file, line and column."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from irrigation.city import SEALING_CLASSES, SITE_KINDS
from irrigation.errors import InputError
from irrigation.io.city import load_city
from irrigation.io.soil_tables import read_soil_textures as soil_textures
from irrigation.io.soil_tables import read_species as species_table
from irrigation.io.tables import read_sites


@pytest.fixture(scope="module")
def city(demo_city_dir):
    return load_city(demo_city_dir)


def test_demo_city_dims_and_units(city):
    s = city.sites
    assert s.sizes["site"] >= 1500
    assert set(np.unique(s.kind.values)) == set(SITE_KINDS)
    assert set(np.unique(s.sealing.values)) <= set(SEALING_CLASSES)
    assert s.area_m2.attrs["units"] == "m2" and s.root_depth_m.attrs["units"] == "m"
    assert (s.area_m2 > 0).all()
    young = s.kind == "young_tree"
    age = 2018 - s.planting_year.where(young, drop=True)
    assert age.min() >= 0 and age.max() <= 5
    assert len(np.unique(s.species.where(young, drop=True).values)) >= 5
    assert float(s.x.max() - s.x.min()) == pytest.approx(3000, abs=50)
    assert float(s.y.max() - s.y.min()) == pytest.approx(2000, abs=50)


def test_demo_city_parts(city):
    sensor_sites = np.unique(city.sensors.site.values)
    assert 30 <= len(sensor_sites) <= 60
    assert list(city.sensors.depth.values) == [30, 60, 90]
    assert bool(city.sensors.installed.all())
    assert (city.sites.kind.sel(site=sensor_sites) == "young_tree").all()
    assert int((city.refill_points.kind == "hydrant").sum()) >= 15
    assert city.depot.sizes["refill"] == 1
    assert 3 <= sum(v.count for v in city.config.fleet) <= 4
    net = city.streets
    assert net.n_nodes >= 300
    assert net.n_strongly_connected() == 1
    pairs = set(zip(net.edge_from.tolist(), net.edge_to.tolist(), strict=True))
    assert 0 < sum((v, u) not in pairs for u, v in pairs) < 0.1 * len(pairs)  # a few one-way


def test_summary_mentions_counts(city):
    text = city.summary()
    assert "sites        1590: young_tree 770, street_tree 430" in text
    assert "1 depot, 18 hydrants" in text
    assert "4 trucks, 14,000 L per round" in text
    assert "331 intersections" in text


def _replace_line(path, line_no, column, value):
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[line_no - 1].split(",")
    cells[header.index(column)] = value
    lines[line_no - 1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    ("file", "line", "column", "value", "words"),
    [
        ("sites.csv", 7, "area_m2", "-3.5", "an area in (0, "),
        ("sites.csv", 9, "kind", "palm", "one of young_tree"),
        ("sites.csv", 4, "soil_texture", "moon_dust", "one of sand"),
        ("sites.csv", 5, "species", "Tilia imaginaria", "species listed"),
        ("sites.csv", 3, "planting_year", "2019.5", "whole number"),
        ("sites.csv", 3, "x", "east", "a number"),
        ("sites.csv", 3, "x", "inf", "a number"),
        ("sites.csv", 4, "y", "nan", "a number"),
        ("sites.csv", 6, "area_m2", "1e12", "an area in (0, 1e+06] m2"),
        ("sites.csv", 8, "planting_year", "2150", "a year in [1600, "),
        ("refill_points.csv", 3, "x", "-inf", "a number"),
        ("sites.csv", 10, "priority", "7", "1 (highest)"),
        ("sites.csv", 5, "id", "S00002", "appears twice"),
        ("sensors.csv", 6, "site", "S99999", "id of a site"),
        ("sensors.csv", 2, "depth_cm", "-30", "depth in (0, 300]"),
        ("sensors.csv", 3, "site", "S00021", "one site per probe"),
        ("sensors.csv", 3, "kind", "vwc", "one kind per probe"),
        ("sensors.csv", 3, "depth_cm", "30", "appears twice"),
        ("refill_points.csv", 3, "kind", "well", "one of depot, hydrant"),
    ],
)
def test_bad_rows_name_file_line_column(city_copy, file, line, column, value, words):
    _replace_line(city_copy / file, line, column, value)
    with pytest.raises(InputError) as err:
        load_city(city_copy)
    msg = str(err.value)
    assert file in msg and f"'{column}'" in msg and words in msg
    assert f"line {line}:" in msg


@pytest.mark.parametrize(("content", "words"), [
    (b"", "the file is empty"),
    (b"id,x,y,kind,species,planting_year,area_m2,soil_texture,sealing,root_depth_m,priority\n",
     "at least one site"),
    (b"id,x\n\xff\xfe,1\n", "expected UTF-8 text"),
    (b'id,x\n"a,1\n', "not a readable CSV"),
])
def test_empty_or_unreadable_sites_file(city_copy, content, words):
    (city_copy / "sites.csv").write_bytes(content)
    with pytest.raises(InputError, match=r"sites\.csv") as err:
        load_city(city_copy)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_a_folder_where_a_file_is_expected(city_copy):
    (city_copy / "sites.csv").unlink()
    (city_copy / "sites.csv").mkdir()
    with pytest.raises(InputError, match=r"sites\.csv: expected a CSV file, got a folder"):
        load_city(city_copy)


def test_missing_column(city_copy):
    path = city_copy / "sites.csv"
    path.write_text(path.read_text().replace("root_depth_m", "rootdepth", 1))
    with pytest.raises(InputError, match=r"missing column.*root_depth_m"):
        load_city(city_copy)


def test_no_depot(city_copy):
    path = city_copy / "refill_points.csv"
    path.write_text(path.read_text().replace(",depot,", ",hydrant,"))
    with pytest.raises(InputError, match="depot"):
        load_city(city_copy)


def test_optional_columns_may_be_empty(city_copy):
    _replace_line(city_copy / "sites.csv", 2, "pit_capacity_l", "")
    _replace_line(city_copy / "sites.csv", 2, "street", "")
    s = load_city(city_copy).sites
    assert np.isnan(s.pit_capacity_l.values[0]) and s.street.values[0] == ""


def test_sites_from_geojson_in_wgs84(tmp_path, city):
    """GeoJSON points (RFC 7946 lon/lat) are projected to the city CRS."""
    from pyproj import Transformer

    s = city.sites.isel(site=slice(0, 5))
    lon, lat = Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True).transform(
        s.x.values, s.y.values
    )
    table = s.to_dataframe().drop(columns=["x", "y"]).reset_index(names="id")
    table = table.astype(object).where(table.notna(), None)
    feats = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [lo, la]},
            "properties": {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()},
        }
        for (_, row), lo, la in zip(table.iterrows(), lon, lat, strict=True)
    ]
    path = tmp_path / "sites.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    got = read_sites(path, textures=soil_textures().index, species=species_table().index)
    np.testing.assert_allclose(got.x.values, s.x.values, atol=0.01)
    np.testing.assert_allclose(got.y.values, s.y.values, atol=0.01)
    assert list(got.kind.values) == list(s.kind.values)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=400))
def test_site_reader_never_crashes_on_garbage(tmp_path, data):
    """Any bytes either parse as a sites table or raise the project's InputError."""
    path = tmp_path / "sites.csv"
    path.write_bytes(
        b"id,x,y,kind,species,planting_year,area_m2,soil_texture,sealing,root_depth_m,priority\n"
        + data
    )
    try:
        read_sites(path, textures=soil_textures().index, species=species_table().index)
    except InputError:
        pass


def test_hash_in_a_value_is_kept(city_copy):
    """'#' is data, not a comment: a street name with it survives the reader."""
    _replace_line(city_copy / "sites.csv", 2, "street", "Hof #2")
    assert load_city(city_copy).sites.street.values[0] == "Hof #2"


def test_measured_soil_columns_of_sites_csv_reach_the_site_curves(city_copy):
    """A site's own theta_fc/theta_wp (or awc_mm_per_m) in sites.csv win over its texture:
    the sensors' observation operator and the water balance use them."""
    import pandas as pd

    from irrigation.io.soil_tables import read_soil_textures
    from irrigation.sensors import probe_hydraulics
    from irrigation.soil import site_hydraulics

    path = city_copy / "sites.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    probe_site = pd.read_csv(city_copy / "sensors.csv")["site"].iloc[0]
    df["theta_fc"], df["theta_wp"], df["awc_mm_per_m"] = "", "", ""
    df.loc[df["id"] == probe_site, ["theta_fc", "theta_wp"]] = ["0.31", "0.12"]
    other = df["id"].iloc[-1]
    df.loc[df["id"] == other, "awc_mm_per_m"] = "95"
    df.to_csv(path, index=False)
    city = load_city(city_copy)
    textures = read_soil_textures()
    hyd = site_hydraulics(city.sites, textures)
    i = list(city.sites.site.values).index(probe_site)
    assert hyd["theta_fc"][i] == pytest.approx(0.31, abs=1e-6)
    assert hyd["theta_wp"][i] == pytest.approx(0.12, abs=1e-6)
    j = list(city.sites.site.values).index(other)
    assert 1000 * (hyd["theta_fc"][j] - hyd["theta_wp"][j]) == pytest.approx(95, abs=1e-3)
    assert hyd["measured"].sum() == 2
    probe = probe_hydraulics(city.sensors, city.sites, textures)
    at = probe["site"].values == probe_site
    assert np.allclose(probe["theta_fc"].values[at], 0.31)
    # out of range: one line naming file, line and column
    df.loc[df["id"] == probe_site, "theta_fc"] = "1.4"
    df.to_csv(path, index=False)
    with pytest.raises(InputError, match=r"sites\.csv: line .*'theta_fc'"):
        load_city(city_copy)
