"""Leaf-out and leaf fall of deciduous trees: the truth's seasonal factor on K_L.

The planner applies its landscape coefficient K_L from the first day; a deciduous tree
transpires little before its leaves unfold. The truth multiplies K_L of deciduous trees
by a factor of the day of year (evergreen trees, lawns and shrub beds: 1):

==========================  ==================================================
before leaf unfolding L     ``f0 = Kc_ini / Kc_mid`` (soil evaporation, bark)
L .. L + ``develop_days``   linear from f0 to 1 (canopy development)
full canopy .. S            1
S .. leaf fall F            linear from 1 to ``Kc_end / Kc_mid`` (senescence)
after F                     f0
==========================  ==================================================

Crop coefficients of deciduous fruit trees without ground cover: Kc_ini 0.45, Kc_mid
0.95, Kc_end 0.70 (FAO-56, Allen et al. 1998, Table 12, "apples, cherries, pears, no
ground cover, killing frost"), so f0 = 0.47 and the end ratio 0.74. The canopy develops in
about six weeks after budburst (``develop_days`` = 40, a project value; FAO-56 Table 11
gives 70 d of development for orchards, including the ground cover).
"""

from __future__ import annotations

import numpy as np

#: Kc of a deciduous tree without ground cover: initial, mid season, end (FAO-56 Table 12).
KC_INI, KC_MID, KC_END = 0.45, 0.95, 0.70

#: Genera of evergreen trees (no leaf-out factor).
EVERGREEN_GENERA = ("Abies", "Cedrus", "Chamaecyparis", "Ilex", "Juniperus", "Picea",
                    "Pinus", "Pseudotsuga", "Taxus", "Thuja", "Tsuga")

#: Approximate mean day of year of leaf unfolding in Germany, by genus (rounded; the long-
#: term means of the DWD phenological network lie around DOY 105-125 for common
#: broadleaves, birch and hornbeam early, oak, plane and locust late). Other genera: 115.
LEAF_OUT_DOY = {"Betula": 108, "Carpinus": 110, "Corylus": 110, "Sorbus": 110, "Acer": 112,
                "Ginkgo": 115, "Ulmus": 115, "Fagus": 118, "Tilia": 118, "Quercus": 122,
                "Liquidambar": 125, "Platanus": 125, "Gleditsia": 130}

#: Default day of year of leaf unfolding for genera not in :data:`LEAF_OUT_DOY`.
DEFAULT_LEAF_OUT_DOY = 115


def leaf_factor(doy, leaf_out_doy, leaf_fall_doy, *, develop_days: float = 40.0,
                senescence_days: float = 45.0):
    """The K_L factor of a deciduous tree on day of year ``doy`` [-] (module docstring).

    Parameters
    ----------
    doy
        Day of year (1 = 1 January), scalar or array broadcasting with the others.
    leaf_out_doy, leaf_fall_doy
        Day of leaf unfolding L and of leaf fall F per tree.
    develop_days
        Days from leaf unfolding to full canopy [d].
    senescence_days
        Days of declining transpiration before leaf fall [d].
    """
    f0 = KC_INI / KC_MID
    f_end = KC_END / KC_MID
    doy = np.asarray(doy, dtype=float)
    rise = f0 + (1.0 - f0) * np.clip((doy - leaf_out_doy) / develop_days, 0.0, 1.0)
    fall = 1.0 - (1.0 - f_end) * np.clip(
        (doy - (leaf_fall_doy - senescence_days)) / senescence_days, 0.0, 1.0)
    leafy = (doy >= leaf_out_doy) & (doy < leaf_fall_doy)
    return np.where(leafy, np.minimum(rise, fall), f0)
