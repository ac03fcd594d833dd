"""The recommendation's order-up-to rule runs in the simulator as stated: its forecaster and its fixed safety
quantile Q (OrderUpTo.safety_quantile) give the same day-1 level S as the recommendation's record, in the one-run
simulator and in the vectorised batch alike, and a run with Q fixed never reads its own errors for the level."""
from __future__ import annotations

import numpy as np
import pytest

from engine.data.dataset import load_csv
from engine.errors import ConfigError
from engine.simulation.batch import run_batch
from engine.simulation.simulator import SimConfig, Simulator
from engine.studies.portfolio import PortfolioSettings, run_chunk
from tests.engine.conftest import REPO

SAMPLE = REPO / "data" / "sample.csv"


@pytest.fixture(scope="module")
def stated():
    series = load_csv(SAMPLE).get("SKU_1/WH_2")
    record = run_chunk([series], PortfolioSettings(lead_time=5, days=40, replications=6, seed=3).validate())[0]
    assert record["policy"] == "order-up-to"
    config = SimConfig(data=str(SAMPLE), series=series.key, forecaster=record["forecaster"], lead_time=5,
                       demand="synthetic", days=12, seed=3, policy="order-up-to",
                       policy_params={"safety_quantile": record["relative_error_quantile"]}).validate()
    return series, record, config


def test_the_simulator_s_first_level_is_the_recommendation_s(stated):
    series, record, config = stated
    sim = Simulator(config, series)
    sim.step()
    row = sim.ledger[0]
    assert row["quantile_method"] == "fixed"
    assert row["order_up_to"] == pytest.approx(record["order_up_to"], rel=1e-9)
    assert row["mu"] == pytest.approx(record["protection_demand"], rel=1e-9)
    described = sim.policy.describe()
    assert described["safety_quantile"] == pytest.approx(record["relative_error_quantile"])
    assert described["level_source"] == "fixed safety quantile Q" and not sim.policy.takes_lost_sales_level


def test_the_batch_runs_the_same_stated_rule(stated):
    series, record, config = stated
    sim = Simulator(config, series)
    while sim.day < config.days:
        sim.step()
    batch = run_batch(config, series, replications=1, keep_ledgers=1).ledger(0)
    assert [r["quantile_method"] for r in batch] == ["fixed"] * config.days
    assert np.allclose([r["order_up_to"] for r in batch], [r["order_up_to"] for r in sim.ledger], rtol=1e-9)


def test_a_target_and_a_fixed_q_together_are_refused_by_name(stated):
    _, _, config = stated
    with pytest.raises(ConfigError, match="a service target or a safety quantile Q, not both"):
        Simulator(SimConfig.from_dict({**config.to_dict(), "policy_params": {"safety_quantile": 1.0,
                                                                              "service_level": 0.9}}),
                  load_csv(SAMPLE).get("SKU_1/WH_2"))


def test_both_rules_on_the_run_s_own_days_reproduce_the_animated_run():
    """The hint's like-for-like on the days the planner watched: the run's rule in the batch costs what the
    animated run cost (same path, same start), and the recommendation's stated rule is costed from that start."""
    from dataclasses import replace

    from engine.studies.recommend import both_on_the_run_s_days, recommend, settings_for, stated_rule

    series = load_csv(SAMPLE).get("SKU_1/WH_1")
    config = SimConfig(data=str(SAMPLE), series=series.key, forecaster="ma7", lead_time=4, demand="replay",
                       days=30, seed=2).validate()
    rec = recommend(series, settings_for(config, replications=6))
    both = both_on_the_run_s_days(config, series, rec)
    animated = Simulator(config, series)
    while animated.day < config.days:
        animated.step()
    assert both["yours"] == pytest.approx(animated.cumulative_cost, rel=1e-9)
    rule = stated_rule(rec)
    theirs = Simulator(replace(config, policy=rule["policy"], policy_params=rule["policy_params"],
                               forecaster=rule["forecaster"] or config.forecaster,
                               initial_inventory=both["start_on_hand"]).validate(), series)
    while theirs.day < config.days:
        theirs.step()
    assert both["recommended"] == pytest.approx(theirs.cumulative_cost, rel=1e-9)
    assert 0.0 <= both["recommended_fill"] <= 1.0 and both["days"] == 30


def test_an_s_s_recommendation_runs_as_s_s_eoq_with_its_q_and_lot():
    """With an order cost the recommendation may be (s, S) on the forecast; stated, it is s-S-eoq with the same Q
    and lot, and its day-1 s equals the record's."""
    from engine.studies.recommend import recommend, settings_for, stated_rule

    series = load_csv(SAMPLE).get("SKU_1/WH_3")
    config = SimConfig(data=str(SAMPLE), series=series.key, forecaster="ma7", lead_time=7, demand="synthetic",
                       days=5, seed=1, order_cost=25.0).validate()
    rec = recommend(series, settings_for(config, replications=6, days=60))
    assert rec["policy"] == "s-S"
    rule = stated_rule(rec)
    assert rule["policy"] == "s-S-eoq" and rule["policy_params"]["lot_size"] == rec["params"]["lot_size"]
    from dataclasses import replace
    sim = Simulator(replace(config, policy=rule["policy"], policy_params=rule["policy_params"],
                            forecaster=rule["forecaster"]).validate(), series)
    sim.step()
    assert sim.ledger[0]["quantile_method"] == "fixed"
    assert sim.ledger[0]["mu"] + sim.ledger[0]["safety_stock"] == pytest.approx(rec["params"]["reorder_point"],
                                                                                rel=1e-9)
