"""(s, S) and (s, nQ) policies with a fixed cost K per order (and an order multiple m), evaluated exactly — on the
lost-sales grid model (engine.exact.grid) and on the backorder model's inventory position.

(s, S): when the inventory position x + Σq is at most s, order up to S (rounded up to the pack m);
(s, nQ): when it is at most s, order the smallest multiple of Q (itself a multiple of m) that lifts it above s.
Each policy is evaluated on a grid of its own (position ≤ the largest it can reach, orders ≤ its largest order),
which is closed under the policy, so its cost is exact. The search walks s upward from 0 and, for each s, the
order-up-to level (or Q) downhill from the previous best (the cost is unimodal in each in practice); it stops when
two successive values of s do not improve on the best.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from engine.exact.backorders import lead_time_demand
from engine.exact.chain import evaluate_actions
from engine.exact.grid import GridModel, demand_fractile
from engine.exact.search import descend

__all__ = ["FixedCostPolicy", "best_policy", "evaluate_s_nq", "evaluate_s_s", "s_nq_orders", "s_s_orders"]


@dataclass
class FixedCostPolicy:
    name: str
    params: dict
    cost: float
    order_rate: float
    evaluations: int
    tried: dict = field(default_factory=dict)


def s_s_orders(position: np.ndarray, s: int, S: int, m: int = 1) -> np.ndarray:
    gap = np.maximum(S - np.asarray(position), 0)
    return np.where(np.asarray(position) <= s, -(-gap // m) * m, 0).astype(np.int64)


def s_nq_orders(position: np.ndarray, s: int, Q: int) -> np.ndarray:
    n = (s - np.asarray(position)) // Q + 1
    return np.where(np.asarray(position) <= s, n * Q, 0).astype(np.int64)


def _lost_sales_value(L, pmf, h, p, K, m, actions_of, top: int, biggest: int):
    model = GridModel(L, top, biggest if L >= 2 else top, pmf, h, p, K, 1)
    a = actions_of(model.states().sum(axis=1))
    return evaluate_actions(model, a)


def _backorder_value(L, pmf, h, p, K, actions_of, top: int):
    """Stationary cost of an inventory-position policy under backorders: position after ordering y ∈ [lo, top],
    cost G(y) + K·P(order) (Zipkin 2000, §6.2 for (s, S) with the lead-time shift of §9.4)."""
    conv = lead_time_demand(pmf, L)
    dmax = len(pmf) - 1
    lo = -dmax
    ys = np.arange(lo, top + 1)
    d = np.arange(len(conv))
    G = h * (np.maximum(ys[:, None] - d, 0) @ conv) + p * (np.maximum(d - ys[:, None], 0) @ conv)
    n = len(ys)
    P = np.zeros((n, n))
    ordered = np.zeros(n)
    for i, y in enumerate(ys):  # from position y after ordering, demand d gives x = y − d before the next order
        x = np.maximum(y - np.arange(len(pmf)), lo)
        a = actions_of(x)
        nxt = np.minimum(x + a, top) - lo
        np.add.at(P[i], nxt, pmf)
        ordered[i] = float(pmf @ (a > 0))
    A = P.T - np.eye(n)
    A[-1] = 1.0
    rhs = np.zeros(n)
    rhs[-1] = 1.0
    pi = np.linalg.lstsq(A, rhs, rcond=None)[0]
    pi = np.clip(pi, 0, None)
    pi /= pi.sum()
    rate = float(pi @ ordered)
    return float(pi @ G) + K * rate, rate


def evaluate_s_s(L, pmf, h, p, K, s: int, S: int, m: int = 1, backorders: bool = False):
    """(cost, order rate) of (s, S) with packs of m."""
    top = S + m - 1
    if backorders:
        return _backorder_value(L, pmf, h, p, K, lambda x: s_s_orders(x, s, S, m), top)
    v = _lost_sales_value(L, pmf, h, p, K, m, lambda x: s_s_orders(x, s, S, m), top, top)
    return v.cost, v.order_rate


def evaluate_s_nq(L, pmf, h, p, K, s: int, Q: int, backorders: bool = False):
    top = s + Q
    if backorders:
        return _backorder_value(L, pmf, h, p, K, lambda x: s_nq_orders(x, s, Q), top)
    v = _lost_sales_value(L, pmf, h, p, K, 1, lambda x: s_nq_orders(x, s, Q), top, top)
    return v.cost, v.order_rate


def best_policy(kind: str, L, pmf, h, p, K, m: int = 1, backorders: bool = False) -> FixedCostPolicy:
    """The best (s, S) (kind "s-S") or (s, nQ) (kind "s-nQ") by the search of the module docstring."""
    mean = float(np.arange(len(pmf)) @ pmf)
    eoq = max(1, round(math.sqrt(2.0 * K * mean / h))) if K > 0 else 1
    hi = demand_fractile(pmf, L + 1, 1 - 1e-6) + 4 * eoq + 2 * m
    tried: dict = {}
    best = (math.inf, None, None, 0.0)
    inner = -(-max(eoq, m) // m) * m  # size of an order (S − s or Q) to start from
    worse = 0
    s = max(0, demand_fractile(pmf, L + 1, 0.5) - 2 * eoq)
    while s <= hi and worse < 3:
        memo: dict = {}
        if kind == "s-S":
            def f(size, s=s):
                return evaluate_s_s(L, pmf, h, p, K, s, s + size, m, backorders)
        else:
            def f(units, s=s):
                return evaluate_s_nq(L, pmf, h, p, K, s, units * m, backorders)
            inner = max(1, inner // m)
        size = descend(f, inner, 1, hi, memo, cost=lambda v: v[0])
        for k, v in memo.items():
            tried[(s, k)] = v[0]
        cost, rate = memo[size]
        if cost < best[0] - 1e-12:
            best, worse = (cost, s, size, rate), 0
        else:
            worse += 1
        inner = size if kind == "s-S" else size * m
        s += 1
    cost, s_best, size, rate = best
    if kind == "s-S":
        return FixedCostPolicy("s-S", {"s": s_best, "S": s_best + size}, cost, rate, len(tried), tried)
    return FixedCostPolicy("s-nQ", {"s": s_best, "Q": size * m}, cost, rate, len(tried), tried)
