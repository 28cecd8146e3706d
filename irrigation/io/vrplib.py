"""VRPLIB / CVRPLIB benchmark instances as :class:`~irrigation.routing.RoutingProblem`.

Benchmarks keep our PyVRP adapter honest: an instance read here is solved by the same
:func:`irrigation.routing.solve` as a city's watering plan, and its cost is compared with
the published solution (``.sol`` beside the instance).

Reading uses the ``vrplib`` package. Distances follow the convention under which the
published costs were computed (:data:`ROUNDING`): CVRPLIB ``X`` instances use Euclidean
distances rounded to the nearest integer (Uchoa et al. 2017, "New benchmark instances for
the Capacitated Vehicle Routing Problem", EJOR 257(3)); Solomon-based instances with time
windows (VRPTW, MTVRPTWR) use the convention of the 12th DIMACS Implementation Challenge
(2021), all values times 10 and truncated. Instance units are passed through unchanged as
"metres", "seconds" and "litres" (the routing scale constants are 1), so costs are in the
instance's units.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import vrplib

from ..errors import InputError
from ..routing import RoutingProblem, RoutingVehicle

Rounding = Literal["round", "dimacs", "none"]

ROUNDING: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "round": lambda v: np.round(np.asarray(v, float)),
    "dimacs": lambda v: np.trunc(10.0 * np.asarray(v, float)),
    "none": lambda v: np.asarray(v, float),
}
"""Value conventions of benchmark families: ``round`` to the nearest integer (CVRPLIB X),
``dimacs`` times 10 truncated (Solomon-based time-window instances), ``none``. The same
conventions as ``pyvrp.read``'s ``ROUND_FUNCS`` of the same names, except that values stay
floats so that an absent bound (``inf``) survives until :func:`irrigation.routing.solve`."""


@dataclass(frozen=True)
class VrplibInstance:
    """A benchmark instance read into a routing problem.

    Attributes
    ----------
    name
        The instance's ``NAME``.
    type
        The instance's ``TYPE`` (e.g. ``CVRP``, ``MTVRPTWR``).
    rounding
        The value convention applied (see :data:`ROUNDING`).
    problem
        The routing problem, in instance units.
    """

    name: str
    type: str
    rounding: Rounding
    problem: RoutingProblem


def default_rounding(instance_type: str) -> Rounding:
    """The value convention of a benchmark family: ``dimacs`` with time windows, else ``round``."""
    return "dimacs" if "TW" in instance_type.upper() else "round"


def read_vrplib(path: str | Path, rounding: Rounding | None = None) -> VrplibInstance:
    """Read a VRPLIB instance file.

    Parameters
    ----------
    path
        The ``.vrp`` file.
    rounding
        Value convention; ``None`` picks :func:`default_rounding` of the instance type.

    Raises
    ------
    InputError
        The file is missing or not a readable VRPLIB instance.
    """
    path = Path(path)
    try:
        inst = vrplib.read_instance(path)
    except FileNotFoundError:
        raise InputError("file not found", file=path) from None
    except (ValueError, KeyError, IndexError) as exc:
        raise InputError(f"not a readable VRPLIB instance ({exc})", file=path) from None
    kind = str(inst.get("type", "CVRP"))
    rounding = rounding or default_rounding(kind)
    if rounding not in ROUNDING:
        raise InputError(f"expected rounding in {sorted(ROUNDING)}, got {rounding!r}")
    try:
        problem = _problem(inst, ROUNDING[rounding])
    except KeyError as exc:
        raise InputError(f"expected the section or key {exc}", file=path) from None
    return VrplibInstance(str(inst.get("name", path.stem)), kind, rounding, problem)


def _problem(inst: dict, rnd: Callable[[np.ndarray], np.ndarray]) -> RoutingProblem:
    """The instance as a problem; travel times equal distances (the VRPLIB convention)."""
    n = int(inst["dimension"])
    depots = np.asarray(inst.get("depot", [0]), int)
    nd = len(depots)
    if not np.array_equal(depots, np.arange(nd)):
        raise InputError("expected the depots to be the first nodes", field="DEPOT_SECTION")
    nc = n - nd
    dist = rnd(inst["edge_weight"])
    tw = rnd(inst["time_window"]) if "time_window" in inst else None
    service = rnd(np.broadcast_to(inst.get("service_time", 0), (n,))).copy()
    service[:nd] = 0
    coords = np.asarray(inst.get("node_coord", np.zeros((n, 2))), float)
    return RoutingProblem(
        x=coords[:, 0],
        y=coords[:, 1],
        distance_m=dist,
        duration_s=dist,
        depot_id=np.array([f"depot-{i + 1}" for i in range(nd)], dtype=object),
        depot_service_s=np.zeros(nd),
        client_id=np.arange(nd, n),
        delivery_l=rnd(np.asarray(inst.get("demand", np.zeros(n)), float)[nd:]),
        service_s=service[nd:],
        tw_early_s=np.zeros(nc) if tw is None else tw[nd:, 0],
        tw_late_s=np.full(nc, np.inf) if tw is None else tw[nd:, 1],
        release_s=rnd(np.broadcast_to(inst.get("release_time", 0), (n,)))[nd:],
        required=np.ones(nc, dtype=bool),
        prize=np.zeros(nc),
        vehicles=_vehicles(inst, rnd, nc, tw),
    )


def _vehicles(
    inst: dict, rnd: Callable[[np.ndarray], np.ndarray], nc: int, tw: np.ndarray | None
) -> tuple[RoutingVehicle, ...]:
    """Vehicles grouped into types by identical attributes (VRPLIB lists each vehicle)."""
    k = int(inst.get("vehicles", nc))
    capacity = rnd(np.broadcast_to(inst.get("capacity", np.inf), (k,)))
    duration = rnd(np.broadcast_to(inst.get("vehicles_max_duration", np.inf), (k,)))
    reloads = np.broadcast_to(inst.get("vehicles_max_reloads", -1), (k,))
    depot = np.broadcast_to(np.asarray(inst.get("vehicles_depot", 1)) - 1, (k,))
    reload_depots = _reload_depots(inst, k)
    groups: dict[tuple, int] = {}
    for key in zip(
        capacity.tolist(),
        duration.tolist(),
        reloads.tolist(),
        depot.tolist(),
        reload_depots,
        strict=True,
    ):
        groups[key] = groups.get(key, 0) + 1
    return tuple(
        RoutingVehicle(
            name=f"type-{t}",
            count=count,
            capacity_l=cap,
            shift_duration_s=dur,
            tw_early_s=0.0 if tw is None else float(tw[d, 0]),
            tw_late_s=np.inf if tw is None else float(tw[d, 1]),
            start_depot=d,
            end_depot=d,
            reload_depots=rel,
            max_reloads=None if mr < 0 else int(mr),
        )
        for t, ((cap, dur, mr, d, rel), count) in enumerate(groups.items())
    )


def _reload_depots(inst: dict, k: int) -> list[tuple[int, ...]]:
    if "vehicles_reload_depot" not in inst:
        return [()] * k
    raw = inst["vehicles_reload_depot"]
    rows = np.atleast_2d(raw).T if np.ndim(raw) == 1 else raw
    return [tuple(int(i) - 1 for i in np.atleast_1d(row)) for row in rows]


def read_solution_cost(path: str | Path) -> float | None:
    """The ``Cost`` of a VRPLIB ``.sol`` file, or ``None`` when the file has none."""
    try:
        sol = vrplib.read_solution(Path(path))
    except FileNotFoundError:
        raise InputError("file not found", file=path) from None
    cost = sol.get("cost")
    return None if cost is None else float(cost)


def solution_path(instance: str | Path) -> Path | None:
    """The ``.sol`` file beside an instance, if there is one."""
    sol = Path(instance).with_suffix(".sol")
    return sol if sol.is_file() else None
