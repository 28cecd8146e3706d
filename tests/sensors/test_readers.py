"""Soil-moisture sensor readers: CSV (long format) and OGC SensorThings JSON."""

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from irrigation.errors import InputError, ReadProblem
from irrigation.io.sensors import read_sensor_csv, read_sensorthings, write_sensor_csv

DATA = Path(__file__).parents[1] / "data" / "sensors"
GOOD = DATA / "readings_good.csv"
BAD = DATA / "readings_bad.csv"
THINGS = DATA / "sensorthings_things.json"
STREAMS = DATA / "sensorthings_datastreams.json"
HEADER = "sensor_id,timestamp,depth_cm,quantity,value,unit\n"
NAN = np.nan
KNOWN = {"T001": [30, 60, 90], "T002": [30, 60]}


def t(hour: int) -> np.datetime64:
    return np.datetime64(f"2018-06-01T{hour:02d}:00:00", "ns")


def value(ds: xr.Dataset, sensor: str, depth: int, hour: int) -> float:
    return float(ds["value"].sel(sensor=sensor, depth=depth, time=t(hour)))


def errors(problems: list[ReadProblem]) -> dict[int | None, str]:
    return {p.line: p.reason for p in problems if p.severity == "error"}


def infos(problems: list[ReadProblem]) -> dict[int | None, str]:
    return {p.line: p.reason for p in problems if p.severity == "info"}


# --------------------------------------------------------------------------- CSV, good


def test_good_csv_values_units_and_utc():
    ds, problems = read_sensor_csv(GOOD)
    assert problems == []
    assert ds["value"].dims == ("sensor", "depth", "time")
    assert ds["sensor"].values.tolist() == ["T001", "T002", "T003", "T004"]
    assert ds["depth"].values.tolist() == [30, 60, 90]
    assert ds["depth"].attrs["units"] == "cm"
    # 06:00+02:00, 04:00Z, 04:00+00:00 and 03:00-01:00 are all 04:00 UTC
    assert list(ds["time"].values) == [t(4), t(5)]
    assert ds["time"].dtype == np.dtype("datetime64[ns]")
    assert ds["time"].attrs["timezone"] == "UTC"
    assert ds["quantity"].values.tolist() == ["tension", "vwc", "tension", "vwc"]
    expected = np.array([
        [[12.5, 14.0], [20.0, 21.0], [25.0, NAN]],  # kPa, cbar = kPa, 250 hPa = 25 kPa
        [[0.235, NAN], [NAN, 0.19], [NAN, 0.221]],  # 23.5 %, 19 vol%, m3/m3
        [[30.0, NAN], [45.0, 50.0], [NAN, NAN]],  # 0.3 bar, 0.045 and 0.05 MPa
        [[0.30, NAN], [NAN, 0.31], [NAN, NAN]],  # m³/m³, m3 m-3
    ])
    np.testing.assert_allclose(ds["value"].values, expected, rtol=1e-12)
    assert ds.attrs["n_rows_read"] == 13
    assert ds.attrs["n_rows_dropped"] == 0
    assert ds.attrs["source"] == str(GOOD)
    assert ds["value"].attrs["units"] == "kPa or m3 m-3 (see quantity)"


def test_gzip_by_magic_bom_crlf(tmp_path):
    text = GOOD.read_text(encoding="utf-8").replace("\n", "\r\n")
    plain, _ = read_sensor_csv(GOOD)
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    zipped = tmp_path / "no_gz_suffix.csv"  # detected by the magic bytes, not the name
    zipped.write_bytes(gzip.compress(text.encode("utf-8")))
    for path in (bom, zipped):
        ds, problems = read_sensor_csv(path)
        assert problems == []
        xr.testing.assert_identical(ds.drop_attrs(deep=False), plain.drop_attrs(deep=False))


def test_header_first_line_order_free_and_extra_columns(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(
        "unit,value,battery_v,quantity,depth_cm,timestamp,sensor_id\n"
        'kPa,"7.5",3.6,tension,30,2018-06-01T04:00:00Z,"T9"\n'
        "kPa, 8 ,3.6,tension,30,2018-06-01T05:00:00Z, T9 \n"
    )
    ds, problems = read_sensor_csv(path)
    assert problems == []
    assert ds["value"].sel(sensor="T9", depth=30).values.tolist() == [7.5, 8.0]


def test_known_adds_empty_channels():
    ds, _ = read_sensor_csv(GOOD, known={**KNOWN, "T003": [30, 60], "T004": [30, 60],
                                         "T005": [30, 120]})
    assert ds["sensor"].values.tolist() == ["T001", "T002", "T003", "T004", "T005"]
    assert ds["depth"].values.tolist() == [30, 60, 90, 120]
    assert ds["quantity"].sel(sensor="T005").item() == ""  # no reading: quantity unknown
    assert bool(ds["value"].sel(sensor="T005").isnull().all())
    assert bool(ds["value"].sel(depth=120).isnull().all())
    assert ds.attrs["n_rows_dropped"] == 1  # T002 at 90 cm is not installed
    assert value(ds, "T001", 90, 4) == 25.0


# --------------------------------------------------------------------------- CSV, bad


def test_bad_csv_problems_with_known():
    ds, problems = read_sensor_csv(BAD, known=KNOWN)
    assert all(p.file == str(BAD) for p in problems)
    assert [p.line for p in problems] == sorted(p.line for p in problems)
    err = errors(problems)
    expected = {
        4: ["wrong number of fields", "expected 6, got 1"],
        6: ["duplicate", "line 5", "same value"],
        7: ["duplicate", "line 5", "differed", "12", "11"],
        8: ["unknown sensor", "T009"],
        9: ["timezone", "2018-06-01T06:00:00"],
        10: ["depth 45 cm", "not installed", "T001"],
        11: ["depth_cm", "-30"],
        12: ["depth_cm", "400"],
        13: ["'kPa'", "tension unit", "vwc"],
        16: ["'abc'", "not a finite number"],
        17: ["'nan'", "not a finite number"],
        18: ["'yesterday'", "not an ISO 8601"],
        19: ["unknown quantity", "'moisture'"],
        20: ["T002", "tension", "vwc first", "line 14"],
        21: ["unknown unit", "'psi'"],
        22: ["wrong number of fields", "got 7", "decimal comma"],
        26: ["unknown sensor", "P#7"],  # a '#' inside a value is not a comment
    }
    assert sorted(err) == sorted(expected)
    for line, words in expected.items():
        for word in words:
            assert word in err[line], (line, word, err[line])
    info = infos(problems)
    assert sorted(info) == [15, 25]
    assert "T001 at 30 cm" in info[15] and "kPa, cbar" in info[15]
    assert "T002 at 30 cm" in info[25] and "%, m3/m3" in info[25]
    assert str(problems[0]) == f"{BAD}: line 4: wrong number of fields: expected 6, got 1"
    # every good row is kept: lines 3, 5, 14, 15, 25
    assert int(ds["value"].notnull().sum()) == 5
    assert value(ds, "T001", 30, 4) == 10.0
    assert value(ds, "T001", 30, 5) == 11.0  # the first of the duplicates
    assert value(ds, "T001", 30, 6) == 90.0  # cbar
    assert value(ds, "T002", 30, 4) == 0.25
    assert value(ds, "T002", 30, 6) == 0.26
    assert ds.attrs["n_rows_read"] == 22  # data lines; comments and blank lines excluded
    assert ds.attrs["n_rows_dropped"] == 17 == len(err)


def test_bad_csv_without_known_keeps_any_probe_and_depth():
    ds, problems = read_sensor_csv(BAD)
    assert sorted(errors(problems)) == [4, 6, 7, 9, 11, 12, 13, 16, 17, 18, 19, 20, 21, 22]
    assert ds["sensor"].values.tolist() == ["P#7", "T001", "T002", "T009"]
    assert ds["depth"].values.tolist() == [30, 45]
    assert int(ds["value"].notnull().sum()) == 8
    assert value(ds, "T001", 45, 4) == 10.0


@pytest.mark.parametrize(
    ("content", "words", "row"),
    [
        (None, ["file not found"], None),
        (b"", ["no header"], None),
        (b"# only a comment\n\n", ["no header"], None),
        (b"sensor,timestamp,depth_cm,quantity,value\n", ["sensor_id", "unit"], 1),
        (b"# c\nsensor_id,timestamp,depth_cm,quantity,value,unit,unit\n", ["twice"], 2),
        (HEADER.encode() + "T1,2018-06-01T04:00Z,30,tension,1,kPa,Müller\n".encode("latin-1"),
         ["UTF-8"], None),
        (b"\x1f\x8b\x08\x00garbage", ["gzip"], None),
    ],
)
def test_whole_file_failures(tmp_path, content, words, row):
    path = tmp_path / "r.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError) as info:
        read_sensor_csv(path)
    assert info.value.file == str(path)
    assert info.value.row == row
    for word in words:
        assert word in info.value.message


def test_header_only_is_an_empty_dataset(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(HEADER + "garbage\n")
    ds, problems = read_sensor_csv(path)
    assert ds["value"].shape == (0, 0, 0)
    assert ds["time"].dtype == np.dtype("datetime64[ns]")
    assert [p.line for p in problems] == [2]


# --------------------------------------------------------------------------- CSV writer


def test_round_trip_and_reproducible_gzip(tmp_path):
    ds, _ = read_sensor_csv(GOOD)
    ds["value"][0, 0, 0] = 12.5499  # rounded to 0.1 kPa on write
    for name in ("out.csv", "out.csv.gz"):
        path = write_sensor_csv(ds, tmp_path / name)
        back, problems = read_sensor_csv(path)
        assert problems == []
        expected = ds.copy(deep=True)
        expected["value"][0, 0, 0] = 12.5
        xr.testing.assert_allclose(back.drop_attrs(deep=False), expected.drop_attrs(deep=False))
        assert back.attrs["n_rows_read"] == 13
    plain = (tmp_path / "out.csv").read_text()
    first_rows = [HEADER.strip(), "T001,2018-06-01T04:00:00Z,30,tension,12.5,kPa"]
    assert plain.splitlines()[:2] == first_rows
    assert "T002,2018-06-01T04:00:00Z,30,vwc,0.235,m3 m-3" in plain
    first = (tmp_path / "out.csv.gz").read_bytes()
    assert first[:2] == b"\x1f\x8b"
    write_sensor_csv(ds, tmp_path / "again.csv.gz")
    assert (tmp_path / "again.csv.gz").read_bytes() == first
    assert gzip.decompress(first).decode() == plain
    assert not list(tmp_path.glob("*.tmp"))


def test_round_trip_of_json_readings(tmp_path):
    ds, _ = read_sensorthings(THINGS)
    back, problems = read_sensor_csv(write_sensor_csv(ds, tmp_path / "st.csv", gzip=True))
    assert problems == []
    assert (tmp_path / "st.csv").read_bytes()[:2] == b"\x1f\x8b"
    xr.testing.assert_allclose(back.drop_attrs(deep=False), ds.drop_attrs(deep=False))


# --------------------------------------------------------------------------- SensorThings


def test_sensorthings_things_collection():
    ds, problems = read_sensorthings(THINGS)
    assert ds["sensor"].values.tolist() == ["T001", "T002"]  # name; properties.sensor_id
    assert ds["depth"].values.tolist() == [30, 60]  # properties.depth_cm; "... 60 cm"
    assert list(ds["time"].values) == [t(4), t(5), t(6)]
    assert ds["quantity"].values.tolist() == ["tension", "vwc"]
    expected = np.array([
        [[12.5, 14.0, 15.0], [20.0, NAN, NAN]],  # interval -> its end; 200 hPa = 20 kPa
        [[0.235, 0.24, NAN], [NAN, NAN, NAN]],
    ])
    np.testing.assert_allclose(ds["value"].values, expected, rtol=1e-12)
    assert ds.attrs["n_rows_read"] == 11
    assert ds.attrs["n_rows_dropped"] == 5
    assert all(p.file == str(THINGS) and p.line is None for p in problems)
    reasons = [(p.severity, p.reason) for p in problems]
    expected_problems = [
        ("info", ["collection is paginated", "only this page"]),
        ("error", ["value[0].Datastreams[0].Observations[3]: ", "phenomenonTime", "timezone"]),
        ("error", ["value[0].Datastreams[1].Observations[1]: ", "duplicate",
                   "value[0].Datastreams[1].Observations[0]", "differed"]),
        ("error", ["value[0].Datastreams[1].Observations[2]: ", "'n/a'", "not a finite"]),
        ("error", ["value[0].Datastreams[2]: ", "no depth", "neither tension",
                   "1 observation"]),
        ("info", ["value[1].Datastreams[0]: ", "Observations are paginated"]),
        ("error", ["value[1].Datastreams[1].Observations[0]: ", "'kPa'", "vwc"]),
    ]
    assert len(reasons) == len(expected_problems)
    for (severity, reason), (want_severity, words) in zip(reasons, expected_problems,
                                                          strict=True):
        assert severity == want_severity, reason
        assert reason.startswith(words[0]) or words[0] in reason
        for word in words:
            assert word in reason, (word, reason)
    assert str(problems[1]).startswith(f"{THINGS}: value[0].Datastreams[0].Observations[3]: ")


def test_sensorthings_single_thing_datastreams_and_known():
    doc = json.loads(THINGS.read_text())
    ds, problems = read_sensorthings(doc["value"][1])  # a single Thing, as a dict
    assert ds["sensor"].values.tolist() == ["T002"]
    assert [p.reason.split(":")[0] for p in problems] == [
        "Datastreams[0]", "Datastreams[1].Observations[0]"]
    assert ds.attrs["source"] == problems[0].file

    ds, problems = read_sensorthings(STREAMS)  # Datastreams with an expanded Thing
    assert problems == []
    assert ds["sensor"].values.tolist() == ["T003", "T004"]
    assert ds["quantity"].values.tolist() == ["tension", "vwc"]
    assert value(ds, "T003", 90, 4) == 33.0  # cbar, depth from the name
    assert value(ds, "T003", 90, 5) == 34.5
    assert value(ds, "T004", 30, 4) == 0.285

    ds, problems = read_sensorthings(THINGS, known={"T001": [30]})
    assert ds["sensor"].values.tolist() == ["T001"]
    err = [p.reason for p in problems if p.severity == "error"]
    assert sum("not installed" in r for r in err) == 2  # 60 cm: 200 and 210 hPa
    assert sum("unknown sensor id 'T002'" in r for r in err) == 2


@pytest.mark.parametrize(
    ("text", "words", "row"),
    [
        ('{"value": [\n  {"name": "T1",}\n]}', ["not valid JSON"], 2),
        ("[1, 2]", ["expected SensorThings"], None),
        ('{"value": 3}', ["'value'"], None),
        ('{"name": "T1"}', ["expected SensorThings"], None),
    ],
)
def test_sensorthings_whole_file_failures(tmp_path, text, words, row):
    path = tmp_path / "st.json"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        read_sensorthings(path)
    assert info.value.file == str(path)
    assert info.value.row == row
    for word in words:
        assert word in info.value.message
    with pytest.raises(InputError):
        read_sensorthings(tmp_path / "missing.json")


def test_read_problem_rendering():
    assert str(ReadProblem("a.csv", 7, "bad")) == "a.csv: line 7: bad"
    assert str(ReadProblem("a.json", None, "value[0]: bad")) == "a.json: value[0]: bad"
    with pytest.raises(ValueError, match="severity"):
        ReadProblem("a.csv", 1, "x", severity="warning")


# --------------------------------------------------------------------------- never crash

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

FRAGMENTS = st.sampled_from([
    "T001", "T002", "", " ", '"', "#", "#T1", "30", "60", "-1", "0", "300", "301", "30.0",
    "1e400", "nan", "inf", "-inf", "12.5", "1e308", "9" * 30, "0x10", "kPa", "KPA", "cbar",
    "hPa", "bar", "MPa", "%", "vol%", "m3/m3", "m³/m³", "psi", "tension", "vwc", "Tension",
    "2018-06-01T04:00:00Z", "2018-06-01T06:00:00+02:00", "2018-06-01T04:00:00",
    "2018-13-01T04:00:00Z", "2018-06-01T24:00:00Z", "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z", "2018-06-01T04:00+0200", "2018-06-01", "\x00", "\r", "ä", "\ufeff",
])
FIELD = st.one_of(FRAGMENTS, st.text(max_size=6))
LINE = st.lists(FIELD, min_size=0, max_size=8).map(",".join)
ROW = st.tuples(  # mostly valid readings, so that the duplicate and quantity checks run
    st.sampled_from(["T001", "T002", "T003"]) | FIELD,
    st.sampled_from(["2018-06-01T04:00:00Z", "2018-06-01T06:00:00+02:00"]) | FIELD,
    st.sampled_from(["30", "60", "45"]) | FIELD,
    st.sampled_from(["tension", "vwc"]) | FIELD,
    st.sampled_from(["12.5", "0.25", "30"]) | FIELD,
    st.sampled_from(["kPa", "cbar", "%", "m3/m3"]) | FIELD,
).map(",".join)


def check_result(result) -> None:
    ds, problems = result
    assert isinstance(ds, xr.Dataset)
    assert ds["value"].dims == ("sensor", "depth", "time")
    assert all(isinstance(p, ReadProblem) for p in problems)
    kept = ds.attrs["n_rows_read"] - ds.attrs["n_rows_dropped"]
    assert int(ds["value"].notnull().sum()) == kept


def read_or_input_error(reader, path, **kwargs):
    try:
        result = reader(path, **kwargs)
    except InputError as exc:
        assert str(path) in str(exc) or isinstance(path, dict)
        return None
    check_result(result)
    return result


@FUZZ
@given(data=st.one_of(
    st.binary(max_size=300),
    st.binary(max_size=100).map(lambda b: b"\x1f\x8b" + b),
    st.binary(max_size=200).map(gzip.compress),
))
def test_any_bytes_parse_or_input_error(tmp_path, data):
    path = tmp_path / "fuzz.csv"
    path.write_bytes(data)
    read_or_input_error(read_sensor_csv, path)
    read_or_input_error(read_sensorthings, path)


@FUZZ
@given(
    header=st.one_of(st.just(HEADER.strip()), st.permutations(HEADER.strip().split(","))
                     .map(",".join), LINE),
    lines=st.lists(st.one_of(ROW, LINE, st.just("# comment, a, b, c, d, e"), st.just("")),
                   max_size=12),
    newline=st.sampled_from(["\n", "\r\n"]),
    known=st.none() | st.just(KNOWN),
)
def test_csvish_text_parses_or_input_error(tmp_path, header, lines, newline, known):
    path = tmp_path / "fuzz.csv"
    path.write_bytes(newline.join([header, *lines]).encode("utf-8", "surrogatepass"))
    result = read_or_input_error(read_sensor_csv, path, known=known)
    if result is not None:  # every dropped row has exactly one error problem
        ds, problems = result
        assert sum(p.severity == "error" for p in problems) == ds.attrs["n_rows_dropped"]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["value", "name", "Datastreams", "Thing", "Observations",
                                       "result", "phenomenonTime", "properties", "x"]),
                      children, max_size=4),
    max_leaves=20,
)
LEAF = st.one_of(JSON, FRAGMENTS)


@st.composite
def frost_document(draw):
    """FROST-shaped documents, mostly valid, with parts replaced by random JSON."""
    def maybe(value):
        return draw(JSON) if draw(st.integers(0, 9)) == 0 else value

    def pick(*valid):
        return draw(st.sampled_from(valid)) if draw(st.integers(0, 3)) else draw(LEAF)

    def observation():
        return maybe({
            "phenomenonTime": pick("2018-06-01T04:00:00Z", "2018-06-01T07:00:00+02:00",
                                   "2018-06-01T04:00:00Z/2018-06-01T05:00:00Z"),
            "result": pick(12.5, 0.3, "14", 25),
        })

    def datastream():
        return maybe({
            "name": pick("x 30 cm", "60cm", "0 cm", "999 cm", "VWC"),
            "properties": maybe({"depth_cm": pick(30, 60, "90", 30.0)}),
            "unitOfMeasurement": maybe({"symbol": pick("kPa", "%", "m3/m3", "hPa")}),
            "ObservedProperty": maybe({"name": pick("Soil water tension", "Soil moisture",
                                                    "VolumetricWaterContent")}),
            "Observations": maybe([observation() for _ in range(draw(st.integers(0, 3)))]),
            "Thing": maybe({"name": pick("T1", "T2")}),
        })

    def thing():
        return maybe({"name": pick("T1", "T2"), "properties": maybe({"sensor_id": pick("T3")}),
                      "Datastreams": maybe([datastream() for _ in range(draw(st.integers(0, 3)))])})

    items = [draw(st.sampled_from([thing, datastream]))() for _ in range(draw(st.integers(0, 3)))]
    return maybe({"value": items, "@iot.nextLink": pick(None, "https://x/next")})


@FUZZ
@given(doc=st.one_of(JSON, frost_document()))
def test_any_json_parses_or_input_error(tmp_path, doc):
    path = tmp_path / "fuzz.json"
    path.write_text(json.dumps(doc))
    read_or_input_error(read_sensorthings, path)
    if isinstance(doc, dict):
        read_or_input_error(read_sensorthings, doc)

