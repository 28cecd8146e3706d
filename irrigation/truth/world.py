"""The truth world: per-site parameters, a layered soil stepped day by day.

:class:`TruthWorld` holds every parameter (drawn by :func:`irrigation.truth.draw_world`;
spreads in :class:`TruthParams`, sources in the package docstring);
:meth:`TruthWorld.step` advances all sites by one day on plain numpy arrays
(:mod:`irrigation.truth.layers`); :meth:`TruthWorld.logged_l` is what the crews report of
the water they gave; :func:`run_truth` steps a whole season (demo generator, notebooks,
tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..params import require
from ..soil import KPA_PER_CM, SoilParams
from .layers import ROOT_LAYERS, layer_step
from .phenology import KC_INI, KC_MID


@dataclass(frozen=True)
class TruthParams:
    """Spreads and structure of the truth world (sources in the package docstring).

    Attributes
    ----------
    layer_correlation
        Correlation of the soil draws of a site's three layers [-] (project value).
    theta_s_sigma
        σ of θs [m3 m-3] (middle of Carsel & Parrish's 1988 within-class σ, 0.05-0.11).
    ksat_sigma_ln
        σ of ln Ks within a class [-] (Carsel & Parrish 1988: CV of Ks 1.7-2.7).
    substrate_ksat_cm_d
        Ks of rows without ``ks_cm_per_d`` (tree-pit substrates) [cm d-1] (project value).
    root_sigma_ln
        σ of ln Zr per site [-] (FAO-56 Table 22's Zr ranges, max/min ~2, as ±2σ).
    topsoil_m
        Thickness of the topsoil layer, at most half the root depth [m].
    below_m, below_bottom_m
        The layer below the roots reaches ``max(Zr + below_m, below_bottom_m)`` [m].
    k_tree_sigma_ln
        σ of ln K_L per tree around its species [-] (WUCOLS density factor "low"
        0.5-0.9 as ±2σ around 0.7).
    efficiency_low, efficiency_high
        Share of a watering that reaches the soil, uniform per site [-] (application
        efficiency of surface 0.6 to drip 0.9; Brouwer et al. 1989, FAO Irrigation Water
        Management Training Manual 4).
    infiltration_sd
        σ of the share of rain entering through the sealing around a pit, Beta around
        the planner's class value [-] (project value).
    runon_share, runon_ratio_max
        Share of sealed pits that take run-on from the paving around them, and the most
        contributing paving per pit area there (uniform) [-] (Shetty 2023).
    interception_mm
        Canopy storage of grown trees in full leaf [mm], uniform per tree (broadleaf
        canopies, e.g. Breuer, Eckhardt & Frede 2003).
    cr_sigma_ln
        σ of ln of a site's factor on the potential capillary rise [-] (project value).
    leaf_year_sd_d, leaf_tree_sd_d
        σ of the leaf-out and leaf-fall dates of a world (the year) and of a tree [d].
    leaf_fall_doy
        Mean day of year of leaf fall.
    field_amplitude
        Peak of the smooth spatial fields of ET0 and rain [-].
    rain_day_sigma
        σ of ln of the daily factor of district rain against the station's [-].
    log_sigma_ln, log_round_l
        σ of ln of the litres a crew reports against what it gave, and the rounding of
        the reported litres [L] (project values).
    p_unlogged, p_phantom
        Probability that a visit is not logged, and that a planned visit not done is
        logged as done [-] (project values).
    initial_wetness
        Relative water content (θ - θWP) / (θFC - θWP) of each layer at the start,
        uniform in this interval [-].
    """

    layer_correlation: float = 0.5
    theta_s_sigma: float = 0.07
    ksat_sigma_ln: float = 1.2
    substrate_ksat_cm_d: float = 100.0
    root_sigma_ln: float = 0.17
    topsoil_m: float = 0.3
    below_m: float = 0.3
    below_bottom_m: float = 1.0
    k_tree_sigma_ln: float = 0.15
    efficiency_low: float = 0.6
    efficiency_high: float = 1.0
    infiltration_sd: float = 0.1
    runon_share: float = 0.5
    runon_ratio_max: float = 1.0
    interception_mm: tuple[float, float] = (0.5, 1.5)
    cr_sigma_ln: float = 0.5
    leaf_year_sd_d: float = 7.0
    leaf_tree_sd_d: float = 5.0
    leaf_fall_doy: float = 295.0
    field_amplitude: float = 0.1
    rain_day_sigma: float = 0.5
    log_sigma_ln: float = 0.1
    log_round_l: float = 10.0
    p_unlogged: float = 0.03
    p_phantom: float = 0.25
    initial_wetness: tuple[float, float] = (0.4, 1.1)

    def __post_init__(self) -> None:
        require(0 <= self.layer_correlation <= 1, "layer_correlation", "in [0, 1]")
        require(0 < self.efficiency_low <= self.efficiency_high <= 1, "efficiency_low",
                "0 < efficiency_low <= efficiency_high <= 1")
        require(0 <= self.runon_share <= 1, "runon_share", "in [0, 1]")
        for name in ("p_unlogged", "p_phantom"):
            require(0 <= getattr(self, name) <= 1, name, "a probability in [0, 1]")
        require(self.topsoil_m > 0 and self.below_m > 0, "topsoil_m", "thicknesses > 0 m")
        lo, hi = self.initial_wetness
        require(0 <= lo <= hi, "initial_wetness", "0 <= low <= high")


@dataclass(frozen=True)
class TruthState:
    """Water content of each layer of every site [m3 m-3], ``(site, 3)``."""

    theta: np.ndarray


@dataclass(frozen=True)
class TruthDay:
    """One day of the truth, per site (arrays over ``site``; ``(site, 3)`` per layer).

    Attributes
    ----------
    dr_mm
        Root-zone depletion below the truth's own field capacity [mm] (layers 0 and 1,
        >= 0; a root zone wetter than field capacity reads 0).
    ks
        FAO-56 eq. 84 stress coefficient from ``dr_mm``, the truth's TAW and p [-].
    tension_kpa
        Root-zone tension [kPa]: the thickness-weighted mean of the tensions of layers 0
        and 1 (what a practitioner's mean of evenly spaced probes reads).
    tension_layers_kpa
        Tension of each layer [kPa] ``(site, 3)``.
    theta_layers
        Water content of each layer at the end of the day [m3 m-3] ``(site, 3)``.
    precip_mm, interception_mm, runoff_mm, runon_mm, irrigation_mm, infiltration_mm
        Rain on the site, caught by the canopy, running off the sealing, running on from
        the paving around, watering reaching the soil, and their sum into the soil
        ``infiltration = precip - interception - runoff + runon + irrigation`` [mm].
    capillary_rise_mm, et_mm, deep_percolation_mm
        The column's other fluxes [mm]: ``Δstorage = infiltration + CR - ET - DP``.
    """

    dr_mm: np.ndarray
    ks: np.ndarray
    tension_kpa: np.ndarray
    tension_layers_kpa: np.ndarray
    theta_layers: np.ndarray
    precip_mm: np.ndarray
    interception_mm: np.ndarray
    runoff_mm: np.ndarray
    runon_mm: np.ndarray
    irrigation_mm: np.ndarray
    infiltration_mm: np.ndarray
    capillary_rise_mm: np.ndarray
    et_mm: np.ndarray
    deep_percolation_mm: np.ndarray


#: Fields of :class:`TruthDay` (the arrays :func:`run_truth` stacks over time).
DAY_FIELDS = tuple(TruthDay.__dataclass_fields__)


@dataclass(frozen=True, eq=False)
class TruthWorld:
    """The truth's parameters, numpy arrays over ``site`` (and layer, and day).

    Built by :func:`draw_world`. Per layer, layer-first ``(3, site)`` (contiguous for
    the kernel): ``dz_mm`` thickness, ``wp_mm``, ``fc_mm``, ``sat_mm`` storage at wilting
    point, field capacity and saturation, ``vg`` the van Genuchten θr, θs, α [cm-1], n,
    ``tau`` drainage characteristic [d-1], ``root_share``. Per site: ``zr_m`` root depth,
    ``k_l`` K_L in full leaf, ``p_base``, ``deciduous``, ``interception_mm``,
    ``infiltration`` and ``runon`` (shares of the rain on the site), ``efficiency``,
    ``cap_l`` (pit capacity, inf = none), ``area_m2``, ``cr_factor``, ``et0_factor``,
    ``precip_factor``. Per day of ``time``: ``rain_day_factor``; ``leaf`` the K_L factor
    of every site ``(time, site)`` (:func:`irrigation.truth.phenology.leaf_factor`, 1 if
    not deciduous).

    :class:`TruthState` and :class:`TruthDay` are site-first ``(site, 3)``.
    """

    site: np.ndarray
    time: np.ndarray
    dz_mm: np.ndarray
    wp_mm: np.ndarray
    fc_mm: np.ndarray
    sat_mm: np.ndarray
    vg: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    tau: np.ndarray
    root_share: np.ndarray
    zr_m: np.ndarray
    k_l: np.ndarray
    p_base: np.ndarray
    deciduous: np.ndarray
    leaf: np.ndarray
    interception_mm: np.ndarray
    infiltration: np.ndarray
    runon: np.ndarray
    efficiency: np.ndarray
    cap_l: np.ndarray
    area_m2: np.ndarray
    cr_factor: np.ndarray
    et0_factor: np.ndarray
    precip_factor: np.ndarray
    rain_day_factor: np.ndarray
    params: TruthParams = field(default_factory=TruthParams)
    soil: SoilParams = field(default_factory=SoilParams)
    taw_mm: np.ndarray = field(init=False, repr=False)
    _fast: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        r = list(ROOT_LAYERS)
        object.__setattr__(self, "taw_mm", (self.fc_mm[r] - self.wp_mm[r]).sum(0))
        res, sat, alpha, n = self.vg
        m = 1.0 - 1.0 / n
        object.__setattr__(self, "_fast", {
            "res": res, "inv_range": 1.0 / (sat - res), "exp_se": -1.0 / m,
            "exp_h": 1.0 / n, "kpa_per_alpha": KPA_PER_CM / alpha,
            "dz_root": self.dz_mm[r], "dz_root_sum": self.dz_mm[r].sum(0),
            "fc_root_sum": self.fc_mm[r].sum(0), "k_et0": self.k_l * self.et0_factor,
            "catch": self.interception_mm / (1.0 - KC_INI / KC_MID),
            "eff_per_area": self.efficiency / self.area_m2})

    @property
    def theta_fc(self) -> np.ndarray:
        """Field capacity of each layer [m3 m-3] ``(site, 3)``."""
        return (self.fc_mm / self.dz_mm).T

    @property
    def theta_wp(self) -> np.ndarray:
        """Wilting point of each layer [m3 m-3] ``(site, 3)``."""
        return (self.wp_mm / self.dz_mm).T

    @property
    def layer_bottom_m(self) -> np.ndarray:
        """Depth of the bottom of each layer [m] ``(site, 3)``."""
        return np.cumsum(self.dz_mm, axis=0).T / 1000.0

    def tension_kpa(self, theta: np.ndarray) -> np.ndarray:
        """Tension of each layer [kPa] at water content ``theta`` ``(site, 3)``:
        van Genuchten (1980) eq. 21 of the layer's own curve, as
        :func:`irrigation.soil.van_genuchten_tension_kpa` (Se clipped to [1e-6, 1])."""
        f = self._fast
        se = np.clip((theta.T - f["res"]) * f["inv_range"], 1e-6, 1.0)
        return ((se ** f["exp_se"] - 1.0) ** f["exp_h"] * f["kpa_per_alpha"]).T

    def initial_state(self, rng: np.random.Generator) -> TruthState:
        """An unknown state at the start: each layer's relative water content
        (θ - θWP) / (θFC - θWP) uniform in ``params.initial_wetness``, at most θs."""
        lo, hi = self.params.initial_wetness
        s = rng.uniform(lo, hi, (self.site.size, self.dz_mm.shape[0])).T
        w = np.minimum(self.wp_mm + s * (self.fc_mm - self.wp_mm), self.sat_mm)
        return TruthState((w / self.dz_mm).T)

    def step(self, state: TruthState, day_index: int, et0_mm: float, precip_mm: float,
             delivered_l: np.ndarray, dtw_m: np.ndarray) -> tuple[TruthState, TruthDay]:
        """One day of every site, from the state of the morning to the next.

        Parameters
        ----------
        state
            The morning's layer water contents.
        day_index
            Index of the day in ``time``.
        et0_mm, precip_mm
            The station's reference ET and precipitation of the day [mm d-1] (scalars);
            the world applies its own spatial fields, daily rain factor, leaf-out,
            interception, sealing and run-on.
        delivered_l
            Water the crews put into each pit [L] ``(site,)``; the world applies the pit
            capacity and its watering efficiency.
        dtw_m
            Depth to the water table [m] ``(site,)`` (NaN: none).

        Returns
        -------
        (TruthState, TruthDay)
        """
        f = self._fast
        leaf = self.leaf[day_index]
        etc = f["k_et0"] * leaf
        etc *= float(et0_mm)
        rain = (float(precip_mm) * self.rain_day_factor[day_index]) * self.precip_factor
        caught = leaf - KC_INI / KC_MID  # canopy in leaf: 0 when dormant, 1 in full leaf
        caught *= f["catch"]
        np.minimum(caught, rain, out=caught)
        through = rain - caught
        soaked = through * self.infiltration
        runon = rain * self.runon
        irrigation = np.minimum(np.asarray(delivered_l, float), self.cap_l)
        irrigation *= f["eff_per_area"]
        water_in = soaked + runon
        water_in += irrigation
        p = np.clip(self.p_base + 0.04 * (5.0 - etc), 0.1, 0.8)  # FAO-56 Table 22 note
        w_end, flux = layer_step(state.theta.T * self.dz_mm, self.wp_mm, self.fc_mm,
                                 self.sat_mm, self.tau, self.root_share, p, etc, water_in,
                                 self.capillary_rise_potential_mm(dtw_m))
        theta = (w_end / self.dz_mm).T
        taw = self.taw_mm
        dr = np.maximum(f["fc_root_sum"] - w_end[0] - w_end[1], 0.0)
        ks = np.clip((taw - dr) / ((1.0 - p) * taw), 0.0, 1.0)
        psi = self.tension_kpa(theta)
        dz = f["dz_root"]
        psi_rz = (psi[:, 0] * dz[0] + psi[:, 1] * dz[1]) / f["dz_root_sum"]
        day = TruthDay(dr, ks, psi_rz, psi, theta, rain, caught, through - soaked, runon,
                       irrigation, water_in, flux["capillary_rise_mm"], flux["et_mm"],
                       flux["deep_percolation_mm"])
        return TruthState(theta), day

    def capillary_rise_potential_mm(self, dtw_m) -> np.ndarray:
        """Potential capillary rise into the root zone [mm d-1] per site: the planner's
        form (:func:`irrigation.soil.capillary_rise_potential_mm`) with the truth's root
        depth, times the site's ``cr_factor``."""
        s = self.soil
        d = np.maximum(np.asarray(dtw_m, float) - self.zr_m, 0.0)
        with np.errstate(invalid="ignore"):
            near = d <= s.cr_cutoff_m  # False for NaN (no water table)
        return np.where(near, s.cr_max_mm_d * np.exp(-d / s.cr_decay_m), 0.0) * self.cr_factor
    def logged_l(self, delivered_l: np.ndarray, rng: np.random.Generator, *,
                 planned_l: np.ndarray | None = None) -> np.ndarray:
        """The litres the crews report for the watering log [L] ``(site,)``.

        A visit done is reported as its litres times ``exp(N(0, log_sigma_ln²))``,
        rounded to ``log_round_l`` (at least one rounding step); with probability
        ``p_unlogged`` it is not logged at all. With ``planned_l``, a planned visit that
        was not done is logged as planned with probability ``p_phantom``. The same
        random numbers are drawn whatever the inputs.
        """
        prm = self.params
        d = np.asarray(delivered_l, dtype=float)
        noise = rng.normal(0.0, prm.log_sigma_ln, d.shape)
        u_skip, u_phantom = rng.random(d.shape), rng.random(d.shape)
        step = prm.log_round_l

        def rounded(v):
            return np.maximum(np.round(v / step), 1.0) * step

        done = d > 0
        out = np.where(done & (u_skip >= prm.p_unlogged), rounded(d * np.exp(noise)), 0.0)
        if planned_l is not None:
            planned = np.asarray(planned_l, dtype=float)
            phantom = ~done & (planned > 0) & (u_phantom < prm.p_phantom)
            out = np.where(phantom, rounded(planned), out)
        return out


def run_truth(world: TruthWorld, state: TruthState, et0_mm, precip_mm, delivered_l,
              dtw_m, *, first_day: int = 0) -> tuple[TruthState, dict[str, np.ndarray]]:
    """Step the world over consecutive days (:meth:`TruthWorld.step` in a loop).

    Parameters
    ----------
    et0_mm, precip_mm
        The station's values [mm d-1] over the days ``(time,)``.
    delivered_l
        Water put into each pit [L] ``(time, site)``.
    dtw_m
        Depth to water [m] ``(site,)`` or ``(time, site)``.
    first_day
        Index in ``world.time`` of the first day.

    Returns
    -------
    (TruthState, dict)
        The state after the last day and every :class:`TruthDay` field stacked over
        ``time`` (first axis).
    """
    et0 = np.asarray(et0_mm, float)
    pr = np.asarray(precip_mm, float)
    irr = np.asarray(delivered_l, float)
    dtw = np.asarray(dtw_m, float)
    days = []
    for k in range(et0.size):  # the time loop; sites are vectorised in step()
        state, day = world.step(state, first_day + k, et0[k], pr[k], irr[k],
                                dtw[k] if dtw.ndim == 2 else dtw)
        days.append(day)
    return state, {f: np.stack([getattr(d, f) for d in days]) for f in DAY_FIELDS}
