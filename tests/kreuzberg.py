"""A minimal Berlin-Kreuzberg city for tests: three GeoJSON trees and two pumps."""

from __future__ import annotations

import json
import math
from pathlib import Path

# Three young lime trees and two street pumps in Berlin-Kreuzberg (lon, lat, WGS84).
TREES = {"T1": (13.4030, 52.4990), "T2": (13.4100, 52.4975), "T3": (13.4170, 52.5010)}
PUMPS = {"P1": (13.4050, 52.4985), "P2": (13.4150, 52.5000)}


def haversine_m(lon1, lat1, lon2, lat2, r=6_371_000.0):
    """Great-circle distance on a sphere [m] (independent of pyproj)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def _utm33(lon, lat):
    from pyproj import Transformer

    return Transformer.from_crs("EPSG:4326", "EPSG:25833", always_xy=True).transform(lon, lat)


def make_city(folder: Path, *, city_crs: str, sites_crs: str | None) -> Path:
    """A minimal city: GeoJSON sites (WGS84 without a crs member, or projected to
    ``sites_crs`` and declared), refill points in EPSG:25833, no streets, no groundwater
    model, no weather (which validate does not need)."""
    folder.mkdir(parents=True)
    props = {"kind": "young_tree", "species": "Tilia", "planting_year": 2018, "area_m2": 6,
             "soil_texture": "sandy_loam", "sealing": "slabs", "root_depth_m": 0.6,
             "priority": 1}
    feats = []
    for tid, (lon, lat) in TREES.items():
        xy = [lon, lat] if sites_crs is None else list(_utm33(lon, lat))
        feats.append({"type": "Feature", "properties": {"id": tid, **props},
                      "geometry": {"type": "Point", "coordinates": xy}})
    doc = {"type": "FeatureCollection", "features": feats}
    if sites_crs is not None:
        doc["crs"] = {"type": "name", "properties": {"name": sites_crs}}
    (folder / "sites.geojson").write_text(json.dumps(doc))
    dx, dy = _utm33(13.4080, 52.4995)
    rows = ["id,kind,x,y,refill_l_per_min", f"D1,depot,{dx:.2f},{dy:.2f},0"]
    for pid, ll in PUMPS.items():
        x, y = _utm33(*ll)
        rows.append(f"{pid},hydrant,{x:.2f},{y:.2f},40")
    (folder / "refill_points.csv").write_text("\n".join(rows) + "\n")
    (folder / "city.toml").write_text(
        f'name = "Kreuzberg test"\ncrs = "{city_crs}"\nsites = "sites.geojson"\n'
        'refill_points = "refill_points.csv"\n\n[[fleet]]\nname = "truck"\ncount = 1\n'
        "tank_l = 2000.0\npump_l_per_min = 60.0\n")
    return folder


