"""DWD CDC daily climate (KL) station files."""

import math
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from irrigation.errors import InputError
from irrigation.io.dwd import read_dwd_daily
from irrigation.io.weather import read_weather_file
from irrigation.weather import complete_weather, et0

DATA = Path(__file__).parents[1] / "data" / "weather"
KL = DATA / "produkt_klima_tag_20220701_20220710_00433.txt"
FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def test_values_units_and_the_missing_sunshine():
    ds = read_dwd_daily(KL)
    assert ds.sizes["time"] == 10 and ds.attrs["station"] == "433"
    assert str(ds["time"].values[0])[:10] == "2022-07-01"
    # values read by eye from line 2 (2022-07-01)
    assert float(ds["tmax_c"][0]) == 28.9 and float(ds["tmin_c"][0]) == 14.6
    assert float(ds["tmean_c"][0]) == 22.4 and float(ds["rh_mean_pct"][0]) == 55.67
    assert float(ds["precip_mm"][3]) == 11.7
    # FM 3.1 m/s at 10 m -> 2 m: FAO-56 eq. 47, u2 = uz 4.87 / ln(67.8 z - 5.42)
    assert float(ds["wind_ms"][0]) == pytest.approx(3.1 * 4.87 / math.log(67.8 * 10 - 5.42))
    # dewpoint: e°(Tdew) (FAO-56 eq. 11) gives back VPM 13.4 hPa = 1.34 kPa
    tdew = float(ds["tdew_c"][0])
    assert 0.6108 * math.exp(17.27 * tdew / (tdew + 237.3)) == pytest.approx(1.34)
    # SDK is -999 on 2022-07-07: sunshine left out, and said so
    assert "sunshine_h" not in ds
    assert "SDK (sunshine_h) missing on 1 day(s) from 2022-07-07" in ds.attrs["notes"]
    for name in ds.data_vars:
        assert ds[name].attrs["units"]


def test_period_without_gap_keeps_sunshine_and_gives_et0():
    ds = read_dwd_daily(KL, start="2022-07-01", end="2022-07-06")
    assert ds.sizes["time"] == 6 and ds.attrs["notes"] == ""
    assert float(ds["sunshine_h"][1]) == 13.8
    full = complete_weather(ds, latitude_deg=52.47)
    assert "Angstrom" in full.attrs["fallbacks"]  # KL has no radiation: from sunshine
    e = et0(full, latitude_deg=52.47, elevation_m=48.0)
    assert 3.0 < float(e.mean()) < 6.5  # mm/d, a Berlin July


def test_zip_and_read_weather_file(tmp_path):
    z = tmp_path / "tageswerte_KL_00433_20220701_20220710_hist.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("Metadaten_Geographie_00433.txt", "Stations_id;Stationshoehe\n433;48\n")
        zf.writestr(KL.name, KL.read_bytes())
    a, b, c = read_dwd_daily(z), read_weather_file(z), read_weather_file(KL)
    for other in (b, c):
        np.testing.assert_array_equal(a["tmax_c"].values, other["tmax_c"].values)
    assert KL.name in a.attrs["source"]


@pytest.mark.parametrize(("old", "new", "row", "field", "match"), [
    ("433;20220704;  10;11.0; 2.8;    3;  11.7", "433;20220704;  10;11.0; 2.8;    3;-999",
     5, "RSK", "no fallback"),
    ("   28.9;", " -999;", 2, "TXK", "no fallback"),
    ("20220702", "2022-07-02", 3, "MESS_DATUM", "YYYYMMDD"),
    ("20220703", "20220702", 4, "MESS_DATUM", "twice"),
    ("   25.3;", "   warm;", 4, "TXK", "a number"),
    (";   0.0;   0;  13.800", ";   0.0;  13.800", 3, None, "fields"),
    ("STATIONS_ID;MESS_DATUM;QN_3;  FX;  FM", "STATIONS_ID;MESS_DATUM;QN_3;  FX;  FF", 1,
     None, "FM"),
])
def test_bad_lines_name_line_and_column(tmp_path, old, new, row, field, match):
    text = KL.read_text(encoding="latin-1")
    assert old in text
    path = tmp_path / KL.name
    path.write_text(text.replace(old, new, 1), encoding="latin-1")
    with pytest.raises(InputError, match=match) as info:
        read_dwd_daily(path)
    assert (info.value.row, info.value.field) == (row, field)
    assert str(path) in str(info.value)


def test_gap_in_days_and_wrong_units_are_errors(tmp_path):
    lines = KL.read_text(encoding="latin-1").splitlines()
    path = tmp_path / KL.name
    path.write_text("\n".join(lines[:3] + lines[4:]), encoding="latin-1")
    with pytest.raises(InputError, match="consecutive"):
        read_dwd_daily(path)
    path.write_text(KL.read_text(encoding="latin-1").replace("   0.0;   0;  12.517",
                                                             "9999.0;   0;  12.517"))
    with pytest.raises(InputError, match="plausible"):
        read_dwd_daily(path)


@FUZZ
@given(body=st.binary(max_size=300), zipped=st.booleans())
def test_any_bytes_read_or_input_error(tmp_path, body, zipped):
    head = KL.read_bytes().splitlines(keepends=True)[0]
    path = tmp_path / ("k.zip" if zipped else "k.txt")
    if zipped:
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("produkt_klima_tag_x.txt", head + body)
    else:
        path.write_bytes(head + body)
    try:
        ds = read_dwd_daily(path)
    except InputError as exc:
        assert str(path) in str(exc) and "\n" not in str(exc)
    else:
        assert ds.sizes["time"] >= 1
