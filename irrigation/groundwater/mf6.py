"""The ``mf6`` backend: run the real MODFLOW 6 executable on a simulation folder.

A run works in a copy of the folder (its input files only, never stale outputs), with a
time limit. The outputs read are exactly those the name files and OC name: the head file
(``HEAD FILEOUT``), the budget file (``BUDGET FILEOUT``, read with flopy's binary
budget reader) and the listing. A failed run keeps its folder for inspection and names it
in the error; a run that stops on non-convergence raises
:class:`~irrigation.errors.ConvergenceError` so callers can fall back to their last good
heads.

The executable is found from an explicit path, then ``$MF6_EXE``, then ``mf6`` on PATH.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from ..errors import ConvergenceError, InputError, ModelError
from .mf6files import SimulationFiles, copy_inputs, read_simulation_files
from .result import SolveResult

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 3600.0
"""Wall-time limit of one mf6 run [s] (an hour: the large city's model takes ~1 min)."""

RUN_PREFIX = "irrigation-mf6-"
"""Prefix of the temporary run folders (kept when a run fails)."""


def find_mf6(exe: str | Path | None = None) -> str | None:
    """Path of an ``mf6`` executable, or None.

    Order: ``exe`` if given (must exist), ``$MF6_EXE``, ``mf6`` on PATH.
    """
    for cand, what in ((exe, "configured mf6_exe"), (os.environ.get("MF6_EXE"), "MF6_EXE")):
        if cand:
            found = shutil.which(str(cand))
            if found is None:
                raise InputError(f"{what} '{cand}' is not an executable file", field=what)
            return found
    return shutil.which("mf6")


def new_run_folder() -> Path:
    """A new temporary folder for one mf6 run."""
    return Path(tempfile.mkdtemp(prefix=RUN_PREFIX))


def run_simulation_folder(sim_dir: str | Path, exe: str, *,
                          timeout_s: float = DEFAULT_TIMEOUT_S) -> SolveResult:
    """Run an MF6 simulation folder as it is delivered (in a copy) and read its outputs.

    Parameters
    ----------
    sim_dir
        Folder with ``mfsim.nam``; it is not written to.
    exe
        The mf6 executable.
    timeout_s
        Wall-time limit [s].

    Raises
    ------
    ConvergenceError
        mf6 stopped because a time step did not converge (the run folder is kept).
    ModelError
        mf6 failed otherwise or ran out of time (the run folder is kept).
    """
    sim_dir = Path(sim_dir)
    files = read_simulation_files(sim_dir)
    ws = new_run_folder()
    copy_inputs(sim_dir, ws, files)
    return run_in_folder(ws, exe, timeout_s=timeout_s)


def run_in_folder(ws: Path, exe: str, *, timeout_s: float = DEFAULT_TIMEOUT_S,
                  keep: bool = False) -> SolveResult:
    """Run mf6 in ``ws`` and read its outputs; ``ws`` is removed after a successful run
    unless ``keep``, and always kept after a failure (see :func:`run_simulation_folder`)."""
    files = read_simulation_files(ws)
    try:
        proc = subprocess.run([exe], cwd=ws, capture_output=True, text=True, check=False,
                              timeout=timeout_s)
    except subprocess.TimeoutExpired as exc:
        raise ModelError(f"mf6 ({exe}) did not finish within {timeout_s:g} s; its run "
                         f"folder is kept for inspection: {ws}") from exc
    except OSError as exc:
        raise ModelError(f"mf6 ({exe}) could not be started: {exc}") from exc
    if proc.returncode != 0 or "normal termination" not in proc.stdout.lower():
        _raise_failure(ws, exe, files, proc)
    result = read_outputs(files)
    if not keep:
        shutil.rmtree(ws, ignore_errors=True)
    return result


def _failure_reasons(ws: Path, files: SimulationFiles, proc) -> list[str]:
    """The lines that say why a run failed: MF6's ERROR REPORT, non-convergence lines of
    the listings, else the last lines it printed."""
    texts = [proc.stdout or "", proc.stderr or ""]
    texts += [p.read_text(errors="replace") for p in (ws / "mfsim.lst", files.listing)
              if p.is_file()]
    keys = ("did not converge", "failed to meet", "convergence failure", "error")
    reasons: list[str] = []
    for text in texts:
        lines = [ln.strip() for ln in text.splitlines()]
        for i, line in enumerate(lines):
            if line.upper().startswith("ERROR REPORT"):
                report = [ln for ln in lines[i + 1:i + 12] if ln]
                reasons += [ln for ln in report if not ln.upper().startswith(
                    ("MAXIMUM NUMBER OF ERRORS", "UNIT ERROR REPORT"))][:6]
            elif any(k in line.lower() for k in keys[:3]):
                reasons.append(line)
    reasons = list(dict.fromkeys(reasons))
    if not reasons:
        reasons = [ln for ln in "\n".join(texts).strip().splitlines()[-5:] if ln.strip()]
    return reasons


def _raise_failure(ws: Path, exe: str, files: SimulationFiles, proc) -> None:
    """Raise the error of a failed run, naming the kept folder and the listings' reasons."""
    reasons = _failure_reasons(ws, files, proc)
    where = (f"mf6 ({exe}) failed; its run folder is kept for inspection: {ws} "
             f"(listings {_relative(files.listing, ws)}, mfsim.lst)")
    message = f"{where}: " + "; ".join(reasons[:8])
    log.warning(message)
    if any("convergence failure" in r.lower() or "did not converge" in r.lower()
           for r in reasons):
        last = None
        if files.head is not None and files.head.is_file():
            try:
                last = read_heads(files.head)[0][-1]
            except (ModelError, IndexError):
                last = None
        raise ConvergenceError(message, last_iterate=last)
    raise ModelError(message)


def _relative(path: Path, folder: Path) -> str:
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return str(path)


def read_heads(path: Path) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """Heads (ntimes, nlay, nrow, ncol) [m], times [d] and 0-based (kstp, kper) of an MF6
    binary head file (double precision, MF6 mf6io "Binary Output Files")."""
    import flopy

    try:
        hf = flopy.utils.HeadFile(str(path), precision="double")
        kk = [(int(a), int(b)) for a, b in hf.get_kstpkper()]
        times = np.array(hf.get_times(), dtype=float)
        heads = hf.get_alldata() if len(times) else np.zeros((0,))
    except Exception as exc:  # flopy raises bare Exceptions on a broken file
        raise ModelError(f"cannot read the mf6 head file {path}: {exc}") from exc
    return np.asarray(heads, dtype=float), times, kk


def read_budget(path: Path, sto_name: str = "sto") -> list[dict]:
    """Volumetric budget per saved step and package from an MF6 binary budget file.

    One dict per step and budget record: ``time`` [d], ``kper``, ``kstp`` (0-based),
    ``term`` (MF6 budget text, e.g. ``WEL``, ``RCHA``, ``STO-SS``), ``package`` (the
    package name of the name file, lower case), ``rate_in``, ``rate_out`` [m3 d-1, >= 0].

    Notes
    -----
    Boundary records (IMETH 6) hold the flow ``q`` of every entry, > 0 into the model;
    storage (IMETH 1) holds one value per cell, > 0 released into the model (MF6 mf6io,
    "Binary Budget File"). FLOW-JA-FACE and DATA-* records are not budget terms.
    """
    import flopy

    try:
        cbc = flopy.utils.CellBudgetFile(str(path), precision="double")
        records = cbc.recordarray
        out = []
        for i, rec in enumerate(records):
            text = rec["text"].decode().strip() if isinstance(rec["text"], bytes) \
                else str(rec["text"]).strip()
            if text.startswith(("FLOW-JA-FACE", "DATA-")):
                continue
            data = cbc.get_data(idx=i)[0]
            q = np.asarray(data["q"] if getattr(data, "dtype", None) is not None and
                           data.dtype.names else data, dtype=float).ravel()
            pkg = _package_name(rec, text, sto_name)
            out.append({"time": float(rec["totim"]), "kper": int(rec["kper"]) - 1,
                        "kstp": int(rec["kstp"]) - 1, "term": text, "package": pkg,
                        "rate_in": float(q[q > 0].sum()), "rate_out": float(-q[q < 0].sum())})
    except Exception as exc:
        raise ModelError(f"cannot read the mf6 budget file {path}: {exc}") from exc
    return out


def _package_name(rec, text: str, sto_name: str) -> str:
    names = rec.dtype.names or ()
    if "paknam2" in names:
        raw = rec["paknam2"]
        name = (raw.decode() if isinstance(raw, bytes) else str(raw)).strip()
        if name:
            return name.lower()
    return sto_name if text.startswith("STO") else text.lower()


def read_outputs(files: SimulationFiles) -> SolveResult:
    """Heads and budget of a finished run, from the files its name files and OC name.

    Raises
    ------
    ModelError
        OC names no head file, or mf6 did not write it.
    """
    if files.head is None:
        raise ModelError(f"the model saves no heads: its OC names no head file "
                         f"(HEAD FILEOUT) in {files.sim_dir}")
    if not files.head.is_file():
        raise ModelError(f"mf6 wrote no head file {files.head.name} in {files.sim_dir}")
    heads, times, kk = read_heads(files.head)
    budget = []
    if files.budget is not None and files.budget.is_file() and files.budget.stat().st_size:
        sto = files.package("STO6")
        budget = read_budget(files.budget, sto.pname if sto else "sto")
    return SolveResult(heads, times, kk, budget, [])


def run_model(model, exe: str, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> SolveResult:
    """Write ``model`` (:func:`~.writer.write_model`: from its source folder, keeping the
    folder's IMS and the packages only mf6 runs), run mf6 on it and read the outputs."""
    from .writer import write_model

    ws = new_run_folder()
    write_model(model, ws)
    return run_in_folder(ws, exe, timeout_s=timeout_s)
