"""Tree cadastres: column mappings, CRS, grouping of event rows, species matching."""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from irrigation.errors import InputError
from irrigation.io.cadastre import SITE_COLUMNS, read_tree_cadastre
from irrigation.io.mapping import load_mapping, parse_mapping
from irrigation.io.soil_tables import read_soil_textures
from irrigation.io.species import (
    match_species,
    merge_species_tables,
    name_key,
    read_species_table,
)
from irrigation.io.tables import read_sites

DATA = Path(__file__).parents[1] / "data" / "cadastre"
BERLIN = DATA / "gdk_berlin_sample.csv"
FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def haversine_m(lon1, lat1, lon2, lat2, r=6_371_000.0):
    """Great-circle distance on a sphere of radius r [m] (independent of pyproj)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


@pytest.fixture(scope="module")
def berlin():
    return read_tree_cadastre(BERLIN, "berlin", crs="EPSG:25833", reference_year=2022)


# --------------------------------------------------------------------------- Berlin


def test_berlin_rows_grouped_to_trees(berlin):
    sites, report = berlin
    assert report.n_rows == 22 and report.n_trees == 8
    assert list(sites.columns) == list(SITE_COLUMNS)
    # first appearance order in the file (rows sorted by watering time)
    assert sites["id"].tolist() == ["_476eifu91", "_kfx8hr7yk", "_vhs6sa3vk", "_lur9t5w9p",
                                    "_t3nwwiuxz", "_l12vesb24", "_axggrm6np", "_210016114a"]
    assert report.conflicts == {}


def test_berlin_species_by_rule(berlin):
    sites, report = berlin
    by_id = sites.set_index("id")["species"]
    assert by_id["_lur9t5w9p"] == "Tilia cordata"  # Winter-Linde 'Greenspire': species
    assert by_id["_vhs6sa3vk"] == "Tilia"  # Linde / LINDE: genus
    assert by_id["_476eifu91"] == "Tilia"  # Kleinkronige Winter-Linde / LINDE
    assert by_id["_kfx8hr7yk"] == "Betula"  # Säulen-Birke / BIRKE
    assert by_id["_l12vesb24"] == "tree (unspecified)"  # Rosskastanie: not in the table
    assert by_id["_t3nwwiuxz"] == "tree (unspecified)"  # Schnurbaum, no genus
    assert report.species_rules == {"species": 1, "genus": 5, "genus from name": 0,
                                    "unmatched": 2}
    assert report.unmatched == {"Gemeine Rosskastanie": 1, "Japanischer Schnurbaum": 1}
    assert report.filled["species"][0] == 2


def test_berlin_kind_year_street_and_defaults(berlin):
    sites, report = berlin
    s = sites.set_index("id")
    # young_tree when planted within 5 years of 2022: 2019 and 2018 yes, 2016 no
    assert s.loc["_kfx8hr7yk", "kind"] == "young_tree"
    assert s.loc["_l12vesb24", "kind"] == "young_tree"
    assert s.loc["_t3nwwiuxz", "kind"] == "street_tree"
    # 'undefined' planting year: the median of the 7 known years
    assert s.loc["_axggrm6np", "planting_year"] == int(np.median(
        [1984, 2005, 2018, 2016, 2019, 2016, 1992]))
    assert report.filled["planting_year"][0] == 1
    assert s.loc["_l12vesb24", "street"] == ""  # 'undefined' is a missing value
    assert s.loc["_vhs6sa3vk", "street"] == "Waldowstraße"
    assert (s["area_m2"] == 6.0).all() and (s["sealing"] == "slabs").all()
    assert s.loc["_kfx8hr7yk", "root_depth_m"] == 0.6 and s.loc["_kfx8hr7yk", "priority"] == 1
    assert s.loc["_vhs6sa3vk", "root_depth_m"] == 1.2 and s.loc["_vhs6sa3vk", "priority"] == 2
    assert report.kinds == {"street_tree": 6, "young_tree": 2}
    text = "\n".join(report.lines())
    assert "22 rows -> 8 trees" in text and "Gemeine Rosskastanie 1" in text


def test_berlin_coordinates_in_epsg_25833(berlin):
    """Distances between trees match the great-circle distance (within the sphere's
    0.5 % error); the points lie in UTM zone 33's Berlin range."""
    sites, _ = berlin
    s = sites.set_index("id")
    a, b = ("_vhs6sa3vk", 13.40757, 52.58571), ("_axggrm6np", 13.43079, 52.42095)
    d_map = math.hypot(s.loc[a[0], "x"] - s.loc[b[0], "x"], s.loc[a[0], "y"] - s.loc[b[0], "y"])
    assert d_map == pytest.approx(haversine_m(a[1], a[2], b[1], b[2]), rel=5e-3)
    assert (sites["x"].between(370_000, 415_000)).all()
    assert (sites["y"].between(5_800_000, 5_840_000)).all()


def test_output_is_a_valid_sites_table(berlin, tmp_path):
    sites, _ = berlin
    path = tmp_path / "sites.csv"
    sites.to_csv(path, index=False)
    ds = read_sites(path, textures=read_soil_textures().index,
                    species=read_species_table().index, crs="EPSG:25833")
    assert ds.sizes["site"] == 8
    np.testing.assert_allclose(ds.x.values, sites["x"].to_numpy())


# --------------------------------------------------------------------------- GeoJSON CRS


def _geojson(tmp_path, coords, crs_member=None, props=None):
    feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": list(c)},
              "properties": {"id": f"T{i}", "species": "Tilia cordata",
                             "planting_year": 2020, **(props or {})}}
             for i, c in enumerate(coords)]
    doc = {"type": "FeatureCollection", "features": feats}
    if crs_member is not None:
        doc["crs"] = crs_member
    path = tmp_path / "trees.geojson"
    path.write_text(json.dumps(doc))
    return path


def test_geojson_default_wgs84_central_meridian(tmp_path):
    """RFC 7946 lon/lat: a point on 15 E is on the central meridian of EPSG:25833
    (x = 500 000 m, the false easting) and ~6 deg east of EPSG:25832's (9 E)."""
    path = _geojson(tmp_path, [(15.0, 52.5)])
    s33, _ = read_tree_cadastre(path, crs="EPSG:25833", reference_year=2022)
    assert s33["x"].iloc[0] == pytest.approx(500_000.0, abs=0.01)
    s32, _ = read_tree_cadastre(path, crs="EPSG:25832", reference_year=2022)
    east = haversine_m(9.0, 52.5, 15.0, 52.5)  # ~406 km along the parallel
    assert s32["x"].iloc[0] - 500_000 == pytest.approx(east, rel=5e-3)
    assert s32["y"].iloc[0] > s33["y"].iloc[0]  # further from the CM: larger northing


@pytest.mark.parametrize("member", [
    {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25833"}},
    {"type": "name", "properties": {"name": "EPSG:25833"}},
    {"type": "EPSG", "properties": {"code": 25833}},
])
def test_geojson_declared_crs_is_honoured(tmp_path, member):
    xy = [(392114.93, 5827811.2), (388058.56, 5820670.9)]
    path = _geojson(tmp_path, xy, member)
    same, _ = read_tree_cadastre(path, crs="EPSG:25833", reference_year=2022)
    np.testing.assert_allclose(same[["x", "y"]].to_numpy(), xy, atol=0.01)
    other, _ = read_tree_cadastre(path, crs="EPSG:25832", reference_year=2022)
    # the distance between the two trees is kept across zones (within the scale factors)
    d33 = np.hypot(*np.subtract(*same[["x", "y"]].to_numpy()))
    d32 = np.hypot(*np.subtract(*other[["x", "y"]].to_numpy()))
    assert d32 == pytest.approx(d33, rel=3e-3)
    assert other["x"].iloc[0] > 780_000  # Berlin in zone 32: ~400 km east of 9 E


def test_geojson_projected_coordinates_without_crs_member_are_an_error(tmp_path):
    path = _geojson(tmp_path, [(392114.93, 5827811.2)])
    with pytest.raises(InputError, match="not longitude/latitude") as info:
        read_tree_cadastre(path, crs="EPSG:25833", reference_year=2022)
    assert info.value.field == "features[0]" and str(path) in str(info.value)


def test_city_crs_must_be_projected_in_metres(tmp_path):
    path = _geojson(tmp_path, [(13.4, 52.5)])
    with pytest.raises(InputError, match="projected CRS in metres"):
        read_tree_cadastre(path, crs="EPSG:4326", reference_year=2022)


# --------------------------------------------------------------------------- species


def test_name_key_normalisation():
    assert name_key("Winter-Linde 'Greenspire'") == name_key("WINTERLINDE")
    assert name_key("WEIßDORN") == name_key("Weissdorn")
    assert name_key("Hänge-Birke") == name_key("Haenge Birke")
    assert name_key("Platanus × hispanica") == name_key("platanus x hispanica")


def test_match_rules_in_order():
    table = read_species_table()
    names = ["Tilia cordata 'Rancho'", "Berg-Ahorn, Spitz-Ahorn", "Silber-Linde",
             "Tilia tomentosa 'Brabant'", "Robinie", None, "Feldahorn"]
    genera = [None, None, None, None, None, "ULME", None]
    m = match_species(names, genera, table, default="tree (unspecified)")
    assert m.species.tolist() == ["Tilia cordata", "Acer platanoides", "Tilia", "Tilia",
                                  "tree (unspecified)", "Ulmus", "Acer campestre"]
    assert m.rule.tolist() == ["species", "species", "genus from name", "genus from name",
                               "unmatched", "genus", "species"]
    assert m.unmatched == {"Robinie": 1}


def test_ambiguous_name_in_a_species_table_is_an_error():
    table = read_species_table()
    table.loc["Tilia platyphyllos"] = table.loc["Tilia cordata"]
    table.loc["Tilia platyphyllos", "german_names"] = "Winter-Linde"  # already T. cordata's
    with pytest.raises(InputError, match="winterlinde"):
        match_species(["x"], None, table, default="tree (unspecified)")


def test_city_species_table_extends_and_overrides(tmp_path):
    city = tmp_path / "species.csv"
    city.write_text(
        "species,wucols,k_species,p_depletion,genus,german_names\n"
        "Aesculus hippocastanum,M,0.5,0.5,Aesculus,Gemeine Rosskastanie|Rosskastanie\n"
        "Tilia,M,0.6,0.5,Tilia,Linde\n", encoding="utf-8")
    packaged = read_species_table()
    merged = merge_species_tables(packaged, read_species_table(city))
    assert merged.attrs == {"overridden": ["Tilia"], "added": ["Aesculus hippocastanum"]}
    assert merged.loc["Tilia", "k_species"] == 0.6
    assert merged.loc["Tilia cordata", "k_species"] == 0.5  # untouched
    assert len(merged) == len(packaged) + 1
    assert list(merged.index[:len(packaged)]) == list(packaged.index)
    sites, report = read_tree_cadastre(BERLIN, "berlin", crs="EPSG:25833",
                                       reference_year=2022, species=merged)
    assert sites.set_index("id").loc["_l12vesb24", "species"] == "Aesculus hippocastanum"
    assert report.unmatched == {"Japanischer Schnurbaum": 1}


# --------------------------------------------------------------------------- generic CSV


GENERIC = "id,lon,lat,species,planting_year\nA,13.40,52.50,Tilia cordata,2017\n" \
          "B,13.41,52.50,Acer platanoides,2016\n"


def test_generic_mapping_kind_from_age_boundary(tmp_path):
    path = tmp_path / "trees.csv"
    path.write_text(GENERIC)
    sites, report = read_tree_cadastre(path, crs="EPSG:25833", reference_year=2022)
    assert sites["kind"].tolist() == ["young_tree", "street_tree"]  # 2022 - 5 = 2017
    assert "absent" not in report.lines()[0]
    assert any("kind (kind)" in c for c in report.absent_columns)
    mapping = parse_mapping({"columns": {"id": "id", "species": "species",
                                         "planting_year": "planting_year"},
                             "csv": {"x": "lon", "y": "lat", "crs": "EPSG:4326"},
                             "defaults": {"young_years": 6, "old_kind": "park_tree"}})
    sites, _ = read_tree_cadastre(path, mapping, crs="EPSG:25833", reference_year=2022)
    assert sites["kind"].tolist() == ["young_tree", "young_tree"]
    sites, _ = read_tree_cadastre(path, mapping, crs="EPSG:25833", reference_year=2030)
    assert sites["kind"].tolist() == ["park_tree", "park_tree"]


def test_mapped_values_are_kept_and_kind_values_translated(tmp_path):
    path = tmp_path / "trees.csv"
    path.write_text("nr;x;y;art;typ;flaeche;versiegelung\n"
                    "1;392114.93;5827811.2;Spitz-Ahorn;Jungbaum;9.5;open\n"
                    "2;392200.00;5827811.2;Spitz-Ahorn;Altbaum;4;asphalt\n")
    mapping = parse_mapping({
        "csv": {"delimiter": ";", "x": "x", "y": "y", "crs": "EPSG:25833"},
        "columns": {"id": "nr", "species": "art", "kind": "typ", "area_m2": "flaeche",
                    "sealing": "versiegelung"},
        "kind_values": {"Jungbaum": "young_tree", "Altbaum": "park_tree"},
        "defaults": {"planting_year": 2000}})
    sites, report = read_tree_cadastre(path, mapping, crs="EPSG:25833", reference_year=2022)
    assert sites["kind"].tolist() == ["young_tree", "park_tree"]
    assert sites["area_m2"].tolist() == [9.5, 4.0]
    assert sites["sealing"].tolist() == ["open", "asphalt"]
    assert sites["x"].tolist() == [392114.93, 392200.0]
    assert "kind" not in report.filled and report.filled["planting_year"][0] == 2


# --------------------------------------------------------------------------- bad input


BAD_CSV = [
    (GENERIC.replace("B,", "A,"), 3, "id", "unique"),
    (GENERIC.replace("B,", ","), 3, "id", "tree id"),
    (GENERIC.replace("2016", "20x6"), 3, "planting_year", "a year"),
    (GENERIC.replace("2016", "1600"), 3, "planting_year", "a year"),
    (GENERIC.replace("13.41", "east"), 3, "lon", "a number"),
    (GENERIC.replace("lon,", "lng,"), None, None, "coordinate column 'lon'"),
    (GENERIC.replace("id,", "nr,"), None, None, "missing id column"),
    (GENERIC.replace("planting_year\n", "planting_year,sealing\n").replace(
        "2017\n", "2017,gravel\n").replace("2016\n", "2016,open\n"), 2, "sealing",
     "one of"),
    (GENERIC.replace("planting_year\n", "planting_year,area_m2\n").replace(
        "2017\n", "2017,-3\n").replace("2016\n", "2016,4\n"), 2, "area_m2", "area > 0"),
]


@pytest.mark.parametrize(("text", "row", "field", "match"), BAD_CSV)
def test_bad_csv_is_one_input_error(tmp_path, text, row, field, match):
    path = tmp_path / "trees.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=match) as info:
        read_tree_cadastre(path, crs="EPSG:25833", reference_year=2022)
    assert info.value.file == str(path)
    assert info.value.row == row and info.value.field == field
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(("doc", "field"), [
    ({"columns": {"id": "id"}, "colums": {}}, "colums"),
    ({"columns": {"id": "id", "speces": "x"}}, "columns.speces"),
    ({"columns": {"species": "x"}}, "columns.id"),
    ({"columns": {"id": "id"}, "rows": {"one_row_per": "visit"}}, "rows.one_row_per"),
    ({"columns": {"id": "id"}, "defaults": {"area_m2": -1}}, "defaults"),
    ({"columns": {"id": "id"}, "csv": {"delimiter": ";;"}}, "csv.delimiter"),
    ({"columns": {"id": 3}}, "columns.id"),
])
def test_bad_mapping_names_the_key(doc, field):
    with pytest.raises(InputError) as info:
        parse_mapping(doc, source="m.toml")
    assert info.value.field == field and info.value.file == "m.toml"


def test_shipped_mappings_load_and_unknown_name_is_an_error(tmp_path):
    assert load_mapping("berlin").one_row_per == "event"
    assert load_mapping("generic").columns["species"] == "species"
    with pytest.raises(InputError, match="berlin, generic"):
        load_mapping("hamburg")
    bad = tmp_path / "m.toml"
    bad.write_text("[columns\nid = 'id'")
    with pytest.raises(InputError, match="TOML"):
        load_mapping(bad)


@FUZZ
@given(data=st.binary(max_size=300))
def test_any_bytes_read_or_input_error(tmp_path, data):
    for name in ("t.csv", "t.geojson"):
        path = tmp_path / name
        path.write_bytes(b"id;lng;lat;baumart;gattung;pflanzjahr\n" + data
                         if name.endswith("csv") else data)
        try:
            sites, report = read_tree_cadastre(path, "berlin", crs="EPSG:25833",
                                               reference_year=2022)
        except InputError as exc:
            assert str(path) in str(exc)
        else:
            assert len(sites) == report.n_trees <= report.n_rows


ROW = st.tuples(
    st.sampled_from(["a", "b", "c", "", "a b"]),
    st.sampled_from(["13.4", "13.41", "", "x", "200", "1e400"]),
    st.sampled_from(["52.5", "52.51", "", "-91"]),
    st.sampled_from(["Linde", "Winter-Linde 'X'", "", "Ahorn, Esche", "Ünbekannt"]),
    st.sampled_from(["LINDE", "", "AHORN", "WEIßDORN"]),
    st.sampled_from(["2019", "undefined", "", "19x", "1500", "2020.0"]),
).map(";".join)


@FUZZ
@given(rows=st.lists(ROW, max_size=8), one=st.sampled_from(["tree", "event"]))
def test_berlin_like_rows_read_or_input_error(tmp_path, rows, one):
    path = tmp_path / "t.csv"
    path.write_text("\n".join(["id;lng;lat;baumart;gattung;pflanzjahr", *rows]) + "\n",
                    encoding="utf-8")
    mapping = load_mapping("berlin")
    mapping = parse_mapping({"csv": {"delimiter": ";", "x": "lng", "y": "lat",
                                     "crs": "EPSG:4326"},
                             "rows": {"one_row_per": one, "missing_values": ["undefined"]},
                             "columns": dict(mapping.columns)})
    try:
        sites, report = read_tree_cadastre(path, mapping, crs="EPSG:25833",
                                           reference_year=2022)
    except InputError as exc:
        assert str(path) in str(exc) and "\n" not in str(exc)
        return
    assert sites["id"].is_unique and sites[["x", "y"]].notna().all().all()
    assert set(sites["kind"]) <= {"young_tree", "street_tree"}
    assert sum(report.species_rules.values()) == len(sites)
    assert pd.api.types.is_integer_dtype(sites["planting_year"])


def test_sites_geojson_in_its_declared_crs(tmp_path):
    """read_sites (city folder sites.geojson) honours a declared EPSG:25833: an
    EPSG:25833 city gets its coordinates unchanged, an RFC 7946 file is projected."""
    sites, _ = read_tree_cadastre(BERLIN, "berlin", crs="EPSG:25833", reference_year=2022)
    props = sites.drop(columns=["x", "y"]).astype(object)
    props = props.where(props.notna(), None)
    feats = [{"type": "Feature", "properties": {k: (v.item() if hasattr(v, "item") else v)
                                                for k, v in row.items()},
              "geometry": {"type": "Point", "coordinates": [x, y]}}
             for (_, row), x, y in zip(props.iterrows(), sites["x"], sites["y"], strict=True)]
    path = tmp_path / "sites.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats, "crs": {
        "type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25833"}}}))
    kw = {"textures": read_soil_textures().index, "species": read_species_table().index}
    ds = read_sites(path, crs="EPSG:25833", **kw)
    np.testing.assert_allclose(ds.x.values, sites["x"].to_numpy(), atol=1e-6)
    np.testing.assert_allclose(ds.y.values, sites["y"].to_numpy(), atol=1e-6)
    other = read_sites(path, crs="EPSG:25832", **kw)
    assert (other.x.values > 780_000).all()  # Berlin seen from zone 32, not ~400 km off
