"""What the past-only ensemble may read: past demand and the calendar — never the planning column, never a day at or
after the forecast origin (its Fourier-regression member included)."""
from __future__ import annotations

import numpy as np
import pytest

from engine.data.dataset import days_of_year
from engine.forecast import features as F
from engine.forecast import train as T
from engine.forecast.base import Covariates
from engine.forecast.baselines import FourierRegression
from engine.forecast.series_covariates import covariates_for
from tests.conftest import REPO
from tests.forecast.conftest import sample_arrays

PAST_ONLY = REPO / "models" / "past-only"
H = F.HORIZON


@pytest.fixture(scope="module")
def past_only():
    if not (PAST_ONLY / "card.json").exists():
        pytest.fail(f"the bundled model {PAST_ONLY} is missing")
    from engine.forecast.onnx_model import OnnxEnsemble
    return OnnxEnsemble.load(PAST_ONLY)


@pytest.fixture(scope="module")
def series():
    from engine.data.dataset import load_csv
    return next(iter(load_csv(REPO / "data" / "sample.csv").series.values()))


def test_the_served_past_only_ensemble_reads_no_planning_column(past_only, series):
    """A planted change in Demand_Forecast (and the promotion flag) changes no forecast; the calendar is read."""
    assert not past_only.uses_covariates and not past_only.requires_planning
    cov = covariates_for(series, H)
    planted = Covariates(promo=1.0 - cov.promo, planning=cov.planning * 7.0 + 500.0, day_of_year=cov.day_of_year)
    n = len(series.demand)
    for o in (n - 300, n - 73, n - 8):
        y = series.demand[None, :o]
        base = past_only.predict(y, cov.take(o + H))
        np.testing.assert_array_equal(past_only.predict(y, planted.take(o + H)), base)
    if past_only.uses_calendar:  # the test can fail: the covariates it gets are the ones it reads
        shifted = Covariates(cov.promo, cov.planning, (cov.day_of_year + 90) % 366 + 1)
        assert not np.allclose(past_only.predict(y, shifted.take(o + H)), base)


def test_the_served_past_only_ensemble_reads_no_day_at_or_after_the_origin(past_only, series):
    """The forecast from origin o is a function of the days before o: a planted change on or after o changes
    nothing, a change before o does."""
    cov = covariates_for(series, H)
    y = series.demand.astype(float)
    o = len(y) - 60
    planted = y.copy()
    planted[o:] = planted[o:] * 3.0 + 100.0
    base = past_only.predict(y[None, :o], cov.take(o + H))
    np.testing.assert_array_equal(past_only.predict(planted[None, :o], cov.take(o + H)), base)
    earlier = y.copy()
    earlier[o - 200:o - 100] += 30.0
    assert not np.allclose(past_only.predict(earlier[None, :o], cov.take(o + H)), base)


def test_fourier_member_is_fitted_only_on_days_before_each_origin():
    """The trainer's examples (base training, meta period) hold the Fourier member fitted on history[:o] of each
    origin o: a marker planted from day c on leaves every origin <= c unchanged and changes a later one."""
    cfg = T.TrainConfig(use_covariates=False, holdout_days=73, extra_inputs=("seasonal", "fourier"))
    clean = T.cut_training_part(sample_arrays(1), cfg)
    t = len(clean[0].demand)
    c = t - 40
    planted = T.cut_training_part(sample_arrays(1), cfg)
    planted[0].demand[c:] = 5000.0
    j = cfg.extras().index("fourier")

    def member(part, first, last):
        inp, _ = T.examples(part, cfg, lambda t: first, lambda t: last, lambda t: last)
        return inp.extra[:, :, j] * inp.level[:, None]
    np.testing.assert_array_equal(member(planted, c - 30, c + 1), member(clean, c - 30, c + 1))
    assert not np.allclose(member(planted, c + 1, c + 2), member(clean, c + 1, c + 2))


def test_fourier_member_is_the_fourier_baseline_on_the_calendar_across_a_leap_year():
    """With dates, the member is the `fourier` baseline's forecast (day of year); across 29 February the
    position-based fit is a day out of phase and differs."""
    s = sample_arrays(1)[0]
    o = 600                                        # 2025-08-24: 2024 (a leap year) lies in the history
    doy = days_of_year(s.dates, H)[None, :o + H]
    y = s.demand[None, :o].astype(float)
    inp = F.build_inputs(y, extra_inputs=("seasonal", "fourier"), day_of_year=doy)
    member = inp.extra[0, :, 1].astype(float) * inp.level[0]
    baseline = FourierRegression().predict(y, Covariates(day_of_year=doy))[0]
    np.testing.assert_allclose(member, baseline, rtol=1e-6)
    positions = F.build_inputs(y, extra_inputs=("seasonal", "fourier")).extra[0, :, 1] * inp.level[0]
    assert np.max(np.abs(positions - baseline)) > 0.02   # ~ the slope of the season over one day
    with pytest.raises(ValueError, match="day_of_year must have shape"):
        F.build_inputs(y, extra_inputs=("fourier",), day_of_year=doy[:, :o])
