"""Confidence intervals of means over replications: Student t with n − 1 degrees of freedom (the replications are
independent and few; a normal z understates the half-width below ~30 of them)."""
from __future__ import annotations

import math

import numpy as np

__all__ = ["t_half_width", "mean_interval"]


def t_half_width(a, confidence: float = 0.95, axis: int = -1):
    """Half-width of the `confidence` interval of the mean along `axis` (0 with fewer than two values)."""
    from scipy.special import stdtrit  # the Student-t quantile without importing scipy.stats (~0.5 s)

    a = np.asarray(a, dtype=np.float64)
    n = a.shape[axis] if a.ndim else 1
    if n < 2:
        return np.zeros(np.delete(a.shape, axis)) if a.ndim > 1 else 0.0
    hw = float(stdtrit(n - 1, 0.5 + confidence / 2)) * a.std(axis=axis, ddof=1) / math.sqrt(n)
    return float(hw) if np.ndim(hw) == 0 else hw


def mean_interval(a, confidence: float = 0.95) -> tuple[float, float]:
    """(mean, half-width) of a 1-d sample."""
    a = np.asarray(a, dtype=np.float64).ravel()
    if a.size == 0:
        return float("nan"), 0.0
    return float(a.mean()), float(t_half_width(a, confidence))
