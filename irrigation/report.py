"""The human report of a daily run: ``report.md``, ``report.html`` and ``forecast.png``.

One list of sections (:func:`sections`: a title, paragraphs, tables) is rendered both to
Markdown and to a self-contained HTML page (images embedded as data URIs, inline CSS, no
network), so the two always say the same. Nothing here depends on the clock: the same run
gives the same bytes.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from .decide import threshold_summary

if TYPE_CHECKING:
    from .day import DayRun

#: Sites shown in the forecast plot.
URGENT_SITES = 8
#: Rows of the deferred table in the report (all of them are in ``deferred.csv``).
DEFERRED_ROWS = 25
#: Tension classes of the Berlin method [kPa]: good <= 33, moderate <= 80, critical above.
TENSION_CLASSES_KPA = (33.0, 80.0)
#: Range of a tension sensor when the run does not state it (``[qc] tension_range_kpa``).
DEFAULT_SENSOR_RANGE_KPA = (0.0, 239.0)


@dataclass
class Section:
    title: str
    text: list[str] = field(default_factory=list)
    table: pd.DataFrame | None = None
    image: str | None = None


def urgent_sites(run: DayRun, n: int = URGENT_SITES) -> np.ndarray:
    """Ids of the ``n`` most urgent watered sites, ranked as the schedule ranks them:
    priority, due day, probability of crossing within the lead time, depletion."""
    d = run.demand
    t = pd.DataFrame({"site": d["site"].values, "due_day": d["due_day"].values,
                      "p": d["p_cross_lead"].values, "frac": d["depletion_frac"].values,
                      "priority": run.forecast["priority"].values,
                      "watered": d["watered"].values})
    t = t[t["watered"]].sort_values(["priority", "due_day", "p", "frac"],
                                    ascending=[True, True, False, False], kind="stable")
    return t["site"].to_numpy()[:n]


def _sensor_top_kpa(run: DayRun) -> float:
    return float(run.info.get("tension_range_kpa", DEFAULT_SENSOR_RANGE_KPA)[1])


def plot_forecast(run: DayRun, path: Path, n: int = URGENT_SITES) -> None:
    """Forecast root-zone tension of the most urgent sites: ensemble median and 10-90 %,
    on the scale a tension sensor reads; drier than its range is drawn at the top of the
    range, in a hatched band."""
    from matplotlib.figure import Figure  # not pyplot: the caller's backend is left alone

    ids = urgent_sites(run, n)
    fc = run.forecast
    top = _sensor_top_kpa(run)
    days = pd.to_datetime(fc["time"].values)
    ncol = 4
    nrow = max(1, int(np.ceil(len(ids) / ncol)))
    fig = Figure(figsize=(13, 3.1 * nrow))
    axes = fig.subplots(nrow, ncol, sharex=True, squeeze=False)
    served = set(run.visits["site"]) if len(run.visits) else set()
    deferred = set(run.plan.deferred["site"])
    for ax, site in zip(axes.flat, ids, strict=False):
        t = fc["tension_kpa"].sel(site=site)
        q = np.minimum(t.quantile([0.1, 0.5, 0.9], dim="member").values, top)
        ax.axhspan(top, top * 1.35, color="0.85", hatch="//", lw=0,
                   label=f"drier than the sensors read (> {top:.0f} kPa)")
        ax.fill_between(days, q[0], q[2], color="tab:blue", alpha=0.25, lw=0,
                        label="10-90 % of members")
        ax.plot(days, q[1], color="tab:blue", lw=1.8, label="median")
        ax.axhline(min(float(fc["threshold_kpa"].sel(site=site)), top), color="tab:red",
                   lw=1.2, ls="--", label="threshold")
        for v in TENSION_CLASSES_KPA:
            ax.axhline(v, color="0.6", lw=0.6, ls=":")
        ax.set_yscale("log")
        ax.set_ylim(5, top * 1.35)
        status = "watered today" if site in served else (
            "deferred" if site in deferred else "not due")
        kind = str(fc["kind"].sel(site=site).item())
        ax.set_title(f"{site} ({kind}): {status}", fontsize=9)
        ax.tick_params(axis="x", labelrotation=45, labelsize=7)
    for ax in axes.flat[len(ids):]:
        ax.axis("off")
    for ax in axes[:, 0]:
        ax.set_ylabel("root-zone tension [kPa]")
    if len(ids):
        axes.flat[0].legend(fontsize=7, loc="lower right")
    fig.suptitle(f"Forecast from {run.date} without watering: the {len(ids)} most urgent "
                 f"sites ({run.info.get('members', '?')} members; dotted: 33 / 80 kPa; the "
                 f"sensors read 0-{top:.0f} kPa)")
    fig.tight_layout()
    fig.savefig(path, dpi=100, format="png")


def beyond_sensors(run: DayRun, sites: np.ndarray) -> tuple[int, int]:
    """Of ``sites``: how many are drier than the tension sensors read this morning, and
    how many within the horizon (ensemble median)."""
    if not len(sites):
        return 0, 0
    med = run.forecast["tension_kpa"].sel(site=list(sites)).median("member")
    top = _sensor_top_kpa(run)
    return int((med.isel(time=0) > top).sum()), int((med > top).any("time").sum())


def threshold_table(run: DayRun) -> pd.DataFrame:
    """The thresholds applied to the watered sites, per kind, soil and age
    (:func:`irrigation.decide.threshold_summary`; ``thresholds.csv``)."""
    fc = run.forecast
    watered = run.demand["watered"].values
    thr = xr.Dataset({"raw_kpa": fc["raw_kpa"], "young_tree_kpa": fc["young_tree_kpa"],
                      "threshold_kpa": fc["threshold_kpa"], "rule": fc["threshold_rule"]})
    sites = xr.Dataset({"kind": fc["kind"], "soil_texture": fc["soil_texture"],
                        "planting_year": fc["planting_year"]})
    return threshold_summary(thr.isel(site=watered), sites.isel(site=watered),
                             int(str(run.date)[:4]))


def threshold_section(run: DayRun) -> Section:
    """Which threshold applies where, and the groups where a configured young-tree
    tension is looser than RAW (so RAW applies)."""
    table = threshold_table(run)
    looser = table[table["note"] != ""]
    text = ["A site is due when its root zone is forecast past its threshold: RAW (the "
            "readily available water, FAO-56), or for young trees the stricter of RAW and "
            "the tension configured for their age ([decide] young_tree_tension_kpa). Every "
            "kind, soil and age with its tensions is in thresholds.csv."]
    if len(looser):
        text.append(f"In {len(looser)} soil/age groups of young trees the configured "
                    "tension is looser than RAW, so RAW applies there (medians over the "
                    "sites of a row):")
    else:
        text.append("Every configured young-tree tension is stricter than RAW, so it "
                    "applies.")
    return Section("Thresholds applied", text, looser if len(looser) else None)


def _count(plan_stops: pd.DataFrame, visits: pd.DataFrame, reason: str) -> int:
    if not len(visits):
        return 0
    served = set(plan_stops.loc[plan_stops["kind"] == "visit", "site"])
    return int(visits.loc[visits["reason"] == reason, "site"].isin(served).sum())


def sections(run: DayRun, city_name: str, deferred_described: pd.DataFrame | None = None
             ) -> list[Section]:
    """The report's content, in order; ``deferred_described`` is the plan's
    ``deferred.csv`` (with streets) when written."""
    plan, info, dem = run.plan, run.info, run.demand
    total = plan.totals.iloc[-1]
    due = int((dem["due"]).sum())
    served_sites = plan.stops.loc[plan.stops["kind"] == "visit", "site"].nunique() \
        if len(plan.stops) else 0
    out = [Section(f"Watering plan {run.date} — {city_name}", [
        f"Forecast: {info['forecast_source']}, {info['members']} members, "
        f"{info['horizon_days']} days. State: {info['state_start']}; "
        f"{info['n_obs']} sensor probes assimilated this morning"
        + (f", {info['n_obs_above_fc']} of them wetter than field capacity (taken as at field "
           "capacity, the water above it counted as observation error)."
           if info.get("n_obs_above_fc") else "."),
    ])]
    trucks = plan.trucks
    idle = trucks[trucks["stops"] == 0]
    summary = pd.DataFrame([{
        "due sites": due,
        "served (due)": _count(plan.stops, run.visits, "due"),
        "served (pulled forward)": _count(plan.stops, run.visits, "pulled forward"),
        "deferred": len(plan.deferred),
        "litres": round(float(total["litres"])),
        "km": round(float(total["km"]), 1),
        "truck hours (work / shift)": f"{total['work_h']:.1f} / {total['shift_h']:.1f}",
        "idle trucks": len(idle),
        "fixed-system zones": int(plan.fixed["zone"].nunique()),
    }])
    text = [f"{served_sites} sites get water from the trucks today; the routes decide how "
            "many fit (every due site is offered, the most urgent kept when not all fit)."]
    if len(plan.fixed):
        text.append(f"{plan.fixed['zone'].nunique()} fixed-system zones run today "
                    f"({plan.fixed['litres'].sum():,.0f} L, no trucks): fixed_systems.pdf.")
    out.append(Section("Summary", text, summary))
    if len(trucks):
        table = pd.DataFrame({
            "truck": trucks["vehicle"].astype(int), "type": trucks["vehicle_type"],
            "stops": trucks["stops"].astype(int), "litres": trucks["litres"].round(0),
            "km": trucks["km"].round(1), "work h": trucks["work_h"].round(2),
            "shift h": trucks["shift_h"].round(2),
            "used %": (100 * trucks["used"]).round(0),
            "refills": trucks["refills"].astype(int),
            "L per refill": trucks["litres_per_refill"].round(0)})
        text = [] if not len(idle) else [
            "Idle today: truck " + ", ".join(str(int(v)) for v in idle["vehicle"]) + "."]
        out.append(Section("Trucks", text, table))
    else:
        out.append(Section("Trucks", ["No truck goes out today."]))
    if len(run.warnings):
        out.append(Section("Warnings", [f"- {w}" for w in run.warnings]))
    deferred = plan.deferred if deferred_described is None else deferred_described
    text = ["None: every due site is served."] if not len(deferred) else [
        f"{len(deferred)} sites ({deferred['litres'].sum():,.0f} L) are due but not served "
        f"today, {int((deferred['status'] == 'overdue').sum())} of them already past their "
        f"threshold (overdue); the first {min(len(deferred), DEFERRED_ROWS)} by urgency (all "
        "in deferred.csv, with coordinates). Why: "
        + "; ".join(f"{r} {n}" for r, n in deferred["reason"].value_counts().items()) + "."]
    table = None
    if len(deferred):
        cols = [c for c in ("site", "kind", "priority", "litres", "status", "reason", "street",
                            "position") if c in deferred]
        table = deferred.sort_values(["priority", "due_day", "site"], kind="stable").head(
            DEFERRED_ROWS)[cols]
    out.append(Section("Deferred sites", text, table))
    if run.qc is None:
        out.append(Section("Sensors", ["No sensor data: this plan rests on the soil model "
                                       "alone."]))
    else:
        bad = run.qc[run.qc["problems"] != ""].reset_index()
        text = [f"{len(run.qc)} channels; {len(bad)} with quality problems over the last "
                f"{info['qc_days']} days (their flagged readings were not used)."]
        cols = [c for c in ("sensor", "depth_cm", "problems") if c in bad.columns]
        out.append(Section("Sensor quality", text, bad[cols] if len(bad) else None))
    dtw = run.forecast["depth_to_water_m"].isel(time=0)
    gw_text = [f"Depth to water under the sites this morning: median {float(dtw.median()):.2f} "
               f"m, shallowest {float(dtw.min()):.2f} m ({info['groundwater']})."]
    if info["groundwater"].startswith("fallback"):
        gw_text.append("Groundwater fallback: the forecast did not converge; the last good "
                       "heads were used (see Warnings).")
    out.append(Section("Groundwater", gw_text))
    out.append(threshold_section(run))
    urgent = urgent_sites(run)
    now, later = beyond_sensors(run, urgent)
    top = _sensor_top_kpa(run)
    out.append(Section("Forecast tension of the most urgent sites", [
        f"Of the {len(urgent)} most urgent sites, {now} are drier this morning than a "
        f"tension sensor reads (> {top:.0f} kPa) and {later} are forecast to be within the "
        "horizon without watering (ensemble median)."], image="forecast.png"))
    out.append(Section("Routes", [], image="map.png"))
    if info.get("attribution"):
        out.append(Section("Data credits", [info["attribution"]]))
    return out


def _md_table(df: pd.DataFrame) -> str:
    cols = [md_escape(str(c), cell=True) for c in df.columns]
    rows = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in df.itertuples(index=False):
        rows.append("| " + " | ".join(md_escape(_fmt(v), cell=True) for v in r) + " |")
    return "\n".join(rows)


def md_escape(text: str, cell: bool = False) -> str:
    """``text`` safe in Markdown: ``& < >`` as HTML entities (no raw HTML such as
    ``<script>``, no autolinks) and ``](`` broken up (no inline links or images), as the
    HTML report escapes with :func:`html.escape`; in a table ``cell`` also ``|`` escaped.
    Other characters stay as written (a key such as ``depth_to_water_m`` reads as is)."""
    text = html.escape(text, quote=False).replace("](", "]\\(")
    return text.replace("|", "\\|") if cell else text


def _md_line(line: str) -> str:
    """A text line of a section, escaped; a leading ``- `` list marker is kept."""
    if line.startswith("- "):
        return "- " + md_escape(line[2:])
    return md_escape(line)


def _fmt(v) -> str:
    if isinstance(v, float | np.floating):
        return "" if not np.isfinite(v) else f"{v:,.10g}"
    return str(v)


def to_markdown(secs: list[Section]) -> str:
    """Render sections as Markdown (images by relative file name)."""
    parts = []
    for i, s in enumerate(secs):
        parts.append(("# " if i == 0 else "## ") + md_escape(s.title))
        parts.extend(_md_line(t) for t in s.text)
        if s.table is not None:
            parts.append(_md_table(s.table))
        if s.image:
            parts.append(f"![{s.title}]({s.image})")
    return "\n\n".join(parts) + "\n"


_CSS = """body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #bbb;padding:2px 8px;
text-align:right}th{background:#eee}img{max-width:100%}h2{border-bottom:1px solid #ccc}"""


def to_html(secs: list[Section], folder: Path) -> str:
    """Render sections as one self-contained HTML page; images from ``folder`` embedded."""
    body = []
    for i, s in enumerate(secs):
        tag = "h1" if i == 0 else "h2"
        body.append(f"<{tag}>{html.escape(s.title)}</{tag}>")
        for t in s.text:
            body.append(f"<p>{html.escape(t)}</p>")
        if s.table is not None:
            body.append(s.table.to_html(index=False, border=0, na_rep="",
                                        float_format=lambda v: f"{v:,.10g}"))
        if s.image and (folder / s.image).exists():
            data = base64.b64encode((folder / s.image).read_bytes()).decode("ascii")
            body.append(f'<img alt="{html.escape(s.title)}" '
                        f'src="data:image/png;base64,{data}">')
    title = html.escape(secs[0].title)
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{title}</title><style>{_CSS}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def site_table(run: DayRun) -> pd.DataFrame:
    """Demand of every watered site (``demand.csv``)."""
    d = run.demand
    fc = run.forecast
    t = pd.DataFrame({
        "site": d["site"].values,
        "due_day": d["due_day"].values,
        "p_cross": d["p_cross"].values.round(3),
        "p_cross_lead": d["p_cross_lead"].values.round(3),
        "litres": d["litres"].values,
        "depletion_mm": fc["dr_mm"].isel(time=0).median("member").values.round(2),
        "threshold_mm": fc["threshold_mm"].values.round(2),
        "depletion_frac": d["depletion_frac"].values.round(3),
        "tension_kpa": fc["tension_kpa"].isel(time=0).median("member").values.round(1),
        "threshold_kpa": fc["threshold_kpa"].values.round(1),
        "threshold_rule": fc["threshold_rule"].values,
        "depth_to_water_m": fc["depth_to_water_m"].isel(time=0).values.round(3),
        "due": d["due"].values,
    })
    return t[d["watered"].values]


def write_report(run: DayRun, city_name: str, path: Path) -> None:
    """Write the report to ``path``: HTML if it ends with ``.html`` (images embedded from
    its folder), else Markdown."""
    path = Path(path)
    described = path.parent / "deferred.csv"
    secs = sections(run, city_name, pd.read_csv(described) if described.is_file() and
                    described.stat().st_size > 1 else None)
    text = to_html(secs, path.parent) if path.suffix == ".html" else to_markdown(secs)
    path.write_text(text)

