"""Exact long-run cost of a stationary policy on the grid model (engine.exact.grid), with memory O(states).

Two routines over the policy's Markov chain, both with the transitions generated on the fly (the next state after
leftover z is grid entry base + z·stride with probability M[r, z], see GridModel.policy_moves):
- `stationary`: π = πP by power iteration (the lazy chain (I + P)/2 when P(D = 0) = 0, which has the same π), so
  g = Σ π(s) c(s, a(s)) (Puterman 1994, Markov Decision Processes, §8.2) and the probability of any event of the
  chain (an order at a bound, an order placed) comes with it;
- `relative_values`: value determination V ← c + P V − V(0) with the span bounds min Δ ≤ g ≤ max Δ (Odoni 1969),
  whose V is what a one-step lookahead improves on (engine.exact.lookahead).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.exact.grid import GridModel

__all__ = ["ChainValue", "PolicyChain", "evaluate_actions"]


class PolicyChain:
    """The transitions of one stationary policy, grouped by leftover z (states sorted by r descending, so the
    states that can leave z units form a prefix)."""

    def __init__(self, model: GridModel, actions: np.ndarray):
        self.model = model
        r, base, stride, cost, a = model.policy_moves(actions)
        order = np.argsort(-r, kind="stable")
        self.order = order
        self.r = r[order]
        self.base = base[order]
        self.stride = stride
        self.cost_sorted = cost[order]
        self.cost = cost
        self.actions = a
        self.n = len(r)
        rmax = int(self.r[0]) if self.n else 0
        # count[z] = number of states with r ≥ z
        self.count = np.searchsorted(-self.r, -np.arange(rmax + 1), side="right")
        self.pos = model._grid_to_state
        self.M = model.leftover
        self.lazy = model.pmf[0] == 0
        small = int(self.count.sum()) <= 4_000_000
        self._moves = [self._move(z) for z in range(rmax + 1)] if small else None

    def _move(self, z: int):
        k = int(self.count[z])
        idx = self.pos[self.base[:k] + z * self.stride]
        return idx, self.M[self.r[:k], z]

    def moves(self):
        if self._moves is not None:
            yield from self._moves
        else:
            for z in range(len(self.count)):
                yield self._move(z)

    def forward(self, pi_sorted: np.ndarray) -> np.ndarray:
        """π P (π over states in sorted order in, over states in model order out)."""
        out = np.zeros(self.n)
        for idx, w in self.moves():
            out += np.bincount(idx, weights=pi_sorted[:len(idx)] * w, minlength=self.n)
        return out

    def backward(self, V: np.ndarray) -> np.ndarray:
        """(P V) in sorted order (V over states in model order)."""
        out = np.zeros(self.n)
        for idx, w in self.moves():
            out[:len(idx)] += w * V[idx]
        return out


@dataclass
class ChainValue:
    cost: float               # long-run average cost per period (Σ π c)
    pi: np.ndarray            # stationary distribution over the model's valid states (model order)
    actions: np.ndarray       # the (clipped) order per state
    holding: float            # average h × ending on-hand
    lost: float               # average lost units per period
    order_rate: float         # fraction of periods with an order
    at_bound: float           # stationary probability that the order is the largest the bounds allow
    iterations: int


def stationary(chain: PolicyChain, tol: float = 1e-11, max_iter: int = 100_000, start=None
               ) -> tuple[np.ndarray, int]:
    """(π in model order, iterations): power iteration until the total variation between iterates < tol."""
    n = chain.n
    pi = np.full(n, 1.0 / n) if start is None else np.asarray(start, dtype=np.float64) / np.sum(start)
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - reported after the loop
        new = chain.forward(pi[chain.order])
        if chain.lazy:
            new = 0.5 * (new + pi)
        diff = float(np.abs(new - pi).sum())
        pi = new
        if diff < tol:
            break
    return pi / pi.sum(), it


def relative_values(chain: PolicyChain, tol: float = 1e-9, max_iter: int = 100_000, V=None):
    """(V in model order, lower, upper, iterations): value determination for the policy's average cost g with
    lower ≤ g ≤ upper and upper − lower ≤ tol·|g|."""
    n = chain.n
    V = np.zeros(n) if V is None else V.copy()
    inv = np.empty(n, dtype=np.int64)
    inv[chain.order] = np.arange(n)
    lo = hi = 0.0
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007
        TV = (chain.cost_sorted + chain.backward(V))[inv]
        if chain.lazy:
            TV = 0.5 * (TV + V)
        d = TV - V
        lo, hi = float(d.min()), float(d.max())
        V = TV - TV[0]
        if hi - lo <= tol * max(abs(hi), 1e-12):
            break
    if chain.lazy:
        lo, hi = 2 * lo, 2 * hi
    return V, lo, hi, it


def largest_allowed(model: GridModel) -> np.ndarray:
    """The largest order the bounds (and the pack) allow in each valid state."""
    room = np.minimum(model.B - model.states().sum(axis=1), model.Q)
    m = max(model.multiple, 1)
    return room - room % m


def evaluate_actions(model: GridModel, actions: np.ndarray, tol: float = 1e-11, start=None) -> ChainValue:
    """Exact average cost of ordering actions[s] in valid state s (grid order; clipped to the bounds)."""
    chain = PolicyChain(model, actions)
    pi, it = stationary(chain, tol, start=start)
    a = chain.actions
    s = model.states()
    r = s[:, 0] + (a if model.L == 0 else 0)
    d = np.arange(len(model.pmf))
    y = np.arange(int(r.max()) + 1)[:, None]
    over = np.maximum(y - d, 0) @ model.pmf
    short = np.maximum(d - y, 0) @ model.pmf
    holding = float(pi @ (model.h * over[r]))
    lost = float(pi @ short[r])
    orders = float(pi[a > 0].sum())
    return ChainValue(cost=holding + model.p * lost + model.K * orders, pi=pi, actions=a, holding=holding,
                      lost=lost, order_rate=orders, at_bound=float(pi[a >= largest_allowed(model)].sum()),
                      iterations=it)
