"""The split code cannot leak: a marker planted in the holdout never reaches training or model selection."""
from __future__ import annotations

import numpy as np
import pytest

from engine.forecast import train as T
from tests.forecast.conftest import sample_arrays

MARKER = 987654.0


def planted(cfg):
    """Two sample series with the marker in every held-out day (demand, promo and planning)."""
    series = sample_arrays(2)
    for s in series:
        end = len(s.demand) - cfg.holdout_days
        s.demand[end:] = MARKER
        s.promo[end:] = MARKER
        s.planning[end:] = MARKER
    return series


def test_training_part_and_every_example_are_free_of_the_marker():
    cfg = T.TrainConfig(use_covariates=True, holdout_days=73)
    series = planted(cfg)
    part = T.cut_training_part(series, cfg)
    for s, full in zip(part, series):
        assert len(s.demand) == len(full.demand) - 73
        for arr in (s.demand, s.promo, s.planning):
            assert not np.any(arr == MARKER)
    # the same example builders the trainer uses for base training, validation, meta and refit
    W = cfg.window
    for first, last in ((lambda t: W, lambda t: t - 84), (lambda t: t - 84, lambda t: t - 56),
                        (lambda t: t - 56, lambda t: t), (lambda t: W, lambda t: t)):
        inp, y = T.examples(part, cfg, first, last, last)
        level = inp.level[:, None, None]
        for arr in (inp.seq * level, inp.aux, inp.extra, y * inp.level[:, None]):
            finite = arr[np.isfinite(arr)]
            assert finite.size and np.max(np.abs(finite)) < MARKER / 10


def test_split_bounds_are_time_ordered():
    cfg = T.TrainConfig(holdout_days=73, meta_days=56, val_days=28)
    b = T.split_bounds(365, cfg)
    assert b == {"train_end": 292, "meta_start": 236, "val_start": 208}
    with pytest.raises(ValueError, match="too short"):
        T.split_bounds(150, cfg)


@pytest.mark.slow
def test_trained_model_is_identical_with_or_without_the_marker():
    """End to end: training on data whose holdout holds a marker gives the very same ensemble as on clean data."""
    cfg = T.TrainConfig(use_covariates=False, holdout_days=73, epochs=2, seed=5)
    clean = sample_arrays(2)
    a = T.train_ensemble(clean, cfg, log=lambda m: None)
    b = T.train_ensemble(planted(cfg), cfg, log=lambda m: None)
    for wa, wb in zip(a.keras_model.get_weights(), b.keras_model.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert a.meta == b.meta and a.residuals == b.residuals
