"""Refill points from files: status kept/dropped and counted; depots with rate 0."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from irrigation.errors import InputError
from irrigation.io.refill import read_refill_point_file, status_class
from irrigation.io.tables import read_refill_points

DATA = Path(__file__).parents[1] / "data" / "refill"
PUMPS = DATA / "berlin_pumps_sample.geojson"
FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize(("text", "cls"), [
    ("funktionsfähig", "working"), ("Funktionsfähig ", "working"), ("OK", "working"),
    ("funktioniert, aber geringe Hubleistung", "working"),
    ("defekt", "broken"), ("funktioniert nicht", "broken"), ("out_of_order", "broken"),
    ("verriegelt", "locked"), ("Pumpe verriegelt seit 2021", "locked"),
    ("unbekannt", "unknown"), (None, "unknown"), ("", "unknown"),
    ("es kommt Wasser, aber die Pumpe blockiert manchmal", "unrecognised"),
])
def test_status_classes(text, cls):
    assert status_class(text) == cls


def test_berlin_pumps_kept_and_dropped_by_status():
    """Counts read by eye from the 13 features of the sample (SOURCE.md)."""
    pumps, report = read_refill_point_file(PUMPS, crs="EPSG:25833", refill_l_per_min=20.0,
                                           id_prefix="P")
    assert report.n_read == 13
    assert report.by_status == {"working": 6, "broken": 2, "locked": 2, "unknown": 2,
                                "unrecognised": 1}
    assert report.dropped == {"broken": 2, "locked": 2}
    assert report.n_kept == len(pumps) == 9
    assert report.unrecognised == {"es kommt Wasser, aber die Pumpe blockiert manchmal": 1}
    assert "713934245" not in " ".join(pumps["id"])  # Rönnestraße: defekt
    first = pumps.iloc[0]
    assert (first["id"], first["kind"], first["name"], first["status"]) == (
        "P352734260", "hydrant", "Schragenfeldstraße 25", "funktionsfähig")
    assert (pumps["refill_l_per_min"] == 20.0).all()
    assert "dropped: 2 broken, 2 locked" in report.lines()


def test_unknown_status_can_be_dropped():
    pumps, report = read_refill_point_file(PUMPS, crs="EPSG:25833", refill_l_per_min=20.0,
                                           keep_unknown=False)
    assert len(pumps) == 6
    assert report.dropped == {"broken": 2, "locked": 2, "unknown": 2,
                              "status unrecognised": 1}


def test_pump_coordinates_projected():
    """Distance of two pumps vs the great-circle distance (sphere, 0.5 %)."""
    pumps, _ = read_refill_point_file(PUMPS, crs="EPSG:25833", refill_l_per_min=20.0)
    p = pumps.set_index("id")
    d = math.hypot(*(p.loc["352734260", ["x", "y"]] - p.loc["499609652", ["x", "y"]]))
    lon1, lat1, lon2, lat2 = map(math.radians, (13.564219, 52.5398067, 13.3080156, 52.524164))
    a = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    assert d == pytest.approx(2 * 6_371_000 * math.asin(math.sqrt(a)), rel=5e-3)


def test_csv_with_rates_and_bad_rates(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("id,lon,lat,refill_l_per_min,status\nH1,13.40,52.50,800,ok\n"
                    "H2,13.41,52.50,,broken\nH3,13.42,52.50,600,\n")
    with pytest.raises(InputError, match="rate > 0") as info:
        read_refill_point_file(path, crs="EPSG:25833")  # H2 has no rate, no default
    assert info.value.row == 3
    pts, report = read_refill_point_file(path, crs="EPSG:25833", refill_l_per_min=100.0)
    assert pts["id"].tolist() == ["H1", "H3"] and pts["refill_l_per_min"].tolist() == [800, 600]
    assert report.dropped == {"broken": 1}
    path.write_text("id,lon,lat,refill_l_per_min\nH1,13.40,52.50,0\n")
    with pytest.raises(InputError, match="rate > 0") as info:
        read_refill_point_file(path, crs="EPSG:25833")
    assert (info.value.row, info.value.field) == (2, "refill_l_per_min")
    path.write_text("id,lon,lat\nH1,13.40,52.50\n")
    with pytest.raises(InputError, match="give the refill rate"):
        read_refill_point_file(path, crs="EPSG:25833")


def test_refill_points_csv_depot_with_rate_zero_is_a_yard(tmp_path):
    path = tmp_path / "refill_points.csv"
    path.write_text("id,kind,x,y,refill_l_per_min\nYARD,depot,0,0,0\nH1,hydrant,10,0,800\n")
    ds = read_refill_points(path)
    assert ds["refill_l_per_min"].values.tolist() == [0.0, 800.0]
    path.write_text("id,kind,x,y,refill_l_per_min\nYARD,depot,0,0,0\nH1,hydrant,10,0,0\n")
    with pytest.raises(InputError, match="hydrant with rate 0 cannot refill") as info:
        read_refill_points(path)
    assert (info.value.row, info.value.field) == (3, "refill_l_per_min")
    path.write_text("id,kind,x,y,refill_l_per_min\nYARD,depot,0,0,-1\n")
    with pytest.raises(InputError, match=">= 0"):
        read_refill_points(path)


@FUZZ
@given(doc=st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(
        st.sampled_from(["type", "features", "geometry", "coordinates", "properties", "id",
                         "pump:status", "crs", "name"]), c, max_size=4),
    max_leaves=20))
def test_any_json_reads_or_input_error(tmp_path, doc):
    path = tmp_path / "p.geojson"
    path.write_text(json.dumps(doc))
    try:
        pts, report = read_refill_point_file(path, crs="EPSG:25833", refill_l_per_min=10.0)
    except InputError as exc:
        assert str(path) in str(exc)
    else:
        assert len(pts) == report.n_kept <= report.n_read
        assert np.isfinite(pts[["x", "y"]].to_numpy(dtype=float)).all()
