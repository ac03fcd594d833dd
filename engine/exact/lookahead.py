"""One-step lookahead on a simple policy (a heuristic, evaluated exactly): take the relative values V_π of the
best simple policy π on the grid model and order, in every state, the amount that minimises
c(s, a) + E V_π(next state) — one step of Howard's policy improvement, which is never worse than π (Puterman 1994,
Theorem 8.6.1) and, started from a good policy, is typically within a fraction of a percent of the optimum (the
rollout idea of Bertsekas & Tsitsiklis 1996, §6.1; applied to lost sales by Bijvank & Johansen 2012). The improved
policy is a table of orders by state, so its cost is computed exactly on the same chain (engine.exact.chain).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.exact.chain import ChainValue, PolicyChain, evaluate_actions, relative_values
from engine.exact.grid import GridModel, one_blas_thread
from engine.policies.lost_sales import capped_order, project_on_hand

__all__ = ["Lookahead", "capped_actions", "one_step_lookahead", "pil_grid_actions"]


def capped_actions(model: GridModel, S: int, cap: int) -> np.ndarray:
    """The capped base-stock order min((S − position)⁺, cap) in every valid state."""
    return capped_order(model.states().sum(axis=1), S, cap).astype(np.int64)


def pil_grid_actions(model: GridModel, target: float) -> np.ndarray:
    """The projected-inventory-level order (target − E on-hand when the order arrives)⁺ in every valid state."""
    s = model.states()
    if model.L == 0:
        proj = s[:, 0].astype(np.float64)
    else:
        proj = np.empty(len(s))
        for lo in range(0, len(s), 50_000):  # the projection holds one distribution row per state
            part = s[lo:lo + 50_000]
            proj[lo:lo + 50_000] = project_on_hand(part[:, 0], part[:, 1:], [model.pmf] * model.L)
    return np.maximum(np.rint(target - proj), 0).astype(np.int64)


@dataclass
class Lookahead:
    base_cost: float          # the simple policy's exact cost on this grid (value-determination midpoint)
    value: ChainValue         # the improved policy, evaluated exactly


def one_step_lookahead(model: GridModel, base_actions: np.ndarray) -> Lookahead:
    """Improve `base_actions` (one order per valid state) by one policy-improvement step and evaluate it."""
    chain = PolicyChain(model, base_actions)
    Vs, lo, hi, _ = relative_values(chain)
    V = np.zeros(model.size)
    V[model.valid_index] = Vs
    with one_blas_thread():
        _, A = model.bellman(V, want_actions=True)
    improved = A[model.valid_index]
    return Lookahead(base_cost=0.5 * (lo + hi), value=evaluate_actions(model, improved))


def capped_on_grid(L: int, pmf, h: float, p: float, S: int, cap: int) -> ChainValue:
    """Capped base-stock (S, cap) evaluated on the grid of positions ≤ S and orders ≤ cap — closed under the
    policy, so exact, and small where the simplex of all positions ≤ S is not: (S + 1)(cap + 1)^{L−1} entries."""
    model = GridModel(L, S, S if L <= 1 else cap, pmf, h, p)
    return evaluate_actions(model, capped_actions(model, S, cap))


def best_capped_on_grid(L: int, pmf, h: float, p: float, start_S: int, max_grid: int = 2_000_000):
    """(S, cap, cost, evaluations): for caps from ⌈mean⌉ up, the best S by a walk from the previous cap's S;
    stops after two caps that do not improve (engine.exact.policies.best_capped_base_stock's search, on the
    grid) or when a cap's grid would exceed max_grid."""
    import math

    mean = float(np.arange(len(pmf)) @ pmf)
    tried: dict = {}

    def cost(S, cap):
        if (S, cap) not in tried:
            tried[(S, cap)] = capped_on_grid(L, pmf, h, p, S, cap).cost
        return tried[(S, cap)]

    best = (math.inf, start_S, None)
    S, cap, worse = start_S, max(1, math.ceil(mean)), 0
    while worse < 2 and (start_S + 1) * (cap + 2) ** max(L - 1, 0) <= max_grid:
        while S > cap and cost(S - 1, cap) < cost(S, cap):
            S -= 1
        while cost(S + 1, cap) < cost(S, cap):
            S += 1
        if cost(S, cap) < best[0] - 1e-12:
            best, worse = (cost(S, cap), S, cap), 0
        else:
            worse += 1
        cap += 1
    return best[1], best[2], best[0], len(tried)
