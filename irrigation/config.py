"""The city configuration: ``models/<city>/city.toml`` as one frozen dataclass.

:class:`CityConfig` composes the tables of ``city.toml``. The tables that configure a
piece of science are defined beside it (``[decide]`` :class:`~irrigation.decide.DecideRules`,
``[qc]`` :class:`~irrigation.sensors.QCRules`, ``[assimilation]``
:class:`~irrigation.sensors.AssimilationRules`, ``[routing]``, ``[network]`` and
``[[fleet]]`` in :mod:`irrigation.routing`); the tables of the city itself (weather inputs,
groundwater model, daily run) are here. :func:`load_city_config` reads the file through the
generic loader of :mod:`irrigation.params`, so every problem is an
:class:`~irrigation.errors.InputError` naming the file and the key.

All defaults live in the dataclass definitions and are documented there; code elsewhere
never repeats them. The file format is documented in the README ("City folder").
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from .decide import DecideRules
from .errors import InputError
from .params import from_toml, require
from .routing import NetworkConfig, RoutingConfig, VehicleType
from .sensors.assimilate import AssimilationRules
from .sensors.qc import QCRules


@dataclass(frozen=True)
class WeatherConfig:
    """Weather inputs of a city.

    Attributes
    ----------
    observed
        Observed daily weather (project CSV format, see README) relative to the city folder.
    station
        Name of the weather station.
    latitude_deg
        Latitude of the station [degrees north]; needed for extraterrestrial radiation.
    elevation_m
        Elevation of the station [m above sea level]; needed for air pressure.
    wind_height_m
        Height of the wind measurement [m]; converted to 2 m with FAO-56 eq. 47.
    forecast
        Where the daily run gets its forecast when ``--forecast`` is not given: a file
        relative to the city folder (``.csv`` project format, ``.nc``, Open-Meteo
        ``.json``, MOSMIX ``.kml``/``.kmz``), or ``"observed"`` to replay the observed
        weather as a perfect forecast (hindcast mode, for replaying past seasons such as
        the demo's 2018); empty: ``--forecast`` is required.
    """

    observed: Path
    station: str = ""
    latitude_deg: float = 51.5
    elevation_m: float = 100.0
    wind_height_m: float = 10.0
    forecast: str = ""

    def __post_init__(self) -> None:
        require(-90 <= self.latitude_deg <= 90, "latitude_deg", "a latitude in [-90, 90]")
        require(-500 <= self.elevation_m <= 9000, "elevation_m", "an elevation in m")
        require(0.5 <= self.wind_height_m <= 100, "wind_height_m", "a height in [0.5, 100] m")


@dataclass(frozen=True)
class GroundwaterConfig:
    """The city's MODFLOW 6 groundwater model.

    Attributes
    ----------
    sim_dir
        MODFLOW 6 simulation folder (with ``mfsim.nam``), relative to the city folder.
    model
        Name of the GWF model inside the simulation.
    backend
        ``"auto"`` uses a real ``mf6`` when one is configured or on PATH, else the
        embedded solver.
    mf6_exe
        Path of an ``mf6`` executable; empty means: look at ``$MF6_EXE``, then PATH.
    background_recharge_mm_d
        Recharge applied to model cells without planting sites [mm d-1].
    """

    sim_dir: Path
    model: str = "gwf"
    backend: Literal["auto", "embedded", "mf6"] = "auto"
    mf6_exe: str = ""
    background_recharge_mm_d: float = 0.5

    def __post_init__(self) -> None:
        require(
            self.background_recharge_mm_d >= 0,
            "background_recharge_mm_d",
            f">= 0 mm/d, got {self.background_recharge_mm_d}",
        )


@dataclass(frozen=True)
class RunConfig:
    """Settings of the daily run.

    Attributes
    ----------
    season_start
        Day the soil water balance is spun up from (soil at field capacity).
    horizon_days
        Forecast horizon [d].
    members
        Ensemble members when the forecast is deterministic and an ensemble is generated.
    seed
        Seed of every random draw of a run (ensembles, routing), so a re-run is identical.
    date
        Planning day when ``irrigation run`` gets no ``--date``; absent: today.
    workspace
        Workspace folder (``state/``, ``plans/``, ``logs/``) when ``irrigation run`` gets
        no ``--out``, relative to the current directory; absent:
        ``irrigation-runs/<city folder name>``.
    """

    season_start: dt.date
    horizon_days: int = 14
    members: int = 20
    seed: int = 42
    date: dt.date | None = None
    workspace: str | None = None

    def __post_init__(self) -> None:
        require(1 <= self.horizon_days <= 60, "horizon_days", "a horizon in [1, 60] days")
        require(1 <= self.members <= 1000, "members", "a member count in [1, 1000]")


@dataclass(frozen=True)
class CityConfig:
    """The contents of ``models/<city>/city.toml``.

    Paths are relative to the city folder; :func:`load_city_config` resolves them.

    Attributes
    ----------
    name
        Human-readable name of the city or district.
    crs
        Projected metric CRS of all coordinates (EPSG code string).
    sites
        Planting sites, CSV or GeoJSON (columns in the README).
    refill_points
        Depot(s) and hydrants, CSV.
    sensors
        Soil sensors, CSV; optional.
    streets
        Street graph, GraphML; optional (without it distances use ``network.detour_factor``).
    sensor_data
        Sensor readings: one file (long CSV, ``.csv.gz`` or SensorThings JSON) or a folder
        of such files, all read and merged; optional, and may be missing on a given day
        (the run then goes on with the model alone).
    watering_log
        The watering actually done (CSV ``date,site,litres``); optional, may be missing.
    """

    name: str
    crs: str
    sites: Path
    refill_points: Path
    weather: WeatherConfig
    groundwater: GroundwaterConfig
    run: RunConfig
    fleet: tuple[VehicleType, ...]
    sensors: Path | None = None
    streets: Path | None = None
    sensor_data: Path | None = None
    watering_log: Path | None = None
    network: NetworkConfig = field(default_factory=NetworkConfig)
    decide: DecideRules = field(default_factory=DecideRules)
    routing: RoutingConfig = field(default_factory=RoutingConfig)
    qc: QCRules = field(default_factory=QCRules)
    assimilation: AssimilationRules = field(default_factory=AssimilationRules)

    def __post_init__(self) -> None:
        require(self.crs.upper().startswith("EPSG:"), "crs", f"'EPSG:<code>', got {self.crs!r}")
        require(len(self.fleet) >= 1, "fleet", "at least one [[fleet]] vehicle type")
        names = [v.name for v in self.fleet]
        require(len(set(names)) == len(names), "fleet", "vehicle type names that are unique")


def load_city_config(city_dir: str | Path) -> CityConfig:
    """Read and validate ``<city_dir>/city.toml``; paths in it become absolute."""
    city_dir = Path(city_dir)
    path = city_dir / "city.toml"
    if not city_dir.is_dir():
        raise InputError("is not a city folder (expected a folder with a city.toml)", file=city_dir)
    cfg = from_toml(CityConfig, path)

    def resolve(p: Path | None, key: str, must_exist: bool = True) -> Path | None:
        if p is None:
            return None
        full = (city_dir / p).resolve()
        if must_exist and not full.exists():
            raise InputError(f"names {p}, which does not exist", file=path, field=key)
        return full

    return dataclasses.replace(
        cfg,
        sites=resolve(cfg.sites, "sites"),
        refill_points=resolve(cfg.refill_points, "refill_points"),
        sensors=resolve(cfg.sensors, "sensors"),
        streets=resolve(cfg.streets, "streets"),
        sensor_data=resolve(cfg.sensor_data, "sensor_data", must_exist=False),
        watering_log=resolve(cfg.watering_log, "watering_log", must_exist=False),
        weather=dataclasses.replace(
            cfg.weather, observed=resolve(cfg.weather.observed, "weather.observed")
        ),
        groundwater=dataclasses.replace(
            cfg.groundwater, sim_dir=resolve(cfg.groundwater.sim_dir, "groundwater.sim_dir")
        ),
    )
