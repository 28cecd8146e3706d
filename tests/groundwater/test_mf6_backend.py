"""The mf6 backend against the real MODFLOW 6 6.6.2 (``../shared/bin/mf6``; skipped without).

The truth is what the real program writes: the stored reference outputs, or a run of mf6
on an edited case. The embedded solver is compared with the same runs.
"""

from __future__ import annotations

import re
import shutil
import stat
from pathlib import Path

import flopy
import numpy as np
import pytest

from irrigation.errors import ConvergenceError, InputError, ModelError
from irrigation.groundwater.backend import solve_model, solve_simulation
from irrigation.groundwater.embedded import simulate
from irrigation.groundwater.forecast import run_forecast
from irrigation.groundwater.load import load_simulation
from irrigation.groundwater.mf6 import run_simulation_folder
from irrigation.groundwater.output import budget_table

from .conftest import CASES

A, C, D = "a_steady_confined_chd", "c_transient_confined_theis_wel", "d_city_transient_newton"
#: Every case; case d (the costliest mf6 runs, ~3 s each) in the slow suite.
CASES_D_SLOW = [pytest.param(c, marks=pytest.mark.slow) if c == D else c for c in CASES]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert re.search(old, text), old
    path.write_text(re.sub(old, new, text, count=1))


def _stored_heads(folder: Path) -> tuple[np.ndarray, list[float]]:
    hf = flopy.utils.HeadFile(str(folder / "gwf.hds"))
    return hf.get_alldata(), hf.get_times()


def _run_folders(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "mf6-runs").iterdir())


@pytest.mark.parametrize("case", CASES)
def test_folder_as_delivered_gives_the_stored_heads(case, case_dirs, mf6_exe):
    """The folder runs with its own IMS and OC: heads identical to the reference run."""
    _, result = solve_simulation(case_dirs[case], backend="mf6", mf6_exe=mf6_exe)
    ref, times = _stored_heads(case_dirs[case])
    assert np.array_equal(result.heads, ref)
    assert result.times.tolist() == times


@pytest.mark.parametrize("case", CASES_D_SLOW)
def test_model_written_from_its_folder_gives_the_stored_heads(case, case_dirs, mf6_exe):
    """A loaded model written back for mf6 keeps the folder's IMS: identical heads (the old
    writer's loose inner tolerances made mf6 stop on cases a, b and c)."""
    model = load_simulation(case_dirs[case])
    ref, _ = _stored_heads(case_dirs[case])
    assert np.array_equal(solve_model(model, backend="mf6", mf6_exe=mf6_exe).heads, ref)
    first = solve_model(model.first_period(), backend="mf6", mf6_exe=mf6_exe)
    assert np.array_equal(first.heads, ref[:len(first.heads)])


def test_model_from_arrays_gets_a_converging_ims(case_dirs, mf6_exe):
    """Without a source folder the writer makes its own IMS (inner criteria tighter than
    the outer one): mf6 converges to the reference heads."""
    model = load_simulation(case_dirs[C]).replace(source=None, source_kper=None,
                                                  source_arrays={})
    ref, _ = _stored_heads(case_dirs[C])
    assert np.abs(solve_model(model, backend="mf6", mf6_exe=mf6_exe).heads - ref).max() < 1e-6


@pytest.mark.parametrize("case", CASES_D_SLOW)
def test_budget_is_read_from_the_binary_budget_file(case, case_dirs, mf6_exe):
    """Budget rows per package name at the times OC saves, double precision: the embedded
    budget of every case agrees with the budget file mf6 writes to 1e-4 of each term
    (> 1 m3/d) or 1e-4 m3/d."""
    _, res = solve_simulation(case_dirs[case], backend="mf6", mf6_exe=mf6_exe)
    mf6 = budget_table(res).set_index(["time", "term", "package"])
    if case == D:
        assert sorted(set(mf6.index.get_level_values("package"))) == [
            "drn", "evta", "ghb", "rcha", "sto", "wel"]
        assert sorted(set(mf6.index.get_level_values("time"))) == [1.0, 10.0, 20.0, 30.0]
    emb = budget_table(simulate(load_simulation(case_dirs[case]))).set_index(
        ["time", "term", "package"])
    joined = mf6.join(emb, rsuffix="_emb", how="outer")
    assert not joined.isna().any().any(), joined[joined.isna().any(axis=1)]
    for col in ("rate_in", "rate_out"):
        scale = np.maximum(joined[col].abs(), 1.0)
        assert ((joined[col] - joined[f"{col}_emb"]).abs() / scale).max() < 1e-4, joined


# --------------------------------------------------------------------------- discovery


def test_head_file_named_by_oc(fresh_case, mf6_exe):
    """``HEAD FILEOUT gwf.hed``: the file OC names is read (was: "mf6 wrote no head file")."""
    ws = fresh_case(A)
    ref, _ = _stored_heads(ws)
    _edit(ws / "gwf.oc", r"HEAD\s+FILEOUT\s+gwf\.hds", "HEAD FILEOUT gwf.hed")
    _, res = solve_simulation(ws, backend="mf6", mf6_exe=mf6_exe)
    assert np.array_equal(res.heads, ref)


def test_stale_outputs_in_the_folder_are_not_read(fresh_case, mf6_exe):
    """Old outputs lying in the delivered folder (a sorted-first ``a_old.hds``, an old
    ``gwf.hds``) are neither copied nor read."""
    ws = fresh_case(C)
    ref, _ = _stored_heads(ws)
    (ws / "a_old.hds").write_bytes(b"\0" * 512)
    (ws / "gwf.hds").write_bytes(b"not a head file")
    _, res = solve_simulation(ws, backend="mf6", mf6_exe=mf6_exe)
    assert np.array_equal(res.heads, ref)


@pytest.mark.parametrize("rule", ["LAST", "FIRST", "FREQUENCY 2", "STEPS 1 3"])
def test_both_backends_save_the_steps_oc_names(fresh_case, mf6_exe, rule):
    """``SAVE HEAD LAST`` gives 3 times (one per period) from both backends, not 12 from
    the embedded one; other OC rules likewise."""
    ws = fresh_case(C)
    _edit(ws / "gwf.oc", r"SAVE\s+HEAD\s+ALL", f"SAVE HEAD {rule}")
    model, res = solve_simulation(ws, backend="mf6", mf6_exe=mf6_exe)
    emb = simulate(model)
    assert emb.kstpkper == res.kstpkper and emb.times.tolist() == res.times.tolist()
    assert 0 < len(res.times) < 12
    assert np.abs(emb.heads - res.heads).max() < 1e-6
    if rule == "LAST":
        assert res.times.tolist() == [5.0, 8.0, 12.0]


def test_a_model_that_saves_no_heads_is_an_input_error(fresh_case, mf6_exe):
    ws = fresh_case(A)
    _edit(ws / "gwf.oc", r"(?i)\s*SAVE\s+HEAD\s+ALL", "")
    with pytest.raises(InputError, match="saves no heads") as err:
        solve_simulation(ws, backend="mf6", mf6_exe=mf6_exe)
    assert err.value.file.endswith("gwf.oc")


# --------------------------------------------------------------------------- failures


def _non_converging(ws: Path) -> None:
    """Case c with one outer and two inner iterations, and its listing renamed by LIST."""
    _edit(ws / "sim.ims", r"OUTER_MAXIMUM\s+\d+", "OUTER_MAXIMUM 1")
    _edit(ws / "sim.ims", r"INNER_MAXIMUM\s+\d+", "INNER_MAXIMUM 2")
    _edit(ws / "gwf.nam", r"(?i)BEGIN options", "BEGIN options\n  LIST gwf-listing.txt")


def test_non_convergence_is_a_convergence_error_with_the_kept_folder(fresh_case, mf6_exe,
                                                                     tmp_path):
    ws = fresh_case(C)
    _non_converging(ws)
    with pytest.raises(ConvergenceError) as err:
        solve_simulation(ws, backend="mf6", mf6_exe=mf6_exe)
    msg = str(err.value)
    kept = _run_folders(tmp_path)
    assert len(kept) == 1 and str(kept[0]) in msg
    assert "gwf-listing.txt" in msg and "did not converge" in msg
    assert (kept[0] / "gwf-listing.txt").is_file()  # the listing that explains it
    assert err.value.last_iterate.shape == (1, 101, 101)


def test_forecast_non_convergence_lets_the_caller_fall_back(fresh_case, mf6_exe):
    """run_forecast (the daily run's groundwater stage) raises ConvergenceError with mf6, so
    the pipeline's "hold the last good heads" fallback triggers."""
    ws = fresh_case(C)
    _non_converging(ws)
    model = load_simulation(ws)
    with pytest.raises(ConvergenceError):
        run_forecast(model, model.strt, wells=[(0, 50, 50, -500.0)], days=2, backend="mf6",
                     mf6_exe=mf6_exe)


def test_time_out_keeps_the_folder(case_dirs, tmp_path):
    slow = tmp_path / "slow-mf6"
    slow.write_text("#!/bin/sh\nsleep 20\n")
    slow.chmod(slow.stat().st_mode | stat.S_IEXEC)
    with pytest.raises(ModelError, match=r"did not finish within 0\.5 s") as err:
        run_simulation_folder(case_dirs[A], str(slow), timeout_s=0.5)
    kept = _run_folders(tmp_path)
    assert len(kept) == 1 and str(kept[0]) in str(err.value)


def test_a_successful_run_leaves_no_folder(case_dirs, mf6_exe, tmp_path):
    solve_simulation(case_dirs[A], backend="mf6", mf6_exe=mf6_exe)
    assert _run_folders(tmp_path) == []


# --------------------------------------------------------------------------- pass-through


def _with_barrier(ws: Path, rows: int, col: int, hydchr: float) -> None:
    """An HFB6 wall between columns ``col`` and ``col + 1`` (1-based) over all rows."""
    lines = "".join(f"  1 {r} {col}  1 {r} {col + 1}  {hydchr}\n" for r in range(1, rows + 1))
    (ws / "gwf.hfb").write_text("BEGIN options\nEND options\n\nBEGIN dimensions\n"
                                f"  MAXHFB {rows}\nEND dimensions\n\nBEGIN period 1\n"
                                f"{lines}END period 1\n")
    _edit(ws / "gwf.nam", r"(?i)END packages", "  HFB6  gwf.hfb  hfb\nEND packages")


def test_hfb_runs_with_mf6_and_is_refused_by_the_embedded_solver(fresh_case, mf6_exe):
    """Case a (1-D flow, K = 8 m/d, 25 m thick, delr = 20 m, delc = 10 m) with a wall of
    hydraulic characteristic 0.01 d-1 between columns 20 and 21.

    The flow Q of a row crosses every face: Q = C dh with C = K b delc / delr = 100 m2/d
    for an open face and, for the wall face, C_w = 1 / (1/C + 1/(hydchr b delc)) = 2.439
    m2/d (MF6 HFB: the barrier conductance in series with the cell-to-cell one), so the
    head drop across the wall is C / C_w = 41 times that across an open face."""
    ws = fresh_case(A)
    _with_barrier(ws, rows=15, col=20, hydchr=0.01)
    model, res = solve_simulation(ws, backend="mf6", mf6_exe=mf6_exe)
    h = res.heads[0, 0, 7]
    drop = -np.diff(h)
    c_open = 8.0 * 25.0 * 10.0 / 20.0
    c_wall = 1.0 / (1.0 / c_open + 1.0 / (0.01 * 25.0 * 10.0))
    assert drop[19] / drop[0] == pytest.approx(c_open / c_wall, rel=1e-6)
    with pytest.raises(InputError, match="HFB") as err:
        simulate(model)
    assert err.value.field == "HFB6"


def test_forecast_carries_packages_only_mf6_runs(fresh_case, case_dirs, mf6_exe):
    """A forecast of case c with a wall through the well's column: the wall is in the
    forecast (heads differ from the forecast without it, and the drawdown is asymmetric)."""
    ws = fresh_case(C)
    _with_barrier(ws, rows=101, col=52, hydchr=1e-4)
    walled = load_simulation(ws)
    plain = load_simulation(case_dirs[C])
    kw = {"days": 3, "backend": "mf6", "mf6_exe": mf6_exe, "wells": [(0, 50, 50, -500.0)]}
    h_wall = run_forecast(walled, walled.strt, **kw)["head"].values[-1, 0]
    h_plain = run_forecast(plain, plain.strt, **kw)["head"].values[-1, 0]
    assert np.abs(h_wall - h_plain).max() > 0.01
    # the wall (between columns 52 and 53, 1-based) holds the drawdown west of it
    assert 10.0 - h_wall[50, 49] > 10.0 - h_wall[50, 53] + 0.05
    assert abs(h_plain[50, 49] - h_plain[50, 51]) < 1e-9


def _without_last_wel_block(ws: Path) -> None:
    """Case d's WEL without its period-30 block: period 29's wells stay in force."""
    _edit(ws / "gwf.wel", r"(?is)BEGIN period\s+30\b.*?END period\s+30\s*", "")


def test_forecast_carries_the_stresses_in_force_of_a_package_only_mf6_runs(fresh_case,
                                                                             tmp_path,
                                                                             mf6_exe):
    """Case d's WEL with AUXMULTNAME (a multiplier of 1: same physics) is passed through
    to mf6; a forecast must carry the block in force at the end of the model (period 29's,
    the last one written). mf6's forecast of it equals the embedded forecast of the plain
    package (to the models' OUTER_DVCLOSE of 1e-6 m)."""
    plain_ws = fresh_case(D)
    _without_last_wel_block(plain_ws)
    foreign_ws = tmp_path / "foreign"
    shutil.copytree(plain_ws, foreign_ws)
    wel = foreign_ws / "gwf.wel"
    text = re.sub(r"(?m)^(\s*\d+\s+\d+\s+\d+\s+\S+)\s*$", r"\1 1.0", wel.read_text())
    wel.write_text(re.sub(r"(?i)BEGIN options", "BEGIN options\n  AUXILIARY mult\n"
                          "  AUXMULTNAME mult", text, count=1))
    foreign = load_simulation(foreign_ws)
    assert [p.ftype for p in foreign.foreign] == ["WEL6"]
    plain = load_simulation(plain_ws)
    kw = {"days": 3, "recharge_mm_d": 1.0}
    h_mf6 = run_forecast(foreign, foreign.strt, backend="mf6", mf6_exe=mf6_exe, **kw)
    h_emb = run_forecast(plain, plain.strt, backend="embedded", **kw)
    assert np.abs(h_mf6["head"].values - h_emb["head"].values).max() < 2e-5
    # the wells pump in the forecast: without them the heads at the wells are higher
    none = run_forecast(plain.replace(packages=[p for p in plain.packages if p.kind != "wel"]),
                        plain.strt, backend="embedded", **kw)
    assert (none["head"].values[-1, 1, 18, 26] - h_mf6["head"].values[-1, 1, 18, 26]) > 0.1


def test_carried_array_blocks_keep_each_array_from_its_last_period(tmp_path):
    """READASARRAYS: SURFACE and DEPTH given in period 1, RATE in periods 1 and 5; the
    block carried to period 7 holds SURFACE and DEPTH of period 1 and RATE of period 5."""
    from irrigation.groundwater.writer import carried_periods

    f = tmp_path / "x.evta"
    f.write_text("BEGIN options\n  READASARRAYS\nEND options\n\n"
                 "BEGIN period 1\n  surface\n    CONSTANT 10.0\n  rate\n    CONSTANT 1e-3\n"
                 "  depth\n    INTERNAL FACTOR 1.0\n      1.0 2.0\nEND period 1\n\n"
                 "BEGIN period 5\n  rate\n    CONSTANT 5e-3\nEND period 5\n")
    out = carried_periods(f, "EVT6", np.array([6, 6]))
    blocks = re.findall(r"(?is)BEGIN PERIOD (\d+)\n(.*?)END PERIOD", out)
    assert [b[0] for b in blocks] == ["1"]
    body = " ".join(blocks[0][1].split())
    assert "surface CONSTANT 10.0" in body and "rate CONSTANT 5e-3" in body
    assert "depth INTERNAL FACTOR 1.0 1.0 2.0" in body and "1e-3" not in body
