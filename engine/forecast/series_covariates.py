"""Known-in-advance covariates of series for forecasting from a history: padded past the last day for the
forecast horizon, and stacked for a group of series. Shared by the backtests (engine.forecast.backtest,
engine.forecast.sum_quantiles) and the global model's training."""
from __future__ import annotations

import numpy as np

from engine.data.dataset import days_of_year
from engine.forecast.base import Covariates

__all__ = ["covariates_for", "day_numbers", "stacked_covariates"]


def covariates_for(series, horizon: int) -> Covariates:
    """Known-in-advance covariates of a series padded (last value repeated) to len + horizon columns."""
    def pad(a):
        if a is None:
            return None
        a = np.asarray(a, dtype=float)
        return np.concatenate([a, np.repeat(a[-1:], horizon)])[None, :]
    dates = getattr(series, "dates", None)
    doy = days_of_year(dates, horizon)[None, :] if dates else None
    return Covariates(promo=pad(series.promo), planning=pad(series.planning), day_of_year=doy,
                      price=pad(getattr(series, "price", None)), day_number=day_numbers(dates, horizon))


def day_numbers(dates, horizon: int = 0) -> np.ndarray | None:
    """(1, len + horizon) days since 1970-01-01 of ISO dates, continued `horizon` days (None without dates)."""
    if not dates:
        return None
    d = np.asarray([str(x)[:10] for x in dates], dtype="datetime64[D]").astype(np.int64)
    return np.concatenate([d, d[-1] + np.arange(1, horizon + 1)])[None, :].astype(np.float64)


def stacked_covariates(group, horizon: int) -> Covariates:
    covs = [covariates_for(t, horizon) for t in group]

    def stack(attr):
        parts = [getattr(c, attr) for c in covs]
        return None if any(p is None for p in parts) else np.concatenate(parts)
    return Covariates(promo=stack("promo"), planning=stack("planning"), day_of_year=stack("day_of_year"),
                      price=stack("price"), day_number=stack("day_number"))
