"""The day's watering plan and its outputs for crews and office.

:func:`make_plan` joins the routed stops (:class:`irrigation.routing.RoutingSolution`) with
the visits and the deferred sites into a :class:`Plan`; :func:`write_plan` writes, into one
folder, atomically (a temporary folder renamed at the end, so a killed run never leaves a
half-written plan):

- ``driver_NN.csv`` — per truck NN: numbered stops in driving order with arrival, street
  and position (:mod:`irrigation.places`), lat/lon and a ``geo:`` link, kind and species,
  planned litres, refills with the expected fill, the break, and empty ``given_l``,
  ``done``, ``notes`` for the crew (read back by ``irrigation log add``);
- ``driver_sheets.pdf`` — the same for print (reportlab, A4, >= 10 pt), then a map page
  per truck with its numbered stops on named streets;
- ``fixed_systems.csv`` and ``.pdf`` — the fixed-system zones to run: mm, minutes, litres;
- ``routes.geojson`` — RFC 7946 FeatureCollection in WGS84: one LineString per truck
  following the streets, one Point per stop with its properties;
- ``map.png`` — the day map: routes with stop numbers over named streets, deferred sites,
  hydrants, the legend beside the map;
- ``summary.json`` and ``summary.csv`` — per truck (idle ones included) and in total;
- ``deferred.csv`` — due sites not served, with reason, status (overdue or due date),
  street, position and lat/lon.

Maps and sheets carry the street data's credit line (e.g. "© OpenStreetMap
contributors") when one is given.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse.csgraph
import xarray as xr

from .decide import DEFERRAL_REASONS, DEFERRED_COLUMNS, FIXED_SYSTEM_COLUMNS, deferred_table
from .io.cells import neutralise
from .places import describe, osm_link
from .routing import (
    STOP_COLUMNS,
    RoutingProblem,
    RoutingSolution,
    VehicleType,
    binding_limit,
    place_breaks,
    truck_use,
)
from .streets import StreetNetwork


@dataclass(frozen=True)
class Plan:
    """A day's plan.

    Attributes
    ----------
    date
        The planning day (YYYY-MM-DD).
    stops
        One row per stop in driving order (columns of :class:`RoutingSolution` ``stops``,
        ``vehicle`` the truck number 1, 2, ...; a ``break`` row per route where the crew
        takes its break; plus ``x``, ``y`` [m], ``street``, ``arrival`` HH:MM).
    deferred
        Due sites not served today (:data:`irrigation.decide.DEFERRED_COLUMNS`, and x, y
        [m]).
    totals
        One row per truck of the fleet, idle ones included (``vehicle``, ``vehicle_type``,
        ``stops``, ``litres``, ``km``, ``hours`` (start to end, break included),
        ``work_h``, ``shift_h`` (usable), ``used``, ``trips``, ``refills``,
        ``litres_per_refill``), then a total row with ``vehicle`` -1 (kept for callers
        that select it; :attr:`total` is the same row).
    fixed
        Today's runs of the fixed systems (:func:`irrigation.decide.fixed_system_plan`).
    """

    date: str
    stops: pd.DataFrame
    deferred: pd.DataFrame
    totals: pd.DataFrame
    fixed: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=FIXED_SYSTEM_COLUMNS))

    @property
    def total(self) -> pd.Series:
        """The plan's totals over all trucks."""
        return self.totals.iloc[-1]

    @property
    def trucks(self) -> pd.DataFrame:
        """The per-truck rows of :attr:`totals`."""
        return self.totals.iloc[:-1]


def _hhmm(seconds: np.ndarray) -> list[str]:
    s = np.asarray(seconds, float)
    return [f"{int(v // 3600):02d}:{int(v % 3600 // 60):02d}" for v in s]


def make_plan(
    date: str,
    problem: RoutingProblem,
    solution: RoutingSolution,
    visits: pd.DataFrame,
    deferred: pd.DataFrame,
    fixed: pd.DataFrame | None = None,
) -> Plan:
    """Join routes, visits and deferrals into a :class:`Plan`.

    Each route gets its break (:func:`irrigation.routing.place_breaks`). A due visit the
    routes left out (all of it, or the rest of a split visit) joins the deferred sites
    with the reason the routes give (:func:`irrigation.routing.binding_limit`: shift
    time, tank volume); a visit offered only to pull forward (``reason`` "pulled
    forward") is not due and is simply not planned.
    """
    stops = place_breaks(problem, solution.stops)
    stops["x"] = problem.x[stops["location"].to_numpy(int)]
    stops["y"] = problem.y[stops["location"].to_numpy(int)]
    street = dict(zip(visits["site"], visits["street"] if "street" in visits
                      else [""] * len(visits), strict=True))
    stops["street"] = [street.get(s, "") if k == "visit" else ""
                       for s, k in zip(stops["site"], stops["kind"], strict=True)]
    stops["arrival"] = _hhmm(stops["arrival_s"])
    use = truck_use(problem, stops)
    cols = [*DEFERRED_COLUMNS, "x", "y"]
    parts = [deferred.reindex(columns=cols)] if len(deferred) else []
    left = _left_out(problem, solution, stops, visits)
    if len(left):
        reason = binding_limit(use)
        detail = [(f"partly served: {g:,.0f} of {g + r:,.0f} L given; " if g > 0 else "")
                  + DEFERRAL_REASONS[reason]
                  for g, r in zip(left["given"], left["litres"], strict=True)]
        parts.append(deferred_table(left, date, reason, detail).assign(
            x=left["x"].to_numpy(), y=left["y"].to_numpy()))
    all_deferred = (pd.concat(parts, ignore_index=True) if parts
                    else pd.DataFrame(columns=cols))
    fixed = pd.DataFrame(columns=FIXED_SYSTEM_COLUMNS) if fixed is None else fixed
    return Plan(date, stops, all_deferred, _totals(stops, problem, use), fixed)


def _left_out(problem: RoutingProblem, solution: RoutingSolution, stops: pd.DataFrame,
              visits: pd.DataFrame) -> pd.DataFrame:
    """The due visits (not those only pulled forward) the routes left out, per site:
    litres not given, litres given (of a split visit), and the visit's columns."""
    if not len(solution.unserved):
        return pd.DataFrame(columns=["site", "litres", "given"])
    missing = pd.DataFrame({"site": problem.client_id[solution.unserved],
                            "litres": problem.delivery_l[solution.unserved]})
    missing = missing.groupby("site", sort=False, as_index=False)["litres"].sum()
    given = stops[stops["kind"] == "visit"].groupby("site")["litres"].sum()
    v = visits.drop_duplicates("site").set_index("site")
    reason = v["reason"] if "reason" in v else pd.Series("due", index=v.index)
    missing = missing[reason.reindex(missing["site"]).fillna("due").to_numpy() != "pulled forward"]
    out = missing.assign(given=given.reindex(missing["site"]).astype(float).fillna(0.0).to_numpy())
    for c, default in (("kind", ""), ("priority", 3), ("due_day", 0.0), ("x", np.nan),
                       ("y", np.nan)):
        col = v[c] if c in v else pd.Series(default, index=v.index)
        out[c] = col.reindex(out["site"]).to_numpy()
    return out.reset_index(drop=True)


def _totals(stops: pd.DataFrame, problem: RoutingProblem, use: pd.DataFrame) -> pd.DataFrame:
    km, hours, trips = [], [], []
    for truck in use["vehicle"]:
        g = stops[stops["vehicle"] == truck]
        loc = g["location"].to_numpy(int)
        km.append(float(problem.distance_m[loc[:-1], loc[1:]].sum() / 1000) if len(g) else 0.0)
        hours.append(float((g["end_s"].max() - g["start_s"].min()) / 3600) if len(g) else 0.0)
        trips.append(int(g["trip"].max() + 1) if len(g) else 0)
    totals = use.assign(km=km, hours=hours, trips=trips)[TOTAL_COLUMNS]
    sums = {c: totals[c].sum() for c in ("stops", "litres", "km", "hours", "work_h",
                                          "shift_h", "trips", "refills")}
    refilled = (totals["litres_per_refill"] * totals["refills"]).sum()
    total = {"vehicle": -1, "vehicle_type": "total", **sums,
             "used": sums["work_h"] / sums["shift_h"] if sums["shift_h"] else 0.0,
             "litres_per_refill": refilled / sums["refills"] if sums["refills"] else np.nan}
    return pd.concat([totals, pd.DataFrame([total])], ignore_index=True)[TOTAL_COLUMNS]


#: Columns of :attr:`Plan.totals`.
TOTAL_COLUMNS = ["vehicle", "vehicle_type", "stops", "litres", "km", "hours", "work_h",
                 "shift_h", "used", "trips", "refills", "litres_per_refill"]


def empty_plan(date: str, fleet: Sequence[VehicleType], deferred: pd.DataFrame,
               fixed: pd.DataFrame | None = None) -> Plan:
    """The plan of a day without truck visits: every truck idle."""
    rows, first = [], 1
    for v in fleet:
        for k in range(v.count):
            rows.append({"vehicle": first + k, "vehicle_type": v.name, "stops": 0,
                         "litres": 0.0, "km": 0.0, "hours": 0.0, "work_h": 0.0,
                         "shift_h": v.shift_minutes / 60, "used": 0.0, "trips": 0,
                         "refills": 0, "litres_per_refill": np.nan})
        first += v.count
    totals = pd.DataFrame(rows, columns=TOTAL_COLUMNS)
    total = {c: totals[c].sum() for c in ("stops", "litres", "km", "hours", "work_h",
                                          "shift_h", "trips", "refills")}
    totals = pd.concat([totals, pd.DataFrame([{"vehicle": -1, "vehicle_type": "total",
                                               **total, "used": 0.0,
                                               "litres_per_refill": np.nan}])],
                       ignore_index=True)[TOTAL_COLUMNS]
    stops = pd.DataFrame(columns=[*STOP_COLUMNS, "x", "y", "street", "arrival"])
    cols = [*DEFERRED_COLUMNS, "x", "y"]
    fixed = pd.DataFrame(columns=FIXED_SYSTEM_COLUMNS) if fixed is None else fixed
    return Plan(date, stops, deferred.reindex(columns=cols).reset_index(drop=True), totals,
                fixed)


def served_visits(plan: Plan, candidates: pd.DataFrame) -> pd.DataFrame:
    """Today's truck visits, one row per site (the parts of a split visit summed).

    Returns
    -------
    pandas.DataFrame
        ``site``, ``litres`` [L], ``vehicle`` (the truck of the first part), ``arrival``,
        and the candidate's ``x``, ``y``, ``kind``, ``priority``, ``due_day``,
        ``p_cross``, ``reason``, ``street`` where ``candidates`` has them; in truck and
        stop order.
    """
    v = plan.stops[plan.stops["kind"] == "visit"]
    out = v.groupby("site", sort=False).agg(litres=("litres", "sum"),
                                             vehicle=("vehicle", "first"),
                                             arrival=("arrival", "first")).reset_index()
    cols = [c for c in ("x", "y", "kind", "priority", "due_day", "p_cross", "reason",
                        "street") if c in candidates]
    extra = candidates.drop_duplicates("site").set_index("site")[cols]
    return out.join(extra, on="site")


#: Columns of ``visits.csv``: the day's planned watering in watering-log format, with an
#: empty ``given_l`` for what was actually given (``irrigation log add`` reads it back).
VISIT_LOG_COLUMNS = ["date", "site", "litres", "given_l", "by", "kind", "reason",
                     "priority", "due_day"]


def visit_log(plan: Plan, visits: pd.DataFrame) -> pd.DataFrame:
    """The day's planned watering, trucks and fixed systems, in watering-log format
    (:data:`VISIT_LOG_COLUMNS`; ``by`` is ``truck N`` or ``fixed system ZONE``)."""
    trucks = visits.assign(by=[f"truck {int(t)}" for t in visits["vehicle"]])
    f = plan.fixed
    fixed = pd.DataFrame({"site": f["site"], "litres": f["litres"], "kind": f["kind"],
                          "by": [f"fixed system {z}" for z in f["zone"]],
                          "reason": np.where(f["due"].astype(bool), "due",
                                             "zone runs for a due site"),
                          "due_day": f["due_day"]})
    parts = [d for d in (trucks, fixed) if len(d)]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=VISIT_LOG_COLUMNS)
    out = out.assign(date=plan.date, given_l="").reindex(columns=VISIT_LOG_COLUMNS)
    return out.astype({"priority": "Int64"})


# --------------------------------------------------------------------------- geometry


def street_paths(network: StreetNetwork | None, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """Polylines [m] from each point to the next, along the shortest street path.

    Without a network the legs are straight lines. Returns ``len(x) - 1`` arrays of shape
    (k, 2).
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    if network is None or len(x) < 2:
        return [np.array([[x[i], y[i]], [x[i + 1], y[i + 1]]]) for i in range(len(x) - 1)]
    node, _ = network.nearest_node(x, y)
    sources = np.unique(node[:-1])
    _, pred = scipy.sparse.csgraph.dijkstra(
        network.adjacency(), indices=sources, return_predecessors=True
    )
    row = {n: i for i, n in enumerate(sources)}
    legs = []
    for i in range(len(x) - 1):
        a, b = node[i], node[i + 1]
        path = [b]
        while path[-1] != a and path[-1] >= 0:
            path.append(pred[row[a], path[-1]])
        path = path[::-1] if path[-1] == a else [a, b]
        pts = np.column_stack([network.x[path], network.y[path]])
        legs.append(np.vstack([[x[i], y[i]], pts, [x[i + 1], y[i + 1]]]))
    return legs


# --------------------------------------------------------------------------- writers

#: Credit line of map data from OpenStreetMap (ODbL 1.0), printed wherever streets read
#: from OSM are shown.
OSM_ATTRIBUTION = "© OpenStreetMap contributors"


def write_plan(
    plan: Plan,
    out_dir: str | Path,
    *,
    crs: str,
    network: StreetNetwork | None = None,
    extra: Mapping[str, Callable[[Path], object]] | None = None,
    sites: xr.Dataset | None = None,
    refill_points: xr.Dataset | None = None,
    attribution: str = "",
) -> Path:
    """Write every output of ``plan`` into ``out_dir`` atomically; returns ``out_dir``.

    The files are written into a temporary sibling folder that replaces ``out_dir`` only
    when everything is written; an existing ``out_dir`` is kept until then. The folder
    gets the mode of a new folder under the process umask (not the 0700 of a temporary
    one). ``extra`` maps further file names to writers ``write(path)`` (the daily report,
    forecast plots), run after the plan's own files, so they can read them (e.g. embed
    ``map.png``). ``sites`` adds species to the sheets, ``refill_points`` draws the
    hydrants on the maps; ``attribution`` is printed on maps and sheets (e.g.
    :data:`OSM_ATTRIBUTION` when the streets come from OpenStreetMap).
    """
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)
    try:
        sheet = Sheets(plan, network, crs, sites, refill_points, attribution)
        trucks = [int(v) for v in sheet.stops["vehicle"].unique()]
        with MapDrawing(sheet, sorted(trucks), tmp / "map.png") as drawing:
            _write_driver_sheets(sheet, tmp)
            _write_geojson(sheet, tmp / "routes.geojson")
            _write_pdf(sheet, tmp / "driver_sheets.pdf", drawing.truck_image)
            drawing.write_day_map()
        _write_fixed(sheet, tmp)
        neutralise(summary_table(plan)).to_csv(tmp / "summary.csv", index=False,
                                               float_format="%.2f", lineterminator="\n")
        neutralise(sheet.deferred.round({"litres": 1, "x": 1, "y": 1})).to_csv(
            tmp / "deferred.csv", index=False, lineterminator="\n")
        (tmp / "summary.json").write_text(json.dumps(_summary(plan), indent=2) + "\n")
        for name, write in (extra or {}).items():
            write(tmp / name)
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old)
        else:
            tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


class Sheets:
    """A plan with every place described for a crew (street, position, lat/lon:
    :func:`irrigation.places.describe`), stops numbered per truck and the street paths
    of each route; what the writers draw and print."""

    def __init__(self, plan: Plan, network: StreetNetwork | None, crs: str,
                 sites: xr.Dataset | None, refill_points: xr.Dataset | None,
                 attribution: str) -> None:
        self.plan, self.network, self.attribution, self.crs = plan, network, attribution, crs
        stops = describe(plan.stops, network, crs)
        visit = (stops["kind"] == "visit").to_numpy()
        stops["number"] = ""
        if len(stops):
            n = stops.assign(v=visit.astype(int)).groupby("vehicle")["v"].cumsum()
            stops.loc[visit, "number"] = n[visit].astype(int).astype(str)
        kind = species = {}
        if sites is not None:
            ids = sites["site"].values.astype(str)
            kind = dict(zip(ids, sites["kind"].values.astype(str), strict=True))
            species = dict(zip(ids, sites["species"].values.astype(str), strict=True))
        stops["site_kind"] = [kind.get(str(s), "") if v else ""
                              for s, v in zip(stops["site"], visit, strict=True)]
        stops["species"] = [species.get(str(s), "") if v else ""
                            for s, v in zip(stops["site"], visit, strict=True)]
        stops["fill_l"] = _fills(stops)
        self.stops = stops
        d = plan.deferred
        self.deferred = describe(d, network, crs).drop(columns=["nav"]) if len(d) else \
            d.assign(street="", position="", lat=np.nan, lon=np.nan)
        self.fixed = describe(plan.fixed, network, crs)
        self.refill_points = refill_points
        self.legs = {v: street_paths(network, g["x"].to_numpy(float), g["y"].to_numpy(float))
                     for v, g in stops.groupby("vehicle")}


def _fills(stops: pd.DataFrame) -> np.ndarray:
    """Litres each refill puts back: the water used in the trip before it [L]."""
    out = np.zeros(len(stops))
    for _, g in stops.groupby("vehicle"):
        used = g[g["kind"] == "visit"].groupby("trip")["litres"].sum()
        ref = g["kind"] == "refill"
        out[g.index[ref.to_numpy()]] = used.reindex(g.loc[ref, "trip"] - 1).fillna(0).to_numpy()
    return out


#: Columns of a ``driver_NN.csv``: what a crew reads and fills in (``given_l``: litres
#: actually given; ``done``: a mark; ``notes``).
SHEET_COLUMNS = ["date", "truck", "vehicle_type", "number", "stop", "trip", "arrival",
                 "kind", "site", "site_kind", "species", "street", "position", "lat", "lon",
                 "nav", "planned_l", "fill_l", "given_l", "done", "notes"]


def _write_driver_sheets(sheet: Sheets, folder: Path) -> None:
    s = sheet.stops.assign(date=sheet.plan.date, truck=sheet.stops["vehicle"],
                           planned_l=np.where(sheet.stops["kind"] == "visit",
                                              sheet.stops["litres"], np.nan),
                           given_l="", done="", notes="")
    s["fill_l"] = np.where(s["kind"] == "refill", s["fill_l"], np.nan).round(0)
    s["planned_l"] = pd.to_numeric(s["planned_l"]).round(1)
    for v, g in s.groupby("vehicle"):
        neutralise(g[SHEET_COLUMNS]).to_csv(folder / f"driver_{int(v):02d}.csv", index=False,
                                lineterminator="\n")


def summary_table(plan: Plan) -> pd.DataFrame:
    """``summary.csv``: one row per truck (``truck`` 1, 2, ...; idle trucks with zeros)
    and a row ``all``."""
    t = plan.totals.copy()
    t.insert(0, "truck", [str(int(v)) if v > 0 else "all" for v in t["vehicle"]])
    return t.drop(columns=["vehicle"]).round({"used": 3})


def _summary(plan: Plan) -> dict:
    total = plan.total
    trucks = summary_table(plan).iloc[:-1]
    return {
        "date": plan.date,
        "served_sites": int(plan.stops.loc[plan.stops["kind"] == "visit", "site"].nunique()),
        "litres": round(float(total["litres"]), 1),
        "km": round(float(total["km"]), 2),
        "truck_hours": round(float(total["hours"]), 2),
        "work_hours": round(float(total["work_h"]), 2),
        "shift_hours": round(float(total["shift_h"]), 2),
        "idle_trucks": int((plan.trucks["stops"] == 0).sum()),
        "trips": int(total["trips"]),
        "refills": int(total["refills"]),
        "deferred_sites": len(plan.deferred),
        "deferred_litres": round(float(plan.deferred["litres"].sum()), 1)
        if len(plan.deferred) else 0.0,
        "fixed_system_zones": int(plan.fixed["zone"].nunique()),
        "fixed_system_litres": round(float(plan.fixed["litres"].sum()), 1),
        "trucks": json.loads(trucks.to_json(orient="records", double_precision=3)),
    }


def _write_fixed(sheet: Sheets, folder: Path) -> None:
    """``fixed_systems.csv`` and ``fixed_systems.pdf``: the zones to run today."""
    f = sheet.fixed.assign(date=sheet.plan.date, given_l="", done="", notes="")
    cols = ["date", "zone", "site", "kind", "street", "position", "lat", "lon", "area_m2",
            "mm", "minutes", "litres", "given_l", "done", "notes"]
    neutralise(f.reindex(columns=cols).round({"area_m2": 1, "mm": 1, "litres": 0})).to_csv(
        folder / "fixed_systems.csv", index=False, lineterminator="\n")
    _fixed_pdf(sheet, folder / "fixed_systems.pdf")


def _write_geojson(sheet: Sheets, path: Path) -> None:
    from pyproj import Transformer

    feats = []
    for v, g in sheet.stops.groupby("vehicle"):
        legs = sheet.legs[v]
        line = (np.vstack([leg if k == 0 else leg[1:] for k, leg in enumerate(legs)])
                if legs else g[["x", "y"]].to_numpy(float))
        to_wgs84 = Transformer.from_crs(sheet.crs, "EPSG:4326", always_xy=True)
        lon, lat = to_wgs84.transform(line[:, 0], line[:, 1])
        feats.append({"type": "Feature",
                      "geometry": {"type": "LineString",
                                   "coordinates": np.round(np.column_stack([lon, lat]),
                                                           7).tolist()},
                      "properties": {"truck": int(v), "vehicle_type": g["vehicle_type"].iloc[0]}})
        for _, s in g.iterrows():
            feats.append({"type": "Feature",
                          "geometry": {"type": "Point",
                                       "coordinates": [round(float(s["lon"]), 7),
                                                       round(float(s["lat"]), 7)]},
                          "properties": {"truck": int(v), "number": s["number"],
                                         "stop": int(s["stop"]), "trip": int(s["trip"]),
                                         "kind": s["kind"], "site": str(s["site"]),
                                         "street": s["street"], "position": s["position"],
                                         "litres": float(s["litres"]),
                                         "arrival": s["arrival"]}})
    fc = {"type": "FeatureCollection", "features": feats}
    if sheet.attribution:
        fc["attribution"] = sheet.attribution
    path.write_text(json.dumps(fc) + "\n")



# --------------------------------------------------------------------------- maps

#: Colours of the trucks on the maps (colour-blind safe, Okabe & Ito 2008).
TRUCK_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9",
                 "#F0E442", "#000000")


def truck_colour(truck: int) -> str:
    return TRUCK_COLOURS[(int(truck) - 1) % len(TRUCK_COLOURS)]


def _draw_streets(ax, network: StreetNetwork | None, box: tuple[float, float, float, float],
                  fontsize: float) -> None:
    """The street graph in grey and each street's name once, along its longest segment
    inside ``box`` (xmin, xmax, ymin, ymax), with a white halo."""
    from matplotlib import patheffects

    if network is None:
        return
    fx, fy = network.x[network.edge_from], network.y[network.edge_from]
    tx, ty = network.x[network.edge_to], network.y[network.edge_to]
    # only edges whose bounding box meets the map's (a truck's map shows a few streets of
    # the city; drawing the others only to clip them away costs seconds per map)
    shown = np.flatnonzero((np.maximum(fx, tx) >= box[0]) & (np.minimum(fx, tx) <= box[1])
                           & (np.maximum(fy, ty) >= box[2]) & (np.minimum(fy, ty) <= box[3]))
    fx, fy, tx, ty = fx[shown], fy[shown], tx[shown], ty[shown]
    # one path with breaks, not a collection of one path per edge (same look, a fraction
    # of the time on a city's thousands of edges)
    nan = np.full(shown.size, np.nan)
    ax.plot(np.column_stack([fx, tx, nan]).ravel(), np.column_stack([fy, ty, nan]).ravel(),
            color="0.75", lw=0.8, zorder=0)
    mx, my = (fx + tx) / 2, (fy + ty) / 2
    inside = (mx > box[0]) & (mx < box[1]) & (my > box[2]) & (my < box[3])
    names = np.asarray(network.name)[shown].astype(str)
    length = np.hypot(tx - fx, ty - fy)
    halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]
    for name in sorted(set(names[inside]) - {""}):
        k = np.flatnonzero(inside & (names == name))
        k = k[np.argmax(length[k])]
        angle = np.degrees(np.arctan2(ty[k] - fy[k], tx[k] - fx[k]))
        angle = angle - 180 if angle > 90 else angle + 180 if angle < -90 else angle
        ax.text(mx[k], my[k], name, fontsize=fontsize, color="0.25", rotation=angle,
                rotation_mode="anchor", ha="center", va="center", zorder=1,
                path_effects=halo)


def _draw_route(ax, sheet: Sheets, truck: int, g: pd.DataFrame, numbers: bool,
                fontsize: float, label: str | None) -> None:
    from matplotlib import patheffects

    c = truck_colour(truck)
    for leg in sheet.legs[truck]:
        ax.plot(leg[:, 0], leg[:, 1], color=c, lw=1.8, alpha=0.8, zorder=2)
    vis = g[g["kind"] == "visit"].drop_duplicates("number")
    ax.scatter(vis["x"], vis["y"], s=28 if numbers else 14, color=c, edgecolor="k",
               linewidth=0.4, zorder=3, label=label)
    ref = g[g["kind"] == "refill"]
    ax.scatter(ref["x"], ref["y"], marker="^", s=70, color=c, edgecolor="k", zorder=4)
    if numbers:
        halo = [patheffects.withStroke(linewidth=2, foreground="white")]
        for _, s in vis.iterrows():
            ax.annotate(s["number"], (s["x"], s["y"]), xytext=(3, 3),
                        textcoords="offset points", fontsize=fontsize, color=c,
                        fontweight="bold", zorder=5, path_effects=halo)


def _draw_points(ax, sheet: Sheets, box, labels: bool) -> None:
    rp = sheet.refill_points
    if rp is None:
        return
    hyd = rp.where(rp["kind"] == "hydrant", drop=True)
    x, y = hyd["x"].values, hyd["y"].values
    inside = (x > box[0]) & (x < box[1]) & (y > box[2]) & (y < box[3])
    ax.scatter(x[inside], y[inside], marker="^", s=36, facecolor="white", edgecolor="0.2",
               zorder=2, label="hydrant")
    if labels:
        for name, a, b in zip(hyd["refill"].values[inside], x[inside], y[inside], strict=True):
            ax.annotate(str(name), (a, b), xytext=(4, -8), textcoords="offset points",
                        fontsize=8, color="0.2", zorder=5)
    dep = rp.where(rp["kind"] == "depot", drop=True)
    ax.scatter(dep["x"], dep["y"], marker="s", s=90, color="k", zorder=5, label="depot")


def _box(x: np.ndarray, y: np.ndarray, margin: float, aspect: float) -> tuple:
    """A bounding box of the points with ``margin`` [m], widened to ``aspect`` (w / h)."""
    x0, x1, y0, y1 = x.min() - margin, x.max() + margin, y.min() - margin, y.max() + margin
    w, h = x1 - x0, y1 - y0
    if w / h < aspect:
        x0, x1 = (x0 + x1) / 2 - aspect * h / 2, (x0 + x1) / 2 + aspect * h / 2
    else:
        y0, y1 = (y0 + y1) / 2 - w / aspect / 2, (y0 + y1) / 2 + w / aspect / 2
    return x0, x1, y0, y1


def _credit(fig, sheet: Sheets) -> None:
    if sheet.attribution:
        fig.text(0.99, 0.005, sheet.attribution, ha="right", va="bottom", fontsize=8,
                 color="0.3")


def _write_map(sheet: Sheets, path: Path) -> None:
    """The day map: every route with numbered stops over named streets, deferred sites,
    hydrants; the legend beside the map, not over it."""
    from matplotlib.figure import Figure

    plan, stops = sheet.plan, sheet.stops
    d = sheet.deferred.dropna(subset=["x", "y"])
    fig = Figure(figsize=(16, 10.5))
    ax = fig.add_axes((0.02, 0.05, 0.74, 0.88))
    pts = [stops[["x", "y"]].to_numpy(float), d[["x", "y"]].to_numpy(float)]
    if sheet.refill_points is not None:
        pts.append(np.column_stack([sheet.refill_points["x"].values,
                                    sheet.refill_points["y"].values]))
    xy = np.vstack([p for p in pts if len(p)]) if any(len(p) for p in pts) else None
    box = _box(xy[:, 0], xy[:, 1], 80.0, 0.74 * 16 / (0.88 * 10.5)) if xy is not None \
        else (0, 1, 0, 1)
    _draw_streets(ax, sheet.network, box, fontsize=6.5)
    for v, g in stops.groupby("vehicle"):
        vis = g[g["kind"] == "visit"]
        t = plan.totals[plan.totals["vehicle"] == v].iloc[0]
        _draw_route(ax, sheet, int(v), g, numbers=True, fontsize=6,
                    label=f"truck {int(v)} ({g['vehicle_type'].iloc[0]})\n{len(vis)} stops, "
                    f"{vis['litres'].sum():,.0f} L, {t['work_h']:.1f} of {t['shift_h']:.1f} h")
    if len(d):
        ax.scatter(d["x"], d["y"], marker="x", s=22, color="0.35", linewidth=0.9, zorder=3,
                   label=f"deferred: {len(d)} sites, {d['litres'].sum():,.0f} L")
    f = sheet.fixed
    if len(f):
        ax.scatter(f["x"], f["y"], marker="o", s=40, facecolor="none", edgecolor="#009E73",
                   linewidth=1.2, zorder=3, label=f"fixed systems: {f['zone'].nunique()} zones")
    _draw_points(ax, sheet, box, labels=False)
    idle = plan.trucks[plan.trucks["stops"] == 0]
    ax.set_xlim(box[0], box[1])
    ax.set_ylim(box[2], box[3])
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    total = plan.total
    ax.set_title(f"Watering plan {plan.date}: {total['stops']:.0f} stops, "
                 f"{total['litres']:,.0f} L, {total['km']:.1f} km; "
                 f"{len(plan.deferred)} deferred", fontsize=13, loc="left")
    handles, labels = ax.get_legend_handles_labels()
    if idle.shape[0]:
        from matplotlib.lines import Line2D

        labels.append(f"idle: truck {', '.join(str(int(v)) for v in idle['vehicle'])}")
        handles.append(Line2D([], [], linestyle="none"))
    if handles:
        fig.legend(handles, labels, loc="upper left", bbox_to_anchor=(0.77, 0.93),
                   fontsize=10, frameon=False, labelspacing=0.9,
                   title="numbers: stop order of each truck\n▲ in a truck's colour: refill",
                   title_fontsize=10)
    _scale_bar(ax, box)
    _credit(fig, sheet)
    fig.savefig(path, dpi=110)


def _scale_bar(ax, box) -> None:
    w = box[1] - box[0]
    step = 100 if w < 1500 else 500 if w < 6000 else 2000
    x0, y0 = box[0] + 0.03 * w, box[2] + 0.03 * (box[3] - box[2])
    ax.plot([x0, x0 + step], [y0, y0], color="k", lw=3, zorder=6)
    ax.text(x0 + step / 2, y0 + 0.01 * (box[3] - box[2]), f"{step} m", ha="center",
            fontsize=9, zorder=6)


def truck_map_image(sheet: Sheets, truck: int, size_in: tuple[float, float] = (7.5, 9.6)):
    """One truck's route on its own page: numbered stops on named streets, the hydrants
    it uses labelled, the depot; an RGB ``PIL.Image`` at 150 dpi (for the PDF, which
    compresses the pixels itself: no PNG encoding and decoding on the way)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image as PILImage

    fig = truck_map_figure(sheet, truck, size_in)
    fig.set_dpi(150)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return PILImage.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(),
                               "raw", "RGBA", 0, 1).convert("RGB")


#: The sheets being drawn, in a worker process of :class:`MapDrawing` (set by its
#: initialiser in the forked worker only).
_WORKER_SHEET: list = []


def _worker_init(sheet: Sheets) -> None:
    _WORKER_SHEET[:] = [sheet]


def _worker_image(truck: int) -> tuple[tuple[int, int], bytes]:
    image = truck_map_image(_WORKER_SHEET[0], truck)
    return image.size, image.tobytes()


def _worker_day_map(path: Path) -> None:
    _write_map(_WORKER_SHEET[0], path)


class MapDrawing:
    """The day map and the trucks' maps of ``sheet``, drawn while the caller writes the
    rest.

    Used as a context manager. On entering, with ``workers`` > 1 (default: one per CPU
    this process may use) and ``fork``, forked processes (they inherit the sheet, nothing
    is pickled) start on the day map (the longest) and then the trucks' maps in order,
    so the driver sheets' tables are laid out while the maps are drawn; otherwise each
    map is drawn in this process when it is asked for. A map takes ~0.6 s of
    matplotlib's Python (the large city's day map ~5 s), which threads would not share
    out; the images are the same either way (tested). A worker's error is raised where
    its map is asked for; a worker that dies raises ``BrokenProcessPool`` there (it does
    not hang). Leaving the context stops the workers.
    """

    def __init__(self, sheet: Sheets, trucks: Sequence[int], day_map: Path | None = None,
                 workers: int | None = None) -> None:
        self.sheet, self.path, self.trucks = sheet, day_map, list(trucks)
        jobs = len(self.trucks) + (day_map is not None)
        self.workers = min(jobs, workers or _usable_cpus())
        self._pool = None
        self._day = None
        self._maps: dict = {}

    def __enter__(self) -> MapDrawing:
        if self.workers > 1 and hasattr(os, "fork"):
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("fork"),
                initializer=_worker_init, initargs=(self.sheet,))
            if self.path is not None:
                self._day = self._pool.submit(_worker_day_map, self.path)
            self._maps = {t: self._pool.submit(_worker_image, t) for t in self.trucks}
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def truck_image(self, truck: int):
        """:func:`truck_map_image` of ``truck`` (waits for its worker)."""
        from PIL import Image as PILImage

        if truck not in self._maps:
            return truck_map_image(self.sheet, truck)
        size, data = self._maps[truck].result()
        return PILImage.frombytes("RGB", size, data)

    def write_day_map(self) -> None:
        """Have the day map written to its path (waits for its worker)."""
        if self._day is not None:
            self._day.result()
        elif self.path is not None:
            _write_map(self.sheet, self.path)


def _usable_cpus() -> int:
    """CPUs this process may run on (its affinity, e.g. a container's), else all."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def truck_map_figure(sheet: Sheets, truck: int, size_in: tuple[float, float] = (7.5, 9.6)):
    """The matplotlib figure of :func:`truck_map_image`."""
    from matplotlib.figure import Figure

    g = sheet.stops[sheet.stops["vehicle"] == truck]
    fig = Figure(figsize=size_in)
    ax = fig.add_axes((0.01, 0.03, 0.98, 0.9))
    box = _box(g["x"].to_numpy(float), g["y"].to_numpy(float), 60.0,
               0.98 * size_in[0] / (0.9 * size_in[1]))
    _draw_streets(ax, sheet.network, box, fontsize=7.5)
    _draw_points(ax, sheet, box, labels=True)
    _draw_route(ax, sheet, truck, g, numbers=True, fontsize=8.5, label=None)
    ax.set_xlim(box[0], box[1])
    ax.set_ylim(box[2], box[3])
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"Truck {truck} ({g['vehicle_type'].iloc[0]}), {sheet.plan.date}: stops "
                 "numbered in driving order, ▲ hydrant, ■ depot", fontsize=10, loc="left")
    _scale_bar(ax, box)
    _credit(fig, sheet)
    return fig


# --------------------------------------------------------------------------- printed sheets

#: Smallest type on the printed sheets [pt]: readable in a truck cab.
SHEET_FONT_PT = 10


def _styles():
    from reportlab.lib.styles import ParagraphStyle

    body = ParagraphStyle("body", fontName="Helvetica", fontSize=SHEET_FONT_PT,
                          leading=SHEET_FONT_PT + 2)
    return {"body": body,
            "bold": ParagraphStyle("bold", parent=body, fontName="Helvetica-Bold"),
            "title": ParagraphStyle("title", parent=body, fontName="Helvetica-Bold",
                                    fontSize=15, leading=19, spaceAfter=4),
            "head": ParagraphStyle("head", parent=body, fontName="Helvetica-Bold",
                                   textColor="white")}


def _doc(path: Path, title: str, footer: str, attribution: str):
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import cm
    from reportlab.platypus import SimpleDocTemplate

    def page(canvas, doc):
        canvas.saveState()
        canvas.setFont("Helvetica", SHEET_FONT_PT)
        canvas.drawString(1.5 * cm, 0.9 * cm, f"{footer} · page {doc.page}")
        if attribution:
            canvas.drawRightString(A4[0] - 1.5 * cm, 0.9 * cm, attribution)
        canvas.restoreState()

    doc = SimpleDocTemplate(str(path), pagesize=A4, leftMargin=1.5 * cm, rightMargin=1.5 * cm,
                            topMargin=1.3 * cm, bottomMargin=1.6 * cm, title=title,
                            author="irrigation", invariant=1)
    return doc, page


def _build(doc, story: list, page) -> None:
    """Lay out and write ``story`` into ``doc`` with binary (Flate only) streams: ReportLab
    otherwise wraps every stream, the route maps' pixels too, in ASCII85 text, which costs
    about 0.6 s per A4 map in pure Python and makes the file 25 % larger."""
    from reportlab import rl_config

    a85 = rl_config.useA85
    rl_config.useA85 = 0
    try:
        doc.build(story, onFirstPage=page, onLaterPages=page)
    finally:
        rl_config.useA85 = a85


def _esc(text) -> str:
    from xml.sax.saxutils import escape

    return escape(str(text))


def _where(s: pd.Series, st) -> object:
    from reportlab.platypus import Paragraph

    link = osm_link(float(s["lat"]), float(s["lon"]))
    pos = f"<br/>{_esc(s['position'])}" if s["position"] else ""
    return Paragraph(f"<b>{_esc(s['street'] or '(no street)')}</b>{pos}<br/>"
                     f'<a href="{link}" color="#0050a0">{s["lat"]:.5f}, {s["lon"]:.5f}</a>',
                     st["body"])


def _route_rows(sheet: Sheets, g: pd.DataFrame, st) -> tuple[list, list]:
    from reportlab.platypus import Paragraph

    P = Paragraph
    rows, spans = [], []
    for _, s in g.iterrows():
        k = s["kind"]
        if k == "visit":
            what = f"{_esc(s['site'])}<br/>{_esc(str(s['site_kind']).replace('_', ' '))}"
            if s["species"]:
                what += f"<br/><i>{_esc(s['species'])}</i>"
            rows.append([P(s["number"], st["bold"]), P(s["arrival"], st["body"]),
                         _where(s, st), P(what, st["body"]),
                         P(f"{s['litres']:,.0f}", st["bold"]), "", "", ""])
            continue
        if k == "refill":
            text = (f"<b>Refill at hydrant {_esc(s['site'])}</b>: {_esc(s['street'])}, "
                    f"{_esc(s['position'])} — about {s['fill_l']:,.0f} L, "
                    f"{(s['end_s'] - s['start_s']) / 60:.0f} min "
                    f"({s['lat']:.5f}, {s['lon']:.5f})")
        elif k == "break":
            text = f"<b>Break {(s['end_s'] - s['start_s']) / 60:.0f} min</b> (until " \
                   f"{_hhmm([s['end_s']])[0]})"
        elif k == "start":
            text = f"<b>Start at the depot {_esc(s['site'])}</b>: tank full"
        else:
            text = f"<b>Back at the depot {_esc(s['site'])}</b>"
        rows.append(["", P(s["arrival"], st["body"]), P(text, st["body"]), "", "", "", "",
                     ""])
        spans.append(len(rows))
    return rows, spans


def _picture(image: Callable[[], object], width: float, height: float):
    """A centred flowable drawing the ``PIL.Image`` that ``image()`` gives when the page
    is drawn, at ``width`` x ``height`` [pt] (ReportLab's ``Image`` flowable reads only
    files)."""
    from reportlab.lib.utils import ImageReader
    from reportlab.platypus import Flowable

    class Picture(Flowable):
        def wrap(self, avail_width, avail_height):
            return width, height

        def draw(self):
            self.canv.drawImage(ImageReader(image()), 0, 0, width, height, mask="auto")

    pic = Picture()
    pic.hAlign = "CENTER"
    return pic


def _write_pdf(sheet: Sheets, path: Path, truck_image: Callable[[int], object]) -> None:
    """``driver_sheets.pdf``: per truck, the ordered stops (A4, >= 10 pt) and its map
    (``truck_image(truck)``, asked for when its page is drawn)."""
    from reportlab.lib import colors
    from reportlab.lib.units import cm
    from reportlab.platypus import PageBreak, Paragraph, Spacer, Table, TableStyle

    st = _styles()
    plan = sheet.plan
    doc, page = _doc(path, f"Driver sheets {plan.date}", f"Watering plan {plan.date}",
                     sheet.attribution)
    story = []
    head = ["#", "time", "where", "site", "litres", "given L", "done", "notes"]
    widths = [1.0 * cm, 1.5 * cm, 5.6 * cm, 3.5 * cm, 1.5 * cm, 1.6 * cm, 1.3 * cm, 2.0 * cm]
    groups = list(sheet.stops.groupby("vehicle"))
    if not groups:
        story.append(Paragraph(f"Watering plan {plan.date}: no truck goes out today.",
                               st["title"]))
    for i, (v, g) in enumerate(groups):
        t = plan.totals[plan.totals["vehicle"] == v].iloc[0]
        vis = g[g["kind"] == "visit"]
        story += [
            Paragraph(f"Truck {int(v)} ({_esc(g['vehicle_type'].iloc[0])}) — {plan.date}",
                      st["title"]),
            Paragraph(f"{len(vis)} stops, {vis['litres'].sum():,.0f} L, {t['km']:.1f} km, "
                      f"{int(t['refills'])} refills; out {g['arrival'].iloc[0]}, back "
                      f"{g['arrival'].iloc[-1]}. Write the litres actually given in "
                      "<b>given L</b> (0 if the tree was not watered), tick <b>done</b>; "
                      "the sheet or driver_%02d.csv goes back into the watering log "
                      "(<i>irrigation log add</i>)." % int(v), st["body"]),
            Spacer(1, 0.25 * cm)]
        rows, spans = _route_rows(sheet, g, st)
        table = Table([[Paragraph(h, st["head"]) for h in head], *rows], colWidths=widths,
                      repeatRows=1)
        style = [("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                 ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#333333")),
                 ("VALIGN", (0, 0), (-1, -1), "TOP")]
        for r in spans:
            style += [("SPAN", (2, r), (-1, r)),
                      ("BACKGROUND", (0, r), (-1, r), colors.HexColor("#e8eef5"))]
        table.setStyle(TableStyle(style))
        story += [table, PageBreak(),
                  _picture(partial(truck_image, int(v)), 18 * cm, 18 * cm * 9.6 / 7.5)]
        if i < len(groups) - 1:
            story.append(PageBreak())
    _build(doc, story, page)


def _fixed_pdf(sheet: Sheets, path: Path) -> None:
    """``fixed_systems.pdf``: the zones (valves) to run today, their depth and minutes."""
    from reportlab.lib import colors
    from reportlab.lib.units import cm
    from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

    st = _styles()
    plan, f = sheet.plan, sheet.fixed
    doc, page = _doc(path, f"Fixed systems {plan.date}", f"Fixed systems {plan.date}",
                     sheet.attribution)
    story = [Paragraph(f"Fixed systems (sprinklers, drip lines) — {plan.date}", st["title"])]
    if not len(f):
        story.append(Paragraph("No zone needs to run today.", st["body"]))
    else:
        story += [Paragraph(f"{f['zone'].nunique()} zones, {f['litres'].sum():,.0f} L. Run "
                            "each zone's valve for its minutes; write the litres given "
                            "(meter) and tick <b>done</b>.", st["body"]), Spacer(1, 0.25 * cm)]
        head = ["zone", "where", "area m²", "mm", "min", "litres", "given L", "done"]
        rows = []
        for _, s in f.iterrows():
            rows.append([Paragraph(_esc(s["zone"]), st["bold"]), _where(s, st),
                         Paragraph(f"{s['area_m2']:,.0f}<br/>{_esc(s['kind'])}", st["body"]),
                         Paragraph(f"{s['mm']:.1f}", st["body"]),
                         Paragraph(f"{s['minutes']:.0f}", st["bold"]),
                         Paragraph(f"{s['litres']:,.0f}", st["body"]), "", ""])
        table = Table([[Paragraph(h, st["head"]) for h in head], *rows], repeatRows=1,
                      colWidths=[2.0 * cm, 6.6 * cm, 2.0 * cm, 1.2 * cm, 1.2 * cm, 1.8 * cm,
                                 2.0 * cm, 1.2 * cm])
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                                   ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#333333")),
                                   ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story.append(table)
    _build(doc, story, page)
