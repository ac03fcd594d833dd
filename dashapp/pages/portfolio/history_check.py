"""/portfolio's "Check against history" as plain Python (no Dash callbacks): the page's file, mapping and
settings → engine.studies.policy_backtest (the portfolio's recommendations run on the file's own held-out days,
beside a days-of-cover baseline) → promised vs realised per demand class, a calibration chart and the exception
list a planner works through (series whose realised fill rate missed the promise by more than 5 points).

Why beside the portfolio run and not inside it: it recommends again at each origin on the history before it (the
held-out days must stay unseen), so it is its own background job with its own cache key.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable

import plotly.graph_objects as go

from dashapp.pages.portfolio.service import key_settings
from dashapp.ui.levels import levels_choice
from dashapp.ui.validation import InputError, number_in, page_words
from engine.errors import ConfigError, DataError
from engine.json_safe import json_safe
from engine.studies.policy_backtest import ORIGINS_RANGE, BacktestSettings, run_backtest
from engine.studies.portfolio import PortfolioSettings

KIND = "portfolio-backtest"
RESULT_VERSION = 1
MISS_POINTS = 0.05
MIN_HISTORY = 60   # days a series keeps before its first origin (engine.studies.policy_backtest needs them)


class CheckInputError(ValueError):
    """The check cannot run with this file or these settings; str() is the message the page shows."""


def check_settings(portfolio: PortfolioSettings, origins, levels=None) -> BacktestSettings:
    """The backtest of the page's portfolio settings: held-out days = its simulated days, the same lead time,
    objective, target, replications and supplier's rules (MOQ, pack, order days, K); `origins` from the page's
    field; `levels` its “Levels from” (dashapp.ui.levels: a global model's calibrated quantile as every series'
    level, engine.studies.quantile_backtest)."""
    if origins is None or origins == "":
        raise CheckInputError("origins: a value is required (a whole number from {} to {})".format(*ORIGINS_RANGE))
    try:
        k = number_in("origins", origins, ORIGINS_RANGE, integer=True)
        forecaster = levels_choice(levels)
    except InputError as exc:
        raise CheckInputError(str(exc)) from None
    s = BacktestSettings(holdout_days=portfolio.days, origins=k, lead_time=portfolio.lead_time,
                         objective=portfolio.objective, target_fill_rate=portfolio.target_fill_rate,
                         replications=portfolio.replications, holding_rate=portfolio.holding_rate,
                         seed=portfolio.seed, moq=portfolio.moq, pack_size=portfolio.pack_size,
                         order_days=portfolio.order_days, order_cost=portfolio.order_cost, forecaster=forecaster)
    try:
        return s.validate()
    except ConfigError as exc:
        raise CheckInputError(_page_words(str(exc))) from None


# The backtest's flags this section's fields stand for (engine.studies.policy_backtest.BacktestSettings).
CHECK_FIELD_NAMES = {"--holdout-days": "“Days per replication” (the held-out days)", "--origins": "“Origins”",
                     "--forecaster": "“Levels from”"}


def _page_words(message: str) -> str:
    return page_words(message, CHECK_FIELD_NAMES)


def check_settings_from_dict(d: dict) -> BacktestSettings:
    allowed = set(BacktestSettings().to_dict())
    try:
        return BacktestSettings(**{k: v for k, v in dict(d).items() if k in allowed}).validate()
    except (TypeError, ConfigError) as exc:
        raise CheckInputError(f"bad settings: {exc}") from None


def check_key(fid: str, mapping_used: dict, fill_missing_zero: bool, settings: BacktestSettings) -> str:
    """The cache key of a check (numbers as floats: dashapp.pages.portfolio.service.key_settings)."""
    text = json.dumps({"v": RESULT_VERSION, "kind": KIND, "file": fid, "mapping": mapping_used,
                       "fill": bool(fill_missing_zero), "settings": key_settings(settings.to_dict()),
                       "model": _model_stamp(settings.forecaster)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def _model_stamp(name: str | None) -> str | None:
    """A listed global model's card digest: a model retrained under the same name is another check."""
    try:
        if levels_choice(name) is None:
            return None
    except InputError:   # not listed (any more): never a path read from the browser's value
        return None
    from engine.forecast.registry import models_dir
    card = models_dir() / name.split(":", 1)[1] / "card.json"
    try:
        return hashlib.sha256(card.read_bytes()).hexdigest()[:16]
    except OSError:
        return None


def compute_check(dataset, settings: BacktestSettings, key: str, progress: Callable[[int, int], None]) -> dict:
    """The cached result: totals, by_class, baseline, misses, the per-series records, elapsed time."""
    t0 = time.perf_counter()
    series = list(dataset.series.values())
    try:
        out = run_backtest(series, settings, progress=progress)
    except (DataError, ConfigError) as exc:   # ConfigError: a global model that saw the days it would be checked on
        raise CheckInputError(_page_words(str(exc))) from None
    return json_safe({"key": key, "file": dataset.name, "settings": settings.to_dict(), **out,
                      "elapsed_s": time.perf_counter() - t0})


def class_rows(result: dict) -> list[dict]:
    """One row per demand class and the total: series, promised and realised fill rate (means over series), the
    difference in points, mean on-hand, and the days-of-cover baseline's realised fill rate and on-hand."""
    rows = []
    for c, v in result["by_class"].items():
        rows.append({"class": c, "series": v["series"], "promised": v["promised_fill_rate"],
                     "realised": v["realised_fill_rate"], "on_hand": v.get("average_on_hand"),
                     "baseline": v.get("baseline_fill_rate"), "baseline_on_hand": v.get("baseline_average_on_hand")})
    t, b = result["totals"], result["baseline"]
    rows.append({"class": "all series", "series": t["scored"], "promised": t["promised_fill_rate"],
                 "realised": t["realised_fill_rate"], "on_hand": t["average_on_hand"],
                 "baseline": b["realised_fill_rate"], "baseline_on_hand": b["average_on_hand"]})
    for r in rows:
        r["points"] = None if r["promised"] is None or r["realised"] is None else \
            100 * (r["realised"] - r["promised"])
    return rows


def exception_rows(result: dict) -> list[dict]:
    """The series whose realised fill rate fell more than 5 points below the promise, worst first."""
    by = {(r["series"], r["origin"]): r for r in result["records"]}
    out = []
    for m in result.get("misses", []):
        r = by[(m["series"], m["origin"])]
        out.append({"series": r["series"], "origin_date": r.get("origin_date") or f"origin {r['origin'] + 1}",
                    "class": r["class"], "policy": r["policy"], "forecaster": r["forecaster"],
                    "promised": r["promised_fill_rate"], "realised": r["realised_fill_rate"],
                    "points": 100 * (r["realised_fill_rate"] - r["promised_fill_rate"]),
                    "demand": r["demand"], "on_hand": r["realised_average_on_hand"]})
    return out


def calibration_figure(result: dict) -> go.Figure:
    """Promised (x) vs realised (y) fill rate: one point per series and origin, coloured by class, the diagonal
    (a promise kept) and the band of ±5 points around it."""
    fig = go.Figure()
    recs = [r for r in result["records"] if r["promised_fill_rate"] is not None
            and r["realised_fill_rate"] is not None]
    lo = min([0.5] + [min(r["promised_fill_rate"], r["realised_fill_rate"]) for r in recs])
    fig.add_trace(go.Scatter(x=[lo, 1.0], y=[lo, 1.0], mode="lines", name="promise kept",
                             line={"color": "#555", "dash": "dash"}, hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=[lo, 1.0, 1.0, lo], y=[lo - MISS_POINTS, 1.0 - MISS_POINTS, 1.0, lo],
                             fill="toself", mode="none", name="within 5 points below",
                             fillcolor="rgba(120,120,120,0.12)", hoverinfo="skip"))
    for c in sorted({r["class"] for r in recs}):
        rs = [r for r in recs if r["class"] == c]
        fig.add_trace(go.Scatter(x=[r["promised_fill_rate"] for r in rs], y=[r["realised_fill_rate"] for r in rs],
                                 mode="markers", name=f"{c} ({len(rs)})", text=[r["series"] for r in rs],
                                 marker={"size": 6, "opacity": 0.7},
                                 hovertemplate="%{text}<br>promised %{x:.1%}<br>realised %{y:.1%}<extra></extra>"))
    fig.update_layout(xaxis_title="promised fill rate (simulated, corrected out of time)",
                      yaxis_title="realised fill rate on the held-out days", height=420,
                      margin={"l": 60, "r": 20, "t": 30, "b": 50}, legend={"orientation": "h", "y": -0.2},
                      xaxis={"tickformat": ".0%", "range": [lo, 1.005]},
                      yaxis={"tickformat": ".0%", "range": [lo - MISS_POINTS, 1.005]})
    return fig
