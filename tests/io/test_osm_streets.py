"""OSM street graphs: private roads, car-park aisles and driveways are left out; names and
one-ways are kept (hand-written OSM XML, coordinates in Berlin-Kreuzberg)."""

from __future__ import annotations

import pytest

from irrigation.errors import InputError

pytest.importorskip("osmnx")

from irrigation.io.osm import is_drivable, read_osm

# A square of residential streets (one of them one-way) and, hanging off it, one way each
# of the kinds a truck must not route through.
NODES = {1: (13.4000, 52.5000), 2: (13.4020, 52.5000), 3: (13.4020, 52.5012),
         4: (13.4000, 52.5012), 5: (13.4030, 52.5006), 6: (13.3990, 52.5006),
         7: (13.4010, 52.5020), 8: (13.4010, 52.4990)}
WAYS = [
    ((1, 2), {"highway": "residential", "name": "Südstraße"}),
    ((2, 3), {"highway": "residential", "name": "Oststraße", "oneway": "yes"}),
    ((3, 4), {"highway": "residential", "name": "Nordstraße"}),
    ((4, 1), {"highway": "residential", "name": "Weststraße"}),
    ((2, 5, 2), {"highway": "service", "service": "driveway", "name": "Einfahrt"}),
    ((1, 6, 1), {"highway": "service", "service": "parking_aisle", "name": "Parkplatz"}),
    ((4, 7, 4), {"highway": "residential", "access": "private", "name": "Privatweg"}),
    ((1, 8, 1), {"highway": "footway", "name": "Fußweg"}),
]


def _osm(path):
    nodes = "".join(f'<node id="{i}" lat="{lat}" lon="{lon}" version="1"/>'
                    for i, (lon, lat) in NODES.items())
    ways = []
    for k, (refs, tags) in enumerate(WAYS):
        nd = "".join(f'<nd ref="{r}"/>' for r in refs)
        tg = "".join(f'<tag k="{a}" v="{b}"/>' for a, b in tags.items())
        ways.append(f'<way id="{100 + k}" version="1">{nd}{tg}</way>')
    path.write_text(f'<?xml version="1.0" encoding="UTF-8"?><osm version="0.6">{nodes}'
                    + "".join(ways) + "</osm>", encoding="utf-8")
    return path


def test_private_parking_aisles_and_driveways_are_left_out(tmp_path):
    net = read_osm(_osm(tmp_path / "k.osm"), crs="EPSG:25833")
    parts = {part for n in net.name.tolist() for part in n.split(" / ")}
    assert parts == {"Südstraße", "Oststraße", "Nordstraße", "Weststraße"}
    # simplified to the two ends of the one-way Oststraße (the other corners are bends):
    # the one-way edge 2 -> 3 and the two-way chain Nord/West/Süd from 3 to 2 and back
    assert net.n_nodes == 2 and net.n_edges == 3
    assert (net.name == "Oststraße").sum() == 1
    # EPSG:25833: Kreuzberg lies ~390 km east of the zone's false origin
    assert 385_000 < net.x.min() < 395_000
    # the chain: 0.002 deg of longitude twice (~135.7 m each) and 0.0012 deg of latitude
    # (~133.4 m) at 52.5 N
    chain = net.length_m[net.name != "Oststraße"]
    assert chain == pytest.approx(2 * 135.7 + 133.4, rel=0.01)

@pytest.mark.parametrize(("tags", "ok"), [
    ({"highway": "residential"}, True),
    ({"highway": ["residential", "service"]}, True),
    ({"highway": "service", "service": "alley"}, True),
    ({"highway": "service", "service": "parking_aisle"}, False),
    ({"highway": "service", "service": ["alley", "driveway"]}, False),
    ({"highway": "tertiary", "access": "private"}, False),
    ({"highway": "tertiary", "access": "no"}, False),
    ({"highway": "tertiary", "access": "destination"}, True),
    ({"highway": "footway"}, False),
    ({}, False),
])
def test_is_drivable(tags, ok):
    assert is_drivable(tags) is ok


def test_no_drivable_street_is_one_input_error(tmp_path):
    path = tmp_path / "none.osm"
    path.write_text('<osm version="0.6"><node id="1" lat="52.5" lon="13.4"/>'
                    '<node id="2" lat="52.5" lon="13.41"/><way id="1"><nd ref="1"/>'
                    '<nd ref="2"/><tag k="highway" v="footway"/></way></osm>')
    with pytest.raises(InputError, match="no drivable street"):
        read_osm(path, crs="EPSG:25833")
