"""Random lead times where the level is set: the prior's protection periods are the realised ones (order day to
the arrival of that day's order, over the lead times each extra path drew), the lost-sales level is chosen on
those paths, and coverage is counted over the realised periods."""
from __future__ import annotations

import numpy as np
import pytest

from engine.protection.lead_times import arrival_lead_times, distribution_from_history, realised_window_sums


@pytest.fixture
def small_prior(monkeypatch):
    """The prior's fewest paths (PRIOR_PATHS) and fresh caches: the tests stay fast and leave no small prior behind
    for others to reuse."""
    from engine.protection import lost_sales_level, prior

    monkeypatch.setattr(prior, "forecaster_budget", lambda forecaster: 0)
    monkeypatch.setattr(prior, "_cache", type(prior._cache)(16))
    monkeypatch.setattr(prior, "_disk", None)
    monkeypatch.setattr(lost_sales_level, "_cache", type(lost_sales_level._cache)(32))


def test_without_crossing_an_order_waits_for_the_earlier_ones():
    lead = np.array([[5, 1, 1, 6, 0]])
    np.testing.assert_array_equal(arrival_lead_times(lead, crossing=False), [[5, 4, 3, 6, 5]])
    np.testing.assert_array_equal(arrival_lead_times(lead, crossing=True), lead)


def test_a_realised_window_runs_from_the_order_day_to_the_arrival_day():
    demand = np.array([[1.0, 2.0, 4.0, 8.0, 16.0]])
    sums = realised_window_sums(demand, np.array([[0, 2, 1, 3]]))
    np.testing.assert_array_equal(sums[0, :3], [1.0, 2 + 4 + 8, 4 + 8])
    assert np.isnan(sums[0, 3])   # runs past the last day: not counted


def test_a_lead_time_history_gives_its_range_and_a_constant_column_a_fixed_lead_time():
    assert distribution_from_history([4, 7, 5, None]) == {"kind": "uniform", "low": 4, "high": 7}
    assert distribution_from_history([7, 7, 7]) is None


def test_the_priors_windows_follow_the_lead_times_drawn_on_its_paths(sample_series, small_prior):
    from engine.forecast.registry import get_forecaster
    from engine.protection.prior import _simulated_prior, prior_paths
    from engine.protection.tracker import floor_for, relative_errors
    from engine.simulation.simulator import SimConfig

    f = get_forecaster("ma7")
    cfg = SimConfig(days=30, lead_time_dist={"kind": "poisson", "mean": 5}, demand="synthetic", forecaster="ma7",
                    seed=3).validate()
    window, floor = 7, floor_for(7)
    got = _simulated_prior(cfg, sample_series, f, window, floor)
    plan, days = prior_paths(cfg, sample_series, f, window)
    assert got.shape == (4, plan.future.shape[0], days)
    drawn = got[3].astype(np.int64)
    np.testing.assert_array_equal(drawn, plan.lead_times[:, :days])
    assert len(np.unique(drawn)) > 5                       # lead times vary path by path and day by day
    lead_eff = arrival_lead_times(plan.lead_times, crossing=False)[:, :days]
    want = relative_errors(realised_window_sums(plan.future, lead_eff), got[1], floor)
    np.testing.assert_allclose(got[0], want, rtol=0, atol=1e-12)
    # and not the fixed W-day window's errors
    c = np.concatenate([np.zeros((len(plan.future), 1)), np.cumsum(plan.future, axis=1)], axis=1)
    fixed = relative_errors(c[:, window:window + days] - c[:, :days], got[1], floor)
    assert np.mean(np.abs(got[0] - fixed) > 1e-9) > 0.5
    # the lead-time spread widens the errors' spread
    assert got[0].std() > 1.2 * fixed.std()


def test_a_random_lead_time_sets_a_higher_level_than_its_fixed_mean(sample_series, small_prior):
    """Lost sales, costs' level: with poisson lead times the order-up-to level is above that of a fixed lead
    time with the same protection period (same forecasts, same demand paths): the spread of the lead time enters."""
    from engine.simulation.batch import run_batch
    from engine.simulation.simulator import SimConfig

    base = dict(days=30, demand="synthetic", forecaster="ma7", seed=3)
    random = run_batch(SimConfig(**base, lead_time_dist={"kind": "poisson", "mean": 5}), sample_series, 4,
                       keep_ledgers=4)
    window = int(random.info["window"])
    fixed = run_batch(SimConfig(**base, lead_time=window - 1), sample_series, 4, keep_ledgers=4)
    assert int(fixed.info["window"]) == window
    np.testing.assert_allclose(random.kept["mu"], fixed.kept["mu"])   # same forecasts: only the spread differs
    assert np.mean(random.kept["safety_stock"]) > 1.3 * np.mean(fixed.kept["safety_stock"])
    assert np.mean(random.kept["order_up_to"]) > np.mean(fixed.kept["order_up_to"])


def test_the_runs_own_errors_are_over_realised_periods_once_the_longest_has_passed():
    from engine.protection.tracker import ProtectionTracker, relative_errors

    days, reach = 12, 4
    demand = np.arange(1.0, 25.0).reshape(days, 2)     # day-major: two rows
    lead_eff = np.array([[0, 4, 2, 1] * 3, [3, 3, 3, 3] * 3])
    tr = ProtectionTracker(2, days, 3, floor=1.0, lead_eff=lead_eff, reach=reach)
    for d in range(days):
        tr.set_mu(d, [5.0, 5.0])
        tr.update(d)
        assert tr.buffer.online == max(0, d - reach)     # day s enters on day s + reach + 1, in every row alike
        tr.set_demand(d, demand[d])
    tr.update(days)
    sums = realised_window_sums(demand.T, lead_eff)
    want = relative_errors(sums[:, :days - reach], 5.0, 1.0)
    np.testing.assert_allclose(tr.buffer.data[:, :days - reach], want)


def test_the_portfolio_plans_and_scores_random_lead_times(sample_dataset):
    """A random lead time in the portfolio: realised protection periods in the backtest errors, drawn lead times on
    the selection and evaluation paths; the level is higher than with the fixed lead time it plans with."""
    from engine.studies.portfolio import PortfolioSettings, run_chunk

    series = list(sample_dataset.series.values())[:2]
    common = dict(replications=6, days=60, objective="fill-rate")  # the same target: a random lead needs more stock
    random = run_chunk(series, PortfolioSettings(lead_time_dist="uniform:4:10", **common).validate())
    planned = random[0]["lead_time"]
    assert planned == 8            # round(mean effective lead time): uniform 4..10 queues above its mean 7
    fixed = run_chunk(series, PortfolioSettings(lead_time=planned, **common).validate())
    for r, f in zip(random, fixed):
        assert r["protection_days"] == f["protection_days"] == planned + 1
        assert r["relative_error_quantile"] > f["relative_error_quantile"] or r["policy"] != f["policy"]
        assert r["average_on_hand"] > f["average_on_hand"]
