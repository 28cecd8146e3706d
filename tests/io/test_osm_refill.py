"""Refill points from OSM tags: hydrants, street pumps, status, access."""

import gzip
from pathlib import Path

import pytest

from irrigation.errors import InputError
from irrigation.io.osm import HYDRANT_L_PER_MIN, read_osm_refill_points

HYDRANTS = Path(__file__).parents[1] / "data" / "osm" / "bayreuth_hydrants.osm"

# synthetic nodes (not OSM data) covering the tags a real extract may have
PUMPS = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
  <node id="1" lat="52.50" lon="13.40"><tag k="man_made" v="water_well"/>
    <tag k="pump" v="manual"/><tag k="pump:status" v="ok"/><tag k="name" v="Brunnen 1"/></node>
  <node id="2" lat="52.51" lon="13.40"><tag k="man_made" v="water_well"/>
    <tag k="pump:status" v="broken"/></node>
  <node id="3" lat="52.52" lon="13.40"><tag k="man_made" v="water_well"/>
    <tag k="pump:status" v="locked"/></node>
  <node id="4" lat="52.53" lon="13.40"><tag k="man_made" v="water_well"/>
    <tag k="disused" v="yes"/></node>
  <node id="5" lat="52.54" lon="13.40"><tag k="emergency" v="fire_hydrant"/>
    <tag k="access" v="private"/></node>
  <node id="6" lat="52.55" lon="13.40"><tag k="emergency" v="fire_hydrant"/>
    <tag k="operational_status" v="out_of_order"/></node>
  <node id="7" lat="52.56" lon="13.40"><tag k="emergency" v="fire_hydrant"/></node>
  <node id="8" lat="52.57" lon="13.40"><tag k="amenity" v="bench"/></node>
  <node id="9" lat="52.58" lon="13.40"/>
  <way id="10"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/></way>
</osm>
"""


def test_real_hydrants_all_kept_with_the_dvgw_rate():
    pts, report = read_osm_refill_points(HYDRANTS, crs="EPSG:25832")
    assert report.n_read == report.n_kept == len(pts) == 20
    assert report.by_status == {"unknown": 20}  # hydrants carry no status tag here
    assert (pts["refill_l_per_min"] == HYDRANT_L_PER_MIN).all() and HYDRANT_L_PER_MIN == 800
    first = pts.iloc[0]
    assert (first["id"], first["source"]) == ("osm347262743", "fire_hydrant")
    # Bayreuth (11.57 E) in UTM 32 (CM 9 E): ~184 km east of the false easting
    assert 680_000 < first["x"] < 690_000 and 5_540_000 < first["y"] < 5_550_000


def test_status_access_and_pump_rate(tmp_path):
    path = tmp_path / "pumps.osm.gz"
    path.write_bytes(gzip.compress(PUMPS.encode()))
    pts, report = read_osm_refill_points(path, crs="EPSG:25833", pump_l_per_min=30.0)
    assert pts["id"].tolist() == ["osm1", "osm7"]
    assert pts["refill_l_per_min"].tolist() == [30.0, 800.0]
    assert pts["name"].tolist() == ["Brunnen 1", ""]
    assert report.n_read == 7  # the bench, the bare node and the way are not refill points
    assert report.dropped == {"broken": 3, "locked": 1, "not public (access)": 1}
    assert report.by_status == {"working": 1, "broken": 3, "locked": 1, "unknown": 2}
    pts, report = read_osm_refill_points(path, crs="EPSG:25833")  # no pump rate
    assert pts["id"].tolist() == ["osm7"]
    assert report.dropped["water_well (no pump_l_per_min given)"] == 1
    pts, _ = read_osm_refill_points(path, crs="EPSG:25833", keep_unknown=False)
    assert pts.empty


@pytest.mark.parametrize("text", ["", "<osm><node id='1' lat='x' lon='1'><tag k='emergency' "
                                  "v='fire_hydrant'/></node></osm>", "<osm><node", "\x1f\x8b"])
def test_bad_files_are_one_input_error(tmp_path, text):
    path = tmp_path / "bad.osm"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        read_osm_refill_points(path, crs="EPSG:25833")
    assert str(path) in str(info.value)
