"""The day engine: the public steps of one planning day.

The daily run (:func:`irrigation.pipeline.run_day`), the ``forecast`` policy of the
scenarios (:mod:`irrigation.scenario.policies`), the sensor hindcast
(:mod:`irrigation.hindcast`) and the notebooks compose these same steps. Each takes values
(numpy, xarray, pandas and the small dataclasses below) and returns values; none reads or
writes a file, and each returns its notes (warnings for the report, facts for the run
record) instead of appending to shared lists.

============================  ==================================================================
:class:`PlanningModel`        the city as the planner models it: sites, soils, groundwater model
:func:`observe`               quality-controlled sensor readings as root-zone observations
:func:`assimilate`            the sensor analysis of one morning
:func:`advance`               one day of the soil balance with the weather and the watering done
:func:`continue_state`        advance and assimilate, morning by morning, up to day D
:func:`groundwater_step`      the groundwater model over periods, holding the last good heads
                              when it does not converge
:func:`forecast_ensemble`     ensemble weather, its ET0 and the initial depletion per member
:func:`forecast_percolation`  the ensemble's deep percolation (the recharge of the forecast)
:func:`forecast`              soil forecast of every site and member, with the depth to water
                              from the heads of each morning of the horizon
:func:`decide_day`            demand, fixed-system runs, the visits offered to the trucks
:func:`route_day`             the routed plan: today's capacity is what the routes carry
============================  ==================================================================

A day, as :func:`irrigation.pipeline.run_day` composes it::

    obs = observe(pm, readings, et0, precip, watering, dtw, days)
    run = continue_state(pm, state, et0, precip, watering, obs, day)
    gw = groundwater_step(pm, state.heads_m, pm.recharge_mm_d(run.dp_mm), start=state.day)
    ens = forecast_ensemble(pm, state, weather_forecast)
    gw = groundwater_step(pm, heads, pm.recharge_mm_d(forecast_percolation(pm, ens, dtw)))
    fc = forecast(pm, ens, morning_heads(heads, gw.heads_m))
    decision = decide_day(pm, day, fc)
    routed = route_day(pm, day, decision.visits, decision.deferred)
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import xarray as xr
from tqdm import tqdm
from xarray.backends import BackendArray
from xarray.core import indexing

from .city import City
from .coords import dim_coords, index_coords
from .decide import (
    DEFERRAL_REASONS,
    THRESHOLD_ATTRS,
    deferred_table,
    demand,
    fixed_system_plan,
    fixed_system_zone,
    resting_sites,
    site_threshold_arrays,
    todays_candidates,
    urgency_weight,
)
from .errors import ConvergenceError
from .groundwater.assumed import AssumedWaterTable
from .groundwater.backend import solve_model
from .groundwater.forecast import depth_to_water_at, forecast_model
from .groundwater.linear import DirectSolver
from .groundwater.model import GwfModel
from .groundwater.output import head_values
from .plan import Plan, empty_plan, make_plan
from .routing import (
    RoutingProblem,
    RoutingSolution,
    build_problem,
    offer_count,
    search_summary,
    solve,
)
from .sensors import (
    CorrelationRows,
    advance_variance,
    analysis_arrays,
    channel_theta,
    daily_observations,
    probe_correlation,
    probe_hydraulics,
    quality_control,
)
from .soil import (
    SiteSoil,
    balance,
    depletion_tension_kpa,
    recharge_to_grid,
    simulate_sites,
    site_soil,
)
from .weather import ensemble_from_deterministic, et0

log = logging.getLogger(__name__)

#: Sites per block of the forecast's soil passes. The balance keeps ~20 arrays of
#: (horizon x block x members) float64 alive; 2,500 x 14 x 50 is ~0.3 GB (10,000 sites
#: were ~1.1 GB above the forecast's own 1.7 GB in the large city), so the large city's
#: 150,000 sites stay within a few GB instead of ~12 GB in one block. Blocks of this size
#: still vectorise (125,000 values per operation at 50 members).
SITE_BLOCK = 2_500

_VG = ("theta_r", "theta_s", "alpha_per_cm", "n")

#: Depth-to-water results a planning model keeps (:meth:`PlanningModel.depth_to_water_m`).
DTW_CACHE_SIZE = 4


# =========================================================================== the model


@dataclass(frozen=True)
class PlanningModel:
    """The city as the planner models it (in a scenario: not the truth).

    Attributes
    ----------
    city
        Sites, sensors, refill points, streets and the configuration.
    groundwater
        The groundwater model, or None for a city without one.
    textures, species
        The soil texture and species tables.
    soil
        The constants of every site's balance (:func:`irrigation.soil.site_soil`: the
        site's curve, TAW, K_L, p, pit cap, infiltration).
    water_table
        Without a groundwater model: the depth to water assumed under the sites
        (:class:`~irrigation.groundwater.assumed.AssumedWaterTable`); the heads of such a
        city are one NaN cell that never changes.
    """

    city: City
    groundwater: GwfModel | None
    textures: pd.DataFrame
    species: pd.DataFrame
    soil: SiteSoil
    water_table: AssumedWaterTable | None = None
    _dtw_cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def build(cls, city: City, groundwater: GwfModel | AssumedWaterTable,
              textures: pd.DataFrame, species: pd.DataFrame) -> PlanningModel:
        """The planning model of ``city``: the site constants from the soil and species
        tables (a site's measured soil wins over its texture); ``groundwater`` is the
        city's model or the depth to water it assumes without one
        (:func:`irrigation.io.city.load_groundwater`)."""
        soil = site_soil(city.sites, textures, species)
        if isinstance(groundwater, AssumedWaterTable):
            return cls(city, None, textures, species, soil, groundwater)
        return cls(city, groundwater, textures, species, soil)

    def take(self, keep: np.ndarray) -> PlanningModel:
        """The model of the sites ``keep`` only (bool or positions over ``site``): a
        planner that decides for some kinds needs neither the state nor the forecast of
        the others. Every site's balance, forecast and threshold are its own, and the
        sensor analysis of a site uses the probes' sites only (keep them), so the kept
        sites get the numbers of the whole city's model."""
        pos = np.flatnonzero(keep) if np.asarray(keep).dtype == bool else np.asarray(keep)
        city = dataclasses.replace(self.city, sites=self.city.sites.isel(site=pos))
        return PlanningModel(city, self.groundwater, self.textures, self.species,
                             self.soil.take(pos), self.water_table)

    @property
    def hydraulics(self) -> dict[str, np.ndarray]:
        """Van Genuchten parameters, θFC and θWP per site
        (:func:`irrigation.soil.site_hydraulics`)."""
        return self.soil.hydraulics

    @cached_property
    def taw_mm(self) -> xr.DataArray:
        """Total available water per site [mm] over ``site``."""
        return xr.DataArray(self.soil.taw_mm, dims="site",
                            coords={"site": self.city.sites["site"].values},
                            attrs={"units": "mm"})

    @cached_property
    def fixed_system_zone(self) -> np.ndarray:
        """The fixed-system zone of every site under the city's ``[decide]`` rules
        (:func:`irrigation.decide.fixed_system_zone`; ``""`` = watered by trucks)."""
        return fixed_system_zone(self.city.sites, self.city.config.decide)

    @property
    def groundwater_text(self) -> str:
        """Where the depth to water comes from, for the report: ``"forecast"`` (the
        groundwater model) or the assumption (:meth:`AssumedWaterTable.describe`)."""
        if self.groundwater is not None:
            return "forecast"
        s = self.city.sites
        return self.water_table.describe(s.x.values, s.y.values)

    def depth_to_water_m(self, heads_m: np.ndarray) -> xr.DataArray:
        """Depth to the water table [m] under the sites, over (``time``, ``site``), from
        heads (layer, row, col) or (time, layer, row, col) [m]; NaN = dry or inactive.
        Without a groundwater model: the assumed depth, one row per time of ``heads_m``.

        The last few results are kept (heads change weekly in a season but are asked
        for daily)."""
        h = np.asarray(heads_m, dtype=float)
        key = hashlib.blake2b(h.tobytes(), digest_size=16).digest() + bytes(str(h.shape),
                                                                             "ascii")
        if key in self._dtw_cache:
            return self._dtw_cache[key]
        dtw = self._depth_to_water_m(h)
        if len(self._dtw_cache) >= DTW_CACHE_SIZE:
            self._dtw_cache.pop(next(iter(self._dtw_cache)))
        self._dtw_cache[key] = dtw
        return dtw

    def _depth_to_water_m(self, h: np.ndarray) -> xr.DataArray:
        h = h[None] if h.ndim == 3 else h
        if len(h) > 1 and ((h == h[:1]) | (np.isnan(h) & np.isnan(h[:1]))).all():  # held
            one = self.depth_to_water_m(h[:1])
            return xr.DataArray(np.repeat(one.values, len(h), axis=0), dims=one.dims,
                                coords={"time": np.arange(1, len(h) + 1, dtype=float),
                                        "site": one["site"].values}, attrs=one.attrs)
        s = self.city.sites
        if self.groundwater is None:
            dtw = np.broadcast_to(self.water_table.at(s.x.values, s.y.values),
                                  (len(h), s.sizes["site"]))
            return xr.DataArray(dtw.copy(), dims=("time", "site"),
                                coords={"time": np.arange(1, len(h) + 1, dtype=float),
                                        "site": s.site.values}, attrs={"units": "m"})
        m = self.groundwater
        h = np.where(np.isfinite(h) & (np.abs(h) < 1e29), h, np.nan)  # inactive or dry
        dtw = depth_to_water_at(h, m.botm, m.top, *m.xy_to_rowcol(s.x.values, s.y.values))
        return xr.DataArray(dtw, dims=("time", "site"),
                            coords={"time": np.arange(1, len(h) + 1, dtype=float),
                                    "site": s.site.values}, attrs={"units": "m"})

    def recharge_mm_d(self, dp_mm: np.ndarray) -> np.ndarray:
        """Recharge per cell [mm d-1] (days, nrow, ncol) from the deep percolation of the
        sites (days, site) [mm d-1], area-weighted, plus the background rate elsewhere
        (:func:`irrigation.soil.recharge_to_grid`); zeros of one cell without a model."""
        s, m = self.city.sites, self.groundwater
        if m is None:
            return np.zeros((np.atleast_2d(dp_mm).shape[0], 1, 1))
        ytop = m.yorigin + float(np.sum(m.delc))
        bg = self.city.config.groundwater.background_recharge_mm_d
        return np.stack([recharge_to_grid(d, s["area_m2"].values, s.x.values, s.y.values,
                                          xorigin=m.xorigin, ytop=ytop, delr=m.delr,
                                          delc=m.delc, background_mm_d=bg)
                         for d in np.atleast_2d(dp_mm)])


#: Heads of a city without a groundwater model: one cell, no value (layer, row, col).
NO_MODEL_HEADS = np.full((1, 1, 1), np.nan)


def steady_state(pm: PlanningModel, backend: str | None = None) -> GroundwaterRun:
    """The groundwater model's first stored step (the steady state of a city model):
    heads [m] (1, layer, row, col). ``backend`` overrides the city's
    ``groundwater.backend``. When the model does not converge, its starting heads (IC)
    are used and the warning says so. Without a model: :data:`NO_MODEL_HEADS`."""
    if pm.groundwater is None:
        return GroundwaterRun(NO_MODEL_HEADS.copy()[None])
    cfg = pm.city.config.groundwater
    try:
        result = solve_model(pm.groundwater.first_period(), backend=backend or cfg.backend,
                             mf6_exe=cfg.mf6_exe or None)
    except ConvergenceError as exc:
        strt = np.where(np.abs(pm.groundwater.strt) < 1e29, pm.groundwater.strt, np.nan)
        return GroundwaterRun(strt[None], f"the groundwater model's steady state did not "
                              f"converge ({exc}); its starting heads are used")
    return GroundwaterRun(head_values(result)[:1])


def steady_heads(pm: PlanningModel, backend: str | None = None) -> np.ndarray:
    """The heads of :func:`steady_state` [m] (layer, row, col)."""
    return steady_state(pm, backend).heads_m[0]


def reference_et0(pm: PlanningModel, weather: xr.Dataset) -> xr.DataArray:
    """Reference ET0 [mm d-1] of daily weather at the city's station
    (:func:`irrigation.weather.et0`)."""
    w = pm.city.config.weather
    return et0(weather, latitude_deg=w.latitude_deg, elevation_m=w.elevation_m)


def day_seed(seed: int, day: np.datetime64) -> int:
    """Seed of the random draws of day ``day``: fixed per (run.seed, day)."""
    ordinal = int(np.datetime64(day, "D").astype(int))
    return int(np.random.SeedSequence([seed, ordinal]).generate_state(1)[0])


# =========================================================================== state


@dataclass(frozen=True)
class SoilState:
    """The soil water of every site on the morning of ``day`` (before watering).

    Attributes
    ----------
    day
        The morning the state describes.
    dr_mm
        Root-zone depletion [mm] over ``site`` (after the sensor analysis, if any).
    var_mm2
        Its error variance [mm2] over ``site``.
    heads_m
        Groundwater heads [m] (layer, row, col); NaN = dry or inactive.
    """

    day: np.datetime64
    dr_mm: xr.DataArray
    var_mm2: xr.DataArray
    heads_m: np.ndarray

    @classmethod
    def at_field_capacity(cls, pm: PlanningModel, day: np.datetime64,
                          heads_m: np.ndarray) -> SoilState:
        """Every site at field capacity on ``day`` with the background error of the
        season start, σ = ``assimilation.sigma_b0_frac`` · TAW."""
        site_ids = pm.city.sites["site"].values
        dr = xr.DataArray(np.zeros(site_ids.size), dims="site", coords={"site": site_ids})
        var = (pm.city.config.assimilation.sigma_b0_frac * pm.taw_mm) ** 2
        return cls(np.datetime64(day, "D"), dr, var, heads_m)

    @classmethod
    def from_dataset(cls, ds: xr.Dataset, pm: PlanningModel, day: np.datetime64
                     ) -> SoilState:
        """The saved state of the morning of ``day`` (:meth:`to_dataset`); sites new
        since are at field capacity with the largest background error."""
        site_ids = pm.city.sites["site"].values
        sigma = pm.city.config.assimilation.sigma_b0_frac
        dr = ds["dr_mm"].reindex(site=site_ids).fillna(0.0)
        var = ds["var_mm2"].reindex(site=site_ids).fillna(
            float((sigma * pm.taw_mm.max()) ** 2))
        return cls(np.datetime64(day, "D"), dr, var, ds["heads_m"].values)

    def to_dataset(self, city_name: str) -> xr.Dataset:
        """The state as saved in the workspace (``state/state-D.nc``)."""
        h = self.heads_m
        return xr.Dataset(
            {"dr_mm": xr.DataArray(self.dr_mm.values, dims="site",
                                   coords={"site": self.dr_mm["site"].values},
                                   attrs={"units": "mm", "long_name": "root-zone depletion "
                                          "(analysis)"}),
             "var_mm2": xr.DataArray(self.var_mm2.values, dims="site",
                                     coords={"site": self.var_mm2["site"].values},
                                     attrs={"units": "mm2", "long_name": "analysis error "
                                            "variance of dr_mm"}),
             "heads_m": (("layer", "row", "col"), np.where(np.isfinite(h), h, np.nan),
                         {"units": "m", "long_name": "hydraulic head (NaN: dry or inactive)"})},
            attrs={"date": str(self.day), "city": city_name,
                   "meaning": "morning of the date, after the sensor analysis, before "
                   "watering"})


# =========================================================================== sensors


@dataclass(frozen=True)
class SensorObservations:
    """A city's sensor readings, quality-controlled and turned into observations.

    Attributes
    ----------
    readings
        The readings with ``qc_flags`` and ``valid``
        (:func:`irrigation.sensors.quality_control`) over (``sensor``, ``depth``, ``time``).
    daily
        Root-zone observations of each morning (:func:`irrigation.sensors.daily_observations`)
        over (``sensor``, ``time``).
    rho
        Background correlation of every site with each probe's site (site x sensor, by
        its rows that can be non-zero).
    """

    readings: xr.Dataset
    daily: xr.Dataset
    rho: CorrelationRows


def _per_probe(da: xr.DataArray, city: City) -> xr.DataArray:
    """A (``site``, ...) array taken at each probe's site, over dim ``sensor``."""
    s = city.sensors
    out = da.sel(site=s["site"].values).rename(site="sensor")
    return out.assign_coords(sensor=s["sensor"].values)


def open_loop_theta(pm: PlanningModel, et0_mm: xr.DataArray, precip_mm: xr.DataArray,
                    watering_l: xr.DataArray, dtw_m: xr.DataArray | None) -> xr.DataArray:
    """Root-zone theta [m3 m-3] of the open loop (the soil model without assimilation,
    member 0) at each probe's site, over (``sensor``, ``time``) of ``et0_mm``.

    Only the probes' sites are simulated: the sites' columns are independent, so these
    are the numbers of a run over the whole city (150,000 sites over a season: GBs of
    arrays and most of the sensor stage's time), for a few hundred columns.
    """
    city = pm.city
    at = np.flatnonzero(np.isin(city.sites["site"].values, city.sensors["site"].values))
    ids = city.sites["site"].values[at]  # the sensors table names known sites only
    open_loop = simulate_sites(
        city.sites.isel(site=at), et0_mm, precip_mm,
        irrigation_l=watering_l.sel(site=ids),
        depth_to_water_m=None if dtw_m is None else dtw_m.sel(site=ids),
        textures=pm.textures, species=pm.species, soil=pm.soil.take(at))
    return _per_probe(open_loop["theta"].isel(member=0), city).transpose("sensor", "time")


def observe(pm: PlanningModel, readings: xr.Dataset | None, et0_mm: xr.DataArray,
            precip_mm: xr.DataArray, watering_l: xr.DataArray, dtw_m: xr.DataArray | None,
            days: np.ndarray) -> SensorObservations | None:
    """Quality control of the readings and their root-zone observations on ``days``.

    The drift test compares each channel with an open-loop run of the soil model (no
    assimilation) over the days of ``et0_mm`` with the watering done.

    Parameters
    ----------
    readings
        Readings of the city's probes over (``sensor``, ``depth``, ``time``), as
        :func:`irrigation.io.sensors.read_sensor_data` returns them; None: no data.
    et0_mm, precip_mm
        Observed weather [mm d-1] over daily ``time``.
    watering_l
        Water given [L] over (``time``, ``site``).
    dtw_m
        Depth to water [m] over ``site`` for the open loop.
    days
        Mornings of the observations (UTC midnight).

    Returns
    -------
    SensorObservations or None
        None when there are no readings or no probes.
    """
    city = pm.city
    if readings is None or city.sensors.sizes["sensor"] == 0:
        return None
    r = readings.reindex(sensor=city.sensors["sensor"].values)
    r = r.assign_coords(quantity=("sensor", city.sensors["kind"].values))
    hyd = probe_hydraulics(city.sensors, city.sites, pm.textures)
    theta = channel_theta(r["value"], r["quantity"], hyd)
    expected = open_loop_theta(pm, et0_mm, precip_mm, watering_l, dtw_m)
    qc = quality_control(r, city.config.qc, theta=theta, expected_theta=expected,
                         watering_l=_per_probe(watering_l.transpose("site", "time"), city),
                         precip_mm=precip_mm)
    rules = city.config.assimilation
    return SensorObservations(qc, daily_observations(qc, days, city.sensors, hyd, rules),
                              probe_correlation(city.sites, city.sensors, rules))


def assimilate(pm: PlanningModel, state: SoilState, obs: xr.Dataset | None,
               rho: CorrelationRows | None) -> tuple[SoilState, int]:
    """The sensor analysis of the state's morning (optimal interpolation,
    :func:`irrigation.sensors.analysis`); returns the state and the probes used.

    ``obs`` holds the morning's observations over ``sensor`` (``site``, ``dr_obs_mm``,
    ``var_obs_mm2``; NaN where a probe had no valid reading; ``censored`` where
    ``dr_obs_mm`` is only a lower bound, used one-sidedly by the analysis); None leaves
    the state as it is. ``rho`` is the correlation of every site with each probe
    (:func:`irrigation.sensors.probe_correlation`).
    """
    if obs is None:
        return state, 0
    d0, v0 = state.dr_mm, state.var_mm2
    dr, var, _, n_obs = analysis_arrays(d0, v0, obs, pm.city.sites, pm.taw_mm,
                                        pm.city.config.assimilation, rho)
    on_var = {k: c for k, c in d0.coords.items() if set(c.dims) <= set(v0.dims)}
    return dataclasses.replace(  # as analysis' dataset variables, without the dataset
        state, dr_mm=xr.DataArray(dr, coords=d0.coords, dims=d0.dims, name="dr_mm",
                                  attrs={**d0.attrs, "units": "mm"}),
        var_mm2=xr.DataArray(var, coords=on_var, dims=v0.dims, name="var_mm2",
                             attrs={**v0.attrs, "units": "mm2"})), n_obs


def advance(pm: PlanningModel, state: SoilState, et0_mm: xr.DataArray,
            precip_mm: xr.DataArray, watering_l: xr.DataArray | None,
            dtw_m: xr.DataArray | None) -> tuple[SoilState, np.ndarray]:
    """One day of the soil water balance, from the state's morning to the next.

    The balance (:func:`irrigation.soil.simulate_sites`) runs with the day's weather and
    the water given; the background error grows by the model error of the day
    (:func:`irrigation.sensors.advance_variance`). A state with a ``member`` dim (e.g.
    the held-out runs of the hindcast) advances every member.

    Parameters
    ----------
    et0_mm, precip_mm
        The day's weather [mm d-1] over ``time`` of length 1.
    watering_l
        Water given that day [L] over (``time``, ``site``); None: none.
    dtw_m
        Depth to water [m] over ``site``.

    Returns
    -------
    (SoilState, numpy.ndarray)
        The next morning's state (heads unchanged) and the day's deep percolation per
        site [mm d-1] (site[, member]).
    """
    dr = state.dr_mm
    members = "member" in dr.dims
    dr0 = dr.variable.transpose("site", "member").values if members else dr.values[:, None]
    e0 = float(et0_mm.values.reshape(-1)[0])
    sim = balance(
        pm.soil, np.full((1, 1, dr0.shape[1]), e0),
        np.asarray(precip_mm.values, dtype=float).reshape(1, -1, 1) if precip_mm.ndim > 1
        else np.full((1, 1, 1), float(precip_mm.values.reshape(-1)[0])),
        irrigation_l=None if watering_l is None else np.asarray(
            watering_l.variable.transpose("time", "site").values, dtype=float)[..., None],
        depth_to_water_m=None if dtw_m is None else np.asarray(
            dtw_m.values, dtype=float).reshape(1, -1, 1),
        initial_depletion_mm=dr0, fluxes=False)
    dr_next = dr.copy(data=sim["dr_mm"][0] if members else sim["dr_mm"][0, :, 0])
    v = state.var_mm2  # (site[, member])
    if v.dims[0] != "site":
        v = v.transpose("site", ...)
    ids = v["site"].values
    at = (slice(None) if np.array_equal(ids, pm.soil.site)
          else pd.Index(pm.soil.site).get_indexer(ids))
    per_site = (-1,) + (1,) * (v.ndim - 1)
    var = v.copy(data=advance_variance(v.values, (pm.soil.k_l[at] * e0).reshape(per_site),
                                       pm.soil.taw_mm[at].reshape(per_site),
                                       pm.city.config.assimilation))
    if var.dims != state.var_mm2.dims:
        var = var.transpose(*state.var_mm2.dims)
    var.attrs, var.name = {}, None
    dp = sim["deep_percolation_mm"][0]
    return (SoilState(state.day + 1, dr_next, var, state.heads_m),
            dp if members else dp[:, 0])


@dataclass(frozen=True)
class StateRun:
    """:func:`continue_state`'s result: the state of the morning of D, the deep
    percolation of each day since the start [mm d-1] (days, site), and the number of
    probes assimilated on D's morning."""

    state: SoilState
    dp_mm: np.ndarray
    n_obs: int


def continue_state(pm: PlanningModel, state: SoilState, et0_mm: xr.DataArray,
                   precip_mm: xr.DataArray, watering_l: xr.DataArray,
                   obs: SensorObservations | None, day: np.datetime64,
                   progress: bool | None = None) -> StateRun:
    """Advance ``state`` day by day to the morning of ``day``, assimilating the sensors
    of every morning after its own (:func:`advance`, then :func:`assimilate`).

    The weather, ET0 and watering cover at least the days from ``state.day`` to the day
    before ``day``; the depth to water is that of the state's heads throughout (the
    groundwater moves in :func:`groundwater_step`). ``progress`` shows a progress bar
    over 30 days or more (None: when this module logs at INFO).
    """
    days = np.arange(state.day, np.datetime64(day, "D"))
    dtw0 = pm.depth_to_water_m(state.heads_m).isel(time=0)
    dp = np.zeros((days.size, pm.city.sites.sizes["site"]))
    n_obs = 0
    for k, d in enumerate(tqdm(days, desc="state", unit="day", leave=False,
                               disable=days.size < 30 or not (
                                   log.isEnabledFor(logging.INFO) if progress is None
                                   else progress))):
        sl = slice(d, d)
        state, dp[k] = advance(pm, state, et0_mm.sel(time=sl), precip_mm.sel(time=sl),
                               watering_l.sel(time=sl), dtw0)
        morning = None if obs is None else obs.daily.sel(time=d + 1)
        state, n_obs = assimilate(pm, state, morning, None if obs is None else obs.rho)
    return StateRun(state, dp, n_obs)


# =========================================================================== groundwater


@dataclass(frozen=True)
class GroundwaterRun:
    """:func:`groundwater_step`'s result.

    Attributes
    ----------
    heads_m
        Heads at the end of each period [m] (period, layer, row, col); NaN = dry or
        inactive. When the model did not converge: the starting heads in every period.
    warning
        None, or what the report must say when the model did not converge.
    """

    heads_m: np.ndarray
    warning: str | None = None

    @property
    def converged(self) -> bool:
        return self.warning is None


def groundwater_step(pm: PlanningModel, heads_m: np.ndarray, recharge_mm_d: np.ndarray, *,
                     start: np.datetime64, period_days: float | np.ndarray = 1.0,
                     factorisation: DirectSolver | None = None) -> GroundwaterRun:
    """Run the groundwater model from ``heads_m`` over transient periods.

    Parameters
    ----------
    heads_m
        Heads at the start [m] (layer, row, col).
    recharge_mm_d
        Recharge per cell [mm d-1] of each period (period, nrow, ncol)
        (:meth:`PlanningModel.recharge_mm_d`).
    start
        Day of the starting heads.
    period_days
        Length of each period [d] (one backward-Euler step each), one for all or one per
        period.
    factorisation
        The embedded solver's factorisation kept by a caller that steps the same model
        again and again (the closed-loop season's truth), for the next run to reuse
        (:func:`irrigation.groundwater.embedded.simulate`).

    Returns
    -------
    GroundwaterRun
        The heads at the end of each period; when the model does not converge
        (:class:`~irrigation.errors.ConvergenceError`) the starting heads are held and
        the warning says so (DESIGN.md sec. 6: the plan still comes out). Without a
        groundwater model: the starting heads in every period.
    """
    rch = np.asarray(recharge_mm_d, dtype=float)
    n = rch.shape[0]
    if pm.groundwater is None:  # the assumed water table does not move
        return GroundwaterRun(np.broadcast_to(heads_m, (n, *np.shape(heads_m))).copy())
    gw = pm.city.config.groundwater
    model = forecast_model(pm.groundwater, heads_m, recharge_mm_d=rch, days=n)
    perlen = np.broadcast_to(np.asarray(period_days, float), (n,))
    if (perlen != 1.0).any():
        model = model.replace(perlen=perlen.copy())
    try:
        result = solve_model(model, backend=gw.backend, mf6_exe=gw.mf6_exe or None,
                             factorisation=factorisation)
    except ConvergenceError as exc:
        start = np.datetime64(start, "D")
        end = start + np.timedelta64(round(perlen.sum()), "D")
        return GroundwaterRun(np.broadcast_to(heads_m, (n, *np.shape(heads_m))),
                              f"groundwater did not converge over {start}..{end} ({exc}); "
                              f"the heads of {start} are held")
    return GroundwaterRun(head_values(result))


def spinup_periods(recharge_mm_d: np.ndarray, step_days: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Daily recharge (day, nrow, ncol) [mm d-1] as periods of ``step_days`` days (the
    last one shorter): the mean recharge of each period and its length [d], for a
    spin-up over past days where only the end heads are kept (:func:`groundwater_step`).
    The same water enters the model; the heads move in steps of ``step_days``."""
    rch = np.asarray(recharge_mm_d, float)
    n = rch.shape[0]
    starts = np.arange(0, n, max(int(step_days), 1))
    length = np.diff(np.r_[starts, n]).astype(float)
    return np.add.reduceat(rch, starts, axis=0) / length[:, None, None], length


def morning_heads(heads_m: np.ndarray, ends_m: np.ndarray) -> np.ndarray:
    """Heads of each morning of a horizon (time, layer, row, col): today's, then the end
    of each day but the last."""
    return np.concatenate([np.asarray(heads_m)[None], np.asarray(ends_m)[:-1]])


# =========================================================================== forecast


@dataclass(frozen=True)
class Ensemble:
    """The ensemble a forecast starts from (:func:`forecast_ensemble`).

    Attributes
    ----------
    day
        The first forecast day D.
    weather
        Daily weather over (``time`` = D.., ``member``).
    et0_mm
        Its reference ET0 [mm d-1] over (``time``, ``member``).
    dr0_mm
        Initial depletion per member [mm] over (``site``, ``member``).
    seed
        Seed of the day's draws (:func:`day_seed`).
    warnings
        E.g. a forecast shorter than the horizon.
    """

    day: np.datetime64
    weather: xr.Dataset
    et0_mm: xr.DataArray
    dr0_mm: xr.DataArray
    seed: int
    warnings: tuple[str, ...] = ()

    @property
    def info(self) -> dict:
        """Facts for the run record."""
        return {"members": self.weather.sizes["member"],
                "horizon_days": self.weather.sizes["time"], "ensemble_seed": self.seed}


def forecast_ensemble(pm: PlanningModel, state: SoilState, weather: xr.Dataset, *,
                      et0_mm: xr.DataArray | None = None) -> Ensemble:
    """Ensemble weather and initial depletion of the forecast from ``state.day``.

    1. The forecast's members, or members generated around a deterministic forecast
       (:func:`irrigation.weather.ensemble_from_deterministic`, ``run.members``) with the
       day's seed; their ET0.
    2. Initial depletion per member: the analysis plus N(0, var) (member 0 unperturbed),
       kept in [0, TAW], so the members carry the state's uncertainty (initial ensemble
       drawn from the analysis error variance, as in the EnKF: Evensen 2003, Ocean
       Dynamics 53, 343-367; diagonal here, since the analysis keeps only ``var_mm2``).

    ``et0_mm``: the ET0 of ``weather`` when the caller has it (an ensemble forecast
    shared by several planners); computed otherwise.
    """
    cfg = pm.city.config
    seed = day_seed(cfg.run.seed, state.day)
    fc = weather
    if "member" not in fc.dims:
        fc = ensemble_from_deterministic(fc, cfg.run.members, seed=seed)
    horizon = fc.sizes["time"]
    warnings = ()
    if horizon < cfg.run.horizon_days:
        warnings = (f"the forecast covers {horizon} of the {cfg.run.horizon_days} days of "
                    "the horizon",)
    rng = np.random.default_rng(seed + 1)
    z = rng.standard_normal((pm.city.sites.sizes["site"], fc.sizes["member"]))
    z[:, 0] = 0.0
    dr0 = np.clip(state.dr_mm.values[:, None] + np.sqrt(state.var_mm2.values)[:, None] * z,
                  0.0, pm.taw_mm.values[:, None])
    dr0 = xr.DataArray(dr0, dims=("site", "member"), coords=index_coords(pm.city.sites))
    e0 = reference_et0(pm, fc) if et0_mm is None or "member" not in weather.dims else et0_mm
    return Ensemble(state.day, fc, e0, dr0, seed, warnings)


def _blocks(n: int) -> list[slice]:
    return [slice(i, i + SITE_BLOCK) for i in range(0, n, SITE_BLOCK)]


def _soil(pm: PlanningModel, ens: Ensemble, dtw_m: np.ndarray, b: slice,
          days: int | None = None) -> dict[str, np.ndarray]:
    """The ensemble's soil balance for the sites of block ``b`` (time, site, member),
    without the fluxes it takes as given (:func:`~irrigation.soil.balance`'s ``fluxes``);
    ``dtw_m`` the depth to water [m] over (time or 1, site); ``days``: only the first
    days of the ensemble (each day depends on the days before only)."""
    t = slice(None, days)
    return balance(pm.soil.take(b),
                   ens.et0_mm.variable.transpose("time", "member").values[t, None],
                   ens.weather.variables["precip_mm"].transpose("time", "member").values[
                       t, None],
                   depth_to_water_m=dtw_m[t, b, None],
                   initial_depletion_mm=ens.dr0_mm.values[b], fluxes=False)


def forecast_percolation(pm: PlanningModel, ens: Ensemble, dtw_m: xr.DataArray) -> np.ndarray:
    """Member-mean deep percolation of the ensemble without watering [mm d-1]
    (time, site), with the depth to water ``dtw_m`` [m] over ``site`` held: the recharge
    the groundwater forecast gets (:meth:`PlanningModel.recharge_mm_d`)."""
    n = pm.city.sites.sizes["site"]
    dtw = (dtw_m.transpose("time", "site").values if "time" in dtw_m.dims
           else dtw_m.values[None])
    return np.concatenate([_soil(pm, ens, dtw, b)["deep_percolation_mm"].mean(axis=-1)
                           for b in _blocks(n)], axis=1)


class _Tension(BackendArray):
    """Root-zone tension [kPa] of a depletion array ``dr`` [mm] over (time, site,
    member), computed elementwise for the part read (:func:`forecast`'s lazy
    ``tension_kpa``): ``h`` the sites' hydraulics (``theta_fc`` and the van Genuchten
    parameters), ``zr`` their root depth [m]."""

    def __init__(self, dr: np.ndarray, h: dict[str, np.ndarray], zr: np.ndarray) -> None:
        self.dr, self.zr = dr, zr
        self.h = {k: h[k] for k in ("theta_fc", *_VG)}
        self.shape, self.dtype = dr.shape, np.dtype(float)

    def __getitem__(self, key: indexing.ExplicitIndexer) -> np.ndarray:
        return indexing.explicit_indexing_adapter(
            key, self.shape, indexing.IndexingSupport.OUTER, self._outer)

    def _outer(self, key: tuple) -> np.ndarray:
        keys = [np.arange(n)[k] if isinstance(k, slice) else np.atleast_1d(k)
                for k, n in zip(key, self.shape, strict=True)]
        t, sites, m = keys
        out = depletion_tension_kpa(self.dr[np.ix_(t, sites, m)],
                                    {k: v[sites, None] for k, v in self.h.items()},
                                    self.zr[sites, None])
        drop = tuple(i for i, k in enumerate(key) if np.ndim(k) == 0
                     and not isinstance(k, slice))
        return out.squeeze(axis=drop) if drop else out


def forecast(pm: PlanningModel, ens: Ensemble, heads_m: np.ndarray, *,
             decide_only: bool = False) -> xr.Dataset:
    """Soil forecast of every site and member without watering.

    Parameters
    ----------
    ens
        The ensemble (:func:`forecast_ensemble`).
    heads_m
        Heads of each morning of the horizon [m] (time, layer, row, col), e.g.
        :func:`morning_heads` of a groundwater forecast; or (layer, row, col): today's
        heads held over the horizon.
    decide_only
        Only what :func:`decide_day` reads: ``dr_mm`` and ``threshold_mm`` over the
        coordinates ``time``, ``site`` and ``member`` (a planner without a report).

    Returns
    -------
    xr.Dataset
        Over (``time`` = mornings D..D+H-1, ``site``, ``member``): ``dr_mm`` and
        ``tension_kpa`` (lazy, see Notes); ``depth_to_water_m`` over (``time``,
        ``site``); ``precip_mm`` and ``et0_mm``; per site ``taw_mm``,
        ``threshold_mm``, ``threshold_kpa``, ``raw_kpa``, ``young_tree_kpa`` and the
        ``threshold_rule`` applied (RAW or the young-tree tension,
        :func:`irrigation.decide.site_thresholds`); coords ``x``, ``y``, ``kind``,
        ``priority``, ``soil_texture``, ``planting_year``.

    Notes
    -----
    The soil passes run over blocks of :data:`SITE_BLOCK` sites (independent columns),
    which bounds their memory; the results are those of one pass over all sites.
    ``tension_kpa`` is lazy (:class:`_Tension`): computed from ``dr_mm`` for what is
    read of it (the report reads a few sites, and this morning of every site), not held
    for every site, day and member (0.8 GB in the large city).
    """
    cfg = pm.city.config
    s = pm.city.sites
    n_sites = s.sizes["site"]
    fc = ens.weather
    horizon, n_mem = fc.sizes["time"], fc.sizes["member"]
    dtw_all = pm.depth_to_water_m(heads_m)
    dtw = dtw_all.variable.transpose("time", "site").values
    if np.ndim(heads_m) == 3:  # held over the horizon
        dtw = dtw[np.zeros(horizon, int)]
    dr = np.empty((horizon, n_sites, n_mem))
    dr[0] = ens.dr0_mm.values
    raw = np.empty(n_sites)
    h = {k: np.asarray(v, float) for k, v in pm.hydraulics.items()}
    zr = s.variables["root_depth_m"].values.astype(float)
    for b in _blocks(n_sites):  # the mornings D+1.. are the ends of days D..D+H-2
        sim = _soil(pm, ens, dtw, b, days=max(horizon - 1, 1))
        dr[1:, b] = sim["dr_mm"][:horizon - 1]
        raw[b] = np.median(sim["raw_mm"][0], axis=-1)
    thr = site_threshold_arrays(s, raw, pm.hydraulics, int(str(ens.day)[:4]), cfg.decide)
    dims = ("time", "site", "member")
    if decide_only:
        return xr.Dataset(
            {"dr_mm": (dims, dr, {"units": "mm"}),
             "threshold_mm": ("site", thr["threshold_mm"], dict(THRESHOLD_ATTRS["threshold_mm"]))},
            coords=dim_coords(index_coords(s), time=fc["time"].values,
                              member=fc["member"].values))
    tension = xr.Variable(dims, indexing.LazilyIndexedArray(_Tension(dr, h, zr)),
                          {"units": "kPa"})
    # one Dataset of variables and one set of coordinates (no alignment of DataArrays)
    return xr.Dataset(
        {"dr_mm": (dims, dr, {"units": "mm"}),
         "tension_kpa": tension,
         "depth_to_water_m": (("time", "site"), dtw, {**dtw_all.attrs, "units": "m"}),
         "precip_mm": (fc["precip_mm"].dims, fc["precip_mm"].values, {"units": "mm d-1"}),
         "et0_mm": ens.et0_mm.variable,
         "taw_mm": pm.taw_mm.variable,
         **{k: ("site", thr[k], dict(THRESHOLD_ATTRS[k]))
            for k in ("threshold_mm", "threshold_kpa", "raw_kpa", "young_tree_kpa")},
         "threshold_rule": ("site", thr["rule"], dict(THRESHOLD_ATTRS["rule"]))},
        coords=_forecast_coords(s, fc["time"].values, fc["member"].values))


def _forecast_coords(s: xr.Dataset, time: np.ndarray, member: np.ndarray
                     ) -> xr.Coordinates | dict:
    """The coordinates of :func:`forecast`: ``time``, ``site`` and ``member`` with their
    indexes (the sites' own, :func:`irrigation.coords.index_coords`), the sites' ``x``,
    ``y``, ``kind``, ``priority``, ``soil_texture`` and ``planting_year``."""
    more = {"x": ("site", s.x.values), "y": ("site", s.y.values),
            **{k: _bare(s, k) for k in ("kind", "priority", "soil_texture",
                                        "planting_year")}}
    dims = dim_coords(index_coords(s), time=time, member=member)
    if isinstance(dims, dict):
        return {"time": dims["time"], "site": dims["site"], "member": dims["member"], **more}
    v = dims.variables
    return xr.Coordinates(
        {"time": v["time"], "site": v["site"], "member": v["member"],
         **{k: c if isinstance(c, xr.Variable) else xr.Variable(*c) for k, c in more.items()}},
        indexes=dict(dims.xindexes))


def _bare(ds: xr.Dataset, name: str) -> xr.Variable | tuple:
    """``ds``'s variable ``name`` over ``site`` as a new dataset's coordinate without its
    attributes: the variable itself when it has none (its values are not converted
    again: xarray checks an object array's values each time, ~1 ms for 1,000 sites)."""
    v = ds.variables[name]
    if v.dims == ("site",) and not v.attrs and not v.encoding:
        return v
    return ("site", v.values)


# =========================================================================== decide, route


@dataclass(frozen=True)
class Decision:
    """:func:`decide_day`'s result.

    Attributes
    ----------
    demand
        Demand of every site (:func:`irrigation.decide.demand`).
    visits
        The visits offered to the trucks today (:func:`irrigation.decide.todays_candidates`:
        the due sites, ``reason`` "due", and those to pull forward where cheap, "pulled
        forward"); :func:`route_day` decides which are served.
    deferred
        Due sites not offered to the trucks (not routable, water cap), with x, y [m].
    fixed
        Today's runs of the fixed systems (:func:`irrigation.decide.fixed_system_plan`).
    """

    demand: xr.Dataset
    visits: pd.DataFrame
    deferred: pd.DataFrame
    fixed: pd.DataFrame


def decide_day(pm: PlanningModel, day: np.datetime64, fc: xr.Dataset,
               watering_l: xr.DataArray | None = None) -> Decision:
    """Demand of every site, the fixed systems' runs and the visits offered to the trucks
    (the routes decide which are served, :func:`route_day`). ``watering_l`` (water given
    [L] over ``time``, ``site``, e.g. the watering log) keeps sites watered within
    ``[decide] rest_days`` from being pulled forward (:func:`irrigation.decide.resting_sites`)."""
    cfg = pm.city.config
    s = pm.city.sites
    dem = demand(fc["dr_mm"], fc["threshold_mm"], s, cfg.decide)  # coords: its site only
    resting = None if watering_l is None else resting_sites(watering_l, day, cfg.decide)
    zone = pm.fixed_system_zone
    visits, deferred = todays_candidates(dem, s, cfg.fleet, day, cfg.decide, resting,
                                         zone=zone)
    return Decision(dem, visits, _with_xy(deferred, s),
                    fixed_system_plan(dem, s, cfg.decide, zone=zone))


def _with_xy(deferred: pd.DataFrame, sites: xr.Dataset) -> pd.DataFrame:
    """``deferred`` with the x, y [m] of its sites (NaN: unknown), as ``deferred.join``
    of the sites' x, y on ``site``, by the sites' index."""
    at = sites.indexes["site"].get_indexer(deferred["site"])
    v = sites.variables
    return deferred.assign(**{k: np.where(at >= 0, v[k].values.astype(float)[at], np.nan)
                              for k in ("x", "y")})


@dataclass(frozen=True)
class Routed:
    """:func:`route_day`'s result: the plan, the routing problem solved (None when
    nothing was offered) and facts for the run record."""

    plan: Plan
    problem: RoutingProblem | None
    info: dict = field(default_factory=dict)


def route_day(pm: PlanningModel, day: np.datetime64, visits: pd.DataFrame,
              deferred: pd.DataFrame, fixed: pd.DataFrame | None = None) -> Routed:
    """Route the visits offered today with PyVRP under the city's ``[routing]`` limits and
    seed, and make the plan.

    Every visit is optional, a due one with a prize above what it can cost, scaled by its
    ``urgency`` (when absent: :func:`irrigation.decide.urgency_weight` of ``priority``
    and ``due_day`` less 1), so the routes carry as much as the shifts allow, the most
    urgent first; a due visit left out is deferred with the reason the routes give
    (:func:`irrigation.plan.make_plan`). Visits with ``reason`` "pulled forward" are
    routed in a second search only when the first served every due visit: then they are
    worth a detour of ``2 * pull_forward_radius_m`` each (``max_detour_m``), and the
    second routes are kept when they serve every due visit too (else the first). A
    pulled-forward site therefore never takes a due site's place. ``fixed`` (the fixed
    systems' runs) is carried into the plan.
    """
    cfg = pm.city.config
    rules = cfg.decide
    if len(visits) == 0:
        return Routed(empty_plan(str(day), cfg.fleet, deferred, fixed), None,
                      {"routing_seed": cfg.run.seed})
    pulled = (visits["reason"] == "pulled forward").to_numpy() if "reason" in visits \
        else np.zeros(len(visits), bool)
    due_day = visits["due_day"] if "due_day" in visits else 0.0
    urgency = (visits["urgency"].to_numpy(float) if "urgency" in visits else
               urgency_weight(visits["priority"], np.broadcast_to(due_day, len(visits)),
                              rules) - 1.0)
    detour = np.where(pulled, 2.0 * rules.pull_forward_radius_m, np.nan)
    v = visits.assign(urgency=np.where(pulled, 0.0, urgency), max_detour_m=detour)
    v, pulled, beyond = _within_fleet_day(v, pulled, cfg.fleet, cfg.routing.offer_factor)
    if len(beyond):
        late = deferred_table(beyond, day, "fleet day", DEFERRAL_REASONS["fleet day"]).assign(
            x=beyond["x"].to_numpy(float), y=beyond["y"].to_numpy(float))
        deferred = pd.concat([deferred, late], ignore_index=True) if len(deferred) else late
    problem, sol = _route(pm, v[~pulled] if pulled.any() and (~pulled).any() else v)
    passes = 1
    if pulled.any() and (~pulled).any() and len(sol.unserved) == 0:
        problem2, sol2 = _route(pm, v)
        passes = 2
        due2 = ~np.isin(problem2.client_id, v.loc[pulled, "site"].to_numpy())
        if not np.isin(np.flatnonzero(due2), sol2.unserved).any():
            problem, sol = problem2, sol2
    info = {"routing_seed": cfg.run.seed, "routing_runtime_s": round(sol.runtime_s, 2),
            "routing_feasible": bool(sol.feasible), "routing_iterations": sol.iterations,
            "routing_passes": passes, "routing_cut_by_time": bool(sol.cut_by_time),
            **search_summary(sol)}
    if sol.cut_by_time:
        limit = cfg.routing.iteration_limit
        info["routing_reproducible"] = (
            f"no: the time limit ({cfg.routing.time_limit_s:g} s) stopped the search after "
            f"{sol.iterations} of {limit} iterations" if limit else
            f"no: the time limit ({cfg.routing.time_limit_s:g} s) alone stops the search")
    return Routed(make_plan(str(day), problem, sol, visits, deferred, fixed), problem, info)


def _within_fleet_day(visits: pd.DataFrame, pulled: np.ndarray, fleet, factor: float
                      ) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    """The visits to offer the routes (the due ones within :func:`irrigation.routing.
    offer_count` by urgency, stable, and every pulled-forward one), their ``pulled`` flags,
    and the due visits beyond the fleet's day."""
    due = np.flatnonzero(~pulled)
    due = due[np.argsort(-visits["urgency"].to_numpy(float)[due], kind="stable")]
    n = offer_count(visits["litres"].to_numpy(float)[due], fleet, factor)
    if n == due.size:
        return visits, pulled, visits.iloc[:0]
    keep = np.ones(len(visits), bool)
    keep[due[n:]] = False
    return visits[keep], pulled[keep], visits.iloc[np.sort(due[n:])]


def _route(pm: PlanningModel, visits: pd.DataFrame) -> tuple[RoutingProblem, RoutingSolution]:
    """One routing problem of ``visits`` and its PyVRP solution (the city's settings)."""
    city, cfg = pm.city, pm.city.config
    problem = build_problem(visits, city.refill_points, cfg.fleet, city.streets,
                            cfg.network.detour_factor, cfg.routing)
    return problem, solve(problem, cfg.routing.time_limit_s, seed=cfg.run.seed,
                          max_iterations=cfg.routing.iteration_limit,
                          num_neighbours=cfg.routing.num_neighbours)


# =========================================================================== the day


@dataclass
class DayRun:
    """Everything a daily run computed for day ``date``
    (:func:`irrigation.pipeline.run_day`).

    Attributes
    ----------
    date
        The planning day D.
    state
        State at the morning of D (:meth:`SoilState.to_dataset`): ``dr_mm`` and
        ``var_mm2`` over ``site`` (after the sensor analysis), ``heads_m`` over
        (``layer``, ``row``, ``col``).
    forecast
        :func:`forecast` of the day.
    demand
        :func:`irrigation.decide.demand` of every site.
    visits, deferred
        Today's visits and the deferred sites (:func:`decide_day`).
    plan
        The routed plan (:class:`irrigation.plan.Plan`).
    problem
        The routing problem solved (None when nothing was due).
    qc
        QC summary per channel of the last days the report lists (None without sensor
        data).
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
