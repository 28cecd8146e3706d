"""Build a :class:`~.model.GwfModel` directly from arrays (tests, benchmarks, forecasts).

No files and no flopy are involved; :func:`~.mf6.write_model` can write the result as an
MF6 simulation.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .model import GwfModel, Package


def grid_model(
    shape: tuple[int, int, int],
    *,
    delr: float | Sequence[float] = 1.0,
    delc: float | Sequence[float] = 1.0,
    top: float | np.ndarray = 1.0,
    botm: Sequence[float] | np.ndarray = (0.0,),
    k: float | np.ndarray = 1.0,
    k33: float | np.ndarray | None = None,
    icelltype: int | np.ndarray = 0,
    strt: float | np.ndarray | None = None,
    ss: float | np.ndarray = 1e-5,
    sy: float | np.ndarray = 0.15,
    iconvert: int | np.ndarray | None = None,
    perlen: Sequence[float] = (1.0,),
    nstp: Sequence[int] | None = None,
    tsmult: Sequence[float] | None = None,
    steady: Sequence[bool] | None = None,
    newton: bool = False,
    idomain: np.ndarray | None = None,
    packages: Sequence[Package] = (),
) -> GwfModel:
    """A structured GWF model from scalars or arrays (broadcast to (nlay, nrow, ncol)).

    Parameters
    ----------
    shape
        (nlay, nrow, ncol).
    delr, delc
        Column widths / row heights [m], scalar or per column/row.
    top, botm
        Model top [m] and layer bottoms: a value per layer or a full array [m].
    k, k33
        Horizontal and vertical conductivity [m d-1] (k33 defaults to k).
    icelltype, iconvert
        Confined (0) or convertible (1); iconvert defaults to icelltype.
    strt
        Starting heads [m] (default: the model top).
    ss, sy
        Specific storage [m-1] and specific yield [-].
    perlen, nstp, tsmult, steady
        Stress periods [d]; default 1 step each, all transient.
    newton
        NEWTON formulation.
    idomain
        Active cells (default all).
    packages
        Boundary packages (:class:`~.model.Package`).
    """
    nlay, nrow, ncol = shape

    def full(v, dtype=float):
        a = np.asarray(v, dtype=dtype)
        if a.ndim == 1 and a.size == nlay and nlay > 1:
            a = a[:, None, None]
        return np.broadcast_to(a, shape).astype(dtype).copy()

    botm_a = np.asarray(botm, dtype=float)
    botm_a = full(botm_a if botm_a.ndim != 1 else botm_a[:, None, None])
    nper = len(perlen)
    return GwfModel(
        nlay=nlay, nrow=nrow, ncol=ncol,
        delr=np.broadcast_to(np.asarray(delr, float), (ncol,)).copy(),
        delc=np.broadcast_to(np.asarray(delc, float), (nrow,)).copy(),
        top=np.broadcast_to(np.asarray(top, float), (nrow, ncol)).copy(),
        botm=botm_a,
        idomain=np.ones(shape, int) if idomain is None else full(idomain, int),
        strt=full(np.broadcast_to(np.asarray(top, float), (nrow, ncol))
                  if strt is None else strt),
        icelltype=full(icelltype, int), k=full(k), k22=full(k),
        k33=full(k if k33 is None else k33),
        iconvert=full(icelltype if iconvert is None else iconvert, int),
        ss=full(ss), sy=full(sy),
        perlen=np.asarray(perlen, float),
        nstp=np.ones(nper, int) if nstp is None else np.asarray(nstp, int),
        tsmult=np.ones(nper) if tsmult is None else np.asarray(tsmult, float),
        steady=np.zeros(nper, bool) if steady is None else np.asarray(steady, bool),
        newton=newton, packages=list(packages), name="gwf")


def list_package(kind: str, cells: np.ndarray, name: str | None = None,
                 periods: Sequence[int] = (0,), **values) -> Package:
    """A list-input package with the same entries in the given periods.

    ``cells`` is an int array (n, 3) of (layer, row, col); ``values`` gives one array or
    scalar per MF6 column (``q``, ``head``, ``cond``, ...).
    """
    cells = np.asarray(cells, int).reshape(-1, 3)
    block = {"cellid": cells}
    block.update({k: np.broadcast_to(np.asarray(v, float), (len(cells),)).copy()
                  for k, v in values.items()})
    return Package(kind=kind, name=name or kind, periods={p: block for p in periods})
