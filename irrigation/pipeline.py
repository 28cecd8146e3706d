"""Orchestration: read a city's inputs, run the science modules, hand results to writers.

This is the only layer that both opens files (through :mod:`irrigation.io`) and calls the
science; the CLI parses arguments and calls these functions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from .city import City
from .errors import InputError, ReadProblem
from .groundwater.backend import solve_simulation
from .groundwater.forecast import depth_to_water
from .groundwater.model import GwfModel
from .groundwater.output import heads_dataset
from .io.sensors import read_sensor_data
from .io.soil_tables import read_soil_textures, read_species
from .io.tables import read_watering_log, watering_by_day
from .io.weather import read_weather_csv
from .sensors import channel_theta, hindcast, probe_hydraulics, qc_summary, quality_control
from .soil import simulate_sites
from .weather import et0

log = logging.getLogger(__name__)


@dataclass
class Observed:
    """What a city has observed over a period: weather, ET0, watering, sensor readings."""

    weather: xr.Dataset
    et0_mm: xr.DataArray
    watering_l: xr.DataArray
    readings: xr.Dataset | None
    problems: list[ReadProblem]


def known_channels(city: City) -> dict[str, list[int]]:
    """Installed depths [cm] per probe id, for the sensor readers."""
    s = city.sensors
    return {str(p): [int(d) for d in s["depth"].values[s["installed"].values[i]]]
            for i, p in enumerate(s["sensor"].values)}


def observed_weather(city: City, days: np.ndarray) -> tuple[xr.Dataset, xr.DataArray]:
    """The city's observed weather on ``days`` and its reference ET0 [mm d-1].

    Raises
    ------
    InputError
        The weather file does not cover every day.
    """
    cfg = city.config
    obs = read_weather_csv(cfg.weather.observed, wind_height_m=cfg.weather.wind_height_m)
    obs = obs.sel(time=slice(days[0], days[-1]))
    if obs.sizes["time"] != days.size:
        raise InputError(f"observed weather covers {obs.sizes['time']} of the {days.size} days "
                         f"{days[0]}..{days[-1]}", file=cfg.weather.observed)
    e0 = et0(obs, latitude_deg=cfg.weather.latitude_deg, elevation_m=cfg.weather.elevation_m)
    return obs, e0


def observed(city: City, start: np.datetime64, end: np.datetime64) -> Observed:
    """Read observed weather, the watering log and sensor readings for days [start, end].

    Missing sensor data or watering log are allowed (``readings`` None / no watering);
    weather must cover every day.
    """
    cfg = city.config
    days = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + 1)
    obs, e0 = observed_weather(city, days)
    site_ids = city.sites["site"].values
    if cfg.watering_log is not None and Path(cfg.watering_log).exists():
        wlog = read_watering_log(cfg.watering_log, city.sites)
        water = watering_by_day(wlog, days, site_ids)
    else:
        water = watering_by_day(pd.DataFrame(columns=["date", "site", "litres"]), days, site_ids)
    water = water.assign_coords(time=obs["time"].values)
    readings, problems = None, []
    if cfg.sensor_data is not None and Path(cfg.sensor_data).exists():
        readings, problems = read_sensor_data(cfg.sensor_data, known=known_channels(city))
    return Observed(obs, e0, water, readings, problems)


def steady_depth_to_water(city: City, backend: str | None = None
                          ) -> tuple[GwfModel, xr.DataArray]:
    """Solve the city's groundwater model and return depth to water at the sites [m]
    after its first stored step (the steady state of the bundled models).

    ``backend`` overrides the city's ``groundwater.backend``."""
    cfg = city.config
    model, result = solve_simulation(cfg.groundwater.sim_dir,
                                     backend=backend or cfg.groundwater.backend,
                                     mf6_exe=cfg.groundwater.mf6_exe or None)
    heads = heads_dataset(model, result).isel(time=[0])
    s = city.sites
    dtw = depth_to_water(heads, s.x.values, s.y.values, model=model).isel(time=0)
    dtw = xr.DataArray(dtw.values, dims="site", coords={"site": s.site.values},
                       attrs={"units": "m"})
    return model, dtw


def per_probe(da: xr.DataArray, city: City) -> xr.DataArray:
    """A (``site``, ...) array taken at each probe's site, over dim ``sensor``."""
    s = city.sensors
    out = da.sel(site=s["site"].values).rename(site="sensor")
    return out.assign_coords(sensor=s["sensor"].values)


def checked_readings(city: City, obs: Observed, open_loop: xr.Dataset,
                     textures: pd.DataFrame) -> xr.Dataset:
    """Quality control of ``obs.readings`` against the open-loop model run ``open_loop``."""
    readings = obs.readings.reindex(sensor=city.sensors["sensor"].values)
    readings = readings.assign_coords(quantity=("sensor", city.sensors["kind"].values))
    hyd = probe_hydraulics(city.sensors, city.sites, textures)
    theta = channel_theta(readings["value"], readings["quantity"], hyd)
    expected = per_probe(open_loop["theta"].isel(member=0), city).transpose("sensor", "time")
    return quality_control(
        readings, city.config.qc, theta=theta, expected_theta=expected,
        watering_l=per_probe(obs.watering_l.transpose("site", "time"), city),
        precip_mm=obs.weather["precip_mm"])


def sensor_hindcast(city: City, start, end, *, lead_days: int = 3, n_folds: int = 4
                    ) -> tuple[xr.Dataset, pd.DataFrame, Observed]:
    """Replay [start, end] with and without assimilation (:func:`irrigation.sensors.hindcast`).

    Returns the hindcast Dataset, the QC summary per channel and the observations.
    """
    obs = observed(city, start, end)
    if obs.readings is None:
        raise InputError("no sensor data to replay (city.toml 'sensor_data')",
                         file=city.path / "city.toml", field="sensor_data")
    textures, species = read_soil_textures(), read_species()
    _, dtw = steady_depth_to_water(city)
    log.info("open-loop run of %d sites over %d days", city.sites.sizes["site"],
             obs.et0_mm.sizes["time"])
    open_loop = simulate_sites(city.sites, obs.et0_mm, obs.weather["precip_mm"],
                               textures=textures, species=species, irrigation_l=obs.watering_l,
                               depth_to_water_m=dtw)
    qc = checked_readings(city, obs, open_loop, textures)
    probes = city.sensors["sensor"].values
    folds = [list(probes[i::n_folds]) for i in range(n_folds)]
    log.info("hindcast: %d probes in %d held-out groups, lead %d d", probes.size, n_folds,
             lead_days)
    hc = hindcast(city.sites, city.sensors, qc, obs.et0_mm, obs.weather["precip_mm"],
                  textures=textures, species=species, irrigation_l=obs.watering_l,
                  depth_to_water_m=dtw, lead_days=lead_days, holdout=folds,
                  rules=city.config.assimilation,
                  tension_max_kpa=city.config.qc.tension_range_kpa[1])
    return hc, qc_summary(qc), obs
