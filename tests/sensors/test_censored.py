"""A tension probe pinned at the top of its range: flagged censored (not stuck), used as a
lower bound of depletion, and assimilated one-sidedly (Tobit-type)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from irrigation.sensors import (
    QC_FLAGS,
    AssimilationRules,
    analysis,
    quality_control,
    root_zone_depletion,
    window_bounds,
    window_means,
)
from irrigation.soil import van_genuchten_theta

HOURS = np.datetime64("2018-07-01T00:00") + np.arange(24 * 8).astype("timedelta64[h]")


def readings(series: dict[str, np.ndarray]) -> xr.Dataset:
    names = list(series)
    v = np.stack([series[k] for k in names])[:, None, :]
    return xr.Dataset({"value": (("sensor", "depth", "time"), v)},
                      coords={"sensor": names, "depth": [30], "time": HOURS,
                              "quantity": ("sensor", ["tension"] * len(names))})


def test_a_channel_at_the_ceiling_is_censored_not_stuck():
    n = HOURS.size
    rise = np.round(np.linspace(150.0, 260.0, n))  # dries past the logger's range
    pinned = np.minimum(rise, 239.0)
    stuck = np.where((np.arange(n) > 48) & (np.arange(n) < 120), 150.0, rise - 100.0)
    qc = quality_control(readings({"P": pinned, "S": stuck}))
    f = qc["qc_flags"].values[:, 0, :]
    at_top = pinned == 239.0
    assert ((f[0] & QC_FLAGS["censored"]) > 0).tolist() == at_top.tolist()
    assert not ((f[0] & QC_FLAGS["stuck"]) > 0).any()
    assert not qc["valid"].values[0, 0, at_top].any()  # a bound, not a value
    assert qc["valid"].values[0, 0, ~at_top].all()
    assert ((f[1] & QC_FLAGS["stuck"]) > 0).sum() >= 70  # a real stuck logger still is
    assert qc["qc_flags"].attrs["flag_meanings"].split()[-1] == "censored"


def test_window_bound_is_the_mean_with_censored_readings_at_the_ceiling():
    n = HOURS.size
    v = 200.0 + np.arange(n) % 3  # not stuck
    v[24 + 21:24 + 24] = 239.0  # the last 3 h before day 3's morning: pinned
    window = v[24 + 18:24 + 24]  # the 6 h before that morning
    qc = quality_control(readings({"P": v}))
    days = HOURS[::24].astype("datetime64[D]")
    bounds = window_bounds(qc, days, 6)
    means = window_means(qc, days, 6)
    assert float(bounds.sel(time=days[2])[0, 0]) == pytest.approx(window.mean())
    assert float(means.sel(time=days[2])[0, 0]) == pytest.approx(window[:3].mean())
    assert np.isnan(bounds.sel(time=days[1])[0, 0])
    scored = window_means(qc, days, 6, censored=True)
    assert float(scored.sel(time=days[2])[0, 0]) == pytest.approx(window.mean())


def probe(depths=(30, 60, 90)):
    hyd = xr.Dataset({"theta_r": ("sensor", [0.04]), "theta_s": ("sensor", [0.39]),
                      "alpha_per_cm": ("sensor", [0.0202186]), "n": ("sensor", [1.28991]),
                      "theta_fc": ("sensor", [0.235]), "theta_wp": ("sensor", [0.105]),
                      "root_depth_m": ("sensor", [0.75])}, coords={"sensor": ["P"]})
    q = xr.DataArray(["tension"], dims="sensor", coords={"sensor": ["P"]})
    return hyd, q, np.asarray(depths)


def test_censored_channel_gives_a_lower_bound_of_depletion():
    """The layer-weighted θ with θ(239 kPa) for the censored channel: Dr closed form."""
    hyd, q, depth = probe()
    values = xr.DataArray([[239.0, 100.0, 80.0]], dims=("sensor", "depth"),
                          coords={"sensor": ["P"], "depth": depth})
    cens = xr.zeros_like(values, dtype=bool)
    cens[0, 0] = True
    out = root_zone_depletion(values, q, hyd, censored=cens)
    vg = (0.04, 0.39, 0.0202186, 1.28991)
    w = np.array([0.45, 0.30, 0.0]) / 0.75  # channels stand for 0-45, 45-75 cm
    theta = w @ van_genuchten_theta(np.array([239.0, 100.0, 80.0]), *vg)
    assert float(out["dr_obs_mm"][0]) == pytest.approx(750.0 * (0.235 - theta))
    assert bool(out["censored"][0])
    plain = root_zone_depletion(values, q, hyd)
    assert not bool(plain["censored"][0])
    # a censored channel below the root zone does not make the observation a bound
    cens[:] = False
    cens[0, 2] = True
    assert not bool(root_zone_depletion(values, q, hyd, censored=cens)["censored"][0])


def sites(n=2):
    return xr.Dataset(
        {"kind": ("site", ["young_tree"] * n), "species": ("site", ["Tilia cordata"] * n),
         "soil_texture": ("site", ["loam"] * n), "planting_year": ("site", [2016] * n)},
        coords={"site": [f"S{i}" for i in range(n)], "x": ("site", [0.0, 300.0][:n]),
                "y": ("site", np.zeros(n))})


def obs(y, censored):
    return xr.Dataset({"site": ("sensor", ["S0"]), "dr_obs_mm": ("sensor", [y]),
                       "var_obs_mm2": ("sensor", [4.0]),
                       "censored": ("sensor", [censored])})


def test_censored_observation_is_used_only_where_the_background_is_wetter():
    """Tobit-type: background drier than the bound -> no update; wetter -> the update of
    an ordinary observation at the bound; no member is pulled wetter."""
    rules = AssimilationRules(length_scale_m=1000.0)
    s = sites()
    taw = xr.DataArray([100.0, 100.0], dims="site", coords={"site": s.site.values})
    pb = xr.full_like(taw, 16.0)
    dry = xr.DataArray([50.0, 45.0], dims="site", coords={"site": s.site.values})
    a = analysis(dry, pb, obs(30.0, True), s, taw, rules)
    assert a.dr_mm.equals(dry) and a.var_mm2.equals(pb) and a.attrs["n_obs"] == 0
    wet = xr.DataArray([20.0, 25.0], dims="site", coords={"site": s.site.values})
    one_sided = analysis(wet, pb, obs(30.0, True), s, taw, rules)
    ordinary = analysis(wet, pb, obs(30.0, False), s, taw, rules)
    np.testing.assert_allclose(one_sided.dr_mm, ordinary.dr_mm)
    np.testing.assert_allclose(one_sided.var_mm2, ordinary.var_mm2)
    assert float(one_sided.dr_mm[0]) == pytest.approx(20 + 16 / 20 * 10)
    members = xr.DataArray([[10.0, 40.0], [25.0, 25.0]], dims=("site", "member"),
                           coords={"site": s.site.values})  # S0 mean 25 < 30: used
    m = analysis(members, pb, obs(30.0, True), s, taw, rules)
    assert float(m.dr_mm.sel(site="S0", member=1)) == 40.0  # already drier: unchanged
    assert float(m.dr_mm.sel(site="S0", member=0)) == pytest.approx(10 + 16 / 20 * 20)
    assert (m.dr_mm >= members - 1e-12).all()
