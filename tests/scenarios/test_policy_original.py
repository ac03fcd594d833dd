"""The original app's rule, reproduced exactly: checked against a literal list-based transcription of it."""
from __future__ import annotations

import statistics

import numpy as np
import pytest
from scipy.stats import norm

from engine.policies.base import Observation, PolicySetup, make_policy, policy_names
from engine.policies.original import OriginalRule


def literal_original(forecast_history: list[float], today: float, L: int, h: float, p: float) -> float:
    """As the original's loop did it: the last L-1 past forecasts plus today's; pstdev; clipped ratio."""
    window = (forecast_history[-(L - 1):] if L > 1 else []) + [today]
    ratio = min(max(p / (p + h), 0.5001), 0.9999)
    return sum(window) + norm.ppf(ratio) * statistics.pstdev(window)


def setup(L=7, h=0.25 * 20 / 365, p=20.0):
    return PolicySetup(h=h, p=p, lead_time=L, window=L + 1, sigma_window=5.0, sigma_one=2.0, mean_demand=20.0,
                       demand_std=5.0)


def test_registered_as_original():
    assert "original" in policy_names()
    assert isinstance(make_policy("original", setup()), OriginalRule)


@pytest.mark.parametrize("L", [1, 2, 7, 14, 30])
@pytest.mark.parametrize("p,h", [(20.0, 0.0137), (1.0, 5.0), (1e6, 1e-6)])
def test_level_matches_the_literal_transcription_day_by_day(L, p, h):
    rng = np.random.default_rng(L)
    forecasts = list(rng.gamma(4, 5, size=40))
    rule = make_policy("original", setup(L=L, h=h, p=p))
    obs = Observation()
    for day in range(1, 41):
        obs.day = day
        obs.forecast = forecasts[day - 1]
        obs.past_forecasts = np.array(forecasts[:day - 1])
        ip = 30.0
        q, level = rule.decide(ip, obs)
        expected = literal_original(forecasts[:day - 1], forecasts[day - 1], L, h, p)
        assert level == pytest.approx(expected, rel=1e-12)
        assert q == pytest.approx(max(0.0, expected - ip), rel=1e-12, abs=1e-12)


def test_batch_form_equals_scalar_form_per_replication():
    rng = np.random.default_rng(5)
    R, d = 6, 12
    past = rng.gamma(4, 5, size=(R, d))
    today = rng.gamma(4, 5, size=R)
    ip = rng.uniform(0, 150, size=R)
    rule = make_policy("original", setup(L=5))
    obs = Observation()
    obs.past_forecasts, obs.forecast = past, today
    q, level = rule.decide(ip, obs)
    for r in range(R):
        o = Observation()
        o.past_forecasts, o.forecast = past[r], today[r]
        qr, lr = rule.decide(ip[r], o)
        assert level[r] == pytest.approx(lr) and q[r] == pytest.approx(qr)


def test_flat_forecast_means_no_safety_stock_whatever_the_noise():
    """The documented flaw: σ is the spread of forecasts, so a flat forecast gives S = L·f exactly."""
    rule = make_policy("original", setup(L=7))
    obs = Observation()
    obs.past_forecasts, obs.forecast = np.full(20, 15.0), 15.0
    _q, level = rule.decide(0.0, obs)
    assert level == pytest.approx(7 * 15.0)
