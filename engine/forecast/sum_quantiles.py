"""Quantiles of the W-day demand sum judged as the decisions use them: scaled pinball loss and coverage.

Origins: from the first held-out day, one every W days (non-overlapping windows inside the holdout; 56 held-out days
and W = 8 give 7). Each is scored by the pinball loss of every requested quantile of Σ demand[o:o+W], divided by
W × the series' mean absolute one-day change before the holdout (engine.forecast.pinball: M5's scale), averaged over
series, origins and quantiles; coverage is the share of (series, origin) with the realised sum ≤ the quantile.

Where the quantiles come from
- A model with `predict_sum_quantiles` (the global model) gives them directly.
- Any other forecaster: its own rolling out-of-sample W-day-sum errors at the `calibration` daily origins before o
  whose windows ended by o (never an error o could not have known), per series, turned into quantiles either
  additively (forecast + Q_q(actual − forecast)) or relatively (forecast × Q_q(actual / forecast), origins with a
  positive forecast); Q_q is the order statistic at level min(1, q·(m+1)/m) of the m errors (split-conformal).
  Which of the two a model uses is chosen by the same score on the same number of origins spaced W days apart just
  before the holdout (data before every scored origin), so the baselines are as strong as their errors allow.
"""
from __future__ import annotations

import numpy as np

from engine.forecast.base import window_sum
from engine.forecast.pinball import naive_scale, pinball
from engine.forecast.series_covariates import stacked_covariates

__all__ = ["score_sum_quantiles", "holdout_origins", "empirical_quantiles", "CALIBRATION_ORIGINS", "MODES"]

CALIBRATION_ORIGINS = 120   # daily origins of errors behind each quantile (the engine's rolling-σ count)
MIN_CALIBRATION = 20
MODES = ("additive", "relative")


def holdout_origins(n: int, holdout_days: int, sum_days: int) -> list[int]:
    """Positions n − holdout, n − holdout + W, ... whose W-day window ends inside the series."""
    return list(range(n - holdout_days, n - sum_days + 1, sum_days))


def _groups(targets) -> list[list]:
    """Targets that share a length and a calendar (stackable into one (n, t) array for vectorised forecasters)."""
    groups: dict = {}
    for t in targets:
        key = (len(t.demand), tuple(t.dates) if t.dates else None, t.planning is None)
        groups.setdefault(key, []).append(t)
    return list(groups.values())


def sum_forecasts(forecaster, group, origins: list[int], sum_days: int) -> np.ndarray:
    """(series, origins) forecast W-day sums made at each origin from the history before it."""
    h = forecaster.horizon
    D = np.stack([t.demand for t in group]).astype(np.float64)
    cov = stacked_covariates(group, h)
    reads = forecaster.reads_covariates or getattr(forecaster, "kind", "") == "legacy"
    out = np.empty((len(group), len(origins)))
    batch = getattr(forecaster, "rows_independent", False)
    for j, o in enumerate(origins):
        c = cov.take(o + h) if reads else None
        if batch:
            out[:, j] = window_sum(forecaster.predict(D[:, :o], c), sum_days)
        else:
            for i in range(len(group)):
                ci = None if c is None else c.take(o + h, rows=slice(i, i + 1))
                out[i, j] = window_sum(forecaster.predict(D[i:i + 1, :o], ci), sum_days)[0]
    return out


def _conformal_level(q: float, m: int) -> float:
    return min(1.0, q * (m + 1) / m)


def empirical_quantiles(fc_hist, act_hist, fc_now, quantiles, mode: str) -> np.ndarray:
    """(n, k) quantiles of the coming sum per row from that row's past (forecast, actual) sums (see module doc)."""
    fc_hist = np.asarray(fc_hist, dtype=np.float64)
    act_hist = np.asarray(act_hist, dtype=np.float64)
    fc_now = np.asarray(fc_now, dtype=np.float64)
    out = np.empty((len(fc_now), len(quantiles)))
    for i in range(len(fc_now)):
        if mode == "additive":
            e = act_hist[i] - fc_hist[i]
        else:
            pos = fc_hist[i] > 0
            e = act_hist[i][pos] / fc_hist[i][pos]
        if len(e) == 0:  # no positive past forecast: the relative mode knows nothing, the additive rule stands in
            e, mode_i = act_hist[i] - fc_hist[i], "additive"
        else:
            mode_i = mode
        levels = [_conformal_level(q, len(e)) for q in quantiles]
        qe = np.quantile(e, levels, method="higher")
        out[i] = fc_now[i] + qe if mode_i == "additive" else fc_now[i] * qe
    return np.maximum(out, 0.0)


def _actual_sums(D: np.ndarray, origins, w: int) -> np.ndarray:
    c = np.concatenate([np.zeros((D.shape[0], 1)), np.cumsum(D, axis=1)], axis=1)
    o = np.asarray(origins)
    return c[:, o + w] - c[:, o]


def _empirical_at(fc_all, act_all, all_origins, scored, quantiles, mode, w, calibration):
    """(n, len(scored), k) quantiles at each scored origin from the errors of origins whose window ended by it."""
    pos = {o: i for i, o in enumerate(all_origins)}
    out = []
    for o in scored:
        lo, hi = max(all_origins[0], o - w - calibration + 1), o - w
        idx = [pos[x] for x in range(lo, hi + 1)]
        out.append(empirical_quantiles(fc_all[:, idx], act_all[:, idx], fc_all[:, pos[o]], quantiles, mode))
    return np.stack(out, axis=1)


def _scaled_loss(q_pred, actual, scale, quantiles, w) -> np.ndarray:
    """(n, origins) mean over quantiles of pinball / (w × scale)."""
    loss = pinball(actual[:, :, None], q_pred, np.asarray(quantiles))
    return loss.mean(axis=2) / (w * scale[:, None])


def score_sum_quantiles(forecaster, targets, holdout_days: int, sum_days: int, quantiles,
                        calibration: int = CALIBRATION_ORIGINS) -> dict:
    """{"scaled_pinball", "coverage": {"0.9": ...}, "pinball_by_quantile", "method", "origins", "series_scored",
    "per_series": {key: scaled pinball}} for one forecaster (module docstring)."""
    qs = tuple(float(q) for q in quantiles)
    w = int(sum_days)
    direct = hasattr(forecaster, "predict_sum_quantiles")
    losses, hits, by_q, keys, per_series = [], [], [], [], {}
    method_votes: dict[str, int] = {}
    for group in _groups(targets):
        n = len(group[0].demand)
        scored = holdout_origins(n, holdout_days, w)
        if not scored:
            raise ValueError(f"{holdout_days} held-out days hold no {w}-day window")
        D = np.stack([t.demand for t in group]).astype(np.float64)
        first = scored[0]
        scale = np.asarray([naive_scale(t.demand[:first]) for t in group])
        ok = np.isfinite(scale) & (scale > 0)   # a series that never changed before the holdout has no scale
        safe = np.where(ok, scale, 1.0)         # divided by in its place; its losses are left out by `ok`
        act = _actual_sums(D, scored, w)
        if direct:
            cov = stacked_covariates(group, max(forecaster.horizon, w))
            preds = []
            for o in scored:
                c = cov.take(o + max(forecaster.horizon, w))
                preds.append(forecaster.predict_sum_quantiles(D[:, :o], c, w, qs))
            q_pred = np.stack(preds, axis=1)
            method = "model"
        else:
            selection = [first - k * w for k in range(len(scored), 0, -1)]
            start_min = max(int(forecaster.min_history), 1)
            earliest = selection[0] - w - calibration + 1
            if earliest < start_min:
                earliest = start_min
            if selection[0] - w - earliest + 1 < MIN_CALIBRATION:
                raise ValueError(f"{forecaster.name}: too little history before the holdout for {MIN_CALIBRATION} "
                                 f"rolling {w}-day errors (needs {start_min + MIN_CALIBRATION + (len(scored) + 1) * w}"
                                 " days before it)")
            all_origins = list(range(earliest, scored[-1] + 1))
            fc_all = sum_forecasts(forecaster, group, all_origins, w)
            act_all = np.full_like(fc_all, np.nan)
            fits = [i for i, o in enumerate(all_origins) if o + w <= n]
            act_all[:, fits] = _actual_sums(D, [all_origins[i] for i in fits], w)
            sel_act = _actual_sums(D, selection, w)
            best, best_loss = MODES[0], np.inf
            for mode in MODES:
                sel_q = _empirical_at(fc_all, act_all, all_origins, selection, qs, mode, w, calibration)
                sel_loss = float(np.mean(_scaled_loss(sel_q, sel_act, safe, qs, w)[ok])) \
                    if ok.any() else 0.0
                if sel_loss < best_loss:
                    best, best_loss = mode, sel_loss
            q_pred = _empirical_at(fc_all, act_all, all_origins, scored, qs, best, w, calibration)
            method = best
        q_pred = np.sort(q_pred, axis=2)  # non-crossing
        method_votes[method] = method_votes.get(method, 0) + len(group)
        sl = _scaled_loss(q_pred, act, safe, qs, w)
        losses.append(sl[ok])
        hits.append((act[:, :, None] <= q_pred + 1e-9).reshape(-1, len(qs)))
        pq = pinball(act[:, :, None], q_pred, np.asarray(qs)) / (w * safe)[:, None, None]
        by_q.append(pq[ok].reshape(-1, len(qs)))
        for i, t in enumerate(group):
            keys.append(t.key)
            per_series[t.key] = float(sl[i].mean()) if ok[i] else None
    loss = np.concatenate(losses)
    hit = np.concatenate(hits)
    pq = np.concatenate(by_q)
    return {"scaled_pinball": float(loss.mean()) if loss.size else None,
            "coverage": {_qkey(q): float(hit[:, k].mean()) for k, q in enumerate(qs)},
            "pinball_by_quantile": {_qkey(q): float(pq[:, k].mean()) if len(pq) else None for k, q in enumerate(qs)},
            "method": max(method_votes, key=method_votes.get) if method_votes else None,
            "origins": len(holdout_origins(len(targets[0].demand), holdout_days, w)),
            "series_scored": int(sum(v is not None for v in per_series.values())),
            "per_series": per_series}


def _qkey(q: float) -> str:
    return format(q, "g")
