"""The yardsticks: how far is a policy from the best possible?

Three answers, all on the contract's event order (an order placed on day t arrives at the start of day
t + L; arrivals come before demand; cost of a day = h × ending on-hand + p × unmet units (lost sales) or
p × backlog at day end (backorders)):

(a) ``perfect_information_bound`` — the LP over one known demand path (HiGHS through ``scipy.optimize.linprog``).
    No real policy knows the future, so its cost on that path can never be lower: a lower bound.
(b) ``saa_plan`` / ``evaluate_plan`` — the original research notebook's model: one open-loop order plan that
    minimises the average cost over K sampled paths (sample-average-approximation LP), then evaluated out of
    sample on fresh paths.
(c) ``search_base_stock`` / ``search_z`` — simulation-optimised constant base-stock level and z of the
    order-up-to rule, searched on common random numbers with the engine's batch mode.

The LP and plan code is pure numpy/scipy and does not need the rest of the engine; (c) and
``improvement_hint`` call ``engine.batch``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

__all__ = [
    "LPResult",
    "perfect_information_bound",
    "perfect_information_bounds",
    "saa_plan",
    "evaluate_plan",
]


@dataclass
class LPResult:
    """One solved LP: its optimal cost and the decisions that reach it (arrays of length T)."""

    cost: float
    orders: np.ndarray
    on_hand: np.ndarray
    shortfall: np.ndarray  # unmet units per day (lost sales) or backlog at day end (backorders)
    holding_cost: float
    stockout_cost: float


def _as_path(demand) -> np.ndarray:
    d = np.asarray(demand, dtype=float)
    if d.ndim != 1:
        raise ValueError(f"demand path must be one-dimensional, got shape {d.shape}")
    if not np.all(np.isfinite(d)) or np.any(d < 0):
        raise ValueError("demand path must be finite and non-negative")
    return d


def _arrival_days(T: int, lead_time, arrival_day) -> np.ndarray:
    """0-based day index at which the order placed on 0-based day t arrives (>= T: never within the horizon)."""
    if arrival_day is not None:
        a = np.asarray(arrival_day, dtype=np.int64)
        if a.shape != (T,):
            raise ValueError(f"arrival_day must have one entry per day ({T}), got shape {a.shape}")
        if np.any(a < np.arange(T)):
            raise ValueError("an order cannot arrive before it is placed")
        return a
    L = int(lead_time)
    if L < 0:
        raise ValueError(f"lead time must be >= 0, got {lead_time}")
    return np.arange(T, dtype=np.int64) + L


def _initial_arrivals(T: int, pipeline) -> np.ndarray:
    """Units already on order at the start, by 0-based arrival day (a dict {day_index: qty} or an array)."""
    a0 = np.zeros(T)
    if pipeline is None:
        return a0
    if isinstance(pipeline, dict):
        for day, qty in pipeline.items():
            if 0 <= int(day) < T:
                a0[int(day)] += float(qty)
        return a0
    p = np.asarray(pipeline, dtype=float)
    n = min(T, p.size)
    a0[:n] += p[:n]
    return a0


def _block(T: int, arrive: np.ndarray) -> tuple[sparse.csr_matrix, sparse.csr_matrix, np.ndarray]:
    """Sparse flow-balance pieces shared by every formulation.

    Returns A (T×T: entry (s, t) = 1 when the order placed on day t arrives on day s), the day-to-day
    difference matrix Δ (Δx)_s = x_s − x_{s−1}, and the mask of orders that can arrive within the horizon.
    """
    useful = arrive < T
    t_idx = np.nonzero(useful)[0]
    A = sparse.csr_matrix((np.ones(t_idx.size), (arrive[t_idx], t_idx)), shape=(T, T))
    diff = sparse.diags([np.ones(T), -np.ones(T - 1)], [0, -1], shape=(T, T), format="csr")
    return A, diff, useful


def perfect_information_bound(
    demand,
    *,
    lead_time: int = 7,
    holding_cost: float,
    stockout_cost: float,
    initial_inventory: float = 0.0,
    pipeline=None,
    backorders: bool = False,
    arrival_day=None,
) -> LPResult:
    """Least possible cost on one demand path when the whole path is known in advance (an LP, HiGHS).

    Day-by-day flow balance (sparse): ending on-hand = previous + arrivals − fulfilled, 0 ≤ fulfilled ≤ demand
    (lost sales); or net stock = previous + arrivals − demand, split into on-hand and backlog (backorders).
    Any non-anticipative policy's orders (with fulfilment from on-hand) are a feasible point, so its cost on
    this path is ≥ the LP optimum.
    """
    d = _as_path(demand)
    T = d.size
    h = float(holding_cost)
    p = float(stockout_cost)
    if not (h >= 0 and p > 0):
        raise ValueError(f"need holding cost >= 0 and stockout cost > 0, got h={h}, p={p}")
    arrive = _arrival_days(T, lead_time, arrival_day)
    rhs = _initial_arrivals(T, pipeline)
    rhs[0] += float(initial_inventory)
    A, diff, useful = _block(T, arrive)
    q_hi = np.where(useful, np.inf, 0.0)
    if not backorders:
        # x = [q, f, I]: I_s − I_{s−1} + f_s − arrivals_s(q) = initial arrivals_s;  0 ≤ f ≤ d, I ≥ 0.
        eye = sparse.identity(T, format="csr")
        A_eq = sparse.hstack([-A, eye, diff], format="csr")
        c = np.concatenate([np.zeros(T), -p * np.ones(T), h * np.ones(T)])
        hi = np.concatenate([q_hi, d, np.full(T, np.inf)])
        res = _solve(c, A_eq, rhs, hi)
        q, f, inv = res.x[:T], res.x[T:2 * T], res.x[2 * T:]
        short = np.maximum(d - f, 0.0)
        cost = float(res.fun) + p * float(d.sum())
    else:
        # x = [q, I, B]: (I − B)_s − (I − B)_{s−1} − arrivals_s(q) = initial arrivals_s − d_s;  I, B ≥ 0.
        A_eq = sparse.hstack([-A, diff, -diff], format="csr")
        c = np.concatenate([np.zeros(T), h * np.ones(T), p * np.ones(T)])
        hi = np.concatenate([q_hi, np.full(2 * T, np.inf)])
        res = _solve(c, A_eq, rhs - d, hi)
        q, inv, short = res.x[:T], res.x[T:2 * T], res.x[2 * T:]
        cost = float(res.fun)
    inv = np.maximum(inv, 0.0)
    short = np.maximum(short, 0.0)
    return LPResult(cost=cost, orders=np.maximum(q, 0.0), on_hand=inv, shortfall=short,
                    holding_cost=h * float(inv.sum()), stockout_cost=p * float(short.sum()))


def _solve(c, A_eq, b_eq, hi):
    res = linprog(c, A_eq=A_eq, b_eq=b_eq, bounds=np.column_stack([np.zeros(hi.size), hi]), method="highs")
    _check(res)
    return res


def _check(res) -> None:
    if res.status != 0:
        raise RuntimeError(f"LP solver failed: {res.message}")


def perfect_information_bounds(paths, **kwargs) -> np.ndarray:
    """The bound of each row of a (R, T) array of demand paths; ``arrival_day`` may be (R, T)."""
    paths = np.atleast_2d(np.asarray(paths, dtype=float))
    arrival = kwargs.pop("arrival_day", None)
    out = np.empty(paths.shape[0])
    for r in range(paths.shape[0]):
        a = None if arrival is None else np.asarray(arrival)[r]
        out[r] = perfect_information_bound(paths[r], arrival_day=a, **kwargs).cost
    return out


def saa_plan(
    paths,
    *,
    lead_time: int = 7,
    holding_cost: float,
    stockout_cost: float,
    initial_inventory: float = 0.0,
    pipeline=None,
    backorders: bool = False,
) -> LPResult:
    """One order plan q_1..q_T, the same for every scenario, minimising the average cost over K sampled paths.

    The original research notebook's stochastic-programming model (a sample-average approximation): orders
    are fixed in advance (open loop), fulfilment and stock follow each path. Returns the plan and its
    in-sample average cost (optimistic; use ``evaluate_plan`` on fresh paths for an honest figure).
    """
    D = np.atleast_2d(np.asarray(paths, dtype=float))
    K, T = D.shape
    h = float(holding_cost)
    p = float(stockout_cost)
    if not (h >= 0 and p > 0):
        raise ValueError(f"need holding cost >= 0 and stockout cost > 0, got h={h}, p={p}")
    arrive = _arrival_days(T, lead_time, None)
    rhs = _initial_arrivals(T, pipeline)
    rhs[0] += float(initial_inventory)
    A, diff, useful = _block(T, arrive)
    eye = sparse.identity(T, format="csr")
    w = 1.0 / K
    q_col = sparse.vstack([-A] * K, format="csr")
    q_hi = np.where(useful, np.inf, 0.0)
    if not backorders:
        # x = [q, f_1, I_1, ..., f_K, I_K]: one plan q shared by every path's flow balance.
        per = sparse.hstack([eye, diff], format="csr")
        b_eq = np.tile(rhs, K)
        c_path = np.concatenate([-p * w * np.ones(T), h * w * np.ones(T)])
        hi = np.concatenate([q_hi] + [np.concatenate([D[k], np.full(T, np.inf)]) for k in range(K)])
        const = p * w * float(D.sum())
    else:
        # x = [q, I_1, B_1, ..., I_K, B_K]
        per = sparse.hstack([diff, -diff], format="csr")
        b_eq = np.concatenate([rhs - D[k] for k in range(K)])
        c_path = np.concatenate([h * w * np.ones(T), p * w * np.ones(T)])
        hi = np.concatenate([q_hi, np.full(2 * T * K, np.inf)])
        const = 0.0
    A_eq = sparse.hstack([q_col, sparse.block_diag([per] * K, format="csr")], format="csr")
    c = np.concatenate([np.zeros(T), np.tile(c_path, K)])
    res = _solve(c, A_eq, b_eq, hi)
    q = np.maximum(res.x[:T], 0.0)
    ev = evaluate_plan(q, D, lead_time=lead_time, holding_cost=h, stockout_cost=p,
                       initial_inventory=initial_inventory, pipeline=pipeline, backorders=backorders)
    return LPResult(cost=float(res.fun) + const, orders=q, on_hand=ev["on_hand"].mean(axis=0),
                    shortfall=ev["shortfall"].mean(axis=0), holding_cost=float(ev["holding_cost"].mean()),
                    stockout_cost=float(ev["stockout_cost"].mean()))


def evaluate_plan(
    orders,
    paths,
    *,
    lead_time: int = 7,
    holding_cost: float,
    stockout_cost: float,
    initial_inventory: float = 0.0,
    pipeline=None,
    backorders: bool = False,
) -> dict:
    """Cost of a fixed order plan on each of (R, T) demand paths, simulated on the contract's event order.

    Fulfilment is greedy from on-hand (the best a plan can do once orders are fixed). Returns per-path arrays
    ``total_cost``, ``holding_cost``, ``stockout_cost`` (R,) and ``on_hand``, ``shortfall`` (R, T).
    """
    D = np.atleast_2d(np.asarray(paths, dtype=float))
    R, T = D.shape
    q = np.asarray(orders, dtype=float)
    if q.shape != (T,):
        raise ValueError(f"plan must have one order per day ({T}), got shape {q.shape}")
    h = float(holding_cost)
    p = float(stockout_cost)
    arrivals = _initial_arrivals(T, pipeline)
    L = int(lead_time)
    if L < T:
        arrivals[L:] += q[: T - L]
    on_hand = np.full(R, float(initial_inventory))
    backlog = np.zeros(R)
    inv = np.empty((R, T))
    short = np.empty((R, T))
    for t in range(T):
        on_hand += arrivals[t]
        if backorders:
            need = backlog + D[:, t]
            served = np.minimum(on_hand, need)
            on_hand -= served
            backlog = need - served
            short[:, t] = backlog
        else:
            served = np.minimum(on_hand, D[:, t])
            on_hand -= served
            short[:, t] = D[:, t] - served
        inv[:, t] = on_hand
    hc = h * inv.sum(axis=1)
    sc = p * short.sum(axis=1)
    return {"total_cost": hc + sc, "holding_cost": hc, "stockout_cost": sc, "on_hand": inv, "shortfall": short}


def mean_ci95(x) -> dict:
    """Mean and 95% confidence half-width (normal approximation; 0 for fewer than two values)."""
    x = np.asarray(x, dtype=float)
    m = float(x.mean()) if x.size else float("nan")
    hw = 1.959963984540054 * float(x.std(ddof=1)) / math.sqrt(x.size) if x.size > 1 else 0.0
    return {"mean": m, "ci95": hw}
