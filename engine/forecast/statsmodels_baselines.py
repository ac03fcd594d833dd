"""statsmodels baselines: ETS (additive damped trend, fitted by maximum likelihood) and ARIMA — the original's own
comparison model. Refitted on every call on each row's history (the last `max_history` days), so they are slow
(tens of ms per row) — fine for backtests and single simulations, not for big batches. The registry imports this
module lazily.
"""
from __future__ import annotations

import warnings

import numpy as np

from engine.forecast.base import Forecaster, as_2d

__all__ = ["EtsForecaster", "ArimaForecaster"]


class _Refitting(Forecaster):
    max_history = 365
    min_history = 10
    # σ needs one refit per rolling origin: 24 origins (≥ 8 windows, the contract's minimum) keep a simulator's
    # start at about a second instead of 12 s (ETS) / 53 s (ARIMA) with the default 120.
    max_sigma_origins = 24

    def _fit_forecast(self, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def predict(self, demand, covariates=None):
        demand = as_2d(demand)
        if demand.shape[1] < self.min_history:
            raise ValueError(f"{self.name} needs at least {self.min_history} days of history, got {demand.shape[1]}")
        out = np.empty((demand.shape[0], self.horizon))
        with warnings.catch_warnings():
            # statsmodels warns about convergence on many fits; the forecast is still usable
            warnings.simplefilter("ignore")
            for i, row in enumerate(demand[:, -self.max_history:]):
                try:
                    f = np.asarray(self._fit_forecast(row), dtype=float)
                    if f.shape != (self.horizon,) or not np.all(np.isfinite(f)):
                        raise ValueError("non-finite forecast")
                except (ValueError, np.linalg.LinAlgError, IndexError):
                    f = np.full(self.horizon, row[-7:].mean())  # a failed fit falls back to the 7-day mean
                out[i] = np.maximum(f, 0.0)
        return out


class EtsForecaster(_Refitting):
    """Exponential smoothing with an additive damped trend, parameters fitted by statsmodels on each call."""

    name = "ets"
    label = "ETS (additive damped trend, statsmodels; slow: refits daily)"

    def _fit_forecast(self, y):
        from statsmodels.tsa.holtwinters import ExponentialSmoothing
        fit = ExponentialSmoothing(y, trend="add", damped_trend=True, initialization_method="estimated").fit()
        return fit.forecast(self.horizon)


class ArimaForecaster(_Refitting):
    """ARIMA(order) fitted by statsmodels on each call; default (1, 1, 1) as in the original's comparison."""

    name = "arima"
    label = "ARIMA(1,1,1) (statsmodels; slow: refits daily)"

    def __init__(self, order=(1, 1, 1)) -> None:
        self.order = tuple(order)

    def _fit_forecast(self, y):
        from statsmodels.tsa.arima.model import ARIMA
        fit = ARIMA(y, order=self.order).fit()
        return fit.forecast(self.horizon)
