"""One call that answers "how far is each policy from the best possible?" for an i.i.d. demand setting: the
optimal average cost, the best base-stock and the best lost-sales-aware policies with gap = cost / optimal − 1.
Used by `python -m engine exact` and bench/bench_exact.py.
"""
from __future__ import annotations

import time

import numpy as np

from engine.errors import ConfigError
from engine.exact.backorders import newsvendor, solve_backorders
from engine.exact.distributions import DemandDist
from engine.exact.evaluate import evaluate_policy
from engine.exact.model import LostSalesModel
from engine.exact.policies import (
    backorder_level,
    best_base_stock,
    best_capped_base_stock,
    best_constant_order,
    best_pil,
)
from engine.exact.solve import check_size, solve_optimal

__all__ = ["MAX_LEAD", "default_bound", "exact_report"]

MAX_LEAD = 12


def default_bound(L: int, pmf, h: float, p: float) -> int:
    """B = the backorder base-stock level S̄ + 2 (Morton's bound S̄ plus a margin; see engine.exact.model)."""
    return backorder_level(L, pmf, h, p) + 2


def _check(L, h, p, bound):
    if isinstance(L, bool) or int(L) != L or not 0 <= L <= MAX_LEAD:
        raise ConfigError(f"lead time must be a whole number in [0, {MAX_LEAD}] (got {L!r})", field="lead_time",
                          value=L)
    for name, v in (("holding cost", h), ("stockout cost", p)):
        if not (np.isfinite(v) and v > 0):
            raise ConfigError(f"{name} must be positive (got {v!r})", field=name.replace(" ", "_"), value=v)
    if bound is not None and (int(bound) != bound or bound < 1):
        raise ConfigError(f"bound must be a whole number >= 1 (got {bound!r})", field="bound", value=bound)


def policy_records(model: LostSalesModel, actions: np.ndarray) -> list[dict]:
    """The optimal order in every state: [{"on_hand", "pipeline", "order"}] for L ≤ 2 (the pipeline is 0 when
    L ≤ 1: no order in transit between decisions)."""
    states = model.states()
    return [{"on_hand": int(st[0]), "pipeline": int(st[1]) if model.L >= 2 else 0, "order": int(a)}
            for st, a in zip(states, actions)]


def exact_report(dist: DemandDist, L: int, h: float = 1.0, p: float = 9.0, backorders: bool = False,
                 bound: int | None = None, policies: bool = True, with_actions: bool = False) -> dict:
    """JSON-safe {"optimal_cost", "base_stock", "policies", "states", "seconds", ...} (module docstring).

    with_actions: lost sales with L ≤ 2 also return "policy_records", the solved policy's order in every state
    (what the page's heatmap draws), from the same solve."""
    _check(L, h, p, bound)
    L = int(L)
    t0 = time.perf_counter()
    pmf = dist.pmf
    out = {"model": "backorders" if backorders else "lost sales", "demand": dist.label,
           "demand_mean": dist.mean, "demand_var": dist.var, "lead_time": L, "holding_cost": h, "stockout_cost": p}
    if backorders:
        sol = solve_backorders(pmf, L, h, p)
        S, cost = newsvendor(pmf, L, h, p)
        out.update({"optimal_cost": sol.cost, "optimal_bounds": [sol.lower, sol.upper], "optimal_level": sol.level,
                    "base_stock": {"level": S, "cost": cost},
                    "policies": [{"name": "base-stock", "params": {"S": S}, "cost": cost,
                                  "gap": cost / sol.cost - 1.0}],
                    "states": sol.states, "iterations": sol.iterations,
                    "seconds": time.perf_counter() - t0})
        return out
    B = int(bound) if bound is not None else default_bound(L, pmf, h, p)
    check_size(L, B)
    model = LostSalesModel(L, B, pmf, float(h), float(p))
    sol = solve_optimal(model)
    greedy = evaluate_policy(model, sol.actions)
    ip_after = model.states().sum(axis=1) + sol.actions
    out.update({"optimal_cost": sol.cost, "optimal_bounds": [sol.lower, sol.upper],
                "optimal_policy_cost": greedy.cost, "bound": B,
                "bound_mass": float(greedy.pi[ip_after >= B].sum()),
                "states": sol.states, "pairs": sol.pairs, "iterations": sol.iterations,
                "solve_seconds": sol.seconds})
    if with_actions and L <= 2:
        out["policy_records"] = policy_records(model, sol.actions)
    base = best_base_stock(L, pmf, h, p)
    out["base_stock"] = {"level": base.params["S"], "cost": base.cost, "gap": base.cost / sol.cost - 1.0}
    rows = []
    if policies:
        for res in (best_capped_base_stock(L, pmf, h, p, base), best_pil(L, pmf, h, p),
                    best_constant_order(L, pmf, h, p)):
            rows.append({"name": res.name, "params": res.params, "cost": res.cost, "gap": res.cost / sol.cost - 1.0,
                         "evaluations": res.evaluations})
    out["policies"] = rows
    out["seconds"] = time.perf_counter() - t0
    return out
