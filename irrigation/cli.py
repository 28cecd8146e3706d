"""Command-line interface: argument parsing and printing only.

Each subcommand has one ``_add_<name>`` function that declares its arguments and one
``_cmd_<name>`` function that calls the library and prints. Errors the user can act on
(:class:`~irrigation.errors.InputError`) print on one line and exit with code 2; other
:class:`~irrigation.errors.IrrigationError` exit with 1; ``--debug`` shows tracebacks.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from .errors import InputError, IrrigationError
from .io.city import DEMO_CITY_DIR

log = logging.getLogger("irrigation")


# --------------------------------------------------------------------------- validate


def _add_validate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="load and check a city folder, print a summary")
    p.add_argument("--city", type=Path, default=None, help="city folder (default: the demo city)")


def _cmd_validate(args: argparse.Namespace) -> int:
    import datetime as dt

    import pandas as pd

    from .decide import routability_warnings, table_thresholds, threshold_summary
    from .groundwater.model import GwfModel
    from .io.city import load_city, load_groundwater
    from .io.soil_tables import read_soil_textures
    from .placement import placement_problems
    from .soil import site_water_capacity

    city = load_city(args.city or DEMO_CITY_DIR)
    print(city.summary())
    gw = load_groundwater(city)
    problems = placement_problems(city, gw if isinstance(gw, GwfModel) else None)
    if problems:
        raise InputError("the parts of the city do not lie together: " + "; ".join(problems)
                         + " (check the crs of city.toml and of each file)",
                         file=city.path / "city.toml")
    hyd, taw = site_water_capacity(city.sites, read_soil_textures())
    run_cfg = city.config.run
    year = (run_cfg.date or run_cfg.season_start or dt.date.today()).year
    thr = table_thresholds(city.sites, hyd, taw, city.species, year, city.config.decide)
    table = threshold_summary(thr, city.sites, year, kinds=city.config.decide.watered_kinds)
    print(f"\nthresholds applied in {year} (watered kinds; tensions are medians, RAW at the "
          "species' table p):")
    with pd.option_context("display.width", 200, "display.max_colwidth", 90):
        print(table.to_string(index=False, na_rep=""))
    for w in routability_warnings(city.sites, city.config.fleet, city.config.decide):
        print(f"warning: {w}")
    return 0


# --------------------------------------------------------------------------- run


def _add_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="the daily watering plan of a city",
                       description="Plan day D: sensors, state, soil and groundwater "
                       "forecast, decision, routes; writes plans/D, state/state-D.nc and "
                       "logs/run-D.json into the workspace.")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--city", type=Path, default=None, help="city folder")
    where.add_argument("--demo", action="store_true", help="use the bundled demo city")
    p.add_argument("--date", default=None,
                   help="planning day YYYY-MM-DD (default: run.date of city.toml, else today)")
    p.add_argument("--forecast", type=Path, default=None,
                   help="forecast file (.csv, .nc, Open-Meteo .json, MOSMIX .kml/.kmz); "
                   "default: weather.forecast of city.toml")
    p.add_argument("--out", type=Path, default=None,
                   help="workspace folder (default: run.workspace of city.toml, else "
                   "irrigation-runs/<city folder name>)")


def _cmd_run(args: argparse.Namespace) -> int:
    import datetime as dt

    import numpy as np

    from .io.city import load_city
    from .io.workspace import Workspace
    from .pipeline import run_day

    city = load_city(DEMO_CITY_DIR if args.demo else args.city)
    run_cfg = city.config.run
    try:
        day = np.datetime64(args.date or run_cfg.date or dt.date.today(), "D")
    except ValueError:
        raise InputError(f"expected a date YYYY-MM-DD, got {args.date!r}",
                         field="--date") from None
    ws = Workspace(args.out or Path(run_cfg.workspace or Path("irrigation-runs")
                                    / city.path.name))
    run = run_day(city, day, ws.root, forecast=args.forecast)
    total = run.plan.totals.iloc[-1]
    print(f"{city.config.name}, {day}: {int(total['stops'])} visits, "
          f"{total['litres']:,.0f} L, {total['km']:.1f} km, {total['hours']:.1f} truck hours; "
          f"{len(run.plan.deferred)} sites deferred")
    for w in run.warnings:
        print(f"warning: {w}")
    print(f"plan:   {ws.plan_dir(day).resolve()}/report.html (map.png, driver_sheets.pdf, "
          "routes.geojson)")
    print(f"state:  {ws.state_path(day).resolve()}")
    return 0


# --------------------------------------------------------------------------- scenario


def _add_scenario(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scenario", help="simulate whole seasons under drought scenarios and "
                       "compare watering policies")
    p.add_argument("files", type=Path, nargs="+", metavar="FILE", help="scenario TOML file(s)")
    p.add_argument("--members", type=int, default=None,
                   help="closed-loop members (default: the scenario's 'members')")
    p.add_argument("--workers", type=int, default=None,
                   help="local dask worker processes (default: the CPU count; 0: no dask)")
    p.add_argument("--scheduler", default=None,
                   help="address of a dask.distributed scheduler to run on instead")
    p.add_argument("--out", type=Path, default=None,
                   help="results folder (default: irrigation-runs/scenarios/<name>)")


def _cmd_scenario(args: argparse.Namespace) -> int:
    import os

    from .scenario import load_scenario, run_scenario, summary, write_results
    from .scenario.results import front_sentence

    if args.members is not None and not 1 <= args.members <= 1000:
        raise InputError(f"expected 1..1000 members, got {args.members}", field="--members")
    if len(args.files) > 1 and args.out is not None:
        raise InputError("--out needs a single scenario file", field="--out")
    scenarios = [load_scenario(f) for f in args.files]  # all validated before any runs
    workers = (os.cpu_count() or 1) if args.workers is None else args.workers
    for scn in scenarios:
        ds = run_scenario(scn, members=args.members, workers=workers,
                          scheduler=args.scheduler, progress=not args.quiet)
        out = write_results(ds, args.out or Path("irrigation-runs") / "scenarios" / scn.name)
        print(f"{scn.name}: {ds.sizes['member']} members x {ds.sizes['policy']} policies, "
              f"{ds.attrs['season']}")
        table = summary(ds)[["water_m3", "critical_site_days", "critical_site_days_lo",
                             "critical_site_days_hi", "dying_sites"]]
        print(table.astype(float).round(1).to_string())
        print(front_sentence(ds))
        print(f"report: {out.resolve()}/report.html")
    return 0


# --------------------------------------------------------------------------- route


def _add_route(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("route", help="solve a VRPLIB instance through the routing adapter")
    p.add_argument("--vrplib", type=Path, required=True, help="VRPLIB/CVRPLIB instance file")
    p.add_argument("--time-limit", type=float, default=30.0, help="seconds (default 30)")
    p.add_argument("--seed", type=int, default=1)


def _cmd_route(args: argparse.Namespace) -> int:
    from .io.vrplib import read_solution_cost, read_vrplib, solution_path
    from .routing import solve

    inst = read_vrplib(args.vrplib)
    sol = solve(inst.problem, args.time_limit, seed=args.seed)
    n_routes = sol.stops.vehicle.nunique()
    status = "feasible" if sol.feasible else "INFEASIBLE"
    print(
        f"instance {inst.name} ({inst.type}, {inst.problem.n_clients} clients, '{inst.rounding}')"
    )
    print(
        f"cost {sol.cost} ({status}, {n_routes} routes, {sol.n_trips} trips, {sol.runtime_s:.1f} s)"
    )
    for r, route in sol.stops.groupby("vehicle"):
        inner = route.iloc[1:-1]
        stops = [
            str(c) if k == "visit" else str(loc)
            for k, c, loc in inner[["kind", "site", "location"]].itertuples(index=False)
        ]
        print(f"Route #{r}: " + " ".join(stops))
    sol_file = solution_path(args.vrplib)
    best = None if sol_file is None else read_solution_cost(sol_file)
    if best:
        print(f"gap {100 * (sol.cost - best) / best:+.2f} % to {best:g} ({sol_file.name})")
    return 0 if sol.feasible else 1


# --------------------------------------------------------------------------- log


def _add_log(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("log", help="the watering log: what the crews did")
    lsub = p.add_subparsers(dest="log_command", required=True)
    a = lsub.add_parser("add", help="append what the crews reported (a driver sheet CSV, "
                        "fixed_systems.csv, visits.csv or a crew app export) to the "
                        "workspace's watering log; the next run uses it")
    a.add_argument("files", type=Path, nargs="+", metavar="FILE")
    where = a.add_mutually_exclusive_group(required=True)
    where.add_argument("--city", type=Path, default=None, help="city folder")
    where.add_argument("--demo", action="store_true", help="the bundled demo city")
    a.add_argument("--date", default=None, help="the planned day the report is of (rows "
                   "of other days are refused; needed for files without dates)")
    a.add_argument("--out", type=Path, default=None, help="workspace folder (as for run)")
    a.add_argument("--as-planned", action="store_true",
                   help="count a planned row with an empty given_l as given as planned")


def _cmd_log(args: argparse.Namespace) -> int:
    from .io.city import load_city
    from .io.lock import workspace_lock
    from .io.watering import read_report
    from .io.workspace import Workspace, recover

    city = load_city(DEMO_CITY_DIR if args.demo else args.city)
    ws = Workspace(args.out or Path(city.config.run.workspace or Path("irrigation-runs")
                                    / city.path.name))
    reports = [(f, read_report(f, date=args.date, as_planned=args.as_planned))
               for f in args.files]  # all read and checked before any is added
    with workspace_lock(ws.root):  # not while a run reads the log or writes a plan
        for line in recover(ws):
            log.warning("workspace: %s", line)
        _add_reports(reports, city, ws, args.date)
    return 0


def _add_reports(reports: list, city, ws, date: str | None) -> None:
    from .io.watering import add_to_log

    for f, report in reports:
        added = add_to_log(report, f, city.sites, ws.root / "plans", ws.watering_log,
                           date=date)
        days = ", ".join(sorted(set(added.rows["date"])))
        print(f"{f.name} ({report.kind}): {len(added.rows)} rows, "
              f"{added.rows['litres'].sum():,.0f} L of {days or 'no day'} added to "
              f"{added.log}")
        for note in added.notes:
            print(f"  note: {note}")


# --------------------------------------------------------------------------- groundwater


def _add_groundwater(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("groundwater", help="MODFLOW 6 groundwater models")
    gsub = p.add_subparsers(dest="gw_command", required=True)
    s = gsub.add_parser("solve", help="run a MODFLOW 6 simulation folder as it is")
    s.add_argument("sim_dir", type=Path)
    s.add_argument("--backend", choices=["auto", "embedded", "mf6"], default="auto")
    s.add_argument("--out", type=Path, default=Path("heads.nc"), help="NetCDF of all heads")
    s.add_argument("--budget", type=Path, default=None,
                   help="CSV of the budget per package and step (default: OUT with .csv)")


def _cmd_groundwater(args: argparse.Namespace) -> int:
    from .groundwater.solve import solve_to_files

    out = solve_to_files(args.sim_dir, args.out, backend=args.backend, budget_csv=args.budget)
    for line in out.summary_lines():
        print(line)
    return 0


# --------------------------------------------------------------------------- sensors


def _add_sensors(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sensors", help="soil sensor readings: quality control and hindcast")
    ssub = p.add_subparsers(dest="sensors_command", required=True)
    h = ssub.add_parser("hindcast", help="replay readings with and without assimilation and "
                        "score the prediction at held-out probes")
    h.add_argument("--city", type=Path, default=None, help="city folder (default: the demo)")
    h.add_argument("--readings", type=Path, default=None,
                   help="readings file or folder (default: the city's sensor_data)")
    h.add_argument("--start", default=None, help="first day (default: run.season_start)")
    h.add_argument("--end", default=None, help="last day (default: 182 days after the start)")
    h.add_argument("--lead", type=int, default=3, help="forecast lead scored [days]")
    h.add_argument("--folds", type=int, default=4, help="held-out groups of probes")
    h.add_argument("--out", type=Path, default=Path("hindcast"), help="output folder")


def _cmd_sensors(args: argparse.Namespace) -> int:
    import dataclasses

    import numpy as np

    from .hindcast import sensor_hindcast
    from .io.city import load_city
    from .io.files import atomic_write
    from .plots import plot_hindcast
    from .sensors import qc_summary

    city = load_city(args.city or DEMO_CITY_DIR)
    if args.readings is not None:
        if not args.readings.exists():
            raise InputError("readings not found", file=args.readings)
        city = dataclasses.replace(city, config=dataclasses.replace(
            city.config, sensor_data=args.readings.resolve()))
    start = np.datetime64(args.start or city.config.run.season_start, "D")
    end = np.datetime64(args.end, "D") if args.end else start + np.timedelta64(182, "D")
    if end <= start + args.lead:
        raise InputError(f"expected --end after --start + lead, got {start}..{end}",
                         field="--end")
    hc, checked, obs = sensor_hindcast(city, start, end, lead_days=args.lead,
                                       n_folds=args.folds)
    summary = qc_summary(checked.readings)
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write(args.out / "hindcast.nc", lambda t: hc.to_netcdf(t, engine="h5netcdf"))
    atomic_write(args.out / "qc_summary.csv", lambda t: summary.to_csv(t))
    atomic_write(args.out / "hindcast.png", lambda t: plot_hindcast(hc, t))
    n_err = sum(p.severity == "error" for p in obs.problems)
    print(f"readings: {int(np.isfinite(obs.readings['value']).sum())} values, "
          f"{n_err} rows dropped by the reader")
    flagged = summary[summary["problems"] != ""]
    print(f"quality control: {len(flagged)} of {len(summary)} channels flagged")
    for (probe, depth), row in flagged.iterrows():
        print(f"  {probe} {depth} cm: {row['problems']}")
    print(f"hindcast {start}..{end}, lead {args.lead} d, {args.folds} held-out groups, "
          f"{int(hc['n_scored'][0])} scored channel-days")
    print("run          RMSE tension   RMSE root-zone tension   bias     RMSE theta")
    for run in hc["run"].values:
        r = hc.sel(run=run)
        print(f"{run:<12} {float(r.rmse_tension_kpa):8.1f} kPa {float(r.rmse_rz_tension_kpa):14.1f}"
              f" kPa {float(r.bias_tension_kpa):+11.1f} kPa {float(r.rmse_theta):9.4f}")
    print(f"wrote {args.out}/hindcast.nc, hindcast.png, qc_summary.csv")
    return 0


# --------------------------------------------------------------------------- city


def _add_city(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("city", help="make a city folder from a city's own data")
    csub = p.add_subparsers(dest="city_command", required=True)
    i = csub.add_parser(
        "init", help="build a city folder, ready for `irrigation run`, from a tree cadastre, "
        "refill points, an OSM extract, weather and a groundwater model",
        description="Build a city folder from a city's data (irrigation.io.cityinit); "
        "prints and writes into its README.md what was done. Nothing is written on error.")
    i.add_argument("out", metavar="OUT", help="new city folder")
    i.add_argument("--trees", required=True, help="tree cadastre: GeoJSON (any declared "
                   "CRS) or CSV with coordinate columns")
    i.add_argument("--mapping", default="generic", help="column mapping: berlin, generic "
                   "or a TOML file (default generic)")
    i.add_argument("--refill-points", help="refill points file, GeoJSON or CSV (e.g. the "
                   "OSM street-pump export), broken/locked ones left out")
    i.add_argument("--osm", help="OSM extract .osm/.osm.gz: street graph and refill points")
    i.add_argument("--weather", help="observed weather: DWD CDC KL (.zip/.txt), KNMI .txt, "
                   "Open-Meteo .json, .nc or project .csv")
    i.add_argument("--weather-start", help="first day of observed weather kept (YYYY-MM-DD)")
    i.add_argument("--weather-end", help="last day of observed weather kept (YYYY-MM-DD)")
    i.add_argument("--forecast", help="forecast file (MOSMIX .kml/.kmz, Open-Meteo .json, "
                   ".nc, .csv) or 'observed' (replay the observed weather)")
    i.add_argument("--groundwater", help="MODFLOW 6 simulation folder")
    i.add_argument("--depth-to-water", help="without --groundwater: the depth to water [m] "
                   "or an ESRI ASCII grid (.asc) of it (default: 10 m, no capillary rise)")
    i.add_argument("--crs", help="EPSG:N of the city (default: the UTM zone of the trees)")
    i.add_argument("--reference-year", type=int, help="year ages are counted from (default: "
                   "that of --season-start, --run-date or --weather-end, else this year)")
    i.add_argument("--planted-by", type=int, help="leave out trees planted after this year "
                   "(planning a past season with a newer cadastre)")
    i.add_argument("--district", action="append", default=[], metavar="NAME|W,S,E,N",
                   help="keep the trees of a district (mapping column 'district') and/or "
                   "inside a box in degrees; may be given twice")
    i.add_argument("--pump-l-per-min", type=float, help="refill rate of street pumps/wells "
                   "and file points without a rate [L/min]")
    i.add_argument("--hydrant-l-per-min", type=float, default=800.0,
                   help="refill rate of OSM fire hydrants [L/min] (default 800, DVGW W 405)")
    i.add_argument("--depot", metavar="LON,LAT", help="where trucks start and end (default: "
                   "the centre of the trees, stated as an assumption)")
    i.add_argument("--depot-l-per-min", type=float, default=0.0,
                   help="refill rate at the depot [L/min] (default 0: a yard)")
    i.add_argument("--margin-m", type=float, default=1000.0, help="refill points kept within "
                   "the trees' extent plus this [m] (default 1000)")
    i.add_argument("--refill-spacing-m", type=float, default=0.0,
                   help="keep at most one refill point within this distance of another, the "
                   "fastest first [m] (default 0: all); fewer reload points route faster")
    i.add_argument("--species", help="the city's own species table (CSV), merged over the "
                   "packaged one")
    i.add_argument("--sensors", help="sensor probes CSV (id, site, depth_cm, kind)")
    i.add_argument("--sensor-data", help="sensor readings: long CSV, SensorThings JSON or "
                   "a folder of them")
    i.add_argument("--name", help="name of the city (default: the folder name)")
    i.add_argument("--season-start", help="run.season_start (default: 1 April of the "
                   "reference year)")
    i.add_argument("--run-date", help="run.date, the day `irrigation run` plans by default")
    i.add_argument("--station", help="weather station name (default: from the file)")
    i.add_argument("--latitude-deg", type=float, help="station latitude (default: the trees')")
    i.add_argument("--elevation-m", type=float, help="station elevation [m]")
    i.add_argument("--trucks", type=int, default=2, help="trucks (default 2)")
    i.add_argument("--tank-l", type=float, default=5000.0, help="tank per truck [L]")
    i.add_argument("--truck-pump-l-per-min", type=float, default=150.0,
                   help="truck pump rate [L/min]")
    i.add_argument("--attribution", help="credit line on maps, sheets and reports (default "
                   "with --osm: the OpenStreetMap ODbL credit)")
    i.add_argument("--note", action="append", default=[], help="a line for the README")


def _cmd_city(args: argparse.Namespace) -> int:
    import time

    from .io.cityinit import InitSpec, init_city

    depot = None
    if args.depot is not None:
        try:
            lon, lat = (float(v) for v in args.depot.split(","))
        except ValueError:
            raise InputError(f"expected LON,LAT, got {args.depot!r}", field="--depot") from None
        depot = (lon, lat)
    import dataclasses

    names = [f.name for f in dataclasses.fields(InitSpec)
             if f.name not in ("depot", "district", "notes")]
    spec = InitSpec(**{n: getattr(args, n) for n in names}, depot=depot,
                    district=tuple(args.district), notes=tuple(args.note))
    t0 = time.perf_counter()
    report = init_city(spec)
    for line in report.lines():
        print(line)
    print(f"wrote {report.out} in {time.perf_counter() - t0:.1f} s (README.md says what was "
          "done); next: irrigation validate --city " + str(report.out))
    return 0


# --------------------------------------------------------------------------- weather


def _add_weather(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("weather", help="weather files")
    wsub = p.add_subparsers(dest="weather_command", required=True)
    c = wsub.add_parser("convert", help="convert observed weather (DWD CDC, KNMI, "
                        "Open-Meteo, NetCDF) to the project weather CSV")
    c.add_argument("src", metavar="IN", help="weather file")
    c.add_argument("dst", metavar="OUT", help="project weather CSV to write")
    c.add_argument("--start", help="first day kept (YYYY-MM-DD)")
    c.add_argument("--end", help="last day kept (YYYY-MM-DD)")
    c.add_argument("--wind-height-m", type=float, default=2.0,
                   help="height the wind is written at (default 2 m; the city's "
                   "weather.wind_height_m)")


def _cmd_weather(args: argparse.Namespace) -> int:
    from .io.weather import read_weather_period, write_weather_csv

    ds = read_weather_period(args.src, start=args.start, end=args.end)
    write_weather_csv(ds, args.dst, wind_height_m=args.wind_height_m)
    days = ds["time"].values
    print(f"{args.src}: {days.size} days {str(days[0])[:10]}..{str(days[-1])[:10]}, "
          f"{', '.join(map(str, ds.data_vars))} -> {args.dst} (wind at "
          f"{args.wind_height_m:g} m)")
    if ds.attrs.get("notes"):
        print(f"notes: {ds.attrs['notes']}")
    return 0


# --------------------------------------------------------------------------- main

_COMMANDS = {
    "run": (_add_run, _cmd_run),
    "scenario": (_add_scenario, _cmd_scenario),
    "route": (_add_route, _cmd_route),
    "groundwater": (_add_groundwater, _cmd_groundwater),
    "validate": (_add_validate, _cmd_validate),
    "sensors": (_add_sensors, _cmd_sensors),
    "city": (_add_city, _cmd_city),
    "weather": (_add_weather, _cmd_weather),
    "log": (_add_log, _cmd_log),
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``irrigation`` command."""
    parser = argparse.ArgumentParser(
        prog="irrigation",
        description="Daily watering plans for city trees, lawns and shrub beds.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add, _ in _COMMANDS.values():
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``irrigation`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    level = logging.WARNING if args.quiet else logging.INFO
    # this package's progress lines at INFO; other libraries (dask, flopy) warnings only
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    logging.getLogger("irrigation").setLevel(level)
    for handler in logging.getLogger().handlers:  # -q holds even where a logger says INFO
        handler.setLevel(level)
    try:
        return _COMMANDS[args.command][1](args)
    except InputError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except IrrigationError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
