"""/orders: today's purchase-order proposals — the sales file (or the bundled sample), today's stock file and an
optional item file → one order line per series with its reason and the assumptions behind it
(engine.studies.orders via dashapp.pages.orders.service) → quantities editable in the grid, kept in the session's
store entry (a reload shows the edited grid again) → a CSV for an ERP.

Propose runs as a Dash background callback (the app's job manager: a Diskcache process, or a Celery worker with
REDIS_URL), with its progress and a Cancel button: a run of hundreds of series, or the fill-rate objective's
correction over the whole sales file, takes minutes and must not hold a web request past its timeout. The job
keeps its status in the job store under the session id (dashapp.ui.job_pages.Heartbeat): a page reloaded during the
run says so and shows the lines when they land.
"""
from __future__ import annotations

import time

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from dashapp import ids
from dashapp.pages.orders import service as O
from dashapp.platform.config import settings
from dashapp.platform.session_ids import new_session_id, valid_session_id
from dashapp.platform.store import StoreUnavailable, get_store
from dashapp.ui.components import upload_status
from dashapp.ui.job_pages import Heartbeat, running_status
from dashapp.ui.jobs import cancel_job, job_store
from dashapp.ui.levels import OWN_LEVELS, level_options
from dashapp.ui.uploads import file_name
from dashapp.ui.validation import OBJECTIVE_OPTIONS, TARGET_LABEL

dash.register_page(__name__, path="/orders", title="Orders · Inventory Simulator", name="Orders")


def _upload(upload_id, status_id, label, help_text):
    return dbc.Col([
        html.Div(label, className="small fw-semibold mb-1", id=f"{upload_id}-label"),
        dcc.Upload(html.Div(["Drop a CSV here or ", html.A("choose a file")]), id=upload_id,
                   className="upload-box", max_size=settings.upload_max_bytes, multiple=False,
                   accept=".csv,text/csv,text/plain"),
        html.Div(help_text, className="text-muted small"),
        upload_status(status_id, upload_id),
    ], md=4, className="mb-2")


def layout(**_query):
    return html.Div([
        dcc.Store(id=ids.OR_LOADED, data=0), dcc.Store(id=ids.OR_REQUEST), dcc.Store(id=ids.OR_FOLLOW),
        dcc.Interval(id=ids.OR_POLL, interval=1000, disabled=True),
        dcc.Download(id=ids.OR_DOWNLOAD),
        html.H1("Today's orders", className="h3"),
        html.P("Per series: the recommendation (the same one /portfolio and the simulator give) on the sales before "
               "the order date, netted against today's stock on hand and on order, rounded up to whole packs and "
               "raised to the MOQ, placed only on the item's order days — or, under “Levels from”, up to a global "
               "model's quantile of the demand over the protection period, chosen for the objective on days the "
               "model never trained on, replayed under each item's order days, packs, MOQ and order cost. Each line "
               "says why, with its numbers; "
               "costs and terms no file gave are listed as assumptions. Edit a quantity in the grid (kept for this "
               "session) and download the order lines for your ERP.", className="text-muted small"),
        dbc.Row([
            _upload(ids.OR_SALES_UPLOAD, ids.OR_SALES_STATUS, "Sales file (optional)",
                    "daily sales in long format; without one the bundled sample is used"),
            _upload(ids.OR_STOCK_UPLOAD, ids.OR_STOCK_STATUS, "Stock file *",
                    "item, location, on_hand, on_order, due_date"),
            _upload(ids.OR_ITEMS_UPLOAD, ids.OR_ITEMS_STATUS, "Item file (optional)",
                    "item, location and any of unit_cost, unit_price, holding_rate, currency, moq, pack_size, "
                    "order_cost, order_days (e.g. mon;thu), lead_time"),
        ], className="g-3"),
        dbc.Row([
            dbc.Col([dbc.Label("Order date", html_for=ids.OR_DATE, className="small mb-0"),
                     dbc.Input(id=ids.OR_DATE, type="date", size="sm",
                               value=O.default_date(None, None, settings.upload_max_bytes))], md=2),
            dbc.Col([dbc.Label("Objective", html_for=ids.OR_OBJECTIVE, className="small mb-0"),
                     dbc.Select(id=ids.OR_OBJECTIVE, options=OBJECTIVE_OPTIONS, value="cost", size="sm")], md=3),
            # no HTML min/max/step: a browser would send 95 (a percentage) as blank; the server names the range
            dbc.Col([dbc.Label(TARGET_LABEL, html_for=ids.OR_TARGET, className="small mb-0"),
                     dbc.Input(id=ids.OR_TARGET, type="number", step="any", value=0.95, size="sm")], md=2),
            dbc.Col([dbc.Label("Levels from", html_for=ids.OR_LEVELS, className="small mb-0"),
                     dbc.Select(id=ids.OR_LEVELS, options=level_options(), value=OWN_LEVELS, size="sm")],
                    md=2),
            dbc.Col(dbc.Button("Propose orders", id=ids.OR_RUN, color="primary"), width="auto"),
            dbc.Col(dbc.Button("Cancel", id=ids.OR_CANCEL, color="danger", outline=True, disabled=True),
                    width="auto"),
            dbc.Col(html.Div(id=ids.OR_PROGRESS, className="small text-muted", role="status"), width="auto"),
        ], className="g-2 align-items-end my-2"),
        dcc.Loading(html.Div(id=ids.OR_STATUS, role="status"), type="dot"),
        html.Div(id=ids.OR_SUMMARY, className="small"),
        html.Div(id=ids.OR_ASSUMPTIONS),
        dbc.Row([
            dbc.Col(html.Div(id=ids.OR_EDIT_STATUS, className="small text-muted", role="status")),
            dbc.Col(dbc.Button("Download order lines (CSV)", id=ids.OR_DOWNLOAD_BTN, size="sm", color="primary",
                               outline=True), width="auto"),
        ], className="align-items-end mb-1"),
        dag.AgGrid(id=ids.OR_GRID, rowData=[], columnDefs=column_defs(),
                   getRowId="params.data.series",
                   defaultColDef={"sortable": True, "filter": True, "resizable": True, "minWidth": 100},
                   dashGridOptions={"animateRows": False, "singleClickEdit": True,
                                    "stopEditingWhenCellsLoseFocus": True},
                   columnSize="autoSize", style={"height": "480px", "width": "100%"}),
    ])


def _num(fmt: str) -> dict:
    return {"function": f"params.value == null ? '–' : d3.format('{fmt}')(params.value)"}


def column_defs() -> list[dict]:
    num = {"filter": "agNumberColumnFilter", "type": "rightAligned"}
    return [
        {"headerName": "Series", "field": "series", "pinned": "left", "minWidth": 140},
        {"headerName": "Order qty (edit)", "field": "order_qty", "editable": True,
         "cellEditor": "agNumberCellEditor", "cellEditorParams": {"min": 0, "precision": 0},
         "cellClassRules": {"fw-bold": "params.data.edited"}, **num},
        {"headerName": "Proposed", "field": "proposed_qty", **num},
        {"headerName": "Packs", "field": "packs", **num},
        {"headerName": "Arrival", "field": "arrival_date"},
        {"headerName": "Why", "field": "reason", "minWidth": 460, "wrapText": True, "autoHeight": True},
        {"headerName": "Assumptions", "field": "assumptions", "minWidth": 280, "wrapText": True, "autoHeight": True},
        {"headerName": "Pack size", "field": "pack_size", **num},
        {"headerName": "MOQ", "field": "moq", **num},
        {"headerName": "Next order day", "field": "next_order_day"},
        {"headerName": "Position", "field": "position", "valueFormatter": _num(",.0f"), **num},
        {"headerName": "Level (S or r)", "field": "level", "valueFormatter": _num(",.1f"), **num},
        {"headerName": "Value", "field": "value", "valueFormatter": _num(",.2f"), **num},
        {"headerName": "Fill rate (promised)", "field": "fill_rate", "valueFormatter": _num(".1%"),
         "headerTooltip": "the policy's fill rate on the recommendation's resampled paths, as on /portfolio; with "
                          "levels from a global model, on the real days it never trained on", **num},
        {"headerName": "Expected cost (promised)", "field": "expected_cost", "valueFormatter": _num(",.2f"),
         "headerTooltip": "holding + lost sales (+ K per order) over the paths' days (Cost days), as on /portfolio; "
                          "with levels from a global model, over each real window of Cost days", **num},
        {"headerName": "Cost days", "field": "cost_days", **num},
        {"headerName": "Currency", "field": "currency"},
    ]


def _summary(result: dict | None):
    if not result:
        return None
    t, f = result["totals"], result["files"]
    skipped = f" Not in the stock file (no line): {', '.join(s['series'] for s in result['skipped'])}." \
        if result["skipped"] else ""
    items = f["items"] or "none (defaults)"
    goal = O.objective_words(result.get("settings") or {})
    return html.P(f"{result['weekday']} {result['date']}: {O.line_count(t['lines'])}, {t['units']:,} units "
                  f"{O.value_words(result)} at unit cost as proposed, chosen for {goal}. Sales: {f['sales']}; "
                  f"stock: {f['stock']}; items: {items}.{skipped}", className="mb-1")


def _assumptions(result: dict | None):
    if not result:
        return None
    items = [html.Li(f"{a['note']} ({len(a['series'])} of {len(result['orders'])} series)")
             for a in result["assumptions"]]
    notes = [html.Li(n) for n in result["notes"]]
    return dbc.Alert([html.Div("Assumptions behind these numbers", className="fw-semibold"),
                      html.Ul(items + notes, className="mb-0")] if items or notes else "No assumptions.",
                     color="warning" if items else "light", className="py-2 small", id="or-assumption-notes")


@callback(Output(ids.OR_SALES_STATUS, "children"), Output(ids.OR_DATE, "value"),
          Input(ids.OR_SALES_UPLOAD, "contents"), State(ids.OR_SALES_UPLOAD, "filename"), prevent_initial_call=True)
def sales_uploaded(contents, filename):
    """The sales file's name and the order date set to the day after its last date."""
    day = O.default_date(contents, filename, settings.upload_max_bytes)
    if day is None:
        return dbc.Alert("This sales file cannot be read; Propose orders says why.", color="danger",
                         className="py-1 mb-0"), no_update
    return f"{file_name(filename)} received; order date set to the day after its last date.", day


@callback(Output(ids.OR_STOCK_STATUS, "children"), Input(ids.OR_STOCK_UPLOAD, "contents"),
          State(ids.OR_STOCK_UPLOAD, "filename"), prevent_initial_call=True)
def stock_uploaded(_contents, filename):
    return f"{file_name(filename)} received."


@callback(Output(ids.OR_ITEMS_STATUS, "children"), Input(ids.OR_ITEMS_UPLOAD, "contents"),
          State(ids.OR_ITEMS_UPLOAD, "filename"), prevent_initial_call=True)
def items_uploaded(_contents, filename):
    return f"{file_name(filename)} received."


@callback(Output(ids.OR_REQUEST, "data"), Output(ids.SESSION_ID, "data", allow_duplicate=True),
          Output(ids.OR_POLL, "disabled", allow_duplicate=True),
          Input(ids.OR_RUN, "n_clicks"), State(ids.SESSION_ID, "data"), prevent_initial_call=True)
def request_proposal(n, sid):
    """Propose pressed: the session the proposals will be kept in (a new one if the browser has none) handed to the
    background job, and a run this page followed after a reload no longer followed (this page now shows its own).
    Apart from the job: the session id lives in the app shell, and a callback writing it fires when the page is
    inserted (prevent_initial_call cannot stop that); the job, with this page's outputs only, does not."""
    if not n:
        raise dash.exceptions.PreventUpdate
    new_sid = no_update
    if not valid_session_id(sid):
        sid = new_sid = new_session_id()
    return {"sid": sid, "n": n}, new_sid, True


@callback(
    Output(ids.OR_GRID, "rowData", allow_duplicate=True), Output(ids.OR_SUMMARY, "children", allow_duplicate=True),
    Output(ids.OR_ASSUMPTIONS, "children", allow_duplicate=True), Output(ids.OR_STATUS, "children"),
    Output(ids.OR_EDIT_STATUS, "children", allow_duplicate=True),
    Input(ids.OR_REQUEST, "data"),
    State(ids.OR_SALES_UPLOAD, "contents"), State(ids.OR_SALES_UPLOAD, "filename"),
    State(ids.OR_STOCK_UPLOAD, "contents"), State(ids.OR_STOCK_UPLOAD, "filename"),
    State(ids.OR_ITEMS_UPLOAD, "contents"), State(ids.OR_ITEMS_UPLOAD, "filename"),
    State(ids.OR_DATE, "value"), State(ids.OR_OBJECTIVE, "value"), State(ids.OR_TARGET, "value"),
    State(ids.OR_LEVELS, "value"),
    background=True,
    running=[(Output(ids.OR_RUN, "disabled"), True, False), (Output(ids.OR_CANCEL, "disabled"), False, True)],
    cancel=[Input(ids.OR_CANCEL, "n_clicks")],
    progress=[Output(ids.OR_PROGRESS, "children")],
    progress_default=[""],
    prevent_initial_call=True,
)
def propose(set_progress, request, sales, sales_name, stock, stock_name, items, items_name, date, objective,
            target, levels):
    """Propose the orders (a background job, module docstring) and keep them (edits cleared) in this session."""
    sid = (request or {}).get("sid") if isinstance(request, dict) else None
    if not valid_session_id(sid):   # the request came through the browser
        raise dash.exceptions.PreventUpdate
    set_progress(["reading the files…"])
    beat = Heartbeat(O.KIND, sid, every=1.0, quiet=True)   # the page's results live in the session, not here

    def progress(done, total, label, long_step=False):
        set_progress([f"proposing: {label}…"])
        beat.report(done, total, label)
    try:
        result = O.compute((sales, sales_name), (stock, stock_name), (items, items_name), date,
                           settings.upload_max_bytes, O.order_settings(objective, target, levels), progress=progress)
        try:
            O.save(get_store(), sid, result, {}, ttl=settings.session_ttl)
            kept = ""
        except StoreUnavailable as err:
            kept = f" Not kept for this session (store unavailable: {err})."
    except O.OrdersInputError as err:
        return (no_update, no_update, no_update,
                dbc.Alert(str(err), color="danger", className="py-2", id="or-error"), no_update)
    finally:
        beat.stop()
        _clear_run(sid)
    return (O.grid_rows(result, {}), _summary(result), _assumptions(result),
            dbc.Alert(f"{O.proposed_words(result)}{kept}", color="success", className="py-2",
                      id="or-done"), "")


def _clear_run(sid: str) -> None:
    """The session's job status removed (the run ended or was cancelled); the store being down only costs that."""
    try:
        job_store().clear_status(O.KIND, sid)
    except StoreUnavailable:
        pass


def _following(rec: dict) -> dbc.Alert:
    return dbc.Alert(f"A proposal started {time.strftime('%H:%M:%S', time.localtime(rec['started']))} is still "
                     f"running ({rec.get('label') or 'starting'}) — reattached: its lines appear here when it ends.",
                     color="info", className="py-2", id="or-following")


@callback(
    Output(ids.OR_GRID, "rowData", allow_duplicate=True), Output(ids.OR_SUMMARY, "children", allow_duplicate=True),
    Output(ids.OR_ASSUMPTIONS, "children", allow_duplicate=True),
    Output(ids.OR_OBJECTIVE, "value"), Output(ids.OR_TARGET, "value"), Output(ids.OR_LEVELS, "value"),
    Output(ids.OR_STATUS, "children", allow_duplicate=True), Output(ids.OR_FOLLOW, "data"),
    Output(ids.OR_POLL, "disabled"),
    Input(ids.OR_LOADED, "data"), State(ids.SESSION_ID, "data"),
    prevent_initial_call="initial_duplicate",
)
def restore(_loaded, sid):
    """On opening the page: this session's last proposals with its edits, and the objective, target and levels they
    were chosen for in the form (a Propose after a reload asks what the grid shows); a proposal still running for the
    session (the page was reloaded during it) is followed until its lines land."""
    if not valid_session_id(sid):
        raise dash.exceptions.PreventUpdate
    try:
        store = get_store()
        result, edits = O.load(store, sid)
        rec = running_status(O.KIND, sid)
    except StoreUnavailable:
        raise dash.exceptions.PreventUpdate from None
    if not result and not rec:
        raise dash.exceptions.PreventUpdate
    follow = ((_following(rec), {"started": rec["started"]}, False) if rec else (no_update, None, True))
    if not result:
        return (no_update,) * 6 + follow
    chosen = result.get("settings") or {}
    return (O.grid_rows(result, edits), _summary(result), _assumptions(result),
            chosen.get("objective", "cost"), chosen.get("target_fill_rate", 0.95),
            chosen.get("forecaster") or OWN_LEVELS, *follow)


@callback(
    Output(ids.OR_GRID, "rowData", allow_duplicate=True), Output(ids.OR_SUMMARY, "children", allow_duplicate=True),
    Output(ids.OR_ASSUMPTIONS, "children", allow_duplicate=True),
    Output(ids.OR_STATUS, "children", allow_duplicate=True), Output(ids.OR_POLL, "disabled", allow_duplicate=True),
    Input(ids.OR_POLL, "n_intervals"), State(ids.OR_FOLLOW, "data"), State(ids.SESSION_ID, "data"),
    prevent_initial_call=True,
)
def follow_run(_n, following, sid):
    """One tick of a reloaded page following its session's running proposal: its progress while it runs, its lines
    when they land, a line saying so when it stopped without them (cancelled, or its worker died)."""
    started = (following or {}).get("started") if isinstance(following, dict) else None
    if not valid_session_id(sid) or not isinstance(started, (int, float)):
        return no_update, no_update, no_update, no_update, True
    try:
        state, result, edits = O.follow(get_store(), sid, started, running_status(O.KIND, sid))
    except StoreUnavailable:
        return no_update, no_update, no_update, no_update, False   # try again on the next tick
    if state == "running":
        return no_update, no_update, no_update, _following(result), False
    if state == "done":
        return (O.grid_rows(result, edits), _summary(result), _assumptions(result),
                dbc.Alert(O.proposed_words(result), color="success", className="py-2", id="or-done"), True)
    return (no_update, no_update, no_update,
            dbc.Alert("The proposal this page was following stopped without new lines (cancelled, or its worker "
                      "stopped): press Propose orders to start it again.", color="warning", className="py-2",
                      id="or-stopped"), True)


@callback(Output(ids.OR_STATUS, "children", allow_duplicate=True), Input(ids.OR_CANCEL, "n_clicks"),
          State(ids.OR_REQUEST, "data"), prevent_initial_call=True)
def cancelled(n, request):
    """Dash stops the job's process, and so does dashapp.ui.jobs.cancel_job from the record the job wrote (Dash's
    cancel needs the job id the page holds); the record of the run goes with it (a page reloaded after would follow
    a run that no longer exists until the record went stale)."""
    sid = (request or {}).get("sid") if isinstance(request, dict) else None
    if not n or not valid_session_id(sid):
        raise dash.exceptions.PreventUpdate
    try:
        cancel_job(O.KIND, sid)
    except StoreUnavailable:
        pass
    return dbc.Alert("Proposal cancelled; the grid keeps what it showed before.", color="warning", className="py-2",
                     id="or-cancelled")


@callback(
    Output(ids.OR_EDIT_STATUS, "children", allow_duplicate=True),
    Output(ids.OR_GRID, "rowData", allow_duplicate=True),
    Input(ids.OR_GRID, "cellValueChanged"), State(ids.SESSION_ID, "data"),
    prevent_initial_call=True,
)
def edited(changes, sid):
    """Keep an edited quantity in the session; a refused value puts the grid back as stored."""
    if not changes or not valid_session_id(sid):
        raise dash.exceptions.PreventUpdate
    changes = changes if isinstance(changes, list) else [changes]
    store = get_store()
    try:
        with store.lock(O.session_key(sid)):
            result, edits = O.load(store, sid)
            if not result:
                return "Propose orders first.", no_update
            words = []
            try:
                for ch in changes:
                    if ch.get("colId") != "order_qty":
                        continue
                    edits, text = O.apply_edit(result, edits, (ch.get("data") or {}).get("series"), ch.get("value"))
                    words.append(text)
            except O.OrdersInputError as err:
                return f"Not changed: {err}", O.grid_rows(result, edits)
            O.save(store, sid, result, edits, ttl=settings.session_ttl)
    except StoreUnavailable as err:
        return f"Edit not kept (store unavailable: {err})", no_update
    return "Kept for this session: " + "; ".join(words), O.grid_rows(result, edits)


@callback(Output(ids.OR_DOWNLOAD, "data"), Input(ids.OR_DOWNLOAD_BTN, "n_clicks"), State(ids.SESSION_ID, "data"),
          prevent_initial_call=True)
def download(n, sid):
    if not n or not valid_session_id(sid):
        return no_update
    result, edits = O.load(get_store(), sid)
    if not result:
        return no_update
    return dcc.send_string(O.export_csv(result, edits), f"orders_{result['date']}.csv")
