"""Drought scenarios for planners: scenario files, the closed-loop season, results.

- :mod:`~irrigation.scenario.schema`: the scenario file (``scenarios/<name>.toml``) as
  frozen dataclasses;
- :mod:`~irrigation.scenario.load`: reading and checking a scenario file;
- :mod:`~irrigation.scenario.perturb`: the weather perturbations;
- :mod:`~irrigation.scenario.policies`: the watering policies compared (a small
  :class:`~irrigation.scenario.policies.Planner` protocol);
- :mod:`~irrigation.scenario.season`: one closed-loop season of one policy in one member's
  truth world;
- :mod:`~irrigation.scenario.run`: all policies x members of a scenario, fanned out over
  dask, assembled into one :class:`xarray.Dataset`;
- :mod:`~irrigation.scenario.results`: the summary table, plots and report.
"""

from .load import load_scenario as load_scenario
from .load import read_base_weather as read_base_weather
from .load import scenario_to_toml as scenario_to_toml
from .perturb import TEMPERATURES as TEMPERATURES
from .perturb import perturb_weather as perturb_weather
from .perturb import scenario_weather as scenario_weather
from .policies import Morning as Morning
from .policies import Planner as Planner
from .results import costs as costs
from .results import front as front
from .results import front_sentence as front_sentence
from .results import interval_text as interval_text
from .results import members_needed as members_needed
from .results import outcomes as outcomes
from .results import paired as paired
from .results import plot_critical_sites as plot_critical_sites
from .results import plot_cumulative_water as plot_cumulative_water
from .results import plot_front as plot_front
from .results import plot_groundwater_head as plot_groundwater_head
from .results import plot_stress_map as plot_stress_map
from .results import summary as summary
from .results import write_results as write_results
from .run import run_scenario as run_scenario
from .schema import LOOKALIKE_ATTRIBUTES as LOOKALIKE_ATTRIBUTES
from .schema import POLICIES as POLICIES
from .schema import BaseWeather as BaseWeather
from .schema import DrySpell as DrySpell
from .schema import FixedIntervalPolicy as FixedIntervalPolicy
from .schema import FleetChange as FleetChange
from .schema import ForecastPolicy as ForecastPolicy
from .schema import ForecastQuality as ForecastQuality
from .schema import GroundwaterChange as GroundwaterChange
from .schema import HeatWave as HeatWave
from .schema import NoWatering as NoWatering
from .schema import Perturbation as Perturbation
from .schema import Policy as Policy
from .schema import Scenario as Scenario
from .schema import Season as Season
from .schema import SeasonRouting as SeasonRouting
from .schema import SensorThresholdPolicy as SensorThresholdPolicy
from .schema import VehicleCountChange as VehicleCountChange
from .schema import WaterBudget as WaterBudget
from .schema import apply_fleet_change as apply_fleet_change
from .season import simulate_season as simulate_season
