"""Results of a drought-scenario run: the summary table, plots, report and NetCDF.

The closed-loop season run gives one :class:`xarray.Dataset` per scenario on the dims
``policy`` (file order), ``member`` (closed-loop realisations), ``time`` (daily), ``site``
and ``well``:

- ``water_l`` [L], ``dr_mm`` [mm], ``ks`` [1] on (policy, member, time, site): water the
  crews delivered, true root-zone depletion at the end of the day, true water-stress
  coefficient of the day; ``taw_mm`` [mm] on (member, site);
- ``planned_l`` [L], ``visits``, ``deferred``, ``km`` [km], ``truck_hours`` [h] on
  (policy, member, time); ``head_wells_m`` [m above datum] on (policy, member, time, well);
  ``precip_mm``, ``et0_mm`` [mm d-1] on (time);
- coordinates ``x``, ``y`` [m], ``kind`` and ``target`` (a kind at least one policy waters)
  on ``site``; ``well_x``, ``well_y`` [m] on ``well``;
- attributes describing the run (``scenario``, ``season``, ``members``, ``routing``, ...).

:func:`summary` condenses it to one row per policy, the ``plot_*`` functions draw it and
:func:`write_results` writes all of it, with the report, into one folder.

A site-day is *stressed* when its true Ks < 1: the root-zone depletion Dr exceeds the
readily available water RAW = p TAW, and transpiration is reduced (FAO-56 eq. 84).

References
----------
Allen, R. G., Pereira, L. S., Raes, D. & Smith, M. (1998). Crop evapotranspiration:
guidelines for computing crop water requirements. FAO Irrigation and Drainage Paper 56,
Rome, eq. 84: Ks = (TAW - Dr) / ((1 - p) TAW) for Dr > RAW, else 1.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from ..io.files import atomic_write
from ..report import Section, to_html, to_markdown

#: Litres in a cubic metre.
L_PER_M3 = 1000.0
#: Metres in a kilometre.
M_PER_KM = 1000.0
#: Ks of a day without water stress: FAO-56 eq. 84 gives exactly 1 while Dr <= RAW.
KS_UNSTRESSED = 1.0
#: The site kind counted in ``stress_site_days_young_tree``.
YOUNG_TREE = "young_tree"

#: Variables :func:`summary` and the plots read: their dims and ``attrs["units"]`` (checked
#: when set; None: no unit).
VARIABLES: dict[str, tuple[tuple[str, ...], str | None]] = {
    "water_l": (("policy", "member", "time", "site"), "L"),
    "ks": (("policy", "member", "time", "site"), "1"),
    "visits": (("policy", "member", "time"), None),
    "km": (("policy", "member", "time"), "km"),
    "truck_hours": (("policy", "member", "time"), "h"),
    "head_wells_m": (("policy", "member", "time", "well"), "m"),
}
#: Site coordinates :func:`summary` and the map read.
SITE_COORDS = ("x", "y", "kind", "target")
#: Attributes the report states.
REPORT_ATTRS = ("scenario", "description", "city", "season", "spinup_start", "members",
                "seed", "execution_rate", "routing", "groundwater", "forecast")

#: File names of the plots written by :func:`write_results`.
WATER_PNG = "cumulative_water.png"
STRESSED_PNG = "stressed_sites.png"
HEAD_PNG = "groundwater_head.png"
MAP_PNG = "stress_map.png"

#: Resolution of the PNGs [dots per inch].
PNG_DPI = 110
#: zlib level of the compressed NetCDF variables (1: fastest .. 9: smallest).
NETCDF_COMPLEVEL = 4
#: Size of the time-series figures [in].
SERIES_FIGSIZE_IN = (10.0, 4.5)
#: Size of one map panel [in]; the colour bar gets one more narrow column.
MAP_PANEL_IN = 4.5
#: Opacity of the min-max band over members.
BAND_ALPHA = 0.25
#: Area of a site's dot on the map [pt²].
MAP_DOT_PT2 = 14.0
#: Colour of sites no compared policy waters, on the map.
UNTARGETED_COLOUR = "0.85"
#: Colour map of stress days.
STRESS_CMAP = "YlOrRd"
#: Smallest top of the map's colour scale [d], so a season without stress is not one colour.
MAP_MIN_VMAX_D = 1.0

#: Report header and decimals of each summary column (None: not a number).
REPORT_COLUMNS: dict[str, tuple[str, int | None]] = {
    "water_m3": ("water [m³]", 1),
    "water_m3_min": ("water min [m³]", 1),
    "water_m3_max": ("water max [m³]", 1),
    "truck_hours": ("truck hours [h]", 1),
    "km": ("driven [km]", 1),
    "visits": ("visits", 0),
    "stress_site_days": ("stress site-days", 1),
    "stress_site_days_young_tree": ("stress site-days young trees", 1),
    "worst_site": ("worst site", None),
    "worst_site_stress_days": ("worst site stress days [d]", 1),
    "min_head_wells_m": ("lowest head [m]", 2),
}


def _check(ds: xr.Dataset, attrs: tuple[str, ...] = ()) -> None:
    """Raise ValueError naming every variable, coordinate or attribute missing or off."""
    problems = []
    for name, (dims, units) in VARIABLES.items():
        if name not in ds:
            problems.append(f"no variable {name!r}")
        elif set(ds[name].dims) != set(dims):
            problems.append(f"{name!r} on {dims} expected, got {ds[name].dims}")
        elif units is not None and ds[name].attrs.get("units", units) != units:
            problems.append(f"{name!r} in {units!r} expected, got {ds[name].attrs['units']!r}")
    problems += [f"no site coordinate {c!r}" for c in SITE_COORDS if c not in ds.coords]
    problems += [f"no attribute {a!r}" for a in attrs if a not in ds.attrs]
    if problems:
        raise ValueError("scenario results: " + "; ".join(problems))


def stress_days(ds: xr.Dataset) -> xr.DataArray:
    """Stress days per policy, member and site [d]: the days with Ks < 1 (FAO-56 eq. 84).

    Parameters
    ----------
    ds
        Scenario results with ``ks`` [1] on (policy, member, time, site), daily ``time``.

    Returns
    -------
    xr.DataArray
        Integer days on (policy, member, site).
    """
    return (ds["ks"] < KS_UNSTRESSED).sum("time")


def summary(ds: xr.Dataset) -> pd.DataFrame:
    """One row per policy (file order) of season totals of a scenario run.

    Parameters
    ----------
    ds
        Scenario results (layout in the module docstring).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``policy``, columns:

        - ``water_m3`` [m³]: water delivered over the season, mean over members;
          ``water_m3_min``, ``water_m3_max``: its least and most over members;
        - ``truck_hours`` [h], ``km`` [km], ``visits`` [-]: means over members of the season
          totals;
        - ``stress_site_days`` [site-days]: days with Ks < 1 summed over the ``target``
          sites (the kinds a compared policy waters), mean over members;
          ``stress_site_days_young_tree``: the same over the young trees among them;
        - ``worst_site``: the target site with the most stress days summed over members
          (the first in site order on a tie; "" when no target site was stressed);
          ``worst_site_stress_days`` [d]: its stress days per member (mean);
        - ``min_head_wells_m`` [m above datum]: the lowest groundwater head at any well on
          any day of any member.

    Notes
    -----
    A site-day is stressed when the site's true water-stress coefficient of the day is
    below 1, i.e. its root-zone depletion Dr exceeds the readily available water
    RAW = p TAW (Allen et al. 1998, FAO-56 eq. 84).
    """
    _check(ds)
    target = ds["target"].astype(bool)
    days = stress_days(ds).compute()
    on_target = days.where(target, 0)
    young = days.where(target & (ds["kind"] == YOUNG_TREE), 0)
    per_site = on_target.sum("member")
    worst = per_site.argmax("site")
    worst_days = per_site.isel(site=worst) / ds.sizes["member"]
    water = ds["water_l"].sum(("time", "site")) / L_PER_M3
    season = ds[["truck_hours", "km", "visits"]].sum("time").mean("member")
    columns = {
        "water_m3": water.mean("member"),
        "water_m3_min": water.min("member"),
        "water_m3_max": water.max("member"),
        "truck_hours": season["truck_hours"],
        "km": season["km"],
        "visits": season["visits"],
        "stress_site_days": on_target.sum("site").mean("member"),
        "stress_site_days_young_tree": young.sum("site").mean("member"),
        "worst_site": ds["site"].isel(site=worst).where(worst_days > 0, ""),
        "worst_site_stress_days": worst_days,
        "min_head_wells_m": ds["head_wells_m"].min(("member", "time", "well")),
    }
    index = pd.Index(ds["policy"].values, name="policy")
    return pd.DataFrame({k: v.transpose("policy").values for k, v in columns.items()},
                        index=index)


def _scenario(ds: xr.Dataset) -> str:
    return str(ds.attrs.get("scenario", "scenario"))


def _median_and_band(ax: Axes, series: xr.DataArray) -> None:
    """One line per policy: the median over members, and the min-max band around it."""
    days = series.indexes["time"]
    for policy in series["policy"].values:
        s = series.sel(policy=policy)
        (line,) = ax.plot(days, s.median("member").values, lw=1.8, label=str(policy))
        ax.fill_between(days, s.min("member").values, s.max("member").values,
                        color=line.get_color(), alpha=BAND_ALPHA, lw=0)
    locator = AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    ax.grid(alpha=0.3)
    ax.legend(title=f"line: median, band: min-max of {series.sizes['member']} members",
              fontsize=8, title_fontsize=8)


def _series_figure(series: xr.DataArray, title: str, ylabel: str) -> Figure:
    fig = Figure(figsize=SERIES_FIGSIZE_IN, layout="constrained")
    ax = fig.add_subplot()
    _median_and_band(ax, series)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    return fig


def plot_cumulative_water(ds: xr.Dataset) -> Figure:
    """Water delivered since the season start per policy [m³]: median and min-max over
    members."""
    cum = ds["water_l"].sum("site").cumsum("time") / L_PER_M3
    return _series_figure(cum, f"{_scenario(ds)}: cumulative water delivered",
                          "water delivered since season start [m³]")


def plot_stressed_sites(ds: xr.Dataset) -> Figure:
    """Target sites under water stress (Ks < 1, FAO-56 eq. 84) per day and policy: median
    and min-max over members."""
    stressed = ((ds["ks"] < KS_UNSTRESSED) & ds["target"].astype(bool)).sum("site")
    n = int(ds["target"].sum())
    return _series_figure(stressed, f"{_scenario(ds)}: target sites under water stress "
                          "(Ks < 1) per day", f"stressed sites (of {n} target sites)")


def plot_groundwater_head(ds: xr.Dataset) -> Figure:
    """Groundwater head averaged over the wells per policy [m above datum]: median and
    min-max over members."""
    head = ds["head_wells_m"].mean("well")
    return _series_figure(head, f"{_scenario(ds)}: groundwater head, mean of "
                          f"{ds.sizes['well']} wells", "head [m above datum]")


def plot_stress_map(ds: xr.Dataset) -> Figure:
    """Map of stress days per site: one panel per policy, each site a dot coloured by its
    mean stress days per member [d] on one scale for all panels; sites no policy waters in
    light grey. Axes in km of the city's projected coordinates."""
    per_member = stress_days(ds).mean("member").transpose("policy", "site").values
    target = ds["target"].astype(bool).values
    x_km, y_km = ds["x"].values / M_PER_KM, ds["y"].values / M_PER_KM
    vmax = max(float(per_member[:, target].max(initial=0.0)), MAP_MIN_VMAX_D)
    colours = ScalarMappable(Normalize(0.0, vmax), STRESS_CMAP)
    policies = ds["policy"].values
    fig = Figure(figsize=(MAP_PANEL_IN * (len(policies) + 0.4), MAP_PANEL_IN),
                 layout="constrained")
    axes = fig.subplots(1, len(policies), sharex=True, sharey=True, squeeze=False)[0]
    for ax, policy, days in zip(axes, policies, per_member, strict=True):
        if (~target).any():
            ax.scatter(x_km[~target], y_km[~target], s=MAP_DOT_PT2, c=UNTARGETED_COLOUR,
                       label="not watered by any policy")
        order = np.argsort(days[target], kind="stable")  # most stressed drawn on top
        ax.scatter(x_km[target][order], y_km[target][order], s=MAP_DOT_PT2,
                   c=days[target][order], cmap=colours.cmap, norm=colours.norm)
        ax.set_title(f"{policy}: {days[target].sum():,.1f} stress site-days per member",
                     fontsize=9)
        ax.set_aspect("equal")
        ax.ticklabel_format(useOffset=False)
        ax.set_xlabel("x [km]")
    axes[0].set_ylabel("y [km]")
    if (~target).any():
        axes[0].legend(fontsize=8, loc="best")
    fig.colorbar(colours, ax=axes, shrink=0.8, label="stress days (Ks < 1) per member [d]")
    fig.suptitle(f"{_scenario(ds)}: where the target sites were stressed")
    return fig


def _plots() -> dict[str, Callable[[xr.Dataset], Figure]]:
    """The report's plots by file name (looked up at call time)."""
    return {WATER_PNG: plot_cumulative_water, STRESSED_PNG: plot_stressed_sites,
            HEAD_PNG: plot_groundwater_head, MAP_PNG: plot_stress_map}


def report_table(table: pd.DataFrame) -> pd.DataFrame:
    """The summary rounded for reading, with headers stating units; policy as a column."""
    decimals = {k: d for k, (_, d) in REPORT_COLUMNS.items() if d is not None}
    headers = {k: h for k, (h, _) in REPORT_COLUMNS.items()}
    out = table.round(decimals).replace({"worst_site": {"": "none"}})
    return out.rename(columns=headers).reset_index()


def sections(ds: xr.Dataset, table: pd.DataFrame) -> list[Section]:
    """The report's content, in order: what was simulated, the summary, plots, how to read.

    Parameters
    ----------
    ds
        Scenario results with the attributes of :data:`REPORT_ATTRS`.
    table
        Its :func:`summary`.
    """
    a = ds.attrs
    n_members = ds.sizes["member"]
    target = ds["target"].astype(bool)
    n_young = int((target & (ds["kind"] == YOUNG_TREE)).sum())
    policies = ", ".join(str(p) for p in ds["policy"].values)
    simulated = [
        f"- Season: {a['season']} ({ds.sizes['time']} days); soil and groundwater spun up "
        f"from {a['spinup_start']}.",
        f"- Policies compared: {policies}.",
        f"- Members: {a['members']} closed-loop realisations of the true world (seed "
        f"{a['seed']}); the bands in the plots span them.",
        f"- Sites: {ds.sizes['site']}, of which {int(target.sum())} of a kind at least one "
        f"policy waters ({n_young} young trees); groundwater head at {ds.sizes['well']} "
        "wells.",
        f"- Execution rate: {float(a['execution_rate']):.0%} of the planned visits carried "
        "out by the crews (the missed ones drawn at random).",
        f"- Weather: {a.get('perturbation', 'as observed')}.",
        f"- Routing: {a['routing']}",
        f"- Groundwater: {a['groundwater']}",
        f"- Forecast: {a['forecast']}",
    ]
    how_to_read = [
        "A site-day is stressed when the site's true water-stress coefficient Ks of that day "
        "is below 1: its root-zone depletion Dr exceeds the readily available water "
        "RAW = p TAW, and the plant transpires less than it could (Allen et al. 1998, "
        "FAO-56 eq. 84).",
        f"Stress site-days add up the stressed days of the target sites (the sites of a kind "
        f"at least one compared policy waters) over the season; 10 sites stressed for 3 "
        f"days are 30 site-days. They, water, truck hours, km and visits are means over the "
        f"{n_members} members; water min and max span the members.",
        "Water is what the crews delivered, not what was planned; visits are the visits "
        "carried out.",
        "The worst site is the target site with the most stress days summed over the "
        "members; its stress days are per member.",
        "Lowest head is the lowest groundwater head at any well on any day of any member "
        "[m above datum]; lower heads mean deeper groundwater under the sites.",
        f"Every number per policy, member, day and site is in {a['scenario']}.nc; "
        "summary.csv holds the table unrounded.",
    ]
    return [
        Section(f"Drought scenario {a['scenario']} — {a['city']}", [str(a["description"])]),
        Section("What was simulated", simulated),
        Section("Summary per policy", [
            f"Season totals, means over {n_members} members (definitions below)."],
            report_table(table)),
        Section("Cumulative water delivered", [], image=WATER_PNG),
        Section("Target sites under water stress per day", [], image=STRESSED_PNG),
        Section("Groundwater head at the wells", [], image=HEAD_PNG),
        Section("Where the stress was", [], image=MAP_PNG),
        Section("How to read this", how_to_read),
    ]


def _netcdf_encoding(ds: xr.Dataset) -> dict[str, dict]:
    """zlib for the big variables: every data variable on more than one dim."""
    return {name: {"zlib": True, "complevel": NETCDF_COMPLEVEL}
            for name, v in ds.data_vars.items() if v.ndim > 1}


def write_results(ds: xr.Dataset, folder: str | Path) -> Path:
    """Write the results of a scenario run into ``folder`` (created); returns it.

    Files: ``<scenario>.nc`` (the dataset, zlib-compressed), ``summary.csv``
    (:func:`summary`, unrounded), the plots ``cumulative_water.png``,
    ``stressed_sites.png``, ``groundwater_head.png``, ``stress_map.png`` and the report
    ``report.md`` / ``report.html`` (self-contained, images embedded).

    Everything is rendered into a temporary folder first, so a failure while computing,
    plotting or writing the report leaves ``folder`` as it was. Each file is then
    replaced atomically (:func:`~irrigation.io.files.atomic_write`), the NetCDF first;
    other files in ``folder`` are left alone.

    Parameters
    ----------
    ds
        Scenario results (layout in the module docstring) with the attributes of
        :data:`REPORT_ATTRS`.
    folder
        The output folder.
    """
    _check(ds, REPORT_ATTRS)
    folder = Path(folder)
    table = summary(ds)
    with tempfile.TemporaryDirectory(prefix="irrigation-results-") as staging:
        stage = Path(staging)
        for name, plot in _plots().items():
            plot(ds).savefig(stage / name, dpi=PNG_DPI, format="png")
        table.to_csv(stage / "summary.csv", float_format="%.10g", lineterminator="\n")
        secs = sections(ds, table)
        (stage / "report.md").write_text(to_markdown(secs), encoding="utf-8")
        (stage / "report.html").write_text(to_html(secs, stage), encoding="utf-8")
        encoding = _netcdf_encoding(ds)
        atomic_write(folder / f"{ds.attrs['scenario']}.nc",
                     lambda tmp: ds.to_netcdf(tmp, engine="h5netcdf", encoding=encoding))
        for f in sorted(stage.iterdir()):
            atomic_write(folder / f.name, lambda tmp, f=f: shutil.copyfile(f, tmp))
    return folder
