"""Coverage of (L+1)-day-sum quantiles built from earlier forecast errors, as the policy builds them.

Each rolling origin i has a forecast sum μ_i of the next W = L + 1 days and the realised sum D_i. Origin j's
quantile at level q is the protection module's: S_j = μ_j + Q_q(r)·max(μ_j, floor) with r the relative errors
(engine.protection.tracker.relative_errors) of the origins whose whole window was realised before j's first day
(t_i + W ≤ t_j) — never an error j could not have known — and Q_q the split-conformal order statistic, or the
exponential tail where the errors do not resolve q (engine.protection.tracker.error_quantile). Origins with fewer than
`min_errors` known errors are not scored. Coverage = share of scored origins with D_j ≤ S_j (the textbook measure;
nominal q).
"""
from __future__ import annotations

import numpy as np

from engine.protection.tracker import coverage, error_quantile, floor_for, protection_level, relative_errors

__all__ = ["conformal_coverage", "NOMINAL", "MIN_ERRORS"]

NOMINAL = (0.90, 0.99)
MIN_ERRORS = 20


def conformal_coverage(times, forecast_sums, actual_sums, window: int, nominal=NOMINAL,
                       min_errors: int = MIN_ERRORS) -> dict:
    """{"nominal": [...], "coverage": [...], "n": [...], "methods": [...]}: measured share per nominal level (None
    when no origin could be scored), origins scored, and how the quantiles were obtained (counts per method).
    `times` are day numbers on one calendar for every series (errors of other series count once their window has
    ended)."""
    t = np.asarray(times, dtype=np.float64)
    mu = np.asarray(forecast_sums, dtype=np.float64)
    d = np.asarray(actual_sums, dtype=np.float64)
    floor = floor_for(window)
    r = relative_errors(d, mu, floor)
    by_known = np.argsort(t + window, kind="stable")
    known_at = (t + window)[by_known]
    out = {"nominal": list(nominal), "coverage": [], "n": [], "methods": []}
    for q in nominal:
        levels, actual, methods = [], [], {}
        for j in range(len(t)):
            n = int(np.searchsorted(known_at, t[j], side="right"))
            if n < min_errors:
                continue
            qv, method = error_quantile(r[by_known[:n]], q)
            levels.append(float(protection_level(mu[j], qv[0], floor)))
            actual.append(d[j])
            methods[method] = methods.get(method, 0) + 1
        share, scored = coverage(actual, levels) if levels else (None, 0)
        out["coverage"].append(share)
        out["n"].append(scored)
        out["methods"].append(methods)
    return out
