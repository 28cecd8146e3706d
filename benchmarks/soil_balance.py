"""Benchmark: root-zone balance of sites x members x days in one call, vs per-site peers.

Run: ``python benchmarks/soil_balance.py [--sites N] [--members M] [--days D]``, or as part
of the suite (``python -m benchmarks --only soil``).

Measures site-member-days per second of :func:`irrigation.soil.water_balance` (the numpy
kernel plus the residual) and of the xarray wrapper :func:`irrigation.soil.simulate_sites`
(with K_L, p adjustment, pit caps, capillary rise; optionally θ and tension), and, on the
same kind of work, two peers timed on a sample of site-members and scaled to the same
number of site-member-days:

* a Python loop over sites calling the same balance one site-member at a time;
* pyfao56 (``pip install pyfao56``): one ``Model`` per site-member over the same days
  (the 2013 cotton parameters and weather of ``tests/data/fao56``); pyfao56 also computes
  the dual crop coefficient, so it does somewhat more work per day.

Target (issue 10): >= 1e7 site-member-days/s per core. The numpy kernel runs on one thread,
so its throughput is per core.
"""

from __future__ import annotations

import argparse
import io
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from irrigation.io.soil_tables import read_soil_textures, read_species
from irrigation.soil import simulate_sites, water_balance

try:
    from .common import Result, check_size, measure
except ImportError:  # run as a script
    from common import Result, check_size, measure

FAO = Path(__file__).parents[1] / "tests" / "data" / "fao56"
TARGET = 1e7
"""Site-member-days per second per core (issue 10)."""

SIZES = {  # sites, members, days, Python-loop sample, pyfao56 sample
    "tiny": (1_000, 10, 14, 50, 2),
    "default": (20_000, 50, 14, 200, 5),
    "large": (30_000, 50, 14, 500, 10),
}
UNIT = "site-member-days/s"


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


def python_loop(k: int, nt: int) -> float:
    """Wall time [s] of ``k`` site-members over ``nt`` days, one ``water_balance`` call each."""
    one = {key: (v[:, :1, :1] if np.ndim(v) == 3 else v) for key, v in inputs(k, 1, nt).items()}

    def loop():
        for i in range(k):
            water_balance(
                np.array(one["dr0_mm"][i, 0]), one["taw_mm"][i, 0], 0.5,
                one["etc_mm"][:, 0, 0], one["precip_mm"][:, 0, 0], kc=one["kc"][i, 0],
                infiltration=one["infiltration"][i, 0],
                cr_potential_mm=one["cr_potential_mm"][i, 0])

    return measure(loop).wall_s


def pyfao56_models(n_models: int, days: int) -> float:
    """Wall time [s] of ``n_models`` pyfao56 runs over ``days`` days (ImportError if absent)."""
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

    return measure(work).wall_s


def _wrapper_rows(ns: int, nm: int, nt: int, kw: dict, params: str) -> list[Result]:
    sites = sites_dataset(ns)
    textures, species = read_soil_textures(), read_species()
    tcoord = pd.date_range("2024-07-01", periods=nt)
    et0 = xr.DataArray(kw["etc_mm"][:, 0, :], dims=("time", "member"), coords={"time": tcoord})
    rain = xr.DataArray(kw["precip_mm"][:, 0, :], dims=("time", "member"),
                        coords={"time": tcoord})
    dtw = xr.DataArray(np.random.default_rng(1).uniform(0.5, 4.0, ns), dims="site")
    rows = []
    for derived in (False, True):
        m = measure(lambda d=derived: simulate_sites(
            sites, et0, rain, textures=textures, species=species, depth_to_water_m=dtw,
            derived=d), repeat=2)
        rate = ns * nm * nt / m.wall_s
        rows.append(Result(
            f"soil balance: simulate_sites (xarray wrapper, θ/tension={derived})", params,
            m.wall_s, m.peak_rss_mb, rate, UNIT, peer="none",
            target=f">= {TARGET:.0e} {UNIT} per core", met=rate >= TARGET,
            notes="the wrapper the daily run calls; no peer"))
    return rows


def run(size: str = "default") -> list[Result]:
    """Kernel vs the Python loop and pyfao56, and the xarray wrapper, at ``size``."""
    return run_case(*SIZES[check_size(size)])


def run_case(ns: int, nm: int, nt: int, k_loop: int, k_fao: int) -> list[Result]:
    """``ns`` sites x ``nm`` members x ``nt`` days; peers on ``k_loop`` / ``k_fao`` samples."""
    work = ns * nm * nt
    params = f"{ns:,} sites x {nm} members x {nt} days"
    kw = inputs(ns, nm, nt)
    ours = measure(lambda: water_balance(**kw), repeat=3)
    rate = work / ours.wall_s
    target = f">= {TARGET:.0e} {UNIT} per core"

    def row(peer: str, t_sample: float | None, n_sample: int, note: str) -> Result:
        scaled = None if t_sample is None else t_sample * work / (n_sample * nt)
        measured = "" if t_sample is None else (
            f"peer timed on {n_sample} site-members ({t_sample:.3g} s) and scaled to the "
            f"same site-member-days; ")
        return Result("soil balance: water_balance (numpy kernel)", params, ours.wall_s,
                      ours.peak_rss_mb, rate, UNIT, peer=peer, peer_wall_s=scaled,
                      target=target, met=rate >= TARGET, notes=measured + note,
                      extra={"peer_sample_site_members": n_sample, "peer_sample_s": t_sample})

    rows = [row("Python loop over site-members (same balance)", python_loop(k_loop, nt),
                k_loop, "single thread")]
    try:
        rows.append(row("pyfao56 Model per site-member", pyfao56_models(k_fao, nt), k_fao,
                        "pyfao56 also computes the dual Kc, so it does more work per day"))
    except ImportError:
        rows.append(row("pyfao56 (not installed)", None, k_fao, ""))
    return rows + _wrapper_rows(ns, nm, nt, kw, params)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=list(SIZES), default="default")
    ap.add_argument("--sites", type=int)
    ap.add_argument("--members", type=int)
    ap.add_argument("--days", type=int)
    args = ap.parse_args()
    ns, nm, nt, k_loop, k_fao = SIZES[args.size]
    rows = run_case(args.sites or ns, args.members or nm, args.days or nt, k_loop, k_fao)
    print(f"{'measurement':62s} {'wall [s]':>9s} {UNIT:>20s} {'peer':>40s} {'peer [s]':>9s}"
          f" {'speed-up':>9s}")
    for r in rows:
        peer = r.peer or ""
        print(f"{r.name:62s} {r.wall_s:9.3f} {r.throughput:20.3g} {peer[:40]:>40s} "
              f"{r.peer_wall_s or float('nan'):9.3g} {r.ratio or float('nan'):9.3g}")


if __name__ == "__main__":
    main()
