"""The /forecasts model card shown as readable fields: one line per fact, nested records as indented
"key: value" lines (long lists summarised, hashes shortened) instead of JSON cut mid-object, and the card's stored
backtest as an AG Grid with the registry's model labels."""
from __future__ import annotations

import dash_ag_grid as dag
from dash import html

from dashapp.ui.tables import result_grid

FACTS = (("kind", "Kind"), ("description", "Description"), ("window", "Input window (days)"),
         ("horizon", "Forecast horizon (days)"), ("use_covariates", "Uses covariates"))
NESTED = (("training", "Training"), ("source", "Source"), ("retrain", "Retraining"), ("versions", "Library versions"))
MAX_LIST = 6


def model_label(name: str) -> str:
    """The registry's label of a forecaster name ("ma7" -> its label); the name itself when it has none."""
    from engine.forecast.registry import list_forecasters

    return next((f["label"] or name for f in list_forecasters() if f["name"] == name), name)


def value_text(value) -> str:
    """A scalar or short list as a planner reads it; long lists as their first items and a count."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.4g}"
    if isinstance(value, str):
        return value[:12] + "…" if len(value) == 64 and all(c in "0123456789abcdef" for c in value) else value
    if isinstance(value, (list, tuple)):
        shown = ", ".join(value_text(v) for v in value[:MAX_LIST] if not isinstance(v, (dict, list)))
        more = len(value) - MAX_LIST
        return (shown + (f", … ({len(value)} in all)" if more > 0 else "")) if shown else f"{len(value)} items"
    return str(value)


def field_lines(record: dict, depth: int = 0) -> list:
    """A nested record as "key: value" lines, one level of nesting indented, deeper records counted."""
    lines = []
    for key, value in record.items():
        label = str(key).replace("_", " ")
        if isinstance(value, dict) and depth == 0:
            lines.append(html.Li([html.Span(f"{label}: ", className="fw-semibold"),
                                  html.Ul(field_lines(value, 1), className="card-fields")]))
        elif isinstance(value, dict):
            lines.append(html.Li(f"{label}: {len(value)} entries"))
        else:
            lines.append(html.Li([html.Span(f"{label}: ", className="fw-semibold"), value_text(value)]))
    return lines


def card_view(card: dict) -> list:
    """The card's facts as a definition list, its nested records as field lines, its backtest as a grid."""
    facts = [(label, card.get(key)) for key, label in FACTS if card.get(key) not in (None, "")]
    feats = card.get("feature_columns") or card.get("features") or card.get("inputs")
    if feats:
        facts.append(("Inputs", value_text(feats if isinstance(feats, list) else list(feats))))
    verdict = holdout_line(card)
    if verdict:
        facts.append(("Held out", verdict))
    out = [html.Dl([part for label, v in facts for part in (html.Dt(label), html.Dd(value_text(v)))],
                   className="card-facts", id="model-card-facts")]
    for key, label in NESTED:
        if isinstance(card.get(key), dict):
            out += [html.H3(label, className="h6 mt-2"), html.Ul(field_lines(card[key]), className="card-fields")]
    bt = card.get("backtest")
    if isinstance(bt, dict) and isinstance(bt.get("models"), dict):
        out += [html.H3("Backtest stored in the card", className="h6 mt-2"), backtest_grid(bt)]
    return out


def holdout_line(card: dict) -> str | None:
    """A global model's held-out verdict (engine.forecast.model_names.holdout_verdict) as one fact line."""
    from engine.forecast.model_names import holdout_verdict, verdict_text
    if card.get("kind") != "global":
        return None
    v = holdout_verdict(card)
    return None if v is None else (f"scaled pinball {v['loss']:.4f}; " + verdict_text(v))


def grid_rows(bt: dict) -> tuple[list[dict], bool]:
    """(one row per model of a card's backtest, whether it scored quantiles): best scaled pinball first when the
    backtest scored the protection-period quantiles (what the decisions read), else best MAE first. Coverage is
    the quantile backtest's per level when there, else the one-day model's 8-day-sum coverage."""
    from engine.forecast.backtest import coverage_90_99, rank_key

    overall = [(r or {}).get("overall") or {} for r in bt["models"].values()]
    rows = []
    for o, name in sorted(zip(overall, bt["models"]), key=lambda on: rank_key(on[0])):
        c90, c99 = coverage_90_99(o)
        rows.append({"model": model_label(name), "pinball": o.get("scaled_pinball"), "mae": o.get("mae"),
                     "rmse": o.get("rmse"), "bias": o.get("bias"), "mase": o.get("mase"),
                     "sum_rmse": o.get("sum_rmse"), "cover_90": c90, "cover_99": c99})
    return rows, any(r["pinball"] is not None for r in rows)


def backtest_grid(bt: dict) -> dag.AgGrid:
    """The card's overall backtest per model (grid_rows' order), model labels pinned left."""
    w = bt.get("sum_days", 8)
    rows, quantiles = grid_rows(bt)
    num = {"function": "params.value == null ? '–' : params.value.toFixed(3)"}
    pinball = [("pinball", f"Scaled pinball ({w}-day sums)",
                f"pinball loss of the {w}-day-sum quantiles ÷ ({w} × the series' mean absolute one-day change), "
                "averaged over series, origins and levels (M5's scale; lower is better)")] if quantiles else []
    cols = [{"field": "model", "headerName": "Model", "pinned": "left", "minWidth": 190, "maxWidth": 340,
             "wrapText": True, "autoHeight": True}] + [
        {"field": f, "headerName": h, "valueFormatter": num, "type": "numericColumn", "headerTooltip": tip,
         "minWidth": 110}
        for f, h, tip in (*pinball, ("mae", "MAE", "mean absolute one-step error (units/day)"),
                          ("rmse", "RMSE", "root mean squared one-step error (units/day)"),
                          ("bias", "Bias", "mean of forecast − actual (units/day)"),
                          ("mase", "MASE", "MAE over the in-sample naive MAE (< 1: better than naive)"),
                          ("sum_rmse", f"{w}-day-sum RMSE", f"RMSE of the {w}-day demand sum (units)"),
                          ("cover_90", "Coverage 0.90", "share of sums at or below the 0.90 quantile"),
                          ("cover_99", "Coverage 0.99", "share of sums at or below the 0.99 quantile"))]
    return result_grid("card-backtest", rows, cols)
