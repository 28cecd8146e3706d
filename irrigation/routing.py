"""Truck routing: travel matrices, the routing problem and a thin PyVRP adapter.

The daily plan's visits are routed with PyVRP (``pyvrp>=0.14,<0.15``) as a multi-trip
vehicle routing problem:

- the truck yard is the depot where every shift starts and ends;
- hydrants (and the yard, when it has water) are *reload depots*: a truck may return to
  one to refill its tank; the refill time is the depot's service duration;
- each visit is a client with its litres as delivery and a service time of set-up plus
  litres / pump rate; optional time windows; optional with a prize from its urgency, so
  that demand which does not fit is left unserved (and reported) instead of failing;
- vehicle types come from the fleet: tank capacity, shift window, usable shift length
  (break excluded) and count.

:class:`RoutingProblem` describes an instance with plain numpy arrays in metres, seconds
and litres and knows nothing of PyVRP; :func:`build_problem` makes one from the city
pieces, :func:`irrigation.io.vrplib.read_vrplib` from a benchmark file. :func:`solve`
converts it to integers (see :data:`METRE`, :data:`SECOND`, :data:`LITRE`), runs PyVRP
with a fixed seed and time limit, and maps the best solution back to a table of stops.

Travel matrices come from the street graph (:func:`street_matrices`, shortest paths with
:func:`scipy.sparse.csgraph.dijkstra`) or, without a graph, from straight-line distance
times a detour factor (:func:`detour_matrices`).

References
----------
- Wouda, N. A., Lan, L., Kool, W. (2024). PyVRP: a high-performance VRP solver package.
  INFORMS Journal on Computing 36(4), 943-955 (hybrid genetic search).
- Dijkstra, E. W. (1959). A note on two problems in connexion with graphs. Numerische
  Mathematik 1, 269-271.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse.csgraph
import xarray as xr
from pyvrp import Client, Depot, Location, ProblemData, ScheduledActivity, Solution, SolveParams
from pyvrp import VehicleType as PyVRPVehicleType
from pyvrp import solve as pyvrp_solve
from pyvrp.search import NeighbourhoodParams
from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria

from .deadline import call_with_deadline
from .errors import InputError
from .params import require

if TYPE_CHECKING:
    from .streets import StreetNetwork

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- parameters


#: Plausible ranges of the ``[[fleet]]`` values (closed intervals, units): a city's
#: trucks, pumps and crews, wide enough for any real fleet and narrow enough that the
#: integer scaling of the routing (:data:`LITRE`, :data:`SECOND`) stays exact.
VEHICLE_RANGES: dict[str, tuple[float, float, str]] = {
    "count": (1, 200, "trucks"),
    "tank_l": (50.0, 50_000.0, "L"),
    "pump_l_per_min": (1.0, 5_000.0, "L/min"),
    "setup_min": (0.0, 120.0, "min"),
    "speed_kmh": (1.0, 120.0, "km/h"),
    "break_min": (0.0, 240.0, "min"),
}


@dataclass(frozen=True)
class VehicleType:
    """One kind of watering truck in the fleet.

    Attributes
    ----------
    name
        Label used on driver sheets.
    count
        Number of trucks of this type available per day.
    tank_l
        Tank capacity [L].
    pump_l_per_min
        Delivery rate of the pump or hose at a site [L min-1].
    setup_min
        Fixed time per stop to park, unroll the hose and stow it [min].
    speed_kmh
        Mean driving speed on city streets [km h-1]; used to turn street lengths into
        travel times.
    shift_start, shift_end
        Start and end of the crew's shift (local time).
    break_min
        Unpaid break inside the shift [min]; the usable shift is
        ``shift_end - shift_start - break_min``.

    The numbers must lie in :data:`VEHICLE_RANGES` (e.g. ``tank_l`` in [50, 50000] L).
    """

    name: str
    count: int
    tank_l: float
    pump_l_per_min: float
    setup_min: float = 3.0
    speed_kmh: float = 20.0
    shift_start: dt.time = dt.time(7, 0)
    shift_end: dt.time = dt.time(15, 0)
    break_min: float = 30.0

    def __post_init__(self) -> None:
        for key, (lo, hi, unit) in VEHICLE_RANGES.items():
            value = getattr(self, key)
            require(lo <= value <= hi, key, f"a value in [{lo:g}, {hi:g}] {unit}, got {value}")
        require(
            self.shift_minutes > 0,
            "shift_end",
            f"a time after shift_start plus the break, got {self.shift_start}-{self.shift_end}",
        )

    @property
    def shift_minutes(self) -> float:
        """Usable working time per shift [min] (break excluded)."""
        start = self.shift_start.hour * 60 + self.shift_start.minute
        end = self.shift_end.hour * 60 + self.shift_end.minute
        return end - start - self.break_min


@dataclass(frozen=True)
class NetworkConfig:
    """How travel distances are obtained.

    Attributes
    ----------
    detour_factor
        Ratio of street distance to straight-line distance, used when the city has no
        street graph (typical urban values 1.2-1.4; Boscoe et al. 2012 report 1.4).
    """

    detour_factor: float = 1.3

    def __post_init__(self) -> None:
        require(1.0 <= self.detour_factor <= 3.0, "detour_factor", "a factor in [1, 3]")


@dataclass(frozen=True)
class RoutingConfig:
    """Settings of the truck routing (the ``[routing]`` table of ``city.toml``).

    Attributes
    ----------
    max_iterations
        The search stops after this many iterations: the same inputs give the same plan
        byte for byte on any machine and under any load. 0 (or ``None`` in code) means no
        iteration limit: the time limit alone stops the search, and the plan depends on
        the machine's speed (the large city of the benchmarks gives its search a fixed
        time instead of a fixed effort).
    time_limit_s
        Safety net on the wall-clock time of the search per day [s]; when it stops the
        search before ``max_iterations``, the report and the run record say so
        (:attr:`RoutingSolution.cut_by_time`).
    refill_connect_min
        Fixed time per refill to park and connect to a hydrant [min]; the filling time
        itself is the truck's tank litres / the hydrant's refill rate.
    max_reloads
        Largest number of refills per truck and shift; absent for no limit.
    offer_factor
        The routes are offered the most urgent due visits until their set-up and pumping
        time alone (no driving, no refills) sums to ``offer_factor`` times the fleet's
        usable shift time (:func:`offer_count`); the rest are deferred ("fleet day")
        without entering the routing problem, whose matrices grow with the square of
        the visits offered. 2.5 from the large city's 2018-07-03 (8,251 due visits, 20
        trucks, 30 s searches, seeds 2018/7/11; the note of issue 24): 5,510 visits
        offered served 1,388/1,475/1,380 sites, 6,108 (factor 3) 1,468/1,469/1,384,
        4,337 (factor 2) 1,357 (seed 7), all 8,251 offered 1,426 in 60 s (seed 2018);
        2.5 against 3 frees ~0.5 GB at the routing's peak. 0 offers every due visit.
    num_neighbours
        Size of PyVRP's granular neighbourhood (its ``NeighbourhoodParams``; PyVRP's own
        default is 50). A day offers every due site as an optional visit, hundreds of
        which stay unserved on a busy day, and each iteration tries them all against
        the nearest neighbours: 30 halves the search time of the demo's ~450 offered
        visits with as many served.
    """

    max_iterations: int | None = 2000
    time_limit_s: float = 600.0
    refill_connect_min: float = 5.0
    max_reloads: int | None = None
    num_neighbours: int = 30
    offer_factor: float = 2.5

    def __post_init__(self) -> None:
        require(0 < self.time_limit_s <= 86_400, "time_limit_s",
                f"a time in (0, 86400] s, got {self.time_limit_s}")
        require(0 <= self.refill_connect_min <= 120, "refill_connect_min",
                f"a time in [0, 120] min, got {self.refill_connect_min}")
        require(self.max_reloads is None or 0 <= self.max_reloads <= 1000, "max_reloads",
                "a number of refills in [0, 1000]")
        require(self.max_iterations is None or 0 <= self.max_iterations <= 10_000_000,
                "max_iterations",
                "a number of iterations in [0, 10000000] (0: the time limit alone)")
        require(1 <= self.num_neighbours <= 1000, "num_neighbours", "a number in [1, 1000]")
        require(self.offer_factor == 0 or 1 <= self.offer_factor <= 100, "offer_factor",
                f"0 (offer every due visit) or a factor in [1, 100], got {self.offer_factor}")

    @property
    def iteration_limit(self) -> int | None:
        """The iteration limit of the search, ``None`` for none (``max_iterations`` 0)."""
        return self.max_iterations or None


def offer_count(litres: np.ndarray, fleet: Sequence[VehicleType], factor: float) -> int:
    """How many of the ranked visits ``litres`` [L] (most urgent first) to offer the routes.

    A visit takes at least ``setup_min + litres / pump_l_per_min`` of the quickest truck
    type [min]; the fleet has ``sum(count * shift_minutes)`` [min] a day. The first visits
    whose least times sum to at most ``factor`` times the fleet's minutes are offered: with
    ``factor`` >= 1 that is more than the fleet could serve even without driving or
    refilling, so the cut only removes visits the routes could never all reach. ``factor``
    0 offers all.
    """
    litres = np.asarray(litres, float)
    if factor <= 0 or litres.size == 0:
        return int(litres.size)
    least = np.min([v.setup_min + np.nan_to_num(litres) / v.pump_l_per_min for v in fleet],
                   axis=0)
    minutes = sum(v.count * v.shift_minutes for v in fleet)
    return int(np.searchsorted(np.cumsum(least), factor * minutes, side="right"))


# --------------------------------------------------------------------------- integer scaling

METRE = 1
"""Integer distance units per metre passed to PyVRP (1: distances are whole metres)."""

SECOND = 1
"""Integer time units per second passed to PyVRP (1: times are whole seconds)."""

LITRE = 1
"""Integer load units per litre passed to PyVRP (1: loads are whole litres)."""

UNBOUNDED = np.iinfo(np.int64).max
"""Integer used for an absent upper bound (``inf`` in a :class:`RoutingProblem`)."""

COST_PER_SECOND = 1.0
"""Cost of one second spent refilling, in metres of driving (the objective's unit). With a
cost on each refill's time (connect and filling) the search refills only when the next
stops need the water; a needless 10-minute refill costs like a 600 m detour. Driving time
is proportional to distance, which is costed already, and pumping time is the same on
any route, so only refills need this. The cost is put on the arcs leaving a reload depot
(per profile: each truck's own refill time), not on PyVRP's route duration, whose cost
makes every move evaluation about four times slower."""

URGENCY_PRIZE_FACTOR = 1.0
"""Prize of a due visit, in multiples of :meth:`RoutingProblem.prize_unit` (the most any
one visit can add to a route's cost), is ``URGENCY_PRIZE_FACTOR * (1 + urgency)``: every
due visit that fits a shift is worth serving, and when not all fit, the search keeps the
ones whose urgency sums highest per hour of the fleet's time."""

SPLIT_TANK_FRACTION = 0.5
"""A visit larger than this fraction of the fleet's smallest tank is split into equal
parts of at most that size (:func:`split_visits`): any truck can take any part, and a
part fits a tank that is half used. PyVRP's search places a client only where the load
already fits (it does not add a refill and the client in one move), so parts close to a
full tank were seldom placed and trucks with time stood beside beds left out."""

UNREACHABLE_FACTOR = 3.0
"""Pairs of points without a street path get ``UNREACHABLE_FACTOR`` times their
straight-line distance (a warning is logged)."""


# --------------------------------------------------------------------------- problem


class TravelTimes:
    """A travel-time matrix [s] computed from a distance matrix [m] and a speed when
    read: ``times[i, j]`` (any numpy index) is ``distance_m[i, j] / speed_m_per_s``, the
    same numbers as the whole matrix divided at once, without keeping a second
    (n, n) array per truck type (at 10,000 locations each is 0.8 GB).

    Parameters
    ----------
    distance_m
        The distance matrix [m] (shared, not copied).
    speed_m_per_s
        Driving speed [m s-1].
    """

    def __init__(self, distance_m: np.ndarray, speed_m_per_s: float) -> None:
        self.distance_m = distance_m
        self.speed_m_per_s = float(speed_m_per_s)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.distance_m.shape

    @property
    def ndim(self) -> int:
        return self.distance_m.ndim

    def __len__(self) -> int:
        return len(self.distance_m)

    def __getitem__(self, index) -> np.ndarray:
        return self.distance_m[index] / self.speed_m_per_s

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        out = self.distance_m / self.speed_m_per_s
        return out if dtype is None else out.astype(dtype)


@dataclass(frozen=True)
class TimeProfile:
    """The times of one kind of truck: how fast it drives, pumps and refills.

    Attributes
    ----------
    duration_s
        Travel time from row to column location [s], shape (n_locations, n_locations):
        an array, or :class:`TravelTimes` (computed from the distances when read).
    service_s
        Time at each client (set-up plus litres / pump rate) [s], shape (n_clients,).
    depot_service_s
        Time spent at each depot when leaving it (refilling this truck's tank) [s],
        shape (n_depots,).
    """

    duration_s: np.ndarray | TravelTimes
    service_s: np.ndarray
    depot_service_s: np.ndarray


@dataclass(frozen=True)
class RoutingVehicle:
    """One vehicle type of a :class:`RoutingProblem`.

    Attributes
    ----------
    name
        Label of the type.
    count
        Number of vehicles of this type.
    capacity_l
        Tank capacity [L]; the load carried between two refills.
    tw_early_s, tw_late_s
        Earliest start and latest end of a route, break included [s since midnight];
        ``inf`` for none.
    shift_duration_s
        Longest working time of a route (break excluded) [s]; ``inf`` for none.
    start_depot, end_depot
        Depot indices where routes start and end.
    reload_depots
        Depot indices where the tank may be refilled along a route.
    max_reloads
        Largest number of refills per route; ``None`` for no limit.
    profile
        Index of the vehicle's :class:`TimeProfile` (:meth:`RoutingProblem.times`).
    refill_cost
        Cost of one second spent at a reload depot [distance units s-1] (0: distance
        alone).
    break_s
        Unpaid break of the crew [s]: not solved for, the solver keeps it free at the end
        of the window and :func:`place_breaks` puts it inside the route afterwards.
    """

    name: str
    count: int
    capacity_l: float
    tw_early_s: float = 0.0
    tw_late_s: float = np.inf
    shift_duration_s: float = np.inf
    start_depot: int = 0
    end_depot: int = 0
    reload_depots: tuple[int, ...] = ()
    max_reloads: int | None = None
    profile: int = 0
    refill_cost: float = 0.0
    break_s: float = 0.0

    def __post_init__(self) -> None:
        if self.count < 1:
            raise InputError(f"expected a vehicle count >= 1, got {self.count}", field="count")
        if not self.capacity_l > 0:
            msg = f"expected a capacity > 0 L, got {self.capacity_l}"
            raise InputError(msg, field="capacity_l")
        if self.refill_cost < 0 or self.break_s < 0 or self.profile < 0:
            raise InputError("expected refill_cost, break_s and profile >= 0",
                             field=self.name)


@dataclass(frozen=True)
class RoutingProblem:
    """A routing instance as plain arrays, independent of the solver.

    Locations are ordered: depots first (start/end yards and reload points, indices
    ``0 .. n_depots - 1``), then clients (location ``n_depots + i`` is client ``i``).

    Attributes
    ----------
    x, y
        Coordinates of all locations [m], shape (n_locations,).
    distance_m
        Travel distance from row to column location [m], shape (n_locations, n_locations).
    duration_s
        Travel time from row to column location [s], same shape (time profile 0); an
        array or :class:`TravelTimes`.
    depot_id
        Labels of the depots, shape (n_depots,).
    depot_service_s
        Time spent at a depot each time a vehicle leaves it (refilling) [s] (profile 0).
    client_id
        Labels of the clients (site ids), shape (n_clients,).
    delivery_l
        Litres delivered at each client [L].
    service_s
        Service time at each client [s] (profile 0).
    tw_early_s, tw_late_s
        Window in which service at a client may start [s since midnight]; ``inf`` for none.
    release_s
        Earliest time the load for a client is available at the depot [s]; 0 for none.
    required
        Whether each client must be served; optional clients earn ``prize`` when served.
    prize
        Prize of serving an optional client [distance units, m].
    vehicles
        The vehicle types.
    profiles
        Further time profiles 1, 2, ... (profile 0 is ``duration_s``, ``service_s`` and
        ``depot_service_s``); a vehicle type drives, serves and refills with the times
        of its ``profile``.
    """

    x: np.ndarray
    y: np.ndarray
    distance_m: np.ndarray
    duration_s: np.ndarray | TravelTimes
    depot_id: np.ndarray
    depot_service_s: np.ndarray
    client_id: np.ndarray
    delivery_l: np.ndarray
    service_s: np.ndarray
    tw_early_s: np.ndarray
    tw_late_s: np.ndarray
    release_s: np.ndarray
    required: np.ndarray
    prize: np.ndarray
    vehicles: tuple[RoutingVehicle, ...]
    profiles: tuple[TimeProfile, ...] = ()

    def __post_init__(self) -> None:
        n_loc = self.n_depots + self.n_clients
        if self.distance_m.shape != (n_loc, n_loc):
            raise InputError(f"expected {n_loc} x {n_loc} travel matrices", field="distance_m")
        for name in (
            "delivery_l",
            "tw_early_s",
            "tw_late_s",
            "release_s",
            "required",
            "prize",
        ):
            if len(getattr(self, name)) != self.n_clients:
                raise InputError(f"expected {self.n_clients} values", field=name)
        for k in range(self.n_profiles):
            t = self.times(k)
            if t.duration_s.shape != (n_loc, n_loc):
                raise InputError(f"expected {n_loc} x {n_loc} travel matrices",
                                 field=f"duration_s (profile {k})")
            if len(t.service_s) != self.n_clients or len(t.depot_service_s) != self.n_depots:
                raise InputError("expected a service time per client and depot",
                                 field=f"service_s (profile {k})")
        for v in self.vehicles:
            used = (v.start_depot, v.end_depot, *v.reload_depots)
            if not all(0 <= d < self.n_depots for d in used):
                raise InputError(f"expected depot indices < {self.n_depots}", field=v.name)
            if v.profile >= self.n_profiles:
                raise InputError(f"expected a profile < {self.n_profiles}", field=v.name)

    @property
    def n_depots(self) -> int:
        return len(self.depot_id)

    @property
    def n_clients(self) -> int:
        return len(self.client_id)

    @property
    def n_profiles(self) -> int:
        return 1 + len(self.profiles)

    def times(self, profile: int = 0) -> TimeProfile:
        """The travel, service and refill times of ``profile``."""
        if profile == 0:
            return TimeProfile(self.duration_s, self.service_s, self.depot_service_s)
        return self.profiles[profile - 1]

    def prize_unit(self) -> float:
        """An upper bound of what serving one more client can add to a route's cost
        [distance units]: a detour there and back at the largest distance, plus one more
        refill at the largest refill cost."""
        refill = max((v.refill_cost * float(self.times(v.profile).depot_service_s.max(
            initial=0.0)) for v in self.vehicles), default=0.0)
        return 2.0 * float(self.distance_m.max(initial=1.0)) + refill


def split_visits(visits: pd.DataFrame, tank_l: float) -> pd.DataFrame:
    """Split visits needing more than a tank into equal parts that each fit a tank.

    Parameters
    ----------
    visits
        One row per site visit with at least a ``litres`` column [L].
    tank_l
        The tank every part must fit [L] (the fleet's smallest).

    Returns
    -------
    pandas.DataFrame
        The rows repeated ``ceil(litres / tank_l)`` times with litres divided equally,
        and a column ``part`` (0, 1, ...) numbering the parts of each original row.
    """
    litres = visits["litres"].to_numpy(dtype=float)
    if (litres < 0).any() or not np.isfinite(litres).all():
        raise InputError("expected litres >= 0 for every visit", field="litres")
    parts = np.maximum(np.ceil(litres / tank_l), 1).astype(int)
    out = visits.loc[visits.index.repeat(parts)].reset_index(drop=True)
    out["litres"] = np.repeat(litres / parts, parts)
    out["part"] = np.concatenate([np.arange(k) for k in parts]) if len(parts) else []
    return out


# --------------------------------------------------------------------------- matrices


def detour_matrices(
    x: np.ndarray, y: np.ndarray, detour_factor: float, speed_kmh: float
) -> tuple[np.ndarray, np.ndarray]:
    """Straight-line distance times a detour factor, and the travel time at ``speed_kmh``.

    Parameters
    ----------
    x, y
        Point coordinates [m], shape (n,).
    detour_factor
        Street distance / straight-line distance [-].
    speed_kmh
        Mean driving speed [km h-1].

    Returns
    -------
    distance_m, duration_s
        (n, n) arrays [m] and [s].
    """
    dist = _detour_m(x, y, detour_factor)
    return dist, dist / (speed_kmh / 3.6)


def _detour_m(x: np.ndarray, y: np.ndarray, detour_factor: float) -> np.ndarray:
    x, y = np.asarray(x, float), np.asarray(y, float)
    return detour_factor * np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])


def street_matrices(
    network: StreetNetwork,
    x: np.ndarray,
    y: np.ndarray,
    speed_kmh: float,
    chunk: int = 256,
) -> tuple[np.ndarray, np.ndarray]:
    """Shortest street distances between points, and the travel time at ``speed_kmh``.

    Each point is snapped to its nearest street node; the straight access leg from the
    point to that node is added at both ends. Dijkstra runs once per distinct snapped
    source node, ``chunk`` sources at a time, keeping only the columns of the snapped
    target nodes (memory ``chunk x n_nodes``).

    Parameters
    ----------
    network
        The directed street graph (one-way streets respected).
    x, y
        Point coordinates [m] in the network's CRS, shape (n,).
    speed_kmh
        Mean driving speed [km h-1].
    chunk
        Number of source nodes per Dijkstra call.

    Returns
    -------
    distance_m, duration_s
        (n, n) arrays [m] and [s]; the diagonal is 0. Pairs without a street path get
        :data:`UNREACHABLE_FACTOR` times the straight-line distance.
    """
    dist = street_distances_m(network, x, y, chunk)
    return dist, dist / (speed_kmh / 3.6)


def street_distances_m(network: StreetNetwork, x: np.ndarray, y: np.ndarray,
                       chunk: int = 256) -> np.ndarray:
    """The distance matrix of :func:`street_matrices` [m] alone, (n, n).

    Memory: the node-to-node distances of the distinct snapped nodes, and one (n, n)
    array (the access legs are added in place, the same sums as ``sub + a_i + a_j``).
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    node, access = network.nearest_node(x, y)
    nodes, inverse = np.unique(node, return_inverse=True)
    adj = network.adjacency()
    sub = np.empty((len(nodes), len(nodes)))
    for start in range(0, len(nodes), chunk):
        rows = scipy.sparse.csgraph.dijkstra(
            adj, directed=True, indices=nodes[start : start + chunk]
        )
        sub[start : start + chunk] = rows[:, nodes]
    dist = sub[np.ix_(inverse, inverse)]
    del sub
    dist += access[:, None]
    dist += access[None, :]
    _patch_unreachable(dist, x, y)
    np.fill_diagonal(dist, 0.0)
    return dist


def _patch_unreachable(dist: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
    bad = ~np.isfinite(dist)
    if bad.any():
        log.warning(
            "%d point pairs have no street path; using %.1f x straight line",
            int(bad.sum()),
            UNREACHABLE_FACTOR,
        )
        i, j = np.nonzero(bad)
        dist[i, j] = UNREACHABLE_FACTOR * np.hypot(x[i] - x[j], y[i] - y[j])


def travel_distances_m(
    x: np.ndarray,
    y: np.ndarray,
    network: StreetNetwork | None = None,
    detour_factor: float = NetworkConfig.detour_factor,
) -> np.ndarray:
    """Travel distances [m] between the points, (n, n): on the street graph
    (:func:`street_distances_m`), or without one by detour factor (:func:`detour_matrices`).
    Durations are the distances over each truck type's speed (:class:`TravelTimes`)."""
    if network is None:
        return _detour_m(x, y, detour_factor)
    return street_distances_m(network, x, y)


# --------------------------------------------------------------------------- build from the city


def build_problem(
    visits: pd.DataFrame,
    refill_points: xr.Dataset,
    fleet: Sequence[VehicleType],
    network: StreetNetwork | None = None,
    detour_factor: float = NetworkConfig.detour_factor,
    routing: RoutingConfig | None = None,
) -> RoutingProblem:
    """Build today's routing problem from the visits and the city's refill points and fleet.

    Parameters
    ----------
    visits
        One row per visit: ``site`` (id), ``x``, ``y`` [m], ``litres`` [L]; optional
        ``urgency`` (>= 0, higher is more urgent), ``max_detour_m`` (finite: the visit is
        only worth a detour of about this many metres, e.g. a site pulled forward; NaN
        or absent: a due visit), ``required`` (bool), ``tw_early_s`` and ``tw_late_s``
        [s since midnight]. A visit larger than :data:`SPLIT_TANK_FRACTION` of the
        fleet's smallest tank is split into equal parts of at most that size
        (:func:`split_visits`), so any truck can take any part (a larger truck takes
        consecutive parts without driving in between).
    refill_points
        Dataset over ``refill`` with ``kind`` (``depot`` | ``hydrant``),
        ``refill_l_per_min`` [L min-1] and coordinates ``x``, ``y`` [m]. The first depot
        is the yard where shifts start and end; every point with a refill rate > 0 is a
        reload depot.
    fleet
        Vehicle types of the city.
    network
        Street graph; without it distances are straight line x ``detour_factor``.
    detour_factor
        Street / straight-line distance ratio when there is no graph [-].
    routing
        The city's ``[routing]`` settings; its ``refill_connect_min`` and ``max_reloads``
        apply here (the stop criteria are for :func:`solve`). Defaults of
        :class:`RoutingConfig` when ``None``.

    Returns
    -------
    RoutingProblem
        One time profile per vehicle type (profile ``k`` = ``fleet[k]``): travel time at
        the type's speed (:class:`TravelTimes` over the one distance matrix), service
        time = its set-up + litres / its pump rate, refill time = ``refill_connect_min``
        + its tank / the point's rate (a whole tank: PyVRP refills to full, so a partial
        refill is counted as long as a full one, the conservative side). Refill time
        costs :data:`COST_PER_SECOND`.

    Notes
    -----
    Unless a visit is ``required`` it is optional. A due visit's prize is
    ``URGENCY_PRIZE_FACTOR * (1 + urgency) * prize_unit()``, more than serving it can
    cost, so the routes take every due visit that fits the shifts and, when not all fit,
    the most urgent sum. A visit with a finite ``max_detour_m`` earns ``max_detour_m``:
    it is served when the detour to it is shorter than that.
    """
    routing = routing or RoutingConfig()
    visits = split_visits(visits, SPLIT_TANK_FRACTION * min(v.tank_l for v in fleet))
    rows = _depot_rows(refill_points)
    depots = refill_points.isel(refill=rows)
    x = np.concatenate([depots.x.values.astype(float), visits["x"].to_numpy(float)])
    y = np.concatenate([depots.y.values.astype(float), visits["y"].to_numpy(float)])
    t0 = time.perf_counter()
    dist = travel_distances_m(x, y, network, detour_factor)
    log.info("travel matrices %d x %d in %.2f s", len(x), len(x), time.perf_counter() - t0)
    urgency = _column(visits, "urgency", 0.0)
    if (urgency < 0).any() or not np.isfinite(urgency).all():
        raise InputError("expected urgency >= 0 for every visit", field="urgency")
    litres = visits["litres"].to_numpy(float)
    rate = depots["refill_l_per_min"].values.astype(float)
    times = [_profile(v, dist, litres, rate, routing.refill_connect_min) for v in fleet]
    n = len(visits)
    problem = RoutingProblem(
        x=x,
        y=y,
        distance_m=dist,
        duration_s=times[0].duration_s,
        depot_id=depots.refill.values.astype(str).astype(object),
        depot_service_s=times[0].depot_service_s,
        client_id=visits["site"].to_numpy(),
        delivery_l=litres,
        service_s=times[0].service_s,
        tw_early_s=_column(visits, "tw_early_s", 0.0),
        tw_late_s=_column(visits, "tw_late_s", np.inf),
        release_s=np.zeros(n),
        required=_column(visits, "required", False, bool),
        prize=np.zeros(n),
        vehicles=tuple(_vehicle(v, k, len(rows) - 1, routing.max_reloads)
                       for k, v in enumerate(fleet)),
        profiles=tuple(times[1:]),
    )
    detour = _column(visits, "max_detour_m", np.nan)
    due = URGENCY_PRIZE_FACTOR * (1.0 + urgency) * problem.prize_unit()
    return dataclasses.replace(problem, prize=np.where(np.isfinite(detour), detour, due))


def _column(visits: pd.DataFrame, name: str, default: float | bool, dtype=float) -> np.ndarray:
    """Column ``name`` of ``visits`` as an array, or ``default`` for every row when absent."""
    if name in visits:
        return visits[name].to_numpy(dtype)
    return np.full(len(visits), default, dtype=dtype)


def _depot_rows(refill_points: xr.Dataset) -> np.ndarray:
    """Rows of ``refill_points`` that become depots: the yard (the first point of kind
    ``depot``; shifts start and end there, no refill time), then every point with water
    in order (reload depots). A yard with water is therefore also a reload depot of its
    own, at distance 0."""
    kind = refill_points["kind"].values.astype(str)
    if not (kind == "depot").any():
        raise InputError("expected at least one refill point of kind 'depot'", field="kind")
    rate = refill_points["refill_l_per_min"].values.astype(float)
    wet = np.flatnonzero(rate > 0)
    if len(wet) == 0:
        raise InputError(
            "expected at least one refill point with refill_l_per_min > 0", field="refill_l_per_min"
        )
    return np.concatenate([[np.flatnonzero(kind == "depot")[0]], wet])


def _profile(v: VehicleType, dist_m: np.ndarray, litres: np.ndarray, rate_l_per_min: np.ndarray,
             connect_min: float) -> TimeProfile:
    """Times of vehicle type ``v``: travel at its speed, its set-up and pump rate at the
    clients, ``connect_min`` + its tank / the rate at the reload depots (the yard, row 0:
    none)."""
    refill = 60.0 * (connect_min + v.tank_l / rate_l_per_min[1:])
    return TimeProfile(duration_s=TravelTimes(dist_m, v.speed_kmh / 3.6),
                       service_s=60.0 * (v.setup_min + litres / v.pump_l_per_min),
                       depot_service_s=np.concatenate([[0.0], refill]))


def _vehicle(v: VehicleType, profile: int, n_reload: int, max_reloads: int | None
             ) -> RoutingVehicle:
    start = 3600.0 * v.shift_start.hour + 60.0 * v.shift_start.minute
    end = 3600.0 * v.shift_end.hour + 60.0 * v.shift_end.minute
    return RoutingVehicle(
        name=v.name,
        count=v.count,
        capacity_l=v.tank_l,
        tw_early_s=start,
        tw_late_s=end,
        shift_duration_s=60.0 * v.shift_minutes,
        start_depot=0,
        end_depot=0,
        reload_depots=tuple(range(1, 1 + n_reload)),
        max_reloads=max_reloads,
        profile=profile,
        refill_cost=COST_PER_SECOND,
        break_s=60.0 * v.break_min,
    )


# --------------------------------------------------------------------------- PyVRP adapter


def _ints(values: np.ndarray, scale: int) -> np.ndarray:
    """Scale to integers (rounded to nearest, half to even); ``inf`` becomes
    :data:`UNBOUNDED`."""
    values = np.asarray(values, dtype=float)
    scaled = values * scale
    np.rint(scaled, out=scaled)
    finite = np.isfinite(scaled)
    if finite.all():
        return scaled.astype(np.int64)
    scaled[~finite] = 0.0
    out = scaled.astype(np.int64)
    out[~finite] = UNBOUNDED
    return out


MATRIX_ROWS = 512
"""Rows of a travel matrix converted to integers at a time (:func:`arc_ints`): the
float temporaries are this many rows, not the whole matrix."""


def arc_ints(matrix: np.ndarray, leaving: np.ndarray, scale: int) -> np.ndarray:
    """``_ints(matrix + leaving[:, None], scale)`` with a zero diagonal, block of rows
    by block (:data:`MATRIX_ROWS`), so no float copy of the whole matrix is made."""
    n = matrix.shape[0]
    out = np.empty(matrix.shape, dtype=np.int64)
    for i in range(0, n, MATRIX_ROWS):
        block = matrix[i:i + MATRIX_ROWS] + leaving[i:i + MATRIX_ROWS, None]
        k = np.arange(i, min(i + MATRIX_ROWS, n))
        block[k - i, k] = 0.0
        out[i:i + MATRIX_ROWS] = _ints(block, scale)
    return out


class _Matrices(Sequence):
    """The integer matrices of :func:`to_pyvrp`, one per profile, made when PyVRP reads
    them: PyVRP copies each into its own storage as it reads it, so only one of ours is
    alive at a time (a list would hold all of them beside PyVRP's copies)."""

    def __init__(self, make, n: int) -> None:
        self._make, self._n = make, n

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, k):
        if not 0 <= k < self._n:
            raise IndexError(k)
        return self._make(k)


def _int(value: float, scale: int) -> int:
    return int(_ints(np.array([value]), scale)[0])


def leaving_s(problem: RoutingProblem, profile: int) -> np.ndarray:
    """Time spent at each location before leaving it, for vehicles of ``profile`` [s]:
    the depot service (refill) at depots, the service at clients, over locations."""
    t = problem.times(profile)
    return np.concatenate([t.depot_service_s, t.service_s])


def to_pyvrp(problem: RoutingProblem) -> ProblemData:
    """Convert a :class:`RoutingProblem` to PyVRP's integer :class:`pyvrp.ProblemData`.

    Distances are scaled by :data:`METRE`, times by :data:`SECOND`, loads by
    :data:`LITRE` and rounded to the nearest integer; prizes use the distance scale.

    PyVRP gives a client or depot one service duration for every vehicle, while a pickup
    pumps slower than a tanker and refills a smaller tank. So the time spent at a
    location is folded into the arcs that leave it, per profile: duration matrix ``k`` is
    ``duration_s[i, j] + leaving_s[i]`` of profile ``k`` (:func:`leaving_s`) and every
    service duration given to PyVRP is 0. Arrival and service start are unchanged by
    this (a service starts when the vehicle arrives or its window opens; the next arc
    carries its duration), so time windows, shift lengths and route durations are
    exactly those of the unfolded problem; :func:`stops_table` adds the service times
    back.
    """
    nd = problem.n_depots
    locations = [
        Location(x=a, y=b) for a, b in zip(problem.x.tolist(), problem.y.tolist(), strict=True)
    ]
    depots = [Depot(location=i) for i in range(nd)]
    columns = zip(
        _ints(problem.delivery_l, LITRE).tolist(),
        _ints(problem.tw_early_s, SECOND).tolist(),
        _ints(problem.tw_late_s, SECOND).tolist(),
        _ints(problem.release_s, SECOND).tolist(),
        _ints(problem.prize, METRE).tolist(),
        problem.required.tolist(),
        strict=True,
    )
    clients = [
        Client(
            location=nd + i,
            delivery=[d],
            tw_early=e,
            tw_late=late,
            release_time=r,
            prize=p,
            required=q,
        )
        for i, (d, e, late, r, p, q) in enumerate(columns)
    ]
    n = problem.n_profiles
    return ProblemData(
        locations=locations,
        clients=clients,
        depots=depots,
        vehicle_types=[_pyvrp_vehicle(v) for v in problem.vehicles],
        distance_matrices=_Matrices(lambda k: arc_ints(
            problem.distance_m, _refill_cost(problem, k), METRE), n),
        duration_matrices=_Matrices(lambda k: arc_ints(
            problem.times(k).duration_s, leaving_s(problem, k), SECOND), n),
    )


def _refill_cost(problem: RoutingProblem, profile: int) -> np.ndarray:
    """Cost added to the arcs leaving each location for vehicles of ``profile``
    [distance units]: their refill cost per second times the refill time at reload
    depots, 0 elsewhere (clients, and a yard without its own refill time)."""
    rate = max((v.refill_cost for v in problem.vehicles if v.profile == profile), default=0.0)
    cost = np.zeros(problem.n_depots + problem.n_clients)
    cost[: problem.n_depots] = rate * problem.times(profile).depot_service_s
    return cost


def _pyvrp_vehicle(v: RoutingVehicle) -> PyVRPVehicleType:
    extra = {} if v.max_reloads is None else {"max_reloads": v.max_reloads}
    return PyVRPVehicleType(
        num_available=v.count,
        capacity=[_int(v.capacity_l, LITRE)],
        start_depot=v.start_depot,
        end_depot=v.end_depot,
        tw_early=_int(v.tw_early_s, SECOND),
        tw_late=_int(v.tw_late_s - v.break_s, SECOND),  # the break is placed afterwards
        shift_duration=_int(v.shift_duration_s, SECOND),
        reload_depots=list(v.reload_depots),
        profile=v.profile,
        name=v.name,
        **extra,
    )


@dataclass(frozen=True)
class RoutingSolution:
    """The best routes found, mapped back to the problem's labels and units.

    Attributes
    ----------
    stops
        One row per stop, in driving order: ``vehicle`` (the truck: 1, 2, ... numbered
        through the vehicle types in order, so the first truck of the second type
        follows the last of the first; the same truck keeps its number from day to
        day), ``vehicle_type`` (name), ``trip`` (0-based, a refill starts the next
        trip), ``stop`` (order in the route), ``kind`` (``start`` | ``refill`` | ``end`` |
        ``visit``), ``location``, ``client`` (index or -1), ``site`` (client id or depot
        id), ``litres`` [L], ``arrival_s``, ``start_s``, ``end_s`` [s since midnight].
    unserved
        Client indices not visited (optional clients that did not fit).
    cost
        Objective in solver units: distance + refill cost + uncollected prizes [m].
    distance_m
        Total driven distance [m] (refill costs excluded).
    duration_s
        Total route duration including waiting [s].
    n_trips
        Number of trips (tank loads) over all routes.
    feasible
        Whether the solution respects every constraint.
    runtime_s
        Solver wall time [s].
    iterations
        Search iterations done.
    cut_by_time
        True when the time limit stopped the search before its iteration limit (or
        stopped it with no iteration limit): the routes then depend on the machine's
        speed and load.
    progress
        What the search time bought: one row per improvement of the best feasible
        solution, (elapsed search time [s], its objective [solver units, as ``cost``
        plus PyVRP's duration cost]) (:func:`search_progress`); empty when no feasible
        solution was found.
    """

    stops: pd.DataFrame
    unserved: np.ndarray
    cost: int
    distance_m: float
    duration_s: float
    n_trips: int
    feasible: bool
    runtime_s: float
    iterations: int = 0
    cut_by_time: bool = False
    progress: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 2)))

    def objective_at(self, elapsed_s: float) -> float:
        """The best feasible objective the search had after ``elapsed_s`` seconds (NaN
        before its first feasible solution)."""
        k = np.searchsorted(self.progress[:, 0], elapsed_s, side="right")
        return float(self.progress[k - 1, 1]) if k > 0 else float("nan")


PROGRESS_CHECKPOINTS_S = (5, 10, 15, 30, 60, 120, 240, 480)
"""Search times [s] at which the run record gives the best objective so far."""


def search_summary(sol: RoutingSolution) -> dict:
    """What the search time bought, for the run record: the best feasible objective at
    the end, at half the search time and after each of :data:`PROGRESS_CHECKPOINTS_S`
    within it, and the gain of the second half [%] (near 0: a shorter budget would have
    given about the same routes)."""
    end = sol.objective_at(sol.runtime_s)
    half = sol.objective_at(sol.runtime_s / 2)
    gain = 100.0 * (half - end) / half if np.isfinite(half) and half > 0 else None
    at = {str(t): sol.objective_at(t) for t in PROGRESS_CHECKPOINTS_S if t <= sol.runtime_s}
    return {"routing_objective": None if np.isnan(end) else round(end),
            "routing_objective_half_time": None if np.isnan(half) else round(half),
            "routing_gain_second_half_pct": None if gain is None else round(gain, 3),
            "routing_objective_at_s": {t: None if np.isnan(v) else round(v)
                                       for t, v in at.items()},
            "routing_improvements": int(sol.progress.shape[0])}


def search_progress(stats) -> np.ndarray:
    """The best feasible objective over the search time from PyVRP's statistics: rows
    (elapsed s, objective), one per iteration where the best feasible solution improved."""
    elapsed = np.cumsum(np.asarray(stats.runtimes, dtype=float))
    best = np.array([d.best_cost if d.best_feas else np.inf for d in stats.data], dtype=float)
    best = np.minimum.accumulate(best) if best.size else best
    better = np.isfinite(best) & (best < np.concatenate(([np.inf], best[:-1])))
    return np.column_stack([elapsed[better], best[better]])


def hard_limit_s(time_limit_s: float) -> float:
    """Wall-clock time after which a search is killed [s]: twice its own time limit
    plus a minute (PyVRP checks its limit only between iterations; one iteration stuck
    in its compiled local search would run forever)."""
    return 2.0 * time_limit_s + 60.0


def solve(
    problem: RoutingProblem,
    time_limit_s: float,
    seed: int = 1,
    max_iterations: int | None = None,
    num_neighbours: int | None = None,
) -> RoutingSolution:
    """Solve a routing problem with PyVRP.

    Parameters
    ----------
    problem
        The instance.
    time_limit_s
        Wall-clock limit of the search [s]: the stop criterion when ``max_iterations`` is
        None, else a safety net. The search runs in a child process killed after
        :func:`hard_limit_s` (then :class:`~irrigation.deadline.DeadlineExceeded`).
    seed
        Seed of the solver's random number stream.
    max_iterations
        Stop after this many search iterations (or at the time limit, whichever comes
        first): the same problem and seed then give the same routes on any machine,
        under any load, as long as the time limit does not cut in first.
    num_neighbours
        PyVRP's granular neighbourhood size (None: PyVRP's default).

    Returns
    -------
    RoutingSolution
    """
    data = to_pyvrp(problem)
    stop = MaxRuntime(time_limit_s)
    if max_iterations is not None:
        stop = MultipleCriteria([stop, MaxIterations(max_iterations)])
    params = SolveParams() if num_neighbours is None else SolveParams(
        neighbourhood=NeighbourhoodParams(num_neighbours=num_neighbours))
    result = call_with_deadline(
        lambda: pyvrp_solve(data, stop=stop, seed=seed, display=False, params=params),
        hard_limit_s(time_limit_s), "the route search (PyVRP)")
    best = result.best
    cut = max_iterations is None or result.num_iterations < max_iterations
    log.info(
        "pyvrp: cost %d, %d routes, %d trips, feasible %s, %d iterations in %.1f s%s",
        result.cost() if best.is_feasible() else -1,
        best.num_routes(),
        best.num_trips(),
        best.is_feasible(),
        result.num_iterations,
        result.runtime,
        " (stopped by the time limit)" if cut and max_iterations is not None else "",
    )
    stops = stops_table(problem, best)
    served = stops["client"].to_numpy()
    unserved = np.setdiff1d(np.arange(problem.n_clients), served[served >= 0])
    return RoutingSolution(
        stops=stops,
        unserved=unserved,
        cost=int(best.distance_cost() + best.uncollected_prizes()),
        distance_m=_driven_m(problem, stops),
        duration_s=best.duration() / SECOND,
        n_trips=int(best.num_trips()),
        feasible=bool(best.is_feasible()),
        runtime_s=float(result.runtime),
        iterations=int(result.num_iterations),
        cut_by_time=bool(cut),
        progress=search_progress(result.stats),
    )


def _driven_m(problem: RoutingProblem, stops: pd.DataFrame) -> float:
    """Distance driven along the routes of a stop table [m]."""
    total = 0.0
    for _, g in stops.groupby("vehicle"):
        loc = g.sort_values("stop")["location"].to_numpy(int)
        total += float(problem.distance_m[loc[:-1], loc[1:]].sum())
    return total


STOP_COLUMNS = (
    "vehicle",
    "vehicle_type",
    "trip",
    "stop",
    "kind",
    "location",
    "client",
    "site",
    "litres",
    "arrival_s",
    "start_s",
    "end_s",
)
"""Columns of :attr:`RoutingSolution.stops`."""


def truck_numbers(problem: RoutingProblem) -> dict[str, list[int]]:
    """The truck numbers of each vehicle type: 1, 2, ... through the types in order."""
    out, first = {}, 1
    for v in problem.vehicles:
        out[v.name] = list(range(first, first + v.count))
        first += v.count
    return out


def stops_table(problem: RoutingProblem, solution: Solution) -> pd.DataFrame:
    """Table of the stops of a :class:`pyvrp.Solution` (see :class:`RoutingSolution`)."""
    rows = []
    numbers = truck_numbers(problem)
    used = {v.name: 0 for v in problem.vehicles}
    for route in solution.routes():
        vehicle = problem.vehicles[route.vehicle_type()]
        truck = numbers[vehicle.name][used[vehicle.name]]
        used[vehicle.name] += 1
        leave = leaving_s(problem, vehicle.profile)
        schedule = route.schedule()
        last_trip = route.num_trips() - 1  # PyVRP numbers the end depot one trip past it
        for k, act in enumerate(schedule):
            trip = min(act.trip, last_trip)
            rows.append((truck, vehicle.name, trip, k,
                         *_stop(problem, act, k, len(schedule) - 1, leave)))
    return pd.DataFrame(rows, columns=list(STOP_COLUMNS))


def _stop(problem: RoutingProblem, act: ScheduledActivity, k: int, last: int,
          leave_s: np.ndarray) -> tuple:
    """``kind`` .. ``end_s`` of :data:`STOP_COLUMNS` for the ``k``-th activity of a route;
    the end adds the folded service time of the location (:func:`to_pyvrp`)."""
    if act.is_depot():
        kind = "start" if k == 0 else "end" if k == last else "refill"
        loc = act.idx
        place = (kind, loc, -1, problem.depot_id[act.idx], 0.0)
    else:
        i = act.idx
        loc = problem.n_depots + i
        place = ("visit", loc, i, problem.client_id[i], float(problem.delivery_l[i]))
    start = act.start_time / SECOND
    end = start if k == last else start + float(leave_s[loc])
    return (*place, start - act.wait_duration / SECOND, start, end)


# --------------------------------------------------------------------------- after the search

BREAK_BY_S = 6 * 3600.0
"""Latest start of the crew's break after the start of work [s]: German working-time law
(ArbZG section 4) allows at most 6 hours of work without a break."""


def place_breaks(problem: RoutingProblem, stops: pd.DataFrame) -> pd.DataFrame:
    """Put each route's break (its vehicle type's ``break_s``) into the route.

    The solver keeps the break free at the end of the window (:func:`to_pyvrp`); here it
    moves to the stop nearest the middle of the shift window, at most :data:`BREAK_BY_S`
    after the start and never so that a later client's window would close before its
    service: a row of kind ``break`` after that stop (at its location, no litres), and
    every later stop ``break_s`` later. Stops are renumbered in driving order.
    """
    out = []
    vehicles = {v.name: v for v in problem.vehicles}
    for _, route in stops.groupby("vehicle", sort=True):
        route = route.sort_values("stop").reset_index(drop=True)
        v = vehicles[route["vehicle_type"].iloc[0]]
        if v.break_s > 0 and len(route) > 2:
            route = _with_break(problem, route, v)
        out.append(route.assign(stop=np.arange(len(route))))
    if not out:
        return stops.copy()
    return pd.concat(out, ignore_index=True)


def _with_break(problem: RoutingProblem, route: pd.DataFrame, v: RoutingVehicle
                ) -> pd.DataFrame:
    end = route["end_s"].to_numpy(float)
    start = float(route["start_s"].iloc[0])
    middle = (v.tw_early_s + v.tw_late_s) / 2 if np.isfinite(v.tw_late_s) else start + 4 * 3600
    late = problem.tw_late_s[route["client"].to_numpy(int)]
    late = np.where(route["kind"].to_numpy() == "visit", late, np.inf)
    after = np.arange(len(route) - 1)  # after any stop but the end
    after = after[end[after] <= start + BREAK_BY_S] if (end[after] <= start + BREAK_BY_S).any() \
        else after[:1]
    order = after[np.argsort(np.abs(end[after] - middle), kind="stable")]
    ok = [k for k in order
          if (route["start_s"].to_numpy(float)[k + 1:] + v.break_s <= late[k + 1:] + 1).all()]
    k = ok[0] if ok else len(route) - 2
    row = route.iloc[[k]].assign(kind="break", client=-1, site="", litres=0.0,
                                 arrival_s=end[k], start_s=end[k], end_s=end[k] + v.break_s)
    later = route.iloc[k + 1:].copy()
    for c in ("arrival_s", "start_s", "end_s"):
        later[c] = later[c] + v.break_s
    return pd.concat([route.iloc[: k + 1], row, later], ignore_index=True)


def truck_use(problem: RoutingProblem, stops: pd.DataFrame) -> pd.DataFrame:
    """Use of every truck of the fleet, idle ones included, from a stop table.

    Returns
    -------
    pandas.DataFrame
        One row per truck (:func:`truck_numbers` order): ``vehicle``, ``vehicle_type``,
        ``stops`` (visits), ``litres`` [L], ``work_h`` (route time, break excluded) and
        ``shift_h`` (usable shift) [h], ``used`` (work_h / shift_h), ``refills``,
        ``max_reloads`` (None: no limit), ``litres_per_refill`` (mean water used in the
        trip before each refill: what the refill puts back) [L].
    """
    rows = []
    for v in problem.vehicles:
        for truck in truck_numbers(problem)[v.name]:
            g = stops[stops["vehicle"] == truck]
            visits = g[g["kind"] == "visit"]
            work = 0.0
            if len(g):
                work = (g["end_s"].max() - g["start_s"].min()
                        - (g["end_s"] - g["start_s"])[g["kind"] == "break"].sum())
            refills = int((g["kind"] == "refill").sum())
            by_trip = visits.groupby("trip")["litres"].sum()
            used = by_trip[by_trip.index < refills].mean() if refills else np.nan
            rows.append({"vehicle": truck, "vehicle_type": v.name, "stops": len(visits),
                         "litres": float(visits["litres"].sum()), "work_h": work / 3600,
                         "shift_h": v.shift_duration_s / 3600,
                         "used": work / v.shift_duration_s, "refills": refills,
                         "max_reloads": v.max_reloads, "litres_per_refill": float(used)})
    return pd.DataFrame(rows)


FULL_SHIFT = 0.9
"""A truck whose route works this fraction of its usable shift counts as full."""


def binding_limit(use: pd.DataFrame) -> str:
    """Why the routes took no more visits, from :func:`truck_use`: ``"shift time"`` when
    every truck works at least :data:`FULL_SHIFT` of its shift, ``"tank volume"`` when
    the others have used all their refills (``max_reloads``), else ``"not reached"`` (a
    truck had time and water: the search did not fit the visit in)."""
    full = use["used"] >= FULL_SHIFT
    reloads = pd.to_numeric(use["max_reloads"], errors="coerce").to_numpy(float)
    dry = np.isfinite(reloads) & (use["refills"].to_numpy() >= reloads)
    if full.all():
        return "shift time"
    if (full | dry).all():
        return "tank volume"
    return "not reached"
