"""The truth's layered soil column: one day of water balance over sites, pure numpy.

Three layers per site (index 0, 1, 2): the topsoil (0 to z1), the rest of the root zone
(z1 to Zr) and the soil below the roots (Zr to Zb), each with its own water content θ
[m3 m-3] and retention points (θWP, θFC, θs). All amounts are mm over the site's area;
storage ``W = 1000 dz θ``. In the order of the computations of a day:

1. **Uptake** by the roots (layers 0 and 1) from the morning's state: layer i gives
   ``ETc · r_i · Ks_i``, with the root share r_i and the FAO-56 eq. 84 stress coefficient
   of the layer, ``Ks_i = (W_i - WP_i) / ((1 - p) (FC_i - WP_i))`` clipped to [0, 1],
   and never more than its water above the wilting point (a root-weighted, not
   compensating uptake: Feddes-type sink terms, e.g. Feddes, Kowalik & Zaradny 1978).
2. **Capillary rise** CR into layer 1, the potential scaled by the layer's dryness
   ``(FC_1 - W_1) / (p (FC_1 - WP_1))`` (<= 1) and refilling at most to field capacity
   (the planner's form, :func:`irrigation.soil.capillary_rise_potential_mm`, per layer).
3. **Infiltration** of the day's water into layer 0, then, layer by layer from the top,
   water above saturation passes on at once and a share τ_i of the water above field
   capacity drains to the layer below (AquaCrop's drainage characteristic, linearised:
   Δθ = τ (θ - θFC) per day; Raes, Steduto, Hsiao & Fereres 2012, AquaCrop reference
   manual, ch. 3). What leaves layer 2 is deep percolation (groundwater recharge).

Unlike the planner's one-bucket balance (FAO-56 eq. 88 drains everything above field
capacity on the day it arrives), water above field capacity here drains over days (τ < 1
in finer soils), and the layers dry at different rates (most roots are in the topsoil).

Mass balance per site and day, closing to rounding::

    Σ_i W_i(end) - Σ_i W_i(start) = infiltration + CR - ET - DP
"""

from __future__ import annotations

import numpy as np

#: Names of the three layers.
LAYERS = ("top", "root", "below")

#: Layers of the root zone (uptake, depletion, total available water).
ROOT_LAYERS = (0, 1)


def layer_uptake_mm(w_mm, wp_mm, fc_mm, root_share, p, etc_mm):
    """Root water uptake of each layer for one day [mm], shape ``(3, site)``.

    Parameters
    ----------
    w_mm, wp_mm, fc_mm
        Storage, wilting point and field capacity of each layer [mm] ``(3, site)``,
        with ``fc_mm > wp_mm``.
    root_share
        Share of the roots in each layer [-] ``(3, site)``, summing to 1 over a site.
    p
        Depletion fraction [-] ``(site,)`` in [0, 1) (FAO-56 Table 22, adjusted for the
        day's ETc).
    etc_mm
        The day's demand K_L ET0 [mm] ``(site,)``.

    Notes
    -----
    ``Ks_i = (W_i - WP_i) / ((1 - p) (FC_i - WP_i))`` in [0, 1] (FAO-56 eq. 84 per layer);
    uptake ``ETc r_i Ks_i``, at most ``W_i - WP_i``.
    """
    avail = np.subtract(w_mm, wp_mm)
    np.maximum(avail, 0.0, out=avail)
    ks = np.subtract(fc_mm, wp_mm)
    ks *= 1.0 - p
    np.divide(avail, ks, out=ks)
    np.minimum(ks, 1.0, out=ks)  # FAO-56 eq. 84 per layer
    ks *= root_share
    ks *= etc_mm
    return np.minimum(ks, avail, out=ks)


def layer_step(w_mm, wp_mm, fc_mm, sat_mm, tau, root_share, p, etc_mm, infiltration_mm,
               cr_potential_mm):
    """One day of the layered column (module docstring), over sites.

    Layer-first arrays (contiguous per layer): ``(3, site)``.

    Parameters
    ----------
    w_mm
        Storage of each layer at the start of the day [mm] ``(3, site)``; not modified.
    wp_mm, fc_mm, sat_mm
        Storage at wilting point, field capacity and saturation [mm] ``(3, site)``,
        ``wp < fc < sat``.
    tau
        Drainage characteristic of each layer [d-1] in [0, 1] ``(3, site)``.
    root_share
        Share of the roots per layer [-] ``(3, site)`` (0 below the root zone).
    p
        Depletion fraction [-] ``(site,)`` in (0, 1).
    etc_mm
        Demand K_L ET0 [mm] ``(site,)``.
    infiltration_mm
        Water entering the topsoil [mm] ``(site,)``: rain, run-on and watering.
    cr_potential_mm
        Potential capillary rise into layer 1 [mm] ``(site,)``.

    Returns
    -------
    w_end : np.ndarray
        Storage at the end of the day [mm] ``(3, site)``.
    fluxes : dict of np.ndarray
        ``et_mm`` (total uptake), ``capillary_rise_mm``, ``deep_percolation_mm`` (out of
        the last layer) over ``site``, ``uptake_mm`` per layer ``(3, site)``; all >= 0.
    """
    uptake = layer_uptake_mm(w_mm, wp_mm, fc_mm, root_share, p, etc_mm)
    w = w_mm - uptake
    need = np.subtract(fc_mm[1], w[1])
    np.maximum(need, 0.0, out=need)
    cr = np.subtract(fc_mm[1], wp_mm[1])
    cr *= p
    np.divide(need, cr, out=cr)
    np.minimum(cr, 1.0, out=cr)  # dryness of layer 1, (FC - W) / RAW <= 1
    cr *= cr_potential_mm
    np.minimum(cr, need, out=cr)
    w[1] += cr
    incoming = np.array(infiltration_mm, dtype=float)
    over = np.empty_like(incoming)
    drain = np.empty_like(incoming)
    for i in range(w.shape[0]):  # three layers, top down; sites are vectorised
        wi = w[i]
        wi += incoming
        np.subtract(wi, sat_mm[i], out=over)
        np.maximum(over, 0.0, out=over)
        wi -= over
        np.subtract(wi, fc_mm[i], out=drain)
        np.maximum(drain, 0.0, out=drain)
        drain *= tau[i]
        wi -= drain
        np.add(over, drain, out=incoming)
    return w, {"et_mm": uptake.sum(0), "capillary_rise_mm": cr,
               "deep_percolation_mm": incoming, "uptake_mm": uptake}
