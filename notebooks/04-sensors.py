# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 04 · Soil sensors: quality control, assimilation, held-out skill
#
# The demo city has 44 soil probes in young-tree pits, each with channels at 30, 60 and
# 90 cm: 37 tensiometers (soil water tension, kPa) and 7 volumetric water content probes
# (m³ m⁻³), logging hourly. Before a reading may correct the soil model it must pass quality
# control; then the readings of each morning become an observed root-zone depletion [mm]
# that is spread to all sites by optimal interpolation. This notebook:
#
# 1. reads the demo season's readings;
# 2. makes a season of readings whose faults we *know*: a synthetic "truth" world
#    (`irrigation.truth`) measured by the city's probes, with faults injected by
#    `irrigation.truth.inject_faults` (stuck loggers, spikes, drift, dropouts, error codes);
# 3. runs the QC, plots the flagged readings and scores them against the injected faults;
# 4. turns readings into observed root-zone depletion and does one morning's analysis;
# 5. replays the season with and without assimilation and scores the 3-day forecast of
#    tension at *held-out* probes (`irrigation.sensor_hindcast`).
#
# Units: tension in kPa, water content in m³ m⁻³, depletion in mm, its variance in mm²,
# times in UTC. It runs in about 25 s; nothing is written to disk.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr

import irrigation
from irrigation import truth
from irrigation.day import reference_et0
from irrigation.io.observations import read_observed
from irrigation.io.soil_tables import read_soil_textures, read_species
from irrigation.sensors import (
    QC_FLAGS,
    analysis,
    daily_observations,
    probe_hydraulics,
    qc_summary,
)
from irrigation.soil import site_water_capacity

t_start = time.perf_counter()
city = irrigation.demo_city()  # the city `irrigation run --demo` plans
textures, species = read_soil_textures(), read_species()
pm = irrigation.PlanningModel.build(
    city, irrigation.load_simulation(city.config.groundwater.sim_dir), textures, species)
SEASON = (np.datetime64("2018-04-01"), np.datetime64("2018-09-30"))
city.sensors

# %% [markdown]
# ## 1 · The demo season's readings
#
# `irrigation.io.observations.read_observed` reads what a city has observed over a period:
# the weather, the crews' watering log and the sensor readings (here the folder `sensor-data/`, long CSV).
# Readings come as a Dataset over (`sensor`, `depth` [cm], `time`) with `value` in kPa or
# m³ m⁻³ according to each probe's `quantity`.

# %%
obs = read_observed(city, *SEASON)
et0_mm = reference_et0(pm, obs.weather)  # FAO-56 Penman-Monteith at the city's station
print(f"{obs.readings.attrs['n_rows_read']:,} readings read, "
      f"{obs.readings.attrs['n_rows_dropped']} dropped, {len(obs.problems)} read problems")
obs.readings

# %%
fig, axes = plt.subplots(2, 1, figsize=(12, 5.5), sharex=True, constrained_layout=True)
for depth in obs.readings.depth.values:
    obs.readings.value.sel(sensor="T001", depth=depth).plot(ax=axes[0], lw=0.7,
                                                             label=f"{depth} cm")
    obs.readings.value.sel(sensor="V040", depth=depth).plot(ax=axes[1], lw=0.7,
                                                             label=f"{depth} cm")
axes[0].set_ylabel("tension [kPa]")
axes[0].set_title("probe T001 (tensiometer), hourly")
axes[1].set_ylabel("water content [m³ m⁻³]")
axes[1].set_title("probe V040 (water content)")
for ax in axes:
    ax.legend(fontsize=8)
    ax.set_xlabel("")
plt.show()

# %% [markdown]
# ## 2 · A season with known faults
#
# To score the QC we need readings whose faults we know. `irrigation.truth` draws a "truth"
# world around the planning model, per site (soil curves of three layers, root depth and
# distribution, landscape coefficient, leaf-out of deciduous trees, run-on from paving,
# watering that only partly reaches the roots, local rain), steps its layered soil with the
# observed weather and the crews' watering from an unknown initial state, and lets the
# city's probes read it in tension space (calibration bias, a floor near saturation, noise,
# integer kPa, pinned at the logger's 239 kPa ceiling; water-content probes with a
# calibration offset). This is how the bundled demo series was made, with another seed.
# Then `inject_faults` spoils a copy and returns one label row per fault.

# %%
heads = irrigation.steady_heads(pm, backend="embedded")  # the model's steady state [m]
dtw = pm.depth_to_water_m(heads).isel(time=0, drop=True)  # [m] per site
rng = np.random.default_rng(2024)
season_days = obs.weather.time.values.astype("datetime64[D]")
world = truth.draw_world(city.sites, textures, species, rng, time=season_days)
_, true_run = truth.run_truth(  # the logged watering taken as delivered, here
    world, world.initial_state(rng), et0_mm.values, obs.weather["precip_mm"].values,
    obs.watering_l.transpose("time", "site").values, dtw.values)
network = truth.draw_probes(world, city.sensors, rng)
clean = truth.sensor_readings(true_run["theta_layers"], network, season_days[0], rng)
faulty, labels = truth.inject_faults(
    clean, rng, counts={"stuck": 4, "spike": 6, "drift": 3, "dropout": 4, "range": 3})
labels.groupby("fault").agg(events=("sensor", "size"), channels=("sensor", "nunique"))

# %% [markdown]
# ## 3 · Quality control
#
# `irrigation.observe` (the daily run's sensor step) runs
# `irrigation.sensors.quality_control` with the city's `[qc]` rules, against an open-loop
# run of the planning model (needed by the drift test) and with the watering and rain
# (needed by the plausibility test). Every reading gets a
# CF bit mask `qc_flags` (gap 1, range 2, stuck 4, spike 8, drift 16, implausible 32,
# censored 64) and `valid`; only valid readings ever reach the model as values. A
# tensiometer pinned at the top of its range (239 kPa) is *censored*, not stuck: it says
# "at least 239 kPa", and the observation operator uses it as a lower bound of depletion.

# %%
checked = irrigation.observe(pm, faulty, et0_mm, obs.weather["precip_mm"], obs.watering_l,
                             dtw, season_days)
qc = checked.readings
open_loop = irrigation.simulate_sites(  # the open loop the drift test compared with
    city.sites, et0_mm, obs.weather["precip_mm"], textures=textures, species=species,
    irrigation_l=obs.watering_l, depth_to_water_m=dtw)
qc

# %% [markdown]
# The per-channel summary the daily report shows (`irrigation.sensors.qc_summary`), channels
# with problems only:

# %%
summary = qc_summary(qc)
summary[summary["problems"] != ""]

# %% [markdown]
# Flagged readings of one channel per fault kind and probe type. Grey: what the logger
# sent; black dashes: what a healthy probe would have read (the clean series); coloured
# dots: flagged readings by flag; shaded: where the fault was injected.

# %%
FLAG_COLORS = {"gap": "k", "range": "tab:red", "stuck": "tab:orange", "spike": "tab:purple",
               "drift": "tab:brown", "implausible": "tab:cyan", "censored": "tab:gray"}
kinds = labels.assign(quantity=qc.quantity.sel(sensor=labels.sensor.values).values)
show = kinds.drop_duplicates(["fault", "quantity"]).reset_index(drop=True)
fig, axes = plt.subplots(len(show), 1, figsize=(12, 2.5 * len(show)), constrained_layout=True)
for ax, row in zip(axes, show.itertuples(), strict=True):
    pad = np.timedelta64(10 if row.fault == "drift" else 2, "D")
    t0 = np.datetime64(row.start) - pad
    t1 = np.datetime64(row.end) + (np.timedelta64(0, "D") if row.fault == "drift" else pad)
    ch = dict(sensor=row.sensor, depth=row.depth_cm, time=slice(t0, t1))
    v, flags = qc.value.sel(ch), qc.qc_flags.sel(ch)
    ax.plot(v.time, v, color="0.6", lw=0.8, label="logged")
    ax.plot(v.time, clean.value.sel(ch), "k--", lw=0.6, label="healthy probe")
    for name, bit in reversed(QC_FLAGS.items()):  # spikes drawn over 'implausible'
        hit = (flags & bit) > 0
        if name == "gap":
            ax.plot(v.time[hit], np.full(int(hit.sum()), float(v.min())), "|", color="k",
                    label="gap")
        elif hit.any():
            ax.plot(v.time[hit], v[hit], ".", ms=4, color=FLAG_COLORS[name], label=name)
    for lab in labels[(labels.sensor == row.sensor)
                      & (labels.depth_cm == row.depth_cm)].itertuples():
        ax.axvspan(lab.start, lab.end + np.timedelta64(1, "h"), color="gold", alpha=0.3, lw=0)
    ax.set_xlim(t0, t1)
    unit = "kPa" if qc.quantity.sel(sensor=row.sensor) == "tension" else "m³ m⁻³"
    ax.set_ylabel(f"{qc.quantity.sel(sensor=row.sensor).item()} [{unit}]")
    ax.set_title(f"injected {row.fault}: {row.sensor} at {row.depth_cm} cm", fontsize=10)
    ax.legend(fontsize=7, ncols=4, loc="upper left")
plt.show()

# %% [markdown]
# How well does the QC find what was injected? Per fault: *found* when at least one reading
# inside the fault's window is flagged, and the share of its readings that are flagged.
# Stuck loggers, spikes, dropouts and error codes are found completely. Drift is the hard
# one: the drift test compares, in water content, each channel's deviation from the model
# with its own median of the preceding weeks and needs `qc.drift_theta` (0.05 m³ m⁻³) for
# `qc.drift_days` days. A water content probe losing 0.004 m³ m⁻³ a day gets there; a
# tensiometer creeping 1.5-3 kPa a day into the dry range changes θ much less, so in the
# plot above it is only caught indirectly (waterings that do not wet it); once it reaches
# the top of its range it reads as censored, which no test can tell from a dry soil —
# keep an eye on the tension drift in the daily report's QC table.
#
# The readings flagged *outside* any injected fault are printed first: the informative
# `censored` flag (healthy tensiometers pinned at 239 kPa in the drought) is counted apart
# from the fault flags; among those, mostly waterings that did not wet the top channel
# (a logged watering the pit did not get, or too little to wet a dry 30 cm layer).

# %%
def scores(qc: xr.Dataset, labels: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for lab in labels.itertuples():
        f = qc.qc_flags.sel(sensor=lab.sensor, depth=lab.depth_cm,
                            time=slice(lab.start, lab.end)).values
        f = f & ~np.uint8(QC_FLAGS["censored"])  # information, not a detection
        rows.append({"fault": lab.fault, "found": bool((f > 0).any()),
                     "flagged_share": float((f > 0).mean())})
    return pd.DataFrame(rows).groupby("fault").agg(
        events=("found", "size"), found=("found", "sum"),
        flagged_share_median=("flagged_share", "median"))


injected = xr.zeros_like(qc.qc_flags, dtype=bool)
for lab in labels.itertuples():
    injected.loc[dict(sensor=lab.sensor, depth=lab.depth_cm,
                      time=slice(lab.start, lab.end))] = True
logged = np.isfinite(qc.value)
false_flags = {name: int((((qc.qc_flags & bit) > 0) & ~injected & logged).sum())
               for name, bit in QC_FLAGS.items() if name != "censored"}
n_clean = int((logged & ~injected).sum())
print(f"readings flagged outside injected faults: {sum(false_flags.values()):,} of "
      f"{n_clean:,} ({100 * sum(false_flags.values()) / n_clean:.2f} %), by flag:",
      false_flags)
censored = ((qc.qc_flags & QC_FLAGS["censored"]) > 0) & ~injected
print(f"censored (pinned at 239 kPa), not a fault: {int(censored.sum()):,} readings")
scores(qc, labels)

# %% [markdown]
# ## 4 · From readings to root-zone depletion
#
# Each morning D (UTC midnight), the valid readings of the 6 hours before are averaged per
# channel (`window_means`); tension becomes water content through the van Genuchten curve of
# the site's soil; the channels are weighted over the root zone and give the observed
# depletion `dr_obs_mm` = 1000 Zr (θFC - θ) [mm] with an error variance `var_obs_mm2`
# [mm²] (`root_zone_depletion`). A channel below the roots gets no weight. A channel whose
# window holds censored readings (pinned at 239 kPa) enters with the window's mean, the
# pinned ones at 239 (`window_bounds`): a lower bound of its tension, so `dr_obs_mm` is a
# lower bound of depletion (`censored`), which the analysis uses one-sidedly.
# `daily_observations` chains these steps.

# %%
rules = city.config.assimilation
days = np.arange(SEASON[0], SEASON[1] + 1)
hyd = probe_hydraulics(city.sensors, city.sites, textures)
obs_dr = daily_observations(qc, days, city.sensors, hyd, rules)
print(f"{int(obs_dr.censored.sum())} probe-mornings are lower bounds (a censored channel)")
obs_dr

# %%
probe = "T010"
site = str(obs_dr.site.sel(sensor=probe).item())
err = np.sqrt(obs_dr.var_obs_mm2.sel(sensor=probe))
fig, ax = plt.subplots(figsize=(12, 3.8))
ax.fill_between(obs_dr.time, obs_dr.dr_obs_mm.sel(sensor=probe) - err,
                obs_dr.dr_obs_mm.sel(sensor=probe) + err, alpha=0.3, color="tab:blue",
                lw=0, label="observed ± 1 sd")
obs_dr.dr_obs_mm.sel(sensor=probe).plot(ax=ax, color="tab:blue", label="observed (sensor)")
open_loop.dr_mm.sel(site=site).isel(member=0).plot(ax=ax, color="tab:orange",
                                                    label="model, open loop")
ax.axhline(float(open_loop.taw_mm.sel(site=site).isel(time=0, member=0)), color="k", ls=":",
           label="total available water")
ax.set_ylabel("root-zone depletion [mm]")
ax.set_title(f"probe {probe} at site {site}: what the sensor says vs. the model without it")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## 5 · One morning's analysis
#
# Optimal interpolation (`irrigation.sensors.analysis`): the background is the model's
# depletion (here the open loop on the morning of 15 July, with the largest background
# error the daily run allows, σ = `sigma_b_max_frac` × TAW), the observations are the
# probes' `dr_obs_mm`. The increment spreads from each probe to the other sites with a
# correlation that decays with distance (`length_scale_m`, 2 km) and with dissimilarity of
# soil, species, age and kind; sites of another kind (lawns, beds, old trees) are not
# corrected by tree probes. The analysis error variance shows where the sensors inform.

# %%
D = np.datetime64("2018-07-15")
_, taw = site_water_capacity(city.sites, textures)
background = open_loop.dr_mm.sel(time=D - 1).isel(member=0, drop=True).drop_vars("time")
var_b = (rules.sigma_b_max_frac * taw) ** 2
an = analysis(background, var_b, obs_dr.sel(time=D), city.sites, taw, rules)
print(f"{an.attrs['n_obs']} probes assimilated on {D}")
an

# %%
fig, axes = plt.subplots(1, 2, figsize=(15, 5), constrained_layout=True)
lim = float(np.abs(an.increment_mm).quantile(0.99))
sc = axes[0].scatter(city.sites.x, city.sites.y, c=an.increment_mm, s=8, cmap="RdBu_r",
                     vmin=-lim, vmax=lim)
fig.colorbar(sc, ax=axes[0], label="analysis increment [mm] (+ drier than the model)")
axes[0].set_title(f"increment of depletion on {D}")
ratio = np.sqrt(an.var_mm2 / var_b)
sc = axes[1].scatter(city.sites.x, city.sites.y, c=ratio, s=8, cmap="viridis", vmin=0, vmax=1)
fig.colorbar(sc, ax=axes[1], label="analysis sd / background sd [-]")
axes[1].set_title("error left after the analysis (1 = sensors say nothing)")
for ax in axes:
    ax.scatter(city.sensors.x, city.sensors.y, marker="o", s=60, facecolor="none",
               edgecolor="k", label="probe")
    ax.set_aspect("equal")
    ax.ticklabel_format(useOffset=False, style="plain")
    ax.set_xlabel("easting [m]")
    ax.set_ylabel("northing [m]")
axes[0].legend(loc="upper left")
plt.show()

# %% [markdown]
# ## 6 · Held-out skill over the season
#
# The real test of assimilation: does it improve the forecast where there is *no* sensor?
# `irrigation.sensor_hindcast` replays the bundled demo season (its own readings and faults,
# `sensor-data/`) day by day from field capacity, with and without assimilation. The probes
# are split into 4 groups; in each run one group is held out, the others are assimilated,
# and every morning the model forecasts 3 days ahead with the observed weather. The
# forecast tension at the held-out probes is compared with what they then read. This is
# the full season with all 44 probes, as the CLI runs it
# (`irrigation sensors hindcast`); nothing was reduced.

# %%
hc, _, _ = irrigation.sensor_hindcast(city, *SEASON, lead_days=3, n_folds=4)
skill = hc[["rmse_tension_kpa", "bias_tension_kpa", "rmse_rz_tension_kpa", "rmse_theta",
            "n_scored"]].to_dataframe()
skill

# %%
probes = [str(p) for p in city.sensors.sensor.values[city.sensors.kind == "tension"]][:4]
fig, axes = plt.subplots(len(probes) + 1, 1, figsize=(12, 2.4 * (len(probes) + 1)),
                         constrained_layout=True)
for ax, p in zip(axes, probes, strict=False):
    ax.plot(hc.time, hc.rz_tension_obs_kpa.sel(sensor=p), "k.", ms=2,
            label="observed (root zone)")
    for run, color in (("open_loop", "tab:orange"), ("assimilated", "tab:blue")):
        ax.plot(hc.time, hc.tension_pred_kpa.sel(run=run, sensor=p), color=color, lw=1,
                label=f"{run.replace('_', ' ')}, 3 days ahead")
    ax.set_yscale("log")
    ax.set_ylabel("tension [kPa]")
    ax.set_title(f"held-out probe {p}", fontsize=10)
axes[0].legend(fontsize=8, ncols=3)
ax = axes[-1]
x = np.arange(hc.sizes["run"])
ax.bar(x - 0.2, hc.rmse_tension_kpa, 0.4, label="per channel")
ax.bar(x + 0.2, hc.rmse_rz_tension_kpa, 0.4, label="root zone")
ax.set_xticks(x, [str(r).replace("_", " ") for r in hc.run.values])
ax.set_ylabel("RMSE [kPa]")
ax.set_title("3-day forecast error at held-out probes, whole season")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# Per held-out tensiometer: the root-zone RMSE of the 3-day forecast with assimilation
# against without it. Points below the diagonal gained from the *other* probes' data; a
# probe whose site the model gets wrong in the same way all season (e.g. a pit with much
# less or much more available water than its soil class says) stays wrong: only its own
# readings would correct it, and the daily run does assimilate those.

# %%
err = hc.tension_pred_kpa - hc.rz_tension_obs_kpa
tensiometers = city.sensors.sensor.where(city.sensors.kind == "tension", drop=True).values
per_probe = np.sqrt((err**2).mean("time")).sel(sensor=tensiometers)
fig, ax = plt.subplots(figsize=(5.5, 5.5))
ax.scatter(per_probe.sel(run="open_loop"), per_probe.sel(run="assimilated"), s=20)
for p in per_probe.sensor.values:
    ax.annotate(str(p), (float(per_probe.sel(run="open_loop", sensor=p)),
                         float(per_probe.sel(run="assimilated", sensor=p))), fontsize=6)
low, top = float(per_probe.min()) / 1.3, float(per_probe.max()) * 1.3
ax.plot([low, top], [low, top], "k:", lw=0.8)
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlim(low, top)
ax.set_ylim(low, top)
ax.set_aspect("equal")
ax.set_xlabel("RMSE open loop [kPa]")
ax.set_ylabel("RMSE assimilated [kPa]")
ax.set_title("held-out tensiometers, root zone, 3 days ahead")
plt.show()
improved = int((per_probe.sel(run="assimilated") < per_probe.sel(run="open_loop")).sum())
print(f"better with assimilation at {improved} of {per_probe.sizes['sensor']} held-out "
      "tensiometers")

# %%
print(f"notebook ran in {time.perf_counter() - t_start:.1f} s")
