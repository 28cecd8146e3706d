"""Plots people look at: hindcast skill (matplotlib).

Figures are made with :class:`matplotlib.figure.Figure`, not pyplot, so writing a PNG
neither needs nor changes the backend (a notebook keeps its inline plots).
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure


def plot_hindcast(hc: xr.Dataset, path, n_probes: int = 4) -> None:
    """Root-zone tension at a few held-out probes (observed, open loop, assimilated) and
    the RMSE of both runs; written to ``path`` (PNG)."""
    tension = hc["rz_tension_obs_kpa"].notnull().sum("time") > 0
    probes = hc["sensor"].values[tension.values][:n_probes]
    fig = Figure(figsize=(10, 2.2 * (len(probes) + 1)), layout="constrained")
    axes = fig.subplots(len(probes) + 1, 1)
    axes = np.atleast_1d(axes)
    for ax, p in zip(axes, probes, strict=False):
        t = hc["time"].values
        ax.plot(t, hc["rz_tension_obs_kpa"].sel(sensor=p), "k.", ms=2, label="observed")
        for run, color in (("open_loop", "tab:orange"), ("assimilated", "tab:blue")):
            ax.plot(t, hc["tension_pred_kpa"].sel(run=run, sensor=p), color=color, lw=1,
                    label=f"{run.replace('_', ' ')} ({hc.attrs['lead_days']} d ahead)")
        ax.set_ylabel("kPa")
        ax.set_title(f"probe {p} (held out): root-zone tension", fontsize=9)
    axes[0].legend(fontsize=8, ncols=3)
    ax = axes[-1]
    runs = [str(r) for r in hc["run"].values]
    x = np.arange(len(runs))
    ax.bar(x - 0.2, hc["rmse_tension_kpa"].values, 0.4, label="channels")
    ax.bar(x + 0.2, hc["rmse_rz_tension_kpa"].values, 0.4, label="root zone")
    ax.set_xticks(x, [r.replace("_", " ") for r in runs])
    ax.set_ylabel("RMSE kPa")
    ax.legend(fontsize=8)
    ax.set_title("held-out probes, all days", fontsize=9)
    fig.savefig(path, dpi=110, format="png")
