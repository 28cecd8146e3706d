"""The static city model: planting sites, sensors, refill points, fleet and streets.

A :class:`City` is a value: :func:`irrigation.io.city.load_city` reads a city folder
(``city.toml`` and the files it names) into one. Sites, sensors and refill points are
:class:`xarray.Dataset` objects over the dimensions ``site``, ``sensor`` and ``refill``;
the street graph is a :class:`StreetNetwork` of plain arrays. Coordinates are metres in
the city's projected CRS (``City.config.crs``, EPSG:25832 for the demo city).

Vocabularies (:data:`SITE_KINDS`, :data:`SEALING_CLASSES`, soil textures and species
from the package data tables) are checked on load, so every later stage can trust them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from .config import ASSUMED_DEPTH_TO_WATER_M, CityConfig
from .soil import SEALING_CLASSES as SEALING_CLASSES
from .streets import StreetNetwork

SITE_KINDS = ("young_tree", "street_tree", "park_tree", "lawn", "shrub_bed")
"""Kinds of planting site. ``young_tree`` is a street or park tree in its first years
(the ones a parks department waters); older trees are usually only watered in droughts."""

SENSOR_KINDS = ("tension", "vwc")
"""Soil sensor quantities: soil water tension [kPa] or volumetric water content [m3 m-3]."""

REFILL_KINDS = ("depot", "hydrant")


# --------------------------------------------------------------------------- the city


@dataclass(frozen=True)
class City:
    """A loaded and validated city model.

    Attributes
    ----------
    path
        The city folder.
    config
        The validated ``city.toml``.
    sites
        Dataset over ``site``: kind, species, planting_year, area_m2, soil_texture,
        sealing, root_depth_m, priority, pit_capacity_l, street; coords x, y [m].
    sensors
        Dataset over ``sensor`` (a probe in one tree pit) and ``depth`` [cm]: ``site``,
        ``kind`` (tension or vwc) per probe, ``installed`` per channel; coords x, y [m].
    refill_points
        Dataset over ``refill``: kind (depot | hydrant), refill_l_per_min; coords x, y.
    streets
        The street graph, or ``None`` (then distances use the detour factor).
    species
        The species table the sites draw on, indexed by ``species``: the packaged table
        (species and genus rows) merged with the city's own (``species`` of city.toml).
    """

    path: Path
    config: CityConfig
    sites: xr.Dataset
    sensors: xr.Dataset
    refill_points: xr.Dataset
    streets: StreetNetwork | None
    species: pd.DataFrame

    @property
    def depot(self) -> xr.Dataset:
        """The refill points that are depots (where shifts start and end)."""
        return self.refill_points.where(self.refill_points.kind == "depot", drop=True)

    def fleet_capacity_l(self) -> float:
        """Litres the fleet carries in one full tank each [L]."""
        return float(sum(v.count * v.tank_l for v in self.config.fleet))

    def summary(self) -> str:
        """A short, human-readable summary: counts, extents, fleet capacity."""
        s = self.sites
        kinds = pd.Series(s.kind.values).value_counts()
        lines = [
            f"city         {self.config.name}  ({self.path})",
            f"crs          {self.config.crs}",
            f"extent       x {float(s.x.min()):.0f}-{float(s.x.max()):.0f} m, "
            f"y {float(s.y.min()):.0f}-{float(s.y.max()):.0f} m "
            f"({(float(s.x.max() - s.x.min())) / 1000:.2f} km x "
            f"{(float(s.y.max() - s.y.min())) / 1000:.2f} km)",
            f"sites        {s.sizes['site']}: "
            + ", ".join(f"{k} {kinds.get(k, 0)}" for k in SITE_KINDS),
            f"             total area {float(s.area_m2.sum()):,.0f} m2, "
            f"{len(np.unique(s.species.values))} species",
            f"sensors      {self.sensors.sizes['sensor']} probes "
            f"({int(self.sensors.installed.sum())} channels) at "
            f"{len(np.unique(self.sensors.site.values))} sites, depths "
            + "/".join(str(d) for d in self.sensors.depth.values)
            + " cm",
            f"refill       {int((self.refill_points.kind == 'depot').sum())} depot, "
            f"{int((self.refill_points.kind == 'hydrant').sum())} hydrants",
        ]
        if self.streets is not None:
            oneway = _count_oneway(self.streets)
            lines.append(
                f"streets      {self.streets.n_nodes} intersections, {self.streets.n_edges} "
                f"directed edges ({oneway} one-way), "
                f"{self.streets.length_m.sum() / 1000:.1f} km of lanes"
            )
        else:
            lines.append(f"streets      none (detour factor {self.config.network.detour_factor})")
        trucks = sum(v.count for v in self.config.fleet)
        lines.append(
            f"fleet        {trucks} trucks, {self.fleet_capacity_l():,.0f} L per round, "
            + "; ".join(
                f"{v.count} x {v.name} ({v.tank_l:.0f} L, {v.shift_minutes / 60:.1f} h)"
                for v in self.config.fleet
            )
        )
        gw = self.config.groundwater
        if gw.sim_dir is not None:
            lines.append(f"groundwater  {gw.sim_dir} (model '{gw.model}', backend {gw.backend})")
        else:
            grid = f", grid {gw.depth_to_water_grid}" if gw.depth_to_water_grid else ""
            depth = (f"{ASSUMED_DEPTH_TO_WATER_M:g} m, the default"
                     if gw.depth_to_water_m is None else f"{gw.depth_to_water_m:g} m")
            lines.append(f"groundwater  none: depth to water assumed ({depth}{grid})")
        w = self.config.weather
        lines.append(f"weather      {w.observed or 'none configured'}"
                     + (f" ({w.station})" if w.station else ""))
        if self.config.species is not None:
            added = self.species.attrs.get("added", [])
            over = self.species.attrs.get("overridden", [])
            lines.append(f"species      {self.config.species.name}: {len(added)} added, "
                         f"{len(over)} overridden")
        return "\n".join(lines)


def _count_oneway(net: StreetNetwork) -> int:
    pairs = set(zip(net.edge_from.tolist(), net.edge_to.tolist(), strict=True))
    return sum((v, u) not in pairs for u, v in pairs)
