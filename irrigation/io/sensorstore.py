"""The sensor readings store of a workspace: a readings CSV parsed once, then only its new lines.

A season's readings file grows by a day of rows every morning, and parsing all of it
again (millions of rows, every cell a Python string) was the slowest and largest part of
a city's daily inputs. The store keeps, per readings CSV, what the reader made of it so
far, in one NetCDF file (h5netcdf) under ``<workspace>/ingest/sensors/``:

* the rows that passed every check, columnar (probe code, depth [cm], time [ns since
  1970 UTC], quantity code, value [kPa or m3 m-3], unit code, line), with the probe ids
  and the units as written (every spelling seen, in reading order);
* the problems of the rows dropped (line, reason);
* how many bytes of the (decompressed) file they came from, the SHA-256 of those bytes,
  their number of lines and data rows, the header's columns and the known channels.

:func:`read_sensor_csv_stored` checks that the file still starts with those bytes and
parses only the whole lines after them; the checks between rows (one quantity per probe,
one reading per channel and time, units changing within a channel) run over the stored
and the new rows together, so the result and the problems are those of
:func:`~irrigation.io.sensors.read_sensor_csv` on the whole file (``tests/io/
test_sensorstore.py``). When the file no longer starts with the stored bytes (rewritten,
edited, truncated), the known channels changed, or the store is unreadable, it reads
the file again in full and replaces the store. A last line without its newline is read
but not stored (it may still be being written).

A file read in full is parsed in chunks of :data:`CHUNK_BYTES`, so that the text of only
one chunk is held as Python strings at a time.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import InputError, ReadProblem
from .files import atomic_write
from .sensors import (
    KeptRows,
    Labels,
    ProblemList,
    RawRows,
    build_readings,
    check_across_rows,
    check_fields,
    csv_rows,
    known_sets,
    read_file_bytes,
)

log = logging.getLogger(__name__)

STORE_VERSION = 1
"""Format of the store files; a store of another version is rebuilt."""

CHUNK_BYTES = 32 * 2**20
"""Bytes of text parsed at a time (~700,000 readings): bounds the strings held at once."""

STORE_DIR = Path("ingest") / "sensors"
"""Where the stores live inside a workspace."""


@dataclass(frozen=True)
class _Stored:
    """What the reader made of the first ``n_bytes`` of a readings file.

    ``kept`` holds the rows that passed every check with ``row`` = 0..n-1 and ``line``
    their lines; ``problems`` the dropped rows' problems; ``notes`` the channels whose
    unit changes (recomputed over all rows when rows are added).
    """

    columns: list[str] | None
    n_bytes: int
    n_lines: int
    n_read: int
    sha256: str
    kept: KeptRows
    line: np.ndarray
    problems: list[ReadProblem]
    notes: list[ReadProblem]

    @classmethod
    def empty(cls) -> _Stored:
        none = np.zeros(0, np.int64)
        kept = KeptRows(none, none, none, none, none, np.zeros(0), none,
                     np.zeros(0, object), np.zeros(0, object))
        return cls(None, 0, 0, 0, hashlib.sha256().hexdigest(), kept, none, [], [])


def store_path(path: Path, store_dir: Path) -> Path:
    """The store file of readings file ``path`` in ``store_dir``."""
    key = hashlib.sha256(str(Path(path).resolve()).encode()).hexdigest()[:12]
    return Path(store_dir) / f"{Path(path).name}.{key}.nc"


def stored_bytes(path: str | Path, store_dir: str | Path, *,
                 known: Mapping[str, Collection[int]] | None = None) -> int:
    """How many bytes of ``path`` (decompressed) its store in ``store_dir`` holds parsed
    and still valid for the file as it is now (0: none)."""
    path = Path(path)
    return _load(store_path(path, Path(store_dir)), path, read_file_bytes(path),
                 known_sets(known)).n_bytes


def read_sensor_csv_stored(
    path: str | Path, store_dir: str | Path, *,
    known: Mapping[str, Collection[int]] | None = None,
) -> tuple[xr.Dataset, list[ReadProblem]]:
    """:func:`~irrigation.io.sensors.read_sensor_csv` of ``path`` through its store in
    ``store_dir``: only the lines added since the last read are parsed (see the module).

    Returns
    -------
    readings, problems
        As :func:`~irrigation.io.sensors.read_sensor_csv` of the whole file.

    Raises
    ------
    InputError
        As :func:`~irrigation.io.sensors.read_sensor_csv`.
    """
    path = Path(path)
    data = read_file_bytes(path)
    k = known_sets(known)
    file = store_path(path, Path(store_dir))
    old = _load(file, path, data, k)
    end = data.rfind(b"\n") + 1  # whole lines only are stored
    state = old
    if end > old.n_bytes:
        state = _extend(old, data, end, path, k)
        if state is not old:
            _save(file, state, path, k)
            log.info("sensor readings %s: %d new rows parsed, %d stored", path.name,
                     state.n_read - old.n_read, len(state.line))
    if end < len(data) or state.columns is None:  # a last line without its newline
        state = _extend(state, data, len(data), path, k)  # read, not stored
    problems = sorted(state.problems + state.notes, key=lambda p: p.line or 0)
    return build_readings(state.kept, source=str(path), n_read=state.n_read, known=k), problems


def _extend(old: _Stored, data: bytes, end: int, path: Path,
            known: dict[str, set[int]] | None) -> _Stored:
    """``old`` with the lines of ``data[old.n_bytes:end]``; ``old`` itself when they hold
    no header yet and more of the file follows."""
    problems = ProblemList(str(path))
    columns, n_lines, n_read = old.columns, old.n_lines, old.n_read
    kept, line = old.kept, old.line
    start = old.n_bytes
    while start < end or columns is None:
        stop = _chunk_end(data, start, end)
        chunk = data[start:stop]
        try:
            columns, rows, n = csv_rows(chunk, path, problems, first_line=n_lines,
                                        columns=columns)
        except InputError:
            if columns is None and end < len(data):
                return old  # only comments so far: the header comes with the rest
            raise
        new = check_fields(rows, problems, known, Labels())
        kept, line = _concat(kept, line, new, rows.line[new.row])
        n_lines += chunk.count(b"\n")
        n_read += n
        start = stop
    (kept, line, errors), notes = _across(path, problems.sorted(), line, kept)
    sha = hashlib.sha256(data[:end]).hexdigest()
    return _Stored(columns, end, n_lines, n_read, sha, kept, line, old.problems + errors,
                   notes)


def _across(path: Path, problems: list[ReadProblem], line: np.ndarray, kept: KeptRows
            ) -> tuple[tuple[KeptRows, np.ndarray, list[ReadProblem]], list[ReadProblem]]:
    """The checks between rows over all rows; returns ((kept, line, dropped-row
    problems), unit notes). Stored rows passed them before, so only new rows drop."""
    rows = RawRows(*(np.zeros(0, object),) * 6, order=line, line=line)
    across = ProblemList(str(path), rows)
    out = check_across_rows(kept, across, rows)
    found = across.sorted()
    errors = problems + [p for p in found if p.severity == "error"]
    notes = [p for p in found if p.severity != "error"]
    n = len(out.row)
    kept = KeptRows(np.arange(n), out.s, out.depth, out.time, out.q, out.value, out.u,
                 out.names, out.units)
    return (kept, line[out.row], errors), notes


def _chunk_end(data: bytes, start: int, end: int) -> int:
    """The end of the chunk from ``start``: after the last newline within
    :data:`CHUNK_BYTES`, else ``end``."""
    if end - start <= CHUNK_BYTES:
        return end
    cut = data.rfind(b"\n", start, start + CHUNK_BYTES)
    return end if cut < 0 else cut + 1


def _concat(a: KeptRows, a_line: np.ndarray, b: KeptRows, b_line: np.ndarray
            ) -> tuple[KeptRows, np.ndarray]:
    """Rows ``a`` then ``b`` with one vocabulary of probe ids and unit spellings (units
    differing only in case are one unit, written as its first spelling)."""
    names = pd.Index(a.names).append(pd.Index(b.names)).drop_duplicates()
    units = pd.Index(a.units).append(pd.Index(b.units)).drop_duplicates()
    first: dict[str, int] = {}
    same = np.array([first.setdefault(str(u).lower(), k) for k, u in enumerate(units)],
                    dtype=np.int64)
    s_map = names.get_indexer(b.names)
    u_map = same[units.get_indexer(b.units)] if len(b.units) else np.zeros(0, np.int64)
    n = len(a.row) + len(b.row)
    kept = KeptRows(
        np.arange(n), np.concatenate([a.s, s_map[b.s]]), np.concatenate([a.depth, b.depth]),
        np.concatenate([a.time, b.time]), np.concatenate([a.q, b.q]),
        np.concatenate([a.value, b.value]), np.concatenate([a.u, u_map[b.u]]),
        np.asarray(names, dtype=object), np.asarray(units, dtype=object))
    return kept, np.concatenate([a_line, b_line])


# --------------------------------------------------------------------------- the file


def _known_key(known: dict[str, set[int]] | None) -> str:
    text = json.dumps(None if known is None else {k: sorted(v) for k, v in sorted(
        known.items())})
    return hashlib.sha256(text.encode()).hexdigest()


def _load(file: Path, path: Path, data: bytes, known: dict[str, set[int]] | None) -> _Stored:
    """The store of ``path`` when ``data`` still starts with the bytes it was made of,
    else an empty one (the file is read in full)."""
    if not file.exists():
        return _Stored.empty()
    try:
        with xr.open_dataset(file, engine="h5netcdf", decode_times=False) as ds:
            ds = ds.load()
    except (OSError, ValueError) as exc:
        log.warning("sensor store %s unreadable (%s): reading %s in full", file, exc, path.name)
        return _Stored.empty()
    a = ds.attrs
    n_bytes = int(a.get("n_bytes", -1))
    why = None
    if a.get("version") != STORE_VERSION or a.get("known") != _known_key(known):
        why = "store of another version or other known channels"
    elif len(data) < n_bytes or hashlib.sha256(data[:n_bytes]).hexdigest() != a["sha256"]:
        why = "the file changed before its last stored line"
    if why is not None:
        log.info("sensor readings %s: %s; read in full", path.name, why)
        return _Stored.empty()
    kept = KeptRows(
        np.arange(ds.sizes["row"]), ds["probe"].values.astype(np.int64),
        ds["depth_cm"].values.astype(np.int64), ds["time_ns"].values.astype(np.int64),
        ds["quantity"].values.astype(np.int64), ds["value"].values.astype(float),
        ds["unit"].values.astype(np.int64), ds["probe_id"].values.astype(object),
        ds["unit_text"].values.astype(object))
    problems = [ReadProblem(str(path), int(ln), str(r), str(s)) for ln, r, s in zip(
        ds["problem_line"].values, ds["problem_reason"].values,
        ds["problem_severity"].values, strict=True)]
    columns = str(a["columns"]).split(",") if a["columns"] else None
    return _Stored(columns, n_bytes, int(a["n_lines"]), int(a["n_read"]), str(a["sha256"]),
                   kept, ds["line"].values.astype(np.int64),
                   [p for p in problems if p.severity == "error"],
                   [p for p in problems if p.severity != "error"])


def _save(file: Path, st: _Stored, path: Path, known: dict[str, set[int]] | None) -> None:
    """Write the store atomically."""
    k = st.kept
    problems = st.problems + st.notes
    ds = xr.Dataset(
        {
            "probe": ("row", k.s.astype(np.int32), {"long_name": "index into probe_id"}),
            "depth_cm": ("row", k.depth.astype(np.int16), {"units": "cm"}),
            "time_ns": ("row", k.time, {"units": "ns since 1970-01-01 UTC"}),
            "quantity": ("row", k.q.astype(np.int8), {"long_name": "0 tension, 1 vwc"}),
            "value": ("row", k.value, {"units": "kPa (tension) or m3 m-3 (vwc)"}),
            "unit": ("row", k.u.astype(np.int16), {"long_name": "index into unit_text"}),
            "line": ("row", st.line, {"long_name": "1-based line in the file"}),
            "probe_id": ("probe_id_index", k.names.astype(str)),
            "unit_text": ("unit_index", k.units.astype(str)),
            "problem_line": ("problem", np.array([p.line for p in problems], np.int64)),
            "problem_reason": ("problem", np.array([p.reason for p in problems], str)),
            "problem_severity": ("problem", np.array([p.severity for p in problems], str)),
        },
        attrs={"version": STORE_VERSION, "source": str(path), "n_bytes": st.n_bytes,
               "n_lines": st.n_lines, "n_read": st.n_read, "sha256": st.sha256,
               "columns": ",".join(st.columns or []), "known": _known_key(known)},
    )
    atomic_write(file, lambda t: ds.to_netcdf(t, engine="h5netcdf"))
