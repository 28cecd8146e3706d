"""The Berlin example city (models/berlin-friedrichshain-kreuzberg) is what the command
in its README builds from the real data in ../shared/data/: re-run byte for byte."""

from __future__ import annotations

import filecmp
import shlex
from pathlib import Path

import pytest

from irrigation.cli import main
from irrigation.io.city import load_city

ROOT = Path(__file__).resolve().parents[1]
CITY = ROOT / "models" / "berlin-friedrichshain-kreuzberg"
SHARED = ROOT.parent / "shared"


def readme_command() -> list[str]:
    """The argument list of the ``irrigation city init`` command in the city's README."""
    text = (CITY / "README.md").read_text(encoding="utf-8")
    block = text.split("```bash\n", 1)[1].split("```", 1)[0]
    argv = shlex.split(block.replace("\\\n", " "))
    assert argv[:3] == ["irrigation", "city", "init"]
    return argv[1:]


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.mark.skipif(not (SHARED / "data" / "gdk-watering-berlin").is_dir(),
                    reason="needs the real Berlin data in ../shared/data/")
def test_the_readme_command_rebuilds_the_city_byte_for_byte(tmp_path, monkeypatch):
    """Run the README's command in a copy of the repository layout (the inputs through
    links to ../shared and docs/, the output in a fresh models/) and compare every file."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (tmp_path / "shared").symlink_to(SHARED)
    (repo / "docs").symlink_to(ROOT / "docs")
    monkeypatch.chdir(repo)
    argv = readme_command()
    assert main(argv) == 0
    out = repo / argv[2]
    assert _files(out) == _files(CITY)
    _, mismatch, errors = filecmp.cmpfiles(CITY, out, _files(CITY), shallow=False)
    assert mismatch == [] and errors == []


def test_the_example_city_loads_and_lies_together():
    """Checked without the real data: the committed folder is a valid city."""
    city = load_city(CITY)
    assert city.config.crs == "EPSG:25833"
    assert 500 <= city.sites.sizes["site"] <= 5000
    assert int((city.refill_points.kind == "hydrant").sum()) >= 20
    assert "OpenStreetMap" in city.config.attribution and "ODbL" in city.config.attribution
    assert main(["validate", "--city", str(CITY)]) == 0
