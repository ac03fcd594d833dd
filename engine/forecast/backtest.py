"""Honest backtests: rolling one-step-ahead forecasts over held-out days, models trained only on earlier days.

Protocols
- "per-series" (default): the last `holdout_days` of every series are held out; for each held-out day t the
  forecaster sees that series' demand before t (and the known-in-advance covariates up to t + H).
- "seed": the original notebook's split, for a like-for-like comparison: all rows of the file sorted by date (a
  stable sort, so the warehouses of one SKU interleave), the last 10 % held out. Each held-out row is forecast from
  its own series' history before that row's date — the same information the original had (all earlier rows). The
  "train-mean" baseline (mean of the 90 % training rows) is added, as the notes compare against it.

Metrics per model, overall and per series: MAE, RMSE, bias (mean of forecast − actual: positive = over-forecast),
MASE (MAE / in-sample MAE of the one-step naive forecast on the training part; overall: pooled over series).
What an order-up-to policy uses is the demand of the protection period, L + 1 days: from every held-out origin whose
next `sum_days` (default 8, L = 7) days are all held out, `sum_rmse` is the RMSE of the forecast sum of those days
(the same forecast, made at the origin) against the realised sum, and `sum_coverage` the measured coverage of
split-conformal quantiles of that sum at nominal 0.90 and 0.99 (engine.forecast.coverage; overall only).

A trained ensemble is only evaluated when its card proves it never saw the held-out days: if the card's training
file has the same SHA-256 as the backtest file, its last training date must be before the first held-out date
(else SeenHeldOutDays). The same holds for another file that holds a training series' history (the same first day
and first days of demand, engine.forecast.seen_days: e.g. the training file cut at an earlier date). A model
trained on another file is evaluated and flagged as such.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np

from engine.forecast.base import window_sum
from engine.forecast.coverage import conformal_coverage
from engine.forecast.seen_days import first_unseen, holds_history, same_history_seen
from engine.forecast.series_covariates import covariates_for, stacked_covariates

DEFAULT_HOLDOUT_DAYS = 73
DEFAULT_MODELS = ("naive", "seasonal-naive", "ma7", "ma28", "ses", "fourier", "planning")
SEED_HOLDOUT_FRACTION = 0.10
SUM_DAYS = 8  # protection period L + 1 with the app's default lead time L = 7


class BacktestError(ValueError):
    """A backtest that would not be honest or cannot run; the message says why."""


class SeenHeldOutDays(BacktestError):
    """A trained model's card shows it trained on the held-out days: refused when the model was asked for by name,
    left out of the run (with this message under `skipped`) when it came with the default list."""


@dataclass
class Target:
    """One series and the held-out positions of it to forecast."""
    key: str
    demand: np.ndarray
    promo: np.ndarray
    planning: np.ndarray | None
    dates: list | None
    positions: list[int]
    price: np.ndarray | None = None


def targets_per_series(dataset, holdout_days: int) -> list[Target]:
    out = []
    for s in dataset.series.values():
        n = len(s.demand)
        if n <= holdout_days + 1:  # two days before the held-out ones: the MASE scale needs a day-to-day change
            if n < 3:
                raise BacktestError(f"series {s.key} has {n} day{'s' if n != 1 else ''}: too short to backtest "
                                    "(it needs 2 days before the held-out days and 1 held out)")
            raise BacktestError(f"series {s.key} has {n} days, too few for {holdout_days} held-out days and 2 "
                                f"before them: lower --holdout-days to {n - 2} or fewer")
        out.append(Target(s.key, s.demand, s.promo, s.planning, s.dates, list(range(n - holdout_days, n)),
                          getattr(s, "price", None)))
    return out


def targets_seed(dataset) -> tuple[list[Target], float, str | None]:
    """Held-out rows of the seed protocol per series, the training-rows mean and the first held-out date."""
    rows = []  # (date, file order, key, position)
    order = 0
    for s in dataset.series.values():
        if not s.dates:
            raise BacktestError("--protocol seed needs a Date column (rows are sorted by date)")
        for i, d in enumerate(s.dates):
            rows.append((d, order, s.key, i))
            order += 1
    rows.sort(key=lambda r: (r[0], r[1]))
    n_hold = int(math.ceil(len(rows) * SEED_HOLDOUT_FRACTION))
    train_rows, hold = rows[:-n_hold], rows[-n_hold:]
    train_mean = float(np.mean([dataset.series[k].demand[i] for _, _, k, i in train_rows]))
    by_key: dict[str, list[int]] = {}
    for _, _, k, i in hold:
        by_key.setdefault(k, []).append(i)
    out = []
    for k, pos in by_key.items():
        s = dataset.series[k]
        out.append(Target(k, s.demand, s.promo, s.planning, s.dates, sorted(pos)))
    return out, train_mean, hold[0][0]


def file_sha256(path) -> str | None:
    try:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()
    except OSError:
        return None


def check_training_period(forecaster, targets: list[Target], data_sha: str | None) -> str:
    """Raise BacktestError if a trained model's card shows it trained on held-out days; return a note."""
    card = getattr(forecaster, "card", None)
    if not card:
        return ""
    training = card.get("training") or {}
    if card.get("kind") == "legacy":
        return "imported original model (its training data is unknown; it was trained on this SKU's public data)"
    if data_sha and training.get("data_sha256") and training["data_sha256"] != data_sha:
        seen = same_history_seen(training, targets)
        if seen:
            key, last_day, first_held = seen
            raise SeenHeldOutDays(
                f"{forecaster.name} was trained on {training.get('data_file')}, which holds the same history of "
                f"{key} (same first day and demand) up to {last_day}, inside the held-out days from {first_held}: "
                "its score would read days it saw; score a model trained on this file instead (python -m engine train "
                "--data with this file: its training leaves the held-out days out)")
        return f"trained on another file ({training.get('data_file')})"
    last = training.get("last_train_date_by_series") or {}
    for t in targets:
        first_hold_pos = t.positions[0]
        if t.dates and t.key in last:
            if last[t.key] >= t.dates[first_hold_pos]:
                unseen = min(len(x.dates) - first_unseen(x.dates, last[x.key])
                             for x in targets if x.dates and x.key in last)
                fits = f"backtest it on the {unseen} days it never saw (--holdout-days {unseen}) or " if unseen > 1 \
                    else ""
                raise SeenHeldOutDays(
                    f"{forecaster.name} was trained on {t.key} up to {last[t.key]}, which overlaps the held-out "
                    f"days from {t.dates[first_hold_pos]}; {fits}retrain it with a larger --holdout-days")
        elif t.key in (training.get("train_days_by_series") or {}):
            if training["train_days_by_series"][t.key] > first_hold_pos:
                raise SeenHeldOutDays(f"{forecaster.name} was trained on {t.key} beyond the held-out start")
    return "trained on the days before the holdout of this file" if training.get("data_sha256") == data_sha else ""


def days_never_read(forecaster, dataset, data_sha: str | None) -> int | None:
    """How many final days of every series of `dataset` a trained model never read, when its card ties it to this
    file: the same SHA-256, or series holding the same history (engine.forecast.seen_days); None when nothing ties
    them (no card, a legacy import, another file, no dates)."""
    card = getattr(forecaster, "card", None) or {}
    training = card.get("training") or {}
    last = training.get("last_train_date_by_series") or {}
    if not last or card.get("kind") == "legacy":
        return None
    same_file = data_sha is not None and training.get("data_sha256") == data_sha
    counts = [len(s.dates) - first_unseen(s.dates, last[s.key]) for s in dataset.series.values()
              if s.dates and s.key in last and (same_file or holds_history(training, s.key, s.dates, s.demand))]
    return min(counts) if counts else None


def default_holdout(dataset, models, data_path=None, default: int = DEFAULT_HOLDOUT_DAYS) -> tuple[int, str | None]:
    """The held-out days of a backtest run without --holdout-days: `default`, or fewer when a trained model of the
    run was trained on this file and left fewer final days unread (a global model holds out its last 56), so that
    it is scored rather than refused; then also the sentence that says why."""
    from engine.forecast.registry import get_forecaster
    data_sha = file_sha256(data_path) if data_path else None
    days, why = default, None
    for name in models:
        if isinstance(name, str) and not name.startswith("ensemble:"):
            continue
        f = get_forecaster(name) if isinstance(name, str) else name
        n = days_never_read(f, dataset, data_sha)
        if n is not None and 1 <= n < days:
            days, why = n, f"held out the last {n} days: the ones {f.name} never read (--holdout-days sets " \
                "another number)"
    return days, why


def forecast_targets(forecaster, targets: list[Target], sum_days: int = SUM_DAYS) -> dict[str, np.ndarray]:
    """One-step-ahead forecasts for every held-out position of every target series, and (key + "#sum") the forecast
    sum of the next `sum_days` days from every held-out origin whose window ends inside the series.

    A forecaster whose rows are independent (Forecaster.rows_independent) forecasts the series that share a length,
    a calendar and held-out positions in one call per position: the same numbers, one call instead of one per
    series."""
    if getattr(forecaster, "rows_independent", False) and len(targets) > 1:
        return _forecast_stacked(forecaster, targets, sum_days)
    out = {}
    h = forecaster.horizon
    for t in targets:
        cov = covariates_for(t, h)
        preds, sums = [], []
        for pos in t.positions:
            _check_history(forecaster, t, pos)
            c = cov.take(pos + h) if (forecaster.reads_covariates or getattr(forecaster, "kind", "") == "legacy") \
                else None
            f = forecaster.predict(t.demand[None, :pos], c)
            preds.append(float(f[0, 0]))
            if pos + sum_days <= len(t.demand):
                sums.append(float(window_sum(f[:1], sum_days)[0]))
        out[t.key] = np.asarray(preds)
        out[t.key + "#sum"] = np.asarray(sums)
    return out


def _check_history(forecaster, t: Target, pos: int) -> None:
    if pos < forecaster.min_history:
        raise BacktestError(f"{forecaster.name} needs {forecaster.min_history} days of history; series "
                            f"{t.key} has {pos} before its first held-out day")


def _forecast_stacked(forecaster, targets: list[Target], sum_days: int) -> dict[str, np.ndarray]:
    groups: dict = {}
    for t in targets:
        key = (len(t.demand), tuple(t.dates) if t.dates else None, tuple(t.positions), t.planning is None)
        groups.setdefault(key, []).append(t)
    out = {}
    h = forecaster.horizon
    for group in groups.values():
        D = np.stack([t.demand for t in group]).astype(np.float64)
        cov = stacked_covariates(group, h) if forecaster.reads_covariates else None
        n = D.shape[1]
        preds, sums = [], []
        for pos in group[0].positions:
            _check_history(forecaster, group[0], pos)
            f = forecaster.predict(D[:, :pos], None if cov is None else cov.take(pos + h))
            preds.append(f[:, 0])
            if pos + sum_days <= n:
                sums.append(window_sum(f, sum_days))
        P = np.stack(preds, axis=1)
        S = np.stack(sums, axis=1) if sums else np.zeros((len(group), 0))
        for i, t in enumerate(group):
            out[t.key] = P[i].copy()
            out[t.key + "#sum"] = S[i].copy()
    return out


def sum_origins(t: Target, sum_days: int) -> list[int]:
    """Held-out origins of a target whose `sum_days`-day window lies inside the series."""
    return [p for p in t.positions if p + sum_days <= len(t.demand)]


def actual_sums(t: Target, sum_days: int) -> np.ndarray:
    return np.asarray([t.demand[p:p + sum_days].sum() for p in sum_origins(t, sum_days)], dtype=np.float64)


def origin_times(t: Target, sum_days: int) -> np.ndarray:
    """Day numbers of a target's sum origins on a calendar shared by the series (dates when known)."""
    pos = sum_origins(t, sum_days)
    if t.dates:
        import datetime as _dt
        return np.asarray([_dt.date.fromisoformat(str(t.dates[p])[:10]).toordinal() for p in pos], dtype=np.float64)
    return np.asarray(pos, dtype=np.float64)


def sum_rmse(actual: np.ndarray, forecast: np.ndarray) -> float | None:
    return float(np.sqrt(np.mean((forecast - actual) ** 2))) if len(actual) else None


def metrics(actual: np.ndarray, forecast: np.ndarray, naive_scale: float) -> dict:
    e = forecast - actual
    mae = float(np.mean(np.abs(e)))
    return {"mae": mae, "rmse": float(np.sqrt(np.mean(e ** 2))), "bias": float(np.mean(e)),
            "mase": float(mae / naive_scale) if naive_scale > 0 else None, "n": int(len(e))}


def run_backtest(dataset, models: list[str], protocol: str = "per-series",
                 holdout_days: int = DEFAULT_HOLDOUT_DAYS,
                 data_path=None, log=None, sum_days: int = SUM_DAYS, quantiles=None, skip_seen: bool = False) -> dict:
    """Backtest forecasters (registry names or Forecaster objects) on a Dataset; returns a JSON-safe dict.

    quantiles (per-series protocol): also score quantiles of the `sum_days`-day sums (engine.forecast.sum_quantiles)
    into overall.scaled_pinball, overall.coverage {"0.9": ...} and per_series[key].scaled_pinball.
    skip_seen: a model whose card shows it saw held-out days (SeenHeldOutDays) is left out and named under
    `skipped` with the reason, instead of stopping the run (the CLI's default list of every model)."""
    from engine.forecast.registry import get_forecaster
    if protocol == "per-series":
        if holdout_days < 1:
            raise BacktestError(f"--holdout-days {holdout_days} must be at least 1 (the days the forecasts are scored "
                                "on)")
        targets = targets_per_series(dataset, holdout_days)
        train_mean, first_date = None, None
    elif protocol == "seed":
        targets, train_mean, first_date = targets_seed(dataset)
    else:
        raise BacktestError(f"unknown protocol {protocol!r}; use per-series or seed")
    data_sha = file_sha256(data_path) if data_path else None
    # MASE scale: in-sample one-step naive MAE on each series' days before its first held-out day
    scales = {}
    for t in targets:
        tr = t.demand[:t.positions[0]]
        scales[t.key] = float(np.mean(np.abs(np.diff(tr)))) if len(tr) > 1 else float("nan")
    pooled_diffs = np.concatenate([np.abs(np.diff(t.demand[:t.positions[0]])) for t in targets])
    pooled_scale = float(pooled_diffs.mean()) if len(pooled_diffs) else float("nan")
    actual = {t.key: t.demand[t.positions] for t in targets}
    sums_actual = {t.key: actual_sums(t, sum_days) for t in targets}
    sums_time = {t.key: origin_times(t, sum_days) for t in targets}

    if quantiles and protocol != "per-series":
        raise BacktestError("--quantiles needs the per-series protocol")
    results, skipped = {}, {}
    names = list(models) + (["train-mean"] if protocol == "seed" else [])
    for name in names:
        if name == "train-mean":
            fc = {t.key: np.full(len(t.positions), train_mean) for t in targets}
            fc.update({t.key + "#sum": np.full(len(sums_actual[t.key]), sum_days * train_mean) for t in targets})
            note = "mean of the training rows (90 %)"
        else:
            f = get_forecaster(name) if isinstance(name, str) else name
            name = f.name
            if getattr(f, "requires_planning", False) and any(t.planning is None for t in targets):
                skipped[name] = "the file has no Demand_Forecast column"
                continue
            try:
                note = check_training_period(f, targets, data_sha)
            except SeenHeldOutDays as exc:
                if not skip_seen:
                    raise
                skipped[name] = str(exc)
                continue
            fc = forecast_targets(f, targets, sum_days)
        all_a = np.concatenate([actual[k] for k in actual])
        all_f = np.concatenate([fc[k] for k in actual])
        sa = np.concatenate([sums_actual[k] for k in actual])
        sf = np.concatenate([fc[k + "#sum"] for k in actual])
        overall = metrics(all_a, all_f, pooled_scale)
        overall.update({"sum_rmse": sum_rmse(sa, sf), "sum_n": int(len(sa)),
                        "sum_coverage": conformal_coverage(np.concatenate([sums_time[k] for k in actual]), sf, sa,
                                                           sum_days)})
        per_series = {}
        for k in actual:
            per_series[k] = metrics(actual[k], fc[k], scales[k])
            per_series[k]["sum_rmse"] = sum_rmse(sums_actual[k], fc[k + "#sum"])
        if quantiles:
            from engine.forecast.sum_quantiles import score_sum_quantiles
            try:
                qres = score_sum_quantiles(f, targets, holdout_days, sum_days, quantiles)
            except ValueError as exc:
                raise BacktestError(str(exc)) from None
            for k, v in qres.pop("per_series").items():
                per_series[k]["scaled_pinball"] = v
            overall.update(qres)
        entry = {"overall": overall, "note": note, "per_series": per_series}
        results[name] = entry
        if log:
            cov = overall["sum_coverage"]["coverage"]
            shown = " ".join("–" if c is None else f"{c:.2f}" for c in cov)
            sr = "–" if overall["sum_rmse"] is None else f"{overall['sum_rmse']:.3f}"
            extra = ""
            if quantiles:
                sp = overall["scaled_pinball"]
                sp = "n/a (no series changes from day to day before the holdout)" if sp is None else f"{sp:.4f}"
                extra = f"  scaled pinball {sp} ({overall['method']}) coverage " + \
                    " ".join(f"{q}:{c:.3f}" for q, c in overall["coverage"].items())
            log(f"{name:>24}: MAE {overall['mae']:.3f}  RMSE {overall['rmse']:.3f}  {sum_days}-day-sum RMSE {sr}  "
                f"coverage 0.90/0.99 {shown}{extra}")
    return {"protocol": protocol, "data": getattr(dataset, "name", None), "data_sha256": data_sha,
            "holdout_days": holdout_days if protocol == "per-series" else None,
            "holdout_rows": int(sum(len(t.positions) for t in targets)),
            "first_holdout_date": first_date if protocol == "seed" else None,
            "sum_days": sum_days, "quantiles": list(quantiles) if quantiles else None,
            "series": [t.key for t in targets], "models": results, "skipped": skipped}


def rank_key(overall: dict) -> tuple:
    """The order every backtest table shows models in: by the scaled pinball loss of the protection-period
    quantiles when scored (what the decisions read), then by one-step MAE; a model without scored quantiles after
    those with, one without metrics last."""
    sp, mae = overall.get("scaled_pinball"), overall.get("mae")
    return (mae is None, sp is None, sp if sp is not None else 0.0, mae if mae is not None else 0.0)


def coverage_90_99(overall: dict) -> list:
    """[coverage of q = 0.90, of q = 0.99] of the sums: the scored quantiles' per level when there (the model's own
    for a global model, the rolling errors' otherwise), else the conformal coverage of the sum forecast's errors."""
    scored = overall.get("coverage") if isinstance(overall.get("coverage"), dict) else {}
    conformal = (overall.get("sum_coverage") or {}).get("coverage") or [None, None]
    return [scored.get("0.9", conformal[0]), scored.get("0.99", conformal[1])]


def markdown_table(result: dict) -> str:
    """The overall table of a backtest result as Markdown (for model cards and the README). With scored quantiles
    (--quantiles) it ranks by their scaled pinball loss — what the decisions read — and its coverage columns are the
    scored quantiles'; otherwise by one-step MAE, with the conformal coverage of the sum forecast's errors."""
    w = result.get("sum_days", SUM_DAYS)
    scored = any(r["overall"].get("scaled_pinball") is not None for r in result["models"].values())
    lines = [f"| model | MAE | RMSE | bias | MASE | {w}-day-sum RMSE |"
             + (f" {w}-day-sum scaled pinball |" if scored else "") + " coverage 0.90 | coverage 0.99 |",
             "|---|---:|---:|---:|---:|---:|" + ("---:|" if scored else "") + "---:|---:|"]

    ranked = sorted(result["models"].items(), key=lambda kv: rank_key(kv[1]["overall"]))

    def num(v, fmt=".3f"):
        return "–" if v is None else format(v, fmt)
    for name, r in ranked:
        o = r["overall"]
        cov = coverage_90_99(o)
        pin = f" {num(o.get('scaled_pinball'), '.4f')} |" if scored else ""
        lines.append(f"| {name} | {o['mae']:.3f} | {o['rmse']:.3f} | {o['bias']:+.3f} | {num(o['mase'])} | "
                     f"{num(o.get('sum_rmse'))} |{pin} {num(cov[0])} | {num(cov[1])} |")
    return "\n".join(lines)
