"""Bad input gives a clear InputError; non-convergence a ConvergenceError."""

from __future__ import annotations

import re

import numpy as np
import pytest

from irrigation.errors import ConvergenceError, InputError
from irrigation.groundwater.embedded import simulate
from irrigation.groundwater.forecast import run_forecast
from irrigation.groundwater.load import load_simulation

A = "a_steady_confined_chd"
C = "c_transient_confined_theis_wel"


def _edit(path, old, new):
    text = path.read_text()
    assert re.search(old, text), old
    path.write_text(re.sub(old, new, text, count=1))


def test_missing_package_file(fresh_case):
    ws = fresh_case(A)
    (ws / "gwf.npf").unlink()
    with pytest.raises(InputError, match="NPF package file is missing") as err:
        load_simulation(ws)
    assert err.value.file.endswith("gwf.npf")


def test_unsupported_package(fresh_case):
    ws = fresh_case(A)
    (ws / "gwf.uzf").write_text("BEGIN options\nEND options\n")
    _edit(ws / "gwf.nam", r"(?i)END packages", "  UZF6  gwf.uzf  uzf\nEND packages")
    with pytest.raises(InputError, match="UZF") as err:
        load_simulation(ws)
    assert err.value.field == "UZF6"


def test_unsupported_grid(fresh_case):
    ws = fresh_case(A)
    _edit(ws / "gwf.nam", r"DIS6", "DISV6")
    with pytest.raises(InputError, match="structured DIS"):
        load_simulation(ws)


def test_unsupported_option(fresh_case):
    ws = fresh_case(A)
    _edit(ws / "gwf.npf", r"(?i)BEGIN options", "BEGIN options\n  XT3D")
    with pytest.raises(InputError, match="option XT3D of package NPF") as err:
        load_simulation(ws)
    assert err.value.file.endswith("gwf.npf")


def test_nan_in_k(fresh_case):
    ws = fresh_case(A)
    _edit(ws / "gwf.npf", r"(?is)(\bk\s+CONSTANT\s+)\S+", r"\g<1>nan")
    with pytest.raises(InputError, match="NaN") as err:
        load_simulation(ws)
    assert err.value.field == "k"


def test_well_outside_grid(fresh_case):
    ws = fresh_case(C)
    _edit(ws / "gwf.wel", r"\n\s*1\s+51\s+51\s", "\n  1 151 51 ")
    with pytest.raises(InputError, match="outside the 1 x 101 x 101 grid"):
        load_simulation(ws)


def test_forecast_well_outside_grid(case_dirs):
    model = load_simulation(case_dirs[C])
    with pytest.raises(InputError, match="outside"):
        run_forecast(model, wells=[(0, 500, 3, -10.0)], days=1, backend="embedded")


def test_forecast_recharge_shape(case_dirs):
    model = load_simulation(case_dirs[C])
    with pytest.raises(InputError, match="recharge must be"):
        run_forecast(model, recharge_mm_d=np.ones((3, 3)), days=1, backend="embedded")


def test_not_a_simulation_folder(tmp_path):
    with pytest.raises(InputError, match=r"mfsim\.nam"):
        load_simulation(tmp_path)


def test_non_convergence_carries_last_iterate(case_dirs):
    model = load_simulation(case_dirs["b_steady_unconfined_rch_mound"])
    with pytest.raises(ConvergenceError) as err:
        simulate(model, max_iter=1)
    assert err.value.last_iterate.shape == model.shape
    assert np.isfinite(err.value.residual)
