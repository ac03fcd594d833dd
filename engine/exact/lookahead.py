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
from engine.policy_lost_sales import capped_order, project_on_hand

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
