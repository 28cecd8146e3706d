"""The day's watering plan and its outputs for crews and office.

:func:`make_plan` joins the routed stops (:class:`irrigation.routing.RoutingSolution`) with
the visits and the deferred sites into a :class:`Plan`; :func:`write_plan` writes, into one
folder, atomically (a temporary folder renamed at the end, so a killed run never leaves a
half-written plan):

- ``driver_<vehicle>.csv`` — per truck: ordered stops with site, street, coordinates,
  litres, planned arrival, refills;
- ``driver_sheets.pdf`` — the same, printable, one page per truck;
- ``routes.geojson`` — RFC 7946 FeatureCollection in WGS84: one LineString per truck
  following the streets, one Point per stop with its properties;
- ``map.png`` — all routes over the street network, stops coloured by truck;
- ``summary.json`` and ``summary.csv`` — litres, km, hours and stops per truck and in total;
- ``deferred.csv`` — sites due but not served, with reason and latest safe day.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse.csgraph

from .routing import RoutingProblem, RoutingSolution
from .streets import StreetNetwork


@dataclass(frozen=True)
class Plan:
    """A day's plan.

    Attributes
    ----------
    date
        The planning day (YYYY-MM-DD).
    stops
        One row per stop in driving order (columns of :class:`RoutingSolution` ``stops``
        plus ``x``, ``y`` [m], ``street``, ``arrival`` HH:MM).
    deferred
        Sites not served today: site, litres, due_day, latest_safe_day, reason (and x, y
        [m] when the deferred sites given to :func:`make_plan` have them).
    totals
        Per vehicle and overall: litres, km, hours, stops, trips.
    """

    date: str
    stops: pd.DataFrame
    deferred: pd.DataFrame
    totals: pd.DataFrame


def _hhmm(seconds: np.ndarray) -> list[str]:
    s = np.asarray(seconds, float)
    return [f"{int(v // 3600):02d}:{int(v % 3600 // 60):02d}" for v in s]


def make_plan(
    date: str,
    problem: RoutingProblem,
    solution: RoutingSolution,
    visits: pd.DataFrame,
    deferred: pd.DataFrame,
) -> Plan:
    """Join routes, visits and deferrals into a :class:`Plan`.

    Visits the solver left unserved join the deferred list with reason ``"no room on
    today's routes"``.
    """
    stops = solution.stops.copy()
    stops["x"] = problem.x[stops["location"].to_numpy(int)]
    stops["y"] = problem.y[stops["location"].to_numpy(int)]
    street = dict(
        zip(visits["site"], visits.get("street", pd.Series([""] * len(visits))), strict=True)
    )
    stops["street"] = [
        street.get(s, "") if k == "visit" else ""
        for s, k in zip(stops["site"], stops["kind"], strict=True)
    ]
    stops["arrival"] = _hhmm(stops["arrival_s"])
    client = problem.n_depots + np.asarray(solution.unserved, dtype=int)
    unserved = pd.DataFrame(
        {
            "site": problem.client_id[solution.unserved],
            "litres": problem.delivery_l[solution.unserved],
            "due_day": np.nan,
            "latest_safe_day": np.datetime64(date, "D"),
            "reason": np.where(
                np.isin(problem.client_id[solution.unserved],
                        stops.loc[stops["kind"] == "visit", "site"].to_numpy()),
                "partly served (split visit): no room for the rest on today's routes",
                "no room on today's routes",
            ),
            "x": problem.x[client],
            "y": problem.y[client],
        }
    )
    cols = ["site", "litres", "due_day", "latest_safe_day", "reason"]
    if {"x", "y"} <= set(deferred.columns):
        cols += ["x", "y"]
    parts = [d[cols] for d in (deferred, unserved) if len(d)]
    all_deferred = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)
    return Plan(date, stops, all_deferred, _totals(stops, problem))


def _totals(stops: pd.DataFrame, problem: RoutingProblem) -> pd.DataFrame:
    rows = []
    for v, g in stops.groupby("vehicle", sort=True):
        loc = g["location"].to_numpy(int)
        rows.append(
            {
                "vehicle": int(v),
                "vehicle_type": g["vehicle_type"].iloc[0],
                "stops": int((g["kind"] == "visit").sum()),
                "litres": float(g["litres"].sum()),
                "km": float(problem.distance_m[loc[:-1], loc[1:]].sum() / 1000),
                "hours": float((g["end_s"].iloc[-1] - g["start_s"].iloc[0]) / 3600),
                "trips": int(g["trip"].max() + 1),
                "refills": int((g["kind"] == "refill").sum()),
            }
        )
    cols = ["vehicle", "vehicle_type", "stops", "litres", "km", "hours", "trips", "refills"]
    totals = pd.DataFrame(rows, columns=cols)
    total = {c: totals[c].sum() for c in ("stops", "litres", "km", "hours", "trips", "refills")}
    return pd.concat(
        [totals, pd.DataFrame([{"vehicle": -1, "vehicle_type": "total", **total}])],
        ignore_index=True,
    )


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


def write_plan(
    plan: Plan,
    out_dir: str | Path,
    *,
    crs: str,
    network: StreetNetwork | None = None,
    extra: Mapping[str, Callable[[Path], object]] | None = None,
    attribution: str = "",
) -> Path:
    """Write every output of ``plan`` into ``out_dir`` atomically; returns ``out_dir``.

    ``attribution`` (the city's ``attribution``, e.g. the ODbL credit of OpenStreetMap
    data) is printed at the foot of the map and of every driver-sheet page.

    The files are written into a temporary sibling folder that replaces ``out_dir`` only
    when everything is written; an existing ``out_dir`` is kept until then. ``extra`` maps
    further file names to writers ``write(path)`` (the daily report, forecast plots), run
    after the plan's own files, so they can read them (e.g. embed ``map.png``).
    """
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        legs = {
            v: street_paths(network, g["x"].to_numpy(), g["y"].to_numpy())
            for v, g in plan.stops.groupby("vehicle")
        }
        _write_driver_sheets(plan, tmp)
        _write_geojson(plan, legs, crs, tmp / "routes.geojson")
        _write_map(plan, legs, network, tmp / "map.png", attribution)
        _write_pdf(plan, tmp / "driver_sheets.pdf", attribution)
        plan.totals.to_csv(
            tmp / "summary.csv", index=False, float_format="%.2f", lineterminator="\n"
        )
        plan.deferred.to_csv(
            tmp / "deferred.csv", index=False, float_format="%.1f", lineterminator="\n"
        )
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


_SHEET_COLUMNS = ["stop", "trip", "kind", "site", "street", "x", "y", "litres", "arrival"]


def _write_driver_sheets(plan: Plan, folder: Path) -> None:
    for v, g in plan.stops.groupby("vehicle"):
        g[_SHEET_COLUMNS].to_csv(
            folder / f"driver_{int(v) + 1:02d}.csv",
            index=False,
            float_format="%.1f",
            lineterminator="\n",
        )


def _summary(plan: Plan) -> dict:
    total = plan.totals.iloc[-1]
    return {
        "date": plan.date,
        "served_sites": int(plan.stops.loc[plan.stops["kind"] == "visit", "site"].nunique()),
        "litres": round(float(total["litres"]), 1),
        "km": round(float(total["km"]), 2),
        "truck_hours": round(float(total["hours"]), 2),
        "trips": int(total["trips"]),
        "deferred_sites": len(plan.deferred),
        "deferred_litres": round(float(plan.deferred["litres"].sum()), 1)
        if len(plan.deferred)
        else 0.0,
        "vehicles": plan.totals.iloc[:-1].round(2).to_dict(orient="records"),
    }


def _write_geojson(plan: Plan, legs: dict, crs: str, path: Path) -> None:
    from pyproj import Transformer

    to_wgs84 = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)

    def lonlat(xy: np.ndarray) -> list[list[float]]:
        lon, lat = to_wgs84.transform(xy[:, 0], xy[:, 1])
        return np.round(np.column_stack([lon, lat]), 7).tolist()

    feats = []
    for v, g in plan.stops.groupby("vehicle"):
        line = (
            np.vstack([leg if k == 0 else leg[1:] for k, leg in enumerate(legs[v])])
            if legs[v]
            else g[["x", "y"]].to_numpy()
        )
        feats.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": lonlat(line)},
                "properties": {"vehicle": int(v) + 1, "vehicle_type": g["vehicle_type"].iloc[0]},
            }
        )
        pts = lonlat(g[["x", "y"]].to_numpy())
        for (_, s), p in zip(g.iterrows(), pts, strict=True):
            feats.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": p},
                    "properties": {
                        "vehicle": int(v) + 1,
                        "stop": int(s["stop"]),
                        "trip": int(s["trip"]),
                        "kind": s["kind"],
                        "site": str(s["site"]),
                        "street": s["street"],
                        "litres": float(s["litres"]),
                        "arrival": s["arrival"],
                    },
                }
            )
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}) + "\n")


def _write_map(plan: Plan, legs: dict, network: StreetNetwork | None, path: Path,
               attribution: str = "") -> None:
    import matplotlib  # Figure, not pyplot: the caller's backend is left alone
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 8))
    ax = fig.subplots()
    if network is not None:
        seg = np.stack(
            [
                np.column_stack([network.x[network.edge_from], network.y[network.edge_from]]),
                np.column_stack([network.x[network.edge_to], network.y[network.edge_to]]),
            ],
            axis=1,
        )
        ax.add_collection(LineCollection(seg, colors="0.82", linewidths=0.6, zorder=0))
    colors = matplotlib.colormaps["tab10"]
    for v, g in plan.stops.groupby("vehicle"):
        c = colors(int(v) % 10)
        for leg in legs[v]:
            ax.plot(leg[:, 0], leg[:, 1], color=c, lw=1.6, alpha=0.85, zorder=2)
        vis = g[g["kind"] == "visit"]
        ax.scatter(
            vis["x"],
            vis["y"],
            s=12 + vis["litres"] / 20,
            color=c,
            edgecolor="k",
            linewidth=0.3,
            zorder=3,
            label=f"truck {int(v) + 1} ({g['vehicle_type'].iloc[0]}): {len(vis)} stops, "
            f"{vis['litres'].sum():,.0f} L",
        )
        ref = g[g["kind"] == "refill"]
        ax.scatter(ref["x"], ref["y"], marker="^", s=60, color=c, edgecolor="k", zorder=4)
    d = plan.deferred
    if len(d) and {"x", "y"} <= set(d.columns):
        ax.scatter(d["x"], d["y"], marker="x", s=22, color="0.15", linewidth=0.9, zorder=3,
                   label=f"deferred: {len(d)} sites, {d['litres'].sum():,.0f} L")
    depots = plan.stops[plan.stops["kind"] == "start"]
    ax.scatter(depots["x"], depots["y"], marker="s", s=90, color="k", zorder=5, label="depot")
    ax.set_aspect("equal")
    ax.ticklabel_format(useOffset=False, style="plain")
    ax.set_xlabel("easting [m]")
    ax.set_ylabel("northing [m]")
    total = plan.totals.iloc[-1]
    ax.set_title(
        f"Watering plan {plan.date}: {total['stops']:.0f} stops, {total['litres']:,.0f} L, "
        f"{total['km']:.1f} km; {len(plan.deferred)} deferred (▲ refill)"
    )
    if len(plan.stops) or len(d):
        ax.legend(loc="upper left", fontsize=8, framealpha=0.9)
    fig.tight_layout()
    if attribution:
        fig.text(0.995, 0.005, attribution, ha="right", va="bottom", fontsize=7, color="0.3")
    fig.savefig(path, dpi=110)


def _write_pdf(plan: Plan, path: Path, attribution: str = "") -> None:
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    rows_per_page = 40
    with PdfPages(
        path, metadata={"CreationDate": None, "Title": f"Driver sheets {plan.date}"}
    ) as pdf:
        groups = list(plan.stops.groupby("vehicle")) or [(None, plan.stops)]
        for v, g in groups:
            table = (
                g[["stop", "kind", "site", "street", "litres", "arrival"]].astype(str).to_numpy()
            )
            for start in range(0, max(len(table), 1), rows_per_page):
                fig = Figure(figsize=(8.27, 11.69))
                ax = fig.subplots()
                ax.axis("off")
                title = (
                    "no stops today"
                    if v is None
                    else f"Truck {int(v) + 1} ({g['vehicle_type'].iloc[0]})"
                )
                ax.set_title(f"Watering plan {plan.date} — {title}", fontsize=12, loc="left")
                chunk = table[start : start + rows_per_page]
                if len(chunk):
                    t = ax.table(
                        cellText=chunk,
                        colLabels=["#", "kind", "site", "street", "litres", "arrival"],
                        loc="upper left",
                        cellLoc="left",
                        colWidths=[0.06, 0.1, 0.14, 0.4, 0.12, 0.12],
                    )
                    t.auto_set_font_size(False)
                    t.set_fontsize(8)
                if attribution:
                    fig.text(0.05, 0.02, attribution, fontsize=7, color="0.3")
                pdf.savefig(fig)
