"""One closed-loop season: a policy plans each morning, its executed plan waters a truth.

The truth world (:mod:`irrigation.truth`: other soil curves, landscape coefficients, root
depths, watering efficiency, local rain and evaporative demand per site) runs day by day
on the scenario's weather. Each morning the policy sees only what a city sees
(:class:`~irrigation.scenario.policies.Morning`): the station weather, what the crews
delivered, sensor readings drawn from the truth with the probes' lag, offsets and noise
(:func:`irrigation.truth.sensor_readings`), a forecast of the scenario's quality and the
groundwater heads. Its visits are capped by the water budget and routed (PyVRP in the
scenario's fast mode); the crews carry out each routed visit with probability
``execution_rate``; the truth gets the delivered water times its watering efficiency.

Groundwater of the truth moves in steps of :data:`GROUNDWATER_STEP_DAYS` days, driven by
the truth's deep percolation (one implicit step per period, heads held in between);
policies see these heads (a city's monitoring wells).

Everything random in member ``k`` comes from ``SeedSequence([scenario.seed, k])``: the
truth world, the channel offsets, and per day the sensor noise, the forecast error, the
forecast ensemble and the missed visits. Every policy sees the same draws.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from ..city import City
from ..day import PlanningModel, day_seed, groundwater_step, reference_et0, route_day, steady_heads
from ..groundwater.load import load_simulation
from ..groundwater.model import GwfModel
from ..io.city import load_city
from ..io.soil_tables import read_soil_textures, read_species
from ..sensors import in_physical_range
from ..soil import simulate_sites, site_water_capacity
from ..truth import TruthWorld, channel_offsets, draw_world, sensor_readings
from ..weather import ensemble_from_deterministic
from .perturb import scenario_weather
from .policies import Morning, make_planner
from .schema import GroundwaterChange, Policy, Scenario, apply_fleet_change

log = logging.getLogger(__name__)

#: Days per groundwater step of the truth (recharge averaged over the step).
GROUNDWATER_STEP_DAYS = 7

#: Days of truth root-zone water content the sensor lag is computed from (the 90 cm
#: channel's time constant is ~5 d, so 30 d leave < 0.3 % of the start).
SENSOR_MEMORY_DAYS = 30


@dataclass(frozen=True)
class SeasonSetup:
    """What every season of a scenario shares (built once per worker)."""

    scenario: Scenario
    pm: PlanningModel                # the planning model
    weather: xr.Dataset              # station truth weather, first day .. end + horizon
    et0_mm: xr.DataArray             # its ET0 [mm d-1]
    heads0_m: np.ndarray             # initial heads (steady state + offset)
    wells: pd.DataFrame              # layer, row, col, x, y, label of the model's wells

    @property
    def days(self) -> np.ndarray:
        """Every simulated day, spin-up included."""
        s = self.scenario.season
        return np.arange(np.datetime64(s.first_day, "D"), np.datetime64(s.end, "D") + 1)

    @property
    def season(self) -> tuple[np.datetime64, np.datetime64]:
        """First and last day of the watering season."""
        s = self.scenario.season
        return np.datetime64(s.start, "D"), np.datetime64(s.end, "D")


def scaled_wells(model: GwfModel, change: GroundwaterChange) -> GwfModel:
    """The model with its wells' rates (last period in force) scaled by the pumping
    factor, then scaled down together to the cap of total extraction."""
    packages = []
    for pkg in model.packages:
        if pkg.kind == "wel":
            block = dict(pkg.resolved(model.nper)[-1])
            q = np.asarray(block["q"], float) * change.pumping_factor
            cap = change.max_pumping_m3_per_day
            out = float(-q[q < 0].sum())
            if cap is not None and out > cap:
                q = np.where(q < 0, q * cap / out, q)
            block["q"] = q
            pkg = dataclasses.replace(pkg, periods={0: block})
        packages.append(pkg)
    return model.replace(packages=packages)


def _wells(model: GwfModel) -> pd.DataFrame:
    """Layer, row, col (0-based), centre x, y [m] and a label of every WEL cell in force
    at the end of the model."""
    blocks = [p.resolved(model.nper)[-1] for p in model.packages if p.kind == "wel"]
    cells = np.concatenate([np.asarray(b["cellid"], int).reshape(-1, 3) for b in blocks
                            if "cellid" in b] or [np.zeros((0, 3), int)])
    lay, row, col = cells.T
    return pd.DataFrame({"layer": lay, "row": row, "col": col,
                         "x": model.x_centres[col], "y": model.y_centres[row],
                         "label": [f"L{k + 1}R{i + 1}C{j + 1}" for k, i, j in cells]})


def season_city(city: City, scn: Scenario) -> City:
    """The city as the scenario runs it: its fleet change, the forecast's members and
    horizon, and the fast routing limits (the seed is each member's, set in
    :func:`simulate_season`)."""
    cfg = city.config
    cfg = dataclasses.replace(
        cfg, fleet=apply_fleet_change(cfg.fleet, scn.fleet),
        run=dataclasses.replace(cfg.run, members=scn.forecast.members,
                                horizon_days=scn.forecast.horizon_days),
        routing=dataclasses.replace(cfg.routing, time_limit_s=scn.routing.time_limit_s,
                                    max_iterations=scn.routing.max_iterations))
    return dataclasses.replace(city, config=cfg)


def prepare(scn: Scenario) -> SeasonSetup:
    """Load the city, its groundwater model and the scenario's weather for the seasons."""
    city = season_city(load_city(scn.city), scn)
    cfg = city.config
    model = scaled_wells(load_simulation(cfg.groundwater.sim_dir), scn.groundwater)
    pm = PlanningModel.build(city, model, read_soil_textures(), read_species())
    weather = scenario_weather(scn, cfg)
    heads = steady_heads(pm)
    heads = np.where(np.isfinite(heads), heads + scn.groundwater.head_offset_m, heads)
    return SeasonSetup(scn, pm, weather, reference_et0(pm, weather), heads, _wells(model))


def member_seed(scn: Scenario, member: int) -> np.random.SeedSequence:
    """The seed sequence of closed-loop member ``member``."""
    return np.random.SeedSequence([scn.seed, member])


def _forecast_weather(setup: SeasonSetup, day: np.datetime64, seed: int) -> xr.Dataset:
    """The ensemble forecast issued on ``day``: the truth's station weather (perfect), or a
    control with errors growing with lead time and an ensemble around it (growing)."""
    fq = setup.scenario.forecast
    truth = setup.weather.sel(time=slice(day, day + np.timedelta64(fq.horizon_days - 1, "D")))
    params = fq.error_params()
    if params is None:
        return truth.expand_dims(member=np.arange(fq.members)).transpose("time", "member", ...)
    # member 1 of a 2-member draw carries one realisation of the error: the issued control
    control = ensemble_from_deterministic(truth, 2, seed=seed, params=params).isel(
        member=1, drop=True)
    return ensemble_from_deterministic(control, fq.members, seed=seed + 1, params=params)


def _readings(theta: np.ndarray, days: np.ndarray, world: TruthWorld, setup: SeasonSetup,
              offsets: np.ndarray, seed: int) -> xr.Dataset:
    """Sensor readings of the last day of ``theta`` (days, probe sites) with ``valid``."""
    city = setup.pm.city
    sensors = city.sensors
    sites = np.unique(sensors["site"].values)
    th = xr.DataArray(theta, dims=("time", "site"),
                      coords={"time": days.astype("datetime64[ns]"), "site": sites})
    r = sensor_readings(th, world, sensors, np.random.default_rng(seed),
                        offset_m3m3=offsets)
    r = r.isel(time=slice(-24, None))
    v = r["value"].transpose("sensor", ...)
    r["valid"] = (v.dims, in_physical_range(v.values, r["quantity"].values, city.config.qc))
    return r


def _budget(visits: pd.DataFrame, cap_l: float) -> pd.DataFrame:
    """The visits that fit ``cap_l`` litres, most important (priority 1) first."""
    if not np.isfinite(cap_l) or visits["litres"].sum() <= cap_l:
        return visits
    order = visits.sort_values("priority", kind="stable")
    return order[order["litres"].cumsum().to_numpy() <= cap_l]


def _execute(pm: PlanningModel, day: np.datetime64, visits: pd.DataFrame,
             site_ids: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Route ``visits``; the litres each site gets on the routes [L] (over ``site_ids``),
    km driven and truck hours."""
    delivered = np.zeros(site_ids.size)
    if not len(visits):
        return delivered, 0.0, 0.0
    plan = route_day(pm, day, visits.assign(due_day=0.0, p_cross=1.0), _NO_DEFERRED).plan
    stops = plan.stops[plan.stops["kind"] == "visit"]
    served = stops.groupby("site")["litres"].sum()
    delivered[pd.Index(site_ids).get_indexer(served.index)] = served.to_numpy(float)
    total = plan.totals[plan.totals["vehicle"] == -1].iloc[0]
    return delivered, float(total["km"]), float(total["hours"])


def _groundwater_step(setup: SeasonSetup, day: np.datetime64, heads: np.ndarray,
                      dp_mm: np.ndarray) -> np.ndarray:
    """Heads after len(dp_mm) days with the mean recharge of that deep percolation (one
    period); the heads are held when the model does not converge."""
    pm = setup.pm
    run = groundwater_step(pm, heads, pm.recharge_mm_d(dp_mm).mean(0)[None],
                           start=day - np.timedelta64(len(dp_mm) - 1, "D"),
                           period_days=float(len(dp_mm)))
    if not run.converged:
        log.warning("truth %s", run.warning)
    return run.heads_m[-1]


_NO_DEFERRED = pd.DataFrame({"site": pd.Series(dtype=object),
                             "litres": pd.Series(dtype=float),
                             "due_day": pd.Series(dtype=float),
                             "latest_safe_day": pd.Series(dtype="datetime64[s]"),
                             "reason": pd.Series(dtype=object),
                             "x": pd.Series(dtype=float), "y": pd.Series(dtype=float)})

_DAILY = ("planned_l", "visits", "deferred", "km", "truck_hours")


def simulate_season(setup: SeasonSetup, policy: Policy, member: int) -> xr.Dataset:
    """The closed-loop season of ``policy`` in member ``member``'s truth world.

    Returns
    -------
    xr.Dataset
        Over (``time`` = season start..end, ``site``): ``water_l`` (delivered),
        ``dr_mm`` and ``ks`` of the truth at the end of the day; over ``time``:
        ``planned_l``, ``visits``, ``deferred``, ``km``, ``truck_hours``; over
        (``time``, ``well``): ``head_wells_m``; ``taw_mm`` of the truth over ``site``.
    """
    scn, pm = setup.scenario, setup.pm
    city = pm.city
    ss = member_seed(scn, member)
    seed_world, seed_offsets, seed_days = (int(s.generate_state(1)[0]) for s in ss.spawn(3))
    days = setup.days
    start = setup.season[0]
    s = city.sites
    site_ids = s["site"].values
    n = site_ids.size
    world = draw_world(s, pm.textures, pm.species, np.random.default_rng(seed_world),
                       time=setup.weather["time"].values)
    te0, tpr = world.forcing(setup.et0_mm, setup.weather["precip_mm"])
    te0 = te0.transpose("time", "site")
    tpr = tpr.transpose("time", "site")
    taw_true = site_water_capacity(world.sites, world.textures)[1]
    offsets = channel_offsets(city.sensors, np.random.default_rng(seed_offsets))
    probe_pos = pd.Index(site_ids).get_indexer(np.unique(city.sensors["site"].values))
    member_city = dataclasses.replace(city, config=dataclasses.replace(
        city.config, run=dataclasses.replace(city.config.run, seed=seed_days)))
    planner = make_planner(policy, dataclasses.replace(pm, city=member_city), setup.season,
                           days[0])
    eff = world.watering_efficiency.values

    heads = setup.heads0_m
    dtw = pm.depth_to_water_m(heads).isel(time=0)
    dr = xr.DataArray(np.zeros(n), dims="site", coords={"site": site_ids})
    theta_hist = np.zeros((0, probe_pos.size))
    dp_since: list[np.ndarray] = []
    delivered = np.zeros(n)
    season_used_l = 0.0
    n_out = int((days >= start).sum())
    out = {k: np.zeros((n_out, n), np.float32) for k in ("water_l", "dr_mm", "ks")}
    daily = {k: np.zeros(n_out, int if k in ("visits", "deferred") else float)
             for k in _DAILY}
    w = setup.wells
    head_wells = np.zeros((n_out, len(w)))
    budget = scn.budget

    for k, day in enumerate(days):
        dseed = day_seed(seed_days, day)
        planning = bool(day >= start)
        yesterday = slice(day - 1, day - 1) if k else slice(day, day - 1)
        readings = None if k == 0 else _readings(
            theta_hist, days[max(0, k - SENSOR_MEMORY_DAYS):k], world, setup, offsets, dseed)
        fc = (_forecast_weather(setup, day, dseed + 2) if planning and planner.uses_forecast
              else setup.weather.isel(time=[]))
        watered = xr.DataArray(delivered[None], dims=("time", "site"), coords={
            "time": np.array([day - 1], "datetime64[ns]"), "site": site_ids})
        morning = Morning(day, planning, setup.weather.sel(time=yesterday),
                          setup.et0_mm.sel(time=yesterday), watered, readings, fc, heads)
        visits = planner.plan(morning)
        delivered = np.zeros(n)
        i = k - (days.size - n_out)
        if planning and len(visits):
            cap_l = min(budget.cap_m3_per_day or np.inf,
                        (budget.cap_m3_per_season or np.inf) - season_used_l / 1000) * 1000
            delivered, km, hours = _execute(pm, day, _budget(visits, max(cap_l, 0.0)),
                                            site_ids)
            delivered[np.random.default_rng(dseed + 3).random(n) > scn.execution_rate] = 0.0
            season_used_l += delivered.sum()
            asked = pd.Index(site_ids).get_indexer(visits["site"])
            daily["planned_l"][i] = visits["litres"].sum()
            daily["visits"][i] = int((delivered > 0).sum())
            daily["deferred"][i] = int(len(visits) - (delivered[asked] > 0).sum())
            daily["km"][i], daily["truck_hours"][i] = km, hours
        sl = slice(day, day)
        irr = xr.DataArray(delivered[None] * eff[None], dims=("time", "site"),
                           coords={"time": te0["time"].sel(time=sl).values, "site": site_ids})
        sim = simulate_sites(world.sites, te0.sel(time=sl), tpr.sel(time=sl),
                             textures=world.textures, species=world.species, irrigation_l=irr,
                             depth_to_water_m=dtw, initial_depletion_mm=dr)
        dr = sim["dr_mm"].isel(time=0, member=0, drop=True)
        theta = sim["theta"].values[0, :, 0]
        theta_hist = np.concatenate([theta_hist, theta[probe_pos][None]])[-SENSOR_MEMORY_DAYS:]
        dp_since.append(sim["deep_percolation_mm"].values[0, :, 0])
        if len(dp_since) == GROUNDWATER_STEP_DAYS or k == days.size - 1:
            heads = _groundwater_step(setup, day, heads, np.array(dp_since))
            dtw = pm.depth_to_water_m(heads).isel(time=0)
            dp_since = []
        if i >= 0:
            out["water_l"][i] = delivered
            out["dr_mm"][i] = dr.values
            out["ks"][i] = sim["ks"].values[0, :, 0]
            head_wells[i] = heads[w["layer"], w["row"], w["col"]]

    time = days[days >= start].astype("datetime64[ns]")
    units = {"water_l": "L", "dr_mm": "mm", "ks": "1", "planned_l": "L", "visits": "1",
             "deferred": "1", "km": "km", "truck_hours": "h"}
    ds = xr.Dataset(
        {**{k: (("time", "site"), v, {"units": units[k]}) for k, v in out.items()},
         **{k: ("time", v, {"units": units[k]}) for k, v in daily.items()},
         "head_wells_m": (("time", "well"), head_wells, {"units": "m"}),
         "taw_mm": ("site", taw_true.values.astype(np.float32), {"units": "mm"})},
        coords={"time": time, "site": site_ids, "well": w["label"].to_numpy(str)})
    return ds
