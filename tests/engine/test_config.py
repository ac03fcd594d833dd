"""SimConfig: ranges the web app also relies on, from_options coercion, JSON round trip."""
from __future__ import annotations

import json

import pytest

from engine.errors import ConfigError
from engine.simulation.simulator import SimConfig, parse_lead_time_dist


def test_defaults_as_the_original_app():
    c = SimConfig().validate()
    assert (c.days, c.lead_time, c.holding_rate, c.noise, c.backorders) == (90, 7, 0.25, 0.1, False)
    assert c.policy == "order-up-to" and c.demand == "replay"


@pytest.mark.parametrize("field,value,message", [
    ("days", 0, "days = 0 is out of range [1, 3650]"),
    ("days", 3651, "days = 3651 is out of range [1, 3650]"),
    ("days", 2.5, "days must be a whole number, got 2.5"),
    ("lead_time", -1, "lead_time = -1 is out of range [0, 60]"),
    ("lead_time", 61, "lead_time = 61 is out of range [0, 60]"),
    ("holding_rate", 0.0, "holding_rate = 0.0 is out of range (0, 5]"),
    ("holding_rate", 5.5, "holding_rate = 5.5 is out of range (0, 5]"),
    ("noise", -0.1, "noise = -0.1 is out of range [0, 5]"),
    ("noise", float("nan"), "noise = nan is out of range [0, 5]"),
    ("replications", 100001, "replications = 100001 is out of range [1, 100000]"),
    ("unit_cost", 0.0, "unit_cost = 0.0 is out of range (0, 1e+09]"),
    ("initial_inventory", -5.0, "initial_inventory = -5.0 is out of range [0, 1e+12]"),
    ("policy", "magic", "unknown policy 'magic'"),
    ("demand", "psychic", "unknown demand mode 'psychic'; choose one of: replay, synthetic, forecast-noise"),
    ("seed", True, "seed must be a whole number, got True"),
])
def test_out_of_range_values_name_field_and_value(field, value, message):
    with pytest.raises(ConfigError) as e:
        SimConfig(**{field: value}).validate()
    assert message in str(e.value)
    assert e.value.field == field


def test_from_options_long_names_and_text_values():
    c = SimConfig.from_options({"lead_time": "14", "policy": "s-S", "lost_sales": False, "backorders": True,
                                "s": "20", "S": 80, "days": 30, "holding_rate": "0.3",
                                "lead_time_dist": "uniform:5:9", "allow_crossing": "true", "ledger": None,
                                "json": True})
    assert c.lead_time == 14 and c.backorders is True and c.policy_params == {"s": 20.0, "S": 80}
    assert c.holding_rate == 0.3 and c.lead_time_dist == {"kind": "uniform", "low": 5, "high": 9}
    assert c.allow_crossing is True
    c = SimConfig.from_options({"policy": "order-up-to", "service_level": 0.95, "lost_sales": True})
    assert c.backorders is False and c.policy_params == {"service_level": 0.95}


@pytest.mark.parametrize("options,message", [
    ({"colour": "red"}, "unknown option 'colour'"),
    ({"days": "ten"}, "days must be a number, got 'ten'"),
    ({"days": "10.5"}, "days must be a whole number"),
    ({"lead_time": 99}, "lead_time = 99 is out of range"),
    ({"lost_sales": True, "backorders": True}, "choose either lost sales or backorders"),
    ({"policy": "order-up-to", "Q": 5}, "policy order-up-to does not take Q"),
    ({"service_level": 1.0}, "service_level = 1.0 is out of range"),
    ({"lead_time_dist": "gamma:3"}, "is not 'uniform:LOW:HIGH' or 'poisson:MEAN'"),
    ({"lead_time_dist": "uniform:9:5"}, "uniform lead times need 0 <= low <= high <= 60"),
    ({"backorders": "maybe"}, "backorders must be true or false"),
])
def test_from_options_refuses_bad_input(options, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        SimConfig.from_options(options)


def test_json_round_trip():
    c = SimConfig.from_options({"policy": "r-Q", "r": 10, "Q": 5, "lead_time_dist": "poisson:6", "seed": 9})
    d = json.loads(json.dumps(c.to_dict()))
    assert SimConfig.from_dict(d) == c
    with pytest.raises(ConfigError, match="unknown setting"):
        SimConfig.from_dict({**d, "evil": 1})


def test_parse_lead_time_dist():
    assert parse_lead_time_dist("fixed") is None
    assert parse_lead_time_dist("poisson:7") == {"kind": "poisson", "mean": 7.0}
