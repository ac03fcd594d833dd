"""The one definition of a run's fill rate and cycle service level (engine.simulation.metrics), which the KPIs, the
portfolio, the replays of real days and the simulator's cards all read."""
from __future__ import annotations

import math

import numpy as np

from engine.simulation.metrics import cycle_service_level, fill_rate, kpis_from_totals
from engine.studies.history_replay import replayed_fields


def _totals(demand, fulfilled, cycles, short):
    z = np.zeros(len(demand))
    return {"holding": z + 1.0, "stockout": z + 2.0, "ordering": z + 0.5, "demand": np.array(demand, float),
            "fulfilled": np.array(fulfilled, float), "unmet": np.array(demand, float) - np.array(fulfilled, float),
            "stockout_days": z, "orders": z + 1.0, "on_hand": z + 30.0, "shipped": np.array(fulfilled, float),
            "cycles": np.array(cycles, float), "cycles_with_stockout": np.array(short, float)}


def test_fill_rate_is_units_served_over_units_demanded_and_says_what_it_is_without_demand():
    tot = _totals([10, 0, 4], [9, 0, 4], [3, 1, 0], [1, 0, 0])
    assert fill_rate(tot).tolist() == [0.9, 1.0, 1.0]
    got = fill_rate(tot, np.nan)
    assert got[0] == 0.9 and math.isnan(got[1]) and got[2] == 1.0
    csl = cycle_service_level(tot, np.nan)
    assert csl[0] == 1 - 1 / 3 and csl[1] == 1.0 and math.isnan(csl[2])
    kpi = kpis_from_totals(tot, 10)
    assert kpi["fill_rate"].tolist() == fill_rate(tot).tolist()
    assert kpi["cycle_service_level"].tolist() == cycle_service_level(tot).tolist()


def test_scalar_totals_give_scalar_figures():
    one = {k: float(v[0]) for k, v in _totals([8], [6], [2], [1]).items()}
    assert float(fill_rate(one)) == 0.75 and float(cycle_service_level(one)) == 0.5


def test_a_replayed_row_without_demand_has_no_fill_rate_and_its_cost_is_the_kernels_total():
    real = _totals([10, 0], [9, 0], [2, 1], [1, 0])
    base = {"totals": _totals([10, 0], [10, 0], [1, 1], [0, 0]), "k": np.array([1.0, 2.0])}
    row = replayed_fields(real, base, 1, 10)
    assert row["realised_fill_rate"] is None and row["baseline_fill_rate"] is None
    assert row["realised_cost"] == 3.5 and row["realised_average_on_hand"] == 3.0
    first = replayed_fields(real, base, 0, 10)
    assert first["realised_fill_rate"] == 0.9 and first["realised_cycle_service_level"] == 0.5
    assert first["baseline_fill_rate"] == 1.0 and first["baseline_days_of_cover_k"] == 1.0
