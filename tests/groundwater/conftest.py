"""Fixtures: the MF6 reference cases, copied and decompressed into a temporary folder."""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "mf6"
CASES = sorted(p.name for p in DATA.iterdir() if p.is_dir())
ROOT = Path(__file__).resolve().parents[2]
SHARED_MF6 = ROOT.parent / "shared" / "bin" / "mf6"
"""The real MODFLOW 6 6.6.2 beside the checkout (CI has it; see its SOURCE.md)."""


def real_mf6() -> str | None:
    """A real mf6: on PATH, ``$MF6_EXE``, or ``../shared/bin/mf6`` from the project root."""
    for cand in (os.environ.get("MF6_EXE"), shutil.which("mf6"), SHARED_MF6):
        if cand and Path(cand).is_file() and os.access(cand, os.X_OK):
            return str(cand)
    return None


@pytest.fixture(autouse=True)
def _run_folders_in_tmp_path(tmp_path, monkeypatch):
    """mf6 run folders (kept after a failure) go to the test's tmp_path, not /tmp."""
    import tempfile

    runs = tmp_path / "mf6-runs"
    runs.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(runs))


@pytest.fixture(scope="session")
def mf6_exe() -> str:
    """Path of the real mf6; the test is skipped where there is none."""
    exe = real_mf6()
    if exe is None:
        pytest.skip("no real mf6: not on PATH, no $MF6_EXE, no ../shared/bin/mf6")
    return exe


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
