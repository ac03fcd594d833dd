"""One call that answers "how far is each policy from the best possible?" for an i.i.d. demand setting: the
optimal average cost, the best base-stock and the best lost-sales-aware policies with gap = cost / optimal − 1.
Used by `python -m engine exact`, the /optimum page and bench/bench_exact.py.

Certificate: when the instance's grid is beyond the solver's reach (engine.exact.solve.MAX_GRID) the report says
so — "certified": false, with the longest lead time the solver reaches for this demand and these costs — instead of
failing. Policies offered: without an order cost, base-stock, capped base-stock, projected inventory level and
constant order (engine.exact.policies) and the one-step lookahead on the best of them (engine.exact.lookahead,
a heuristic); with a fixed order cost K or an order multiple, (s, S), (s, nQ) (engine.exact.fixed_cost) and the
lookahead on the better of the two. Every cost is exact (a stationary distribution), not simulated.

What is refused or left uncertified rather than answered wrong: a --bound (the largest inventory position after
ordering, which truncates the lost-sales grid) below the backorder base-stock level + 1 — Morton (1971): the
optimal lost-sales position never exceeds that level when K = 0, so a lower bound cuts the optimum off — or whose
arrays would not fit MAX_GRID; a solved policy that still reaches the bound (an order cost can lift the optimum
above that level), named as a --bound to raise; an optimum whose value iteration stopped before its bounds met,
and any policy costing less than the optimum's lower bound (both "not certified": no gaps are given). An optimum
of zero (deterministic demand) leaves every gap undefined: "gap" is None and "gap_note" says why.
"""
from __future__ import annotations

import math
import time

import numpy as np

from engine.errors import ConfigError
from engine.exact.backorders import newsvendor, solve_backorders
from engine.exact.chain import evaluate_actions
from engine.exact.distributions import DemandDist
from engine.exact.fixed_cost import best_policy, s_nq_orders, s_s_orders
from engine.exact.grid import GridModel, default_bounds, demand_fractile, one_blas_thread
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

__all__ = ["FIXED_LEAD_ONLY", "LOOKAHEAD", "MAX_LEAD", "NOT_CERTIFIED", "NOT_CONVERGED", "base_stock_gap",
           "bound_range", "default_bound", "exact_report", "policy_reach", "random_lead_time_report"]

MAX_LEAD = 30
NOT_CERTIFIED = "not certified (lead time beyond reach)"
FIXED_LEAD_ONLY = "not certified: the exact model assumes a fixed lead time"
NOT_CONVERGED = "not certified (the optimum's bounds did not meet)"
UNDERCUT = "not certified (a policy costs less than the computed optimum)"
BOUND_MASS = 1e-6  # stationary probability of the position at --bound above which the truncation is taken as felt
ZERO_GAP_NOTE = ("the optimal cost is 0 (demand this regular can be met exactly): a gap relative to it is undefined; "
                 "each policy's cost is its excess over the optimum")
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


def bound_range(L: int, pmf, h: float, p: float, K: float = 0.0, multiple: int = 1, max_grid: int = MAX_GRID
                ) -> tuple[int, int]:
    """(smallest, largest) --bound the lost-sales solver accepts. Smallest: the backorder base-stock level + 1 (the
    p/(p + h) fractile of (L + 1)-period demand; the optimal position stays at or below it when K = 0, Morton
    1971, so the bound is never reached). Largest: the (B + 1)² leftover matrix and the (B + 1)(Q + 1)^{L−1} grid
    both within max_grid entries — or the default bound, when that is larger (its instance is answered by the
    lead-time reach check)."""
    low = demand_fractile(pmf, L + 1, p / (p + h)) + 1
    B0, Q0 = default_bounds(L, pmf, h, p, K, multiple)
    high = math.isqrt(max_grid) - 1
    if L >= 2:
        high = min(high, max_grid // (Q0 + 1) ** (L - 1) - 1)
    return low, max(high, B0)


def _gap(cost: float, opt: float) -> float | None:
    """cost / opt − 1; None for a zero optimum (see _denominator), where the ratio means nothing."""
    return None if opt == 0.0 else cost / opt - 1.0


def _denominator(lower: float, upper: float, cost: float, h: float, p: float) -> float:
    """The optimum gaps are taken against: 0.0 when its certified interval sits at zero to within rounding (costs are
    sums of h- and p-weighted expectations, so 1e-9·(h + p) is far above rounding and far below any cost a
    random demand can have), else the cost."""
    return 0.0 if max(abs(lower), abs(upper)) <= 1e-9 * (h + p) else cost


def _gap_base(out: dict, sol, h: float, p: float) -> float | None:
    """The optimum the gaps are taken against (_denominator; its note in out when it is 0), or None when value
    iteration stopped before its bounds met: then out says "not certified" and no gap may be given."""
    if not sol.converged:
        _not_certified(out, NOT_CONVERGED, f"value iteration stopped after {sol.iterations:,} iterations with the "
                       f"optimal cost between {sol.lower:.6g} and {sol.upper:.6g}")
        return None
    opt = _denominator(sol.lower, sol.upper, sol.cost, h, p)
    if opt == 0.0:
        out["gap_note"] = ZERO_GAP_NOTE
    return opt


def base_stock_gap(rep: dict) -> float | None:
    """The gap of a report's base-stock row: its own, or for the backorder newsvendor (whose base_stock holds the
    level and cost only) the base-stock row of its policies; None where no gap is defined."""
    bs = rep.get("base_stock") or {}
    if "gap" in bs:
        return bs["gap"]
    return next((r["gap"] for r in rep.get("policies") or [] if r["name"] == "base-stock"), None)


def _not_certified(out: dict, status: str, message: str) -> None:
    out.update({"certified": False, "status": status, "message": f"{status}: {message}", "optimal_cost": None,
                "base_stock": None, "policies": []})
    out.pop("gap_note", None)
    out.pop("policy_records", None)


def _undercut(out: dict, lower: float, h: float, p: float) -> bool:
    """Whether a reported policy costs less than the optimum's lower bound (beyond the evaluations' tolerance):
    then the computed optimum is not the optimum and no gap may be shown."""
    tol = 1e-6 * abs(lower) + 1e-9 * (h + p)
    rows = list(out.get("policies") or []) + ([out["base_stock"]] if out.get("base_stock") else [])
    low = [r for r in rows if r["cost"] < lower - tol]
    if low:
        r = min(low, key=lambda r: r["cost"])
        _not_certified(out, UNDERCUT, f"{r.get('name', 'base-stock')} costs {r['cost']:.6g}, below the computed "
                       f"optimum's lower bound {lower:.6g}; the optimum of this instance is not certified")
    return bool(low)


def _check(L, h, p, bound, K, multiple, backorders=False):
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
    if bound is not None and (isinstance(bound, bool) or int(bound) != bound or bound < 1):
        raise ConfigError(f"--bound must be a whole number >= 1 (got {bound!r})", field="bound", value=bound)
    if bound is not None and backorders:
        raise ConfigError("--bound applies to the lost-sales grid; the backorder model sizes its own range of "
                          "positions (leave --bound out with --backorders)", field="bound", value=bound)


def policy_records(model: GridModel, actions: np.ndarray) -> list[dict]:
    """The optimal order in every state: [{"on_hand", "pipeline", "order"}] for L ≤ 2 (the pipeline is 0 when
    L ≤ 1: no order in transit between decisions)."""
    states = model.states()
    return [{"on_hand": int(st[0]), "pipeline": int(st[1]) if model.L >= 2 else 0, "order": int(a)}
            for st, a in zip(states, actions)]


def _row(name, params, cost, opt, **extra) -> dict:
    return {"name": name, "params": params, "cost": cost, "gap": _gap(cost, opt), **extra}


def _backorder_part(out, pmf, L, h, p, K, m, policies):
    sol = solve_backorders(pmf, L, h, p, K=K, multiple=m)
    out.update({"optimal_cost": sol.cost, "optimal_bounds": [sol.lower, sol.upper], "optimal_level": sol.level,
                "states": sol.states, "iterations": sol.iterations})
    opt = _gap_base(out, sol, h, p)
    if opt is None:
        return
    if K == 0 and m == 1:
        S, cost = newsvendor(pmf, L, h, p)
        out["base_stock"] = {"level": S, "cost": cost}
        out["policies"] = [_row("base-stock", {"S": S}, cost, opt)]
        _undercut(out, sol.lower, h, p)
        return
    out["optimal_reorder"] = sol.reorder
    rows = []
    if policies:
        for kind in ("s-S", "s-nQ"):
            res = best_policy(kind, L, pmf, h, p, K, m, backorders=True)
            rows.append(_row(res.name, res.params, res.cost, opt, order_rate=res.order_rate,
                             evaluations=res.evaluations))
    _fixed_cost_base_stock(out, rows, opt, L, pmf, h, p, K, m, True)
    out["policies"] = rows
    _undercut(out, sol.lower, h, p)


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
    out["base_stock"] = {"level": S, "cost": memo[S], "gap": _gap(memo[S], opt)}


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
    _check(L, h, p, bound, order_cost, order_multiple, backorders)
    with one_blas_thread():
        return _report(dist, L, h, p, backorders, bound, policies, with_actions, order_cost, order_multiple,
                       max_grid)


def _grid_bounds(L, pmf, h, p, K, m, bound, max_grid) -> tuple[int, int, int]:
    """(default B, B, Q) of the lost-sales grid: the defaults, or a --bound checked against bound_range."""
    B0, Q = default_bounds(L, pmf, h, p, K, m)
    if bound is None:
        return B0, B0, Q
    low, high = bound_range(L, pmf, h, p, K, m, max_grid)
    if bound < low:
        raise ConfigError(f"--bound {bound} is below {low}, the smallest bound that holds the optimum (the optimal "
                          f"inventory position after ordering reaches {low - 1}, the {p / (p + h):.3g} fractile of "
                          f"demand over lead time + 1 periods); give --bound {low} or more, or leave it out (default "
                          f"{B0})", field="bound", value=bound)
    if bound > high:
        raise ConfigError(f"--bound {bound} is above {high}, the largest bound whose state grid fits the solver's "
                          f"limit of {max_grid:,} entries at lead time {L}; give --bound {high} or less, or leave it "
                          f"out (default {B0})", field="bound", value=bound)
    B = int(bound)
    return B0, B, (B if L <= 1 else min(Q, B))


def _refuse_felt_bound(model: GridModel, value, bound: int | None, default: int) -> None:
    """ConfigError when the solved policy lifts the inventory position to the grid's bound B in more than
    BOUND_MASS of periods: it would go higher if it could, so the truncated optimum is not the optimum (an order
    cost can put the optimal order-up-to level well above the K = 0 level bound_range starts from)."""
    position = model.states().sum(axis=1) + value.actions
    mass = float(value.pi[position >= model.B].sum())
    if mass <= BOUND_MASS:
        return
    what = f"--bound {bound}" if bound is not None else f"the default bound {default}"
    hint = (f"give a larger --bound (the default here is {default})" if bound is not None and bound < default
            else "give a larger --bound")
    raise ConfigError(f"{what} cuts the optimum off: the policy solved within it raises the inventory position to "
                      f"the bound in {mass:.2%} of periods; {hint}", field="bound", value=model.B)


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
    B0, B, Q = _grid_bounds(L, pmf, h, p, K, m, bound, max_grid)
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
    out.update({"status": "certified", "optimal_cost": sol.cost, "optimal_bounds": [sol.lower, sol.upper],
                "bound": B, "order_cap": Q, "states": sol.states, "grid": sol.grid, "iterations": sol.iterations,
                "solve_seconds": sol.seconds})
    opt = _gap_base(out, sol, h, p)
    if opt is None:
        out["seconds"] = time.perf_counter() - t0
        return out
    greedy = evaluate_actions(model, sol.actions)
    _refuse_felt_bound(model, greedy, bound, B0)
    out.update({"optimal_policy_cost": greedy.cost, "bound_mass": greedy.at_bound,
                "optimal_order_rate": greedy.order_rate})
    if with_actions and L <= 2:
        out["policy_records"] = policy_records(model, sol.actions)
    _lost_sales_policies(out, model, opt, L, pmf, h, p, K, m, policies)
    _undercut(out, sol.lower, h, p)
    out["seconds"] = time.perf_counter() - t0
    return out


def _lost_sales_policies(out, model, opt, L, pmf, h, p, K, m, policies) -> None:
    """out["base_stock"] and out["policies"]: the simple policies' best costs and gaps to opt."""
    rows: list[dict] = []
    out["base_stock"] = None
    if not policy_reach(L, pmf, h, p, K, m):
        _beyond_simplex(out, rows, model, opt, L, pmf, h, p, K, m, policies)
        return
    if K > 0 or m > 1:
        found = [best_policy(kind, L, pmf, h, p, K, m) for kind in (("s-S", "s-nQ") if policies else ("s-S",))]
        for res in found:
            rows.append(_row(res.name, res.params, res.cost, opt, order_rate=res.order_rate,
                             evaluations=res.evaluations))
        _fixed_cost_base_stock(out, rows, opt, L, pmf, h, p, K, m, False)
        best = min(found, key=lambda r: r.cost)
        position = model.states().sum(axis=1)
        base_actions = (s_s_orders(position, best.params["s"], best.params["S"], m) if best.name == "s-S"
                        else s_nq_orders(position, best.params["s"], best.params["Q"]))
    else:
        base = best_base_stock(L, pmf, h, p)
        out["base_stock"] = {"level": base.params["S"], "cost": base.cost, "gap": _gap(base.cost, opt)}
        if not policies:
            out["policies"] = rows
            return
        found = [best_capped_base_stock(L, pmf, h, p, base), best_pil(L, pmf, h, p), best_constant_order(L, pmf, h, p)]
        for res in found:
            rows.append(_row(res.name, res.params, res.cost, opt, evaluations=res.evaluations))
        best = min(found[:2], key=lambda r: r.cost)
        base_actions = (capped_actions(model, best.params["S"], best.params["cap"]) if best.name == "capped-base-stock"
                        else pil_grid_actions(model, best.params["target"]))
    if policies:
        la = one_step_lookahead(model, base_actions)
        rows.append(_row(LOOKAHEAD, {"base": best.name, **best.params}, la.value.cost, opt, heuristic=True,
                         order_rate=la.value.order_rate))
    out["policies"] = rows
