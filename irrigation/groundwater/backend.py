"""One interface over the two backends: ``embedded`` (scipy) and ``mf6`` (real executable)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

from ..errors import InputError
from .embedded import simulate
from .linear import DirectSolver
from .load import load_simulation
from .mf6 import DEFAULT_TIMEOUT_S, find_mf6, run_model, run_simulation_folder
from .model import GwfModel
from .result import SolveResult

log = logging.getLogger(__name__)

Backend = Literal["auto", "embedded", "mf6"]


def choose_backend(backend: Backend = "auto", mf6_exe: str | Path | None = None,
                   ) -> tuple[Literal["embedded", "mf6"], str | None]:
    """The backend to use and, for ``mf6``, the executable.

    ``"auto"`` takes ``mf6`` when an executable is configured (``mf6_exe``, ``$MF6_EXE``)
    or on PATH, else ``embedded``. ``"mf6"`` without an executable raises
    :class:`~irrigation.errors.InputError`.
    """
    if backend not in ("auto", "embedded", "mf6"):
        raise InputError(f"expected backend auto, embedded or mf6, got {backend!r}",
                         field="backend")
    if backend == "embedded":
        return "embedded", None
    exe = find_mf6(mf6_exe)
    if exe is not None:
        return "mf6", exe
    if backend == "mf6":
        raise InputError("backend 'mf6' needs an mf6 executable: set MF6_EXE, "
                         "groundwater.mf6_exe in city.toml, or put mf6 on PATH",
                         field="mf6_exe")
    return "embedded", None


def _check_saves_heads(model: GwfModel) -> None:
    if not model.oc.saved("head", model.nstp).any():
        oc = model.source.package("OC6") if model.source is not None else None
        raise InputError("the model saves no heads: its output control has no SAVE HEAD "
                         "for any time step (or there is no OC package)",
                         file=oc.path if oc else model.sim_dir or None, field="SAVE HEAD")


def solve_simulation(sim_dir: str | Path, *, backend: Backend = "auto",
                     mf6_exe: str | Path | None = None,
                     timeout_s: float = DEFAULT_TIMEOUT_S) -> tuple[GwfModel, SolveResult]:
    """Solve an MF6 simulation folder as it is; returns the model and the heads/budgets of
    the steps its OC saves.

    With ``mf6`` the folder runs as delivered (its IMS, every package); the embedded
    solver raises :class:`~irrigation.errors.InputError` for packages or options it lacks.
    """
    model = load_simulation(sim_dir)
    _check_saves_heads(model)
    which, exe = choose_backend(backend, mf6_exe)
    log.info("groundwater backend: %s%s", which, f" ({exe})" if exe else "")
    if which == "mf6":
        return model, run_simulation_folder(sim_dir, exe, timeout_s=timeout_s)
    return model, simulate(model)


def solve_model(model: GwfModel, *, backend: Backend = "auto",
                mf6_exe: str | Path | None = None,
                timeout_s: float = DEFAULT_TIMEOUT_S,
                factorisation: DirectSolver | None = None) -> SolveResult:
    """Solve a :class:`GwfModel` with the chosen backend (mf6: written by
    :func:`~.writer.write_model` from its source folder); ``factorisation``: the
    embedded solver's, kept by the caller across runs (:func:`~.embedded.simulate`;
    not used by mf6)."""
    _check_saves_heads(model)
    which, exe = choose_backend(backend, mf6_exe)
    if which == "mf6":
        return run_model(model, exe, timeout_s=timeout_s)
    return simulate(model, factorisation=factorisation)
