"""Forecast-driven PIL against the calibrated order-up-to rule on common random numbers, each with its quantile
level from the costs and tuned by simulation out of sample.

Tuning (engine.studies.optimum's protocol): the normal score z of the quantile level q = Φ(z) is searched on a grid
(engine.studies.optimum._golden_grid over [Z_MIN, Z_MAX]) on the *selection* paths and the chosen level is costed on the
disjoint *evaluation* paths (synthetic / forecast-noise: replications R..2R−1 against 0..R−1; replay: the days
before the replayed window against the window; engine.studies.optimum.selection_config). Every policy starts from the
same stock (the order-up-to rule's day-1 level) and sees the same demand paths.

Comparison: per evaluation path r the paired difference c_PIL,r − c_OUT,r (its mean and 95 % t interval) and
the ratio of mean costs with a delta-method interval, var(ratio) ≈ var(c_PIL − ratio · c_OUT) / (R · mean(c_OUT)²)
(the ratio estimator's linearisation; Cochran, "Sampling Techniques", 3rd ed., §6.4).
"""
from __future__ import annotations

import math

import numpy as np

from engine.simulation.confidence import t_quantile

__all__ = ["compare_pil_with_order_up_to", "paired_comparison", "search_level"]

PIL = "forecast-pil"
OUT = "order-up-to"


def search_level(study, policy: str, coarse: int = 13, fine: int = 9):
    """(best q, its mean cost on the study's paths, curve) for a policy whose parameter is `service_level`."""
    from scipy.stats import norm

    from engine.studies.optimum import Z_MAX, Z_MIN, _golden_grid

    best_z, best_cost, curve, _ = _golden_grid(
        lambda z: study.cost(policy, {"service_level": float(norm.cdf(z))}), Z_MIN, Z_MAX, coarse, fine)
    return float(norm.cdf(best_z)), best_cost, curve


def _t95(n: int) -> float:
    return t_quantile(n, 0.95)


def paired_comparison(cost_a, cost_b) -> dict:
    """a against b on the same paths: mean costs, ratio mean(a)/mean(b) with its 95 % interval, and the mean paired
    difference a − b with its 95 % interval."""
    a = np.asarray(cost_a, dtype=np.float64)
    b = np.asarray(cost_b, dtype=np.float64)
    n = a.size
    t = _t95(n)
    diff = a - b
    d_mean = float(diff.mean())
    d_half = t * float(diff.std(ddof=1)) / math.sqrt(n) if n > 1 else float("nan")
    ratio = float(a.mean() / b.mean())
    r_half = t * float((a - ratio * b).std(ddof=1)) / (math.sqrt(n) * float(b.mean())) if n > 1 else float("nan")
    return {"cost": float(a.mean()), "cost_reference": float(b.mean()), "ratio": ratio,
            "ratio_ci95": [ratio - r_half, ratio + r_half], "difference": d_mean,
            "difference_ci95": [d_mean - d_half, d_mean + d_half], "paths": n}


def compare_pil_with_order_up_to(config, series, replications: int, *, forecaster=None, coarse: int = 13,
                                 fine: int = 9) -> dict:
    """Both policies with the level from the costs and with the out-of-sample tuned level, on the evaluation paths.

    Returns {"from_costs": paired_comparison, "tuned": paired_comparison, "levels": {policy: {"from_costs",
    "tuned"}}, "selection": label, "evaluation_runs": n}.
    """
    from dataclasses import replace

    from engine.studies.optimum import _Study, selection_config

    config = replace(config, replications=int(replications))
    study = _Study(config, series, replications, forecaster=forecaster)
    sel_cfg, sel_first, label = selection_config(config, series, study.fc.min_history)
    if sel_cfg is None:
        raise ValueError("no selection window before the replayed days: the level cannot be tuned out of sample")
    sel = _Study(sel_cfg, series, sel_cfg.replications if sel_cfg.demand != "replay" else 1, forecaster=forecaster,
                 initial_inventory=study.base.initial_inventory if sel_cfg.demand != "replay" else None,
                 first_replication=sel_first)
    levels = {}
    eval_costs = {}
    for pol in (PIL, OUT):
        run = study.run(pol, {})
        q0 = float(run.info["protection"]["quantile_level"])
        eval_costs[(pol, "from_costs")] = np.asarray(run.kpis["total_cost"], dtype=np.float64)
        q, _, _ = search_level(sel, pol, coarse, fine)
        eval_costs[(pol, "tuned")] = study.cost(pol, {"service_level": q})
        levels[pol] = {"from_costs": q0, "tuned": q}
    return {"from_costs": paired_comparison(eval_costs[(PIL, "from_costs")], eval_costs[(OUT, "from_costs")]),
            "tuned": paired_comparison(eval_costs[(PIL, "tuned")], eval_costs[(OUT, "tuned")]),
            "levels": levels, "selection": label, "evaluation_runs": study.runs, "selection_runs": sel.runs}
