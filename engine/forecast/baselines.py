"""Simple baseline forecasters, vectorised over paths (rows). Cheap enough for a step() under 50 µs."""
from __future__ import annotations

import numpy as np

from engine.forecast.base import Covariates, Forecaster

__all__ = ["Naive", "SeasonalNaive", "MovingAverage", "SimpleExpSmoothing", "PlanningForecast", "FourierRegression",
           "fourier_forecast", "fourier_forecast_calendar", "VECTORISED_PRIOR_BUDGET"]

YEAR_DAYS = 365.25
# a closed form vectorised over paths costs 3–9 µs per path-day (ONNX ensembles ~30, Croston's loop ~200): a prior
# of this many path-days (drawing the paths included) takes ≤ ~2 s, and buys the tail windows of
# engine.protection.prior.TAIL_WINDOWS up to L = 14 over 180 days
VECTORISED_PRIOR_BUDGET = 540_000


class Naive(Forecaster):
    """Tomorrow and every later day = the last observed demand."""

    prior_budget = VECTORISED_PRIOR_BUDGET
    rows_independent = True
    name = "naive"
    label = "Naive (last value)"
    min_history = 1

    def predict(self, demand, covariates=None):
        return np.repeat(demand[:, -1:], self.horizon, axis=1)


class SeasonalNaive(Forecaster):
    """Day t+k = the demand one season (7 days) before."""

    prior_budget = VECTORISED_PRIOR_BUDGET
    rows_independent = True
    name = "seasonal-naive"
    label = "Seasonal naive (7 days)"

    def __init__(self, period: int = 7) -> None:
        self.period = period
        self.min_history = period
        self._reps = -(-self.horizon // period)

    def predict(self, demand, covariates=None):
        last = demand[:, -self.period:]
        return np.tile(last, (1, self._reps))[:, : self.horizon]


class MovingAverage(Forecaster):
    """Mean of the last `window` days, flat over the horizon."""

    prior_budget = VECTORISED_PRIOR_BUDGET
    rows_independent = True
    label = "Moving average"

    def __init__(self, window: int = 7) -> None:
        self.window = window
        self.min_history = window
        self.name = f"ma{window}"
        self.label = f"Moving average ({window} days)"

    def predict(self, demand, covariates=None):
        m = demand[:, -self.window:].mean(axis=1)
        return np.repeat(m[:, None], self.horizon, axis=1)

    # incremental form (start / step / level, as engine.forecast.intermittent's): a simulation over rows × paths
    # advances the state one day at a time instead of re-reading the history; level = predict's day-1 forecast
    def start(self, n: int) -> dict:
        """State before any observation: the last `window` days of each row (a ring), their sum and count."""
        return {"buf": np.zeros((n, self.window)), "sum": np.zeros(n), "count": np.zeros(n, dtype=np.int64)}

    def step(self, s: dict, y: np.ndarray) -> None:
        """Advance the state by one day of demand y ((n,) array), in place."""
        rows = np.arange(len(y))
        slot = s["count"] % self.window
        s["sum"] = s["sum"] + y - s["buf"][rows, slot]
        s["buf"][rows, slot] = y
        s["count"] = s["count"] + 1

    def level(self, s: dict) -> np.ndarray:
        """Mean of the last min(days seen, window) days (0 before any day)."""
        return s["sum"] / np.maximum(np.minimum(s["count"], self.window), 1)


class SimpleExpSmoothing(Forecaster):
    """Simple exponential smoothing with a fixed α (default 0.2), level started at the first observation."""

    prior_budget = VECTORISED_PRIOR_BUDGET
    rows_independent = True
    name = "ses"
    label = "Simple exponential smoothing (α = 0.2)"
    min_history = 2

    def __init__(self, alpha: float = 0.2) -> None:
        self.alpha = alpha

    def predict(self, demand, covariates=None):
        # level_T = (1−α)^(T−1)·y_0 + Σ_{k≥1} α(1−α)^(T−1−k)·y_k  (the recursion unrolled into one weighted sum)
        t = demand.shape[1]
        w = self._weights(t)
        level = (demand * w).sum(axis=1)  # not a matmul: BLAS may round rows differently for different n
        return np.repeat(level[:, None], self.horizon, axis=1)

    # incremental form (start / step / level): the recursion level ← level + α (y − level), started at the first
    # observation; level = predict's forecast on the same history (to rounding: predict sums the unrolled weights)
    def start(self, n: int) -> dict:
        return {"level": np.zeros(n), "seen": np.zeros(n, dtype=bool)}

    def step(self, s: dict, y: np.ndarray) -> None:
        s["level"] = np.where(s["seen"], s["level"] + self.alpha * (y - s["level"]), y)
        s["seen"] = np.ones_like(s["seen"])

    def level(self, s: dict) -> np.ndarray:
        return s["level"]

    def _weights(self, t: int) -> np.ndarray:
        cache = getattr(self, "_w_cache", None)
        if cache is None or cache[0] != t:
            a = self.alpha
            w = a * (1.0 - a) ** np.arange(t - 1, -1, -1, dtype=np.float64)
            w[0] = (1.0 - a) ** (t - 1)
            self._w_cache = (t, w)
            return w
        return cache[1]


class PlanningForecast(Forecaster):
    """The file's own Demand_Forecast column for the coming days (a planner's forecast, known in advance)."""

    prior_budget = VECTORISED_PRIOR_BUDGET
    rows_independent = True
    name = "planning"
    label = "Planning forecast (Demand_Forecast column; optimistic on the sample data, see About)"
    min_history = 0
    uses_covariates = True
    requires_planning = True

    def predict(self, demand, covariates: Covariates | None = None):
        if covariates is None or covariates.planning is None:
            raise ValueError("the planning forecaster needs the Demand_Forecast column")
        t = demand.shape[1]
        out = covariates.planning[:, t:t + self.horizon]
        if out.shape[1] < self.horizon:  # past the end of the known plan: repeat its last value
            pad = np.repeat(out[:, -1:] if out.shape[1] else covariates.planning[:, -1:],
                            self.horizon - out.shape[1], axis=1)
            out = np.concatenate([out, pad], axis=1)
        if out.shape[0] != demand.shape[0]:
            out = np.broadcast_to(out, (demand.shape[0], self.horizon))
        return np.array(out, dtype=np.float64)


def _harmonics_of(days: np.ndarray) -> np.ndarray:
    ang = 2.0 * np.pi * np.asarray(days, dtype=np.float64) / YEAR_DAYS
    return np.column_stack([np.ones(len(ang)), np.cos(ang), np.sin(ang)])


_DOY_HARMONICS = _harmonics_of(np.arange(367))  # rows for days of year 0..366, looked up on the serving path
_DOY_HARMONICS.setflags(write=False)


def _harmonics(days: np.ndarray) -> np.ndarray:
    """(len, 3) design rows [1, cos, sin] of day numbers; integer days of year come from a table (no trigonometry
    per forecast: the ensemble's Fourier member is built on every simulated day)."""
    days = np.asarray(days)
    if days.dtype.kind in "iu" and len(days) and days.min() >= 0 and days.max() <= 366:
        return _DOY_HARMONICS[days]
    return _harmonics_of(days)


def fourier_forecast(demand: np.ndarray, horizon: int, days: np.ndarray | None = None,
                     min_season_days: int = 120) -> np.ndarray:
    """(n, horizon) forecasts of the yearly harmonic regression y = a + b·cos(2πd/365.25) + c·sin(2πd/365.25),
    least squares over each row's whole history (Hyndman & Athanasopoulos, Forecasting: Principles and Practice,
    3rd ed., §7.4 Fourier terms); clipped at 0.

    days: (t + horizon,) day numbers shared by the rows (e.g. day of year); None = positions 0, 1, ... — on
    consecutive daily rows the same fit (the phase is free), except across 29 February. With fewer than
    `min_season_days` days a yearly cycle cannot be estimated and the forecast is the history's mean.
    """
    n, t = demand.shape
    if t < min_season_days:
        return np.repeat(demand.mean(axis=1)[:, None], horizon, axis=1)
    d = np.arange(t + horizon, dtype=np.float64) if days is None else np.asarray(days)
    X = _harmonics(d[:t])
    # normal equations (3 × 3): one pass over the history, identical for every row
    coef = np.linalg.solve(X.T @ X, X.T @ demand.T)                # (3, n)
    return np.maximum(_harmonics(d[t:t + horizon]) @ coef, 0.0).T


class FourierRegression(Forecaster):
    """Yearly harmonic regression baseline (fourier_forecast) on the whole history before the origin.

    The day of year comes from the covariates; without dates the position in the history stands in for it (the
    same fit on consecutive daily rows, see fourier_forecast). With fewer than `min_season_days` days: the mean.
    """

    prior_budget = VECTORISED_PRIOR_BUDGET
    rows_independent = True
    name = "fourier"
    label = "Fourier regression (yearly sine/cosine + level)"
    min_history = 2
    uses_calendar = True
    min_season_days = 120

    def predict(self, demand, covariates: Covariates | None = None):
        doy = None if covariates is None else covariates.day_of_year
        return fourier_forecast_calendar(demand, self.horizon, doy, self.min_season_days)


def fourier_forecast_calendar(demand: np.ndarray, horizon: int, day_of_year: np.ndarray | None = None,
                              min_season_days: int = 120) -> np.ndarray:
    """fourier_forecast of each row on its calendar: day_of_year (n or 1, >= t + horizon) aligned with demand
    (column t = the first forecast day); without it (or too short) the positions stand in for the day of year.

    The calendar matters where the positions drift from it: across 29 February a position-based fit of the year
    after a leap year is one day out of phase with the season.
    """
    n, t = demand.shape
    if day_of_year is None or day_of_year.shape[1] < t + horizon:
        return fourier_forecast(demand, horizon, None, min_season_days)
    doy = np.asarray(day_of_year[:, :t + horizon])
    if doy.shape[0] == 1 or np.all(doy == doy[:1]):
        return fourier_forecast(demand, horizon, doy[0], min_season_days)
    return np.concatenate([fourier_forecast(demand[i:i + 1], horizon, doy[i], min_season_days)
                           for i in range(n)])
