"""The sensor hindcast: replay a season with and without assimilation, score held-out probes.

A validation driver beside the daily run: it composes the same steps of
:mod:`irrigation.day` (:func:`~irrigation.day.observe`, :func:`~irrigation.day.assimilate`,
:func:`~irrigation.day.advance`) over a past season. :func:`hindcast` is the replay on
values; :func:`sensor_hindcast` reads a city's observations and runs it
(``irrigation sensors hindcast``).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from .city import City
from .day import (
    PlanningModel,
    SensorObservations,
    SoilState,
    advance,
    assimilate,
    observe,
    reference_et0,
    steady_heads,
)
from .errors import InputError
from .io.city import load_groundwater
from .io.observations import Observed, read_observed
from .io.soil_tables import read_soil_textures
from .sensors import channel_theta, layer_weights, probe_hydraulics, window_means
from .soil import simulate_sites, theta_from_depletion, van_genuchten_tension_kpa

log = logging.getLogger(__name__)

_VG = ("theta_r", "theta_s", "alpha_per_cm", "n")


def _member(state: SoilState, m: int) -> SoilState:
    return dataclasses.replace(state, dr_mm=state.dr_mm.isel(member=m, drop=True),
                               var_mm2=state.var_mm2.isel(member=m, drop=True))


def hindcast(
    pm: PlanningModel,
    obs: SensorObservations,
    et0_mm: xr.DataArray,
    precip_mm: xr.DataArray,
    *,
    watering_l: xr.DataArray | None = None,
    depth_to_water_m: xr.DataArray | None = None,
    lead_days: int = 3,
    holdout: Sequence[Sequence[str]] | None = None,
) -> xr.Dataset:
    """Replay a season with and without assimilation; score the held-out probes.

    Every day D of ``et0_mm`` (from field capacity on the first day): the analysis at the
    start of D assimilates the observations of all probes except the held-out group
    (:func:`irrigation.day.assimilate`), the model runs ``lead_days`` ahead with the
    observed weather (a perfect forecast), and the predicted root-zone tension is compared
    with what the held-out probes read at the start of D + ``lead_days``; then the state
    advances by D (:func:`irrigation.day.advance`). The open loop (no assimilation) runs
    alongside.

    Parameters
    ----------
    pm
        The planning model.
    obs
        The season's observations (:func:`irrigation.day.observe` over the days of
        ``et0_mm``).
    et0_mm, precip_mm
        Observed weather [mm d-1] over ``time``.
    watering_l
        Executed watering [L] over (``time``, ``site``).
    depth_to_water_m
        Water table depth [m] over ``site``.
    lead_days
        Forecast lead scored [d].
    holdout
        Groups of probe ids; each group is held out in its own run (a member of the
        replay). Default: 4 groups, every 4th probe.

    Returns
    -------
    xr.Dataset
        Over (``run`` = open_loop/assimilated, ``sensor``, ``depth``, ``time``):
        predicted root-zone ``tension_pred_kpa`` and ``theta_pred``; observed
        ``tension_obs_kpa`` and ``theta_obs`` per channel and ``rz_tension_obs_kpa`` of
        the layer-weighted root zone; per run ``rmse_tension_kpa``, ``bias_tension_kpa``
        (over the tension channels), ``rmse_theta`` (over all channels) and ``n_scored``
        (channel-days of either kind) over the held-out channels within the root zone,
        and ``rmse_rz_tension_kpa`` over the held-out tension probes. Predicted tension
        is capped at the top of the tension sensors' range (``qc.tension_range_kpa``), as
        the sensor would read it.
    """
    city = pm.city
    sensors, sites = city.sensors, city.sites
    probes = sensors["sensor"].values
    if holdout is None:
        holdout = [list(probes[i::4]) for i in range(min(4, len(probes)))]
    days = et0_mm["time"].values.astype("datetime64[D]")
    n_days = days.size
    site_ids = sites["site"].values
    hyd_p = probe_hydraulics(sensors, sites, pm.textures)
    psite = pd.Index(site_ids).get_indexer(sensors["site"].values)
    n_m = 1 + len(holdout)
    sigma0 = (city.config.assimilation.sigma_b0_frac * pm.taw_mm.values) ** 2
    state = SoilState(
        days[0] if n_days else np.datetime64("NaT", "D"),
        xr.DataArray(np.zeros((site_ids.size, n_m)), dims=("site", "member"),
                     coords={"site": site_ids}),
        xr.DataArray(np.tile(sigma0[:, None], (1, n_m)), dims=("site", "member"),
                     coords={"site": site_ids}),
        np.zeros((0, 0, 0)))
    pred = np.full((n_m, probes.size, n_days), np.nan)
    group = np.full(probes.size, -1)
    for g, ids in enumerate(holdout):
        group[pd.Index(probes).get_indexer(list(ids))] = g
    for k in range(n_days):
        dr, var = state.dr_mm.values.copy(), state.var_mm2.values.copy()
        for m in range(1, n_m):
            use = obs.daily.isel(time=k).where(xr.DataArray(group != m - 1, dims="sensor"))
            one, _ = assimilate(pm, _member(state, m), use, obs.rho)
            dr[:, m], var[:, m] = one.dr_mm.values, one.var_mm2.values
        state = dataclasses.replace(state, dr_mm=state.dr_mm.copy(data=dr),
                                    var_mm2=state.var_mm2.copy(data=var))
        if k + lead_days < n_days:
            sl = slice(k, k + lead_days)
            sim = simulate_sites(
                sites, et0_mm.isel(time=sl).expand_dims(member=n_m, axis=-1),
                precip_mm.isel(time=sl), textures=pm.textures, species=pm.species,
                irrigation_l=None if watering_l is None else watering_l.isel(time=sl),
                depth_to_water_m=depth_to_water_m, initial_depletion_mm=state.dr_mm,
                derived=False)
            pred[:, :, k + lead_days] = sim["dr_mm"].values[-1][psite].T
        day = slice(k, k + 1)
        state, _ = advance(pm, state, et0_mm.isel(time=day), precip_mm.isel(time=day),
                           None if watering_l is None else watering_l.isel(time=day),
                           depth_to_water_m)
    return _score(pm, obs, pred, group, days, len(holdout), lead_days, hyd_p)


def _score(pm: PlanningModel, obs: SensorObservations, pred: np.ndarray, group: np.ndarray,
           days: np.ndarray, n_groups: int, lead_days: int, hyd_p: xr.Dataset) -> xr.Dataset:
    """Predicted θ and tension (uniform root zone) at the probes against the readings."""
    qc = obs.readings
    probes = pm.city.sensors["sensor"].values
    n_days = days.size
    tension_max_kpa = pm.city.config.qc.tension_range_kpa[1]
    zr_p = hyd_p["root_depth_m"].values
    theta_pred = theta_from_depletion(pred, hyd_p["theta_fc"].values[None, :, None],
                                      zr_p[None, :, None])
    vg = [hyd_p[k].values[None, :, None] for k in _VG]
    tens_pred = np.minimum(van_genuchten_tension_kpa(theta_pred, *vg), tension_max_kpa)
    # held-out only: member m scores the probes of group m-1; the open loop all of them
    w = layer_weights(qc["depth"].values, zr_p) > 0  # (sensor, depth)
    # censored readings (pinned at the ceiling) are scored at the ceiling, like the
    # predictions
    means = window_means(qc, days, pm.city.config.assimilation.window_hours, censored=True)
    obs_t = means.where(qc["quantity"] == "tension").transpose("sensor", "depth", "time").values
    rz_obs = np.minimum(van_genuchten_tension_kpa(
        obs.daily["theta_obs"].transpose("sensor", "time").values, *(v[0] for v in vg)),
        tension_max_kpa)
    obs_th = channel_theta(means, qc["quantity"], hyd_p).transpose(
        "sensor", "depth", "time").values
    runs = ["open_loop", "assimilated"]
    tp = np.full((2, probes.size, n_days), np.nan)
    thp = np.full((2, probes.size, n_days), np.nan)
    tp[0], thp[0] = tens_pred[0], theta_pred[0]
    for g in range(n_groups):
        sel = group == g
        tp[1, sel], thp[1, sel] = tens_pred[g + 1, sel], theta_pred[g + 1, sel]
    scored = (group >= 0)[:, None] & w
    ds = xr.Dataset(
        {
            "tension_pred_kpa": (("run", "sensor", "time"), tp, {"units": "kPa"}),
            "theta_pred": (("run", "sensor", "time"), thp, {"units": "m3 m-3"}),
            "tension_obs_kpa": (("sensor", "depth", "time"), obs_t, {"units": "kPa"}),
            "theta_obs": (("sensor", "depth", "time"), obs_th, {"units": "m3 m-3"}),
            "rz_tension_obs_kpa": (("sensor", "time"), rz_obs, {"units": "kPa"}),
            "scored": (("sensor", "depth"), scored),
        },
        coords={"run": runs, "sensor": probes, "depth": qc["depth"].values,
                "time": days.astype("datetime64[ns]")},
    )
    ds.attrs.update(lead_days=lead_days, n_groups=n_groups)
    err_t = ds["tension_pred_kpa"] - ds["tension_obs_kpa"]
    err_th = ds["theta_pred"] - ds["theta_obs"]
    sc = ds["scored"]
    ds["rmse_tension_kpa"] = np.sqrt((err_t**2).where(sc).mean(("sensor", "depth", "time")))
    ds["bias_tension_kpa"] = err_t.where(sc).mean(("sensor", "depth", "time"))
    ds["rmse_theta"] = np.sqrt((err_th**2).where(sc).mean(("sensor", "depth", "time")))
    # channel-days scored, tension or water-content channels alike
    ds["n_scored"] = ((np.isfinite(err_t) | np.isfinite(err_th)) & sc).sum(
        ("sensor", "depth", "time"))
    err_rz = ds["tension_pred_kpa"] - ds["rz_tension_obs_kpa"]
    rz_sc = xr.DataArray(group >= 0, dims="sensor") & (qc["quantity"] == "tension")
    ds["rmse_rz_tension_kpa"] = np.sqrt((err_rz**2).where(rz_sc).mean(("sensor", "time")))
    return ds


def sensor_hindcast(city: City, start, end, *, lead_days: int = 3, n_folds: int = 4
                    ) -> tuple[xr.Dataset, SensorObservations, Observed]:
    """Replay the city's season [start, end] with and without assimilation
    (:func:`hindcast`), with the groundwater model's steady depth to water.

    Returns the hindcast Dataset, the quality-controlled observations and what was read.

    Raises
    ------
    InputError
        No sensor data, or observed weather that does not cover the days.
    """
    observed = read_observed(city, start, end)
    if observed.readings is None:
        raise InputError("no sensor data to replay (city.toml 'sensor_data')",
                         file=city.path / "city.toml", field="sensor_data")
    pm = PlanningModel.build(city, load_groundwater(city), read_soil_textures(), city.species)
    dtw = pm.depth_to_water_m(steady_heads(pm)).isel(time=0, drop=True)
    e0 = reference_et0(pm, observed.weather)
    log.info("open-loop run of %d sites over %d days", city.sites.sizes["site"],
             e0.sizes["time"])
    days = e0["time"].values.astype("datetime64[D]")
    obs = observe(pm, observed.readings, e0, observed.weather["precip_mm"],
                  observed.watering_l, dtw, days)
    probes = city.sensors["sensor"].values
    folds = [list(probes[i::n_folds]) for i in range(n_folds)]
    log.info("hindcast: %d probes in %d held-out groups, lead %d d", probes.size, n_folds,
             lead_days)
    hc = hindcast(pm, obs, e0, observed.weather["precip_mm"], watering_l=observed.watering_l,
                  depth_to_water_m=dtw, lead_days=lead_days, holdout=folds)
    return hc, obs, observed
