"""Invariants over every package and both formulations: mass balance, drying, flow reduction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from irrigation.groundwater.embedded import simulate
from irrigation.groundwater.model import HDRY, Package
from irrigation.groundwater.synthetic import grid_model, list_package


def _all_packages_model(newton: bool):
    n = 12
    top = 20.0 - 0.2 * np.arange(n)[None, :] * np.ones((n, 1))
    rows = np.arange(n)
    chd = list_package("chd", np.c_[0 * rows + 1, rows, 0 * rows], head=14.0)
    ghb = list_package("ghb", np.c_[0 * rows, rows, 0 * rows + n - 1], bhead=12.0, cond=50.0)
    riv = list_package("riv", np.c_[0 * rows, 0 * rows + 6, rows], stage=13.0, cond=20.0,
                       rbot=12.0)
    drn = list_package("drn", np.c_[0 * rows, 0 * rows + 2, rows], elev=15.0, cond=30.0)
    wel = Package("wel", "wel", {0: {"cellid": np.array([[1, 9, 5]]), "q": np.array([-80.0])},
                                 2: {}}, auto_flow_reduce=0.1)
    cells = np.c_[np.zeros(n * n, int), np.repeat(rows, n), np.tile(rows, n)]
    evt = list_package("evt", cells, surface=top.ravel(), rate=2e-3, depth=1.5)
    rch = Package("rch", "rcha", {0: {"recharge": np.full((n, n), 1e-3)},
                                  1: {"recharge": np.full((n, n), 4e-3)}}, readasarrays=True)
    return grid_model((2, n, n), delr=10.0, delc=np.linspace(8, 12, n), top=top,
                      botm=[10.0, 0.0], k=[5.0, 2.0], k33=0.5, icelltype=1, strt=14.0,
                      ss=1e-5, sy=0.2, perlen=[1.0, 2.0, 3.0], nstp=[1, 2, 3],
                      tsmult=[1.0, 1.0, 1.2], steady=[True, False, False], newton=newton,
                      packages=[chd, ghb, riv, drn, wel, evt, rch])


@pytest.mark.parametrize("newton", [False, True])
def test_mass_balance_closes_with_every_package(newton):
    res = simulate(_all_packages_model(newton))
    df = pd.DataFrame(res.budget)
    assert {"CHD", "GHB", "RIV", "DRN", "WEL", "EVT", "RCHA", "STO-SS", "STO-SY"} <= set(df.term)
    per_step = df.groupby("time")[["rate_in", "rate_out"]].sum()
    disc = (per_step.rate_in - per_step.rate_out).abs() / per_step.rate_in
    assert disc.max() < 1e-7
    assert len(res.times) == 6 and res.times[-1] == pytest.approx(6.0)
    steady = df[df.time == 1.0]  # steady first period: zero storage rows, as in MF6
    assert (steady.loc[steady.term.str.startswith("STO"), ["rate_in", "rate_out"]] == 0).all(
        axis=None)


def test_standard_formulation_dries_a_pumped_cell():
    wel = list_package("wel", [(0, 2, 2)], q=-50.0)
    m = grid_model((1, 5, 5), delr=10.0, delc=10.0, top=10.0, botm=[0.0], k=1.0,
                   icelltype=1, strt=1.0, sy=0.1, perlen=[1.0], packages=[wel])
    h = simulate(m).heads[-1, 0]
    assert h[2, 2] == HDRY
    assert np.all(h[h != HDRY] > 0.0)


def test_newton_auto_flow_reduce_limits_pumping():
    wel = Package("wel", "wel", {0: {"cellid": np.array([[0, 2, 2]]), "q": np.array([-50.0])}},
                  auto_flow_reduce=0.1)
    m = grid_model((1, 5, 5), delr=10.0, delc=10.0, top=10.0, botm=[0.0], k=1.0,
                   icelltype=1, strt=1.0, sy=0.1, perlen=[1.0], newton=True, packages=[wel])
    res = simulate(m)
    pumped = sum(b["rate_out"] for b in res.budget if b["term"] == "WEL")
    assert 0.0 < pumped < 50.0
    assert np.all(np.isfinite(res.heads))
