"""The static city model: planting sites, sensors, refill points, fleet and streets.

:func:`load_city` reads a city folder (``city.toml`` and the files it names) into a
:class:`City`. Sites, sensors and refill points are :class:`xarray.Dataset` objects over
the dimensions ``site``, ``sensor`` and ``refill``; the street graph is a
:class:`StreetNetwork` of plain arrays. Coordinates are metres in the city's projected
CRS (``City.config.crs``, EPSG:25832 for the demo city).

Vocabularies (:data:`SITE_KINDS`, :data:`SEALING_CLASSES`, soil textures and species
from the package data tables) are checked on load, so every later stage can trust them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse
import xarray as xr
from scipy.spatial import cKDTree

from .config import CityConfig, load_city_config
from .errors import InputError
from .io import tables
from .io.soil_tables import read_soil_textures, read_species
from .soil import SEALING_CLASSES as SEALING_CLASSES

SITE_KINDS = ("young_tree", "street_tree", "park_tree", "lawn", "shrub_bed")
"""Kinds of planting site. ``young_tree`` is a street or park tree in its first years
(the ones a parks department waters); older trees are usually only watered in droughts."""

SENSOR_KINDS = ("tension", "vwc")
"""Soil sensor quantities: soil water tension [kPa] or volumetric water content [m3 m-3]."""

REFILL_KINDS = ("depot", "hydrant")


# --------------------------------------------------------------------------- street network


@dataclass(frozen=True)
class StreetNetwork:
    """A directed street graph as plain arrays.

    Two-way streets appear as two edges, one each way; one-way streets as one.

    Attributes
    ----------
    node_id
        Node labels, shape (n_nodes,).
    x, y
        Node coordinates [m] in the city CRS.
    edge_from, edge_to
        Indices into the node arrays, shape (n_edges,).
    length_m
        Edge lengths [m].
    name
        Street names of the edges (for driver-sheet addresses).
    """

    node_id: np.ndarray
    x: np.ndarray
    y: np.ndarray
    edge_from: np.ndarray
    edge_to: np.ndarray
    length_m: np.ndarray
    name: np.ndarray

    @property
    def n_nodes(self) -> int:
        return len(self.node_id)

    @property
    def n_edges(self) -> int:
        return len(self.edge_from)

    def adjacency(self) -> scipy.sparse.csr_matrix:
        """Sparse (n_nodes, n_nodes) matrix of edge lengths [m] (shortest of parallel edges)."""
        order = np.lexsort((self.length_m, self.edge_to, self.edge_from))
        u, v, w = self.edge_from[order], self.edge_to[order], self.length_m[order]
        first = np.ones(len(u), dtype=bool)
        first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
        n = self.n_nodes
        return scipy.sparse.csr_matrix((w[first], (u[first], v[first])), shape=(n, n))

    @cached_property
    def _tree(self) -> cKDTree:
        return cKDTree(np.column_stack([self.x, self.y]))

    def nearest_node(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Index of the node nearest to each point and the distance to it [m]."""
        dist, idx = self._tree.query(np.column_stack([np.ravel(x), np.ravel(y)]))
        return idx, dist

    def n_strongly_connected(self) -> int:
        """Number of strongly connected components (1 means every node reaches every other)."""
        n, _ = scipy.sparse.csgraph.connected_components(self.adjacency(), connection="strong")
        return int(n)


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
    """

    path: Path
    config: CityConfig
    sites: xr.Dataset
    sensors: xr.Dataset
    refill_points: xr.Dataset
    streets: StreetNetwork | None

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
        lines.append(f"groundwater  {gw.sim_dir} (model '{gw.model}', backend {gw.backend})")
        lines.append(f"weather      {self.config.weather.observed} ({self.config.weather.station})")
        return "\n".join(lines)


def _count_oneway(net: StreetNetwork) -> int:
    pairs = set(zip(net.edge_from.tolist(), net.edge_to.tolist(), strict=True))
    return sum((v, u) not in pairs for u, v in pairs)


def load_city(city_dir: str | Path) -> City:
    """Load and validate a city folder.

    Raises
    ------
    InputError
        Any file or value that is not as documented; the message names the file, the
        line or key and what was expected.
    """
    city_dir = Path(city_dir).resolve()
    cfg = load_city_config(city_dir)
    sites = tables.read_sites(
        cfg.sites, textures=read_soil_textures().index, species=read_species().index
    )
    sensors = (
        tables.read_sensors(cfg.sensors, sites)
        if cfg.sensors is not None
        else tables.empty_sensors()
    )
    refill = tables.read_refill_points(cfg.refill_points)
    if not (refill.kind == "depot").any():
        raise InputError(
            "expected at least one refill point of kind 'depot'", file=cfg.refill_points
        )
    streets = None
    if cfg.streets is not None:
        from .io.graphml import read_streets

        streets = read_streets(cfg.streets)
    return City(city_dir, cfg, sites, sensors, refill, streets)
