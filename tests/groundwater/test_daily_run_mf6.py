"""The demo city's daily run with the real mf6 (``backend = "mf6"``) and with the embedded
solver, through the public API only (``load_city``, ``run_day``, ``dataclasses.replace``).

As in ``tests/test_daily_run.py`` the demo is planned with a season start of 2018-06-20,
8 members and 300 routing iterations; everything else is as shipped.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from irrigation import load_city, run_day

DEMO = Path(__file__).resolve().parents[2] / "models" / "demo-city"
D0 = np.datetime64("2018-07-02")

pytestmark = pytest.mark.slow


def _city(**groundwater):
    city = load_city(DEMO)
    cfg = city.config
    return dataclasses.replace(city, config=dataclasses.replace(
        cfg,
        run=dataclasses.replace(cfg.run, season_start=pd.Timestamp("2018-06-20").date(),
                                members=8),
        routing=dataclasses.replace(cfg.routing, max_iterations=300),
        groundwater=dataclasses.replace(cfg.groundwater, **groundwater)))


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("daily-mf6")


@pytest.fixture(scope="module")
def runs(root, mf6_exe):
    """Day D0 with each backend, each in its workspace ``root / backend``."""
    return {backend: run_day(_city(backend=backend, mf6_exe=exe), D0, root / backend)
            for backend, exe in (("embedded", ""), ("mf6", mf6_exe))}


def test_both_backends_give_the_same_plan(runs):
    """Same visits, routes and deferrals; the heads agree to the tolerance of the demo's own
    IMS (OUTER_DVCLOSE 1e-5 m), which mf6 stops at."""
    emb, mf6 = runs["embedded"], runs["mf6"]
    for run in (emb, mf6):
        assert "fallback" not in run.info["groundwater"]
        assert not [w for w in run.warnings if "groundwater" in w]
    dh = np.abs(emb.state["heads_m"].values - mf6.state["heads_m"].values)
    assert np.nanmax(dh) < 1e-4
    dtw = emb.forecast["depth_to_water_m"] - mf6.forecast["depth_to_water_m"]
    assert float(np.abs(dtw).max()) < 1e-4
    pd.testing.assert_frame_equal(emb.visits, mf6.visits)
    pd.testing.assert_frame_equal(emb.plan.stops, mf6.plan.stops)
    pd.testing.assert_frame_equal(emb.plan.deferred, mf6.plan.deferred)


def test_mf6_non_convergence_holds_the_last_good_heads(runs, root, tmp_path, mf6_exe):
    """The day after, with an IMS that cannot converge: mf6 stops, the ConvergenceError
    reaches the pipeline, the heads of D are held and the plan still comes out; the
    report names the kept mf6 run folder."""
    gw = tmp_path / "groundwater"
    shutil.copytree(DEMO / "groundwater", gw)
    ims = gw / "sim.ims"
    ims.write_text(re.sub(r"OUTER_MAXIMUM\s+\d+", "OUTER_MAXIMUM 1", ims.read_text()))
    ws = tmp_path / "ws"
    shutil.copytree(root / "mf6", ws)  # continues the state mf6 saved for D0
    run = run_day(_city(backend="mf6", mf6_exe=mf6_exe, sim_dir=gw), D0 + 1, ws)
    assert run.info["groundwater"] == "fallback: last good heads"
    assert any("did not converge" in w for w in run.warnings)
    np.testing.assert_array_equal(run.state["heads_m"].values,
                                  runs["mf6"].state["heads_m"].values)
    report = (ws / "plans" / str(D0 + 1) / "report.md").read_text()
    kept = sorted((tmp_path / "mf6-runs").iterdir())
    assert kept and str(kept[-1]) in report
    assert len(run.plan.stops) > 0

