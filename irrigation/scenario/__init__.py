"""Drought scenarios for planners: scenario files, the closed-loop season, results.

- :mod:`~irrigation.scenario.schema`: the scenario file (``scenarios/<name>.toml``), its
  validation and the weather perturbations;
- :mod:`~irrigation.scenario.policies`: the watering policies compared (a small
  :class:`~irrigation.scenario.policies.Planner` protocol);
- :mod:`~irrigation.scenario.season`: one closed-loop season of one policy in one member's
  truth world;
- :mod:`~irrigation.scenario.run`: all policies x members of a scenario, fanned out over
  dask, assembled into one :class:`xarray.Dataset`;
- :mod:`~irrigation.scenario.results`: the summary table, plots and report.
"""

from .schema import (
    LOOKALIKE_ATTRIBUTES as LOOKALIKE_ATTRIBUTES,
    POLICIES as POLICIES,
    TEMPERATURES as TEMPERATURES,
    BaseWeather as BaseWeather,
    DrySpell as DrySpell,
    FixedIntervalPolicy as FixedIntervalPolicy,
    FleetChange as FleetChange,
    ForecastPolicy as ForecastPolicy,
    ForecastQuality as ForecastQuality,
    GroundwaterChange as GroundwaterChange,
    HeatWave as HeatWave,
    Perturbation as Perturbation,
    Policy as Policy,
    Scenario as Scenario,
    Season as Season,
    SeasonRouting as SeasonRouting,
    SensorThresholdPolicy as SensorThresholdPolicy,
    VehicleCountChange as VehicleCountChange,
    WaterBudget as WaterBudget,
    apply_fleet_change as apply_fleet_change,
    load_scenario as load_scenario,
    perturb_weather as perturb_weather,
    read_base_weather as read_base_weather,
    scenario_to_toml as scenario_to_toml,
    scenario_weather as scenario_weather,
)
from .policies import Morning as Morning
from .policies import Planner as Planner
from .results import stress_days as stress_days
from .results import summary as summary
from .results import write_results as write_results
from .run import run_scenario as run_scenario
from .season import simulate_season as simulate_season
