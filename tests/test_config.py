"""City configuration: valid files load, every kind of mistake names file and key."""

from __future__ import annotations

import copy
import datetime as dt
import math
import tomllib
from pathlib import Path

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from irrigation.config import CityConfig, load_city_config
from irrigation.errors import InputError
from irrigation.params import from_dict, to_toml
from irrigation.routing import VehicleType


def _edit(city: Path, old: str, new: str) -> None:
    path = city / "city.toml"
    text = path.read_text()
    assert old in text, f"test setup: {old!r} not in city.toml"
    path.write_text(text.replace(old, new, 1))


def test_demo_config_loads(demo_city_dir):
    cfg = load_city_config(demo_city_dir)
    assert cfg.crs == "EPSG:25832"
    assert cfg.run.season_start == dt.date(2018, 4, 1)
    assert sum(v.count for v in cfg.fleet) in (3, 4)
    assert all(2000 <= v.tank_l <= 5000 for v in cfg.fleet)
    assert all(v.shift_start == dt.time(7) and v.shift_end == dt.time(15) for v in cfg.fleet)
    assert cfg.sites.is_absolute() and cfg.sites.exists()


# (edit to city.toml, key named in the message, words the message must contain)
INVALID = [
    ("tank_l = 5000.0", "tank_ll = 5000.0", "fleet[0].tank_ll", "did you mean 'tank_l'"),
    ('crs = "EPSG:25832"\n', "", "crs", "required"),
    ("tank_l = 5000.0", "tank_l = -5.0", "fleet[0].tank_l", "[50, 50000] L"),
    ("tank_l = 5000.0", 'tank_l = "big"', "fleet[0].tank_l", "a number"),
    ("count = 2", "count = 2.5", "fleet[0].count", "whole number"),
    ("shift_end = 15:00:00", 'shift_end = "06:00"', "fleet[0].shift_end", "after shift_start"),
    ("shift_start = 07:00:00", 'shift_start = "7 o\'clock"', "fleet[0].shift_start", "HH:MM"),
    ('backend = "auto"', 'backend = "fortran"', "groundwater.backend", "'embedded'"),
    ("season_start = 2018-04-01", 'season_start = "April"', "run.season_start", "YYYY-MM-DD"),
    ("horizon_days = 14", "horizon_days = 0", "run.horizon_days", "[1, 60]"),
    ("latitude_deg = 52.1", "latitude_deg = 152.1", "weather.latitude_deg", "[-90, 90]"),
    ('crs = "EPSG:25832"', 'crs = "UTM32"', "crs", "EPSG"),
    ('sites = "sites.csv"', 'sites = "nowhere.csv"', "sites", "does not exist"),
    ("[network]", "[networks]", "networks", "did you mean 'network'"),
    ("detour_factor = 1.3", "detour_factor = 0.5", "network.detour_factor", "[1, 3]"),
    ('name = "tanker-5000"', "name = 5000", "fleet[0].name", "a string"),
    ("lead_days = 1", "lead_days = -1", "decide.lead_days", ">= 0"),
    ("due_probability = 0.5", "due_probability = 1.5", "decide.due_probability", "(0, 1]"),
    ("min_visit_l = 75.0", "min_visit_l = 500.0", "decide.max_visit_l_tree", "min_visit_l"),
    ('    "young_tree",\n', "    3,\n", "decide.watered_kinds[0]", "a string"),
    ("time_limit_s = 600.0", "time_limit_s = 0.0", "routing.time_limit_s", "(0, 86400]"),
    # issue 23: finiteness and plausible ranges
    ("tank_l = 5000.0", "tank_l = inf", "fleet[0].tank_l", "a finite number"),
    ("tank_l = 5000.0", "tank_l = nan", "fleet[0].tank_l", "a finite number"),
    ("tank_l = 5000.0", "tank_l = 1e308", "fleet[0].tank_l", "[50, 50000] L"),
    ("pump_l_per_min = 150.0", "pump_l_per_min = 1e-300", "fleet[0].pump_l_per_min",
     "[1, 5000] L/min"),
    ("count = 2", "count = 1000000000", "fleet[0].count", "[1, 200]"),
    ("speed_kmh = 20.0", "speed_kmh = inf", "fleet[0].speed_kmh", "a finite number"),
    ("speed_kmh = 20.0", "speed_kmh = 0.0", "fleet[0].speed_kmh", "[1, 120] km/h"),
    ("setup_min = 3.0", "setup_min = 1e12", "fleet[0].setup_min", "[0, 120] min"),
    ("break_min = 30.0", "break_min = -1.0", "fleet[0].break_min", "[0, 240] min"),
    ("seed = 2018", "seed = -1", "run.seed", "[0, 4294967295]"),
    ("seed = 2018", f"seed = {2**63 - 1}", "run.seed", "[0, 4294967295]"),
    ('crs = "EPSG:25832"', 'crs = "EPSG:99999"', "crs", "projected CRS in metres"),
    ('crs = "EPSG:25832"', 'crs = "EPSG:4326"', "crs", "projected CRS in metres"),
    ('crs = "EPSG:25832"', 'crs = "EPSG:2263"', "crs", "projected CRS in metres"),
    ("background_recharge_mm_d = 0.6", "background_recharge_mm_d = 1e6",
     "groundwater.background_recharge_mm_d", "[0, 20] mm/d"),
    ("max_iterations = 1000", "max_iterations = 100000000000", "routing.max_iterations",
     "[0, 10000000]"),
    ("detour_factor = 1.3", "detour_factor = nan", "network.detour_factor", "a finite"),
    ("latitude_deg = 52.1", "latitude_deg = -inf", "weather.latitude_deg", "a finite"),
    ('station = "De Bilt (KNMI 260)"', "station = [1, 2]", "weather.station", "a string"),
]


@pytest.mark.parametrize(("old", "new", "key", "words"), INVALID)
def test_invalid_city_toml_names_file_and_key(city_copy, old, new, key, words):
    _edit(city_copy, old, new)
    with pytest.raises(InputError) as err:
        load_city_config(city_copy)
    msg = str(err.value)
    assert "city.toml" in msg
    assert f"'{key}'" in msg
    assert words in msg
    assert "\n" not in msg


def test_not_toml(city_copy):
    (city_copy / "city.toml").write_text("name = [unclosed\n")
    with pytest.raises(InputError, match="not valid TOML"):
        load_city_config(city_copy)


def test_missing_folder(tmp_path):
    with pytest.raises(InputError, match="not a city folder"):
        load_city_config(tmp_path / "nope")


def test_duplicate_vehicle_names(city_copy):
    _edit(city_copy, 'name = "pickup-2000"', 'name = "tanker-5000"')
    with pytest.raises(InputError, match="unique"):
        load_city_config(city_copy)


def test_round_trip_through_toml(demo_city_dir):
    """A config written back to TOML reads back to an equal config."""
    raw = tomllib.loads((demo_city_dir / "city.toml").read_text())
    cfg = from_dict(CityConfig, raw)
    again = from_dict(CityConfig, tomllib.loads(to_toml(cfg)))
    assert again == cfg


def test_vehicle_shift_minutes():
    v = VehicleType(
        name="t",
        count=1,
        tank_l=1000,
        pump_l_per_min=100,
        shift_start=dt.time(7),
        shift_end=dt.time(15, 30),
        break_min=45,
    )
    assert v.shift_minutes == 8.5 * 60 - 45


def test_bad_bytes_and_huge_numbers_are_input_errors(tmp_path):
    """Found by the scenario fuzz: invalid UTF-8 and an integer beyond the float range."""
    import pytest

    from irrigation.errors import InputError
    from irrigation.params import from_toml
    from irrigation.routing import RoutingConfig

    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"time_limit_s = 3\n# \xff\xfe\n")
    with pytest.raises(InputError, match="not valid TOML"):
        from_toml(RoutingConfig, bad)
    huge = tmp_path / "huge.toml"
    huge.write_text(f"time_limit_s = {10**400}\n")
    with pytest.raises(InputError, match="time_limit_s"):
        from_toml(RoutingConfig, huge)
    huge.write_text(f"time_limit_s = 3\nmax_iterations = {2**63}\n")
    with pytest.raises(InputError, match=r"max_iterations.*64 bits"):
        from_toml(RoutingConfig, huge)


# --------------------------------------------------------------------------- fuzzing (issue 23)

_DEMO_TOML = tomllib.loads((Path(__file__).resolve().parents[1] / "models" / "demo-city"
                            / "city.toml").read_text())


def _value_paths(table, prefix=()):
    items = table.items() if isinstance(table, dict) else enumerate(table)
    for k, v in items:
        if isinstance(v, dict | list):
            yield from _value_paths(v, (*prefix, k))
        else:
            yield (*prefix, k)


_PATHS = [p for p in _value_paths(_DEMO_TOML)
          if p[-1] not in ("sites", "refill_points", "sensors", "streets", "observed",
                           "sim_dir")]  # not the files: their existence is checked apart
_BAD = st.one_of(
    st.sampled_from([math.inf, -math.inf, math.nan, 1e308, -1e308, 1e-300, 0, -1, 0.0,
                     2**63 - 1, -(2**63), "", "x", True, [], {}]),
    st.floats(), st.integers(-(2**63), 2**63 - 1), st.text(max_size=6))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(where=st.sampled_from(_PATHS), value=_BAD)
def test_any_bad_value_in_city_toml_is_refused_on_one_line(city_copy, floats_in, where, value):
    """Every value of city.toml replaced by inf, nan, huge, negative, empty, the wrong
    type: the city loads with finite numbers, or an InputError names city.toml and the
    key on one line."""
    data = copy.deepcopy(_DEMO_TOML)
    parent = data
    for k in where[:-1]:
        parent = parent[k]
    parent[where[-1]] = value
    (city_copy / "city.toml").write_text(tomli_w.dumps(data))
    try:
        cfg = load_city_config(city_copy)
    except InputError as exc:
        msg = str(exc)
        assert "city.toml" in msg and "\n" not in msg
        return
    assert all(math.isfinite(v) for v in floats_in(cfg))


def test_city_toml_that_is_not_utf8_is_refused(city_copy):
    (city_copy / "city.toml").write_bytes(b'name = "caf\xe9"\n')
    with pytest.raises(InputError, match="not valid TOML"):
        load_city_config(city_copy)

