"""Demand modes: what the simulated days' demand, known-in-advance covariates and lead times are.

- replay: actual demand = the loaded history after the context window (context = all rows except the last
  `days` unless `context_days` is given; horizon limited to what remains). Identical in every replication.
- synthetic: the generator continues the series, calibrated to the context (engine.data.generator.calibrate), with its
  own future promotions and planning forecast (known in advance to the forecaster).
- forecast-noise: the original app's mode, demand = max(0, f + N(0, noise·max(1, f))) with f the forecaster's
  forecast for the day; the promotion plan and planning column of the future come from the calibrated generator.
  Synthetic and forecast-noise use the *last* context_days rows (default: all rows) as context.
Without a Demand_Forecast column there is no planning covariate (None) in any mode.

Streams per replication r: SeedSequence([seed, r, stream]) (engine.data.generator.stream_rng), so replication r of a
batch equals a single run of replication r, and every policy sees the same demand (common random numbers).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from engine.data.dataset import SeriesData, days_of_year
from engine.data.generator import STREAM_DEMAND, STREAM_LEAD_TIME, calibrate, continue_series, future_dates, stream_rng
from engine.errors import ConfigError
from engine.forecast.base import Covariates
from engine.forecast.series_covariates import day_numbers

__all__ = ["DemandPlan", "build_plan", "context_length", "MAX_LEAD_TIME", "PAD", "effective_lead_times"]

MAX_LEAD_TIME = 60
PAD = 128  # covariate columns beyond the last simulated day (≥ forecaster horizon + protection period)


@dataclass
class DemandPlan:
    mode: str
    n_context: int
    days: int
    context: np.ndarray               # (n_context,) realised history before day 1
    future: np.ndarray | None         # (P, days) demand (replay: P = 1 shared; synthetic: P = R); None = forecast-noise
    noise_z: np.ndarray | None        # (R, days) standard normals (forecast-noise)
    noise: float
    promo: np.ndarray                 # (P, n_context + days + PAD)
    planning: np.ndarray | None       # (P, n_context + days + PAD)
    day_of_year: np.ndarray | None    # (P, n_context + days + PAD), same rows as promo (read-only view)
    dates: list[str] | None           # dates of the simulated days
    lead_times: np.ndarray            # (R, days) int lead time of an order placed on each day
    shared_demand: bool               # True when the demand path is the same in every replication
    day_number: np.ndarray | None = None  # (1, n_context + days + PAD) days since 1970-01-01 (None without dates)
    price: np.ndarray | None = None       # (1, n_context + days + PAD) the selling-price plan (None without one)

    def history(self, rows: int) -> np.ndarray:
        """(rows, n_context + days) demand a forecaster reads: the context, then the known future paths (one row
        each, or one shared row broadcast); in forecast-noise mode the future columns are left for the run to fill
        day by day (the demand depends on the forecast)."""
        hist = np.empty((rows, self.n_context + self.days))
        hist[:, :self.n_context] = self.context
        if self.future is not None:
            hist[:, self.n_context:] = self.future
        return hist

    def covariates(self) -> Covariates:
        """The known-in-advance inputs, aligned with history() (column t = the first forecast day of day t)."""
        return Covariates(promo=self.promo, planning=self.planning, day_of_year=self.day_of_year, price=self.price,
                          day_number=self.day_number)


def _fit_hint(n: int, context_days: int, days: int) -> str:
    """What fits in n rows: fewer replay days, fewer context days, or synthetic demand (only the options that can
    work: --days must stay ≥ 1)."""
    options = []
    if n - context_days >= 1:
        options.append(f"--days {n - context_days} or fewer")
    if n - days >= 0:
        options.append(f"--context-days {n - days} or fewer")
    return "use " + ", ".join(options + ["--demand synthetic"]).replace(", --demand", " or --demand")


def context_length(config, series: SeriesData, min_history: int) -> int:
    """Rows of history before day 1 (ConfigError when the series is too short)."""
    n = len(series)
    need = max(int(min_history), 1)
    if config.demand == "replay":
        ctx = config.context_days if config.context_days is not None else n - config.days
        if config.context_days is not None and config.context_days + config.days > n:
            raise ConfigError(
                f"series {series.key} has {n} rows: {config.context_days} context days + {config.days} replay days "
                f"do not fit; {_fit_hint(n, config.context_days, config.days)}", field="days", value=config.days)
        if ctx < need:
            most = n - need
            hint = f"use --days {most} or fewer" if most >= 1 else "use --demand synthetic"
            raise ConfigError(
                f"series {series.key} has {n} rows: replaying {config.days} days with forecaster "
                f"{config.forecaster or 'default'} needs at least {config.days + need} ({need} days of context); "
                f"{hint}", field="days", value=config.days)
        return ctx
    ctx = config.context_days if config.context_days is not None else n
    if ctx > n:
        raise ConfigError(f"context_days {ctx} is more than the {n} rows of series {series.key}",
                          field="context_days", value=ctx)
    if ctx < need:
        raise ConfigError(f"series {series.key} has {n} rows; the forecaster needs at least {need} days of history",
                          field="context_days", value=ctx)
    return ctx


def _doy(dates: list[str]) -> np.ndarray:
    return days_of_year(dates).astype(np.float64)


def draw_lead_times(config, seed: int, rep: int, days: int, spawn_key: tuple = ()) -> np.ndarray:
    dist = config.lead_time_dist
    if not dist:
        return np.full(days, int(config.lead_time), dtype=np.int64)
    rng = stream_rng(seed, rep, STREAM_LEAD_TIME, spawn_key)
    if dist["kind"] == "uniform":
        return rng.integers(int(dist["low"]), int(dist["high"]) + 1, days).astype(np.int64)
    return np.minimum(rng.poisson(float(dist["mean"]), days), MAX_LEAD_TIME).astype(np.int64)


def build_plan(config, series: SeriesData, min_history: int, reps: Sequence[int],
               spawn_key: tuple = ()) -> DemandPlan:
    """Demand, covariates and lead times of replications `reps` (rows in that order); a non-empty `spawn_key`
    draws them from streams disjoint from every replication's (engine.protection.prior's extra paths)."""
    ctx = context_length(config, series, min_history)
    days = int(config.days)
    total = ctx + days + PAD
    seed = int(config.seed)
    mode = config.demand
    start = len(series) - ctx if mode != "replay" else 0  # replay: context = the first rows
    context = series.demand[start:start + ctx].copy()
    ctx_dates = None if series.dates is None else series.dates[start:start + ctx]
    last_date = ctx_dates[-1] if ctx_dates else None
    lead = np.stack([draw_lead_times(config, seed, r, days, spawn_key) for r in reps])

    if mode == "replay":
        avail = min(len(series) - start, total)
        promo = np.zeros((1, total))
        promo[0, :avail] = series.promo[start:start + avail]
        planning = _held_row(series.planning, start, avail, total)
        future = series.demand[start + ctx:start + ctx + days][None, :].copy()
        dates = None if series.dates is None else series.dates[start + ctx:start + ctx + days]
        all_dates = None
        if series.dates is not None:
            all_dates = series.dates[start:start + avail] + (future_dates(series.dates[start + avail - 1],
                                                                          total - avail) or [])
        doy = None if all_dates is None else _doy(all_dates)[None, :]  # one row, like promo (shared path)
        return DemandPlan(mode, ctx, days, context, future, None, float(config.noise), promo, planning, doy, dates,
                          lead, True, day_numbers(all_dates) if all_dates else None,
                          _held_row(series.price, start, avail, total))

    params = calibrate(context, series.promo[start:start + ctx], ctx_dates,
                       None if series.planning is None else series.planning[start:start + ctx])
    fut_all = future_dates(last_date, days + PAD)
    fut_doy = None if fut_all is None else _doy(fut_all)
    history = (context, series.promo[start:start + ctx], None if ctx_dates is None else _doy(ctx_dates))
    conts = [continue_series(params, days + PAD, seed, r, offset=ctx, day_of_year=fut_doy, history=history,
                             spawn_key=spawn_key) for r in reps]
    promo = np.stack([np.concatenate([series.promo[start:start + ctx], c["promo"]]) for c in conts])
    planning = None
    if series.planning is not None:  # without a Demand_Forecast column there is no planning covariate at all
        planning = np.stack([np.concatenate([series.planning[start:start + ctx], c["planning"]]) for c in conts])
    dates = None if fut_all is None else fut_all[:days]
    doy = None
    if ctx_dates is not None:
        doy = np.broadcast_to(np.concatenate([_doy(ctx_dates), fut_doy])[None, :], promo.shape)  # (R, T) view
    # the calendar goes on past the context; the price plan of simulated days is the last price in force
    dn = day_numbers(list(ctx_dates) + list(fut_all)) if ctx_dates is not None and fut_all is not None else None
    price = _held_row(series.price, start, ctx, total)
    if mode == "synthetic":
        future = np.stack([c["demand"][:days] for c in conts])
        return DemandPlan(mode, ctx, days, context, future, None, float(config.noise), promo, planning, doy, dates,
                          lead, False, dn, price)
    z = np.stack([stream_rng(seed, r, STREAM_DEMAND, spawn_key).standard_normal(days) for r in reps])
    return DemandPlan(mode, ctx, days, context, None, z, float(config.noise), promo, planning, doy, dates, lead,
                      False, dn, price)


def _held_row(values: np.ndarray | None, start: int, avail: int, total: int) -> np.ndarray | None:
    """(1, total) a known-in-advance column of the series (planning forecast, price plan) from `start` for `avail`
    days, then its last value held (None when the series has no such column)."""
    if values is None:
        return None
    row = np.empty((1, total))
    row[0, :avail] = values[start:start + avail]
    row[0, avail:] = values[start + avail - 1]
    return row


EFFECTIVE_LEAD_DAYS = 20_000   # simulated order days for the effective lead-time distribution
EFFECTIVE_LEAD_SEED = 20_231   # fixed: the protection period must not depend on the run's seed


def effective_lead_times(config) -> np.ndarray:
    """Sample of the lead time an order really waits, from the arrival process (one order per day).

    Fixed lead time: L itself. Stochastic with crossing allowed: draws of L. Without crossing an order cannot
    overtake an earlier one, so it arrives at max(d + L_d, previous arrival): the queue makes the effective lead
    time longer than E[L] (uniform 5..9: mean ≈ 7.45 against 7). Simulated once over EFFECTIVE_LEAD_DAYS days with
    a fixed seed (independent of the run's seed, so every replication plans with the same protection period).
    """
    dist = config.lead_time_dist
    if not dist:
        return np.array([int(config.lead_time)], dtype=np.int64)
    rng = np.random.default_rng(EFFECTIVE_LEAD_SEED)
    n = EFFECTIVE_LEAD_DAYS
    if dist["kind"] == "uniform":
        lead = rng.integers(int(dist["low"]), int(dist["high"]) + 1, n).astype(np.int64)
    else:
        lead = np.minimum(rng.poisson(float(dist["mean"]), n), MAX_LEAD_TIME).astype(np.int64)
    if config.allow_crossing:
        return lead
    arrival = np.maximum.accumulate(np.arange(n) + lead)
    return arrival - np.arange(n)
