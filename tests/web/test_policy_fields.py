"""The simulator page's policy fields follow the policy registry: the fields the page always had keep their ids,
a parameter no built-in policy has gets a field of its own, and its value reaches the engine."""
from __future__ import annotations

import pytest

from dashapp import engine_facade as E
from dashapp.ui.policy_fields import field_map, field_specs
from dashapp.ui.scenario_table import table_columns
from dashapp.ui.validation import DEFAULT_CONTROLS, InputError, clean_controls
from tests.policy_doubles import registered


@pytest.fixture
def capped():
    with registered() as cls:
        yield cls


def test_builtin_policies_fill_the_fields_the_page_always_had():
    assert list(field_specs())[:4] == ["service_level", "policy_level", "policy_s", "policy_q"]
    assert field_map("capped-base-stock") == {"policy_level": "S", "param_cap": "cap"}  # a plugin's own field
    assert field_map("s-S") == {"policy_s": "s", "policy_level": "S"}
    assert field_map("original") == {} and field_map("unknown") == {}


def test_a_new_parameter_gets_its_own_field_column_and_check(capped):
    assert field_specs()["param_daily_cap"] == ("daily_cap", 0.01, (1.0, 50.0))
    assert field_map("capped-test") == {"policy_level": "S", "param_daily_cap": "daily_cap"}
    assert "daily_cap" in [c["field"] for c in table_columns()]
    bounds = {k: b for k, (_l, _s, b) in field_specs().items()}
    raw = dict(DEFAULT_CONTROLS, forecaster="ma7", policy="capped-test", param_daily_cap=60)
    with pytest.raises(InputError, match=r"param daily cap: 60 is out of range \(1 to 50\)"):
        clean_controls(raw, {"ma7"}, E.policy_options(), bounds)
    controls = clean_controls(dict(raw, param_daily_cap=12, policy_level=30), {"ma7"}, E.policy_options(), bounds)
    assert E.sim_config(controls).policy_params == {"S": 30.0, "daily_cap": 12.0}


def test_scenario_messages_name_the_tables_columns_not_the_engines_ids():
    from dashapp.ui.scenario_table import table_words
    assert table_words("scenario 'A': lead_time = 1000000000 is out of range [0, 60]") == \
        "scenario 'A': “Lead time” 1000000000 is out of range [0, 60]"
    assert table_words("scenario 'A': lead_time must be a number, got 'abc'") == \
        "scenario 'A': “Lead time” must be a number, got 'abc'"
    assert table_words("baseline must be a whole number, got 'nope'").startswith("“Baseline” must")
    # prose that happens to hold a column id is left alone
    assert table_words("scenario 'x': unknown forecaster 'abc'; needs 90 days") == \
        "scenario 'x': unknown forecaster 'abc'; needs 90 days"
