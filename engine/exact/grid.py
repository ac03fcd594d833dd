"""The lost-sales MDP on a dense grid with tight bounds, evaluated without a (state, action) table.

State (engine event order, see engine.exact.model): x = on-hand available this period (today's arrival included),
q_1..q_{L−1} = the orders arriving at the start of the next L − 1 periods; the order a arrives at the start of
t + L. Demand D is served from x, the rest is lost; period cost h·(x − D)⁺ + p·(D − x)⁺ + K·[a > 0]. Next state
((x − D)⁺ + q_1, q_2, …, q_{L−1}, a). L = 1: the state is x and the next is (x − D)⁺ + a. L = 0: the order arrives
before demand, the state is x before ordering and the next is (x + a − D)⁺.

Bounds (the truncated model is an exact MDP with two extra constraints, closed under every allowed action):
- every order a ≤ Q, so every pipeline entry is ≤ Q (Q: the newsvendor fractile of one period's demand, plus the
  economic order quantity when K > 0 — the order cap of DynaPlex's lost-sales model, Temizöz et al. 2025);
- the inventory position after ordering x + Σq + a ≤ B (B: the p/(p + h) fractile of (L + 1)-period demand plus a
  margin; Morton 1971 shows the optimal lost-sales order never lifts the position above the backorder base-stock
  level when K = 0).
What the truncation costs is measured, not assumed: `engine.exact.solve` reports the stationary probability that
the solved policy's order sits on either bound, and the tests re-solve with wider bounds.

Layout: V is a dense array of shape (B + 1, Q + 1, …, Q + 1) (L − 1 pipeline axes); entries with x + Σq > B are
invalid and held at 0. A Bellman step for a fixed q_1 is one matrix product: with M[x, z] = P((x − D)⁺ = z),
E V((x − D)⁺ + q_1, tail) = (M @ V[q_1:])[x, tail], where tail = (q_2, …, q_{L−1}, a) is exactly V's trailing axes
— so the expectation for every (x, tail, action) comes out of BLAS and the minimum over a is taken over the last
axis at once; nothing of size states × actions outlives one q_1 slice. Memory: O(grid) = O((B + 1)(Q + 1)^{L−1}).

Order multiples (pack size m): only a ∈ {0, m, 2m, …} are allowed.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

__all__ = ["GridModel", "default_bounds", "demand_fractile", "one_blas_thread"]


def one_blas_thread():
    """A context with BLAS limited to one thread: the Bellman step is many products of a (B+1)² matrix with a
    (B+1) × (Q+1)^{L−1} block, too small for OpenBLAS's threads to pay — on this 2-core machine they cost 5× the CPU
    time at L = 5 and 13× the wall time at L = 4 when the cores are shared. No-op without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is in requirements.txt
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def demand_fractile(pmf: np.ndarray, periods: int, level: float) -> int:
    """Smallest S with P(D_1 + … + D_periods ≤ S) ≥ level."""
    conv = np.asarray(pmf, dtype=np.float64)
    for _ in range(periods - 1):
        conv = np.convolve(conv, pmf)
    return int(np.searchsorted(np.cumsum(conv), level - 1e-12))


def default_bounds(L: int, pmf: np.ndarray, h: float, p: float, K: float = 0.0, multiple: int = 1
                   ) -> tuple[int, int]:
    """(B, Q): B = the p/(p + h) fractile of (L + 1)-period demand + 2 (+ the economic order quantity
    √(2Kμ/h) and one pack when K > 0 or packs are larger than one); Q = the p/(p + h) fractile of one period's
    demand (+ the same EOQ and pack allowance), at most B. L = 0 has no pipeline: Q = B."""
    level = p / (p + h)
    mean = float(np.arange(len(pmf)) @ pmf)
    extra = 0
    if K > 0:
        extra += math.ceil(math.sqrt(2.0 * K * mean / h))
    if multiple > 1:
        extra += multiple
    B = demand_fractile(pmf, L + 1, level) + 2 + extra
    Q = demand_fractile(pmf, 1, level) + extra
    if multiple > 1:
        Q = max(multiple, Q - Q % multiple)
    return B, (B if L <= 1 else min(Q, B))


@dataclass
class GridModel:
    """The truncated lost-sales MDP (module docstring): lead time L, bounds B (position) and Q (order), demand
    pmf, holding cost h, lost-sale cost p, fixed cost per order K, order multiple."""

    L: int
    B: int
    Q: int
    pmf: np.ndarray
    h: float
    p: float
    K: float = 0.0
    multiple: int = 1
    _cache: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        self.L, self.B, self.Q, self.multiple = int(self.L), int(self.B), int(self.Q), int(self.multiple)
        self.pmf = np.asarray(self.pmf, dtype=np.float64)
        if self.L <= 1:
            self.Q = min(self.Q, self.B)

    # ----- layout -------------------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return (self.B + 1,) + (self.Q + 1,) * max(self.L - 1, 0)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def stride0(self) -> int:
        """Flat distance between x and x + 1."""
        return (self.Q + 1) ** max(self.L - 1, 0)

    @cached_property
    def position(self) -> np.ndarray:
        """Inventory position x + Σq of every grid entry (flat, int64)."""
        grids = np.indices(self.shape, sparse=True)
        total = sum(np.broadcast_to(g, self.shape) for g in grids) if self.L >= 2 else grids[0]
        return np.ascontiguousarray(total, dtype=np.int64).ravel()

    @cached_property
    def valid(self) -> np.ndarray:
        return self.position <= self.B

    @cached_property
    def valid_index(self) -> np.ndarray:
        return np.flatnonzero(self.valid)

    @property
    def n_states(self) -> int:
        return int(self.valid_index.size)

    def states(self) -> np.ndarray:
        """The valid states as rows (x, q_1, …, q_{L−1}) (one column when L ≤ 1), in grid order."""
        return np.column_stack(np.unravel_index(self.valid_index, self.shape)).astype(np.int64)

    # ----- costs and transitions ------------------------------------------------------------------------------
    @cached_property
    def period_cost(self) -> np.ndarray:
        """c[y] = h·E(y − D)⁺ + p·E(D − y)⁺, y = 0..B."""
        d = np.arange(len(self.pmf))
        y = np.arange(self.B + 1)[:, None]
        return self.h * (np.maximum(y - d, 0) @ self.pmf) + self.p * (np.maximum(d - y, 0) @ self.pmf)

    @cached_property
    def leftover(self) -> np.ndarray:
        """M[x, z] = P((x − D)⁺ = z), x, z = 0..B (lower triangular)."""
        n = self.B + 1
        pmf = np.zeros(n + 1)
        k = min(len(self.pmf), n + 1)
        pmf[:k] = self.pmf[:k]
        sf = 1.0 - np.concatenate([[0.0], np.cumsum(self.pmf)])  # sf[x] = P(D ≥ x)
        sf = np.clip(np.concatenate([sf, np.zeros(max(0, n + 1 - len(sf)))]), 0.0, 1.0)
        x = np.arange(n)[:, None]
        z = np.arange(n)[None, :]
        lag = x - z
        M = np.where((z >= 1) & (lag >= 0), pmf[np.clip(lag, 0, n)], 0.0)
        M[:, 0] = sf[:n]
        return M

    @cached_property
    def action_cost(self) -> np.ndarray:
        """K·[a > 0], +inf for orders that are not a multiple of the pack, a = 0..Q."""
        a = np.arange(self.Q + 1)
        out = np.where(a > 0, float(self.K), 0.0)
        if self.multiple > 1:
            out[a % self.multiple != 0] = np.inf
        return out

    @cached_property
    def _tail_penalty(self) -> np.ndarray:
        """PEN[s, tail] = 0 if s + Σtail ≤ B else +inf (s = 0..B): the bound on (x + q_1) + (q_2, …, a)."""
        tail_shape = (self.Q + 1,) * (self.L - 1)
        tail_sum = sum(np.indices(tail_shape)).ravel()
        s = np.arange(self.B + 1)[:, None]
        return np.where(s + tail_sum[None, :] <= self.B, 0.0, np.inf)

    def bellman(self, V: np.ndarray, want_actions: bool = False):
        """(TV, actions): TV = min over allowed a of [c + K·[a>0] + E V(next)] on the flat grid (invalid entries 0);
        actions (the smallest minimiser, flat grid, −1 where invalid) when asked."""
        B, Q, L = self.B, self.Q, self.L
        c = self.period_cost
        M = self.leftover
        act = self.action_cost
        TV = np.zeros(self.size)
        A = np.full(self.size, -1, dtype=np.int64) if want_actions else None
        if L == 0:
            # W[y] = c(y) + E V((y − D)⁺); order a takes y = x + a
            W = c + M @ V
            best = np.full(B + 1, np.inf)
            arg = np.zeros(B + 1, dtype=np.int64)
            for a in range(Q + 1):
                cand = np.full(B + 1, np.inf)
                cand[:B + 1 - a] = W[a:] + act[a]
                better = cand < best - 1e-12 * np.abs(np.where(np.isfinite(best), best, 0.0))
                best = np.where(better, cand, best)
                arg = np.where(better, a, arg)
            TV[:] = best
            if want_actions:
                A[:] = arg
            return TV, A
        if L == 1:
            T = np.full((B + 1, Q + 1), np.inf)
            for a in range(Q + 1):
                n = B + 1 - a
                T[:n, a] = M[:n, :n] @ V[a:a + n] + act[a]
            TV[:] = c + T.min(axis=1)
            if want_actions:
                A[:] = _argmin_last(T)
            return TV, A
        Vg = V.reshape(B + 1, -1)
        pen = self._tail_penalty
        TVg = TV.reshape(B + 1, Q + 1, -1)
        Ag = A.reshape(B + 1, Q + 1, -1) if want_actions else None
        for q1 in range(min(Q, B) + 1):
            n = B + 1 - q1
            T = M[:n, :n] @ Vg[q1:]
            T += pen[q1:]
            T3 = T.reshape(n, -1, Q + 1)
            if self.K > 0 or self.multiple > 1:
                T3 += act
            TVg[:n, q1, :] = c[:n, None] + T3.min(axis=2)
            if want_actions:
                Ag[:n, q1, :] = _argmin_last(T3)
        np.copyto(TV, 0.0, where=~self.valid)
        if want_actions:
            np.copyto(A, -1, where=~self.valid)
        return TV, A

    # ----- a fixed policy ----------------------------------------------------------------------------------------
    def policy_moves(self, actions: np.ndarray):
        """For a policy (order per valid state, clipped to the bounds): rows r (the on-hand the period's demand
        meets), base and stride so that the next state after leftover z is grid entry base + z·stride, the
        period cost per state, and the clipped actions."""
        s = self.states()
        a = np.asarray(actions, dtype=np.int64)
        room = self.B - s.sum(axis=1)
        a = np.clip(a, 0, np.minimum(room, self.Q))
        x = s[:, 0]
        if self.L == 0:
            r, base, stride = x + a, np.zeros_like(x), 1
        elif self.L == 1:
            r, base, stride = x, a, 1
        else:
            q1 = s[:, 1]
            tail_in = np.ravel_multi_index(tuple(s[:, 2:].T), (self.Q + 1,) * (self.L - 2)) if self.L > 2 else 0
            r, base, stride = x, q1 * self.stride0 + tail_in * (self.Q + 1) + a, self.stride0
        cost = self.period_cost[r] + np.where(a > 0, float(self.K), 0.0)
        return r, base, stride, cost, a

    @cached_property
    def _grid_to_state(self) -> np.ndarray:
        pos = np.full(self.size, -1, dtype=np.int64)
        pos[self.valid_index] = np.arange(self.n_states)
        return pos


def _argmin_last(T: np.ndarray) -> np.ndarray:
    """Smallest index attaining the minimum over the last axis within a relative 1e-12."""
    best = T.min(axis=-1, keepdims=True)
    close = T <= best + 1e-12 * np.maximum(np.abs(best), 1.0)
    return np.argmax(close, axis=-1)
