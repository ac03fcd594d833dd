"""Prior of the protection-period errors in the simulated demand modes, from extra paths of the same process.

In synthetic and forecast-noise mode the simulator knows the process its demand comes from, so the distribution
of the W-day forecast errors over the simulated days can be sampled before day 1: extra paths are
drawn exactly as the simulator draws a replication (engine.demand.modes.build_plan: the same calibrated generator,
promotions, planning column, forecast-noise draws), but from the SeedSequence family with spawn key
PRIOR_SPAWN_KEY, disjoint from every replication's streams (evaluation and selection paths alike). The chosen
forecaster then forecasts each extra path day by day from its own history, as in the run (rolling origin), and
every day's W-day error enters the prior. Nothing of the run's own paths is read.

How many extra paths (``prior_path_count``): enough that the prior holds PRIOR_WINDOWS independent W-day windows
(paths × days / W) whatever the protection period. Errors of windows that overlap are dependent, so a fixed number of
paths resolves the prior less and less as W grows (64 paths × 180 days: 1,440 independent 8-day windows but 768
15-day ones), and the prior is common to every replication of a run: its noise is an error of the whole run, which
more replications cannot average out (forecast-noise mode, ma7, L = 14: the 0.90 coverage of six seeds ranged
0.879–0.924 with 64 paths, 0.884–0.916 with 120). Never fewer than PRIOR_PATHS paths; at most PRIOR_BUDGET
path-days (forecaster calls per path and day), which bounds the cost of a Start for long protection periods.

The critical ratio of the default costs (0.9988) lies beyond what 1,440 windows resolve: its quantile is then an
order statistic with ~5 independent windows beyond it, continued by an exponential slope from 20 (PriorDistribution),
and that noise is an error of the whole run (ma7, forecast-noise, lost sales, L = 2, seed 11: the level at the
critical ratio cost 6.5 % more than the best on 600 evaluation paths, where seeds 5 and 23 cost 0–0.3 % more). A
forecaster that is cheap per path-day declares a `prior_budget` (engine.forecast.base.Forecaster; the vectorised
baselines 540,000 path-days, ≤ ~2 s), and its prior takes up to TAIL_WINDOWS independent windows within it: ~20
beyond the 0.9988 quantile, which becomes an order statistic of the prior's own errors.

The errors are relative (engine.protection.tracker.relative_errors). With a random lead time each extra path draws
its own lead times from the run's distribution (its own stream, as a replication does), and a decision day's
error is that of the demand over its realised protection period, from the order day to the arrival of the order
(engine.protection.lead_times: without crossing an order waits for the earlier ones, as in the simulator), not
over a fixed W-day window: the spread includes the lead time's, measured on the paths rather than assumed.
The prior covers the first min(days, PRIOR_DAYS) simulated days (a longer run repeats the season). It is cached
per (series, forecaster, settings that change the paths or the forecasts), so a second Start of the same run
costs nothing; the same arguments always give the same prior, so a single run equals its replication
in a batch bit for bit.
"""
from __future__ import annotations

import hashlib
from dataclasses import replace

import numpy as np

from engine.demand.modes import build_plan, effective_lead_times
from engine.forecast.base import window_sum
from engine.keyed_locks import BuildOnceCache
from engine.protection.lead_times import arrival_lead_times, realised_window_sums
from engine.protection.prior_store import PriorStore
from engine.protection.tracker import relative_errors

__all__ = ["PRIOR_PATHS", "PRIOR_DAYS", "PRIOR_SPAWN_KEY", "PRIOR_WINDOWS", "PRIOR_BUDGET", "TAIL_WINDOWS",
           "PATH_SETUP_DAYS", "simulated_prior", "prior_paths", "prior_path_count", "forecaster_budget",
           "use_prior_store", "simulated_prior_paths", "prior_key"]

PRIOR_PATHS = 64        # fewest extra paths: 64 × 180 days ≈ 1,400 disjoint 8-day windows, resolving the 0.99 quantile
PRIOR_WINDOWS = 1_440   # independent W-day windows the prior aims at: what PRIOR_PATHS give at W = 8 over 180 days
PRIOR_BUDGET = 48_000   # most path-days of a prior: four times 64 paths × 187 days (ensembles: ~1 s per 12,000)
TAIL_WINDOWS = 16_000   # independent windows a forecaster's prior_budget may buy: ~20 beyond the 0.9988 quantile
PATH_SETUP_DAYS = 200   # drawing one path's streams (~0.7 ms) costs what a vectorised forecaster's 200 path-days do
PRIOR_DAYS = 365        # at most one season of simulated days
PRIOR_SPAWN_KEY = (1,)  # SeedSequence spawn key of the prior's streams (the run's streams have none)
_cache = BuildOnceCache(16)  # the web server's threads share it
_disk: PriorStore | None = None  # and, when set, the machine's processes (use_prior_store)


def prior_path_count(days: int, window: int, budget: int = 0) -> int:
    """Extra paths of a prior over `days` decision days with W-day windows (module docstring): the fewest that hold
    PRIOR_WINDOWS independent windows (paths × days / W), at least PRIOR_PATHS, within PRIOR_BUDGET path-days; and
    with a forecaster's `budget` of path-days, the fewest that hold TAIL_WINDOWS windows as far as it reaches (each
    path counted with PATH_SETUP_DAYS for drawing it)."""
    days, window = max(int(days), 1), max(int(window), 1)
    path_days = days + window - 1
    base = max(PRIOR_PATHS, min(-(-PRIOR_WINDOWS * window // days), PRIOR_BUDGET // path_days))
    tail = min(-(-TAIL_WINDOWS * window // days), max(int(budget), 0) // (path_days + PATH_SETUP_DAYS))
    return max(base, tail)


def forecaster_budget(forecaster) -> int:
    """The path-days a prior may spend on `forecaster` (its `prior_budget`; engine.studies.scenarios.SharedForecaster
    carries its inner one's)."""
    return int(getattr(forecaster, "prior_budget", 0) or 0)


def lead_time_reach(config, window: int) -> int:
    """Days a prior path runs past its last decision day: W − 1 with a fixed lead time; with a random one, the
    longest effective lead time of the arrival process (engine.demand.modes.effective_lead_times), so that the
    realised protection periods of the last decision days lie on the path."""
    if not config.lead_time_dist:
        return max(int(window) - 1, 0)
    return max(int(window) - 1, int(effective_lead_times(config).max()))


def prior_paths(config, series, forecaster, window: int, paths: int | None = None):
    """(demand plan of the extra paths, number of decision days in the prior) — the paths themselves;
    `paths` defaults to prior_path_count with the forecaster's budget. The plan's days run lead_time_reach past
    the last decision day; its lead times are drawn from the run's distribution on the prior's own streams."""
    days = min(int(config.days), PRIOR_DAYS)
    if paths is None:
        paths = prior_path_count(days, window, forecaster_budget(forecaster))
    cfg = replace(config, days=days + lead_time_reach(config, window))
    plan = build_plan(cfg, series, forecaster.min_history, list(range(paths)), spawn_key=PRIOR_SPAWN_KEY)
    return plan, days


def _row_parts(paths: int) -> list[slice]:
    """Rows of the prior's paths in the order they are forecast: the extra paths beyond PRIOR_PATHS, then the first
    PRIOR_PATHS in a call of their own. The first PRIOR_PATHS paths are the same for every protection period, so
    scenarios of different lead times that share one forecaster (engine.studies.scenarios.SharedForecaster keeps the
    last
    block of each shape) reuse their forecasts; the extra paths differ in number and are forecast anew."""
    if paths <= PRIOR_PATHS:
        return [slice(0, paths)]
    return [slice(PRIOR_PATHS, paths), slice(0, PRIOR_PATHS)]


def prior_key(config, series, forecaster, window, floor, deviation=None) -> tuple:
    """What a prior depends on: the series, the forecaster (its name, class and identity — a served model's bytes
    and card), the settings that change the paths or the forecasts. The key of both caches (this process's and the
    machine's store), and of what is derived from a prior (engine.protection.lost_sales_level)."""
    h = hashlib.sha1(np.ascontiguousarray(series.demand, dtype=np.float64).tobytes())
    for a in (series.promo, series.planning):
        if a is not None:
            h.update(np.ascontiguousarray(a, dtype=np.float64).tobytes())
    dev = None if deviation is None else hashlib.sha1(np.asarray(deviation, dtype=np.float64).tobytes()).hexdigest()
    inner = getattr(forecaster, "inner", forecaster)
    return (series.key, h.hexdigest(), len(series), forecaster.name, type(inner).__qualname__,
            getattr(inner, "identity", ""), config.demand, int(config.seed), min(int(config.days), PRIOR_DAYS),
            config.context_days, float(config.noise), int(window), dev, float(floor),
            None if not config.lead_time_dist else tuple(sorted(config.lead_time_dist.items())),
            bool(config.allow_crossing))


def use_prior_store(directory) -> None:
    """Share priors between processes through `directory` (engine.protection.prior_store; None: this process only)."""
    global _disk
    try:
        _disk = None if directory is None else PriorStore(directory)
    except OSError:  # cannot create the directory (read-only disk): each process keeps its own priors
        _disk = None


def simulated_prior(config, series, forecaster, window: int, floor: float, deviation=None) -> np.ndarray:
    """Relative W-day errors of `forecaster` on prior_path_count extra paths of the run's demand mode: a
    (paths, min(days, PRIOR_DAYS)) array, column d the windows that begin on simulated day d."""
    return simulated_prior_paths(config, series, forecaster, window, floor, deviation)[0]


def simulated_prior_paths(config, series, forecaster, window: int, floor: float, deviation=None) -> np.ndarray:
    """The prior's extra paths as a read-only (4, paths, min(days, PRIOR_DAYS)) array: [0] the relative errors
    of the protection-period demand (simulated_prior; over each day's realised period with a random lead time),
    [1] the forecaster's W-day forecast sums μ of each decision day, [2] each day's demand, [3] the lead time
    drawn for an order placed that day (the run's distribution, on the prior's streams).
    Built once per key even when many threads ask at once (engine.keyed_locks), and once per machine when a
    prior store is in use (use_prior_store)."""
    key = prior_key(config, series, forecaster, window, floor, deviation)

    def build():
        disk = _disk
        if disk is None:
            return _simulated_prior(config, series, forecaster, window, floor, deviation)
        return disk.get_or_build(key, lambda: _simulated_prior(config, series, forecaster, window, floor, deviation))
    return _cache.get_or_build(key, build)


def _simulated_prior(config, series, forecaster, window: int, floor: float, deviation=None) -> np.ndarray:
    """(4, K, days): errors, μ, daily demand and drawn lead times of the extra paths (simulated_prior_paths)."""
    plan, days = prior_paths(config, series, forecaster, window)
    K, n_ctx = plan.future.shape[0] if plan.future is not None else plan.noise_z.shape[0], plan.n_context
    total = plan.days  # days + lead_time_reach: the prior paths run past the last decision day
    hist = plan.history(K)
    cov = plan.covariates() if forecaster.reads_covariates else None
    H = forecaster.horizon
    mu = np.empty((K, days))
    for d in range(total if plan.future is None else days):
        t = n_ctx + d
        for rows in _row_parts(K):
            f = forecaster.predict(hist[rows, :t], None if cov is None else cov.take(t + H, rows=rows))
            if d < days:
                mu[rows, d] = window_sum(f, window)
            if plan.future is None:  # forecast-noise: the day's demand is the forecast plus the mode's noise
                f0 = f[:, 0]
                hist[rows, t] = np.maximum(0.0, f0 + plan.noise_z[rows, d] * plan.noise * np.maximum(1.0, f0))
    future = hist[:, n_ctx:]
    drawn = plan.lead_times[:, :days]
    if config.lead_time_dist:  # the realised protection periods of the path's own lead times (lead_times.py)
        lead_eff = np.minimum(arrival_lead_times(plan.lead_times, bool(config.allow_crossing))[:, :days],
                              total - 1 - np.arange(days)[None, :])
        actual = realised_window_sums(future, lead_eff)
    else:
        c = np.concatenate([np.zeros((K, 1)), np.cumsum(future, axis=1)], axis=1)
        actual = c[:, window:window + days] - c[:, :days]
        if deviation is not None:  # a lead-time deviation given by the caller, as ProtectionTracker adds it
            actual = actual + np.asarray(deviation)[np.arange(days) % len(deviation)][None, :] * mu
    errors = relative_errors(actual, mu, floor)
    out = np.stack([errors, mu, future[:, :days], drawn.astype(np.float64)])
    out.setflags(write=False)
    return out
