"""The command line: summaries on stdout, one-line errors with exit code 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

from irrigation.cli import main


def test_validate_prints_summary(demo_city_dir, capsys):
    assert main(["validate", "--city", str(demo_city_dir)]) == 0
    out = capsys.readouterr().out
    assert "sites" in out and "hydrants" in out and "fleet" in out
    # the thresholds applied per kind, soil and age; on the demo's loamy sand RAW (~56 kPa
    # at the table p) is stricter than the 60/80 kPa configured for older young trees
    assert "thresholds applied in 2018" in out
    lines = [ln for ln in out.splitlines() if "young_tree" in ln and "loamy_sand" in ln]
    assert len(lines) == 6 and sum("RAW applies there" in ln for ln in lines) == 5


@pytest.mark.parametrize(
    ("file", "old", "new", "words"),
    [
        ("city.toml", "tank_l = 5000.0", "tank_lt = 5000.0", "city.toml: 'fleet[0].tank_lt'"),
        ("sites.csv", ",young_tree,", ",lemon_tree,", "sites.csv: line 2: 'kind'"),
        ("sensors.csv", "T001,S", "T001,X", "sensors.csv: line 2: 'site'"),
    ],
)
def test_validate_errors_one_line_exit_2(city_copy, file, old, new, words):
    path = city_copy / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    proc = subprocess.run(
        [sys.executable, "-m", "irrigation.cli", "validate", "--city", str(city_copy)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert words in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_help_lists_subcommands(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for cmd in ("run", "scenario", "route", "groundwater", "validate"):
        assert cmd in out


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    from irrigation.io.files import atomic_write

    target = tmp_path / "a.csv"
    target.write_text("old\n")

    def half_then_fail(tmp):
        with open(tmp, "w") as fh:
            fh.write("new, but not fin")
        raise OSError("disk full")

    with pytest.raises(OSError):
        atomic_write(target, half_then_fail)
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["a.csv"]
    atomic_write(target, lambda tmp: open(tmp, "w").write("new\n"))
    assert target.read_text() == "new\n"
