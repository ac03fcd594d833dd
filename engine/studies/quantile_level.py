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
from engine.studies.history_replay import fill_rates, replay

__all__ = ["LEVEL_GRID", "sum_quantile_paths", "level_paths", "replay_levels", "choose_level", "calibrated_level",
           "model_last_training_date", "has_sum_quantiles"]

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


def replay_levels(after: np.ndarray, S: np.ndarray, lead: np.ndarray, h: np.ndarray, p: np.ndarray) -> dict:
    """Kernel totals of every row and level: after (n, days) real demand; S (n, k, days) order-up-to levels.
    Rows of the result are row-major (series i, level j) → i · k + j."""
    n, k, days = S.shape
    flat = S.reshape(n * k, days)
    rep = lambda a: np.repeat(np.asarray(a), k, axis=0)  # noqa: E731 (one line, used four times)
    return replay(rep(after), flat[:, 0], rep(lead), rep(h), rep(p), lambda d, pos: flat[:, d] - pos)


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
                     lead: np.ndarray, h: np.ndarray, p: np.ndarray, target: float, classes=None) -> dict:
    """τ for a fill-rate target from held-out windows [(start, days), …] of `demand` (n, T) (every window after the
    model's training and before the origin the level will serve).

    One fill-rate curve over LEVEL_GRID per series (its mean over the windows where it had demand); the pooled curve
    is their mean. With `classes` (a label per row, engine.demand.classes) each class with at least
    MIN_CHECK_SERIES curves gets its own τ, read on its curve shrunk toward the pooled one as if SHRINK_SERIES more
    series had followed it (the portfolio's out-of-time correction does the same, engine.studies.portfolio): under
    one pooled τ smooth series over-deliver and intermittent ones fall short (M5, lead time 7: 0.98 vs 0.93).
    Returns {"level" (n,) τ per row, "by_class" {class: τ}, "pooled", "fill" (the promise: mean over series at their
    τ), "grid" {level: pooled fill}, "windows", and per series (means over the windows at τ) "series_fill",
    "series_on_hand", "series_cost" (per window), "series_csl"}."""
    from engine.studies.portfolio import ALL_CLASSES, MIN_CHECK_SERIES, SHRINK_SERIES

    lo, hi = float(model.quantiles[0]), float(model.quantiles[-1])
    grid = [q for q in LEVEL_GRID if lo - 1e-12 <= q <= hi + 1e-12]
    n, k = demand.shape[0], len(grid)
    curves = []
    for start, days in windows:
        S = sum_quantile_paths(model, demand, cov, start, days, lead, grid)
        curves.append(fill_rates(replay_levels(demand[:, start:start + days], S, lead, h, p)).reshape(n, k))
    with warnings.catch_warnings():  # a series without demand in every window: NaN, not a warning
        warnings.simplefilter("ignore", RuntimeWarning)
        per_series = np.nanmean(np.stack(curves), axis=0)                    # (n, k)
    has = np.isfinite(per_series).all(axis=1)
    pooled = per_series[has].mean(axis=0) if has.any() else np.full(k, np.nan)
    tau_pooled = choose_level(grid, pooled, target)
    level = np.full(n, tau_pooled)
    by_class = {ALL_CLASSES: tau_pooled}
    labels = np.asarray([ALL_CLASSES] * n if classes is None else [str(c) for c in classes])
    for c in sorted(set(labels) - {ALL_CLASSES}):
        rows = (labels == c) & has
        m = int(rows.sum())
        if m < MIN_CHECK_SERIES:
            continue
        curve = pooled + m / (m + SHRINK_SERIES) * (per_series[rows].mean(axis=0) - pooled)
        by_class[c] = choose_level(grid, curve, target)
        level[labels == c] = by_class[c]
    per = {"fill": [], "on_hand": [], "cost": [], "csl": []}
    for start, days in windows:
        tot = replay_levels(demand[:, start:start + days],
                            level_paths(model, demand, cov, start, days, lead, level)[:, None, :], lead, h, p)
        per["fill"].append(fill_rates(tot))
        per["on_hand"].append(tot["on_hand"] / days)
        per["cost"].append(tot["holding"] + tot["stockout"])
        cyc = tot["cycles"]
        per["csl"].append(np.where(cyc > 0, 1.0 - tot["cycles_with_stockout"] / np.where(cyc > 0, cyc, 1.0), np.nan))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        series = {key: np.nanmean(np.vstack(v), axis=0) for key, v in per.items()}
    return {"level": level, "by_class": by_class, "pooled": tau_pooled, "windows": len(windows),
            "grid": dict(zip(grid, map(float, pooled))), "fill": float(np.nanmean(series["fill"])),
            **{f"series_{key}": v for key, v in series.items()}}
