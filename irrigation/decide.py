"""Who needs water, when, and how much; and which of them the fleet serves today.

Two pure steps on xarray/pandas objects:

1. :func:`demand` — from the forecast root-zone depletion of every site and ensemble member
   (``dr_mm`` over ``time`` x ``site`` x ``member``, day 0 = today) and a per-site threshold
   (:func:`threshold_mm`), the first day each member crosses the threshold, the probability
   of crossing within the horizon, the day the site is due (the day by which a fraction
   ``rules.due_probability`` of members has crossed) and the litres to bring it back toward
   field capacity, capped by pit capacity and per-visit maxima.
2. :func:`schedule` — sites due within the lead time, ordered by urgency and priority, fill
   the fleet's daily capacity (:func:`fleet_capacity_l`); the rest is deferred with a reason
   and the latest safe day. Sites due in the next days that lie close to a served site are
   pulled forward while capacity remains (they are on today's routes anyway).

Every rule is a field of :class:`DecideRules` (the ``[decide]`` table of
``city.toml``), documented there; nothing is buried.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from scipy.spatial import cKDTree

from .params import require
from .routing import VehicleType
from .soil import theta_from_depletion, van_genuchten_tension_kpa, van_genuchten_theta


@dataclass(frozen=True)
class DecideRules:
    """Rules of the watering decision; defaults documented here, nowhere else.

    Attributes
    ----------
    watered_kinds
        Site kinds the department waters (older trees are usually left alone).
    lead_days
        A site is due today when its due day is within this many days (0 = only when
        the threshold is crossed today).
    due_probability
        Fraction of ensemble members that must cross the threshold by a day for the site
        to be due on that day (0.5 = the median member).
    young_tree_tension_kpa
        Stricter thresholds for young trees by age (years since planting, index 0, 1, 2,
        ...; the last value holds for older ages): water before the root-zone tension
        passes this value [kPa]. The Berlin practice classes are <= 33 kPa good,
        33-80 kPa moderate, > 80 kPa critical; newly planted trees with small root balls
        are watered earlier. The threshold used is the stricter of this and RAW.
    refill_fraction
        A visit refills this fraction of the depletion on the day of watering [-].
    min_visit_l, max_visit_l_tree
        Litres per tree visit (practice: 75-200 L per young tree) [L].
    max_visit_mm_lawn, max_visit_mm_bed
        Most water per visit on lawns and shrub beds [mm over their area].
    min_visit_mm_area
        Lawns and beds are not visited for less than this [mm].
    pull_forward_days
        Sites due within this many days after the lead time may be pulled forward...
    pull_forward_radius_m
        ...when they lie within this distance of a site served today [m].
    travel_min_per_stop
        Mean driving time between neighbouring stops, to estimate fleet capacity [min].
    trip_overhead_min
        Driving to and from a hydrant per tank load, to estimate fleet capacity [min].
    """

    watered_kinds: tuple[str, ...] = ("young_tree", "lawn", "shrub_bed")
    lead_days: int = 1
    due_probability: float = 0.5
    young_tree_tension_kpa: tuple[float, ...] = (50.0, 60.0, 80.0)
    refill_fraction: float = 0.8
    min_visit_l: float = 75.0
    max_visit_l_tree: float = 200.0
    max_visit_mm_lawn: float = 20.0
    max_visit_mm_bed: float = 25.0
    min_visit_mm_area: float = 5.0
    pull_forward_days: int = 3
    pull_forward_radius_m: float = 150.0
    travel_min_per_stop: float = 4.0
    trip_overhead_min: float = 15.0

    def __post_init__(self) -> None:
        require(self.lead_days >= 0, "lead_days", "a number of days >= 0")
        require(0 < self.due_probability <= 1, "due_probability", "a fraction in (0, 1]")
        require(len(self.young_tree_tension_kpa) >= 1, "young_tree_tension_kpa", "a list")
        require(
            all(t > 0 for t in self.young_tree_tension_kpa),
            "young_tree_tension_kpa",
            "tensions > 0 kPa",
        )
        require(0 < self.refill_fraction <= 1, "refill_fraction", "a fraction in (0, 1]")
        require(
            0 < self.min_visit_l <= self.max_visit_l_tree,
            "max_visit_l_tree",
            "0 < min_visit_l <= max_visit_l_tree",
        )
        require(
            self.max_visit_mm_lawn > 0 and self.max_visit_mm_bed > 0,
            "max_visit_mm_lawn",
            "maxima > 0 mm",
        )
        require(
            self.pull_forward_days >= 0 and self.pull_forward_radius_m >= 0,
            "pull_forward_days",
            "values >= 0",
        )
        require(
            self.travel_min_per_stop >= 0 and self.trip_overhead_min >= 0,
            "travel_min_per_stop",
            "times >= 0 min",
        )


DEFAULT_RULES = DecideRules()
"""The documented defaults of :class:`DecideRules`."""


# --------------------------------------------------------------------------- thresholds


def site_thresholds(
    sites: xr.Dataset,
    raw_mm: xr.DataArray,
    hydraulics: dict[str, np.ndarray],
    year: int,
    rules: DecideRules = DEFAULT_RULES,
) -> xr.Dataset:
    """The depletion at which each site needs water, and the rule that set it.

    Parameters
    ----------
    sites
        Site dataset (``kind``, ``planting_year``, ``root_depth_m``).
    raw_mm
        Readily available water RAW = p TAW [mm] per site (FAO-56 eq. 83).
    hydraulics
        Van Genuchten parameters and θFC per site, as from
        :func:`irrigation.soil.site_hydraulics`.
    year
        Calendar year of the planning day (to compute tree age).
    rules
        The decision rules.

    Returns
    -------
    xr.Dataset
        Over ``site``: ``threshold_mm`` [mm] (RAW; for young trees the stricter of RAW and
        the depletion at which the root zone reaches the age's tension,
        ``1000 (θFC - θ(h_age)) Zr`` with θ(h) of van Genuchten 1980); the tensions of
        RAW (``raw_kpa``), of the age's configured threshold (``young_tree_kpa``, NaN for
        other kinds) and of the threshold applied (``threshold_kpa``) [kPa]; ``rule``:
        ``"RAW"`` or ``"young-tree tension"``.
    """
    tensions = np.asarray(rules.young_tree_tension_kpa)
    age = np.clip(year - sites.planting_year.values, 0, len(tensions) - 1)
    vg = [hydraulics[k] for k in ("theta_r", "theta_s", "alpha_per_cm", "n")]
    zr = sites.root_depth_m.values
    theta = van_genuchten_theta(tensions[age], *vg)
    at_tension = 1000.0 * (hydraulics["theta_fc"] - theta) * zr
    young = sites.kind.values == "young_tree"
    raw = np.broadcast_to(np.asarray(raw_mm), young.shape)
    use_tension = young & (at_tension < raw)
    thr = np.where(use_tension, at_tension, raw)

    def kpa(dr):
        return van_genuchten_tension_kpa(theta_from_depletion(dr, hydraulics["theta_fc"], zr),
                                         *vg)

    site = {"site": sites.site.values}
    return xr.Dataset({
        "threshold_mm": xr.DataArray(thr, dims="site", coords=site,
                                     attrs={"units": "mm", "long_name": "depletion threshold"}),
        "threshold_kpa": ("site", kpa(thr), {"units": "kPa"}),
        "raw_kpa": ("site", kpa(raw), {"units": "kPa"}),
        "young_tree_kpa": ("site", np.where(young, tensions[age], np.nan), {"units": "kPa"}),
        "rule": ("site", np.where(use_tension, "young-tree tension", "RAW").astype(object)),
    }, coords=site)


def table_thresholds(sites: xr.Dataset, hydraulics: dict[str, np.ndarray],
                     taw_mm: xr.DataArray, species: pd.DataFrame, year: int,
                     rules: DecideRules = DEFAULT_RULES) -> xr.Dataset:
    """:func:`site_thresholds` with RAW from the species table's depletion fraction p as
    it is (FAO-56 Table 22, i.e. at ETc = 5 mm d-1; the daily run adjusts p with each
    day's ETc, FAO-56 eq. 84's footnote), for checking a city before any weather."""
    p = species.loc[sites["species"].values.astype(str), "p_depletion"].to_numpy(float)
    raw = xr.DataArray(p * np.asarray(taw_mm), dims="site",
                       coords={"site": sites["site"].values})
    return site_thresholds(sites, raw, hydraulics, year, rules)


def threshold_mm(
    sites: xr.Dataset,
    raw_mm: xr.DataArray,
    hydraulics: dict[str, np.ndarray],
    year: int,
    rules: DecideRules = DEFAULT_RULES,
) -> xr.DataArray:
    """Depletion at which a site needs water [mm], per site (``threshold_mm`` of
    :func:`site_thresholds`)."""
    return site_thresholds(sites, raw_mm, hydraulics, year, rules)["threshold_mm"]


def threshold_summary(thresholds: xr.Dataset, sites: xr.Dataset, year: int,
                      kinds: Sequence[str] | None = None) -> pd.DataFrame:
    """The thresholds applied, per kind, soil and (young trees) age: what a person checks.

    Parameters
    ----------
    thresholds
        :func:`site_thresholds`.
    sites
        The sites (``kind``, ``soil_texture``, ``planting_year``).
    year
        The planning year (tree age).
    kinds
        Kinds to list (default: all).

    Returns
    -------
    pandas.DataFrame
        One row per kind, soil texture and age: ``sites``, medians of ``raw_kpa``,
        ``configured_kpa`` (young trees) and ``applied_kpa``, the ``rule`` applied (with
        the count when both occur) and a ``note`` when a configured young-tree tension is
        looser than RAW, so that RAW applies instead.
    """
    kind = sites["kind"].values.astype(str)
    young = kind == "young_tree"
    age = np.where(young, year - sites["planting_year"].values.astype(float), np.nan)
    t = pd.DataFrame({"kind": kind, "soil_texture": sites["soil_texture"].values.astype(str),
                      "age": np.where(young, np.clip(age, 0, None), -1).astype(int),
                      "raw": thresholds["raw_kpa"].values,
                      "configured": thresholds["young_tree_kpa"].values,
                      "applied": thresholds["threshold_kpa"].values,
                      "rule": thresholds["rule"].values.astype(str)})
    if kinds is not None:
        t = t[t["kind"].isin(list(kinds))]
    rows = []
    for (k, tex, a), g in t.groupby(["kind", "soil_texture", "age"], sort=True):
        rules_used = g["rule"].value_counts()
        rule = (rules_used.index[0] if len(rules_used) == 1 else
                ", ".join(f"{r} {n}" for r, n in rules_used.items()))
        note = ""
        looser = g["configured"] >= g["raw"]
        if looser.any():
            note = (f"configured {g['configured'].median():.0f} kPa is looser than RAW "
                    f"({g.loc[looser, 'raw'].median():.0f} kPa) at {int(looser.sum())} "
                    "sites: RAW applies there")
        rows.append({"kind": k, "soil_texture": tex, "age": "" if a < 0 else int(a),
                     "sites": len(g), "raw_kpa": round(float(g["raw"].median()), 1),
                     "configured_kpa": (round(float(g["configured"].median()), 1)
                                        if k == "young_tree" else np.nan),
                     "applied_kpa": round(float(g["applied"].median()), 1),
                     "rule": rule, "note": note})
    return pd.DataFrame(rows, columns=["kind", "soil_texture", "age", "sites", "raw_kpa",
                                       "configured_kpa", "applied_kpa", "rule", "note"])


# --------------------------------------------------------------------------- demand


def first_crossing_day(dr_mm: xr.DataArray, thr_mm: xr.DataArray) -> xr.DataArray:
    """First day index (0 = today) on which ``dr_mm > thr_mm``; ``inf`` when never [d]."""
    over = (dr_mm > thr_mm).transpose("time", ...)
    first = over.argmax("time").astype(float)
    return first.where(over.any("time"), np.inf)


def demand(
    dr_mm: xr.DataArray,
    thr_mm: xr.DataArray,
    sites: xr.Dataset,
    rules: DecideRules = DEFAULT_RULES,
) -> xr.Dataset:
    """Demand of every site: when it is due, how sure, and how many litres.

    Parameters
    ----------
    dr_mm
        Forecast root-zone depletion [mm] over (``time``, ``site``[, ``member``]),
        ``time`` index 0 = the planning day (before any watering).
    thr_mm
        Threshold depletion per site [mm] (:func:`threshold_mm`).
    sites
        Site dataset (``kind``, ``area_m2``, ``pit_capacity_l``, ``priority``).
    rules
        The decision rules.

    Returns
    -------
    xr.Dataset over ``site``
        ``due_day`` [d from today, inf = not within the horizon], ``p_cross`` (fraction of
        members crossing within the horizon), ``p_cross_lead`` (within the lead time),
        ``litres`` [L] for a visit today, ``depletion_frac`` (today's Dr / threshold),
        ``watered`` (kind is watered at all) and ``due`` (due today).
    """
    if "member" not in dr_mm.dims:
        dr_mm = dr_mm.expand_dims(member=1)
    first = first_crossing_day(dr_mm, thr_mm)
    nmem = first.sizes["member"]
    # the day by which a fraction due_probability of members has crossed
    k = int(np.ceil(rules.due_probability * nmem)) - 1
    due_day = xr.DataArray(
        np.sort(first.transpose("site", "member").values, axis=1)[:, k],
        dims="site",
        coords={"site": first.site},
    )
    p_cross = np.isfinite(first).mean("member")
    p_lead = (first <= rules.lead_days).mean("member")
    today = dr_mm.isel(time=0).median("member")
    return xr.Dataset(
        {
            "due_day": due_day.assign_attrs(units="d"),
            "p_cross": p_cross.assign_attrs(units="1"),
            "p_cross_lead": p_lead.assign_attrs(units="1"),
            "litres": visit_litres(today, sites, rules).assign_attrs(units="L"),
            "depletion_frac": (today / thr_mm).assign_attrs(units="1"),
            "watered": ("site", np.isin(sites.kind.values, rules.watered_kinds)),
        }
    ).assign(due=lambda d: d.watered & (d.due_day <= rules.lead_days))


def visit_litres(dr_today_mm: xr.DataArray, sites: xr.Dataset, rules: DecideRules) -> xr.DataArray:
    """Litres for one visit today [L]: refill toward field capacity, within the caps.

    ``litres = refill_fraction * Dr * area`` (1 mm over 1 m2 = 1 L), then for trees clipped
    to [min_visit_l, max_visit_l_tree] and to the pit capacity; for lawns and beds capped at
    ``max_visit_mm_* * area``.
    """
    kind = sites.kind.values
    area = sites.area_m2.values
    want = rules.refill_fraction * np.maximum(dr_today_mm.values, 0.0) * area
    tree = np.char.endswith(kind.astype(str), "_tree")
    cap_mm = np.where(kind == "lawn", rules.max_visit_mm_lawn, rules.max_visit_mm_bed)
    tree_l = np.clip(want, rules.min_visit_l, rules.max_visit_l_tree)
    pit = sites.pit_capacity_l.values.astype(float)
    tree_l = np.where(np.isfinite(pit), np.minimum(tree_l, pit), tree_l)
    area_l = np.minimum(want, cap_mm * area)
    area_l = np.where(
        area_l < rules.min_visit_mm_area * area, rules.min_visit_mm_area * area, area_l
    )
    return xr.DataArray(
        np.round(np.where(tree, tree_l, area_l), 0), dims="site", coords={"site": sites.site.values}
    )


# --------------------------------------------------------------------------- schedule


def fleet_capacity_l(
    fleet: Sequence[VehicleType],
    refill_l_per_min: float,
    mean_visit_l: float,
    rules: DecideRules = DEFAULT_RULES,
) -> float:
    """Litres the fleet can deliver in one day [L], from shift time.

    Each litre costs pumping (1 / pump rate), refilling (1 / refill rate) and a share of
    the per-stop time (set-up + travel, per ``mean_visit_l``) and of the per-tank trip
    overhead; the usable shift divided by that cost gives litres per truck.
    """
    total = 0.0
    for v in fleet:
        min_per_l = (
            1.0 / v.pump_l_per_min
            + 1.0 / refill_l_per_min
            + (v.setup_min + rules.travel_min_per_stop) / max(mean_visit_l, 1.0)
            + rules.trip_overhead_min / v.tank_l
        )
        total += v.count * v.shift_minutes / min_per_l
    return total


def schedule(
    dem: xr.Dataset,
    sites: xr.Dataset,
    capacity_l: float,
    today: np.datetime64 | str,
    rules: DecideRules = DEFAULT_RULES,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Today's visits and the deferred sites.

    Due sites are ranked by priority (1 first), then due day, then probability of
    crossing within the lead time (high first), then today's depletion relative to the
    threshold (high first), and served while their litres fit into ``capacity_l``. Then
    watered sites due within ``lead_days + pull_forward_days`` that lie within
    ``pull_forward_radius_m`` of a served site are added while capacity remains.

    Returns
    -------
    visits : pandas.DataFrame
        One row per site to water today: site, x, y, kind, priority, litres, due_day,
        p_cross, reason (``"due"`` or ``"pulled forward"``), street (if known).
    deferred : pandas.DataFrame
        Due sites not served today: site, litres, due_day, latest_safe_day (date),
        reason.
    """
    today = np.datetime64(today, "D")
    table = (
        xr.merge(
            [dem, sites[["kind", "priority"] + (["street"] if "street" in sites else [])]],
            compat="override",
        )
        .to_dataframe()
        .reset_index()
    )
    table = table[table["watered"]]
    due = table[table["due"]].sort_values(
        ["priority", "due_day", "p_cross_lead", "depletion_frac"],
        ascending=[True, True, False, False],
        kind="stable",
    )
    fits = due["litres"].cumsum().to_numpy() <= capacity_l
    served = due[fits].assign(reason="due")
    deferred = due[~fits]
    left = capacity_l - served["litres"].sum()
    soon = table[~table["due"] & (table["due_day"] <= rules.lead_days + rules.pull_forward_days)]
    if len(served) and len(soon) and rules.pull_forward_radius_m > 0:
        dist, _ = cKDTree(served[["x", "y"]].to_numpy()).query(soon[["x", "y"]].to_numpy())
        near = soon[dist <= rules.pull_forward_radius_m].sort_values(
            ["due_day", "priority"], kind="stable"
        )
        take = near["litres"].cumsum().to_numpy() <= left
        served = pd.concat([served, near[take].assign(reason="pulled forward")])
    cols = ["site", "x", "y", "kind", "priority", "litres", "due_day", "p_cross", "reason"]
    if "street" in table:
        cols.append("street")
    latest = today + deferred["due_day"].to_numpy().astype("timedelta64[D]")  # due: finite
    deferred = pd.DataFrame(
        {
            "site": deferred["site"].to_numpy(),
            "litres": deferred["litres"].to_numpy(),
            "due_day": deferred["due_day"].to_numpy(),
            "latest_safe_day": latest,
            "reason": "fleet capacity: lower priority or later due day than the served sites",
        }
    )
    return served[cols].reset_index(drop=True), deferred


#: Rounds of the fixed point between fleet capacity and mean visit size
#: (:func:`todays_visits`).
FLEET_CAPACITY_ROUNDS = 5


def todays_visits(
    dem: xr.Dataset,
    sites: xr.Dataset,
    fleet: Sequence[VehicleType],
    refill_l_per_min: float,
    today: np.datetime64 | str,
    rules: DecideRules = DEFAULT_RULES,
) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """Today's visits and the deferred sites within the fleet's daily capacity.

    The capacity (:func:`fleet_capacity_l`) depends on the mean visit of the sites
    served, which depend on the capacity: starting from the mean litres of all due
    sites, :func:`schedule` and the capacity are iterated to their fixed point (at most
    :data:`FLEET_CAPACITY_ROUNDS` rounds; stops when the capacity moves by <= 2 %).

    Returns
    -------
    (visits, deferred, capacity_l)
        :func:`schedule`'s tables and the capacity they were scheduled with [L].
    """
    due_l = dem["litres"].where(dem["due"]).values
    mean_l = float(np.nanmean(due_l)) if np.isfinite(due_l).any() else rules.min_visit_l
    capacity = fleet_capacity_l(fleet, refill_l_per_min, mean_l, rules)
    for _ in range(FLEET_CAPACITY_ROUNDS):
        visits, deferred = schedule(dem, sites, capacity, today, rules)
        if not len(visits):
            break
        new = fleet_capacity_l(fleet, refill_l_per_min, float(visits["litres"].mean()), rules)
        if abs(new - capacity) <= 0.02 * capacity:
            break
        capacity = new
    else:
        visits, deferred = schedule(dem, sites, capacity, today, rules)
    return visits, deferred, capacity
