"""The protection-period quantile: conformal order statistic, exponential tail, ring buffer, online tracker."""
import math

import numpy as np
import pytest

from engine.protection import (ErrorBuffer, ProtectionTracker, coverage, error_quantile, protection_level,
                               relative_errors)


def test_empirical_quantile_is_the_conformal_order_statistic():
    e = np.arange(1.0, 101.0)  # 1..100
    v, method = error_quantile(e, 0.9)
    assert method == "empirical"
    assert v[0] == 91.0  # ceil(101 * 0.9) = 91st smallest


def test_tail_beyond_the_sample_follows_the_exponential_fit():
    rng = np.random.default_rng(3)
    e = rng.exponential(2.0, size=(4, 300))
    v, method = error_quantile(e, 0.999)
    assert method == "tail"
    n, m = 300, 30
    srt = np.sort(e, axis=1)
    u = srt[:, n - m - 1]
    beta = srt[:, n - m:].mean(axis=1) - u
    assert np.allclose(v, u + beta * math.log(m / (n * 0.001)))
    # the true quantile of Exp(2) at 0.999 is 2 ln 1000 = 13.8: the fit lands near it
    assert np.all(np.abs(v - 2 * math.log(1000)) < 5)


def test_tail_quantile_covers_on_fresh_draws():
    rng = np.random.default_rng(5)
    fit = rng.normal(size=(200, 365))
    v, method = error_quantile(fit, 0.995)
    assert method == "tail"
    fresh = rng.normal(size=(200, 2000))
    cov = float(np.mean(fresh <= v[:, None]))
    assert 0.985 <= cov <= 0.9995


def test_levels_invert_relative_errors():
    mu = np.array([0.0, 3.0, 50.0])
    actual = np.array([2.0, 9.0, 40.0])
    r = relative_errors(actual, mu, floor=4.0)
    assert np.allclose(r, [0.5, 1.5, -0.2])
    assert np.allclose(protection_level(mu, r, 4.0), actual)
    assert coverage(actual, protection_level(mu, r, 4.0)) == (1.0, 3)


def test_ring_buffer_keeps_the_most_recent_errors_and_round_trips():
    buf = ErrorBuffer(1, np.array([100.0, 200.0]), capacity=4)
    for x in (1.0, 2.0, 3.0):
        buf.push(np.array([x]))
    assert sorted(buf.values()[0]) == [1.0, 2.0, 3.0, 200.0]
    back = ErrorBuffer.from_state(buf.to_state())
    assert sorted(back.values()[0]) == sorted(buf.values()[0]) and back.pos == buf.pos
    assert buf.quantile(0.5)[1] == "tail" and ErrorBuffer(1, [1.0, 2.0]).quantile(0.5)[1] == "seed"


def test_tracker_reads_only_completed_windows():
    days, w = 30, 3
    tr = ProtectionTracker(1, days, w, seed_errors=np.zeros(20), floor=1.0)
    demand = np.arange(1.0, days + 1)
    for d in range(days):
        tr.set_mu(d, 10.0)
        tr.safety(d, 0.5)
        # before day d's demand is recorded, only windows ending by day d−1 may have entered
        assert tr.pushed_through == max(d - w, -1)
        if tr.pushed_through >= 0:
            assert not np.isnan(tr.demand[0, :tr.pushed_through + w]).any()
        tr.set_demand(d, demand[d])
    # error of the window that started on day 0: (1+2+3 − 10) / 10
    assert np.isclose(tr.buffer.data[0, 20], (6.0 - 10.0) / 10.0)
