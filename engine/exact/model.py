"""The periodic-review lost-sales model on the simplex of positions ≤ B (engine event order, see
engine/simulation/simulator.py): the state space on which engine.exact.policies evaluates simple policies (each on the
positions it can reach). The optimum is solved on engine.exact.grid, which also bounds each order.

At the start of period t the state is (x, q_1, …, q_{L−1}): x = on-hand available for this period's demand (today's
arrival included), q_i = the order arriving at the start of period t + i. The decision a (integer ≥ 0) arrives at
the start of t + L. Demand D (i.i.d., pmf) is served from x; the rest is lost. Cost of the period:
h·(x − D)⁺ + p·(D − x)⁺. Next state: ((x − D)⁺ + q_1, q_2, …, q_{L−1}, a). L = 1: the state is x alone and the next
is (x − D)⁺ + a. L = 0: the order arrives before demand, so the state is the on-hand x before ordering, the
period serves x + a and the next state is (x + a − D)⁺.

Bound: the inventory position after ordering, x + Σq + a, is at most B. The set {state : x + Σq ≤ B} is closed
under every action that respects it, so the truncated model is an exact MDP with that extra constraint. Morton
(1971, Operations Research 19(7)) shows the optimal lost-sales order never lifts the inventory position above the
backorder model's base-stock level S̄ (Zipkin 2008, §2), so B ≥ S̄ loses nothing; `solve` checks it by reporting
how often the optimal policy orders up to the bound, and the tests re-solve with a larger B.

States are integer tuples of dimension k (k = L, or 1 when L = 0) with sum ≤ B, indexed in lexicographic order
(`enumerate_simplex`, `rank`); (state, action) pairs are (k + 1)-tuples with sum ≤ B, grouped by state.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from math import comb

import numpy as np
import scipy.sparse as sp

__all__ = [
    "LostSalesModel",
    "enumerate_simplex",
    "expected_period_cost",
    "rank",
    "simplex_size",
    "transition_matrix",
]


def simplex_size(k: int, B: int) -> int:
    """Number of k-tuples of non-negative integers with sum ≤ B: C(B + k, k)."""
    return comb(B + k, k)


@lru_cache(maxsize=8)
def _simplex(k: int, B: int) -> np.ndarray:
    """Built one coordinate at a time: each (j)-tuple with sum s is followed by the values 0..B − s, which keeps
    lexicographic order."""
    t = np.arange(B + 1, dtype=np.int64)[:, None]
    for _ in range(k - 1):
        n_next = B - t.sum(axis=1) + 1
        first = np.cumsum(n_next) - n_next
        last = np.arange(int(n_next.sum()), dtype=np.int64) - np.repeat(first, n_next)
        t = np.column_stack([np.repeat(t, n_next, axis=0), last])
    return t


def enumerate_simplex(k: int, B: int) -> np.ndarray:
    """All k-tuples with sum ≤ B, shape (C(B+k, k), k), in lexicographic order (a read-only cached array)."""
    out = _simplex(k, B)
    out.flags.writeable = False
    return out


@lru_cache(maxsize=16)
def _binom_table(n: int, k: int) -> np.ndarray:
    """C(i, j) for i ≤ n, j ≤ k (int64)."""
    t = np.zeros((n + 1, k + 1), dtype=np.int64)
    for i in range(n + 1):
        for j in range(min(i, k) + 1):
            t[i, j] = comb(i, j)
    return t


def rank(tuples: np.ndarray, B: int) -> np.ndarray:
    """Lexicographic index of each k-tuple (rows, sum ≤ B) among all k-tuples with sum ≤ B.

    Tuples before (t_1, …, t_k) are those that agree on t_1..t_{i−1} and have a smaller i-th entry v < t_i; for
    each v there are C(R − v + m, m) of them (R = B − t_1 − … − t_{i−1}, m = k − i remaining entries), and the
    hockey-stick identity sums them to C(R + m + 1, m + 1) − C(R − t_i + m + 1, m + 1).
    """
    t = np.asarray(tuples, dtype=np.int64)
    k = t.shape[1]
    C = _binom_table(B + k + 1, k)
    out = np.zeros(len(t), dtype=np.int64)
    R = np.full(len(t), B, dtype=np.int64)
    for i in range(k):
        m = k - 1 - i
        out += C[R + m + 1, m + 1] - C[R - t[:, i] + m + 1, m + 1]
        R = R - t[:, i]
    return out


def expected_period_cost(avail_max: int, pmf: np.ndarray, h: float, p: float) -> np.ndarray:
    """c[y] = h·E(y − D)⁺ + p·E(D − y)⁺ for y = 0..avail_max (exact sums over the pmf)."""
    d = np.arange(len(pmf))
    y = np.arange(avail_max + 1)[:, None]
    over = np.maximum(y - d, 0) @ pmf
    short = np.maximum(d - y, 0) @ pmf
    return h * over + p * short


def _next_first_and_avail(post: np.ndarray, L: int):
    """(available stock this period, amount added to the next state's first entry after demand)."""
    if L == 0:
        return post[:, 0] + post[:, 1], np.zeros(len(post), dtype=np.int64)
    return post[:, 0], post[:, 1]


def transition_matrix(post: np.ndarray, L: int, B: int, pmf: np.ndarray, chunk: int = 400_000) -> sp.csr_matrix:
    """P[i, j] = probability that (state, action) row i of `post` leads to state j (states indexed by `rank`)."""
    dmax = len(pmf) - 1
    sf = np.concatenate([np.cumsum(pmf[::-1])[::-1], [0.0]])  # sf[y] = P(D >= y)
    rows_all, cols_all, vals_all = [], [], []
    for start in range(0, len(post), chunk):
        part = post[start:start + chunk]
        avail, add = _next_first_and_avail(part, L)
        n_out = np.minimum(avail, dmax) + 1  # d = 0..min(avail, dmax)
        rows = np.repeat(np.arange(len(part)), n_out)
        first = np.cumsum(n_out) - n_out
        d = np.arange(rows.size) - np.repeat(first, n_out)
        a = avail[rows]
        z = a - d  # on-hand left after demand d
        val = np.where(d < a, pmf[np.minimum(d, dmax)], sf[np.minimum(a, dmax + 1)])
        if L <= 1:
            nxt = (z + add[rows])[:, None]
        else:
            nxt = np.column_stack([z + add[rows], part[rows, 2:]])
        keep = val > 0
        rows_all.append(rows[keep] + start)
        cols_all.append(rank(nxt[keep], B))
        vals_all.append(val[keep])
    n_states = simplex_size(max(L, 1), B)
    return sp.csr_matrix((np.concatenate(vals_all), (np.concatenate(rows_all), np.concatenate(cols_all))),
                         shape=(len(post), n_states))


@dataclass
class LostSalesModel:
    """The truncated lost-sales MDP: L, bound B, demand pmf, costs h and p."""

    L: int
    B: int
    pmf: np.ndarray
    h: float
    p: float

    @property
    def k(self) -> int:
        return max(self.L, 1)

    @property
    def n_states(self) -> int:
        return simplex_size(self.k, self.B)

    @property
    def n_pairs(self) -> int:
        return simplex_size(self.k + 1, self.B)

    def states(self) -> np.ndarray:
        return enumerate_simplex(self.k, self.B)

    def pairs(self) -> np.ndarray:
        """All (state, action) tuples, grouped by state in state order."""
        return enumerate_simplex(self.k + 1, self.B)

    def pair_starts(self) -> np.ndarray:
        """Index of each state's first (state, action) row (action 0) in `pairs()`."""
        ip = self.states().sum(axis=1)
        n_actions = self.B - ip + 1
        return np.cumsum(n_actions) - n_actions

    def pair_cost(self, pairs: np.ndarray) -> np.ndarray:
        """Expected cost of the period for each (state, action) row."""
        avail, _ = _next_first_and_avail(pairs, self.L)
        return expected_period_cost(self.B, self.pmf, self.h, self.p)[avail]

    def policy_rows(self, actions: np.ndarray) -> np.ndarray:
        """(state, action) tuples of a stationary policy (one action per state, clipped to the bound)."""
        s = self.states()
        a = np.clip(np.asarray(actions, dtype=np.int64), 0, self.B - s.sum(axis=1))
        return np.column_stack([s, a])
