"""Confidence intervals of a mean over independent replications: the one helper every study uses.

Half-width = t_{1−α/2, n−1} · s / √n with s the sample standard deviation (ddof = 1) and t the Student-t quantile
(Law, "Simulation Modeling and Analysis", 5th ed., §9.4.1: the t interval for a mean of i.i.d. replications; it
is wider than the normal z = 1.96 interval for few replications and approaches it as n grows). Fewer than two
values give no interval. The Student-t quantile comes from scipy.special.stdtrit, which does not import
scipy.stats (~0.5 s at start-up).
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["t_quantile", "half_width", "mean_ci", "nonnegative_interval"]


def t_quantile(n: int, confidence: float = 0.95) -> float:
    """Two-sided Student-t quantile t_{(1 + confidence)/2, n−1} for a mean of n values (NaN for n < 2)."""
    if n < 2:
        return float("nan")
    from scipy.special import stdtrit

    return float(stdtrit(n - 1, 0.5 + confidence / 2.0))


def half_width(values, confidence: float = 0.95, axis: int | None = None):
    """Student-t half-width of the mean: of all values (axis None: a float, None for fewer than two values), or
    along `axis` of an array with the same count in every row (an array; NaN rows for fewer than two values)."""
    a = np.asarray(values, dtype=np.float64)
    if axis is None:
        a = a.ravel()
        n = a.size
        return None if n < 2 else t_quantile(n, confidence) * float(a.std(ddof=1)) / math.sqrt(n)
    n = a.shape[axis]
    if n < 2:
        return np.full(np.delete(a.shape, axis), np.nan)
    return t_quantile(n, confidence) * a.std(axis=axis, ddof=1) / math.sqrt(n)


def mean_ci(values, confidence: float = 0.95, *, default=None) -> dict:
    """{"mean", "ci95"} of the finite values (NaNs dropped): the mean (None when there is none) and the
    Student-t half-width (`default` for fewer than two values)."""
    a = np.asarray(values, dtype=np.float64).ravel()
    a = a[~np.isnan(a)]
    if a.size == 0:
        return {"mean": None, "ci95": default}
    hw = half_width(a, confidence)
    return {"mean": float(a.mean()), "ci95": default if hw is None else hw}


def nonnegative_interval(mean: float, half: float | None) -> list:
    """[low, high] of a quantity that cannot be negative (a cost): the t interval with its lower end cut at 0. With
    few replications of a skewed cost the symmetric t interval reaches below 0 (e.g. 20.3 ± 76.4 over 3 paths),
    which no cost can be; the cut keeps every value the interval allowed that a cost can take. No half-width:
    [mean, mean]."""
    if half is None or not math.isfinite(half):
        return [mean, mean]
    return [max(0.0, mean - half), mean + half]
