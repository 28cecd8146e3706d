"""irrigation — daily watering plans for a city's young trees, lawns and shrub beds.

The public API; everything else is private to its module. The steps of a planning day are
in :mod:`irrigation.day` (re-exported here); :func:`run_day` composes them with reading and
writing.
"""

from .city import City as City
from .config import CityConfig as CityConfig
from .config import load_city_config as load_city_config
from .day import DayRun as DayRun
from .day import PlanningModel as PlanningModel
from .day import SoilState as SoilState
from .day import advance as advance
from .day import assimilate as assimilate
from .day import continue_state as continue_state
from .day import decide_day as decide_day
from .day import forecast as forecast
from .day import forecast_ensemble as forecast_ensemble
from .day import forecast_percolation as forecast_percolation
from .day import groundwater_step as groundwater_step
from .day import morning_heads as morning_heads
from .day import observe as observe
from .day import route_day as route_day
from .day import steady_heads as steady_heads
from .day import steady_state as steady_state
from .decide import DecideRules as DecideRules
from .decide import demand as demand
from .decide import fixed_system_plan as fixed_system_plan
from .decide import fixed_system_sites as fixed_system_sites
from .decide import threshold_mm as threshold_mm
from .decide import todays_candidates as todays_candidates
from .errors import ConvergenceError as ConvergenceError
from .errors import InputError as InputError
from .errors import IrrigationError as IrrigationError
from .errors import ModelError as ModelError
from .groundwater.assumed import AssumedWaterTable as AssumedWaterTable
from .groundwater.backend import solve_simulation as solve_simulation
from .groundwater.forecast import depth_to_water as depth_to_water
from .groundwater.forecast import run_forecast as run_forecast
from .groundwater.load import load_simulation as load_simulation
from .hindcast import sensor_hindcast as sensor_hindcast
from .io.cadastre import read_tree_cadastre as read_tree_cadastre
from .io.city import demo_city as demo_city
from .io.city import load_city as load_city
from .io.city import load_groundwater as load_groundwater
from .io.cityinit import InitSpec as InitSpec
from .io.cityinit import init_city as init_city
from .io.dwd import read_dwd_daily as read_dwd_daily
from .io.grids import read_ascii_grid as read_ascii_grid
from .io.mapping import load_mapping as load_mapping
from .io.osm import read_osm as read_osm
from .io.osm import read_osm_refill_points as read_osm_refill_points
from .io.refill import read_refill_point_file as read_refill_point_file
from .io.sensors import read_sensor_data as read_sensor_data
from .io.sensors import read_sensorthings as read_sensorthings
from .io.species import merge_species_tables as merge_species_tables
from .io.species import read_species_table as read_species_table
from .io.weather import read_mosmix as read_mosmix
from .io.weather import read_open_meteo as read_open_meteo
from .io.weather import read_open_meteo_archive as read_open_meteo_archive
from .io.weather import read_weather_file as read_weather_file
from .io.weather import read_weather_period as read_weather_period
from .landscape import LandscapeParams as LandscapeParams
from .landscape import landscape_coefficient as landscape_coefficient
from .pipeline import read_inputs as read_inputs
from .pipeline import run_day as run_day
from .placement import placement_problems as placement_problems
from .plan import Plan as Plan
from .plan import make_plan as make_plan
from .plan import write_plan as write_plan
from .routing import RoutingProblem as RoutingProblem
from .routing import RoutingSolution as RoutingSolution
from .routing import VehicleType as VehicleType
from .routing import build_problem as build_problem
from .soil import SoilParams as SoilParams
from .soil import simulate_sites as simulate_sites
from .soil import water_balance as water_balance
from .streets import StreetNetwork as StreetNetwork
from .weather import complete_weather as complete_weather
from .weather import ensemble_from_deterministic as ensemble_from_deterministic
from .weather import et0 as et0

__version__ = "0.1.0"
