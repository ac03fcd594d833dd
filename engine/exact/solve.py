"""Optimal long-run average cost of the grid model (engine.exact.grid) by relative value iteration (White 1963;
Puterman 1994, §8.5.5): V ← TV − TV(0), T the Bellman operator evaluated on the fly (one matrix product per
first pipeline entry, no (state, action) table). With Δ = TV − V the optimal gain g* lies in [min Δ, max Δ]
(Odoni 1969; the MacQueen bounds), so iterating until the span of Δ is below tol·|g| bounds the error of the
reported cost. P(D = 0) = 0 can make the chain periodic: the iteration is then V ← (V + TV)/2, the lazy model with
costs c/2 and chain (I + P)/2, whose gain is g*/2 and whose optimal policies are the same (Puterman 1994, §8.5.4).

Reach: the grid holds (B + 1)(Q + 1)^{L−1} values (8 bytes each, a few copies alive during a step); `reach` says
whether an instance fits MAX_GRID, and `largest_lead_time` the longest lead time that does for a demand and costs.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from engine.exact.grid import GridModel, default_bounds, one_blas_thread

__all__ = ["MAX_GRID", "Solution", "fits", "largest_lead_time", "solve_optimal"]

MAX_GRID = 3_000_000  # grid entries: Poisson(5), p = 9, L = 6 is 2.7 million (about 300 MB and 20 s)


@dataclass
class Solution:
    cost: float              # midpoint of the gain bounds
    lower: float             # min Δ: g* ≥ lower
    upper: float             # max Δ: g* ≤ upper
    actions: np.ndarray      # greedy (optimal) order per valid state (GridModel.states() order)
    values: np.ndarray       # relative values per valid state
    iterations: int
    states: int              # valid states
    grid: int                # grid entries (valid or not)
    seconds: float
    converged: bool = True   # False: max_iter ran out before the bounds met (lower .. upper is all that is known)


def fits(model: GridModel, limit: int = MAX_GRID) -> bool:
    return model.size <= limit


def largest_lead_time(pmf, h: float, p: float, K: float = 0.0, multiple: int = 1, limit: int = MAX_GRID,
                      max_lead: int = 12) -> int:
    """The longest lead time whose default grid fits the limit (−1 if none)."""
    best = -1
    for L in range(max_lead + 1):
        B, Q = default_bounds(L, pmf, h, p, K, multiple)
        if GridModel(L, B, Q, pmf, h, p, K, multiple).size > limit:
            break
        best = L
    return best


def solve_optimal(model: GridModel, tol: float = 1e-8, max_iter: int = 100_000) -> Solution:
    """Relative value iteration until max Δ − min Δ ≤ tol·|g|; the greedy policy of the last V is returned."""
    with one_blas_thread():
        return _solve(model, tol, max_iter)


def _solve(model: GridModel, tol: float, max_iter: int) -> Solution:
    t0 = time.perf_counter()
    valid = model.valid
    lazy = model.pmf[0] == 0
    V = np.zeros(model.size)
    lo = hi = 0.0
    it = 0
    converged = False
    for it in range(1, max_iter + 1):  # noqa: B007 - `it` is the iteration count reported after the loop
        TV, _ = model.bellman(V)
        if lazy:
            TV = 0.5 * (TV + V)
        delta = (TV - V)[valid]
        lo, hi = float(delta.min()), float(delta.max())
        V = TV - TV[0]
        if hi - lo <= tol * max(abs(hi), 1e-12):
            converged = True
            break
    _, A = model.bellman(V, want_actions=True)
    g_lo, g_hi = (2 * lo, 2 * hi) if lazy else (lo, hi)
    idx = model.valid_index
    return Solution(cost=0.5 * (g_lo + g_hi), lower=g_lo, upper=g_hi, actions=A[idx], values=V[idx],
                    iterations=it, states=model.n_states, grid=model.size, seconds=time.perf_counter() - t0,
                    converged=converged)
