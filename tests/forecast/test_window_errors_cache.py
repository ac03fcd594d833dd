"""Forecaster.window_errors is cached per forecaster instance by the context it is given: the same context answers
from the cache (the ensemble's 120 rolling origins are most of a Start's set-up), a different context or window
never does, and the cached arrays cannot be changed by a caller."""
from __future__ import annotations

import numpy as np
import pytest

from engine.forecast.base import Covariates
from engine.forecast.registry import get_forecaster


class Counting:
    def __init__(self, forecaster):
        self.f, self.calls = forecaster, 0
        self.inner_predict = forecaster.predict

        def predict(demand, covariates=None):
            self.calls += 1
            return self.inner_predict(demand, covariates)
        forecaster.predict = predict


def test_the_same_context_is_answered_from_the_cache_and_another_one_is_not():
    f = get_forecaster("ma7")
    f.caches_window_errors = True  # as the served ensembles do
    count = Counting(f)
    y = np.random.default_rng(1).gamma(5.0, 4.0, 200)
    a1, f1 = f.window_errors(y[None, :], None, 8)
    first = count.calls
    assert first > 100
    a2, f2 = f.window_errors(y[None, :].copy(), None, 8)
    assert count.calls == first and np.array_equal(a1, a2) and np.array_equal(f1, f2)
    y2 = y.copy()
    y2[-1] += 1.0  # one day differs
    a3, _ = f.window_errors(y2[None, :], None, 8)
    assert count.calls > first and not np.array_equal(a1, a3)
    calls = count.calls
    f.window_errors(y[None, :], None, 3)  # another window
    assert count.calls > calls
    with pytest.raises(ValueError):
        a1 += 1.0  # read-only: a caller cannot change what the next Start reads


def test_covariates_a_forecaster_reads_are_part_of_the_key():
    f = get_forecaster("ma7")
    f.caches_window_errors = True  # as the served ensembles do
    f.uses_covariates = True  # pretend it reads them: then a changed promotion plan is another context
    count = Counting(f)
    y = np.random.default_rng(2).gamma(5.0, 4.0, 120)
    promo = np.zeros((1, 200))
    f.window_errors(y[None, :], Covariates(promo=promo), 8)
    calls = count.calls
    f.window_errors(y[None, :], Covariates(promo=promo.copy()), 8)
    assert count.calls == calls
    promo2 = promo.copy()
    promo2[0, 50] = 1.0
    f.window_errors(y[None, :], Covariates(promo=promo2), 8)
    assert count.calls > calls


def test_the_rolling_origin_result_is_unchanged_by_the_cache():
    f, g = get_forecaster("ses"), get_forecaster("ses")
    f.caches_window_errors = True
    y = np.random.default_rng(3).gamma(5.0, 4.0, 180)
    a, fc = f.window_errors(y[None, :], None, 8)
    _, a0, f0 = g._rolling_origin(y[None, :], None, 8)
    assert np.array_equal(a, a0) and np.array_equal(fc, f0)


def test_only_forecasters_that_opt_in_remember_their_errors():
    """A baseline's attributes may be changed after it is built (its predictions then change): it recomputes every
    time; the served ensembles, immutable once loaded, remember."""
    f = get_forecaster("ses")
    count = Counting(f)
    y = np.random.default_rng(4).gamma(5.0, 4.0, 160)
    f.window_errors(y[None, :], None, 8)
    once = count.calls
    f.alpha = 0.9
    a, _ = f.window_errors(y[None, :], None, 8)
    assert count.calls == 2 * once
    from engine.forecast.onnx_model import OnnxEnsemble
    assert OnnxEnsemble.caches_window_errors and not type(f).caches_window_errors
