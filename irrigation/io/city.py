"""Reading a city folder into a :class:`~irrigation.city.City`, and the bundled demo city.

:func:`load_city` reads ``city.toml`` (:func:`irrigation.config.load_city_config`) and the
files it names through the table readers of this package; vocabularies (site kinds,
sealing classes, soil textures and species of the package tables) are checked on load, so
every later stage can trust them.
"""

from __future__ import annotations

from pathlib import Path

from ..city import City
from ..config import load_city_config
from ..errors import InputError
from . import tables
from .graphml import read_streets
from .soil_tables import read_soil_textures, read_species

#: The bundled demo city (``models/demo-city`` of the source tree), which
#: ``irrigation run --demo`` plans; see its README.
DEMO_CITY_DIR = Path(__file__).resolve().parents[2] / "models" / "demo-city"


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
    streets = None if cfg.streets is None else read_streets(cfg.streets)
    return City(city_dir, cfg, sites, sensors, refill, streets)


def demo_city() -> City:
    """The bundled demo city, loaded (:data:`DEMO_CITY_DIR`; its README says how it was
    generated). ``demo_city().path`` is its folder."""
    return load_city(DEMO_CITY_DIR)
