"""Who needs water, when, and how much; and which of them the fleet serves today.

Two pure steps on xarray/pandas objects:

1. :func:`demand` — from the forecast root-zone depletion of every site and ensemble member
   (``dr_mm`` over ``time`` x ``site`` x ``member``, day 0 = today) and a per-site threshold
   (:func:`threshold_mm`), the first day each member crosses the threshold, the probability
   of crossing within the horizon, the day the site is due (the day by which a fraction
   ``rules.due_probability`` of members has crossed) and the litres to bring it back toward
   field capacity, capped by pit capacity and per-visit maxima.
2. :func:`todays_candidates` — who is offered to the trucks today, and who cannot be:
   sites on a fixed system (lawn sprinklers, bed drip lines: :func:`fixed_system_sites`)
   are planned in mm and minutes per zone without trucks (:func:`fixed_system_plan`);
   every due site a truck can serve is a candidate with an urgency (priority, overdue);
   sites due in the next days near a due site are candidates to pull forward; a visit
   larger than ``max_tank_loads`` tanks is not routable and a city's daily water cap
   defers the least urgent. The routing (:func:`irrigation.day.route_day`) then decides
   who is served: today's capacity is what the routes can carry, not an estimate, and a
   due site left out is deferred with the true reason (shift time, tank volume).

Every rule is a field of :class:`DecideRules` (the ``[decide]`` table of
``city.toml``), documented there; nothing is buried.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from scipy.spatial import cKDTree

from .coords import index_coords
from .params import require
from .routing import VehicleType
from .soil import depletion_tension_kpa, van_genuchten_theta


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
    rest_days
        A site watered within this many days before today is not pulled forward: it is
        served again only when it is due again [d].
    travel_min_per_stop
        Mean driving time between neighbouring stops, for the rough fleet capacity that
        ``irrigation validate`` prints (:func:`fleet_capacity_l`; the daily plan's
        capacity comes from its routes) [min].
    trip_overhead_min
        Driving to and from a hydrant per tank load, for the same estimate [min].
    fixed_system_kinds
        Kinds watered by fixed systems (lawn sprinklers, bed drip lines) instead of
        trucks; a single site joins a fixed system through the ``fixed_system`` column of
        the sites table (its zone or valve name). Such sites are planned in mm and
        minutes per zone (:func:`fixed_system_plan`) and never offered to the trucks.
    fixed_system_mm_per_h
        Application rate of a fixed system [mm h-1]: how fast a zone's valve waters its
        area (rotor sprinklers apply about 8-15 mm h-1, spray heads 25-50, drip lines
        3-8 over the wetted area; Irrigation Association 2005, Landscape Irrigation
        Scheduling and Water Management, tab. 3).
    max_tank_loads
        A visit needing more than this many loads of the fleet's largest tank is not
        routable: it is deferred with that reason (a hint to put the site on a fixed
        system) instead of occupying the fleet [-].
    max_litres_per_day
        The city's cap on the water the trucks carry in a day [L]; absent for none. The
        least urgent due sites beyond it are deferred ("water cap").
    priority_weights
        Urgency of a due visit by site priority 1, 2, 3 [-]: the routes serve the due
        sites whose weights sum highest when not all fit (4 : 2 : 1 — a priority-1 tree
        outweighs two priority-2 sites of the same effort).
    overdue_weight
        Factor on the weight of a site already past its threshold this morning [-].
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
    rest_days: int = 3
    travel_min_per_stop: float = 4.0
    trip_overhead_min: float = 15.0
    fixed_system_kinds: tuple[str, ...] = ()
    fixed_system_mm_per_h: float = 12.0
    max_tank_loads: float = 2.0
    max_litres_per_day: float | None = None
    priority_weights: tuple[float, ...] = (4.0, 2.0, 1.0)
    overdue_weight: float = 2.0

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
            self.pull_forward_days >= 0 and self.pull_forward_radius_m >= 0
            and self.rest_days >= 0,
            "pull_forward_days",
            "values >= 0",
        )
        require(
            self.travel_min_per_stop >= 0 and self.trip_overhead_min >= 0,
            "travel_min_per_stop",
            "times >= 0 min",
        )
        require(self.fixed_system_mm_per_h > 0, "fixed_system_mm_per_h", "a rate > 0 mm/h")
        require(self.max_tank_loads >= 1, "max_tank_loads", "a number of tank loads >= 1")
        require(self.max_litres_per_day is None or self.max_litres_per_day > 0,
                "max_litres_per_day", "a volume > 0 L (or absent for no cap)")
        require(len(self.priority_weights) == 3 and all(w > 0 for w in self.priority_weights),
                "priority_weights", "three weights > 0 for priorities 1, 2, 3")
        require(self.overdue_weight >= 1, "overdue_weight", "a factor >= 1")


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
    t = site_threshold_arrays(sites, raw_mm, hydraulics, year, rules)
    return xr.Dataset({k: ("site", v, dict(THRESHOLD_ATTRS[k])) for k, v in t.items()},
                      coords={"site": sites.site.values})


#: Attributes of the variables of :func:`site_thresholds`.
THRESHOLD_ATTRS = {"threshold_mm": {"units": "mm", "long_name": "depletion threshold"},
                   "threshold_kpa": {"units": "kPa"}, "raw_kpa": {"units": "kPa"},
                   "young_tree_kpa": {"units": "kPa"}, "rule": {}}


def site_threshold_arrays(sites: xr.Dataset, raw_mm: xr.DataArray | np.ndarray,
                          hydraulics: dict[str, np.ndarray], year: int,
                          rules: DecideRules = DEFAULT_RULES) -> dict[str, np.ndarray]:
    """The variables of :func:`site_thresholds` as arrays over the sites (``threshold_mm``,
    ``threshold_kpa``, ``raw_kpa``, ``young_tree_kpa`` and ``rule``), for a caller that
    puts them in a dataset of its own."""
    tensions = np.asarray(rules.young_tree_tension_kpa)
    age = np.clip(year - sites.variables["planting_year"].values, 0, len(tensions) - 1)
    vg = [hydraulics[k] for k in ("theta_r", "theta_s", "alpha_per_cm", "n")]
    zr = sites.variables["root_depth_m"].values
    theta = van_genuchten_theta(tensions[age], *vg)
    at_tension = 1000.0 * (hydraulics["theta_fc"] - theta) * zr
    young = sites.variables["kind"].values == "young_tree"
    raw = np.broadcast_to(np.asarray(raw_mm), young.shape)
    use_tension = young & (at_tension < raw)
    thr = np.where(use_tension, at_tension, raw)

    def kpa(dr):
        return depletion_tension_kpa(dr, hydraulics, zr)

    return {"threshold_mm": thr, "threshold_kpa": kpa(thr), "raw_kpa": kpa(raw),
            "young_tree_kpa": np.where(young, tensions[age], np.nan),
            "rule": np.where(use_tension, "young-tree tension", "RAW").astype(object)}


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
    return over.isel(time=0, drop=True).copy(data=_first_true(over.values))


def _first_true(over: np.ndarray) -> np.ndarray:
    """Index of the first True along axis 0, ``inf`` where none."""
    return np.where(over.any(0), over.argmax(0), np.inf)


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
    dr = dr_mm.variable.transpose("time", "site", "member").values
    thr = np.asarray(thr_mm.values, float)
    first = _first_true(dr > thr[None, :, None])  # first crossing day (site, member)
    nmem = first.shape[1]
    # the day by which a fraction due_probability of members has crossed
    k = int(np.ceil(rules.due_probability * nmem)) - 1
    due_day = np.sort(first, axis=1)[:, k]
    if np.isnan(dr[0]).any():
        with warnings.catch_warnings():  # a site whose members are all NaN stays NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            today = np.nanmedian(dr[0], axis=1)  # as xarray's median (skips NaN)
    else:  # the same numbers without nanmedian's per-row passes
        today = np.median(dr[0], axis=1)
    watered = np.isin(sites.variables["kind"].values, rules.watered_kinds)
    return xr.Dataset(
        {
            "due_day": ("site", due_day, {"units": "d"}),
            "p_cross": ("site", np.isfinite(first).mean(1), {"units": "1"}),
            "p_cross_lead": ("site", (first <= rules.lead_days).mean(1), {"units": "1"}),
            "litres": ("site", _visit_litres(today, sites, rules), {"units": "L"}),
            "depletion_frac": ("site", today / thr, {"units": "1"}),
            "watered": ("site", watered),
            "due": ("site", watered & (due_day <= rules.lead_days)),
        },
        coords=index_coords(dr_mm),
    )


def visit_litres(dr_today_mm: xr.DataArray | np.ndarray, sites: xr.Dataset,
                 rules: DecideRules) -> xr.DataArray:
    """Litres for one visit today [L]: refill toward field capacity, within the caps.

    ``litres = refill_fraction * Dr * area`` (1 mm over 1 m2 = 1 L), then for trees clipped
    to [min_visit_l, max_visit_l_tree] and to the pit capacity; for lawns and beds capped at
    ``max_visit_mm_* * area``.
    """
    return xr.DataArray(_visit_litres(dr_today_mm, sites, rules), dims="site",
                        coords={"site": sites.site.values})


def _visit_litres(dr_today_mm: xr.DataArray | np.ndarray, sites: xr.Dataset,
                  rules: DecideRules) -> np.ndarray:
    """:func:`visit_litres` as an array over the sites."""
    kind = sites.variables["kind"].values
    area = sites.variables["area_m2"].values
    want = rules.refill_fraction * np.maximum(np.asarray(dr_today_mm), 0.0) * area
    tree = np.char.endswith(kind.astype(str), "_tree")
    cap_mm = np.where(kind == "lawn", rules.max_visit_mm_lawn, rules.max_visit_mm_bed)
    tree_l = np.clip(want, rules.min_visit_l, rules.max_visit_l_tree)
    pit = sites.variables["pit_capacity_l"].values.astype(float)
    tree_l = np.where(np.isfinite(pit), np.minimum(tree_l, pit), tree_l)
    area_l = np.minimum(want, cap_mm * area)
    area_l = np.where(
        area_l < rules.min_visit_mm_area * area, rules.min_visit_mm_area * area, area_l
    )
    return np.round(np.where(tree, tree_l, area_l), 0)


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




def urgency_weight(priority: np.ndarray, due_day: np.ndarray,
                   rules: DecideRules = DEFAULT_RULES) -> np.ndarray:
    """How much serving a due site today is worth [-]: ``priority_weights`` of its
    priority, times ``overdue_weight`` when it is past its threshold this morning
    (due day 0: the median member has crossed)."""
    w = np.asarray(rules.priority_weights, float)[np.clip(np.asarray(priority, int), 1, 3) - 1]
    return w * np.where(np.asarray(due_day, float) <= 0, rules.overdue_weight, 1.0)


# --------------------------------------------------------------------------- fixed systems


def fixed_system_zone(sites: xr.Dataset, rules: DecideRules = DEFAULT_RULES) -> np.ndarray:
    """The fixed-system zone of every site (text over ``site``; ``""`` = watered by trucks).

    A site is on a fixed system (lawn sprinklers, a bed's drip line) when its
    ``fixed_system`` column names a zone (a valve; sites sharing a name run together), or
    when its kind is in ``rules.fixed_system_kinds`` (then it is its own zone, named by
    its id).
    """
    ids = sites["site"].values.astype(str)
    named = (sites["fixed_system"].values.astype(object) if "fixed_system" in sites
             else np.full(ids.size, "", dtype=object))
    named = np.where(pd.isna(named), "", named.astype(str)).astype(object)
    by_kind = np.isin(sites["kind"].values.astype(str), rules.fixed_system_kinds)
    return np.where(named != "", named, np.where(by_kind, ids, "")).astype(object)


def fixed_system_sites(sites: xr.Dataset, rules: DecideRules = DEFAULT_RULES) -> np.ndarray:
    """Which sites a fixed system waters (bool over ``site``; :func:`fixed_system_zone`)."""
    return fixed_system_zone(sites, rules) != ""


#: Columns of :func:`fixed_system_plan`.
FIXED_SYSTEM_COLUMNS = ["zone", "site", "kind", "x", "y", "street", "area_m2", "mm",
                        "minutes", "litres", "due", "due_day"]


def fixed_system_plan(dem: xr.Dataset, sites: xr.Dataset,
                      rules: DecideRules = DEFAULT_RULES, *,
                      zone: np.ndarray | None = None) -> pd.DataFrame:
    """Today's runs of the fixed systems, without trucks.

    A zone (one valve) waters all its sites together, so it runs when any of its sites is
    due, long enough for the neediest: depth ``mm = max(litres / area_m2)`` over its due
    sites (litres of :func:`visit_litres`, so the lawn and bed caps hold), run time
    ``minutes = 60 mm / fixed_system_mm_per_h``, water ``mm * area_m2`` per site (1 mm
    over 1 m2 = 1 L).

    Returns
    -------
    pandas.DataFrame
        One row per site of a running zone (:data:`FIXED_SYSTEM_COLUMNS`): ``mm`` [mm],
        ``minutes`` [min] (the zone's), ``litres`` [L], ``due`` (the site itself is due),
        ``due_day`` [d]; zones in name order.

    ``zone``: :func:`fixed_system_zone` of ``sites`` under ``rules`` when the caller has
    it (it depends on the sites and rules only); computed otherwise.
    """
    zone = (fixed_system_zone(sites, rules) if zone is None else zone).astype(str)
    sv, dv = sites.variables, dem.variables  # their arrays, no DataArray per column
    area = sv["area_m2"].values.astype(float)
    need_mm = dv["litres"].values / area
    due = dv["due"].values & (zone != "")
    running = np.unique(zone[due])  # the zones with a due site, in name order
    depth = np.full(running.size, np.nan)
    np.fmax.at(depth, np.searchsorted(running, zone[due]), need_mm[due])  # NaN skipped
    rows = np.flatnonzero(np.isin(zone, running) & (zone != ""))
    site = sv["site"].values
    rows = rows[np.lexsort((site[rows].astype(str), zone[rows]))]
    mm = np.round(depth[np.searchsorted(running, zone[rows])], 1)
    street = sv["street"].values[rows] if "street" in sites else ""
    return pd.DataFrame({
        "zone": zone[rows].astype(object), "site": site[rows],
        "kind": sv["kind"].values[rows], "x": sv["x"].values[rows],
        "y": sv["y"].values[rows], "street": street, "area_m2": area[rows], "mm": mm,
        "minutes": np.ceil(60.0 * mm / rules.fixed_system_mm_per_h),
        "litres": np.round(mm * area[rows], 0), "due": due[rows],
        "due_day": dv["due_day"].values[rows]})  # the order of FIXED_SYSTEM_COLUMNS


# --------------------------------------------------------------------------- today's candidates

#: Columns of the candidate visits (:func:`todays_candidates`).
CANDIDATE_COLUMNS = ["site", "x", "y", "kind", "priority", "litres", "due_day", "p_cross",
                     "reason", "urgency", "max_detour_m", "street"]

#: Columns of a deferred-sites table (:func:`deferred_table`).
DEFERRED_COLUMNS = ["site", "kind", "priority", "litres", "due_day", "status",
                    "latest_safe_day", "reason", "detail"]

#: Why a due site is not served today (``reason`` of :data:`DEFERRED_COLUMNS`).
DEFERRAL_REASONS = {
    "shift time": "every truck's shift is (nearly) full",
    "tank volume": "the trucks carry no more water today (their refills are used up)",
    "water cap": "beyond the city's daily water cap ([decide] max_litres_per_day)",
    "not routable": "the visit is larger than the trucks can carry",
    "not reached": "the route search left it out although trucks had time",
    "fleet day": ("more urgent visits already need more than the fleet's whole day "
                  "([routing] offer_factor)"),
}


_NO_DEFERRED = pd.DataFrame(columns=DEFERRED_COLUMNS)


def deferred_table(sites: pd.DataFrame, today: np.datetime64 | str, reason: str,
                   detail: str | Sequence[str]) -> pd.DataFrame:
    """Deferred-site rows (:data:`DEFERRED_COLUMNS`) for ``sites`` (a table with ``site``,
    ``kind``, ``priority``, ``litres``, ``due_day``).

    ``status`` says ``"overdue"`` for a site past its threshold this morning (due day 0)
    and ``"due YYYY-MM-DD"`` otherwise; ``latest_safe_day`` is today + due day (the
    morning its threshold is forecast to be passed).
    """
    if reason not in DEFERRAL_REASONS:
        raise ValueError(f"unknown deferral reason {reason!r}")
    today = np.datetime64(today, "D")
    due = sites["due_day"].to_numpy(float)
    latest = today + np.where(np.isfinite(due), due, 0).astype("timedelta64[D]")
    status = np.where(due <= 0, "overdue", np.char.add("due ", latest.astype(str)))
    return pd.DataFrame({
        "site": sites["site"].to_numpy(), "kind": sites["kind"].to_numpy(),
        "priority": sites["priority"].to_numpy(int), "litres": sites["litres"].to_numpy(float),
        "due_day": due, "status": status, "latest_safe_day": latest, "reason": reason,
        "detail": detail}, columns=DEFERRED_COLUMNS)


def todays_candidates(dem: xr.Dataset, sites: xr.Dataset, fleet: Sequence[VehicleType],
                      today: np.datetime64 | str, rules: DecideRules = DEFAULT_RULES,
                      resting: np.ndarray | None = None, *,
                      zone: np.ndarray | None = None,
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The visits offered to the trucks today, and the due sites that cannot be offered.

    1. Sites on a fixed system (:func:`fixed_system_sites`) are left out: they are
       planned by :func:`fixed_system_plan`.
    2. A due site whose visit needs more than ``max_tank_loads`` loads of the largest
       tank is deferred as ``"not routable"``.
    3. The due sites are ranked by urgency (:func:`urgency_weight`: priority, overdue),
       then due day, probability of crossing within the lead time and today's depletion;
       beyond ``max_litres_per_day`` they are deferred as ``"water cap"``.
    4. The rest are candidates with reason ``"due"`` and ``urgency = weight - 1``.
       Watered sites due within ``lead_days + pull_forward_days`` that lie within
       ``pull_forward_radius_m`` of a due candidate are candidates ``"pulled forward"``
       with ``max_detour_m = 2 * pull_forward_radius_m`` (within the cap's remainder):
       the routes take them only where serving them costs about that detour. Sites
       ``resting`` (bool over ``site``: watered within ``rest_days``, see
       :func:`resting_sites`) are not pulled forward.

    The routes then decide who is served (:func:`irrigation.day.route_day`): capacity is
    what they carry, so no estimate of it is needed here. Deterministic: ties keep the
    order of the sites table. ``zone``: :func:`fixed_system_zone` of ``sites`` under
    ``rules`` when the caller has it; computed otherwise.

    Returns
    -------
    candidates : pandas.DataFrame
        :data:`CANDIDATE_COLUMNS`, due candidates first in rank order.
    deferred : pandas.DataFrame
        :data:`DEFERRED_COLUMNS` of the due sites not offered.
    """
    today = np.datetime64(today, "D")
    fixed = fixed_system_sites(sites, rules) if zone is None else zone != ""
    sv, dv = sites.variables, dem.variables  # their arrays, no DataArray per column
    rows = np.flatnonzero(dv["watered"].values & ~fixed)
    c = {"site": sv["site"].values[rows], "x": sv["x"].values[rows],
         "y": sv["y"].values[rows], "kind": sv["kind"].values[rows],
         "priority": sv["priority"].values.astype(int)[rows],
         "litres": dv["litres"].values[rows], "due_day": dv["due_day"].values[rows],
         "p_cross": dv["p_cross"].values[rows],
         "street": sv["street"].values[rows] if "street" in sites else np.full(
             rows.size, "", dtype=object)}
    due = dv["due"].values[rows]
    weight = urgency_weight(c["priority"], c["due_day"], rules)
    tank = max(v.tank_l for v in fleet)
    too_big = c["litres"] > rules.max_tank_loads * tank

    def table(k: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame({name: v[k] for name, v in c.items()})

    parts = []
    big = np.flatnonzero(due & too_big)
    if big.size:
        detail = [f"a {k.replace('_', ' ')} visit of {litres:,.0f} L is more than "
                  f"{rules.max_tank_loads:g} loads of the largest tank ({tank:,.0f} L): water "
                  "it by a fixed system ([decide] fixed_system_kinds or the sites' "
                  "fixed_system column)" for k, litres in zip(c["kind"][big], c["litres"][big],
                                                               strict=True)]
        parts.append(deferred_table(table(big), today, "not routable", detail))
    # rank: urgency, due day, crossing within the lead time, today's depletion (stable;
    # NaN last as in a pandas sort)
    ranked = np.flatnonzero(due & ~too_big)
    p_lead = dv["p_cross_lead"].values[rows]
    frac = dv["depletion_frac"].values[rows]
    ranked = ranked[np.lexsort((-frac[ranked], -p_lead[ranked], c["due_day"][ranked],
                                -weight[ranked]))]
    cap = np.inf if rules.max_litres_per_day is None else rules.max_litres_per_day
    within = _cumsum(c["litres"][ranked]) <= cap
    if (~within).any():
        parts.append(deferred_table(table(ranked[~within]), today, "water cap",
                                    f"the day's cap of {cap:,.0f} L is reached"))
    ranked = ranked[within]
    rest = np.zeros(dem.sizes["site"], bool) if resting is None else np.asarray(resting, bool)
    soon = np.flatnonzero(~due & ~too_big & ~rest[rows]
                          & (c["due_day"] <= rules.lead_days + rules.pull_forward_days))
    near = np.zeros(0, int)
    if ranked.size and soon.size and rules.pull_forward_radius_m > 0:
        xy = np.column_stack([c["x"], c["y"]]).astype(float)
        dist, _ = cKDTree(xy[ranked]).query(xy[soon])
        near = soon[dist <= rules.pull_forward_radius_m]
        near = near[np.lexsort((c["priority"][near], c["due_day"][near]))]
        left = cap - np.nansum(c["litres"][ranked])
        near = near[_cumsum(c["litres"][near]) <= left]
    k, n = np.concatenate([ranked, near]), ranked.size
    cols = {
        **{name: v[k] for name, v in c.items()},
        "reason": np.where(np.arange(k.size) < n, "due", "pulled forward").astype(object),
        "urgency": np.concatenate([weight[ranked] - 1.0, np.zeros(near.size)]),
        "max_detour_m": np.concatenate([np.full(n, np.nan),
                                        np.full(near.size, 2.0 * rules.pull_forward_radius_m)]),
    }
    out = pd.DataFrame({name: cols[name] for name in CANDIDATE_COLUMNS})  # in that order
    deferred = pd.concat(parts, ignore_index=True) if parts else _NO_DEFERRED.copy()
    return out, deferred


def _cumsum(x: np.ndarray) -> np.ndarray:
    """Running sum skipping NaN, NaN where ``x`` is (pandas' ``cumsum``)."""
    out = np.nancumsum(x)
    out[np.isnan(x)] = np.nan
    return out


def resting_sites(watering_l: xr.DataArray, today: np.datetime64 | str,
                  rules: DecideRules = DEFAULT_RULES) -> np.ndarray:
    """Which sites were watered within ``rules.rest_days`` before ``today`` (bool over
    ``site``), from the water given [L] over (``time``, ``site``)."""
    today = np.datetime64(today, "D")
    t = watering_l["time"].values.astype("datetime64[D]")
    recent = (t >= today - np.timedelta64(rules.rest_days, "D")) & (t < today)
    return (watering_l.values[recent] > 0).any(axis=0)


def routability_warnings(sites: xr.Dataset, fleet: Sequence[VehicleType],
                         rules: DecideRules = DEFAULT_RULES) -> list[str]:
    """What ``irrigation validate`` warns about: watered kinds (not on a fixed system)
    whose largest visit (``max_visit_*`` over their area, or ``max_visit_l_tree``) needs
    more than ``max_tank_loads`` loads of the largest tank, so trucks can never serve
    them."""
    tank = max(v.tank_l for v in fleet)
    limit = rules.max_tank_loads * tank
    kind = sites["kind"].values.astype(str)
    area = sites["area_m2"].values.astype(float)
    most = np.where(np.char.endswith(kind, "_tree"), rules.max_visit_l_tree,
                    np.where(kind == "lawn", rules.max_visit_mm_lawn, rules.max_visit_mm_bed)
                    * area)
    by_truck = np.isin(kind, rules.watered_kinds) & ~fixed_system_sites(sites, rules)
    out = []
    for k in rules.watered_kinds:
        bad = by_truck & (kind == k) & (most > limit)
        if bad.any():
            out.append(
                f"{int(bad.sum())} of {int((kind == k).sum())} {k} sites need up to "
                f"{most[bad].max():,.0f} L per visit, more than {rules.max_tank_loads:g} loads "
                f"of the largest tank ({tank:,.0f} L): no truck can serve them; water them by "
                "a fixed system ([decide] fixed_system_kinds, or the sites' fixed_system "
                "column)")
    return out
