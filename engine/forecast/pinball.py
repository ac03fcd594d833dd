"""Pinball (quantile) loss and M5's scaling of it.

pinball_q(y, ŷ) = q·(y − ŷ) if y ≥ ŷ else (1 − q)·(ŷ − y)  (Koenker & Bassett 1978; the loss whose expectation a
q-quantile minimises). M5's uncertainty track scales it per series by the in-sample mean absolute one-day change
(Makridakis, Spiliotis & Assimakopoulos 2022, "The M5 uncertainty competition", IJF 38, eq. 2); for a sum of W
days the scale is W × that mean, so a W-day sum is scored on the same footing as W single days.
"""
from __future__ import annotations

import numpy as np

__all__ = ["pinball", "naive_scale", "parse_quantiles"]


def pinball(actual, predicted, q) -> np.ndarray:
    """Elementwise pinball loss; q broadcasts against the other two (e.g. (..., k) predictions, (k,) levels)."""
    d = np.asarray(actual, dtype=np.float64) - np.asarray(predicted, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    return np.maximum(q * d, (q - 1.0) * d)


def naive_scale(history) -> float:
    """Mean absolute one-day change of a series' history (NaN with fewer than two days)."""
    h = np.asarray(history, dtype=np.float64)
    return float(np.mean(np.abs(np.diff(h)))) if len(h) > 1 else float("nan")


def parse_quantiles(text: str) -> tuple[float, ...]:
    """"0.5,0.9" → (0.5, 0.9), sorted and unique; ValueError naming the bad entry otherwise."""
    out = set()
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        try:
            q = float(part)
        except ValueError:
            raise ValueError(f"quantile {part!r} is not a number") from None
        if not 0.0 < q < 1.0:
            raise ValueError(f"quantile {part} is outside (0, 1)")
        out.add(q)
    if not out:
        raise ValueError("no quantile given (e.g. 0.5,0.9,0.95,0.99)")
    return tuple(sorted(out))
