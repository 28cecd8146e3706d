"""Results of a drought-scenario run: outcomes per kind, intervals, the iso-water front,
plots, report and NetCDF.

The closed-loop season run gives one :class:`xarray.Dataset` per scenario on the dims
``policy`` (file order), ``member`` (closed-loop realisations), ``time`` (daily), ``site``
and ``well``:

- ``water_l`` [L], ``ks`` [1], ``tension_kpa`` [kPa] on (policy, member, time, site): water
  the crews delivered, the true water-stress coefficient (FAO-56 eq. 84) and the true
  root-zone tension at the end of the day; ``taw_mm`` [mm] on (member, site);
- ``planned_l`` [L], ``visits``, ``deferred``, ``km`` [km], ``truck_hours`` [h] on
  (policy, member, time); ``head_wells_m`` [m above datum] on (policy, member, time, well);
  ``precip_mm``, ``et0_mm`` [mm d-1] on (time);
- coordinates ``x``, ``y`` [m] and ``kind`` on ``site``; ``policy_type`` on ``policy``;
  ``well_x``, ``well_y`` [m] on ``well``;
- attributes describing the run (``scenario``, ``season``, ``members``, ``routing``, ...).

**Outcomes are per kind and never pooled** (:func:`outcomes`): every policy is scored on
every site of a kind, watered or not, so policies that water different kinds are compared
like with like. For trees the practitioners' tension classes of the Berlin method count
site-days at ≤ 33 kPa (good), 33-80 kPa (moderate) and > 80 kPa (critical) of the true
root zone; Σ(1 - Ks) is the transpiration lost in site-days; a tree with at least
:data:`DYING_RUN_DAYS` consecutive critical days is counted as likely to die (a mortality
proxy); and the worst 10 % of sites (by critical days) show what averages hide.

**Statistics.** Members are independent realisations of the truth; a policy's mean over
members gets a 95 % confidence interval from Student's t (:func:`interval`), and two
policies are compared by their paired differences member by member (same truth, same
weather, same forecasts; :func:`paired`). :func:`front` compares a policy with the
iso-water front of the rotations (fixed-interval settings) at equal water, member by
member. :func:`members_needed` says how many members an interval of a given half-width
needs, from the paired spread measured.

References
----------
Allen, R. G., Pereira, L. S., Raes, D. & Smith, M. (1998). Crop evapotranspiration.
FAO Irrigation and Drainage Paper 56, eq. 84 (Ks).
Berlin method of tension classes (≤ 33 kPa good, 33-80 moderate, > 80 critical), as used
for young street trees with tensiometers (DESIGN.md sec. 4).
Student (1908) / any statistics text for the t interval of a mean and of paired differences.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from scipy import stats

from ..io.files import atomic_write
from ..report import TENSION_CLASSES_KPA, Section, to_html, to_markdown

#: Litres in a cubic metre.
L_PER_M3 = 1000.0
#: Metres in a kilometre.
M_PER_KM = 1000.0
#: Consecutive critical days (> 80 kPa) after which a tree counts as likely to die.
DYING_RUN_DAYS = 14
#: Share of sites in "the worst" group of a kind.
WORST_SHARE = 0.10
#: Confidence level of every interval.
CONFIDENCE = 0.95
#: The kinds whose outcomes are tree outcomes (tension classes, mortality proxy).
TREE_KINDS = ("young_tree", "street_tree", "park_tree")
#: Policy type of the reference "nobody waters" (avoided stress is counted against it).
NO_WATERING = "none"
#: Policy type whose settings make the iso-water front.
FRONT_TYPE = "fixed-interval"

#: Variables :func:`outcomes` and the plots read: their dims and ``attrs["units"]``
#: (checked when set; None: no unit).
VARIABLES: dict[str, tuple[tuple[str, ...], str | None]] = {
    "water_l": (("policy", "member", "time", "site"), "L"),
    "ks": (("policy", "member", "time", "site"), "1"),
    "tension_kpa": (("policy", "member", "time", "site"), "kPa"),
    "visits": (("policy", "member", "time"), None),
    "deferred": (("policy", "member", "time"), None),
    "km": (("policy", "member", "time"), "km"),
    "truck_hours": (("policy", "member", "time"), "h"),
    "head_wells_m": (("policy", "member", "time", "well"), "m"),
}
#: Site coordinates :func:`outcomes` and the map read.
SITE_COORDS = ("x", "y", "kind")
#: Attributes the report states.
REPORT_ATTRS = ("scenario", "description", "city", "season", "spinup_start", "members",
                "seed", "execution_rate", "routing", "groundwater", "forecast")

#: File names of the plots written by :func:`write_results`.
FRONT_PNG = "iso_water_front.png"
WATER_PNG = "cumulative_water.png"
CRITICAL_PNG = "critical_sites.png"
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
#: Colour map of critical days.
STRESS_CMAP = "YlOrRd"
#: Smallest top of the map's colour scale [d], so a season without stress is not one colour.
MAP_MIN_VMAX_D = 1.0
#: Smallest span of a head axis [m], so millimetre changes are not blown up to full scale.
HEAD_MIN_SPAN_M = 0.1

#: The measures of :func:`outcomes` per (policy, member, kind): report header, decimals.
MEASURES: dict[str, tuple[str, int]] = {
    "water_m3": ("water [m³]", 1),
    "good_site_days": ("site-days ≤ 33 kPa", 0),
    "moderate_site_days": ("site-days 33-80 kPa", 0),
    "critical_site_days": ("site-days > 80 kPa", 0),
    "stress_index": ("Σ(1 - Ks) [site-days]", 0),
    "dying_sites": (f"sites ≥ {DYING_RUN_DAYS} d > 80 kPa", 1),
    "worst10_critical_days": ("critical days, worst 10 % [d]", 1),
}
#: The fleet's measures per (policy, member): report header, decimals.
COSTS: dict[str, tuple[str, int]] = {
    "water_m3": ("water [m³]", 1),
    "truck_hours": ("truck hours [h]", 1),
    "km": ("driven [km]", 1),
    "visits": ("visits", 0),
    "deferred": ("deferred visits", 0),
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


def _longest_run(mask: np.ndarray) -> np.ndarray:
    """Longest run of True along the last axis."""
    m = mask.astype(np.int64)
    csum = np.cumsum(m, -1)
    reset = np.maximum.accumulate(np.where(m == 0, csum, 0), -1)
    return (csum - reset).max(-1) if m.shape[-1] else np.zeros(m.shape[:-1], int)


def _policy_types(ds: xr.Dataset) -> np.ndarray:
    if "policy_type" in ds.coords:
        return ds["policy_type"].values.astype(str)
    return ds["policy"].values.astype(str)


def outcomes(ds: xr.Dataset) -> xr.Dataset:
    """Season outcomes per policy, member and site kind (module docstring).

    Parameters
    ----------
    ds
        Scenario results (layout in the module docstring).

    Returns
    -------
    xr.Dataset
        On (policy, member, kind) for every kind of site in the city: ``water_m3`` [m³]
        delivered to the sites of the kind; ``good_site_days``, ``moderate_site_days``,
        ``critical_site_days`` [site-days] in the tension classes ≤ 33, 33-80 and > 80 kPa
        of the true root zone; ``stress_index`` [site-days] Σ(1 - Ks); ``dying_sites``
        [-] sites with at least :data:`DYING_RUN_DAYS` consecutive critical days;
        ``worst10_critical_days`` [d] the mean critical days of the worst 10 % of the
        kind's sites. On (policy, member): the fleet's season ``truck_hours`` [h],
        ``km``, ``visits``, ``deferred`` and the ``water_total_m3`` [m³].
    """
    _check(ds)
    lo, hi = TENSION_CLASSES_KPA
    t = ds["tension_kpa"].transpose("policy", "member", "site", "time").values
    ks = ds["ks"].transpose("policy", "member", "site", "time").values.astype(float)
    water = ds["water_l"].transpose("policy", "member", "site", "time").values
    kind = ds["kind"].values.astype(str)
    kinds = [k for k in dict.fromkeys(kind)]
    critical = t > hi
    per_site = {
        "water_m3": water.sum(-1, dtype=float) / L_PER_M3,
        "good_site_days": (t <= lo).sum(-1),
        "moderate_site_days": ((t > lo) & (t <= hi)).sum(-1),
        "critical_site_days": critical.sum(-1),
        "stress_index": (1.0 - ks).sum(-1),
        "dying_sites": _longest_run(critical) >= DYING_RUN_DAYS,
    }
    out = {name: np.stack([v[..., kind == k].sum(-1) for k in kinds], -1).astype(float)
           for name, v in per_site.items()}
    worst = []
    for k in kinds:
        days = np.sort(per_site["critical_site_days"][..., kind == k], axis=-1)[..., ::-1]
        n = max(1, int(np.ceil(WORST_SHARE * days.shape[-1])))
        worst.append(days[..., :n].mean(-1))
    out["worst10_critical_days"] = np.stack(worst, -1)
    dims = ("policy", "member", "kind")
    res = xr.Dataset({k: (dims, v) for k, v in out.items()},
                     coords={"policy": ds["policy"].values, "member": ds["member"].values,
                             "kind": kinds, "policy_type": ("policy", _policy_types(ds))})
    season = ds[["truck_hours", "km", "visits", "deferred"]].sum("time")
    for name in ("truck_hours", "km", "visits", "deferred"):
        res[name] = season[name].transpose("policy", "member").astype(float)
    res["water_total_m3"] = res["water_m3"].sum("kind")
    return res


def interval(values: np.ndarray, axis: int = -1, confidence: float = CONFIDENCE
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and its confidence interval (Student's t) along ``axis`` (the members).

    With one value the interval is (NaN, NaN): one member says nothing about spread.
    """
    v = np.asarray(values, dtype=float)
    n = v.shape[axis]
    mean = v.mean(axis)
    if n < 2:
        nan = np.full(np.shape(mean), np.nan)
        return mean, nan, nan
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * v.std(axis, ddof=1) / np.sqrt(n)
    return mean, mean - half, mean + half


def _with_interval(da: xr.DataArray, name: str, nonnegative: bool = True
                   ) -> dict[str, np.ndarray]:
    """Mean and 95 % interval over members; amounts that cannot be negative (water,
    counts, days) get their lower bound clipped at 0."""
    order = [d for d in ("policy", "kind") if d in da.dims]
    m, lo, hi = interval(da.transpose(*order, "member").values)
    if nonnegative:
        lo = np.maximum(lo, 0.0)
    return {name: m, f"{name}_lo": lo, f"{name}_hi": hi}


def summary(ds: xr.Dataset, kinds: Sequence[str] | None = None) -> pd.DataFrame:
    """The planner's table: one row per (policy, kind), the season outcomes of
    :func:`outcomes` as means over members with 95 % intervals (``<measure>_lo``,
    ``<measure>_hi``), and ``m3_per_avoided_critical_day`` against the ``none``
    policy (water added per critical site-day avoided; NaN without a ``none`` policy or
    when nothing was avoided).

    ``kinds``: the kinds to list (default: every kind of the city, so that the tables of
    two scenarios of one city have the same rows; the report lists the watered ones).
    """
    out = outcomes(ds)
    if kinds is not None:
        out = out.sel(kind=list(kinds))
    cols: dict[str, np.ndarray] = {}
    for name in MEASURES:
        cols.update(_with_interval(out[name], name))
    ratio = np.full(cols["water_m3"].shape, np.nan)
    ref = np.flatnonzero(out["policy_type"].values == NO_WATERING)
    if ref.size:
        r = out.isel(policy=int(ref[0]))
        dw = (out["water_m3"] - r["water_m3"]).mean("member").transpose("policy", "kind")
        dc = (r["critical_site_days"] - out["critical_site_days"]).mean("member").transpose(
            "policy", "kind")
        ratio = np.where(dc.values > 0, dw.values / np.where(dc.values > 0, dc.values, 1),
                         np.nan)
    cols["m3_per_avoided_critical_day"] = ratio
    index = pd.MultiIndex.from_product([out["policy"].values, out["kind"].values],
                                       names=["policy", "kind"])
    return pd.DataFrame({k: np.asarray(v).reshape(-1) for k, v in cols.items()},
                        index=index)


def costs(ds: xr.Dataset) -> pd.DataFrame:
    """The fleet's season per policy: water, truck hours, km, visits and deferred visits,
    means over members with 95 % intervals."""
    out = outcomes(ds)
    cols: dict[str, np.ndarray] = {}
    for name in COSTS:
        da = out["water_total_m3"] if name == "water_m3" else out[name]
        cols.update(_with_interval(da, name))
    return pd.DataFrame(cols, index=pd.Index(out["policy"].values, name="policy"))


def paired(ds: xr.Dataset, reference: str, kind: str = "young_tree",
           measures: Sequence[str] = ("water_m3", "critical_site_days", "stress_index",
                                      "dying_sites")) -> pd.DataFrame:
    """Every policy minus ``reference``, member by member (same truth, weather and
    forecasts), for the sites of ``kind``: mean difference and its 95 % interval."""
    out = outcomes(ds).sel(kind=kind)
    d = out - out.sel(policy=reference)
    cols: dict[str, np.ndarray] = {}
    for name in measures:
        cols.update(_with_interval(d[name], name, nonnegative=False))
    table = pd.DataFrame(cols, index=pd.Index(out["policy"].values, name="policy"))
    return table.drop(index=reference)


def front(ds: xr.Dataset, kind: str = "young_tree",
          measure: str = "critical_site_days") -> pd.DataFrame:
    """Each policy against the iso-water front of the rotations, at equal water.

    The front is the fixed-interval settings of the scenario (at least two), ordered by
    the water they deliver to the sites of ``kind``; in each member, the front's
    ``measure`` is interpolated linearly at the water the policy delivered in that member,
    and the policy's ``measure`` minus it is averaged over members with a 95 % interval.
    Negative: the policy does better than the rotations at the same water. Policies whose
    water lies outside the front's range in some member are marked (``inside`` False) and
    get no front value and no difference (NaN).

    Returns
    -------
    pandas.DataFrame
        Per policy not on the front: ``water_m3`` (mean), ``front_<measure>`` (the front
        at that water, mean), ``<measure>``, ``difference`` with ``difference_lo`` and
        ``difference_hi``, ``inside``.
    """
    out = outcomes(ds).sel(kind=kind)
    on = out["policy_type"].values == FRONT_TYPE
    if on.sum() < 2:
        return pd.DataFrame()
    fw = out["water_m3"].values[on]  # (front policy, member)
    fm = out[measure].values[on]
    rows = []
    for i in np.flatnonzero(~on):
        w, m = out["water_m3"].values[i], out[measure].values[i]
        ref = np.empty_like(w)
        inside = True
        for k in range(w.size):
            order = np.argsort(fw[:, k], kind="stable")
            x, y = fw[order, k], fm[order, k]
            inside &= bool(x[0] <= w[k] <= x[-1])
            ref[k] = np.interp(w[k], x, y)
        diff = m - ref
        mean, lo, hi = interval(diff) if inside else (np.nan, np.nan, np.nan)
        rows.append({"policy": str(out["policy"].values[i]), "water_m3": float(w.mean()),
                     f"front_{measure}": float(ref.mean()) if inside else np.nan,
                     measure: float(m.mean()),
                     "difference": float(mean), "difference_lo": float(lo),
                     "difference_hi": float(hi), "inside": inside})
    return pd.DataFrame(rows).set_index("policy")


def members_needed(ds: xr.Dataset, policy: str, reference: str, halfwidth: float,
                   kind: str = "young_tree", measure: str = "critical_site_days") -> int:
    """Members a 95 % interval of the paired difference ``policy - reference`` needs to
    be at most ``halfwidth`` wide on each side, from the spread measured in ``ds``
    (n ≥ (z s / h)², then refined with Student's t)."""
    out = outcomes(ds).sel(kind=kind)
    d = (out[measure].sel(policy=policy) - out[measure].sel(policy=reference)).values
    if d.size < 2:
        return 0
    s = float(np.std(d, ddof=1))
    n = max(2, int(np.ceil((stats.norm.ppf(0.5 + CONFIDENCE / 2) * s / halfwidth) ** 2)))
    while stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * s / np.sqrt(n) > halfwidth:
        n += 1
    return n


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


def _watered_kinds(ds: xr.Dataset) -> list[str]:
    """The kinds some policy delivered water to, in the order of the sites."""
    w = ds["water_l"].sum(("policy", "member", "time"))
    kinds = ds["kind"].values.astype(str)
    return [k for k in dict.fromkeys(kinds) if float(w.values[kinds == k].sum()) > 0]


def _focus_kind(ds: xr.Dataset) -> str:
    kinds = _watered_kinds(ds)
    return "young_tree" if "young_tree" in kinds or not kinds else kinds[0]


def plot_critical_sites(ds: xr.Dataset, kind: str | None = None) -> Figure:
    """Sites of ``kind`` (default: young trees) in the critical tension class (> 80 kPa)
    per day and policy: median and min-max over members."""
    kind = kind or _focus_kind(ds)
    of_kind = ds["kind"] == kind
    crit = ((ds["tension_kpa"] > TENSION_CLASSES_KPA[1]) & of_kind).sum("site")
    n = int(of_kind.sum())
    return _series_figure(crit, f"{_scenario(ds)}: {kind} sites drier than "
                          f"{TENSION_CLASSES_KPA[1]:g} kPa per day",
                          f"critical sites (of {n})")


def plot_groundwater_head(ds: xr.Dataset) -> Figure:
    """Groundwater head averaged over the wells per policy [m above datum]: median and
    min-max over members; the axis spans at least :data:`HEAD_MIN_SPAN_M`."""
    head = ds["head_wells_m"].mean("well")
    fig = _series_figure(head, f"{_scenario(ds)}: groundwater head, mean of "
                         f"{ds.sizes['well']} wells", "head [m above datum]")
    ax = fig.axes[0]
    ax.ticklabel_format(axis="y", useOffset=False, style="plain")
    low, top = float(head.min()), float(head.max())
    if top - low < HEAD_MIN_SPAN_M:
        mid = (top + low) / 2
        ax.set_ylim(mid - HEAD_MIN_SPAN_M / 2, mid + HEAD_MIN_SPAN_M / 2)
    return fig


def plot_stress_map(ds: xr.Dataset) -> Figure:
    """Map of critical days (> 80 kPa) per site: one panel per policy, each site of a
    watered kind a dot coloured by its mean critical days per member [d] on one scale for
    all panels. Axes in km of the city's projected coordinates."""
    kinds = _watered_kinds(ds) or list(dict.fromkeys(ds["kind"].values.astype(str)))
    show = np.isin(ds["kind"].values, kinds)
    days = (ds["tension_kpa"] > TENSION_CLASSES_KPA[1]).sum("time").mean("member")
    per_policy = days.transpose("policy", "site").values[:, show]
    x_km, y_km = ds["x"].values[show] / M_PER_KM, ds["y"].values[show] / M_PER_KM
    vmax = max(float(per_policy.max(initial=0.0)), MAP_MIN_VMAX_D)
    colours = ScalarMappable(Normalize(0.0, vmax), STRESS_CMAP)
    policies = ds["policy"].values
    fig = Figure(figsize=(MAP_PANEL_IN * (len(policies) + 0.4), MAP_PANEL_IN),
                 layout="constrained")
    axes = fig.subplots(1, len(policies), sharex=True, sharey=True, squeeze=False)[0]
    for ax, policy, d in zip(axes, policies, per_policy, strict=True):
        order = np.argsort(d, kind="stable")  # most stressed drawn on top
        ax.scatter(x_km[order], y_km[order], s=MAP_DOT_PT2, c=d[order], cmap=colours.cmap,
                   norm=colours.norm)
        ax.set_title(f"{policy}: {d.sum():,.0f} critical site-days", fontsize=9)
        ax.set_aspect("equal")
        ax.ticklabel_format(useOffset=False)
        ax.set_xlabel("x [km]")
    axes[0].set_ylabel("y [km]")
    fig.colorbar(colours, ax=axes, shrink=0.8,
                 label=f"days > {TENSION_CLASSES_KPA[1]:g} kPa per member [d]")
    fig.suptitle(f"{_scenario(ds)}: where the sites of {', '.join(kinds)} were critical")
    return fig


def plot_front(ds: xr.Dataset, kind: str | None = None,
               measure: str = "critical_site_days") -> Figure:
    """The iso-water front: ``measure`` of the sites of ``kind`` against the water they
    got, one point per policy (mean over members, 95 % intervals as bars); the rotations
    (fixed-interval settings) joined into the front, ``none`` at zero water."""
    kind = kind or _focus_kind(ds)
    out = outcomes(ds).sel(kind=kind)
    fig = Figure(figsize=(8.0, 5.5), layout="constrained")
    ax = fig.add_subplot()
    types = out["policy_type"].values.astype(str)
    w = [interval(v) for v in out["water_m3"].values]
    m = [interval(v) for v in out[measure].values]
    markers = {"fixed-interval": "s", "forecast": "o", "sensor-threshold": "^", "none": "x"}
    for typ in dict.fromkeys(types):
        idx = np.flatnonzero(types == typ)
        x = np.array([w[i][0] for i in idx])
        y = np.array([m[i][0] for i in idx])
        xerr = np.array([[w[i][0] - w[i][1], w[i][2] - w[i][0]] for i in idx]).T
        yerr = np.array([[m[i][0] - m[i][1], m[i][2] - m[i][0]] for i in idx]).T
        ax.errorbar(x, y, xerr=np.nan_to_num(xerr), yerr=np.nan_to_num(yerr),
                    fmt=markers.get(typ, "D"), capsize=3, label=typ)
        if typ == FRONT_TYPE and idx.size > 1:
            order = np.argsort(x)
            ax.plot(x[order], y[order], color="0.4", lw=1, ls="--", zorder=0)
        for i, xi, yi in zip(idx, x, y, strict=True):
            ax.annotate(str(out["policy"].values[i]), (xi, yi), fontsize=7,
                        xytext=(4, 4), textcoords="offset points")
    ax.set_xlabel(f"water delivered to the {kind} sites over the season [m³]")
    ax.set_ylabel(MEASURES[measure][0] + f" of the {kind} sites")
    ax.set_title(f"{_scenario(ds)}: outcome against water ({out.sizes['member']} members, "
                 f"95 % intervals)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def _plots() -> dict[str, Callable[[xr.Dataset], Figure]]:
    """The report's plots by file name (looked up at call time)."""
    return {FRONT_PNG: plot_front, WATER_PNG: plot_cumulative_water,
            CRITICAL_PNG: plot_critical_sites, HEAD_PNG: plot_groundwater_head,
            MAP_PNG: plot_stress_map}


def _rounded(table: pd.DataFrame, decimals: dict[str, int]) -> pd.DataFrame:
    """Floats rounded in float64 (float32 values print as 46.59999847 otherwise)."""
    out = table.copy()
    for c in out.columns:
        base = c.removesuffix("_lo").removesuffix("_hi")
        if pd.api.types.is_float_dtype(out[c]):
            out[c] = out[c].astype(float).round(decimals.get(base, 2))
    return out


def interval_text(table: pd.DataFrame, names: dict[str, tuple[str, int]] | None = None
                  ) -> pd.DataFrame:
    """A table of :func:`summary`, :func:`costs` or :func:`paired` as text for reading:
    ``mean (lo..hi)`` per measure of ``names`` (measure -> (header, decimals); default
    every measure of :data:`MEASURES` and :data:`COSTS` in the table)."""
    names = names or {k: v for k, v in {**MEASURES, **COSTS}.items() if k in table}
    out = {}
    for name, (header, d) in names.items():
        if name not in table:
            continue
        m, lo, hi = (table[name], table.get(f"{name}_lo"), table.get(f"{name}_hi"))
        out[header] = [f"{a:,.{d}f}" + ("" if lo is None or not np.isfinite(b) else
                                         f" ({b:,.{d}f}..{c:,.{d}f})")
                       for a, b, c in zip(m, lo if lo is not None else m,
                                          hi if hi is not None else m, strict=True)]
    return pd.DataFrame(out, index=table.index)


def front_sentence(ds: xr.Dataset, kind: str | None = None) -> str:
    """What the iso-water front says, in one sentence per policy off the front, with the
    numbers (see :func:`front`)."""
    kind = kind or _focus_kind(ds)
    f = front(ds, kind)
    if f.empty:
        return (f"No iso-water front: the scenario has fewer than two {FRONT_TYPE} "
                "settings.")
    types = dict(zip(ds["policy"].values.astype(str), _policy_types(ds), strict=True))
    parts = []
    for pol, r in f.iterrows():
        if types[str(pol)] == NO_WATERING:
            continue
        if not r["inside"]:
            parts.append(f"{pol} used {r['water_m3']:,.0f} m³ on the {kind} sites, outside "
                         "the water range of the rotations, so no comparison at equal "
                         "water is made.")
            continue
        sig = r["difference_hi"] < 0 or r["difference_lo"] > 0
        verdict = ("beats" if r["difference"] < 0 else "is worse than") if sig else \
            "is not distinguishable from"
        rel = 100 * r["difference"] / r["front_critical_site_days"] \
            if r["front_critical_site_days"] else np.nan
        parts.append(
            f"{pol} {verdict} the rotation front at equal water: with {r['water_m3']:,.0f} "
            f"m³ on the {kind} sites it had {r['critical_site_days']:,.0f} critical "
            f"site-days (> 80 kPa) where the rotations give {r['front_critical_site_days']:,.0f}"
            f", a difference of {r['difference']:+,.0f} ({rel:+.0f} %; 95 % interval "
            f"{r['difference_lo']:+,.0f} to {r['difference_hi']:+,.0f}).")
    return " ".join(parts)


def sections(ds: xr.Dataset, table: pd.DataFrame) -> list[Section]:
    """The report's content, in order: what was simulated, the verdict at equal water,
    the planner's table per kind, the fleet's costs, paired differences, plots, how to
    read.

    Parameters
    ----------
    ds
        Scenario results with the attributes of :data:`REPORT_ATTRS`.
    table
        Its :func:`summary`.
    """
    a = ds.attrs
    n_members = ds.sizes["member"]
    watered = _watered_kinds(ds)
    kinds = [k for k in dict.fromkeys(table.index.get_level_values("kind")) if k in watered]
    counts = {k: int((ds["kind"] == k).sum()) for k in kinds}
    policies = ", ".join(f"{p} ({t})" for p, t in zip(ds["policy"].values, _policy_types(ds),
                                                      strict=True))
    simulated = [
        f"- Season: {a['season']} ({ds.sizes['time']} days); soil and groundwater spun up "
        f"from {a['spinup_start']}.",
        f"- Policies compared: {policies}.",
        f"- Members: {a['members']} closed-loop realisations of the true world (seed "
        f"{a['seed']}); intervals are 95 % (Student's t over members).",
        "- Sites scored: " + ", ".join(f"{counts[k]} {k}" for k in kinds)
        + " (every site of a kind, watered or not).",
        f"- Execution rate: {float(a['execution_rate']):.0%} of the planned visits carried "
        "out by the crews (the missed ones drawn at random).",
        f"- Weather: {a.get('perturbation', 'as observed')}.",
        f"- Routing: {a['routing']}",
        f"- Groundwater: {a['groundwater']}",
        f"- Forecast: {a['forecast']}",
    ]
    if a.get("truth"):
        simulated.append(f"- Truth: {a['truth']}")
    focus = _focus_kind(ds)
    types = _policy_types(ds)
    reference = next((str(p) for p, t in zip(ds["policy"].values, types, strict=True)
                      if t == FRONT_TYPE), str(ds["policy"].values[0]))
    diff = paired(ds, reference, focus)
    out = [
        Section(f"Drought scenario {a['scenario']} — {a['city']}", [str(a["description"])]),
        Section("What was simulated", simulated),
        Section(f"At equal water ({focus})", [front_sentence(ds, focus)], image=FRONT_PNG),
    ]
    for kind in kinds:
        sub = table.xs(kind, level="kind")
        shown = interval_text(_rounded(sub, {k: d for k, (_, d) in MEASURES.items()}),
                              MEASURES)
        if kind not in TREE_KINDS:
            shown = shown.drop(columns=[MEASURES["dying_sites"][0]])
        ratio = sub["m3_per_avoided_critical_day"]
        if ratio.notna().any():
            shown["m³ per avoided critical site-day"] = [
                "" if not np.isfinite(v) else f"{v:,.2f}" for v in ratio]
        out.append(Section(f"Outcomes of the {counts[kind]} {kind} sites", [
            f"Season totals over the {kind} sites, means over {n_members} members with "
            "95 % intervals."], shown.reset_index()))
    out.append(Section("The fleet", ["Season totals of the fleet, means with 95 % "
                                     "intervals."],
                       interval_text(_rounded(costs(ds), {k: d for k, (_, d) in
                                                          COSTS.items()}),
                                     COSTS).reset_index()))
    if len(diff):
        out.append(Section(f"Paired differences against {reference} ({focus})", [
            "Each policy minus the reference, member by member (same truth, weather and "
            "forecasts); an interval that excludes 0 is a difference the members support."],
            interval_text(_rounded(diff, {k: d for k, (_, d) in MEASURES.items()}),
                          {k: MEASURES[k] for k in diff.columns if k in MEASURES})
            .reset_index()))
    out += [
        Section("Cumulative water delivered", [], image=WATER_PNG),
        Section(f"{focus} sites in the critical class per day", [], image=CRITICAL_PNG),
        Section("Groundwater head at the wells", [], image=HEAD_PNG),
        Section("Where the sites were critical", [], image=MAP_PNG),
        Section("How to read this", [
            "Tension classes of the true root zone (Berlin method): ≤ 33 kPa good, 33-80 kPa "
            "moderate, > 80 kPa critical; a site-day is one site on one day. Σ(1 - Ks) adds "
            "up the share of transpiration lost (FAO-56 eq. 84) over the site-days. A tree "
            f"with at least {DYING_RUN_DAYS} consecutive critical days counts as likely to "
            "die. The worst 10 % are the sites of a kind with the most critical days.",
            "Every site of a kind is scored, whether a policy waters it or not, so two "
            "policies are always compared on the same sites. Water is what the crews "
            "delivered, not what was planned.",
            "m³ per avoided critical site-day: the water a policy used more than nobody "
            "watering, per critical site-day fewer than nobody watering.",
            f"Every number per policy, member, day and site is in {a['scenario']}.nc; "
            "summary.csv, costs.csv, paired.csv and front.csv hold the tables unrounded.",
        ]),
    ]
    return out


def _netcdf_encoding(ds: xr.Dataset) -> dict[str, dict]:
    """zlib for the big variables: every data variable on more than one dim."""
    return {name: {"zlib": True, "complevel": NETCDF_COMPLEVEL}
            for name, v in ds.data_vars.items() if v.ndim > 1}


def write_results(ds: xr.Dataset, folder: str | Path) -> Path:
    """Write the results of a scenario run into ``folder`` (created); returns it.

    Files: ``<scenario>.nc`` (the dataset, zlib-compressed), ``summary.csv``
    (:func:`summary`), ``costs.csv`` (:func:`costs`), ``paired.csv`` (:func:`paired`
    against the first rotation), ``front.csv`` (:func:`front`), all unrounded; the plots
    ``iso_water_front.png``, ``cumulative_water.png``, ``critical_sites.png``,
    ``groundwater_head.png``, ``stress_map.png`` and the report ``report.md`` /
    ``report.html`` (self-contained, images embedded).

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
    types = _policy_types(ds)
    reference = next((str(p) for p, t in zip(ds["policy"].values, types, strict=True)
                      if t == FRONT_TYPE), str(ds["policy"].values[0]))
    with tempfile.TemporaryDirectory(prefix="irrigation-results-") as staging:
        stage = Path(staging)
        for name, plot in _plots().items():
            plot(ds).savefig(stage / name, dpi=PNG_DPI, format="png")
        for name, t in (("summary.csv", table), ("costs.csv", costs(ds)),
                        ("paired.csv", paired(ds, reference, _focus_kind(ds))),
                        ("front.csv", front(ds, _focus_kind(ds)))):
            t.to_csv(stage / name, float_format="%.10g", lineterminator="\n")
        secs = sections(ds, table)
        (stage / "report.md").write_text(to_markdown(secs), encoding="utf-8")
        (stage / "report.html").write_text(to_html(secs, stage), encoding="utf-8")
        encoding = _netcdf_encoding(ds)
        atomic_write(folder / f"{ds.attrs['scenario']}.nc",
                     lambda tmp: ds.to_netcdf(tmp, engine="h5netcdf", encoding=encoding))
        for f in sorted(stage.iterdir()):
            atomic_write(folder / f.name, lambda tmp, f=f: shutil.copyfile(f, tmp))
    return folder
