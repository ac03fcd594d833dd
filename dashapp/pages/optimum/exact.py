"""/optimum, section "Exact optimum (stationary demand)": the optimal long-run cost of an i.i.d. demand setting,
each policy's true gap to it and a picture of the optimal policy (engine.exact).

Why a background job: a lead time of 2 solves in well under a second, but L = 5 takes several seconds and the
policy searches more — too long for a web worker. The request is checked before the job starts; a lead time beyond
the solver's reach is answered by the job with "not certified (lead time beyond reach)" and the longest lead time
it reaches. Results are cached by the request.

Certificate per series: a demand file uploaded here gives each series' empirical distribution (only its counts per
demand value are kept, in the browser); the gap table is then the certificate of each offered policy for that
planner's own demand and lead time.
"""
from __future__ import annotations

import time

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from dashapp import ids
from dashapp.pages.optimum.exact_figures import optimal_order_figure
from dashapp.pages.optimum.exact_service import (
    DIST_CHOICES,
    MAX_HEATMAP_LEAD,
    exact_record,
    request_from_fields,
    request_key,
    uploaded_counts,
)
from dashapp.platform.config import settings
from dashapp.ui.components import upload_status
from dashapp.ui.job_pages import JobWords, background_job, error_alert, run_and_cache
from dashapp.ui.jobs import job_store
from dashapp.ui.tables import plain_columns, result_grid
from engine.data.dataset import DataError
from engine.errors import ConfigError
from engine.exact.report import NOT_CERTIFIED, base_stock_gap
from engine.studies import scenarios as sc

__all__ = ["WORDS", "certificate_line", "exact_section", "gap_rows", "headline", "policy_label", "render",
           "request_from_fields"]

KIND = "optimum-exact"
WORDS = JobWords(prefix=ids.EXACT_PREFIX, kind=KIND, noun="exact solve", button="Solve exactly")
POLICY_LABELS = {"base-stock": "Base-stock", "capped-base-stock": "Capped base-stock",
                 "projected-inventory-level": "Projected inventory level (PIL)", "constant-order": "Constant order",
                 "s-S": "(s, S)", "s-nQ": "(s, nQ)"}
PARAM_LABELS = {"S": "S", "cap": "cap", "target": "target", "order_qty": "Q", "s": "s", "Q": "Q"}
NOT_EVALUATED = ["base-stock", "capped-base-stock", "projected-inventory-level", "constant-order", "lookahead"]


def policy_label(row: dict) -> str:
    """The table's name of a policy; the lookahead names the simple policy it improves and says it is a
    heuristic."""
    if row["name"] == "lookahead":
        base = row.get("params", {}).get("base")
        on = f" on {POLICY_LABELS.get(base, base).lower()}" if base else ""
        return f"One-step lookahead{on} (heuristic)"
    return POLICY_LABELS.get(row["name"], row["name"])


def _series_names() -> list[str]:
    try:
        from engine.data.dataset import load_csv
        return list(load_csv(sc.DEFAULT_DATA).series)
    except (DataError, OSError):
        return []


def _field(label, component, width=2):
    return dbc.Col([dbc.Label(label, html_for=getattr(component, "id", None), className="small mb-0"), component],
                   md=width)


def _random_lead_note(lead_time_dist: str | None):
    """The warning a scenario with random lead times gets, or None."""
    from engine.exact.report import FIXED_LEAD_ONLY

    if not lead_time_dist:
        return None
    return dbc.Alert(f"{FIXED_LEAD_ONLY[0].upper()}{FIXED_LEAD_ONLY[1:]}. The scenario on this page draws its lead "
                     f"times from {lead_time_dist}: the exact optimum and gaps below hold only for the fixed lead "
                     "time entered here, not for that scenario. Its policies are compared by simulation in the next "
                     "section.", color="warning", id=ids.EXACT_PREFIX + "-random-lead", className="small")


def exact_section(costs: dict | None = None, lead_time_dist: str | None = None) -> html.Div:
    """The section's inputs, buttons and result area (defaults: Poisson mean 5, L = 2). `costs` {"h", "p",
    "source"}: the simulator's h and p for the scenario the page shows, so both sections price a day alike; without
    them Zipkin's instance (h = 1, p = 9). `lead_time_dist`: that scenario's random lead time ('poisson:5'), which
    the exact model cannot hold (engine.exact.report.FIXED_LEAD_ONLY): the section says so above its fields
    instead of solving at a mean lead time as if it were the scenario's."""
    series = _series_names()
    h, p = (round(float(costs["h"]), 6), round(float(costs["p"]), 4)) if costs else (1, 9)
    cost_source = html.Div(f"h and p: {costs['source']}" if costs else "h and p: Zipkin's instance (h = 1, p = 9).",
                           id=ids.EXACT_PREFIX + "-cost-source", className="small text-muted")
    return html.Div([
        dcc.Store(id=ids.EXACT_REQUEST), dcc.Store(id=ids.EXACT_RESULT), dcc.Store(id=ids.EXACT_UPLOADED),
        html.H2("Exact optimum (stationary demand)", className="h4"),
        _random_lead_note(lead_time_dist),
        html.P("When demand is the same distribution every day (i.i.d.), the best possible policy can be computed "
               "exactly (relative value iteration over on-hand stock and the pipeline), and so can the true cost of "
               "each simple policy. Costs are per day: h per unit left over at the end of a day, p per unit short "
               "(lost, or backlogged for a day).", className="small text-muted"),
        dbc.Row([
            _field("Demand distribution", dcc.Dropdown(id=ids.EXACT_DIST, options=DIST_CHOICES, value="poisson",
                                                       clearable=False), width=3),
            _field("Mean (units/day)", dbc.Input(id=ids.EXACT_MEAN, type="number", step="any", value=5, size="sm")),
            _field("Variance (negative binomial)", dbc.Input(id=ids.EXACT_VAR, type="number", step="any", value=10,
                                                              size="sm")),
            _field("Series (empirical)", dcc.Dropdown(id=ids.EXACT_SERIES, options=series,
                                                      value=series[0] if series else None, clearable=False), 3),
            dbc.Col([dcc.Upload(id=ids.EXACT_UPLOAD, children=html.Div("Upload your demand file (CSV) for a "
                                                                        "certificate per series"),
                                className="upload-box small", max_size=settings.upload_max_bytes, multiple=False),
                     upload_status(ids.EXACT_UPLOAD_STATUS, ids.EXACT_UPLOAD, "small")], md=2),
        ], className="g-2 align-items-end"),
        dbc.Row([
            _field("Lead time (days)", dbc.Input(id=ids.EXACT_LEAD, type="number", step="any", value=2, size="sm")),
            _field("h (per unit per day)", dbc.Input(id=ids.EXACT_H, type="number", step="any", value=h, size="sm")),
            _field("p (per unit short)", dbc.Input(id=ids.EXACT_P, type="number", step="any", value=p, size="sm")),
            _field("Unmet demand", dcc.Dropdown(id=ids.EXACT_SALES, options=["lost sales", "backorders"],
                                                value="lost sales", clearable=False)),
            _field("K (per order)", dbc.Input(id=ids.EXACT_K, type="number", step="any", value=0, size="sm"), 1),
            dbc.Col(dbc.Button("Solve exactly", id=ids.EXACT_RUN, color="primary"), width="auto"),
            dbc.Col(dbc.Button("Cancel", id=ids.EXACT_CANCEL, color="danger", outline=True, disabled=True),
                    width="auto"),
            dbc.Col(dbc.Progress(id=ids.EXACT_PROGRESS, value=0, label="", style={"height": "24px"})),
        ], className="g-2 align-items-end my-2"),
        cost_source,
        html.Div(id=ids.EXACT_STATUS),
        html.Div(id=ids.EXACT_RESULTS, children=render(None)),
    ], className="mt-3")


def _params(params: dict) -> str:
    return ", ".join(f"{PARAM_LABELS.get(k, k)} = {v:g}" for k, v in params.items())


def _pct(gap: float | None) -> str:
    """A gap in percent; None (an optimum of 0, engine.exact.report's gap_note) has no ratio."""
    if gap is None:
        return "undefined (the optimum costs 0)"
    return f"{100 * (0.0 if abs(gap) < 1e-6 else gap):.2f} %"


def gap_rows(rep: dict) -> list[dict]:
    """One row per offered policy: name, best parameters, long-run cost per day and the true gap to the optimum —
    or, beyond the solver's reach, "not certified (lead time beyond reach)" in the gap column."""
    if not rep.get("certified", True):
        return [{"policy": policy_label({"name": n}), "params": "—", "cost": "—",
                 "gap": rep.get("status") or NOT_CERTIFIED} for n in NOT_EVALUATED]
    opt = rep["optimal_cost"]
    rows = [{"policy": "Optimal policy", "params": "state-dependent (see the picture)" if rep.get("policy_records")
             else "state-dependent", "cost": f"{opt:,.3f} per day", "gap": "0.00 %"}]
    listed = []
    if rep.get("base_stock"):
        listed.append({"name": "base-stock", "params": {"S": rep["base_stock"]["level"]},
                       "cost": rep["base_stock"]["cost"], "gap": base_stock_gap(rep)})
    listed += [r for r in rep["policies"] if r["name"] != "base-stock"]
    for r in listed:
        params = {k: v for k, v in r["params"].items() if k != "base"}
        rows.append({"policy": policy_label(r), "params": _params(params),
                     "cost": f"{r['cost']:,.3f} per day", "gap": _pct(r["gap"])})
    return rows


def _best_simple(rep: dict) -> dict | None:
    simple = [r for r in rep.get("policies", []) if not r.get("heuristic") and r["name"] != "constant-order"]
    return min(simple, key=lambda r: r["cost"]) if simple else None


def headline(rep: dict) -> str:
    """One plain sentence: the best possible cost, how close the best offered policies get, what base-stock
    loses — or why there is no certificate."""
    if not rep.get("certified", True) and rep.get("status", NOT_CERTIFIED) != NOT_CERTIFIED:
        why = rep.get("message") or rep["status"]   # unconverged, undercut, a fixed lead time only
        return f"{why[0].upper()}{why[1:]}."
    if not rep.get("certified", True):
        return (f"{NOT_CERTIFIED[0].upper()}{NOT_CERTIFIED[1:]}: lead time {rep['lead_time']} days is beyond the "
                f"exact solver for this demand; the largest lead time it solves is {rep['largest_lead_time']} days.")
    opt = rep["optimal_cost"]
    bs = rep["base_stock"]
    if rep["model"] == "backorders" and not rep.get("order_cost"):
        return (f"Best possible: {opt:,.3f} per day — with backorders base-stock is optimal: order up to "
                f"S = {bs['level']:g} units (exact).")
    lead = f"Best possible: {opt:,.3f} per day (exact, lead time {rep['lead_time']} days). "
    best = _best_simple(rep)
    look = next((r for r in rep["policies"] if r.get("heuristic")), None)
    parts = []
    if best is not None:
        parts.append(f"{policy_label(best)} ({_params(best['params'])}) is within {_pct(best['gap'])} of it")
    if look is not None:
        parts.append(f"the one-step lookahead on it (a heuristic) within {_pct(look['gap'])}")
    if bs:
        parts.append(f"base-stock (S = {bs['level']:g}) loses {_pct(base_stock_gap(rep))}")
    return lead + ("; ".join(parts) + "." if parts else "")


def certificate_line(rep: dict) -> str:
    """Whose certificate this is: the series (and file) and the lead time the gaps hold for."""
    who = rep["demand"].removeprefix("empirical:")
    src = f" of {rep['source']}" if rep.get("source") else ""
    kind = f"series {who}{src}" if rep["demand"].startswith("empirical:") else f"demand {who}"
    if not rep.get("certified", True):
        return (f"Certificate for {kind}, lead time {rep['lead_time']} days: {NOT_CERTIFIED} — the largest lead "
                f"time solved exactly is {rep['largest_lead_time']} days.")
    return (f"Certificate for {kind}, lead time {rep['lead_time']} days: each policy's gap below is to the exact "
            "optimum for this demand distribution and lead time.")


def render(rep: dict | None):
    if not rep:
        return html.Div("No exact solve yet: choose a demand distribution and press Solve exactly.",
                        className="text-muted", id="optx-empty")
    table = result_grid(ids.EXACT_TABLE, gap_rows(rep), plain_columns([
        ("policy", "Policy"), ("params", "Best parameters (units)"), ("cost", "Long-run cost (per day)"),
        ("gap", "Gap to the optimum")]))
    parts = [html.P(headline(rep), id=ids.EXACT_HEADLINE, className="fw-semibold"),
             html.Div(certificate_line(rep), id=ids.EXACT_CERTIFICATE, className="small mb-1")]
    if rep.get("certified", True):
        states = f"{rep['states']:,} states" + (f", bound B = {rep['bound']}" if rep.get("bound") else "")
        k = f", K = {rep['order_cost']:g} per order" if rep.get("order_cost") else ""
        parts.append(html.Div(
            f"Demand {rep['demand']} (mean {rep['demand_mean']:.2f}, variance {rep['demand_var']:.2f} "
            f"units/day), {rep['model']}, h = {rep['holding_cost']:g} per unit per day, "
            f"p = {rep['stockout_cost']:g} per unit short{k}; optimal cost {rep['optimal_cost']:,.4f} per day "
            f"({states}; solved in {rep['seconds']:.1f} s).", id=ids.EXACT_OPTIMAL, className="small text-muted mb-2"))
    parts.append(table)
    if rep.get("policy_records"):
        parts.append(dcc.Graph(id=ids.EXACT_GRAPH,
                               figure=optimal_order_figure(rep["policy_records"], rep["lead_time"])))
    elif rep["model"] == "lost sales" and rep.get("certified", True):
        parts.append(html.Div(f"The picture of the optimal policy is drawn for lead times up to {MAX_HEATMAP_LEAD}.",
                              className="small text-muted"))
    return html.Div(parts)


@callback(
    Output(ids.EXACT_UPLOADED, "data"),
    Output(ids.EXACT_UPLOAD_STATUS, "children"),
    Output(ids.EXACT_SERIES, "options"),
    Output(ids.EXACT_SERIES, "value"),
    Output(ids.EXACT_DIST, "value"),
    Input(ids.EXACT_UPLOAD, "contents"),
    State(ids.EXACT_UPLOAD, "filename"),
    prevent_initial_call=True,
)
def upload_series(contents, filename):
    """An uploaded demand file: its series become the empirical choices (counts per demand value only)."""
    from dashapp.ui.uploads import UploadRefused, decode_data_url, file_name

    name = file_name(filename)
    try:
        raw = decode_data_url(contents, name, settings.upload_max_bytes)
        up = uploaded_counts(raw, name, settings.upload_max_bytes)
    except (UploadRefused, DataError, ConfigError) as err:
        return no_update, html.Span(str(err), className="text-danger", id="optx-upload-error"), *(no_update,) * 3
    keys = list(up["series"])
    if not keys:
        return no_update, html.Span(f"{name}: no series with positive demand", className="text-danger",
                                    id="optx-upload-error"), *(no_update,) * 3
    return up, html.Span(f"{name}: {len(keys)} series", id="optx-upload-ok"), keys, keys[0], "empirical"


@callback(
    Output(ids.EXACT_REQUEST, "data"),
    Output(ids.EXACT_RESULT, "data", allow_duplicate=True),
    Output(ids.EXACT_STATUS, "children", allow_duplicate=True),
    Input(ids.EXACT_RUN, "n_clicks"),
    State(ids.EXACT_DIST, "value"), State(ids.EXACT_MEAN, "value"), State(ids.EXACT_VAR, "value"),
    State(ids.EXACT_SERIES, "value"), State(ids.EXACT_LEAD, "value"), State(ids.EXACT_H, "value"),
    State(ids.EXACT_P, "value"), State(ids.EXACT_SALES, "value"), State(ids.EXACT_K, "value"),
    State(ids.EXACT_UPLOADED, "data"),
    prevent_initial_call=True,
)
def prepare_exact(_n, *fields):
    try:
        req = request_from_fields(*fields[:-1], uploaded=fields[-1])
    except (ConfigError, DataError, ValueError, TypeError) as err:
        return no_update, no_update, error_alert(WORDS, err)
    try:
        cached = job_store().get_result(KIND, request_key(req))
    except Exception as err:
        return no_update, no_update, dbc.Alert(f"The job store is unavailable: {err}", color="warning")
    if cached is not None:
        return no_update, cached, dbc.Alert("Served from the result cache.", color="success", id="optx-cached")
    return {"request": req, "submitted": time.time()}, no_update, None


@background_job(WORDS)
def run_exact(set_progress, request):
    """The background job: the exact report of the request (checked again: it came through the browser)."""
    from dash.exceptions import PreventUpdate

    if not request:
        raise PreventUpdate
    try:
        got = request["request"]
        uploaded = {"name": got.get("source"), "series": {got["series"]: got["counts"]}} if got.get("counts") else None
        req = request_from_fields(*(got.get(k) for k in ("dist", "mean", "var", "series", "lead_time", "h", "p")),
                                  "backorders" if got.get("backorders") else "lost sales", got.get("order_cost", 0),
                                  uploaded=uploaded)
    except (ConfigError, DataError, ValueError, TypeError, KeyError, AttributeError) as err:
        return no_update, error_alert(WORDS, err)
    return run_and_cache(WORDS, request_key(req), set_progress, lambda progress: exact_record(req, progress))


@callback(Output(ids.EXACT_RESULTS, "children"), Input(ids.EXACT_RESULT, "data"), prevent_initial_call=True)
def show_exact(rep):
    return render(rep)
