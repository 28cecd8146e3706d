"""Benchmark: root-zone balance of 20,000 sites x 50 members x 14 days in one call.

Run: ``python benchmarks/soil_balance.py [--sites N] [--members M] [--days D]``.

Reports site-member-days per second of :func:`irrigation.soil.water_balance` (the numpy
kernel plus the residual), of the xarray wrapper :func:`irrigation.soil.simulate_sites`
(with K_L, p adjustment, pit caps, capillary rise; optionally θ and tension), and, on the
same kind of work, of two peers measured on a subsample and reported per site-member-day:

* a Python loop over sites calling the same balance one site-member at a time;
* pyfao56 (``pip install pyfao56``): one ``Model`` per site-member over 14 days
  (the 2013 cotton parameters and weather of ``tests/data/fao56``); pyfao56 also computes
  the dual crop coefficient, so it does somewhat more work per day.
"""

from __future__ import annotations

import argparse
import io
import time
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from irrigation.io.soil_tables import read_soil_textures, read_species
from irrigation.soil import water_balance

FAO = Path(__file__).parents[1] / "tests" / "data" / "fao56"


def inputs(ns: int, nm: int, nt: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    wet = rng.random((nt, 1, nm)) < 0.3
    return dict(
        dr0_mm=np.broadcast_to(rng.uniform(0, 30, (ns, 1)), (ns, nm)),
        taw_mm=rng.uniform(30, 150, (ns, 1)),
        p=0.5,
        etc_mm=rng.uniform(2, 6, (nt, 1, nm)),
        precip_mm=np.where(wet, rng.exponential(4, (nt, 1, nm)), 0.0),
        kc=rng.uniform(0.2, 1.0, (ns, 1)),
        infiltration=rng.choice([0.9, 0.8, 0.55, 0.2], (ns, 1)),
        cr_potential_mm=rng.uniform(0, 3, (ns, 1)),
    )


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def sites_dataset(ns: int, seed: int = 0) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    species = read_species()
    return xr.Dataset(
        {
            "kind": ("site", rng.choice(["young_tree", "street_tree", "lawn"], ns)),
            "species": ("site", rng.choice(list(species.index[:14]), ns)),
            "area_m2": ("site", rng.uniform(2, 10, ns)),
            "soil_texture": ("site", rng.choice(["loamy_sand", "sandy_loam", "loam"], ns)),
            "sealing": ("site", rng.choice(["open", "small_cobbles", "slabs", "asphalt"], ns)),
            "root_depth_m": ("site", rng.uniform(0.4, 1.0, ns)),
            "pit_capacity_l": ("site", np.where(rng.random(ns) < 0.5, 150.0, np.nan)),
        }
    )


def run_pyfao56(n_models: int, days: int) -> float:
    from pyfao56 import Model, Parameters, Weather

    par = Parameters()
    wth = Weather()
    with redirect_stdout(io.StringIO()):
        par.loadfile(str(FAO / "cotton2013.par"))
        wth.loadfile(str(FAO / "cotton2013.wth"))
    start, end = "2013-150", f"2013-{150 + days - 1:03d}"

    def work():
        for _ in range(n_models):
            with redirect_stdout(io.StringIO()):
                Model(start, end, par, wth).run()

    return best_of(work, repeat=1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", type=int, default=20_000)
    ap.add_argument("--members", type=int, default=50)
    ap.add_argument("--days", type=int, default=14)
    ap.add_argument("--peer-sample", type=int, default=200)
    args = ap.parse_args()
    ns, nm, nt = args.sites, args.members, args.days
    work = ns * nm * nt
    kw = inputs(ns, nm, nt)
    rows = []

    t = best_of(lambda: water_balance(**kw))
    rows.append(("water_balance (numpy kernel + residual)", t, work / t))

    sites = sites_dataset(ns)
    textures, species = read_soil_textures(), read_species()
    tcoord = pd.date_range("2024-07-01", periods=nt)
    et0 = xr.DataArray(kw["etc_mm"][:, 0, :], dims=("time", "member"), coords={"time": tcoord})
    rain = xr.DataArray(kw["precip_mm"][:, 0, :], dims=("time", "member"),
                        coords={"time": tcoord})
    dtw = xr.DataArray(np.random.default_rng(1).uniform(0.5, 4.0, ns), dims="site")
    from irrigation.soil import simulate_sites

    for derived in (False, True):
        t = best_of(lambda d=derived: simulate_sites(
            sites, et0, rain, textures=textures, species=species, depth_to_water_m=dtw,
            derived=d), repeat=2)
        rows.append((f"simulate_sites (xarray wrapper, theta/tension={derived})", t, work / t))

    k = args.peer_sample
    one = {key: (v[:, :1, :1] if np.ndim(v) == 3 else v) for key, v in inputs(k, 1, nt).items()}

    def loop():
        for i in range(k):
            water_balance(
                np.array(one["dr0_mm"][i, 0]), one["taw_mm"][i, 0], 0.5,
                one["etc_mm"][:, 0, 0], one["precip_mm"][:, 0, 0], kc=one["kc"][i, 0],
                infiltration=one["infiltration"][i, 0],
                cr_potential_mm=one["cr_potential_mm"][i, 0])

    t = best_of(loop, repeat=1)
    rows.append((f"Python loop over site-members ({k} sampled)", t * work / (k * nt), k * nt / t))
    try:
        n_models = 5
        t = run_pyfao56(n_models, nt)
        rows.append((f"pyfao56 Model per site-member ({n_models} sampled)",
                     t * work / (n_models * nt), n_models * nt / t))
    except ImportError:
        rows.append(("pyfao56 (not installed)", float("nan"), float("nan")))

    print(f"work: {ns} sites x {nm} members x {nt} days = {work:.3g} site-member-days")
    print(f"{'method':62s} {'time for the work [s]':>22s} {'site-member-days/s':>20s} "
          f"{'ratio':>8s}")
    ours = rows[0][2]
    for name, t, rate in rows:
        print(f"{name:62s} {t:22.3f} {rate:20.3g} {ours / rate:8.3g}")


if __name__ == "__main__":
    main()
