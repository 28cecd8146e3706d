"""A factorisation kept across runs (the season's weekly truth steps): the same heads within
the solver's tolerance as fresh runs, mass balance closed, fewer factorisations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from irrigation.groundwater.embedded import simulate
from irrigation.groundwater.linear import DirectSolver
from irrigation.groundwater.model import HDRY
from irrigation.groundwater.synthetic import grid_model, list_package


def _week(strt, recharge_m_d: float, q_m3_d: float = -20.0, n: int = 15,
          k_m_d: tuple[float, float] = (8.0, 3.0)):
    """A convertible two-layer model, one 7-day step with recharge and a well."""
    rows = np.arange(n)
    chd = list_package("chd", np.c_[0 * rows + 1, rows, 0 * rows], head=8.0)
    wel = list_package("wel", [(0, 7, 9)], q=q_m3_d)
    rch = list_package("rch", np.c_[0 * rows.repeat(n), rows.repeat(n), np.tile(rows, n)],
                       recharge=recharge_m_d)
    return grid_model((2, n, n), delr=20.0, delc=20.0, top=12.0, botm=[5.0, 0.0], k=list(k_m_d),
                      icelltype=[1, 0], strt=strt, ss=1e-5, sy=0.15, perlen=[7.0],
                      steady=[False], packages=[chd, wel, rch])


def _season(recharge: list[float], kept: DirectSolver | None, q_m3_d: float = -20.0):
    h, out = np.full((2, 15, 15), 9.0), []
    for r in recharge:
        res = simulate(_week(h, r, q_m3_d), factorisation=kept)
        h = res.heads[-1]
        out.append(res)
    return out


RECHARGE = [2e-3, 0.0, 5e-4, 0.0, 0.0, 3e-3]


def test_kept_factorisation_gives_the_fresh_heads():
    fresh = _season(RECHARGE, None)
    kept = DirectSolver()
    reused = _season(RECHARGE, kept)
    for a, b in zip(fresh, reused, strict=True):
        np.testing.assert_allclose(b.heads, a.heads, rtol=0, atol=1e-6)  # hclose 1e-6 m
        per_step = pd.DataFrame(b.budget)[["rate_in", "rate_out"]].sum()
        assert abs(per_step.rate_in - per_step.rate_out) / per_step.rate_in < 1e-7
    # the weeks move the heads by centimetres: later weeks reuse the first factorisation
    assert 0 < kept.factorisations < len(RECHARGE)
    assert not np.array_equal(fresh[-1].heads, fresh[0].heads)


def test_a_cell_gone_dry_is_not_solved_with_the_wet_factorisation():
    """A week whose pumping dries a cell: the heads of a fresh run, HDRY there. (Its key
    differs from the wet week's by the wells' rates and by the fixed cells alike, so this
    checks the heads, not which of the two changed the key.)"""
    kept = DirectSolver()
    wet = simulate(_week(np.full((2, 15, 15), 9.0), 0.0, q_m3_d=-1.0), factorisation=kept)
    before = kept.key
    fresh = simulate(_week(wet.heads[-1], 0.0, q_m3_d=-400.0))
    reused = simulate(_week(wet.heads[-1], 0.0, q_m3_d=-400.0), factorisation=kept)
    assert fresh.heads[-1, 0, 7, 9] == HDRY
    assert reused.heads[-1, 0, 7, 9] == HDRY
    assert kept.key != before
    np.testing.assert_allclose(reused.heads, fresh.heads, rtol=0, atol=1e-6)


def test_a_factorisation_of_another_model_is_not_reused_as_it_is():
    """Another model on the same grid (here 100 times the conductivity) has another key: its
    first iteration solves with its own matrix (a chord step with the other model's could
    stop early, its steps being 100 times too small)."""
    kept = DirectSolver()
    h = np.full((2, 15, 15), 9.0)
    simulate(_week(h, 2e-3), factorisation=kept)
    before = kept.key
    fresh = simulate(_week(h, 2e-3, k_m_d=(800.0, 300.0)))
    reused = simulate(_week(h, 2e-3, k_m_d=(800.0, 300.0)), factorisation=kept)
    assert kept.key != before
    np.testing.assert_allclose(reused.heads, fresh.heads, rtol=0, atol=1e-6)


def _ghb_week(cond_m2_d: float):
    """A convertible one-layer model drained by a general-head boundary of conductance
    ``cond_m2_d`` along one side, one 7-day step."""
    rows = np.arange(15)
    ghb = list_package("ghb", np.c_[0 * rows, rows, 0 * rows + 14], bhead=6.0, cond=cond_m2_d)
    chd = list_package("chd", np.c_[0 * rows, rows, 0 * rows], head=9.0)
    return grid_model((1, 15, 15), delr=20.0, delc=20.0, top=12.0, botm=[0.0], k=5.0,
                      icelltype=1, strt=9.0, sy=0.15, perlen=[7.0], steady=[False],
                      packages=[chd, ghb])


def test_a_factorisation_with_other_boundary_conductances_is_not_reused_as_it_is():
    """Kept from a weak boundary (1 m2/d), a chord step on a strong one (1e4 m2/d)
    overshoots: cells go dry for good and the heads come out wrong. The boundaries are in
    the key, so the strong model starts with its own matrix and gets the fresh heads."""
    kept = DirectSolver()
    simulate(_ghb_week(1.0), factorisation=kept)
    fresh = simulate(_ghb_week(1e4))
    reused = simulate(_ghb_week(1e4), factorisation=kept)
    assert (fresh.heads != HDRY).all()
    np.testing.assert_allclose(reused.heads, fresh.heads, rtol=0, atol=1e-6)


def test_the_weeks_recharge_does_not_change_the_key():
    """Recharge enters the right-hand side only: weeks of other recharge share the key."""
    kept = DirectSolver()
    simulate(_week(np.full((2, 15, 15), 9.0), 2e-3), factorisation=kept)
    key = kept.key
    simulate(_week(np.full((2, 15, 15), 9.0), 0.0), factorisation=kept)
    assert kept.key == key and kept.factorisations == 1


def test_a_factorisation_of_another_grid_is_not_used():
    kept = DirectSolver()
    simulate(grid_model((1, 4, 4), top=10.0, botm=[0.0], strt=5.0, perlen=[1.0],
                         packages=[list_package("chd", [(0, 0, 0)], head=5.0)]),
             factorisation=kept)
    fresh = _season(RECHARGE[:1], None)[0]
    other = _season(RECHARGE[:1], kept)[0]
    np.testing.assert_array_equal(other.heads, fresh.heads)


@pytest.mark.parametrize("keep", [False, True])
def test_the_run_logs_its_own_factorisations(keep, caplog):
    caplog.set_level("INFO", logger="irrigation.groundwater.embedded")
    _season(RECHARGE[:2], DirectSolver() if keep else None)
    counts = [int(r.getMessage().split(" factorisations")[0].rsplit(" ", 1)[1])
              for r in caplog.records if "factorisations" in r.getMessage()]
    assert len(counts) == 2 and counts[0] >= 1
    assert counts[1] == 0 if keep else counts[1] >= 1
