"""The ``mf6`` backend: write with flopy, run the real MODFLOW 6 executable, read the heads.

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

from ..errors import InputError, ModelError
from .embedded import SolveResult
from .model import GwfModel

log = logging.getLogger(__name__)


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


def run_simulation_folder(sim_dir: str | Path, exe: str) -> SolveResult:
    """Run an MF6 simulation folder as it is (in a temporary copy) and read its outputs.

    Parameters
    ----------
    sim_dir
        Folder with ``mfsim.nam``.
    exe
        The mf6 executable.
    """
    with tempfile.TemporaryDirectory(prefix="mf6_") as tmp:
        ws = Path(tmp) / "sim"
        shutil.copytree(sim_dir, ws)
        return _run(ws, exe)


def _run(ws: Path, exe: str) -> SolveResult:
    proc = subprocess.run([exe], cwd=ws, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or "normal termination" not in proc.stdout.lower():
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-5:])
        raise ModelError(f"mf6 ({exe}) failed in {ws}: {tail}")
    return read_outputs(ws)


def read_outputs(ws: str | Path) -> SolveResult:
    """Heads (the first ``*.hds``) and listing-file budget of a finished MF6 run."""
    import flopy

    ws = Path(ws)
    hds = sorted(ws.glob("*.hds"))
    if not hds:
        raise ModelError(f"mf6 wrote no head file in {ws} (is HEAD FILEOUT set in OC?)")
    hf = flopy.utils.HeadFile(str(hds[0]), precision="double")
    times = np.array(hf.get_times(), dtype=float)
    kk = [(int(a), int(b)) for a, b in hf.get_kstpkper()]
    heads = np.stack([hf.get_data(totim=t) for t in times])
    budget = []
    lst = hds[0].with_suffix(".lst")
    if lst.is_file():
        rates, _ = flopy.utils.Mf6ListBudget(str(lst)).get_dataframes(start_datetime=None)
        terms = sorted({c.rsplit("_", 1)[0] for c in rates.columns
                        if c.endswith("_IN") and not c.startswith("TOTAL")})
        for t, row in rates.iterrows():
            i = int(np.argmin(np.abs(times - float(t)))) if len(times) else 0
            kstp, kper = kk[i] if kk else (0, 0)
            budget += [{"time": float(t), "kper": kper, "kstp": kstp, "term": term,
                        "package": term.lower(), "rate_in": float(row[f"{term}_IN"]),
                        "rate_out": float(row[f"{term}_OUT"])} for term in terms]
    return SolveResult(heads, times, kk, budget, [])


def write_model(model: GwfModel, ws: str | Path) -> Path:
    """Write ``model`` as an MF6 simulation (``mfsim.nam``, model ``gwf``) with flopy."""
    import flopy

    ws = Path(ws)
    sim = flopy.mf6.MFSimulation(sim_name="sim", sim_ws=str(ws), verbosity_level=0)
    flopy.mf6.ModflowTdis(sim, time_units="DAYS", nper=model.nper,
                          perioddata=list(zip(model.perlen, model.nstp, model.tsmult,
                                              strict=True)))
    flopy.mf6.ModflowIms(sim, complexity="COMPLEX" if model.newton else "SIMPLE",
                         outer_dvclose=min(model.outer_dvclose, 1e-6),
                         outer_maximum=max(model.outer_maximum, 100),
                         linear_acceleration="BICGSTAB" if model.newton else "CG")
    newton = ("NEWTON UNDER_RELAXATION" if model.under_relaxation else "NEWTON") \
        if model.newton else None
    gwf = flopy.mf6.ModflowGwf(sim, modelname="gwf", save_flows=True, newtonoptions=newton)
    flopy.mf6.ModflowGwfdis(gwf, nlay=model.nlay, nrow=model.nrow, ncol=model.ncol,
                            delr=model.delr, delc=model.delc, top=model.top, botm=model.botm,
                            idomain=model.idomain, xorigin=model.xorigin,
                            yorigin=model.yorigin, length_units="METERS")
    flopy.mf6.ModflowGwfic(gwf, strt=model.strt)
    flopy.mf6.ModflowGwfnpf(gwf, icelltype=model.icelltype, k=model.k, k22=model.k22,
                            k33=model.k33)
    if model.has_sto:
        flopy.mf6.ModflowGwfsto(
            gwf, iconvert=model.iconvert, ss=model.ss, sy=model.sy,
            storagecoefficient=model.storagecoefficient or None,
            steady_state={i: True for i in range(model.nper) if model.steady[i]},
            transient={i: True for i in range(model.nper) if not model.steady[i]})
    for pkg in model.packages:
        _write_package(gwf, pkg)
    flopy.mf6.ModflowGwfoc(gwf, head_filerecord="gwf.hds", budget_filerecord="gwf.cbc",
                           saverecord=[("HEAD", "ALL"), ("BUDGET", "ALL")],
                           printrecord=[("BUDGET", "ALL")])
    sim.write_simulation(silent=True)
    return ws


def _write_package(gwf, pkg) -> None:
    import flopy

    from .model import LIST_COLUMNS

    if pkg.readasarrays:
        cls = flopy.mf6.ModflowGwfrcha if pkg.kind == "rch" else flopy.mf6.ModflowGwfevta
        arrays: dict[str, dict] = {}
        for kper, block in pkg.periods.items():
            for name, arr in block.items():
                arrays.setdefault(name, {})[kper] = arr.astype(int) if name[0] == "i" else arr
        cls(gwf, pname=pkg.name, fixed_cell=pkg.fixed_cell or None, **arrays)
        return
    spd = {}
    for kper, block in pkg.periods.items():
        rows = []
        if block:
            cid = block["cellid"]
            vals = [block[c] for c in LIST_COLUMNS[pkg.kind]]
            rows = [[tuple(int(v) for v in cid[i]), *(float(v[i]) for v in vals)]
                    for i in range(len(cid))]
        spd[kper] = rows
    cls = getattr(flopy.mf6, f"ModflowGwf{pkg.kind}")
    extra = {"auto_flow_reduce": pkg.auto_flow_reduce} if pkg.kind == "wel" and \
        pkg.auto_flow_reduce is not None else {}
    if pkg.kind in ("rch", "evt") and pkg.fixed_cell:
        extra["fixed_cell"] = True
    maxbound = max([len(r) for r in spd.values()] + [1])
    cls(gwf, pname=pkg.name, stress_period_data=spd, maxbound=maxbound, **extra)


def run_model(model: GwfModel, exe: str) -> SolveResult:
    """Write ``model`` with flopy, run mf6 on it and read the heads and budget."""
    with tempfile.TemporaryDirectory(prefix="mf6_") as tmp:
        ws = write_model(model, Path(tmp) / "sim")
        return _run(ws, exe)
