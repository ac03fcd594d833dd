"""The one cost note every page shows (dashapp.ui.recommendation.cost_note): which number is assumed and where
to set it, "from the file" otherwise; /scenarios' note per group of scenarios that ran on the same costs."""
from __future__ import annotations

from dashapp.pages.scenarios.results import _cost_notes
from dashapp.ui.recommendation import cost_note, is_assumed

BASE = {"h": 0.0137, "p": 20.0, "unit_cost": 20.0, "unit_price": 40.0}


def test_an_assumed_cost_says_so_and_names_the_field():
    note = cost_note({**BASE, "source": "assumed"}, "Unit cost under Supply & costs")
    assert note.startswith("Unit cost 20 and price 40 assumed")
    assert note.endswith("edit Unit cost under Supply & costs.")


def test_a_price_from_the_file_with_an_assumed_cost_names_only_the_cost_as_assumed():
    costs = {**BASE, "unit_price": 1.68, "unit_cost": 0.84, "source": "file",
             "sources": {"unit_cost": "assumed", "unit_price": "file"}}
    note = cost_note(costs)
    assert note.startswith("Price 1.68 from the file, unit cost 0.84 assumed at 20/40 of the unit price")
    assert is_assumed(costs)


def test_file_costs_say_from_the_file_and_assume_nothing():
    costs = {**BASE, "source": "file", "sources": {"unit_cost": "file", "unit_price": "file"}}
    assert cost_note(costs, "x").startswith("Costs from the file (unit cost 20, price 40")
    assert not is_assumed(costs)


def test_scenarios_note_groups_scenarios_by_their_costs():
    file_costs = {**BASE, "source": "file", "sources": {"unit_cost": "file", "unit_price": "file"}}
    entered = {**BASE, "unit_cost": 5.0, "source": "entered", "sources": {"unit_cost": "entered",
                                                                           "unit_price": "file"}}
    result = {"scenarios": [{"name": "A", "info": {"costs": file_costs}}, {"name": "B", "info": {"costs": file_costs}},
                            {"name": "C", "info": {"costs": entered}}]}
    lines = [c.children for c in _cost_notes(result).children]
    assert lines[0].startswith("A, B: Costs from the file") and lines[1].startswith("C: Unit cost 5 as entered")
    assert _cost_notes({"scenarios": [{"name": "A", "info": {}}]}) is None  # a stored result without costs


def test_a_recommendation_with_a_caveat_shows_it_as_a_caution():
    from dashapp.ui.recommendation import recommendation_view
    rec = {"series": "A", "policy": "order-up-to", "params": {"order_up_to": 40.0, "forecaster": "ma7",
           "protection_days": 8, "relative_error_quantile": 0.2, "daily_forecast": 4.0, "safety_stock": 8.0},
           "lead_time": 7, "expected_cost": 10.0, "expected_cost_ci": [10.0, 10.0], "fill_rate": 0.95,
           "cycle_service_level": 0.9, "average_on_hand": 12.0, "order_rules": None,
           "objective": {"meaning": "least expected cost"}, "evaluation": {"paths": 4, "days": 30},
           "costs": {"source": "file", "h": 0.01, "p": 20.0, "unit_cost": 20.0, "unit_price": 40.0},
           "caveat": "based on 1 day of history, fewer than the 36 that check a forecast"}
    assert "Caution: based on 1 day of history" in str(recommendation_view(rec, "r"))
    assert "Caution" not in str(recommendation_view({**rec, "caveat": None}, "r"))
