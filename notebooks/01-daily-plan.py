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
# # 01 · One day's watering plan, step by step
#
# `irrigation run --demo` (or `irrigation.run_day(city, day, workspace)` from Python) plans
# one day in eight stages: **inputs → sensors → state → groundwater → forecast → decide →
# routing → write**. This notebook runs the same stages one at a time on the bundled demo
# city for **2 July 2018** (the city's `run.date`, in the 2018 drought) and looks at what
# each stage hands to the next: mostly xarray objects with named dimensions (`site`,
# `sensor`, `time`, `member`, `layer`, `row`, `col`) and units in their attributes.
#
# Units: water depths and depletion in mm, fluxes in mm d⁻¹, tension in kPa, water volumes
# in L, heads and depths to water in m, coordinates in m (EPSG:25832).
#
# The stages call the public steps of the day engine (`irrigation.day`, re-exported as
# `irrigation.observe`, `irrigation.continue_state`, ...), exactly as `irrigation.run_day`
# composes them; each takes values and returns values (no files, no shared lists).
# Everything runs with the city's own settings (20 forecast members,
# routing stopped after 2000 iterations, so the plan is reproducible); no reduction was
# needed to stay within the notebook test's 2-minute budget: it takes about 40 s, most of
# it the spin-up of the soil and groundwater state from 1 April and the routing. Files go
# to a temporary folder, never into the repository.

# %%
import dataclasses
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr
from IPython.display import Image, Markdown, display

import irrigation
from irrigation.io.workspace import Workspace
from irrigation.pipeline import QC_REPORT_DAYS, write_day
from irrigation.plan import served_visits, street_paths
from irrigation.sensors import qc_summary

t_start = time.perf_counter()
DAY = np.datetime64("2018-07-02")
WORKSPACE = Workspace(Path(tempfile.mkdtemp(prefix="irrigation-nb01-")))
print("workspace (temporary):", WORKSPACE.root)

# %% [markdown]
# ## The city
#
# `irrigation.demo_city()` loads the bundled demo city (`irrigation.load_city(folder)` any
# other): it reads and checks `city.toml` and the files it names. Sites, sensors and refill
# points are `xarray.Dataset`s; the street graph is plain arrays.

# %%
city = irrigation.demo_city()
print(city.summary())
city.sites

# %%
KIND_COLORS = {"young_tree": "tab:green", "street_tree": "tab:gray", "park_tree": "tab:brown",
               "lawn": "gold", "shrub_bed": "tab:purple"}


def draw_streets(ax, color="0.8"):
    net = city.streets
    for u, v in zip(net.edge_from, net.edge_to, strict=True):
        ax.plot(net.x[[u, v]], net.y[[u, v]], color=color, lw=0.6, zorder=0)
    ax.set_aspect("equal")
    ax.ticklabel_format(useOffset=False, style="plain")
    ax.set_xlabel("easting [m]")
    ax.set_ylabel("northing [m]")


fig, ax = plt.subplots(figsize=(11, 7))
draw_streets(ax)
for kind, color in KIND_COLORS.items():
    s = city.sites.where(city.sites.kind == kind, drop=True)
    ax.scatter(s.x, s.y, s=6, color=color, label=f"{kind} ({s.sizes['site']})")
rp = city.refill_points
ax.scatter(rp.x, rp.y, marker="^", s=50, color="tab:blue", edgecolor="k", label="hydrant")
depot = city.depot
ax.scatter(depot.x, depot.y, marker="s", s=90, color="k", label="depot")
ax.scatter(city.sensors.x, city.sensors.y, marker="o", s=40, facecolor="none",
           edgecolor="r", label=f"sensor probe ({city.sensors.sizes['sensor']})")
ax.set_title(city.config.name)
ax.legend(loc="upper left", fontsize=8, ncols=2)
plt.show()

# %% [markdown]
# ## Stage 1 · inputs
#
# The forecast is checked first (a bad forecast stops the run before anything is read),
# then the observed weather, the crews' watering log and the sensor readings from the
# season start (`run.season_start`, 1 April) to the day before D, and the latest saved
# state before D (none here: a fresh workspace, so the state is spun up from 1 April).
# The demo city has no archived 2018 forecast; `weather.forecast = "observed"` replays
# the observed weather of D..D+13 as a perfect deterministic forecast. The inputs also
# hold the *planning model* (`inputs.model`, an `irrigation.PlanningModel`): the city, its
# MODFLOW 6 model and the soil hydraulics of every site, which every later step takes.

# %%
inputs = irrigation.read_inputs(city, DAY, WORKSPACE.root)
pm = inputs.model
print("forecast source:", inputs.forecast_source, "| previous state:", inputs.previous)
inputs.forecast

# %% [markdown]
# The observed weather of the season so far (`inputs.observed.weather`, one row per day),
# its FAO-56 Penman-Monteith reference evapotranspiration ET0 [mm d⁻¹] (`inputs.et0_mm`)
# and the watering done [L per site and day] over (`time`, `site`):

# %%
obs = inputs.observed
obs.watering_l

# %%
fig, ax = plt.subplots(figsize=(11, 3.8))
ax.bar(obs.weather.time, obs.weather.precip_mm, color="tab:blue", label="precipitation")
ax.plot(inputs.et0_mm.time, inputs.et0_mm, color="tab:orange", label="ET0 (FAO-56 PM)")
fc_days = inputs.forecast.time
ax.bar(fc_days, inputs.forecast.precip_mm, color="tab:cyan")
ax.plot(fc_days, irrigation.et0(inputs.forecast, latitude_deg=city.config.weather.latitude_deg,
                                elevation_m=city.config.weather.elevation_m),
        color="tab:orange", ls="--", label="ET0 of the forecast")
ax.axvline(DAY, color="k", lw=1)
ax.set_ylabel("mm d⁻¹")
ax2 = ax.twinx()
ax2.plot(obs.watering_l.time, obs.watering_l.sum("site") / 1000, color="tab:green", lw=0.8,
         label="watering done (log)")
ax2.set_ylabel("watering done [m³ d⁻¹]", color="tab:green")
ax.set_title(f"Season {str(obs.weather.time.values[0])[:10]} to D = {DAY}: observed (left of "
             "the line) and forecast weather; crews' watering")
fig.legend(loc="lower center", ncols=4, fontsize=8, bbox_to_anchor=(0.5, -0.08))
plt.show()

# %% [markdown]
# ## Stage 2 · sensors
#
# The hourly readings of 44 probes (channels at 30/60/90 cm, tension in kPa or volumetric
# water content in m³ m⁻³) are quality-controlled against an open-loop run of the soil
# model (flags: gap, range, stuck, spike, drift, implausible; see notebook 04), averaged over
# the 6 hours before each midnight, and turned into an observed root-zone depletion
# `dr_obs_mm` [mm] with an error variance `var_obs_mm2` [mm²], one value per probe and
# morning (`irrigation.observe`; on a first run of the season the open loop has no depth
# to water yet, hence `None`):

# %%
season_start = np.datetime64(city.config.run.season_start, "D")
sensors = irrigation.observe(pm, obs.readings, inputs.et0_mm, obs.weather.precip_mm,
                             obs.watering_l, None, np.arange(season_start, DAY + 1))
sensors.daily

# %% [markdown]
# The QC summary of the last 7 days (what the daily report lists), channels with problems only:

# %%
recent = sensors.readings.time >= DAY - np.timedelta64(QC_REPORT_DAYS, "D")
qc = qc_summary(sensors.readings.sel(time=recent))
qc[qc["problems"] != ""]

# %%
fig, ax = plt.subplots(figsize=(11, 3.5))
for probe in ["T001", "T010", "T020", "V040"]:
    sensors.daily["dr_obs_mm"].sel(sensor=probe).plot(
        ax=ax, label=f"{probe} at site {sensors.daily.site.sel(sensor=probe).item()}")
ax.set_ylabel("observed root-zone depletion [mm]")
ax.set_title("Sensor observations of depletion, one value per morning (0 = field capacity)")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## Stage 3 · state
#
# From field capacity on 1 April, the FAO-56 root-zone balance of every site runs day by
# day with the observed weather and the watering actually done; each morning the sensors
# are assimilated (optimal interpolation, spreading to unsensed sites of similar soil,
# species and age nearby). The result is the depletion `dr_mm` [mm] at the morning of D and
# its error variance `var_mm2` [mm²] per site (an `irrigation.SoilState`). The heads are
# still those of 1 April (the steady state); stage 4 moves them. A day is
# `irrigation.advance` then `irrigation.assimilate`; `irrigation.continue_state` repeats
# them up to D and keeps each day's deep percolation for the groundwater.

# %%
start = irrigation.SoilState.at_field_capacity(pm, season_start, irrigation.steady_heads(pm))
start, _ = irrigation.assimilate(pm, start, sensors.daily.sel(time=season_start), sensors.rho)
state_run = irrigation.continue_state(pm, start, inputs.et0_mm, obs.weather.precip_mm,
                                      obs.watering_l, sensors, DAY)
state = state_run.state
print(f"state of {state.day} | probes assimilated this morning: {state_run.n_obs}")
xr.Dataset({"dr_mm": state.dr_mm, "sd_mm": np.sqrt(state.var_mm2).assign_attrs(units="mm"),
            "taw_mm": pm.taw_mm})

# %%
frac = (state.dr_mm / pm.taw_mm).assign_coords(kind=city.sites.kind)
fig, axes = plt.subplots(1, 2, figsize=(14, 5), gridspec_kw={"width_ratios": [1.6, 1]},
                         constrained_layout=True)
draw_streets(axes[0])
sc = axes[0].scatter(city.sites.x, city.sites.y, c=frac, s=8, cmap="RdYlBu_r", vmin=0, vmax=1)
fig.colorbar(sc, ax=axes[0], label="depletion / total available water [-]")
axes[0].set_title(f"Root-zone depletion at the morning of {DAY} (analysis)")
for kind, color in KIND_COLORS.items():
    axes[1].hist(frac.where(frac.kind == kind, drop=True), bins=np.linspace(0, 1, 21),
                 histtype="step", lw=1.5, color=color, label=kind)
axes[1].set_xlabel("depletion / TAW [-]")
axes[1].set_ylabel("number of sites")
axes[1].legend(fontsize=8)
plt.show()

# %% [markdown]
# ## Stage 4 · groundwater
#
# The MODFLOW 6 model (embedded solver; `mf6` when it is on PATH) runs from the state's
# heads (the steady state of 1 April) to D, one daily stress period per day, with the
# recharge the soil balance produced on each day (deep percolation of the sites,
# area-weighted per cell, plus the background rate) and the park wells pumping
# (`irrigation.groundwater_step`; if the model did not converge it would hold the
# starting heads and say so in `.warning`).

# %%
heads_start = state.heads_m.copy()
gw_run = irrigation.groundwater_step(pm, heads_start, pm.recharge_mm_d(state_run.dp_mm),
                                     start=start.day)
state = dataclasses.replace(state, heads_m=gw_run.heads_m[-1])
warnings = list(inputs.warnings) + ([gw_run.warning] if gw_run.warning else [])
print("warnings:", warnings or "none")
gw = pm.groundwater  # the loaded MODFLOW 6 model (irrigation.groundwater.GwfModel)
x_centre = gw.xorigin + np.cumsum(gw.delr) - gw.delr / 2
y_centre = gw.yorigin + gw.delc.sum() - (np.cumsum(gw.delc) - gw.delc / 2)  # row 1 north
change = xr.DataArray(state.heads_m - heads_start, dims=("layer", "row", "col"),
                      coords={"layer": [1, 2], "x": ("col", x_centre), "y": ("row", y_centre)},
                      name="head change", attrs={"units": "m"})
change

# %%
fig, ax = plt.subplots(figsize=(9, 5))
change.sel(layer=1).plot(ax=ax, x="x", y="y", cmap="RdBu", center=0,
                         cbar_kwargs={"label": "head change, layer 1 [m]"})
ax.set_aspect("equal")
ax.ticklabel_format(useOffset=False, style="plain")
ax.set_title(f"Water table change from {start.day} to {DAY} (drought recharge, wells on)")
plt.show()

# %% [markdown]
# ## Stage 5 · forecast
#
# Over the 14-day horizon: 20 weather members generated around the deterministic forecast
# (seeded per day) and the initial depletion of each member drawn from the analysis error
# (`irrigation.forecast_ensemble`), then soil balance → recharge
# (`irrigation.forecast_percolation`) → groundwater forecast → depth to water → soil
# balance again (`irrigation.forecast`, given the heads of every morning). The forecast Dataset holds, per morning, site and member, the depletion `dr_mm`
# [mm] and root-zone tension `tension_kpa` [kPa] *without any watering*, the depth to
# water [m], the members' weather, and each site's threshold (RAW, or a stricter tension
# for young trees). The deterministic forecast (member 0) is dry; the generated members
# turn some dry days into showers (10 % of dry days, 3 mm on average), which is why some
# members' tension drops in the plots below.

# %%
ens = irrigation.forecast_ensemble(pm, state, inputs.forecast)
dtw_today = pm.depth_to_water_m(state.heads_m).isel(time=0, drop=True)
recharge = pm.recharge_mm_d(irrigation.forecast_percolation(pm, ens, dtw_today))
gw_fc = irrigation.groundwater_step(pm, state.heads_m, recharge, start=DAY)
forecast = irrigation.forecast(pm, ens, irrigation.morning_heads(state.heads_m, gw_fc.heads_m))
warnings += list(ens.warnings) + ([gw_fc.warning] if gw_fc.warning else [])
info = {"forecast_source": inputs.forecast_source,
        "state_start": f"spun up from the season start {season_start}",
        "n_obs": state_run.n_obs, "qc_days": QC_REPORT_DAYS, **ens.info,
        "groundwater": "forecast" if gw_fc.converged else "fallback: last good heads"}
print(info)
forecast

# %% [markdown]
# A few sites: one of each watered kind, and the site of a sensor probe. The band is the
# 10-90 % range of the members, the line their median, the dashed line the site's
# threshold; dotted lines are the 33 / 80 kPa classes of the Berlin method (≤ 33 good,
# > 80 critical).

# %%
sensed = str(city.sensors.site.values[0])
examples = [sensed] + [str(forecast.site.where(forecast.kind == k, drop=True).values[5])
                       for k in ("young_tree", "lawn", "shrub_bed")]
days = forecast.time.values
fig, axes = plt.subplots(1, 4, figsize=(15, 3.6), sharey=True, constrained_layout=True)
for ax, site in zip(axes, examples, strict=True):
    t = forecast.tension_kpa.sel(site=site)
    q = t.quantile([0.1, 0.5, 0.9], dim="member")
    ax.fill_between(days, q[0], q[2], alpha=0.3, color="tab:blue", lw=0, label="10-90 %")
    ax.plot(days, q[1], color="tab:blue", label="median")
    ax.axhline(float(forecast.threshold_kpa.sel(site=site)), color="tab:red", ls="--",
               label="threshold")
    for v in (33, 80):
        ax.axhline(v, color="0.5", lw=0.6, ls=":")
    ax.set_yscale("log")
    ax.set_title(f"{site} ({forecast.kind.sel(site=site).item()})"
                 + (", sensed" if site == sensed else ""), fontsize=9)
    ax.tick_params(axis="x", labelrotation=45, labelsize=7)
axes[0].set_ylabel("root-zone tension [kPa]")
axes[0].legend(fontsize=7)
fig.suptitle(f"Forecast from {DAY} without watering ({forecast.sizes['member']} members)")
plt.show()

# %%
fig, axes = plt.subplots(1, 3, figsize=(16, 3.6), constrained_layout=True)
forecast.et0_mm.plot.line(ax=axes[0], x="time", add_legend=False, color="tab:orange",
                          alpha=0.4, lw=0.8)
forecast.et0_mm.sel(member=0).plot(ax=axes[0], color="k", lw=1.5, label="member 0")
axes[0].set_ylabel("ET0 [mm d⁻¹]")
axes[0].set_title("ET0 of the weather members")
axes[0].legend(fontsize=8)
forecast.precip_mm.plot(ax=axes[1], x="time", y="member", cmap="Blues",
                        cbar_kwargs={"label": "precipitation [mm d⁻¹]"})
axes[1].set_title("precipitation of the weather members")
forecast.depth_to_water_m.sel(site=examples).plot.line(ax=axes[2], x="time")
axes[2].set_ylabel("depth to water [m]")
axes[2].set_title("forecast depth to water at the example sites")
for ax in axes:
    ax.tick_params(axis="x", labelrotation=45, labelsize=7)
plt.show()

# %% [markdown]
# ## Stage 6 · decide
#
# For every site and member: the first morning its depletion passes the threshold. A
# watered site (young trees, lawns, shrub beds) is **due** when the share of members that
# cross within the lead time (`decide.lead_days`, 1 day) reaches `decide.due_probability`;
# its litres refill the root zone towards field capacity, capped by the pit capacity and
# the per-visit maximum. The demo's lawns have sprinklers (`[decide] fixed_system_kinds`):
# each due lawn's zone gets a depth and valve minutes, no truck. Every other due site is
# *offered* to the trucks with an urgency (priority, and whether it is already past its
# threshold), and so are sites due in the next days close to them; how many the fleet
# serves is decided by the routes in stage 7, not estimated here.

# %%
decision = irrigation.decide_day(pm, DAY, forecast)
demand, visits, deferred = decision.demand, decision.visits, decision.deferred
print(f"{int(demand.due.sum())} sites due; {decision.fixed.zone.nunique()} sprinkler zones "
      f"run ({decision.fixed.litres.sum():,.0f} L); {len(visits)} visits offered to the "
      f"trucks ({visits.litres.sum():,.0f} L), {len(deferred)} not routable")
demand

# %%
by_kind = pd.DataFrame({"kind": city.sites.kind.values, "watered": demand.watered.values,
                        "due": demand.due.values,
                        "due_litres": demand.litres.where(demand.due, 0).values})
by_kind = by_kind.groupby("kind")[["watered", "due", "due_litres"]].sum()
by_kind["visited"] = visits.groupby("kind").size()
by_kind.fillna(0).astype(int)

# %%
visits.head(10)

# %%
deferred.head(10)

# %% [markdown]
# ## Stage 7 · routing
#
# The offered visits become a PyVRP problem: the depot where shifts start and end,
# hydrants as reload depots, each visit an optional client with its litres as delivery and
# a prize from its urgency (a due visit is worth more than it can cost, so the routes take
# every one that fits the shifts), each truck type with its own speed, pump rate, set-up
# and refill time (PyVRP profiles), travel times on the street graph. The day's capacity
# is what the routes carry; a due visit left out is deferred for "shift time".
# `routing.max_iterations` (1,000 in the demo city) stops the search reproducibly; this
# notebook stops it after 300 iterations to stay quick.

# %%
quick = dataclasses.replace(city.config.routing, max_iterations=300)
pm_quick = dataclasses.replace(pm, city=dataclasses.replace(
    city, config=dataclasses.replace(city.config, routing=quick)))
routed = irrigation.route_day(pm_quick, DAY, visits, deferred, decision.fixed)
plan, problem = routed.plan, routed.problem
info.update(routed.info)
print(routed.info)
print(f"trucks used: {plan.stops.vehicle.nunique()} of {sum(v.count for v in city.config.fleet)}")
plan.totals

# %%
plan.stops.head(12)

# %%
fig, ax = plt.subplots(figsize=(12, 8))
draw_streets(ax, color="0.85")
colors = plt.get_cmap("tab10")
for v, stops in plan.stops.groupby("vehicle"):
    stops = stops.sort_values(["trip", "stop"])
    c = colors(int(v))
    for leg in street_paths(city.streets, stops.x.values, stops.y.values):
        ax.plot(leg[:, 0], leg[:, 1], color=c, lw=1.4, alpha=0.8)
    vis = stops[stops.kind == "visit"]
    ax.scatter(vis.x, vis.y, s=10 + vis.litres / 15, color=c, edgecolor="k", lw=0.3, zorder=3,
               label=f"truck {int(v)} ({stops.vehicle_type.iloc[0]}): {len(vis)} stops, "
                     f"{vis.litres.sum():,.0f} L")
    ref = stops[stops.kind == "refill"]
    ax.scatter(ref.x, ref.y, marker="^", s=70, color=c, edgecolor="k", zorder=4)
d = plan.deferred
ax.scatter(d.x, d.y, marker="x", s=20, color="0.2", lw=0.8, zorder=3,
           label=f"deferred ({len(d)} sites, {d.litres.sum():,.0f} L)")
ax.scatter(depot.x, depot.y, marker="s", s=100, color="k", zorder=5, label="depot")
tot = plan.totals.iloc[-1]
ax.set_title(f"Routes of {DAY}: {tot.stops:.0f} stops, {tot.litres:,.0f} L, {tot.km:.1f} km, "
             f"{tot.hours:.1f} truck hours (▲ refill at a hydrant; dot size ~ litres)")
ax.legend(loc="upper left", fontsize=8)
plt.show()

# %% [markdown]
# ## Stage 8 · write
#
# Everything the stages computed is one `DayRun` (what `irrigation.run_day` returns);
# `irrigation.pipeline.write_day` writes the plan folder (report, map, driver sheets,
# GeoJSON, CSVs), the state and the run record, each atomically, here into the temporary
# workspace. The report's pictures are written as files (PNG, PDF), so we show them as images (the
# writers draw on their own `Figure`s and leave the notebook's inline backend alone).

# %%
run = irrigation.DayRun(DAY, state.to_dataset(city.config.name), forecast, demand,
                        served_visits(plan, visits), plan.deferred, plan, problem, qc,
                        warnings, info, {})
plan_dir = write_day(run, city, WORKSPACE, inputs.files)
sorted(str(p.relative_to(WORKSPACE.root)) for p in WORKSPACE.root.rglob("*") if p.is_file())

# %%
run.state

# %%
display(Image(filename=str(plan_dir / "forecast.png"), width=900))
report = (plan_dir / "report.md").read_text().splitlines()
display(Markdown("\n".join(report[:32]) + "\n\n*(report.md continues)*"))

# %%
print(f"notebook ran in {time.perf_counter() - t_start:.1f} s")
