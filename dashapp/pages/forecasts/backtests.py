"""Backtests for the /forecasts page, cached per (data, model, hold-out): the engine's `run_backtest` gives the
table (its numbers are the CLI's `engine backtest --sum-days 8 --quantiles 0.5,0.9,0.95,0.99`), `forecast_targets`
the one-step forecasts plotted for one series.

The table ranks by what the decisions read: the scaled pinball loss of the 8-day-sum (L + 1 with the default lead
time 7) quantiles (engine.forecast.sum_quantiles; M5's uncertainty scale), then by one-step MAE. A model whose
quantiles cannot be scored (a hold-out of fewer than 8 days, too little history for its rolling errors) keeps its
one-step metrics and the note says why.

Cache: a diskcache directory under the var dir, shared by the workers of one machine, JSON values. ETS/ARIMA
backtests take minutes the first time and milliseconds afterwards.
"""
from __future__ import annotations

import hashlib
import json
import math
import os

from dashapp.platform.config import settings
from dashapp.platform.store import make_kv
from dashapp.ui import validation

HOLDOUT_BOUNDS = (7, 365)
SUM_DAYS = 8                           # the protection period L + 1 of the default lead time 7
QUANTILES = (0.5, 0.9, 0.95, 0.99)     # the levels `engine backtest --quantiles` scores by default on the README
# Ticked when the page opens: the ensembles, and the baselines that run in seconds — weekly ETS among them, the
# strongest per-series forecaster on retail data (M5: docs/FORECASTING.md), so an ensemble is never shown beating
# only weaker yardsticks (3 s for 280 series × 56 held-out days on the M5 file).
FAST_DEFAULT = ("naive", "seasonal-naive", "ma7", "ma28", "ses", "ets-weekly", "fourier", "planning")
SLOW = {"ets", "arima"}
CACHE_TTL = 7 * 24 * 3600

_cache = None


def page_words(message) -> str:
    """An engine backtest message in this page's words (dashapp.ui.validation.page_words): the CLI's
    --holdout-days is this page's hold-out field."""
    return validation.page_words(str(message), {"--holdout-days": "“Hold-out days per series”"})


def cache():
    """The machine's backtest cache (dashapp.platform.store's diskcache back end, 256 MB, a week per entry)."""
    global _cache
    if _cache is None:
        _cache = make_kv(None, os.path.join(settings.var_dir, "backtests"), CACHE_TTL, prefix="",
                         size_limit=256 * 2**20)
    return _cache


def dataset_digest(dataset) -> str:
    """Content hash of the series (so an upload and the sample file never share cache entries)."""
    h = hashlib.sha256()
    for key, s in dataset.series.items():
        h.update(key.encode())
        h.update(json.dumps(s.to_dict(), sort_keys=True).encode())
    return h.hexdigest()


def _finite(v):
    return None if v is None or (isinstance(v, float) and not math.isfinite(v)) else v


def _clean(obj):
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_clean(v) for v in obj]
    return _finite(obj)


def model_result(dataset, digest: str, model: str, holdout: int, data_path=None) -> dict:
    """{"metrics": run_backtest entry or None, "skipped": reason or None, "forecasts": {series: [..]}}."""
    from engine.forecast.backtest import BacktestError, forecast_targets, run_backtest, targets_per_series
    from engine.forecast.registry import get_forecaster

    key = f"bt:v3:{digest}:{model}:{holdout}"
    c = cache()
    hit = c.get(key)
    if hit is not None:
        return hit
    quantile_note = None
    try:
        result = run_backtest(dataset, [model], holdout_days=holdout, data_path=data_path, sum_days=SUM_DAYS,
                              quantiles=QUANTILES)
    except BacktestError as exc:  # the quantiles cannot be scored here: the one-step metrics still can
        quantile_note = f"{SUM_DAYS}-day-sum quantiles not scored: {page_words(exc)}"
        result = run_backtest(dataset, [model], holdout_days=holdout, data_path=data_path, sum_days=SUM_DAYS)
    entry = next(iter(result["models"].values()), None)
    if entry is not None and quantile_note:
        entry["note"] = "; ".join(x for x in (entry.get("note"), quantile_note) if x)
    skipped = result["skipped"].get(model)
    out = {"metrics": entry, "skipped": None if skipped is None else page_words(skipped), "forecasts": {}}
    if entry is not None:
        fc = forecast_targets(get_forecaster(model), targets_per_series(dataset, holdout))
        out["forecasts"] = {k: [float(x) for x in v] for k, v in fc.items() if not k.endswith("#sum")}
    out = _clean(out)
    c.put(key, out)
    return out


def actuals(dataset, holdout: int) -> dict:
    from engine.forecast.backtest import targets_per_series

    out = {}
    for t in targets_per_series(dataset, holdout):
        xs = [t.dates[p] for p in t.positions] if t.dates else [p + 1 for p in t.positions]
        out[t.key] = {"x": xs, "y": [float(t.demand[p]) for p in t.positions]}
    return out


def table_rows(results: dict[str, dict]) -> list[dict]:
    """Overall metrics per model, best first (module docstring): the scaled pinball loss of the 8-day-sum quantiles
    and the measured coverage of their 0.90 / 0.99 levels, one-step MAE/RMSE/bias/MASE and the RMSE of the 8-day
    sum forecast. Coverage comes from the scored quantiles (the model's own for a global model, the rolling
    errors' otherwise); without them, from the conformal coverage of the sum forecast's errors."""
    from engine.forecast.backtest import coverage_90_99, rank_key

    rows = []
    for name, r in results.items():
        if r.get("metrics") is None:
            rows.append({"model": name, "scaled_pinball": None, "mae": None, "rmse": None, "bias": None,
                         "mase": None, "sum_rmse": None, "cover_90": None, "cover_99": None,
                         "note": r.get("skipped") or "not evaluated"})
            continue
        o = r["metrics"]["overall"]
        cov = coverage_90_99(o)
        rows.append({"model": name, "scaled_pinball": o.get("scaled_pinball"), "mae": o["mae"], "rmse": o["rmse"],
                     "bias": o["bias"], "mase": o["mase"], "sum_rmse": o.get("sum_rmse"), "cover_90": cov[0],
                     "cover_99": cov[1], "note": r["metrics"].get("note") or ""})
    rows.sort(key=rank_key)  # the rows hold the keys rank_key reads (mae, scaled_pinball)
    return rows


def model_card(name: str) -> dict | None:
    """The card of ensemble:NAME from the registry's models directory (read by the engine's checker)."""
    from engine.forecast.onnx_model import read_card
    from engine.forecast.registry import list_forecasters, models_dir

    if name not in {f["name"] for f in list_forecasters() if f["kind"] == "ensemble"}:
        return None
    return read_card(models_dir() / name.split(":", 1)[1])


def plot_default(results: dict[str, dict], n: int = 3) -> list[str]:
    """The models the backtest plot shows at first: the n best in table_rows' order (evaluated ones)."""
    return [r["model"] for r in table_rows(results) if r["mae"] is not None][:n]
