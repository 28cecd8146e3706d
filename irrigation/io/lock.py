"""One run at a time per workspace: an advisory lock file.

:func:`workspace_lock` takes an exclusive ``flock`` on ``<workspace>/.lock`` and writes the
holder's host, process id and start time into it, so a second run is refused with one line
saying who holds it. The kernel drops the lock when the holder dies (also on SIGKILL), so a
lock left by a killed run is stale by construction: the next run takes it. The file is
removed on release; a run that took the lock on a file another run just removed checks
the inode and tries again. The lock is re-entrant within one process (``run_day`` holds it
while ``write_day`` asks for it).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

from ..errors import InputError
from .sensorstore import STORE_DIR

#: Name of the lock file inside a workspace.
LOCK_NAME = ".lock"

_held: dict[str, int] = {}  # lock path -> depth, in this process


class WorkspaceBusy(InputError):
    """Another run holds the workspace lock."""


@contextlib.contextmanager
def workspace_lock(root: str | Path) -> Iterator[Path]:
    """Hold the lock of the workspace ``root`` (created if missing) for the ``with`` block.

    Yields the workspace folder. A workspace folder this call created is removed again on
    release when nothing but the lock and the inputs' cache (the sensor readings store,
    filled while reading the inputs) was put into it: a run that stops on bad input
    leaves nothing behind.

    Raises
    ------
    WorkspaceBusy
        Another process holds the lock (the message names host, pid and start time).
    InputError
        The workspace cannot be created (e.g. ``--out`` is a file).
    """
    root = Path(root)
    path = root / LOCK_NAME
    key = str(path.absolute())
    if key in _held:
        _held[key] += 1
        try:
            yield root
        finally:
            _held[key] -= 1
        return
    created = not root.exists()
    fd = _acquire(root, path)
    _held[key] = 1
    try:
        yield root
    finally:
        del _held[key]
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        os.close(fd)
        if created:
            _remove_if_only_cache(root)


def _remove_if_only_cache(root: Path) -> None:
    """Remove ``root`` when it holds nothing but the inputs' cache (no day was written)."""
    cache = root / STORE_DIR.parts[0]
    if {p.name for p in root.iterdir()} <= {cache.name} and not any(
            p.is_symlink() for p in cache.rglob("*")):
        shutil.rmtree(cache, ignore_errors=True)
    with contextlib.suppress(OSError):
        root.rmdir()  # only when empty


def _acquire(root: Path, path: Path) -> int:
    """Open and lock ``path``; returns the file descriptor."""
    if root.exists() and not root.is_dir():
        raise InputError("expected a workspace folder, got a file", file=root)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the workspace folder ({exc.strerror})",
                         file=root) from None
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as exc:
            raise InputError(f"cannot open the workspace lock ({exc.strerror})",
                             file=path) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise WorkspaceBusy(f"another run holds this workspace ({holder}); wait for it "
                                "to finish", file=path) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:  # not a file the previous holder removed after we opened it
            break
        os.close(fd)
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    os.ftruncate(fd, 0)
    os.write(fd, f"host {socket.gethostname()} pid {os.getpid()} since {stamp}\n".encode())
    return fd


def _read_holder(fd: int) -> str:
    try:
        text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    return text.splitlines()[0] if text else "holder unknown"
