"""A fast estimate of a day's truck work, for season runs that cannot route every day.

A season simulates 150-180 days per policy and member; routing each day with PyVRP costs
0.1-0.5 s even with a few iterations, which makes the routing most of a season's time. In
the season's ``estimate`` routing mode (:class:`irrigation.scenario.schema.SeasonRouting`)
the day's visits are instead served in the planner's order of urgency while an estimate
of the fleet's working time allows:

- service: set-up per stop plus litres / pump rate;
- refills: the litres beyond the fleet's full tanks at the start of the shift, in tank
  loads, each costing the connect time, the filling time (tank / hydrant rate) and a drive
  to the nearest hydrant and back;
- driving: the tour through the stops by the Beardwood-Halton-Hammersley law,
  L ≈ β √(n A) (β = :data:`BHH_BETA`, A the area the stops span), times the city's detour
  factor, plus each truck's drive from the depot to the stops and back.

Fleet quantities are averages weighted by the shift minutes of each vehicle type. The
estimate is calibrated against PyVRP routes of the same visits on the demo city
(``benchmarks/fleet_estimate.py``, days of 60-450 visits); ``tests/scenario/test_season.py``
checks that a season's estimated and routed modes agree; the report states the mode.

References
----------
Beardwood, J., Halton, J. H. & Hammersley, J. M. (1959). The shortest path through many
points. Proc. Cambridge Philos. Soc. 55, 299-327 (β ≈ 0.7124 for the Euclidean plane,
Applegate et al. 2011, The Traveling Salesman Problem, ch. 1).
Daganzo, C. F. (1984). The distance traveled to visit N points with a maximum of C stops
per vehicle. Transportation Science 18(4), 331-350 (line-haul plus local tour).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from ..routing import VehicleType

#: Beardwood-Halton-Hammersley constant of the Euclidean tour, L ≈ β √(n A).
BHH_BETA = 0.7124
#: Smallest area the stops span [m²] (a few stops in a line span no area).
MIN_AREA_M2 = 250_000.0
#: Tour length of the routed plans per BHH tour of the stops [-]: the routes are split
#: into trips between refills and trucks, which lengthens the tour. Calibrated on the
#: demo city with ``benchmarks/fleet_estimate.py`` (days of 60-450 visits, PyVRP 1,000
#: iterations): at 1.7 the estimated km are 0.97 (0.93-1.10) of the routed km, the
#: served visits 1.00 (0.99-1.04) and the litres 1.03 (1.00-1.09) of the routed ones;
#: at the earlier 1.2 the km were 0.78 (0.73-0.85) and the litres 1.07 (1.00-1.15).
TOUR_FACTOR = 1.7
#: Share of the fleet's shift minutes routes can fill [-]: the last stop rarely ends a
#: shift exactly (calibrated like :data:`TOUR_FACTOR`).
USABLE_SHARE = 1.0


@dataclass(frozen=True)
class FleetDay:
    """The estimate of one day: which visits fit, and what they cost.

    Attributes
    ----------
    served
        Per visit (in the order given): True when it fits the fleet's working time.
    km
        Driving [km].
    truck_hours
        Working time of the trucks used [h].
    """

    served: np.ndarray
    km: float
    truck_hours: float


@dataclass(frozen=True)
class FleetModel:
    """The fleet's averages a day's estimate needs (:func:`fleet_model`).

    Attributes
    ----------
    minutes
        Working minutes of the whole fleet per day [min].
    trucks
        Number of trucks.
    shift_min
        Mean shift length [min].
    tank_l, pump_l_per_min, setup_min, speed_m_per_min
        Shift-weighted means of the vehicle types.
    refill_min
        Minutes per refill: connect time plus filling a tank at the median hydrant rate.
    depot_xy
        The depot [m].
    hydrants_xy
        Refill points with water (n, 2) [m].
    detour
        Street distance per straight-line distance [-].
    """

    minutes: float
    trucks: int
    shift_min: float
    tank_l: float
    pump_l_per_min: float
    setup_min: float
    speed_m_per_min: float
    refill_min: float
    depot_xy: np.ndarray
    hydrants_xy: np.ndarray
    detour: float


def fleet_model(fleet: Sequence[VehicleType], refill_points: xr.Dataset,
                refill_connect_min: float, detour: float) -> FleetModel:
    """The averages of ``fleet`` and the refill points (see :class:`FleetModel`)."""
    count = np.array([v.count for v in fleet], float)
    shift = np.array([v.shift_minutes for v in fleet], float)
    w = count * shift / (count * shift).sum()

    def mean(attr: str) -> float:
        return float(np.sum(w * np.array([getattr(v, attr) for v in fleet], float)))

    rate = refill_points["refill_l_per_min"].values.astype(float)
    kind = refill_points["kind"].values.astype(str)
    xy = np.column_stack([refill_points["x"].values, refill_points["y"].values])
    tank = mean("tank_l")
    return FleetModel(
        minutes=float((count * shift).sum()), trucks=int(count.sum()),
        shift_min=float(np.sum(w * shift)), tank_l=tank,
        pump_l_per_min=1.0 / float(np.sum(w / np.array([v.pump_l_per_min for v in fleet]))),
        setup_min=mean("setup_min"), speed_m_per_min=mean("speed_kmh") * 1000.0 / 60.0,
        refill_min=refill_connect_min + tank / float(np.median(rate[rate > 0])),
        depot_xy=xy[kind == "depot"][0], hydrants_xy=xy[rate > 0], detour=detour)


def estimate_day(model: FleetModel, visits: pd.DataFrame | Mapping[str, np.ndarray]
                 ) -> FleetDay:
    """Serve ``visits`` (columns ``x``, ``y`` [m], ``litres`` [L], or a mapping of those
    arrays; in the order of urgency) while the fleet's estimated working time allows
    (module docstring).

    The estimate is cumulative: the first n visits are served when their service,
    refills and driving fit the fleet's minutes; the tour area is the bounding box of the
    first n stops.
    """
    x, y = np.asarray(visits["x"], float), np.asarray(visits["y"], float)
    litres = np.asarray(visits["litres"], float)
    n = x.size
    if n == 0:
        return FleetDay(np.zeros(0, bool), 0.0, 0.0)
    k = np.arange(1, n + 1)
    cum_l = np.cumsum(litres)
    service = model.setup_min * k + cum_l / model.pump_l_per_min
    d_h = np.min(np.hypot(x[:, None] - model.hydrants_xy[None, :, 0],
                          y[:, None] - model.hydrants_xy[None, :, 1]), axis=1)
    refills = np.maximum(cum_l - model.trucks * model.tank_l, 0.0) / model.tank_l
    refill_m = refills * 2.0 * model.detour * np.cumsum(d_h) / k
    span = ((np.maximum.accumulate(x) - np.minimum.accumulate(x))
            * (np.maximum.accumulate(y) - np.minimum.accumulate(y)))
    tour_m = BHH_BETA * np.sqrt(k * np.maximum(span, MIN_AREA_M2)) * model.detour
    cx, cy = np.cumsum(x) / k, np.cumsum(y) / k
    depot_m = np.hypot(cx - model.depot_xy[0], cy - model.depot_xy[1]) * model.detour
    work = service + refills * model.refill_min
    used = np.clip(np.ceil(work / (USABLE_SHARE * model.shift_min)), 1, model.trucks)
    drive_m = TOUR_FACTOR * tour_m + refill_m + 2.0 * depot_m * used
    total = work + drive_m / model.speed_m_per_min
    fits = total <= USABLE_SHARE * model.minutes
    m = int(np.argmin(fits)) if not fits.all() else n  # first that does not fit
    served = np.zeros(n, bool)
    served[:m] = True
    if m == 0:
        return FleetDay(served, 0.0, 0.0)
    return FleetDay(served, float(drive_m[m - 1] / 1000.0), float(total[m - 1] / 60.0))
