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
# # 03 · The demo city's groundwater model
#
# The daily run couples the root-zone soil balance of every planting site with a MODFLOW 6
# groundwater-flow model: deep percolation below the roots becomes **recharge**, and the
# **depth to the water table** under each site sets how much capillary rise the roots get.
# This notebook opens the demo city's model (`models/demo-city/groundwater/`) the way a
# consultant would, with flopy, then runs it with the package's embedded solver and looks at:
#
# 1. the model as flopy sees it: grid, land surface, river, boundary, wells;
# 2. steady-state heads and the depth to water [m below land surface];
# 3. the water budget [m³ d⁻¹];
# 4. recharge coupling: a recharge pulse raising the water table, and the recharge the
#    soil model actually produces for the sites;
# 5. drawdown around the three irrigation wells;
# 6. a comparison with the real `mf6` executable, when it is installed.
#
# Units throughout: lengths and heads in m (heads in m above datum), time in days, flows
# in m³ d⁻¹, recharge in mm d⁻¹. It runs in about 20 s; nothing is written to disk.

# %%
import shutil
import time

import flopy
import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

import irrigation
from irrigation.day import reference_et0
from irrigation.groundwater import budget_table, heads_dataset
from irrigation.groundwater.forecast import water_table
from irrigation.io.observations import read_observed_weather
from irrigation.io.soil_tables import read_soil_textures, read_species
from irrigation.soil import recharge_to_grid

t_start = time.perf_counter()
city = irrigation.demo_city()  # the city `irrigation run --demo` plans
SIM_DIR = city.config.groundwater.sim_dir
sorted(p.name for p in SIM_DIR.iterdir())

# %% [markdown]
# ## 1 · The model as flopy sees it
#
# The folder is a normal MODFLOW 6 simulation (`mfsim.nam`, one GWF model called `gwf`).
# flopy reads it without running anything. The grid is 2 layers × 50 rows × 75 columns of
# 40 m × 40 m cells in EPSG:25832 (lower-left corner at E 375 000, N 5 704 000); NEWTON
# formulation; stress period 1 is steady state, periods 2-15 are daily transient periods
# with the park wells pumping.

# %%
sim = flopy.mf6.MFSimulation.load(sim_ws=str(SIM_DIR), verbosity_level=0)
gwf = sim.get_model("gwf")
print(gwf.modelgrid)
print("packages:", gwf.get_package_list())
print("stress periods:", sim.tdis.nper.get_data(), "of",
      sorted({r[0] for r in sim.tdis.perioddata.get_data()}), "d")
print("layer bottoms [m]:", [float(gwf.dis.botm.array[k].mean()) for k in range(2)])
print("k [m/d] layer means:", [round(float(gwf.npf.k.array[k].mean()), 1) for k in range(2)])
print("specific yield per layer:", [float(gwf.sto.sy.array[k].mean()) for k in range(2)])

# %% [markdown]
# Land surface (model top) with the boundary conditions: the stream (RIV) crossing the
# district from west to east, the general-head boundary (GHB) on the east edge, and the
# three irrigation wells (WEL, layer 2) that only pump from period 2 on. The planting sites
# are the grey dots.

# %%
fig, ax = plt.subplots(figsize=(10, 6))
pmv = flopy.plot.PlotMapView(model=gwf, ax=ax, layer=0)
top = pmv.plot_array(gwf.dis.top.array, cmap="YlOrBr", alpha=0.9)
pmv.plot_bc("RIV", color="tab:blue")
pmv.plot_bc("GHB", color="tab:purple")
ax.scatter(city.sites.x, city.sites.y, s=2, color="0.3", label="planting sites")
xc, yc = gwf.modelgrid.xcellcenters, gwf.modelgrid.ycellcenters
for (_lay, r, c), *_ in gwf.wel.stress_period_data.get_data(key=1):
    ax.plot(xc[r, c], yc[r, c], "r^", ms=10, mec="k")
fig.colorbar(top, ax=ax, label="land surface (model top) [m above datum]", shrink=0.8)
ax.set_xlabel("easting [m]")
ax.set_ylabel("northing [m]")
ax.set_title("Demo city groundwater model: RIV blue, GHB purple, WEL red")
ax.set_aspect("equal")
ax.ticklabel_format(useOffset=False, style="plain")
ax.legend(loc="lower left")
plt.show()

# %% [markdown]
# ## 2 · Steady-state heads and depth to water
#
# `irrigation.load_simulation` reads the same folder into a plain `GwfModel` (numpy arrays,
# checked input), and `irrigation.solve_simulation` runs it as it is. `backend="auto"` (the
# city's setting) would take `mf6` when it is on PATH; here we ask for the embedded solver
# explicitly: our scipy implementation of the same control-volume equations.

# %%
model, result = irrigation.solve_simulation(SIM_DIR, backend="embedded")
print(f"{model.nlay} x {model.nrow} x {model.ncol} cells, {model.nper} stress periods, "
      f"NEWTON {model.newton}; nonlinear iterations per step: {result.iterations}")
heads = heads_dataset(model, result, start="2018-07-01")
heads

# %% [markdown]
# `heads` is a CF-style Dataset over (`time`, `layer`, `row`, `col`); `time` is the end of
# each step (the steady period is 1 day long, so the steady heads carry 2018-07-02). The
# water table is the head of the uppermost saturated cell; the depth to water is the land
# surface minus that [m, positive below ground].

# %%
steady = heads.isel(time=0)
wt = water_table(steady["head"], steady["botm"])
dtw = (steady["top"] - wt).rename("depth_to_water")
dtw.attrs = {"long_name": "depth to water table", "units": "m"}
dtw

# %%
fig, axes = plt.subplots(1, 2, figsize=(14, 4.8), constrained_layout=True)
m = steady["head"].sel(layer=1).plot(ax=axes[0], x="x", y="y", cmap="viridis",
                                      cbar_kwargs={"label": "head, layer 1 [m above datum]"})
cs = steady["head"].sel(layer=1).plot.contour(ax=axes[0], x="x", y="y", colors="w",
                                               levels=12, linewidths=0.6)
axes[0].clabel(cs, fmt="%.1f", fontsize=7)
axes[0].set_title("steady-state heads, layer 1")
dtw.plot(ax=axes[1], x="x", y="y", cmap="YlGnBu_r", vmin=0,
         cbar_kwargs={"label": "depth to water [m below land surface]"})
axes[1].scatter(city.sites.x, city.sites.y, s=1, color="k", alpha=0.4)
axes[1].set_title("depth to water (dots: planting sites)")
for ax in axes:
    ax.set_aspect("equal")
    ax.ticklabel_format(useOffset=False, style="plain")
    ax.set_xlabel("easting [m]")
    ax.set_ylabel("northing [m]")
plt.show()

# %% [markdown]
# What the soil model sees is the depth to water *under each site*
# (`irrigation.depth_to_water`, over `time` × `site`). Capillary rise only matters where
# the water table is within about a metre of the root zone, i.e. along the stream.

# %%
site_dtw = irrigation.depth_to_water(heads.isel(time=[0]), city.sites.x.values,
                                     city.sites.y.values, model=model).isel(time=0)
site_dtw = site_dtw.assign_coords(site=city.sites.site.values,
                                  kind=("site", city.sites.kind.values))
print(f"depth to water under the sites: median {float(site_dtw.median()):.2f} m, "
      f"{int((site_dtw < 2.0).sum())} of {site_dtw.sizes['site']} sites within 2 m")
fig, ax = plt.subplots(figsize=(7, 3.5))
for kind in np.unique(site_dtw.kind.values):
    ax.hist(site_dtw.where(site_dtw.kind == kind, drop=True), bins=np.arange(0, 16, 0.5),
            histtype="step", lw=1.5, label=kind)
ax.set_xlabel("depth to water under the site [m]")
ax.set_ylabel("number of sites")
ax.legend()
plt.show()

# %% [markdown]
# ## 3 · Water budget
#
# The budget per package and step [m³ d⁻¹], as MODFLOW 6 reports it (IN and OUT ≥ 0).
# In steady state recharge leaves through the stream and the eastern boundary; once the
# wells pump (period 2 on), part of their 450 m³ d⁻¹ comes from storage (STO-SY).

# %%
budget = budget_table(result)
first_two = budget[budget["kper"] <= 2].set_index(["kper", "term"])[["rate_in", "rate_out"]]
first_two

# %%
net = budget.assign(net=budget["rate_in"] - budget["rate_out"]).pivot_table(
    index="time", columns="term", values="net", aggfunc="sum").fillna(0.0)
ax = net.plot(figsize=(9, 3.8), marker=".")
ax.axhline(0, color="k", lw=0.5)
ax.set_xlabel("simulated time [d]")
ax.set_ylabel("net flow into the aquifer [m³ d⁻¹]")
ax.set_title("budget per term (in - out); steady period 1, wells on from period 2")
ax.legend(ncols=3, fontsize=8)
plt.show()
closure = budget.groupby("time")[["rate_in", "rate_out"]].sum()
print("largest budget discrepancy [% of inflow]:",
      f"{float((100 * (closure.rate_in - closure.rate_out).abs() / closure.rate_in).max()):.2e}")

# %% [markdown]
# ## 4 · Recharge coupling
#
# The daily run continues the model from the current heads with daily transient periods
# (`irrigation.run_forecast`): recharge per cell [mm d⁻¹] comes from the soil model, the
# wells of the model stay on. Here we start from the steady heads and compare 30 days with
# the model's own recharge (about 0.55 mm d⁻¹, less under streets) against the same plus a
# **pulse of 30 mm d⁻¹ on days 3-5** — roughly what percolates below the roots after a wet
# spell of 100-150 mm. The water table should rise by about pulse / Sy = 90 mm / 0.15
# ≈ 0.6 m. Near the stream and the eastern boundary the mound drains away within weeks;
# far from any drain it stays (a uniform rise only decays by lateral flow towards the
# drains, which takes months).

# %%
DAYS = 30
h0 = steady["head"].values
rch_base_mm = 1000.0 * next(p for p in model.packages if p.kind == "rch").periods[0]["recharge"]
rch_base = np.broadcast_to(rch_base_mm, (DAYS, model.nrow, model.ncol)).copy()
rch_pulse = rch_base.copy()
rch_pulse[2:5] += 30.0
base = irrigation.run_forecast(model, h0, recharge_mm_d=rch_base, days=DAYS,
                               start="2018-07-02", backend="embedded")
pulse = irrigation.run_forecast(model, h0, recharge_mm_d=rch_pulse, days=DAYS,
                                start="2018-07-02", backend="embedded")
rise = (pulse["head"] - base["head"]).sel(layer=1).rename("head rise")
rise.attrs["units"] = "m"
rise

# %%
riv = next(p for p in model.packages if p.kind == "riv").periods[0]["cellid"]
stream_row = int(riv[riv[:, 2] == 37][0, 1])  # the stream's row in column 38
cells = {"by the stream": (stream_row - 2, 37), "north, far from drains": (8, 37),
         "east edge (GHB)": (45, 73)}
fig, axes = plt.subplots(1, 2, figsize=(14, 4.5), constrained_layout=True)
rise.isel(time=4).plot(ax=axes[0], x="x", y="y", cmap="Blues", vmin=0,
                       cbar_kwargs={"label": "head rise, layer 1 [m]"})
for name, (r, c) in cells.items():
    axes[0].plot(heads.x[c], heads.y[r], "o", mfc="none", mec="r")
    axes[0].annotate(name, (heads.x[c], heads.y[r]), color="r", fontsize=8,
                     xytext=(4, 4), textcoords="offset points")
    rise.isel(row=r, col=c).plot(ax=axes[1], marker=".", label=name)
axes[0].set_aspect("equal")
axes[0].ticklabel_format(useOffset=False, style="plain")
axes[0].set_title(f"rise at the end of the pulse ({str(rise.time.values[4])[:10]})")
axes[1].axvspan(rise.time.values[1], rise.time.values[4], color="0.9", label="pulse days")
axes[1].set_ylabel("head rise vs. no pulse [m]")
axes[1].set_title("water table response to a 3-day 30 mm/d recharge pulse")
axes[1].legend()
plt.show()

# %% [markdown]
# In the daily run the recharge is not uniform: each site's deep percolation [mm d⁻¹]
# falls on its area, the rest of the cell gets the background rate
# (`groundwater.background_recharge_mm_d` in `city.toml`), and
# `irrigation.soil.recharge_to_grid` area-weights that per cell (volume-conserving). Below:
# the soil balance of all sites over the wettest spell of the 2018 season (47 mm on 29-30
# April, observed De Bilt weather; the sites start at field capacity), the recharge grid it
# gives on its wettest day, and the head change these ten days of recharge cause compared
# with background recharge alone.

# %%
days = np.arange(np.datetime64("2018-04-26"), np.datetime64("2018-05-06"))
pm = irrigation.PlanningModel.build(city, model, read_soil_textures(), read_species())
weather = read_observed_weather(city, days)
et0 = reference_et0(pm, weather)
soil = irrigation.simulate_sites(city.sites, et0, weather["precip_mm"],
                                 textures=read_soil_textures(), species=read_species(),
                                 depth_to_water_m=site_dtw.drop_vars("kind"))
dp = soil["deep_percolation_mm"].isel(member=0)
print("rain [mm/d]:", np.round(weather["precip_mm"].values, 1))
print("mean deep percolation of the sites [mm/d]:", np.round(dp.mean("site").values, 1))
bg = city.config.groundwater.background_recharge_mm_d
ytop = model.yorigin + float(model.delc.sum())
grids = np.stack([recharge_to_grid(dp.isel(time=k).values, city.sites.area_m2.values,
                                   city.sites.x.values, city.sites.y.values,
                                   xorigin=model.xorigin, ytop=ytop, delr=model.delr,
                                   delc=model.delc, background_mm_d=bg)
                  for k in range(days.size)])
coupled = irrigation.run_forecast(model, h0, recharge_mm_d=grids, days=days.size,
                                  backend="embedded")
background = irrigation.run_forecast(model, h0, recharge_mm_d=bg, days=days.size,
                                     backend="embedded")
wet = int(dp.mean("site").argmax("time"))
fig, axes = plt.subplots(1, 2, figsize=(14, 4.5), constrained_layout=True)
rch_da = xr.DataArray(grids[wet], dims=("row", "col"),
                      coords={"x": heads.x, "y": heads.y})
rch_da.plot(ax=axes[0], x="x", y="y", cmap="GnBu", robust=True,
            cbar_kwargs={"label": "recharge [mm d⁻¹]"})
axes[0].set_title(f"recharge per cell on {days[wet]!s} (sites + background {bg} mm/d)")
dh = (coupled["head"] - background["head"]).isel(time=-1).sel(layer=1)
dh.plot(ax=axes[1], x="x", y="y", cmap="PuOr", center=0,
        cbar_kwargs={"label": "head change [m]"})
axes[1].set_title("heads after ten days: soil recharge minus background only")
for ax in axes:
    ax.set_aspect("equal")
    ax.ticklabel_format(useOffset=False, style="plain")
plt.show()

# %% [markdown]
# ## 5 · Well drawdown
#
# The model as delivered already contains the pumping: three park wells (layer 2) extract
# 150 m³ d⁻¹ each from period 2 on. The drawdown is the steady head minus the head after
# each transient day [m, positive = lower]. Layer 2, where the wells are screened, is
# confined (small storage): the drawdown at the well cells is there after the first day
# and then creeps as the cone spreads; the water table (layer 1) above it, which is what the
# trees feel, moves by centimetres. The WEL package's `AUTO_FLOW_REDUCE` would cut the rate
# if a well cell went dry.

# %%
wel = next(p for p in model.packages if p.kind == "wel").periods[1]
wells = [tuple(int(v) for v in c) for c in wel["cellid"]]
drawdown = (heads["head"].isel(time=0) - heads["head"].isel(time=slice(1, None)))
drawdown = drawdown.rename("drawdown").assign_attrs(units="m")
print("wells (layer, row, col; 0-based) and rate [m3/d]:",
      list(zip(wells, wel["q"].tolist(), strict=True)))
print(f"largest water-table (layer 1) drawdown after {drawdown.sizes['time']} days: "
      f"{float(drawdown.sel(layer=1).isel(time=-1).max()):.3f} m")
drawdown.sel(layer=2).isel(time=-1).to_series().describe()

# %%
fig, axes = plt.subplots(1, 2, figsize=(14, 4.5), constrained_layout=True)
dd_last = drawdown.sel(layer=2).isel(time=-1)
dd_last.plot(ax=axes[0], x="x", y="y", cmap="Reds", vmin=0,
             cbar_kwargs={"label": "drawdown, layer 2 [m]"})
dd_last.plot.contour(ax=axes[0], x="x", y="y", levels=[0.05, 0.1, 0.2, 0.5], colors="k",
                     linewidths=0.6)
axes[0].set_aspect("equal")
axes[0].ticklabel_format(useOffset=False, style="plain")
axes[0].set_title(f"drawdown after {drawdown.sizes['time']} days of pumping "
                  "(contours 0.05/0.1/0.2/0.5 m)")
for k, (_lay, r, c) in enumerate(wells):
    axes[0].plot(heads.x[c], heads.y[r], "k^")
    dist = np.hypot(heads.x - heads.x[c], heads.y - heads.y[r]).transpose("row", "col")
    sel = (dist <= 600).values
    axes[1].plot(dist.values[sel], dd_last.values[sel], ".", ms=3, label=f"well {k + 1}")
axes[1].set_xlabel("distance from the well [m]")
axes[1].set_ylabel("drawdown, layer 2 [m]")
axes[1].set_title("drawdown against distance (all cells within 600 m)")
axes[1].legend()
plt.show()

# %%
fig, ax = plt.subplots(figsize=(8, 3.5))
for k, (lay, r, c) in enumerate(wells):
    drawdown.isel(layer=lay, row=r, col=c).plot(ax=ax, marker=".", label=f"well {k + 1} cell")
ax.set_ylabel("drawdown at the well cell [m]")
ax.set_title("drawdown at the well cells, layer 2")
ax.legend()
plt.show()

# %% [markdown]
# ## 6 · Against the real MODFLOW 6
#
# `backend="mf6"` runs the real executable (found as `mf6` on PATH, `$MF6_EXE` or
# `groundwater.mf6_exe` in `city.toml`) in a temporary copy of the folder, so nothing is
# written next to the model. The embedded solver is tested against stored MODFLOW 6 results
# in the test suite; this cell repeats the comparison live when `mf6` is installed and
# skips otherwise.

# %%
if shutil.which("mf6") is None:
    print("mf6 is not on PATH: skipping the comparison with the real MODFLOW 6 "
          "(install it, e.g. `get-modflow :flopy`, to run this cell)")
else:
    _, res_mf6 = irrigation.solve_simulation(SIM_DIR, backend="mf6")
    heads_mf6 = heads_dataset(model, res_mf6, start="2018-07-01")
    diff = np.abs(heads_mf6["head"] - heads["head"])
    print(f"largest |mf6 - embedded| head difference: {float(diff.max()):.2e} m")
    diff.max(("layer", "row", "col")).plot(marker=".")
    plt.ylabel("max |head difference| [m]")
    plt.show()

# %%
print(f"notebook ran in {time.perf_counter() - t_start:.1f} s")
