"""``irrigation groundwater solve``: run an MF6 folder as it is, write heads and budget."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import xarray as xr

from .backend import Backend, solve_simulation
from .output import budget_table, heads_dataset, write_budget_csv, write_heads_netcdf


@dataclass(frozen=True)
class SolveOutput:
    """What :func:`solve_to_files` wrote."""

    heads_path: Path
    budget_path: Path
    heads: xr.Dataset
    budget: pd.DataFrame

    def summary_lines(self) -> list[str]:
        """A short human-readable summary (for the CLI)."""
        h = self.heads["head"]
        return [
            f"heads: {self.heads_path} ({h.sizes['time']} times, "
            f"{h.sizes['layer']} x {h.sizes['row']} x {h.sizes['col']} cells, "
            f"{float(h.min()):.3f} to {float(h.max()):.3f} m)",
            f"budget: {self.budget_path} ({len(self.budget)} rows)",
        ]


def solve_to_files(sim_dir: str | Path, out: str | Path, *, backend: Backend = "auto",
                   budget_csv: str | Path | None = None,
                   mf6_exe: str | Path | None = None) -> SolveOutput:
    """Solve ``sim_dir`` and write all heads (NetCDF) and the budget (CSV).

    Parameters
    ----------
    sim_dir
        MF6 simulation folder.
    out
        NetCDF file of the heads.
    backend
        ``"auto"``, ``"embedded"`` or ``"mf6"``.
    budget_csv
        CSV of the volumetric budget per package and step (in/out, m3 d-1); default
        ``out`` with suffix ``.budget.csv``.
    mf6_exe
        Explicit mf6 executable.
    """
    model, result = solve_simulation(sim_dir, backend=backend, mf6_exe=mf6_exe)
    ds = heads_dataset(model, result)
    df = budget_table(result)
    out = Path(out)
    budget_path = Path(budget_csv) if budget_csv else out.with_suffix(".budget.csv")
    write_heads_netcdf(ds, out)
    write_budget_csv(df, budget_path)
    return SolveOutput(out, budget_path, ds, df)
