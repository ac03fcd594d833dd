"""The yardsticks: how far is a policy from the best possible?

Three answers, all on the contract's event order (an order placed on day t arrives at the start of day
t + L; arrivals come before demand; cost of a day = h × ending on-hand + p × unmet units (lost sales) or
p × backlog at day end (backorders)):

(a) ``perfect_information_bound`` — the LP over one known demand path (HiGHS through ``scipy.optimize.linprog``).
    No real policy knows the future, so its cost on that path can never be lower: a lower bound, reported as the
    value of perfect information (what knowing the future would be worth), not as an attainable optimum.
(b) ``saa_plan`` / ``evaluate_plan`` — the original research notebook's model: one open-loop order plan that
    minimises the average cost over K sampled paths (sample-average-approximation LP), then evaluated out of
    sample on fresh paths.
(c) ``search_base_stock`` / ``search_z`` — simulation-optimised constant base-stock level and z of the
    order-up-to rule, searched on common random numbers with the engine's batch mode.

Honest yardsticks: every tuned parameter (best z, best S) is *chosen* on selection paths and *costed* on disjoint
evaluation paths — replications R..2R−1 against 0..R−1; in replay mode (one path) on the `days` days before the
replayed window against the replayed window (``selection_config``). A choice scored on the paths it was tuned on
is optimistic (in-sample); regret is measured against the best policy found out of sample.

The LP and plan code is pure numpy/scipy and does not need the rest of the engine; (c) calls
``engine.simulation.batch``. What to do for a series is not decided here: the report carries the one recommendation
(engine.studies.recommend) beside these yardsticks.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from engine.simulation.confidence import mean_ci
from engine.simulation.kernel import InventoryKernel
from engine.simulation.metrics import total_cost

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
    rules=None,
) -> dict:
    """Cost of a fixed order plan on each of (R, T) demand paths: engine.simulation.kernel's inventory day with
    the plan's order of each day (the contract's event order); `rules` (engine.policies.order_rules.OrderRules, day 0
    a Monday) round the plan's orders as the supplier would and add K per order to the total.

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
    L = int(lead_time)
    if L < 0:
        raise ValueError(f"lead time must be >= 0, got {lead_time}")
    start = _initial_arrivals(T, pipeline)
    kernel = InventoryKernel(np.full(R, float(initial_inventory)), h=h, p=p, backorders=backorders, max_lead=L,
                             pipeline={int(t): float(a) for t, a in enumerate(start) if a != 0.0}, rules=rules)
    inv = np.empty((R, T))
    short = np.empty((R, T))
    for t in range(T):
        placed, _ = kernel.place(t, q[t], L)
        flows = kernel.serve(t, D[:, t], placed)
        inv[:, t] = kernel.on_hand
        short[:, t] = kernel.backlog if backorders else flows.unmet
    tot = kernel.finish()
    return {"total_cost": total_cost(tot), "holding_cost": tot["holding"],
            "stockout_cost": tot["stockout"], "ordering_cost": tot["ordering"], "on_hand": inv, "shortfall": short}


def mean_ci95(x) -> dict:
    """Mean and 95 % Student-t half-width (engine.simulation.confidence; 0 for fewer than two values)."""
    return mean_ci(x, 0.95, default=0.0)


# ---------------------------------------------------------------------------------------------------------------
# (c) simulation-optimised policies and the whole report (needs the batch engine)
# ---------------------------------------------------------------------------------------------------------------
Z_MIN, Z_MAX = -1.5, 8.0  # Φ(8) < 1 in float64; the search never asks for a 100% target


def relaxed_arrival_days(lead_times) -> np.ndarray:
    """Arrival days for the bound under stochastic lead times: any day from the first possible arrival on.

    Without crossing an order may arrive later than d + L_d (behind an earlier one), so the exact arrival day
    depends on the policy. The bound therefore lets goods arrive on any day s ≥ min_d (d + L_d) — every
    policy's arrivals are in that set, so the LP stays a lower bound (a relaxation).
    """
    lt = np.asarray(lead_times, dtype=np.int64)
    T = lt.size
    first = int(np.min(np.arange(T) + lt)) if T else 0
    days = np.arange(T, dtype=np.int64)
    return np.where(days >= first, days, T)


class _Study:
    """One config + series + replications with a shared forecaster: runs policy variants on the same paths."""

    def __init__(self, config, series, replications: int, forecaster=None, initial_inventory=None,
                 first_replication: int = 0):
        from dataclasses import replace

        import engine.policies.original  # noqa: F401  (policy "original")
        from engine.forecast.registry import default_forecaster_name, get_forecaster
        from engine.simulation.simulator import prepare, resolve_costs
        from engine.studies.scenarios import SharedForecaster

        self.R = int(replications)
        self.first = int(first_replication)
        base = replace(config, replications=self.R, policy_params=dict(config.policy_params))
        inner = forecaster or get_forecaster(base.forecaster or default_forecaster_name())
        inner = getattr(inner, "inner", inner)  # never share a cache across studies of different paths
        self.fc = SharedForecaster(inner)
        self.fc.set_scope((self.first, self.first + self.R))
        self.series = series
        self.costs = resolve_costs(base, series)
        if initial_inventory is None and base.initial_inventory is None:
            # one starting stock for every policy: the order-up-to rule's day-1 level (so one bound fits all)
            ou = replace(base, policy="order-up-to", policy_params={}, initial_inventory=None)
            prep = prepare(ou, series, self.fc, [self.first])
            initial_inventory = float(prep.policy.initial_inventory(_first_observation(prep)))
        if initial_inventory is not None:
            base = replace(base, initial_inventory=float(max(initial_inventory, 0.0)))
        self.base = base
        self.runs = 0

    def run(self, policy: str, params: dict | None = None, keep: int = 0):
        from dataclasses import replace

        from engine.simulation.batch import run_batch

        cfg = replace(self.base, policy=policy, policy_params=dict(params or {}))
        self.runs += 1
        return run_batch(cfg, self.series, replications=self.R, forecaster=self.fc, keep_ledgers=keep,
                         first_replication=self.first)

    def cost(self, policy: str, params: dict | None = None) -> np.ndarray:
        return np.asarray(self.run(policy, params).kpis["total_cost"], dtype=np.float64)


def _first_observation(prep):
    from engine.forecast.base import window_sum
    from engine.policies.base import Observation

    plan = prep.plan
    f = prep.forecaster.predict(plan.context[None, :], None if not prep.forecaster.reads_covariates else
                                _cov(plan, prep.forecaster.horizon))
    obs = Observation()
    obs.day, obs.forecast, obs.forecasts = 1, float(f[0, 0]), f[0]
    obs.mu, obs.sigma, obs.past_forecasts = float(window_sum(f, prep.window)[0]), prep.sigma, np.zeros(0)
    q = getattr(prep.policy, "quantile_level", None)
    if q is not None:
        tracker = prep.tracker(1, 1)
        tracker.set_mu(0, obs.mu)
        safety, obs.quantile_method = tracker.safety(0, q)
        obs.safety = float(safety[0])
    return obs


def _cov(plan, horizon):
    return plan.covariates().take(plan.n_context + horizon, rows=slice(0, 1))


def _golden_grid(fn, lo: float, hi: float, coarse: int, fine: int, expand: int = 0):
    """Grid search on common random numbers: a coarse grid, then a fine grid around the best point.
    fn(x) -> (R,) costs. Returns (best_x, best_mean, curve dict sorted by x)."""
    seen: dict[float, np.ndarray] = {}

    def eval_at(x):
        x = float(round(x, 6))
        if x not in seen:
            seen[x] = fn(x)
        return seen[x]

    xs = np.linspace(lo, hi, coarse)
    for x in xs:
        eval_at(x)
    best = min(seen, key=lambda k: seen[k].mean())
    step = (hi - lo) / max(coarse - 1, 1)
    for _ in range(expand):  # the best point sits on the upper edge: extend the range upwards
        if best < float(round(hi, 6)):
            break
        lo, hi = hi, hi + (hi - lo)
        for x in np.linspace(lo, hi, coarse)[1:]:
            eval_at(x)
        best = min(seen, key=lambda k: seen[k].mean())
    for _ in range(2):  # two refinements: ±1 coarse step, then ±1 fine step
        for x in np.linspace(max(lo, best - step), min(hi, best + step), fine):
            eval_at(x)
        best = min(seen, key=lambda k: seen[k].mean())
        step = 2 * step / max(fine - 1, 1)
    levels = sorted(seen)
    curve = {"levels": levels, "mean": [float(seen[x].mean()) for x in levels],
             "ci95": [mean_ci95(seen[x])["ci95"] for x in levels]}
    return best, float(seen[best].mean()), curve, seen


def search_base_stock(study: _Study, center: float, coarse: int = 13, fine: int = 9):
    """Simulation-optimised constant base-stock level S (grid on common random numbers around `center`)."""
    lo, hi = max(0.0, 0.3 * center), max(1.0, 2.0 * center)
    return _golden_grid(lambda s: study.cost("base-stock", {"base_stock_level": s}), lo, hi, coarse, fine,
                        expand=3)


def search_z(study: _Study, coarse: int = 13, fine: int = 9):
    """Simulation-optimised z of the order-up-to rule S = μ + zσ (service level Φ(z))."""
    from scipy.stats import norm

    return _golden_grid(lambda z: study.cost("order-up-to", {"service_level": float(norm.cdf(z))}),
                        Z_MIN, Z_MAX, coarse, fine)


def demand_paths(study: _Study):
    """(R, days) demand and (R, days) lead times the policies of this study all face (common random numbers)."""
    from engine.demand.modes import draw_lead_times

    res = study.run("base-stock", {"base_stock_level": 0.0}, keep=study.R)
    demand = np.asarray(res.kept["demand"], dtype=np.float64)
    cfg = study.base
    lead = np.stack([draw_lead_times(cfg, int(cfg.seed), r, demand.shape[1])
                     for r in range(study.first, study.first + study.R)])
    return demand, lead


def lower_bounds(study: _Study, demand, lead) -> np.ndarray:
    """Perfect-information LP bound of each replication (same start stock, costs and lead times)."""
    cfg = study.base
    out = np.empty(demand.shape[0])
    for r in range(demand.shape[0]):
        arrival = None if not cfg.lead_time_dist else relaxed_arrival_days(lead[r])
        out[r] = perfect_information_bound(
            demand[r], lead_time=int(cfg.lead_time), arrival_day=arrival, holding_cost=study.costs["h"],
            stockout_cost=study.costs["p"], initial_inventory=float(cfg.initial_inventory or 0.0),
            backorders=bool(cfg.backorders)).cost
    return out


def selection_config(config, series, forecaster_min_history: int = 1):
    """(config of the selection paths, first replication of the selection paths, label).

    Synthetic / forecast-noise: the same settings on replications R..2R−1 (the evaluation uses 0..R−1).
    Replay (one path): the `days` days just before the replayed window, with the history before them as context
    (shorter when the history is short; at least 14 days) — chosen on the past, costed on the later days.
    Returns None for the config when the history leaves no earlier window.
    """
    from dataclasses import replace

    from engine.demand.modes import context_length

    R = int(config.replications)
    if config.demand != "replay":
        return config, R, "replications %d..%d (evaluation: 0..%d)" % (R, 2 * R - 1, R - 1)
    n_ctx = context_length(config, series, forecaster_min_history)
    need = max(int(forecaster_min_history), 28)
    days = min(int(config.days), n_ctx - need)
    if days < 14:
        return None, 0, "no earlier window"
    return (replace(config, context_days=n_ctx - days, days=days),
            0, f"the {days} days before the replayed window")


def calibration_of(result, nominal: float) -> dict:
    """Coverage of the order-up-to level as a quantile of the protection-period demand: the share of decision
    days t (whose protection period lies inside the run) with the demand over it ≤ μ_t + safety_t, over kept
    ledgers. The period is days t..t+W−1 with a fixed lead time, and the realised one with a random lead time:
    from the order day to the arrival of that day's order, over the lead times the replication drew
    (engine.protection.lead_times)."""
    from engine.protection.lead_times import arrival_lead_times, realised_window_sums
    from engine.protection.tracker import coverage

    W = int(result.info["window"])
    d = np.asarray(result.kept["demand"], dtype=np.float64)
    level = np.asarray(result.kept["mu"], dtype=np.float64) + np.asarray(result.kept["safety_stock"])
    config = result.config
    if getattr(config, "lead_time_dist", None):
        from engine.demand.modes import draw_lead_times

        first = int(result.info.get("first_replication", 0))
        lead = np.stack([draw_lead_times(config, int(config.seed), first + r, d.shape[1]) for r in range(len(d))])
        sums = realised_window_sums(d, arrival_lead_times(lead, bool(config.allow_crossing)))
        cov, n = coverage(sums, level)
        return {"nominal": nominal, "coverage": cov, "n": n}
    T = d.shape[1] - W + 1
    if T <= 0:
        return {"nominal": nominal, "coverage": None, "n": 0}
    c = np.cumsum(np.concatenate([np.zeros((d.shape[0], 1)), d], axis=1), axis=1)
    sums = c[:, W:W + T] - c[:, :T]
    cov, n = coverage(sums, level[:, :T])
    return {"nominal": nominal, "coverage": cov, "n": n}


def optimum_report(config, series, replications: int = 100, *, forecaster=None, quick: bool = False,
                   saa_paths: int = 20, progress=None, objective: str = "cost", target_fill_rate: float = 0.95,
                   file_series=None) -> dict:
    """Everything the /optimum page and `python -m engine optimum --json` show, on common random numbers.

    Keys: lower_bound {mean, ci95} (the perfect-information LP: the value of perfect information, labelled so);
    best_base_stock {level, cost, cost_selection, selection}; best_z {z, cost, cost_selection, selection} — chosen
    on the selection paths, `cost` on the evaluation paths; policies [{name, cost, regret, ...}] with regret
    against the cheapest policy found out of sample; calibration {nominal, coverage, n} of the order-up-to rule's
    quantile on the evaluation paths; plus curve (cost vs S) and z_curve on the selection paths, saa (plan cost in
    and out of sample), initial_inventory, costs, and per-path checks; recommendation: what to do for this series
    (engine.studies.recommend, the same record the simulator's hint and the portfolio give for these settings and
    `objective`) — the yardsticks above measure the rule as configured, the recommendation is the answer;
    file_series: the file's series, for the service objective's file-wide correction (engine.studies.recommend).
    """
    import time as _time
    from dataclasses import replace

    from scipy.stats import norm

    from engine.studies.recommend import recommend, settings_for

    t0 = _time.perf_counter()
    steps = 7
    done = [0]

    def tick():
        done[0] += 1
        if progress is not None:
            progress(done[0], steps)

    if config.demand == "replay":  # one demand path (the history): more replications would repeat it
        replications = 1
    config = replace(config, replications=int(replications))
    study = _Study(config, series, replications, forecaster=forecaster)
    ou_params = ({k: v for k, v in config.policy_params.items() if k in ("service_level", "safety_quantile")}
                 if config.policy == "order-up-to" else {})
    ou = study.run("order-up-to", ou_params, keep=study.R)
    ou_cost = np.asarray(ou.kpis["total_cost"], dtype=np.float64)
    center = float(np.mean(ou.kept["order_up_to"][0]))
    q_nominal = ou.info["protection"]["quantile_level"]
    calibration = calibration_of(ou, q_nominal)
    tick()
    orig_cost = study.cost("original")
    tick()
    sel_cfg, sel_first, sel_label = selection_config(config, series, study.fc.min_history)
    if sel_cfg is None:  # no earlier window: choose on the evaluated path itself, and say so
        sel, selection = study, "in-sample"
    else:
        sel = _Study(sel_cfg, series, sel_cfg.replications if sel_cfg.demand != "replay" else 1,
                     forecaster=forecaster, initial_inventory=(study.base.initial_inventory
                                                               if sel_cfg.demand != "replay" else None),
                     first_replication=sel_first)
        selection = "out-of-sample"
    coarse, fine = (9, 5) if quick else (13, 9)
    best_s, best_s_sel, curve, _ = search_base_stock(sel, center, coarse, fine)
    tick()
    best_z, best_z_sel, z_curve, _ = search_z(sel, coarse, fine)
    tick()
    s_eval = study.cost("base-stock", {"base_stock_level": best_s})
    z_eval = study.cost("order-up-to", {"service_level": float(norm.cdf(best_z))})
    best_s_cost, best_z_cost = float(s_eval.mean()), float(z_eval.mean())
    tick()
    demand, lead = demand_paths(study)
    bounds = lower_bounds(study, demand, lead)
    tick()
    lb = mean_ci95(bounds)
    saa = None
    if not study.base.lead_time_dist and demand.shape[0] >= 2:
        k = max(1, min(saa_paths, demand.shape[0] // 2))
        kw = dict(lead_time=int(study.base.lead_time), holding_cost=study.costs["h"],
                  stockout_cost=study.costs["p"], initial_inventory=float(study.base.initial_inventory or 0.0),
                  backorders=bool(study.base.backorders))
        plan = saa_plan(demand[:k], **kw)
        oos = evaluate_plan(plan.orders, demand[k:], **kw)["total_cost"]
        saa = {"paths": k, "cost_in_sample": plan.cost, "cost_out_of_sample": float(oos.mean()),
               "ci95_out_of_sample": mean_ci95(oos)["ci95"], "orders": [float(x) for x in plan.orders],
               "vs_perfect_information": _regret(float(oos.mean()), float(bounds[k:].mean()))}
    tick()
    rules = study.base.order_rules()
    k_aware = study.cost("s-S-eoq") if rules.order_cost > 0 else None   # engine/policies/lot_sizing.py
    best_found = min(float(np.mean(c)) for c in (ou_cost, orig_cost, s_eval, z_eval, k_aware) if c is not None)

    def entry(name, costs, **extra):
        c = float(np.mean(costs))
        return {"name": name, "cost": c, "regret": _regret(c, best_found), "ci95": mean_ci95(costs)["ci95"],
                "vs_perfect_information": _regret(c, lb["mean"]),
                "gap_vs_best_base_stock": (c - best_s_cost) / best_s_cost if best_s_cost > 0 else None, **extra}

    policies = [entry("order-up-to", ou_cost, z=ou.info["policy"].get("z")),
                entry("original", orig_cost),
                entry("best base-stock", s_eval, level=best_s),
                entry("order-up-to, best z", z_eval, z=best_z)]
    if k_aware is not None:
        policies.append(entry("s-S-eoq (K-aware)", k_aware))
    bound_ok = {name: bool(np.all(bounds <= c + 1e-6 * np.maximum(1.0, np.abs(c)))) for name, c in
                (("order-up-to", ou_cost), ("original", orig_cost), ("best base-stock", s_eval))}
    recommendation = recommend(series, settings_for(config, objective=objective, target_fill_rate=target_fill_rate),
                               file_series=file_series)
    return {
        "recommendation": recommendation,
        "lower_bound": lb,
        "lower_bound_meaning": "value of perfect information: the least cost of a planner who knows every "
                               "future demand (no real policy can reach it)" + (
                                   "; it leaves out the order cost and the supplier's rules (MOQ, packs, order "
                                   "days), so it stays below every policy but further" if rules.active else ""),
        "best_base_stock": {"level": best_s, "cost": best_s_cost, "cost_selection": best_s_sel,
                            "selection": selection, "selected_on": sel_label},
        "best_z": {"z": best_z, "cost": best_z_cost, "cost_selection": best_z_sel, "selection": selection,
                   "selected_on": sel_label},
        "calibration": calibration,
        "policies": policies,
        "regret_reference": "the cheapest policy found out of sample (cost %.2f)" % best_found,
        "saa": saa,
        "curve": curve,
        "z_curve": {"z": z_curve["levels"], "mean": z_curve["mean"], "ci95": z_curve["ci95"]},
        "initial_inventory": float(study.base.initial_inventory or 0.0),
        "costs": {"h": study.costs["h"], "p": study.costs["p"], "order_cost": rules.order_cost},
        "order_rules": rules.describe(),
        "replications": study.R, "days": int(demand.shape[1]), "demand_mode": config.demand,
        "bound_below_every_policy_on_every_path": bound_ok,
        "batch_runs": study.runs + (sel.runs if sel is not study else 0), "elapsed_s": _time.perf_counter() - t0,
    }


def _regret(cost: float, bound: float):
    if bound is None or not bound > 0:
        return None
    return (cost - bound) / bound
