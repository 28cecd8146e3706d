"""The workspace's sensor readings store: reading only the new lines gives what a full
re-read of the file gives, as the file grows, and after it was rewritten or changed."""

import gzip
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import irrigation.io.sensorstore as store
from irrigation.errors import InputError
from irrigation.io.sensors import read_sensor_csv, read_sensor_data

DATA = Path(__file__).parents[1] / "data" / "sensors"
BAD = (DATA / "readings_bad.csv").read_bytes()
KNOWN = {"T001": [30, 60, 90], "T002": [30, 60]}
HEADER = b"sensor_id,timestamp,depth_cm,quantity,value,unit\n"


def assert_same(path: Path, got, known=None) -> None:
    """``got`` (readings, problems) equals a full re-read of ``path``."""
    want_ds, want_problems = read_sensor_csv(path, known=known)
    xr.testing.assert_identical(got[0], want_ds)
    assert got[1] == want_problems


def grown(path: Path, content: bytes, cuts: list[int], st: Path, known=None) -> None:
    """Write ``content`` up to each cut in turn, reading through the store each time."""
    for cut in [*cuts, len(content)]:
        path.write_bytes(content[:cut])
        assert_same(path, store.read_sensor_csv_stored(path, st, known=known), known)
        assert store.stored_bytes(path, st, known=known) == content[:cut].rfind(b"\n") + 1


def line_ends(content: bytes) -> list[int]:
    return [i + 1 for i, b in enumerate(content) if b == ord("\n")]


@pytest.mark.parametrize("known", [KNOWN, None])
def test_growing_line_by_line_equals_a_full_read_of_the_bad_file(tmp_path, known):
    # every check that looks across rows meets rows from an earlier read: duplicates,
    # a probe's second quantity, units changing in a channel, dropped and kept rows
    cuts = [c for c in line_ends(BAD) if c > BAD.index(HEADER) + len(HEADER)]
    grown(tmp_path / "r.csv", BAD, cuts, tmp_path / "store", known)


def test_a_last_line_without_its_newline_is_read_but_not_stored(tmp_path):
    path, st = tmp_path / "r.csv", tmp_path / "store"
    half = BAD.index(b"T001,2018-06-01T06:00:00Z,30,tension,90") + 20  # mid-line
    grown(path, BAD, [half, half + 5], st, KNOWN)


def test_many_small_chunks_equal_one_read(tmp_path, monkeypatch):
    rng = np.random.default_rng(3)
    lines = [HEADER.decode()]
    units = ["kPa", "cbar", "KPA", "hPa"]
    for k in range(3000):
        probe = f"T00{rng.integers(1, 4)}"
        hour = rng.integers(0, 500)
        day, h = divmod(int(hour), 24)
        stamp = f"2018-06-{day + 1:02d}T{h:02d}:00:00Z"
        value = "x" if k % 97 == 0 else f"{rng.uniform(1, 80):.1f}"
        lines.append(f"{probe},{stamp},{rng.choice([30, 60])},tension,{value},"
                     f"{units[int(rng.integers(0, 4))] if k > 1500 else 'kPa'}\n")
    content = "".join(lines).encode()
    monkeypatch.setattr(store, "CHUNK_BYTES", 4000)
    ends = line_ends(content)
    grown(tmp_path / "r.csv", content, ends[100::700], tmp_path / "store")


def test_a_changed_or_rewritten_file_is_read_again_in_full(tmp_path):
    path, st = tmp_path / "r.csv", tmp_path / "store"
    grown(path, BAD, [], st, KNOWN)
    edited = BAD.replace(b"T001,2018-06-01T04:00:00Z,30,tension,10,kPa",
                         b"T001,2018-06-01T04:00:00Z,30,tension,13,kPa", 1)
    path.write_bytes(edited)  # same length, an earlier line changed
    got = store.read_sensor_csv_stored(path, st, known=KNOWN)
    assert_same(path, got, KNOWN)
    assert float(got[0]["value"].sel(sensor="T001", depth=30).isel(time=0)) == 13.0
    path.write_bytes(edited[: len(edited) // 2].rsplit(b"\n", 1)[0] + b"\n")  # truncated
    assert_same(path, store.read_sensor_csv_stored(path, st, known=KNOWN), KNOWN)
    assert_same(path, store.read_sensor_csv_stored(path, st), None)  # other known channels


def test_gzip_files_grow_too_and_a_broken_store_is_rebuilt(tmp_path):
    path, st = tmp_path / "r.csv.gz", tmp_path / "store"
    for cut in [*line_ends(BAD)[4::6], len(BAD)]:
        path.write_bytes(gzip.compress(BAD[:cut], mtime=0))
        assert_same(path, store.read_sensor_csv_stored(path, st, known=KNOWN), KNOWN)
    store.store_path(path, st).write_bytes(b"not a netcdf file")
    assert_same(path, store.read_sensor_csv_stored(path, st, known=KNOWN), KNOWN)


def test_whole_file_failures_stay_failures(tmp_path):
    path, st = tmp_path / "r.csv", tmp_path / "store"
    path.write_bytes(b"# only a comment\n")
    with pytest.raises(InputError, match="no header"):
        store.read_sensor_csv_stored(path, st)
    path.write_bytes(b"# a comment\nsensor_id,timestamp,depth_cm,quantity,value,unit")
    assert_same(path, store.read_sensor_csv_stored(path, st), None)  # header, no newline


def test_read_sensor_data_with_a_store_reads_a_folder_as_without(tmp_path):
    folder = tmp_path / "readings"
    folder.mkdir()
    (folder / "a.csv").write_bytes(BAD)
    (folder / "b.csv").write_bytes(HEADER + b"T001,2018-06-01T04:00:00Z,30,tension,9,kPa\n")
    want = read_sensor_data(folder, known=KNOWN)
    read_csv = partial(store.read_sensor_csv_stored, store_dir=tmp_path / "store")
    for _ in range(2):  # parsed, then from the store
        got = read_sensor_data(folder, known=KNOWN, read_csv=read_csv)
        xr.testing.assert_identical(got[0], want[0])
        assert got[1] == want[1]
