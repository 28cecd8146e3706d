"""Fixtures: the MF6 reference cases, copied and decompressed into a temporary folder."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "mf6"
CASES = sorted(p.name for p in DATA.iterdir() if p.is_dir())


def copy_case(name: str, dest: Path) -> Path:
    """Copy reference case ``name`` to ``dest`` and gunzip its ``*.gz`` files."""
    dest.mkdir(parents=True, exist_ok=True)
    for f in (DATA / name).iterdir():
        if f.suffix == ".gz":
            with gzip.open(f, "rb") as src, open(dest / f.stem, "wb") as out:
                shutil.copyfileobj(src, out)
        else:
            shutil.copy(f, dest / f.name)
    return dest


@pytest.fixture(scope="session")
def case_dirs(tmp_path_factory) -> dict[str, Path]:
    """All reference cases, decompressed once per session (treat as read-only)."""
    root = tmp_path_factory.mktemp("mf6_cases")
    return {name: copy_case(name, root / name) for name in CASES}


@pytest.fixture
def fresh_case(tmp_path):
    """A writable copy of one case: ``fresh_case("a_steady_confined_chd")``."""
    return lambda name: copy_case(name, tmp_path / name)
