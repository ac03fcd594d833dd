"""Capped base-stock, projected inventory level and constant order as engine policies."""
from __future__ import annotations

import numpy as np
import pytest

from engine.exact.distributions import poisson
from engine.exact.model import LostSalesModel
from engine.exact.policies import pil_actions
from engine.policies.base import Observation, PolicySetup, make_policy, policy_names, policy_params
from engine.policies.lost_sales import project_on_hand
from engine.simulation.batch import run_batch
from engine.simulation.simulator import SimConfig, Simulator

NAMES = ("capped-base-stock", "projected-inventory-level", "constant-order")


def _setup(L=2, pmf=None):
    extra = {} if pmf is None else {"demand_pmf": pmf}
    return PolicySetup(h=1.0, p=9.0, lead_time=L, window=L + 1, sigma_window=4.0, sigma_one=2.2, mean_demand=5.0,
                       demand_std=2.2, extra=extra)


def _obs(on_hand, pipeline):
    o = Observation()
    o.on_hand, o.pipeline = on_hand, pipeline
    return o


def test_registered_with_params_and_bounds():
    names = policy_names()
    for n in NAMES:
        assert n in names
        pol = make_policy(n, _setup())
        assert all(p.label and p.help for p in policy_params(pol.name)) and pol.help and pol.label


def test_capped_base_stock_orders_the_gap_up_to_the_cap():
    pol = make_policy("capped-base-stock", _setup(), {"S": 20, "cap": 6})
    ip = np.array([25.0, 18.0, 10.0])
    qty, level = pol.decide(ip, _obs(ip, np.zeros((3, 2))))
    assert qty.tolist() == [0.0, 2.0, 6.0] and level.tolist() == [20.0] * 3
    assert pol.decide(19.0, _obs(19.0, np.zeros(2)))[0] == 1.0


def test_unknown_parameter_is_refused():
    from engine.errors import ConfigError

    with pytest.raises(ConfigError, match="does not take"):
        make_policy("constant-order", _setup(), {"S": 3})


def test_projection_by_hand_one_period():
    # lead time 1: E[(x − D)⁺] with D ~ Bernoulli-like pmf [0.5, 0.5]
    proj = project_on_hand(np.array([0, 1, 3]), np.zeros((3, 0)), [np.array([0.5, 0.5])])
    assert proj.tolist() == [0.0, 0.5, 2.5]
    # two periods with an arrival of 2 in between: x = 1 → (1 − D)⁺ + 2 → minus D again
    proj2 = project_on_hand(np.array([1]), np.array([[2]]), [np.array([0.5, 0.5])] * 2)
    assert proj2[0] == pytest.approx(0.5 * (3 - 0.5) + 0.5 * (2 - 0.5))


@pytest.mark.parametrize("L", [0, 1, 3])
def test_pil_engine_orders_equal_the_exact_model_orders(L):
    pmf = poisson(5.0).pmf
    model = LostSalesModel(L, 24, pmf, 1.0, 9.0)
    s = model.states().astype(np.float64)
    target = 7.3
    pol = make_policy("projected-inventory-level", _setup(L, pmf), {"target": target})
    # engine view of a model state: on-hand before today's arrival + pipeline (column 0 = today's arrival)
    if L == 0:
        obs = _obs(s[:, 0], np.zeros((len(s), 0)))
    else:
        obs = _obs(np.zeros(len(s)), s)
    qty, _ = pol.decide(s.sum(axis=1), obs)
    assert (qty == pil_actions(model, target)).all()


def test_constant_order_ignores_the_stock():
    pol = make_policy("constant-order", _setup(), {"order_qty": 4})
    qty, _ = pol.decide(np.array([0.0, 100.0]), _obs(np.zeros(2), np.zeros((2, 2))))
    assert qty.tolist() == [4.0, 4.0]


@pytest.mark.parametrize("name,params", [("capped-base-stock", {"S": 30, "cap": 9}),
                                         ("projected-inventory-level", {"target": 18}),
                                         ("constant-order", {"order_qty": 10})])
def test_batch_equals_the_single_runs(sample_series, name, params):
    cfg = SimConfig(policy=name, policy_params=params, days=40, lead_time=3, demand="synthetic", seed=5,
                    replications=3)
    batch = run_batch(cfg, sample_series, keep_ledgers=3)
    for r in range(3):
        single = Simulator(cfg, sample_series, replication=r).run()
        got = batch.ledger(r)
        for a, b in zip(single, got):
            assert a["order_qty"] == pytest.approx(b["order_qty"], abs=1e-9)
            assert a["daily_cost"] == pytest.approx(b["daily_cost"], abs=1e-9)


def test_simulator_passes_the_pipeline(sample_series):
    seen = []
    cfg = SimConfig(policy="capped-base-stock", policy_params={"S": 40, "cap": 7}, days=6, lead_time=3,
                    demand="synthetic", seed=1, initial_inventory=10.0)
    sim = Simulator(cfg, sample_series)
    decide = sim.policy.decide

    def spy(ip, obs):
        seen.append((obs.on_hand, np.array(obs.pipeline)))
        return decide(ip, obs)

    sim.policy.decide = spy
    rows = sim.run()
    # day 4 sees the day-1 order due today (column 0), the day-2 and day-3 orders in columns 1 and 2
    on_hand, pipe = seen[3]
    assert on_hand == rows[2]["on_hand"]
    assert pipe.tolist() == [rows[0]["order_qty"], rows[1]["order_qty"], rows[2]["order_qty"]]


def test_cli_simulate_takes_the_new_policies(capsys):
    import json

    from engine.cli.main import main

    for args in (["--policy", "capped-base-stock", "--S", "60", "--cap", "25"],
                 ["--policy", "projected-inventory-level", "--target", "40"],
                 ["--policy", "constant-order", "--order-qty", "20"]):
        assert main(["simulate", *args, "--lead-time", "3", "--days", "20", "--forecaster", "ma7", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["days"] == 20
    assert main(["simulate", "--policy", "constant-order", "--order-qty", "-3"]) == 2
    assert "--order-qty -3.0 is out of range" in capsys.readouterr().err


def test_projection_with_many_stock_levels_matches_a_direct_sum():
    # more than 96 stock levels takes the FFT path; compare with the double sum over two periods of demand
    pmf = poisson(21.0).pmf
    d = np.arange(len(pmf))
    x, q = 130, 7
    direct = sum(pmf[a] * (np.maximum(max(x - a, 0) + q - d, 0) @ pmf) for a in range(len(pmf)))
    assert project_on_hand(np.array([x]), np.array([[q]]), [pmf, pmf])[0] == pytest.approx(direct, rel=1e-12)
