"""/portfolio: a planner's daily file → the mapping step → one recommendation per series, as a background job.

Flow: upload → dashapp.pages.portfolio.service keeps the file (by hash) and shows what engine.data.layout detected, each
role a dropdown the user can change, plus "missing dates are zero demand" → Run reads the file with that mapping
(a layout error shows engine.data.layout's message; nothing else on the page or in the session changes), makes the
file this session's uploaded data on the simulator page, and serves the cached result for the same file, mapping
and settings or starts the background job (Diskcache by default; with REDIS_URL a Celery task that spreads chunks
of series over the workers, dashapp.platform.portfolio_workers) → totals cards and the grid
(dashapp.pages.portfolio.view). The
run's key goes into the address bar (?run=KEY): a reload finds the running job or its result again.
"""
from __future__ import annotations

import os
import time

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from dashapp import ids
from dashapp.pages.portfolio import history_check as H
from dashapp.pages.portfolio import service as P
from dashapp.pages.portfolio.history_view import check_controls, check_view
from dashapp.pages.portfolio.view import NONE, choices_from_values, results_view
from dashapp.platform.config import settings
from dashapp.platform.portfolio_workers import register as register_chunk_task
from dashapp.platform.portfolio_workers import revoke_all, run_on_workers
from dashapp.platform.session_ids import new_session_id, valid_session_id
from dashapp.platform.store import get_store, make_kv
from dashapp.ui.components import upload_status
from dashapp.ui.job_pages import (
    JobWords,
    background_job,
    error_alert,
    job_stores,
    register,
    run_and_cache,
    running_status,
    submit,
)
from dashapp.ui.jobs import cancel_job, celery_app, job_store
from dashapp.ui.validation import TARGET_LABEL, WEEKDAYS
from engine.data.layout import REQUIRED_ROLES, ROLES
from engine.demand.modes import MAX_LEAD_TIME
from engine.studies.portfolio import DAYS_RANGE, REPLICATIONS_RANGE

dash.register_page(__name__, path="/portfolio", title="Portfolio · Inventory Simulator", name="Portfolio")

WORDS = JobWords(prefix=ids.PF_PREFIX, kind=P.KIND, noun="portfolio run", button="Run", unit=" series")
CHECK_WORDS = JobWords(prefix=ids.PFBT_PREFIX, kind=H.KIND, noun="check against history",
                       button="Check against history", unit=" origins")
ROLE_IDS = [ids.PF_ROLE_PREFIX + r for r in ROLES]
RULE_KEYS = ("moq", "pack_size", "order_cost", "order_days")  # P.supplier_rules_from_form's arguments
RULE_IDS = [ids.PF_MOQ, ids.PF_PACK_SIZE, ids.PF_ORDER_COST, ids.PF_ORDER_DAYS]
register_chunk_task(celery_app)  # the Celery worker imports this page: it then knows the chunk task

_files = None


def files():
    """The uploaded files of this process (Redis with REDIS_URL, else a diskcache directory), opened lazily."""
    global _files
    if _files is None:
        _files = make_kv(settings.redis_url, os.path.join(settings.jobs_dir, "portfolio-files"),
                         settings.job_result_ttl, prefix="pf:")
    return _files


def _mapping_step():
    """The role dropdowns (filled after an upload) and the "missing = zero" switch; hidden until a file."""
    rows = [dbc.Col([dbc.Label(P.ROLE_LABELS[r] + (" *" if r in REQUIRED_ROLES else ""), className="small mb-0",
                               html_for=ids.PF_ROLE_PREFIX + r),
                     dcc.Dropdown(id=ids.PF_ROLE_PREFIX + r, options=[], value=NONE, clearable=False,
                                  className="dropdown-sm")], md=3, sm=6, className="mb-2") for r in ROLES]
    return html.Div([
        html.H2("Columns", id="pf-mapping-title", className="h5"),
        html.P("What each column of the file means, as detected from its header; change any role. * required.",
               className="text-muted small"),
        dbc.Row(rows, className="g-2"),
        dbc.Switch(id=ids.PF_FILL_ZERO, value=False, className="small",
                   label="Treat missing dates inside a series as zero-demand days"),
        html.Div(id="pf-file-check"),
    ], id=ids.PF_MAPPING, style={"display": "none"})


def _settings_row():
    def field(label, control, width=2):
        return dbc.Col([dbc.Label(label, className="small mb-0", html_for=control.id), control], md=width)

    return dbc.Row([
        # No HTML min/max/step on these fields: the browser would send a value outside them as blank, and the
        # planner would read "a value is required" for what was typed; the server names the range instead.
        field(f"Lead time (0–{MAX_LEAD_TIME} days; blank: the file's)",
              dbc.Input(id=ids.PF_LEAD_TIME, type="number", step="any", size="sm", placeholder="from file / 7")),
        field("Replications ({}–{})".format(*REPLICATIONS_RANGE),
              dbc.Input(id=ids.PF_REPLICATIONS, type="number", step="any", value=20, size="sm")),
        field("Days per replication ({}–{})".format(*DAYS_RANGE),
              dbc.Input(id=ids.PF_DAYS, type="number", step="any", value=90, size="sm")),
        field("Objective", dcc.Dropdown(id=ids.PF_OBJECTIVE, clearable=False, value="cost", options=[
            {"label": "Least expected cost", "value": "cost"},
            {"label": "Least stock reaching the fill-rate target (says what it costs more)", "value": "fill-rate"}],
            className="dropdown-sm"), width=3),
        field(TARGET_LABEL, dbc.Input(id=ids.PF_TARGET, type="number", step="any", value=0.95, size="sm")),
    ], className="g-2 align-items-end my-2")


def _supplier_row():
    """The supplier's rules every simulated order follows (engine.policies.order_rules): the same four fields as
    the simulator page's "Supplier rules", applied to every series of the file. No HTML min/step: a browser would
    hand an empty value for a number outside them, and the server names what is wrong instead."""
    def field(label, control, width=2):
        return dbc.Col([dbc.Label(label, className="small mb-0", html_for=control.id), control], md=width)

    return dbc.Row([
        field("Minimum order quantity (blank: none)", dbc.Input(id=ids.PF_MOQ, type="number", step="any", size="sm",
                                                                placeholder="none")),
        field("Pack size (blank: any quantity)", dbc.Input(id=ids.PF_PACK_SIZE, type="number", step="any", size="sm",
                                                           placeholder="any")),
        field("Fixed cost per order K (blank: 0)", dbc.Input(id=ids.PF_ORDER_COST, type="number", step="any", size="sm",
                                                             placeholder="0")),
        dbc.Col(html.Fieldset([
            html.Legend("Order days (none or all: every day)", className="small mb-0"),
            dbc.Checklist(id=ids.PF_ORDER_DAYS, inline=True, className="small", value=[],
                          options=[{"label": d.capitalize(), "value": d} for d in WEEKDAYS])]), md=4),
    ], className="g-2 align-items-end mb-2")


def layout(run: str | None = None, **_query):
    """The page; `?run=KEY` (written after Run) shows that run's cached result or reattaches to it."""
    result, reattach, message, search = None, None, None, None
    if run is not None:
        if not P.valid_key(run):
            message = dbc.Alert("This link names no portfolio run.", color="warning")
        else:
            search = f"?run={run}"
            try:
                result = job_store().get_result(P.KIND, run)
                if result is None:
                    status = running_status(P.KIND, run)
                    if status:
                        reattach = run
                        message = dbc.Alert(f"A portfolio run is in progress ({status['done']}/{status['total']} "
                                            "series) — reattached: the results appear here when it finishes.",
                                            color="info", id="pf-reattach-msg")
                    else:
                        message = dbc.Alert("This run has no stored result (expired or cancelled): upload the "
                                            "file and press Run.", color="secondary")
            except Exception as err:  # noqa: BLE001 - the job store is down: say so, keep the page usable
                message = dbc.Alert(f"The job store is unavailable ({type(err).__name__}).", color="warning")
    return html.Div([
        *job_stores(WORDS, reattach, search=search, result=result),  # search: "?run=KEY"
        dcc.Store(id=ids.PF_FILE),
        dcc.Download(id=ids.PF_DOWNLOAD),
        html.H1("Portfolio", className="h3"),
        html.P("Upload a daily sales file in long format (one row per day and item, or item × location): every "
               "series gets its demand class, the forecaster its backtest prefers, an order-up-to level, and the "
               "expected cost (95 % CI), fill rate and cycle service level that level gives in simulation. "
               "The file also becomes this session's uploaded data on the Simulator page.",
               className="text-muted small"),
        dcc.Upload(html.Div(["Drop a daily CSV here or ", html.A("choose a file")]), id=ids.PF_UPLOAD,
                   className="upload-box", max_size=settings.upload_max_bytes, multiple=False,
                   accept=".csv,text/csv,text/plain"),
        upload_status(ids.PF_UPLOAD_STATUS, ids.PF_UPLOAD, "small mt-1 mb-2"),
        _mapping_step(),
        _settings_row(),
        _supplier_row(),
        dbc.Row([
            dbc.Col(dbc.Button("Run", id=ids.PF_RUN, color="primary"), width="auto"),
            dbc.Col(dbc.Button("Cancel", id=ids.PF_CANCEL, color="danger", outline=True, disabled=True),
                    width="auto"),
            dbc.Col(dbc.Progress(id=ids.PF_PROGRESS, value=0, label="", style={"height": "24px"}), className="pt-1"),
        ], className="g-2 align-items-center mb-2"),
        html.Div(message, id=ids.PF_STATUS),
        html.Hr(),
        html.Div(results_view(result), id=ids.PF_RESULTS),
        html.Hr(),
        *job_stores(CHECK_WORDS, None),
        check_controls(),
        html.Div(id=ids.PFBT_RESULTS),
    ])


def _check_alert(inspection: dict):
    if inspection.get("problem"):
        return dbc.Alert(inspection["problem"], color="danger", className="py-2 mb-2", id=ids.PF_FILE_PROBLEM)
    return dbc.Alert(f"{inspection['name']}: {inspection['summary']} Check the columns and press Run.",
                     color="success", className="py-2 mb-2", id=ids.PF_FILE_OK)


@callback(
    Output(ids.PF_UPLOAD_STATUS, "children"), Output(ids.PF_FILE, "data"), Output(ids.PF_MAPPING, "style"),
    Output("pf-file-check", "children"),
    *[Output(rid, "options") for rid in ROLE_IDS], *[Output(rid, "value") for rid in ROLE_IDS],
    Input(ids.PF_UPLOAD, "contents"), State(ids.PF_UPLOAD, "filename"),
    prevent_initial_call=True,
)
def upload(contents, filename):
    """Keep the file and show the detected mapping; a refused file changes nothing but the status line."""
    unchanged = [no_update] * (3 + 2 * len(ROLES))
    try:
        insp = P.inspect_upload(files(), contents, filename, settings.upload_max_bytes)
    except P.PortfolioInputError as err:
        return dbc.Alert(str(err), color="danger", className="py-2 mb-2", id="pf-upload-error"), *unchanged
    options = [{"label": "— not in this file —", "value": NONE}] + [{"label": h, "value": h} for h in insp.header]
    values = [insp.mapping[r] or NONE for r in ROLES]
    return (f"{insp.name} received.", insp.to_dict(), {"display": "block"}, _check_alert(insp.to_dict()),
            *[options] * len(ROLES), *values)


@callback(
    Output(ids.PF_REQUEST, "data"),
    Output(ids.PF_RESULT, "data", allow_duplicate=True),
    Output(ids.PF_STATUS, "children", allow_duplicate=True),
    Output(ids.PF_SEARCH, "data"),
    Output(ids.SESSION_ID, "data", allow_duplicate=True),
    Output("pf-reattach-poll", "disabled", allow_duplicate=True),
    Input(ids.PF_RUN, "n_clicks"),
    State(ids.PF_FILE, "data"), *[State(rid, "value") for rid in ROLE_IDS], State(ids.PF_FILL_ZERO, "value"),
    State(ids.PF_LEAD_TIME, "value"), State(ids.PF_REPLICATIONS, "value"), State(ids.PF_DAYS, "value"),
    State(ids.PF_OBJECTIVE, "value"), State(ids.PF_TARGET, "value"), State(ids.SESSION_ID, "data"),
    *[State(rid, "value") for rid in RULE_IDS],
    prevent_initial_call=True,
)
def prepare(_n, file, *rest):
    """Read the file with the chosen mapping; serve a cached result at once or hand the run to the job."""
    if not _n:  # the page's insertion can fire it (the session-id output lives in the app shell): not a click
        raise dash.exceptions.PreventUpdate
    roles, (fill, lead, reps, days, objective, target, sid, *rules) = rest[:len(ROLES)], rest[len(ROLES):]
    try:
        if not isinstance(file, dict) or not file.get("file_id"):   # none yet, or a forged store value
            raise P.PortfolioInputError("upload a daily CSV first")
        s = P.settings_from_form(lead, reps, days, objective, target, **dict(zip(RULE_KEYS, rules)))
        ds = P.read_dataset(files(), file.get("file_id"), choices_from_values(roles), fill)
    except P.PortfolioInputError as err:
        return no_update, no_update, error_alert(WORDS, err), no_update, no_update, no_update
    key = P.result_key(file["file_id"], ds.layout, bool(fill), s)
    new_sid = no_update
    if not valid_session_id(sid):
        sid = new_sid = new_session_id()
    try:
        P.share_with_simulator(get_store(), sid, ds)
        cached = job_store().get_result(P.KIND, key)
    except Exception as err:  # noqa: BLE001 - the store is down: say so
        return no_update, no_update, dbc.Alert(f"The store is unavailable: {err}", color="warning"), no_update, \
            new_sid, no_update
    # this page now follows the new run: a run it had reattached to after a reload no longer writes its status
    if cached is not None:
        return no_update, cached, dbc.Alert("Served from the result cache (same file, columns and settings).",
                                            color="success", id="pf-cached"), f"?run={key}", new_sid, True
    try:
        submit(WORDS, key)  # a reload before the job starts finds it; an earlier cancel of this key is forgotten
    except Exception as err:  # noqa: BLE001 - the store is down: say so
        return no_update, no_update, dbc.Alert(f"The store is unavailable: {err}", color="warning"), no_update, \
            new_sid, no_update
    request = {"file_id": file["file_id"], "roles": choices_from_values(roles), "fill": bool(fill),
               "settings": s.to_dict(), "key": key, "submitted": time.time()}
    return request, no_update, None, f"?run={key}", new_sid, True


def _runner(key: str):
    """The Celery chunk dispatcher for this run (None without REDIS_URL: the run stays in the job's process).
    It stops on the key's cancel request (an earlier run's request was forgotten when Run was pressed)."""
    if celery_app is None:
        return None, "this server (one process)"

    def cancelled() -> bool:
        return job_store().cancel_requested(P.KIND, key)

    def run(series, s, progress):
        return run_on_workers(celery_app, series, s, progress, chunk=P.chunk_size(s), cancelled=cancelled,
                              submitted=lambda task_ids: job_store().put_note(P.KIND, key, "tasks",
                                                                              {"ids": task_ids}))
    return run, "the Celery workers"


@background_job(WORDS)
def run_job(set_progress, request):
    """The background job: the records of every series, with progress and a heartbeat, cached by key."""
    if not request:
        raise dash.exceptions.PreventUpdate
    try:
        s = P.settings_from_dict(request.get("settings") or {})
        ds = P.read_dataset(files(), request.get("file_id"), request.get("roles") or {}, request.get("fill"))
        key = P.result_key(request["file_id"], ds.layout, bool(request.get("fill")), s)
    except (P.PortfolioInputError, KeyError, TypeError) as err:  # the request came through the browser
        return no_update, error_alert(WORDS, err)
    runner, where = _runner(key)
    return run_and_cache(WORDS, key, set_progress,
                         lambda progress: P.compute(ds, s, key, progress, runner=runner, where=where))


@callback(Output(ids.PF_STATUS, "children", allow_duplicate=True), Input(ids.PF_CANCEL, "n_clicks"),
          State(ids.PF_REQUEST, "data"), prevent_initial_call=True)
def cancelled(_n, request):
    """Dash stops the job; the chunks it queued on Celery workers are revoked here."""
    if not _n:
        raise dash.exceptions.PreventUpdate
    key = (request or {}).get("key")
    if P.valid_key(key):
        try:
            cancel_job(P.KIND, key)
            tasks = job_store().get_note(P.KIND, key, "tasks")
            if tasks and celery_app is not None:
                revoke_all(celery_app, tasks.get("ids") or [])
        except Exception:  # noqa: BLE001 - the store is down: the job itself is stopped by Dash
            pass
    return dbc.Alert("Portfolio run cancelled.", color="warning", id="pf-cancelled")


register(WORDS)  # the reattach poll and the address-bar write (dashapp/ui/job_pages.py)


@callback(Output(ids.PF_RESULTS, "children"), Input(ids.PF_RESULT, "data"), prevent_initial_call=True)
def show(result):
    return results_view(result)


@callback(
    Output(ids.PFBT_REQUEST, "data"),
    Output(ids.PFBT_RESULT, "data", allow_duplicate=True),
    Output(ids.PFBT_STATUS, "children", allow_duplicate=True),
    Input(ids.PFBT_RUN, "n_clicks"),
    State(ids.PF_FILE, "data"), *[State(rid, "value") for rid in ROLE_IDS], State(ids.PF_FILL_ZERO, "value"),
    State(ids.PF_LEAD_TIME, "value"), State(ids.PF_REPLICATIONS, "value"), State(ids.PF_DAYS, "value"),
    State(ids.PF_OBJECTIVE, "value"), State(ids.PF_TARGET, "value"), State(ids.PFBT_ORIGINS, "value"),
    State(ids.PFBT_LEVELS, "value"), *[State(rid, "value") for rid in RULE_IDS],
    prevent_initial_call=True,
)
def prepare_check(_n, file, *rest):
    """Check against history: the file and settings of the form (the supplier's rules included); a cached result
    at once, else the job."""
    if not _n:
        raise dash.exceptions.PreventUpdate
    roles, (fill, lead, reps, days, objective, target, origins, levels, *rules) = rest[:len(ROLES)], rest[len(ROLES):]
    try:
        if not isinstance(file, dict) or not file.get("file_id"):   # none yet, or a forged store value
            raise P.PortfolioInputError("upload a daily CSV first")
        s = H.check_settings(P.settings_from_form(lead, reps, days, objective, target,
                                                  **dict(zip(RULE_KEYS, rules))), origins, levels)
        ds = P.read_dataset(files(), file.get("file_id"), choices_from_values(roles), fill)
    except (P.PortfolioInputError, H.CheckInputError) as err:
        return no_update, no_update, error_alert(CHECK_WORDS, err)
    key = H.check_key(file["file_id"], ds.layout.used(), bool(fill), s)
    try:
        cached = job_store().get_result(H.KIND, key)
        if cached is not None:
            return no_update, cached, dbc.Alert("Served from the result cache (same file, columns and settings).",
                                                color="success", id="pfbt-cached")
        submit(CHECK_WORDS, key)
    except Exception as err:  # noqa: BLE001 - the store is down: say so
        return no_update, no_update, dbc.Alert(f"The store is unavailable: {err}", color="warning")
    return ({"file_id": file["file_id"], "roles": choices_from_values(roles), "fill": bool(fill),
             "settings": s.to_dict(), "key": key}, no_update, None)


@background_job(CHECK_WORDS)
def run_check(set_progress, request):
    """The background job of Check against history, cached by key."""
    if not request:
        raise dash.exceptions.PreventUpdate
    try:
        s = H.check_settings_from_dict(request.get("settings") or {})
        ds = P.read_dataset(files(), request.get("file_id"), request.get("roles") or {}, request.get("fill"))
        key = H.check_key(request["file_id"], ds.layout.used(), bool(request.get("fill")), s)
    except (P.PortfolioInputError, H.CheckInputError, KeyError, TypeError) as err:
        return no_update, error_alert(CHECK_WORDS, err)
    return run_and_cache(CHECK_WORDS, key, set_progress, lambda progress: H.compute_check(ds, s, key, progress),
                         label=lambda done, total: f"{done}/{total} origins")


@callback(Output(ids.PFBT_STATUS, "children", allow_duplicate=True), Input(ids.PFBT_CANCEL, "n_clicks"),
          State(ids.PFBT_REQUEST, "data"), prevent_initial_call=True)
def check_cancelled(_n, request):
    if not _n:
        raise dash.exceptions.PreventUpdate
    key = (request or {}).get("key")
    if P.valid_key(key):
        try:
            cancel_job(H.KIND, key)
        except Exception:  # noqa: BLE001 - the store is down: the job itself is stopped by Dash
            pass
    return dbc.Alert("Check against history cancelled.", color="warning", id="pfbt-cancelled")


register(CHECK_WORDS)


@callback(Output(ids.PFBT_RESULTS, "children"), Input(ids.PFBT_RESULT, "data"), prevent_initial_call=True)
def show_check(result):
    return check_view(result)


@callback(Output(ids.PF_DOWNLOAD, "data"), Input(ids.PF_DOWNLOAD_BTN, "n_clicks"), State(ids.PF_RESULT, "data"),
          prevent_initial_call=True)
def download(_n, result):
    if not result:
        return no_update
    return dcc.send_string(P.export_csv(result), "portfolio_recommendations.csv")
