"""Assimilation: optimal interpolation of root-zone depletion over all sites.

:func:`analysis` updates Dr of all sites: the sensed sites directly, the others through a
background-error correlation (:func:`background_correlation`) that decays with distance
and with dissimilarity of soil, species, age and kind; :func:`advance_variance` grows the
background error from one morning to the next. The error variances and the correlation
model are :class:`AssimilationRules` (the ``[assimilation]`` table of ``city.toml``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import InputError
from ..params import require


@dataclass(frozen=True)
class AssimilationRules:
    """Assimilation of sensor readings into the site states (``[assimilation]`` table).

    The update is optimal interpolation (Gandin 1963; Kalnay 2003, sec. 5.4) of the
    root-zone depletion Dr [mm]: error variances are stated here, not estimated. The
    defaults were checked on the demo season: the open-loop innovations (observed minus
    model Dr at the probes) had a standard deviation of 6.6 mm against a median stated
    observation error of 19 mm with σ_channel = 0.03 (too pessimistic, the filter ignored
    the sensors); with 0.01 the stated P + R matches the innovations (Desroziers et al.
    2005 consistency check) and the held-out skill is best.

    Attributes
    ----------
    window_hours
        Readings of the last this many hours before the analysis time (midnight that
        starts day D) are averaged into one observation per channel [h].
    sigma_theta_channel
        Error of one channel's water content: sensor, calibration and the van Genuchten
        conversion of the model soil [m3 m-3].
    sigma_tension_rel
        Relative error of a tension reading, converted to water content through the
        slope of the retention curve [-].
    sigma_theta_profile
        Error of representing a whole root zone by one pit profile [m3 m-3].
    sigma_b0_frac
        Background error of Dr at the season start, as a fraction of TAW [-].
    sigma_q_frac
        Model error added per day, as a fraction of that day's crop ET [-].
    sigma_b_max_frac
        Cap of the background error, as a fraction of TAW [-].
    length_scale_m
        e-folding distance of the background error correlation, exp(-d / L) [m].
    similarity_soil, similarity_species, similarity_age
        Correlation factor applied when two sites differ in soil texture, species, or
        planting year by more than ``age_tolerance_years`` [-]; sites of different kind
        are uncorrelated.
    age_tolerance_years
        Planting years closer than this count as the same age [a].
    """

    window_hours: int = 6
    sigma_theta_channel: float = 0.01
    sigma_tension_rel: float = 0.1
    sigma_theta_profile: float = 0.01
    sigma_b0_frac: float = 0.2
    sigma_q_frac: float = 0.5
    sigma_b_max_frac: float = 0.5
    length_scale_m: float = 2000.0
    similarity_soil: float = 0.5
    similarity_species: float = 0.7
    similarity_age: float = 0.8
    age_tolerance_years: int = 2

    def __post_init__(self) -> None:
        require(1 <= self.window_hours <= 24, "window_hours", "1..24 h")
        require(min(self.sigma_theta_channel, self.sigma_theta_profile) > 0,
                "sigma_theta_channel", "errors > 0 m3 m-3")
        require(self.length_scale_m > 0, "length_scale_m", "> 0 m")
        for name in ("similarity_soil", "similarity_species", "similarity_age"):
            require(0 <= getattr(self, name) <= 1, name, "a factor in [0, 1]")


DEFAULT_ASSIMILATION = AssimilationRules()


def _age(sites: xr.Dataset) -> np.ndarray:
    if "planting_year" in sites:
        return np.nan_to_num(sites["planting_year"].values.astype(float), nan=-9999.0)
    return np.zeros(sites.sizes["site"])


@dataclass(frozen=True, eq=False)
class CorrelationRows:
    """A site x observation correlation matrix stored by its rows that can be non-zero.

    The correlation is 0 between kinds, and probes sit in one or two of the five kinds:
    on the large generated city 27,000 of 150,000 rows can be non-zero (65 MB instead of
    360 MB, and the analysis works on those rows alone).

    Attributes
    ----------
    rows
        Positions of those sites among all sites (increasing).
    values
        Their correlations (len(rows) x observation); may hold zeros.
    n_sites
        The number of all sites.
    """

    rows: np.ndarray
    values: np.ndarray
    n_sites: int

    def __post_init__(self) -> None:
        if self.rows.size and (np.any(np.diff(self.rows) <= 0) or self.rows[0] < 0
                               or self.rows[-1] >= self.n_sites):
            raise ValueError("CorrelationRows.rows must be increasing positions < n_sites")
        if self.values.shape[0] != self.rows.size:
            raise ValueError("CorrelationRows.values must have one row per entry of rows")

    @classmethod
    def from_dense(cls, rho: np.ndarray) -> CorrelationRows:
        """The non-zero rows of a full (site x observation) matrix."""
        rows = np.flatnonzero(np.any(rho != 0.0, axis=1))
        return cls(rows, rho[rows], rho.shape[0])

    def columns(self, use: np.ndarray) -> CorrelationRows:
        """The matrix of the observations ``use`` (bool or positions) alone (row-major,
        as the full matrix's rows: BLAS sums a transposed layout in another order)."""
        return CorrelationRows(self.rows, np.ascontiguousarray(self.values[:, use]),
                               self.n_sites)

    def toarray(self) -> np.ndarray:
        """The full (site x observation) matrix."""
        out = np.zeros((self.n_sites, self.values.shape[1]))
        out[self.rows] = self.values
        return out

    def at(self, pos: np.ndarray) -> np.ndarray:
        """The full matrix's rows ``pos`` (positions among all sites)."""
        i = np.searchsorted(self.rows, pos)
        found = i < self.rows.size
        found[found] = self.rows[i[found]] == pos[found]
        out = np.zeros((pos.size, self.values.shape[1]))
        out[found] = self.values[i[found]]
        return out


def background_correlation(a: xr.Dataset, b: xr.Dataset, rules: AssimilationRules) -> np.ndarray:
    """Correlation of background errors between sites ``a`` and ``b`` (len(a) x len(b)).

    ρ = exp(-d / L) · s_soil^[texture differs] · s_species^[species differs] ·
    s_age^[planting years differ by more than the tolerance] · [same kind]. The exponential
    is a valid correlation in the plane (Gaspari & Cohn 1999, eq. 4.2 family); each
    category factor s·J + (1 - s)·[same] is positive semi-definite, and by the Schur product
    theorem (Horn & Johnson 2013, Matrix Analysis, thm. 7.5.3) so is the product.
    """
    return correlation_rows(a, b, rules).toarray()


def correlation_rows(a: xr.Dataset, b: xr.Dataset, rules: AssimilationRules
                     ) -> CorrelationRows:
    """:func:`background_correlation` by its rows that can be non-zero (the sites of ``a``
    of a kind some site of ``b`` has), without the full matrix."""
    rows = {k: a[k].values for k in ("x", "y")}
    cols = {k: b[k].values for k in ("x", "y")}
    for k in ("soil_texture", "species", "kind"):
        rows[k], cols[k] = _category_codes(a[k].values, b[k].values)
    rows["age"], cols["age"] = _age(a), _age(b)
    live = np.flatnonzero(np.isin(rows["kind"], cols["kind"]))
    rho = np.empty((live.size, b.sizes["site"]))
    for i in range(0, live.size, CORRELATION_ROWS):
        r = live[i:i + CORRELATION_ROWS]
        at = {k: v[r, None] for k, v in rows.items()}
        d = np.hypot(at["x"] - cols["x"][None, :], at["y"] - cols["y"][None, :])
        block = np.exp(-d / rules.length_scale_m)
        for name, s in (("soil_texture", rules.similarity_soil),
                        ("species", rules.similarity_species)):
            block *= np.where(at[name] == cols[name][None, :], 1.0, s)
        age = np.abs(at["age"] - cols["age"][None, :]) > rules.age_tolerance_years
        block *= np.where(age, rules.similarity_age, 1.0)
        block *= at["kind"] == cols["kind"][None, :]
        rho[i:i + r.size] = block
    return CorrelationRows(live, rho, a.sizes["site"])


def _category_codes(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of two label arrays, equal where the labels are equal; missing labels
    (NaN or None) match nothing. Comparing 150,000 x 300 codes is ~10x faster than
    comparing the strings."""
    codes, _ = pd.factorize(np.concatenate([a, b]))
    ca, cb = codes[:a.size], codes[a.size:].copy()
    cb[cb < 0] = -2
    return ca, cb


CORRELATION_ROWS = 10_000
"""Sites of ``a`` per block in :func:`correlation_rows`: its temporaries are
(block x len(b)), not (len(a) x len(b)) each (150,000 sites x 300 probes: 0.36 GB each)."""


def analysis(
    dr_b_mm: xr.DataArray,
    var_b_mm2: xr.DataArray,
    obs: xr.Dataset,
    sites: xr.Dataset,
    taw_mm: xr.DataArray,
    rules: AssimilationRules = DEFAULT_ASSIMILATION,
    rho: CorrelationRows | np.ndarray | None = None,
) -> xr.Dataset:
    """Optimal-interpolation update of the root-zone depletion of every site.

    Parameters
    ----------
    dr_b_mm
        Background (model) depletion [mm] over ``site`` [, ``member``].
    var_b_mm2
        Background error variance [mm2] over ``site``.
    obs
        Over dim ``sensor``: ``site``, ``dr_obs_mm`` and ``var_obs_mm2``
        (:func:`root_zone_depletion`); NaN observations are skipped. Optionally
        ``censored`` (bool): ``dr_obs_mm`` is a lower bound of the depletion (a tension
        probe pinned at the top of its range), used one-sidedly (Notes).
    sites
        City sites (x, y, kind, species, soil_texture, planting_year).
    taw_mm
        Total available water per site [mm]; the analysis is kept within [0, TAW].
    rules
        Correlation model (:func:`background_correlation`).
    rho
        The correlation between all sites and the sites of ``obs`` (len(sites) x
        len(obs); a :class:`CorrelationRows` or the full matrix), when the caller has it
        already (it depends on the geometry only); computed here otherwise.

    Returns
    -------
    xr.Dataset
        ``dr_mm`` (like ``dr_b_mm``), ``var_mm2``, ``increment_mm``; attrs ``n_obs``.

    Notes
    -----
    x_a = x_b + K (y - H x_b) with K = B Hᵀ (H B Hᵀ + R)⁻¹, and
    diag(A) = diag(B) - rowsum(K ∘ B Hᵀ) (optimal interpolation; Kalnay 2003, Atmospheric
    Modeling, Data Assimilation and Predictability, sec. 5.4), with B_ij = σ_i σ_j ρ_ij.
    Only the diagonal of B is carried from day to day; the correlations come from ρ every
    time (a stated simplification of a full Kalman filter).

    *Censored observations* (Tobit-type, Tobin 1958; the Tobit Kalman filter of Allik,
    Miller, Piovoso & Zurakowski 2016, IEEE Trans. Control Syst. Technol. 24, 365-371): a
    bound y_c says only Dr >= y_c. Where the background at the probe's site (the member
    mean) already satisfies it, the observation carries no information and is dropped;
    where the background is wetter than the bound, it enters as an observation y_c with
    its error variance, and each member's innovation is max(y_c - x_b, 0), so no member
    is pulled wetter by it. (A one-sided simplification: the Tobit filter would use the
    mean of the truncated distribution, which is drier than y_c.)
    """
    dr, var, inc, n_obs = analysis_arrays(dr_b_mm, var_b_mm2, obs, sites, taw_mm, rules, rho)
    return xr.Dataset({"dr_mm": (dr_b_mm.dims, dr, {**dr_b_mm.attrs, "units": "mm"}),
                       "var_mm2": (var_b_mm2.dims, var, {**var_b_mm2.attrs, "units": "mm2"}),
                       "increment_mm": (dr_b_mm.dims, inc, {"units": "mm"})},
                      coords=dr_b_mm.coords, attrs={"n_obs": n_obs})


def analysis_arrays(
    dr_b_mm: xr.DataArray,
    var_b_mm2: xr.DataArray,
    obs: xr.Dataset,
    sites: xr.Dataset,
    taw_mm: xr.DataArray,
    rules: AssimilationRules = DEFAULT_ASSIMILATION,
    rho: CorrelationRows | np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """:func:`analysis` as arrays: ``dr_mm`` (the layout of ``dr_b_mm``), ``var_mm2``,
    ``increment_mm`` and the number of observations used."""
    ov = obs.variables
    y, y_var, y_site = (ov[k].values for k in ("dr_obs_mm", "var_obs_mm2", "site"))
    ok = np.isfinite(y) & np.isfinite(y_var)
    censored = (np.asarray(ov["censored"].values, bool) if "censored" in obs
                else np.zeros(ok.shape, bool))
    index = (sites.indexes["site"] if "site" in sites.indexes
             else pd.Index(sites["site"].values))  # the sites' own index: not built again
    if "site" in dr_b_mm.indexes and not dr_b_mm.indexes["site"].equals(index):
        raise InputError("expected the background depletion over the sites in the order "
                         "of the sites table", field="dr_b_mm")
    if (ok & censored).any():
        at = index.get_indexer(y_site)
        xb_all = dr_b_mm.variable.transpose("site", ...).values
        xb_mean = xb_all.reshape(xb_all.shape[0], -1).mean(1)
        known = at >= 0
        satisfied = np.zeros(ok.shape, bool)
        satisfied[known] = xb_mean[at[known]] >= y[known]
        ok &= ~(censored & satisfied)
    n_obs = int(ok.sum())

    if not ok.any():
        return (dr_b_mm.values.copy(), var_b_mm2.values.copy(), np.zeros(dr_b_mm.shape),
                n_obs)
    y, y_var, y_site = y[ok], y_var[ok], y_site[ok]
    pos = index.get_indexer(y_site)
    if (pos < 0).any():
        raise InputError(f"observation at unknown site {y_site[pos < 0][0]!r}",
                         field="site")
    sig = np.sqrt(_on_sites(var_b_mm2, index))
    if rho is None:
        rho = correlation_rows(sites, sites.isel(site=pos), rules)
    else:
        rho = rho if isinstance(rho, CorrelationRows) else CorrelationRows.from_dense(rho)
        if rho.n_sites != index.size:
            raise InputError(f"the correlation is of {rho.n_sites} sites, the city has "
                             f"{index.size}", field="rho")
        rho = rho if ok.all() else rho.columns(ok)
    # only sites correlated with some observation used change (rho is 0 between kinds):
    # the gain is computed for those rows alone, the others keep their background exactly
    near, r = rho.rows, rho.values  # (near site, obs)
    some = np.any(r != 0.0, axis=1)  # all probes of a kind missing: its rows are 0
    if not some.all():
        near, r = near[some], r[some]
    d = sig[pos]  # background error at the observed sites [mm]
    s = d[:, None] * d[None, :] * rho.at(pos) + np.diag(y_var)
    xb = dr_b_mm.variable.transpose("site", ...)
    innov = y.reshape((-1,) + (1,) * (xb.ndim - 1)) - xb.values[pos]
    one_sided = censored[ok].reshape((-1,) + (1,) * (xb.ndim - 1))
    innov = np.where(one_sided, np.maximum(innov, 0.0), innov)
    # K = B_so S^-1 with B_so = diag(sig_near) r diag(d), never formed: the increment is
    # sig_near * (r (d * S^-1 innov)) and rowsum(K o B_so) = sig_near^2 rowsum((r M) o r)
    # with M = diag(d) S^-1 diag(d), so the work on all near sites is two products with r
    # instead of a solve with one right-hand side per site
    w = d[:, None] * np.linalg.solve(s, innov.reshape(len(pos), -1))  # (obs, members)
    m = d[:, None] * np.linalg.solve(s, np.diag(d))  # S symmetric: M symmetric
    inc = np.zeros(xb.shape)
    inc[near] = (sig[near, None] * (r @ w)).reshape((len(near), *xb.shape[1:]))
    taw = _on_sites(taw_mm, index).reshape((-1,) + (1,) * (xb.ndim - 1))
    xa = np.clip(xb.values + inc, 0.0, taw)
    reduction = np.zeros(sig.size)
    reduction[near] = sig[near] ** 2 * np.einsum("ij,ij->i", r @ m, r)
    back = [xb.dims.index(dim) for dim in dr_b_mm.dims]  # to the layout of dr_b_mm
    return (xa.transpose(back), np.maximum(sig**2 - reduction, 0.0),
            (xa - xb.values).transpose(back), n_obs)


def _on_sites(da: xr.DataArray, index: pd.Index) -> np.ndarray:
    """The values of ``da`` (over ``site``) in the order of the site ids ``index`` (when
    ``da`` has that index, e.g. shared with the sites: no comparison of the ids)."""
    if "site" in da.indexes and da.indexes["site"].equals(index):
        return da.values
    return da.sel(site=index.values).values


def advance_variance(var_a_mm2, etc_mm, taw_mm, rules: AssimilationRules = DEFAULT_ASSIMILATION):
    """Background variance of the next day: P + (σ_q ETc)², capped at (σ_max TAW)² [mm2]."""
    return np.minimum(var_a_mm2 + (rules.sigma_q_frac * etc_mm) ** 2,
                      (rules.sigma_b_max_frac * taw_mm) ** 2)


def probe_correlation(sites: xr.Dataset, sensors: xr.Dataset,
                      rules: AssimilationRules = DEFAULT_ASSIMILATION) -> CorrelationRows:
    """Background correlation between every site and each probe's site (site x sensor,
    by its rows that can be non-zero); static geometry, computed once per city
    (:func:`background_correlation`)."""
    psite = pd.Index(sites["site"].values).get_indexer(sensors["site"].values)
    return correlation_rows(sites, sites.isel(site=psite), rules)
