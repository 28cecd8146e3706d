"""Reading and checking scenario files (:mod:`irrigation.scenario.schema`).

:func:`load_scenario` reads a file through the generic loader of :mod:`irrigation.params`
(so a misspelt key gets the same "did you mean" hint as in ``city.toml``) and validates
everything it can without simulating: impossible dates, a season outside the base weather,
missing city or weather files, unknown policies, vehicle types or site kinds. Every problem
is an :class:`~irrigation.errors.InputError` naming the scenario file and the key (e.g.
``perturb.heat_waves[0].start``) or the missing file. :func:`scenario_to_toml` writes a
scenario back in the file format.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import tomli_w
import xarray as xr

from ..config import CityConfig, load_city_config
from ..errors import InputError
from ..io.weather import WEATHER_FILE_TYPES, read_weather_file
from ..params import did_you_mean, from_dict, read_toml, to_dict
from .schema import (
    POLICIES,
    FixedIntervalPolicy,
    Policy,
    Scenario,
    SensorThresholdPolicy,
    apply_fleet_change,
)


def _exists(path: Path, kind: Literal["file", "dir"]) -> bool:
    try:
        return path.is_file() if kind == "file" else path.is_dir()
    except (OSError, ValueError):  # e.g. an embedded NUL byte, a name too long
        return False


def _policies(raw: Any, path: Path) -> tuple[Policy, ...]:
    types = list(POLICIES)
    if raw is None:
        raise InputError(f"expected at least one policy sub-table, e.g. [policies.forecast]; "
                         f"policy types: {', '.join(types)}", file=path, field="policies")
    if not isinstance(raw, dict) or not raw:
        raise InputError(f"expected a table of policy sub-tables (at least one), got "
                         f"{raw!r}; policy types: {', '.join(types)}", file=path,
                         field="policies")
    out = []
    for name, sub in raw.items():
        key = f"policies.{name}"
        if not isinstance(sub, dict):
            raise InputError(f"expected a table of the policy's parameters, got {sub!r}",
                             file=path, field=key)
        sub = dict(sub)
        kind = sub.pop("type", name)
        if kind not in POLICIES:
            what = "policy type" if "type" in raw[name] else "policy (or a 'type' key)"
            raise InputError(f"unknown {what}{did_you_mean(str(kind), types)}; policy "
                             f"types: {', '.join(types)}", file=path,
                             field=f"{key}.type" if "type" in raw[name] else key)
        if "name" in sub:
            raise InputError("the name of a policy is its sub-table's name", file=path,
                             field=f"{key}.name")
        try:
            out.append(from_dict(POLICIES[kind], {**sub, "name": name}, file=path))
        except InputError as exc:
            raise InputError(exc.message, file=path,
                             field=f"{key}.{exc.field}" if exc.field else key) from None
    return tuple(out)


def _check_against_city(scn: Scenario, cfg: CityConfig, path: Path) -> None:
    """Checks that need the city: vehicle names, remaining trucks, kinds, sensors."""
    try:
        apply_fleet_change(cfg.fleet, scn.fleet)
    except InputError as exc:
        raise InputError(exc.message, file=path, field=exc.field) from None
    s = scn.season
    for pol in scn.policies:
        key = f"policies.{pol.name}"
        if isinstance(pol, FixedIntervalPolicy):
            for attr in ("start", "end"):
                day = getattr(pol, attr)
                if day is not None and not s.start <= day <= s.end:
                    raise InputError(f"expected a day inside the season {s.start}..{s.end}, "
                                     f"got {day}", file=path, field=f"{key}.{attr}")
        if isinstance(pol, SensorThresholdPolicy) and cfg.sensors is None:
            raise InputError(f"the city {cfg.name!r} has no sensors (no 'sensors' in its "
                             f"city.toml)", file=path, field=key)


def _weather_file(scn: Scenario, cfg: CityConfig) -> tuple[Path, float]:
    if scn.weather.base == "city":
        return Path(cfg.weather.observed), cfg.weather.wind_height_m
    height = scn.weather.wind_height_m
    return Path(scn.weather.base), cfg.weather.wind_height_m if height is None else height


def read_base_weather(scn: Scenario, cfg: CityConfig | None = None) -> xr.Dataset:
    """Read the scenario's base weather (unperturbed, every day of the file).

    Parameters
    ----------
    scn
        A scenario from :func:`load_scenario` (paths absolute).
    cfg
        The city configuration, if already loaded.

    Raises
    ------
    InputError
        From the weather readers, naming the weather file.
    """
    cfg = cfg or load_city_config(scn.city)
    path, height = _weather_file(scn, cfg)
    return read_weather_file(path, wind_height_m=height)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file.

    Paths (``city``, ``weather.base``) are resolved relative to the scenario file and
    made absolute; ``forecast.members`` and ``forecast.horizon_days``, when absent, are filled in
    from the city's ``[run]`` table. The base weather is read to check that it covers the
    simulated days.

    Parameters
    ----------
    path
        The scenario TOML file.

    Returns
    -------
    Scenario
        The validated scenario.

    Raises
    ------
    InputError
        Naming the scenario file and the key: an unknown key (with the closest known
        one), a missing or mistyped value, an impossible date range (``season.end`` not
        after ``season.start``, a dry spell or heat wave outside the season), a season
        outside the base weather, an unknown policy, vehicle type or site kind; naming
        the missing file for a missing city folder or weather file.
    """
    path = Path(path)
    table = read_toml(path)
    policies = _policies(table.pop("policies", None), path)
    # policies are sub-tables named by policy, read above; their names are unique
    scn = dataclasses.replace(from_dict(Scenario, table, file=path), policies=policies)

    here = path.resolve().parent
    city_dir = (here / scn.city).resolve() if _exists(here / scn.city, "dir") else None
    if city_dir is None:
        raise InputError(f"city folder {here / scn.city} not found", file=path, field="city")
    if not _exists(city_dir / "city.toml", "file"):
        raise InputError(f"{city_dir / 'city.toml'} not found (not a city folder)",
                         file=path, field="city")
    cfg = load_city_config(city_dir)
    weather = scn.weather
    if weather.base != "city":
        full = here / weather.base
        if not _exists(full, "file"):
            raise InputError(f"weather file {full} not found", file=path, field="weather.base")
        if full.suffix.lower() not in WEATHER_FILE_TYPES:
            raise InputError(f"weather file {full} has an unknown type; expected "
                             + "; ".join(f"{k}: {v}" for k, v in WEATHER_FILE_TYPES.items()),
                             file=path, field="weather.base")
        weather = dataclasses.replace(weather, base=str(full.resolve()))
    forecast = scn.forecast
    if forecast.horizon_days is None:
        forecast = dataclasses.replace(forecast, horizon_days=cfg.run.horizon_days)
    if forecast.members is None:
        forecast = dataclasses.replace(forecast, members=cfg.run.members)
    scn = dataclasses.replace(scn, city=city_dir, weather=weather, forecast=forecast)
    _check_against_city(scn, cfg, path)

    base = read_base_weather(scn, cfg)
    time = pd.DatetimeIndex(base["time"].values)
    first, last = time[0].date(), time[-1].date()
    s = scn.season
    source = _weather_file(scn, cfg)[0]
    for key, day in (("season.spinup_start", s.spinup_start), ("season.start", s.start),
                     ("season.end", s.end)):
        if day is not None and not first <= day <= last:
            raise InputError(f"{day} is outside the base weather ({source}: {first}..{last})",
                             file=path, field=key)
    return scn


def scenario_to_toml(scn: Scenario) -> str:
    """The scenario as TOML text in the file format; :func:`load_scenario` reads it back.

    Paths are written as they are in ``scn`` (absolute after :func:`load_scenario`).
    """
    out = to_dict(scn)
    out["policies"] = {}
    for p in scn.policies:
        table = {k: v for k, v in to_dict(p).items() if k != "name"}
        if p.name != p.type:
            table = {"type": p.type, **table}
        out["policies"][p.name] = table
    return tomli_w.dumps(out)


