"""irrigation — daily watering plans for a city's young trees, lawns and shrub beds.

The public API; everything else is private to its module.
"""

from .city import City as City
from .city import StreetNetwork as StreetNetwork
from .city import load_city as load_city
from .config import CityConfig as CityConfig
from .config import DecideRules as DecideRules
from .config import VehicleType as VehicleType
from .config import load_city_config as load_city_config
from .decide import demand as demand
from .decide import schedule as schedule
from .decide import threshold_mm as threshold_mm
from .errors import ConvergenceError as ConvergenceError
from .errors import InputError as InputError
from .errors import IrrigationError as IrrigationError
from .errors import ModelError as ModelError
from .groundwater.backend import solve_simulation as solve_simulation
from .groundwater.forecast import depth_to_water as depth_to_water
from .groundwater.forecast import run_forecast as run_forecast
from .groundwater.load import load_simulation as load_simulation
from .landscape import LandscapeParams as LandscapeParams
from .landscape import landscape_coefficient as landscape_coefficient
from .pipeline import DayRun as DayRun
from .pipeline import run_day as run_day
from .plan import Plan as Plan
from .plan import make_plan as make_plan
from .plan import write_plan as write_plan
from .routing import RoutingProblem as RoutingProblem
from .routing import RoutingSolution as RoutingSolution
from .routing import build_problem as build_problem
from .soil import SoilParams as SoilParams
from .soil import simulate_sites as simulate_sites
from .soil import water_balance as water_balance
from .weather import complete_weather as complete_weather
from .weather import ensemble_from_deterministic as ensemble_from_deterministic
from .weather import et0 as et0

__version__ = "0.1.0"
