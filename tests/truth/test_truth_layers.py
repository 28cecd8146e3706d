"""The truth's layered column: mass balance over random inputs, and closed forms of each
process (drainage, uptake, saturation, capillary rise)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from irrigation.truth import layer_step
from irrigation.truth.layers import layer_uptake_mm


def column(n, *, wp=0.1, fc=0.25, sat=0.4, dz=(300.0, 400.0, 300.0), tau=0.5,
           share=(0.7, 0.3, 0.0)):
    """Storage limits of ``n`` identical columns, layer-first (3, n) [mm]."""
    dz = np.asarray(dz)[:, None] * np.ones((1, n))
    return {"wp_mm": wp * dz, "fc_mm": fc * dz, "sat_mm": sat * dz,
            "tau": np.full((3, n), tau), "root_share": np.asarray(share)[:, None] * np.ones(
                (1, n)), "dz": dz}


floats = st.floats(0.0, 1.0, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(arrays(float, (6, 3, 5), elements=floats), arrays(float, (6, 5), elements=floats))
def test_mass_balance_closes_for_random_inputs(u, v):
    """Δstorage = infiltration + CR - ET - DP to rounding, every flux >= 0, and no layer
    ends below its wilting point minus nothing or above saturation."""
    n = 5
    dz = 100.0 + 900.0 * u[0]
    wp = (0.02 + 0.15 * u[1]) * dz
    fc = wp + (0.03 + 0.2 * u[2]) * dz
    sat = fc + (0.02 + 0.2 * u[3]) * dz
    w0 = wp + (sat - wp) * u[4]
    share = u[5] / np.maximum(u[5].sum(0), 1e-9)
    share[2] = 0.0
    share[:2] /= np.maximum(share[:2].sum(0), 1e-9)
    tau, p = v[0], 0.1 + 0.7 * v[1]
    etc, water_in, cr = 10 * v[2], 80 * v[3] ** 2, 3 * v[4]
    w1, f = layer_step(w0, wp, fc, sat, np.broadcast_to(tau, (3, n)), share, p, etc,
                       water_in, cr)
    residual = (w1.sum(0) - w0.sum(0)) - (water_in + f["capillary_rise_mm"] - f["et_mm"]
                                          - f["deep_percolation_mm"])
    assert np.abs(residual).max() < 1e-9 * max(1.0, np.abs(w0).max())
    for k in ("et_mm", "capillary_rise_mm", "deep_percolation_mm", "uptake_mm"):
        assert (f[k] >= -1e-12).all()
    assert (w1 <= sat + 1e-9).all()
    assert (w1 >= np.minimum(w0, wp) - 1e-9).all()  # roots stop at the wilting point


def test_drainage_of_water_above_field_capacity_is_tau_per_day():
    """No ET, no input: the top layer keeps (1 - τ) of its excess over field capacity; the
    drained water moves into the layer below (closed form, one day)."""
    c = column(1, tau=0.4)
    w0 = c["fc_mm"].copy()
    w0[0] += 30.0  # 30 mm above field capacity in the topsoil
    w1, f = layer_step(w0, c["wp_mm"], c["fc_mm"], c["sat_mm"], c["tau"], c["root_share"],
                       np.array([0.5]), np.array([0.0]), np.array([0.0]), np.array([0.0]))
    assert w1[0, 0] == pytest.approx(c["fc_mm"][0, 0] + 0.6 * 30.0)
    # the 12 mm reach layer 1, which then drains 0.4 of them to layer 2
    assert w1[1, 0] == pytest.approx(c["fc_mm"][1, 0] + 0.6 * 12.0)
    assert w1[2, 0] == pytest.approx(c["fc_mm"][2, 0] + 0.6 * 0.4 * 12.0)
    assert f["deep_percolation_mm"][0] == pytest.approx(0.4 * 0.4 * 0.4 * 30.0)


def test_water_above_saturation_passes_on_the_same_day():
    c = column(1, tau=0.0)  # no gravity drainage: only saturation excess moves
    w0 = c["fc_mm"].copy()
    room = c["sat_mm"][0, 0] - w0[0, 0]
    w1, f = layer_step(w0, c["wp_mm"], c["fc_mm"], c["sat_mm"], c["tau"], c["root_share"],
                       np.array([0.5]), np.array([0.0]), np.array([room + 25.0]),
                       np.array([0.0]))
    assert w1[0, 0] == pytest.approx(c["sat_mm"][0, 0])
    assert w1[1, 0] == pytest.approx(c["fc_mm"][1, 0] + 25.0)
    assert f["deep_percolation_mm"][0] == 0.0


def test_uptake_follows_roots_and_fao56_ks_per_layer():
    """Wet layers (Ks = 1) give ETc x root share; a layer at depletion fraction d of its
    available water gives Ks = (1 - d) / (1 - p) (FAO-56 eq. 84); none below WP."""
    c = column(3)
    w = c["fc_mm"].copy()
    aw = c["fc_mm"] - c["wp_mm"]
    w[0, 1] -= 0.75 * aw[0, 1]  # site 1: topsoil 75 % depleted
    w[:, 2] = c["wp_mm"][:, 2]  # site 2: at the wilting point
    p = np.full(3, 0.5)
    up = layer_uptake_mm(w, c["wp_mm"], c["fc_mm"], c["root_share"], p, np.full(3, 4.0))
    np.testing.assert_allclose(up[:, 0], [0.7 * 4.0, 0.3 * 4.0, 0.0])
    assert up[0, 1] == pytest.approx(0.7 * 4.0 * (1 - 0.75) / (1 - 0.5))
    np.testing.assert_allclose(up[:, 2], 0.0)


def test_capillary_rise_refills_the_lower_root_layer_up_to_field_capacity():
    c = column(2)
    w0 = c["fc_mm"].copy()
    aw1 = (c["fc_mm"] - c["wp_mm"])[1]
    w0[1, 0] -= 0.6 * aw1[0]  # dry beyond p = 0.5: full potential
    w0[1, 1] -= 0.1 * aw1[1]  # little dry: potential x 0.1 / 0.5, at most the deficit
    w1, f = layer_step(w0, c["wp_mm"], c["fc_mm"], c["sat_mm"], c["tau"], c["root_share"],
                       np.full(2, 0.5), np.zeros(2), np.zeros(2), np.full(2, 3.0))
    assert f["capillary_rise_mm"][0] == pytest.approx(3.0)
    assert f["capillary_rise_mm"][1] == pytest.approx(min(3.0 * 0.1 / 0.5, 0.1 * aw1[1]))
    assert (w1[1] <= c["fc_mm"][1] + 1e-9).all()
