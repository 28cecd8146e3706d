"""One closed-loop season: a policy plans each morning, its executed plan waters a truth.

The truth world (:mod:`irrigation.truth`: per-site soils in three layers, landscape
coefficients with leaf-out, root depths, run-on, interception, watering efficiency, local
rain and evaporative demand) runs day by day on the scenario's weather
(:meth:`irrigation.truth.TruthWorld.step`). Each morning the policy sees only what a city
sees (:class:`~irrigation.scenario.policies.Morning`): the station weather, the watering
the crews LOGGED (with the log's errors, :meth:`~irrigation.truth.TruthWorld.logged_l`),
the last 24 h of sensor readings that the probes produced from the truth with their
calibration errors (:class:`irrigation.truth.ProbeModel`, one day at a time), a forecast
of the scenario's quality and the groundwater heads. Its visits are capped by the water
budget; visits to kinds the city waters with fixed systems (valves, sprinklers) are
delivered without trucks, the others are served by the fleet (the scenario's routing
mode: a fast estimate of the fleet's day, :mod:`irrigation.scenario.fleet`, or PyVRP);
the crews carry out each served visit with probability ``execution_rate``; the truth gets
what was delivered.

Groundwater of the truth moves in steps of :data:`GROUNDWATER_STEP_DAYS` days, driven by
the truth's deep percolation (one implicit step per period, heads held in between);
policies see these heads (a city's monitoring wells).

Everything random in member ``k`` comes from ``SeedSequence([scenario.seed, k])``: the
truth world, the probes' errors, and per day the sensor noise, the forecast error, the
forecast ensemble, the missed visits and the log's errors. Every policy sees the same
draws.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import xarray as xr

from ..city import City
from ..coords import dim_coords, index_coords
from ..day import PlanningModel, day_seed, groundwater_step, reference_et0, route_day, steady_heads
from ..decide import fixed_system_sites
from ..groundwater.linear import DirectSolver
from ..groundwater.load import load_simulation
from ..groundwater.model import GwfModel
from ..io.city import load_city
from ..io.soil_tables import read_soil_textures
from ..sensors import range_flags
from ..truth import ProbeModel, draw_probes, draw_world
from ..weather import UNITS, complete_weather, ensemble_arrays, et0_penman_monteith
from .fleet import FleetModel, estimate_day, fleet_model
from .perturb import scenario_weather
from .policies import Morning, make_planner
from .schema import GroundwaterChange, Policy, Scenario, apply_fleet_change

log = logging.getLogger(__name__)

#: Days per groundwater step of the truth (recharge averaged over the step).
GROUNDWATER_STEP_DAYS = 7

@dataclass(frozen=True)
class SeasonSetup:
    """What every season of a scenario shares (built once per worker)."""

    scenario: Scenario
    pm: PlanningModel                # the planning model
    weather: xr.Dataset              # station truth weather (complete), first day .. end + horizon
    et0_mm: xr.DataArray             # its ET0 [mm d-1]
    heads0_m: np.ndarray             # initial heads (steady state + offset)
    wells: pd.DataFrame              # layer, row, col, x, y, label of the model's wells
    fleet: FleetModel                # the fleet's averages for the estimated routing
    fixed: np.ndarray                # sites watered by fixed systems (no trucks)

    @cached_property
    def site_index(self) -> pd.Index:
        """The city's site ids as an index (positions of visits' sites)."""
        return pd.Index(self.pm.city.sites["site"].values)

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
    pm = PlanningModel.build(city, model, read_soil_textures(), city.species)
    weather = complete_weather(scenario_weather(scn, cfg), latitude_deg=cfg.weather.latitude_deg)
    heads = steady_heads(pm)
    heads = np.where(np.isfinite(heads), heads + scn.groundwater.head_offset_m, heads)
    fleet = fleet_model(cfg.fleet, city.refill_points, cfg.routing.refill_connect_min,
                        cfg.network.detour_factor)
    fixed = fixed_system_sites(city.sites, cfg.decide)
    return SeasonSetup(scn, pm, weather, reference_et0(pm, weather), heads, _wells(model),
                       fleet, fixed)


def member_seed(scn: Scenario, member: int) -> np.random.SeedSequence:
    """The seed sequence of closed-loop member ``member``."""
    return np.random.SeedSequence([scn.seed, member])


def season_forecasts(setup: SeasonSetup, seed_days: int) -> dict[np.datetime64, tuple]:
    """The forecast issued on every morning of the season and its ET0, all computed
    together (one ET0 computation for the season): the truth's station weather
    (perfect), or a control with errors growing with lead time and an ensemble around it
    (growing), drawn with seed ``day_seed(seed_days, day) + 2``.

    Returns
    -------
    dict
        Per day, ``(weather, et0_mm, dates)``: the members' variables as arrays over
        (lead, member), their ET0 [mm d-1] and the days of the leads; for
        :func:`forecast_of_day`.
    """
    fq, w = setup.scenario.forecast, setup.weather
    times = w["time"].values
    days = setup.days[setup.days >= setup.season[0]]
    first = np.searchsorted(times, days.astype(times.dtype))
    truth = {name: w[name].transpose("time", ...).values for name in w.data_vars}
    params = fq.error_params()
    members = {}
    for day, i in zip(days, first, strict=True):
        today = {name: a[i:i + fq.horizon_days] for name, a in truth.items()}
        if params is None:
            members[day] = {name: np.repeat(a[:, None], fq.members, 1)
                            for name, a in today.items()}
            continue
        # member 1 of a 2-member draw carries one realisation of the error: the control
        seed = day_seed(seed_days, day) + 2
        control = {name: a[:, 1] for name, a in ensemble_arrays(
            today, 2, seed=seed, params=params).items()}
        members[day] = ensemble_arrays(control, fq.members, seed=seed + 1, params=params)
    cfg = setup.pm.city.config.weather
    out = {}
    for n in {len(v["precip_mm"]) for v in members.values()}:  # horizons cut at the end
        group = [d for d in days if len(members[d]["precip_mm"]) == n]
        lead_days = times[first[np.isin(days, group)][:, None] + np.arange(n)]
        et0 = et0_penman_monteith(
            {name: np.stack([members[d][name] for d in group]) for name in truth},
            lead_days[..., None], latitude_deg=cfg.latitude_deg,
            elevation_m=cfg.elevation_m)
        out.update({d: (members[d], et0[k], lead_days[k]) for k, d in enumerate(group)})
    return out


def forecast_of_day(forecast: tuple) -> tuple[xr.Dataset, xr.DataArray]:
    """A morning's forecast of :func:`season_forecasts` as the weather dataset over
    (``time``, ``member``) and its ET0 [mm d-1]."""
    weather, et0, dates = forecast
    coords = dim_coords(time=dates, member=np.arange(et0.shape[1]))  # one index each
    fc = xr.Dataset({name: (("time", "member"), a, {"units": UNITS[name]} if name in UNITS else {})
                     for name, a in weather.items()}, coords=coords)
    return fc, xr.DataArray(et0, dims=("time", "member"), coords=coords, name="et0_mm",
                            attrs={"units": "mm d-1"})


def _readings(values: np.ndarray, day: np.datetime64, probes: ProbeModel, city: City
              ) -> xr.Dataset:
    """The hourly readings of ``day`` (``(sensor, depth, 24)``) as the layout of
    :func:`irrigation.io.sensors.read_sensor_csv`, with the checks that need no history
    (:func:`irrigation.sensors.range_check`: out of range not valid; a tension pinned at
    the range's top censored, a lower bound)."""
    flags, valid = range_flags(values, probes.quantity, city.config.qc)
    return probes.dataset(values, day, qc_flags=flags, valid=valid)  # as range_check


def service_order(visits: pd.DataFrame | Mapping[str, np.ndarray]) -> np.ndarray:
    """Positions of ``visits`` in the order they are served: due ones (most important,
    priority 1, first), then those pulled forward; ties keep their order (the stable
    sort of the table by pulled forward, then priority). ``visits``: the table or its
    columns ``reason`` and ``priority`` as arrays."""
    pulled = np.asarray(visits["reason"]) == "pulled forward"
    return np.lexsort((np.asarray(visits["priority"], float), pulled))


def _budget(visits: pd.DataFrame, cap_l: float) -> pd.DataFrame:
    """The visits that fit ``cap_l`` litres, in the order they are served
    (:func:`service_order`)."""
    if not np.isfinite(cap_l) or visits["litres"].sum() <= cap_l:
        return visits
    order = visits.iloc[service_order(visits)]
    return order[order["litres"].cumsum().to_numpy() <= cap_l]


def _estimate(fleet: FleetModel, x: np.ndarray, y: np.ndarray, litres: np.ndarray,
              pulled: np.ndarray) -> tuple[np.ndarray, float, float]:
    """The visits (``x``, ``y``, ``litres`` in the order they are served) the fleet's
    estimated day serves (bool), km and truck hours: the due visits in order while the
    day allows; the visits pulled forward only when every due one is served and stays
    served with them (as :func:`irrigation.day.route_day` routes them)."""
    due = np.flatnonzero(~pulled)
    est = estimate_day(fleet, {"x": x[due], "y": y[due], "litres": litres[due]})
    if pulled.any() and est.served.all():
        both = estimate_day(fleet, {"x": x, "y": y, "litres": litres})
        if both.served[:len(due)].all():
            return both.served, both.km, both.truck_hours
    served = np.zeros(x.size, bool)
    served[due[est.served]] = True
    return served, est.km, est.truck_hours


def _execute(setup: SeasonSetup, day: np.datetime64, visits: pd.DataFrame
             ) -> tuple[np.ndarray, float, float]:
    """The litres each site gets today [L] (over the city's sites), km driven and truck
    hours.

    Visits to sites watered by fixed systems are delivered as planned without trucks;
    the others are served by the fleet, due visits first (priority 1 first), those pulled
    forward only when every due one is served: with the scenario's routing ``mode``
    ``"estimate"`` while the fleet's estimated day allows (:func:`_estimate`), with
    ``"pyvrp"`` as PyVRP routes them (:func:`irrigation.day.route_day`).
    """
    index = setup.site_index
    delivered = np.zeros(len(index))
    if not len(visits):
        return delivered, 0.0, 0.0
    pos = index.get_indexer(visits["site"])
    fixed = setup.fixed[pos]
    litres = visits["litres"].to_numpy(float)
    np.add.at(delivered, pos[fixed], litres[fixed])
    rows = np.flatnonzero(~fixed)
    if not rows.size:
        return delivered, 0.0, 0.0
    reason = visits["reason"].to_numpy()
    rows = rows[service_order({"reason": reason[rows],  # the trucks' visits in order
                               "priority": visits["priority"].to_numpy()[rows]})]
    if setup.scenario.routing.mode == "estimate":
        pulled = reason[rows] == "pulled forward"
        served, km, hours = _estimate(setup.fleet, visits["x"].to_numpy(float)[rows],
                                      visits["y"].to_numpy(float)[rows], litres[rows],
                                      pulled)
        np.add.at(delivered, pos[rows[served]], litres[rows[served]])
        return delivered, km, hours
    trucks = visits.iloc[rows]
    plan = route_day(setup.pm, day, trucks.assign(due_day=0.0, p_cross=1.0),
                     _NO_DEFERRED).plan
    stops = plan.stops[plan.stops["kind"] == "visit"]
    got = stops.groupby("site")["litres"].sum()
    np.add.at(delivered, index.get_indexer(got.index), got.to_numpy(float))
    return delivered, float(plan.total["km"]), float(plan.total["hours"])


def _groundwater_step(setup: SeasonSetup, day: np.datetime64, heads: np.ndarray,
                      dp_mm: np.ndarray, factorisation: DirectSolver) -> np.ndarray:
    """Heads after len(dp_mm) days with the mean recharge of that deep percolation (one
    period); the heads are held when the model does not converge. ``factorisation``:
    the season's, kept from step to step for the next steps to reuse
    (:func:`irrigation.groundwater.embedded.simulate`)."""
    pm = setup.pm
    run = groundwater_step(pm, heads, pm.recharge_mm_d(dp_mm).mean(0)[None],
                           start=day - np.timedelta64(len(dp_mm) - 1, "D"),
                           period_days=float(len(dp_mm)), factorisation=factorisation)
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


def simulate_season(setup: SeasonSetup, policy: Policy, member: int,
                    forecasts: dict | None = None) -> xr.Dataset:
    """The closed-loop season of ``policy`` in member ``member``'s truth world.

    ``forecasts``: a dict the forecasts of this member are kept in by day, to pass to the
    member's next policy (they depend on the member's draws only, not on the policy).

    Returns
    -------
    xr.Dataset
        Over (``time`` = season start..end, ``site``): ``water_l`` (delivered),
        ``dr_mm``, ``ks`` and ``tension_kpa`` of the truth's root zone at the end of the
        day; over ``time``: ``planned_l``, ``visits``, ``deferred``, ``km``,
        ``truck_hours``; over (``time``, ``well``): ``head_wells_m``; ``taw_mm`` of the
        truth over ``site``.
    """
    scn, pm = setup.scenario, setup.pm
    city = pm.city
    forecasts = {} if forecasts is None else forecasts
    ss = member_seed(scn, member)
    seed_world, seed_probes, seed_days = (int(s.generate_state(1)[0]) for s in ss.spawn(3))
    days = setup.days
    start = setup.season[0]
    site_ids = city.sites["site"].values
    n = site_ids.size
    world = draw_world(city.sites, pm.textures, pm.species, np.random.default_rng(seed_world),
                       time=setup.weather["time"].values)
    probes = draw_probes(world, city.sensors, np.random.default_rng(seed_probes))
    member_city = dataclasses.replace(city, config=dataclasses.replace(
        city.config, run=dataclasses.replace(city.config.run, seed=seed_days)))
    planner = make_planner(policy, dataclasses.replace(pm, city=member_city), setup.season,
                           days[0])
    et0 = setup.et0_mm.sel(time=days).values
    rain = setup.weather["precip_mm"].sel(time=days).values
    state = world.initial_state(np.random.default_rng(seed_world + 1))
    pstate = probes.initial_state(state.theta)
    heads = setup.heads0_m
    dtw = pm.depth_to_water_m(heads).isel(time=0).values
    logged = np.zeros(n)
    readings = None
    dp_since: list[np.ndarray] = []
    factorisation = DirectSolver()  # the truth's groundwater steps share one
    season_used_l = 0.0
    n_out = int((days >= start).sum())
    out = {k: np.zeros((n_out, n), np.float32) for k in ("water_l", "dr_mm", "ks",
                                                         "tension_kpa")}
    daily = {k: np.zeros(n_out, int if k in ("visits", "deferred") else float)
             for k in _DAILY}
    w = setup.wells
    head_wells = np.zeros((n_out, len(w)))
    well_cells = tuple(w[k].to_numpy() for k in ("layer", "row", "col"))
    budget = scn.budget

    no_forecast = setup.weather.isel(time=[])
    w_time, e_time = setup.weather.indexes["time"], setup.et0_mm.indexes["time"]
    sites = index_coords(city.sites)  # the sites' index, shared by the mornings' arrays
    for k, day in enumerate(days):
        dseed = day_seed(seed_days, day)
        planning = bool(day >= start)
        yesterday = slice(day - 1, day - 1) if k else slice(day, day - 1)
        fc, fc_et0 = no_forecast, None
        if planning and planner.uses_forecast:
            if not forecasts:
                forecasts.update(season_forecasts(setup, seed_days))
            fc, fc_et0 = forecast_of_day(forecasts[day])
        watered = xr.DataArray(logged[None], dims=("time", "site"), coords=dim_coords(
            sites, time=np.array([day - 1], "datetime64[ns]")))
        morning = Morning(day, planning,  # sel(time=yesterday), by the indexes' positions
                          setup.weather.isel(time=w_time.slice_indexer(yesterday.start,
                                                                       yesterday.stop)),
                          setup.et0_mm.isel(time=e_time.slice_indexer(yesterday.start,
                                                                      yesterday.stop)),
                          watered, readings, fc, heads,
                          fc_et0)
        visits = planner.plan(morning)
        delivered = np.zeros(n)
        planned = np.zeros(n)
        i = k - (days.size - n_out)
        if planning and len(visits):
            cap_l = min(budget.cap_m3_per_day or np.inf,
                        (budget.cap_m3_per_season or np.inf) - season_used_l / 1000) * 1000
            delivered, km, hours = _execute(setup, day, _budget(visits, max(cap_l, 0.0)))
            delivered[np.random.default_rng(dseed + 3).random(n) > scn.execution_rate] = 0.0
            season_used_l += delivered.sum()
            asked = setup.site_index.get_indexer(visits["site"])
            np.add.at(planned, asked, visits["litres"].to_numpy(float))
            daily["planned_l"][i] = visits["litres"].sum()
            daily["visits"][i] = int((delivered > 0).sum())
            daily["deferred"][i] = int(len(visits) - (delivered[asked] > 0).sum())
            daily["km"][i], daily["truck_hours"][i] = km, hours
        state, truth = world.step(state, k, et0[k], rain[k], delivered, dtw)
        logged = world.logged_l(delivered, np.random.default_rng(dseed + 4),
                                planned_l=planned)
        values, pstate = probes.readings_of_day(state.theta, pstate,
                                                np.random.default_rng(dseed + 5))
        readings = _readings(values, day, probes, city) if planner.uses_readings else None
        dp_since.append(truth.deep_percolation_mm)
        if len(dp_since) == GROUNDWATER_STEP_DAYS or k == days.size - 1:
            heads = _groundwater_step(setup, day, heads, np.array(dp_since), factorisation)
            dtw = pm.depth_to_water_m(heads).isel(time=0).values
            dp_since = []
        if i >= 0:
            out["water_l"][i] = delivered
            out["dr_mm"][i] = truth.dr_mm
            out["ks"][i] = truth.ks
            out["tension_kpa"][i] = truth.tension_kpa
            head_wells[i] = heads[well_cells]

    time = days[days >= start].astype("datetime64[ns]")
    units = {"water_l": "L", "dr_mm": "mm", "ks": "1", "tension_kpa": "kPa", "planned_l": "L",
             "visits": "1", "deferred": "1", "km": "km", "truck_hours": "h"}
    return xr.Dataset(
        {**{k: (("time", "site"), v, {"units": units[k]}) for k, v in out.items()},
         **{k: ("time", v, {"units": units[k]}) for k, v in daily.items()},
         "head_wells_m": (("time", "well"), head_wells, {"units": "m"}),
         "taw_mm": ("site", world.taw_mm.astype(np.float32), {"units": "mm"})},
        coords={"time": time, "site": site_ids, "well": w["label"].to_numpy(str)})
