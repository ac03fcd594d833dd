"""Feature building shared by training and serving: shapes, level normalisation, seasonal extrapolation, and that
nothing realised at or after the forecast origin is ever read."""
from __future__ import annotations

import numpy as np
import pytest

from engine.forecast import features as F


def test_shapes_and_level_normalisation():
    y = np.arange(1.0, 101.0)[None, :].repeat(2, axis=0)
    inp = F.build_inputs(y, window=28, horizon=31)
    assert inp.seq.shape == (2, 28, 1) and inp.aux.shape == (2, 32) and inp.extra.shape == (2, 31, 1)
    assert inp.seq.dtype == np.float32
    assert inp.level[0] == pytest.approx(np.mean(np.arange(73.0, 101.0)))
    np.testing.assert_allclose(inp.seq[0, :, 0] * inp.level[0], np.arange(73.0, 101.0), rtol=1e-6)
    # history of 100 days < SEASON_MIN_HISTORY: no seasonal fit, flat ratio 1 and flag 0
    assert np.all(inp.aux[:, :31] == 1.0) and np.all(inp.aux[:, 31] == 0.0)


def test_level_has_a_floor_so_zero_demand_does_not_divide_by_zero():
    inp = F.build_inputs(np.zeros((1, 40)), window=28)
    assert inp.level[0] == F.MIN_LEVEL and np.all(np.isfinite(inp.seq))


def test_seasonal_level_extrapolates_a_yearly_cycle():
    t = np.arange(400 + 31)
    truth = 20 + 8 * np.sin(2 * np.pi * t / F.SEASON_PERIOD + 0.7)
    fit, ok = F.seasonal_level(truth[None, :400], 31)
    assert ok
    np.testing.assert_allclose(fit[0], truth[400:], atol=1e-6)
    _, ok_short = F.seasonal_level(truth[None, :F.SEASON_MIN_HISTORY - 1], 31)
    assert not ok_short


def test_covariates_beyond_the_horizon_and_demand_are_not_read():
    rng = np.random.default_rng(0)
    y = rng.poisson(20, (2, 200)).astype(float)
    promo = rng.integers(0, 2, (2, 260)).astype(float)
    plan = rng.uniform(10, 30, (2, 260))
    a = F.build_inputs(y, promo, plan, use_covariates=True)
    promo2, plan2 = promo.copy(), plan.copy()
    promo2[:, 231:] = 9.0
    plan2[:, 231:] = 1e6  # beyond t + H = 231: must not matter
    b = F.build_inputs(y, promo2, plan2, use_covariates=True)
    for k in ("seq", "aux", "extra"):
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k))
    plan2[:, 230] = 1e6  # the last horizon day is read
    c = F.build_inputs(y, promo2, plan2, use_covariates=True)
    assert not np.array_equal(a.aux, c.aux)


def test_bad_inputs_give_clear_errors():
    with pytest.raises(ValueError, match="at least 28 days"):
        F.build_inputs(np.ones((1, 10)))
    with pytest.raises(ValueError, match="NaN"):
        F.build_inputs(np.full((1, 40), np.nan))
    with pytest.raises(ValueError, match="needs the covariates"):
        F.build_inputs(np.ones((1, 40)), use_covariates=True)
    with pytest.raises(ValueError, match="planning must have shape"):
        F.build_inputs(np.ones((1, 40)), np.zeros((1, 71)), np.zeros((1, 50)), use_covariates=True)


def test_training_examples_mask_targets_at_the_boundary():
    y = np.arange(200.0)[None, :]
    inp, tgt = F.training_examples(y, None, None, origins=range(150, 170), target_end=170)
    assert tgt.shape == (20, 31)
    # origin 150: targets 150..169 known, 170.. masked
    np.testing.assert_allclose(tgt[0, :20] * inp.level[0], np.arange(150.0, 170.0))
    assert np.all(np.isnan(tgt[0, 20:]))
    with pytest.raises(ValueError):
        F.training_examples(y, None, None, origins=[170], target_end=170)


def test_extra_inputs_and_in_place_output():
    rng = np.random.default_rng(3)
    y = rng.poisson(20, (2, 200)).astype(float)
    inp = F.build_inputs(y, extra_inputs=("seasonal", "ma7"))
    assert inp.extra.shape == (2, 31, 2)
    np.testing.assert_allclose(inp.extra[:, :, 1], (y[:, -7:].mean(axis=1) / inp.level)[:, None] * np.ones((1, 31)),
                               rtol=1e-6)
    np.testing.assert_array_equal(inp.extra[:, :, 0], F.build_inputs(y).extra[:, :, 0])
    out = F.Inputs(np.full_like(inp.seq, 7), np.full_like(inp.aux, 7), np.full_like(inp.extra, 7), None)
    again = F.build_inputs(y, extra_inputs=("seasonal", "ma7"), out=out)
    assert again.seq is out.seq and again.extra is out.extra
    for k in ("seq", "aux", "extra"):
        np.testing.assert_array_equal(getattr(again, k), getattr(inp, k))
    with pytest.raises(ValueError, match="shapes"):
        F.build_inputs(y[:1], extra_inputs=("seasonal", "ma7"), out=out)


@pytest.mark.parametrize("names, cov, msg", [
    (("seasonal", "ma8"), False, "distinct names"),
    (("seasonal", "seasonal"), False, "distinct names"),
    ((), False, "distinct names"),
    (("seasonal", "planning"), False, "needs a model with covariates"),
])
def test_bad_extra_inputs_are_refused(names, cov, msg):
    with pytest.raises(ValueError, match=msg):
        F.check_extra(names, cov)


def test_fourier_meta_input_is_the_yearly_regression_of_the_history():
    from engine.forecast.baselines import fourier_forecast
    rng = np.random.default_rng(2)
    t = 300
    days = np.arange(t + 31)
    y = rng.poisson(20 + 8 * np.cos(2 * np.pi * (days - 95) / 365.25)).astype(float)[None, :]
    inp = F.build_inputs(y[:, :t], window=28, horizon=31, extra_inputs=("seasonal", "fourier"))
    want = np.clip(fourier_forecast(y[:, :t], 31) / inp.level[:, None], *F.SEASON_CLIP)
    np.testing.assert_allclose(inp.extra[0, :, 1], want[0], rtol=1e-6)
    truth = (20 + 8 * np.cos(2 * np.pi * (days[t:] - 95) / 365.25)) / inp.level[0]
    assert np.max(np.abs(inp.extra[0, :, 1] - truth)) < 0.1   # it extrapolates the yearly cycle
