"""MOSMIX forecasts issued at any hour: partial days completed or dropped, and said so."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from irrigation.errors import InputError
from irrigation.io.weather import read_mosmix

SAMPLE = Path(__file__).parents[1] / "data" / "weather" / "mosmix_sample.kml"
TEXT = SAMPLE.read_text(encoding="latin-1")
STAMPS = pd.DatetimeIndex(re.findall(r"<dwd:TimeStep>([^<]+)</dwd:TimeStep>", TEXT)
                          ).tz_convert(None)
ELEMENTS = {m.group(1): np.array(m.group(2).split(), float) for m in re.finditer(
    r'elementName="(\w+)">\s*<dwd:value>([^<]+)</dwd:value>', TEXT)}


def issued_from(tmp_path, first: str) -> Path:
    """The sample cut to start at the time step ``first`` (as if issued an hour before)."""
    k = int(np.flatnonzero(STAMPS == pd.Timestamp(first).tz_convert(None))[0])
    steps = re.findall(r"\s*<dwd:TimeStep>[^<]+</dwd:TimeStep>", TEXT)
    text = TEXT
    for step in steps[:k]:
        text = text.replace(step, "", 1)
    for name, values in ELEMENTS.items():
        old = re.search(rf'elementName="{name}">\s*<dwd:value>([^<]+)</dwd:value>', text)
        text = text.replace(old.group(1), " ".join(f"{v:.2f}" for v in values[k:]), 1)
    path = tmp_path / "MOSMIX_L_cut.kml"
    path.write_text(text, encoding="latin-1")
    return path


def hourly(name: str, start: str, end: str) -> np.ndarray:
    """Values of the hours starting in [start, end) (stamped one hour later)."""
    stamp = STAMPS - pd.Timedelta(hours=1)
    return ELEMENTS[name][(stamp >= pd.Timestamp(start)) & (stamp < pd.Timestamp(end))]


def test_early_morning_issue_starts_on_its_own_day(tmp_path):
    """Issued 03 UTC on 07-02 (first step 04:00): 21 h of 07-02, the hours 00-03 from
    07-03; aggregates checked against the hourly values of the file."""
    ds = read_mosmix(issued_from(tmp_path, "2024-07-02T04:00:00Z"))
    assert str(ds["time"].values[0])[:10] == "2024-07-02"
    assert "2024-07-02: 21 of 24 h (03-00 UTC); the other 3 h completed from 2024-07-03" \
        in ds.attrs["partial_days"]
    own = ("2024-07-02T03", "2024-07-03T00")
    borrowed = ("2024-07-03T00", "2024-07-03T03")
    ttt = np.concatenate([hourly("TTT", *own), hourly("TTT", *borrowed)])
    assert ttt.size == 24
    day = ds.isel(time=0)
    assert float(day["tmin_c"]) == pytest.approx(ttt.min() - 273.15)
    assert float(day["tmax_c"]) == pytest.approx(ttt.max() - 273.15)
    assert float(day["tmean_c"]) == pytest.approx(ttt.mean() - 273.15)
    # rain only of the 21 forecast hours; radiation with the borrowed night hours
    assert float(day["precip_mm"]) == pytest.approx(hourly("RR1c", *own).sum())
    rad = hourly("Rad1h", *own).sum() + hourly("Rad1h", *borrowed).sum()
    assert float(day["rs_mj_m2_d"]) == pytest.approx(rad / 1000)


@pytest.mark.parametrize(("first", "start", "n_hours"), [
    ("2024-07-02T10:00:00Z", "2024-07-02", 15),  # 09 UTC issue: 15 h, kept
    ("2024-07-02T19:00:00Z", "2024-07-02", 6),  # 6 h: just kept
    ("2024-07-02T20:00:00Z", "2024-07-03", 5),  # 5 h < 6: dropped, starts next day
    ("2024-07-02T22:00:00Z", "2024-07-03", 3),  # 21 UTC issue: the next day's forecast
])
def test_first_day_kept_from_six_hours(tmp_path, first, start, n_hours):
    ds = read_mosmix(issued_from(tmp_path, first))
    assert str(ds["time"].values[0])[:10] == start
    assert f"2024-07-02: {n_hours} of 24 h" in ds.attrs["partial_days"]
    assert ("dropped" in ds.attrs["partial_days"]) == (n_hours < 6)


def test_min_hours_is_a_parameter_and_no_day_is_an_error(tmp_path):
    path = issued_from(tmp_path, "2024-07-02T04:00:00Z")
    assert str(read_mosmix(path, min_hours=24)["time"].values[0])[:10] == "2024-07-03"
    short = issued_from(tmp_path, "2024-07-04T09:00:00Z")  # 4 h, no complete day
    with pytest.raises(InputError, match="no day with at least 6"):
        read_mosmix(short)
