"""Base-stock, capped base-stock, projected inventory level and constant order on the exact lost-sales model,
each with its parameters chosen by exact evaluation (engine.exact.evaluate) — the order rules are the engine's
own (engine.policies.lost_sales), applied to every state of the model.

Search: integer parameters by a local search that walks downhill from a start (the average cost of these
one-parameter families is unimodal in practice; the search reports every value it evaluated); the PIL target
(a real number) on a grid refined from step 1 to 0.25 to 0.05 around the best point. The state space of each
evaluation is chosen so that the policy never needs more room: base-stock and capped base-stock with level S live
on {inventory position ≤ S}; PIL on a bound grown until the stationary probability of a cut order is < 1e-9;
constant order on the on-hand alone (its pipeline is always (Q, …, Q)), bound grown the same way.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from engine.exact.evaluate import PolicyValue, evaluate_policy
from engine.exact.model import LostSalesModel
from engine.exact.search import descend
from engine.policies.lost_sales import capped_order, project_on_hand

__all__ = [
    "LEAK",
    "PolicyResult",
    "best_base_stock",
    "best_capped_base_stock",
    "best_constant_order",
    "best_pil",
    "evaluate_base_stock",
    "evaluate_capped",
    "evaluate_constant",
    "evaluate_pil",
    "pil_actions",
]

LEAK = 1e-9  # largest stationary probability of an order cut by the state-space bound that is accepted


@dataclass
class PolicyResult:
    name: str
    params: dict
    cost: float
    evaluations: int
    tried: dict = field(default_factory=dict)  # parameter value(s) -> cost


def _model(L, B, pmf, h, p) -> LostSalesModel:
    return LostSalesModel(int(L), int(B), pmf, float(h), float(p))


def evaluate_base_stock(L, pmf, h, p, S: int) -> PolicyValue:
    m = _model(L, S, pmf, h, p)
    s = m.states()
    return evaluate_policy(m, np.maximum(S - s.sum(axis=1), 0))


def evaluate_capped(L, pmf, h, p, S: int, cap: int) -> PolicyValue:
    m = _model(L, S, pmf, h, p)
    s = m.states()
    # pipeline entries never exceed the cap once the initial pipeline has arrived: a closed set of states
    closed = (s[:, 1:] <= cap).all(axis=1) if L >= 2 else None
    return evaluate_policy(m, capped_order(s.sum(axis=1), S, cap).astype(np.int64), subset=closed)


def pil_actions(model: LostSalesModel, target: float) -> np.ndarray:
    """The projected-inventory-level order in every state of the model."""
    proj = _projection(model)
    return np.maximum(np.rint(target - proj), 0).astype(np.int64)


_PROJ_CACHE: dict = {}


def _projection(model: LostSalesModel) -> np.ndarray:
    key = (model.L, model.B, model.pmf.tobytes())
    if key not in _PROJ_CACHE:
        s = model.states()
        if model.L == 0:
            proj = s[:, 0].astype(np.float64)
        else:
            proj = project_on_hand(s[:, 0], s[:, 1:], [model.pmf] * model.L)
        _PROJ_CACHE.clear()
        _PROJ_CACHE[key] = proj
    return _PROJ_CACHE[key]


def evaluate_pil(L, pmf, h, p, target: float, B: int) -> tuple[PolicyValue, int]:
    """(value, bound used): the bound grows by 25 % until the cut-order probability is below LEAK."""
    while True:
        m = _model(L, B, pmf, h, p)
        a = pil_actions(m, target)
        # no order exceeds max(a), so pipelines with entries ≤ max(a) form a closed set
        closed = (m.states()[:, 1:] <= a.max()).all(axis=1) if L >= 2 else None
        v = evaluate_policy(m, a, subset=closed)
        if v.at_bound < LEAK:
            return v, B
        B = math.ceil(B * 1.25) + 1


def evaluate_constant(L, pmf, h, p, Q: int, B: int) -> tuple[PolicyValue, int]:
    """Constant order Q: on-hand chain x' = (x − D)⁺ + Q (L ≥ 1; the pipeline is always Q) or (x + Q − D)⁺
    (L = 0), on x ≤ B grown until the probability of the top states is below LEAK."""
    Lm = 0 if L == 0 else 1
    while True:
        m = _model(Lm, B, pmf, h, p)
        v = evaluate_policy(m, np.full(m.n_states, Q))
        top = float(v.pi[m.states()[:, 0] >= B - Q].sum())
        if v.at_bound < LEAK and top < LEAK:
            return v, B
        B = math.ceil(B * 1.5) + 1


def backorder_level(L, pmf, h, p) -> int:
    """Smallest S with P(D_1 + … + D_{L+1} ≤ S) ≥ p / (p + h) — the newsvendor base-stock level."""
    conv = np.asarray(pmf)
    for _ in range(L):
        conv = np.convolve(conv, pmf)
    return int(np.searchsorted(np.cumsum(conv), p / (p + h) - 1e-12))


def best_base_stock(L, pmf, h, p) -> PolicyResult:
    tried: dict = {}
    start = backorder_level(L, pmf, h, p)
    S = descend(lambda s: evaluate_base_stock(L, pmf, h, p, s).cost, start, 0, 10 * start + 10, tried)
    return PolicyResult("base-stock", {"S": S}, tried[S], len(tried), tried)


def best_capped_base_stock(L, pmf, h, p, base: PolicyResult | None = None) -> PolicyResult:
    """For caps from ⌈mean⌉ upward, the best S for each cap (local search from the previous cap's S); stops after
    two caps in a row that do not beat the best cap so far, or at cap = S (plain base-stock)."""
    mean = float(np.arange(len(pmf)) @ pmf)
    base = base or best_base_stock(L, pmf, h, p)
    S = base.params["S"]
    tried: dict = {}
    best = (math.inf, S, S)
    worse = 0
    cap = max(1, math.ceil(mean))
    while cap < max(S, best[1]) and worse < 2:
        per_cap: dict = {}
        S = descend(lambda s, c=cap: evaluate_capped(L, pmf, h, p, s, c).cost, S, cap, 10 * S + 10, per_cap)
        for s_, c_ in per_cap.items():
            tried[(s_, cap)] = c_
        if per_cap[S] < best[0] - 1e-12:
            best = (per_cap[S], S, cap)
            worse = 0
        else:
            worse += 1
        cap += 1
    if base.cost <= best[0]:
        best = (base.cost, base.params["S"], base.params["S"])  # cap = S is plain base-stock
    return PolicyResult("capped-base-stock", {"S": best[1], "cap": best[2]}, best[0], len(tried), tried)


def best_pil(L, pmf, h, p) -> PolicyResult:
    """Target on a grid refined around the best point: step 1, then 0.25, then 0.05."""
    B = backorder_level(L, pmf, h, p) + 2
    tried: dict = {}

    def cost(t):
        nonlocal B
        t = round(t, 4)
        if t not in tried:
            v, B = evaluate_pil(L, pmf, h, p, t, B)
            tried[t] = v.cost
        return tried[t]

    mean = float(np.arange(len(pmf)) @ pmf)
    centre = float(round(mean + math.sqrt(mean)))
    for step in (1.0, 0.25, 0.05):
        k = 0
        while True:  # walk from centre in steps of `step` while the cost falls
            here = cost(centre)
            left, right = cost(max(centre - step, 0.0)), cost(centre + step)
            if left < here and left <= right:
                centre = max(centre - step, 0.0)
            elif right < here:
                centre = centre + step
            else:
                break
            k += 1
            if k > 400:
                break
    best_t = min(tried, key=tried.get)
    return PolicyResult("projected-inventory-level", {"target": best_t}, tried[best_t], len(tried), tried)


def best_constant_order(L, pmf, h, p) -> PolicyResult:
    """Integer Q below the mean demand (Q ≥ mean never settles: stock grows without bound)."""
    mean = float(np.arange(len(pmf)) @ pmf)
    tried: dict = {}
    B = int(4 * mean) + 20
    for Q in range(math.ceil(mean)):
        if Q >= mean:
            break
        v, B = evaluate_constant(L, pmf, h, p, Q, B)
        tried[Q] = v.cost
    Q = min(tried, key=tried.get)
    return PolicyResult("constant-order", {"order_qty": Q}, tried[Q], len(tried), tried)
