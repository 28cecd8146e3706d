"""SensorThings paging: @iot.nextLink followed through page files or a fetcher."""

import json

import numpy as np
import pytest

from irrigation.errors import InputError
from irrigation.io.sensors import read_sensor_data, read_sensorthings

BASE = "https://frost.example.org/v1.1"


def thing(name: str, n_obs: int, hour0: int = 0, obs_link: str | None = None) -> dict:
    stream = {
        "name": f"{name} tension 30 cm", "properties": {"depth_cm": 30},
        "unitOfMeasurement": {"symbol": "kPa"},
        "ObservedProperty": {"name": "Soil water tension"},
        "Observations": [{"phenomenonTime": f"2018-06-01T{hour0 + k:02d}:00:00Z",
                          "result": 10.0 + hour0 + k} for k in range(n_obs)],
    }
    if obs_link:
        stream["Observations@iot.nextLink"] = obs_link
    return {"name": name, "Datastreams": [stream]}


def obs_page(hour0: int, n: int, link: str | None = None) -> dict:
    page = {"value": [{"phenomenonTime": f"2018-06-01T{hour0 + k:02d}:00:00Z",
                       "result": 10.0 + hour0 + k} for k in range(n)]}
    if link:
        page["@iot.nextLink"] = link
    return page


# page 1: Things T1 (its Observations paginated) and T2; page 2: T3
PAGE1 = {"value": [thing("T1", 2, 0, f"{BASE}/Datastreams(1)/Observations?$skip=2"),
                   thing("T2", 1)], "@iot.nextLink": f"{BASE}/Things?$skip=2"}
PAGE2 = {"value": [thing("T3", 3)]}
SERVER = {
    f"{BASE}/Things?$skip=2": PAGE2,
    f"{BASE}/Datastreams(1)/Observations?$skip=2": obs_page(
        2, 2, f"{BASE}/Datastreams(1)/Observations?$skip=4"),
    f"{BASE}/Datastreams(1)/Observations?$skip=4": obs_page(4, 1),
}


def count(ds, sensor: str) -> int:
    return int(np.isfinite(ds["value"].sel(sensor=sensor)).sum())


def test_fetcher_follows_collection_and_nested_links():
    asked = []

    def fetch(url):
        asked.append(url)
        return SERVER[url]

    ds, problems = read_sensorthings(PAGE1, fetch=fetch)
    assert ds["sensor"].values.tolist() == ["T1", "T2", "T3"]
    assert (count(ds, "T1"), count(ds, "T2"), count(ds, "T3")) == (5, 1, 3)
    # T1's observations at 00..04 h are 10..14 kPa, across its three pages
    np.testing.assert_array_equal(ds["value"].sel(sensor="T1", depth=30).values[:5],
                                  [10.0, 11.0, 12.0, 13.0, 14.0])
    assert problems == [] and len(asked) == 3 and ds.attrs["n_rows_read"] == 9


def test_without_fetcher_only_the_page_is_read_and_said():
    ds, problems = read_sensorthings(PAGE1)
    assert (count(ds, "T1"), count(ds, "T2")) == (2, 1)
    infos = [p.reason for p in problems if p.severity == "info"]
    assert any("collection is paginated" in r for r in infos)
    assert any("Observations are paginated" in r for r in infos)


def test_page_files_in_order(tmp_path):
    (tmp_path / "page-001.json").write_text(json.dumps(PAGE1))
    (tmp_path / "page-002.json").write_text(json.dumps(PAGE2))
    files = [tmp_path / "page-001.json", tmp_path / "page-002.json"]
    ds, problems = read_sensorthings(files)
    assert count(ds, "T3") == 3
    reasons = " ".join(p.reason for p in problems)
    assert "collection is paginated" not in reasons  # page 2 is the next page
    assert "Observations are paginated" in reasons  # T1's nested link not followed
    folder, folder_problems = read_sensor_data(tmp_path)
    assert folder["sensor"].values.tolist() == ["T1", "T2", "T3"]
    assert [p.reason for p in folder_problems] == [p.reason for p in problems]


def test_loops_failures_and_the_page_limit_are_reported():
    loop = {"value": [thing("T1", 1)], "@iot.nextLink": f"{BASE}/a"}
    ds, problems = read_sensorthings(loop, fetch=lambda url: loop)
    assert count(ds, "T1") == 1  # the page fetched again is the same page: stopped
    assert any("already read" in p.reason for p in problems)

    def broken(url):
        raise ConnectionError("no route to host")

    ds, problems = read_sensorthings(PAGE1, fetch=broken)
    assert any("ConnectionError" in p.reason and p.severity == "error" for p in problems)
    assert count(ds, "T2") == 1

    ds, problems = read_sensorthings(PAGE1, fetch=SERVER.__getitem__, max_pages=1)
    assert any("page limit" in p.reason for p in problems)
    ds, problems = read_sensorthings(PAGE1, fetch=lambda url: ["not", "a", "page"])
    assert any("no 'value' list" in p.reason for p in problems)


def test_no_pages_is_an_input_error():
    with pytest.raises(InputError, match="no SensorThings pages"):
        read_sensorthings([])
