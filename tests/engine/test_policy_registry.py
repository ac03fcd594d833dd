"""One declaration per policy parameter: the CLI options, SimConfig's validation and the scenario table's rows
all follow what a policy class declares — including a policy registered by another module with plain names."""
from __future__ import annotations

import pytest

from engine.cli.main import build_parser
from engine.errors import ConfigError
from engine.policies.base import Param, all_params, policy_label, policy_params
from engine.simulation.simulator import SimConfig
from engine.studies.scenarios import rows_to_set
from tests.policy_doubles import registered


@pytest.fixture
def capped():
    with registered() as cls:
        yield cls


def test_builtin_policies_declare_their_parameters_once():
    assert [p.name for p in policy_params("s-S")] == ["s", "S"]
    sl = all_params()["service_level"]
    assert sl.exclusive and sl.bounds == (0.0, 1.0) and sl.flag == "--service-level"
    assert policy_label("order-up-to") == "Order-up-to S = μ + zσ"
    with pytest.raises(ConfigError, match="unknown policy"):
        policy_params("nope")


def test_plain_names_get_the_default_spec_and_the_declared_bounds(capped):
    specs = {p.name: p for p in policy_params("capped-test")}
    assert specs["daily_cap"] == Param("daily_cap", label="daily_cap", bounds=(1.0, 50.0))
    assert specs["S"].bounds == (0.0, 1e12)


def test_a_registered_policy_gets_cli_options_and_validation(capped):
    args = build_parser().parse_args(["simulate", "--policy", "capped-test", "--daily-cap", "7"])
    assert args.daily_cap == 7.0
    ok = SimConfig.from_dict({"policy": "capped-test", "policy_params": {"daily_cap": 7.0}})
    assert ok.policy_params == {"daily_cap": 7.0}
    with pytest.raises(ConfigError, match="daily_cap = 80.0 is out of range"):
        SimConfig.from_dict({"policy": "capped-test", "policy_params": {"daily_cap": 80.0}})
    with pytest.raises(ConfigError, match="does not take daily_cap"):
        SimConfig.from_dict({"policy": "r-Q", "policy_params": {"daily_cap": 7.0}})


def test_the_scenario_table_carries_only_the_chosen_policys_parameters(capped):
    rows = [{"name": "a", "policy": "capped-test", "daily_cap": 9, "r": 3, "demand": "synthetic"},
            {"name": "b", "policy": "r-Q", "daily_cap": 9, "r": 3, "demand": "synthetic"}]
    sset = rows_to_set(rows, replications=2, days=10, seed=1)
    a, b = sset["scenarios"]
    assert a.get("daily_cap") == 9 and "r" not in a
    assert b.get("r") == 3 and "daily_cap" not in b
