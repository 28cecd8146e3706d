"""The day engine's groundwater steps: the fallbacks a non-converging model takes."""

from __future__ import annotations

import numpy as np
import pytest

import irrigation
from irrigation import day as engine
from irrigation.errors import ConvergenceError
from irrigation.groundwater.load import load_simulation
from irrigation.io.soil_tables import read_soil_textures


@pytest.fixture(scope="module")
def pm():
    city = irrigation.demo_city()
    return irrigation.PlanningModel.build(city, load_simulation(city.config.groundwater.sim_dir),
                                          read_soil_textures(), city.species)


def _diverge(*args, **kwargs):
    raise ConvergenceError("no convergence (test)")


def test_steady_state_falls_back_to_the_starting_heads(pm, monkeypatch):
    monkeypatch.setattr(engine, "solve_model", _diverge)
    run = engine.steady_state(pm)
    assert not run.converged and "starting heads" in run.warning
    strt = pm.groundwater.strt
    ok = np.abs(strt) < 1e29
    np.testing.assert_array_equal(run.heads_m[0][ok], strt[ok])


def test_groundwater_step_holds_the_heads_and_says_so(pm, monkeypatch):
    heads = engine.steady_heads(pm)
    monkeypatch.setattr(engine, "solve_model", _diverge)
    rch = np.zeros((3, *heads.shape[1:]))
    run = engine.groundwater_step(pm, heads, rch, start=np.datetime64("2018-07-02"))
    assert run.heads_m.shape == (3, *heads.shape)
    np.testing.assert_array_equal(run.heads_m[2], heads)
    assert "2018-07-02..2018-07-05" in run.warning and "held" in run.warning


def test_morning_heads_are_today_then_each_day_but_the_last():
    today = np.zeros((1, 2, 2))
    ends = np.arange(1, 4)[:, None, None, None] * np.ones((3, 1, 2, 2))
    m = engine.morning_heads(today, ends)
    assert m.shape == (3, 1, 2, 2) and list(m[:, 0, 0, 0]) == [0, 1, 2]
