"""Routing the demo city's days: every plan passes the independent checker."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from routecheck import check_routes

from irrigation.io.city import load_city
from irrigation.routing import build_problem, solve

DEMO = Path(__file__).parents[2] / "models" / "demo-city"


@pytest.fixture(scope="module")
def city():
    if not (DEMO / "city.toml").is_file():
        pytest.skip("demo city not present")
    return load_city(DEMO)


def _day(city, n: int, litres: float, seed: int) -> pd.DataFrame:
    """``n`` young trees, a few with a morning window, urgency from priority."""
    rng = np.random.default_rng(seed)
    young = city.sites.where(city.sites.kind == "young_tree", drop=True)
    pick = np.sort(rng.choice(young.sizes["site"], n, replace=False))
    s = young.isel(site=pick)
    window = rng.random(n) < 0.1
    return pd.DataFrame({
        "site": s.site.values, "x": s.x.values, "y": s.y.values,
        "litres": np.full(n, litres), "urgency": 1.0 / s.priority.values,
        "tw_early_s": np.where(window, 7 * 3600.0, 0.0),
        "tw_late_s": np.where(window, 10 * 3600.0, np.inf),
    })  # fmt: skip


@pytest.mark.parametrize(
    ("n", "litres", "all_served"),
    [(60, 150.0, True), (150, 100.0, True), (400, 200.0, False)],
    ids=["quiet-day", "busy-day", "drought-day-over-capacity"],
)
def test_demo_days_pass_the_checker(city, n, litres, all_served):
    visits = _day(city, n, litres, seed=n)
    problem = build_problem(visits, city.refill_points, city.config.fleet, city.streets,
                            city.config.network.detour_factor, city.config.routing)  # fmt: skip
    sol = solve(problem, time_limit_s=2.0, seed=city.config.run.seed)
    assert sol.feasible
    assert check_routes(problem, sol.stops) == []
    assert (len(sol.unserved) == 0) == all_served
    served = sol.stops[sol.stops.kind == "visit"]
    assert served.litres.sum() + problem.delivery_l[sol.unserved].sum() == pytest.approx(
        visits.litres.sum()
    )
