"""The protection-period quantile: conformal order statistic, exponential tail, ring buffer, online tracker."""
import math

import numpy as np
import pytest

from engine.protection.tracker import (
    SCALE_POWER,
    SEED_KEPT,
    ErrorBuffer,
    ProtectionTracker,
    coverage,
    error_quantile,
    protection_level,
    relative_errors,
)


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
    assert np.allclose(r, np.array([2.0, 6.0, -10.0]) / np.array([4.0, 4.0, 50.0]) ** SCALE_POWER)
    assert np.allclose(protection_level(mu, r, 4.0), actual)
    assert coverage(actual, protection_level(mu, r, 4.0)) == (1.0, 3)


def test_ring_buffer_keeps_the_most_recent_errors_and_round_trips():
    buf = ErrorBuffer(1, np.array([100.0, 200.0]), capacity=4)
    for x in (1.0, 2.0, 3.0):
        buf.push(np.array([x]))
    assert sorted(buf.values()[0]) == [1.0, 2.0, 3.0, 100.0, 200.0]  # the seed is kept until SEED_KEPT own errors
    for x in range(SEED_KEPT):
        buf.push(np.array([float(x)]))
    assert sorted(buf.values()[0]) == [float(x) for x in range(SEED_KEPT - 4, SEED_KEPT)]  # the last 4 own errors
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
        assert np.isnan(tr.cum[d + 1:]).all()  # nothing of day ≥ d is known at day d's decision
        tr.set_demand(d, demand[d])
    # error of the window that started on day 0: (1+2+3 − 10) / 10
    assert np.isclose(tr.buffer.data[0, 0], (6.0 - 10.0) / 10.0 ** SCALE_POWER)


def test_online_spread_never_reads_a_demand_after_the_decision_day(sample_series):
    """A huge demand planted on day k changes no decision of days ≤ k, and does change later safety stocks."""
    from engine.simulation.simulator import SimConfig, Simulator

    cfg = SimConfig(days=60, lead_time=3, demand="synthetic", forecaster="ma7", seed=4)
    base = Simulator(cfg, sample_series)
    base.run()
    k = 30
    sim = Simulator(cfg, sample_series)
    sim._future[k] = 1e6  # the marker, in the future of every decision up to day k
    sim.run()
    for a, b in zip(base.ledger[:k + 1], sim.ledger[:k + 1]):
        assert (a["mu"], a["safety_stock"], a["order_up_to"], a["order_qty"]) == \
               (b["mu"], b["safety_stock"], b["order_up_to"], b["order_qty"])
    assert any(a["safety_stock"] != b["safety_stock"] for a, b in zip(base.ledger[k + 1:], sim.ledger[k + 1:]))
    assert {r["quantile_method"] for r in base.ledger} <= {"prior", "mixture"}


def test_protection_period_uses_the_effective_lead_time_of_the_queue(sample_series):
    """Without crossing an order waits behind earlier ones: uniform 5..9 has E[L] = 7 but waits ~7.45 days."""
    from engine.demand.modes import effective_lead_times
    from engine.simulation.simulator import SimConfig, Simulator

    queued = SimConfig(lead_time_dist={"kind": "uniform", "low": 5, "high": 9})
    crossing = SimConfig(lead_time_dist={"kind": "uniform", "low": 5, "high": 9}, allow_crossing=True)
    assert 7.3 < effective_lead_times(queued).mean() < 7.6
    assert abs(effective_lead_times(crossing).mean() - 7.0) < 0.05
    late = SimConfig(days=10, demand="synthetic", forecaster="ma7", lead_time_dist={"kind": "uniform", "low": 6,
                                                                                   "high": 10})
    info = Simulator(late, sample_series).info()["protection"]
    assert info["effective_lead_time"] > 8.3 and info["window"] == 9


def test_tail_sum_of_a_row_is_the_same_alone_and_in_a_large_batch():
    from engine.protection.tracker import _row_sum

    rng = np.random.default_rng(3)
    a = rng.standard_normal((100, 37)) * 10.0 ** rng.uniform(-4, 4, (100, 37))
    together = _row_sum(a)
    alone = np.array([_row_sum(a[i:i + 1])[0] for i in range(100)])
    assert np.array_equal(together, alone)
    assert np.allclose(together, a.sum(axis=1))


def test_overlapping_windows_read_the_sample_at_a_level_raised_for_their_effective_size():
    from engine.protection.tracker import ErrorBuffer, ProtectionTracker

    tr = ProtectionTracker(1, 200, window=8, seed_errors=np.linspace(-1.0, 1.0, 30))
    q = 0.9
    n_eff = 30 / 8   # 30 overlapping seed windows of 8 days carry about 30/8 independent errors
    assert tr.buffer.effective_level(q) == pytest.approx(1.0 - 0.1 * n_eff / (n_eff + 1.0))
    independent = ProtectionTracker(1, 200, window=8, seed_errors=np.linspace(-1.0, 1.0, 30), seed_independent=True)
    assert independent.buffer.effective_level(q) == pytest.approx(1.0 - 0.1 * 30 / 31)
    assert tr.buffer.effective_level(q) > independent.buffer.effective_level(q) > q
    assert ErrorBuffer(1, np.linspace(-1.0, 1.0, 30)).effective_level(q) == q   # one-day windows: no overlap
    # the level falls back towards q as the run's own errors accumulate
    for _ in range(160):
        tr.buffer.push(np.array([0.0]))
    assert q < tr.buffer.effective_level(q) < 1.0 - 0.1 * n_eff / (n_eff + 1.0)


def test_prior_distribution_inverts_and_extends_the_sample_with_an_exponential_tail():
    from engine.protection.tracker import MIN_TAIL_COUNT, PriorDistribution

    rng = np.random.default_rng(8)
    prior = PriorDistribution(rng.exponential(1.0, 8000), overlap=8.0)
    assert prior.p_cut == pytest.approx(1.0 - MIN_TAIL_COUNT / 1000.0)
    p = np.array([0.1, 0.5, 0.9, 0.99, 0.999, 0.9999])
    assert np.allclose(prior.cdf(prior.quantile(p)), p, atol=1e-3)
    # beyond what 1,000 effective errors resolve, Exp(1)'s quantile −ln(1 − p) is continued by the tail fit
    assert np.all(np.abs(prior.quantile(p[3:]) - (-np.log(1.0 - p[3:]))) < 0.25 * -np.log(1.0 - p[3:]))
    assert np.all(np.diff(prior.quantile(np.linspace(0.001, 0.99999, 500))) >= 0)


def _sums(own):
    return own.shape[1], own.sum(axis=1), (own * own).sum(axis=1)


def test_updated_quantile_moves_from_the_prior_to_the_run_s_own_level_and_spread():
    from engine.protection.tracker import PriorDistribution, updated_quantile

    rng = np.random.default_rng(9)
    pooled = PriorDistribution(rng.normal(0.0, 1.0, 20000))
    own = rng.normal(3.0, 2.0, (2, 4000))   # a path that runs well above the prior, twice as wide
    a = 0.99
    base = pooled.quantile(a)
    assert np.allclose(updated_quantile(pooled, np.inf, *_sums(own), 1.0, a), base)
    assert np.allclose(updated_quantile(pooled, 10.0, *_sums(own[:, :0]), 1.0, a), base)
    # a negligible prior: the own errors' location and scale with the pooled shape
    light = updated_quantile(pooled, 1e-9, *_sums(own), 1.0, a)
    assert np.allclose(light, own.mean(axis=1) + own.std(axis=1) * base)
    assert np.all(np.abs(light - (3.0 + 2.0 * 2.326)) < 0.15)
    # equal weights: the moments of the half-half mixture
    half = updated_quantile(pooled, 4000.0, *_sums(own), 1.0, a)
    m_o, v_o = own.mean(axis=1), own.var(axis=1)
    m = m_o / 2
    assert np.allclose(half, m + np.sqrt((1 + m * m + v_o + (m_o - m) ** 2) / 2) * base)
    assert np.all(base < half) and np.all(half < light)


def test_running_sums_of_the_ring_follow_its_contents_and_survive_a_state_round_trip():
    rng = np.random.default_rng(10)
    buf = ErrorBuffer(3, capacity=50)
    for _ in range(137):   # the ring wraps: the oldest errors leave the sums
        buf.push(rng.normal(size=3))
    held = buf.data[:, :buf.count]
    assert np.allclose(buf.sum1, held.sum(axis=1)) and np.allclose(buf.sum2, (held * held).sum(axis=1))
    single = ErrorBuffer(1, capacity=50)
    rng = np.random.default_rng(10)
    for _ in range(137):
        single.push(rng.normal(size=3)[:1])
    assert single.sum1[0] == buf.sum1[0] and single.sum2[0] == buf.sum2[0]   # row 0 alone: the same bits
    back = ErrorBuffer.from_state(single.to_state())
    assert back.sum1[0] == single.sum1[0] and back.sum2[0] == single.sum2[0]


def test_prior_paths_are_disjoint_from_evaluation_and_selection_paths(sample_series):
    """The prior's extra paths come from their own SeedSequence family: none equals a replication's path (the
    calibration's evaluation and selection paths are replications 0..119)."""
    from engine.demand.modes import build_plan
    from engine.forecast.registry import get_forecaster
    from engine.protection.prior import forecaster_budget, prior_path_count, prior_paths
    from engine.simulation.simulator import SimConfig

    f = get_forecaster("ma7")
    for mode in ("synthetic", "forecast-noise"):
        cfg = SimConfig(days=60, lead_time=7, demand=mode, forecaster="ma7", seed=11).validate()
        plan, days = prior_paths(cfg, sample_series, f, 8)
        paths = prior_path_count(days, 8, forecaster_budget(f))
        runs = build_plan(SimConfig(days=days + 7, lead_time=7, demand=mode, forecaster="ma7", seed=11).validate(),
                          sample_series, f.min_history, list(range(128)))  # evaluation + selection paths
        mine = plan.future if mode == "synthetic" else plan.noise_z
        theirs = runs.future if mode == "synthetic" else runs.noise_z
        assert mine.shape == (paths, days + 7)
        assert not np.any(np.all(mine[:, None, :] == theirs[None, :, :], axis=2))
        assert len({tuple(np.round(r, 9)) for r in mine}) == paths   # distinct among themselves too


def test_prior_holds_a_fixed_number_of_independent_windows_for_every_protection_period():
    """paths × days / W reaches PRIOR_WINDOWS for every W (never fewer than PRIOR_PATHS paths), within the budget."""
    from engine.protection.prior import PRIOR_BUDGET, PRIOR_PATHS, PRIOR_WINDOWS, prior_path_count

    assert prior_path_count(180, 8) == PRIOR_PATHS          # the 64 paths the windows count was set from
    assert prior_path_count(180, 3) == PRIOR_PATHS          # short periods keep the fewest paths
    assert prior_path_count(180, 15) == 120                 # L = 14: 120 × 180 / 15 = 1,440
    for days in (20, 60, 180, 365):
        for window in (1, 3, 8, 15, 31, 61):
            n = prior_path_count(days, window)
            assert n >= PRIOR_PATHS
            within = n * (days + window - 1) <= PRIOR_BUDGET
            assert within or n == PRIOR_PATHS                  # only the floor of paths may exceed the budget
            if n * days / window < PRIOR_WINDOWS:               # short of the windows only when the budget binds
                assert (n + 1) * (days + window - 1) > PRIOR_BUDGET
            elif n > PRIOR_PATHS:                               # and never more paths than the windows need
                assert (n - 1) * days / window < PRIOR_WINDOWS


def test_a_forecasters_budget_buys_the_tail_windows_and_no_more():
    """With a budget of path-days the prior holds TAIL_WINDOWS independent windows as far as the budget reaches;
    without one (the ONNX ensembles, Croston) it keeps the base count."""
    from engine.protection.prior import PATH_SETUP_DAYS, TAIL_WINDOWS, prior_path_count

    budget = 540_000
    assert prior_path_count(180, 3, budget) == 267          # 267 × 180 / 3 ≥ 16,000
    assert prior_path_count(180, 15, budget) == 1334        # 1,334 × (194 + 200 to draw it) path-days ≤ budget
    assert prior_path_count(180, 61, budget) == budget // (240 + PATH_SETUP_DAYS)   # the budget binds
    for days in (20, 60, 180, 365):
        for window in (1, 3, 8, 15, 31, 61):
            n = prior_path_count(days, window, budget)
            base = prior_path_count(days, window)
            per_path = days + window - 1 + PATH_SETUP_DAYS
            assert n >= base
            if n > base:
                assert n * per_path <= budget
                assert (n - 1) * days / window < TAIL_WINDOWS    # never more than the tail windows need
                assert n * days / window >= TAIL_WINDOWS or (n + 1) * per_path > budget
            assert prior_path_count(days, window, 0) == base


def test_a_long_protection_period_simulates_more_prior_paths(sample_series):
    from engine.forecast.registry import get_forecaster
    from engine.protection.prior import forecaster_budget, prior_path_count, simulated_prior
    from engine.protection.tracker import floor_for
    from engine.simulation.simulator import SimConfig

    f = get_forecaster("ma7")
    assert forecaster_budget(f) > 0 and forecaster_budget(get_forecaster("croston")) == 0
    cfg = SimConfig(days=180, lead_time=14, demand="forecast-noise", forecaster="ma7", seed=5).validate()
    errors = simulated_prior(cfg, sample_series, f, 15, floor_for(15))
    assert errors.shape == (prior_path_count(180, 15, forecaster_budget(f)), 180) == (1334, 180)
    short = simulated_prior(SimConfig(days=180, lead_time=2, demand="forecast-noise", forecaster="ma7",
                                      seed=5).validate(), sample_series, f, 3, floor_for(3))
    assert short.shape == (267, 180)


def test_simulated_modes_plan_from_the_prior_and_reuse_it(sample_series):
    from engine.protection.prior import _cache
    from engine.simulation.batch import run_batch
    from engine.simulation.simulator import SimConfig, Simulator

    cfg = SimConfig(days=40, lead_time=7, demand="synthetic", forecaster="ma7", seed=3)
    sim = Simulator(cfg, sample_series, replication=1)
    sim.run()
    info = sim.info()["protection"]
    assert info["seed"] == "simulated" and info["seed_errors"] >= 40 * 64
    assert sim.ledger[0]["quantile_method"] == "prior" and sim.ledger[-1]["quantile_method"] == "mixture"
    cached = len(_cache)
    batch = run_batch(cfg, sample_series, 2, keep_ledgers=2)
    assert len(_cache) == cached   # the same prior: not simulated again
    assert [r["order_up_to"] for r in batch.ledger(1)] == [r["order_up_to"] for r in sim.ledger]
    replayed = Simulator(SimConfig(days=40, lead_time=7, demand="replay", forecaster="ma7"), sample_series)
    assert replayed.info()["protection"]["seed"] == "context"


def test_seasonal_prior_follows_the_season_of_the_decision_day():
    """Errors twice as wide in the second half of the days: a day's prior quantile is read from its own season."""
    from engine.protection.tracker import SeasonalPrior

    rng = np.random.default_rng(12)
    days = 140
    width = np.where(np.arange(days) < 70, 1.0, 2.0)
    errors = rng.normal(0.0, 1.0, (64, days)) * width
    prior = SeasonalPrior(errors, overlap=1.0)
    early, late = prior.at(10), prior.at(120)
    assert late.quantile(0.9) == pytest.approx(2.0 * early.quantile(0.9), rel=0.1)
    assert prior.at(10 + days) is early          # days beyond the prior's repeat it
    fresh = rng.normal(0.0, 2.0, 200_000)
    for q in (0.9, 0.99, 0.9988):   # the pooled shape with the late block's scale covers fresh late errors
        assert abs(float(np.mean(fresh <= late.quantile(q))) - q) < 0.25 * (1.0 - q) + 0.002
    assert np.allclose(late.cdf(late.quantile(np.array([0.2, 0.5, 0.95]))), [0.2, 0.5, 0.95], atol=1e-3)


def test_with_a_seasonal_prior_own_errors_are_held_standardised_and_mapped_back_by_day():
    from engine.protection.tracker import SeasonalPrior

    rng = np.random.default_rng(13)
    days, w = 70, 3
    width = np.where(np.arange(days) < 35, 1.0, 3.0)
    prior = SeasonalPrior(rng.normal(0.0, 1.0, (64, days)) * width, overlap=w)
    tr = ProtectionTracker(1, days, w, floor=1.0, prior=prior)
    for d in range(days):
        tr.set_mu(d, 10.0)
        safety, method = tr.safety(d, 0.9)
        z = tr.buffer.cached[2][0]
        part = prior.at(d)
        assert safety[0] == pytest.approx((part.location + part.scale * z) * 10.0 ** SCALE_POWER)
        assert method == ("prior" if d < w else "mixture")
        tr.set_demand(d, 10.0 / w + 1.0)   # every window errs by +w units: r = w / √10
    r = w / 10.0 ** SCALE_POWER
    assert tr.buffer.data[0, 0] == pytest.approx(prior.standardise(r, 0))
    assert tr.buffer.data[0, 40] == pytest.approx(prior.standardise(r, 40))
