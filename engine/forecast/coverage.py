"""Coverage of (L+1)-day-sum quantiles built from earlier forecast errors (split-conformal, time-ordered).

Each rolling origin i has a forecast sum F_i of the next W = L+1 days, the realised sum A_i and the relative
error r_i = (A_i − F_i) / max(F_i, 1) (errors grow with the level: Vovk, Gammerman & Shafer, Algorithmic Learning
in a Random World, 2005, split-conformal prediction; heteroscedastic by scaling with the forecast). Origin j's
α-quantile is F_j + q·max(F_j, 1), q = the ⌈(n+1)α⌉-th smallest of the n errors already *known* at j (origins i
with t_i + W ≤ t_j: their whole window was realised before j's first day). An origin is scored only when n is large
enough for that rank (n ≥ α/(1−α)); coverage = share of scored origins with A_j ≤ its quantile.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["conformal_coverage", "NOMINAL"]

NOMINAL = (0.90, 0.99)


def conformal_coverage(times, forecast_sums, actual_sums, window: int, nominal=NOMINAL) -> dict:
    """{"nominal": [...], "coverage": [...], "n": [...]}: measured share per nominal level (None if no origin
    could be scored) and the number of origins scored. `times` are day numbers on one calendar for every series
    (so errors of other series count once their window has ended)."""
    t = np.asarray(times, dtype=np.float64)
    f = np.asarray(forecast_sums, dtype=np.float64)
    a = np.asarray(actual_sums, dtype=np.float64)
    scale = np.maximum(f, 1.0)
    r = (a - f) / scale
    order = np.argsort(t, kind="stable")
    t, f, a, r, scale = t[order], f[order], a[order], r[order], scale[order]
    known_at = t + window
    by_known = np.argsort(known_at, kind="stable")
    coverage, counts = [], []
    for alpha in nominal:
        hits, scored = 0, 0
        for j in range(len(t)):
            n = int(np.searchsorted(known_at[by_known], t[j], side="right"))
            rank = math.ceil((n + 1) * alpha)
            if n == 0 or rank > n:
                continue
            q = np.partition(r[by_known[:n]], rank - 1)[rank - 1]
            hits += int(a[j] <= f[j] + q * scale[j])
            scored += 1
        coverage.append(hits / scored if scored else None)
        counts.append(scored)
    return {"nominal": list(nominal), "coverage": coverage, "n": counts}
