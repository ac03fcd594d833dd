"""Policies: one interface on scalars and on (R,) arrays; textbook formulas; registry for other modules."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from engine.errors import ConfigError
from engine.policies.base import (
    RQ,
    SS,
    BaseStock,
    Observation,
    OrderUpTo,
    Policy,
    PolicySetup,
    critical_ratio_z,
    make_policy,
    newsvendor_level,
    policy_names,
    register_policy,
    unregister_policy,
)

SETUP = PolicySetup(h=0.18, p=0.70, lead_time=3, window=4, sigma_window=8.0, sigma_one=4.0, mean_demand=12.5,
                    demand_std=3.0)


def obs(mu, sigma=8.0, safety=6.604):
    o = Observation()
    o.mu, o.sigma, o.day, o.safety = mu, sigma, 1, safety
    return o


def test_newsvendor_example():
    assert critical_ratio_z(0.70, 0.18) == pytest.approx(norm.ppf(0.70 / 0.88))
    assert newsvendor_level(50, 8, 0.18, 0.70) == pytest.approx(56.604, abs=5e-4)
    rule = OrderUpTo(SETUP)
    assert rule.quantile_level == pytest.approx(0.70 / 0.88)  # the simulator's quantile level: the critical ratio
    qty, level = rule.decide(0.0, obs(50.0))
    assert level == pytest.approx(56.604, abs=5e-4) and qty == level  # S = μ + the calibrated safety stock
    assert rule.decide(0.0, obs(5.0, safety=-9.0)) == (0.0, 0.0)  # a level never goes below zero


def test_service_level_overrides_costs():
    p = make_policy("order-up-to", SETUP, {"service_level": 0.95})
    assert p.z == pytest.approx(1.6448536, rel=1e-6) and p.quantile_level == 0.95
    _, level = p.decide(0.0, obs(100.0, 10.0, safety=16.448536))
    assert level == pytest.approx(116.448536, rel=1e-8)


def test_scalar_and_array_decisions_agree():
    ips = np.array([-20.0, 0.0, 10.0, 49.0, 50.0, 51.0, 80.0, 130.0])
    for pol in (OrderUpTo(SETUP), BaseStock(SETUP, base_stock_level=60), SS(SETUP, s=50, S=120),
                RQ(SETUP, r=50, Q=25)):
        q_arr, l_arr = pol.decide(ips, obs(np.full(len(ips), 50.0)))
        for i, ip in enumerate(ips):
            q, level = pol.decide(float(ip), obs(50.0))
            assert q == q_arr[i] and level == l_arr[i]
            assert q >= 0 and not (q == 0 and np.signbit(q))  # never -0.0


def test_static_rules():
    q, _ = BaseStock(SETUP, base_stock_level=60).decide(np.array([10.0, 70.0]), obs(0.0))
    assert list(q) == [50.0, 0.0]
    q, S = SS(SETUP, s=50, S=120).decide(np.array([50.0, 50.5, 10.0]), obs(0.0))
    assert list(q) == [70.0, 0.0, 110.0] and list(S) == [120.0] * 3
    q, _ = RQ(SETUP, r=50, Q=25).decide(np.array([50.0, 49.0, 0.0, 51.0, -30.0]), obs(0.0))
    # enough multiples of Q to lift IP above r
    assert list(q) == [25.0, 25.0, 75.0, 0.0, 100.0]
    for ip, qq in zip([50.0, 49.0, 0.0, -30.0], [25.0, 25.0, 75.0, 100.0]):
        assert ip + qq > 50 and ip + qq - 25 <= 50


def test_data_derived_defaults_are_documented_formula():
    z = critical_ratio_z(SETUP.p, SETUP.h)
    level = 12.5 * 4 + z * 3.0 * 2.0
    assert BaseStock(SETUP).level == pytest.approx(level)
    rq = RQ(SETUP)
    assert rq.r == pytest.approx(level) and rq.Q == round(7 * 12.5)
    ss = SS(SETUP)
    assert ss.s == pytest.approx(level) and ss.S == pytest.approx(level + round(7 * 12.5))


def test_bad_parameters():
    with pytest.raises(ConfigError, match="needs S > s"):
        make_policy("s-S", SETUP, {"s": 100, "S": 50})
    with pytest.raises(ConfigError, match="does not take Q"):
        make_policy("order-up-to", SETUP, {"Q": 3})
    with pytest.raises(ConfigError, match="unknown policy 'magic'"):
        make_policy("magic", SETUP, {})


def test_register_policy_from_another_module():
    class Double(Policy):
        name = "test-double"
        params = ("k",)

        def __init__(self, setup, k=2.0):
            super().__init__(setup)
            self.k = k

        def decide(self, ip, o):
            level = self.k * o.mu
            gap = level - ip
            return gap * (gap > 0) + 0.0, level

    register_policy("test-double", Double)
    try:
        assert "test-double" in policy_names()
        p = make_policy("test-double", SETUP, {"k": 3.0})
        assert p.decide(10.0, obs(5.0)) == (5.0, 15.0)
    finally:
        unregister_policy("test-double")
    assert "test-double" not in policy_names()
