"""Bad input gives a clear InputError; non-convergence a ConvergenceError.

Packages and options only mf6 runs load (the mf6 backend passes them through); the
embedded solver then refuses them with an InputError naming file, package and option."""

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


def test_package_only_mf6_runs(fresh_case):
    """UZF loads (for mf6) and the embedded solver names it, its name file and mf6."""
    ws = fresh_case(A)
    (ws / "gwf.uzf").write_text("BEGIN options\nEND options\n")
    _edit(ws / "gwf.nam", r"(?i)END packages", "  UZF6  gwf.uzf  uzf\nEND packages")
    model = load_simulation(ws)
    assert [p.ftype for p in model.foreign] == ["UZF6"]
    with pytest.raises(InputError, match=r"package UZF is not supported.*backend 'mf6'") as err:
        simulate(model)
    assert err.value.field == "UZF6"
    assert err.value.file.endswith("gwf.nam")


def test_option_only_mf6_runs(fresh_case):
    ws = fresh_case(A)
    _edit(ws / "gwf.npf", r"(?i)BEGIN options", "BEGIN options\n  XT3D")
    model = load_simulation(ws)
    with pytest.raises(InputError, match="option XT3D of package NPF") as err:
        simulate(model)
    assert err.value.file.endswith("gwf.npf")
    assert err.value.field == "XT3D"


# (case, file to edit, pattern, replacement, message, field named by the InputError)
BAD_EDITS = [
    pytest.param(A, "gwf.nam", r"DIS6", "DISV6", "structured DIS", "DISV6",
                 id="unsupported-grid"),
    pytest.param(A, "gwf.npf", r"(?is)(\bk\s+CONSTANT\s+)\S+", r"\g<1>nan", "NaN", "k",
                 id="nan-in-k"),
    pytest.param(C, "gwf.wel", r"\n\s*1\s+51\s+51\s", "\n  1 151 51 ",
                 "outside the 1 x 101 x 101 grid", "cellid", id="well-outside-grid"),
]


@pytest.mark.parametrize(("case", "file", "old", "new", "match", "field"), BAD_EDITS)
def test_bad_input_file(fresh_case, case, file, old, new, match, field):
    """An edited input file raises an InputError naming the edited file and field."""
    ws = fresh_case(case)
    _edit(ws / file, old, new)
    with pytest.raises(InputError, match=match) as err:
        load_simulation(ws)
    assert err.value.file.endswith(file)
    assert err.value.field == field


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


def test_observation_file_is_ignored_with_a_warning(fresh_case, caplog):
    """An OBS6 package with its usual OPTIONS loads; the embedded solver ignores it."""
    ws = fresh_case(A)
    (ws / "gwf.obs").write_text("BEGIN options\n  DIGITS 10\nEND options\n"
                                "BEGIN continuous FILEOUT gwf.obs.csv\n  h1 HEAD 1 1 1\n"
                                "END continuous\n")
    _edit(ws / "gwf.nam", r"(?i)END packages", "  OBS6  gwf.obs  obs\nEND packages")
    load_simulation(ws)
    assert "observations are ignored" in caplog.text


def test_a_line_flopy_cannot_parse_is_named_on_one_line(tmp_path):
    """Issue 23: flopy's three-line error becomes one line naming file, line and text."""
    import shutil
    from pathlib import Path

    ws = tmp_path / "gw"
    shutil.copytree(Path(__file__).resolve().parents[2] / "models" / "demo-city"
                    / "groundwater", ws)
    _edit(ws / "gwf.dis", r"NROW", "NROW  many\n  XROW")
    with pytest.raises(InputError) as err:
        load_simulation(ws)
    msg = str(err.value)
    assert err.value.file.endswith("gwf.dis") and err.value.row is not None
    assert "'NROW  many'" in msg and "can not be converted to int" in msg
    assert "\n" not in msg
