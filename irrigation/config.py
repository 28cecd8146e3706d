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
        Observed daily weather (project CSV format, see README) relative to the city folder;
        absent: the city validates, but ``irrigation run`` stops with an error naming it.
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

    observed: Path | None = None
    station: str = ""
    latitude_deg: float = 51.5
    elevation_m: float = 100.0
    wind_height_m: float = 10.0
    forecast: str = ""

    def __post_init__(self) -> None:
        require(-90 <= self.latitude_deg <= 90, "latitude_deg", "a latitude in [-90, 90]")
        require(-500 <= self.elevation_m <= 9000, "elevation_m", "an elevation in m")
        require(0.5 <= self.wind_height_m <= 100, "wind_height_m", "a height in [0.5, 100] m")


#: Depth of the water table below every site [m] assumed when a city has no groundwater
#: model and states no ``depth_to_water_m``: deep enough that no site of any root depth the
#: sites table allows (<= 5 m) gets capillary rise (cut off ``SoilParams.cr_cutoff_m`` = 1 m
#: below the root zone), so an assumption never stands in for watering.
ASSUMED_DEPTH_TO_WATER_M = 10.0


#: Largest ``background_recharge_mm_d`` accepted [mm d-1]: 20 mm every day is 7,300 mm a
#: year, beyond the annual rainfall of any city (diffuse recharge in humid Europe is
#: 0.5-1 mm/d).
MAX_BACKGROUND_RECHARGE_MM_D = 20.0


@dataclass(frozen=True)
class GroundwaterConfig:
    """The city's MODFLOW 6 groundwater model, or the depth to water assumed without one.

    Attributes
    ----------
    sim_dir
        MODFLOW 6 simulation folder (with ``mfsim.nam``), relative to the city folder;
        absent: the city has no groundwater model, and the depth to water under the sites
        is assumed (``depth_to_water_m``, ``depth_to_water_grid``) and stated in every
        report.
    model
        Name of the GWF model inside the simulation.
    backend
        ``"auto"`` uses a real ``mf6`` when one is configured or on PATH, else the
        embedded solver.
    mf6_exe
        Path of an ``mf6`` executable; empty means: look at ``$MF6_EXE``, then PATH.
    background_recharge_mm_d
        Recharge applied to model cells without planting sites [mm d-1], in [0,
        :data:`MAX_BACKGROUND_RECHARGE_MM_D`].
    depth_to_water_m
        Without ``sim_dir``: depth of the water table below every site [m] (and below the
        sites the grid does not cover); absent: :data:`ASSUMED_DEPTH_TO_WATER_M`.
    depth_to_water_grid
        Without ``sim_dir``: an ESRI ASCII grid (``.asc``) of the depth to water [m] in the
        city CRS (e.g. a groundwater depth map of the city's environmental atlas),
        relative to the city folder; sites outside it or on NODATA cells take
        ``depth_to_water_m``.
    spinup_step_days
        The groundwater stage of a run that starts further back than yesterday (the
        season's first run: from the season start) moves the heads in periods of this
        many days with each period's mean recharge, not day by day (1): the same water
        in a seventh of the solves. On the demo's 92-day spin-up (1 April to 2 July 2018)
        7 moved the heads by at most 2.3 mm (mean 0.6 mm) from the daily steps and left
        the day's visits unchanged. A continuing run steps one day.
    """

    sim_dir: Path | None = None
    model: str = "gwf"
    backend: Literal["auto", "embedded", "mf6"] = "auto"
    mf6_exe: str = ""
    background_recharge_mm_d: float = 0.5
    depth_to_water_m: float | None = None
    depth_to_water_grid: Path | None = None
    spinup_step_days: int = 7

    def __post_init__(self) -> None:
        require(
            0 <= self.background_recharge_mm_d <= MAX_BACKGROUND_RECHARGE_MM_D,
            "background_recharge_mm_d",
            f"a recharge in [0, {MAX_BACKGROUND_RECHARGE_MM_D:g}] mm/d, got "
            f"{self.background_recharge_mm_d}",
        )
        require(1 <= self.spinup_step_days <= 31, "spinup_step_days",
                f"a number of days in [1, 31], got {self.spinup_step_days}")
        if self.depth_to_water_m is not None:
            require(0 <= self.depth_to_water_m <= 1000, "depth_to_water_m",
                    f"a depth in [0, 1000] m, got {self.depth_to_water_m}")
        for key in ("depth_to_water_m", "depth_to_water_grid"):
            require(self.sim_dir is None or getattr(self, key) is None, key,
                    "no assumed depth to water beside a groundwater model (sim_dir): the "
                    "model gives the depth; remove one of them")


#: Largest ``run.seed``: PyVRP's random number generator takes an unsigned 32-bit seed,
#: and day seeds are derived from it (:func:`irrigation.day.day_seed`).
MAX_SEED = 2**32 - 1


@dataclass(frozen=True)
class RunConfig:
    """Settings of the daily run.

    Attributes
    ----------
    season_start
        Day the soil water balance is spun up from (soil at field capacity); absent: the
        city validates, but ``irrigation run`` stops with an error naming it.
    horizon_days
        Forecast horizon [d].
    members
        Ensemble members when the forecast is deterministic and an ensemble is generated.
    seed
        Seed of every random draw of a run (ensembles, routing), so a re-run is identical;
        in [0, 2**32 - 1] (PyVRP takes an unsigned 32-bit seed).
    date
        Planning day when ``irrigation run`` gets no ``--date``; absent: today.
    workspace
        Workspace folder (``state/``, ``plans/``, ``logs/``) when ``irrigation run`` gets
        no ``--out``, relative to the current directory; absent:
        ``irrigation-runs/<city folder name>``.
    """

    season_start: dt.date | None = None
    horizon_days: int = 14
    members: int = 20
    seed: int = 42
    date: dt.date | None = None
    workspace: str | None = None

    def __post_init__(self) -> None:
        require(1 <= self.horizon_days <= 60, "horizon_days", "a horizon in [1, 60] days")
        require(1 <= self.members <= 1000, "members", "a member count in [1, 1000]")
        require(0 <= self.seed <= MAX_SEED, "seed", f"a seed in [0, {MAX_SEED}], got {self.seed}")


@dataclass(frozen=True)
class CityConfig:
    """The contents of ``models/<city>/city.toml``.

    Paths are relative to the city folder; :func:`load_city_config` resolves them.

    Attributes
    ----------
    name
        Human-readable name of the city or district.
    crs
        Projected metric CRS of all coordinates (EPSG code string), one pyproj knows whose
        axes are in metres (e.g. ``EPSG:25832``; ``EPSG:4326`` is refused).
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
    species
        The city's own species table (CSV, columns of ``irrigation/data/species.csv``),
        merged over the packaged one: its rows override packaged rows of the same
        ``species`` and add new ones (e.g. genus rows); optional.
    attribution
        Credit line printed on the plan's map, driver sheets and report (e.g. the ODbL
        attribution of OpenStreetMap data); optional, default: the street file's own
        (a graph from OpenStreetMap credits "© OpenStreetMap contributors").
    """

    name: str
    crs: str
    sites: Path
    refill_points: Path
    weather: WeatherConfig = field(default_factory=WeatherConfig)
    groundwater: GroundwaterConfig = field(default_factory=GroundwaterConfig)
    run: RunConfig = field(default_factory=RunConfig)
    fleet: tuple[VehicleType, ...] = ()
    sensors: Path | None = None
    streets: Path | None = None
    sensor_data: Path | None = None
    watering_log: Path | None = None
    network: NetworkConfig = field(default_factory=NetworkConfig)
    decide: DecideRules = field(default_factory=DecideRules)
    routing: RoutingConfig = field(default_factory=RoutingConfig)
    qc: QCRules = field(default_factory=QCRules)
    assimilation: AssimilationRules = field(default_factory=AssimilationRules)
    species: Path | None = None
    attribution: str | None = None

    def __post_init__(self) -> None:
        require(self.crs.upper().startswith("EPSG:"), "crs", f"'EPSG:<code>', got {self.crs!r}")
        require(is_metric_projected(self.crs), "crs",
                f"a projected CRS in metres that pyproj knows (e.g. 'EPSG:25832'), got "
                f"{self.crs!r}")
        require(len(self.fleet) >= 1, "fleet", "at least one [[fleet]] vehicle type")
        names = [v.name for v in self.fleet]
        require(len(set(names)) == len(names), "fleet", "vehicle type names that are unique")


def is_metric_projected(crs: str) -> bool:
    """Whether pyproj knows ``crs`` as a projected CRS with both axes in metres."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        c = CRS.from_user_input(crs)
    except CRSError:
        return False
    return c.is_projected and all(a.unit_name == "metre" for a in c.axis_info[:2])


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
        species=resolve(cfg.species, "species"),
        weather=dataclasses.replace(
            cfg.weather, observed=resolve(cfg.weather.observed, "weather.observed")
        ),
        groundwater=dataclasses.replace(
            cfg.groundwater, sim_dir=resolve(cfg.groundwater.sim_dir, "groundwater.sim_dir"),
            depth_to_water_grid=resolve(cfg.groundwater.depth_to_water_grid,
                                        "groundwater.depth_to_water_grid"),
        ),
    )
