"""The forecaster interface every model implements (baselines, statsmodels, the ONNX ensemble).

Shapes: `demand` is (n, t) float64 — n paths (replications) of realised history up to yesterday; `predict` returns
(n, horizon) forecasts for days t, t+1, ..., t+horizon-1. Covariates are known in advance (promotion plan, planning
forecast, calendar), aligned with the history so that column t is the first forecast day.
"""
from __future__ import annotations

import hashlib
import math
import threading
from dataclasses import dataclass

import numpy as np

from engine.keyed_locks import BuildOnceCache

__all__ = ["Covariates", "Forecaster", "window_sum", "as_2d"]


@dataclass
class Covariates:
    """Known-in-advance inputs, each (n, t + H) or None; column t is the first forecast day.

    Forecasters may read columns < t of realised data only, and columns >= t only of these arrays.
    """

    promo: np.ndarray | None = None
    planning: np.ndarray | None = None
    day_of_year: np.ndarray | None = None
    price: np.ndarray | None = None        # the selling-price plan (SeriesData.price)
    day_number: np.ndarray | None = None   # days since 1970-01-01 (weekday, day of month: the global model)

    def take(self, stop: int, rows=None) -> "Covariates":
        """Columns [:stop] (and optionally rows) of every array — a cheap view."""
        def cut(a):
            if a is None:
                return None
            a = a[:, :stop]
            return a if rows is None else a[rows]
        return Covariates(cut(self.promo), cut(self.planning), cut(self.day_of_year), cut(self.price),
                          cut(self.day_number))


def as_2d(demand) -> np.ndarray:
    a = np.asarray(demand, dtype=np.float64)
    return a[None, :] if a.ndim == 1 else a


def window_sum(forecasts: np.ndarray, window: int) -> np.ndarray:
    """Σ of the first `window` forecasts per row; beyond the horizon the last forecast is repeated (documented)."""
    h = forecasts.shape[1]
    if window <= h:
        return forecasts[:, :window].sum(axis=1)
    return forecasts.sum(axis=1) + (window - h) * forecasts[:, -1]


_ERRORS_CACHE_SIZE = 32
_errors_cache_made = threading.Lock()  # the web server's threads share a cached forecaster


def _errors_key(demand, covariates: Covariates | None, window: int, origins: int) -> tuple:
    """What window_errors' result depends on besides the forecaster: the context and the covariates it reads.

    Why a cache: the ensemble's rolling-origin errors on the context (120 origins, ~0.1 s) are the bulk of a
    simulator's set-up, and every Start, scenario and optimum study with the same data and lead time asks for the
    same ones; a forecaster's predictions depend only on its inputs."""
    h = hashlib.sha1(np.ascontiguousarray(as_2d(demand)).tobytes())
    h.update(repr(as_2d(demand).shape).encode())
    if covariates is not None:
        for a in (covariates.promo, covariates.planning, covariates.day_of_year, covariates.price,
                  covariates.day_number):
            if a is None:
                h.update(b"-")
            else:
                h.update(np.ascontiguousarray(a, dtype=np.float64).tobytes() + repr(a.shape).encode())
    return h.hexdigest(), int(window), int(origins)


class Forecaster:
    """Base class. Subclasses set `name`, `min_history` and implement `predict`."""

    name: str = "forecaster"
    label: str = ""
    horizon: int = 31
    min_history: int = 1
    uses_covariates: bool = False   # reads the promotion plan / planning forecast
    uses_calendar: bool = False     # reads the day of year of the history and the horizon (when given)
    requires_planning: bool = False  # needs the Demand_Forecast column
    max_sigma_origins: int = 120     # rolling origins used by window_sigma (the most recent ones)
    # window_errors remembers its results by context: only for a forecaster whose predictions depend on its inputs
    # alone and never on attributes changed after it is built (the served ensembles, kept per process)
    caches_window_errors: bool = False
    # what makes the predictions besides the class's code and the name (a served model: its bytes and card); a
    # cache shared by processes (engine.protection.prior_store) keys on it
    identity: str = ""
    # path-days a simulated prior may spend on this forecaster to resolve the critical ratio's tail
    # (engine.protection.prior.prior_path_count); 0: the prior's base budget only
    prior_budget: int = 0
    # predict's row i depends on row i of its inputs only (vectorised recursions): a backtest may stack series that
    # share a calendar into one call
    rows_independent: bool = False

    @property
    def reads_covariates(self) -> bool:
        """Whether predict reads its Covariates argument: callers pass them only then (slicing costs time)."""
        return self.uses_covariates or self.uses_calendar

    def predict(self, demand: np.ndarray, covariates: Covariates | None = None) -> np.ndarray:
        raise NotImplementedError

    def _rolling_origin(self, demand, covariates: Covariates | None, window: int):
        """(one-step errors, W-day actual sums, W-day forecast sums) over the most recent rolling origins."""
        y = as_2d(demand)[0]
        t = len(y)
        start = max(int(self.min_history), 1)
        origins = list(range(start, t))
        if len(origins) > self.max_sigma_origins:
            origins = origins[-self.max_sigma_origins:]
        one_step: list[float] = []
        actual: list[float] = []
        forecast: list[float] = []
        for o in origins:
            cov = None
            if covariates is not None and self.reads_covariates:
                cov = covariates.take(o + self.horizon, rows=slice(0, 1))
            f = self.predict(y[None, :o], cov)[0]
            one_step.append(y[o] - f[0])
            if o + window <= t:
                actual.append(float(y[o:o + window].sum()))
                forecast.append(float(window_sum(f[None, :], window)[0]))
        return np.asarray(one_step), np.asarray(actual), np.asarray(forecast)

    def window_errors(self, demand, covariates: Covariates | None, window: int) -> tuple[np.ndarray, np.ndarray]:
        """Rolling-origin out-of-sample `window`-day sums on `demand` (the context): (actual sums, forecast sums).

        Origin o forecasts from history[:o] only; actual = Σ demand[o:o+window], forecast = Σ of its first `window`
        forecasts. The most recent `max_sigma_origins` origins whose window fits in the context.
        """
        if not self.caches_window_errors:
            _, actual, forecast = self._rolling_origin(demand, covariates, window)
            return actual, forecast
        key = _errors_key(demand, covariates if self.reads_covariates else None, window, self.max_sigma_origins)
        with _errors_cache_made:
            cache = self.__dict__.setdefault("_window_errors_cache", BuildOnceCache(_ERRORS_CACHE_SIZE))

        def build():
            _, actual, forecast = self._rolling_origin(demand, covariates, window)
            actual.setflags(write=False)
            forecast.setflags(write=False)
            return actual, forecast
        return cache.get_or_build(key, build)

    def window_sigma(self, demand, covariates: Covariates | None, window: int) -> float:
        """σ of demand over `window` days from rolling-origin out-of-sample errors on `demand` (the context).

        For each origin o: e_o = Σ actual[o:o+window] − Σ forecast(history[:o])[0:window].
        σ = RMSE(e) with >= 8 windows; else σ₁·√window (σ₁ = one-step RMSE, heuristic: assumes independent
        errors); with fewer than 2 one-step errors, std(demand)·√window. Never the spread of forecasts.
        """
        y = as_2d(demand)[0]
        t = len(y)
        one_step, actual, forecast = self._rolling_origin(demand, covariates, window)
        window_err = actual - forecast
        if len(window_err) >= 8:
            return float(math.sqrt(np.mean(np.square(window_err))))
        if len(one_step) >= 2:
            return float(math.sqrt(np.mean(np.square(one_step))) * math.sqrt(window))
        sd = float(np.std(y)) if t >= 2 else 0.0
        return sd * math.sqrt(window)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
