"""Configuration: TOML files mapped one-to-one onto frozen, self-validating dataclasses.

One generic loader, :func:`from_toml`, turns a TOML table into a dataclass: it rejects
unknown keys (suggesting the closest known one), reports missing required keys and
values of the wrong type, and runs each dataclass's own checks. Every problem becomes
an :class:`~irrigation.errors.InputError` that names the file, the key path (e.g.
``fleet[1].tank_l``) and what was expected.

All defaults live in the dataclass definitions below and are documented there; code
elsewhere never repeats them.

The city configuration (``models/<city>/city.toml``) is :class:`CityConfig`; its file
format is documented in the README ("City folder").
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin

import tomli_w

from .errors import InputError

T = TypeVar("T")


class _FieldError(ValueError):
    """Raised by a dataclass check; the loader adds the file and the key path."""

    def __init__(self, field: str, expected: str):
        self.field = field
        self.expected = expected
        super().__init__(f"{field}: {expected}")


def require(ok: bool, field: str, expected: str) -> None:
    """Raise a field error unless ``ok``; used in ``__post_init__`` checks."""
    if not ok:
        raise _FieldError(field, expected)


# --------------------------------------------------------------------------- generic loader


def from_toml(cls: type[T], path: str | Path) -> T:
    """Read a TOML file into the dataclass ``cls``, validating every key.

    Raises
    ------
    InputError
        The file is missing, is not valid TOML, or a key is unknown, missing, of the
        wrong type or out of range.
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            table = tomllib.load(fh)
    except FileNotFoundError:
        raise InputError("file not found", file=path) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid TOML ({exc})", file=path) from None
    return from_dict(cls, table, file=path)


def from_dict(cls: type[T], table: dict[str, Any], *, file: str | Path | None = None) -> T:
    """Build the dataclass ``cls`` from a plain dict (e.g. a parsed TOML table)."""
    try:
        return _build(cls, table, "")
    except _FieldError as exc:
        raise InputError(f"expected {exc.expected}", file=file, field=exc.field) from None


def to_dict(obj: Any) -> dict[str, Any]:
    """Turn a config dataclass back into a TOML-ready dict (``None`` values are dropped)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        value = _plain(getattr(obj, f.name))
        if value is not None:
            out[f.name] = value
    return out


def to_toml(obj: Any) -> str:
    """Serialise a config dataclass as TOML text; ``from_dict`` reads it back unchanged."""
    return tomli_w.dumps(to_dict(obj))


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return to_dict(value)
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return value.as_posix()
    return value


def _build(cls: type[T], table: Any, prefix: str) -> T:
    if not isinstance(table, dict):
        raise _FieldError(prefix or cls.__name__, "a table")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    for key in table:
        if key not in fields:
            close = difflib.get_close_matches(key, fields, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            known = ", ".join(sorted(fields))
            raise _FieldError(_join(prefix, key), f"a known key{hint}; known keys: {known}")
    kwargs = {}
    for name, f in fields.items():
        key = _join(prefix, name)
        if name in table:
            kwargs[name] = _convert(hints[name], table[name], key)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise _FieldError(key, "this key (it is required)")
    try:
        return cls(**kwargs)
    except _FieldError as exc:
        raise _FieldError(_join(prefix, exc.field), exc.expected) from None


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _convert(tp: Any, value: Any, key: str) -> Any:
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in get_args(tp) if a is not type(None)]
        if len(options) != 1:
            raise TypeError(f"unsupported config type {tp}")
        return _convert(options[0], value, key)
    if origin is Literal:
        choices = get_args(tp)
        if value not in choices:
            raise _FieldError(key, f"one of {', '.join(map(repr, choices))}, got {value!r}")
        return value
    if origin is tuple:
        (item,) = (a for a in get_args(tp) if a is not Ellipsis)
        if not isinstance(value, list):
            raise _FieldError(key, f"a list, got {type(value).__name__}")
        return tuple(_convert(item, v, f"{key}[{i}]") for i, v in enumerate(value))
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, key)
    if tp is bool:
        if not isinstance(value, bool):
            raise _FieldError(key, f"true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _FieldError(key, f"a whole number, got {value!r}")
        if not -(2**63) <= value < 2**63:  # TOML 1.0 integers are 64-bit; tomllib reads any
            raise _FieldError(key, f"a whole number within 64 bits, got {value}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _FieldError(key, f"a number, got {value!r}")
        try:
            return float(value)
        except OverflowError:
            raise _FieldError(key, f"a number within the float range, got {value}") from None
    if tp is str:
        if not isinstance(value, str):
            raise _FieldError(key, f"a string, got {value!r}")
        return value
    if tp is Path:
        if not isinstance(value, str) or not value:
            raise _FieldError(key, f"a file path (string), got {value!r}")
        return Path(value)
    if tp is dt.date:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            raise _FieldError(key, f"a date YYYY-MM-DD, got {value!r}") from None
    if tp is dt.time:
        if isinstance(value, dt.time):
            return value
        try:
            return dt.time.fromisoformat(str(value))
        except ValueError:
            raise _FieldError(key, f"a time of day HH:MM, got {value!r}") from None
    raise TypeError(f"unsupported config type {tp}")


# --------------------------------------------------------------------------- city schema


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
        require(self.count >= 1, "count", f"a whole number >= 1, got {self.count}")
        require(self.tank_l > 0, "tank_l", f"a tank size > 0 L, got {self.tank_l}")
        require(self.pump_l_per_min > 0, "pump_l_per_min", f"> 0, got {self.pump_l_per_min}")
        require(self.setup_min >= 0, "setup_min", f">= 0, got {self.setup_min}")
        require(self.speed_kmh > 0, "speed_kmh", f"> 0, got {self.speed_kmh}")
        require(self.break_min >= 0, "break_min", f">= 0, got {self.break_min}")
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
class WeatherConfig:
    """Weather inputs of a city.

    Attributes
    ----------
    observed
        Observed daily weather (project CSV format, see README) relative to the city folder.
    station
        Name of the weather station.
    latitude_deg
        Latitude of the station [degrees north]; needed for extraterrestrial radiation.
    elevation_m
        Elevation of the station [m above sea level]; needed for air pressure.
    wind_height_m
        Height of the wind measurement [m]; converted to 2 m with FAO-56 eq. 47.
    forecast
        Where the daily run gets its forecast when ``--forecast`` is not given: a file
        relative to the city folder (``.csv`` project format, ``.nc``, Open-Meteo
        ``.json``, MOSMIX ``.kml``/``.kmz``), or ``"observed"`` to replay the observed
        weather as a perfect forecast (hindcast mode, for replaying past seasons such as
        the demo's 2018); empty: ``--forecast`` is required.
    """

    observed: Path
    station: str = ""
    latitude_deg: float = 51.5
    elevation_m: float = 100.0
    wind_height_m: float = 10.0
    forecast: str = ""

    def __post_init__(self) -> None:
        require(-90 <= self.latitude_deg <= 90, "latitude_deg", "a latitude in [-90, 90]")
        require(-500 <= self.elevation_m <= 9000, "elevation_m", "an elevation in m")
        require(0.5 <= self.wind_height_m <= 100, "wind_height_m", "a height in [0.5, 100] m")


@dataclass(frozen=True)
class GroundwaterConfig:
    """The city's MODFLOW 6 groundwater model.

    Attributes
    ----------
    sim_dir
        MODFLOW 6 simulation folder (with ``mfsim.nam``), relative to the city folder.
    model
        Name of the GWF model inside the simulation.
    backend
        ``"auto"`` uses a real ``mf6`` when one is configured or on PATH, else the
        embedded solver.
    mf6_exe
        Path of an ``mf6`` executable; empty means: look at ``$MF6_EXE``, then PATH.
    background_recharge_mm_d
        Recharge applied to model cells without planting sites [mm d-1].
    """

    sim_dir: Path
    model: str = "gwf"
    backend: Literal["auto", "embedded", "mf6"] = "auto"
    mf6_exe: str = ""
    background_recharge_mm_d: float = 0.5

    def __post_init__(self) -> None:
        require(
            self.background_recharge_mm_d >= 0,
            "background_recharge_mm_d",
            f">= 0 mm/d, got {self.background_recharge_mm_d}",
        )


@dataclass(frozen=True)
class RunConfig:
    """Settings of the daily run.

    Attributes
    ----------
    season_start
        Day the soil water balance is spun up from (soil at field capacity).
    horizon_days
        Forecast horizon [d].
    members
        Ensemble members when the forecast is deterministic and an ensemble is generated.
    seed
        Seed of every random draw of a run (ensembles, routing), so a re-run is identical.
    date
        Planning day when ``irrigation run`` gets no ``--date``; absent: today.
    workspace
        Workspace folder (``state/``, ``plans/``, ``logs/``) when ``irrigation run`` gets
        no ``--out``, relative to the current directory; absent:
        ``irrigation-runs/<city folder name>``.
    """

    season_start: dt.date
    horizon_days: int = 14
    members: int = 20
    seed: int = 42
    date: dt.date | None = None
    workspace: str | None = None

    def __post_init__(self) -> None:
        require(1 <= self.horizon_days <= 60, "horizon_days", "a horizon in [1, 60] days")
        require(1 <= self.members <= 1000, "members", "a member count in [1, 1000]")


@dataclass(frozen=True)
class DecideRules:
    """Rules of the watering decision; defaults documented here, nowhere else.

    Attributes
    ----------
    watered_kinds
        Site kinds the department waters (older trees are usually left alone).
    lead_days
        A site is due today when its due day is within this many days (0 = only when
        the threshold is crossed today).
    due_probability
        Fraction of ensemble members that must cross the threshold by a day for the site
        to be due on that day (0.5 = the median member).
    young_tree_tension_kpa
        Stricter thresholds for young trees by age (years since planting, index 0, 1, 2,
        ...; the last value holds for older ages): water before the root-zone tension
        passes this value [kPa]. The Berlin practice classes are <= 33 kPa good,
        33-80 kPa moderate, > 80 kPa critical; newly planted trees with small root balls
        are watered earlier. The threshold used is the stricter of this and RAW.
    refill_fraction
        A visit refills this fraction of the depletion on the day of watering [-].
    min_visit_l, max_visit_l_tree
        Litres per tree visit (practice: 75-200 L per young tree) [L].
    max_visit_mm_lawn, max_visit_mm_bed
        Most water per visit on lawns and shrub beds [mm over their area].
    min_visit_mm_area
        Lawns and beds are not visited for less than this [mm].
    pull_forward_days
        Sites due within this many days after the lead time may be pulled forward...
    pull_forward_radius_m
        ...when they lie within this distance of a site served today [m].
    travel_min_per_stop
        Mean driving time between neighbouring stops, to estimate fleet capacity [min].
    trip_overhead_min
        Driving to and from a hydrant per tank load, to estimate fleet capacity [min].
    """

    watered_kinds: tuple[str, ...] = ("young_tree", "lawn", "shrub_bed")
    lead_days: int = 1
    due_probability: float = 0.5
    young_tree_tension_kpa: tuple[float, ...] = (50.0, 60.0, 80.0)
    refill_fraction: float = 0.8
    min_visit_l: float = 75.0
    max_visit_l_tree: float = 200.0
    max_visit_mm_lawn: float = 20.0
    max_visit_mm_bed: float = 25.0
    min_visit_mm_area: float = 5.0
    pull_forward_days: int = 3
    pull_forward_radius_m: float = 150.0
    travel_min_per_stop: float = 4.0
    trip_overhead_min: float = 15.0

    def __post_init__(self) -> None:
        require(self.lead_days >= 0, "lead_days", "a number of days >= 0")
        require(0 < self.due_probability <= 1, "due_probability", "a fraction in (0, 1]")
        require(len(self.young_tree_tension_kpa) >= 1, "young_tree_tension_kpa", "a list")
        require(
            all(t > 0 for t in self.young_tree_tension_kpa),
            "young_tree_tension_kpa",
            "tensions > 0 kPa",
        )
        require(0 < self.refill_fraction <= 1, "refill_fraction", "a fraction in (0, 1]")
        require(
            0 < self.min_visit_l <= self.max_visit_l_tree,
            "max_visit_l_tree",
            "0 < min_visit_l <= max_visit_l_tree",
        )
        require(
            self.max_visit_mm_lawn > 0 and self.max_visit_mm_bed > 0,
            "max_visit_mm_lawn",
            "maxima > 0 mm",
        )
        require(
            self.pull_forward_days >= 0 and self.pull_forward_radius_m >= 0,
            "pull_forward_days",
            "values >= 0",
        )
        require(
            self.travel_min_per_stop >= 0 and self.trip_overhead_min >= 0,
            "travel_min_per_stop",
            "times >= 0 min",
        )


@dataclass(frozen=True)
class QCRules:
    """Quality control of soil sensor readings (the ``[qc]`` table of ``city.toml``).

    Attributes
    ----------
    tension_range_kpa
        Physical range of a granular-matrix (Watermark-type) tension reading [kPa]; the
        sensor reads 0-239 kPa (Irrometer Watermark 200SS manual).
    vwc_range
        Physical range of volumetric water content [m3 m-3].
    stuck_hours
        A reading repeated unchanged for this long is stuck [h]...
    stuck_min_kpa
        ...unless the soil is wetter than this: near saturation a tension sensor
        legitimately reads a constant [kPa].
    spike_window
        Readings in the centred running median a spike is measured against [-].
    spike_kpa, spike_vwc
        A reading further than this from the running median is a spike [kPa, m3 m-3]...
    spike_rel
        ...and (for tension) further than this fraction of the median [-].
    drift_theta
        A channel whose daily water content, relative to the model and to the other
        channels at its depth, moves this far from its own past offset has drifted
        [m3 m-3]...
    drift_days
        ...for at least this many days in a row [d].
    drift_baseline_days
        Length of the past window the offset is measured over, ending a week before
        the day tested [d].
    watering_min_l
        A watering of at least this many litres must wet the shallowest channel...
    watering_response_kpa
        ...by at least this many kPa within the day of watering and the next...
    watering_dry_kpa
        ...when it read more than this the day before (clearly drier than field
        capacity); otherwise the readings of the two days are implausible [kPa].
    wetting_kpa
        A drop of tension by more than this within 6 h on a day without rain
        (< ``dry_day_mm``) or watering is implausible [kPa].
    dry_day_mm
        Days with less precipitation than this count as dry [mm].
    """

    tension_range_kpa: tuple[float, ...] = (0.0, 239.0)
    vwc_range: tuple[float, ...] = (0.0, 0.6)
    stuck_hours: float = 24.0
    stuck_min_kpa: float = 10.0
    spike_window: int = 5
    spike_kpa: float = 20.0
    spike_rel: float = 0.25
    spike_vwc: float = 0.05
    drift_theta: float = 0.05
    drift_days: int = 3
    drift_baseline_days: int = 21
    watering_min_l: float = 50.0
    watering_response_kpa: float = 5.0
    watering_dry_kpa: float = 30.0
    wetting_kpa: float = 20.0
    dry_day_mm: float = 0.5

    def __post_init__(self) -> None:
        for name in ("tension_range_kpa", "vwc_range"):
            pair = getattr(self, name)
            require(len(pair) == 2 and pair[0] < pair[-1], name, "[low, high] with low < high")
        require(self.stuck_hours > 0, "stuck_hours", "> 0 h")
        require(self.spike_window >= 3 and self.spike_window % 2 == 1, "spike_window",
                "an odd number >= 3")
        require(min(self.spike_kpa, self.spike_vwc, self.drift_theta) > 0, "spike_kpa",
                "thresholds > 0")
        require(self.drift_days >= 1 and self.drift_baseline_days >= 3, "drift_days",
                "drift_days >= 1 and drift_baseline_days >= 3")


@dataclass(frozen=True)
class AssimilationRules:
    """Assimilation of sensor readings into the site states (``[assimilation]`` table).

    The update is optimal interpolation (Gandin 1963; Kalnay 2003, sec. 5.4) of the
    root-zone depletion Dr [mm]: error variances are stated here, not estimated. The
    defaults were checked on the demo season: the open-loop innovations (observed minus
    model Dr at the probes) had a standard deviation of 6.6 mm against a median stated
    observation error of 19 mm with σ_channel = 0.03 (too pessimistic, the filter ignored
    the sensors); with 0.01 the stated P + R matches the innovations (Desroziers et al.
    2005 consistency check) and the held-out skill is best.

    Attributes
    ----------
    window_hours
        Readings of the last this many hours before the analysis time (midnight that
        starts day D) are averaged into one observation per channel [h].
    sigma_theta_channel
        Error of one channel's water content: sensor, calibration and the van Genuchten
        conversion of the model soil [m3 m-3].
    sigma_tension_rel
        Relative error of a tension reading, converted to water content through the
        slope of the retention curve [-].
    sigma_theta_profile
        Error of representing a whole root zone by one pit profile [m3 m-3].
    sigma_b0_frac
        Background error of Dr at the season start, as a fraction of TAW [-].
    sigma_q_frac
        Model error added per day, as a fraction of that day's crop ET [-].
    sigma_b_max_frac
        Cap of the background error, as a fraction of TAW [-].
    length_scale_m
        e-folding distance of the background error correlation, exp(-d / L) [m].
    similarity_soil, similarity_species, similarity_age
        Correlation factor applied when two sites differ in soil texture, species, or
        planting year by more than ``age_tolerance_years`` [-]; sites of different kind
        are uncorrelated.
    age_tolerance_years
        Planting years closer than this count as the same age [a].
    """

    window_hours: int = 6
    sigma_theta_channel: float = 0.01
    sigma_tension_rel: float = 0.1
    sigma_theta_profile: float = 0.01
    sigma_b0_frac: float = 0.2
    sigma_q_frac: float = 0.5
    sigma_b_max_frac: float = 0.5
    length_scale_m: float = 2000.0
    similarity_soil: float = 0.5
    similarity_species: float = 0.7
    similarity_age: float = 0.8
    age_tolerance_years: int = 2

    def __post_init__(self) -> None:
        require(1 <= self.window_hours <= 24, "window_hours", "1..24 h")
        require(min(self.sigma_theta_channel, self.sigma_theta_profile) > 0,
                "sigma_theta_channel", "errors > 0 m3 m-3")
        require(self.length_scale_m > 0, "length_scale_m", "> 0 m")
        for name in ("similarity_soil", "similarity_species", "similarity_age"):
            require(0 <= getattr(self, name) <= 1, name, "a factor in [0, 1]")


@dataclass(frozen=True)
class RoutingConfig:
    """Settings of the truck routing (the ``[routing]`` table of ``city.toml``).

    Attributes
    ----------
    time_limit_s
        Wall-clock limit of the PyVRP search per day [s].
    refill_connect_min
        Fixed time per refill to park and connect to a hydrant [min]; the filling time
        itself is tank litres / the hydrant's refill rate.
    max_reloads
        Largest number of refills per truck and shift; absent for no limit.
    max_iterations
        Stop the search after this many iterations (if the time limit is not reached
        first). A plan is reproducible byte for byte only when the iteration limit stops
        the search; with the time limit alone it depends on the machine's speed.
    """

    time_limit_s: float = 30.0
    refill_connect_min: float = 5.0
    max_reloads: int | None = None
    max_iterations: int | None = None

    def __post_init__(self) -> None:
        require(self.time_limit_s > 0, "time_limit_s", f"> 0 s, got {self.time_limit_s}")
        require(self.refill_connect_min >= 0, "refill_connect_min", ">= 0 min")
        require(self.max_reloads is None or self.max_reloads >= 0, "max_reloads", ">= 0")
        require(self.max_iterations is None or self.max_iterations >= 1, "max_iterations",
                ">= 1")


@dataclass(frozen=True)
class CityConfig:
    """The contents of ``models/<city>/city.toml``.

    Paths are relative to the city folder; :func:`load_city_config` resolves them.

    Attributes
    ----------
    name
        Human-readable name of the city or district.
    crs
        Projected metric CRS of all coordinates (EPSG code string).
    sites
        Planting sites, CSV or GeoJSON (columns in the README).
    refill_points
        Depot(s) and hydrants, CSV.
    sensors
        Soil sensors, CSV; optional.
    streets
        Street graph, GraphML; optional (without it distances use ``network.detour_factor``).
    sensor_data
        Sensor readings: one file (long CSV, ``.csv.gz`` or SensorThings JSON) or a folder
        of such files, all read and merged; optional, and may be missing on a given day
        (the run then goes on with the model alone).
    watering_log
        The watering actually done (CSV ``date,site,litres``); optional, may be missing.
    """

    name: str
    crs: str
    sites: Path
    refill_points: Path
    weather: WeatherConfig
    groundwater: GroundwaterConfig
    run: RunConfig
    fleet: tuple[VehicleType, ...]
    sensors: Path | None = None
    streets: Path | None = None
    sensor_data: Path | None = None
    watering_log: Path | None = None
    network: NetworkConfig = field(default_factory=NetworkConfig)
    decide: DecideRules = field(default_factory=DecideRules)
    routing: RoutingConfig = field(default_factory=RoutingConfig)
    qc: QCRules = field(default_factory=QCRules)
    assimilation: AssimilationRules = field(default_factory=AssimilationRules)

    def __post_init__(self) -> None:
        require(self.crs.upper().startswith("EPSG:"), "crs", f"'EPSG:<code>', got {self.crs!r}")
        require(len(self.fleet) >= 1, "fleet", "at least one [[fleet]] vehicle type")
        names = [v.name for v in self.fleet]
        require(len(set(names)) == len(names), "fleet", "vehicle type names that are unique")


def load_city_config(city_dir: str | Path) -> CityConfig:
    """Read and validate ``<city_dir>/city.toml``; paths in it become absolute."""
    city_dir = Path(city_dir)
    path = city_dir / "city.toml"
    if not city_dir.is_dir():
        raise InputError("is not a city folder (expected a folder with a city.toml)", file=city_dir)
    cfg = from_toml(CityConfig, path)

    def resolve(p: Path | None, key: str, must_exist: bool = True) -> Path | None:
        if p is None:
            return None
        full = (city_dir / p).resolve()
        if must_exist and not full.exists():
            raise InputError(f"names {p}, which does not exist", file=path, field=key)
        return full

    return dataclasses.replace(
        cfg,
        sites=resolve(cfg.sites, "sites"),
        refill_points=resolve(cfg.refill_points, "refill_points"),
        sensors=resolve(cfg.sensors, "sensors"),
        streets=resolve(cfg.streets, "streets"),
        sensor_data=resolve(cfg.sensor_data, "sensor_data", must_exist=False),
        watering_log=resolve(cfg.watering_log, "watering_log", must_exist=False),
        weather=dataclasses.replace(
            cfg.weather, observed=resolve(cfg.weather.observed, "weather.observed")
        ),
        groundwater=dataclasses.replace(
            cfg.groundwater, sim_dir=resolve(cfg.groundwater.sim_dir, "groundwater.sim_dir")
        ),
    )
