"""Portfolio recommendations run on real days: the out-of-time check of a promise.

`replay_records` takes series cut at an origin, the portfolio's records for them (engine.studies.portfolio) and
the real demand of the days after the origin, and runs each recommendation on those days through the one
inventory day (engine.simulation.kernel.InventoryKernel), lost sales, from a stated start state: on-hand = the
policy's level at the origin (order-up-to: S from the forecast at the origin; (r, Q): r + Q, as the portfolio's
own simulation starts), nothing on order. Order-up-to recomputes S each day from the record's forecaster, updated
with the real demand of the days before (engine.protection.tracker.protection_level, the record's relative error
quantile); (r, Q) orders the smallest multiple of Q that lifts the position above r (engine.policies.base.RQ).

`days_of_cover` is the planners' rule run the same way: S_t = k · (L + 1) · (mean of the 28 days before t), k per
series chosen on its own real past (DAYS_OF_COVER_GRID).
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from engine.policies.order_rules import weekday_after
from engine.protection.tracker import FLOOR_PER_DAY, protection_level
from engine.simulation.kernel import InventoryKernel
from engine.simulation.metrics import cycle_service_level, fill_rate, total_cost
from engine.studies.series_forecasts import candidate_forecasters, masked_step

__all__ = ["replay", "replay_records", "replayed_fields", "days_of_cover", "trailing_mean", "finite",
           "DAYS_OF_COVER_GRID", "MEAN_WINDOW"]

DAYS_OF_COVER_GRID = np.round(np.concatenate([np.arange(0.5, 3.0, 0.1), np.arange(3.0, 6.0, 0.25),
                                              np.arange(6.0, 12.5, 0.5)]), 4)
MEAN_WINDOW = 28


def replay(demand: np.ndarray, start: np.ndarray, lead: np.ndarray, h: np.ndarray, p: np.ndarray,
           order: Callable[[int, np.ndarray], np.ndarray], rules=None, weekday=0) -> dict:
    """Rows of inventories run on demand (rows, days) through InventoryKernel with lost sales: each day
    order(day, inventory position) is placed (lead time `lead` per row), then the day is served. start: on-hand
    on day 0, nothing on order; rules: the supplier's OrderRules the kernel applies to every order (MOQ, packs,
    order days, K); weekday: the weekday of day 0 (Monday = 0), an int or one per row. Returns the kernel's totals
    per row (engine.simulation.metrics.TOTAL_NAMES)."""
    rows, days = demand.shape
    k = InventoryKernel(np.array(start, dtype=np.float64), h=h, p=p, backorders=False,
                        max_lead=int(lead.max()) if rows else 0, rules=rules, first_weekday=weekday)
    for d in range(days):
        qty = np.maximum(order(d, k.position()), 0.0)
        placed, _ = k.place(d, qty, lead)
        k.serve(d, demand[:, d], placed)
    return k.finish()


def trailing_mean(y: np.ndarray, window: int = MEAN_WINDOW) -> np.ndarray:
    """(rows, days) → the mean of the `window` days before each day (fewer near the start; day 0: day 0)."""
    c = np.concatenate([np.zeros((y.shape[0], 1)), np.cumsum(y, axis=1)], axis=1)
    t = np.arange(y.shape[1])
    lo = np.maximum(t - window, 0)
    out = (c[:, t] - c[:, lo]) / np.maximum(t - lo, 1)
    out[:, 0] = y[:, 0]
    return out


def _padded(series: list, history_days: int, after: np.ndarray | None = None):
    """Each series' last history_days days right-aligned in one (n, T [+ days after]) array, and a validity mask."""
    hist = [np.asarray(x.demand[-history_days:], dtype=np.float64) for x in series]
    n, T = len(hist), max(len(y) for y in hist)
    extra = 0 if after is None else after.shape[1]
    Y = np.zeros((n, T + extra))
    valid = np.zeros((n, T + extra), dtype=bool)
    for i, y in enumerate(hist):
        Y[i, T - len(y):T] = y
        valid[i, T - len(y):] = True
    if extra:
        Y[:, T:] = after
    return Y, valid, T


def replay_records(series: list, records: list[dict], after: np.ndarray, history_days: int,
                   holding_rate: float, rules=None) -> dict:
    """Each record's recommendation run on `after` (n, days), the real days following its series' history, every
    order under the supplier's `rules` (OrderRules; None: any quantity, every day) as the portfolio simulated it;
    the level covers the record's protection period (L + R with order days).

    Returns {"totals": kernel totals per series, "start": start on-hand per series}."""

    n, H = after.shape
    lead = np.array([r["lead_time"] for r in records], dtype=np.int64)
    w = np.array([r.get("protection_days") or (r["lead_time"] + 1) for r in records], dtype=np.float64)
    h = holding_rate * np.array([r["unit_cost"] for r in records]) / 365.0
    p = np.array([r["unit_price"] - r["unit_cost"] for r in records])
    rq = np.array([r["policy"] == "r-Q" for r in records])
    Y, valid, T = _padded(series, history_days, after)
    level = np.zeros((n, H))
    models = candidate_forecasters()
    for name in sorted({r["forecaster"] for r in records}):
        sel = np.array([r["forecaster"] == name for r in records])
        f = models[name]
        st = f.start(int(sel.sum()))
        for t in range(T + H):
            if t >= T:
                level[sel, t - T] = f.level(st)
            masked_step(f, st, Y[sel, t], valid[sel, t])
    q = np.array([r["relative_error_quantile"] for r in records])[:, None]
    floor = (FLOOR_PER_DAY * np.maximum(w, 1.0))[:, None]
    S = protection_level(w[:, None] * level, q, floor)
    r_pt = np.array([r["reorder_point"] if r["reorder_point"] is not None else 0.0 for r in records])
    Q = np.array([r["order_quantity"] if r["order_quantity"] is not None else 1.0 for r in records])
    lot = np.array([r.get("lot_size") or 0.0 for r in records])   # (s, S): S − s above the level; 0 otherwise

    def order(d, pos):
        rq_qty = (np.floor((r_pt - pos) / Q) + 1.0) * (pos <= r_pt) * Q
        return np.where(rq, rq_qty, np.where(lot > 0, (S[:, d] + lot - pos) * (pos < S[:, d]), S[:, d] - pos))

    start = np.where(rq, r_pt + Q, S[:, 0] + lot / 2.0)   # (s, S): the stationary mean position
    return {"totals": replay(after, start, lead, h, p, order, rules, _weekdays(series, rules)), "start": start}


def _weekdays(series: list, rules):
    """The kernel's first_weekday: each row's first replayed day (the day after its history), where order days make
    it matter."""
    if rules is None or rules.order_days is None:
        return 0
    return np.array([weekday_after(x.dates) for x in series], dtype=np.int64)


def days_of_cover(series: list, records: list[dict], after: np.ndarray, history_days: int, holding_rate: float,
                  objective: str, target: float, rules=None) -> dict:
    """The days-of-cover rule for each series: k from its own past (the last history_days real days before the
    origin, the first MEAN_WINDOW only warming the mean up): the smallest k of DAYS_OF_COVER_GRID whose replay
    there reaches `target` (fill-rate; the largest k when none does) or the cheapest (cost: holding + lost sales + K
    per order placed under `rules`); then run on `after`.
    Returns {"totals": kernel totals per series on `after`, "k": k per series}."""
    n, H = after.shape
    lead = np.array([r["lead_time"] for r in records], dtype=np.int64)
    w = np.array([r.get("protection_days") or (r["lead_time"] + 1) for r in records], dtype=np.float64)
    h = holding_rate * np.array([r["unit_cost"] for r in records]) / 365.0
    p = np.array([r["unit_price"] - r["unit_cost"] for r in records])
    Y, _, T = _padded(series, history_days, after)
    G = len(DAYS_OF_COVER_GRID)
    warm = min(MEAN_WINDOW, max(T - 7, 0))
    mean = trailing_mean(Y)
    kk = np.tile(DAYS_OF_COVER_GRID, n)
    past = np.repeat(mean[:, warm:T], G, axis=0) * (kk * np.repeat(w, G))[:, None]
    wd = _weekdays(series, rules)
    past_wd = wd if np.ndim(wd) == 0 else np.repeat((wd - (T - warm)) % 7, G)   # the weekday of the past run's day 0
    tot = replay(np.repeat(Y[:, warm:T], G, axis=0), past[:, 0], np.repeat(lead, G), np.repeat(h, G),
                 np.repeat(p, G), lambda d, pos: past[:, d] - pos, rules, past_wd)
    if objective == "cost":
        best = np.argmin(total_cost(tot).reshape(n, G), axis=1)
    else:
        fill = fill_rate(tot).reshape(n, G)   # 1 where nothing was demanded: every k meets the target
        meets = fill >= target
        best = np.where(meets.any(axis=1), np.argmax(meets, axis=1), G - 1)
    k = DAYS_OF_COVER_GRID[best]
    B = (k * w)[:, None] * mean[:, T:]
    return {"totals": replay(after, B[:, 0], lead, h, p, lambda d, pos: B[:, d] - pos, rules, wd), "k": k}


def replayed_fields(real: dict, base: dict, i: int, days: int) -> dict:
    """A record's realised and days-of-cover figures of row i: kernel totals `real` and the days-of-cover run
    `base` ({"totals", "k"}) over `days` held-out days, by engine.simulation.metrics' definitions (a fill rate without
    demand, or a cycle service level without a cycle, is None: left out of the means over series)."""
    figures = {}
    for name, tot in (("realised", real), ("baseline", base["totals"])):
        row = {k: v[i] for k, v in tot.items()}
        figures.update({
            f"{name}_fill_rate": finite(fill_rate(row, np.nan)),
            f"{name}_cycle_service_level": finite(cycle_service_level(row, np.nan)),
            f"{name}_cost": float(total_cost(row)),
            f"{name}_average_on_hand": float(row["on_hand"]) / days,
        })
    return {"demand": float(real["demand"][i]), **figures, "baseline_days_of_cover_k": float(base["k"][i])}


def finite(v) -> float | None:
    """A figure as a float, None when there is none (NaN: e.g. no demand on the days it was measured on)."""
    return None if v is None or not math.isfinite(float(v)) else float(v)
