"""ETS(A,N,A) with a weekly season, vectorised over rows: the per-series exponential-smoothing baseline retail
forecasting is measured against (the M5 benchmarks' ES family; Hyndman & Athanasopoulos, Forecasting: Principles
and Practice, 3rd ed., §8.3 "Methods with seasonality", additive Holt-Winters without trend).

Recursion (m = 7): ŷ_t = ℓ_{t−1} + s_{t−m};  e_t = y_t − ŷ_t;  ℓ_t = ℓ_{t−1} + α e_t;  s_t = s_{t−m} + γ e_t.
h-step forecast: ℓ_T + s_{T+h−m⌈h/m⌉}, clipped at 0. Start: ℓ = mean of the first 4 weeks, s = their weekday
means minus ℓ. (α, γ) per row: the pair of a fixed grid with the least one-step squared error over the row's
history (least squares = Gaussian maximum likelihood for additive errors), refitted on every call from the history
given, so no parameter sees a day after the forecast origin. numpy only: one pass per call for the whole grid.
"""
from __future__ import annotations

import numpy as np

from engine.forecast.base import Forecaster, as_2d

__all__ = ["EtsWeekly", "ALPHAS", "GAMMAS"]

ALPHAS = (0.01, 0.03, 0.1, 0.2, 0.35, 0.5)
GAMMAS = (0.0, 0.02, 0.05, 0.1, 0.2)
PERIOD = 7
START_DAYS = 28


class EtsWeekly(Forecaster):
    """ETS(A,N,A), weekly season, (α, γ) chosen per row on a grid by one-step squared error (module docstring)."""

    name = "ets-weekly"
    label = "ETS(A,N,A) weekly season (α, γ fitted per series)"
    min_history = START_DAYS + PERIOD
    max_history = 365       # the fit reads the last year (speed; the season is weekly)
    rows_independent = True

    def __init__(self) -> None:
        a, g = np.meshgrid(np.asarray(ALPHAS), np.asarray(GAMMAS), indexing="ij")
        self._alpha = a.ravel()[:, None]  # (k, 1): one row per grid pair, broadcast over series
        self._gamma = g.ravel()[:, None]

    def predict(self, demand, covariates=None):
        y = as_2d(demand)
        if y.shape[1] < self.min_history:
            raise ValueError(f"{self.name} needs at least {self.min_history} days of history, got {y.shape[1]}")
        y = y[:, -self.max_history:]
        n, t = y.shape
        k = self._alpha.shape[0]
        first = y[:, :START_DAYS]
        lvl0 = first.mean(axis=1)
        season0 = first.reshape(n, START_DAYS // PERIOD, PERIOD).mean(axis=1) - lvl0[:, None]  # (n, 7)
        level = np.broadcast_to(lvl0, (k, n)).copy()
        season = np.broadcast_to(season0, (k, n, PERIOD)).copy()   # season[..., j]: weekday (t mod 7) == j
        sse = np.zeros((k, n))
        for i in range(START_DAYS, t):
            j = i % PERIOD
            e = y[:, i] - (level + season[:, :, j])
            sse += e * e
            level += self._alpha * e
            season[:, :, j] += self._gamma * e
        best = np.argmin(sse, axis=0)                  # (n,)
        rows = np.arange(n)
        lv = level[best, rows]
        ss = season[best, rows]                        # (n, 7)
        days = (t + np.arange(self.horizon)) % PERIOD
        return np.maximum(lv[:, None] + ss[:, days], 0.0)
