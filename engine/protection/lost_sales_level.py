"""The quantile level of the order-up-to rule under lost sales, chosen on the simulated prior's extra paths.

Why: the critical ratio q* = p/(p + h) is the optimal fractile of the *backorder* system, where demand not met
waits and is subtracted from the next position. With lost sales it is not: a stockout in the protection period
leaves the next position higher than the backorder rule assumes, and the standard base-stock policy, the direct
analogue of the backorder optimum, is known to over-stock lost-sales systems (Zipkin 2008, "Old and new methods
for lost-sales inventory systems", Oper. Res. 56(5); Huh, Janakiraman, Muckstadt & Rusmevichientong 2009,
"Asymptotic optimality of order-up-to policies in lost sales inventory systems", Manag. Sci. 55(3)). There is no
closed form for the lost-sales level with a lead time, so this is a heuristic, labelled as one: a sample average
approximation on paths the run never scores.

How: in synthetic and forecast-noise mode the prior (engine.protection.prior) already holds extra demand paths of
the run's own process with the chosen forecaster's W-day forecasts μ. On those paths the order-up-to rule is
simulated with lost sales (engine.simulation.kernel, the run's own day), lead time W − 1 or, with a random lead
time, the lead times drawn on each extra path from the run's distribution (orders crossing only if the run's
do), the prior's own level by decision day (SeasonalPrior, no online update) and the run's costs, for quantile
levels Φ(z* − δ), δ = 0, 0.05, …, MAX_SHIFT (at or below the critical ratio:
the backorder level is the one lost sales over-stock), all levels on the same paths (common random numbers); the
rule takes the level nearest the critical ratio whose mean cost is within one standard error of the lowest
(one_standard_error_choice). With a service-level target, backorders or replay demand the rule
keeps its level (the run's `info.policy.level_source` says which).
"""
from __future__ import annotations

from statistics import NormalDist

import numpy as np

from engine.keyed_locks import BuildOnceCache
from engine.protection.tracker import SCALE_POWER, SeasonalPrior
from engine.simulation.kernel import InventoryKernel

__all__ = ["MAX_SHIFT", "STEP", "lost_sales_level", "simulated_costs", "one_standard_error_choice"]

MAX_SHIFT = 1.0   # largest step below z* searched (in normal scores of the level)
STEP = 0.05       # grid step in z
_cache = BuildOnceCache(32)


def simulated_costs(prior: SeasonalPrior, mu, demand, levels, h: float, p: float, lead, floor: float,
                    initial=None, crossing: bool = False) -> np.ndarray:
    """Cost of each path (C, K) of the order-up-to rule at each quantile level of `levels` on the paths (mu, demand)
    ((K, days) each), with lost sales, on the simulator's day (engine.simulation.kernel.InventoryKernel: order at
    the position after the decision, arrival `lead` days later, then demand; holding on the closing stock, the
    penalty per unit lost). `lead`: one lead time for all, or the (K, days) lead times drawn for each path and
    order day (orders cross only with `crossing`, as in the run). `initial`: the starting stock (None: each
    path's first level)."""
    mu = np.asarray(mu, dtype=np.float64)
    demand = np.asarray(demand, dtype=np.float64)
    levels = np.asarray(levels, dtype=np.float64)
    K, days = mu.shape
    C = len(levels)
    scale = np.maximum(mu, floor) ** SCALE_POWER                                     # (K, days)
    quant = np.stack([prior.at(d).quantile(levels) for d in range(days)], axis=1)     # (C, days)
    per_path = np.ndim(lead) > 0
    if per_path:
        lead = np.broadcast_to(np.asarray(lead, dtype=np.int64)[None, :, :days], (C, K, days))
    max_lead = int(np.max(lead)) if np.size(lead) else 0
    first = np.maximum(mu[None, :, 0] + quant[:, 0, None] * scale[None, :, 0], 0.0)
    start = first if initial is None else np.full((C, K), float(initial))
    kernel = InventoryKernel(np.array(start, dtype=np.float64), h=h, p=p, backorders=False, max_lead=max_lead,
                             crossing=crossing)
    for d in range(days):
        S = np.maximum(mu[None, :, d] + quant[:, d, None] * scale[None, :, d], 0.0)
        qty = np.maximum(S - kernel.position(), 0.0)
        placed, _ = kernel.place(d, qty, lead[:, :, d] if per_path else int(lead))
        kernel.serve(d, np.broadcast_to(demand[None, :, d], (C, K)), placed)
    tot = kernel.finish()
    return tot["holding"] + tot["stockout"]


def one_standard_error_choice(costs) -> int:
    """The first level (the one nearest the critical ratio) whose mean cost exceeds the lowest by at most one
    standard error of the paired difference (the one-standard-error rule: Hastie, Tibshirani & Friedman, "The
    Elements of Statistical Learning", 2nd ed., §7.10): near its minimum the cost curve is flat, and a step that
    the paths cannot tell from no step is not taken."""
    costs = np.asarray(costs, dtype=np.float64)
    best = int(np.argmin(costs.mean(axis=1)))
    diff = costs - costs[best][None, :]
    se = diff.std(axis=1, ddof=1) / np.sqrt(max(costs.shape[1], 1)) if costs.shape[1] > 1 else np.zeros(len(costs))
    return int(np.flatnonzero(diff.mean(axis=1) <= se)[0])


def lost_sales_level(paths, paths_key, critical: float, h: float, p: float, window: int, floor: float,
                     initial=None, lead_time_dist=None, crossing: bool = False) -> float:
    """The quantile level of the order-up-to rule under lost sales (module docstring): among Φ(z* − δ), the level
    nearest the critical ratio whose mean cost on the prior's paths is within one standard error of the lowest.
    `paths`: the (4, K, days) array of engine.protection.prior.simulated_prior_paths (errors, μ, daily demand,
    drawn lead times); `paths_key`: what identifies them (engine.protection.prior.prior_key), so the choice is made
    once per paths and costs. With a `lead_time_dist` (SimConfig.lead_time_dist) each path's orders wait the lead
    times drawn on it, crossing or not as `crossing` says; without one, W − 1 days."""
    key = (paths_key, float(critical), float(h), float(p), int(window), float(floor),
           None if initial is None else float(initial), bool(lead_time_dist), bool(crossing))

    def build():
        nd = NormalDist()
        z_star = nd.inv_cdf(min(max(float(critical), 1e-9), 1.0 - 1e-9))
        shifts = np.arange(0.0, MAX_SHIFT + STEP / 2, STEP)
        levels = np.array([nd.cdf(z_star - s) for s in shifts])
        prior = SeasonalPrior(paths[0], window)
        lead = paths[3].astype(np.int64) if lead_time_dist else max(int(window) - 1, 0)
        costs = simulated_costs(prior, paths[1], paths[2], levels, h, p, lead, floor, initial, crossing)
        return float(levels[one_standard_error_choice(costs)])
    return _cache.get_or_build(key, build)
