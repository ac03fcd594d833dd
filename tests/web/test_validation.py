"""What the simulator page's number fields accept and what the page says when they do not: the server's checks
(dashapp.ui.validation), the rules the page shows beside each field (dashapp.ui.field_rules), and engine messages put
into the page's words."""
from __future__ import annotations

import pytest

from dashapp.ui.field_rules import problem, range_text
from dashapp.ui.policy_fields import field_specs
from dashapp.ui.validation import DEFAULT_CONTROLS, InputError, clean_controls, page_words

FORECASTERS, POLICIES = {"ma7"}, {"order-up-to": "Order-up-to"}
BOUNDS = {key: spec[2] for key, spec in field_specs().items()}


def clean(**changes):
    return clean_controls(dict(DEFAULT_CONTROLS, **changes), FORECASTERS, POLICIES, BOUNDS)


@pytest.mark.parametrize("field, value, needle", [
    ("speed", 0.01, "speed: 0.01 is out of range (0.05 to 5)"),
    ("horizon", 1000, "horizon: 1000 is out of range (1 to 730)"),
    ("lead_time", 2.5, "lead time: 2.5 must be a whole number (0 to 60)"),
    ("speed", None, "speed: a value is required (a number from 0.05 to 5)"),
    ("lead_time", None, "lead time: a value is required (a whole number from 0 to 60)"),
])
def test_refusals_name_the_allowed_range(field, value, needle):
    with pytest.raises(InputError) as err:
        clean(**{field: value})
    assert str(err.value) == needle


@pytest.mark.parametrize("typed, used", [(95, 0.95), ("97.5", 0.975), (0.9, 0.9), (None, None), ("", None)])
def test_a_service_level_typed_as_a_percentage_is_read_as_a_fraction(typed, used):
    assert clean(service_level=typed)["service_level"] == pytest.approx(used) if used else \
        clean(service_level=typed)["service_level"] is None


@pytest.mark.parametrize("typed", [100, 40, 0.3, 150])
def test_a_service_level_outside_the_range_is_refused_with_both_forms(typed):
    with pytest.raises(InputError, match=r"service level: .* is out of range \(0.5 to 0.9999, or 50 to 99.99 as a "
                                         r"percentage\)"):
        clean(service_level=typed)


@pytest.mark.parametrize("key, value, verdict", [
    ("speed", 0.01, "allowed: 0.05 to 5 s per day"),
    ("speed", 0.3, None),
    ("horizon", 1000, "allowed: 1 to 730 days, whole number"),
    ("lead_time", 2.5, "a whole number: 0 to 60 days, whole number"),
    ("lead_time", None, "a value is required"),
    ("unit_cost", None, None),
    ("service_level", 95, None),
    ("service_level", 0.95, None),
    ("service_level", 0.3, "allowed: 0.5 to 0.9999 (or a percentage: 95 means 0.95)"),
])
def test_the_field_check_agrees_with_the_server(key, value, verdict):
    """problem() is what the page marks while typing; every value it accepts the server accepts too."""
    assert problem(key, value) == verdict
    if verdict is None:
        clean(**{key: value})
    else:
        with pytest.raises(InputError):
            clean(**{key: value})


def test_every_field_shows_its_range():
    assert range_text("horizon") == "1 to 730 days, whole number"
    assert range_text("speed") == "0.05 to 5 s per day"
    assert "95 means 0.95" in range_text("service_level")


def test_a_price_below_cost_is_said_in_the_page_s_words():
    engine = ("stockout cost p = unit price − unit cost = 5 − 8 = -3 is not positive; "
              "set --stockout-cost or a unit price above the unit cost")
    said = page_words(engine)
    assert "--" not in said
    assert said.startswith("the unit price (5) is not above the unit cost (8)")
    assert "“Stockout cost per unit”" in said


def test_cli_flags_become_field_labels():
    assert page_words("unit cost must be positive (got 0); set --unit-cost") == \
        "unit cost must be positive (got 0); enter “Unit cost”"
    assert page_words("series A/S1 has 20 rows: needs at least 118 (28 days of context); use --days 10 or fewer "
                      "or --demand synthetic").endswith("use “Horizon” 10 or fewer or “Demand mode” Synthetic "
                                                        "(generator)")


def test_the_simulator_layout_shows_each_number_field_s_range_and_no_html_bounds():
    """No min/max/step on the inputs (a browser would hand dash an empty value for a number outside them)."""
    from dashapp.pages.simulator.layout import simulator_layout

    found = {}

    def walk(node):
        if isinstance(node, (list, tuple)):
            for n in node:
                walk(n)
            return
        if not hasattr(node, "to_plotly_json"):
            return
        props = node.to_plotly_json()["props"]
        found[props.get("id")] = node
        walk(props.get("children"))

    walk(simulator_layout())
    for key in ("horizon", "lead_time", "speed", "service_level", "unit_cost"):
        fid = key.replace("_", "-")
        field = found[fid]
        assert getattr(field, "min", None) is None and getattr(field, "max", None) is None
        assert field.step == "any"
        assert found[f"{fid}-range"].children == range_text(key)


def test_the_objective_is_read_once_for_every_page_that_offers_it():
    """/optimum, /portfolio and /orders offer OBJECTIVE_OPTIONS and read the choice with objective_choice: the
    options are the engine's objectives, and anything else the browser sends is refused in the page's words."""
    from dashapp.ui.validation import OBJECTIVE_OPTIONS, objective_choice
    from engine.studies.recommendation import OBJECTIVES

    assert tuple(o["value"] for o in OBJECTIVE_OPTIONS) == OBJECTIVES
    assert [objective_choice(v) for v in OBJECTIVES] == list(OBJECTIVES)
    for bad in ("fastest", "", None, 3, ["cost"]):
        with pytest.raises(InputError) as err:
            objective_choice(bad)
        assert str(err.value).startswith("objective: choose least expected cost or least stock reaching the "
                                         "fill-rate target (got ")
