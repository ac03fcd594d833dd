"""Simple baseline forecasters, vectorised over paths (rows). Cheap enough for a step() under 50 µs."""
from __future__ import annotations

import numpy as np

from engine.forecast.base import Covariates, Forecaster

__all__ = ["Naive", "SeasonalNaive", "MovingAverage", "SimpleExpSmoothing", "PlanningForecast"]


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
