"""One call that answers "how far is each policy from the best possible?" for an i.i.d. demand setting: the
optimal average cost, the best base-stock and the best lost-sales-aware policies with gap = cost / optimal − 1.
Used by `python -m engine exact`, the /optimum page and bench/bench_exact.py.

Certificate: when the instance's grid is beyond the solver's reach (engine.exact.solve.MAX_GRID) the report says
so — "certified": false, with the longest lead time the solver reaches for this demand and these costs — instead of
failing. Policies offered: without an order cost, base-stock, capped base-stock, projected inventory level and
constant order (engine.exact.policies) and the one-step lookahead on the best of them (engine.exact.lookahead,
a heuristic); with a fixed order cost K or an order multiple, (s, S), (s, nQ) (engine.exact.fixed_cost) and the
lookahead on the better of the two. Every cost is exact (a stationary distribution), not simulated.
"""
from __future__ import annotations

import time

import numpy as np

from engine.errors import ConfigError
from engine.exact.backorders import newsvendor, solve_backorders
from engine.exact.chain import evaluate_actions
from engine.exact.distributions import DemandDist
from engine.exact.fixed_cost import best_policy, s_nq_orders, s_s_orders
from engine.exact.grid import GridModel, default_bounds, one_blas_thread
from engine.exact.lookahead import best_capped_on_grid, capped_actions, one_step_lookahead, pil_grid_actions
from engine.exact.model import simplex_size
from engine.exact.policies import (
    backorder_level,
    best_base_stock,
    best_capped_base_stock,
    best_constant_order,
    best_pil,
)
from engine.exact.solve import MAX_GRID, largest_lead_time, solve_optimal

__all__ = ["FIXED_LEAD_ONLY", "LOOKAHEAD", "MAX_LEAD", "NOT_CERTIFIED", "default_bound", "exact_report", "policy_reach",
           "random_lead_time_report"]

MAX_LEAD = 30
NOT_CERTIFIED = "not certified (lead time beyond reach)"
FIXED_LEAD_ONLY = "not certified: the exact model assumes a fixed lead time"
LOOKAHEAD = "lookahead"
POLICY_STATES = 200_000  # simple-policy searches evaluate on the full simplex of positions ≤ S: beyond, skipped
FIXED_COST_GRID = 150_000  # (s, S) searches evaluate each policy on a grid of (S + 1)^L entries
LOOKAHEAD_STATES = 400_000  # beyond, the lookahead's value determination takes minutes (L = 6: 1.5 million)


def default_bound(L: int, pmf, h: float, p: float) -> int:
    """The default inventory-position bound B of the lost-sales grid (engine.exact.grid.default_bounds)."""
    return default_bounds(L, pmf, h, p)[0]


def policy_reach(L: int, pmf, h: float, p: float, K: float = 0.0, multiple: int = 1) -> bool:
    """Whether the simple-policy searches fit (their evaluations hold the policy's whole state space)."""
    if K > 0 or multiple > 1:
        B, _ = default_bounds(L, pmf, h, p, K, multiple)
        return (B + 1) ** max(L, 1) <= FIXED_COST_GRID
    return simplex_size(max(L, 1), backorder_level(L, pmf, h, p) + 2) <= POLICY_STATES


def _check(L, h, p, bound, K, multiple):
    if isinstance(L, bool) or int(L) != L or not 0 <= L <= MAX_LEAD:
        raise ConfigError(f"lead time must be a whole number in [0, {MAX_LEAD}] (got {L!r})", field="lead_time",
                          value=L)
    for name, v in (("holding cost", h), ("stockout cost", p)):
        if not (np.isfinite(v) and v > 0):
            raise ConfigError(f"{name} must be positive (got {v!r})", field=name.replace(" ", "_"), value=v)
    if not (np.isfinite(K) and K >= 0):
        raise ConfigError(f"order cost must be ≥ 0 (got {K!r})", field="order_cost", value=K)
    if isinstance(multiple, bool) or int(multiple) != multiple or not 1 <= multiple <= 1000:
        raise ConfigError(f"order multiple must be a whole number in [1, 1000] (got {multiple!r})",
                          field="order_multiple", value=multiple)
    if bound is not None and (int(bound) != bound or bound < 1):
        raise ConfigError(f"bound must be a whole number >= 1 (got {bound!r})", field="bound", value=bound)


def policy_records(model: GridModel, actions: np.ndarray) -> list[dict]:
    """The optimal order in every state: [{"on_hand", "pipeline", "order"}] for L ≤ 2 (the pipeline is 0 when
    L ≤ 1: no order in transit between decisions)."""
    states = model.states()
    return [{"on_hand": int(st[0]), "pipeline": int(st[1]) if model.L >= 2 else 0, "order": int(a)}
            for st, a in zip(states, actions)]


def _row(name, params, cost, opt, **extra) -> dict:
    return {"name": name, "params": params, "cost": cost, "gap": cost / opt - 1.0, **extra}


def _backorder_part(out, pmf, L, h, p, K, m, policies):
    sol = solve_backorders(pmf, L, h, p, K=K, multiple=m)
    out.update({"optimal_cost": sol.cost, "optimal_bounds": [sol.lower, sol.upper], "optimal_level": sol.level,
                "states": sol.states, "iterations": sol.iterations})
    if K == 0 and m == 1:
        S, cost = newsvendor(pmf, L, h, p)
        out["base_stock"] = {"level": S, "cost": cost}
        out["policies"] = [_row("base-stock", {"S": S}, cost, sol.cost)]
        return
    out["optimal_reorder"] = sol.reorder
    rows = []
    if policies:
        for kind in ("s-S", "s-nQ"):
            res = best_policy(kind, L, pmf, h, p, K, m, backorders=True)
            rows.append(_row(res.name, res.params, res.cost, sol.cost, order_rate=res.order_rate,
                             evaluations=res.evaluations))
    _fixed_cost_base_stock(out, rows, sol.cost, L, pmf, h, p, K, m, True)
    out["policies"] = rows


def _fixed_cost_base_stock(out, rows, opt, L, pmf, h, p, K, m, backorders):
    """Base-stock with an order cost is (S − 1, S): orders every period the position falls below S."""
    from engine.exact.fixed_cost import evaluate_s_s

    S = backorder_level(L, pmf, h, p)
    memo = {}

    def cost(level):
        if level not in memo:
            memo[level] = evaluate_s_s(L, pmf, h, p, K, level - 1, level, m, backorders)[0]
        return memo[level]

    while cost(S + 1) < cost(S):
        S += 1
    while S > 1 and cost(S - 1) < cost(S):
        S -= 1
    out["base_stock"] = {"level": S, "cost": memo[S], "gap": memo[S] / opt - 1.0}


def _beyond_simplex(out, rows, model, opt, L, pmf, h, p, K, m, policies) -> None:
    """Lead times whose simplex searches would not fit: capped base-stock searched on its own small grid, constant
    order, and the lookahead on capped base-stock where the solver's grid is at most LOOKAHEAD_STATES."""
    out["policies"] = rows
    if K > 0 or m > 1 or not policies:
        out["policies_note"] = (f"policy searches skipped at lead time {L} (their exact evaluations hold each "
                                "policy's whole state space)")
        return
    S, cap, cost, n = best_capped_on_grid(L, pmf, h, p, backorder_level(L, pmf, h, p))
    if cap is not None:
        rows.append(_row("capped-base-stock", {"S": S, "cap": cap}, cost, opt, evaluations=n))
    const = best_constant_order(L, pmf, h, p)
    rows.append(_row(const.name, const.params, const.cost, opt, evaluations=const.evaluations))
    notes = [f"base-stock and projected inventory level not searched at lead time {L} (their exact evaluations "
             "hold every position up to S)"]
    if cap is not None and model.n_states <= LOOKAHEAD_STATES:
        la = one_step_lookahead(model, capped_actions(model, S, cap))
        rows.append(_row(LOOKAHEAD, {"base": "capped-base-stock", "S": S, "cap": cap}, la.value.cost, opt,
                         heuristic=True, order_rate=la.value.order_rate))
    elif cap is not None:
        notes.append(f"lookahead skipped above {LOOKAHEAD_STATES:,} states")
    out["policies_note"] = "; ".join(notes)


def random_lead_time_report(lead_time_dist: str) -> dict:
    """The answer to a random lead time ('poisson:5', 'uniform:4:10'): not certified. The exact model's state is the
    pipeline of orders by days to arrival, one fixed lead time long; solving at the mean lead time would certify a
    cost the random lead time does not have (an uncertain lead time needs more stock than its mean suggests), so no
    optimum or gap is given. ConfigError for a text that is
    no lead-time distribution."""
    from engine.simulation.simulator import parse_lead_time_dist

    if parse_lead_time_dist(lead_time_dist) is None:
        raise ConfigError("--lead-time-dist: give uniform:LOW:HIGH or poisson:MEAN (a fixed lead time is "
                          "--lead-time)", field="lead_time_dist", value=lead_time_dist)
    return {"certified": False, "status": FIXED_LEAD_ONLY, "lead_time_dist": lead_time_dist.strip().lower(),
            "message": f"{FIXED_LEAD_ONLY}; lead times drawn from {lead_time_dist.strip().lower()} are not "
                       "solved exactly (no optimum, no gaps). Give a fixed --lead-time for a certificate, or "
                       "compare policies by simulation with random lead times (`engine optimum --lead-time-dist`)."}


def exact_report(dist: DemandDist, L: int, h: float = 1.0, p: float = 9.0, backorders: bool = False,
                 bound: int | None = None, policies: bool = True, with_actions: bool = False,
                 order_cost: float = 0.0, order_multiple: int = 1, max_grid: int = MAX_GRID) -> dict:
    """JSON-safe {"optimal_cost", "base_stock", "policies", "states", "seconds", "certified", ...} (module
    docstring). with_actions: lost sales with L ≤ 2 also return "policy_records", the solved policy's order in
    every state (what the page's heatmap draws), from the same solve."""
    _check(L, h, p, bound, order_cost, order_multiple)
    with one_blas_thread():
        return _report(dist, L, h, p, backorders, bound, policies, with_actions, order_cost, order_multiple,
                       max_grid)


def _report(dist, L, h, p, backorders, bound, policies, with_actions, order_cost, order_multiple, max_grid) -> dict:
    L, K, m = int(L), float(order_cost), int(order_multiple)
    t0 = time.perf_counter()
    pmf = dist.pmf
    out = {"model": "backorders" if backorders else "lost sales", "demand": dist.label,
           "demand_mean": dist.mean, "demand_var": dist.var, "lead_time": L, "holding_cost": h, "stockout_cost": p,
           "order_cost": K, "order_multiple": m, "certified": True}
    if backorders:
        _backorder_part(out, pmf, L, h, p, K, m, policies)
        out["seconds"] = time.perf_counter() - t0
        return out
    B, Q = default_bounds(L, pmf, h, p, K, m)
    if bound is not None:
        B = int(bound)
        Q = B if L <= 1 else min(Q, B)
    model = GridModel(L, B, Q, pmf, float(h), float(p), K, m)
    if model.size > max_grid:
        reach = largest_lead_time(pmf, h, p, K, m, limit=max_grid, max_lead=L)
        out.update({"certified": False, "status": NOT_CERTIFIED, "largest_lead_time": reach, "grid": model.size,
                    "optimal_cost": None, "base_stock": None, "policies": [],
                    "message": f"{NOT_CERTIFIED}: lead time {L} needs {model.size:,} grid states (limit "
                               f"{max_grid:,}); the largest lead time solved exactly for this demand and these "
                               f"costs is {reach}", "seconds": time.perf_counter() - t0})
        return out
    sol = solve_optimal(model)
    greedy = evaluate_actions(model, sol.actions)
    out.update({"status": "certified", "optimal_cost": sol.cost, "optimal_bounds": [sol.lower, sol.upper],
                "optimal_policy_cost": greedy.cost, "bound": B, "order_cap": Q, "bound_mass": greedy.at_bound,
                "optimal_order_rate": greedy.order_rate, "states": sol.states, "grid": sol.grid,
                "iterations": sol.iterations, "solve_seconds": sol.seconds})
    if with_actions and L <= 2:
        out["policy_records"] = policy_records(model, sol.actions)
    rows: list[dict] = []
    out["base_stock"] = None
    if not policy_reach(L, pmf, h, p, K, m):
        _beyond_simplex(out, rows, model, sol.cost, L, pmf, h, p, K, m, policies)
        out["seconds"] = time.perf_counter() - t0
        return out
    if K > 0 or m > 1:
        found = [best_policy(kind, L, pmf, h, p, K, m) for kind in (("s-S", "s-nQ") if policies else ("s-S",))]
        for res in found:
            rows.append(_row(res.name, res.params, res.cost, sol.cost, order_rate=res.order_rate,
                             evaluations=res.evaluations))
        _fixed_cost_base_stock(out, rows, sol.cost, L, pmf, h, p, K, m, False)
        best = min(found, key=lambda r: r.cost)
        position = model.states().sum(axis=1)
        base_actions = (s_s_orders(position, best.params["s"], best.params["S"], m) if best.name == "s-S"
                        else s_nq_orders(position, best.params["s"], best.params["Q"]))
    else:
        base = best_base_stock(L, pmf, h, p)
        out["base_stock"] = {"level": base.params["S"], "cost": base.cost, "gap": base.cost / sol.cost - 1.0}
        if not policies:
            out["policies"] = rows
            out["seconds"] = time.perf_counter() - t0
            return out
        found = [best_capped_base_stock(L, pmf, h, p, base), best_pil(L, pmf, h, p), best_constant_order(L, pmf, h, p)]
        for res in found:
            rows.append(_row(res.name, res.params, res.cost, sol.cost, evaluations=res.evaluations))
        best = min(found[:2], key=lambda r: r.cost)
        base_actions = (capped_actions(model, best.params["S"], best.params["cap"]) if best.name == "capped-base-stock"
                        else pil_grid_actions(model, best.params["target"]))
    if policies:
        la = one_step_lookahead(model, base_actions)
        rows.append(_row(LOOKAHEAD, {"base": best.name, **best.params}, la.value.cost, sol.cost, heuristic=True,
                         order_rate=la.value.order_rate))
    out["policies"] = rows
    out["seconds"] = time.perf_counter() - t0
    return out
