"""Drawing a truth world around the planner's sites (:func:`draw_world`).

Every spread and its source: the package docstring (:mod:`irrigation.truth`) and
:class:`irrigation.truth.TruthParams`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import InputError
from ..landscape import LandscapeParams, landscape_coefficient
from ..soil import SoilParams, fit_van_genuchten, infiltration_fraction, site_hydraulics
from .phenology import DEFAULT_LEAF_OUT_DOY, EVERGREEN_GENERA, LEAF_OUT_DOY, leaf_factor
from .world import TruthParams, TruthWorld

#: FAO-56 Table 19 (Allen et al. 1998, ch. 8, p. 144): ranges of θWP and of θFC - θWP
#: [m3 m-3] per texture; a range is read as ±2σ of the class (σ = width / 4).
FAO56_TABLE19_WP_AW = {
    "sand": ((0.02, 0.07), (0.05, 0.11)),
    "loamy_sand": ((0.03, 0.10), (0.06, 0.12)),
    "sandy_loam": ((0.06, 0.16), (0.11, 0.15)),
    "loam": ((0.07, 0.17), (0.13, 0.18)),
    "silt_loam": ((0.09, 0.21), (0.13, 0.19)),
    "silt": ((0.12, 0.22), (0.16, 0.20)),
    "silty_clay_loam": ((0.17, 0.24), (0.13, 0.18)),
    "silty_clay": ((0.17, 0.29), (0.13, 0.19)),
    "clay": ((0.20, 0.24), (0.12, 0.20)),
}

#: Relative σ of a WUCOLS class's species factor: half the class range over 2 (the range
#: read as ±2σ) over its midpoint (Costello & Jones 2014: H 0.7-0.9, M 0.4-0.6, L 0.1-0.3,
#: VL < 0.1).
WUCOLS_SIGMA = {"H": 0.05 / 0.8, "M": 0.05 / 0.5, "L": 0.05 / 0.2, "VL": 0.25}

#: Root distribution β of Jackson et al. (1996, Oecologia 108, 389-411, Table 1): the
#: cumulative root fraction above depth d [cm] is 1 - β^d. Temperate deciduous forest for
#: trees, temperate grassland for lawns, sclerophyllous shrubs for shrub beds.
ROOT_BETA = {"tree": 0.966, "lawn": 0.943, "shrub_bed": 0.964}


def _smooth_field(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, amplitude: float,
                  n_waves: int = 6) -> np.ndarray:
    """A smooth random field of mean 1 and peak ~±amplitude (sum of plane waves of
    0.5-3 km wavelength)."""
    f = np.zeros_like(x, dtype=float)
    for _ in range(n_waves):
        wl = rng.uniform(500.0, 3000.0)
        ang = rng.uniform(0, np.pi)
        ph = rng.uniform(0, 2 * np.pi)
        f += np.cos(2 * np.pi * (x * np.cos(ang) + y * np.sin(ang)) / wl + ph)
    f /= np.sqrt(n_waves / 2.0)
    return 1.0 + amplitude * np.clip(f, -2.0, 2.0) / 2.0


def _class_sigmas(texture: np.ndarray, wp: np.ndarray, aw: np.ndarray):
    """σ of θWP and of θFC - θWP per site: FAO-56 Table 19 widths / 4, or for classes
    outside the table the median relative σ of the table's classes times the value."""
    rel_wp = np.median([(hi - lo) / 4 / ((hi + lo) / 2)
                        for (lo, hi), _ in FAO56_TABLE19_WP_AW.values()])
    rel_aw = np.median([(hi - lo) / 4 / ((hi + lo) / 2)
                        for _, (lo, hi) in FAO56_TABLE19_WP_AW.values()])
    s_wp, s_aw = rel_wp * wp, rel_aw * aw
    for name, ((wl, wh), (al, ah)) in FAO56_TABLE19_WP_AW.items():
        at = texture == name
        s_wp = np.where(at, (wh - wl) / 4, s_wp)
        s_aw = np.where(at, (ah - al) / 4, s_aw)
    return s_wp, s_aw


def _layer_soils(sites: xr.Dataset, textures: pd.DataFrame, soil: SoilParams,
                 prm: TruthParams, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """θWP, θFC, θs, θr, α, n and Ks of three layers per site ``(site, 3)``."""
    hyd = site_hydraulics(sites, textures, soil)
    n = hyd["theta_fc"].size
    texture = sites["soil_texture"].values.astype(str)
    wp0, fc0 = hyd["theta_wp"], hyd["theta_fc"]
    s_wp, s_aw = _class_sigmas(texture, wp0, fc0 - wp0)
    rho = prm.layer_correlation
    z = rho * rng.standard_normal((n, 1, 2)) + np.sqrt(1 - rho**2) * rng.standard_normal(
        (n, 3, 2))
    wp = np.maximum(wp0[:, None] + s_wp[:, None] * z[..., 0], 0.01)
    aw = np.maximum((fc0 - wp0)[:, None] + s_aw[:, None] * z[..., 1],
                    0.3 * (fc0 - wp0)[:, None])
    fc = wp + aw
    sat = np.clip(hyd["theta_s"][:, None] + prm.theta_s_sigma * rng.standard_normal((n, 3)),
                  fc + 0.05, 0.6)
    res = np.minimum(hyd["theta_r"][:, None], wp / 2.0)
    psi_fc = np.broadcast_to(hyd["fc_tension_kpa"][:, None], (n, 3))
    alpha, nvg = fit_van_genuchten(fc, wp, psi_fc, res, sat, soil.wp_tension_kpa)
    ks = textures["ks_cm_per_d"].reindex(texture).to_numpy(float) if (
        "ks_cm_per_d" in textures) else np.full(n, np.nan)
    ks = np.where(np.isfinite(ks), ks, prm.substrate_ksat_cm_d)
    ks = ks[:, None] * rng.lognormal(0.0, prm.ksat_sigma_ln, (n, 3))
    return {"wp": wp, "fc": fc, "sat": sat, "res": res, "alpha": alpha, "n": nvg,
            "ks_cm_d": ks}


def _drainage_tau(ks_cm_d: np.ndarray) -> np.ndarray:
    """AquaCrop's drainage characteristic τ = 0.0866 Ks^0.35, Ks in mm d-1, in [0, 1]
    (Raes et al. 2012, AquaCrop reference manual, ch. 3)."""
    return np.clip(0.0866 * (10.0 * ks_cm_d) ** 0.35, 0.0, 1.0)


def _root_kind(kind: np.ndarray) -> np.ndarray:
    return np.where(np.char.find(kind, "tree") >= 0, "tree",
                    np.where(kind == "lawn", "lawn", "shrub_bed"))


def _beta_around(mean: np.ndarray, sd: float, rng: np.random.Generator) -> np.ndarray:
    """Beta draws with the given means and (at most) standard deviation ``sd``."""
    m = np.clip(mean, 0.02, 0.98)
    var = np.minimum(sd**2, 0.9 * m * (1 - m))
    k = m * (1 - m) / var - 1.0
    return rng.beta(m * k, (1 - m) * k)


def draw_world(
    sites: xr.Dataset,
    textures: pd.DataFrame,
    species: pd.DataFrame,
    rng: np.random.Generator,
    *,
    time: np.ndarray,
    params: TruthParams | None = None,
    soil: SoilParams | None = None,
    landscape: LandscapeParams | None = None,
) -> TruthWorld:
    """Draw a truth world around the planning model's sites (package docstring).

    Parameters
    ----------
    sites
        The city's sites over ``site`` (``kind``, ``species``, ``soil_texture``,
        ``sealing``, ``root_depth_m``, ``area_m2``, ``pit_capacity_l``, ``x``, ``y``;
        optionally measured soil columns, :func:`irrigation.soil.site_hydraulics`).
    textures, species
        The planner's tables (:mod:`irrigation.io.soil_tables`).
    rng
        The world's random generator (every draw comes from it, in a fixed order).
    time
        Every day the world will be stepped over (spin-up included); ``day_index`` of
        :meth:`TruthWorld.step` counts from ``time[0]``.
    params, soil, landscape
        Spreads of the truth; the planner's soil (wilting point, capillary rise) and
        landscape parameters the truth starts from.
    """
    prm = params or TruthParams()
    soil = soil or SoilParams()
    n = sites.sizes["site"]
    area = sites["area_m2"].values.astype(float)
    zr0 = sites["root_depth_m"].values.astype(float)
    if np.any(~(area > 0)) or np.any(~(zr0 > 0)):
        raise InputError("expected area_m2 > 0 and root_depth_m > 0 for every site",
                         field="area_m2" if np.any(~(area > 0)) else "root_depth_m")
    days = np.asarray(time).astype("datetime64[D]")
    kind = sites["kind"].values.astype(str)
    names = sites["species"].values.astype(str)

    soils = _layer_soils(sites, textures, soil, prm, rng)
    zr = zr0 * rng.lognormal(0.0, prm.root_sigma_ln, n)
    z1 = np.minimum(prm.topsoil_m, zr / 2.0)
    zb = np.maximum(zr + prm.below_m, prm.below_bottom_m)
    dz = 1000.0 * np.stack([z1, zr - z1, zb - zr])
    beta = pd.Series(ROOT_BETA).reindex(_root_kind(kind)).to_numpy(float)
    top_share = (1 - beta ** (100 * z1)) / (1 - beta ** (100 * zr))
    root_share = np.stack([top_share, 1 - top_share, np.zeros(n)])

    k_planner = landscape_coefficient(sites, species, landscape).values
    present = np.unique(names)
    wucols = species["wucols"].reindex(present).fillna("M").to_numpy(str) if (
        "wucols" in species) else np.full(present.size, "M")
    sp_sigma = pd.Series(WUCOLS_SIGMA).reindex(wucols).fillna(WUCOLS_SIGMA["M"]).to_numpy()
    sp_factor = rng.lognormal(0.0, sp_sigma)
    k_l = (k_planner * sp_factor[np.searchsorted(present, names)]
           * rng.lognormal(0.0, prm.k_tree_sigma_ln, n))
    p_base = species["p_depletion"].reindex(names).to_numpy(float)

    genus = (species["genus"].reindex(names).fillna("").to_numpy(str) if "genus" in species
             else np.array([s.split(" ")[0] for s in names]))
    genus = np.where(genus == "", [s.split(" ")[0] for s in names], genus)
    is_tree = np.char.find(kind, "tree") >= 0
    deciduous = is_tree & ~np.isin(genus, EVERGREEN_GENERA)
    mean_out = pd.Series(LEAF_OUT_DOY).reindex(genus).fillna(DEFAULT_LEAF_OUT_DOY).to_numpy()
    year_out, year_fall = rng.normal(0.0, prm.leaf_year_sd_d, 2)
    leaf_out = mean_out + year_out + rng.normal(0.0, prm.leaf_tree_sd_d, n)
    leaf_fall = prm.leaf_fall_doy + year_fall + rng.normal(0.0, prm.leaf_tree_sd_d, n)
    grown = is_tree & (kind != "young_tree")
    interception = np.where(grown, rng.uniform(*prm.interception_mm, n), 0.0)

    f_class = infiltration_fraction(sites["sealing"].values, soil)
    infil = _beta_around(f_class, prm.infiltration_sd, rng)
    sealed = sites["sealing"].values.astype(str) != "open"
    takes = sealed & (rng.random(n) < prm.runon_share)
    runon = np.where(takes, rng.uniform(0.0, prm.runon_ratio_max, n), 0.0) * (1 - f_class)
    eff = rng.uniform(prm.efficiency_low, prm.efficiency_high, n)
    cap = sites["pit_capacity_l"].values.astype(float) if "pit_capacity_l" in sites else (
        np.full(n, np.nan))
    cr_factor = rng.lognormal(0.0, prm.cr_sigma_ln, n)
    x, y = sites["x"].values.astype(float), sites["y"].values.astype(float)
    et0f = _smooth_field(x, y, rng, prm.field_amplitude)
    pf = _smooth_field(x, y, rng, prm.field_amplitude)
    day_f = rng.lognormal(-prm.rain_day_sigma**2 / 2, prm.rain_day_sigma, days.size)
    doy = (days - days.astype("datetime64[Y]")).astype(int) + 1
    leaf = np.where(deciduous, leaf_factor(doy[:, None], leaf_out, leaf_fall), 1.0)
    lf = {k: np.ascontiguousarray(v.T) for k, v in soils.items()}  # layer-first

    return TruthWorld(
        site=sites["site"].values, time=days, dz_mm=dz, wp_mm=dz * lf["wp"],
        fc_mm=dz * lf["fc"], sat_mm=dz * lf["sat"],
        vg=(lf["res"], lf["sat"], lf["alpha"], lf["n"]),
        tau=_drainage_tau(lf["ks_cm_d"]), root_share=root_share, zr_m=zr, k_l=k_l,
        p_base=p_base, deciduous=deciduous, leaf=leaf, interception_mm=interception,
        infiltration=infil, runon=runon, efficiency=eff,
        cap_l=np.where(np.isnan(cap), np.inf, cap), area_m2=area, cr_factor=cr_factor,
        et0_factor=et0f, precip_factor=pf, rain_day_factor=day_f, params=prm, soil=soil)
