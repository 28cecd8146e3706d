"""Build a MODFLOW 6 groundwater-flow simulation with flopy from a plain description.

A :class:`ModelSpec` holds a structured-grid GWF model as numpy arrays (grid, hydraulic
properties, boundaries, stress periods); :func:`write_simulation` turns it into a normal
MODFLOW 6 simulation folder through flopy. flopy stays at this edge: nothing else in
the package needs to know its API to create a model.

Units: lengths m, time d, K m d-1, recharge m d-1, pumping m3 d-1 (negative = extraction),
conductances m2 d-1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Period:
    """A stress period: length [d], number of time steps, steady state or transient."""

    length_d: float
    nstp: int = 1
    steady: bool = False


@dataclass(frozen=True)
class ModelSpec:
    """A structured MODFLOW 6 GWF model described by arrays.

    Attributes
    ----------
    delr, delc
        Column widths (along x) and row heights (along y) [m]; row 0 is the north edge.
    top
        Land surface / top of layer 1 [m above datum], shape (nrow, ncol).
    botm
        Layer bottoms [m above datum], shape (nlay, nrow, ncol).
    k, k33
        Horizontal and vertical hydraulic conductivity [m d-1], shape (nlay, nrow, ncol).
    icelltype
        Per layer: 0 confined, 1 convertible.
    sy, ss
        Specific yield [-] and specific storage [m-1] per layer.
    strt
        Starting heads [m], shape (nlay, nrow, ncol).
    periods
        Stress periods.
    recharge_m_d
        Recharge per period [m d-1], each (nrow, ncol); a shorter list keeps the last
        array in force (MF6 array-input semantics).
    wells
        Per period, a list of ``(layer, row, col, q_m3_d)`` (0-based; q < 0 extracts).
    riv
        ``(layer, row, col, stage_m, cond_m2_d, rbot_m)`` rows, the same in every period.
    ghb
        ``(layer, row, col, head_m, cond_m2_d)`` rows, the same in every period.
    drn
        ``(layer, row, col, elev_m, cond_m2_d)`` rows, the same in every period.
    xorigin, yorigin
        Map coordinates of the lower-left grid corner [m, city CRS].
    newton
        Use the NEWTON formulation (robust for drying/rewetting unconfined cells).
    idomain
        1 active, 0 inactive per cell; ``None`` for all active.
    outer_dvclose_m, inner_dvclose_m
        IMS head-change criteria of the nonlinear and linear iterations [m].
    outer_maximum, inner_maximum
        IMS iteration limits.
    wel_auto_flow_reduce
        WEL ``AUTO_FLOW_REDUCE``: fraction of the cell thickness over which pumping is
        reduced as the head nears the cell bottom (MF6 WEL package option).
    """

    delr: np.ndarray
    delc: np.ndarray
    top: np.ndarray
    botm: np.ndarray
    k: np.ndarray
    k33: np.ndarray
    icelltype: tuple[int, ...]
    sy: tuple[float, ...]
    ss: tuple[float, ...]
    strt: np.ndarray
    periods: tuple[Period, ...]
    recharge_m_d: tuple[np.ndarray, ...]
    wells: tuple[tuple[tuple[int, int, int, float], ...], ...] = ()
    riv: tuple[tuple[int, int, int, float, float, float], ...] = ()
    ghb: tuple[tuple[int, int, int, float, float], ...] = ()
    drn: tuple[tuple[int, int, int, float, float], ...] = ()
    xorigin: float = 0.0
    yorigin: float = 0.0
    newton: bool = True
    idomain: np.ndarray | None = field(default=None)
    outer_dvclose_m: float = 1e-5
    inner_dvclose_m: float = 1e-7
    outer_maximum: int = 200
    inner_maximum: int = 300
    wel_auto_flow_reduce: float = 0.1

    @property
    def shape(self) -> tuple[int, int, int]:
        """(nlay, nrow, ncol)."""
        return self.botm.shape  # type: ignore[return-value]


def write_simulation(spec: ModelSpec, sim_ws: str | Path, *, name: str = "gwf") -> Path:
    """Write ``spec`` as a MODFLOW 6 simulation folder; returns the folder.

    The files carry no flopy header (so a rebuild is byte-for-byte identical) and name
    the simulation ``sim`` and the model ``name``; heads go to ``<name>.hds`` and the
    cell budget to ``<name>.cbc`` when the simulation runs.
    """
    import flopy

    sim_ws = Path(sim_ws)
    sim_ws.mkdir(parents=True, exist_ok=True)
    sim = flopy.mf6.MFSimulation(
        sim_name="sim", sim_ws=str(sim_ws), exe_name="mf6", verbosity_level=0, write_headers=False
    )
    flopy.mf6.ModflowTdis(
        sim,
        time_units="days",
        nper=len(spec.periods),
        perioddata=[(p.length_d, p.nstp, 1.0) for p in spec.periods],
    )
    flopy.mf6.ModflowIms(
        sim,
        complexity="moderate",
        outer_dvclose=spec.outer_dvclose_m,
        outer_maximum=spec.outer_maximum,
        inner_maximum=spec.inner_maximum,
        inner_dvclose=spec.inner_dvclose_m,
        linear_acceleration="bicgstab",
        under_relaxation="dbd" if spec.newton else "none",
    )
    gwf = flopy.mf6.ModflowGwf(
        sim,
        modelname=name,
        save_flows=True,
        newtonoptions="UNDER_RELAXATION" if spec.newton else None,
    )
    nlay, nrow, ncol = spec.shape
    flopy.mf6.ModflowGwfdis(
        gwf,
        length_units="meters",
        nlay=nlay,
        nrow=nrow,
        ncol=ncol,
        delr=spec.delr,
        delc=spec.delc,
        top=spec.top,
        botm=spec.botm,
        idomain=1 if spec.idomain is None else spec.idomain,
        xorigin=spec.xorigin,
        yorigin=spec.yorigin,
    )
    flopy.mf6.ModflowGwfic(gwf, strt=spec.strt)
    flopy.mf6.ModflowGwfnpf(
        gwf, icelltype=list(spec.icelltype), k=spec.k, k33=spec.k33, save_specific_discharge=False
    )
    flopy.mf6.ModflowGwfsto(
        gwf,
        iconvert=list(spec.icelltype),
        sy=list(spec.sy),
        ss=list(spec.ss),
        steady_state={i: True for i, p in enumerate(spec.periods) if p.steady},
        transient={i: True for i, p in enumerate(spec.periods) if not p.steady},
    )
    flopy.mf6.ModflowGwfrcha(gwf, recharge={i: r for i, r in enumerate(spec.recharge_m_d)})
    if spec.riv:
        rows = [((k, i, j), s, c, b) for k, i, j, s, c, b in spec.riv]
        flopy.mf6.ModflowGwfriv(gwf, stress_period_data={0: rows}, pname="riv")
    if spec.ghb:
        rows = [((k, i, j), h, c) for k, i, j, h, c in spec.ghb]
        flopy.mf6.ModflowGwfghb(gwf, stress_period_data={0: rows}, pname="ghb")
    if spec.drn:
        rows = [((k, i, j), e, c) for k, i, j, e, c in spec.drn]
        flopy.mf6.ModflowGwfdrn(gwf, stress_period_data={0: rows}, pname="drn")
    if spec.wells:
        spd = {i: [((k, r, c), q) for k, r, c, q in wells] for i, wells in enumerate(spec.wells)}
        flopy.mf6.ModflowGwfwel(
            gwf, stress_period_data=spd, pname="wel", auto_flow_reduce=spec.wel_auto_flow_reduce
        )
    flopy.mf6.ModflowGwfoc(
        gwf,
        head_filerecord=f"{name}.hds",
        budget_filerecord=f"{name}.cbc",
        saverecord=[("HEAD", "ALL"), ("BUDGET", "ALL")],
    )
    sim.write_simulation(silent=True)
    return sim_ws
