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
from engine.simulation.metrics import fill_rate
from engine.studies import quantile_backtest
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
    fill = fill_rate(replay_levels(D[:, 310:], S, lead, h, p), np.nan).reshape(n, 2)
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
        fill = fill_rate(replay_levels(D[:, 310:], level_paths(model, D, None, 310, 90, lead, c["level"])[:, None],
                                        lead, h, p), np.nan)
        c["got"] = np.nanmean(fill[:n]), np.nanmean(fill[n:])
    worst = {id(c): max(abs(f - 0.95) for f in c["got"]) for c in (pooled, cal)}
    assert pooled["got"][0] - pooled["got"][1] > 0.04          # one level: the classes end far apart
    assert worst[id(cal)] < 0.02 and worst[id(cal)] < worst[id(pooled)] / 2   # a level per class: both near it


def test_under_the_cost_objective_the_level_follows_the_cost_of_a_lost_sale():
    """Least realised cost: a lost sale worth a hundred days of holding calls for a high quantile, one worth a tenth
    of a day's holding for a low one; the chosen level's cost on the calibration days is the least of the grid's."""
    D = poisson_panel(n=120)
    n = len(D)
    lead = np.full(n, 3)
    model = PoissonSums()
    dear = calibrated_level(model, D, None, [(130, 90), (220, 90)], lead, np.full(n, 0.01), np.full(n, 1.0), 0.95,
                            objective="cost")
    cheap = calibrated_level(model, D, None, [(130, 90), (220, 90)], lead, np.full(n, 1.0), np.full(n, 0.1), 0.95,
                             objective="cost")
    assert dear["pooled"] >= 0.95 and cheap["pooled"] <= 0.6
    assert np.all(dear["lot"] == 0) and dear["fill"] > cheap["fill"] + 0.05
    for tau in (0.5, 0.9, 0.99):   # no grid level is cheaper on the same days
        S = level_paths(model, D, None, 130, 90, lead, np.full(n, tau))[:, None, :]
        tot = replay_levels(D[:, 130:220], S, lead, np.full(n, 0.01), np.full(n, 1.0))
        S2 = level_paths(model, D, None, 220, 90, lead, np.full(n, tau))[:, None, :]
        tot2 = replay_levels(D[:, 220:310], S2, lead, np.full(n, 0.01), np.full(n, 1.0))
        other = (tot["holding"] + tot["stockout"] + tot2["holding"] + tot2["stockout"]).mean() / 2
        assert dear["series_cost"].mean() <= other + 1e-9


def test_a_large_order_cost_brings_an_s_S_lot_with_fewer_orders_at_less_cost():
    """With K per order and candidate lots, the cost objective may order up to s + lot below s: fewer orders, and
    (K counted in the cost) no more cost on the calibration days than ordering up to the level every day."""
    from engine.policies.order_rules import OrderRules
    D = poisson_panel(n=120)
    n = len(D)
    lead = np.full(n, 3)
    h, p = np.full(n, 0.01), np.full(n, 1.0)
    rules = OrderRules(integer=True, order_cost=50.0)
    model = PoissonSums()
    args = (model, D, None, [(130, 90), (220, 90)], lead, h, p, 0.95)
    plain = calibrated_level(*args, objective="cost", rules=rules)
    mean = D[:, :310].mean(axis=1)
    lots = np.sqrt(2 * 50.0 * mean / h)[:, None] * np.array([0.5, 1.0, 2.0])[None, :]
    with_lot = calibrated_level(*args, objective="cost", rules=rules, lots=lots)
    assert np.all(with_lot["lot"] > 0) and np.all(plain["lot"] == 0)
    assert with_lot["series_orders"].mean() < 0.5 * plain["series_orders"].mean()
    assert with_lot["series_cost"].mean() < plain["series_cost"].mean()
    fill_only = calibrated_level(*args, rules=rules, lots=lots)   # the fill-rate objective never weighs a lot
    assert np.all(fill_only["lot"] == 0)


def test_a_level_calibrated_under_weekly_order_days_keeps_its_promise_under_them():
    """Orders only on Mondays (review period 7, the level covering lead time + 7 days): the τ chosen on held-out
    days replayed under that rule keeps the fill-rate promise on later days run the same way. Calibrated instead as
    if every day were an order day with a lead time of L + R − 1 days, τ is higher, and under the Monday orders it
    over-delivers: more stock than the promise needs (most days of a weekly cycle have the week's stock on hand)."""
    from engine.policies.order_rules import OrderRules
    D = poisson_panel(n=200)
    n = len(D)
    lead, cover = np.full(n, 2), np.full(n, 2 + 7 - 1)
    h, p = np.full(n, 0.01), np.full(n, 1.0)
    mondays = OrderRules(order_days=("mon",), integer=True)
    wd = 3   # demand[:, 0] is a Thursday
    target = 0.99
    cal = calibrated_level(PoissonSums(), D, None, [(130, 90), (220, 90)], cover, h, p, target, kernel_lead=lead,
                           rules=mondays, first_weekday=wd)
    daily = calibrated_level(PoissonSums(), D, None, [(130, 90), (220, 90)], cover, h, p, target)
    assert cal["pooled"] < daily["pooled"] - 0.01

    def realised(c):
        S = level_paths(PoissonSums(), D, None, 310, 90, cover, c["level"])[:, None, :]
        tot = replay_levels(D[:, 310:], S, lead, h, p, mondays, (wd + 310) % 7)
        return np.nanmean(fill_rate(tot, np.nan)), tot["on_hand"].mean()

    (got, stock), (got_daily, stock_daily) = realised(cal), realised(daily)
    assert abs(got - cal["fill"]) < 0.01 and abs(got - target) < 0.01
    assert got_daily > got and stock_daily > 1.05 * stock


def test_rules_per_row_replay_each_row_under_its_own_suppliers_rules():
    """One replay of rows under different supplier's rules gives each row the totals it gets replayed alone."""
    from engine.policies.order_rules import OrderRules
    D = poisson_panel(n=6, days=60)
    S = np.stack([np.full((6, 60), 40.0), np.full((6, 60), 60.0)], axis=1)    # (6 rows, 2 levels, 60 days)
    lead, h, p = np.full(6, 2), np.full(6, 0.01), np.full(6, 1.0)
    rules = [OrderRules(pack_size=12.0, order_days=("mon", "thu")), None, OrderRules(moq=30.0, order_cost=5.0)] * 2
    lots = np.array([0, 0, 10, 0, 0, 10.0])
    both = replay_levels(D, S, lead, h, p, rules, 4, lots)
    for i, r in enumerate(rules):
        alone = replay_levels(D[i:i + 1], S[i:i + 1], lead[:1], h[:1], p[:1], r, 4, lots[i:i + 1])
        for key in ("orders", "ordering", "on_hand", "fulfilled"):
            assert np.allclose(both[key][2 * i:2 * i + 2], alone[key])
    assert both["ordering"][4] > 0 and both["ordering"][2] == 0


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


def test_backtest_with_a_quantile_model_under_supplier_rules_and_the_cost_objective(monkeypatch):
    """Orders on Mondays and Thursdays with K per order, least cost: every level covers L + R days, the (s, S) lot
    makes fewer orders than the fill-rate level's on the same held-out days, at less realised cost."""
    series, dates = dated_series()
    model = PoissonSums(last_date=dates[300 - 2 * 60 - 1])
    monkeypatch.setattr(quantile_backtest, "quantile_model", lambda name: model)
    rules = dict(holdout_days=60, lead_time=5, forecaster="ensemble:poisson-sums", order_days="mon;thu",
                 order_cost=20.0)
    cost = run_backtest(series, BacktestSettings(objective="cost", **rules))
    fill = run_backtest(series, BacktestSettings(objective="fill-rate", **rules))
    assert all(r["policy"] == "s-S" and r["order_up_to"] > r["reorder_point"] for r in cost["records"])
    assert all(r["selection_target"] is None for r in cost["records"])
    realised = lambda out: sum(r["realised_cost"] for r in out["records"])  # noqa: E731
    assert realised(cost) < realised(fill)
    t = fill["totals"]   # the grid's lowest level (0.5) already covers the target on these weekly cycles
    assert t["promised_fill_rate"] >= 0.95 and abs(t["realised_fill_rate"] - t["promised_fill_rate"]) < 0.02


def test_backtest_with_a_quantile_model_names_a_forecaster_without_quantiles():
    series, _ = dated_series(n=3)
    with pytest.raises(ConfigError, match="no quantiles of the demand sum"):
        run_backtest(series, BacktestSettings(holdout_days=60, forecaster="ses"))
