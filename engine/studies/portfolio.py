"""One recommendation per series of a planner's file: demand class, forecaster, order-up-to level, cost and service.

For every ITEM/LOCATION series (chunks of series are independent, so a page or a Celery task can run any chunk and
merge the records):
1. class (Syntetos–Boylan, engine.demand.classes) on the last `history_days` days;
2. forecaster chosen by backtest among a small set for the class (smooth/erratic: ses, ma28; intermittent/lumpy:
   croston, sba, tsb): the one with the smallest RMSE of its protection-period sums (L + 1 days, what an order
   must cover under daily review) over the last `backtest_days` origins of the history;
3. policy: daily-review order-up-to at the protection-period level of engine.protection.tracker,
   S_t = μ_t + Q · √max(μ_t, floor) with μ_t = (L + 1) · forecast_t and Q a quantile of that forecaster's relative
   protection-period errors r = (D − μ) / √max(μ, floor) in the backtest (empirical / conformal order statistic, an
   exponential tail beyond what the sample resolves; no normal spread: a series that is zero 85 % of days has a
   skewed error distribution). Candidates Q are the quantiles at levels SAFETY_LEVELS; the recommended one is the
   smallest whose simulated fill rate reaches the target (objective "fill-rate"), or the one of least expected cost
   (objective "cost"), on SELECTION replications. A second candidate, a static (r, Q) rule (Q one week of mean
   demand, r chosen the same way among quantiles of the history's (L + 1)-day demand sums), is chosen on the same
   selection replications; the objective decides between the two (fill-rate: the one reaching the target with
   less stock on hand; cost: the cheaper), and the record's `policy` says which won;
4. the recommendation is then costed on disjoint EVALUATION replications (other random streams): expected cost
   with a 95 % Student-t interval, fill rate, cycle service level (share of replenishment cycles — from one arrival
   to the day before the next; the first starts on day 1, the last ends with the run — without a stockout),
   stockout days, orders.

Demand paths are moving-block bootstraps of the series' history (blocks of 7 consecutive days from random starts:
the day-to-day dependence within a week is kept, the weekday alignment across blocks is not);
lost sales; holding cost h = holding_rate · unit cost / 365 per unit-day, stockout cost p = price − cost per lost
unit. Series × replications (× safety candidates) are the rows of one numpy array, so a whole chunk advances one
day per step. Random streams are seeded by (seed, series key, selection/evaluation, replication): a series' record
does not depend on which chunk or file layout it came in.
"""
from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from engine.demand.classes import classify
from engine.errors import ConfigError, DataError
from engine.forecast.intermittent import SBA, TSB, Croston
from engine.protection.tracker import FLOOR_PER_DAY, error_quantile, floor_for, protection_level, relative_errors
from engine.simulation.confidence import half_width
from engine.simulation.kernel import InventoryKernel
from engine.simulation.metrics import kpis_from_totals

__all__ = ["PortfolioSettings", "check_margins", "run_portfolio", "run_chunk", "portfolio_totals", "records_csv",
           "RECORD_COLUMNS", "PortfolioCancelled", "CANDIDATES", "DEFAULT_LEAD_TIME"]

DEFAULT_LEAD_TIME = 7
WARM_UP_DAYS = 28
BLOCK_DAYS = 7
REFINE_STEPS = 8
SAFETY_LEVELS = np.array([0.3, 0.5, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995, 0.999])


class PortfolioCancelled(RuntimeError):
    """The caller's cancel() returned True between two chunks."""


@dataclass
class PortfolioSettings:
    lead_time: int | None = None        # days; None: the series' lead-time column, else DEFAULT_LEAD_TIME
    replications: int = 20              # evaluation replications (selection uses as many, on other streams)
    days: int = 90                      # simulated days per replication
    target_fill_rate: float = 0.95
    objective: str = "fill-rate"        # "fill-rate": least stock meeting the target; "cost": least expected cost
    holding_rate: float = 0.25          # per year, on unit cost
    seed: int = 42
    history_days: int = 365             # the most recent days of each series that are used
    backtest_days: int = 90             # forecast origins scored when choosing the forecaster
    moq: float = 0.0                    # minimum order quantity, units (engine.policies.order_rules)
    pack_size: int | None = None        # order multiple (case pack); None = any quantity
    order_cost: float = 0.0             # fixed cost K per order, in the cost and the KPIs

    def validate(self) -> "PortfolioSettings":
        checks = [("lead_time", self.lead_time is None or 0 <= self.lead_time <= 90, "0..90"),
                  ("replications", 2 <= self.replications <= 1000, "2..1000"),
                  ("days", 7 <= self.days <= 3650, "7..3650"),
                  ("target_fill_rate", 0.5 <= self.target_fill_rate < 1.0, "[0.5, 1)"),
                  ("objective", self.objective in ("fill-rate", "cost"), "fill-rate | cost"),
                  ("holding_rate", 0 < self.holding_rate <= 5, "(0, 5]"),
                  ("history_days", 60 <= self.history_days <= 3650, "60..3650"),
                  ("backtest_days", 14 <= self.backtest_days <= 730, "14..730"),
                  ("moq", 0 <= self.moq <= 1e12, "0..1e12"),
                  ("pack_size", self.pack_size is None or (1 <= self.pack_size <= 1e12
                                                           and self.pack_size == int(self.pack_size)),
                   "a whole number ≥ 1"),
                  ("order_cost", 0 <= self.order_cost <= 1e9, "0..1e9")]
        for name, ok, allowed in checks:
            if not ok:
                value = getattr(self, name)
                raise ConfigError(f"--{name.replace('_', '-')} {value} is out of range ({allowed})", field=name,
                                  value=value)
        return self

    def to_dict(self) -> dict:
        return asdict(self)

    def order_rules(self):
        """The supplier's rules every simulated order follows (the kernel applies them)."""
        from engine.policies.order_rules import OrderRules

        return OrderRules(moq=float(self.moq), pack_size=self.pack_size, order_cost=float(self.order_cost))


# -- forecasters with a day-by-day state (same recursions as the registry's ses / ma28 / croston / sba / tsb) ----
class _SES:
    name = "ses"

    def __init__(self, alpha: float = 0.2) -> None:
        self.alpha = alpha

    def start(self, n):
        return {"level": np.zeros(n), "seen": np.zeros(n, dtype=bool)}

    def step(self, s, y):
        s["level"] = np.where(s["seen"], s["level"] + self.alpha * (y - s["level"]), y)
        s["seen"] = np.ones_like(s["seen"])

    def level(self, s):
        return s["level"]


class _MovingAverage:
    name = "ma28"

    def __init__(self, window: int = 28) -> None:
        self.window = window

    def start(self, n):
        return {"buf": np.zeros((n, self.window)), "count": 0, "sum": np.zeros(n)}

    def step(self, s, y):
        slot = s["count"] % self.window
        s["sum"] = s["sum"] + y - s["buf"][:, slot]
        s["buf"][:, slot] = y
        s["count"] += 1

    def level(self, s):
        return s["sum"] / max(1, min(s["count"], self.window))


def _forecasters():
    return {"ses": _SES(), "ma28": _MovingAverage(), "croston": Croston(), "sba": SBA(), "tsb": TSB()}


CANDIDATES = {"smooth": ("ses", "ma28"), "erratic": ("ses", "ma28"), "intermittent": ("croston", "sba", "tsb"),
              "lumpy": ("croston", "sba", "tsb"), "no demand": ("ses",)}


def _masked_step(f, s: dict, y: np.ndarray, valid: np.ndarray) -> None:
    """Advance the state only on rows whose day is part of their history (histories are left-padded)."""
    if valid.all():
        f.step(s, y)
        return
    old = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in s.items()}
    f.step(s, np.where(valid, y, 0.0))
    for k, v in s.items():
        if isinstance(v, np.ndarray) and v.shape[:1] == valid.shape:
            mask = valid if v.ndim == 1 else valid[:, None]
            s[k] = np.where(mask, v, old[k])


def _replicate(s: dict, times: int) -> dict:
    """Each row of a state repeated `times` times (row i -> rows i*times .. i*times+times-1)."""
    return {k: (np.repeat(v, times, axis=0) if isinstance(v, np.ndarray) else v) for k, v in s.items()}


def _rng(seed: int, key: str, phase: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(key.encode("utf-8")), phase]))


def _t_half_width(a: np.ndarray) -> np.ndarray:
    """95 % Student-t half-width of the mean, per row of a (n, R) array (engine.simulation.confidence)."""
    return half_width(a, 0.95, axis=1)


def _lost_sales_days(demand: np.ndarray, on_hand: np.ndarray, lead: np.ndarray, h: np.ndarray, p: np.ndarray,
                     order: Callable[[int, np.ndarray], np.ndarray], rules=None) -> dict:
    """The day loop both portfolio rules share: engine.simulation.kernel's inventory day with lost sales over
    rows × candidates. Each day place order(day, position) (before the day's arrival, so lead time 0 arrives the
    same day), receive, serve demand, lose the rest, pay holding on the end stock. demand: (rows, days); on_hand:
    (rows, K) starting stock; lead, h, p: (rows,); rules: the supplier's OrderRules the kernel applies (MOQ, packs,
    K). Returns the kernel's totals (metrics.TOTAL_NAMES), each (rows, K).
    """
    rows, days = demand.shape
    lead_rows = np.asarray(lead, dtype=np.int64)[:, None]
    kernel = InventoryKernel(np.array(on_hand, dtype=np.float64), h=h[:, None], p=p[:, None],
                             max_lead=int(lead_rows.max()) if rows else 0, rules=rules)
    for d in range(days):
        placed, _ = kernel.place(d, order(d, kernel.position()), lead_rows)
        kernel.serve(d, demand[:, d:d + 1], placed)
    return kernel.finish()


def _simulate(level: np.ndarray, demand: np.ndarray, quantile: np.ndarray, lead: np.ndarray, h: np.ndarray,
              p: np.ndarray, rules=None) -> dict:
    """Daily-review order-up-to with lost sales for rows × candidates.

    level, demand: (rows, days) forecast per day (made before the day) and demand; quantile: (rows, K) relative
    error quantiles Q; lead, h, p: (rows,). Each day: order up to S = μ + Q·√max(μ, floor), μ = (L+1)·level
    (engine.protection.tracker.protection_level), then the day of `_lost_sales_days`. Returns per (rows, K) totals.
    """
    w = (lead + 1.0)[:, None]
    floor = (FLOOR_PER_DAY * np.maximum(lead + 1.0, 1.0))[:, None]  # engine.protection.tracker.floor_for, per row

    def order_up_to(d, position):
        qty = protection_level(w * level[:, d:d + 1], quantile, floor) - position
        np.maximum(qty, 0.0, out=qty)
        return qty

    return _lost_sales_days(demand, protection_level(w * level[:, :1], quantile, floor), lead, h, p, order_up_to,
                            rules)


def _simulate_rq(demand: np.ndarray, reorder: np.ndarray, qty: np.ndarray, lead: np.ndarray, h: np.ndarray,
                 p: np.ndarray, rules=None) -> dict:
    """Daily-review (r, Q) with lost sales for rows × candidates, the rule of engine.policies.base.RQ: when the
    inventory
    position is at or below r, order the smallest multiple n·Q that lifts it above r (Silver, Pyke & Thomas ch. 7);
    the run starts with r + Q on hand. demand: (rows, days); reorder: (rows, K) reorder points r; qty, lead, h, p:
    (rows,). Event order and totals as in `_lost_sales_days`."""
    Q = qty[:, None]

    def reorder_point(d, position):
        return (np.floor((reorder - position) / Q) + 1.0) * (position <= reorder) * Q

    return _lost_sales_days(demand, reorder + Q, lead, h, p, reorder_point, rules)


def _bootstrap(history: np.ndarray, days: int, reps: int, rng: np.random.Generator) -> np.ndarray:
    """(reps, days) moving-block bootstrap paths of a 1-d history (circular blocks of BLOCK_DAYS days)."""
    n = len(history)
    blocks = -(-days // BLOCK_DAYS)
    starts = rng.integers(0, n, size=(reps, blocks))
    idx = (starts[:, :, None] + np.arange(BLOCK_DAYS)[None, None, :]) % n
    return history[idx.reshape(reps, -1)[:, :days]]


def check_margins(series) -> None:
    """DataError unless every series sells above its cost: the lost-sales cost p = price − cost must be positive
    (a lost sale that costs nothing makes no stock the optimum). Named with the first such series and the count,
    so a page can refuse a Run before any simulation starts."""
    bad = [x for x in series if not float(x.unit_price) - float(x.unit_cost) > 0]
    if bad:
        x = bad[0]
        more = f" (and {len(bad) - 1} more series)" if len(bad) > 1 else ""
        raise DataError(f"series {x.key}: unit price {float(x.unit_price):g} is not above unit cost "
                        f"{float(x.unit_cost):g}{more}, so a lost sale costs nothing; fix the price/cost columns",
                        file=x.source)


def run_chunk(series: list, settings: PortfolioSettings) -> list[dict]:
    """Recommendations for a list of `SeriesData` (independent of every other chunk)."""
    s = settings
    rules = s.order_rules()
    n = len(series)
    if n == 0:
        return []
    hist = [np.asarray(x.demand[-s.history_days:], dtype=np.float64) for x in series]
    T = max(len(y) for y in hist)
    Y = np.zeros((n, T))
    valid = np.zeros((n, T), dtype=bool)
    for i, y in enumerate(hist):
        Y[i, T - len(y):] = y
        valid[i, T - len(y):] = True
    lead = np.array([s.lead_time if s.lead_time is not None else
                     (x.lead_time_days if x.lead_time_days is not None else DEFAULT_LEAD_TIME) for x in series],
                    dtype=np.int64)
    w = lead + 1
    classes = [classify(y) for y in hist]
    cost = np.array([x.unit_cost for x in series], dtype=np.float64)
    price = np.array([x.unit_price for x in series], dtype=np.float64)
    h = s.holding_rate * cost / 365.0
    p = price - cost
    check_margins(series)

    # backtest: level before each day, protection-period sums from that day on
    models = _forecasters()
    csum = np.concatenate([np.zeros((n, 1)), np.cumsum(Y, axis=1)], axis=1)
    t_idx = np.arange(T)[None, :]
    end = np.minimum(t_idx + w[:, None], T)
    actual = np.take_along_axis(csum, end, axis=1) - csum[:, :T]
    first = T - np.array([len(y) for y in hist])
    usable = (t_idx >= first[:, None] + WARM_UP_DAYS) & (t_idx + w[:, None] <= T) & \
        (t_idx > T - w[:, None] - s.backtest_days)
    names = sorted({m for c in classes for m in CANDIDATES[c.label]})
    errors, mus, final_state = {}, {}, {}
    for name in names:
        f = models[name]
        st = f.start(n)
        lv = np.empty((n, T))
        for t in range(T):
            lv[:, t] = f.level(st)
            _masked_step(f, st, Y[:, t], valid[:, t])
        mus[name] = w[:, None] * lv
        errors[name] = np.where(usable, actual - mus[name], np.nan)
        final_state[name] = st
    chosen, rmse = [], np.full(n, np.nan)
    for i, c in enumerate(classes):
        best, best_score = CANDIDATES[c.label][0], math.inf
        for name in CANDIDATES[c.label]:
            e = errors[name][i]
            e = e[~np.isnan(e)]
            score = float(np.sqrt(np.mean(e * e))) if e.size else math.inf
            if score < best_score:
                best, best_score = name, score
        chosen.append(best)
        rmse[i] = best_score if math.isfinite(best_score) else np.nan

    # candidates: quantiles of the chosen forecaster's relative protection-period errors (engine.protection.tracker)
    K = len(SAFETY_LEVELS)
    quant = np.zeros((n, K))
    method, rel = [], []
    for i in range(n):
        ok = ~np.isnan(errors[chosen[i]][i])
        fl = floor_for(int(w[i]))
        if ok.any():
            r = relative_errors(actual[i, ok], mus[chosen[i]][i, ok], fl)
        else:  # history too short for a backtest: (L+1)-day sums around their mean
            y = hist[i]
            sums = np.convolve(y, np.ones(w[i]), mode="valid") if len(y) >= w[i] else np.array([y.sum()])
            r = relative_errors(sums, sums.mean(), fl)
        rel.append(r)
        methods = []
        for k, q in enumerate(SAFETY_LEVELS):
            v, how = error_quantile(r, float(q))
            quant[i, k] = v[0]
            methods.append(how)
        method.append(methods)
    quant = np.maximum.accumulate(quant, axis=1)

    level_now = np.array([models[chosen[i]].level({k: (v[i:i + 1] if isinstance(v, np.ndarray) else v)
                                                   for k, v in final_state[chosen[i]].items()})[0]
                          for i in range(n)])

    def paths(phase: int):
        R = s.replications
        dem = np.vstack([_bootstrap(hist[i], s.days, R, _rng(s.seed, series[i].key, phase)) for i in range(n)])
        lvl = np.empty_like(dem)
        for name in set(chosen):
            sel = np.array([c == name for c in chosen])
            rows = np.repeat(sel, R)
            f = models[name]
            st = _replicate({k: (v[sel] if isinstance(v, np.ndarray) else v)
                             for k, v in final_state[name].items()}, R)
            sub = dem[rows]
            out = np.empty_like(sub)
            for d in range(s.days):
                out[:, d] = f.level(st)
                f.step(st, sub[:, d])
            lvl[rows] = out
        return dem, lvl

    R = s.replications
    rep = lambda a: np.repeat(a, R, axis=0)  # noqa: E731 (a one-line local helper)
    dem, lvl = paths(0)

    rows_n = np.arange(n)

    def select(cands: np.ndarray, simulate=None):
        """Per series: the candidate the objective picks on the selection paths, and its fill rate, mean cost
        and mean on-hand stock there (candidates must be in increasing order of stock)."""
        k = cands.shape[1]
        sim = simulate(cands) if simulate else _simulate(lvl, dem, rep(cands), rep(lead), rep(h), rep(p), rules)
        kpi = kpis_from_totals(sim, s.days)
        fill = kpi["fill_rate"].reshape(n, R, k).mean(axis=1)
        cost = kpi["total_cost"].reshape(n, R, k).mean(axis=1)
        if s.objective == "cost":
            best = np.argmin(cost, axis=1)
        else:
            meets = fill >= s.target_fill_rate
            best = np.where(meets.any(axis=1), np.argmax(meets, axis=1), k - 1)
        stock = kpi["average_on_hand"].reshape(n, R, k).mean(axis=1)
        return best, fill[rows_n, best], cost[rows_n, best], stock[rows_n, best]

    def refine(grid: np.ndarray, simulate=None):
        """Coarse: the grid's levels; fine: REFINE_STEPS points between the neighbours of the coarse choice."""
        k0 = select(grid, simulate)[0]
        kk = grid.shape[1]
        lo = grid[rows_n, np.maximum(k0 - 1, 0)]
        hi = grid[rows_n, np.minimum(k0 + 1, kk - 1)] if s.objective == "cost" else grid[rows_n, k0]
        fine = lo[:, None] + (hi - lo)[:, None] * np.linspace(0.0, 1.0, REFINE_STEPS)[None, :]
        k1, fill_, cost_, stock_ = select(fine, simulate)
        return k0, fine[rows_n, k1], fill_, cost_, stock_

    k0, best_q, fill_sel, cost_sel, stock_sel = refine(quant)

    # the (r, Q) candidate: Q one week of mean demand (engine.policies.base's default), r among the empirical quantiles
    # of the history's (L + 1)-day demand sums; chosen on the same selection paths, then compared with the
    # order-up-to choice by the objective (fill-rate: least stock among those reaching the target)
    order_qty = np.array([max(1.0, round(7.0 * float(np.mean(y)))) if len(y) else 1.0 for y in hist])
    r_grid = np.zeros((n, K))
    for i, y in enumerate(hist):
        sums = np.convolve(y, np.ones(w[i]), mode="valid") if len(y) >= w[i] else np.array([y.sum()])
        r_grid[i] = np.quantile(sums, SAFETY_LEVELS)
    r_grid = np.maximum.accumulate(r_grid, axis=1)
    rq_sim = lambda cands: _simulate_rq(dem, rep(cands), rep(order_qty), rep(lead), rep(h), rep(p), rules)  # noqa: E731
    _, best_r, fill_rq, cost_rq, stock_rq = refine(r_grid, rq_sim)
    if s.objective == "cost":
        use_rq = cost_rq < cost_sel
    else:
        out_ok, rq_ok = fill_sel >= s.target_fill_rate, fill_rq >= s.target_fill_rate
        use_rq = np.where(out_ok & rq_ok, stock_rq < stock_sel, np.where(out_ok | rq_ok, rq_ok, fill_rq > fill_sel))
    fill_sel = np.where(use_rq, fill_rq, fill_sel)

    dem, lvl = paths(1)
    ev = _simulate(lvl, dem, rep(best_q[:, None]), rep(lead), rep(h), rep(p), rules)
    ev_rq = _simulate_rq(dem, rep(best_r[:, None]), rep(order_qty), rep(lead), rep(h), rep(p), rules)
    won = rep(use_rq)[:, None]
    # per replication KPIs of the recommendation (engine.simulation.metrics: the simulator's and the batch's)
    kpi = kpis_from_totals({k: np.where(won, ev_rq[k], v)[:, 0] for k, v in ev.items()}, s.days)
    per = {k: np.asarray(v).reshape(n, R) for k, v in kpi.items() if k != "days"}
    total_cost = per["total_cost"]
    cost_hw = _t_half_width(total_cost)
    fill_hw = _t_half_width(per["fill_rate"])
    out = []
    for i, x in enumerate(series):
        c = classes[i]
        wi = int(w[i])
        sd = rmse[i]
        mu_now = wi * level_now[i]
        s_now = float(protection_level(mu_now, best_q[i], floor_for(wi)))
        out.append({
            "series": x.key, "class": c.label, "adi": c.adi, "cv2": c.cv2, "zero_share": c.zero_share,
            "history_days": len(hist[i]), "forecaster": chosen[i],
            "backtest_rmse": None if np.isnan(sd) else float(sd),
            "policy": "r-Q" if use_rq[i] else "order-up-to",
            "reorder_point": float(best_r[i]) if use_rq[i] else None,
            "order_quantity": float(order_qty[i]) if use_rq[i] else None,
            "lead_time": int(lead[i]), "protection_days": wi,
            "daily_forecast": float(level_now[i]), "protection_demand": float(mu_now),
            "backtest_coverage": float(np.mean(rel[i] <= best_q[i] + 1e-12)), "quantile_method": method[i][k0[i]],
            "relative_error_quantile": float(best_q[i]), "safety_stock": s_now - float(mu_now),
            "order_up_to": s_now,
            "z": None if not sd or np.isnan(sd) else float((s_now - mu_now) / sd),
            "target_fill_rate": s.target_fill_rate, "selection_fill_rate": float(fill_sel[i]),
            "expected_cost": float(total_cost[i].mean()), "cost_ci_low": float(total_cost[i].mean() - cost_hw[i]),
            "cost_ci_high": float(total_cost[i].mean() + cost_hw[i]),
            "holding_cost": float(per["holding_cost"][i].mean()),
            "stockout_cost": float(per["stockout_cost"][i].mean()),
            "fill_rate": float(per["fill_rate"][i].mean()), "fill_rate_ci": float(fill_hw[i]),
            "cycle_service_level": float(per["cycle_service_level"][i].mean()),
            "stockout_days": float(per["stockout_days"][i].mean()), "orders": float(per["orders_placed"][i].mean()),
            "average_on_hand": float(per["average_on_hand"][i].mean()),
            "unit_cost": float(cost[i]), "unit_price": float(price[i]), "days": s.days, "replications": R,
        })
    return out


RECORD_COLUMNS = ["series", "class", "adi", "cv2", "zero_share", "history_days", "forecaster", "backtest_rmse",
                  "policy", "reorder_point", "order_quantity", "lead_time", "protection_days", "daily_forecast",
                  "protection_demand", "backtest_coverage",
                  "quantile_method", "relative_error_quantile", "safety_stock", "order_up_to", "z",
                  "target_fill_rate", "selection_fill_rate", "expected_cost", "cost_ci_low", "cost_ci_high",
                  "holding_cost", "stockout_cost", "fill_rate", "fill_rate_ci", "cycle_service_level",
                  "stockout_days", "orders", "average_on_hand", "unit_cost", "unit_price", "days", "replications"]


def _series_list(frame_or_path, columns, fill_missing_zero) -> list:
    from engine.data.dataset import Dataset, SeriesData
    from engine.data.layout import load_long

    src = frame_or_path
    if isinstance(src, Dataset):
        return list(src.series.values())
    if isinstance(src, dict):
        return list(src.values())
    if isinstance(src, (list, tuple)) and all(isinstance(x, SeriesData) for x in src):
        return list(src)
    if hasattr(src, "to_csv") and hasattr(src, "columns"):  # a pandas DataFrame in long format
        src = src.to_csv(index=False).encode("utf-8")
        return list(load_long(src, columns, name="frame", fill_missing_zero=fill_missing_zero).series.values())
    return list(load_long(src, columns, fill_missing_zero=fill_missing_zero).series.values())


def run_portfolio(frame_or_path, settings: PortfolioSettings | None = None,
                  progress: Callable[[int, int], None] | None = None, cancel: Callable[[], bool] | None = None,
                  chunk: int | None = None, *, columns=None, fill_missing_zero: bool = False) -> list[dict]:
    """Records (one dict per series, RECORD_COLUMNS) for a file path / bytes / DataFrame / Dataset.

    Series are processed `chunk` at a time (default 200) and merged; progress(done, total) after each chunk;
    cancel() is asked before each chunk (PortfolioCancelled when it says True).
    """
    settings = (settings or PortfolioSettings()).validate()
    series = _series_list(frame_or_path, columns, fill_missing_zero)
    size = max(1, int(chunk or 200))
    records: list[dict] = []
    for start in range(0, len(series), size):
        if cancel is not None and cancel():
            raise PortfolioCancelled(f"cancelled after {start} of {len(series)} series")
        records.extend(run_chunk(series[start:start + size], settings))
        if progress is not None:
            progress(min(start + size, len(series)), len(series))
    return records


def portfolio_totals(records: list[dict]) -> dict:
    """Sums over series: expected cost (95 % half-width from independent series' half-widths), demand-weighted
    fill rate is not known from records alone, so the mean fill rate and the count per class are given."""
    if not records:
        return {"series": 0}
    cost = sum(r["expected_cost"] for r in records)
    hw = math.sqrt(sum(((r["cost_ci_high"] - r["cost_ci_low"]) / 2) ** 2 for r in records))
    fills = [r["fill_rate"] for r in records if r["fill_rate"] is not None]
    csl = [r["cycle_service_level"] for r in records if r["cycle_service_level"] is not None]
    by_class: dict[str, int] = {}
    by_forecaster: dict[str, int] = {}
    by_policy: dict[str, int] = {}
    for r in records:
        by_policy[r["policy"]] = by_policy.get(r["policy"], 0) + 1
        by_class[r["class"]] = by_class.get(r["class"], 0) + 1
        by_forecaster[r["forecaster"]] = by_forecaster.get(r["forecaster"], 0) + 1
    return {"series": len(records), "expected_cost": cost, "cost_ci_low": cost - hw, "cost_ci_high": cost + hw,
            "holding_cost": sum(r["holding_cost"] for r in records),
            "stockout_cost": sum(r["stockout_cost"] for r in records),
            "mean_fill_rate": float(np.mean(fills)) if fills else None,
            "mean_cycle_service_level": float(np.mean(csl)) if csl else None,
            "series_meeting_target": sum(1 for r in records if r["fill_rate"] is not None
                                         and r["fill_rate"] >= r["target_fill_rate"]),
            "by_class": by_class, "by_forecaster": by_forecaster, "by_policy": by_policy}


def records_csv(records: list[dict]) -> str:
    """The records as formula-safe CSV text (engine.data.csv_safe)."""
    from engine.data.csv_safe import csv_text

    return csv_text([RECORD_COLUMNS] + [[r.get(c) for c in RECORD_COLUMNS] for r in records])
