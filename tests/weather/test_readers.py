"""Weather readers and bad input."""

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from irrigation.errors import InputError
from irrigation.io.weather import (
    read_knmi_daily,
    read_mosmix,
    read_open_meteo,
    read_weather_csv,
    read_weather_netcdf,
    write_weather_csv,
)
from irrigation.weather import complete_weather, ensemble_from_deterministic, et0

DATA = Path(__file__).parents[1] / "data" / "weather"

GOOD = """date,tmin_c,tmax_c,tmean_c,rh_mean_pct,wind_ms,rs_mj_m2_d,precip_mm
2024-07-01,13.2,24.1,18.6,66,3.4,21.3,1.2
2024-07-02,14.8,27.3,21.0,61,2.5,25.7,0.0
2024-07-03,16.1,29.0,22.4,58,3.0,26.2,0.0
"""


def write(tmp_path, text, name="w.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_csv_roundtrip(tmp_path):
    ds = read_weather_csv(write(tmp_path, GOOD), wind_height_m=10.0)
    assert ds["wind_ms"].attrs["units"] == "m s-1"
    assert float(ds["wind_ms"][0]) == pytest.approx(3.4 * 0.748, rel=1e-3)  # FAO-56 eq. 47
    out = tmp_path / "back.csv"
    write_weather_csv(ds, out, wind_height_m=10.0)
    again = read_weather_csv(out, wind_height_m=10.0)
    xr.testing.assert_allclose(ds.drop_attrs(), again.drop_attrs())


@pytest.mark.parametrize(
    ("text", "field", "row"),
    [
        (GOOD.replace("precip_mm", "precip"), "precip", 1),  # unknown column (typo)
        (GOOD.replace(",precip_mm", "").replace(",1.2\n", "\n").replace(",0.0\n", "\n"),
         None, 1),  # missing required column
        (GOOD.replace("24.1", "warm"), "tmax_c", 2),  # not a number
        (GOOD.replace("27.3", ""), "tmax_c", 3),  # NaN / empty cell
        (GOOD.replace("2024-07-02", "2024-07-05"), "time", None),  # gap
        (GOOD.replace("2024-07-02", "2024-07-01"), "date", 3),  # duplicate
        (GOOD.replace("2024-07-02", "02.07.2024"), "date", 3),  # date format
        (GOOD.replace("21.3", "246.5"), "rs_mj_m2_d", None),  # W/m2 where MJ/m2/d declared
    ],
)
def test_csv_bad_input(tmp_path, text, field, row):
    with pytest.raises(InputError) as info:
        read_weather_csv(write(tmp_path, text))
    err = info.value
    assert err.file is not None and str(tmp_path) in err.file
    if field is not None:
        assert err.field == field
    if row is not None:
        assert err.row == row


def test_non_daily_timestamps_rejected():
    time = pd.date_range("2024-07-01", periods=4, freq="6h")
    ds = xr.Dataset({"tmin_c": ("time", np.ones(4)), "tmax_c": ("time", np.ones(4) * 5),
                     "precip_mm": ("time", np.zeros(4))}, coords={"time": time})
    with pytest.raises(InputError, match="daily timestamps"):
        complete_weather(ds, latitude_deg=52.0)


def test_missing_underivable_variable_is_error():
    ds = read_open_meteo(DATA / "open_meteo_daily.json").drop_vars("precip_mm")
    with pytest.raises(InputError, match="precip_mm"):
        complete_weather(ds, latitude_deg=52.5)


def test_fallbacks_are_logged(caplog):
    ds = read_open_meteo(DATA / "open_meteo_ensemble.json")  # only temperatures and rain
    with caplog.at_level(logging.INFO, logger="irrigation.weather"):
        full = complete_weather(ds, latitude_deg=52.5)
    for name in ("tmean_c", "rs_mj_m2_d", "tdew_c", "wind_ms"):
        assert name in full
        assert name in full.attrs["fallbacks"]
    assert "Hargreaves" in caplog.text and "FAO-56 p. 63" in caplog.text
    # radiation from sunshine is preferred over the temperature range
    daily = read_open_meteo(DATA / "open_meteo_daily.json").drop_vars("rs_mj_m2_d")
    assert "sunshine" in complete_weather(daily, latitude_deg=52.5).attrs["fallbacks"]


def test_open_meteo_daily_and_ensemble():
    ds = read_open_meteo(DATA / "open_meteo_daily.json")
    assert float(ds["sunshine_h"][0]) == pytest.approx(8.4)
    assert float(ds["wind_ms"][0]) == pytest.approx(12.4 / 3.6 * 0.748, rel=1e-3)
    ens = read_open_meteo(DATA / "open_meteo_ensemble.json")
    assert ens.sizes == {"time": 2, "member": 3}
    assert float(ens["precip_mm"].sel(member=2)[0]) == 4.5
    assert et0(ens, latitude_deg=52.5, elevation_m=38.0).dims == ("time", "member")


def test_open_meteo_unknown_unit(tmp_path):
    text = (DATA / "open_meteo_daily.json").read_text().replace('"km/h"', '"furlong/fortnight"')
    with pytest.raises(InputError, match="furlong"):
        read_open_meteo(write(tmp_path, text, "om.json"))


def test_mosmix_hourly_to_daily(caplog):
    with caplog.at_level(logging.INFO):
        ds = read_mosmix(DATA / "mosmix_sample.kml")
    # steps 07-01 13 UTC .. 07-04 12 UTC: 12 h of the first and last day, completed
    assert "completed from 2024-07-02" in caplog.text
    assert ds.sizes["time"] == 4
    assert str(ds["time"].values[0])[:10] == "2024-07-01"
    assert "2024-07-01: 12 of 24 h (12-00 UTC)" in ds.attrs["partial_days"]
    assert "2024-07-04: 12 of 24 h (00-12 UTC)" in ds.attrs["partial_days"]
    assert ds.attrs["issue_time"] == "2024-07-01T12:00:00.000Z"
    assert float(ds["tmax_c"][1]) == pytest.approx(24.0, abs=0.01)
    assert float(ds["tmin_c"][1]) == pytest.approx(12.0, abs=0.01)
    assert float(ds["precip_mm"][1]) == pytest.approx(1.6)
    assert 15 < float(ds["rs_mj_m2_d"][1]) < 30


def test_mosmix_kmz_and_missing_element(tmp_path):
    import zipfile

    kml = (DATA / "mosmix_sample.kml").read_text(encoding="latin-1")
    kmz = tmp_path / "MOSMIX_L_test.kmz"
    with zipfile.ZipFile(kmz, "w") as zf:
        zf.writestr("MOSMIX_L_test.kml", kml)
    assert read_mosmix(kmz).sizes["time"] == 4
    broken = write(tmp_path, kml.replace('elementName="FF"', 'elementName="XX"'), "b.kml")
    with pytest.raises(InputError, match="FF"):
        read_mosmix(broken)


def test_knmi_reader():
    ds = read_knmi_daily(DATA / "etmgeg_260_2018summer.txt")
    assert ds.sizes["time"] == 92
    assert str(ds["time"][0].values)[:10] == "2018-06-01"
    assert float(ds["rs_mj_m2_d"][0]) == pytest.approx(11.60)  # Q = 1160 J/cm2
    assert float(ds["precip_mm"].min()) == 0.0  # RH = -1 (< 0.05 mm) read as 0
    assert float(ds["tmax_c"].max()) > 30  # the 2018 heat
    e = et0(ds, latitude_deg=52.1, elevation_m=2.0)
    assert 300 < float(e.sum()) < 450  # mm over a dry summer


def test_netcdf_with_units_conversion(tmp_path):
    ds = read_open_meteo(DATA / "open_meteo_daily.json")
    raw = ds.copy()
    raw["tmin_c"] = (raw["tmin_c"] + 273.15).assign_attrs(units="K")
    raw["wind_ms"] = (raw["wind_ms"] / 0.748).assign_attrs(units="m s-1")
    path = tmp_path / "w.nc"
    raw.to_netcdf(path)
    back = read_weather_netcdf(path, wind_height_m=10.0)
    np.testing.assert_allclose(back["tmin_c"], ds["tmin_c"])
    np.testing.assert_allclose(back["wind_ms"], ds["wind_ms"], rtol=1e-3)
    wrong = ds.copy()
    wrong["rs_mj_m2_d"] = wrong["rs_mj_m2_d"].assign_attrs(units="W m-2") * 11.57
    wrong.to_netcdf(tmp_path / "w2.nc")
    # declared W m-2 is converted (daily mean flux -> MJ m-2 d-1), values come back
    np.testing.assert_allclose(read_weather_netcdf(tmp_path / "w2.nc")["rs_mj_m2_d"],
                               ds["rs_mj_m2_d"], rtol=1e-3)
    lie = ds.copy()
    lie["rs_mj_m2_d"] = lie["rs_mj_m2_d"] * 11.57  # W m-2 values, MJ declared
    lie.to_netcdf(tmp_path / "w3.nc")
    with pytest.raises(InputError, match="wrong units"):
        read_weather_netcdf(tmp_path / "w3.nc")


def test_generated_ensemble_is_seeded_and_spreads():
    det = read_knmi_daily(DATA / "etmgeg_260_2018summer.txt").isel(time=slice(0, 14))
    a = ensemble_from_deterministic(det, 20, seed=7)
    b = ensemble_from_deterministic(det, 20, seed=7)
    xr.testing.assert_identical(a, b)
    assert a.sizes["member"] == 20
    xr.testing.assert_allclose(a.isel(member=0).drop_vars("member"), det)
    spread = a["tmax_c"].std("member")
    assert float(spread[-1]) > float(spread[1]) > 0  # grows with lead time
    assert float(a["precip_mm"].min()) >= 0
    complete_weather(a, latitude_deg=52.1)  # still valid weather


def test_open_meteo_null_values_are_an_error(tmp_path):
    text = (DATA / "open_meteo_daily.json").read_text().replace("[1.2,0.0,0.0]",
                                                                 "[1.2,null,0.0]")
    with pytest.raises(InputError, match="NaN") as info:
        read_open_meteo(write(tmp_path, text, "om.json"))
    assert info.value.field == "precip_mm" and "2024-07-02" in str(info.value)


def test_humidity_slightly_above_100_is_clipped_and_noted(tmp_path):
    """Stations report up to ~102 % in fog; accepted up to RH_CLIP_LIMIT_PCT, set to 100 %."""
    ds = read_weather_csv(write(tmp_path, GOOD.replace(",66,", ",102.1,")))
    assert float(ds["rh_mean_pct"].max()) == 100.0
    assert "rh_mean_pct: 1 value(s) above 100 % (up to 102.1 %) clipped" in ds.attrs["notes"]
    raw = xr.Dataset({"tmin_c": ("time", [10.0]), "tmax_c": ("time", [20.0]),
                      "precip_mm": ("time", [0.0]), "rh_max_pct": ("time", [101.0]),
                      "rh_min_pct": ("time", [60.0])},
                     coords={"time": pd.date_range("2024-07-01", periods=1)})
    done = complete_weather(raw, latitude_deg=52.0)
    assert done["rh_max_pct"].values.tolist() == [100.0]
    assert "rh_max_pct" in done.attrs["notes"]
    assert raw["rh_max_pct"].values.tolist() == [101.0]  # the input is not modified


@pytest.mark.parametrize("value", ["103.5", "150"])
def test_humidity_above_the_clip_limit_is_an_error(tmp_path, value):
    with pytest.raises(InputError) as info:
        read_weather_csv(write(tmp_path, GOOD.replace(",66,", f",{value},")))
    assert info.value.field == "rh_mean_pct"


def test_et0_of_clipped_humidity_equals_et0_at_100(tmp_path):
    at_100 = read_weather_csv(write(tmp_path, GOOD.replace(",66,", ",100,"), "a.csv"))
    above = read_weather_csv(write(tmp_path, GOOD.replace(",66,", ",102.5,"), "b.csv"))
    kw = {"latitude_deg": 52.1, "elevation_m": 2.0}
    xr.testing.assert_allclose(et0(at_100, **kw), et0(above, **kw))


def test_open_meteo_archive_trailing_nulls_left_out():
    from irrigation.io.weather import read_open_meteo_archive

    ds = read_open_meteo_archive(DATA / "open_meteo_archive.json")
    assert ds.sizes["time"] == 5
    assert str(ds["time"].values[-1])[:10] == "2024-06-28"
    assert "2 trailing day(s) without data left out (2024-06-29 .. 2024-06-30" \
        in ds.attrs["notes"]
    assert float(ds["tmax_c"][2]) == 31.8 and float(ds["precip_mm"][4]) == 7.9
    assert float(ds["sunshine_h"][0]) == pytest.approx(49320 / 3600)
    assert float(ds["wind_ms"][0]) == pytest.approx(10.1 / 3.6 * 0.748, rel=1e-3)
    assert "et0_fao_evapotranspiration" not in ds  # our ET0 is computed, not read


def test_open_meteo_archive_interior_null_is_an_error(tmp_path):
    from irrigation.io.weather import read_open_meteo_archive

    text = (DATA / "open_meteo_archive.json").read_text().replace("[0.0,0.0,0.0,3.4",
                                                                   "[0.0,null,0.0,3.4")
    with pytest.raises(InputError, match="NaN") as info:
        read_open_meteo_archive(write(tmp_path, text, "a.json"))
    assert info.value.field == "precip_mm" and "2024-06-25" in str(info.value)


@pytest.mark.parametrize("doc", [
    [], {"daily": {"time": "2024-07-01"}}, {"daily": {"time": ["x"]}},
    {"daily": {"time": ["2024-07-01"], "precipitation_sum": ["a"]}, "daily_units": {
        "precipitation_sum": "mm"}},
    {"daily": {"time": ["2024-07-01"], "precipitation_sum": [1.0]}, "daily_units": []},
    {"daily": {"time": ["2024-07-01"], "precipitation_sum_memberXY": [1.0]}},
])
def test_open_meteo_bad_documents_are_input_errors(tmp_path, doc):
    import json

    from irrigation.io.weather import read_open_meteo_archive

    path = write(tmp_path, json.dumps(doc), "bad.json")
    for reader in (read_open_meteo, read_open_meteo_archive):
        with pytest.raises(InputError) as info:
            reader(path)
        assert str(path) in str(info.value)
