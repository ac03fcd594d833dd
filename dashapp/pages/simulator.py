"""/ : the simulator page — controls, Start/Pause/Step/Reset, KPI cards, four streamed graphs, event log.

Thin callbacks: validate input (dashapp.session), call the engine through it, render with dashapp.figures.
The browser keeps only the session id and the (run, day) it shows; the simulator state lives in the store.
"""
from __future__ import annotations

import base64
import binascii
import os
import time

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, Patch, State, callback, ctx, dcc, html, no_update

from dashapp import components as C
from dashapp import figures, session as S
from dashapp.config import settings
from dashapp.store import SessionBusy, StoreUnavailable, get_store

dash.register_page(__name__, path="/", name="Simulator", title="Simulator · Inventory Simulator")

# control element id -> key of the controls dict (order matters: it is the State order of the callbacks)
CONTROL_IDS = {
    "data-source": "data_source", "series": "series", "forecaster": "forecaster", "policy": "policy",
    "demand-mode": "demand_mode", "horizon": "horizon", "lead-time": "lead_time", "holding-rate": "holding_rate",
    "noise": "noise", "speed": "speed", "seed": "seed", "unit-cost": "unit_cost", "unit-price": "unit_price",
    "stockout-cost": "stockout_cost", "backorders": "backorders", "initial-inventory": "initial_inventory",
    "service-level": "service_level", "policy-level": "policy_level", "policy-s": "policy_s",
    "policy-q": "policy_q",
}
D = S.DEFAULT_CONTROLS


def _forecaster_choices() -> list[dict]:
    try:
        return S.forecaster_options()
    except Exception:  # engine not importable: the page still renders and says so on Start
        return [{"label": "Moving average (7 days)", "value": "ma7"}]


def _policy_choices() -> list[dict]:
    try:
        return [{"label": v, "value": k} for k, v in S.policy_options().items()]
    except Exception:  # engine not importable
        return [{"label": v, "value": k} for k, v in S.POLICIES.items()]


def _controls_panel():
    lo = S.BOUNDS
    return html.Div([
        html.H6("Data"),
        C.field("Source", C.dropdown("data-source", [
            {"label": "Bundled sample data", "value": "sample"},
            {"label": "Uploaded CSV (this session)", "value": "upload"}], D["data_source"])),
        C.field("Series", C.dropdown("series", [], None)),
        dcc.Upload(
            html.Div(["Drop a CSV here or ", html.A("choose a file")]), id="upload-data",
            className="upload-box", max_size=settings.upload_max_bytes, multiple=False, accept=".csv,text/csv,text/plain",
        ),
        html.Div(id="upload-status", className="small mt-1 mb-2", role="status",
                 **{"data-max-bytes": str(settings.upload_max_bytes)}),
        html.H6("Forecast & demand"),
        C.field("Forecaster", C.dropdown("forecaster", _forecaster_choices(), S.default_forecaster())),
        C.field("Demand mode", C.dropdown("demand-mode", [{"label": v, "value": k}
                                                          for k, v in S.DEMAND_MODES.items()], D["demand_mode"])),
        C.field("Noise (forecast-noise mode)", C.number("noise", D["noise"], *lo["noise"], 0.01)),
        C.field("Random seed", C.number("seed", D["seed"], *lo["seed"], 1)),
        html.H6("Supply & costs"),
        C.field("Horizon (days)", C.number("horizon", D["horizon"], *lo["horizon"], 1)),
        C.field("Lead time (days)", C.number("lead-time", D["lead_time"], *lo["lead_time"], 1)),
        C.field("Annual holding rate", C.number("holding-rate", D["holding_rate"], *lo["holding_rate"], 0.01)),
        C.field("Unit cost (blank: from data)", C.number("unit-cost", None, *lo["unit_cost"], 0.01)),
        C.field("Unit price (blank: from data)", C.number("unit-price", None, *lo["unit_price"], 0.01)),
        C.field("Stockout cost per unit (blank: price − cost)",
                C.number("stockout-cost", None, *lo["stockout_cost"], 0.01)),
        C.field("Initial inventory (blank: engine default)",
                C.number("initial-inventory", None, *lo["initial_inventory"], 1)),
        dbc.Switch(id="backorders", label="Backorders (off: lost sales)", value=False, className="small"),
        html.H6("Policy"),
        C.field("Policy", C.dropdown("policy", _policy_choices(), D["policy"])),
        C.field("Service-level target (blank: z from costs)",
                C.number("service-level", None, *lo["service_level"], 0.001), hidden_id="row-service-level"),
        C.field("Level S (base-stock, s-S)", C.number("policy-level", None, *lo["policy_level"], 1),
                hidden_id="row-policy-level"),
        C.field("Reorder point s / r", C.number("policy-s", None, *lo["policy_s"], 1), hidden_id="row-policy-s"),
        C.field("Order quantity Q (r-Q)", C.number("policy-q", None, *lo["policy_q"], 1), hidden_id="row-policy-q"),
        html.H6("Animation"),
        C.field("Speed (seconds per day)", C.number("speed", D["speed"], *lo["speed"], 0.05)),
    ], className="controls")


def layout(**_query):
    buttons = dbc.ButtonGroup([
        dbc.Button("Start", id="start", color="success", n_clicks=0),
        dbc.Button("Pause", id="pause", color="warning", n_clicks=0),
        dbc.Button("Step", id="step", color="secondary", n_clicks=0),
        dbc.Button("Reset", id="reset", color="danger", outline=True, n_clicks=0),
    ], className="me-3")
    graphs = dbc.Row([
        dbc.Col(html.Div(dcc.Graph(id=gid, figure=figures.build_figure(gid, [], D["horizon"]),
                                   config={"displaylogo": False, "displayModeBar": False}), className="graph-card"), lg=6)
        for gid in figures.GRAPH_IDS
    ])
    return html.Div([
        dcc.Store(id="sim-day", data={"run": 0, "day": 0}),  # what this page shows: the tick's expected day
        dcc.Interval(id="tick", interval=int(D["speed"] * 1000), disabled=True, n_intervals=0),
        dcc.Interval(id="tick-watchdog", interval=1000),
        dcc.Download(id="ledger-download"),
        dbc.Row([
            dbc.Col(_controls_panel(), lg=3, md=4),
            dbc.Col([
                html.Div([buttons, html.Span(id="sim-status", className="text-muted small")],
                         className="d-flex align-items-center mb-2"),
                html.Div(id="sim-message"),
                html.Div(id="sim-hint"),
                dbc.Progress(id="progress", value=0, label="", className="mb-3", style={"height": "18px"}),
                dbc.Row([dbc.Col(C.kpi_card(k), xl=2, md=4, sm=6, className="mb-2") for k in C.KPI_IDS]),
                graphs,
                dbc.Row([
                    dbc.Col([html.H6("Event log (newest first, latest 200)"),
                             html.Div(id="event-log", className="event-log")], md=9),
                    dbc.Col([html.H6("Ledger"), dbc.Button("Download ledger CSV", id="download-ledger",
                                                           color="primary", outline=True, size="sm")], md=3),
                ], className="mb-4"),
            ], lg=9, md=8),
        ]),
    ])


# ------------------------------------------------------------------------------------------ rendering
KPI_OUTPUTS = [Output(k, "children", allow_duplicate=True) for k in C.KPI_IDS] + \
              [Output(f"{k}-sub", "children", allow_duplicate=True) for k in C.KPI_IDS]
VIEW_OUTPUTS = (
    [Output(g, "figure", allow_duplicate=True) for g in figures.GRAPH_IDS]
    + KPI_OUTPUTS
    + [Output("progress", "value", allow_duplicate=True), Output("progress", "label", allow_duplicate=True),
       Output("event-log", "children", allow_duplicate=True), Output("sim-day", "data", allow_duplicate=True),
       Output("tick", "disabled", allow_duplicate=True), Output("sim-message", "children", allow_duplicate=True),
       Output("pause", "children", allow_duplicate=True), Output("sim-status", "children", allow_duplicate=True)]
)
N_VIEW = len(VIEW_OUTPUTS)


def _log_children(entries):
    return [C.log_entry(text, kind) for text, kind in entries]


def _progress(n: int, horizon: int | None):
    pct = round(100 * n / horizon) if horizon else 0
    return pct, f"{n} / {horizon}" if horizon else ""


def _status_text(rec) -> str:
    return {"idle": "ready", "running": "running", "paused": "paused", "done": "finished"}.get(rec["status"], "")


def _full_view(rec, rows, message=None) -> list:
    """Every view output for the session's current state (page load, Start, Step, Reset)."""
    horizon = rec.get("horizon") or rec["controls"].get("horizon")
    kpis = S.kpi_values(rows, horizon)
    pct, label = _progress(len(rows), horizon)
    return (
        [figures.build_figure(g, rows, horizon) for g in figures.GRAPH_IDS]
        + [kpis[k][0] for k in C.KPI_IDS] + [kpis[k][1] for k in C.KPI_IDS]
        + [pct, label, _log_children(S.latest_events(rows)), {"run": rec["run"], "day": len(rows)},
           rec["status"] != "running", C.message(message, "warning" if message else "danger"),
           "Resume" if rec["status"] == "paused" else "Pause", _status_text(rec)]
    )


def _only_message(text, color="danger") -> list:
    out = [no_update] * N_VIEW
    out[N_VIEW - 3] = C.message(text, color)
    return out


# ------------------------------------------------------------------------------------------ callbacks
@callback(
    [Output("session-id", "data")] + VIEW_OUTPUTS + [Output(i, "value", allow_duplicate=True) for i in CONTROL_IDS],
    Input("start", "n_clicks"), Input("pause", "n_clicks"), Input("step", "n_clicks"), Input("reset", "n_clicks"),
    State("session-id", "data"), [State(i, "value") for i in CONTROL_IDS],
    prevent_initial_call="initial_duplicate",
)
def control(_start, _pause, _step, _reset, sid, *control_values):
    """Page load (no trigger) and the four buttons."""
    clicks = {"start": _start, "pause": _pause, "step": _step, "reset": _reset}
    # A new page renders its buttons with n_clicks=0 and dash may report them as triggered: that is a load.
    action = ctx.triggered_id if ctx.triggered_id in clicks and clicks[ctx.triggered_id] else "load"
    keep_controls = [no_update] * len(CONTROL_IDS)
    if not S.valid_session_id(sid):
        sid = S.new_session_id()  # no id yet, or a forged one: a fresh session
    store = get_store()
    try:
        with store.lock(sid):
            rec = store.get(sid)
            if not isinstance(rec, dict) or rec.get("v") != S.RECORD_VERSION:
                rec = S.new_record()
            message = None
            if action == "load":
                restored = [rec["controls"].get(k) for k in CONTROL_IDS.values()]
                try:
                    rows = S.rows_of(store, sid, rec)
                except S.SessionExpired:
                    rec, rows, message = S.new_record(rec["controls"]), [], "Your last run has expired."
                S.save_session(store, sid, rec)  # refreshes the TTL; creates the session when new
                return [sid] + _full_view(rec, rows, message) + restored
            raw = dict(zip(CONTROL_IDS.values(), control_values))
            sim, new_run = None, False
            if action == "pause":
                if rec["status"] == "running":
                    rec["status"] = "paused"
                elif rec["status"] == "paused":
                    rec["status"] = "running"
                else:
                    message = "Nothing to pause: press Start first." if rec["status"] == "idle" else \
                        "The run has finished: press Start for a new run."
            elif action in ("start", "reset"):
                controls = S.clean_controls(raw)
                sim, new_run = S.build_simulator(store, sid, controls), True
                rec.update(controls=controls, horizon=S.horizon_of(sim), run=rec["run"] + 1,
                           status="running" if action == "start" else "idle")
                from engine.forecast.training_window import simulator_warnings  # lazy, like every engine import
                message = " ".join(w[:1].upper() + w[1:] for w in simulator_warnings(sim)) or None
            elif action == "step":
                if not rec.get("has_sim") or rec["status"] in ("idle", "done"):
                    controls = S.clean_controls(raw)
                    if not rec.get("has_sim") or rec["status"] == "done" or controls != rec["controls"]:
                        sim, new_run = S.build_simulator(store, sid, controls), True
                        rec.update(controls=controls, run=rec["run"] + 1)
                    else:
                        sim = S.live_simulator(store, sid, rec)
                else:
                    sim = S.live_simulator(store, sid, rec)
                if not sim.done:
                    sim.step()
                rec.update(horizon=S.horizon_of(sim), status="done" if sim.done else "paused")
            S.save_session(store, sid, rec, sim, new_run=new_run)
            return [sid] + _full_view(rec, S.rows_of(store, sid, rec, sim), message) + keep_controls
    except S.user_error_types() as exc:
        return [sid] + _only_message(f"{action.capitalize()} refused — {exc}") + keep_controls
    except SessionBusy:
        return [sid] + _only_message("The simulator is busy with the previous request; try again.",
                                     "warning") + keep_controls
    except StoreUnavailable as exc:
        return [sid] + _only_message(f"Session store unavailable: {exc}") + keep_controls


@callback(
    VIEW_OUTPUTS,
    Input("tick", "n_intervals"),
    State("session-id", "data"), State("sim-day", "data"), State("speed", "value"),
    running=[(Output("tick", "disabled"), True, False)],
    prevent_initial_call=True,
)
def tick(_n, sid, shown, speed):
    """Advance the days this tick asks for — unless the state is already past the day the page shows
    (a repeated or late tick), in which case only the missing points are sent."""
    if not S.valid_session_id(sid) or not isinstance(shown, dict):
        return _stop("Session lost: reload the page.")
    run, day = shown.get("run"), shown.get("day")
    if not isinstance(run, int) or not isinstance(day, int) or day < 0:
        return _stop("Bad tick request.")
    try:
        speed = S._number("speed", speed)
    except S.InputError:
        speed = S.DEFAULT_CONTROLS["speed"]
    store = get_store()
    try:
        with store.lock(sid, timeout=2.0):
            rec = store.get(sid)
            if not rec:
                return _stop("This session has expired: press Start for a new run.")
            if rec["run"] != run:  # a late tick from a previous run
                return [no_update] * N_VIEW
            if settings.test_tick_delay:
                time.sleep(settings.test_tick_delay)  # test hook: a tick slower than the interval
            state_day = int(rec.get("days") or 0)
            status_before = rec["status"]
            sim = None
            if rec["status"] == "running" and state_day == day:
                sim = S.live_simulator(store, sid, rec)
                _interval, k = S.days_per_tick(speed)
                for _ in range(k):
                    if sim.done:
                        break
                    sim.step()
                rec["worker"] = os.getpid()  # which process served the last step (hosting tests kill it)
                if sim.done:
                    rec["status"] = "done"
                S.save_session(store, sid, rec, sim)
            elif state_day < day:
                return _stop("The page is ahead of the session; reload the page.")
            return _patch_view(rec, S.rows_of(store, sid, rec, sim), day, status_before)
    except SessionBusy:
        return [no_update] * N_VIEW  # another worker holds the session: the next tick retries
    except StoreUnavailable as exc:
        return _stop(f"Session store unavailable: {exc}")
    except S.SessionExpired:
        return _stop("This run has expired from the session store: press Start for a new run.")


def _stop(text) -> list:
    out = [no_update] * N_VIEW
    out[N_VIEW - 4] = True
    out[N_VIEW - 3] = C.message(text)
    return out


def _patch_view(rec, rows, shown_day: int, status_before: str) -> list:
    """Only what changed since `shown_day`: new points by index, KPI texts, prepended log entries.

    While the run goes on, the status text and the Pause label are not re-sent: dash-renderer fires every
    callback listening to a returned property even when its value is the same, so re-sending the status on
    every tick would double the request rate (the improvement hint listens to it). Any other status is always
    sent, so a page that missed the end of its run (a lost response) still learns it."""
    horizon = rec.get("horizon")
    n = len(rows)
    patches = figures.point_patches(rows, shown_day)
    kpis = S.kpi_values(rows, horizon)
    pct, label = _progress(n, horizon)
    new = S.latest_events(rows[shown_day:], limit=10**9)
    if len(new) > S.MAX_LOG:
        log = _log_children(S.latest_events(rows))
    else:
        log = Patch()
        for text, kind in reversed(new):
            log.prepend(C.log_entry(text, kind))
        total = min(S.MAX_LOG, S.event_count(rows[:shown_day])) + len(new)
        for i in range(total - 1, S.MAX_LOG - 1, -1):
            del log[i]
    running = rec["status"] == "running"
    return (
        [patches[g] for g in figures.GRAPH_IDS]
        + [kpis[k][0] for k in C.KPI_IDS] + [kpis[k][1] for k in C.KPI_IDS]
        + [pct, label, log, {"run": rec["run"], "day": n}, not running, no_update]
        + (["Resume" if rec["status"] == "paused" else "Pause", _status_text(rec)]
           if not (status_before == rec["status"] == "running") else [no_update, no_update])
    )


# A tick whose connection dies (e.g. its worker was killed) never reports back, so dash-renderer would leave
# the interval disabled. The watchdog re-enables it when the run is on but nothing arrived for 3 s; ticks are
# idempotent and locked server-side, so an extra tick can never double-step.
dash.clientside_callback(
    """function(_n, disabled, status, lastTs) {
        if (disabled && status === 'running' && lastTs && Date.now() - lastTs > 3000) { return false; }
        return window.dash_clientside.no_update;
    }""",
    Output("tick", "disabled", allow_duplicate=True),
    Input("tick-watchdog", "n_intervals"),
    State("tick", "disabled"), State("sim-status", "children"), State("sim-day", "modified_timestamp"),
    prevent_initial_call=True,
)


@callback(Output("sim-hint", "children"), Input("sim-status", "children"), State("session-id", "data"),
          prevent_initial_call=True)
def improvement_hint(status, sid):
    """After a run: the best z / constant S for these settings and what it would have saved (engine.optimum,
    mean over 30 common-random-number demand paths — not the animated run's single path)."""
    if status != "finished" or not S.valid_session_id(sid):
        return None
    try:
        store = get_store()
        with store.lock(sid):
            rec = store.get(sid)
            if not rec or not rec.get("has_sim"):
                return None
            cfg, series = S.run_inputs(store, sid, rec)
        h = S.improvement_hint(cfg, series)  # outside the lock: ~0.5 s of simulation
    except (StoreUnavailable, SessionBusy):
        return None
    except S.user_error_types() as exc:
        return C.message(f"No hint for these settings: {exc}", "secondary")
    return dbc.Alert([html.Strong("Hint: "), h["message"],
                      html.Span(" (see /optimum for the full comparison)", className="small")],
                     color="info", className="py-2 mb-2", id="hint-text")


@callback(Output("tick", "interval"), Input("speed", "value"))
def set_speed(speed):
    """Speed changes apply to the next tick, mid-run too."""
    try:
        return S.days_per_tick(S._number("speed", speed))[0]
    except S.InputError:
        return no_update


@callback(
    Output("series", "options"), Output("series", "value"),
    Input("data-source", "value"), State("series", "value"), State("session-id", "data"),
)
def series_choices(source, current, sid):
    try:
        if source == "upload" and S.valid_session_id(sid):
            stored = get_store().get(S.upload_key(sid))
            keys = list(stored["series"]) if stored else []
        else:
            keys = list(S.sample_dataset().series)
    except Exception:  # noqa: BLE001 - store/engine trouble shows up on Start with its message
        return [], None
    opts = [{"label": k, "value": k} for k in keys]
    return opts, current if current in keys else (keys[0] if keys else None)


@callback(
    Output("upload-status", "children"), Output("data-source", "value"),
    Input("upload-data", "contents"), State("upload-data", "filename"), State("session-id", "data"),
    prevent_initial_call=True,
)
def upload(contents, filename, sid):
    """Validate an uploaded CSV with the engine; keep it for this session. A running simulation is untouched."""
    name = filename if isinstance(filename, str) and filename else "upload.csv"
    name = name.replace("\\", "/").rsplit("/", 1)[-1][:120]
    if not S.valid_session_id(sid):
        return C.message("No session yet: reload the page."), no_update
    if not isinstance(contents, str) or "," not in contents:
        return C.message(f"{name}: not a file upload"), no_update
    b64 = contents.split(",", 1)[1]
    if len(b64) * 3 // 4 > settings.upload_max_bytes + 3:
        return C.message(f"{name}: the file is larger than the {settings.upload_max_bytes / 2**20:.0f} MB "
                         "upload limit; nothing was loaded"), no_update
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        return C.message(f"{name}: the upload is not valid base64 data"), no_update
    try:
        edata, *_ = S.engine_api()
        ds = edata.load_csv(raw, name=name, max_bytes=settings.upload_max_bytes)
        summary = ds.summary()
        get_store().put(S.upload_key(sid), {"name": ds.name, "series": {k: s.to_dict()
                                                                        for k, s in ds.series.items()}})
    except S.user_error_types() as exc:
        return C.message(f"Upload refused — {exc}"), no_update
    except StoreUnavailable as exc:
        return C.message(f"Upload not kept — session store unavailable: {exc}"), no_update
    dates = summary.get("date_range")
    text = (f"{name}: {len(summary['series'])} series, {summary['rows']} rows"
            + (f", {dates[0]} to {dates[1]}" if dates else "") + ". Choose a series and press Start.")
    return C.message(text, "success"), "upload"


@callback(Output("ledger-download", "data"), Input("download-ledger", "n_clicks"), State("session-id", "data"),
          prevent_initial_call=True)
def download_ledger(_n, sid):
    if not S.valid_session_id(sid):
        return no_update
    store = get_store()
    try:
        with store.lock(sid):
            rec = store.get(sid)
            rows = S.rows_of(store, sid, rec) if rec and rec.get("has_sim") else []
    except (StoreUnavailable, SessionBusy, S.SessionExpired):
        return no_update
    if not rows:
        return no_update
    return dict(content=S.ledger_csv(rows), filename="ledger.csv", type="text/csv")


@callback(
    [Output(f"row-{k}", "style") for k in ("service-level", "policy-level", "policy-s", "policy-q")],
    Input("policy", "value"),
)
def policy_fields(policy):
    """Show only the parameters of the chosen policy."""
    show = {"order-up-to": {"service-level"}, "base-stock": {"policy-level"}, "s-S": {"policy-level", "policy-s"},
            "r-Q": {"policy-s", "policy-q"}}.get(policy, set())
    return [None if k in show else {"display": "none"} for k in ("service-level", "policy-level", "policy-s",
                                                                  "policy-q")]
