"""A plain description of a structured MODFLOW 6 groundwater-flow (GWF) model.

:class:`GwfModel` holds everything the solvers need as numpy arrays: the DIS grid, the
IC/NPF/STO arrays, the time discretisation and, per boundary package, the stress period
blocks. It knows nothing about flopy or files; :mod:`irrigation.groundwater.load` fills it
from a simulation folder and :mod:`irrigation.groundwater.mf6` writes it back.

Conventions: layer, row and column indices are 0-based; lengths in m, time in d, heads in
m above datum, flows in m3 d-1 (positive into the aquifer).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from ..errors import InputError
from .mf6files import OutputControl, SimulationFiles

PackageKind = Literal["chd", "wel", "drn", "ghb", "riv", "rch", "evt"]

#: MF6 list-input value columns per package kind, in file order.
LIST_COLUMNS: dict[str, tuple[str, ...]] = {
    "chd": ("head",),
    "wel": ("q",),
    "drn": ("elev", "cond"),
    "ghb": ("bhead", "cond"),
    "riv": ("stage", "cond", "rbot"),
    "rch": ("recharge",),
    "evt": ("surface", "rate", "depth"),
}

#: Value HDRY that MODFLOW 6 writes for dry cells (standard formulation) [m].
HDRY = -1.0e30
#: Value HNOFLO that MODFLOW 6 writes for inactive cells [m].
HNOFLO = 1.0e30


@dataclass(frozen=True)
class Unsupported:
    """An input the embedded solver cannot run (MF6 can): a package type or an option.

    Attributes
    ----------
    file
        The input file.
    field
        The package type or option, e.g. ``"HFB6"`` or ``"XT3D"``.
    message
        What it is, e.g. ``"package HFB is not supported by the embedded solver"``.
    """

    file: str
    field: str
    message: str

    def error(self) -> InputError:
        """The :class:`~irrigation.errors.InputError` the embedded backend raises."""
        return InputError(f"{self.message} (use backend 'mf6')", file=self.file,
                          field=self.field)


@dataclass(frozen=True)
class ForeignPackage:
    """A package of the model folder that only mf6 runs (HFB, SFR, MAW, LAK, UZF, ...) or
    whose options only mf6 runs; the mf6 backend passes its file through.

    Attributes
    ----------
    ftype, pname
        Type as in the name file (``"HFB6"``) and package name.
    path
        Its input file.
    """

    ftype: str
    pname: str
    path: Path


@dataclass
class Package:
    """One boundary package and its stress period blocks.

    Parameters
    ----------
    kind
        ``"chd"``, ``"wel"``, ``"drn"``, ``"ghb"``, ``"riv"``, ``"rch"`` or ``"evt"``.
    name
        Package name (used in budgets), e.g. ``"wel"`` or ``"rcha"``.
    periods
        0-based stress period -> block content. A list block is a dict with ``"cellid"``
        (int array (n, 3): layer, row, col) and one array (n,) per value column of
        :data:`LIST_COLUMNS`; an array block (``READASARRAYS``) holds (nrow, ncol) arrays
        (``"recharge"``, ``"irch"``; ``"surface"``, ``"rate"``, ``"depth"``, ``"ievt"``;
        IRCH/IEVT as 0-based layers).
        A period without an entry keeps the previous block; an empty dict switches a list
        package off (MF6 input rules, Langevin et al. 2017, ch. 8).
    readasarrays
        Array input (RCHA/EVTA).
    fixed_cell
        RCH/EVT ``FIXED_CELL``: do not move the stress to the highest active cell below.
    auto_flow_reduce
        WEL ``AUTO_FLOW_REDUCE`` fraction of the cell thickness, or ``None``.
    file
        The input file (for error messages).
    """

    kind: PackageKind
    name: str
    periods: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)
    readasarrays: bool = False
    fixed_cell: bool = False
    auto_flow_reduce: float | None = None
    file: str = ""

    @property
    def budget_name(self) -> str:
        """Term name in the MF6 volumetric budget (``RCHA`` for array recharge, ...)."""
        return self.kind.upper() + ("A" if self.readasarrays else "")

    def resolved(self, nper: int) -> list[dict[str, np.ndarray]]:
        """The block in force in every stress period (forward-filled, per array)."""
        out: list[dict[str, np.ndarray]] = []
        current: dict[str, np.ndarray] = {}
        for kper in range(nper):
            if kper in self.periods:
                block = self.periods[kper]
                current = {**current, **block} if self.readasarrays else dict(block)
            out.append(current)
        return out


@dataclass
class GwfModel:
    """A structured (DIS) MF6 GWF model as numpy arrays; shapes are (nlay, nrow, ncol).

    Attributes
    ----------
    delr, delc
        Column widths along x (ncol,) and row heights along y (nrow,) [m].
    top, botm
        Model top (nrow, ncol) and layer bottoms (nlay, nrow, ncol) [m].
    idomain
        1 active, 0 inactive (int array).
    strt
        Starting heads [m].
    icelltype
        0 confined, >0 convertible (NPF).
    k, k22, k33
        Hydraulic conductivity along rows (x), columns (y) and vertical [m d-1].
    iconvert, ss, sy
        STO arrays; ``ss`` is the specific storage [m-1] (or the storage coefficient [-]
        if ``storagecoefficient``); ``sy`` specific yield [-]. ``has_sto`` False means
        every period is steady state.
    steady
        Per stress period, True for steady state.
    perlen, nstp, tsmult
        TDIS period data (period length in d).
    newton
        NEWTON formulation on (with ``under_relaxation`` if requested).
    packages
        Boundary packages in name-file order.
    oc
        What output control saves (:class:`~.mf6files.OutputControl`); both backends
        return the heads and budgets of those steps only.
    source
        The files of the simulation folder the model was loaded from (``None`` for a model
        built from arrays); the mf6 backend writes derived models from it, keeping the
        folder's own IMS and passing :attr:`foreign` packages through.
    source_kper
        Per stress period, the period of the source folder whose stresses of the foreign
        packages are in force (see :meth:`first_period`, the forecast).
    source_arrays
        The arrays as loaded from the source folder (to tell whether DIS/NPF/STO changed).
    foreign
        Packages only mf6 runs (:class:`ForeignPackage`).
    unsupported
        What the embedded solver cannot run (:class:`Unsupported`); it raises the first.
    sto_name
        Name of the STO package (budget rows of storage).
    """

    nlay: int
    nrow: int
    ncol: int
    delr: np.ndarray
    delc: np.ndarray
    top: np.ndarray
    botm: np.ndarray
    idomain: np.ndarray
    strt: np.ndarray
    icelltype: np.ndarray
    k: np.ndarray
    k22: np.ndarray
    k33: np.ndarray
    iconvert: np.ndarray
    ss: np.ndarray
    sy: np.ndarray
    perlen: np.ndarray
    nstp: np.ndarray
    tsmult: np.ndarray
    steady: np.ndarray
    has_sto: bool = True
    storagecoefficient: bool = False
    newton: bool = False
    under_relaxation: bool = False
    packages: list[Package] = field(default_factory=list)
    xorigin: float = 0.0
    yorigin: float = 0.0
    name: str = "gwf"
    outer_dvclose: float = 1e-6
    outer_maximum: int = 100
    sim_dir: str = ""
    oc: OutputControl = field(default_factory=OutputControl.every_step)
    source: SimulationFiles | None = None
    source_kper: np.ndarray | None = None
    source_arrays: dict[str, np.ndarray] = field(default_factory=dict)
    foreign: tuple[ForeignPackage, ...] = ()
    unsupported: tuple[Unsupported, ...] = ()
    sto_name: str = "sto"

    @property
    def shape(self) -> tuple[int, int, int]:
        """(nlay, nrow, ncol)."""
        return (self.nlay, self.nrow, self.ncol)

    @property
    def nper(self) -> int:
        """Number of stress periods."""
        return len(self.perlen)

    @property
    def cell_top(self) -> np.ndarray:
        """Top of every cell (nlay, nrow, ncol) [m]: model top, then the bottom above."""
        return np.concatenate([self.top[None], self.botm[:-1]], axis=0)

    @property
    def x_centres(self) -> np.ndarray:
        """x of the column centres (ncol) [m]."""
        return self.xorigin + np.cumsum(self.delr) - 0.5 * self.delr

    @property
    def y_centres(self) -> np.ndarray:
        """y of the row centres (nrow) [m]; row 0 is the northern row."""
        return self.yorigin + float(np.sum(self.delc)) - np.cumsum(self.delc) + 0.5 * self.delc

    @property
    def area(self) -> np.ndarray:
        """Horizontal cell area (nrow, ncol) [m2]."""
        return np.outer(self.delc, self.delr)

    def replace(self, **changes) -> GwfModel:
        """A copy with some fields replaced (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)

    def first_period(self) -> GwfModel:
        """The model cut to its first stress period (e.g. the steady state of a city model:
        later periods cannot change its heads, so solving them is wasted work)."""
        packages = [dataclasses.replace(p, periods={k: v for k, v in p.periods.items()
                                                    if k == 0}) for p in self.packages]
        kper = None if self.source_kper is None else self.source_kper[:1]
        return self.replace(packages=packages, perlen=self.perlen[:1], nstp=self.nstp[:1],
                            tsmult=self.tsmult[:1], steady=self.steady[:1],
                            oc=self.oc.first_periods(1), source_kper=kper)

    def time_steps(self) -> list[tuple[int, int, float]]:
        """(kper, kstp, delt) of every time step; MF6 TDIS step-length rule.

        Notes
        -----
        delt_1 = perlen (tsmult - 1) / (tsmult^nstp - 1), delt_{i+1} = tsmult delt_i; equal
        steps when tsmult = 1 (Langevin et al. 2017, TDIS input).
        """
        steps = []
        data = zip(self.perlen, self.nstp, self.tsmult, strict=True)
        for kper, (plen, n, mult) in enumerate(data):
            if mult == 1.0:
                dts = np.full(int(n), plen / n)
            else:
                d1 = plen * (mult - 1.0) / (mult ** int(n) - 1.0)
                dts = d1 * mult ** np.arange(int(n))
            steps += [(kper, kstp, float(dt)) for kstp, dt in enumerate(dts)]
        return steps

    def xy_to_rowcol(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row and column of points (x, y) [m]; -1 where outside the grid.

        The grid's lower-left corner is (xorigin, yorigin); row 0 is the northern row.
        """
        x = np.asarray(x, dtype=float) - self.xorigin
        y = np.asarray(y, dtype=float) - self.yorigin
        xe = np.concatenate([[0.0], np.cumsum(self.delr)])
        ye = np.concatenate([[0.0], np.cumsum(self.delc[::-1])])
        return rowcol_in_edges(xe, ye, x, y)


def rowcol_in_edges(x_edges: np.ndarray, y_edges: np.ndarray, x: np.ndarray,
                    y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of points (x, y) [m] in a grid given by its cell edges; -1 outside.

    ``x_edges`` (ncol + 1) increase west to east, ``y_edges`` (nrow + 1) south to north;
    row 0 is the northern row. A point on an inner edge belongs to the cell east / north of it.
    """
    col = np.searchsorted(x_edges, x, side="right") - 1
    rflip = np.searchsorted(y_edges, y, side="right") - 1
    ncol, nrow = len(x_edges) - 1, len(y_edges) - 1
    inside = (col >= 0) & (col < ncol) & (rflip >= 0) & (rflip < nrow)
    return np.where(inside, nrow - 1 - rflip, -1), np.where(inside, col, -1)
