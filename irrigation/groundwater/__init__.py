"""MODFLOW 6 groundwater models: build with flopy, solve with ``mf6`` or the embedded solver.

Public API::

    load_simulation(sim_dir) -> GwfModel          # any MF6 GWF folder (structured DIS)
    solve_simulation(sim_dir, backend=...)        # -> (GwfModel, SolveResult)
    run_forecast(model, heads, recharge_mm_d=..., wells=..., days=...) -> xr.Dataset
    depth_to_water(heads_ds, x, y, ...) -> xr.DataArray (time, site)
"""

from .backend import choose_backend as choose_backend
from .backend import solve_model as solve_model
from .backend import solve_simulation as solve_simulation
from .embedded import simulate as simulate
from .forecast import depth_to_water as depth_to_water
from .forecast import forecast_model as forecast_model
from .forecast import run_forecast as run_forecast
from .load import load_simulation as load_simulation
from .load import model_from_spec as model_from_spec
from .model import GwfModel as GwfModel
from .model import Package as Package
from .output import budget_table as budget_table
from .output import heads_dataset as heads_dataset
from .result import SolveResult as SolveResult
from .solve import solve_to_files as solve_to_files
