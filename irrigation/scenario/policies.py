"""Watering policies of the closed-loop season: what each plans from what a city sees.

A policy is a :class:`Planner`: each morning it gets a :class:`Morning` (yesterday's
station weather and ET0, the water the crews delivered yesterday, the sensor readings of
the last 24 h, today's weather forecast, the groundwater heads) and returns today's
visits. It never sees the truth world. :func:`make_planner` builds the planner of a
scenario policy (:mod:`irrigation.scenario.schema`); a new policy is any object with a
``plan`` method and a ``watered`` site mask.

- :class:`FixedInterval`: the crews' practice, a rotation of fixed amounts.
- :class:`SensorThreshold`: sensed sites above a tension threshold and their look-alikes.
- :class:`Forecast`: this project's daily run (state with sensor analysis, ensemble
  forecast, :mod:`irrigation.decide`), through the daily pipeline's own stages.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd
import xarray as xr

from ..city import City
from ..coords import dim_coords, index_coords
from ..day import (
    Ensemble,
    PlanningModel,
    SoilState,
    advance,
    assimilate,
    decide_day,
    forecast,
    forecast_ensemble,
)
from ..decide import DecideRules, fixed_system_sites
from ..sensors import (
    morning_observations,
    probe_correlation,
    probe_hydraulics,
    window_means,
)
from ..soil import van_genuchten_tension_kpa
from .schema import (
    FixedIntervalPolicy,
    ForecastPolicy,
    NoWatering,
    Policy,
    SensorThresholdPolicy,
)

#: Columns of the visits a planner returns (``reason`` is ``"due"``, ``"pulled
#: forward"`` or ``"fixed system"``; ``priority`` 1 is the most important).
VISIT_COLUMNS = ("site", "x", "y", "kind", "priority", "litres", "reason")


@dataclass(frozen=True)
class Morning:
    """What the city knows on the morning of ``day``; all a planner may use.

    Attributes
    ----------
    day
        The day.
    planning
        True inside the season (plans are executed); False in the spin-up, when a
        planner only keeps its state up to date.
    weather
        Station weather of yesterday (``time`` of length 1; empty on the first day).
    et0_mm
        Station reference ET0 of yesterday [mm d-1] over ``time``.
    watered_l
        Water the crews reported delivering yesterday [L] over (``time``, ``site``).
    readings
        Sensor readings of the last 24 h: ``value`` over (``sensor``, ``depth``,
        ``time`` hourly), ``valid`` (within the logger's range), coord ``quantity``;
        None on the first day and for a planner that does not read them.
    forecast
        Weather forecast issued today over ``time`` (today first) and ``member``.
    heads_m
        Groundwater heads (``layer``, ``row``, ``col``) [m] from the city's monitoring.
    forecast_et0_mm
        ET0 of ``forecast`` [mm d-1] when known (else the planner computes it).
    """

    day: np.datetime64
    planning: bool
    weather: xr.Dataset
    et0_mm: xr.DataArray
    watered_l: xr.DataArray
    readings: xr.Dataset | None
    forecast: xr.Dataset
    heads_m: np.ndarray
    forecast_et0_mm: xr.DataArray | None = None


class Planner(Protocol):
    """A watering policy in the closed loop."""

    #: Sites the policy may ever water (over the city's sites).
    watered: np.ndarray
    #: Whether ``plan`` reads ``morning.forecast`` (else it is left empty).
    uses_forecast: bool
    #: Whether ``plan`` reads ``morning.readings`` (else they are None).
    uses_readings: bool

    def plan(self, morning: Morning) -> pd.DataFrame:
        """Today's visits (:data:`VISIT_COLUMNS`); empty when ``morning.planning`` is
        False."""
        ...


_NO_VISITS = pd.DataFrame({c: pd.Series(dtype=float if c in ("x", "y", "litres") else object)
                          for c in VISIT_COLUMNS})


def _empty_visits() -> pd.DataFrame:
    return _NO_VISITS.copy()  # a copy: the caller may change it


def _visits(sites: xr.Dataset, mask: np.ndarray, tree_l: float, area_mm: float) -> pd.DataFrame:
    """Visits to the sites of ``mask``: ``tree_l`` per tree, ``area_mm`` over lawns and beds."""
    s = sites.isel(site=np.flatnonzero(mask))
    kind = s["kind"].values.astype(str)
    litres = np.where(np.char.endswith(kind, "_tree"), tree_l,
                      area_mm * s["area_m2"].values.astype(float))
    return pd.DataFrame({"site": s["site"].values, "x": s["x"].values, "y": s["y"].values,
                         "kind": kind, "priority": s["priority"].values, "litres": litres,
                         "reason": "due"})


class Nobody:
    """``none``: nobody waters (the reference of avoided stress)."""

    uses_forecast = uses_readings = False

    def __init__(self, pm: PlanningModel) -> None:
        self.watered = np.zeros(pm.city.sites.sizes["site"], bool)

    def plan(self, morning: Morning) -> pd.DataFrame:
        return _empty_visits()


class FixedInterval:
    """``fixed-interval``: every site of the kinds, the same amount every N days.

    The sites of the kinds, in the order of the sites table, are split into N groups
    (position modulo N); group ``(day - start) mod N`` is watered on ``day``, unless the
    rain-skip rule holds: at least ``rain_skip_mm`` of station rain over the
    ``rain_skip_days`` days before (the group then waits for its next turn).
    """

    uses_forecast = uses_readings = False

    def __init__(self, policy: FixedIntervalPolicy, pm: PlanningModel,
                 season: tuple[np.datetime64, np.datetime64]) -> None:
        s = pm.city.sites
        self.policy, self.sites = policy, s
        self.watered = np.isin(s["kind"].values, policy.kinds)
        self.group = np.full(s.sizes["site"], -1)
        self.group[self.watered] = np.arange(self.watered.sum()) % policy.interval_days
        self.start = np.datetime64(policy.start or season[0], "D")
        self.end = np.datetime64(policy.end or season[1], "D")
        self.rain_mm: list[float] = []  # station rain of the days seen, latest last

    def plan(self, morning: Morning) -> pd.DataFrame:
        day = np.datetime64(morning.day, "D")
        if morning.weather.sizes.get("time", 0):
            self.rain_mm.append(float(morning.weather["precip_mm"].values[-1]))
        if not morning.planning or not self.start <= day <= self.end:
            return _empty_visits()
        skip = self.policy.rain_skip_mm
        if skip is not None and sum(self.rain_mm[-self.policy.rain_skip_days:]) >= skip:
            return _empty_visits()
        today = int((day - self.start).astype(int)) % self.policy.interval_days
        return _visits(self.sites, self.group == today, self.policy.litres,
                       self.policy.area_mm)


def lookalikes(sites: xr.Dataset, sensed: np.ndarray, attributes: tuple[str, ...],
               age_tolerance_years: int) -> np.ndarray:
    """Which sites resemble each sensed site (sensed, site) [bool].

    A site resembles a sensed site when it shares every attribute of ``attributes`` and
    was planted within ``age_tolerance_years`` of it (a site without a planting year
    resembles none, unless a tolerance of 200 ignores age); each sensed site resembles
    itself.
    """
    same = np.ones((sensed.size, sites.sizes["site"]), bool)
    for a in attributes:
        v = sites[a].values.astype(str)
        same &= v[sensed][:, None] == v[None, :]
    if age_tolerance_years < 200:
        yr = sites["planting_year"].values.astype(float)
        same &= np.abs(yr[sensed][:, None] - yr[None, :]) <= age_tolerance_years
    same[np.arange(sensed.size), sensed] = True
    return same


class SensorThreshold:
    """``sensor-threshold``: water a sensed site whose probe reads drier than the
    threshold, and with it its unsensed look-alikes (:func:`lookalikes`).

    The probe's tension is the mean of the valid readings in the last
    ``assimilation.window_hours`` before the morning over the chosen depths;
    water-content channels are converted with the site's van Genuchten curve. A site
    watered within ``rest_days`` (by this policy) is not watered again.
    """

    uses_forecast, uses_readings = False, True

    def __init__(self, policy: SensorThresholdPolicy, pm: PlanningModel) -> None:
        city = pm.city
        self.policy, self.city = policy, city
        s, sens = city.sites, city.sensors
        pos = pd.Index(s["site"].values).get_indexer(sens["site"].values)
        self.like = lookalikes(s, pos, policy.lookalike, policy.age_tolerance_years)
        self.watered = self.like.any(0)
        self.hyd = probe_hydraulics(sens, s, pm.textures)
        depths = sens["depth"].values
        self.depths = depths if not policy.depths_cm else depths[np.isin(depths,
                                                                         policy.depths_cm)]
        self.last = np.full(s.sizes["site"], np.datetime64("NaT", "D"))

    def tension_kpa(self, morning: Morning) -> np.ndarray:
        """Mean tension of each probe over the window before the morning [kPa] (NaN: no
        valid reading)."""
        r = morning.readings
        if r is None:
            return np.full(self.city.sensors.sizes["sensor"], np.nan)
        day = np.array([np.datetime64(morning.day, "D")])
        w = window_means(r, day, self.city.config.assimilation.window_hours,
                         censored=True).isel(time=0)  # pinned at 239: at least that dry
        w = w.sel(depth=self.depths)
        vg = [self.hyd[k] for k in ("theta_r", "theta_s", "alpha_per_cm", "n")]
        as_t = xr.where(r["quantity"] == "tension", w, van_genuchten_tension_kpa(w, *vg))
        return as_t.mean("depth", skipna=True).values

    def plan(self, morning: Morning) -> pd.DataFrame:
        day = np.datetime64(morning.day, "D")
        if not morning.planning:
            return _empty_visits()
        with np.errstate(invalid="ignore"):
            dry = self.tension_kpa(morning) > self.policy.tension_kpa
        rest = np.timedelta64(self.policy.rest_days, "D")
        resting = (day - self.last) <= rest  # NaT compares False
        mask = self.like[dry].any(0) & ~resting
        self.last = np.where(mask, day, self.last)
        return _visits(self.city.sites, mask, self.policy.litres, self.policy.area_mm)


class Forecast:
    """``forecast``: the daily run's steps (:mod:`irrigation.day`) in memory.

    It models the sites it may water, those of fixed systems and the sensed ones
    (:meth:`~irrigation.day.PlanningModel.take`; their numbers do not depend on the
    others), and forecasts only the days its decisions look at
    (:func:`decision_reach_days`). Each morning: their soil balance moves on by yesterday
    (station weather, the water the crews reported, depth to water from the monitored
    heads) and the sensor window is assimilated (:func:`~irrigation.day.advance`,
    :func:`~irrigation.day.assimilate`, as the daily run's state stage); then the
    forecast and decide steps plan the day (:func:`~irrigation.day.decide_day`: the due
    visits, those pulled forward, and the runs of the fixed systems as visits with reason
    ``"fixed system"``; sites watered within ``[decide] rest_days`` by the log are not
    pulled forward). The groundwater is held at the morning's heads over the horizon
    (season mode; heads move millimetres in two weeks).
    """

    uses_forecast = True

    def __init__(self, policy: ForecastPolicy, pm: PlanningModel,
                 first_day: np.datetime64) -> None:
        sites, cfg = pm.city.sites, pm.city.config
        self.policy = policy
        self.uses_readings = policy.sensors
        self.watered = np.isin(sites["kind"].values, cfg.decide.watered_kinds)
        # the model of the sites it may water, those of fixed systems and the sensed ones
        self.keep = (self.watered | fixed_system_sites(sites, cfg.decide)
                     | np.isin(sites["site"].values, pm.city.sensors["site"].values))
        self.city_pm = pm
        self.city_coords = index_coords(pm.city.sites)  # the whole city's sites
        self.pm = pm = pm.take(self.keep)
        self.kept_coords = index_coords(pm.city.sites)
        city = pm.city
        self.state = SoilState.at_field_capacity(pm, first_day, np.zeros((0, 0, 0)))
        self.hyd = probe_hydraulics(city.sensors, city.sites, pm.textures)
        self.rho = probe_correlation(city.sites, city.sensors, city.config.assimilation)
        self.n_obs = 0
        self.logged: list[xr.DataArray] = []  # the log of the last rest_days days
        self.reach_days = decision_reach_days(cfg.decide)
        self.dtw: tuple[xr.DataArray, xr.DataArray] | None = None  # heads' dtw, its morning

    def _advance(self, morning: Morning) -> None:
        pm, city = self.pm, self.pm.city
        state = dataclasses.replace(self.state, heads_m=morning.heads_m)
        watered_l = morning.watered_l.isel(site=np.flatnonzero(self.keep))
        if watered_l.sizes.get("time", 0):
            rest = city.config.decide.rest_days
            self.logged = [*self.logged, watered_l][-rest:] if rest else []
        if morning.et0_mm.sizes.get("time", 0):
            every = pm.depth_to_water_m(morning.heads_m)  # kept while the heads hold
            if self.dtw is None or self.dtw[0] is not every:
                self.dtw = (every, every.isel(time=0))
            dtw = self.dtw[1]
            state, _ = advance(pm, state, morning.et0_mm, morning.weather["precip_mm"],
                               watered_l, dtw)
        self.n_obs = 0
        if self.policy.sensors and morning.readings is not None:
            obs = morning_observations(morning.readings, morning.day, city.sensors,
                                       self.hyd, city.config.assimilation)
            state, self.n_obs = assimilate(pm, state, obs, self.rho)
        self.state = state

    def _ensemble(self, morning: Morning) -> Ensemble:
        """Today's ensemble of the kept sites, drawn over the whole city's sites (the
        members' initial depletions of a site do not depend on which sites are kept)."""
        n, keep = self.city_pm.city.sites.sizes["site"], np.flatnonzero(self.keep)

        def whole(da: xr.DataArray) -> xr.DataArray:
            values = np.zeros(n)
            values[keep] = da.values
            return xr.DataArray(values, dims="site", coords=self.city_coords)

        s = self.state
        ens = forecast_ensemble(self.city_pm, SoilState(s.day, whole(s.dr_mm),
                                                        whole(s.var_mm2), s.heads_m),
                                morning.forecast, et0_mm=morning.forecast_et0_mm)
        return dataclasses.replace(ens, dr0_mm=xr.DataArray(  # isel(site=keep), its index kept
            ens.dr0_mm.values[keep], dims=ens.dr0_mm.dims, coords=self.kept_coords))

    def plan(self, morning: Morning) -> pd.DataFrame:
        self._advance(morning)
        if not morning.planning:
            return _empty_visits()
        ens = self._ensemble(morning)
        within = {"time": slice(0, self.reach_days)}  # the days its decisions look at
        ens = dataclasses.replace(ens, weather=ens.weather[["precip_mm"]].isel(within),
                                  et0_mm=ens.et0_mm.isel(within))  # all the forecast reads
        fc = forecast(self.pm, ens, morning.heads_m, decide_only=True)  # heads held
        day = np.datetime64(morning.day, "D")
        log = None if not self.logged else xr.DataArray(
            np.concatenate([a.values for a in self.logged]), dims=("time", "site"),
            coords=dim_coords(self.kept_coords, time=np.concatenate(
                [a["time"].values for a in self.logged])))
        d = decide_day(self.pm, day, fc, log)
        sites = self.pm.city.sites
        # the fixed runs are of this model's sites: every one is found
        at = sites.indexes["site"].get_indexer(d.fixed["site"])
        prio = sites.variables["priority"].values[at]
        fixed = {c: d.fixed[c].to_numpy() for c in VISIT_COLUMNS if c in d.fixed}
        fixed.update(priority=prio, reason=np.full(len(d.fixed), "fixed system", object))
        return stack_visits(d.visits, fixed)


def stack_visits(*parts: pd.DataFrame | dict[str, np.ndarray]) -> pd.DataFrame:
    """The tables of visits one after the other, columns :data:`VISIT_COLUMNS`: what
    ``pd.concat([p[VISIT_COLUMNS] for p in parts], ignore_index=True)`` gives, built
    from the columns' arrays when every column has one dtype over the parts (the
    concatenation's dtype rules then do nothing); a part may be a dict of arrays."""
    cols = {c: [np.asarray(p[c]) if isinstance(p, dict) else p[c].to_numpy()
                for p in parts] for c in VISIT_COLUMNS}
    if all(len({a.dtype for a in arrays}) == 1 for arrays in cols.values()):
        return pd.DataFrame({c: np.concatenate(arrays) for c, arrays in cols.items()})
    frames = [pd.DataFrame(p) if isinstance(p, dict) else p for p in parts]
    return pd.concat([f[list(VISIT_COLUMNS)] for f in frames], ignore_index=True)


def decision_reach_days(rules: DecideRules) -> int:
    """Forecast days the decisions look at: a site is due when the forecast crosses its
    threshold by day ``lead_days`` and pulled forward by ``lead_days +
    pull_forward_days`` (:func:`irrigation.decide.demand`,
    :func:`~irrigation.decide.todays_candidates`; day 0 = this morning). Later days of
    the forecast change only its report (crossing days and probabilities beyond them),
    never the visits, so the season's forecast policy does not simulate them."""
    return int(np.floor(rules.lead_days + rules.pull_forward_days)) + 1


def forecast_city(city: City, policy: ForecastPolicy) -> City:
    """The city with the forecast policy's overrides of ``[decide]`` (due probability,
    lead days, refill fraction, watered kinds)."""
    d = city.config.decide
    given = {"due_probability": policy.due_probability, "lead_days": policy.lead_days,
             "refill_fraction": policy.refill_fraction, "watered_kinds": policy.kinds}
    d = dataclasses.replace(d, **{k: v for k, v in given.items() if v is not None})
    return dataclasses.replace(city, config=dataclasses.replace(city.config, decide=d))


def make_planner(policy: Policy, pm: PlanningModel,
                 season: tuple[np.datetime64, np.datetime64],
                 first_day: np.datetime64) -> Planner:
    """The planner of a scenario policy; ``first_day`` is the first simulated morning
    (spin-up included), when a model-based planner starts at field capacity."""
    if isinstance(policy, NoWatering):
        return Nobody(pm)
    if isinstance(policy, FixedIntervalPolicy):
        return FixedInterval(policy, pm, season)
    if isinstance(policy, SensorThresholdPolicy):
        return SensorThreshold(policy, pm)
    return Forecast(policy, dataclasses.replace(pm, city=forecast_city(pm.city, policy)),
                    first_day)
