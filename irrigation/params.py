"""Parameters: TOML files mapped one-to-one onto frozen, self-validating dataclasses.

One generic loader, :func:`from_toml` (or :func:`from_dict` on a parsed table), turns a
TOML table into a dataclass: it rejects unknown keys (suggesting the closest known one,
:func:`did_you_mean`), reports missing required keys and values of the wrong type, and runs
each dataclass's own checks (:func:`require` in ``__post_init__``). Every problem becomes an
:class:`~irrigation.errors.InputError` that names the file, the key path (e.g.
``fleet[1].tank_l``) and what was expected. :func:`to_toml` writes a dataclass back; the two
round-trip.

The parameter classes live beside the science they configure (``DecideRules`` in
:mod:`irrigation.decide`, ``QCRules`` in :mod:`irrigation.sensors.qc`, ...); the city
configuration (:mod:`irrigation.config`) and the scenario files
(:mod:`irrigation.scenario.schema`) compose them, and both load through this module, so
they share one error and hint path.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import math
import tomllib
import types
import typing
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin

import tomli_w

from .errors import InputError

T = TypeVar("T")


class ParamError(InputError):
    """A parameter out of its documented range, raised by a dataclass check.

    It is an :class:`~irrigation.errors.InputError` naming the field, so a value set in
    code (``dataclasses.replace``) fails like one read from a file; the loader adds the
    file and the full key path.
    """

    def __init__(self, field: str, expected: str):
        self.expected = expected
        super().__init__(f"expected {expected}", field=field)


def require(ok: bool, field: str, expected: str) -> None:
    """Raise a field error unless ``ok``; used in ``__post_init__`` checks."""
    if not ok:
        raise ParamError(field, expected)


# --------------------------------------------------------------------------- generic loader


def read_toml(path: str | Path) -> dict[str, Any]:
    """The table of a TOML file.

    Raises
    ------
    InputError
        The file is missing, is a folder, or is not valid UTF-8 TOML.
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise InputError("file not found", file=path) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid TOML ({exc})", file=path) from None


def from_toml(cls: type[T], path: str | Path) -> T:
    """Read a TOML file into the dataclass ``cls``, validating every key.

    Raises
    ------
    InputError
        The file is missing, is not valid TOML, or a key is unknown, missing, of the
        wrong type or out of range.
    """
    return from_dict(cls, read_toml(path), file=path)


def did_you_mean(name: str, valid: Iterable[str]) -> str:
    """A hint naming the closest of ``valid`` to ``name`` (empty when none is close)."""
    close = difflib.get_close_matches(name, list(valid), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def from_dict(cls: type[T], table: dict[str, Any], *, file: str | Path | None = None) -> T:
    """Build the dataclass ``cls`` from a plain dict (e.g. a parsed TOML table)."""
    try:
        return _build(cls, table, "")
    except ParamError as exc:
        raise InputError(exc.message, file=file, field=exc.field) from None


def to_dict(obj: Any) -> dict[str, Any]:
    """Turn a config dataclass back into a TOML-ready dict (``None`` values are dropped)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        value = _plain(getattr(obj, f.name))
        if value is not None:
            out[f.name] = value
    return out


def to_toml(obj: Any) -> str:
    """Serialise a config dataclass as TOML text; ``from_dict`` reads it back unchanged."""
    return tomli_w.dumps(to_dict(obj))


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return to_dict(value)
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return value.as_posix()
    return value


def _build(cls: type[T], table: Any, prefix: str) -> T:
    if not isinstance(table, dict):
        raise ParamError(prefix or cls.__name__, "a table")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    for key in table:
        if key not in fields:
            hint = did_you_mean(key, fields)
            known = ", ".join(sorted(fields))
            raise ParamError(_join(prefix, key), f"a known key{hint}; known keys: {known}")
    kwargs = {}
    for name, f in fields.items():
        key = _join(prefix, name)
        if name in table:
            kwargs[name] = _convert(hints[name], table[name], key)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ParamError(key, "this key (it is required)")
    try:
        return cls(**kwargs)
    except ParamError as exc:
        raise ParamError(_join(prefix, exc.field), exc.expected) from None


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _convert(tp: Any, value: Any, key: str) -> Any:
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in get_args(tp) if a is not type(None)]
        if len(options) != 1:
            raise TypeError(f"unsupported config type {tp}")
        return _convert(options[0], value, key)
    if origin is Literal:
        choices = get_args(tp)
        if value not in choices:
            raise ParamError(key, f"one of {', '.join(map(repr, choices))}, got {value!r}")
        return value
    if origin is tuple:
        (item,) = (a for a in get_args(tp) if a is not Ellipsis)
        if not isinstance(value, list):
            raise ParamError(key, f"a list, got {type(value).__name__}")
        return tuple(_convert(item, v, f"{key}[{i}]") for i, v in enumerate(value))
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, key)
    if tp is bool:
        if not isinstance(value, bool):
            raise ParamError(key, f"true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParamError(key, f"a whole number, got {value!r}")
        if not -(2**63) <= value < 2**63:  # TOML 1.0 integers are 64-bit; tomllib reads any
            raise ParamError(key, f"a whole number within 64 bits, got {value}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParamError(key, f"a number, got {value!r}")
        try:
            number = float(value)
        except OverflowError:
            raise ParamError(key, f"a number within the float range, got {value}") from None
        if not math.isfinite(number):  # no parameter means anything by inf or nan
            raise ParamError(key, f"a finite number, got {value}")
        return number
    if tp is str:
        if not isinstance(value, str):
            raise ParamError(key, f"a string, got {value!r}")
        return value
    if tp is Path:
        if not isinstance(value, str) or not value:
            raise ParamError(key, f"a file path (string), got {value!r}")
        return Path(value)
    if tp is dt.date:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            raise ParamError(key, f"a date YYYY-MM-DD, got {value!r}") from None
    if tp is dt.time:
        if isinstance(value, dt.time):
            return value
        try:
            return dt.time.fromisoformat(str(value))
        except ValueError:
            raise ParamError(key, f"a time of day HH:MM, got {value!r}") from None
    raise TypeError(f"unsupported config type {tp}")
