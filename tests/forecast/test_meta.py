"""The meta-learner fits (engine/forecast/train.py fit_meta): constraints hold and known combinations are found."""
from __future__ import annotations

import numpy as np
import pytest

from engine.forecast import train as T


def _problem(weights, bias, m=400, h=5, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.uniform(0.5, 1.5, (m, h, 3))
    extra = rng.uniform(0.5, 1.5, (m, h, 1))
    level = rng.uniform(5, 50, m)
    x = np.concatenate([base, extra], axis=2)
    target = x @ np.asarray(weights) + bias + rng.normal(0, 1e-3, (m, h))
    target[:, -2:][: m // 2] = np.nan  # masked targets are ignored
    return base, extra, level, target


def test_stack_recovers_a_non_negative_combination_with_bias():
    w, b = T.fit_meta(*_problem([0.5, 0.0, 0.3, 0.4], 0.2))
    np.testing.assert_allclose(w, [0.5, 0.0, 0.3, 0.4], atol=2e-3)
    assert b == pytest.approx(0.2, abs=3e-3)


def test_convex_weights_lie_on_the_simplex_and_recover_a_convex_combination():
    w, b = T.fit_meta(*_problem([0.6, 0.0, 0.1, 0.3], 0.0), kind="convex")
    assert b == 0.0 and np.all(w >= 0) and w.sum() == pytest.approx(1.0, abs=1e-9)
    np.testing.assert_allclose(w, [0.6, 0.0, 0.1, 0.3], atol=2e-3)
    # a target outside the simplex: still a convex combination (the constraint binds)
    w2, _ = T.fit_meta(*_problem([1.5, 0.5, 0.0, 0.0], 1.0), kind="convex")
    assert np.all(w2 >= 0) and w2.sum() == pytest.approx(1.0, abs=1e-9)


def test_per_horizon_fits_one_combination_per_day():
    base, extra, level, target = _problem([0.5, 0.0, 0.3, 0.4], 0.2)
    target[:, 0] = (np.concatenate([base, extra], axis=2)[:, 0] @ np.array([0.0, 1.0, 0.0, 0.0]))
    w, b = T.fit_meta(base, extra, level, target, per_horizon=True)
    assert w.shape == (5, 4) and b.shape == (5,)
    np.testing.assert_allclose(w[0], [0.0, 1.0, 0.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(w[3], [0.5, 0.0, 0.3, 0.4], atol=3e-3)


def test_unknown_meta_kind_is_refused():
    with pytest.raises(ValueError, match="unknown meta-learner kind 'ridge'"):
        T.fit_meta(*_problem([0.5, 0.0, 0.3, 0.4], 0.2), kind="ridge")
