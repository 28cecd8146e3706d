"""Reading what a city has observed (weather, watering done, sensor readings) and the
weather forecast of a planning day, through the files ``city.toml`` names.

:func:`read_observed` gathers the observations of a period; :func:`read_forecast` the
forecast that starts on day D. Both only read and check; the science is in
:mod:`irrigation.day`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..city import City
from ..errors import InputError, ReadProblem
from .sensors import read_sensor_data
from .sensorstore import read_sensor_csv_stored
from .tables import read_watering_log, watering_by_day
from .weather import read_weather_csv, read_weather_file


@dataclass
class Observed:
    """What a city has observed over a period.

    Attributes
    ----------
    weather
        Daily station weather over ``time``.
    watering_l
        Water given per site and day [L] over (``time``, ``site``) from the watering log
        (zero without one).
    readings
        Sensor readings over (``sensor``, ``depth``, ``time``), or None without sensor
        data.
    problems
        Rows the sensor reader dropped or converted, with the reason.
    """

    weather: xr.Dataset
    watering_l: xr.DataArray
    readings: xr.Dataset | None
    problems: list[ReadProblem]


def known_channels(city: City) -> dict[str, list[int]]:
    """Installed depths [cm] per probe id, for the sensor readers."""
    s = city.sensors
    return {str(p): [int(d) for d in s["depth"].values[s["installed"].values[i]]]
            for i, p in enumerate(s["sensor"].values)}


def read_observed_weather(city: City, days: np.ndarray) -> xr.Dataset:
    """The city's observed weather (``weather.observed``) on ``days``.

    Raises
    ------
    InputError
        The weather file does not cover every day.
    """
    cfg = city.config
    obs = read_weather_csv(_observed_file(city), wind_height_m=cfg.weather.wind_height_m)
    obs = obs.sel(time=slice(days[0], days[-1]))
    if obs.sizes["time"] != days.size:
        raise InputError(f"observed weather covers {obs.sizes['time']} of the {days.size} days "
                         f"{days[0]}..{days[-1]}", file=cfg.weather.observed)
    return obs


def _observed_file(city: City) -> Path:
    """The observed weather file of city.toml; an error naming the key without one."""
    if city.config.weather.observed is None:
        raise InputError("expected the observed weather (observed = \"weather/observed.csv\" "
                         "in [weather], project weather CSV); the daily run needs it",
                         file=city.path / "city.toml", field="weather.observed")
    return city.config.weather.observed


def read_observed(city: City, start: np.datetime64, end: np.datetime64,
                  reported: Path | None = None, sensor_store: Path | None = None
                  ) -> Observed:
    """Read observed weather, the watering log and sensor readings for days [start, end].

    Missing sensor data or watering log are allowed (``readings`` None / no watering);
    weather must cover every day. ``reported`` is a workspace's log of the watering the
    crews reported (``irrigation log add``): for each day it holds, its rows replace the
    city log's rows of that day. ``sensor_store`` is a folder where the sensor readings
    CSVs are kept parsed, so that only their new lines are read
    (:mod:`irrigation.io.sensorstore`).
    """
    cfg = city.config
    days = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + 1)
    obs = read_observed_weather(city, days)
    site_ids = city.sites["site"].values
    if cfg.watering_log is not None and Path(cfg.watering_log).exists():
        wlog = read_watering_log(cfg.watering_log, city.sites)
    else:
        wlog = pd.DataFrame(columns=["date", "site", "litres"])
    if reported is not None and Path(reported).exists():
        rep = read_watering_log(reported, city.sites)
        wlog = pd.concat([wlog[~pd.DatetimeIndex(wlog["date"]).isin(rep["date"])], rep],
                         ignore_index=True)
    water = watering_by_day(wlog, days, site_ids).assign_coords(time=obs["time"].values)
    readings, problems = None, []
    if cfg.sensor_data is not None and Path(cfg.sensor_data).exists():
        read_csv = None if sensor_store is None else partial(read_sensor_csv_stored,
                                                               store_dir=sensor_store)
        readings, problems = read_sensor_data(cfg.sensor_data, known=known_channels(city),
                                              read_csv=read_csv)
    return Observed(obs, water, readings, problems)


def read_forecast(city: City, day: np.datetime64, path: Path | None
                  ) -> tuple[xr.Dataset, str, Path]:
    """The weather forecast from ``day`` over the horizon; returns (weather, source, file).

    ``path`` (``--forecast``) wins over ``weather.forecast`` of city.toml; ``"observed"``
    replays the observed weather as a perfect forecast.

    Raises
    ------
    InputError
        No forecast configured, the file is missing or unreadable, or it does not start
        at ``day`` or covers fewer than ``decide.lead_days + 1`` days.
    """
    cfg = city.config
    days = np.arange(day, day + cfg.run.horizon_days)
    spec = str(path) if path is not None else cfg.weather.forecast
    if not spec:
        raise InputError("no forecast: pass --forecast FILE or set 'forecast' in [weather]",
                         file=city.path / "city.toml", field="weather.forecast")
    if spec == "observed":
        file = _observed_file(city)
        fc = read_weather_csv(file, wind_height_m=cfg.weather.wind_height_m)
        source = "observed (hindcast)"
    else:
        file = Path(spec) if path is not None else (city.path / spec)
        fc = read_weather_file(file, wind_height_m=cfg.weather.wind_height_m)
        source = f"file {file.name}"
    fc = fc.sel(time=slice(days[0], days[-1]))
    need = cfg.decide.lead_days + 1
    if fc.sizes.get("time", 0) == 0 or np.datetime64(fc["time"].values[0], "D") != day:
        raise InputError(f"the forecast does not start on {day}", file=file)
    if fc.sizes["time"] < need:
        raise InputError(f"the forecast covers {fc.sizes['time']} days from {day}, expected "
                         f"at least {need} (decide.lead_days + 1)", file=file)
    return fc, source, file
