"""The order-up-to level read from the forecaster's own quantiles of the protection-period demand, where it has them.

A global quantile model (engine.forecast.global_model) forecasts quantiles of Σ demand over the next W days
directly, each level calibrated on days no member was trained on (its meta period's shift). For such a forecaster
the level S_t = Q_q(D_t + … + D_{t+W−1}) needs no error sample: the simulator and the batch use it in place of
the tracker's relative-error quantile (engine.protection.tracker) — the ledger's quantile method "model" — when
- the policy's quantile level q lies within the levels the model was trained for (0.5–0.99 for the shipped
  entries; a higher critical ratio, e.g. p/(p + h) = 0.998, falls back to the tracker's tail fit, which
  extrapolates where the model cannot),
- the window W is one the model forecasts (1..max_days), and
- the lead time is fixed: with a random lead time the protection period itself varies, which the tracker's errors
  over realised periods carry and a fixed-W quantile does not.
"""
from __future__ import annotations

import numpy as np

__all__ = ["reads_model_quantiles", "model_level"]


def reads_model_quantiles(forecaster, q: float | None, window: int, random_lead_time: bool) -> bool:
    """Whether the level at quantile level q comes from the forecaster's own W-day-sum quantiles."""
    if q is None or random_lead_time or not callable(getattr(forecaster, "predict_sum_quantiles", None)):
        return False
    levels = np.asarray(getattr(forecaster, "quantiles", []), dtype=float)
    max_days = int(getattr(forecaster, "max_days", 0) or 0)
    return bool(levels.size and levels[0] - 1e-12 <= q <= levels[-1] + 1e-12 and 1 <= int(window) <= max_days)


def model_level(forecaster, history: np.ndarray, covariates, window: int, q: float) -> np.ndarray:
    """(rows,) the forecaster's q-quantile of the next `window` days' demand from each row's history."""
    return np.maximum(forecaster.predict_sum_quantiles(history, covariates, int(window), [float(q)])[:, 0], 0.0)
