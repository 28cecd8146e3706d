"""``irrigation city init``: a city folder, ready for ``irrigation run``, from a city's data.

:func:`init_city` reads what a city has, in the formats cities have, through the readers
of this package, and writes a city folder (README "City folder"):

==========================  ===============================================================
input                       becomes
==========================  ===============================================================
tree cadastre               ``sites.csv`` (:func:`~irrigation.io.cadastre.read_tree_cadastre`
                            through a column mapping; species by Latin/German name, then
                            genus; missing attributes filled with documented defaults)
refill points file          ``refill_points.csv`` (:func:`~irrigation.io.refill.
                            read_refill_point_file`: broken and locked left out, counted)
OSM extract                 ``streets.graphml`` (:func:`~irrigation.io.osm.read_osm`) and
                            refill points from its tags (:func:`~irrigation.io.osm.
                            read_osm_refill_points`)
observed weather            ``weather/observed.csv`` (project CSV, wind at 2 m), from a DWD
                            CDC, KNMI, Open-Meteo, NetCDF or project file
forecast                    ``weather/forecast.<ext>`` (checked, copied) or ``"observed"``
groundwater model           ``groundwater/`` (checked, copied); without one the depth to
                            water assumed (a constant or an ESRI ASCII grid)
city species table          ``species.csv`` (merged over the packaged table when loaded)
sensor probes, readings     ``sensors.csv``, ``sensor-data/``
==========================  ===============================================================

Refill points are kept within the trees' extent plus ``margin_m`` and, with streets,
within :data:`irrigation.placement.MAX_STREET_GAP_M` of the street graph; the depot is
where the city says (``depot``) or, stated as an assumption, at the centre of the trees.
Everything is written into a temporary folder, loaded back and checked
(:func:`irrigation.io.city.load_city`, :func:`irrigation.placement.placement_problems`)
and only then renamed to the output folder: on any error nothing is written. The folder's
``README.md`` says what was done (the command, counts, defaults used, unmatched species,
points kept and dropped by reason, assumptions) and ``SOURCE.md`` lists the inputs with
their SHA-256; both are deterministic, so a re-run gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import tomli_w

from ..config import ASSUMED_DEPTH_TO_WATER_M, CityConfig
from ..errors import InputError
from ..params import from_dict
from ..placement import MAX_STREET_GAP_M, placement_problems
from ..routing import VehicleType
from .cadastre import read_tree_cadastre
from .city import load_city, load_groundwater
from .files import atomic_write
from .graphml import write_streets
from .grids import read_ascii_grid
from .observations import known_channels
from .osm import HYDRANT_L_PER_MIN, read_osm, read_osm_refill_points
from .refill import read_refill_point_file
from .sensors import read_sensor_data
from .species import merge_species_tables, read_species_table
from .weather import read_weather_file, read_weather_period, write_weather_csv
from .workspace import sha256

#: Defaults of the fleet init writes (edit ``[[fleet]]`` of city.toml to the real one):
#: two 5,000 L tank trucks pumping 150 L/min, the tanker of the demo city.
DEFAULT_TRUCKS = 2
DEFAULT_TANK_L = 5000.0
DEFAULT_TRUCK_PUMP_L_PER_MIN = 150.0

#: ``[routing]`` init writes: the search stops after ``max_iterations`` (so a re-run of a
#: day gives the same plan), with a time limit well beyond it as a safety net [s]. Every
#: refill point is a reload depot, which makes iterations slow: in the Berlin example (64
#: visits, 92 pumps) 500 iterations take ~10-15 s on a laptop core and found the cost that
#: 30 s of search found.
ROUTING_MAX_ITERATIONS = 500
ROUTING_TIME_LIMIT_S = 120.0

#: Credit line added when OpenStreetMap data is used (ODbL 1.0 requires it on maps).
OSM_ATTRIBUTION = "Map data © OpenStreetMap contributors, ODbL 1.0"

#: Two refill points closer than this come from two sources for one pump [m]; the first
#: source's is kept.
DUPLICATE_POINT_M = 5.0


@dataclass(frozen=True)
class InitSpec:
    """What ``irrigation city init`` was asked to do (the command's options).

    Paths are kept as given (the README repeats the command). Units: rates [L min-1],
    lengths [m], depths [m]; ``depot`` and ``district`` boxes in degrees WGS84.
    """

    out: str
    trees: str
    mapping: str = "generic"
    refill_points: str | None = None
    osm: str | None = None
    weather: str | None = None
    weather_start: str | None = None
    weather_end: str | None = None
    forecast: str | None = None
    groundwater: str | None = None
    depth_to_water: str | None = None
    crs: str | None = None
    reference_year: int | None = None
    planted_by: int | None = None
    district: tuple[str, ...] = ()
    pump_l_per_min: float | None = None
    hydrant_l_per_min: float = HYDRANT_L_PER_MIN
    depot: tuple[float, float] | None = None
    depot_l_per_min: float = 0.0
    margin_m: float = 1000.0
    refill_spacing_m: float = 0.0
    species: str | None = None
    sensors: str | None = None
    sensor_data: str | None = None
    name: str | None = None
    season_start: str | None = None
    run_date: str | None = None
    station: str | None = None
    latitude_deg: float | None = None
    elevation_m: float | None = None
    trucks: int = DEFAULT_TRUCKS
    tank_l: float = DEFAULT_TANK_L
    truck_pump_l_per_min: float = DEFAULT_TRUCK_PUMP_L_PER_MIN
    attribution: str | None = None
    notes: tuple[str, ...] = ()

    def command(self, multiline: bool = False) -> str:
        """The ``irrigation city init`` command line of this spec, options in a fixed
        order (defaults left out); ``multiline``: one option per line, ending in ``\\``."""
        groups = [["irrigation", "city", "init", self.out]]
        default = InitSpec(out="", trees="")
        for f in self.__dataclass_fields__:
            if f == "out":
                continue
            value = getattr(self, f)
            if value == getattr(default, f) and f != "trees":
                continue
            flag = "--" + f.replace("_", "-")
            if isinstance(value, tuple) and f in ("district", "notes"):
                for v in value:
                    groups.append([flag.rstrip("s") if f == "notes" else flag, v])
            elif isinstance(value, tuple):
                groups.append([flag, ",".join(f"{v:g}" for v in value)])
            else:
                groups.append([flag, f"{value:g}" if isinstance(value, float) else str(value)])
        lines = [" ".join(shlex.quote(p) for p in g) for g in groups]
        return (" \\\n  " if multiline else " ").join(lines)


@dataclass
class InitReport:
    """What :func:`init_city` did, in sections of short lines (printed and in README.md)."""

    out: Path
    sections: dict[str, list[str]] = field(default_factory=dict)
    sources: list[tuple[str, str, str]] = field(default_factory=list)  # (role, path, what)

    def add(self, section: str, *lines: str) -> None:
        self.sections.setdefault(section, []).extend(lines)

    def lines(self) -> list[str]:
        out = []
        for title, lines in self.sections.items():
            out.append(f"{title}:")
            out += [f"  {ln}" for ln in lines]
        return out


# =========================================================================== the steps


def init_city(spec: InitSpec) -> InitReport:
    """Build the city folder ``spec.out`` (module docstring); returns what was done.

    Raises
    ------
    InputError
        The output folder exists and is not empty, an input is unreadable or not as its
        reader expects, no refill point can refill a truck, or the parts of the city do
        not lie together; nothing is written then.
    """
    out = Path(spec.out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError("exists and is not an empty folder; choose a new one", file=out)
    _check_numbers(spec)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes 0700; give the usual mode
    try:
        report = _build(spec, tmp, out)
        if out.exists():
            out.rmdir()
        tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return report


def _check_numbers(spec: InitSpec) -> None:
    checks = [
        (spec.pump_l_per_min is None or spec.pump_l_per_min > 0, "--pump-l-per-min", "> 0"),
        (spec.hydrant_l_per_min > 0, "--hydrant-l-per-min", "> 0"),
        (spec.depot_l_per_min >= 0, "--depot-l-per-min", ">= 0"),
        (spec.margin_m >= 0, "--margin-m", ">= 0 m"),
        (1 <= spec.trucks <= 1000, "--trucks", "1..1000"),
        (spec.reference_year is None or 1800 < spec.reference_year < 2200,
         "--reference-year", "a year such as 2019"),
        (spec.planted_by is None or 1700 < spec.planted_by < 2200, "--planted-by",
         "a year such as 2019"),
        (spec.refill_spacing_m >= 0, "--refill-spacing-m", ">= 0 m"),
    ]
    for ok, name, what in checks:
        if not ok:
            raise InputError(f"expected {what}", field=name)


def _build(spec: InitSpec, folder: Path, out: Path) -> InitReport:
    report = InitReport(out)
    species = _species(spec, folder, report)
    year = spec.reference_year or _year_of(spec)
    crs = spec.crs or _utm_crs(spec, year, species)
    sites = _trees(spec, folder, report, crs, year, species)
    streets = _streets(spec, folder, report, crs)
    _refill_points(spec, folder, report, crs, sites, streets)
    weather = _weather(spec, folder, report, sites, crs)
    groundwater = _groundwater(spec, folder, report)
    sensors = _sensors(spec, folder, report)
    doc = _city_toml(spec, report, crs, year, streets is not None, species is not None,
                     weather, groundwater, sensors)
    _write_toml(folder, doc)
    _check(folder, report)
    _write_notes(spec, folder, report, doc)
    return report


def _source(report: InitReport, role: str, path: str | None, what: str) -> None:
    if path is not None:
        report.sources.append((role, path, what))


def _year_of(spec: InitSpec) -> int:
    """The reference year without ``--reference-year``: that of the season start, the
    run date, the end of the weather period, else this year."""
    for day, option in ((spec.season_start, "--season-start"), (spec.run_date, "--run-date"),
                        (spec.weather_end, "--weather-end")):
        if day:
            return _date(day, option).year
    return dt.date.today().year


def _date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"expected a date YYYY-MM-DD, got {text!r}", field=option) from None


# --------------------------------------------------------------------------- species, trees


def _species(spec: InitSpec, folder: Path, report: InitReport) -> pd.DataFrame | None:
    """The city's species table (copied to species.csv), or None."""
    if spec.species is None:
        return None
    table = read_species_table(spec.species)
    shutil.copyfile(spec.species, folder / "species.csv")
    merged = merge_species_tables(read_species_table(), table)
    report.add("species", f"{spec.species}: {len(table)} rows -> species.csv; "
               f"{len(merged.attrs['added'])} added to the packaged table, "
               f"{len(merged.attrs['overridden'])} overriding it")
    _source(report, "species table", spec.species, "species.csv")
    return table


def _selection(spec: InitSpec) -> tuple[str | None, tuple[float, float, float, float] | None]:
    """``--district`` values: a name and/or a box W,S,E,N [degrees]."""
    name, box = None, None
    for value in spec.district:
        parts = value.split(",")
        try:
            numbers = [float(p) for p in parts]
        except ValueError:
            numbers = []
        if len(parts) == 4 and numbers:
            w, s, e, n = numbers
            if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
                raise InputError(f"expected a box west,south,east,north in degrees, got "
                                 f"{value!r}", field="--district")
            box = (w, s, e, n)
        elif name is None:
            name = value
        else:
            raise InputError("expected one district name (and a box), got two names",
                             field="--district")
    return name, box


def _read_trees(spec: InitSpec, crs: str, year: int, species: pd.DataFrame | None):
    district, box = _selection(spec)
    merged = None if species is None else merge_species_tables(read_species_table(), species)
    return read_tree_cadastre(spec.trees, spec.mapping, crs=crs, reference_year=year,
                              species=merged, district=district, bbox=box)


def _utm_crs(spec: InitSpec, year: int, species: pd.DataFrame | None) -> str:
    """The UTM zone of the trees' centre: ETRS89 (EPSG:258zz) in Europe, else WGS84."""
    from pyproj import Transformer

    sites, _ = _read_trees(spec, "EPSG:3857", year, species)
    x, y = float(np.median(sites["x"])), float(np.median(sites["y"]))
    lon, lat = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True).transform(x, y)
    zone = int(np.floor((lon + 180) / 6)) % 60 + 1
    if 28 <= zone <= 38 and 34 <= lat <= 72:
        return f"EPSG:{25800 + zone}"
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def _trees(spec: InitSpec, folder: Path, report: InitReport, crs: str, year: int,
           species: pd.DataFrame | None) -> pd.DataFrame:
    sites, cad = _read_trees(spec, crs, year, species)
    lines = cad.lines(max_unmatched=15)
    if spec.planted_by is not None:
        later = sites["planting_year"].to_numpy() > spec.planted_by
        if later.all():
            raise InputError(f"no tree planted by {spec.planted_by}", field="--planted-by")
        sites = sites[~later].reset_index(drop=True)
        lines.append(f"{int(later.sum())} trees planted after {spec.planted_by} left out "
                     "(--planted-by)")
    sites.to_csv(folder / "sites.csv", index=False, float_format="%.10g", lineterminator="\n")
    how = "" if spec.crs else " (the UTM zone of the trees; --crs to choose)"
    kinds = ", ".join(f"{k} {n}" for k, n in sites["kind"].value_counts().items())
    report.add("trees", *lines, f"-> sites.csv: {len(sites)} sites ({kinds}) in {crs}{how}, "
               f"ages counted from {year}")
    _source(report, "tree cadastre", spec.trees, f"sites.csv (mapping '{cad.mapping}')")
    return sites


# --------------------------------------------------------------------------- streets, refill


def _streets(spec: InitSpec, folder: Path, report: InitReport, crs: str):
    if spec.osm is None:
        report.add("streets", "none: distances are straight lines x network.detour_factor "
                   "(give --osm with an OSM extract of the district for the street graph)")
        return None
    net = read_osm(spec.osm, crs=crs)
    write_streets(net, folder / "streets.graphml")
    pairs = set(zip(net.edge_from.tolist(), net.edge_to.tolist(), strict=True))
    oneway = sum((v, u) not in pairs for u, v in pairs)
    report.add("streets", f"{spec.osm}: {net.n_nodes} intersections, {net.n_edges} directed "
               f"edges ({oneway} one-way), {net.length_m.sum() / 1000:.1f} km -> "
               "streets.graphml (drivable public streets; access=private/no/customers, "
               "car-park aisles and driveways left out)")
    _source(report, "OSM extract", spec.osm, "streets.graphml, refill points from its tags")
    return net


def _refill_points(spec: InitSpec, folder: Path, report: InitReport, crs: str,
                   sites: pd.DataFrame, streets) -> None:
    parts = []
    if spec.refill_points is not None:
        pts, rep = read_refill_point_file(spec.refill_points, crs=crs,
                                          refill_l_per_min=spec.pump_l_per_min)
        parts.append(pts.assign(source="file"))
        report.add("refill points", *rep.lines())
        _source(report, "refill points", spec.refill_points, "refill_points.csv")
    if spec.osm is not None:
        pts, rep = read_osm_refill_points(spec.osm, crs=crs, pump_l_per_min=spec.pump_l_per_min,
                                          hydrant_l_per_min=spec.hydrant_l_per_min)
        parts.append(pts)
        report.add("refill points", *(f"OSM tags, {ln}" for ln in rep.lines()))
    columns = ["id", "kind", "x", "y", "refill_l_per_min", "name", "status", "source"]
    parts = [p for p in parts if len(p)]
    points = (pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns))
    points = _keep_near(points, sites, streets, spec.margin_m, report)
    points = _thin(points, spec.refill_spacing_m, report)
    depot = _depot(spec, crs, sites, report)
    table = (pd.concat([depot, points], ignore_index=True) if len(points) else depot)[columns]
    if table["id"].duplicated().any():
        raise InputError(f"refill point id {table['id'][table['id'].duplicated()].iloc[0]!r} "
                         "appears twice (the depot is 'depot')", field="--refill-points")
    if not (table["refill_l_per_min"] > 0).any():
        raise InputError("no refill point can refill a truck: give --refill-points (with "
                         "--pump-l-per-min), an --osm extract with hydrants, or a depot "
                         "with --depot-l-per-min > 0", field="--refill-points")
    table.to_csv(folder / "refill_points.csv", index=False, float_format="%.10g",
                 lineterminator="\n")
    rates = ", ".join(f"{n} at {r:g} L/min" for r, n in
                      points["refill_l_per_min"].value_counts().sort_index().items())
    report.add("refill points", f"-> refill_points.csv: the depot and {len(points)} points "
               f"({rates or 'none'})")


def _keep_near(points: pd.DataFrame, sites: pd.DataFrame, streets, margin_m: float,
               report: InitReport) -> pd.DataFrame:
    """Points within the trees' extent + margin and near the streets; duplicates of two
    sources dropped; each count reported."""
    from scipy.spatial import cKDTree

    if not len(points):
        return points
    x, y = points["x"].to_numpy(float), points["y"].to_numpy(float)
    box = ((x >= sites["x"].min() - margin_m) & (x <= sites["x"].max() + margin_m)
           & (y >= sites["y"].min() - margin_m) & (y <= sites["y"].max() + margin_m))
    dropped = {f"outside the trees' extent + {margin_m:g} m": int((~box).sum())}
    keep = box
    if streets is not None:
        gap, _ = cKDTree(np.column_stack([streets.x, streets.y])).query(np.column_stack([x, y]))
        off = keep & (gap > MAX_STREET_GAP_M)
        dropped[f"more than {MAX_STREET_GAP_M:g} m from the street graph"] = int(off.sum())
        keep &= ~off
    kept = points[keep].reset_index(drop=True)
    xy = kept[["x", "y"]].to_numpy(float)
    dup = np.zeros(len(kept), bool)
    for i, j in sorted(cKDTree(xy).query_pairs(DUPLICATE_POINT_M)) if len(kept) > 1 else []:
        if kept["source"].iloc[i] != kept["source"].iloc[j]:
            dup[max(i, j)] = True
    dropped[f"within {DUPLICATE_POINT_M:g} m of a point of another source"] = int(dup.sum())
    report.add("refill points", "left out: " + (", ".join(
        f"{n} {why}" for why, n in dropped.items() if n) or "none"))
    return kept[~dup].reset_index(drop=True)


def _thin(points: pd.DataFrame, spacing_m: float, report: InitReport) -> pd.DataFrame:
    """At most one point within ``spacing_m`` of another: points taken greedily, fastest
    refill first (then in file order), each kept unless a kept point is that close.
    Every refill point is a reload depot of the routing problem, and the search slows
    with their number; a truck needs one nearby, not every one."""
    from scipy.spatial import cKDTree

    if spacing_m <= 0 or len(points) < 2:
        return points
    order = np.lexsort((np.arange(len(points)), -points["refill_l_per_min"].to_numpy(float)))
    xy = points[["x", "y"]].to_numpy(float)
    tree = cKDTree(xy)
    taken = np.zeros(len(points), bool)
    blocked = np.zeros(len(points), bool)
    for i in order:
        if blocked[i]:
            continue
        taken[i] = True
        blocked[tree.query_ball_point(xy[i], spacing_m)] = True
    report.add("refill points", f"thinned to one point per {spacing_m:g} m (--refill-spacing-m,"
               f" for routing speed): {int((~taken).sum())} of {len(points)} left out")
    return points[taken].reset_index(drop=True)


def _depot(spec: InitSpec, crs: str, sites: pd.DataFrame, report: InitReport) -> pd.DataFrame:
    from pyproj import Transformer

    if spec.depot is not None:
        lon, lat = spec.depot
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise InputError(f"expected LON,LAT in degrees, got {lon:g},{lat:g}",
                             field="--depot")
        x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
        where = f"at {lon:g}, {lat:g} (--depot)"
    else:
        x, y = float(sites["x"].mean()), float(sites["y"].mean())
        where = ("ASSUMED at the centre of the trees (give --depot LON,LAT with the real "
                 "yard)")
    rate = spec.depot_l_per_min
    report.add("refill points", f"depot {where}, refill {rate:g} L/min"
               + (" (a yard: trucks start and end there, no refill)" if rate == 0 else ""))
    return pd.DataFrame([{"id": "depot", "kind": "depot", "x": round(float(x), 2),
                          "y": round(float(y), 2), "refill_l_per_min": float(rate),
                          "name": "depot", "status": "", "source": "city init"}])


# --------------------------------------------------------------------------- weather


def _weather(spec: InitSpec, folder: Path, report: InitReport, sites: pd.DataFrame,
             crs: str) -> dict:
    from pyproj import Transformer

    table: dict = {}
    if spec.weather is not None:
        ds = read_weather_period(spec.weather, start=spec.weather_start, end=spec.weather_end)
        (folder / "weather").mkdir()
        path = folder / "weather" / "observed.csv"
        write_weather_csv(ds, path, wind_height_m=2.0)
        try:
            read_weather_file(path, wind_height_m=2.0)
        except InputError as exc:
            raise InputError(f"cannot be converted to the project weather CSV ({exc.message})",
                             file=spec.weather) from None
        days = pd.DatetimeIndex(ds["time"].values)
        station = spec.station or str(ds.attrs.get("station", "")) or Path(spec.weather).name
        _, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(
            float(sites["x"].mean()), float(sites["y"].mean()))
        lat_deg = spec.latitude_deg if spec.latitude_deg is not None else round(lat, 2)
        table = {"observed": "weather/observed.csv", "station": station,
                 "latitude_deg": float(lat_deg), "wind_height_m": 2.0}
        if spec.elevation_m is not None:
            table["elevation_m"] = float(spec.elevation_m)
        report.add("weather", f"{spec.weather}: {len(days)} days {days[0].date()}.."
                   f"{days[-1].date()}, station {station} -> weather/observed.csv (project "
                   f"CSV, wind at 2 m; variables {', '.join(map(str, ds.data_vars))})",
                   f"latitude {lat_deg:g} deg"
                   + ("" if spec.latitude_deg is not None else " (of the trees' centre)")
                   + ", elevation " + (f"{spec.elevation_m:g} m" if spec.elevation_m is not None
                                       else "the [weather] default"))
        if ds.attrs.get("notes"):
            report.add("weather", f"notes: {ds.attrs['notes']}")
        _source(report, "observed weather", spec.weather, "weather/observed.csv")
    else:
        report.add("weather", "none: add [weather] observed (project weather CSV) before "
                   "`irrigation run`")
    if spec.forecast == "observed":
        table["forecast"] = "observed"
        report.add("weather", "forecast: the observed weather replayed (hindcast)")
    elif spec.forecast is not None:
        read_weather_file(spec.forecast)
        name = "forecast" + "".join(Path(spec.forecast).suffixes[-1:]).lower()
        (folder / "weather").mkdir(exist_ok=True)
        shutil.copyfile(spec.forecast, folder / "weather" / name)
        table["forecast"] = f"weather/{name}"
        report.add("weather", f"forecast: {spec.forecast} -> weather/{name}")
        _source(report, "forecast", spec.forecast, f"weather/{name}")
    return table


# --------------------------------------------------------------------------- groundwater


def _groundwater(spec: InitSpec, folder: Path, report: InitReport) -> dict:
    if spec.groundwater is not None:
        if spec.depth_to_water is not None:
            raise InputError("give --groundwater or --depth-to-water, not both",
                             field="--depth-to-water")
        from ..groundwater.load import load_simulation

        model = load_simulation(spec.groundwater)
        shutil.copytree(spec.groundwater, folder / "groundwater",
                        ignore=shutil.ignore_patterns(".*", "*.hds", "*.cbc", "*.lst"))
        report.add("groundwater", f"{spec.groundwater}: MODFLOW 6 model '{model.name}', "
                   f"{model.nlay} x {model.nrow} x {model.ncol} cells -> groundwater/")
        _source(report, "groundwater model", spec.groundwater, "groundwater/")
        return {"sim_dir": "groundwater", "model": model.name}
    text = spec.depth_to_water
    if text is not None and text.lower().endswith(".asc"):
        grid = read_ascii_grid(text)
        shutil.copyfile(text, folder / "depth_to_water.asc")
        report.add("groundwater", f"none: the depth to water of {text} (grid "
                   f"{grid.values.shape[0]} x {grid.values.shape[1]}, cell {grid.cellsize:g} m)"
                   f" -> depth_to_water.asc; {ASSUMED_DEPTH_TO_WATER_M:g} m outside it")
        _source(report, "depth to water grid", text, "depth_to_water.asc")
        return {"depth_to_water_grid": "depth_to_water.asc"}
    if text is not None:
        try:
            depth = float(text)
        except ValueError:
            raise InputError(f"expected a depth in m or an .asc grid, got {text!r}",
                             field="--depth-to-water") from None
        report.add("groundwater", f"none: the water table assumed {depth:g} m below every "
                   "site (--depth-to-water), stated in every report")
        return {"depth_to_water_m": depth}
    report.add("groundwater", f"none: the water table assumed {ASSUMED_DEPTH_TO_WATER_M:g} m "
               "below every site (the default: no capillary rise reaches the roots), stated "
               "in every report; give --groundwater DIR or --depth-to-water M|FILE.asc")
    return {}


# --------------------------------------------------------------------------- sensors


def _sensors(spec: InitSpec, folder: Path, report: InitReport) -> dict:
    if spec.sensors is None:
        if spec.sensor_data is not None:
            raise InputError("--sensor-data needs --sensors (the probes: id, site, depth_cm, "
                             "kind)", field="--sensor-data")
        report.add("sensors", "none")
        return {}
    shutil.copyfile(spec.sensors, folder / "sensors.csv")
    keys = {"sensors": "sensors.csv"}
    _source(report, "sensor probes", spec.sensors, "sensors.csv")
    if spec.sensor_data is not None:
        src = Path(spec.sensor_data)
        if src.is_dir():
            shutil.copytree(src, folder / "sensor-data")
            keys["sensor_data"] = "sensor-data"
        elif src.is_file():
            (folder / "sensor-data").mkdir()
            shutil.copyfile(src, folder / "sensor-data" / src.name)
            keys["sensor_data"] = f"sensor-data/{src.name}"
        else:
            raise InputError("sensor data not found", file=src)
        _source(report, "sensor readings", spec.sensor_data, keys["sensor_data"])
    report.add("sensors", f"{spec.sensors} -> sensors.csv"
               + (f"; readings {spec.sensor_data} -> {keys['sensor_data']}"
                  if "sensor_data" in keys else ""))
    return keys


# --------------------------------------------------------------------------- city.toml


def _city_toml(spec: InitSpec, report: InitReport, crs: str, year: int, streets: bool,
               species: bool, weather: dict, groundwater: dict, sensors: dict) -> dict:
    name = spec.name or Path(spec.out).name
    attribution = spec.attribution
    if spec.osm is not None and attribution is None:
        attribution = OSM_ATTRIBUTION
    doc: dict = {"name": name, "crs": crs, "sites": "sites.csv",
                 "refill_points": "refill_points.csv"}
    if streets:
        doc["streets"] = "streets.graphml"
    if species:
        doc["species"] = "species.csv"
    doc.update(sensors)
    if attribution:
        doc["attribution"] = attribution
    if weather:
        doc["weather"] = weather
    if groundwater:
        doc["groundwater"] = groundwater
    start = _date(spec.season_start, "--season-start") if spec.season_start else \
        dt.date(year, 4, 1)
    doc["run"] = {"season_start": start}
    if spec.run_date:
        doc["run"]["date"] = _date(spec.run_date, "--run-date")
    doc["routing"] = {"max_iterations": ROUTING_MAX_ITERATIONS,
                      "time_limit_s": ROUTING_TIME_LIMIT_S}
    truck = VehicleType(name="truck", count=spec.trucks, tank_l=spec.tank_l,
                        pump_l_per_min=spec.truck_pump_l_per_min)
    doc["fleet"] = [{"name": truck.name, "count": truck.count, "tank_l": truck.tank_l,
                     "pump_l_per_min": truck.pump_l_per_min}]
    from_dict(CityConfig, doc, file="city.toml")  # the same checks as loading
    report.add("city.toml", f"season start {start}"
               + ("" if spec.season_start else " (1 April of the reference year)")
               + f"; fleet {truck.count} x {truck.tank_l:g} L at {truck.pump_l_per_min:g} "
               "L/min (edit [[fleet]] to the real one); routing max_iterations "
               f"{ROUTING_MAX_ITERATIONS} (reproducible plans; time limit "
               f"{ROUTING_TIME_LIMIT_S:g} s as a safety net)")
    return doc


def _check(folder: Path, report: InitReport) -> None:
    """The folder loads as a city and its parts lie together; else an InputError."""
    from ..groundwater.model import GwfModel

    city = load_city(folder)
    gw = load_groundwater(city)
    problems = placement_problems(city, gw if isinstance(gw, GwfModel) else None)
    if problems:
        raise InputError("the city built does not lie together: " + "; ".join(problems))
    if city.config.sensor_data is not None:
        readings, problems = read_sensor_data(city.config.sensor_data,
                                              known=known_channels(city))
        n = int(np.isfinite(readings["value"]).sum())
        errors = sum(p.severity == "error" for p in problems)
        report.add("sensors", f"readings: {n} values of {readings.sizes['sensor']} probes; "
                   f"{errors} rows dropped by the reader")
    report.add("check", f"loads as a city: {city.sites.sizes['site']} sites, "
               f"{int((city.refill_points.kind == 'hydrant').sum())} refill points and a "
               "depot lie together" + (" with the streets" if city.streets else ""))


def _write_toml(folder: Path, doc: dict) -> None:
    header = (f"# {doc['name']}: built by `irrigation city init`; see README.md for what "
              "it did\n# and SOURCE.md for the inputs. Keys and defaults: README of the "
              "package, \"City folder\".\n\n")
    toml_doc = {k: v for k, v in doc.items() if k != "fleet"}
    text = header + tomli_w.dumps(toml_doc) + "".join(
        "\n[[fleet]]\n" + tomli_w.dumps(v) for v in doc["fleet"])
    atomic_write(folder / "city.toml", lambda t: Path(t).write_text(text, encoding="utf-8"))


def _write_notes(spec: InitSpec, folder: Path, report: InitReport, doc: dict) -> None:
    readme = [f"# {doc['name']}", "",
              "A city folder built by `irrigation city init`, from the repository root:", "",
              "```bash", spec.command(multiline=True), "```", "",
              "Run it with `irrigation run --city <this folder> --date YYYY-MM-DD`.", "",
              "## What init did", ""]
    for title, lines in report.sections.items():
        readme += [f"### {title}", "", *(f"- {ln}" for ln in lines), ""]
    if spec.notes:
        readme += ["## Notes", "", *(f"- {n}" for n in spec.notes), ""]
    if doc.get("attribution"):
        readme += ["## Data credits", "", doc["attribution"], ""]
    atomic_write(folder / "README.md",
                 lambda t: Path(t).write_text("\n".join(readme), encoding="utf-8"))
    source = ["# Sources", "", "The inputs `irrigation city init` read (paths as given, from "
              "the repository root) and the files made from them.", "",
              "| role | input | SHA-256 | became |", "|---|---|---|---|"]
    for role, path, what in report.sources:
        p = Path(path)
        digest = sha256(p) if p.exists() else ""
        source.append(f"| {role} | `{path}` | `{digest}` | {what} |")
    if doc.get("attribution"):
        source += ["", f"Credit: {doc['attribution'].rstrip('.')}."]
    atomic_write(folder / "SOURCE.md",
                 lambda t: Path(t).write_text("\n".join(source) + "\n", encoding="utf-8"))
