"""The embedded solver against real MODFLOW 6 6.6.2 results (heads and budgets)."""

from __future__ import annotations

import flopy
import numpy as np
import pandas as pd
import pytest

from irrigation.groundwater.embedded import simulate
from irrigation.groundwater.load import load_simulation
from irrigation.groundwater.output import budget_table

from .conftest import CASES

HEAD_TOL = 1e-3  # m, over active wet cells
BUDGET_RTOL = 1e-3  # 0.1 % of the listing-file term


@pytest.fixture(scope="module")
def solved(case_dirs):
    cache = {}

    def get(name):
        if name not in cache:
            model = load_simulation(case_dirs[name])
            cache[name] = (model, simulate(model))
        return cache[name]

    return get


@pytest.mark.parametrize("case", CASES)
def test_heads_match_mf6(case, case_dirs, solved):
    _, result = solved(case)
    hf = flopy.utils.HeadFile(str(case_dirs[case] / "gwf.hds"))
    times = hf.get_times()
    assert len(times) > 0
    for t in times:
        ref = hf.get_data(totim=t)
        i = int(np.argmin(np.abs(result.times - t)))
        assert result.times[i] == pytest.approx(t)
        mine = result.heads[i]
        ref_wet = np.abs(ref) < 1e29
        assert np.array_equal(ref_wet, np.abs(mine) < 1e29), f"dry/inactive mask at t={t}"
        assert np.array_equal(ref >= 1e29, mine >= 1e29)
        dh = np.abs(mine - ref)[ref_wet].max()
        assert dh <= HEAD_TOL, f"max |dh| = {dh:.3g} m at t={t}"


#: Cases with constant heads next to constant heads of another head: the listing counts
#: CHD flows per connection to an active cell only (MF6 gwf-chd.f90, calc_chd_rate), the
#: budget file (and this package) the net flow of each CHD cell; compared with the budget
#: file in test_mf6_backend.py.
CHD_NEXT_TO_CHD = {"n1_inactive_rcha_evta", "n3_perched_riv_chd"}


@pytest.mark.parametrize("case", CASES)
def test_budget_matches_listing(case, case_dirs, solved):
    _, result = solved(case)
    rates, _ = flopy.utils.Mf6ListBudget(str(case_dirs[case] / "gwf.lst")).get_dataframes(
        start_datetime=None)
    mine = budget_table(result)
    checked = 0
    for t, row in rates.iterrows():
        at = mine[np.isclose(mine["time"], float(t))]
        if at.empty:  # OC saves no budget at this step (case c: SAVE BUDGET LAST)
            continue
        total = float(row["TOTAL_IN"])
        terms = {c.rsplit("_", 1)[0] for c in rates.columns
                 if c.endswith("_IN") and not c.startswith("TOTAL")}
        for term in terms:
            if term == "CHD" and case in CHD_NEXT_TO_CHD:
                continue
            sel = at[at["term"] == term]
            for side, col in (("IN", "rate_in"), ("OUT", "rate_out")):
                ref = float(row[f"{term}_{side}"])
                val = float(sel[col].sum())
                # listing values carry ~6 significant digits: tolerate 1e-6 of the total
                assert abs(val - ref) <= BUDGET_RTOL * abs(ref) + 1e-6 * total, (
                    f"{term}_{side} at t={t}: {val} vs listing {ref}")
                checked += 1
    assert checked > 0


def test_budget_saved_where_oc_says(solved):
    """Case c saves the budget at the last step of each period; case d in periods 1, 10,
    20 and 30 (SAVE BUDGET in their OC files)."""
    assert sorted(set(budget_table(solved("c_transient_confined_theis_wel")[1])["time"])) == [
        5.0, 8.0, 12.0]
    assert sorted(set(budget_table(solved("d_city_transient_newton")[1])["time"])) == [
        1.0, 10.0, 20.0, 30.0]


def test_budget_closes(solved):
    _, result = solved("d_city_transient_newton")
    df = pd.DataFrame(result.budget)
    per_step = df.groupby("time")[["rate_in", "rate_out"]].sum()
    disc = (per_step["rate_in"] - per_step["rate_out"]).abs() / per_step["rate_in"]
    assert disc.max() < 1e-6


def test_newton_case_keeps_dry_cells_active(solved):
    model, result = solved("d_city_transient_newton")
    below = result.heads[:, 0] < model.botm[0]
    assert below.any(axis=(1, 2)).all()  # 37-42 cells of layer 1 below their bottom
    assert not (np.abs(result.heads) > 1e29).any()


@pytest.mark.parametrize("case", CASES)
def test_first_period_alone_gives_the_first_period_heads(case, solved):
    """Cutting a model to its first stress period (the city's steady state) leaves the heads
    of that period's steps unchanged: later periods cannot act backwards."""
    model, result = solved(case)
    cut = model.first_period()
    assert cut.nper == 1
    n = int(model.nstp[0])
    np.testing.assert_array_equal(simulate(cut).heads, result.heads[:n])


@pytest.mark.parametrize("case", CASES)
def test_amg_path_matches_the_direct_solve(case, solved):
    """The large-model path (SA-AMG + BiCGSTAB, inexact Newton steps with
    LINEAR_RTOL) converges to the heads of the direct solve, which match MF6 above."""
    model, direct = solved(case)
    amg = simulate(model, linear="amg")
    ok = np.abs(direct.heads) < 1e29
    assert np.array_equal(ok, np.abs(amg.heads) < 1e29)
    np.testing.assert_allclose(amg.heads[ok], direct.heads[ok], rtol=0, atol=1e-5)
