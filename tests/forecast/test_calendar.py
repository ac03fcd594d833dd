"""The pooled calendar season (features.CalendarSeason, meta-learner input "calendar"): fit, level, inputs, errors."""
from __future__ import annotations

import numpy as np
import pytest

from engine.forecast import features as F
from engine.forecast import train as T
from tests.forecast.conftest import sample_arrays

SEASON = F.CalendarSeason(alpha=0.4, beta=0.1, level_days=91)


def doy_from(first: int, n: int) -> np.ndarray:
    """Days of year 1..365 for n consecutive days starting at day `first` (a non-leap year)."""
    return (np.arange(first - 1, first - 1 + n) % 365) + 1


def test_pooled_fit_recovers_one_shape_from_series_of_different_sizes():
    """Three series of levels 10, 50 and 200 with the same seasonal shape, 292 days each (not a whole year)."""
    rng = np.random.default_rng(0)
    days = doy_from(1, 292)
    demands = [lvl * SEASON.index(days) * (1 + rng.normal(0, 0.05, 292)) for lvl in (10.0, 50.0, 200.0)]
    fit = F.fit_calendar_season(demands, [days] * 3, level_days=91)
    assert fit.alpha == pytest.approx(0.4, abs=0.02) and fit.beta == pytest.approx(0.1, abs=0.02)
    assert fit.level_days == 91


def test_calendar_level_is_exact_on_a_noise_free_series():
    days = doy_from(100, 200 + 31)
    y = (30.0 * SEASON.index(days))[None, :]
    got = F.calendar_level(y[:, :200], days[None, :], SEASON, horizon=31)
    np.testing.assert_allclose(got[0], y[0, 200:], rtol=1e-12)


def test_calendar_input_is_the_level_ratio_and_falls_back_to_the_seasonal_ratio_without_dates():
    days = doy_from(50, 200 + 31)[None, :]
    y = np.random.default_rng(1).poisson(30.0 * SEASON.index(days[:, :200])).astype(float)
    names = ("seasonal", "calendar")
    inp = F.build_inputs(y, extra_inputs=names, day_of_year=days, calendar=SEASON)
    want = np.clip(F.calendar_level(y, days, SEASON) / inp.level[:, None], *F.SEASON_CLIP)
    np.testing.assert_allclose(inp.extra[:, :, 1], want, rtol=1e-6)
    assert not np.allclose(inp.extra[:, :, 1], inp.extra[:, :, 0])
    no_dates = F.build_inputs(y, extra_inputs=names, calendar=SEASON)
    np.testing.assert_array_equal(no_dates.extra[:, :, 1], no_dates.extra[:, :, 0])


@pytest.mark.parametrize("bad, match", [
    (lambda d: np.where(d == d[0, -5], 0, d), "1..366"),
    (lambda d: np.where(d == d[0, -5], 367, d), "1..366"),
    (lambda d: np.where(d == d[0, -5], np.nan, d.astype(float)), "1..366"),
    (lambda d: d[:, :-3], "shape"),
])
def test_bad_days_of_year_are_refused(bad, match):
    days = doy_from(50, 231)[None, :]
    y = np.full((1, 200), 20.0)
    with pytest.raises(ValueError, match=match):
        F.build_inputs(y, extra_inputs=("calendar",), day_of_year=bad(days), calendar=SEASON)


def test_calendar_input_needs_the_season():
    with pytest.raises(ValueError, match="calendar season"):
        F.build_inputs(np.full((1, 60), 20.0), extra_inputs=("calendar",))


@pytest.mark.parametrize("d, match", [
    ({"alpha": float("nan"), "beta": 0.0}, "invalid"),
    ({"alpha": 0.2, "beta": 0.0, "level_days": 0}, "invalid"),
    ({"alpha": 1.2, "beta": 0.0}, "not positive"),
])
def test_invalid_stored_seasons_are_refused(d, match):
    with pytest.raises(ValueError, match=match):
        F.CalendarSeason.from_dict(d)
    assert F.CalendarSeason.from_dict(SEASON.to_dict()) == SEASON


def test_season_of_the_meta_period_is_fitted_before_it_and_never_sees_the_holdout():
    """A marker after the stop day (the meta period, the holdout) changes nothing in the fitted season."""
    cfg = T.TrainConfig(use_covariates=False, extra_inputs=("seasonal", "calendar"))
    clean = sample_arrays(3)
    part = T.cut_training_part(clean, cfg)
    stop = lambda t: t - cfg.meta_days  # noqa: E731
    before = T.fit_calendar(part, cfg, stop)
    planted = sample_arrays(3)
    for s in planted:
        s.demand[len(s.demand) - cfg.holdout_days - cfg.meta_days:] = 987654.0
    assert T.fit_calendar(T.cut_training_part(planted, cfg), cfg, stop) == before
    assert T.fit_calendar(part, cfg, lambda t: t) != before  # the refit uses the meta period too
    # the sample data's yearly cycle peaks in early April: sin(2π·96/365) > 0.99, so alpha > 0 dominates
    assert before.alpha > 0.2 and abs(before.beta) < before.alpha


def test_calendar_needs_dates():
    cfg = T.TrainConfig(use_covariates=False, extra_inputs=("calendar",))
    series = sample_arrays(1)
    series[0].dates = None
    with pytest.raises(ValueError, match="needs dates"):
        T.fit_calendar(T.cut_training_part(series, cfg), cfg, lambda t: t)


@pytest.mark.slow
def test_a_calendar_model_is_trained_served_and_given_the_calendar_by_the_simulator(tmp_path):
    """train --meta-inputs seasonal,calendar end to end: the card stores the season, the served model reads the
    day of year, and the simulator hands it the calendar of its context and horizon."""
    from engine.data.dataset import load_csv
    from engine.forecast.base import Covariates
    from engine.forecast.commands import train_model
    from engine.forecast.onnx_model import OnnxEnsemble
    from engine.simulation.simulator import SimConfig, Simulator
    from tests.forecast.conftest import SAMPLE, TINY
    out = tmp_path / "cal"
    card = train_model(SAMPLE, out, series="SKU_1/WH_1,SKU_1/WH_2", use_covariates=False, meta_fit="convex",
                       extra_inputs=("seasonal", "calendar"), log=lambda m: None, command="pytest", **TINY)
    assert card["extra_inputs"] == ["seasonal", "calendar"] and card["meta"]["inputs"][-1] == "calendar"
    assert F.CalendarSeason.from_dict(card["calendar_season"]).alpha > 0.2
    assert "Calendar season (pooled over the series" in (out / "CARD.md").read_text()
    model = OnnxEnsemble.load(out)
    assert model.uses_calendar and model.reads_covariates and not model.uses_covariates
    seen = []
    predict = model.predict

    def spy(demand, covariates=None):
        seen.append((demand.shape[1], covariates))
        return predict(demand, covariates)

    model.predict = spy
    series = load_csv(SAMPLE).series["SKU_1/WH_1"]
    sim = Simulator(SimConfig(days=5, lead_time=3, initial_inventory=100.0), series, model)
    rows = [sim.step() for _ in range(3)]
    t0 = sim.plan.n_context
    for day, row in enumerate(rows):
        t, cov = seen[-3 + day]
        assert t == t0 + day and cov is not None and cov.day_of_year.shape[1] >= t + model.horizon
        np.testing.assert_array_equal(cov.day_of_year[0, :t], sim.plan.day_of_year[0, :t])
        want = predict(sim._hist[:, :t], Covariates(day_of_year=sim.plan.day_of_year[:, :t + model.horizon]))
        assert row["forecast"] == pytest.approx(float(want[0, 0]), abs=1e-9)
