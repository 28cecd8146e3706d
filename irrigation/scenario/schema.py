"""Scenario files: the schema of a season of a city under changed weather, water and fleet,
and the watering policies to compare in it.

A scenario file (``scenarios/<name>.toml``) names a city, a season, the base weather and
how it is perturbed, changes to groundwater, fleet and water budget, the forecast quality,
the closed-loop members and seed, and the policies to compare. The schema is the set of
dataclasses below; each field's default is stated there and nowhere else, and each checks
its own values (:func:`irrigation.params.require`). The same schema as a table is in
``scenarios/README.md``.

:mod:`irrigation.scenario.load` reads a file into a :class:`Scenario` and checks what
needs the city; :mod:`irrigation.scenario.perturb` applies the weather perturbation; the
closed-loop season simulation is :mod:`irrigation.scenario.season`.

Dates are calendar days (``YYYY-MM-DD``, TOML local dates); a period ``start`` + ``days``
covers the days ``start .. start + days - 1``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal

from ..city import SITE_KINDS
from ..errors import InputError
from ..params import did_you_mean, require
from ..routing import VehicleType
from ..weather import EnsembleErrorParams

#: Site attributes a sensed site and its look-alikes may be required to share.
LOOKALIKE_ATTRIBUTES: tuple[str, ...] = ("kind", "species", "soil_texture", "sealing",
                                         "street")

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_MAX_SEED = 2**63 - 1


def period_text(start: dt.date, days: int) -> str:
    """A period of ``days`` days from ``start`` as ``"first..last"``."""
    return f"{start}..{start + dt.timedelta(days=days - 1)}"


# --------------------------------------------------------------------------- schema


@dataclass(frozen=True)
class Season:
    """The days simulated (the ``[season]`` table).

    Attributes
    ----------
    start
        First day of the watering season (first day plans are made and scored).
    end
        Last day of the season; after ``start``.
    spinup_start
        Day the soil water balance starts from field capacity, at or before ``start``;
        the days before ``start`` run the model on observed (perturbed) weather without
        watering decisions. Absent: ``start`` (no spin-up).
    """

    start: dt.date
    end: dt.date
    spinup_start: dt.date | None = None

    def __post_init__(self) -> None:
        require(self.end > self.start, "end",
                f"a day after start ({self.start}), got {self.end}")
        require(self.spinup_start is None or self.spinup_start <= self.start, "spinup_start",
                f"a day at or before start ({self.start}), got {self.spinup_start}")

    @property
    def first_day(self) -> dt.date:
        """First simulated day: ``spinup_start`` if given, else ``start``."""
        return self.spinup_start or self.start

    @property
    def days(self) -> int:
        """Number of season days ``start .. end`` [d]."""
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class BaseWeather:
    """The unperturbed weather (the ``[weather]`` table).

    Attributes
    ----------
    base
        ``"city"``: the city's observed weather (``weather.observed`` of its city.toml,
        for the demo city KNMI De Bilt 2017-2019); otherwise a file relative to the
        scenario file: project weather CSV (``.csv``), KNMI daily station file (``.txt``)
        or CF NetCDF (``.nc``), e.g. a generated (stochastic weather generator) series
        written in one of these formats. It must cover every simulated day.
        :func:`load_scenario` makes a file path absolute.
    wind_height_m
        Height of the wind measurement of a ``.csv`` or ``.nc`` base file [m], converted
        to 2 m by FAO-56 eq. 47. Absent: the city's ``weather.wind_height_m``. KNMI files
        are always 10 m.
    """

    base: str = "city"
    wind_height_m: float | None = None

    def __post_init__(self) -> None:
        require(bool(self.base), "base", "'city' or a weather file path")
        require(self.base != "city" or self.wind_height_m is None, "wind_height_m",
                "no wind height with base = 'city' (the city's weather.wind_height_m holds)")
        require(self.wind_height_m is None or 0.5 < self.wind_height_m <= 100,
                "wind_height_m", f"a height in (0.5, 100] m, got {self.wind_height_m}")


@dataclass(frozen=True)
class DrySpell:
    """Days whose precipitation is set to 0 (an element of ``perturb.dry_spells``).

    Attributes
    ----------
    start
        First day of the spell; inside the season.
    days
        Length of the spell [d], 1..366; the spell must end inside the season.
    """

    start: dt.date
    days: int

    def __post_init__(self) -> None:
        require(1 <= self.days <= 366, "days", f"a length of 1..366 days, got {self.days}")
        require(self.start < dt.date.max - dt.timedelta(days=self.days), "start",
                f"a day before {dt.date.max}, got {self.start}")

    @property
    def end(self) -> dt.date:
        """Last day of the spell."""
        return self.start + dt.timedelta(days=self.days - 1)


@dataclass(frozen=True)
class HeatWave:
    """Days with an extra temperature rise (an element of ``perturb.heat_waves``).

    Attributes
    ----------
    start
        First day of the heat wave; inside the season.
    days
        Length [d], 1..366; the heat wave must end inside the season.
    delta_c
        Rise of all temperatures on these days, on top of ``perturb.temp_delta_c``
        [degC], in (0, 15]. Overlapping heat waves add up.
    """

    start: dt.date
    days: int
    delta_c: float

    def __post_init__(self) -> None:
        require(1 <= self.days <= 366, "days", f"a length of 1..366 days, got {self.days}")
        require(self.start < dt.date.max - dt.timedelta(days=self.days), "start",
                f"a day before {dt.date.max}, got {self.start}")
        require(0 < self.delta_c <= 15, "delta_c", f"a rise in (0, 15] degC, got {self.delta_c}")

    @property
    def end(self) -> dt.date:
        """Last day of the heat wave."""
        return self.start + dt.timedelta(days=self.days - 1)


@dataclass(frozen=True)
class Perturbation:
    """Changes to the base weather (the ``[perturb]`` table); see :func:`perturb_weather`.

    :func:`scenario_weather` applies them from the first simulated day to the season end
    plus the forecast horizon.

    Attributes
    ----------
    precip_factor
        Factor on daily precipitation [-], in [0, 5] (0.7 = 30 % less rain on every day;
        the number of wet days is unchanged).
    dry_spells
        Periods with no precipitation at all (applied after ``precip_factor``).
    temp_delta_c
        Shift of all temperatures (``tmin_c``, ``tmax_c``, ``tmean_c``, ``tdew_c``) on
        every day [degC], in [-10, 10]. Relative humidity is left unchanged (warming at
        roughly constant relative humidity, Held & Soden 2006), so the vapour pressure
        deficit grows with the temperature.
    heat_waves
        Periods with an extra temperature shift (on top of ``temp_delta_c``).
    radiation_factor
        Factor on global radiation ``rs_mj_m2_d`` [-], in (0, 1.5]; results are capped at
        the plausible maximum of 45 MJ m-2 d-1.
    """

    precip_factor: float = 1.0
    dry_spells: tuple[DrySpell, ...] = ()
    temp_delta_c: float = 0.0
    heat_waves: tuple[HeatWave, ...] = ()
    radiation_factor: float = 1.0

    def __post_init__(self) -> None:
        require(0 <= self.precip_factor <= 5, "precip_factor",
                f"a factor in [0, 5], got {self.precip_factor}")
        require(-10 <= self.temp_delta_c <= 10, "temp_delta_c",
                f"a shift in [-10, 10] degC, got {self.temp_delta_c}")
        require(0 < self.radiation_factor <= 1.5, "radiation_factor",
                f"a factor in (0, 1.5], got {self.radiation_factor}")

    @property
    def is_identity(self) -> bool:
        """True when the perturbation changes nothing."""
        return self == Perturbation()


@dataclass(frozen=True)
class GroundwaterChange:
    """Changes to the city's groundwater model (the ``[groundwater]`` table).

    Attributes
    ----------
    head_offset_m
        Added to the initial heads of every cell at the first simulated day [m], in
        [-20, 20]; negative lowers the water table (e.g. -1.5 after dry winters), which
        reduces capillary rise to deep-rooted sites.
    pumping_factor
        Factor on the extraction of the model's wells (its WEL package) [-], in [0, 10].
    max_pumping_m3_per_day
        Cap on the total extraction of those wells [m3 d-1]; rates are scaled down
        together when they exceed it. Absent: no cap.
    """

    head_offset_m: float = 0.0
    pumping_factor: float = 1.0
    max_pumping_m3_per_day: float | None = None

    def __post_init__(self) -> None:
        require(-20 <= self.head_offset_m <= 20, "head_offset_m",
                f"an offset in [-20, 20] m, got {self.head_offset_m}")
        require(0 <= self.pumping_factor <= 10, "pumping_factor",
                f"a factor in [0, 10], got {self.pumping_factor}")
        cap = self.max_pumping_m3_per_day
        require(cap is None or (math.isfinite(cap) and cap >= 0), "max_pumping_m3_per_day",
                f"a rate >= 0 m3/d, got {cap}")


@dataclass(frozen=True)
class VehicleCountChange:
    """A change to the number of trucks of one vehicle type (``fleet.changes``).

    Attributes
    ----------
    vehicle
        Name of a ``[[fleet]]`` vehicle type of the city.
    count_delta
        Trucks added (> 0) or removed (< 0).
    count
        New number of trucks of this type (0 removes the type); instead of
        ``count_delta``.
    """

    vehicle: str
    count_delta: int = 0
    count: int | None = None

    def __post_init__(self) -> None:
        require(-100 <= self.count_delta <= 100, "count_delta",
                f"a change of -100..100 trucks, got {self.count_delta}")
        require(self.count is None or 0 <= self.count <= 100, "count",
                f"0..100 trucks, got {self.count}")
        require(self.count is None or self.count_delta == 0, "count",
                "either count or count_delta, not both")


@dataclass(frozen=True)
class FleetChange:
    """Changes to the city's fleet (the ``[fleet]`` table).

    Attributes
    ----------
    changes
        Count changes, at most one per vehicle type; at least one truck must remain.
    """

    changes: tuple[VehicleCountChange, ...] = ()

    def __post_init__(self) -> None:
        names = [c.vehicle for c in self.changes]
        require(len(set(names)) == len(names), "changes",
                f"at most one change per vehicle type, got {names}")


@dataclass(frozen=True)
class WaterBudget:
    """Limits on the water the department may use (the ``[budget]`` table).

    Attributes
    ----------
    cap_m3_per_day
        Most water delivered on one day, all trucks together [m3 d-1]. Absent: no cap
        (the fleet's capacity still limits it).
    cap_m3_per_season
        Most water delivered over the season ``start .. end`` [m3]. Absent: no cap.
    """

    cap_m3_per_day: float | None = None
    cap_m3_per_season: float | None = None

    def __post_init__(self) -> None:
        for name in ("cap_m3_per_day", "cap_m3_per_season"):
            v = getattr(self, name)
            require(v is None or (math.isfinite(v) and v > 0), name, f"a volume > 0 m3, got {v}")


@dataclass(frozen=True)
class ForecastQuality:
    """The weather forecasts the planner gets (the ``[forecast]`` table).

    The truth is the perturbed base weather. ``"perfect"``: the forecast issued on day D
    is the truth of days D .. D + horizon - 1 (every member alike). ``"growing"``: the
    forecast has errors whose spread grows linearly with lead time, drawn from the
    ensemble error model :class:`~irrigation.weather.EnsembleErrorParams` (temperature
    AR(1) errors, log-normal precipitation factors, false wet/dry days, radiation, wind,
    humidity); its defaults are typical NWP errors over Central Europe.

    Attributes
    ----------
    quality
        ``"perfect"`` or ``"growing"``.
    horizon_days
        Forecast horizon [d], 1..60. Absent: the city's ``run.horizon_days``
        (:func:`load_scenario` fills it in).
    members
        Ensemble members of each forecast the ``forecast`` policy gets, 1..1000. Absent:
        the city's ``run.members`` (:func:`load_scenario` fills it in).
    error_scale
        Factor on every error spread of the error model (standard deviations, log-sds and
        false wet/dry probabilities, the latter capped at 1) [-], in [0, 5]; only with
        ``"growing"``.
    temp_sd_c, temp_sd_growth_c_d, precip_log_sd, precip_log_sd_growth_d
        Replace the error model's temperature error sd at lead 0 [degC] and its growth
        [degC d-1], and the precipitation log-sd at lead 0 [-] and its growth [d-1],
        before ``error_scale`` is applied; only with ``"growing"``. Absent: the defaults
        of :class:`~irrigation.weather.EnsembleErrorParams`.
    """

    quality: Literal["perfect", "growing"] = "growing"
    horizon_days: int | None = None
    members: int | None = None
    error_scale: float = 1.0
    temp_sd_c: float | None = None
    temp_sd_growth_c_d: float | None = None
    precip_log_sd: float | None = None
    precip_log_sd_growth_d: float | None = None

    _OVERRIDES: ClassVar[tuple[str, ...]] = (
        "temp_sd_c", "temp_sd_growth_c_d", "precip_log_sd", "precip_log_sd_growth_d")

    def __post_init__(self) -> None:
        require(self.horizon_days is None or 1 <= self.horizon_days <= 60, "horizon_days",
                f"a horizon of 1..60 days, got {self.horizon_days}")
        require(self.members is None or 1 <= self.members <= 1000, "members",
                f"1..1000 members, got {self.members}")
        require(0 <= self.error_scale <= 5, "error_scale",
                f"a factor in [0, 5], got {self.error_scale}")
        for name in self._OVERRIDES:
            v = getattr(self, name)
            require(v is None or 0 <= v <= 10, name, f"a value in [0, 10], got {v}")
        if self.quality == "perfect":
            given = [n for n in self._OVERRIDES if getattr(self, n) is not None]
            if self.error_scale != 1.0:
                given.insert(0, "error_scale")
            require(not given, given[0] if given else "quality",
                    "no error parameters with quality = 'perfect' (they need 'growing')")

    def error_params(self) -> EnsembleErrorParams | None:
        """The forecast error model, or ``None`` for perfect forecasts."""
        if self.quality == "perfect":
            return None
        base = EnsembleErrorParams()
        given = {n: getattr(self, n) for n in self._OVERRIDES if getattr(self, n) is not None}
        base = dataclasses.replace(base, **given)
        s = self.error_scale
        scaled = {n: getattr(base, n) * s for n in (
            "temp_sd_c", "temp_sd_growth_c_d", "precip_log_sd", "precip_log_sd_growth_d",
            "rs_log_sd", "wind_log_sd", "rh_sd_pct")}
        scaled.update({n: min(1.0, getattr(base, n) * s) for n in ("p_false_dry",
                                                                     "p_false_wet")})
        return dataclasses.replace(base, **scaled)


@dataclass(frozen=True)
class SeasonRouting:
    """How the season's daily plans are served (the ``[routing]`` table).

    A season plans 150-180 days per policy and member. ``mode = "estimate"`` serves each
    day's truck visits in the order of urgency while a fast estimate of the fleet's
    working time allows (:mod:`irrigation.scenario.fleet`: service, refills and driving by
    the Beardwood-Halton-Hammersley law, calibrated against PyVRP on the demo city);
    ``"pyvrp"`` routes every day with PyVRP, stopped after ``max_iterations`` iterations
    (or ``time_limit_s``), ~0.1-0.5 s a day on the demo city. The report states the mode.

    Attributes
    ----------
    mode
        ``"estimate"`` or ``"pyvrp"``.
    max_iterations
        PyVRP iterations per day, 1..100000 (mode ``"pyvrp"``).
    time_limit_s
        Wall-clock cap per day [s], (0, 3600] (mode ``"pyvrp"``).
    """

    mode: Literal["estimate", "pyvrp"] = "estimate"
    max_iterations: int = 50
    time_limit_s: float = 5.0

    def __post_init__(self) -> None:
        require(1 <= self.max_iterations <= 100_000, "max_iterations",
                f"1..100000 iterations, got {self.max_iterations}")
        require(0 < self.time_limit_s <= 3600, "time_limit_s",
                f"a limit in (0, 3600] s, got {self.time_limit_s}")


# --------------------------------------------------------------------------- policies


def _check_kinds(kinds: tuple[str, ...] | None, allow_none: bool = False) -> None:
    ok = (kinds is None and allow_none) or (kinds is not None and len(kinds) >= 1)
    require(ok, "kinds", "at least one site kind")
    bad = [k for k in kinds or () if k not in SITE_KINDS]
    require(not bad, "kinds",
            f"site kinds of {', '.join(SITE_KINDS)}, got {', '.join(map(repr, bad))}")


def _check_name(name: str) -> None:
    require(bool(_NAME.match(name)), "name",
            f"letters, digits, '.', '_' and '-' (a folder name), got {name!r}")


@dataclass(frozen=True)
class NoWatering:
    """``type = "none"``: nobody waters; the reference the other policies' avoided stress
    is counted against (m³ per avoided critical site-day)."""

    type: ClassVar[str] = "none"

    name: str = "none"

    def __post_init__(self) -> None:
        _check_name(self.name)


@dataclass(frozen=True)
class FixedIntervalPolicy:
    """``type = "fixed-interval"``: the common practice, every site of the watered kinds
    gets the same amount every N days, whatever the weather (unless it rained enough, with
    the rain-skip rule).

    The sites (in the order of the sites table) are split into ``interval_days`` groups
    (site number modulo N) and one group is watered per day, so the work is spread evenly
    (the demo city's watering log follows this rotation).

    Attributes
    ----------
    name
        The policy's name in the scenario (the sub-table of ``[policies]``).
    interval_days
        Days between two waterings of a site [d], 1..60.
    litres
        Water per visit to a tree site [L] (practice: 100 L per young tree a week).
    area_mm
        Water per visit to a lawn or shrub bed [mm over its area].
    kinds
        Site kinds watered (of ``young_tree``, ``street_tree``, ``park_tree``, ``lawn``,
        ``shrub_bed``).
    start, end
        First and last day of the rotation, inside the season. Absent: the season's.
    rain_skip_mm
        Skip a group's turn when the station measured at least this much rain [mm] over
        the ``rain_skip_days`` days before (crews do not water after a soaking rain); the
        group waits for its next turn. Absent: never skip.
    rain_skip_days
        Days of rain the rule looks back [d], 1..14.
    """

    type: ClassVar[str] = "fixed-interval"

    name: str = "fixed-interval"
    interval_days: int = 7
    litres: float = 100.0
    area_mm: float = 15.0
    kinds: tuple[str, ...] = ("young_tree",)
    start: dt.date | None = None
    end: dt.date | None = None
    rain_skip_mm: float | None = None
    rain_skip_days: int = 3

    def __post_init__(self) -> None:
        _check_name(self.name)
        require(1 <= self.interval_days <= 60, "interval_days",
                f"1..60 days, got {self.interval_days}")
        require(0 < self.litres <= 2000, "litres", f"(0, 2000] L, got {self.litres}")
        require(0 < self.area_mm <= 100, "area_mm", f"(0, 100] mm, got {self.area_mm}")
        _check_kinds(self.kinds)
        require(self.start is None or self.end is None or self.start <= self.end, "end",
                f"a day at or after start ({self.start}), got {self.end}")
        require(self.rain_skip_mm is None or 0 < self.rain_skip_mm <= 500, "rain_skip_mm",
                f"(0, 500] mm, got {self.rain_skip_mm}")
        require(1 <= self.rain_skip_days <= 14, "rain_skip_days",
                f"1..14 days, got {self.rain_skip_days}")


@dataclass(frozen=True)
class SensorThresholdPolicy:
    """``type = "sensor-threshold"``: water the sites with a soil sensor when it reads
    drier than a threshold, and with them their look-alikes.

    A sensed site is due when the mean tension over the chosen depths of its probe
    (readings that pass quality control; water-content probes converted to tension with
    the site's retention curve) exceeds ``tension_kpa``. Its look-alikes are the unsensed
    sites that share the attributes in ``lookalike`` and were planted within
    ``age_tolerance_years`` of it; they are watered on the same day. Sites that resemble
    no sensed site are never watered by this policy.

    Attributes
    ----------
    name
        The policy's name in the scenario (the sub-table of ``[policies]``).
    tension_kpa
        Threshold of soil water tension [kPa] (Berlin practice classes: > 80 kPa is
        critical), in (0, 239).
    depths_cm
        Depths of the probe channels averaged [cm]. Empty: all installed channels.
    lookalike
        Site attributes a look-alike must share with the sensed site (of ``kind``,
        ``species``, ``soil_texture``, ``sealing``, ``street``).
    age_tolerance_years
        Largest difference of planting years of a look-alike [a], 0..200 (200: age
        ignored).
    litres
        Water per visit to a tree site [L].
    area_mm
        Water per visit to a lawn or shrub bed [mm over its area].
    rest_days
        After a watering, a site and its look-alikes are not watered again for this many
        days [d] (sensors answer with a lag).
    """

    type: ClassVar[str] = "sensor-threshold"

    name: str = "sensor-threshold"
    tension_kpa: float = 80.0
    depths_cm: tuple[int, ...] = ()
    lookalike: tuple[str, ...] = ("kind", "species", "soil_texture")
    age_tolerance_years: int = 2
    litres: float = 100.0
    area_mm: float = 15.0
    rest_days: int = 3

    def __post_init__(self) -> None:
        _check_name(self.name)
        require(0 < self.tension_kpa < 239, "tension_kpa",
                f"a tension in (0, 239) kPa, got {self.tension_kpa}")
        require(all(0 < d <= 500 for d in self.depths_cm), "depths_cm",
                f"depths in (0, 500] cm, got {list(self.depths_cm)}")
        bad = [a for a in self.lookalike if a not in LOOKALIKE_ATTRIBUTES]
        require(not bad, "lookalike", f"attributes of {', '.join(LOOKALIKE_ATTRIBUTES)}, "
                f"got {', '.join(map(repr, bad))}")
        require(0 <= self.age_tolerance_years <= 200,
                "age_tolerance_years", f"0..200 years, got {self.age_tolerance_years}")
        require(0 < self.litres <= 2000, "litres", f"(0, 2000] L, got {self.litres}")
        require(0 < self.area_mm <= 100, "area_mm", f"(0, 100] mm, got {self.area_mm}")
        require(0 <= self.rest_days <= 60, "rest_days", f"0..60 days, got {self.rest_days}")


@dataclass(frozen=True)
class ForecastPolicy:
    """``type = "forecast"``: this project's daily run (soil water balance of every site,
    sensor assimilation, ensemble forecast, watering rules of the city's ``[decide]``
    table, routed plan).

    Attributes
    ----------
    name
        The policy's name in the scenario (the sub-table of ``[policies]``).
    due_probability
        Replaces ``decide.due_probability`` of the city [-], in (0, 1]. Absent: the city's.
    lead_days
        Replaces ``decide.lead_days`` of the city [d], 0..14. Absent: the city's.
    refill_fraction
        Replaces ``decide.refill_fraction`` of the city [-], in (0, 1]. Absent: the
        city's.
    kinds
        Replaces ``decide.watered_kinds`` of the city: the kinds this policy waters (e.g.
        ``["young_tree"]`` to compare like with like with a young-tree rotation). Absent:
        the city's.
    sensors
        Assimilate the sensor readings; false runs the model open loop.
    """

    type: ClassVar[str] = "forecast"

    name: str = "forecast"
    due_probability: float | None = None
    lead_days: int | None = None
    refill_fraction: float | None = None
    kinds: tuple[str, ...] | None = None
    sensors: bool = True

    def __post_init__(self) -> None:
        _check_name(self.name)
        p = self.due_probability
        require(p is None or 0 < p <= 1, "due_probability", f"a fraction in (0, 1], got {p}")
        require(self.lead_days is None or 0 <= self.lead_days <= 14, "lead_days",
                f"0..14 days, got {self.lead_days}")
        f = self.refill_fraction
        require(f is None or 0 < f <= 1, "refill_fraction", f"a fraction in (0, 1], got {f}")
        _check_kinds(self.kinds, allow_none=True)


Policy = NoWatering | FixedIntervalPolicy | SensorThresholdPolicy | ForecastPolicy

#: The policy types a scenario can compare: ``type`` -> class. A sub-table of
#: ``[policies]`` names a policy; its ``type`` key says which (absent: the name, so
#: ``[policies.forecast]`` is a forecast policy).
POLICIES: dict[str, type[Policy]] = {
    cls.type: cls for cls in (NoWatering, FixedIntervalPolicy, SensorThresholdPolicy,
                              ForecastPolicy)
}


# --------------------------------------------------------------------------- scenario


@dataclass(frozen=True)
class Scenario:
    """A scenario file (``scenarios/<name>.toml``); see the module docstring.

    Attributes
    ----------
    name
        Short name (letters, digits, ``.``, ``_``, ``-``), used for output folders.
    city
        City folder (with ``city.toml``), relative to the scenario file;
        :func:`load_scenario` makes it absolute.
    season
        The simulated days.
    description
        What the scenario is about, for reports.
    weather
        The base weather.
    perturb
        Changes to the base weather.
    groundwater
        Changes to the groundwater model.
    fleet
        Changes to the fleet.
    budget
        Water limits.
    forecast
        Forecast quality, horizon and ensemble size.
    routing
        Limits of the fast routing of the season's plans.
    members
        Closed-loop members, 1..1000: each simulates the whole season in its own truth
        world (soil parameters, local rain, sensor offsets and noise, forecast errors,
        missed visits); every policy sees the same draws in a member.
    seed
        Seed of the scenario, a whole number >= 0; member ``k`` draws from
        ``numpy.random.SeedSequence([seed, k])``, so a member's results do not depend on
        how many members run or where.
    execution_rate
        Fraction of the planned visits the crews carry out [-], in (0, 1]; the visits
        missed are drawn at random.
    policies
        The policies compared, in file order: the sub-tables of ``[policies]``, named
        ``fixed-interval``, ``sensor-threshold`` or ``forecast``, each with its
        parameters (an empty sub-table takes the defaults). At least one.
    """

    name: str
    city: Path
    season: Season
    description: str = ""
    weather: BaseWeather = field(default_factory=BaseWeather)
    perturb: Perturbation = field(default_factory=Perturbation)
    groundwater: GroundwaterChange = field(default_factory=GroundwaterChange)
    fleet: FleetChange = field(default_factory=FleetChange)
    budget: WaterBudget = field(default_factory=WaterBudget)
    forecast: ForecastQuality = field(default_factory=ForecastQuality)
    routing: SeasonRouting = field(default_factory=SeasonRouting)
    members: int = 1
    seed: int = 0
    execution_rate: float = 1.0
    policies: tuple[Policy, ...] = ()

    def __post_init__(self) -> None:
        require(bool(_NAME.match(self.name)), "name",
                f"letters, digits, '.', '_' and '-' (a folder name), got {self.name!r}")
        require(1 <= self.members <= 1000, "members", f"1..1000 members, got {self.members}")
        require(0 <= self.seed <= _MAX_SEED, "seed",
                f"a whole number in [0, 2**63 - 1], got {self.seed}")
        require(0 < self.execution_rate <= 1, "execution_rate",
                f"a fraction in (0, 1], got {self.execution_rate}")
        s = self.season
        periods_by_key: dict[str, tuple[DrySpell | HeatWave, ...]] = {
            "dry_spells": self.perturb.dry_spells, "heat_waves": self.perturb.heat_waves}
        for key, periods in periods_by_key.items():
            for i, p in enumerate(periods):
                require(s.start <= p.start <= s.end, f"perturb.{key}[{i}].start",
                        f"a day inside the season {s.start}..{s.end}, got {p.start}")
                require(p.end <= s.end, f"perturb.{key}[{i}].days",
                        f"a period ending inside the season {s.start}..{s.end}, got "
                        f"{period_text(p.start, p.days)}")
        names = [p.name for p in self.policies]
        require(len(set(names)) == len(names), "policies", "each policy at most once")

    def policy(self, name: str) -> Policy:
        """The compared policy called ``name`` (``KeyError`` if it is not compared)."""
        for p in self.policies:
            if p.name == name:
                return p
        raise KeyError(name)



def apply_fleet_change(fleet: tuple[VehicleType, ...], change: FleetChange
                       ) -> tuple[VehicleType, ...]:
    """The city's fleet with the scenario's count changes applied.

    Vehicle types whose count becomes 0 are dropped.

    Raises
    ------
    InputError
        A change names an unknown vehicle type, leaves a negative count or no truck at
        all (the field is the change's key, e.g. ``fleet.changes[0].count_delta``).
    """
    by_name = {v.name: v for v in fleet}
    counts = {v.name: v.count for v in fleet}
    for i, c in enumerate(change.changes):
        key = f"fleet.changes[{i}]"
        if c.vehicle not in by_name:
            raise InputError(f"unknown vehicle type{did_you_mean(c.vehicle, by_name)}; "
                             f"valid: {', '.join(by_name)}",
                             field=f"{key}.vehicle")
        new = c.count if c.count is not None else counts[c.vehicle] + c.count_delta
        if new < 0:
            raise InputError(f"leaves {new} trucks of type {c.vehicle!r} (it has "
                             f"{counts[c.vehicle]})", field=f"{key}.count_delta")
        counts[c.vehicle] = new
    if sum(counts.values()) < 1:
        raise InputError("leaves no truck at all", field="fleet.changes")
    return tuple(dataclasses.replace(v, count=counts[v.name]) for v in fleet
                 if counts[v.name] > 0)
