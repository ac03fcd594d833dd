"""/scenarios: compare 2–8 scenarios on common random numbers, as a background job with progress and Cancel.

Flow: Run → `prepare` validates the table, puts the scenario set into the URL (shareable link) and either serves
the cached result (cache key = the set's hash) or hands the set to the background job `run_job` (Diskcache
processes by default, Celery workers with REDIS_URL — same code). The job reports progress to the page and a
heartbeat to the job store; a reloaded page finds that heartbeat and reattaches (polls until the result lands in
the cache). Callbacks stay thin: parse, call engine.studies.scenarios, render with dashapp.ui.scenario_figures.
"""
from __future__ import annotations

import time

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from dashapp.pages.scenarios.csv_export import scenario_csv
from dashapp.pages.scenarios.results import render_results
from dashapp.ui.job_pages import (
    JobWords,
    background_job,
    error_alert,
    job_stores,
    reattached_alert,
    register,
    run_and_cache,
    run_controls,
    running_status,
    submit,
)
from dashapp.ui.jobs import cancel_job, job_store
from dashapp.ui.scenario_table import scenario_grid, table_words, with_row_ids, without_rows
from engine.studies import scenarios as sc

dash.register_page(__name__, path="/scenarios", title="Scenarios", name="Scenarios")

KIND = "scenarios"
WORDS = JobWords(prefix="sc", kind=KIND, noun="run", button="Run")


def layout(set: str | None = None, **_query):  # noqa: A002 - the query parameter is called "set"
    """The page; `?set=TOKEN` (the shareable link) pre-fills the table and shows the cached result if any."""
    message = None
    rows = sc.default_table_rows()
    settings = {"replications": 100, "days": 365, "seed": 1, "baseline": 0}
    result = None
    reattach = None
    status = None
    search = None
    if set:
        try:
            sset = sc.decode_set(set)
            rows = sc.set_to_rows(sset)
            settings = {k: sset[k] for k in ("replications", "days", "seed", "baseline")}
            key = sc.result_key(sset)
            search = f"?set={set}"
            result = job_store().get_result(KIND, key)
            if result is None:
                status = running_status(KIND, key)
                if status:
                    reattach = key
                    message = reattached_alert(WORDS, status, "A run of this scenario set")
                else:
                    message = dbc.Alert("This link's scenario set has no stored result yet: press Run to "
                                        "compute it (same seed, same numbers).", color="secondary")
        except sc.ScenarioError as err:
            message = dbc.Alert(table_words(str(err)), color="danger")
        except Exception as err:  # the store is down: say so, keep the page usable
            message = dbc.Alert(f"The job store is unavailable ({type(err).__name__}); runs cannot start.",
                                color="warning")
    run_button, cancel_button, progress_bar = run_controls(WORDS, status if reattach else None)
    return html.Div([
        *job_stores(WORDS, reattach, search=search, result=result),  # search: "?set=TOKEN"
        html.H1("Scenario comparison", className="h3"),
        html.P("Every scenario runs on the same demand paths (common random numbers): differences are paired per "
               "replication, so their confidence intervals are far narrower than of separate runs. "
               "\"original\" is the replaced app's rule, kept for comparison: a heuristic (μ from past forecasts over "
               "L days, σ = spread of those forecasts) — the order-up-to rule is the textbook one.",
               className="text-muted small"),
        scenario_grid("sc-table", rows, deletable=True),
        dbc.Row([
            dbc.Col(dbc.Button("Add scenario", id="sc-add", size="sm", color="secondary", className="mt-2"),
                    width="auto"),
            dbc.Col(dbc.Button("Delete checked", id="sc-delete", size="sm", color="secondary", outline=True,
                               className="mt-2"), width="auto"),
            dbc.Col([dbc.Label("Replications", html_for="sc-replications", className="small mb-0"),
                     dbc.Input(id="sc-replications", type="number", step="any",
                               value=settings["replications"], size="sm")], xs=6, md=2),
            dbc.Col([dbc.Label("Days", html_for="sc-days", className="small mb-0"),
                     dbc.Input(id="sc-days", type="number", step="any",
                               value=settings["days"], size="sm")], xs=6, md=2),
            dbc.Col([dbc.Label("Seed", html_for="sc-seed", className="small mb-0"),
                     dbc.Input(id="sc-seed", type="number", step="any", value=settings["seed"], size="sm")],
                    xs=6, md=2),
            dbc.Col([dbc.Label("Baseline", html_for="sc-baseline", className="small mb-0"),
                     dcc.Dropdown(id="sc-baseline", clearable=False, value=settings["baseline"],
                                  options=[{"label": r.get("name", f"#{i + 1}"), "value": i}
                                           for i, r in enumerate(rows)])], xs=6, md=2),
        ], className="g-2 align-items-end my-2"),
        dbc.Row([dbc.Col(run_button, width="auto"), dbc.Col(cancel_button, width="auto"),
                 dbc.Col(progress_bar, className="pt-1")], className="g-2 align-items-center mb-2"),
        html.Div(message, id="sc-status"),
        html.Div([html.Span("Shareable link: ", className="small"),
                  dcc.Link("", href="", id="sc-share-link", className="small text-break")]),
        html.Hr(),
        html.Div(id="sc-results", children=render_results(result)),
    ])


@callback(Output("sc-table", "rowData"), Input("sc-add", "n_clicks"), State("sc-table", "rowData"),
          prevent_initial_call=True)
def add_row(_n, rows):
    rows = list(rows or [])
    if len(rows) >= sc.MAX_SCENARIOS:
        return no_update
    new = dict(rows[-1]) if rows else sc.default_table_rows()[0]
    new["name"] = f"Scenario {len(rows) + 1}"
    return with_row_ids(rows + [new])  # the copy of the last row gets a key of its own


@callback(Output("sc-table", "rowData", allow_duplicate=True), Input("sc-delete", "n_clicks"),
          State("sc-table", "rowData"), State("sc-table", "selectedRows"), prevent_initial_call=True)
def delete_rows(_n, rows, selected):
    """The checked rows removed (none checked: nothing changes)."""
    return without_rows(rows, selected) if selected else no_update


@callback(Output("sc-baseline", "options"), Input("sc-table", "rowData"), Input("sc-table", "cellValueChanged"))
def baseline_options(rows, _edit):
    """The baseline choices follow the table: rows set by a callback (added, deleted) and names edited in place
    (rowData is the grid's state, updated by its edits; the edit event is what triggers)."""
    return [{"label": str((r or {}).get("name") or f"#{i + 1}"), "value": i} for i, r in enumerate(rows or [])]


@callback(
    Output("sc-request", "data"),
    Output("sc-result", "data", allow_duplicate=True),
    Output("sc-status", "children", allow_duplicate=True),
    Output("sc-search", "data"),
    Input("sc-run", "n_clicks"),
    State("sc-table", "rowData"), State("sc-replications", "value"), State("sc-days", "value"),
    State("sc-seed", "value"), State("sc-baseline", "value"),
    prevent_initial_call=True,
)
def prepare(_n, rows, replications, days, seed, baseline):
    """Validate; serve a cached result at once; otherwise hand the set to the background job."""
    try:
        if len(rows or []) < 2:
            raise sc.ScenarioError("a comparison needs at least two scenarios: add one with 'Add scenario'")
        sset = sc.rows_to_set(rows, replications=replications, days=days, seed=seed, baseline=baseline or 0)
        sc.check_set(sset)
    except (sc.ScenarioError, ValueError) as err:
        return no_update, no_update, error_alert(WORDS, table_words(str(err))), no_update
    key = sc.result_key(sset)
    search = f"?set={sc.encode_set(sset)}"
    try:
        cached = job_store().get_result(KIND, key)
    except Exception as err:
        return no_update, no_update, dbc.Alert(f"The job store is unavailable: {err}", color="warning"), search
    if cached is not None:
        return no_update, cached, dbc.Alert("Served from the result cache (same scenario set, same seed).",
                                            color="success", id="sc-cached"), search
    submit(WORDS, key)
    return {"set": sset, "key": key, "submitted": time.time()}, no_update, None, search


def step_label(n_scenarios: int):
    """The progress words of a comparison: its steps are blocks of replications × scenarios."""
    def label(done: int, total: int) -> str:
        blocks = max(1, total // max(n_scenarios, 1))
        if blocks == 1:
            return f"{done} of {n_scenarios} scenarios"
        return f"{done} of {total} steps ({n_scenarios} scenarios × {blocks} blocks of replications)"
    return label


@background_job(WORDS)
def run_job(set_progress, request):
    """The background job: runs the comparison, reports progress and a heartbeat, caches the result by hash."""
    if not request:
        raise dash.exceptions.PreventUpdate
    try:
        sset, key = sc.revalidate(request)  # the request came through the browser: check it again
    except (sc.ScenarioError, ValueError, TypeError) as err:
        return no_update, error_alert(WORDS, table_words(str(err)))
    return run_and_cache(WORDS, key, set_progress,
                         lambda progress: sc.to_record(sc.compare(sset, progress=progress)),
                         label=step_label(len(sset["scenarios"])))


@callback(Output("sc-status", "children", allow_duplicate=True), Input("sc-cancel", "n_clicks"),
          State("sc-request", "data"), prevent_initial_call=True)
def cancelled(_n, request):
    try:
        cancel_job(KIND, sc.revalidate(request)[1])  # besides Dash's cancel, which needs the page's job id
    except Exception:  # nothing valid to clear (or the store is down): the job itself is stopped by Dash
        pass
    return dbc.Alert("Run cancelled.", color="warning", id="sc-cancelled")


register(WORDS)  # the reattach poll and the address-bar write (dashapp/ui/job_pages.py)


@callback(Output("sc-results", "children"), Input("sc-result", "data"), prevent_initial_call=True)
def show(result):
    return render_results(result)


@callback(Output("sc-share-link", "children"), Output("sc-share-link", "href"), Input("sc-search", "data"))
def share_link(search):
    if not search:
        return "", ""
    return f"/scenarios{search}", f"/scenarios{search}"


@callback(Output("sc-download", "data"), Input("sc-download-btn", "n_clicks"), State("sc-result", "data"),
          prevent_initial_call=True)
def download(_n, result):
    if not result:
        return no_update
    return dcc.send_string(scenario_csv(result), "scenario_comparison.csv")
