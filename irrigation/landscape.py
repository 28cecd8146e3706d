"""Site water use: the landscape coefficient K_L and landscape ET.

``ET_L = K_L · ET0`` with ``K_L = k_species · k_density · k_microclimate`` (Costello,
Matheny & Clark 2000; Costello & Jones 2014, WUCOLS IV). ``k_species`` comes from the species
table (WUCOLS class midpoints; cool-season turf uses the FAO-56 Table 12 crop coefficient
0.95), ``k_density`` from the planting kind and ``k_microclimate`` from the sealing around
the site (WUCOLS: "high" microclimate 1.1-1.4 for plantings surrounded by heat-absorbing
pavement, "average" 1.0 for open ground).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from .errors import InputError


@dataclass(frozen=True)
class LandscapeParams:
    """Density and microclimate factors of the landscape coefficient.

    Attributes
    ----------
    k_density_young_tree, k_density_street_tree, k_density_park_tree, k_density_lawn, \
k_density_shrub_bed
        Density factor per kind [-] (WUCOLS: low 0.5-0.9, average 1.0, high 1.1-1.3). A young
        tree's small canopy over its pit is "low" (0.8); lawns and beds are "average".
    k_micro_open, k_micro_small_cobbles, k_micro_slabs, k_micro_asphalt
        Microclimate factor per sealing class [-] (WUCOLS: average 1.0, high 1.1-1.4 next to
        paved, heat-reflecting surfaces).
    """

    k_density_young_tree: float = 0.8
    k_density_street_tree: float = 1.0
    k_density_park_tree: float = 1.0
    k_density_lawn: float = 1.0
    k_density_shrub_bed: float = 1.0
    k_micro_open: float = 1.0
    k_micro_small_cobbles: float = 1.1
    k_micro_slabs: float = 1.2
    k_micro_asphalt: float = 1.3

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not 0.3 <= value <= 1.5:
                raise ValueError(f"Expected {name} in [0.3, 1.5], got {value}.")


def per_class(values, params, prefix: str, field: str) -> np.ndarray:
    """The parameter ``prefix + class`` of each element of ``values`` (e.g. ``k_micro_slabs``).

    One vectorised lookup over all sites; the classes are the fields of the frozen
    dataclass ``params`` whose names start with ``prefix``. An unknown class raises an
    :class:`~irrigation.errors.InputError` naming ``field``.
    """
    table = {k.removeprefix(prefix): v for k, v in vars(params).items() if k.startswith(prefix)}
    names = np.asarray(values, dtype=str)
    idx = pd.Index(list(table)).get_indexer(names.ravel())
    if (idx < 0).any():
        bad = sorted(set(names.ravel()[idx < 0].tolist()))[0]
        raise InputError(f"expected one of {', '.join(table)}, got {bad!r}", field=field)
    return np.array(list(table.values()), dtype=float)[idx].reshape(names.shape)


def landscape_coefficient(
    sites: xr.Dataset, species: pd.DataFrame, params: LandscapeParams | None = None
) -> xr.DataArray:
    """K_L per site [-] from ``kind``, ``species`` and ``sealing`` of a sites dataset.

    Parameters
    ----------
    sites
        Sites over dim ``site`` with ``kind``, ``species`` and ``sealing`` (city model).
    species
        Species table indexed by species (:func:`irrigation.io.soil_tables.read_species`).
    params
        Density and microclimate factors.

    Notes
    -----
    ``K_L = k_species · k_density · k_microclimate`` (Costello, Matheny & Clark 2000;
    WUCOLS IV, Costello & Jones 2014).
    """
    params = params or LandscapeParams()
    names = sites["species"].values.astype(str)
    unknown = sorted(set(names) - set(species.index))
    if unknown:
        raise InputError(f"species {unknown[0]!r} not in the species table; add a row",
                         field="species")
    k_species = species.loc[names, "k_species"].to_numpy(dtype=float)
    k_density = per_class(sites["kind"].values, params, "k_density_", "kind")
    k_micro = per_class(sites["sealing"].values, params, "k_micro_", "sealing")
    return xr.DataArray(k_species * k_density * k_micro, dims=("site",),
                        coords={"site": sites["site"]} if "site" in sites.coords else None,
                        name="k_l", attrs={"units": "1", "long_name": "landscape coefficient"})
