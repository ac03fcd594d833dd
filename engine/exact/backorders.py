"""The backorder model with the same event order: unmet demand waits, cost h × ending on-hand + p × backlog at the
end of each period. The net inventory at the end of period t + L is y − (D_t + … + D_{t+L}) with y the inventory
position after ordering at t, so the model reduces exactly to one dimension, the inventory position, with period
cost G(y) = h·E(y − D^{(L+1)})⁺ + p·E(D^{(L+1)} − y)⁺ (Zipkin 2000, Foundations of Inventory Management, §9.4).

`solve_backorders` runs relative value iteration on that one-dimensional MDP; `newsvendor` is the closed form it
must agree with when there is no order cost: S* = min{S : F_{L+1}(S) ≥ p/(p + h)}, cost G(S*). With a fixed cost K
per order (and orders in multiples of m) the same iteration takes min(W(x), K + min_{k ≥ 1} W(x + k·m)), W(y) =
G(y) + E V(y − D); its optimum is an (s, S) policy (Scarf 1960) which engine.exact.fixed_cost searches for.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

__all__ = ["BackorderSolution", "base_stock_cost", "lead_time_demand", "newsvendor", "solve_backorders"]


def lead_time_demand(pmf: np.ndarray, L: int) -> np.ndarray:
    """pmf of D_1 + … + D_{L+1}."""
    out = np.asarray(pmf, dtype=np.float64)
    for _ in range(L):
        out = np.convolve(out, pmf)
    return out


def _G(y: np.ndarray, conv: np.ndarray, h: float, p: float) -> np.ndarray:
    """G(y) from partial sums of conv and d·conv, in memory O(len(y) + len(conv)): a (y, d) table would hold
    31 × 2000 demand points per position at lead time 30 (tens of GB). E(y − D)⁺ = y·F(y) − Σ_{d≤y} d·P(d) and
    E(D − y)⁺ = Σ_{d>y} d·P(d) − y·P(D > y), each from the side where it is a sum of non-negative terms."""
    conv = np.asarray(conv, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    d = np.arange(len(conv))
    F = np.concatenate([[0.0], np.cumsum(conv)])            # F[k] = P(D < k)
    M = np.concatenate([[0.0], np.cumsum(d * conv)])        # M[k] = Σ_{d<k} d·P(d)
    T = np.concatenate([np.cumsum(conv[::-1])[::-1], [0.0]])       # T[k] = P(D ≥ k)
    N = np.concatenate([np.cumsum((d * conv)[::-1])[::-1], [0.0]])  # N[k] = Σ_{d≥k} d·P(d)
    k = np.clip(y + 1, 0, len(conv))                        # the first demand above y
    over = np.where(y >= 0, y * F[k] - M[k], 0.0)
    short = N[k] - y * T[k]
    return h * np.maximum(over, 0.0) + p * np.maximum(short, 0.0)


def base_stock_cost(pmf, L: int, h: float, p: float, S: int) -> float:
    """Average cost of base-stock S under backorders: G(S)."""
    return float(_G(np.array([S]), lead_time_demand(pmf, L), h, p)[0])


def newsvendor(pmf, L: int, h: float, p: float) -> tuple[int, float]:
    """(S*, G(S*)) in closed form."""
    conv = lead_time_demand(pmf, L)
    S = int(np.searchsorted(np.cumsum(conv), p / (p + h) - 1e-12))
    return S, float(_G(np.array([S]), conv, h, p)[0])


@dataclass
class BackorderSolution:
    cost: float
    lower: float
    upper: float
    level: int           # the order-up-to level of the optimal policy (smallest position it orders up to)
    reorder: int         # the largest position at which the optimal policy orders
    states: int
    iterations: int
    seconds: float
    converged: bool = True  # False: max_iter ran out before the bounds met (lower .. upper is all that is known)


def _best_above(W: np.ndarray, m: int) -> np.ndarray:
    """R[x] = min_{k ≥ 1} W[x + k·m] (+inf where x + m is past the end)."""
    n = len(W)
    R = np.full(n, np.inf)
    for r in range(min(m, n)):
        idx = np.arange(r, n, m)
        suffix = np.minimum.accumulate(W[idx][::-1])[::-1]
        R[idx[:-1]] = suffix[1:]
    return R


def _expected_next(V: np.ndarray, pmf: np.ndarray) -> np.ndarray:
    """E V(y − D) for every position index j, the next index j − d clipped at 0 (positions below the grid's
    lowest are held there): one convolution of V, padded on the left with V[0], in memory O(len(V))."""
    padded = np.concatenate([np.full(len(pmf) - 1, V[0]), V])
    return np.convolve(padded, pmf, mode="valid")


def solve_backorders(pmf, L: int, h: float, p: float, tol: float = 1e-9, max_iter: int = 100_000,
                     K: float = 0.0, multiple: int = 1) -> BackorderSolution:
    """Relative value iteration on the inventory position x ∈ [−D_max, U] (U = the (L+1)-period demand's upper
    end), action: order up to y ∈ [x, U]; positions below −D_max are clipped there (never reached once the
    policy orders up to a level ≥ 0)."""
    t0 = time.perf_counter()
    pmf = np.asarray(pmf, dtype=np.float64)
    conv = lead_time_demand(pmf, L)
    dmax = len(pmf) - 1
    mean = float(np.arange(len(pmf)) @ pmf)
    lo, hi = -dmax, len(conv) - 1 + (4 * int(np.ceil(np.sqrt(2 * K * mean / h))) if K > 0 else 0) + 2 * multiple
    xs = np.arange(lo, hi + 1)
    n = len(xs)
    G = _G(xs, conv, h, p)  # cost of ordering up to y = xs[j]
    V = np.zeros(n)
    lazy = pmf[0] == 0
    it = 0
    low = up = 0.0
    converged = False
    for it in range(1, max_iter + 1):  # noqa: B007 - `it` is the iteration count reported after the loop
        W = G + _expected_next(V, pmf)            # value of ordering up to y
        TV = np.minimum(W, K + _best_above(W, multiple))
        if lazy:
            TV = 0.5 * (TV + V)
        delta = TV - V
        low, up = float(delta.min()), float(delta.max())
        V = TV - TV[-lo]
        if up - low <= tol * max(abs(up), 1e-12):
            converged = True
            break
    if lazy:
        low, up = 2 * low, 2 * up
    W = G + _expected_next(V, pmf)
    level = int(xs[int(np.argmin(W))])
    orders = W > K + _best_above(W, multiple) + 1e-9 * (1 + np.abs(W))
    reorder = int(xs[np.nonzero(orders)[0].max()]) if orders.any() else int(xs[0])
    return BackorderSolution(cost=0.5 * (low + up), lower=low, upper=up, level=level, reorder=reorder, states=n,
                             iterations=it, seconds=time.perf_counter() - t0, converged=converged)
