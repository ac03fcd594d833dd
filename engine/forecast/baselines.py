"""Simple baseline forecasters, vectorised over paths (rows). Cheap enough for a step() under 50 µs."""
from __future__ import annotations

import numpy as np

from engine.forecast.base import Covariates, Forecaster

__all__ = ["Naive", "SeasonalNaive", "MovingAverage", "SimpleExpSmoothing", "PlanningForecast", "FourierRegression"]

YEAR_DAYS = 365.25


class Naive(Forecaster):
    """Tomorrow and every later day = the last observed demand."""

    name = "naive"
    label = "Naive (last value)"
    min_history = 1

    def predict(self, demand, covariates=None):
        return np.repeat(demand[:, -1:], self.horizon, axis=1)


class SeasonalNaive(Forecaster):
    """Day t+k = the demand one season (7 days) before."""

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

    label = "Moving average"

    def __init__(self, window: int = 7) -> None:
        self.window = window
        self.min_history = window
        self.name = f"ma{window}"
        self.label = f"Moving average ({window} days)"

    def predict(self, demand, covariates=None):
        m = demand[:, -self.window:].mean(axis=1)
        return np.repeat(m[:, None], self.horizon, axis=1)


class SimpleExpSmoothing(Forecaster):
    """Simple exponential smoothing with a fixed α (default 0.2), level started at the first observation."""

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


class FourierRegression(Forecaster):
    """Yearly harmonic regression: y_t = a + b·cos(2π·d_t/365.25) + c·sin(2π·d_t/365.25), least squares on the
    whole history (Hyndman & Athanasopoulos, Forecasting: Principles and Practice, 3rd ed., §7.4 Fourier terms).

    d_t is the day of year from the covariates. Without dates the position in the history stands in for it: on
    consecutive daily rows this gives the same fit (the phase is a free parameter), except across 29 February.
    With fewer than `min_season_days` days a yearly cycle cannot be estimated and the forecast is the history's
    mean (the level alone).
    """

    name = "fourier"
    label = "Fourier regression (yearly sine/cosine + level)"
    min_history = 2
    uses_calendar = True
    min_season_days = 120

    def predict(self, demand, covariates: Covariates | None = None):
        n, t = demand.shape
        if t < self.min_season_days:
            return np.repeat(demand.mean(axis=1)[:, None], self.horizon, axis=1)
        doy = None if covariates is None else covariates.day_of_year
        if doy is None or doy.shape[1] < t + self.horizon:
            days = np.arange(t + self.horizon, dtype=np.float64)[None, :]
        else:
            days = np.asarray(doy[:, :t + self.horizon], dtype=np.float64)
        if days.shape[0] == 1 or np.all(days == days[:1]):
            coef = self._pinv(days[0], t) @ demand.T                       # (3, n)
            return np.maximum(self._design(days[0, t:]) @ coef, 0.0).T
        out = np.empty((n, self.horizon))
        for i in range(n):
            coef = self._pinv(days[i], t) @ demand[i]
            out[i] = np.maximum(self._design(days[i, t:]) @ coef, 0.0)
        return out

    @staticmethod
    def _design(days: np.ndarray) -> np.ndarray:
        ang = 2.0 * np.pi * days / YEAR_DAYS
        return np.column_stack([np.ones(len(days)), np.cos(ang), np.sin(ang)])

    def _pinv(self, days: np.ndarray, t: int) -> np.ndarray:
        key = (t, float(days[0]), float(days[t - 1]))
        cache = getattr(self, "_pinv_cache", None)
        if cache is None or cache[0] != key:
            cache = (key, np.linalg.pinv(self._design(days[:t])))
            self._pinv_cache = cache
        return cache[1]
