"""Reading a city folder into a :class:`~irrigation.city.City`, and the bundled demo city.

:func:`load_city` reads ``city.toml`` (:func:`irrigation.config.load_city_config`) and the
files it names through the table readers of this package; vocabularies (site kinds,
sealing classes, soil textures and the species of the packaged table merged with the
city's own) are checked on load, so every later stage can trust them. Sites in GeoJSON are
projected to the city's ``crs``. :func:`load_groundwater` reads the groundwater model, or
the depth to water a city without one assumes.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..city import City
from ..config import ASSUMED_DEPTH_TO_WATER_M, CityConfig, load_city_config
from ..errors import InputError
from ..groundwater.assumed import AssumedWaterTable
from ..groundwater.load import load_simulation
from ..groundwater.model import GwfModel
from . import tables
from .graphml import read_streets
from .grids import read_ascii_grid
from .soil_tables import read_soil_textures
from .species import merge_species_tables, read_species_table

#: The bundled demo city (``models/demo-city`` of the source tree), which
#: ``irrigation run --demo`` plans; see its README.
DEMO_CITY_DIR = Path(__file__).resolve().parents[2] / "models" / "demo-city"


def city_species(cfg: CityConfig) -> pd.DataFrame:
    """The species table of a city: the packaged one, merged with the city's own table
    (``species`` of city.toml) when it has one."""
    packaged = read_species_table()
    if cfg.species is None:
        return packaged
    return merge_species_tables(packaged, read_species_table(cfg.species))


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
    species = city_species(cfg)
    sites = tables.read_sites(
        cfg.sites, textures=read_soil_textures().index, species=species.index, crs=cfg.crs
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
    streets = None if cfg.streets is None else read_streets(cfg.streets)
    return City(city_dir, cfg, sites, sensors, refill, streets, species)


def load_groundwater(city: City) -> GwfModel | AssumedWaterTable:
    """The city's groundwater model (``[groundwater] sim_dir``), or, without one, the
    depth to water it assumes (``depth_to_water_m``, ``depth_to_water_grid``).

    Raises
    ------
    InputError
        The model or the grid cannot be read.
    """
    gw = city.config.groundwater
    if gw.sim_dir is not None:
        return load_simulation(gw.sim_dir)
    grid = None if gw.depth_to_water_grid is None else read_ascii_grid(gw.depth_to_water_grid)
    if gw.depth_to_water_m is None:
        return AssumedWaterTable(ASSUMED_DEPTH_TO_WATER_M, grid, "the default without a "
                                 "groundwater model: no capillary rise reaches the roots")
    return AssumedWaterTable(gw.depth_to_water_m, grid)


def demo_city() -> City:
    """The bundled demo city, loaded (:data:`DEMO_CITY_DIR`; its README says how it was
    generated). ``demo_city().path`` is its folder."""
    return load_city(DEMO_CITY_DIR)
