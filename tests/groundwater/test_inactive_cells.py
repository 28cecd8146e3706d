"""Inactive, pass-through and dry cells handled like MODFLOW 6 (reference cases n1, n2).

MF6 rules (gwf-rch.f90 ``rch_cf``, DIS ``highest_active``, BndExt ``nodelist_update``):
array recharge on a cell with IDOMAIN <= 0 is dropped, recharge on a cell that went dry
moves down to the first wet cell, and a list entry on a cell outside the model stops mf6.
"""

from __future__ import annotations

import re

import flopy
import pytest

from irrigation.errors import InputError, ModelError
from irrigation.groundwater.embedded import simulate
from irrigation.groundwater.forecast import run_forecast
from irrigation.groundwater.load import load_simulation
from irrigation.groundwater.mf6 import run_simulation_folder
from irrigation.groundwater.output import budget_table

N1, N2 = "n1_inactive_rcha_evta", "n2_passthrough_irch_ievt"


def test_recharge_on_inactive_cells_is_dropped_and_moves_from_dried_cells(case_dirs):
    """n1, steady period: the recharge that reaches the model is R A summed over the
    columns whose layer-1 cell is part of the model, less the CHD column (no stress in
    CHD cells). The ridge's layer-1 cells are dry (HDRY) and their recharge is in that
    sum: it moved to layer 2. The listing of the real mf6 run says the same."""
    model = load_simulation(case_dirs[N1])
    res = simulate(model)
    rch = next(p for p in model.packages if p.kind == "rch").periods[0]["recharge"]
    counted = (model.idomain[0] > 0)
    counted[:, 0] = False  # the CHD column
    expect = float((rch * model.area)[counted].sum())
    got = budget_table(res).query("time == 1.0 and term == 'RCHA'")["rate_in"].sum()
    assert got == pytest.approx(expect, rel=1e-12)
    assert (res.heads[0, 0] <= -1e29).sum() > 20  # the dry ridge
    rates, _ = flopy.utils.Mf6ListBudget(str(case_dirs[N1] / "gwf.lst")).get_dataframes(
        start_datetime=None)
    assert float(rates["RCHA_IN"].iloc[0]) == pytest.approx(expect, rel=1e-5)
    # moving it off the IDOMAIN = 0 block above active layer-2 cells (the old rule) would
    # have added this much
    block = (rch * model.area)[14:19, 5:11].sum()
    assert block > 10.0


def test_pass_through_cells_connect_layer_1_to_layer_3(case_dirs):
    """n2: a pass-through block in layer 2 holds no head (HNOFLO) and the well in layer 3
    below it draws layer 1 down through it."""
    model = load_simulation(case_dirs[N2])
    res = simulate(model)
    block = (slice(6, 13), slice(8, 16))
    assert (res.heads[:, 1][:, block[0], block[1]] >= 1e29).all()
    pumping = res.heads[-2, 0, 9, 11] - res.heads[0, 0, 9, 11]
    assert pumping < -0.01


def _edit(path, old, new):
    text = path.read_text()
    assert re.search(old, text), old
    path.write_text(re.sub(old, new, text, count=1))


def test_a_list_entry_outside_the_model_is_refused_like_mf6(fresh_case, mf6_exe):
    """A well on an IDOMAIN = 0 cell of n1 (layer 1, row 15, column 6): the real mf6 stops
    with "outside active grid domain"; the loader raises an InputError naming the file."""
    ws = fresh_case(N1)
    _edit(ws / "gwf.wel", r"\n\s*1\s+13\s+19\s", "\n  1 15 6 ")
    with pytest.raises(ModelError, match=r"(?i)outside active grid domain"):
        run_simulation_folder(ws, mf6_exe)
    with pytest.raises(InputError, match=r"WEL cell .* = \(1, 15, 6\) is not part of the model"
                       ) as err:
        load_simulation(ws)
    assert err.value.file.endswith("gwf.wel")


def test_forecast_well_on_an_inactive_cell(case_dirs):
    model = load_simulation(case_dirs[N1])
    with pytest.raises(InputError, match="not part of the model"):
        run_forecast(model, wells=[(0, 15, 6, -10.0)], days=1, backend="embedded")
