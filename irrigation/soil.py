"""Root-zone soil water balance of planting sites (FAO-56 ch. 8), vectorised over site x member.

Daily, for every site and ensemble member (Allen et al. 1998, FAO-56 eqs. 82-86)::

    Dr[i] = Dr[i-1] - (P - RO)[i] - (I - IO)[i] - CR[i] + ETa[i] + DP[i]

with the root-zone depletion Dr [mm] below field capacity, 0 <= Dr <= TAW. Every flux is
reported per day with a fixed sign (all >= 0, in mm over the site's area):

==========================  ====  =====================================================
flux                        sign  meaning
==========================  ====  =====================================================
``precip_mm``               in    precipitation above the site
``runoff_mm``               out   rain lost to sealing around the pit: (1 - f_inf) P
``irrigation_mm``           in    water delivered by watering (litres / area)
``irrigation_overflow_mm``  out   delivered water above the pit capacity (overflow)
``capillary_rise_mm``       in    capillary rise from the water table
``eta_mm``                  out   actual evapotranspiration (Ks-limited)
``deep_percolation_mm``     out   drainage below the root zone (-> groundwater recharge)
==========================  ====  =====================================================

and ``residual_mm = ΔDr - (outflows - inflows)`` is returned so callers (and tests) can
check that the balance closes (~1e-13 mm in float64).

Order of the computations within a day (explicit, as FAO-56 and pyfao56):

1. Ks from yesterday's depletion (FAO-56 eq. 84), TAW and RAW of today (eqs. 82, 83);
2. ETa = Ks * ETc + E, where ``E`` is an optional demand not limited by Ks (soil
   evaporation of the dual coefficient method); ETa is capped by the water above wilting
   point so that Dr never exceeds TAW;
3. infiltrated rain f_inf P and net irrigation are added;
4. capillary rise CR (see :func:`capillary_rise_potential_mm`) refills at most to field
   capacity;
5. water above field capacity leaves as deep percolation DP (FAO-56 eq. 88).

Like every explicit daily bucket (FAO-56, pyfao56), the step is monotone — more water
in never means more depletion later — as long as a day's Ks-limited demand is below
(1 - p) TAW and the potential capillary rise below RAW; very shallow root zones with little
available water can violate this and then oscillate around the stress threshold.

Soil hydraulics (:func:`site_hydraulics`): one van Genuchten curve per site gives field
capacity θFC = θ(ψFC) at the texture's own field-capacity tension (``fc_tension_kpa``
column of ``soil_textures.csv``), the wilting point θWP = θ(1500 kPa) and the tension ↔ θ
conversion of sensors and thresholds. The packaged curves are fitted through available
water inside FAO-56 Table 19 (see ``irrigation/data/README.md``); a site's measured
``theta_fc``/``theta_wp``/``awc_mm_per_m`` refit its curve (:func:`fit_van_genuchten`).

When the root depth grows in time (TAW increases) Dr is kept: the newly rooted soil is taken
at field capacity (the FAO-56 convention, also pyfao56's default). The depletion balance
above still closes exactly.

Coupling with the groundwater model (:func:`recharge_to_grid`): per day ``D``, the soil
balance of ``D`` uses the depth to water of the groundwater solution of ``D - 1`` (explicit,
lagged by one day); its deep percolation of ``D`` is aggregated to model cells and is the
RCH input of the groundwater stress period ``D``.

References
----------
Allen, R. G., Pereira, L. S., Raes, D. & Smith, M. (1998). FAO Irrigation and Drainage Paper 56.
van Genuchten, M. Th. (1980). Soil Sci. Soc. Am. J. 44, 892-898.
Schaap, M. G., Leij, F. J. & van Genuchten, M. Th. (2001). ROSETTA. J. Hydrol. 251, 163-176.
Saxton, K. E. & Rawls, W. J. (2006). Soil Sci. Soc. Am. J. 70, 1569-1578.
Liu, Y., Pereira, L. S. & Fernando, R. M. (2006). Fluxes through the bottom boundary of the
root zone in silty soils: parametric approaches to estimate groundwater contribution and
percolation. Agric. Water Manage. 84, 27-40.
Wessolek, G. & Kluge, B. (urban soils, infiltration through sealed surfaces of Berlin).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from .errors import InputError
from .landscape import LandscapeParams, landscape_coefficient, per_class

#: kPa per cm of water column.
KPA_PER_CM = 0.0980665

SEALING_CLASSES = ("open", "small_cobbles", "slabs", "asphalt")

FLUXES_IN = ("precip_mm", "irrigation_mm", "capillary_rise_mm")
FLUXES_OUT = ("runoff_mm", "irrigation_overflow_mm", "eta_mm", "deep_percolation_mm")


@dataclass(frozen=True)
class SoilParams:
    """Parameters of the root-zone balance; defaults documented here, nowhere else.

    Field capacity is not a parameter here: its tension is a property of each texture
    (column ``fc_tension_kpa`` of ``soil_textures.csv``: 10 kPa for sand and loamy sand,
    33 kPa for finer soils, as the USDA-NRCS uses; see ``irrigation/data/README.md``).

    Attributes
    ----------
    wp_tension_kpa
        Tension at the permanent wilting point [kPa] (1500 kPa, pF 4.2; FAO-56 ch. 8).
    infiltration_open, infiltration_small_cobbles, infiltration_slabs, infiltration_asphalt
        Fraction of rain that reaches the root zone per sealing class around the pit
        (Wessolek & Kluge: 0.9, 0.8, 0.55, 0.2); the rest is runoff.
    cr_max_mm_d
        Potential capillary rise when the water table is at (or above) the base of the root
        zone [mm d-1].
    cr_decay_m
        e-folding distance of the potential capillary rise with the water table's depth
        below the root zone [m].
    cr_cutoff_m
        Water table deeper than this below the root zone gives no capillary rise [m]
        (DESIGN: "zero when more than about 1 m below the root zone").
    """

    wp_tension_kpa: float = 1500.0
    infiltration_open: float = 0.9
    infiltration_small_cobbles: float = 0.8
    infiltration_slabs: float = 0.55
    infiltration_asphalt: float = 0.2
    cr_max_mm_d: float = 3.0
    cr_decay_m: float = 0.4
    cr_cutoff_m: float = 1.0

    def __post_init__(self) -> None:
        if not self.wp_tension_kpa > 0:
            raise ValueError("Expected wp_tension_kpa > 0.")
        for name in SEALING_CLASSES:
            if not 0 <= getattr(self, f"infiltration_{name}") <= 1:
                raise ValueError(f"Expected infiltration_{name} in [0, 1].")
        if self.cr_max_mm_d < 0 or self.cr_decay_m <= 0 or self.cr_cutoff_m < 0:
            raise ValueError("Expected cr_max_mm_d >= 0, cr_decay_m > 0, cr_cutoff_m >= 0.")


# --------------------------------------------------------------------------- hydraulics


def van_genuchten_theta(tension_kpa, theta_r, theta_s, alpha_per_cm, n):
    """Volumetric water content θ(h) [m3 m-3] at suction ``tension_kpa`` [kPa, > 0].

    Notes
    -----
    van Genuchten (1980) with Mualem's m = 1 - 1/n:
    ``θ = θr + (θs - θr) / (1 + (α h)^n)^m``, h in cm of water, α in cm-1.
    """
    tension = tension_kpa if isinstance(tension_kpa, xr.DataArray) else np.asarray(tension_kpa)
    h_cm = tension / KPA_PER_CM
    m = 1.0 - 1.0 / n
    return theta_r + (theta_s - theta_r) / (1.0 + (alpha_per_cm * h_cm) ** n) ** m


def van_genuchten_tension_kpa(theta, theta_r, theta_s, alpha_per_cm, n):
    """Suction h(θ) [kPa, positive] of volumetric water content ``theta`` [m3 m-3].

    The inverse of :func:`van_genuchten_theta`; θ is clipped to (θr, θs], so a value at or
    below θr returns a large finite suction instead of infinity.

    Notes
    -----
    van Genuchten (1980) eq. 21 solved for h, with m = 1 - 1/n:
    ``h = (Se^(-1/m) - 1)^(1/n) / α``, ``Se = (θ - θr) / (θs - θr)``, h in cm of water.
    """
    m = 1.0 - 1.0 / n
    se = np.clip((theta - theta_r) / (theta_s - theta_r), 1e-6, 1.0)
    h_cm = (se ** (-1.0 / m) - 1.0) ** (1.0 / n) / alpha_per_cm
    return h_cm * KPA_PER_CM


#: Search interval of the shape parameter n in :func:`fit_van_genuchten` [-].
FIT_N_RANGE = (1.0 + 1e-4, 21.0)

#: Optional columns of a sites Dataset that override the retention of the site's texture
#: (:func:`site_hydraulics`); NaN or a missing column means "not measured".
SITE_SOIL_COLUMNS: dict[str, str] = {
    "theta_fc": "m3 m-3",
    "theta_wp": "m3 m-3",
    "awc_mm_per_m": "mm m-1",
    "theta_s": "m3 m-3",
    "fc_tension_kpa": "kPa",
}

_VG = ("theta_r", "theta_s", "alpha_per_cm", "n")


def _ln_alpha_h(se, n):
    """ln(α h) at effective saturation ``se`` on a van Genuchten curve of shape ``n``.

    van Genuchten (1980) eq. 21 solved for h: ``α h = (Se^(-1/m) - 1)^(1/n)``, m = 1 - 1/n,
    evaluated in logs so that n -> 1 (Se^(-1/m) -> inf) does not overflow.
    """
    a = -np.log(se) * n / (n - 1.0)  # ln(Se^(-1/m))
    return (a + np.log(-np.expm1(-a))) / n


def fit_van_genuchten(theta_fc, theta_wp, fc_tension_kpa, theta_r, theta_s,
                      wp_tension_kpa=1500.0):
    """α and n of the van Genuchten curve through field capacity and wilting point.

    Parameters
    ----------
    theta_fc, theta_wp
        Water content at field capacity and at the wilting point [m3 m-3].
    fc_tension_kpa, wp_tension_kpa
        Their tensions [kPa] (ψFC, ψWP).
    theta_r, theta_s
        Residual and saturated water content of the curve [m3 m-3]; need
        θr < θWP < θFC < θs. All arguments broadcast (one curve per element).

    Returns
    -------
    alpha_per_cm, n : np.ndarray
        α [cm-1] and n [-] with θ(ψFC) = θFC and θ(ψWP) = θWP (to ~1e-12).

    Raises
    ------
    ValueError
        Inputs not ordered as above, or no n in :data:`FIT_N_RANGE` fits.

    Notes
    -----
    van Genuchten (1980) eq. 21 with m = 1 - 1/n and θr, θs fixed: both points lie on the
    curve when ``g(Se_WP, n) - g(Se_FC, n) = ln(ψWP / ψFC)`` with ``g = ln(α h)`` of
    :func:`_ln_alpha_h` and ``Se = (θ - θr) / (θs - θr)``. The left side falls
    monotonically from +inf (n -> 1) to 0 (n -> inf), so the root is unique; it is found by
    bisection on ln(n - 1), vectorised over all elements, then ``α = exp(g(Se_FC, n)) / h_FC``.
    """
    fc, wp, r, sat, psi_fc, psi_wp = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (theta_fc, theta_wp, theta_r, theta_s,
                                                  fc_tension_kpa, wp_tension_kpa)))
    if np.any(~((r < wp) & (wp < fc) & (fc < sat))) or np.any(~((0 < psi_fc) & (psi_fc < psi_wp))):
        raise ValueError("Expected theta_r < theta_wp < theta_fc < theta_s and "
                         "0 < fc_tension_kpa < wp_tension_kpa.")
    se_fc, se_wp = (fc - r) / (sat - r), (wp - r) / (sat - r)
    target = np.log(psi_wp / psi_fc)

    def excess(ln_nm1):
        n = 1.0 + np.exp(ln_nm1)
        return _ln_alpha_h(se_wp, n) - _ln_alpha_h(se_fc, n) - target

    lo = np.full(fc.shape, np.log(FIT_N_RANGE[0] - 1.0))
    hi = np.full(fc.shape, np.log(FIT_N_RANGE[1] - 1.0))
    if np.any(excess(lo) <= 0) or np.any(excess(hi) >= 0):
        raise ValueError(f"No van Genuchten n in {FIT_N_RANGE} passes through both points.")
    for _ in range(64):
        mid = 0.5 * (lo + hi)
        above = excess(mid) > 0
        lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
    n = 1.0 + np.exp(0.5 * (lo + hi))
    alpha = np.exp(_ln_alpha_h(se_fc, n)) / (psi_fc / KPA_PER_CM)
    return alpha, n


def texture_hydraulics(
    texture: np.ndarray | list[str], textures: pd.DataFrame, params: SoilParams | None = None
) -> dict[str, np.ndarray]:
    """Van Genuchten parameters, θFC and θWP per site from the texture names.

    Parameters
    ----------
    texture
        Texture (or substrate) name per site (``soil_textures.csv`` column ``texture``).
    textures
        The texture table (:func:`irrigation.io.soil_tables.read_soil_textures`).
    params
        Tension of the wilting point.

    Returns
    -------
    dict
        Arrays over sites: ``theta_r``, ``theta_s``, ``alpha_per_cm``, ``n``,
        ``fc_tension_kpa`` and ``theta_fc``, ``theta_wp`` [m3 m-3]: van Genuchten at the
        texture's ``fc_tension_kpa`` and at ``params.wp_tension_kpa``.

    Notes
    -----
    θ(h) by van Genuchten (1980) eq. 21. Field capacity and wilting point come from the
    same curve as every tension <-> θ conversion; the packaged curves pass through the
    θFC and θWP listed in the table (FAO-56 Table 19 and the sources of
    ``irrigation/data/README.md``).
    """
    params = params or SoilParams()
    names = np.asarray(texture, dtype=str)
    unknown = sorted(set(names) - set(textures.index))
    if unknown:
        raise InputError(f"unknown soil texture {unknown[0]!r}; known: "
                         f"{', '.join(textures.index)}", field="soil_texture")
    rows = textures.loc[names]
    out = {k: rows[k].to_numpy(dtype=float) for k in (*_VG, "fc_tension_kpa")}
    vg = [out[k] for k in _VG]
    out["theta_fc"] = van_genuchten_theta(out["fc_tension_kpa"], *vg)
    out["theta_wp"] = van_genuchten_theta(params.wp_tension_kpa, *vg)
    return out


def _measured(sites: xr.Dataset, name: str) -> np.ndarray:
    """A site column as floats; NaN everywhere when the column is absent."""
    if name not in sites:
        return np.full(sites.sizes["site"], np.nan)
    return np.asarray(sites[name].values, dtype=float)


def site_hydraulics(sites: xr.Dataset, textures: pd.DataFrame,
                    params: SoilParams | None = None) -> dict[str, np.ndarray]:
    """Retention curve, θFC and θWP of every site: measured values win over the texture.

    Parameters
    ----------
    sites
        Sites over ``site`` with ``soil_texture`` and, optionally, the columns of
        :data:`SITE_SOIL_COLUMNS` (NaN = not measured): ``theta_fc``, ``theta_wp``
        [m3 m-3], ``awc_mm_per_m`` (available water θFC - θWP) [mm m-1], ``theta_s``
        [m3 m-3] and ``fc_tension_kpa`` (the tension the lab's θFC refers to) [kPa].
    textures
        The texture table (:func:`irrigation.io.soil_tables.read_soil_textures`).
    params
        Tension of the wilting point.

    Returns
    -------
    dict
        The arrays of :func:`texture_hydraulics` over ``site`` and ``measured`` (bool):
        True where a site's own values replaced its texture's curve.

    Raises
    ------
    InputError
        Naming the first site whose values are not θr < θWP < θFC < θs, or whose
        ``awc_mm_per_m`` disagrees with its ``theta_fc - theta_wp`` by more than 1 mm m-1.

    Notes
    -----
    What a site does not give is completed from its texture, keeping the texture's dry
    end (θWP depends mostly on the clay content, θFC also on structure and compaction):

    * ``awc`` alone: θWP of the texture, θFC = θWP + awc;
    * ``theta_fc`` with ``awc``: θWP = θFC - awc; ``theta_wp`` with ``awc``: θFC = θWP + awc;
    * ``theta_fc`` or ``theta_wp`` alone: the other from the texture;
    * ``theta_s`` and ``fc_tension_kpa``: the texture's when not given.

    The site's curve keeps θs and θr = min(θr, θWP / 2) of its texture and is refitted
    through (ψFC, θFC) and (ψWP, θWP) (:func:`fit_van_genuchten`), so that field capacity,
    wilting point and every tension <-> θ conversion of the site come from one curve.
    Sites without measured values keep their texture's curve unchanged.
    """
    params = params or SoilParams()
    hyd = texture_hydraulics(_site_values(sites, "soil_texture"), textures, params)
    given = {k: _measured(sites, k) for k in SITE_SOIL_COLUMNS}
    fc, wp = given["theta_fc"], given["theta_wp"]
    awc = given["awc_mm_per_m"] / 1000.0
    has_fc, has_wp, has_awc = np.isfinite(fc), np.isfinite(wp), np.isfinite(awc)
    both = has_fc & has_wp & has_awc & (np.abs(fc - wp - awc) > 1e-3)
    if both.any():
        i = int(np.argmax(both))
        raise InputError(f"site {sites['site'].values[i]!r}: awc_mm_per_m "
                         f"{1000 * awc[i]:g} differs from 1000 (theta_fc - theta_wp) = "
                         f"{1000 * (fc[i] - wp[i]):g}", field="awc_mm_per_m")
    wp = np.where(has_wp, wp, np.where(has_fc & has_awc, fc - awc, hyd["theta_wp"]))
    fc = np.where(has_fc, fc, np.where(has_awc, wp + awc, hyd["theta_fc"]))
    sat = np.where(np.isfinite(given["theta_s"]), given["theta_s"], hyd["theta_s"])
    psi_fc = np.where(np.isfinite(given["fc_tension_kpa"]), given["fc_tension_kpa"],
                      hyd["fc_tension_kpa"])
    measured = has_fc | has_wp | has_awc | np.isfinite(given["theta_s"]) | np.isfinite(
        given["fc_tension_kpa"])
    res = np.minimum(hyd["theta_r"], wp / 2.0)
    bad = measured & ~((0 < wp) & (wp < fc) & (fc < sat) & (sat <= 1)
                       & (0 < psi_fc) & (psi_fc < params.wp_tension_kpa))
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(
            f"site {sites['site'].values[i]!r}: expected 0 < theta_wp < theta_fc < theta_s "
            f"<= 1 and 0 < fc_tension_kpa < {params.wp_tension_kpa:g}, got theta_wp "
            f"{wp[i]:.3f}, theta_fc {fc[i]:.3f}, theta_s {sat[i]:.3f}, fc_tension_kpa "
            f"{psi_fc[i]:g}", field="theta_fc")
    out = dict(hyd)
    if measured.any():
        m = measured
        alpha, n = fit_van_genuchten(fc[m], wp[m], psi_fc[m], res[m], sat[m],
                                     params.wp_tension_kpa)
        for key, value in (("theta_r", res[m]), ("theta_s", sat[m]), ("alpha_per_cm", alpha),
                           ("n", n), ("fc_tension_kpa", psi_fc[m])):
            out[key] = out[key].copy()
            out[key][m] = value
        vg = [out[k] for k in _VG]
        out["theta_fc"] = van_genuchten_theta(out["fc_tension_kpa"], *vg)
        out["theta_wp"] = van_genuchten_theta(params.wp_tension_kpa, *vg)
    out["measured"] = measured
    return out


def total_available_water_mm(theta_fc, theta_wp, root_depth_m):
    """Total available water TAW = 1000 (θFC - θWP) Zr [mm] (FAO-56 eq. 82)."""
    return 1000.0 * (np.asarray(theta_fc) - theta_wp) * root_depth_m


def theta_from_depletion(dr_mm, theta_fc, root_depth_m):
    """Root-zone water content [m3 m-3] at depletion ``dr_mm`` [mm]:
    θ = θFC - Dr / (1000 Zr) (FAO-56 eq. 87 rearranged; Zr [m])."""
    return theta_fc - dr_mm / (1000.0 * root_depth_m)


def depletion_tension_kpa(dr_mm, hydraulics, root_depth_m):
    """Root-zone tension [kPa] at depletion ``dr_mm`` [mm]: θ from FAO-56 eq. 87
    (:func:`theta_from_depletion`), then van Genuchten (1980) eq. 21
    (:func:`van_genuchten_tension_kpa`). ``hydraulics`` holds ``theta_fc`` and the van
    Genuchten parameters, broadcastable to ``dr_mm`` like ``root_depth_m`` [m]."""
    theta = theta_from_depletion(dr_mm, hydraulics["theta_fc"], root_depth_m)
    return van_genuchten_tension_kpa(theta, *(hydraulics[k] for k in _VG))


def site_water_capacity(sites: xr.Dataset, textures: pd.DataFrame,
                        params: SoilParams | None = None) -> tuple[dict, xr.DataArray]:
    """Hydraulics of every site (measured values win, :func:`site_hydraulics`) and its TAW.

    Returns
    -------
    hyd : dict
        :func:`site_hydraulics` of the sites (arrays over ``site``).
    taw_mm : xr.DataArray
        TAW over ``site`` [mm], FAO-56 eq. 82 with the site's ``root_depth_m``.
    """
    hyd = site_hydraulics(sites, textures, params)
    taw = total_available_water_mm(hyd["theta_fc"], hyd["theta_wp"],
                                   sites["root_depth_m"].values.astype(float))
    return hyd, xr.DataArray(taw, dims="site", coords={"site": sites["site"].values},
                             attrs={"units": "mm"})


def available_water_table(textures: pd.DataFrame, *, p: float = 0.5,
                          params: SoilParams | None = None) -> pd.DataFrame:
    """Field capacity, wilting point, TAW per metre and the RAW tension of every texture.

    Parameters
    ----------
    textures
        The texture table.
    p
        Depletion fraction [-] at which the tension is reported (FAO-56 default 0.5).

    Returns
    -------
    pd.DataFrame
        Indexed by texture: ``fc_tension_kpa`` [kPa], ``theta_fc``, ``theta_wp``
        [m3 m-3], ``taw_mm_per_m`` [mm m-1] (FAO-56 eq. 82 with Zr = 1 m) and
        ``raw_tension_kpa``, the tension [kPa] at depletion p TAW (FAO-56 eq. 83), i.e. the
        reading at which the FAO-56 stress threshold is reached.
    """
    hyd = texture_hydraulics(textures.index.to_numpy(), textures, params)
    fc, wp = hyd["theta_fc"], hyd["theta_wp"]
    raw_t = van_genuchten_tension_kpa(fc - p * (fc - wp), *(hyd[k] for k in _VG))
    return pd.DataFrame({"fc_tension_kpa": hyd["fc_tension_kpa"], "theta_fc": fc,
                         "theta_wp": wp, "taw_mm_per_m": total_available_water_mm(fc, wp, 1.0),
                         "raw_tension_kpa": raw_t}, index=textures.index)


def adjust_p(p_base, etc_mm_d):
    """Depletion fraction p adjusted for the day's demand, clipped to [0.1, 0.8] [-].

    Notes
    -----
    FAO-56 Table 22 footnote: ``p = p_table + 0.04 (5 - ETc)``, ETc in mm d-1.
    """
    return np.clip(np.asarray(p_base) + 0.04 * (5.0 - np.asarray(etc_mm_d)), 0.1, 0.8)


def infiltration_fraction(sealing: np.ndarray | list[str], params: SoilParams | None = None):
    """Fraction of rain reaching the root zone per site from its sealing class [-].

    Notes
    -----
    ``params.infiltration_<class>`` (Wessolek & Kluge: open 0.9, small cobbles 0.8, slabs
    0.55, asphalt 0.2); the rest of the rain is runoff.
    """
    return per_class(sealing, params or SoilParams(), "infiltration_", "sealing")


def capillary_rise_potential_mm(depth_to_water_m, root_depth_m, params: SoilParams | None = None):
    """Potential capillary rise into the root zone [mm d-1] (>= 0).

    Parameters
    ----------
    depth_to_water_m
        Depth of the water table below land surface [m]; NaN means no water table (0).
    root_depth_m
        Root depth [m].

    Notes
    -----
    With ``d = max(depth_to_water - Zr, 0)`` the distance from the root zone base to the
    water table::

        CRpot = cr_max * exp(-d / cr_decay)   for d <= cr_cutoff,   0 beyond.

    A project choice, not a published fit: an exponential decline of the upward flux with
    the water table's distance below the root zone, cut off where FAO-56 (ch. 8) treats
    capillary rise as negligible (water table more than about 1 m below the root zone).
    Liu et al. (2006) fit power laws of the depth (``CR = a * D**b``) to silty soils; the
    exponential has the same monotone shape and stays finite at ``d = 0``. The actual rise
    scales with the root-zone dryness in the spirit of Liu et al.'s storage thresholds: it
    is CRpot when Dr >= RAW and falls linearly to 0 at field capacity (see
    :func:`water_balance`). Non-increasing in the depth to water by construction.
    Parameters are not calibrated to a site; see :class:`SoilParams`.
    """
    params = params or SoilParams()
    d = np.maximum(np.asarray(depth_to_water_m, dtype=float) - root_depth_m, 0.0)
    cr = params.cr_max_mm_d * np.exp(-d / params.cr_decay_m)
    return np.where(np.isfinite(d) & (d <= params.cr_cutoff_m), cr, 0.0)


# --------------------------------------------------------------------------- hot loop


def _day(a: np.ndarray, t: int) -> np.ndarray:
    return a[t] if a.shape[0] > 1 else a[0]


def water_balance_kernel(
    dr0: np.ndarray,
    taw: np.ndarray,
    p: np.ndarray,
    kc: np.ndarray,
    et_ref: np.ndarray,
    evap: np.ndarray,
    precip: np.ndarray,
    infiltration: np.ndarray,
    irrigation: np.ndarray,
    cr_pot: np.ndarray,
    out: dict[str, np.ndarray],
) -> None:
    """The daily loop of the root-zone balance, pure numpy, all amounts in mm.

    Every argument except ``dr0`` and ``infiltration`` has a leading time axis of length
    ``nt`` or 1 and broadcasts against ``dr0``'s shape (e.g. ``(site, member)``). The
    Ks-limited demand is ``kc * et_ref``; ``irrigation`` is the water applied (after the
    pit cap). Results are written into the arrays of ``out`` (shape ``(nt, *dr0.shape)``):
    ``dr`` (end of day), ``ks``, ``eta``, ``cr``, ``dp``.
    """
    nt = out["dr"].shape[0]
    dr = np.array(np.broadcast_to(dr0, out["dr"].shape[1:]), dtype=float)
    w_in = np.empty_like(dr)
    tmp = np.empty_like(dr)
    for t in range(nt):
        taw_t, p_t = _day(taw, t), _day(p, t)
        ks, eta, cr, dp = (out[k][t, ...] for k in ("ks", "eta", "cr", "dp"))
        # FAO-56 eq. 84 with Dr of the previous day: Ks = (TAW - Dr) / ((1 - p) TAW)
        np.subtract(taw_t, dr, out=ks)
        np.divide(ks, (1.0 - p_t) * taw_t, out=ks)
        np.clip(ks, 0.0, 1.0, out=ks)
        np.multiply(_day(precip, t), infiltration, out=w_in)
        w_in += _day(irrigation, t)
        # ETa (FAO-56 eq. 80), at most the water above wilting point (TAW - Dr + inputs)
        np.multiply(ks, _day(kc, t) * _day(et_ref, t), out=eta)
        eta += _day(evap, t)
        np.subtract(taw_t, dr, out=tmp)
        tmp += w_in
        np.minimum(eta, tmp, out=eta)
        # capillary rise: potential scaled by dryness Dr / RAW (<= 1); refills at most to FC
        np.divide(dr, p_t * taw_t, out=cr)
        np.minimum(cr, 1.0, out=cr)
        cr *= _day(cr_pot, t)
        dr -= w_in
        dr += eta  # tentative depletion before capillary rise
        np.maximum(dr, 0.0, out=tmp)
        np.minimum(cr, tmp, out=cr)
        dr -= cr
        np.negative(dr, out=dp)
        np.maximum(dp, 0.0, out=dp)  # FAO-56 eq. 88
        np.maximum(dr, 0.0, out=dr)
        out["dr"][t] = dr


def _as_time_first(a, shape: tuple[int, ...]) -> np.ndarray:
    """Array broadcastable to ``shape = (time, *S)`` by numpy rules, with a time axis.

    Fewer dims than ``shape`` are aligned to the right (no time axis: constant in time).
    """
    a = np.asarray(a, dtype=float)
    a = a.reshape((1,) * (len(shape) - a.ndim) + a.shape)
    return np.broadcast_to(a, np.broadcast_shapes(a.shape, (a.shape[0], *shape[1:])))


def water_balance(
    dr0_mm,
    taw_mm,
    p,
    etc_mm,
    precip_mm,
    *,
    kc=1.0,
    infiltration=1.0,
    irrigation_mm=0.0,
    irrigation_cap_mm=np.inf,
    cr_potential_mm=0.0,
    evap_mm=0.0,
    fluxes=True,
) -> dict[str, np.ndarray]:
    """Root-zone water balance on plain arrays (FAO-56 eqs. 82-88).

    Parameters
    ----------
    dr0_mm
        Depletion at the start [mm], shape ``S`` (e.g. ``(site, member)``), 0 = field cap.
    taw_mm, p
        Total available water [mm] (eq. 82) and depletion fraction [-], shape ``S`` or
        ``(time, *S)`` (broadcastable; leading time axis of length nt or 1).
    etc_mm
        ET demand limited by Ks [mm d-1] (crop or reference ET), ``(time, *S)``
        broadcastable.
    precip_mm
        Precipitation [mm d-1], ``(time, *S)`` broadcastable.
    kc
        Coefficient multiplying ``etc_mm`` (e.g. K_L with ``etc_mm`` = ET0) [-],
        ``(time|1, *S)`` broadcastable; keeps the (site x member) product out of memory.
    infiltration
        Fraction of precipitation reaching the root zone [-], broadcastable to ``S``.
    irrigation_mm
        Water delivered [mm d-1] over the site area, ``(time, *S)`` broadcastable.
    irrigation_cap_mm
        Most one day's watering can add [mm] (pit capacity / area); the rest overflows.
    cr_potential_mm
        Potential capillary rise [mm d-1] (:func:`capillary_rise_potential_mm`).
    evap_mm
        Demand not limited by Ks [mm d-1] (evaporation of the dual coefficient method).
    fluxes
        Also return the fluxes the balance takes as given (``precip_mm``, ``runoff_mm``,
        ``irrigation_mm``, ``irrigation_overflow_mm``) and ``residual_mm``; False leaves
        them out (a forecast that reads the depletion only).

    Returns
    -------
    dict of np.ndarray, shape ``(time, *S)``
        ``dr_mm``, ``ks``, ``taw_mm``, ``raw_mm`` and the fluxes of the module docstring,
        plus ``residual_mm``; without ``fluxes`` only ``dr_mm``, ``ks``, ``taw_mm``,
        ``raw_mm``, ``capillary_rise_mm``, ``eta_mm`` and ``deep_percolation_mm``.
    """
    etc = np.asarray(etc_mm, dtype=float)
    precip = np.asarray(precip_mm, dtype=float)
    nt = max(etc.shape[0] if etc.ndim else 1, precip.shape[0] if precip.ndim else 1)
    dr0 = np.asarray(dr0_mm, dtype=float)
    shape = (nt, *dr0.shape)
    taw = _as_time_first(taw_mm, shape)
    p_arr = _as_time_first(p, shape)
    if np.any(~(taw > 0)):
        raise InputError("expected total available water > 0 mm (root depth > 0, θFC > θWP)",
                         field="taw_mm")
    if np.any(~((p_arr > 0) & (p_arr < 1))):  # p = 0 would make RAW = 0 (Dr / RAW = 0/0)
        raise InputError("expected p in (0, 1)", field="p")
    infil = np.asarray(infiltration, dtype=float)
    if np.any(~((infil >= 0) & (infil <= 1))):
        raise InputError("expected a fraction in [0, 1]", field="infiltration")
    for name, arr in (("dr0_mm", dr0), ("etc_mm", etc), ("precip_mm", precip),
                      ("irrigation_mm", np.asarray(irrigation_mm)),
                      ("evap_mm", np.asarray(evap_mm)), ("kc", np.asarray(kc)),
                      ("cr_potential_mm", np.asarray(cr_potential_mm))):
        if np.any(~np.isfinite(arr)) or np.any(arr < 0):
            raise InputError("expected finite values >= 0", field=name)
    dr0 = np.minimum(dr0, taw[0])
    precip = _as_time_first(precip, shape)
    irr = _as_time_first(irrigation_mm, shape)
    applied = np.minimum(irr, np.asarray(irrigation_cap_mm, dtype=float))
    out = {k: np.empty(shape) for k in ("dr", "ks", "eta", "cr", "dp")}
    water_balance_kernel(
        dr0, taw, p_arr, _as_time_first(kc, shape), _as_time_first(etc, shape),
        _as_time_first(evap_mm, shape), precip, infil, applied,
        _as_time_first(cr_potential_mm, shape), out,
    )
    result = {
        "dr_mm": out["dr"],
        "ks": out["ks"],
        "taw_mm": np.broadcast_to(taw, shape),
        "raw_mm": np.broadcast_to(p_arr * taw, shape),
        "capillary_rise_mm": out["cr"],
        "eta_mm": out["eta"],
        "deep_percolation_mm": out["dp"],
    }
    if not fluxes:
        return result
    result.update({
        "precip_mm": np.broadcast_to(precip, shape),
        "runoff_mm": np.broadcast_to(precip * (1.0 - infil), shape),
        "irrigation_mm": np.broadcast_to(irr, shape),
        "irrigation_overflow_mm": np.broadcast_to(irr - applied, shape),
    })
    result["residual_mm"] = balance_residual(result, dr0)
    return result


def balance_residual(fluxes: dict[str, np.ndarray], dr0_mm) -> np.ndarray:
    """Daily residual of the depletion balance [mm]: ΔDr - (outflows - inflows).

    Zero up to rounding when the balance closes; ``fluxes`` holds ``dr_mm`` and the fluxes
    of the module docstring with a leading time axis.
    """
    dr = fluxes["dr_mm"]
    res = np.empty(dr.shape)  # one buffer: the (time x site x member) terms are large
    np.subtract(dr[:1], dr0_mm, out=res[:1])
    np.subtract(dr[1:], dr[:-1], out=res[1:])
    for k in FLUXES_OUT:
        res -= fluxes[k]
    for k in FLUXES_IN:
        res += fluxes[k]
    return res


# --------------------------------------------------------------------------- xarray wrapper


def _site_values(sites: xr.Dataset, name: str) -> np.ndarray:
    if name not in sites:
        raise InputError(f"sites dataset has no variable '{name}'", field=name)
    return sites[name].values


def _to_tsm(da: xr.DataArray | None, name: str, time, member) -> np.ndarray:
    """A DataArray over any of (time, site, member) -> numpy (time|1, site|1, member|1)."""
    if da is None:
        return np.zeros((1, 1, 1))
    extra = set(da.dims) - {"time", "site", "member"}
    if extra:
        raise InputError(f"unexpected dims {sorted(extra)}; expected time, site, member",
                         field=name)
    if "time" in da.dims:
        da = da.sel(time=time) if not np.array_equal(da["time"].values, time) else da
    if "member" in da.dims and member is not None and da.sizes["member"] != len(member):
        raise InputError(f"expected {len(member)} members, got {da.sizes['member']}",
                         field=name)
    for dim in ("time", "site", "member"):
        if dim not in da.dims:
            da = da.expand_dims(dim)
    return np.asarray(da.transpose("time", "site", "member").values, dtype=float)


@dataclass(frozen=True)
class SiteSoil:
    """The per-site constants of the root-zone balance, computed once per city.

    Attributes (arrays over ``site``)
    ----------------------------------
    hydraulics
        :func:`site_hydraulics` (van Genuchten parameters, θFC, θWP, ``measured``).
    root_depth_m, area_m2
        Root depth Zr [m] and watered area [m2].
    taw_mm
        Total available water [mm] (FAO-56 eq. 82).
    k_l
        Landscape coefficient K_L [-] (:func:`irrigation.landscape.landscape_coefficient`).
    p_base
        Depletion fraction p of the species table [-] (FAO-56 Table 22, at ETc 5 mm d-1).
    cap_mm
        Most one watering adds [mm] (pit capacity / area; inf without a cap).
    infiltration
        Share of rain reaching the root zone [-] (:func:`infiltration_fraction`).
    site
        The site ids.
    params
        The soil parameters used.
    """

    hydraulics: dict[str, np.ndarray]
    root_depth_m: np.ndarray
    area_m2: np.ndarray
    taw_mm: np.ndarray
    k_l: np.ndarray
    p_base: np.ndarray
    cap_mm: np.ndarray
    infiltration: np.ndarray
    site: np.ndarray
    params: SoilParams

    def take(self, index) -> SiteSoil:
        """The constants of the sites ``index`` (a slice or integer array)."""
        return SiteSoil({k: v[index] for k, v in self.hydraulics.items()},
                        *(getattr(self, f)[index] for f in (
                            "root_depth_m", "area_m2", "taw_mm", "k_l", "p_base", "cap_mm",
                            "infiltration", "site")), self.params)


def site_soil(sites: xr.Dataset, textures: pd.DataFrame, species: pd.DataFrame,
              params: SoilParams | None = None, landscape: LandscapeParams | None = None
              ) -> SiteSoil:
    """The constants of every site's balance (:class:`SiteSoil`).

    Raises
    ------
    InputError
        A root depth or area that is not > 0, an unknown species, texture or sealing.
    """
    params = params or SoilParams()
    hyd = site_hydraulics(sites, textures, params)
    zr = _site_values(sites, "root_depth_m").astype(float)
    area = _site_values(sites, "area_m2").astype(float)
    if np.any(~(zr > 0)) or np.any(~(area > 0)):
        raise InputError("expected root_depth_m > 0 and area_m2 > 0 for every site",
                         field="root_depth_m" if np.any(~(zr > 0)) else "area_m2")
    k_l = landscape_coefficient(sites, species, landscape).values
    p_base = species.loc[sites["species"].values.astype(str), "p_depletion"].to_numpy(float)
    cap = _site_values(sites, "pit_capacity_l").astype(float)
    return SiteSoil(
        hyd, zr, area, total_available_water_mm(hyd["theta_fc"], hyd["theta_wp"], zr),
        np.asarray(k_l, dtype=float), p_base, np.where(np.isnan(cap), np.inf, cap / area),
        infiltration_fraction(_site_values(sites, "sealing"), params),
        sites["site"].values if "site" in sites.coords else np.arange(zr.size), params)


def balance(soil: SiteSoil, et0_mm: np.ndarray, precip_mm: np.ndarray, *,
            irrigation_l: np.ndarray | None = None, depth_to_water_m: np.ndarray | None = None,
            initial_depletion_mm: np.ndarray | None = None, n_members: int = 1,
            derived: bool = False, fluxes: bool = True) -> dict[str, np.ndarray]:
    """The root-zone balance of the sites of ``soil`` on plain arrays.

    The array path of :func:`simulate_sites` (same equations, same order of operations):
    every input is broadcastable to ``(time, site, member)``.

    Parameters
    ----------
    soil
        :func:`site_soil` of the sites.
    et0_mm, precip_mm
        Reference ET and precipitation [mm d-1], ``(time, site|1, member|1)``.
    irrigation_l
        Water delivered [L], ``(time|1, site, member|1)``; None: none.
    depth_to_water_m
        Water table depth [m], ``(time|1, site, 1)``; None: no capillary rise.
    initial_depletion_mm
        Dr at the start [mm], ``(site, member|1)``; None: 0 (field capacity).
    n_members
        Members when no input has a member axis longer than 1.
    derived
        Also return ``theta`` [m3 m-3] and ``tension_kpa`` [kPa].
    fluxes
        :func:`water_balance`'s ``fluxes``: False leaves out the fluxes the balance takes
        as given and the residual.

    Returns
    -------
    dict of numpy.ndarray
        :func:`water_balance`'s result over ``(time, site, member)``; ``theta`` and
        ``tension_kpa`` with ``derived``.
    """
    et0 = np.asarray(et0_mm, dtype=float)
    zr, area = soil.root_depth_m, soil.area_m2
    p = adjust_p(soil.p_base[None, :, None], soil.k_l[None, :, None] * et0)
    irr_mm = (np.zeros((1, 1, 1)) if irrigation_l is None
              else np.asarray(irrigation_l, dtype=float) / area[None, :, None])
    cr_pot = (0.0 if depth_to_water_m is None else capillary_rise_potential_mm(
        np.asarray(depth_to_water_m, dtype=float), zr[None, :, None], soil.params))
    n_mem = max([n_members, *(np.shape(a)[-1] for a in (et0, precip_mm) if np.ndim(a) == 3)])
    dr0 = np.zeros((zr.size, n_mem))
    if initial_depletion_mm is not None:
        dr0 = dr0 + np.asarray(initial_depletion_mm, dtype=float)
    res = water_balance(
        dr0, soil.taw_mm[None, :, None], p, et0, precip_mm, kc=soil.k_l[None, :, None],
        infiltration=soil.infiltration[:, None], irrigation_mm=irr_mm,
        irrigation_cap_mm=soil.cap_mm[None, :, None], cr_potential_mm=cr_pot, fluxes=fluxes)
    if derived:
        hyd = soil.hydraulics
        theta = theta_from_depletion(res["dr_mm"], hyd["theta_fc"][None, :, None],
                                     zr[None, :, None])
        res["theta"] = theta
        vg = (hyd[k][None, :, None] for k in _VG)
        res["tension_kpa"] = van_genuchten_tension_kpa(theta, *vg)
    return res


def simulate_sites(
    sites: xr.Dataset,
    et0_mm: xr.DataArray,
    precip_mm: xr.DataArray,
    *,
    textures: pd.DataFrame,
    species: pd.DataFrame,
    irrigation_l: xr.DataArray | None = None,
    depth_to_water_m: xr.DataArray | None = None,
    initial_depletion_mm: xr.DataArray | None = None,
    params: SoilParams | None = None,
    landscape: LandscapeParams | None = None,
    derived: bool = True,
    soil: SiteSoil | None = None,
) -> xr.Dataset:
    """Root-zone balance of every site (and member) of a city over the days of ``et0_mm``.

    Parameters
    ----------
    sites
        City sites over dim ``site``: ``kind``, ``species``, ``area_m2``, ``soil_texture``,
        ``sealing``, ``root_depth_m``, ``pit_capacity_l`` (NaN = no cap); optionally the
        measured soil columns of :data:`SITE_SOIL_COLUMNS` (:func:`site_hydraulics`).
    et0_mm
        Reference ET [mm d-1] over ``time`` [, ``member``] [, ``site``].
    precip_mm
        Precipitation [mm d-1] over ``time`` [, ``member``] [, ``site``].
    textures, species
        The data tables (:mod:`irrigation.io.soil_tables`).
    irrigation_l
        Water delivered per site and day [L] over ``time``, ``site`` [, ``member``].
    depth_to_water_m
        Depth of the water table [m below land surface] over ``site`` [, ``time``] (from
        the groundwater model, previous day); None or NaN: no capillary rise.
    initial_depletion_mm
        Dr at the start [mm] over ``site`` [, ``member``]; default 0 (field capacity).
    params
        Soil parameters; ``landscape`` the :class:`~irrigation.landscape.LandscapeParams`.
    derived
        Also return θ [m3 m-3] and tension [kPa] of the root zone (costs time).
    soil
        The sites' constants (:func:`site_soil`) when the caller has them already
        (``textures``, ``species``, ``params``, ``landscape`` are then not used).

    Returns
    -------
    xr.Dataset
        Over (``time``, ``site``, ``member``): ``dr_mm``, ``ks``, ``theta``, ``tension_kpa``,
        the fluxes with fixed signs, ``residual_mm``; ``taw_mm``, ``raw_mm`` and ``k_l``.

    Notes
    -----
    Demand ET_L = K_L ET0 (:func:`irrigation.landscape.landscape_coefficient`), p from the
    species table adjusted daily by :func:`adjust_p` with ET_L, TAW by FAO-56 eq. 82 from
    θFC and θWP of the site (:func:`site_hydraulics`: measured values, else its texture).
    """
    time = et0_mm["time"].values
    member = et0_mm["member"].values if "member" in et0_mm.dims else (
        precip_mm["member"].values if "member" in precip_mm.dims else np.array([0]))
    soil = site_soil(sites, textures, species, params, landscape) if soil is None else soil
    init = initial_depletion_mm
    if init is not None:
        for dim in ("site", "member"):
            if dim not in init.dims:
                init = init.expand_dims(dim)
        init = init.transpose("site", "member").values
    res = balance(
        soil, _to_tsm(et0_mm, "et0_mm", time, member),
        _to_tsm(precip_mm, "precip_mm", time, member),
        irrigation_l=None if irrigation_l is None else _to_tsm(irrigation_l, "irrigation_l",
                                                               time, member),
        depth_to_water_m=None if depth_to_water_m is None else _to_tsm(
            depth_to_water_m, "depth_to_water_m", time, member),
        initial_depletion_mm=init, n_members=len(member), derived=derived)
    dims = ("time", "site", "member")
    coords = {"time": time, "member": member}
    if "site" in sites.coords:
        coords["site"] = sites["site"].values
    ds = xr.Dataset({k: (dims, np.broadcast_to(v, res["dr_mm"].shape)) for k, v in res.items()},
                    coords=coords)
    ds["k_l"] = xr.DataArray(soil.k_l, dims=("site",), coords={"site": coords["site"]}
                             if "site" in coords else None, name="k_l",
                             attrs={"units": "1", "long_name": "landscape coefficient"})
    units = {"ks": "1", "theta": "m3 m-3", "tension_kpa": "kPa", "k_l": "1"}
    for name in ds.data_vars:
        ds[name].attrs["units"] = units.get(str(name), "mm" if name in (
            "dr_mm", "taw_mm", "raw_mm", "residual_mm") else "mm d-1")
    return ds


# --------------------------------------------------------------------------- groundwater


def recharge_to_grid(
    deep_percolation_mm,
    area_m2,
    x,
    y,
    *,
    xorigin: float,
    ytop: float,
    delr,
    delc,
    background_mm_d: float,
) -> np.ndarray:
    """Area-weighted recharge per groundwater model cell [mm d-1], shape (nrow, ncol).

    Parameters
    ----------
    deep_percolation_mm
        Deep percolation per site for one day [mm d-1] (e.g. the member mean), shape (site,).
    area_m2
        Area of each site that the percolation falls on [m2].
    x, y
        Site coordinates [m] in the model's CRS.
    xorigin, ytop
        x of the grid's left edge and y of its top edge [m] (MODFLOW: row 0 is the north).
    delr, delc
        Column widths (along x, length ncol) and row heights (along y, length nrow) [m].
    background_mm_d
        Recharge of the cell area not covered by sites [mm d-1]
        (config ``groundwater.background_recharge_mm_d``).

    Returns
    -------
    np.ndarray
        Recharge [mm d-1]: ``(Σ DP_i A_i + background (A_cell - Σ A_i)) / A_cell`` per cell,
        with the site area clipped to the cell area; cells without sites get the
        background rate. Sites outside the grid are ignored (and logged by the caller).

    Notes
    -----
    Volume is conserved: Σ recharge · A_cell = Σ DP_i A_i + background · uncovered area.
    """
    delr, delc = np.asarray(delr, float), np.asarray(delc, float)
    dp, area = np.asarray(deep_percolation_mm, float), np.asarray(area_m2, float)
    x, y = np.asarray(x, float), np.asarray(y, float)
    xedges = xorigin + np.concatenate([[0.0], np.cumsum(delr)])
    yedges = ytop - np.concatenate([[0.0], np.cumsum(delc)])
    col = np.searchsorted(xedges, x, side="right") - 1
    row = np.searchsorted(-yedges, -y, side="right") - 1
    inside = (col >= 0) & (col < len(delr)) & (row >= 0) & (row < len(delc))
    cell_area = delc[:, None] * delr[None, :]
    flat = row[inside] * len(delr) + col[inside]
    vol = np.bincount(flat, weights=dp[inside] * area[inside], minlength=cell_area.size)
    covered = np.bincount(flat, weights=area[inside], minlength=cell_area.size)
    covered = np.minimum(covered.reshape(cell_area.shape), cell_area)
    vol = vol.reshape(cell_area.shape)
    return (vol + background_mm_d * (cell_area - covered)) / cell_area
