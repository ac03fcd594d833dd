"""A quantile model's own order-up-to level: the level is calibrated on held-out days so that the fill-rate target
is met on later unseen days (where the naive level τ = target over-delivers), the calibration never reads a day at
or after the origin, and `engine backtest-policy --forecaster` refuses a model that saw the days it would be judged
or calibrated on."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from scipy.stats import norm

from engine.data.dataset import SeriesData
from engine.errors import ConfigError
from engine.studies import quantile_backtest
from engine.studies.history_replay import fill_rates
from engine.studies.policy_backtest import BACKTEST_COLUMNS, BacktestSettings, run_backtest
from engine.studies.quantile_level import (
    calibrated_level,
    choose_level,
    level_paths,
    replay_levels,
    sum_quantile_paths,
)


class PoissonSums:
    """Quantiles of a d-day demand sum read off the history: a normal approximation of a Poisson sum whose daily
    mean is the last 112 days' (`empirical=False`), or the empirical quantiles of the last 182 days' d-day sums (any
    law). Records the longest history it was shown."""

    name = "ensemble:poisson-sums"
    horizon = 31
    min_history = 28
    quantiles = np.array([0.5, 0.75, 0.9, 0.95, 0.99])

    def __init__(self, last_date: str = "2020-01-01", empirical: bool = False) -> None:
        self.card = {"training": {"last_train_date_by_series": {"any": last_date}}}
        self.seen = 0
        self.empirical = empirical

    def predict_sum_quantiles(self, demand, covariates, days, levels):
        self.seen = max(self.seen, demand.shape[1])
        if self.empirical:
            c = np.cumsum(demand[:, -182:], axis=1)
            sums = c[:, days:] - c[:, :-days]
            return np.quantile(sums, np.asarray(levels), axis=1).T
        m = days * demand[:, -112:].mean(axis=1)[:, None]
        return np.maximum(m + norm.ppf(np.asarray(levels))[None, :] * np.sqrt(m), 0.0)


def poisson_panel(n=300, days=400, seed=5):
    rng = np.random.default_rng(seed)
    mu = rng.uniform(1.0, 20.0, n)
    return rng.poisson(mu[:, None], (n, days)).astype(float)


def test_choose_level_interpolates_and_says_when_the_grid_falls_short():
    levels = [0.8, 0.9, 0.95]
    assert choose_level(levels, [0.90, 0.94, 0.98], 0.96) == pytest.approx(0.925)
    assert choose_level(levels, [0.97, 0.98, 0.99], 0.95) == 0.8
    assert choose_level(levels, [0.90, 0.91, 0.92], 0.95) == 0.95
    assert choose_level(levels, [0.90, 0.96, 0.95], 0.955) == pytest.approx(0.8 + 0.1 * 0.55 / 0.6)  # made monotone


def test_the_calibrated_level_keeps_the_target_on_later_days_where_the_naive_level_over_delivers():
    D = poisson_panel()
    n = len(D)
    lead = np.full(n, 7)
    h, p = np.full(n, 0.01), np.full(n, 1.0)
    model = PoissonSums()
    cal = calibrated_level(model, D, None, [(130, 90), (220, 90)], lead, h, p, 0.95)
    assert model.seen <= 310                                   # the calibration read nothing from day 310 on
    assert cal["pooled"] < 0.93 and abs(cal["fill"] - 0.95) < 0.005 and np.all(cal["level"] == cal["pooled"])
    S = sum_quantile_paths(model, D, None, 310, 90, lead, [cal["pooled"], 0.95])
    fill = fill_rates(replay_levels(D[:, 310:], S, lead, h, p)).reshape(n, 2)
    assert abs(np.nanmean(fill[:, 0]) - 0.95) < 0.01           # the promise holds on unseen days
    assert np.nanmean(fill[:, 1]) > 0.965                      # τ = target itself would over-deliver


def test_each_demand_class_gets_its_own_level_nearer_the_target():
    """Smooth series (Poisson 15) and intermittent ones (a sale on 15 % of days): under one pooled level the first
    over-deliver and the second fall short; a level per class brings both near the target on later days (not onto
    it: each class's curve is shrunk toward the pooled one)."""
    rng = np.random.default_rng(8)
    n, T = 300, 400
    smooth = rng.poisson(15.0, (n, T))
    sparse = np.where(rng.random((n, T)) < 0.15, rng.poisson(2.0, (n, T)) + 1, 0)
    D = np.vstack([smooth, sparse]).astype(float)
    labels = ["smooth"] * n + ["intermittent"] * n
    lead = np.full(2 * n, 7)
    h, p = np.full(2 * n, 0.01), np.full(2 * n, 1.0)
    model = PoissonSums(empirical=True)
    pooled = calibrated_level(model, D, None, [(130, 90), (220, 90)], lead, h, p, 0.95)
    cal = calibrated_level(model, D, None, [(130, 90), (220, 90)], lead, h, p, 0.95, labels)
    assert cal["by_class"]["intermittent"] > cal["by_class"]["smooth"] + 0.01
    for c in (pooled, cal):
        fill = fill_rates(replay_levels(D[:, 310:], level_paths(model, D, None, 310, 90, lead, c["level"])[:, None],
                                        lead, h, p))
        c["got"] = np.nanmean(fill[:n]), np.nanmean(fill[n:])
    worst = {id(c): max(abs(f - 0.95) for f in c["got"]) for c in (pooled, cal)}
    assert pooled["got"][0] - pooled["got"][1] > 0.04          # one level: the classes end far apart
    assert worst[id(cal)] < 0.02 and worst[id(cal)] < worst[id(pooled)] / 2   # a level per class: both near it


def dated_series(n=40, days=300, seed=2):
    D = poisson_panel(n, days, seed)
    start = dt.date(2020, 1, 1)
    dates = [(start + dt.timedelta(days=k)).isoformat() for k in range(days)]
    return [SeriesData(key=f"I{i}/S", dates=dates, demand=D[i], promo=np.zeros(days), unit_cost=10.0,
                       unit_price=20.0) for i in range(n)], dates


def test_backtest_with_a_quantile_model_records_its_level_and_meets_the_promise(monkeypatch):
    series, dates = dated_series()
    model = PoissonSums(last_date=dates[300 - 2 * 60 - 1])    # trained up to the calibration window
    monkeypatch.setattr(quantile_backtest, "quantile_model", lambda name: model)
    out = run_backtest(series, BacktestSettings(holdout_days=60, lead_time=5, forecaster="ensemble:poisson-sums"))
    recs = out["records"]
    assert len(recs) == 40 and all(r["forecaster"] == "ensemble:poisson-sums" for r in recs)
    assert set(BACKTEST_COLUMNS) <= set(recs[0])
    assert len({r["quantile_level"] for r in recs}) == 1 and 0.5 <= recs[0]["quantile_level"] < 0.95
    assert model.seen <= 300 - 1                                # each day's level reads the days before it only
    t = out["totals"]
    assert abs(t["promised_fill_rate"] - 0.95) < 0.01 and abs(t["realised_fill_rate"] - 0.95) < 0.02
    assert out["baseline"]["realised_fill_rate"] is not None


def test_backtest_refuses_a_model_that_saw_the_calibration_days(monkeypatch):
    series, dates = dated_series(n=5)
    monkeypatch.setattr(quantile_backtest, "quantile_model", lambda name: PoissonSums(last_date=dates[250]))
    with pytest.raises(ConfigError, match=r"--holdout-days 120\b"):
        run_backtest(series, BacktestSettings(holdout_days=60, lead_time=5, forecaster="ensemble:poisson-sums"))


def test_backtest_with_a_quantile_model_is_fill_rate_only_and_names_a_forecaster_without_quantiles():
    with pytest.raises(ConfigError, match="fill-rate"):
        BacktestSettings(objective="cost", forecaster="ensemble:x").validate()
    series, _ = dated_series(n=3)
    with pytest.raises(ConfigError, match="no quantiles of the demand sum"):
        run_backtest(series, BacktestSettings(holdout_days=60, forecaster="ses"))
