"""Backend selection (auto/embedded/mf6), the mf6 runner with a fake executable, writing.

The real mf6 is exercised in ``test_mf6_backend.py``."""

from __future__ import annotations

import os
import shutil
import stat

import numpy as np
import pytest

from irrigation.errors import InputError
from irrigation.groundwater.backend import choose_backend, solve_simulation
from irrigation.groundwater.embedded import simulate
from irrigation.groundwater.load import load_simulation
from irrigation.groundwater.mf6 import find_mf6
from irrigation.groundwater.writer import write_model

A = "a_steady_confined_chd"


@pytest.fixture
def no_mf6(monkeypatch, tmp_path):
    monkeypatch.delenv("MF6_EXE", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))


@pytest.fixture
def fake_mf6(tmp_path, monkeypatch, case_dirs):
    """An 'mf6' on PATH that records its folder, writes case a's stored heads there (as
    ``gwf.hds``, the file case a's OC names) and reports normal termination."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    marker = tmp_path / "called.txt"
    exe = bindir / "mf6"
    heads = case_dirs[A] / "gwf.hds"
    exe.write_text(f"#!/bin/sh\npwd > {marker}\n{shutil.which('cp')} {heads} gwf.hds\n"
                   "echo ' Normal termination of simulation.'\n")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    monkeypatch.delenv("MF6_EXE", raising=False)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    return exe, marker


def test_auto_without_mf6_is_embedded(no_mf6):
    assert find_mf6() is None
    assert choose_backend("auto") == ("embedded", None)


def test_explicit_mf6_without_executable_is_an_input_error(no_mf6):
    with pytest.raises(InputError, match="MF6_EXE"):
        choose_backend("mf6")


def test_bad_mf6_exe_env(monkeypatch, tmp_path):
    monkeypatch.setenv("MF6_EXE", str(tmp_path / "nope" / "mf6"))
    with pytest.raises(InputError, match="MF6_EXE"):
        choose_backend("auto")


def test_embedded_forced_even_with_mf6(fake_mf6):
    assert choose_backend("embedded") == ("embedded", None)


def test_auto_picks_mf6_on_path_and_runs_it(fake_mf6, case_dirs):
    exe, marker = fake_mf6
    assert choose_backend("auto") == ("mf6", str(exe))
    model, result = solve_simulation(case_dirs[A])
    assert marker.exists(), "the mf6 executable was not called"
    assert marker.read_text().strip() != str(case_dirs[A])  # ran in a temporary copy
    assert result.heads.shape == (1, *model.shape)
    assert result.budget == []  # the fake wrote no budget file


def test_mf6_exe_env_var_is_used(fake_mf6, monkeypatch, case_dirs):
    exe, marker = fake_mf6
    monkeypatch.setenv("PATH", "")
    monkeypatch.setenv("MF6_EXE", str(exe))
    assert choose_backend("auto") == ("mf6", str(exe))
    solve_simulation(case_dirs[A], backend="mf6")
    assert marker.exists()


def test_write_model_round_trip(case_dirs, tmp_path):
    """flopy writes the model; reading it back gives the same arrays and heads."""
    for name in (A, "c_transient_confined_theis_wel"):
        model = load_simulation(case_dirs[name])
        ws = write_model(model, tmp_path / name)
        again = load_simulation(ws)
        for field in ("top", "botm", "k", "k33", "strt", "ss", "perlen", "steady"):
            assert np.array_equal(getattr(model, field), getattr(again, field)), field
        h1, h2 = simulate(model).heads, simulate(again).heads
        assert np.abs(h1 - h2).max() < 1e-9
