"""The project's exception family.

Every error a user can act on is an :class:`IrrigationError`. Bad input raises
:class:`InputError`, whose message names the file, the row or field and what was
expected; the CLI prints it on one line and exits with code 2. Failures of the
numerical models raise :class:`ModelError` (exit code 1 when not handled).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal


class IrrigationError(Exception):
    """Base class of all errors raised on purpose by :mod:`irrigation`."""


class InputError(IrrigationError, ValueError):
    """Bad input: a file, a row or a field that is not what was expected.

    Parameters
    ----------
    message
        What is wrong, e.g. ``"expected a number > 0, got -3"``.
    file
        The file the bad input came from, if any.
    field
        The key, column or variable, e.g. ``"fleet[0].tank_l"``.
    row
        1-based line or row number in ``file``, if known.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        field: str | None = None,
        row: int | None = None,
    ) -> None:
        self.message = message
        self.file = None if file is None else str(file)
        self.field = field
        self.row = row
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.file is not None:
            where.append(self.file)
        if self.row is not None:
            where.append(f"line {self.row}")
        if self.field is not None:
            where.append(f"'{self.field}'")
        text = (": ".join(where) + ": " if where else "") + self.message
        return " ".join(text.splitlines())  # one line, whatever a library's message holds


class ModelError(IrrigationError):
    """A numerical model failed (no convergence, inconsistent state, ...)."""


class ConvergenceError(ModelError):
    """A nonlinear or linear solve did not converge.

    Attributes
    ----------
    last_iterate
        The last iterate of the solver (e.g. heads in m), so a caller can fall
        back or inspect it.
    residual
        The norm of the residual of the last iterate, in the solver's units.
    """

    def __init__(self, message: str, *, last_iterate: Any = None, residual: float = float("nan")):
        self.last_iterate = last_iterate
        self.residual = residual
        super().__init__(f"{message} (residual {residual:.3g})")


@dataclass(frozen=True)
class ReadProblem:
    """One problem a tolerant reader found and worked around, instead of raising.

    Readers of noisy field data (soil-moisture loggers) drop a bad row, keep the rest and
    return a list of these next to the data, so that a person can see what was lost.

    Parameters
    ----------
    file
        The file (or other source) read.
    line
        1-based line in ``file``; ``None`` when the location is not a line (then ``reason``
        starts with it, e.g. a JSON path).
    reason
        What is wrong and what was done, e.g. ``"timestamp '2018-06-01 06:00' has no
        timezone"``.
    severity
        ``"error"``: the row was dropped; ``"info"``: nothing was dropped, but a person
        should know (e.g. units mixed within one channel, converted).
    """

    file: str
    line: int | None
    reason: str
    severity: Literal["error", "info"] = "error"

    def __post_init__(self) -> None:
        if self.severity not in ("error", "info"):
            raise ValueError(f"Expected severity 'error' or 'info', got {self.severity!r}.")

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}: line {self.line}"
        return f"{where}: {self.reason}"
