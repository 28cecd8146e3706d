"""Run a scenario: every policy x member season, fanned out over dask, in one Dataset.

Each member is one task: the seasons of every policy in that member's truth world
(:func:`irrigation.scenario.season.simulate_season`), which share the member's forecasts;
a worker prepares the scenario once (city, groundwater model, weather) and keeps it for
its next tasks. Members draw only from their own seed
(:func:`~irrigation.scenario.season.member_seed`), so the numbers do not depend on the
number of workers or the order in which tasks finish.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable

import xarray as xr
from tqdm import tqdm

from ..config import load_city_config
from ..errors import InputError
from .load import scenario_to_toml
from .schema import Scenario
from .season import GROUNDWATER_STEP_DAYS, SeasonSetup, prepare, simulate_season

log = logging.getLogger(__name__)

_SETUPS: dict[str, SeasonSetup] = {}


def _setup(scn: Scenario) -> SeasonSetup:
    """The prepared scenario of this process (prepared on first use)."""
    key = scenario_to_toml(scn)
    if key not in _SETUPS:
        _SETUPS.clear()
        _SETUPS[key] = prepare(scn)
    return _SETUPS[key]


def _task(scn: Scenario, member: int) -> list[xr.Dataset]:
    """Every policy's season in member ``member`` (they share the member's forecasts)."""
    setup = _setup(scn)
    forecasts: dict = {}
    return [simulate_season(setup, policy, member, forecasts) for policy in scn.policies]


def _describe(scn: Scenario, setup: SeasonSetup) -> dict:
    cfg = setup.pm.city.config
    daily = load_city_config(scn.city).routing  # the city's own, before the season's limits
    fq = scn.forecast
    forecast = ("perfect (the truth's weather, every member alike)" if fq.quality == "perfect"
                else f"errors growing with lead time (error scale {fq.error_scale:g})")
    return {
        "scenario": scn.name, "description": scn.description, "city": cfg.name,
        "season": f"{scn.season.start}..{scn.season.end}",
        "spinup_start": str(scn.season.first_day),
        "members": scn.members, "seed": scn.seed, "execution_rate": scn.execution_rate,
        "routing": (
            "fleet's day estimated (service, refills, Beardwood-Halton-Hammersley tour; "
            "irrigation.scenario.fleet), visits served by urgency while the fleet's time "
            "allows; fixed-system kinds without trucks" if scn.routing.mode == "estimate"
            else f"PyVRP stopped after {scn.routing.max_iterations} iterations or "
            f"{scn.routing.time_limit_s:g} s per day (fast season mode; the daily run uses "
            f"{daily.max_iterations or 'its time limit'} iterations)"),
        "truth": "per-site soils in three layers, leaf-out, run-on, interception, watering "
                 "efficiency, local rain; an unknown initial state; a watering log with "
                 "errors; probes with calibration errors in tension space "
                 "(irrigation.truth)",
        "groundwater": f"truth heads stepped every {GROUNDWATER_STEP_DAYS} days with the "
                       "truth's mean recharge; the forecast policy holds the morning's "
                       "heads over its horizon; head offset "
                       f"{scn.groundwater.head_offset_m:+g} m, pumping x "
                       f"{scn.groundwater.pumping_factor:g}",
        "forecast": f"{forecast}, {fq.horizon_days}-day horizon, {fq.members} members",
        "perturbation": setup.weather.attrs.get("perturbation", "none"),
        "scenario_toml": scenario_to_toml(scn),
    }


def _assemble(scn: Scenario, setup: SeasonSetup, runs: dict[tuple[int, int], xr.Dataset]
              ) -> xr.Dataset:
    members = sorted({m for _, m in runs})
    per_policy = [xr.concat([runs[p, m] for m in members], dim="member", join="exact",
                            coords="minimal", compat="override")
                  for p in range(len(scn.policies))]
    ds = xr.concat(per_policy, dim="policy", join="exact", coords="minimal",
                   compat="override")
    ds["taw_mm"] = ds["taw_mm"].isel(policy=0, drop=True)
    s = setup.pm.city.sites
    w = setup.wells
    days = ds["time"].values
    ds = ds.assign_coords(
        policy=[p.name for p in scn.policies], member=members,
        policy_type=("policy", [p.type for p in scn.policies]),
        x=("site", s.x.values), y=("site", s.y.values), kind=("site", s["kind"].values),
        well_x=("well", w["x"].to_numpy(float)), well_y=("well", w["y"].to_numpy(float)))
    ds["precip_mm"] = ("time", setup.weather["precip_mm"].sel(time=days).values,
                       {"units": "mm d-1"})
    ds["et0_mm"] = ("time", setup.et0_mm.sel(time=days).values, {"units": "mm d-1"})
    ds.attrs.update(_describe(scn, setup))
    return ds


def run_scenario(scn: Scenario, *, members: int | None = None, workers: int = 1,
                 scheduler: str | None = None, progress: bool = True,
                 on_done: Callable[[int, int], None] | None = None) -> xr.Dataset:
    """Run every policy x member season of a scenario.

    Parameters
    ----------
    scn
        The scenario (:func:`~irrigation.scenario.load.load_scenario`).
    members
        Closed-loop members; overrides ``scn.members``.
    workers
        Processes of a local dask cluster (one thread each); 0 runs the seasons in this
        process, one after the other, without dask.
    scheduler
        Address of a running ``dask.distributed`` scheduler (e.g.
        ``tcp://10.0.0.5:8786``); its workers run the seasons and ``workers`` is ignored.
        They need this package and read the city from the same path.
    progress
        Show a progress bar over the seasons.
    on_done
        Called with (policy index, member) as each season finishes.

    Returns
    -------
    xr.Dataset
        Over (``policy``, ``member``, ``time``, ``site``) and (``policy``, ``member``,
        ``time``[, ``well``]); see :func:`~irrigation.scenario.season.simulate_season` and
        the attributes describing the run (scenario, routing mode, ...).
    """
    if members is not None:
        scn = dataclasses.replace(scn, members=members)
    members_ = list(range(scn.members))
    t0 = time.perf_counter()
    n_seasons = len(members_) * len(scn.policies)
    bar = tqdm(total=n_seasons, desc=f"{scn.name}: seasons", unit="season",
               disable=not progress)
    runs: dict[tuple[int, int], xr.Dataset] = {}

    def done(member, seasons):
        for p, ds in enumerate(seasons):
            runs[p, member] = ds
            bar.update(1)
            if on_done is not None:
                on_done(p, member)

    try:
        if workers == 0 and scheduler is None:
            for m in members_:
                done(m, _task(scn, m))
        else:
            _run_dask(scn, members_, workers, scheduler, done)
    finally:
        bar.close()
    log.info("%s: %d seasons in %.1f s", scn.name, n_seasons, time.perf_counter() - t0)
    return _assemble(scn, _setup(scn), runs)


#: Seconds to reach a dask scheduler and again to find a worker on it.
SCHEDULER_TIMEOUT_S = 15.0


def connect_scheduler(address: str):
    """A ``dask.distributed`` client of the scheduler at ``address`` with a worker.

    Raises
    ------
    InputError
        Nothing (or no dask scheduler) answers there within :data:`SCHEDULER_TIMEOUT_S`,
        or the scheduler has no worker within as long again.
    """
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from dask.distributed import Client
    from distributed.comm import connect

    async def probe() -> None:
        comm = await connect(address, timeout=SCHEDULER_TIMEOUT_S)
        await comm.close()

    try:  # a bare connection first: a Client that fails half-way leaves dask's global
        # scheduler set and can hang when it is collected (own thread: a notebook's
        # thread already runs an event loop)
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, asyncio.wait_for(probe(), SCHEDULER_TIMEOUT_S)).result()
        client = Client(address, timeout=SCHEDULER_TIMEOUT_S)
    except Exception as exc:  # refused, timed out, a non-dask service's bytes, a bad address
        raise InputError(f"no dask scheduler answers at {address!r} within "
                         f"{SCHEDULER_TIMEOUT_S:g} s ({type(exc).__name__})",
                         field="--scheduler") from None
    try:
        client.wait_for_workers(1, timeout=SCHEDULER_TIMEOUT_S)
    except Exception:  # dask raises TimeoutError
        client.close()
        raise InputError(f"the dask scheduler at {address!r} has no worker (waited "
                         f"{SCHEDULER_TIMEOUT_S:g} s)", field="--scheduler") from None
    return client


def _run_dask(scn: Scenario, members: list[int], workers: int,
              scheduler: str | None, done: Callable) -> None:
    import dask
    from dask.distributed import Client, LocalCluster, as_completed

    dask.config.set({"logging.distributed": "warning"})  # the bar says how far it is
    logging.getLogger("distributed").setLevel(logging.WARNING)
    if scheduler is None:
        cluster = LocalCluster(n_workers=max(workers, 1), threads_per_worker=1,
                               processes=True, dashboard_address=None)
        client = Client(cluster)
    else:
        cluster, client = None, connect_scheduler(scheduler)
    try:
        scn_future = client.scatter(scn, broadcast=True)
        futures = {client.submit(_task, scn_future, m, pure=False): m for m in members}
        for fut in as_completed(futures):
            done(futures[fut], fut.result())
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
