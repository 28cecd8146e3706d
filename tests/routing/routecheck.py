"""An independent checker of routes: recomputes loads, times and coverage.

It uses only the raw arrays of a :class:`~irrigation.routing.RoutingProblem` and the stop
table of a :class:`~irrigation.routing.RoutingSolution` (never PyVRP), so a bug in the
adapter's mapping (wrong indices, units or scaling) shows up as a violation.

Times are propagated from each route's start with the times of the vehicle's own profile
(its speed, pump and tank): arrival = departure + travel time; service starts at
max(arrival, window opening); a depot's service (refill) is spent when leaving it, and a
trip leaves its depot no earlier than the release time of its clients. A ``break`` row
(at most one per route) pauses the route for the vehicle's ``break_s``; the route must end
within its window and work (break excluded) no longer than its shift. The tolerance allows
the solver's rounding to whole seconds/litres.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from irrigation.routing import RoutingProblem


def check_routes(problem: RoutingProblem, stops: pd.DataFrame) -> list[str]:
    """Every violation found, as readable messages (empty when the routes are valid)."""
    errors = _check_coverage(problem, stops)
    for r, route in stops.groupby("vehicle", sort=True):
        errors += _check_route(problem, r, route.sort_values("stop"))
    return errors


def _check_coverage(problem: RoutingProblem, stops: pd.DataFrame) -> list[str]:
    visits = stops.loc[stops.kind == "visit", "client"].to_numpy()
    counts = np.bincount(visits.astype(int), minlength=problem.n_clients)
    errors = [f"client {i} visited {c} times" for i, c in enumerate(counts) if c > 1]
    missing = np.flatnonzero((counts == 0) & problem.required)
    errors += [f"required client {i} not visited" for i in missing]
    used = stops.groupby("vehicle_type").vehicle.nunique()
    for v in problem.vehicles:
        if used.get(v.name, 0) > v.count:
            errors.append(f"{used[v.name]} routes of type {v.name}, only {v.count} exist")
    return errors


def _check_route(problem: RoutingProblem, r: int, route: pd.DataFrame) -> list[str]:
    (vehicle,) = [v for v in problem.vehicles if v.name == route.vehicle_type.iloc[0]]
    with_breaks, route = route, route[route.kind != "break"]
    kinds = route.kind.tolist()
    locs = route.location.to_numpy(int)
    errors = []
    if kinds[0] != "start" or locs[0] != vehicle.start_depot:
        errors.append(f"route {r}: does not start at depot {vehicle.start_depot}")
    if kinds[-1] != "end" or locs[-1] != vehicle.end_depot:
        errors.append(f"route {r}: does not end at depot {vehicle.end_depot}")
    refills = [loc for k, loc in zip(kinds, locs, strict=True) if k == "refill"]
    if any(loc not in vehicle.reload_depots for loc in refills):
        errors.append(f"route {r}: refill at a depot not among {vehicle.reload_depots}")
    if vehicle.max_reloads is not None and len(refills) > vehicle.max_reloads:
        errors.append(f"route {r}: {len(refills)} refills > {vehicle.max_reloads}")
    trips = _trip_numbers(kinds)
    if not np.array_equal(route.trip.to_numpy(int), trips):
        errors.append(f"route {r}: trip numbers {route.trip.tolist()} != {trips.tolist()}")
    errors += _check_loads(problem, r, route, vehicle.capacity_l)
    errors += _check_times(problem, r, with_breaks, vehicle)
    return errors


def _trip_numbers(kinds: list[str]) -> np.ndarray:
    """Trip of each stop: a refill starts the next trip."""
    return np.cumsum([k == "refill" for k in kinds])


def _check_loads(problem: RoutingProblem, r: int, route: pd.DataFrame, cap: float) -> list[str]:
    trips = _trip_numbers(route.kind.tolist())
    is_visit = (route.kind == "visit").to_numpy()
    clients = route.client.to_numpy(int)[is_visit]
    loads = np.bincount(trips[is_visit], weights=problem.delivery_l[clients])
    n_visits = np.bincount(trips[is_visit])
    bad = np.flatnonzero(loads > cap + 0.5 * n_visits)
    return [f"route {r} trip {t}: load {loads[t]:.1f} L > tank {cap:.1f} L" for t in bad]


def _check_times(problem: RoutingProblem, r: int, route: pd.DataFrame, vehicle) -> list[str]:
    is_break = (route.kind == "break").to_numpy()
    errors = []
    if is_break.sum() > 1:
        errors.append(f"route {r}: {int(is_break.sum())} breaks")
    paused = float(vehicle.break_s) if is_break.any() else 0.0
    route = route[~is_break]
    breaks_before = np.cumsum(is_break)[~is_break] * paused  # pause before each stop
    kinds, locs = route.kind.tolist(), route.location.to_numpy(int)
    clients, reported = route.client.to_numpy(int), route.start_s.to_numpy(float)
    times = problem.times(vehicle.profile)
    trips = _trip_numbers(kinds)
    release = _trip_release(problem, kinds, clients)
    start = float(route.start_s.iloc[0])
    tol = 1.0 + 0.5 * len(kinds)
    if start < vehicle.tw_early_s - tol:
        errors.append(f"route {r}: starts at {start} before the shift {vehicle.tw_early_s}")
    t = max(start, release[0]) + times.depot_service_s[locs[0]]
    for k in range(1, len(kinds)):
        t += breaks_before[k] - breaks_before[k - 1]  # a break after the previous stop
        t += times.duration_s[locs[k - 1], locs[k]]
        if kinds[k] == "visit":
            i = clients[k]
            t = max(t, problem.tw_early_s[i])
            if abs(t - reported[k]) > tol:
                errors.append(f"route {r}: client {i} served at {t:.0f} s, reported {reported[k]}")
            if t > problem.tw_late_s[i] + tol:
                errors.append(
                    f"route {r}: client {i} served at {t:.0f} s, window closes "
                    f"{problem.tw_late_s[i]:.0f} s"
                )
            t += times.service_s[i]
        elif kinds[k] == "refill":
            t = max(t, release[trips[k]]) + times.depot_service_s[locs[k]]
    if t > vehicle.tw_late_s + tol:
        errors.append(f"route {r}: ends at {t:.0f} s after the shift end {vehicle.tw_late_s}")
    if t - start - paused > vehicle.shift_duration_s + tol:
        errors.append(f"route {r}: works {t - start - paused:.0f} s > shift "
                      f"{vehicle.shift_duration_s}")
    return errors


def _trip_release(problem: RoutingProblem, kinds: list[str], clients: np.ndarray) -> np.ndarray:
    """Largest release time of the clients of each trip [s]."""
    trips = _trip_numbers(kinds)
    release = np.zeros(trips[-1] + 1)
    for trip, kind, i in zip(trips, kinds, clients, strict=True):
        if kind == "visit":
            release[trip] = max(release[trip], problem.release_s[i])
    return release
