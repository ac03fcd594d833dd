"""/forecasts: forecaster comparison on the chosen data — hold-out backtest table, forecast-vs-actual plot of the
ensemble(s) against the baselines, and the model card. Runs as a background job (cancellable), cached."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from dashapp import engine_facade as E
from dashapp.pages.forecasts import backtests as B
from dashapp.pages.forecasts.model_card import card_view, model_label
from dashapp.platform.config import settings
from dashapp.platform.session_ids import valid_session_id
from dashapp.platform.store import StoreUnavailable, get_store
from dashapp.ui import components as C
from dashapp.ui import figures
from dashapp.ui.validation import InputError, number_in

dash.register_page(__name__, path="/forecasts", name="Forecasts", title="Forecasts · Inventory Simulator")


def _model_choices():
    fs = E.registry.list_forecasters()
    opts = []
    for f in fs:
        label = f["label"] + (" — slow the first time (minutes), cached afterwards" if f["name"] in B.SLOW else "")
        opts.append({"label": label, "value": f["name"]})
    default = [f["name"] for f in fs if f["kind"] == "ensemble" or f["name"] in B.FAST_DEFAULT]
    ensembles = [f["name"] for f in fs if f["kind"] == "ensemble"]
    return opts, default, ensembles


def layout(**_query):
    opts, default, ensembles = _model_choices()
    return html.Div([
        html.H1("Forecasters on held-out data", className="h4"),
        html.P(["Rolling one-step-ahead forecasts over the last days of every series; every model sees only the "
                "days before the one it forecasts. The ensemble is evaluated only when its model card proves it "
                "never trained on the held-out days. MASE < 1: better than the naive forecast in-sample. What an "
                "order-up-to policy uses is the demand of the protection period (lead time 7 + 1 days): models are "
                "ranked by the scaled pinball loss of its 0.5 / 0.9 / 0.95 / 0.99 quantiles (M5's uncertainty "
                "score: pinball ÷ 8 × the series' mean absolute day-to-day change; lower is better), from the "
                "model itself when it forecasts quantiles, else from its own earlier 8-day-sum errors; the "
                "coverage columns give the share of 8-day sums at or below the 0.90 / 0.99 quantiles, and the "
                "8-day-sum RMSE scores the sum forecast from each origin."],
               className="text-muted small"),
        dbc.Row([
            dbc.Col([
                html.Div([
                    C.field("Data", C.dropdown("bt-data", [
                        {"label": "Bundled sample data", "value": "sample"},
                        {"label": "Uploaded CSV (this session, from the Simulator page)", "value": "upload"}],
                        "sample")),
                    C.field("Hold-out days per series ({}–{})".format(*B.HOLDOUT_BOUNDS), C.number("bt-holdout", 73)),
                    C.field("Series to plot", C.dropdown("bt-series", [], None)),
                    html.H2("Models", className="h6"),
                    dbc.Checklist(id="bt-models", options=opts, value=default, className="small"),
                    html.Div([
                        dbc.Button("Run backtest", id="bt-run", color="primary", size="sm", className="me-2"),
                        dbc.Button("Cancel", id="bt-cancel", color="secondary", size="sm", outline=True,
                                   disabled=True),
                    ], className="mt-2"),
                    html.Div(id="bt-progress", className="small text-muted mt-2"),
                ], className="controls"),
            ], lg=3, md=4),
            dbc.Col([
                html.Div(id="bt-message"),
                html.Div(id="bt-table"),
                html.Div([
                    C.field("Models in the plot (default: the table's three best — scaled pinball loss, then MAE; "
                            "the actual is always drawn, in front)",
                            dcc.Dropdown(id="bt-plot-models", options=[], value=[], multi=True,
                                         className="dropdown-sm")),
                    dcc.Graph(id="bt-graph", figure=figures.empty_figure("Press Run backtest")),
                ], className="graph-card"),
                dcc.Store(id="bt-result"),
                html.H2("Model card", className="h5"),
                C.field("Model", C.dropdown("card-model", [{"label": model_label(n), "value": n} for n in ensembles],
                                            ensembles[0] if ensembles else None)),
                html.Div(id="model-card", className="bg-white p-3 rounded small"),
            ], lg=9, md=8),
        ]),
    ])


def _dataset(source, sid):
    if source == "upload":
        if not valid_session_id(sid):
            raise InputError("data: no session yet; open the Simulator page first")
        ds = E.kept_upload(get_store(), sid)
        if ds is None:
            raise InputError("data: no uploaded file in this session; upload one on the Simulator page")
        return ds, None
    return E.sample_dataset(), str(settings.sample_data)


@callback(Output("bt-series", "options"), Output("bt-series", "value"), Input("bt-data", "value"),
          State("session-id", "data"))
def _series(source, sid):
    try:
        ds, _ = _dataset(source, sid)
    except Exception:  # noqa: BLE001 - shown on Run
        return [], None
    keys = list(ds.series)
    return [{"label": k, "value": k} for k in keys], keys[0] if keys else None


def _checked_request(source, holdout, models) -> int:
    """The hold-out days of a valid request (InputError naming the field otherwise)."""
    if source not in ("sample", "upload"):
        raise InputError(f"data: {str(source)[:60]!r} is not one of the offered choices")
    h = number_in("hold-out days", holdout, B.HOLDOUT_BOUNDS, integer=True)
    names = {f["value"] for f in E.forecaster_options()}
    if not isinstance(models, list) or not models:
        raise InputError("models: choose at least one model")
    bad = [m for m in models if not isinstance(m, str) or m not in names]
    if bad:
        raise InputError(f"models: {str(bad[0])[:60]!r} is not one of the offered choices")
    return h


@callback(
    Output("bt-result", "data"), Output("bt-message", "children"),
    Input("bt-run", "n_clicks"),
    State("bt-data", "value"), State("bt-holdout", "value"), State("bt-models", "value"), State("session-id", "data"),
    background=True,
    running=[(Output("bt-run", "disabled"), True, False), (Output("bt-cancel", "disabled"), False, True)],
    cancel=[Input("bt-cancel", "n_clicks")],
    progress=[Output("bt-progress", "children")],
    prevent_initial_call=True,
)
def run(set_progress, _n, source, holdout, models, sid):
    """Validate, then backtest each model (cached), reporting progress."""
    try:
        from engine.forecast.backtest import BacktestError

        h = _checked_request(source, holdout, models)
        ds, path = _dataset(source, sid)
        digest = B.dataset_digest(ds)
        results = {}
        for i, m in enumerate(models):
            set_progress(f"backtesting {m} ({i + 1} of {len(models)})…")
            try:
                results[m] = B.model_result(ds, digest, m, h, data_path=path)
            except BacktestError as exc:
                results[m] = {"metrics": None, "skipped": B.page_words(exc), "forecasts": {}}
        set_progress(f"done: {len(models)} models, {h} held-out days per series")
        return {"results": results, "actuals": B.actuals(ds, h), "holdout": h, "data": ds.name}, None
    except BacktestError as exc:
        return no_update, C.message(f"Backtest refused — {B.page_words(exc)}")
    except E.USER_ERRORS as exc:
        return no_update, C.message(f"Backtest refused — {exc}")
    except StoreUnavailable as exc:
        return no_update, C.message(f"Session store unavailable: {exc}")


def _fmt(v, sign=False):
    return "–" if v is None else (f"{v:+.3f}" if sign else f"{v:.3f}")


def _fmt4(v):
    return "–" if v is None else f"{v:.4f}"


@callback(Output("bt-plot-models", "options"), Output("bt-plot-models", "value"), Input("bt-result", "data"))
def plot_choices(result):
    """Every evaluated model may be plotted; the three best are at first."""
    if not result:
        return [], []
    names = [r["model"] for r in B.table_rows(result["results"]) if r["mae"] is not None]
    return [{"label": model_label(n), "value": n} for n in names], B.plot_default(result["results"])


@callback(Output("bt-table", "children"), Output("bt-graph", "figure"), Input("bt-result", "data"),
          Input("bt-series", "value"), Input("bt-plot-models", "value"))
def show(result, series, plotted):
    if not result:
        return None, figures.empty_figure("Press Run backtest")
    rows = B.table_rows(result["results"])
    header = html.Thead(html.Tr([html.Th(x) for x in ("Model", "MAE", "RMSE", "bias", "MASE", "8-day-sum RMSE",
                                                       "8-day-sum scaled pinball", "coverage 0.90", "coverage 0.99",
                                                       "note")]))
    body = html.Tbody([html.Tr([html.Td(model_label(r["model"])), html.Td(_fmt(r["mae"])), html.Td(_fmt(r["rmse"])),
                                html.Td(_fmt(r["bias"], True)), html.Td(_fmt(r["mase"])),
                                html.Td(_fmt(r.get("sum_rmse"))), html.Td(_fmt4(r.get("scaled_pinball"))),
                                html.Td(_fmt(r.get("cover_90"))), html.Td(_fmt(r.get("cover_99"))),
                                html.Td(r["note"], className="small")], **{"data-model": r["model"]}) for r in rows])
    table = dbc.Table([header, body], bordered=False, striped=True, size="sm", className="bg-white",
                      id="backtest-table")
    act = result["actuals"].get(series) if series else None
    if act is None and result["actuals"]:
        series, act = next(iter(result["actuals"].items()))
    chosen = plotted if isinstance(plotted, list) else B.plot_default(result["results"])
    fc = {model_label(m): r["forecasts"][series] for m, r in result["results"].items()
          if m in chosen and r.get("forecasts", {}).get(series)}
    fig = figures.backtest_figure(act["y"], fc, x=act["x"],
                                  title=f"{series}: one-step forecasts vs actual, last {result['holdout']} days")
    return [html.Div(f"{result['data']}: overall over all series (best 8-day-sum scaled pinball first, then MAE)",
                     className="small text-muted"),
            table], fig


@callback(Output("model-card", "children"), Input("card-model", "value"))
def card(name):
    if not name:
        return html.Div("No trained model in models/ yet: the baselines are available.")
    try:
        c = B.model_card(name)
    except Exception as exc:  # noqa: BLE001 - a broken card is shown as a message
        return C.message(f"{name}: {exc}")
    if c is None:
        return C.message(f"{name} is not a registered model")
    return card_view(c)
