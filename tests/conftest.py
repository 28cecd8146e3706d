"""Shared fixtures: the bundled demo city and writable copies of it."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO_CITY = ROOT / "models" / "demo-city"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def demo_city_dir() -> Path:
    return DEMO_CITY


@pytest.fixture
def city_copy(tmp_path: Path) -> Path:
    """A writable copy of the demo city's small files (groundwater folder included)."""
    dst = tmp_path / "city"
    shutil.copytree(DEMO_CITY, dst)
    return dst


@pytest.fixture(autouse=True)
def _restore_log_levels():
    """``cli.main(["-q", ...])`` sets the package logger to WARNING; later tests that read
    INFO records (caplog) must not depend on which CLI test ran before them."""
    import logging

    logger = logging.getLogger("irrigation")
    level = logger.level
    yield
    logger.setLevel(level)


def _floats(obj):
    if isinstance(obj, float):
        yield obj
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            yield from _floats(getattr(obj, f.name))
    elif isinstance(obj, tuple | list):
        for v in obj:
            yield from _floats(v)
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _floats(v)


@pytest.fixture(scope="session")
def floats_in():
    """A function giving every float in a tree of dataclasses, tuples, lists and dicts
    (a loaded configuration), to check that no inf or nan got through."""
    return _floats

