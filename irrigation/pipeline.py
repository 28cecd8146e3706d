"""The daily run: read a city's inputs, run the day's steps, write plan, state and record.

:func:`run_day` is the composition root of a planning day: it reads through
:mod:`irrigation.io` (:func:`read_inputs`), runs the public steps of
:mod:`irrigation.day` in eight stages (:data:`STAGES`, one progress line each with its wall
time) and writes the plan folder, the state and the run record (:func:`write_day`). It
holds no science of its own.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from .city import City
from .day import (
    DayRun,
    PlanningModel,
    SensorObservations,
    SoilState,
    StateRun,
    assimilate,
    continue_state,
    decide_day,
    forecast,
    forecast_ensemble,
    forecast_percolation,
    groundwater_step,
    morning_heads,
    observe,
    reference_et0,
    route_day,
    spinup_periods,
    steady_state,
)
from .errors import InputError
from .groundwater.linear import blas_threads, default_blas_threads
from .io.cells import neutralise
from .io.city import load_groundwater
from .io.files import atomic_write
from .io.lock import workspace_lock
from .io.observations import Observed, read_forecast, read_observed
from .io.sensorstore import STORE_DIR as SENSOR_STORE
from .io.soil_tables import read_soil_textures
from .io.workspace import (
    DayCommit,
    Workspace,
    check_workspace,
    read_state,
    recover,
    sha256,
    versions,
    write_run_record,
    write_state,
)
from .placement import placement_problems
from .plan import served_visits, visit_log, write_plan
from .report import plot_forecast, site_table, threshold_table, write_report
from .sensors import qc_summary

log = logging.getLogger(__name__)

#: Stages of :func:`run_day`, in order; each logs one line with its wall time.
STAGES = ("inputs", "sensors", "state", "groundwater", "forecast", "decide", "routing",
          "write")

#: Days of sensor quality control that the daily report lists.
QC_REPORT_DAYS = 7


class _Stages:
    """Runs the stages in order with one progress line each and keeps their timings."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    def __call__(self, name: str, fn, *args, **kwargs):
        k = STAGES.index(name) + 1
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        dt_s = time.perf_counter() - t0
        self.timings[name] = dt_s
        log.info("[%d/%d] %-12s %7.2f s", k, len(STAGES), name, dt_s)
        return out


# =========================================================================== inputs


@dataclass(frozen=True)
class DayInputs:
    """What the inputs stage read for day D (:func:`read_inputs`).

    Attributes
    ----------
    model
        The planning model (city, groundwater model, soil tables).
    observed
        Observations from ``run.season_start`` to D-1 (sensor readings before D).
    et0_mm
        Reference ET0 of the observed weather [mm d-1].
    forecast
        Weather forecast from D (``time``[, ``member``]).
    forecast_source
        Where the forecast came from, for the report.
    previous
        The latest saved state before D (None: spin up from the season start).
    files
        Input files by role, for the run record.
    warnings
        What the report must tell (missing sensor data or watering log, ...).
    """

    model: PlanningModel
    observed: Observed
    et0_mm: xr.DataArray
    forecast: xr.Dataset
    forecast_source: str
    previous: SoilState | None
    files: dict[str, Path]
    warnings: tuple[str, ...]


def _season_days(city: City, day: np.datetime64) -> np.ndarray:
    if city.config.run.season_start is None:
        raise InputError("expected the day the soil balance starts from (e.g. "
                         "season_start = 2019-04-01 in [run]); the daily run needs it",
                         file=city.path / "city.toml", field="run.season_start")
    start = np.datetime64(city.config.run.season_start, "D")
    if day <= start:
        raise InputError(f"expected a planning day after run.season_start ({start}), got {day}",
                         field="--date")
    return np.arange(start, day)


def read_inputs(city: City, day, workspace: str | Path, forecast: Path | None = None
                ) -> DayInputs:
    """The inputs stage of :func:`run_day`: the forecast (checked first, so a bad forecast
    stops the run before anything else is read), observed weather, watering log and sensor
    readings from ``run.season_start`` to D-1, the latest saved state before D, the
    groundwater model and the soil tables.

    Raises
    ------
    InputError
        Missing or broken inputs.
    """
    cfg = city.config
    day = np.datetime64(day, "D")
    ws = Workspace(Path(workspace))
    days = _season_days(city, day)
    fc, source, fc_file = read_forecast(city, day, forecast)  # first: fail before reading
    obs = read_observed(city, days[0], days[-1], reported=ws.watering_log,
                        sensor_store=ws.root / SENSOR_STORE)
    warnings = []
    if obs.readings is not None:
        obs.readings = obs.readings.sel(time=obs.readings["time"] < day)
        fresh = obs.readings.sel(time=obs.readings["time"] >= day - np.timedelta64(1, "D"))
        if int(np.isfinite(fresh["value"]).sum()) == 0:
            warnings.append("no sensor reading in the 24 h before the run: the state is the "
                            "model's alone today")
    else:
        warnings.append(f"no sensor data ({cfg.sensor_data or 'none configured'}): the run "
                        "goes on with the soil model alone")
    if (cfg.watering_log is None or not Path(cfg.watering_log).exists()) \
            and not ws.watering_log.exists():
        warnings.append(f"no watering log ({cfg.watering_log or 'none configured'}): the state "
                        "assumes nothing was watered")
    warnings += dropped_rows_warning(obs.problems)
    prev = ws.previous_state(day, days[0])
    warnings += state_gap_warnings(ws, day, None if prev is None else prev[0])
    files = {"city.toml": city.path / "city.toml", "sites": cfg.sites,
             "refill_points": cfg.refill_points, "weather.observed": cfg.weather.observed,
             "forecast": fc_file}
    gw = cfg.groundwater
    for key, p in (("sensors", cfg.sensors), ("streets", cfg.streets),
                   ("sensor_data", cfg.sensor_data), ("watering_log", cfg.watering_log),
                   ("species", cfg.species), ("groundwater", gw.sim_dir),
                   ("groundwater.depth_to_water_grid", gw.depth_to_water_grid)):
        if p is not None and Path(p).exists():
            files[key] = Path(p)
    if ws.watering_log.exists():
        files["watering_reported"] = ws.watering_log
    if prev is not None:
        files["previous_state"] = prev[1]
    pm = PlanningModel.build(city, load_groundwater(city), read_soil_textures(), city.species)
    warnings += placement_problems(city, pm.groundwater)
    previous = None if prev is None else SoilState.from_dataset(read_state(prev[1]), pm,
                                                                prev[0])
    return DayInputs(pm, obs, reference_et0(pm, obs.weather), fc, source, previous, files,
                     tuple(warnings))


#: Dropped rows named in the warning (all of them are counted).
DROPPED_EXAMPLES = 3


def dropped_rows_warning(problems) -> list[str]:
    """A warning counting the sensor rows the reader dropped (garbage lines, timestamps
    without a timezone or in the future, duplicates, unknown units), with examples."""
    dropped = [p for p in problems if p.severity == "error"]
    if not dropped:
        return []
    files = sorted({p.file for p in dropped})
    examples = "; ".join(str(p) for p in dropped[:DROPPED_EXAMPLES])
    return [f"{len(dropped)} sensor data rows dropped by the reader ({len(files)} file(s)), "
            f"e.g. {examples}"]


def state_gap_warnings(ws: Workspace, day: np.datetime64, previous: np.datetime64 | None
                       ) -> list[str]:
    """Warnings when D does not continue D-1: the latest saved state is older (the days
    between were not planned), or states of later days exist (they were computed from
    an earlier plan of D and do not see this one until re-run)."""
    out = []
    if previous is not None and previous < day - 1:
        out.append(f"continued from the state of {previous}, {int(day - previous)} days before "
                   f"{day}: the days between were not planned (no state of {day - 1})")
    later = ws.later_states(day)
    if later:
        out.append(f"states of later days exist ({', '.join(map(str, later))}); they were "
                   f"computed before this run of {day} and do not see it until re-run")
    return out


# =========================================================================== stages


def _observe(inp: DayInputs, day: np.datetime64) -> SensorObservations | None:
    """Sensor stage: QC against an open loop from the season start (with the previous
    state's depth to water; none on spin-up) and the observations of every morning."""
    pm, o = inp.model, inp.observed
    dtw0 = None if inp.previous is None else pm.depth_to_water_m(
        inp.previous.heads_m).isel(time=0)
    days = np.arange(np.datetime64(pm.city.config.run.season_start, "D"), day + 1)
    return observe(pm, o.readings, inp.et0_mm, o.weather["precip_mm"], o.watering_l, dtw0,
                   days)


def _state(inp: DayInputs, obs: SensorObservations | None, day: np.datetime64,
           progress: bool = True) -> tuple[StateRun, str, np.datetime64, tuple[str, ...]]:
    """State stage: continue the previous state, or spin up from the season start at field
    capacity with the model's steady heads, to the morning of D; returns the run, where the
    state came from, the day it started and warnings."""
    pm, o = inp.model, inp.observed
    warnings: tuple[str, ...] = ()
    if inp.previous is None:
        d0 = np.datetime64(pm.city.config.run.season_start, "D")
        steady = steady_state(pm)
        warnings = () if steady.converged else (steady.warning,)
        start = SoilState.at_field_capacity(pm, d0, steady.heads_m[0])
        start, _ = assimilate(pm, start, None if obs is None else obs.daily.sel(time=d0),
                              None if obs is None else obs.rho)
        gw = "steady groundwater" if pm.groundwater is not None else "assumed water table"
        text = f"spun up from the season start {d0} (field capacity, {gw})"
    else:
        start = inp.previous
        text = f"continued from the state of {start.day}"
    run = continue_state(pm, start, inp.et0_mm, o.weather["precip_mm"], o.watering_l, obs,
                         day, progress=progress)
    return run, text, start.day, warnings


def _groundwater(pm: PlanningModel, run: StateRun, since: np.datetime64
                 ) -> tuple[SoilState, tuple[str, ...]]:
    """Groundwater stage: the model from the state's start to D with the days' recharge."""
    if run.dp_mm.shape[0] == 0:
        return run.state, ()
    rch, days = spinup_periods(pm.recharge_mm_d(run.dp_mm),
                               pm.city.config.groundwater.spinup_step_days)
    gw = groundwater_step(pm, run.state.heads_m, rch, start=since, period_days=days)
    state = dataclasses.replace(run.state, heads_m=gw.heads_m[-1])
    return state, () if gw.converged else (gw.warning,)


def _forecast(pm: PlanningModel, state: SoilState, weather: xr.Dataset
              ) -> tuple[xr.Dataset, tuple[str, ...], dict]:
    """Forecast stage: ensemble, soil with today's depth to water, recharge, groundwater
    forecast from today's heads, soil again with the depth to water of each morning."""
    ens = forecast_ensemble(pm, state, weather)
    dtw = pm.depth_to_water_m(state.heads_m).isel(time=0, drop=True)
    t0 = time.perf_counter()
    gw = groundwater_step(pm, state.heads_m,
                          pm.recharge_mm_d(forecast_percolation(pm, ens, dtw)), start=state.day)
    if gw.converged:
        log.info("  groundwater forecast %d days in %.2f s", gw.heads_m.shape[0],
                 time.perf_counter() - t0)
    fc = forecast(pm, ens, morning_heads(state.heads_m, gw.heads_m))
    info = {**ens.info,
            "groundwater": pm.groundwater_text if gw.converged else "fallback: last good heads"}
    return fc, ens.warnings + (() if gw.converged else (gw.warning,)), info


def _above_fc(obs: SensorObservations | None, day: np.datetime64) -> int:
    """Probes whose root zone read wetter than field capacity on D's morning."""
    if obs is None:
        return 0
    return int(obs.daily["above_fc"].sel(time=day).sum())


# =========================================================================== the run


def run_day(city: City, day, workspace: str | Path, *, forecast: Path | None = None
            ) -> DayRun:
    """The daily run of ``city`` for day ``day``; writes plan, state and run record.

    Stages (:data:`STAGES`), each logged with its wall time: read the inputs (observed
    weather, watering log and sensor readings up to D-1, the forecast, the latest saved
    state before D); quality-control the sensors; continue the state to the morning of D
    with the sensor analysis (or spin up from ``run.season_start``); forecast soil and
    groundwater for all members; decide; route; write.

    BLAS runs one thread during the run (``$IRRIGATION_BLAS_THREADS`` sets another
    number, :func:`~irrigation.groundwater.linear.default_blas_threads`): its only dense
    solve, the sensor analysis, is small, and the groundwater solver's sparse kernels are
    single-threaded (``benchmarks/blas_threads.py`` measures it).

    The run holds the workspace lock (:func:`~irrigation.io.lock.workspace_lock`; a second
    run is refused) and first finishes or removes what a killed run left
    (:func:`~irrigation.io.workspace.recover`). Nothing is written before every stage has
    computed; then the plan folder ``plans/D``, ``state/state-D.nc`` and
    ``logs/run-D.json``/``.log`` are committed together (:class:`DayCommit`): all old or
    all new. A saved state of another day is never touched.

    Raises
    ------
    InputError
        Missing or broken inputs (the forecast, the weather, city files); nothing written.
        Also when another run holds the workspace, or a workspace folder is a symbolic
        link.
    """
    day = np.datetime64(day, "D")
    ws = Workspace(Path(workspace))
    with workspace_lock(ws.root):
        for line in recover(ws):
            log.warning("workspace: %s", line)
        check_workspace(ws, day)
        return _run_day_logged(city, day, ws, forecast)


def _run_day_logged(city: City, day: np.datetime64, ws: Workspace, forecast: Path | None
                    ) -> DayRun:
    capture = _Capture()
    logger = logging.getLogger("irrigation")
    level = logger.level
    progress = logger.isEnabledFor(logging.INFO)  # the caller's choice (-q: no bars)
    if logger.getEffectiveLevel() > logging.INFO:  # the run log keeps the progress lines
        logger.setLevel(logging.INFO)
    logger.addHandler(capture)
    try:
        with blas_threads(default_blas_threads()):  # threads don't pay in these solves
            return _run_day(city, day, ws, forecast, capture, progress)
    finally:
        logger.removeHandler(capture)
        logger.setLevel(level)


class _Capture(logging.Handler):
    """Keeps the run's log lines for ``logs/run-D.log``, and its logged warnings (e.g.
    points outside the groundwater grid, point pairs without a street path) for the
    report and the run record."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self.warnings: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        self.lines.append(f"{record.levelname.lower():7s} {message}")
        if record.levelno >= logging.WARNING and message not in self.warnings:
            self.warnings.append(message)


def _run_day(city: City, day: np.datetime64, ws: Workspace, forecast_file: Path | None,
             capture: _Capture, progress: bool = True) -> DayRun:
    st = _Stages()
    inp = st("inputs", read_inputs, city, day, ws.root, forecast_file)
    pm = inp.model
    obs = st("sensors", _observe, inp, day)
    run, start_text, since, state_warnings = st("state", _state, inp, obs, day, progress)
    state, gw_warnings = st("groundwater", _groundwater, pm, run, since)
    warnings = [*inp.warnings, *state_warnings, *gw_warnings]
    dropped = [str(p) for p in inp.observed.problems if p.severity == "error"]
    info = {"forecast_source": inp.forecast_source, "state_start": start_text,
            "sensor_rows_dropped": len(dropped), "sensor_rows_dropped_first": dropped[:100],
            "n_obs": run.n_obs, "n_obs_above_fc": _above_fc(obs, day), "qc_days": QC_REPORT_DAYS,
            "tension_range_kpa": list(city.config.qc.tension_range_kpa)}
    if credit(city):
        info["attribution"] = credit(city)
    qc = None if obs is None else qc_summary(obs.readings.sel(
        time=obs.readings["time"] >= day - np.timedelta64(QC_REPORT_DAYS, "D")))
    del obs, run  # the QC'd readings and site x probe correlations: not needed any more
    fc, fc_warnings, fc_info = st("forecast", _forecast, pm, state, inp.forecast)
    warnings += fc_warnings
    info.update(fc_info)
    decision = st("decide", decide_day, pm, day, fc, inp.observed.watering_l)
    routed = st("routing", route_day, pm, day, decision.visits, decision.deferred,
                decision.fixed)
    info.update(routed.info)
    warnings += unserved_warning(decision.demand, routed.plan)
    if info.get("routing_cut_by_time"):
        warnings.append(f"the route search was cut by its time limit "
                        f"({info['routing_reproducible'].removeprefix('no: ')}): a re-run "
                        "may give other routes")
    warnings += [w for w in capture.warnings if w not in warnings]  # logged ones too
    result = DayRun(day, state.to_dataset(city.config.name), fc, decision.demand,
                    served_visits(routed.plan, decision.visits), routed.plan.deferred,
                    routed.plan, routed.problem, qc, warnings, info, st.timings)
    st("write", write_day, result, city, ws, inp.files, capture.lines)
    return result


def unserved_warning(demand: xr.Dataset, plan) -> list[str]:
    """A warning when sites are due today and the plan serves none of them (e.g. sites
    placed away from the streets and refill points), naming the deferral reasons."""
    n_due = int(demand["due"].sum())
    served = int((plan.stops["kind"] == "visit").sum()) if len(plan.stops) else 0
    if n_due == 0 or served > 0:
        return []
    reasons = plan.deferred["reason"].value_counts() if len(plan.deferred) else None
    why = ("" if reasons is None else "; deferred: " + ", ".join(
        f"{n} {r}" for r, n in reasons.items()))
    return [f"0 of {n_due} due sites are served today{why}"]


def credit(city: City) -> str:
    """The credit line of maps, sheets and report: the city's ``attribution``, else the
    street file's own (OpenStreetMap data credits "© OpenStreetMap contributors")."""
    return city.config.attribution or (
        city.streets.attribution if city.streets is not None else "")


def write_day(run: DayRun, city: City, ws: Workspace, files: dict[str, Path],
              log_lines: list[str] | None = None) -> Path:
    """Write the day's plan folder, state, run record and log (``log_lines``, the progress
    lines so far) as one transaction (:class:`~irrigation.io.workspace.DayCommit`, under
    the workspace lock); returns the plan folder."""
    with workspace_lock(ws.root):
        txn = DayCommit(ws, run.date).begin()
        try:
            _stage_day(run, city, ws, files, txn, log_lines or [])
        except BaseException:
            txn.abort()  # a failure (not a kill) leaves nothing for the next start
            raise
        txn.commit()
    return ws.plan_dir(run.date)


def _stage_day(run: DayRun, city: City, ws: Workspace, files: dict[str, Path],
               txn: DayCommit, log_lines: list[str]) -> None:
    t0 = time.perf_counter()
    day = run.date
    extra = {
        "forecast.png": lambda p: plot_forecast(run, p),
        "visits.csv": lambda p: neutralise(visit_log(run.plan, run.visits)).to_csv(
            p, index=False, float_format="%.1f", lineterminator="\n"),
        "demand.csv": lambda p: neutralise(site_table(run)).to_csv(p, index=False,
                                                                   lineterminator="\n"),
        "thresholds.csv": lambda p: neutralise(threshold_table(run)).to_csv(
            p, index=False, lineterminator="\n"),
        "report.md": lambda p: write_report(run, city.config.name, p),
        "report.html": lambda p: write_report(run, city.config.name, p),
    }
    if run.qc is not None:
        extra["sensor_qc.csv"] = lambda p: neutralise(run.qc).to_csv(p, lineterminator="\n")
    write_plan(run.plan, txn.plan, crs=city.config.crs, network=city.streets, extra=extra,
               sites=city.sites, refill_points=city.refill_points, attribution=credit(city))
    write_state(run.state, txn.state)
    timings = {**run.timings, "write": time.perf_counter() - t0}  # record: written last
    record = {
        "date": str(day), "city": str(city.path), "command": " ".join(sys.argv),
        "inputs": {k: {"path": str(p), "sha256": sha256(p)} for k, p in files.items()},
        "configuration": city.config, "versions": versions(),
        "seeds": {k: v for k, v in run.info.items() if "seed" in k},
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
        "warnings": run.warnings, "info": run.info,
        "outputs": {"plan": str(ws.plan_dir(day)), "state": str(ws.state_path(day))},
    }
    write_run_record(record, txn.record)
    lines = [*log_lines, f"info    [{len(STAGES)}/{len(STAGES)}] write (staged, committed)"]
    atomic_write(txn.log, lambda t: Path(t).write_text("\n".join(lines) + "\n"))
