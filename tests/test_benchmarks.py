"""Smoke test of the benchmark suite: ``python -m benchmarks --size tiny`` end to end."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

EXPECTED = {  # row name prefix -> number of rows at size tiny
    "soil balance: water_balance": 2,
    "soil balance: simulate_sites": 2,
    "ET0 FAO-56 PM grid": 1,
    "groundwater: embedded NEWTON solver": 2,
    "groundwater: scaling fit": 1,
    "groundwater backends: whole command": 1,
    "groundwater backends: solve alone": 1,
    "routing: build_problem + solve": 1,
    "daily run": 1,
    "scenario season": 2,
}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[dict, str, str]:
    """The JSON report, the Markdown and the log of one tiny run."""
    out = tmp_path_factory.mktemp("bench")
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--size", "tiny", "--out",
                           str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "benchmarks.json").read_text())
    return report, (out / "benchmarks.md").read_text(), proc.stderr


def _rows(report: dict, prefix: str) -> list[dict]:
    return [r for r in report["results"] if r["name"].startswith(prefix)]


def test_every_benchmark_has_its_rows(tiny):
    report, _, log = tiny
    for prefix, n in EXPECTED.items():
        assert len(_rows(report, prefix)) == n, prefix
    assert len(report["results"]) == sum(EXPECTED.values())
    for name in ("soil", "et0", "groundwater", "routing", "daily_run"):  # one line each
        assert f" {name} " in log


def test_measured_rows_have_positive_finite_numbers(tiny):
    report, _, _ = tiny
    peers = 0
    for r in report["results"]:
        if r["skipped"] or r["name"].startswith("groundwater: scaling fit"):
            continue
        assert r["wall_s"] > 0 and r["throughput"] > 0 and r["peak_rss_mb"] > 0, r["name"]
        if r["peer_wall_s"] is not None:
            peers += 1
            assert math.isfinite(r["ratio"]) and r["ratio"] > 0, r["name"]
            assert r["ratio"] == pytest.approx(r["peer_wall_s"] / r["wall_s"])
    assert peers >= 3  # Python loop, ET0 loop, raw PyVRP (pyfao56 when installed)


def test_correctness_checks_hold(tiny):
    report, _, _ = tiny
    assert _rows(report, "ET0")[0]["extra"]["agree"]
    routing = _rows(report, "routing")[0]["extra"]
    assert routing["same_instance"] and routing["same_cost"] and routing["same_routes"]
    assert math.isfinite(_rows(report, "groundwater: scaling fit")[0]["extra"]["exponent"])
    daily = _rows(report, "daily run")[0]
    assert daily["skipped"] or daily["wall_s"] > 0  # never numbers that were not measured


def test_markdown_table_and_machine_facts(tiny):
    report, md, _ = tiny
    table = [line for line in md.splitlines() if line.startswith("| ")]
    assert len(table) == 1 + len(report["results"])  # header + one line per row
    assert "speed-up vs peer = peer wall time / our wall time" in md
    machine = report["machine"]
    assert machine["cpu_count"] >= 1 and machine["versions"]["numpy"]
    assert set(machine["threads"].values()) == {"1"}
