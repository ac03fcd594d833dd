"""Exact long-run average cost of a stationary policy: the stationary distribution π of its Markov chain
(π = πP, Σπ = 1) and g = Σ π(s) c(s, a(s)) (Puterman 1994, Markov Decision Processes, §8.2).

π is found by power iteration on the sparse transition matrix (lost-sales chains with P(D = 0) > 0 are
aperiodic; otherwise the lazy chain (P + I)/2, which has the same π, is iterated), stopped when the total
variation between two iterates is below `tol` — then |g − Σπc| ≤ tol·max|c| / (1 − contraction) in practice.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from engine.exact.model import LostSalesModel, transition_matrix

__all__ = ["PolicyValue", "evaluate_policy", "stationary_distribution"]


def stationary_distribution(P: sp.csr_matrix, start: np.ndarray | None = None, tol: float = 1e-11,
                            max_iter: int = 200_000) -> tuple[np.ndarray, int]:
    """(π, iterations) of a unichain transition matrix P (rows sum to one)."""
    n = P.shape[0]
    pi = np.full(n, 1.0 / n) if start is None else np.asarray(start, dtype=np.float64).copy()
    pi /= pi.sum()
    PT = P.T.tocsr()
    for it in range(1, max_iter + 1):
        new = PT @ pi
        diff = np.abs(new - pi).sum()
        pi = new
        if diff < tol:
            return pi / pi.sum(), it
    return pi / pi.sum(), max_iter


@dataclass
class PolicyValue:
    cost: float               # long-run average cost per period
    pi: np.ndarray            # stationary distribution over the model's states
    holding: float            # average h × ending on-hand
    lost: float               # average lost units per period
    at_bound: float           # stationary probability that the order was cut by the bound B
    iterations: int


def evaluate_policy(model: LostSalesModel, actions: np.ndarray, start: np.ndarray | None = None,
                    tol: float = 1e-11, subset: np.ndarray | None = None) -> PolicyValue:
    """Exact average cost of ordering actions[s] in state s (actions are clipped to the bound B).

    subset: optional boolean mask of states closed under the policy (e.g. pipeline entries ≤ the cap of a capped
    base-stock policy); the chain is then solved on those states only (π = 0 elsewhere). Closure is checked.
    """
    s = model.states()
    room = model.B - s.sum(axis=1)
    want = np.asarray(actions, dtype=np.int64)
    rows = model.policy_rows(want)
    idx = np.arange(len(s)) if subset is None else np.nonzero(subset)[0]
    P = transition_matrix(rows[idx], model.L, model.B, model.pmf)
    if subset is not None:
        P = P[:, idx].tocsr()
        if np.abs(np.asarray(P.sum(axis=1)).ravel() - 1.0).max() > 1e-9:
            raise ValueError("evaluate_policy: the subset is not closed under the policy")
    aperiodic = model.pmf[0] > 0
    if not aperiodic:
        P = (0.5 * (P + sp.identity(P.shape[0], format="csr"))).tocsr()
    sub_start = None if start is None else np.asarray(start)[idx]
    pi_sub, it = stationary_distribution(P, sub_start, tol)
    pi = np.zeros(len(s))
    pi[idx] = pi_sub
    avail = rows[:, 0] + (rows[:, 1] if model.L == 0 else 0)
    d = np.arange(len(model.pmf))
    ymax = int(avail.max())
    y = np.arange(ymax + 1)[:, None]
    over = np.maximum(y - d, 0) @ model.pmf
    short = np.maximum(d - y, 0) @ model.pmf
    holding = float(pi @ (model.h * over[avail]))
    lost = float(pi @ short[avail])
    return PolicyValue(cost=holding + model.p * lost, pi=pi, holding=holding, lost=lost,
                       at_bound=float(pi[want > room].sum()), iterations=it)
