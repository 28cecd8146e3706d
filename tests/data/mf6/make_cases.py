#!/usr/bin/env python
"""MODFLOW 6 reference cases n1-n3 for what the shared cases a-d do not exercise.

Each case is written with flopy and run with the real MODFLOW 6 (6.6.2, the static build
in ``../shared/bin/mf6``); its inputs and the outputs mf6 wrote are the test oracle of the
embedded solver (``tests/groundwater/test_reference_mf6.py`` runs every case folder here).

* ``n1_inactive_rcha_evta``: 3 layers, standard formulation, irregular columns and rows.
  Blocks of IDOMAIN = 0 in layer 1 under array recharge and ET (default IRCH/IEVT = layer
  1): MF6 drops those stresses, it does not move them down. A ridge where layer 1 is above
  the water table: its cells go dry and their recharge moves to layer 2. CHD in all three
  layers on the west edge, GHB in layers 2-3 on the east edge. Steady period, then two
  transient periods of 2 days.
* ``n2_passthrough_irch_ievt``: 3 layers, NEWTON. Layer 2 has a block of IDOMAIN = -1
  (vertical pass-through: layer 1 connects to layer 3) and a corner of IDOMAIN = 0. RCHA
  with an IRCH array (layers 1-3, some entries on pass-through or inactive cells, which
  MF6 drops), EVTA with an IEVT array, K22 and K33 per layer with K22OVERK/K33OVERK, a
  well in layer 3 under the pass-through block, time steps growing by 1.5.
* ``n3_perched_riv_chd``: 3 layers, NEWTON, anisotropic K22. A river on a terrace whose
  aquifer head lies below the river bottom (perched: the loss is C (stage - RBOT)) and a
  connected reach, CHD cells in layers 1 and 3, DRN and GHB, a transient period with a
  pumping well.

Usage::

    MF6_EXE=/path/to/mf6 python make_cases.py [output_folder]

mf6 is taken from ``MF6_EXE``, else from PATH; the output folder defaults to the folder of
this script. Each case folder gets its MF6 inputs, ``gwf.hds``, ``gwf.lst`` (gzipped when
larger than 20 kB, as the tests expect) and ``case.json`` (summary, with the sha256 of
``gwf.hds`` and of ``gwf.cbc``, which is not kept: ~0.4 MB of cell-by-cell flows a case).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import flopy
import numpy as np

NAME = "gwf"
SEED = 20261129
GZIP_ABOVE = 20_000


def _irregular(n: int, lo: float, hi: float) -> np.ndarray:
    """Cell sizes growing from ``lo`` at both ends to ``hi`` in the middle [m]."""
    x = np.abs(np.linspace(-1.0, 1.0, n))
    return np.round(hi - (hi - lo) * x ** 1.5, 3)


def _sim(ws: Path, periods: list[tuple[float, int, float]], newton: bool, ims: dict):
    sim = flopy.mf6.MFSimulation(sim_name="sim", sim_ws=str(ws), exe_name="mf6",
                                 verbosity_level=0, write_headers=False)
    flopy.mf6.ModflowTdis(sim, time_units="days", nper=len(periods), perioddata=periods)
    flopy.mf6.ModflowIms(sim, **ims)
    gwf = flopy.mf6.ModflowGwf(sim, modelname=NAME, save_flows=True,
                               newtonoptions="NEWTON" if newton else None)
    return sim, gwf


def _oc(gwf) -> None:
    flopy.mf6.ModflowGwfoc(gwf, head_filerecord=f"{NAME}.hds", budget_filerecord=f"{NAME}.cbc",
                           saverecord=[("HEAD", "ALL"), ("BUDGET", "ALL")],
                           printrecord=[("BUDGET", "ALL")])


def case_n1(ws: Path) -> dict:
    """Inactive blocks under RCHA/EVTA, a drying ridge (standard formulation)."""
    rng = np.random.default_rng(SEED)
    nlay, nrow, ncol = 3, 24, 30
    delr, delc = _irregular(ncol, 20.0, 60.0), _irregular(nrow, 25.0, 50.0)
    jj = np.arange(ncol)[None, :] * np.ones((nrow, 1))
    ii = np.arange(nrow)[:, None] * np.ones((1, ncol))
    top = np.round(40.0 - 0.12 * jj + 0.3 * rng.standard_normal((nrow, ncol)), 3)
    ridge = np.exp(-(((ii - 7) / 3.0) ** 2 + ((jj - 20) / 4.0) ** 2))
    bot1 = np.round(np.minimum(28.0 - 0.05 * jj + 10.0 * ridge, top - 1.0), 3)
    botm = np.stack([bot1, np.full((nrow, ncol), 18.0), np.full((nrow, ncol), 0.0)])
    idomain = np.ones((nlay, nrow, ncol), int)
    idomain[0, 14:19, 5:11] = 0            # above active layer-2 cells
    idomain[0, 3:7, 9:14] = 0              # above an inactive layer-2 block
    idomain[1, 3:7, 9:14] = 0
    k = np.stack([np.full((nrow, ncol), 12.0), np.full((nrow, ncol), 2.0),
                  np.full((nrow, ncol), 6.0)])
    k = np.round(k * np.exp(0.3 * rng.standard_normal(k.shape)), 4)
    sim, gwf = _sim(ws, [(1.0, 1, 1.0), (2.0, 2, 1.0), (2.0, 2, 1.0)], newton=False,
                    ims={"complexity": "simple", "outer_dvclose": 1e-8, "outer_maximum": 300,
                         "inner_maximum": 500, "inner_dvclose": 1e-10, "rcloserecord": 1e-8,
                         "linear_acceleration": "cg"})
    flopy.mf6.ModflowGwfdis(gwf, nlay=nlay, nrow=nrow, ncol=ncol, delr=delr, delc=delc,
                            top=top, botm=botm, idomain=idomain)
    flopy.mf6.ModflowGwfic(gwf, strt=np.round(np.broadcast_to(top - 1.0, botm.shape), 3))
    flopy.mf6.ModflowGwfnpf(gwf, icelltype=[1, 0, 0], k=k, k33=np.round(k / 5.0, 5))
    flopy.mf6.ModflowGwfsto(gwf, iconvert=[1, 0, 0], ss=1e-5, sy=[0.2, 0.05, 0.05],
                            steady_state={0: True}, transient={1: True})
    chd = [((lay, r, 0), 34.0 - 0.2 * lay) for lay in range(nlay) for r in range(nrow)]
    flopy.mf6.ModflowGwfchd(gwf, stress_period_data={0: chd})
    ghb = [((lay, r, ncol - 1), 30.5, 40.0) for lay in (1, 2) for r in range(nrow)]
    flopy.mf6.ModflowGwfghb(gwf, stress_period_data={0: ghb})
    rch0 = np.round(4e-4 + 3e-4 * rng.random((nrow, ncol)), 7)
    flopy.mf6.ModflowGwfrcha(gwf, recharge={0: rch0, 1: np.round(rch0 * 3.0, 7)})
    flopy.mf6.ModflowGwfevta(gwf, surface=top, rate={0: 1.5e-3, 2: 3.0e-3}, depth=2.5)
    flopy.mf6.ModflowGwfwel(gwf, stress_period_data={1: [((0, 12, 18), -60.0)], 2: []})
    _oc(gwf)
    sim.write_simulation(silent=True)
    return {"description": case_n1.__doc__, "newton": False}


def case_n2(ws: Path) -> dict:
    """Pass-through cells, IRCH/IEVT arrays, K22/K33 per layer (NEWTON)."""
    rng = np.random.default_rng(SEED + 1)
    nlay, nrow, ncol = 3, 20, 25
    delr, delc = _irregular(ncol, 15.0, 45.0), _irregular(nrow, 20.0, 40.0)
    jj = np.arange(ncol)[None, :] * np.ones((nrow, 1))
    top = np.round(30.0 - 0.1 * jj + 0.2 * rng.standard_normal((nrow, ncol)), 3)
    botm = np.stack([np.full((nrow, ncol), 22.0), np.full((nrow, ncol), 14.0),
                     np.full((nrow, ncol), 0.0)])
    idomain = np.ones((nlay, nrow, ncol), int)
    idomain[1, 6:13, 8:16] = -1            # vertical pass-through block
    idomain[1, 15:, 20:] = 0               # inactive corner of layer 2
    irch = np.ones((nrow, ncol), int)
    irch[:, 12:] = 2                        # layer 2: on the pass-through block -> dropped
    irch[:4, :] = 3
    ievt = np.ones((nrow, ncol), int)
    ievt[16:, 18:] = 2                      # partly the inactive corner -> dropped
    k = np.round(np.stack([np.full((nrow, ncol), 8.0), np.full((nrow, ncol), 0.5),
                           np.full((nrow, ncol), 5.0)])
                 * np.exp(0.4 * rng.standard_normal((nlay, nrow, ncol))), 4)
    sim, gwf = _sim(ws, [(1.0, 1, 1.0), (6.0, 3, 1.5), (4.0, 2, 1.0)], newton=True,
                    ims={"complexity": "moderate", "outer_dvclose": 1e-7,
                         "outer_maximum": 200, "inner_maximum": 300, "inner_dvclose": 1e-9,
                         "rcloserecord": 1e-6, "linear_acceleration": "bicgstab",
                         "under_relaxation": "dbd"})
    flopy.mf6.ModflowGwfdis(gwf, nlay=nlay, nrow=nrow, ncol=ncol, delr=delr, delc=delc,
                            top=top, botm=botm, idomain=idomain)
    flopy.mf6.ModflowGwfic(gwf, strt=25.0)
    flopy.mf6.ModflowGwfnpf(gwf, icelltype=[1, 0, 0], k=k, k22=[0.5, 1.0, 0.3],
                            k33=[0.1, 0.05, 0.2], k22overk=True, k33overk=True)
    flopy.mf6.ModflowGwfsto(gwf, iconvert=[1, 0, 0], ss=[1e-5, 2e-5, 1e-5],
                            sy=[0.18, 0.05, 0.05], steady_state={0: True}, transient={1: True})
    ghb = [((lay, r, 0), 27.0, 30.0) for lay in (0, 2) for r in range(nrow)]
    ghb += [((lay, r, ncol - 1), 23.5, 30.0) for lay in (0, 2) for r in range(nrow)]
    flopy.mf6.ModflowGwfghb(gwf, stress_period_data={0: ghb})
    rch = np.round(5e-4 + 5e-4 * rng.random((nrow, ncol)), 7)
    flopy.mf6.ModflowGwfrcha(gwf, irch={0: irch - 1}, recharge={0: rch, 2: rch * 0.2})
    flopy.mf6.ModflowGwfevta(gwf, ievt={0: ievt - 1}, surface=top, rate=2e-3,
                             depth=np.round(1.0 + 2.0 * rng.random((nrow, ncol)), 3))
    flopy.mf6.ModflowGwfwel(gwf, stress_period_data={1: [((2, 9, 11), -250.0)]})
    _oc(gwf)
    sim.write_simulation(silent=True)
    return {"description": case_n2.__doc__, "newton": True}


def case_n3(ws: Path) -> dict:
    """A perched river over a deep water table, CHD in layers 1 and 3 (NEWTON)."""
    rng = np.random.default_rng(SEED + 2)
    nlay, nrow, ncol = 3, 18, 28
    delr, delc = _irregular(ncol, 20.0, 50.0), np.full(nrow, 30.0)
    jj = np.arange(ncol)[None, :] * np.ones((nrow, 1))
    top = np.round(45.0 - 0.4 * jj + 0.2 * rng.standard_normal((nrow, ncol)), 3)
    botm = np.stack([np.full((nrow, ncol), 30.0), np.full((nrow, ncol), 20.0),
                     np.full((nrow, ncol), 0.0)])
    k = np.round(np.stack([np.full((nrow, ncol), 10.0), np.full((nrow, ncol), 0.3),
                           np.full((nrow, ncol), 8.0)])
                 * np.exp(0.3 * rng.standard_normal((nlay, nrow, ncol))), 4)
    sim, gwf = _sim(ws, [(1.0, 1, 1.0), (5.0, 5, 1.0)], newton=True,
                    ims={"complexity": "moderate", "outer_dvclose": 1e-7,
                         "outer_maximum": 200, "inner_maximum": 300, "inner_dvclose": 1e-9,
                         "rcloserecord": 1e-6, "linear_acceleration": "bicgstab"})
    flopy.mf6.ModflowGwfdis(gwf, nlay=nlay, nrow=nrow, ncol=ncol, delr=delr, delc=delc,
                            top=top, botm=botm)
    flopy.mf6.ModflowGwfic(gwf, strt=np.round(np.broadcast_to(top - 3.0, botm.shape), 3))
    flopy.mf6.ModflowGwfnpf(gwf, icelltype=[1, 0, 0], k=k, k22=np.round(k * 0.4, 5),
                            k33=np.round(k / 10.0, 5))
    flopy.mf6.ModflowGwfsto(gwf, iconvert=[1, 0, 0], ss=1e-5, sy=[0.2, 0.05, 0.05],
                            steady_state={0: True}, transient={1: True})
    # the terrace river (columns 2-9, row 4): stage 1 m above its bed, bed far above the
    # water table in the west of the model -> perched; the lower reach (columns 18-26)
    # cuts into the aquifer and drains or feeds it
    riv = [((0, 4, c), round(float(top[4, c]) - 0.5, 3), 80.0, round(float(top[4, c]) - 1.5, 3))
           for c in range(2, 10)]
    riv += [((0, 12, c), round(float(top[12, c]) - 1.0, 3), 150.0,
             round(float(top[12, c]) - 2.5, 3)) for c in range(18, 27)]
    flopy.mf6.ModflowGwfriv(gwf, stress_period_data={0: riv})
    chd = [((0, r, ncol - 1), 33.2) for r in range(nrow)]
    chd += [((2, r, 0), 31.0) for r in range(nrow)]
    flopy.mf6.ModflowGwfchd(gwf, stress_period_data={0: chd})
    drn = [((0, 15, c), round(float(top[15, c]) - 1.0, 3), 60.0) for c in range(10, 20)]
    flopy.mf6.ModflowGwfdrn(gwf, stress_period_data={0: drn})
    ghb = [((2, 0, c), 31.5, 25.0) for c in range(ncol)]
    flopy.mf6.ModflowGwfghb(gwf, stress_period_data={0: ghb})
    flopy.mf6.ModflowGwfrcha(gwf, recharge=3e-4)
    flopy.mf6.ModflowGwfwel(gwf, stress_period_data={1: [((2, 9, 14), -400.0)]})
    _oc(gwf)
    sim.write_simulation(silent=True)
    return {"description": case_n3.__doc__, "newton": True}


CASES = {"n1_inactive_rcha_evta": case_n1, "n2_passthrough_irch_ievt": case_n2,
         "n3_perched_riv_chd": case_n3}


def _mf6() -> str:
    exe = os.environ.get("MF6_EXE") or shutil.which("mf6")
    if not exe:
        sys.exit("no mf6: set MF6_EXE or put mf6 on PATH")
    return exe


def _summary(ws: Path) -> dict:
    hf = flopy.utils.HeadFile(str(ws / f"{NAME}.hds"))
    heads = hf.get_alldata()
    wet = np.abs(heads) < 1e29
    version = subprocess.run([_mf6(), "--version"], capture_output=True, text=True).stdout
    return {
        "mf6": version.strip(),
        "flopy": flopy.__version__,
        "times": [float(t) for t in hf.get_times()],
        "head_min": float(heads[wet].min()), "head_max": float(heads[wet].max()),
        "n_hdry": int((heads <= -1e29).sum()), "n_hnoflo": int((heads >= 1e29).sum()),
        "sha256": {f: hashlib.sha256((ws / f).read_bytes()).hexdigest()
                   for f in (f"{NAME}.hds", f"{NAME}.cbc")},
    }


def make(name: str, out: Path) -> None:
    ws = out / name
    if ws.exists():
        shutil.rmtree(ws)
    ws.mkdir(parents=True)
    info = CASES[name](ws)
    proc = subprocess.run([_mf6()], cwd=ws, capture_output=True, text=True)
    if proc.returncode != 0 or "normal termination" not in proc.stdout.lower():
        sys.exit(f"{name}: mf6 failed\n{proc.stdout[-2000:]}")
    info.update(_summary(ws))
    for f in ("mfsim.lst", f"{NAME}.dis.grb", f"{NAME}.cbc"):  # the cbc: sha256 in case.json
        (ws / f).unlink(missing_ok=True)
    (ws / "case.json").write_text(json.dumps(info, indent=1) + "\n")
    for f in sorted(ws.iterdir()):
        if f.stat().st_size > GZIP_ABOVE:
            with open(f, "rb") as src, gzip.GzipFile(str(f) + ".gz", "wb", mtime=0) as dst:
                shutil.copyfileobj(src, dst)
            f.unlink()
    print(f"{name}: {info['head_min']:.3f} to {info['head_max']:.3f} m, "
          f"{info['n_hdry']} dry, {info['n_hnoflo']} inactive head values")


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
    for case in CASES:
        make(case, target)
