"""Optimal long-run average cost of the lost-sales model by relative value iteration (White 1963; Puterman 1994,
§8.5.5): V ← min_a [c(s, a) + Σ P(s'|s, a) V(s')] − (value at state 0). With Δ = V_{n+1} − V_n, the optimal gain
g* lies in [min Δ, max Δ] (Odoni 1969), so iterating until the span of Δ is below tol·|g| bounds the error of the
reported cost. The greedy policy of the last V is then evaluated exactly (engine.exact.evaluate).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from engine.errors import ConfigError
from engine.exact.model import (
    MAX_PAIRS,
    LostSalesModel,
    simplex_size,
    transition_matrix,
)

__all__ = ["Solution", "check_size", "solve_optimal"]


@dataclass
class Solution:
    cost: float              # midpoint of the gain bounds
    lower: float             # min Δ: g* ≥ lower
    upper: float             # max Δ: g* ≤ upper
    actions: np.ndarray      # greedy (optimal) action per state
    iterations: int
    states: int
    pairs: int
    seconds: float


def check_size(L: int, B: int, limit: int = MAX_PAIRS) -> None:
    """ConfigError naming the bound and the size when the (state, action) space is too large to solve."""
    n = simplex_size(max(L, 1) + 1, B)
    if n > limit:
        raise ConfigError(f"state space too large: lead time {L} with inventory-position bound B = {B} gives "
                          f"{n:,} (state, action) pairs (limit {limit:,}); use a shorter lead time or a smaller "
                          "demand", field="bound", value=B)


def solve_optimal(model: LostSalesModel, tol: float = 1e-7, max_iter: int = 100_000) -> Solution:
    """Relative value iteration on the whole truncated model."""
    t0 = time.perf_counter()
    check_size(model.L, model.B)
    pairs = model.pairs()
    starts = model.pair_starts()
    cost = model.pair_cost(pairs)
    P = transition_matrix(pairs, model.L, model.B, model.pmf)
    n = model.n_states
    # P(D = 0) = 0 can make the chain periodic: iterate V ← (V + TV)/2 instead, the model with costs c/2 and the
    # lazy chain (I + P)/2, whose gain is g*/2 and whose optimal policies are the same (Puterman 1994, §8.5.4)
    lazy = model.pmf[0] == 0
    V = np.zeros(n)
    lo = hi = 0.0
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - `it` is the iteration count reported after the loop
        J = cost + P @ V
        TV = np.minimum.reduceat(J, starts)
        if lazy:
            TV = 0.5 * (TV + V)
        delta = TV - V
        lo, hi = float(delta.min()), float(delta.max())
        V = TV - TV[0]
        if hi - lo <= tol * max(abs(hi), 1e-12):
            break
    J = cost + P @ V
    best = np.minimum.reduceat(J, starts)
    group = np.repeat(np.arange(n), np.diff(np.append(starts, len(pairs))))
    action = pairs[:, -1]
    big = np.iinfo(np.int64).max
    chosen = np.minimum.reduceat(np.where(J <= best[group] + 1e-9 * (1 + np.abs(best[group])), action, big), starts)
    g_lo, g_hi = (2 * lo, 2 * hi) if lazy else (lo, hi)
    return Solution(cost=0.5 * (g_lo + g_hi), lower=g_lo, upper=g_hi, actions=chosen, iterations=it, states=n,
                    pairs=len(pairs), seconds=time.perf_counter() - t0)
