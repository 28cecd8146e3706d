"""The root-zone bucket against pyfao56's reference runs (2013 cotton, dry and wet).

The bucket is fed what pyfao56 computed per day: the transpiration demand Kcb·ETref
(limited by Ks), the soil evaporation Ke·ETref (not limited by Ks: the evaporation layer of
the dual coefficient method lives in pyfao56, not here), rain, irrigation, root depth (TAW
from Zr) and p adjusted with the day's ETc (FAO-56 Table 22 footnote). Runoff is off in the
reference (no curve number) and in our call (infiltration 1).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from irrigation.soil import adjust_p, total_available_water_mm, water_balance

DATA = Path(__file__).parents[1] / "data" / "fao56"
THETA_FC, THETA_WP, P_BASE, DR0 = 0.225, 0.100, 0.65, 75.0  # cotton2013.par


def read_out(path: Path) -> pd.DataFrame:
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Year-DOY"))
    names = lines[start].split()
    rows = [line.split() for line in lines[start + 1:] if line.strip()]
    frame = pd.DataFrame(rows, columns=names).iloc[:, :len(rows[0])]
    frame = frame.loc[:, ~frame.columns.duplicated()]
    numeric = [c for c in frame.columns if c not in ("Year-DOY", "DOW", "Date")]
    frame[numeric] = frame[numeric].astype(float)
    return frame


@pytest.mark.parametrize("treatment", ["dry", "wet"])
def test_cotton_reference_run(treatment):
    ref = read_out(DATA / f"cotton{treatment}2013.out")
    assert len(ref) == 200
    taw = total_available_water_mm(THETA_FC, THETA_WP, ref["Zr"].to_numpy())
    p = adjust_p(P_BASE, ref["ETc"].to_numpy())
    res = water_balance(
        np.array(DR0),
        taw,
        p,
        (ref["Kcb"] * ref["ETref"]).to_numpy(),
        ref["Rain"].to_numpy(),
        irrigation_mm=ref["Irrig"].to_numpy(),
        evap_mm=(ref["Ke"] * ref["ETref"]).to_numpy(),
    )
    # printed values carry 3 decimals, hence the small tolerances
    np.testing.assert_allclose(res["taw_mm"], ref["TAW"], atol=0.1)
    np.testing.assert_allclose(res["raw_mm"], ref["RAW"], atol=0.1)
    assert np.abs(res["dr_mm"] - ref["Dr"]).max() < 0.5  # measured 0.029 mm
    assert np.abs(res["ks"] - ref["Ks"]).max() < 0.002
    assert np.abs(res["eta_mm"] - ref["ETa"]).max() < 0.02
    assert np.abs(res["deep_percolation_mm"] - ref["DP"]).max() < 0.05
    assert res["deep_percolation_mm"].sum() == pytest.approx(ref["DP"].sum(), abs=0.1)
    assert np.abs(res["residual_mm"]).max() < 1e-9
