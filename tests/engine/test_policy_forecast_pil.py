"""Forecast-driven projected inventory level (engine.policies.forecast_pil)."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from engine.policies.base import Observation, PolicySetup, make_policy, policy_names, policy_params
from engine.policies.forecast_pil import forecast_projection, path_positions
from engine.simulation.batch import run_batch
from engine.simulation.simulator import SimConfig, Simulator


def _setup(L, backorders=False):
    return PolicySetup(h=1.0, p=9.0, lead_time=L, window=L + 1, sigma_window=4.0, sigma_one=2.0, mean_demand=8.0,
                       demand_std=3.0, backorders=backorders)


def _obs(on_hand, pipeline, forecasts, mu, safety, errors):
    o = Observation()
    o.on_hand, o.pipeline, o.forecasts, o.mu, o.safety, o.errors = on_hand, pipeline, forecasts, mu, safety, errors
    return o


def test_registered_with_its_parameter_and_bounds():
    assert "forecast-pil" in policy_names()
    pol = make_policy("forecast-pil", _setup(3))
    assert [p.name for p in policy_params(pol.name)] == ["service_level"]
    assert pol.quantile_level == pytest.approx(0.9)  # p / (p + h) when no level is given
    assert pol.help and pol.label


def test_deterministic_demand_projection_equals_a_hand_computation():
    # lead 3: on-hand 10, arrivals 5 today, 0 tomorrow, 4 the day after; forecasts 8, 9, 6 (then 7); no error.
    # day 0: 15 − 8 = 7; day 1: 7 + 0 − 9 → 2 lost, 0 left; day 2: 0 + 4 − 6 → 2 lost, 0 left.
    pol = make_policy("forecast-pil", _setup(3), {"service_level": 0.8})
    obs = _obs(10.0, np.array([5.0, 0.0, 4.0]), np.array([8.0, 9.0, 6.0, 7.0]), 30.0, 5.0, np.zeros((1, 50)))
    on_hand, lost = pol.projection(obs)
    assert on_hand.tolist() == [0.0] and lost.tolist() == [4.0]
    qty, level = pol.decide(19.0, obs)  # IP = 10 + 5 + 4
    assert level == 35.0  # μ + safety, the order-up-to level
    assert qty == 35.0 - 19.0 - 4.0  # the order-up-to order less the 4 projected lost units


def test_constant_errors_are_a_bias_shared_by_the_days_in_proportion_to_their_forecast():
    # every error r = 0.5, window 4 with forecasts 4 a day: μ = 16, the window's mean error 0.5 · √16 = 2 units,
    # i.e. 0.5 a day; nothing is lost, so the stock at arrival is 20 − 3 · 4.5.
    avail, rest = np.array([20.0]), np.zeros((1, 2))
    on_hand, lost = forecast_projection(avail, rest, np.full((1, 4), 4.0), np.full((1, 30), 0.5),
                                        path_positions(3), 16.0, 4)
    assert on_hand[0] == pytest.approx(20.0 - 3 * 4.5, abs=1e-12) and lost[0] == 0.0


def test_error_spread_projects_lost_sales_when_the_mean_path_loses_none():
    # stock exactly covers the forecast: with zero errors nothing is lost, with spread some paths run out
    avail, rest, f = np.array([30.0]), np.zeros((1, 2)), np.full((1, 4), 10.0)
    spread = np.linspace(-2.0, 2.0, 41)[None, :]
    _, none = forecast_projection(avail, rest, f, np.zeros((1, 41)), path_positions(3), 40.0, 4)
    on_hand, some = forecast_projection(avail, rest, f, spread, path_positions(3), 40.0, 4)
    assert none[0] == 0.0 and some[0] > 0.1
    assert on_hand[0] > 0.0  # and on others stock is left: E[on-hand] > (30 − 30)⁺


def test_backorders_make_it_the_order_up_to_rule(sample_series):
    kw = {"demand": "synthetic", "days": 40, "lead_time": 5, "seed": 3, "backorders": True, "forecaster": "ma7"}
    a = Simulator(SimConfig(policy="forecast-pil", **kw), sample_series).run()
    b = Simulator(SimConfig(policy="order-up-to", **kw), sample_series).run()
    assert [r["order_qty"] for r in a] == [r["order_qty"] for r in b]


def test_lost_sales_orders_never_exceed_the_order_up_to_orders_from_the_same_state(sample_series):
    cfg = SimConfig(policy="forecast-pil", demand="synthetic", days=80, lead_time=7, seed=4, forecaster="ma7",
                    policy_params={"service_level": 0.6})
    sim = Simulator(cfg, sample_series)
    decide = sim.policy.decide
    cut = []

    def spy(ip, obs):
        qty, level = decide(ip, obs)
        assert qty <= max(level - ip, 0.0) + 1e-9
        cut.append(max(level - ip, 0.0) - qty)
        return qty, level

    sim.policy.decide = spy
    sim.run()
    assert max(cut) > 0.0  # at a 60 % level some lost sales are projected and the order is smaller


def test_future_demand_changes_no_decision_before_it(sample_series):
    cfg = SimConfig(policy="forecast-pil", demand="replay", days=60, lead_time=7, forecaster="ma7",
                    policy_params={"service_level": 0.7})
    base = Simulator(cfg, sample_series).run()
    marked = sample_series.demand.copy()
    day = 30  # the 30th simulated day (replay: the last `days` rows are simulated)
    marked[len(marked) - 60 + day - 1] += 500.0
    changed = Simulator(cfg, dataclasses.replace(sample_series, demand=marked)).run()
    assert changed[day - 1]["demand"] == base[day - 1]["demand"] + 500.0
    for d in range(day):  # decisions of days 1..day are made before its demand is known
        assert changed[d]["order_qty"] == base[d]["order_qty"], d + 1
    assert any(changed[d]["order_qty"] != base[d]["order_qty"] for d in range(day, 60))


@pytest.mark.parametrize("mode,lead_dist", [("synthetic", None), ("replay", None),
                                            ("forecast-noise", {"kind": "uniform", "low": 2, "high": 9})])
def test_batch_replications_equal_single_runs_exactly(sample_series, mode, lead_dist):
    cfg = {"demand": mode, "policy": "forecast-pil", "days": 60, "seed": 11, "noise": 0.4, "lead_time": 7,
               "lead_time_dist": lead_dist, "forecaster": "ses" if mode == "forecast-noise" else "ma7",
               "policy_params": {"service_level": 0.8}}
    res = run_batch(SimConfig(**cfg), sample_series, replications=3, keep_ledgers=3)
    for r in range(3):
        sim = Simulator(SimConfig(**cfg), sample_series, replication=r)
        sim.run()
        assert res.ledger(r) == sim.ledger  # bit for bit, every column of every day
        assert res.kpis["total_cost"][r] == sim.kpis()["total_cost"]


def test_cli_simulate_runs_it_and_refuses_a_bad_level(capsys):
    from engine.cli.main import main

    args = ["simulate", "--policy", "forecast-pil", "--lead-time", "7", "--days", "20", "--forecaster", "ma7"]
    assert main([*args, "--service-level", "0.9", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["days"] == 20
    assert main([*args, "--service-level", "1.5"]) == 2
    err = capsys.readouterr().err
    assert "--service-level 1.5 is out of range" in err and "Traceback" not in err


def test_projection_of_a_row_alone_equals_the_row_in_a_batch():
    # sums are sequential, so a row's bits do not depend on its neighbours or its memory alignment
    rng = np.random.default_rng(3)
    R, L = 7, 6
    for n in (5, 37, 200, 365):
        avail, rest, f = rng.random(R) * 90, rng.random((R, L - 1)) * 30, rng.random((R, 9)) * 25
        errors, mu = rng.standard_normal((R, n)) + 0.3, rng.random(R) * 200
        on_hand, lost = forecast_projection(avail, rest, f, errors, path_positions(L), mu, L + 1)
        for r in range(R):
            a, b = forecast_projection(avail[r:r + 1], rest[r:r + 1], f[r:r + 1], errors[r:r + 1],
                                       path_positions(L), mu[r], L + 1)
            assert (a[0], b[0]) == (on_hand[r], lost[r])


def test_paired_comparison_by_hand():
    from engine.studies.pil_comparison import paired_comparison

    res = paired_comparison([10.0, 12.0, 14.0], [10.0, 10.0, 10.0])
    t = 4.302652729749464  # Student t, 97.5 %, 2 degrees of freedom
    assert res["ratio"] == pytest.approx(1.2) and res["difference"] == pytest.approx(2.0)
    assert res["difference_ci95"] == pytest.approx([2.0 - t * 2 / 3 ** 0.5, 2.0 + t * 2 / 3 ** 0.5])
    # delta method: sd of a − 1.2 b = sd(−2, 0, 2) = 2, over √3 · mean(b) = √3 · 10
    assert res["ratio_ci95"] == pytest.approx([1.2 - t * 2 / (3 ** 0.5 * 10), 1.2 + t * 2 / (3 ** 0.5 * 10)])


def test_levels_are_tuned_on_other_paths_than_they_are_costed_on(sample_series):
    from engine.studies.pil_comparison import compare_pil_with_order_up_to

    cfg = SimConfig(demand="synthetic", days=30, lead_time=3, forecaster="ma7", seed=2, stockout_cost=0.05)
    res = compare_pil_with_order_up_to(cfg, sample_series, 4, coarse=3, fine=3)
    assert res["selection"].startswith("replications 4..7")
    for pol in ("forecast-pil", "order-up-to"):
        assert 0.0 < res["levels"][pol]["tuned"] < 1.0
    assert res["tuned"]["paths"] == res["from_costs"]["paths"] == 4
    direct = run_batch(dataclasses.replace(cfg, policy="forecast-pil", initial_inventory=None), sample_series, 4)
    assert direct.info["policy"]["quantile_level"] == res["levels"]["forecast-pil"]["from_costs"]


def test_a_stored_run_continues_identically(sample_series):
    from tests.engine.conftest import SAMPLE

    cfg = SimConfig(data=str(SAMPLE), demand="synthetic", days=50, lead_time=7, forecaster="ma7", seed=1,
                    policy="forecast-pil", policy_params={"service_level": 0.8})
    whole = Simulator(cfg, sample_series)
    whole.run()
    part = Simulator(cfg, sample_series)
    part.run(23)
    resumed = Simulator.from_state(json.loads(json.dumps(part.to_state(), allow_nan=False)))
    resumed.run()
    assert resumed.ledger == whole.ledger
