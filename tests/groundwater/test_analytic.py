"""Analytic checks of the embedded solver (linear flow, Dupuit mound, Theis)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import exp1

from irrigation.groundwater.embedded import simulate
from irrigation.groundwater.synthetic import grid_model, list_package


def _ends(nrow: int, ncol: int) -> np.ndarray:
    r = np.arange(nrow)
    return np.concatenate([np.c_[0 * r, r, 0 * r], np.c_[0 * r, r, 0 * r + ncol - 1]])


@pytest.mark.parametrize("newton", [False, True])
def test_linear_confined_flow(newton):
    """1-D confined flow between two fixed heads: h is linear in x (exact in CVFD)."""
    nrow, ncol = 3, 30
    delr = np.linspace(5.0, 25.0, ncol)  # non-uniform columns
    heads = np.r_[np.full(nrow, 12.0), np.full(nrow, 7.0)]
    chd = list_package("chd", _ends(nrow, ncol), head=heads)
    m = grid_model((1, nrow, ncol), delr=delr, delc=10.0, top=20.0, botm=[0.0], k=5.0,
                   steady=[True], newton=newton, packages=[chd])
    h = simulate(m).heads[-1, 0]
    xc = np.cumsum(delr) - 0.5 * delr
    exact = 12.0 - 5.0 * (xc - xc[0]) / (xc[-1] - xc[0])
    assert np.abs(h - exact).max() < 1e-8


def test_dupuit_mound_with_recharge():
    """Unconfined 1-D flow with recharge: h^2 = h1^2 - (h1^2 - h2^2) x/L + R x (L - x)/K.

    Discretisation error of 10 m cells (second-order CVFD for h^2): < 2e-4 m.
    """
    nrow, ncol, dx, kk, rch = 1, 101, 10.0, 10.0, 0.002
    h1, h2 = 10.0, 8.0
    chd = list_package("chd", _ends(nrow, ncol), head=[h1, h2])
    rows = np.c_[np.zeros(ncol, int), np.zeros(ncol, int), np.arange(ncol)]
    r = list_package("rch", rows, recharge=rch)
    m = grid_model((1, nrow, ncol), delr=dx, delc=50.0, top=20.0, botm=[0.0], k=kk,
                   icelltype=1, strt=10.0, steady=[True], packages=[chd, r])
    h = simulate(m).heads[-1, 0, 0]
    x = np.arange(ncol) * dx
    L = x[-1]
    exact = np.sqrt(h1**2 - (h1**2 - h2**2) * x / L + rch * x * (L - x) / kk)
    assert np.abs(h - exact).max() < 2e-4


def test_theis_late_time():
    """Drawdown around a pumping well in a confined aquifer against Theis (1935).

    25 m cells, 50 geometric time steps (x1.05) over 5 d: at r = 100-300 m, t = 5 d the
    drawdown is within 1 % (+ 5 mm) of s = Q/(4 pi T) W(r^2 S / (4 T t)).
    """
    n, dx, T, S, Q = 121, 25.0, 40.0, 2e-3, -300.0
    thick = 10.0
    ring = np.array([(0, i, j) for i in range(n) for j in range(n)
                     if i in (0, n - 1) or j in (0, n - 1)])
    chd = list_package("chd", ring, head=10.0)
    c = n // 2
    wel = list_package("wel", [(0, c, c)], q=Q)
    m = grid_model((1, n, n), delr=dx, delc=dx, top=thick, botm=[0.0], k=T / thick,
                   ss=S / thick, strt=10.0, perlen=[5.0], nstp=[50], tsmult=[1.05],
                   packages=[chd, wel])
    res = simulate(m)
    s_num = 10.0 - res.heads[-1, 0, c, c + np.array([4, 8, 12])]
    r = np.array([4, 8, 12]) * dx
    u = r**2 * S / (4 * T * res.times[-1])
    s_theis = -Q / (4 * np.pi * T) * exp1(u)
    assert np.all(np.abs(s_num - s_theis) <= 0.01 * s_theis + 0.005), (s_num, s_theis)
