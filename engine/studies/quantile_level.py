"""Order-up-to levels read from a model's own quantiles of the protection-period demand, calibrated on held-out days.

A model with `predict_sum_quantiles` (the global quantile model, engine.forecast.global_model) forecasts quantiles
of Σ demand over the next L + 1 days directly, so under daily review the order-up-to level can be its τ-quantile,
recomputed every day from the real history before it: S_t = Q_τ(D_t + … + D_{t+L}). Which τ keeps a fill-rate
promise is not the target itself — the fill rate counts units (a stock-out day still serves part of its demand)
and lost sales shorten the next cycle — and a model's quantiles may be off on days it never saw. So τ is chosen on
held-out days, the way the portfolio corrects its own targets (engine.studies.portfolio.out_of_time_calibration):
every calibration window lies after the model's last training day and before the origin; each is replayed through
the one inventory day (engine.studies.history_replay.replay, lost sales, start on-hand = the level, nothing on
order) at every level of LEVEL_GRID; each series' fill rate is averaged over the windows, the curves are averaged
over series (the promise's own measure) per demand class, made non-decreasing in τ, and each class's τ is the least
level reaching the target (linear between grid points; the top level when none does, with its lower fill as the
promise). The promise is each series' fill at its τ, replayed again.
"""
from __future__ import annotations

import warnings

import numpy as np

from engine.forecast.base import Covariates
from engine.policies.order_rules import OrderRules
from engine.simulation.metrics import cycle_service_level, fill_rate, total_cost
from engine.studies.history_replay import replay

__all__ = ["LEVEL_GRID", "sum_quantile_paths", "level_paths", "replay_levels", "run_levels", "choose_level",
           "calibrated_level", "cycle_phases", "model_last_training_date", "has_sum_quantiles"]

LEVEL_GRID = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.875, 0.9, 0.91, 0.92, 0.93, 0.94, 0.95, 0.96, 0.97, 0.98, 0.99)


def has_sum_quantiles(model) -> bool:
    return callable(getattr(model, "predict_sum_quantiles", None))


def model_last_training_date(model) -> str | None:
    """The last day (ISO date) any series of the model's training file contributed, from its card; None when the
    card does not say (a model without dated training data)."""
    card = getattr(model, "card", None) or {}
    dates = (card.get("training") or {}).get("last_train_date_by_series") or {}
    return max((str(v)[:10] for v in dates.values()), default=None)


def _days(model, demand, cov, start: int, days: int, rows: np.ndarray, lead: int, levels) -> np.ndarray:
    """(len(rows), len(levels), days): the model's levels of Σ demand[t : t + lead + 1] of `rows` from the history
    before t = start + d, one model call per day."""
    out = np.empty((len(rows), len(levels), days))
    for d in range(days):
        t = start + d
        c = None if cov is None else cov.take(t + model.horizon, rows=rows)
        out[:, :, d] = model.predict_sum_quantiles(demand[rows, :t], c, int(lead) + 1, levels)
    return out


def sum_quantile_paths(model, demand: np.ndarray, cov: Covariates | None, start: int, days: int,
                       lead: np.ndarray, levels) -> np.ndarray:
    """(n, len(levels), days): for t = start + d, the model's `levels` of Σ demand[t : t + L_r + 1] of each row r
    from its history before t (cov: known-in-advance covariates of the whole rows, which the model pads when they
    end before t + its horizon)."""
    levels = [float(q) for q in levels]
    out = np.empty((demand.shape[0], len(levels), days))
    for L in np.unique(lead):
        rows = np.flatnonzero(lead == L)
        out[rows] = _days(model, demand, cov, start, days, rows, L, levels)
    return out


def level_paths(model, demand: np.ndarray, cov: Covariates | None, start: int, days: int, lead: np.ndarray,
                level: np.ndarray) -> np.ndarray:
    """(n, days) order-up-to levels S_t = the model's level[r]-quantile of row r's next L_r + 1 days."""
    out = np.empty((demand.shape[0], days))
    for L in np.unique(lead):
        for q in np.unique(level[lead == L]):
            rows = np.flatnonzero((lead == L) & (level == q))
            out[rows] = _days(model, demand, cov, start, days, rows, L, [float(q)])[:, 0, :]
    return out


def replay_levels(after: np.ndarray, S: np.ndarray, lead: np.ndarray, h: np.ndarray, p: np.ndarray, rules=None,
                  weekday: int = 0, lot: np.ndarray | None = None, phase=0.5) -> dict:
    """Kernel totals of every row and level: after (n, days) real demand; S (n, k, days) order-up-to levels; lead
    the kernel's lead time per row; rules the supplier's OrderRules applied to every order (None: any quantity, every
    day), one for all rows or a sequence of one per row; weekday that of day 0; lot (n,) S − s of an (s, S) rule (0:
    order up to S every day it is short), started at s + phase · lot (phase in [0, 1), one or one per row: where
    in its order cycle the run begins). Rows of the result are row-major (series i, level j) → i · k + j."""
    n, k, days = S.shape
    if rules is None or isinstance(rules, OrderRules):
        return _replay(after, S, lead, h, p, rules, weekday, lot, phase)
    tot: dict = {}
    for r in set(rules):   # one kernel per supplier's rules, the totals put back in row order
        rows = np.flatnonzero([x == r for x in rules])
        sub = _replay(after[rows], S[rows], np.asarray(lead)[rows], h[rows], p[rows], r, weekday,
                      None if lot is None else np.asarray(lot)[rows], np.broadcast_to(phase, (n,))[rows])
        at = (rows[:, None] * k + np.arange(k)[None, :]).ravel()
        for key, v in sub.items():
            tot.setdefault(key, np.zeros(n * k))[at] = v
    return tot


def _replay(after, S, lead, h, p, rules, weekday, lot, phase) -> dict:
    n, k, days = S.shape
    flat = S.reshape(n * k, days)
    rep = lambda a: np.repeat(np.asarray(a), k, axis=0)  # noqa: E731 (one line, used six times)
    if lot is None or not np.any(np.asarray(lot) > 0):
        return replay(rep(after), flat[:, 0], rep(lead), rep(h), rep(p), lambda d, pos: flat[:, d] - pos, rules,
                      weekday)
    top = rep(lot)

    def order(d, pos):   # (s, S): below s = the level, up to S = s + lot
        return np.where(top > 0, (flat[:, d] + top - pos) * (pos < flat[:, d]), flat[:, d] - pos)

    start = flat[:, 0] + top * rep(np.broadcast_to(phase, (n,)))
    return replay(rep(after), start, rep(lead), rep(h), rep(p), order, rules, weekday)


def run_levels(model, demand: np.ndarray, cov: Covariates | None, start: int, days: int, cover: np.ndarray,
               tau: np.ndarray, kernel_lead: np.ndarray, h: np.ndarray, p: np.ndarray, rules=None,
               first_weekday: int = 0, lot: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, dict]:
    """The policy a calibrated level belongs to, run on real days: (S (n, days), phase (n,), kernel totals per row)
    — each row's τ-quantile of its next cover + 1 days (level_paths) recomputed every day from day `start` for
    `days` days, replayed on demand[:, start:start + days] under `rules` (replay_levels; the weekday of day 0 from
    `first_weekday`, that of demand[:, 0]), an (s, S) row with lot > 0 starting at its phase of the cycle
    (cycle_phases). The calibration's scoring of its choice, the policy backtest's held-out days and the orders
    benchmark's days after the order date all run it so."""
    S = level_paths(model, demand, cov, start, days, cover, tau)
    phase = cycle_phases(demand.shape[0], start)
    tot = replay_levels(demand[:, start:start + days], S[:, None, :], kernel_lead, h, p, rules,
                        (first_weekday + start) % 7, lot, phase)
    return S, phase, tot


def choose_level(levels, fills, target: float) -> float:
    """The least level whose (non-decreasing) fill reaches `target`, linear between grid points; the top level when
    none does, the bottom one when all do."""
    q = np.asarray(levels, dtype=float)
    f = np.maximum.accumulate(np.nan_to_num(np.asarray(fills, dtype=float), nan=0.0))
    if f[0] >= target:
        return float(q[0])
    if f[-1] < target:
        return float(q[-1])
    j = int(np.argmax(f >= target))
    lo, hi = f[j - 1], f[j]
    w = (target - lo) / (hi - lo) if hi > lo else 1.0
    return float(q[j - 1] + w * (q[j] - q[j - 1]))


def calibrated_level(model, demand: np.ndarray, cov: Covariates | None, windows: list[tuple[int, int]],
                     lead: np.ndarray, h: np.ndarray, p: np.ndarray, target: float, classes=None, *,
                     objective: str = "fill-rate", kernel_lead: np.ndarray | None = None, rules=None,
                     first_weekday: int = 0, lots: np.ndarray | None = None) -> dict:
    """τ for a fill-rate target (or, objective "cost", the τ of least realised cost) from held-out windows
    [(start, days), …] of `demand` (n, T) (every window after the model's training and before the origin the level
    will serve). `lead`: the days the level covers less one (its sum is over lead + 1 days).

    How the level is run on those days, as it will be run after the origin: `kernel_lead` the lead time of an order
    (default `lead`: daily review), `rules` the supplier's OrderRules (order days, packs, MOQ, K per order) applied
    to every order in the kernel (one for all rows, or one per row), `first_weekday` the weekday of demand[:, 0];
    under the cost objective `lots` (n, m) candidate lot sizes S − s of an (s, S) rule beside plain order-up-to
    (lot 0), the K-aware choice the portfolio makes on its selection paths (engine.studies.portfolio's
    LOT_MULTIPLES × the EOQ).

    One curve over LEVEL_GRID (× the lots) per series: its fill rate (the mean over the windows where it had
    demand), or its cost per day (holding + lost sales + K per order); the pooled curve is their mean. With
    `classes` (a label per row, engine.demand.classes) each class with at least MIN_CHECK_SERIES curves gets its own
    choice, read on its curve shrunk toward the pooled one as if SHRINK_SERIES more series had followed it (the
    portfolio's out-of-time correction does the same, engine.studies.portfolio): under one pooled τ smooth series
    over-deliver and intermittent ones fall short (M5, lead time 7: 0.98 vs 0.93). Fill rate: the least τ reaching
    the target; cost: the grid point (τ, lot) of least mean cost per day.
    Returns {"level" (n,) τ per row, "lot" (n,) S − s per row (0: order-up-to), "by_class" {class: τ}, "pooled",
    "fill" (the promise: mean over series at their τ), "grid" {level: pooled fill at lot 0}, "windows", and per
    series (means over the windows at τ) "series_fill", "series_on_hand", "series_cost" (per window: holding + lost
    sales + K per order), "series_csl", "series_orders" (per window)."""
    from engine.studies.portfolio import ALL_CLASSES, MIN_CHECK_SERIES, SHRINK_SERIES

    lo, hi = float(model.quantiles[0]), float(model.quantiles[-1])
    grid = [q for q in LEVEL_GRID if lo - 1e-12 <= q <= hi + 1e-12]
    n, k = demand.shape[0], len(grid)
    kernel_lead = lead if kernel_lead is None else kernel_lead
    by_cost = objective == "cost"
    lot_grid = np.zeros((n, 1))
    if by_cost and lots is not None:
        lot_grid = np.column_stack([lot_grid, np.asarray(lots, dtype=float)])
    m = lot_grid.shape[1]
    fills, costs = [], []
    for start, days in windows:
        S = sum_quantile_paths(model, demand, cov, start, days, lead, grid)
        after = demand[:, start:start + days]
        wd = (first_weekday + start) % 7
        ph = cycle_phases(n, start)
        tots = [replay_levels(after, S, kernel_lead, h, p, rules, wd, lot_grid[:, j], ph) for j in range(m)]
        fills.append(fill_rate(tots[0], np.nan).reshape(n, k))                                         # (n, k) at lot 0
        costs.append(np.concatenate([(total_cost(t) / days).reshape(n, k) for t in tots], axis=1))   # lot-major
    with warnings.catch_warnings():  # a series without demand in every window: NaN, not a warning
        warnings.simplefilter("ignore", RuntimeWarning)
        per_fill = np.nanmean(np.stack(fills), axis=0)
    has = np.isfinite(per_fill).all(axis=1)
    curves = np.mean(np.stack(costs), axis=0) if by_cost else per_fill
    pooled = curves[has].mean(axis=0) if has.any() else np.full(curves.shape[1], np.nan)

    def choose(curve) -> tuple[float, int]:   # (τ, lot column) read on a curve
        if not by_cost:
            return choose_level(grid, curve, target), 0
        j = int(np.nanargmin(curve)) if np.isfinite(curve).any() else 0
        return float(grid[j % k]), j // k

    tau, col = choose(pooled)
    level, lot_col = np.full(n, tau), np.full(n, col)
    by_class = {ALL_CLASSES: tau}
    labels = np.asarray([ALL_CLASSES] * n if classes is None else [str(c) for c in classes])
    for c in sorted(set(labels) - {ALL_CLASSES}):
        rows = (labels == c) & has
        count = int(rows.sum())
        if count < MIN_CHECK_SERIES:
            continue
        by_class[c], col = choose(pooled + count / (count + SHRINK_SERIES) * (curves[rows].mean(axis=0) - pooled))
        level[labels == c], lot_col[labels == c] = by_class[c], col
    lot = lot_grid[np.arange(n), lot_col]
    per = {"fill": [], "on_hand": [], "cost": [], "csl": [], "orders": []}
    for start, days in windows:
        tot = run_levels(model, demand, cov, start, days, lead, level, kernel_lead, h, p, rules, first_weekday, lot)[2]
        per["fill"].append(fill_rate(tot, np.nan))
        per["on_hand"].append(tot["on_hand"] / days)
        per["cost"].append(total_cost(tot))
        per["orders"].append(tot["orders"])
        per["csl"].append(cycle_service_level(tot, np.nan))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        series = {key: np.nanmean(np.vstack(v), axis=0) for key, v in per.items()}
    pooled_fill = per_fill[has].mean(axis=0) if has.any() else np.full(k, np.nan)
    return {"level": level, "lot": lot, "by_class": by_class, "pooled": by_class[ALL_CLASSES],
            "windows": len(windows), "grid": dict(zip(grid, map(float, pooled_fill))),
            "fill": float(np.nanmean(series["fill"])), **{f"series_{key}": v for key, v in series.items()}}


def cycle_phases(n: int, seed: int = 0) -> np.ndarray:
    """Where in its order cycle each of n rows starts a replay, spread evenly over [0, 1) (the golden-ratio sequence,
    shifted by `seed`). An (s, S) run of a few weeks that always started mid-cycle would, with a lot of more than
    twice the window's demand, never order: the stock it starts with would come free of K and favour ever larger
    lots. Started at phases spread over the cycle, the orders counted are on average the stationary rate's."""
    return ((np.arange(n) + 1 + int(seed)) * 0.6180339887498949) % 1.0
