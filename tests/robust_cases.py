"""Bad inputs of the daily run (issue 23): each a mutation of a copy of the demo city.

Every case must end ``irrigation run`` with exit code 2, one line on stderr naming the
file or key, no traceback and nothing written (the workspace not created). The cases are
plain file edits and command lines (no import of the package), so the same suite can be
measured against an older checkout:

    python tests/robust_cases.py --pythonpath /path/to/checkout --out table.md

runs each case as ``python -m irrigation.cli`` in a fresh process with a time limit and
counts clean errors, tracebacks, hangs and silent results (exit 0 on bad input).
``tests/test_robust_cases.py`` runs them in this process against the package.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "models" / "demo-city"
DAY = "2018-07-02"


@dataclass(frozen=True)
class Case:
    """A bad input: ``edit(city, tmp)`` mutates a city copy and returns extra arguments
    of ``irrigation run`` (e.g. ``--forecast FILE``); ``out`` a workspace path other than
    ``tmp/ws`` (``None``: the default)."""

    name: str
    edit: Callable[[Path, Path], list[str]]
    out: Callable[[Path], Path] | None = None


def fast_city(dst: Path) -> Path:
    """A copy of the demo city planned fast: 12 days of spin-up, 8 members, 300 route
    iterations (a case that is not refused runs the whole day quickly)."""
    shutil.copytree(DEMO, dst)
    toml = (dst / "city.toml").read_text()
    toml = (toml.replace("season_start = 2018-04-01", "season_start = 2018-06-20")
            .replace("members = 20", "members = 8")
            .replace("max_iterations = 1000", "max_iterations = 300"))
    (dst / "city.toml").write_text(toml)
    return dst


def _toml(old: str, new: str) -> Callable[[Path, Path], list[str]]:
    def edit(city: Path, tmp: Path) -> list[str]:
        path = city / "city.toml"
        text = path.read_text()
        assert old in text, old
        path.write_text(text.replace(old, new, 1))
        return []
    return edit


def _cell(file: str, line: int, column: str, value: str) -> Callable[[Path, Path], list[str]]:
    def edit(city: Path, tmp: Path) -> list[str]:
        path = city / file
        lines = path.read_text().splitlines()
        header = lines[0].split(",")
        cells = lines[line - 1].split(",")
        cells[header.index(column)] = value
        lines[line - 1] = ",".join(cells)
        path.write_text("\n".join(lines) + "\n")
        return []
    return edit


def _write(file: str, content: bytes) -> Callable[[Path, Path], list[str]]:
    def edit(city: Path, tmp: Path) -> list[str]:
        (city / file).write_bytes(content)
        return []
    return edit


def _folder(file: str) -> Callable[[Path, Path], list[str]]:
    def edit(city: Path, tmp: Path) -> list[str]:
        (city / file).unlink()
        (city / file).mkdir()
        return []
    return edit


def _streets(pattern: str, repl: str) -> Callable[[Path, Path], list[str]]:
    def edit(city: Path, tmp: Path) -> list[str]:
        path = city / "streets.graphml"
        path.write_text(re.sub(pattern, repl, path.read_text(), count=1, flags=re.S))
        return []
    return edit


def open_meteo_forecast(days: int = 14) -> dict:
    """A valid Open-Meteo daily forecast response from DAY (the demo's weather days)."""
    import datetime as dt

    d0 = dt.date.fromisoformat(DAY)
    times = [str(d0 + dt.timedelta(days=k)) for k in range(days)]
    daily = {"time": times, "temperature_2m_max": [24.0] * days,
             "temperature_2m_min": [13.0] * days, "relative_humidity_2m_mean": [65] * days,
             "wind_speed_10m_mean": [10.0] * days, "shortwave_radiation_sum": [22.0] * days,
             "precipitation_sum": [0.0] * days}
    units = {"time": "iso8601", "temperature_2m_max": "°C", "temperature_2m_min": "°C",
             "relative_humidity_2m_mean": "%", "wind_speed_10m_mean": "km/h",
             "shortwave_radiation_sum": "MJ/m²", "precipitation_sum": "mm"}
    return {"latitude": 51.5, "longitude": 7.0, "elevation": 50.0, "timezone": "GMT",
            "daily_units": units, "daily": daily}


def _forecast(change: Callable[[dict], object]) -> Callable[[Path, Path], list[str]]:
    def edit(city: Path, tmp: Path) -> list[str]:
        doc = open_meteo_forecast()
        doc = change(doc) or doc
        path = tmp / "forecast.json"
        path.write_bytes(doc if isinstance(doc, bytes) else json.dumps(doc).encode())
        return ["--forecast", str(path)]
    return edit


def _set_daily(key: str, value) -> Callable[[dict], None]:
    def change(doc: dict) -> None:
        doc["daily"][key] = value
    return change


def _members(doc: dict) -> None:
    daily, n = doc["daily"], len(doc["daily"]["time"])
    daily["temperature_2m_max_member01"] = [25.0] * n  # one variable with members,
    daily["precipitation_sum_member07"] = [0.0] * (n - 3)  # another with a short member


def _gw(file: str, old: str, new: str) -> Callable[[Path, Path], list[str]]:
    def edit(city: Path, tmp: Path) -> list[str]:
        path = city / "groundwater" / file
        text = path.read_text()
        assert old in text, old
        path.write_text(text.replace(old, new, 1))
        return []
    return edit


def _args(*extra: str) -> Callable[[Path, Path], list[str]]:
    def edit(city: Path, tmp: Path) -> list[str]:
        return [a.replace("{tmp}", str(tmp)) for a in extra]
    return edit


def _existing_file(tmp: Path) -> Path:
    path = tmp / "ws-file"
    path.write_text("not a folder\n")
    return path


def _under_a_file(tmp: Path) -> Path:
    path = tmp / "a-file"
    path.write_text("x\n")
    return path / "ws"


CASES = [
    # [[fleet]] and the rest of city.toml
    Case("fleet tank_l = inf", _toml("tank_l = 5000.0", "tank_l = inf")),
    Case("fleet tank_l = nan", _toml("tank_l = 5000.0", "tank_l = nan")),
    Case("fleet tank_l = 1e308", _toml("tank_l = 5000.0", "tank_l = 1e308")),
    Case("fleet tank_l = -5", _toml("tank_l = 5000.0", "tank_l = -5.0")),
    Case("fleet pump_l_per_min = 1e-300",
         _toml("pump_l_per_min = 150.0", "pump_l_per_min = 1e-300")),
    Case("fleet count = 1e9", _toml("count = 2", "count = 1000000000")),
    Case("fleet speed_kmh = inf", _toml("speed_kmh = 20.0", "speed_kmh = inf")),
    Case("fleet setup_min = 1e12", _toml("setup_min = 3.0", "setup_min = 1e12")),
    Case("fleet break_min = nan", _toml("break_min = 30.0", "break_min = nan")),
    Case("seed = -1", _toml("seed = 2018", "seed = -1")),
    Case("seed = 2**63-1", _toml("seed = 2018", f"seed = {2**63 - 1}")),
    Case("crs = EPSG:99999", _toml('crs = "EPSG:25832"', 'crs = "EPSG:99999"')),
    Case("crs = EPSG:4326 (metre coordinates)", _toml('crs = "EPSG:25832"',
                                                      'crs = "EPSG:4326"')),
    Case("background_recharge_mm_d = 1e6", _toml("background_recharge_mm_d = 0.6",
                                                 "background_recharge_mm_d = 1e6")),
    Case("latitude_deg = nan", _toml("latitude_deg = 52.1", "latitude_deg = nan")),
    Case("routing time_limit_s = inf", _toml("time_limit_s = 600.0", "time_limit_s = inf")),
    Case("routing max_iterations = 1e11", _toml("max_iterations = 300",
                                                "max_iterations = 100000000000")),
    Case("city.toml not UTF-8", _write("city.toml", b'name = "\xff\xfe"\n')),
    Case("city.toml is a folder", _folder("city.toml")),
    # sites
    Case("sites file empty", _write("sites.csv", b"")),
    Case("sites zero rows", _write(
        "sites.csv", b"id,x,y,kind,species,planting_year,area_m2,soil_texture,sealing,"
        b"root_depth_m,priority\n")),
    Case("sites x = inf", _cell("sites.csv", 3, "x", "inf")),
    Case("sites area 1e12 m2", _cell("sites.csv", 5, "area_m2", "1e12")),
    Case("sites planting year 2150", _cell("sites.csv", 6, "planting_year", "2150")),
    Case("sites path is a folder", _folder("sites.csv")),
    Case("sites not UTF-8", _write("sites.csv", b"id,x\n\xff\xfe,1\n")),
    Case("sites unclosed quote", _write("sites.csv", b'id,x,y\n"S1,1,2\n')),
    Case("refill x = -inf", _cell("refill_points.csv", 3, "x", "-inf")),
    # streets
    Case("streets node x NaN", _streets(r'(<node id="n0">.*?<data key="d0">)[^<]*',
                                        r"\g<1>NaN")),
    Case("streets no nodes", _write(
        "streets.graphml", b'<?xml version="1.0"?>\n<graphml xmlns='
        b'"http://graphml.graphdrawing.org/xmlns"><graph edgedefault="directed">'
        b"</graph></graphml>\n")),
    Case("streets not XML", _write("streets.graphml", b"<graphml><node\n")),
    # the forecast (Open-Meteo JSON)
    Case("forecast JSON top-level list", _forecast(lambda d: [d])),
    Case("forecast JSON null variable", _forecast(_set_daily("temperature_2m_max", None))),
    Case("forecast JSON string value", _forecast(_set_daily(
        "precipitation_sum", ["0.0"] * 14))),
    Case("forecast JSON _memberXX keys", _forecast(_members)),
    Case("forecast JSON not UTF-8", _forecast(lambda d: b'{"daily": "\xff\xfe"}')),
    Case("forecast is a folder", _args("--forecast", "{tmp}")),
    # watering log and groundwater
    Case("watering log tokenizer error", _write(
        "watering/executed.csv", b"date,site,litres\n2018-06-01,S00001,90\n"
        b"2018-06-02,S00008,90,extra,cells\n")),
    Case("groundwater npf bad line", _gw("gwf.npf", "  k  LAYERED", "  k  LAYERD")),
    Case("groundwater dis nrow text", _gw("gwf.dis", "NROW", "NROW  many\n  XROW")),
    # command line paths
    Case("--out an existing file", _args(), out=_existing_file),
    Case("--out not creatable", _args(), out=_under_a_file),
    Case("--date nonsense", _args("--date", "2018-13-45")),
]


def run_case(case: Case, tmp: Path, pythonpath: Path, timeout_s: float) -> dict:
    """Run one case in a fresh process; returns its outcome (see :func:`classify`)."""
    city = fast_city(tmp / "city")
    extra = case.edit(city, tmp)
    out = case.out(tmp) if case.out else tmp / "ws"
    before = out.exists()
    args = ["-q", "run", "--city", str(city), "--out", str(out)]
    if "--date" not in extra:
        args += ["--date", DAY]
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-m", "irrigation.cli", *args, *extra],
                              env=env, capture_output=True, text=True, timeout=timeout_s,
                              cwd=tmp)  # not this folder: -m would import from it
    except subprocess.TimeoutExpired:
        return {"case": case.name, "outcome": "hang", "seconds": timeout_s, "stderr": ""}
    seconds = time.perf_counter() - t0
    written = (out.exists() and not before) or (out.is_dir() and any(out.iterdir()))
    return {"case": case.name, "outcome": classify(proc.returncode, proc.stderr, written),
            "seconds": round(seconds, 1), "code": proc.returncode,
            "stderr": proc.stderr.strip().splitlines()[-1][:160] if proc.stderr.strip() else ""}


def classify(code: int, stderr: str, written: bool) -> str:
    """``clean`` (exit 2, one line, nothing written), ``traceback``, ``silent`` (exit 0:
    the bad input was accepted), or ``unclean`` (another exit, several lines, or files
    written)."""
    if "Traceback" in stderr:
        return "traceback"
    if code == 0:
        return "silent"
    lines = stderr.strip().splitlines()
    if code == 2 and len(lines) == 1 and lines[0].startswith("error:") and not written:
        return "clean"
    return "unclean"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pythonpath", type=Path, default=ROOT,
                   help="checkout whose irrigation package is run (default: this one)")
    p.add_argument("--timeout", type=float, default=240.0, help="seconds before a hang")
    p.add_argument("--out", type=Path, required=True, help="markdown table to write")
    p.add_argument("--only", default="", help="run the cases whose name contains this")
    args = p.parse_args(argv)
    rows = []
    for case in CASES:
        if args.only not in case.name:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            rows.append(run_case(case, Path(tmp), args.pythonpath, args.timeout))
        print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
    kinds = ("clean", "traceback", "hang", "silent", "unclean")
    counts = {k: sum(r["outcome"] == k for r in rows) for k in kinds}
    lines = [f"checkout: {args.pythonpath}", "",
             "| bad inputs | " + " | ".join(kinds) + " |",
             "|---|" + "---|" * len(kinds),
             f"| {len(rows)} | " + " | ".join(str(counts[k]) for k in kinds) + " |", "",
             "| case | outcome | exit | s | last stderr line |", "|---|---|---|---|---|"]
    for r in rows:
        err = r["stderr"].replace("|", "\\|")
        lines.append(f"| {r['case']} | {r['outcome']} | {r.get('code', '')} | "
                     f"{r['seconds']} | {err} |")
    args.out.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
