"""A hard wall-clock limit on a call that may not return (a native solver's inner loop).

A time limit checked by the solver itself (PyVRP's ``MaxRuntime``) holds only between its
iterations; a single iteration stuck inside compiled code holds the GIL, so no Python
timer or thread can stop it. :func:`call_with_deadline` runs the call in a forked child
process, takes its pickled result through a pipe and kills the child when the deadline
passes. Where ``fork`` is missing the call runs in this process, unguarded.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import sys
import time
from collections.abc import Callable
from typing import TypeVar

from .errors import ModelError

T = TypeVar("T")


class DeadlineExceeded(ModelError):
    """The call did not return within its deadline (the child was killed)."""


def call_with_deadline(fn: Callable[[], T], deadline_s: float, what: str) -> T:
    """``fn()``, run in a forked child and killed after ``deadline_s`` [s] of wall time.

    The result (and an exception ``fn`` raises) travels back pickled, so both must be
    picklable. ``what`` names the call in the error.

    Raises
    ------
    DeadlineExceeded
        ``fn`` did not return within ``deadline_s``.
    ModelError
        The child died without a result (e.g. killed by a signal).
    """
    if not hasattr(os, "fork"):  # pragma: no cover - Windows
        return fn()
    sys.stdout.flush()
    sys.stderr.flush()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, send, leave without running the parent's exit code
        os.close(read_fd)
        _child(fn, write_fd)
    os.close(write_fd)
    try:
        data = _receive(read_fd, time.monotonic() + deadline_s)
    except DeadlineExceeded:
        raise DeadlineExceeded(f"{what} did not finish within {deadline_s:g} s and was "
                               "stopped") from None
    finally:
        os.close(read_fd)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)  # gone already unless the deadline passed
        _, status = os.waitpid(pid, 0)
    if not data:
        raise ModelError(f"{what} stopped without a result (exit status {status})")
    ok, value = pickle.loads(data)
    if not ok:
        raise value
    return value


def _child(fn: Callable[[], object], write_fd: int) -> None:
    try:
        try:
            payload = pickle.dumps((True, fn()))
        except BaseException as exc:
            try:
                payload = pickle.dumps((False, exc))
            except Exception:
                payload = pickle.dumps((False, RuntimeError(repr(exc))))
        view = memoryview(payload)
        while view:
            view = view[os.write(write_fd, view):]
    finally:
        os._exit(0)


def _receive(read_fd: int, deadline: float) -> bytes:
    """Everything the child writes until it closes the pipe, or DeadlineExceeded."""
    chunks = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise DeadlineExceeded("deadline")
        ready, _, _ = select.select([read_fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(read_fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
