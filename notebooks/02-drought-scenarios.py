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
# # 02 · Drought scenarios: watering policies compared in a closed loop
#
# A **scenario file** (`scenarios/<name>.toml`) describes a season of a city under changed
# conditions (less rain, warmer, a heat wave, lower groundwater, fewer trucks, a water
# budget) and the **policy settings** to compare in it. `irrigation scenario FILE`
# simulates the season in a closed loop for every setting and every closed-loop member:
# each member draws a *truth world* (`irrigation.truth`: per-site soils in three layers,
# root depths, leaf-out, run-on from paving, local rain, an initial state the planner does
# not know, a watering log with errors, probes with calibration errors, forecast errors);
# each morning a policy sees only what a city sees (station weather, the logged water,
# sensor readings, a forecast, groundwater heads), plans, its plan is served by the fleet
# and carried out, and the truth gets the water. This notebook
#
# 1. shows what a scenario file is (policy *settings* with a `type`) and how it is
#    validated;
# 2. shortens two shipped scenarios, `baseline-2018` (the 2018 drought summer as observed)
#    and `heatwave-plus2C` (+2 °C every day, another +4 °C on 20-29 July), to a small size;
# 3. runs both with three settings: `none` (nobody waters: the reference),
#    `fixed-interval` (the crews' practice: 100 L per young tree every 7 days) and
#    `forecast` (this project's daily run, with the city's watered kinds);
# 4. compares them **per kind of site, never pooled**, in the practitioners' tension
#    classes of the true root zone, and with the package's figures;
# 5. compares the forecast policy with rotations **at equal water** (the iso-water front of
#    `policy-front-2018`), with 95 % intervals over members, and writes a results folder;
# 6. changes a scenario (a water budget), writes it as a file, reads it back and runs it.
#
# **How outcomes are scored** (`irrigation.scenario.results`). Every site of a kind is
# scored under every policy, watered or not, so policies that water different kinds are
# still compared on the same sites. For trees, each site-day falls in one of the tension
# classes of the Berlin method, read from the truth's root-zone tension `tension_kpa`:
# **good ≤ 33 kPa, moderate 33-80 kPa, critical > 80 kPa**. Σ(1 - Ks) adds up the share of
# transpiration lost (FAO-56 eq. 84) over the site-days; a tree with ≥ 14 consecutive
# critical days counts as likely to die (a mortality proxy); the worst 10 % are the sites
# of a kind with the most critical days. Members are independent realisations of the truth;
# a mean over members gets a 95 % interval from Student's t, and two policies are compared
# member by member (paired: same truth, weather and forecasts).
#
# Units: water in L per site and day and m³ over the city, tension in kPa, ET0 and
# precipitation in mm d⁻¹, temperatures in °C, groundwater heads in m above datum; a
# *site-day* is one site on one day.
#
# **Small size.** The shipped scenarios simulate 1 May to 30 September (spin-up from
# 1 April) with 10 or 20 closed-loop members and 3 to 9 settings: a whole season per
# (setting, member), many minutes on the CLI's dask workers. Here every run is cut to
# **two weeks, 16-29 July 2018** (which holds the heat wave), with **one week of spin-up**
# from 9 July (truth and planners run, the planners assimilate the probes' readings,
# nobody waters yet), and run in this process (`workers=0`). The two scenarios of sections
# 2-4 get **one member**: one truth world, so their numbers are one draw and have no
# interval. The iso-water comparison of section 5 gets **three members** (the fewest whose
# 95 % t-interval is usable: with two the t factor is 12.7, with three 4.3) and **five
# settings** (four of the file's nine and one added). The forecast policy's daily run is
# what costs: its sensor assimilation every day, spin-up included, and its 20-member
# forecasts, ~4-5 s of CPU per three-week run against ~1 s for a rotation; six of the
# notebook's 22 seasons are forecast seasons and take most of its time. Files go to a
# temporary folder, never into the repository.

# %%
import dataclasses
import datetime as dt
import difflib
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import xarray as xr
from IPython.display import Markdown, display

from irrigation import demo_city, et0, load_city_config
from irrigation.errors import InputError
from irrigation.report import TENSION_CLASSES_KPA
from irrigation.scenario import (
    FleetChange,
    HeatWave,
    NoWatering,
    VehicleCountChange,
    WaterBudget,
    apply_fleet_change,
    costs,
    front,
    front_sentence,
    interval_text,
    load_scenario,
    members_needed,
    outcomes,
    paired,
    plot_critical_sites,
    plot_cumulative_water,
    plot_front,
    plot_groundwater_head,
    plot_stress_map,
    run_scenario,
    scenario_to_toml,
    scenario_weather,
    summary,
    write_results,
)

t_start = time.perf_counter()
DEMO_CITY = demo_city().path  # the folder `irrigation run --demo` uses
SCENARIOS = DEMO_CITY.parents[1] / "scenarios"  # the repository's scenarios/ folder
OUT = Path(tempfile.mkdtemp(prefix="irrigation-nb02-"))
GOOD, CRITICAL = TENSION_CLASSES_KPA  # 33 and 80 kPa: the class limits
print("scenario files:", sorted(p.name for p in SCENARIOS.glob("*.toml")))
print("outputs (temporary):", OUT)

# %% [markdown]
# ## 1 · A scenario file
#
# A scenario is a small TOML file. The baseline names the city (relative to the file), the
# season, the base weather (the city's observed KNMI De Bilt series), the forecast quality,
# the closed-loop members and seed, and one sub-table per policy setting; every key is
# documented in `scenarios/README.md`.

# %%
print((SCENARIOS / "baseline-2018.toml").read_text())

# %% [markdown]
# Every shipped scenario of this kind differs from the baseline in one respect; for the
# heat wave it is a `[perturb]` table (and the name and description):

# %%
diff = difflib.unified_diff(
    (SCENARIOS / "baseline-2018.toml").read_text().splitlines(),
    (SCENARIOS / "heatwave-plus2C.toml").read_text().splitlines(),
    "baseline-2018.toml", "heatwave-plus2C.toml", lineterm="", n=0)
print("\n".join(line for line in diff if not line.startswith("@@")))

# %% [markdown]
# A sub-table of `[policies]` names a **setting**; its `type` says which policy it is
# (`none`, `fixed-interval`, `sensor-threshold`, `forecast`). Without a `type` the name is
# the type, so `[policies.forecast]` above is a forecast policy with the city's rules. The
# policy-front scenarios compare many settings of the same types on the young trees: the
# rotation at several doses and intervals (one skipping its turn after 15 mm of rain in
# 3 days), the forecast policy restricted to young trees (`kinds`) at several due
# probabilities and refill fractions, and `none` as the reference:

# %%
text = (SCENARIOS / "policy-front-2018.toml").read_text()
print(text[text.index("[policies.none]"):])

# %% [markdown]
# `load_scenario` reads a file into a frozen `Scenario` dataclass and validates it: paths
# become absolute, the forecast's members and horizon are filled in from the city when
# absent, the settings are checked against the city (site kinds, vehicle types, sensors)
# and the base weather is read to check that it covers the season. Defaults (e.g.
# `[routing] mode = "estimate"`: the fleet's day estimated instead of routed with PyVRP,
# `irrigation/scenario/fleet.py`) are those of the dataclasses.

# %%
baseline = load_scenario(SCENARIOS / "baseline-2018.toml")
heatwave = load_scenario(SCENARIOS / "heatwave-plus2C.toml")
front_file = load_scenario(SCENARIOS / "policy-front-2018.toml")
print("city:", baseline.city)
print("season:", baseline.season)
print("heat wave perturbation:", heatwave.perturb)
print("forecast:", baseline.forecast)
print("routing:", baseline.routing)
for policy in baseline.policies:
    print(f"setting {policy.name!r} of type {policy.type!r}: {policy}")
print(f"\n{front_file.name}: {front_file.members} members, settings "
      + ", ".join(f"{p.name} ({p.type})" for p in front_file.policies))

# %% [markdown]
# Every problem is an `irrigation.errors.InputError` naming the file and the key, so a
# typo does not silently fall back to a default. Four broken copies (written to the
# temporary folder): a misspelt key, a heat wave that ends after the season, an unknown
# policy type, and a key of another policy type (`rain_skip_mm` belongs to
# `fixed-interval`, not to a forecast setting).

# %%
city_line = "city = \"../models/demo-city\""
heat_text = (SCENARIOS / "heatwave-plus2C.toml").read_text().replace(
    city_line, f"city = \"{DEMO_CITY.as_posix()}\"")
front_text = text.replace(city_line, f"city = \"{DEMO_CITY.as_posix()}\"")
broken = {
    "typo.toml": heat_text.replace("temp_delta_c = 2.0", "temp_delta = 2.0"),
    "late-heat-wave.toml": heat_text.replace("start = 2018-07-20", "start = 2018-09-25"),
    "unknown-type.toml": front_text.replace('type = "forecast"', 'type = "forcast"', 1),
    "key-of-another-type.toml": front_text.replace("due_probability = 0.8",
                                                   "rain_skip_mm = 10.0"),
}
for name, content in broken.items():
    path = OUT / name
    path.write_text(content)
    try:
        load_scenario(path)
    except InputError as exc:
        print(f"{name}:\n  InputError: {exc}\n  field: {exc.field}\n")

# %% [markdown]
# The dataclasses check themselves too, so a scenario changed in Python
# (`dataclasses.replace`) is validated as well. Such errors are plain `ValueError`s
# naming the key but not a file (there is none).

# %%
try:
    dataclasses.replace(heatwave, perturb=dataclasses.replace(
        heatwave.perturb, heat_waves=(HeatWave(dt.date(2018, 9, 25), days=10, delta_c=4.0),)))
except ValueError as exc:
    print(f"{type(exc).__name__}: {exc}")

# %% [markdown]
# ## 2 · Small size
#
# The same two scenarios, cut with `dataclasses.replace`: season 16-29 July 2018 with one
# week of spin-up from 9 July (no watering decisions before the season starts), one
# closed-loop member, and three settings: `none` added in Python (`NoWatering()`, the
# reference of avoided stress; the files do not have it) and `fixed-interval` and
# `forecast` as the files set them. Everything else (perturbation, forecast quality with
# 20 ensemble members and a 14-day horizon, seed, routing estimate) stays as in the files.
# The heat wave of 20-29 July lies inside the short season, as `Scenario` requires.

# %%
SEASON = dict(spinup_start=dt.date(2018, 7, 9), start=dt.date(2018, 7, 16),
              end=dt.date(2018, 7, 29))
POLICIES = ("none", "fixed-interval", "forecast")


def small(scn, policies, members=1, name=None):
    """The scenario at notebook size: the two-week season, these settings and members."""
    return dataclasses.replace(
        scn, name=name or scn.name, season=dataclasses.replace(scn.season, **SEASON),
        members=members, policies=tuple(policies))


scenarios = {
    scn.name: small(scn, (NoWatering(), scn.policy("fixed-interval"), scn.policy("forecast")))
    for scn in (baseline, heatwave)}
for name, scn in scenarios.items():
    print(f"{name}: {scn.season.first_day} (spin-up) / {scn.season.start}..{scn.season.end}, "
          f"{scn.members} member, settings {[p.name for p in scn.policies]}, "
          f"perturbation {scn.perturb}")

# %% [markdown]
# The weather the truth gets (`scenario_weather`: the base weather, perturbed) over the
# short season: the heat wave adds 6 °C in its days and 2 °C on the others, rain is
# unchanged, and the reference evapotranspiration ET0 (FAO-56 Penman-Monteith) follows the
# temperature (relative humidity is kept, so the vapour pressure deficit grows).

# %%
weather = {name: scenario_weather(scn).sel(time=slice(str(scn.season.start),
                                                      str(scn.season.end)))
           for name, scn in scenarios.items()}
site = load_city_config(baseline.city).weather  # latitude and elevation of the station
fig, axes = plt.subplots(1, 3, figsize=(16, 3.6), constrained_layout=True)
for (name, w), ls in zip(weather.items(), ("-", "--"), strict=True):
    axes[0].plot(w.time, w.tmax_c, ls=ls, color="tab:red", label=f"{name}: max")
    axes[0].plot(w.time, w.tmin_c, ls=ls, color="tab:blue", label=f"{name}: min")
    axes[2].plot(w.time, et0(w, latitude_deg=site.latitude_deg, elevation_m=site.elevation_m),
                 ls=ls, color="tab:orange", label=name)
axes[0].set_ylabel("air temperature [°C]")
axes[0].set_title("Daily temperatures of the truth")
axes[0].legend(fontsize=8, ncols=2)
w = weather["baseline-2018"]
axes[1].bar(w.time, w.precip_mm, color="tab:cyan")
axes[1].set_ylabel("precipitation [mm d⁻¹]")
axes[1].set_title("Precipitation (the same in both scenarios)")
axes[2].set_ylabel("ET0 [mm d⁻¹]")
axes[2].set_title("Reference evapotranspiration")
axes[2].legend(fontsize=8)
for ax in axes:
    ax.tick_params(axis="x", labelrotation=45, labelsize=8)
plt.show()

# %% [markdown]
# ## 3 · Running them
#
# `run_scenario` runs every (setting, member) season; `workers=0` runs them one member
# after the other in this process (the CLI's default is a local dask cluster with one
# worker per core; a member's settings share its forecasts). The result is one
# `xarray.Dataset` per scenario.

# %%
results = {}
for name, scn in scenarios.items():
    t0 = time.perf_counter()
    results[name] = run_scenario(scn, workers=0, progress=False)
    print(f"{name}: {len(scn.policies) * scn.members} seasons in "
          f"{time.perf_counter() - t0:.1f} s")
base_ds, heat_ds = results["baseline-2018"], results["heatwave-plus2C"]
display(base_ds)

# %% [markdown]
# Per (`policy`, `member`, `time`, `site`): `water_l` delivered [L], and of the truth's
# root zone at the end of the day the depletion `dr_mm` [mm], the water-stress coefficient
# `ks` [-] and the **tension `tension_kpa` [kPa] the outcomes are scored on**; per member
# and site the truth's total available water `taw_mm`; per day the planned litres, visits,
# deferred visits, km and truck hours; the groundwater head at the wells `head_wells_m`
# [m above datum]; the station's `precip_mm` and `et0_mm`. Coordinates give each site's
# `kind` and position, and each setting its `policy_type`. The attributes state what was
# simulated:

# %%
for key in ("season", "spinup_start", "members", "perturbation", "forecast", "routing",
            "groundwater", "truth"):
    print(f"{key}: {heat_ds.attrs[key]}")
print("\nsites per kind:", base_ds["kind"].to_series().value_counts().to_dict())

# %% [markdown]
# ## 4 · Comparing the scenarios
#
# `outcomes` condenses a run to the season's numbers per (`policy`, `member`, `kind`): the
# water each kind got, its site-days in the three tension classes, Σ(1 - Ks), the trees
# likely to die and the worst 10 %; and per (`policy`, `member`) the fleet's truck hours,
# km, visits and deferred visits. Everything else in this section is built on it.

# %%
display(outcomes(base_ds))

# %% [markdown]
# `summary` is the planner's table: one row per (setting, kind), means over members with
# 95 % intervals (`<measure>_lo`, `<measure>_hi`; NaN here, one member has no spread), and
# the m³ a setting used per critical site-day it avoided against `none`. It lists the kinds
# some setting watered. Both scenarios together, the intervals left out:

# %%
MEASURES = ["water_m3", "good_site_days", "moderate_site_days", "critical_site_days",
            "stress_index", "dying_sites", "worst10_critical_days",
            "m3_per_avoided_critical_day"]
table = pd.concat({name: summary(ds) for name, ds in results.items()}, names=["scenario"])
table[MEASURES].round(1).assign(
    m3_per_avoided_critical_day=table["m3_per_avoided_critical_day"].round(3))

# %% [markdown]
# Read it per kind. On the **young trees** all three settings are compared like with
# like: both watering settings water them. The **shrub beds** and **lawns** (when some
# are dry enough to be due) are watered only by the forecast policy, which follows the
# city's `decide.watered_kinds`; the rotation leaves them as `none` does, so their rows
# show what the forecast policy's extra water bought there, and a pooled total would have
# mixed it into the trees' result. The tension classes are those of trees; for beds and
# lawns they are a dryness scale only (a lawn in a drought goes dormant above 80 kPa and
# recovers). In two weeks, "≥ 14 consecutive critical days" means critical on every day
# of the season, and after a dry start the worst 10 % of a kind are critical on all 14
# days under every setting, so `dying_sites` here counts the trees critical on every day
# under a setting, and `worst10_critical_days` cannot tell the settings apart; both mean
# something over a whole season.
#
# What the settings asked for against what the crews delivered, over the two weeks:
# `costs` gives the fleet's season per setting (all kinds together), `deferred` counts the
# planned visits not delivered, because they did not fit the fleet's day or because the
# crews missed them (the baseline's `execution_rate` is 100 %, the policy-front files'
# 95 %):

# %%
FLEET = ["water_m3", "truck_hours", "km", "visits", "deferred"]
work = pd.concat({name: costs(ds)[FLEET].assign(
    planned_m3=ds.planned_l.sum("time").mean("member").to_series() / 1000)
    for name, ds in results.items()}, names=["scenario"])
work.round(1)

# %% [markdown]
# Over the season: water delivered since the season start, young trees in the critical
# class on each day, and the groundwater head averaged over the wells. Colour is the
# setting, line style the scenario. Decisions start with the season, so after a dry week
# of spin-up without watering (from a random state the planners do not know) many young
# trees start it critical; the days after show how fast each setting brings them back.

# %%
# the colours the package's figures give the settings (matplotlib's cycle, in file order)
COLOURS = {"none": "tab:blue", "fixed-interval": "tab:orange", "forecast": "tab:green"}
STYLES = {"baseline-2018": "-", "heatwave-plus2C": "--"}
young = base_ds["kind"] == "young_tree"
fig, axes = plt.subplots(1, 3, figsize=(16, 4.2), constrained_layout=True)
for name, ds in results.items():
    for policy in ds.policy.values:
        d = ds.sel(policy=policy).mean("member")  # one member here
        style = dict(color=COLOURS[policy], ls=STYLES[name], label=f"{name}, {policy}")
        axes[0].plot(ds.time, d.water_l.sum("site").cumsum("time") / 1000, **style)
        axes[1].plot(ds.time, ((d.tension_kpa > CRITICAL) & young).sum("site"), **style)
        axes[2].plot(ds.time, d.head_wells_m.mean("well"), **style)
axes[0].set_ylabel("water delivered since 16 July [m³]")
axes[1].set_ylabel(f"young trees > {CRITICAL:g} kPa (of {int(young.sum())})")
axes[2].set_ylabel("head, mean of the wells [m above datum]")
axes[0].set_title("Cumulative water (all kinds)")
axes[1].set_title("Young trees in the critical class")
axes[2].set_title("Groundwater head at the wells")
axes[2].ticklabel_format(axis="y", useOffset=False)
for ax in axes:
    ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    ax.grid(alpha=0.3)
axes[0].legend(fontsize=8)
plt.show()

# %% [markdown]
# The young trees' site-days in the three tension classes, per scenario and setting (each
# bar adds up to the young trees x 14 days):

# %%
CLASSES = {"good_site_days": f"good ≤ {GOOD:g} kPa",
           "moderate_site_days": f"moderate {GOOD:g}-{CRITICAL:g} kPa",
           "critical_site_days": f"critical > {CRITICAL:g} kPa"}
classes = pd.concat({name: outcomes(ds).sel(kind="young_tree")[list(CLASSES)]
                     .mean("member").to_dataframe()[list(CLASSES)]
                     for name, ds in results.items()}, names=["scenario"])
ax = classes.rename(columns=CLASSES).plot.barh(
    stacked=True, figsize=(9, 3.4), color=["tab:green", "gold", "tab:red"])
ax.set_xlabel("young-tree site-days over 16-29 July")
ax.set_ylabel("")
ax.set_title("Young trees in the tension classes of the true root zone")
ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
plt.show()

# %% [markdown]
# The package's own figures (`irrigation.scenario.results`, what `irrigation scenario`
# writes into its report) are `matplotlib.figure.Figure` objects not tied to pyplot, so
# they are shown with `display`. The series figures draw the median over members and the
# min-max band around it (one member here, so a line); `plot_critical_sites` counts the
# sites of one kind (default: young trees) in the critical class per day.

# %%
display(plot_cumulative_water(heat_ds))
display(plot_critical_sites(heat_ds))
display(plot_groundwater_head(heat_ds))

# %% [markdown]
# Where the critical days were: one panel per setting, each site of a watered kind
# coloured by its critical days (> 80 kPa), for both scenarios.

# %%
for ds in results.values():
    display(plot_stress_map(ds))

# %% [markdown]
# ## 5 · At equal water: the iso-water front
#
# Does the forecast policy beat the rotation? Only a comparison at the same water says
# so: more water nearly always means fewer critical days. `policy-front-2018` waters only
# young trees, with rotations (`fixed-interval` settings) at several doses and intervals:
# ordered by their water, they make the **front** of what a rotation achieves with a given
# amount of water. `front` interpolates that front, member by member, at the water the
# other settings used, and gives their difference to it with a 95 % interval;
# `front_sentence` says it in words.
#
# Cut for time: the two-week season above, **3 members** and **5 settings**: `none`, the
# file's two heaviest rotations `rotation-7d-200L` and `rotation-4d-150L`, a heavier one
# added here (`rotation-4d-200L`, made from the last with `dataclasses.replace`), and the
# file's `forecast-p50` (young trees only, due at 50 % ensemble probability). After a dry
# start the forecast policy waters more in two weeks than the file's rotations do, hence
# the added one: the front must span the forecast policy's water in every member, or
# there is no comparison at equal water. Between two rotations the front is a straight
# line; the true front bends (each extra litre avoids fewer critical days), so a line over
# a wide range of water lies above it and flatters whatever is compared with it. Rotations
# close on either side keep that error small; the file's settings are spaced for whole
# seasons.

# %%
heavier = dataclasses.replace(front_file.policy("rotation-4d-150L"), name="rotation-4d-200L",
                              litres=200.0)
FRONT = (*(front_file.policy(name) for name in ("none", "rotation-7d-200L",
                                                 "rotation-4d-150L")),
         heavier, front_file.policy("forecast-p50"))
front_small = small(front_file, FRONT, members=3)
for p in front_small.policies:
    print(f"{p.name} ({p.type}): {p}")
t0 = time.perf_counter()
front_ds = run_scenario(front_small, workers=0, progress=False)
print(f"\n{front_small.name}: {len(FRONT) * front_small.members} seasons in "
      f"{time.perf_counter() - t0:.1f} s")

# %% [markdown]
# The young trees' outcomes with their 95 % intervals (mean over the 3 members, interval
# in brackets). These intervals are about the mean of *this* fortnight over truth worlds;
# the member-to-member spread is large (each truth world has its own soils and rain), so
# the intervals of two settings overlap more than their paired difference does. Below it
# the fleet's season (`costs`); with the file's execution rate of 95 % about one planned
# visit in 20 is missed by the crews, which `deferred` counts too.

# %%
front_table = summary(front_ds).xs("young_tree", level="kind")
display(interval_text(front_table))  # every measure as "mean (lo..hi)"
display(interval_text(costs(front_ds)))

# %% [markdown]
# `paired` compares every setting with one reference member by member: the differences
# share the truth world, weather and forecasts, so the spread between worlds cancels and
# the intervals are much narrower. Against the lighter rotation:

# %%
diff_rot = paired(front_ds, "rotation-4d-150L", kind="young_tree")
interval_text(diff_rot)

# %% [markdown]
# The front itself: for each setting off the front its water, the front's critical
# site-days at that water, its own, and the difference with its interval (`inside`: its
# water lies within the rotations' range in every member, else there is no difference).
# `none` is left out: at zero water it lies below the front's range, and its
# `front_critical_site_days` would be the lightest rotation's value, not a front at zero
# water. Then the sentence and the plot the report uses. The plot's bars are the
# intervals of each setting's mean (water and critical site-days), not of its difference
# to the front: the sentence rests on the paired difference, member by member, so it can
# separate settings whose bars overlap.

# %%
display(front(front_ds, kind="young_tree").drop(index="none").round(1))
display(Markdown(front_sentence(front_ds, kind="young_tree")))
display(plot_front(front_ds, kind="young_tree"))

# %% [markdown]
# How many members would an interval of ±100 critical site-days need on the paired
# difference between the forecast setting and the lighter rotation? `members_needed`
# answers from the spread these 3 members show (a rough figure: a spread estimated from 3
# values is itself uncertain):

# %%
for half in (100, 50):
    n = members_needed(front_ds, "forecast-p50", "rotation-4d-150L", halfwidth=half)
    print(f"±{half} critical site-days: {n} members")

# %% [markdown]
# The CLI writes all of this into one folder with `write_results`: the Dataset as NetCDF,
# `summary.csv` (per setting and kind, with intervals), `costs.csv`, `paired.csv` (against
# the first rotation), `front.csv`, the five figures and a report (Markdown and
# self-contained HTML). Here the front run, into the temporary folder, and the start of
# its report:

# %%
folder = write_results(front_ds, OUT / front_small.name)
print(sorted(p.name for p in folder.iterdir()))
report = (folder / "report.md").read_text().splitlines()
print("\n".join(report[:report.index(next(s for s in report if s.startswith("## Outcomes")))]))

# %% [markdown]
# ## 6 · Changing a scenario
#
# A scenario is a frozen dataclass, so a variant is a `dataclasses.replace` away; the
# changed parts are validated on construction. Some variants of the small baseline:

# %%
small_base = scenarios["baseline-2018"]
variants = {
    "one tanker fewer": dataclasses.replace(small_base, fleet=FleetChange(
        (VehicleCountChange("tanker-5000", count_delta=-1),))),
    "heat wave 20-24 July, +5 °C": dataclasses.replace(small_base, perturb=dataclasses.replace(
        small_base.perturb, heat_waves=(HeatWave(dt.date(2018, 7, 20), 5, 5.0),))),
    "30 % less rain": dataclasses.replace(small_base, perturb=dataclasses.replace(
        small_base.perturb, precip_factor=0.7)),
    "water table 1.5 m lower": dataclasses.replace(small_base, groundwater=dataclasses.replace(
        small_base.groundwater, head_offset_m=-1.5)),
    "routed with PyVRP": dataclasses.replace(small_base, routing=dataclasses.replace(
        small_base.routing, mode="pyvrp")),
}
for label, scn in variants.items():
    changed = {f.name: getattr(scn, f.name) for f in dataclasses.fields(scn)
               if getattr(scn, f.name) != getattr(small_base, f.name)}
    print(f"{label}: {changed}")
city_fleet = load_city_config(small_base.city).fleet
print("the city's fleet:", [(v.name, v.count) for v in city_fleet])
print("with 'one tanker fewer':", [(v.name, v.count) for v in apply_fleet_change(
    city_fleet, variants["one tanker fewer"].fleet)])

# %% [markdown]
# `dataclasses.replace` only runs the dataclasses' own checks. What needs the city or the
# weather file (vehicle names, sensors, the base weather covering the season) is checked by
# `load_scenario`, so a misspelt truck type passes `replace` and is only caught when the
# scenario is written as a file and read back:

# %%
typo = dataclasses.replace(small_base, fleet=FleetChange(
    (VehicleCountChange("tanker-500", count_delta=-1),)))
print("replace accepted it:", typo.fleet)
(OUT / "typo-fleet.toml").write_text(scenario_to_toml(typo))
try:
    load_scenario(OUT / "typo-fleet.toml")
except InputError as exc:
    print(f"load_scenario: {exc}")

# %% [markdown]
# One variant is run here. The question: **what does the forecast policy do on the young
# trees with only as much water per day as the rotation delivered on average in the
# baseline?** Like with like: a forecast setting restricted to young trees
# (`kinds = ["young_tree"]`, as in the policy-front files), under a `[budget]` with
# `cap_m3_per_day` set to that number (the baseline run above is the comparison). The
# changed scenario is written as a TOML file (`scenario_to_toml`, the file format; paths
# are absolute) into the temporary folder and read back with `load_scenario`, which
# validates it like any other file.

# %%
fixed_daily_m3 = float(table.loc[("baseline-2018", "fixed-interval", "young_tree"),
                                 "water_m3"] / base_ds.sizes["time"])
capped = dataclasses.replace(small_base.policy("forecast"), name="forecast-young",
                             kinds=("young_tree",))
budgeted = dataclasses.replace(
    small_base, name="baseline-2018-budget",
    description=f"baseline-2018, two weeks, forecast policy on young trees only, capped at "
                f"{fixed_daily_m3:.1f} m3 a day (what the rotation delivered on average)",
    budget=WaterBudget(cap_m3_per_day=round(fixed_daily_m3, 1)), policies=(capped,))
path = OUT / "baseline-2018-budget.toml"
path.write_text(scenario_to_toml(budgeted))
diff = difflib.unified_diff(scenario_to_toml(small_base).splitlines(),
                            path.read_text().splitlines(), "small baseline",
                            path.name, lineterm="", n=0)
print("\n".join(line for line in diff if not line.startswith("@@")))
reloaded = load_scenario(path)
print("\nread back equal to the dataclass:", reloaded == budgeted)

# %%
t0 = time.perf_counter()
budget_ds = run_scenario(reloaded, workers=0, progress=False)
print(f"{reloaded.name}: 1 season in {time.perf_counter() - t0:.1f} s")
compare = pd.concat({"baseline-2018": summary(base_ds, kinds=["young_tree"]),
                     "baseline-2018-budget": summary(budget_ds, kinds=["young_tree"])},
                    names=["scenario"])
display(compare[["water_m3", "good_site_days", "moderate_site_days", "critical_site_days",
                 "stress_index"]].round(1))
for name, ds, pol in (("baseline-2018", base_ds, "fixed-interval"),
                      ("baseline-2018-budget", budget_ds, "forecast-young")):
    c = costs(ds).loc[pol]
    print(f"{name}, {pol}: {c.visits:,.0f} visits, {1000 * c.water_m3 / c.visits:,.0f} L per "
          "visit")

# %%
runs = {("baseline-2018", "fixed-interval"): base_ds.sel(policy="fixed-interval"),
        ("baseline-2018", "forecast"): base_ds.sel(policy="forecast"),
        ("budget", "forecast-young"): budget_ds.sel(policy="forecast-young")}
fig, axes = plt.subplots(1, 2, figsize=(14, 4), constrained_layout=True)
for (name, policy), d in runs.items():
    d = d.mean("member")
    style = dict(color="tab:purple" if name == "budget" else COLOURS[policy],
                 ls="--" if name == "budget" else "-", label=f"{name}, {policy}")
    axes[0].plot(d.time, d.water_l.where(young, 0).sum("site") / 1000, **style)
    axes[1].plot(d.time, ((d.tension_kpa > CRITICAL) & young).sum("site"), **style)
axes[0].axhline(fixed_daily_m3, color="0.4", lw=0.8)
axes[0].set_ylabel("water to the young trees [m³ d⁻¹]")
axes[0].set_title(f"Daily water to the young trees (grey: the cap, {fixed_daily_m3:.1f} m³ "
                  "d⁻¹)")
axes[1].set_ylabel(f"young trees > {CRITICAL:g} kPa")
axes[1].set_title("Young trees in the critical class")
for ax in axes:
    ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    ax.grid(alpha=0.3)
axes[0].legend(fontsize=8)
plt.show()

# %% [markdown]
# The cap cuts each day's plan after the policy made it, most urgent visits first; the
# forecast policy does not plan for it: it keeps asking for the refills of every young
# tree it finds due, and the cap serves the first of them. The litres per visit above
# show how the capped water was spent, against the rotation's 100 L to every tree in
# turn. A cap is another comparison at equal water, at a water the policy did not choose;
# section 5 compared it at the water it chose itself. One member, so one draw.

# %% [markdown]
# ## 7 · What the numbers say
#
# The sentences below are written from the tables above by the code (one member in
# sections 2-4 and three in section 5, two weeks: a demonstration of the workflow, not a
# result to plan by; for that, run the full files with
# `irrigation scenario scenarios/<name>.toml`, whole seasons with 10-20 members).

# %%
t = table


def yt(scn, pol, measure="critical_site_days"):
    """A young-tree number of the summary of both scenarios."""
    return t.loc[(scn, pol, "young_tree"), measure]


n_young = int(young.sum())
lines = []
for name in results:
    lines.append(f"- **{name}**, young trees ({n_young}): " + "; ".join(
        f"{pol} {yt(name, pol, 'water_m3'):,.0f} m³ and {yt(name, pol):,.0f} critical "
        f"site-days" for pol in POLICIES) + ".")
for pol in POLICIES:
    lines.append(
        f"- The heat wave changed the young trees' critical site-days under **{pol}** by "
        f"{yt('heatwave-plus2C', pol) - yt('baseline-2018', pol):+,.0f} and their water by "
        f"{yt('heatwave-plus2C', pol, 'water_m3') - yt('baseline-2018', pol, 'water_m3'):+,.1f}"
        " m³.")
other = [k for k in table.loc["baseline-2018"].index.get_level_values("kind").unique()
         if k != "young_tree"]
for kind in other:
    r = table.xs(kind, level="kind").loc["baseline-2018"]
    lines.append(
        f"- {kind} in the baseline: the forecast policy gave them "
        f"{r.loc['forecast', 'water_m3']:,.1f} m³ for "
        f"{r.loc['forecast', 'critical_site_days']:,.0f} critical site-days, against "
        f"{r.loc['fixed-interval', 'critical_site_days']:,.0f} under the rotation, which "
        "does not water them.")
first = float((base_ds.tension_kpa.isel(time=0) > CRITICAL).where(young, False)
              .sum("site").mean())
lines.append(f"- On the first day of the season {first:.0f} of the {n_young} "
             "young trees were critical in the baseline (after the spin-up without "
             "watering; mean over the settings).")
for name in results:
    pl = work.loc[(name, "forecast")]
    lines.append(f"- {name}, forecast policy: planned {pl.planned_m3:,.0f} m³, delivered "
                 f"{pl.water_m3:,.0f} m³, {pl.deferred:,.0f} planned visits not served.")
head = xr.concat([ds.head_wells_m.mean("well") for ds in results.values()], "run")
lines.append(
    f"- Groundwater head (mean of the wells) moved by "
    f"{float(head.isel(time=-1).mean() - head.isel(time=0).mean()):+.4f} m over the two "
    f"weeks; the runs differ from each other by at most "
    f"{float((head.max('run') - head.min('run')).max()):.1e} m (all settings, both "
    "scenarios).")
b = compare.loc[("baseline-2018-budget", "forecast-young", "young_tree")]
lines.append(
    f"- With the water capped at {fixed_daily_m3:.1f} m³ a day, the forecast policy on young "
    f"trees delivered {b.water_m3:,.0f} m³ (rotation "
    f"{yt('baseline-2018', 'fixed-interval', 'water_m3'):,.0f} m³) with "
    f"{b.critical_site_days:,.0f} critical site-days (rotation "
    f"{yt('baseline-2018', 'fixed-interval'):,.0f}, forecast without cap "
    f"{yt('baseline-2018', 'forecast'):,.0f}).")
lines.append(f"- At equal water (section 5, 3 members): {front_sentence(front_ds)}")
display(Markdown("\n".join(lines)))

# %% [markdown]
# How to read them. The rotation delivers the same litres whatever the weather, so its
# water is the same in both scenarios and only its tension classes respond; the forecast
# policy plans from the soil model, the sensors and the forecast, so its water follows the
# demand, within what the fleet can deliver in a day. On the young trees the settings are
# compared like with like; the shrub beds and lawns are a separate account that only the
# city's forecast setting waters. A setting that uses more water has fewer critical days
# almost by construction, so the question "is it better" is answered at equal water: by
# the front (section 5) or by a budget cap (section 6). Two weeks are short for
# groundwater: the truth's heads move in 7-day steps driven by deep percolation, a dry July
# gives little of it, and a few hundred m³ of watering hardly reach the water table, so the
# head curves of all runs lie on top of each other. An interval from 3 members is wide and
# its own width is uncertain; the shipped policy-front files run 20 members over the whole
# season.

# %%
print(f"notebook ran in {time.perf_counter() - t_start:.1f} s, "
      f"{time.process_time():.1f} s of CPU in this process")
