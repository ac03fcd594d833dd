"""engine.protection.lost_sales_level: under lost sales the order-up-to rule's level is chosen on the simulated
prior's extra
paths (never the scored ones), at or below the critical ratio, and only when the level comes from costs."""
from __future__ import annotations

import numpy as np

from engine.protection.lost_sales_level import lost_sales_level, one_standard_error_choice, simulated_costs
from engine.protection.tracker import SeasonalPrior


def _reference_cost(S, demand, h, p, lead, initial):
    """The simulator's day for one path, written out: the position counts every outstanding order (today's
    arrival too), the order arrives `lead` days later, then the day's demand is served or lost."""
    days = len(demand)
    on_hand, pipe, cost = float(initial), [0.0] * (days + lead + 1), 0.0
    for d in range(days):
        position = on_hand + sum(pipe[d:d + lead + 1])
        qty = max(S[d] - position, 0.0)
        pipe[d + lead] += qty
        on_hand += pipe[d]
        sold = min(on_hand, demand[d])
        on_hand -= sold
        cost += h * on_hand + p * (demand[d] - sold)
    return cost


def test_the_path_costs_follow_the_simulators_day_for_every_lead_time():
    rng = np.random.default_rng(4)
    K, days = 3, 25
    prior = SeasonalPrior(np.zeros((K, days)))  # errors all zero: the level is μ itself
    mu = rng.uniform(20, 60, (K, days))
    demand = rng.poisson(6.0, (K, days)).astype(float)
    for lead in (0, 1, 4):
        got = simulated_costs(prior, mu, demand, [0.5], h=0.2, p=3.0, lead=lead, floor=1.0, initial=15.0)
        want = [_reference_cost(mu[k], demand[k], 0.2, 3.0, lead, 15.0) for k in range(K)]
        np.testing.assert_allclose(got[0], want, rtol=1e-12)


def test_the_one_standard_error_rule_keeps_the_critical_ratio_unless_a_lower_level_is_clearly_cheaper():
    rng = np.random.default_rng(1)
    noise = rng.normal(0, 1.0, 200)
    wiggle = 0.5 * (-1.0) ** np.arange(200)  # mean 0: level 1 is 0.01 cheaper on average, ± 0.5 path by path
    flat = np.stack([100 + noise, 99.99 + noise + wiggle, 100.2 + noise])
    assert one_standard_error_choice(flat) == 0
    clear = np.stack([110 + noise, 100 + noise, 103 + noise])
    assert one_standard_error_choice(clear) == 1


def test_lost_sales_runs_take_the_level_from_the_prior_paths_and_other_runs_keep_theirs(sample_series):
    from engine.simulation.batch import run_batch
    from engine.simulation.simulator import SimConfig, Simulator

    base = dict(days=60, lead_time=14, demand="forecast-noise", forecaster="ma7", seed=11)
    lost = Simulator(SimConfig(**base), sample_series).info()["policy"]
    assert lost["level_source"].startswith("lost-sales") and lost["quantile_level"] <= lost["critical_ratio"]
    # the level depends on the prior's paths only: other replications (the scored paths) change nothing
    later = run_batch(SimConfig(**base), sample_series, 3, first_replication=200).info["policy"]
    assert later["quantile_level"] == lost["quantile_level"]
    backorders = Simulator(SimConfig(**base, backorders=True), sample_series).info()["policy"]
    assert backorders["level_source"] == "critical ratio"
    assert backorders["quantile_level"] == backorders["critical_ratio"]
    target = Simulator(SimConfig(**base, policy_params={"service_level": 0.9}), sample_series).info()["policy"]
    assert target["level_source"] == "service level" and target["quantile_level"] == 0.9
    replay = Simulator(SimConfig(days=60, lead_time=14, demand="replay", forecaster="ma7"), sample_series)
    assert replay.info()["policy"]["level_source"] == "critical ratio"


def test_the_level_is_never_above_the_critical_ratio():
    rng = np.random.default_rng(7)
    K, days = 40, 60
    errors = rng.normal(0, 1.0, (K, days))
    mu = np.full((K, days), 24.0)
    demand = rng.poisson(3.0, (K, days)).astype(float)
    paths = np.stack([errors, mu, demand])
    q = lost_sales_level(paths, ("test paths", 7), 0.999, h=0.01, p=5.0, window=8, floor=8.0)
    assert 0.5 < q <= 0.999
