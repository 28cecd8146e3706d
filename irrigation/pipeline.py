"""Orchestration: read a city's inputs, run the science modules, hand results to writers.

This is the only layer that both opens files (through :mod:`irrigation.io`) and calls the
science; the CLI parses arguments and calls these functions.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from tqdm import tqdm

from .city import City
from .decide import demand, fleet_capacity_l, schedule, threshold_mm
from .errors import ConvergenceError, InputError, ReadProblem
from .groundwater.backend import solve_model
from .groundwater.forecast import depth_to_water, run_forecast
from .groundwater.load import load_simulation
from .groundwater.model import GwfModel
from .groundwater.output import heads_dataset
from .io.files import atomic_write
from .io.sensors import read_sensor_data
from .io.soil_tables import read_soil_textures, read_species
from .io.tables import read_watering_log, watering_by_day
from .io.weather import read_weather_csv, read_weather_file
from .io.workspace import Workspace, read_state, sha256, versions, write_run_record, write_state
from .plan import Plan, make_plan, write_plan
from .routing import RoutingProblem, build_problem, solve
from .sensors import (
    advance_variance,
    analysis,
    background_correlation,
    channel_theta,
    hindcast,
    probe_hydraulics,
    qc_summary,
    quality_control,
    root_zone_depletion,
    window_means,
)
from .soil import (
    recharge_to_grid,
    simulate_sites,
    site_water_capacity,
    van_genuchten_tension_kpa,
)
from .weather import ensemble_from_deterministic, et0

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
    model = load_simulation(city.config.groundwater.sim_dir)
    heads = _steady_heads(city, model, backend)
    return model, _sites_dtw(heads, model, city).isel(time=0, drop=True)


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


# =========================================================================== the daily run

#: Stages of :func:`run_day`, in order; each logs one line with its wall time.
STAGES = ("inputs", "sensors", "state", "groundwater", "forecast", "decide", "routing",
          "write")

#: Rounds of the fixed point between fleet capacity and mean visit size (:func:`_decide`).
FLEET_CAPACITY_ROUNDS = 5

#: Days of sensor quality control that the daily report lists.
QC_REPORT_DAYS = 7

#: Sites per block of the forecast's soil passes. The balance keeps ~20 arrays of
#: (horizon x block x members) float64 alive; 10,000 x 14 x 50 is ~1.1 GB, so the large
#: city's 150,000 sites stay within a few GB instead of ~12 GB in one block.
SITE_BLOCK = 10_000


@dataclass
class DayRun:
    """Everything a daily run computed for day ``date`` (see :func:`run_day`).

    Attributes
    ----------
    date
        The planning day D.
    state
        State at the morning of D: ``dr_mm`` and ``var_mm2`` over ``site`` (after the
        sensor analysis), ``heads_m`` over (``layer``, ``row``, ``col``).
    forecast
        Soil forecast over (``time`` = D..D+H-1 mornings, ``site``, ``member``):
        ``dr_mm``, ``tension_kpa``; ``depth_to_water_m`` over (``time``, ``site``);
        ``threshold_mm`` and ``threshold_kpa`` per site.
    demand
        :func:`irrigation.decide.demand` of every site.
    visits, deferred
        :func:`irrigation.decide.schedule` of the day.
    plan
        The routed plan (:class:`irrigation.plan.Plan`).
    problem
        The routing problem solved (None when nothing was due).
    qc
        QC summary per channel over the last :data:`QC_REPORT_DAYS` days (None without
        sensor data).
    warnings
        What the report must tell (missing sensors, groundwater fallback, ...).
    info
        Facts for the report and run record (forecast source, spin-up, seeds, counts).
    timings
        Wall time per stage [s].
    """

    date: np.datetime64
    state: xr.Dataset
    forecast: xr.Dataset
    demand: xr.Dataset
    visits: pd.DataFrame
    deferred: pd.DataFrame
    plan: Plan
    problem: RoutingProblem | None
    qc: pd.DataFrame | None
    warnings: list[str]
    info: dict
    timings: dict[str, float]


class _Stages:
    """Runs the stages in order with one progress line each and keeps their timings."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    def __call__(self, name: str, fn, *args, **kwargs):
        k = STAGES.index(name) + 1
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        dt_s = time.perf_counter() - t0
        self.timings[name] = dt_s
        log.info("[%d/%d] %-12s %7.2f s", k, len(STAGES), name, dt_s)
        return out


def forecast_weather(city: City, day: np.datetime64, path: Path | None
                     ) -> tuple[xr.Dataset, str, Path | None]:
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
    horizon = cfg.run.horizon_days
    days = np.arange(day, day + horizon)
    spec = str(path) if path is not None else cfg.weather.forecast
    if not spec:
        raise InputError("no forecast: pass --forecast FILE or set 'forecast' in [weather]",
                         file=city.path / "city.toml", field="weather.forecast")
    if spec == "observed":
        obs = read_weather_csv(cfg.weather.observed, wind_height_m=cfg.weather.wind_height_m)
        fc, source, file = obs.sel(time=slice(days[0], days[-1])), "observed (hindcast)", \
            cfg.weather.observed
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


def _season_days(city: City, day: np.datetime64) -> np.ndarray:
    start = np.datetime64(city.config.run.season_start, "D")
    if day <= start:
        raise InputError(f"expected a planning day after run.season_start ({start}), got {day}",
                         field="--date")
    return np.arange(start, day)


def _sites_dtw(heads_m: np.ndarray, model: GwfModel, city: City) -> xr.DataArray:
    """Depth to water [m] at the sites from heads (nlay, nrow, ncol) or (time, ...)."""
    from .groundwater.embedded import SolveResult

    h = np.asarray(heads_m, dtype=float)
    h = h[None] if h.ndim == 3 else h
    res = SolveResult(heads=np.where(np.isfinite(h), h, -1e30),
                      times=np.arange(1, len(h) + 1, dtype=float),
                      kstpkper=[(0, k) for k in range(len(h))])
    ds = heads_dataset(model, res)
    s = city.sites
    dtw = depth_to_water(ds, s.x.values, s.y.values, model=model)
    return xr.DataArray(dtw.values, dims=("time", "site"),
                        coords={"time": dtw["time"].values, "site": s.site.values},
                        attrs={"units": "m"})


@dataclass
class _Inputs:
    """What the inputs stage read for day D."""

    obs: Observed                       # season start .. D-1, readings before D
    forecast: xr.Dataset                # weather D.. (time[, member])
    forecast_source: str
    previous: tuple[np.datetime64, xr.Dataset] | None
    model: GwfModel
    textures: pd.DataFrame
    species: pd.DataFrame
    hyd: dict                           # texture hydraulics per site
    taw_mm: xr.DataArray                # (site) total available water
    files: dict[str, Path]
    warnings: list[str]


def _inputs(city: City, day: np.datetime64, ws: Workspace, forecast: Path | None) -> _Inputs:
    cfg = city.config
    days = _season_days(city, day)
    fc, source, fc_file = forecast_weather(city, day, forecast)  # first: fail before reading
    obs = observed(city, days[0], days[-1])
    warnings = []
    if obs.readings is not None:
        obs.readings = obs.readings.sel(time=obs.readings["time"] < day)
        fresh = obs.readings.sel(time=obs.readings["time"] >= day - np.timedelta64(1, "D"))
        if int(np.isfinite(fresh["value"]).sum()) == 0:
            warnings.append("no sensor reading in the 24 h before the run: the state is the "
                            "model's alone today")
    else:
        warnings.append(f"no sensor data ({cfg.sensor_data or 'none configured'}): the run "
                        "goes on with the soil model alone")
    if cfg.watering_log is None or not Path(cfg.watering_log).exists():
        warnings.append(f"no watering log ({cfg.watering_log or 'none configured'}): the state "
                        "assumes nothing was watered")
    prev = ws.previous_state(day, days[0])
    previous = None if prev is None else (prev[0], read_state(prev[1]))
    files = {"city.toml": city.path / "city.toml", "sites": cfg.sites,
             "refill_points": cfg.refill_points, "weather.observed": cfg.weather.observed,
             "groundwater": cfg.groundwater.sim_dir, "forecast": fc_file}
    for key in ("sensors", "streets", "sensor_data", "watering_log"):
        p = getattr(cfg, key)
        if p is not None and Path(p).exists():
            files[key] = Path(p)
    if prev is not None:
        files["previous_state"] = prev[1]
    textures = read_soil_textures()
    hyd, taw = site_water_capacity(city.sites, textures)
    return _Inputs(obs, fc, source, previous, load_simulation(cfg.groundwater.sim_dir),
                   textures, read_species(), hyd, taw, files, warnings)


@dataclass
class _Sensors:
    """Quality-controlled readings as daily root-zone observations."""

    obs_dr: xr.Dataset | None         # (sensor, time): site, dr_obs_mm, var_obs_mm2
    qc: pd.DataFrame | None           # summary of the last QC_REPORT_DAYS days
    rho: np.ndarray | None            # background correlation sites x probes


def _sensors(city: City, day: np.datetime64, inp: _Inputs) -> _Sensors:
    obs = inp.obs
    if obs.readings is None or city.sensors.sizes["sensor"] == 0:
        return _Sensors(None, None, None)
    cfg = city.config
    dtw0 = None if inp.previous is None else _sites_dtw(
        inp.previous[1]["heads_m"].values, inp.model, city).isel(time=0)
    open_loop = simulate_sites(city.sites, obs.et0_mm, obs.weather["precip_mm"],
                               textures=inp.textures, species=inp.species,
                               irrigation_l=obs.watering_l, depth_to_water_m=dtw0)
    qc = checked_readings(city, obs, open_loop, inp.textures)
    recent = qc.sel(time=qc["time"] >= day - np.timedelta64(QC_REPORT_DAYS, "D"))
    days = np.arange(np.datetime64(cfg.run.season_start, "D"), day + 1)
    means = window_means(qc, days, cfg.assimilation.window_hours)
    hyd = probe_hydraulics(city.sensors, city.sites, inp.textures)
    obs_dr = root_zone_depletion(means, qc["quantity"], hyd, cfg.assimilation)
    obs_dr["site"] = city.sensors["site"]
    psite = pd.Index(city.sites["site"].values).get_indexer(city.sensors["site"].values)
    rho = background_correlation(city.sites, city.sites.isel(site=psite), cfg.assimilation)
    return _Sensors(obs_dr, qc_summary(recent), rho)


def _steady_heads(city: City, model: GwfModel, backend: str | None = None) -> np.ndarray:
    """Heads of the model's first stored step (the steady state of a city model) [m];
    ``backend`` overrides the city's ``groundwater.backend``."""
    cfg = city.config.groundwater
    result = solve_model(model.first_period(), backend=backend or cfg.backend,
                         mf6_exe=cfg.mf6_exe or None)
    return heads_dataset(model, result)["head"].isel(time=0).values


def _recharge(dp_mm: np.ndarray, city: City, model: GwfModel) -> np.ndarray:
    """Recharge per cell [mm d-1] (days, nrow, ncol) from deep percolation (days, site)."""
    s = city.sites
    ytop = model.yorigin + float(np.sum(model.delc))
    return np.stack([recharge_to_grid(d, s["area_m2"].values, s.x.values, s.y.values,
                                      xorigin=model.xorigin, ytop=ytop, delr=model.delr,
                                      delc=model.delc,
                                      background_mm_d=city.config.groundwater
                                      .background_recharge_mm_d)
                     for d in np.atleast_2d(dp_mm)])


@dataclass
class _State:
    dr_mm: xr.DataArray          # (site) at the morning of D, analysed
    var_mm2: xr.DataArray        # (site)
    heads_m: np.ndarray          # (layer, row, col) at the morning of D
    start: str                   # where the state came from
    n_obs: int                   # probes assimilated at D
    since: np.datetime64         # day the previous state (or the spin-up) started from
    dp_mm: np.ndarray            # (days since .. D-1, site) deep percolation [mm d-1]


def _analyse(dr, var, t, sens: _Sensors | None, city, taw):
    rules = city.config.assimilation
    if sens is None or sens.obs_dr is None:
        return dr, var, 0
    a = analysis(dr, var, sens.obs_dr.sel(time=t), city.sites, taw, rules, sens.rho)
    return a["dr_mm"], a["var_mm2"], int(a.attrs.get("n_obs", 0))


def _advance_state(city: City, day: np.datetime64, inp: _Inputs, sens: _Sensors) -> _State:
    """Continue the previous state (or spin up from the season start) to the morning of D.

    Each day: the soil balance with the observed weather and the executed watering, the
    variance grows (:func:`~irrigation.sensors.advance_variance`), and the next morning's
    sensor window is assimilated (:func:`~irrigation.sensors.analysis`). The heads stay
    those of the starting day (:func:`_groundwater_to_day` moves them to D).
    """
    cfg = city.config
    s = city.sites
    site_ids = s["site"].values
    taw = inp.taw_mm
    if inp.previous is None:
        d0 = np.datetime64(cfg.run.season_start, "D")
        heads0 = _steady_heads(city, inp.model)
        dr = xr.DataArray(np.zeros(site_ids.size), dims="site", coords={"site": site_ids})
        var = (cfg.assimilation.sigma_b0_frac * taw) ** 2
        dr, var, _ = _analyse(dr, var, d0, sens, city, taw)
        start = f"spun up from the season start {d0} (field capacity, steady groundwater)"
    else:
        d0, prev = inp.previous
        heads0 = prev["heads_m"].values
        dr = prev["dr_mm"].reindex(site=site_ids).fillna(0.0)
        var = prev["var_mm2"].reindex(site=site_ids).fillna(
            float((cfg.assimilation.sigma_b0_frac * taw.max()) ** 2))
        start = f"continued from the state of {d0}"
    dtw0 = _sites_dtw(heads0, inp.model, city).isel(time=0)
    obs = inp.obs
    days = np.arange(d0, day)
    dp = np.zeros((days.size, site_ids.size))
    n_obs = 0
    for k, d in enumerate(tqdm(days, desc="state", unit="day", leave=False,
                               disable=days.size < 30 or not log.isEnabledFor(logging.INFO))):
        sl = slice(d, d)
        sim = simulate_sites(s, obs.et0_mm.sel(time=sl), obs.weather["precip_mm"].sel(time=sl),
                             textures=inp.textures, species=inp.species,
                             irrigation_l=obs.watering_l.sel(time=sl), depth_to_water_m=dtw0,
                             initial_depletion_mm=dr, derived=False)
        dr = sim["dr_mm"].isel(time=0, member=0, drop=True)
        dp[k] = sim["deep_percolation_mm"].values[0, :, 0]
        etc = sim["k_l"] * float(obs.et0_mm.sel(time=d))
        var = advance_variance(var, etc, taw, cfg.assimilation)
        dr, var, n_obs = _analyse(dr, var, d + 1, sens, city, taw)
    return _State(dr.assign_attrs(units="mm"), var.assign_attrs(units="mm2"), heads0, start,
                  n_obs, d0, dp)


def _groundwater_to_day(city: City, day: np.datetime64, inp: _Inputs, state: _State,
                        warnings: list[str]) -> _State:
    """Run the groundwater model from the state's day to D with the balances' recharge."""
    cfg = city.config.groundwater
    if state.dp_mm.shape[0] == 0:
        return state
    try:
        hds = run_forecast(inp.model, state.heads_m,
                           recharge_mm_d=_recharge(state.dp_mm, city, inp.model),
                           days=state.dp_mm.shape[0], start=state.since, backend=cfg.backend,
                           mf6_exe=cfg.mf6_exe or None)
    except ConvergenceError as exc:
        warnings.append(f"groundwater did not converge over {state.since}..{day} ({exc}); "
                        f"the heads of {state.since} are used")
        return state
    return dataclasses.replace(state, heads_m=hds["head"].isel(time=-1).values)



def day_seed(seed: int, day: np.datetime64) -> int:
    """Seed of the random draws of day ``day``: fixed per (run.seed, day)."""
    ordinal = int(np.datetime64(day, "D").astype(int))
    return int(np.random.SeedSequence([seed, ordinal]).generate_state(1)[0])


def _forecast(city: City, day: np.datetime64, inp: _Inputs, state: _State,
              warnings: list[str], info: dict, *, groundwater: bool = True) -> xr.Dataset:
    """Ensemble soil forecast coupled once with the groundwater forecast.

    1. Ensemble weather (the forecast's members, or
       :func:`~irrigation.weather.ensemble_from_deterministic`) and its ET0.
    2. Initial depletion per member: the analysis plus N(0, var) (member 0 unperturbed),
       kept in [0, TAW], so the members carry the state's uncertainty (initial ensemble
       drawn from the analysis error variance, as in the EnKF: Evensen 2003, Ocean
       Dynamics 53, 343-367; diagonal here, since the OI keeps only var_mm2).
    3. Soil balance with today's depth to water -> recharge per cell -> groundwater
       forecast from today's heads -> depth to water per day -> soil balance again.
       ``groundwater=False`` holds today's heads over the horizon instead (one soil
       pass; the season runs of :mod:`irrigation.scenario` use it).

    The soil passes run over blocks of :data:`SITE_BLOCK` sites (independent columns), which
    bounds their memory; the results are those of one pass over all sites.
    """
    cfg = city.config
    s = city.sites
    site_ids = s["site"].values
    seed = day_seed(cfg.run.seed, day)
    fc = inp.forecast
    if "member" not in fc.dims:
        fc = ensemble_from_deterministic(fc, cfg.run.members, seed=seed)
    horizon = fc.sizes["time"]
    if horizon < cfg.run.horizon_days:
        warnings.append(f"the forecast covers {horizon} of the {cfg.run.horizon_days} days "
                        "of the horizon")
    e0 = et0(fc, latitude_deg=cfg.weather.latitude_deg, elevation_m=cfg.weather.elevation_m)
    n_mem = fc.sizes["member"]
    info.update(members=n_mem, horizon_days=horizon, ensemble_seed=seed)
    hyd, taw = inp.hyd, inp.taw_mm
    rng = np.random.default_rng(seed + 1)
    z = rng.standard_normal((site_ids.size, n_mem))
    z[:, 0] = 0.0
    dr0 = np.clip(state.dr_mm.values[:, None] + np.sqrt(state.var_mm2.values)[:, None] * z,
                  0.0, taw.values[:, None])
    dr0 = xr.DataArray(dr0, dims=("site", "member"), coords={"site": site_ids})
    dtw_d = _sites_dtw(state.heads_m, inp.model, city).isel(time=0, drop=True)
    blocks = [slice(i, i + SITE_BLOCK) for i in range(0, site_ids.size, SITE_BLOCK)]

    def soil(dtw: xr.DataArray, b: slice) -> xr.Dataset:
        return simulate_sites(s.isel(site=b), e0, fc["precip_mm"], textures=inp.textures,
                              species=inp.species, depth_to_water_m=dtw.isel(site=b),
                              initial_depletion_mm=dr0.isel(site=b), derived=False)

    # the depth to water of each forecast morning: today's, then the end of each day
    if groundwater:
        dp = np.concatenate([soil(dtw_d, b)["deep_percolation_mm"].mean("member").values
                             for b in blocks], axis=1)
        heads = _groundwater_forecast(city, day, inp, state, dp, horizon, warnings, info)
        later = _sites_dtw(heads, inp.model, city).values[:-1]
    else:
        info["groundwater"] = "held: heads of the morning over the horizon"
        later = np.broadcast_to(dtw_d.values, (horizon - 1, site_ids.size))
    dtw = xr.DataArray(np.concatenate([dtw_d.values[None], later]), dims=("time", "site"),
                       coords={"time": fc["time"].values, "site": site_ids})
    # mornings D..D+H-1: the initial state, then the end of each day but the last
    dr = np.empty((horizon, site_ids.size, n_mem))
    dr[0] = dr0.values
    tension = np.empty_like(dr)
    raw = np.empty(site_ids.size)
    h = {k: np.asarray(v, float) for k, v in hyd.items()}
    vg = ("theta_r", "theta_s", "alpha_per_cm", "n")
    zr = s["root_depth_m"].values.astype(float)
    for b in blocks:
        sim = soil(dtw, b)
        dr[1:, b] = sim["dr_mm"].values[:-1]
        raw[b] = np.median(sim["raw_mm"].values[0], axis=-1)
        theta = h["theta_fc"][b, None] - dr[:, b] / (1000.0 * zr[b, None])
        tension[:, b] = van_genuchten_tension_kpa(theta, *(h[k][b, None] for k in vg))
    coords = {"time": fc["time"].values, "site": site_ids, "member": fc["member"].values}
    dims = ("time", "site", "member")
    dr = xr.DataArray(dr, dims=dims, coords=coords)
    raw = xr.DataArray(raw, dims="site", coords={"site": site_ids})
    thr = threshold_mm(s, raw, hyd, int(str(day)[:4]), cfg.decide)
    thr_kpa = xr.DataArray(van_genuchten_tension_kpa(h["theta_fc"] - thr.values / (1000.0 * zr),
                                                     *(h[k] for k in vg)),
                           dims="site", coords={"site": site_ids})
    return xr.Dataset(
        {"dr_mm": dr.assign_attrs(units="mm"),
         "tension_kpa": xr.DataArray(tension, dims=dims, coords=coords, attrs={"units": "kPa"}),
         "depth_to_water_m": dtw.assign_attrs(units="m"),
         "precip_mm": fc["precip_mm"].assign_attrs(units="mm d-1"),
         "et0_mm": e0,
         "taw_mm": taw,
         "threshold_mm": thr,
         "threshold_kpa": thr_kpa.assign_attrs(units="kPa")},
        coords={"x": ("site", s.x.values), "y": ("site", s.y.values),
                "kind": ("site", s["kind"].values),
                "priority": ("site", s["priority"].values)})


def _groundwater_forecast(city: City, day: np.datetime64, inp: _Inputs, state: _State,
                          dp: np.ndarray, horizon: int, warnings: list[str],
                          info: dict) -> np.ndarray:
    """Heads (time, layer, row, col) at the end of each forecast day, from the member-mean
    deep percolation ``dp`` (time, site) [mm d-1] of a first soil pass; the last good heads
    when MF6 does not converge."""
    gw = city.config.groundwater
    t0 = time.perf_counter()
    try:
        hds = run_forecast(inp.model, state.heads_m, recharge_mm_d=_recharge(dp, city, inp.model),
                           days=horizon, start=day, backend=gw.backend,
                           mf6_exe=gw.mf6_exe or None)
        info["groundwater"] = "forecast"
        log.info("  groundwater forecast %d days in %.2f s", horizon, time.perf_counter() - t0)
        return hds["head"].values
    except ConvergenceError as exc:
        warnings.append(f"groundwater forecast did not converge ({exc}); the last good heads "
                        f"(morning of {day}) are held over the horizon")
        info["groundwater"] = "fallback: last good heads"
        return np.broadcast_to(state.heads_m, (horizon, *state.heads_m.shape))


def _decide(city: City, day: np.datetime64, fc: xr.Dataset
            ) -> tuple[xr.Dataset, pd.DataFrame, pd.DataFrame, float]:
    """Demand of every site, then today's visits and the deferred sites within capacity."""
    cfg = city.config
    s = city.sites
    dem = demand(fc["dr_mm"].reset_coords(drop=True), fc["threshold_mm"].reset_coords(
        drop=True), s, cfg.decide)
    due_l = dem["litres"].where(dem["due"]).values
    mean_l = float(np.nanmean(due_l)) if np.isfinite(due_l).any() else cfg.decide.min_visit_l
    rp = city.refill_points
    rate = float(np.median(rp["refill_l_per_min"].values[rp["refill_l_per_min"].values > 0]))
    # the capacity depends on the mean visit of the sites served, which depend on the
    # capacity: iterate to the fixed point (a few rounds; stops when within 2 %)
    capacity = fleet_capacity_l(cfg.fleet, rate, mean_l, cfg.decide)
    for _ in range(FLEET_CAPACITY_ROUNDS):
        visits, deferred = schedule(dem, s, capacity, day, cfg.decide)
        if not len(visits):
            break
        new = fleet_capacity_l(cfg.fleet, rate, float(visits["litres"].mean()), cfg.decide)
        if abs(new - capacity) <= 0.02 * capacity:
            break
        capacity = new
    else:
        visits, deferred = schedule(dem, s, capacity, day, cfg.decide)
    xy = s[["x", "y"]].to_dataframe()[["x", "y"]]
    deferred = deferred.join(xy, on="site")
    return dem, visits, deferred, capacity


_STOP_COLUMNS = ["vehicle", "vehicle_type", "trip", "stop", "kind", "location", "client",
                 "site", "litres", "arrival_s", "start_s", "end_s", "x", "y", "street",
                 "arrival"]


def _route(city: City, day: np.datetime64, visits: pd.DataFrame, deferred: pd.DataFrame,
           info: dict) -> tuple[Plan, RoutingProblem | None]:
    """Route today's visits (urgency: priority, then due before pulled forward)."""
    cfg = city.config
    if len(visits) == 0:
        stops = pd.DataFrame(columns=_STOP_COLUMNS)
        totals = pd.DataFrame([{"vehicle": -1, "vehicle_type": "total", "stops": 0,
                                "litres": 0.0, "km": 0.0, "hours": 0.0, "trips": 0,
                                "refills": 0}])
        cols = ["site", "litres", "due_day", "latest_safe_day", "reason", "x", "y"]
        return Plan(str(day), stops, deferred[cols].reset_index(drop=True), totals), None
    v = visits.assign(urgency=(1.0 + (visits["reason"] == "due")) / visits["priority"])
    problem = build_problem(v, city.refill_points, cfg.fleet, city.streets,
                            cfg.network.detour_factor, cfg.routing)
    sol = solve(problem, cfg.routing.time_limit_s, seed=cfg.run.seed,
                max_iterations=cfg.routing.max_iterations)
    info.update(routing_seed=cfg.run.seed, routing_runtime_s=round(sol.runtime_s, 2),
                routing_feasible=bool(sol.feasible))
    if cfg.routing.max_iterations is None:
        info["routing_reproducible"] = "no: the time limit stops the search"
    return make_plan(str(day), problem, sol, visits, deferred), problem


def _state_dataset(run_state: _State, day: np.datetime64, city: City) -> xr.Dataset:
    h = run_state.heads_m
    return xr.Dataset(
        {"dr_mm": run_state.dr_mm.assign_attrs(units="mm", long_name="root-zone depletion "
                                               "(analysis)"),
         "var_mm2": run_state.var_mm2.assign_attrs(units="mm2", long_name="analysis error "
                                                   "variance of dr_mm"),
         "heads_m": (("layer", "row", "col"), np.where(np.isfinite(h), h, np.nan),
                     {"units": "m", "long_name": "hydraulic head (NaN: dry or inactive)"})},
        attrs={"date": str(day), "city": city.config.name,
               "meaning": "morning of the date, after the sensor analysis, before watering"})


def run_day(city: City, day, workspace: str | Path, *, forecast: Path | None = None
            ) -> DayRun:
    """The daily run of ``city`` for day ``day``; writes plan, state and run record.

    Stages (:data:`STAGES`), each logged with its wall time: read the inputs (observed
    weather, watering log and sensor readings up to D-1, the forecast, the latest saved
    state before D); quality-control the sensors; continue the state to the morning of D
    with the sensor analysis (or spin up from ``run.season_start``); forecast soil and
    groundwater for all members; decide; route; write.

    Nothing is written before every stage has computed; then the plan folder
    ``plans/D`` (replaced as a whole), ``state/state-D.nc`` and ``logs/run-D.json`` are
    each written atomically. A saved state of another day is never touched.

    Raises
    ------
    InputError
        Missing or broken inputs (the forecast, the weather, city files); nothing written.
    """
    day = np.datetime64(day, "D")
    ws = Workspace(Path(workspace))
    capture = _Capture()
    logger = logging.getLogger("irrigation")
    level = logger.level
    if logger.getEffectiveLevel() > logging.INFO:  # the run log keeps the progress lines
        logger.setLevel(logging.INFO)
    logger.addHandler(capture)
    try:
        return _run_day(city, day, ws, forecast, capture)
    finally:
        logger.removeHandler(capture)
        logger.setLevel(level)


class _Capture(logging.Handler):
    """Keeps the run's log lines for ``logs/run-D.log``."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname.lower():7s} {record.getMessage()}")


def _run_day(city: City, day: np.datetime64, ws: Workspace, forecast: Path | None,
             capture: _Capture) -> DayRun:
    st = _Stages()
    inp = st("inputs", _inputs, city, day, ws, forecast)
    warnings = list(inp.warnings)
    sens = st("sensors", _sensors, city, day, inp)
    state = st("state", _advance_state, city, day, inp, sens)
    state = st("groundwater", _groundwater_to_day, city, day, inp, state, warnings)
    info = {"forecast_source": inp.forecast_source, "state_start": state.start,
            "n_obs": state.n_obs, "qc_days": QC_REPORT_DAYS}
    fc = st("forecast", _forecast, city, day, inp, state, warnings, info)
    dem, visits, deferred, capacity = st("decide", _decide, city, day, fc)
    info["capacity_l"] = capacity
    plan, problem = st("routing", _route, city, day, visits, deferred, info)
    run = DayRun(day, _state_dataset(state, day, city), fc, dem, visits, deferred, plan,
                 problem, sens.qc, warnings, info, st.timings)
    st("write", write_day, run, city, ws, inp.files)
    atomic_write(ws.log_path(day), lambda t: Path(t).write_text("\n".join(capture.lines)
                                                                + "\n"))
    return run


def write_day(run: DayRun, city: City, ws: Workspace, files: dict[str, Path]) -> Path:
    """Write the day's plan folder, state and run record (each atomically); returns the
    plan folder."""
    from .report import plot_forecast, site_table, write_report

    t0 = time.perf_counter()
    day = run.date
    extra = {
        "forecast.png": lambda p: plot_forecast(run, p),
        "visits.csv": lambda p: run.visits.assign(date=str(day))[
            ["date", "site", "litres", "reason", "priority", "due_day"]].to_csv(
            p, index=False, float_format="%.1f", lineterminator="\n"),
        "demand.csv": lambda p: site_table(run).to_csv(p, index=False, lineterminator="\n"),
        "report.md": lambda p: write_report(run, city.config.name, p),
        "report.html": lambda p: write_report(run, city.config.name, p),
    }
    if run.qc is not None:
        extra["sensor_qc.csv"] = lambda p: run.qc.to_csv(p, lineterminator="\n")
    out = write_plan(run.plan, ws.plan_dir(day), crs=city.config.crs, network=city.streets,
                     extra=extra)
    write_state(run.state, ws.state_path(day))
    timings = {**run.timings, "write": time.perf_counter() - t0}  # record: written last
    record = {
        "date": str(day), "city": str(city.path), "command": " ".join(sys.argv),
        "inputs": {k: {"path": str(p), "sha256": sha256(p)} for k, p in files.items()},
        "configuration": city.config, "versions": versions(),
        "seeds": {k: v for k, v in run.info.items() if "seed" in k},
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
        "warnings": run.warnings, "info": run.info,
        "outputs": {"plan": str(out), "state": str(ws.state_path(day))},
    }
    write_run_record(record, ws.record_path(day))
    return out
