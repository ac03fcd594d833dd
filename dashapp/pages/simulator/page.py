"""/ : the simulator page — controls, Start/Pause/Step/Reset, KPI cards, four streamed graphs, event log.

The callbacks only translate: component values in, a call to dashapp.pages.simulator.service, the returned Screen out
through dashapp.pages.simulator.render (named outputs). The browser keeps only the session id and the (run, day) it
shows; the simulator state lives in the store.
"""
from __future__ import annotations

import json
from functools import lru_cache

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dcc, html, no_update
from plotly.utils import PlotlyJSONEncoder

from dashapp import engine_facade as E
from dashapp import ids
from dashapp.pages.simulator.hint import comparison_sentence, run_days_sentence, target_sentence
from dashapp.pages.simulator.layout import simulator_layout
from dashapp.pages.simulator.link import link_controls
from dashapp.pages.simulator.render import VIEW, render
from dashapp.pages.simulator.service import USER_ERRORS, SimulationService, accepted_choices
from dashapp.pages.simulator.session_views import days_per_tick, ledger_csv, level_note
from dashapp.platform.config import settings
from dashapp.platform.store import get_store
from dashapp.ui import carry_settings as carry
from dashapp.ui import components as C
from dashapp.ui.field_rules import check_js
from dashapp.ui.policy_fields import field_map, field_specs
from dashapp.ui.recommendation import recommendation_view
from dashapp.ui.uploads import accept_upload, series_names
from dashapp.ui.validation import BOUNDS, DEFAULT_CONTROLS, InputError, clean_controls, number, speed_or_default
from engine.studies import scenarios as sc

dash.register_page(__name__, path="/", name="Simulator", title="Simulator · Inventory Simulator")

BUTTONS = (ids.START, ids.PAUSE, ids.STEP, ids.RESET)
POLICY_KEYS = tuple(field_specs())  # control keys of the policy-parameter fields
CONTROLS = {**ids.CONTROLS, **{ids.control_id(k): k for k in POLICY_KEYS}}  # field id -> controls-dict key
NUMBER_KEYS = (*BOUNDS, *POLICY_KEYS)  # the keys of the number fields


LINK = "sim-link"  # store: controls a link's query sets on page load (dashapp.pages.simulator.link)


@lru_cache(maxsize=1)
def _layout_once():
    """The page's components with each graph's figure as its plain JSON dict: a go.Figure would be deep-copied and
    walked by plotly's encoder on every page load."""
    tree = simulator_layout()
    for component in tree._traverse():
        if isinstance(component, dcc.Graph) and hasattr(getattr(component, "figure", None), "to_plotly_json"):
            component.figure = json.loads(json.dumps(component.figure, cls=PlotlyJSONEncoder))
    return tree


def layout(**query):
    """The same component tree for every page load (building it — four figures among ~150 components — took most of
    a page load; the session's values come from the load callback), plus the controls a link's query sets."""
    return html.Div([dcc.Store(id=LINK, data=link_controls(query) or None), _layout_once()])


def _service() -> SimulationService:
    return SimulationService(get_store(), tick_delay=settings.test_tick_delay)


@callback(
    output={"sid": Output(ids.SESSION_ID, "data"), "view": VIEW,
            "controls": {cid: Output(cid, "value", allow_duplicate=True) for cid in CONTROLS}},
    inputs={"clicks": {b: Input(b, "n_clicks") for b in BUTTONS}},
    state={"sid": State(ids.SESSION_ID, "data"), "values": {cid: State(cid, "value") for cid in CONTROLS},
           "link": State(LINK, "data")},
    prevent_initial_call="initial_duplicate",
)
def control(clicks, sid, values, link=None):
    """Page load (no trigger) and the four buttons."""
    # A new page renders its buttons with n_clicks=0 and dash may report them as triggered: that is a load.
    action = ctx.triggered_id if ctx.triggered_id in clicks and clicks[ctx.triggered_id] else "load"
    raw = {CONTROLS[cid]: v for cid, v in values.items()}
    screen = _service().press(sid, action, raw)
    restored = {cid: screen.controls.get(key, DEFAULT_CONTROLS.get(key)) for cid, key in CONTROLS.items()} \
        if screen.controls \
        else dict.fromkeys(CONTROLS, no_update)
    if action == "load" and link:  # a link's query (e.g. from /portfolio) wins over the stored controls
        restored.update({cid: link[key] for cid, key in CONTROLS.items() if key in link})
    return {"sid": screen.sid, "view": render(screen), "controls": restored}


@callback(
    output=VIEW,
    inputs={"_n": Input(ids.TICK, "n_intervals")},
    state={"sid": State(ids.SESSION_ID, "data"), "shown": State(ids.SHOWN_DAY, "data"),
           "speed": State(ids.SPEED, "value")},
    running=[(Output(ids.TICK, "disabled"), True, False)],
    prevent_initial_call=True,
)
def tick(_n, sid, shown, speed):
    """One tick of a running animation: the service advances the days the pace asks for."""
    return render(_service().tick(sid, shown, speed_or_default(speed)))


# A tick whose connection dies (e.g. its worker was killed) never reports back, so dash-renderer would leave
# the interval disabled. The watchdog re-enables it when the run is on but nothing arrived for 3 s; ticks are
# idempotent and locked server-side, so an extra tick can never double-step.
dash.clientside_callback(
    """function(_n, disabled, status, lastTs) {
        if (disabled && status === 'running' && lastTs && Date.now() - lastTs > 3000) { return false; }
        return window.dash_clientside.no_update;
    }""",
    Output(ids.TICK, "disabled", allow_duplicate=True),
    Input(ids.TICK_WATCHDOG, "n_intervals"),
    State(ids.TICK, "disabled"), State(ids.STATUS, "children"), State(ids.SHOWN_DAY, "modified_timestamp"),
    prevent_initial_call=True,
)


@callback(Output(ids.HINT, "children"), Input(ids.STATUS, "children"), State(ids.SESSION_ID, "data"),
          prevent_initial_call=True)
def improvement_hint(status, sid):
    """After a run: the recommendation for this series and these settings (engine.studies.recommend: the answer
    /optimum and /portfolio give too), the run's rule costed against it on the same paths from the same stock
    (dashapp.pages.simulator.hint), and a link to /optimum carrying the run's settings."""
    if status != "finished":
        return None
    try:
        inputs = _service().finished_run_inputs(sid)
        if inputs is None:
            return None
        rec, rule, on_days = E.recommendation_hint(*inputs)  # outside the session lock: ~1 s of simulation
        rows = _service().ledger_rows(sid)
        run_cost = float(rows[-1]["cumulative_cost"]) if rows else None
        href = "/optimum" + carry.optimum_search(inputs[0])
    except USER_ERRORS as exc:
        return C.message(f"No recommendation for these settings: {exc}", "secondary")
    except sc.ScenarioError:
        href = "/optimum"
    level = level_note(_service().level_of(sid))
    goal = target_sentence(carry.service_target(inputs[0]), rec)
    played = run_days_sentence(on_days, inputs[0].demand == "replay")
    return dbc.Alert([recommendation_view(rec, ids.HINT_RECOMMENDATION),
                      *([html.Div(goal, className="small mt-1", id=ids.HINT_TARGET)] if goal else []),
                      html.Div([comparison_sentence(rec, rule, run_cost, bool(inputs[0].backorders)), " ",
                                dcc.Link("See the yardsticks on /optimum", href=href, id=ids.HINT_OPTIMUM_LINK,
                                         className="alert-link")], className="small mt-1", id=ids.HINT_COMPARISON),
                      *([html.Div(played, className="small mt-1", id=ids.HINT_RUN_DAYS)] if played else []),
                      *([html.Div(level, className="small", id=ids.HINT_LEVEL)] if level else [])],
                     color="info", className="py-2 mb-2", id=ids.HINT_TEXT)


@callback(Output(ids.OPTIMUM_LINK, "href"), Output(ids.SCENARIOS_LINK, "href"),
          inputs={"values": {cid: Input(cid, "value") for cid in CONTROLS if cid != ids.SPEED}},
          state={"sid": State(ids.SESSION_ID, "data")})
def settings_links(values, sid):
    """The /optimum and /scenarios links carry the settings in the fields (the pages' defaults while a field is
    invalid: Start names what is wrong)."""
    raw = {CONTROLS[cid]: v for cid, v in values.items()}
    raw["speed"] = 1.0
    try:
        config = E.sim_config(clean_controls(raw, *accepted_choices()),
                              raw.get("series") if raw.get("data_source") != "upload" else None)
        return "/optimum" + carry.optimum_search(config), "/scenarios" + carry.scenarios_search(config)
    except (*USER_ERRORS, sc.ScenarioError, ValueError):
        return "/optimum", "/scenarios"


@callback(Output(ids.TICK, "interval"), Input(ids.SPEED, "value"))
def set_speed(speed):
    """Speed changes apply to the next tick, mid-run too."""
    try:
        return days_per_tick(number("speed", speed))[0]
    except InputError:
        return no_update


@callback(
    Output(ids.SERIES, "options"), Output(ids.SERIES, "value"),
    Input(ids.DATA_SOURCE, "value"), State(ids.SERIES, "value"), State(ids.SESSION_ID, "data"),
    State(LINK, "data"),
)
def series_choices(source, current, sid, link=None):
    try:
        keys = series_names(get_store(), sid, source)
    except Exception:  # noqa: BLE001 - store/engine trouble shows up on Start with its message
        return [], None
    # a link's series wins (the page-load call for the initial source may have reset the field meanwhile)
    chosen = next((k for k in ((link or {}).get("series"), current) if k in keys), keys[0] if keys else None)
    return [{"label": k, "value": k} for k in keys], chosen


@callback(
    Output(ids.FORECASTER, "options"), Output(ids.FORECASTER, "value", allow_duplicate=True),
    Input(ids.SERIES, "value"), Input(ids.DATA_SOURCE, "value"), State(ids.FORECASTER, "value"),
    State(ids.SESSION_ID, "data"), prevent_initial_call="initial_duplicate",
)
def forecaster_choices(series, source, current, sid):
    """Only the forecasters that work on the chosen series are selectable; the others say what they need."""
    try:
        chosen = E.dataset_for(get_store(), sid, {"data_source": source or "sample", "series": series})
    except Exception:  # noqa: BLE001 - no series yet (or the store is down): every forecaster is offered
        return E.forecaster_options(), no_update
    options = E.forecaster_options_for(chosen)
    usable = [o["value"] for o in options if not o["disabled"]]
    if current in usable or not usable:
        return options, no_update
    fallback = E.default_forecaster()
    return options, fallback if fallback in usable else usable[0]


@callback(
    Output(ids.UPLOAD_STATUS, "children"), Output(ids.DATA_SOURCE, "value"),
    Output(ids.UPLOAD_PICK, "options"), Output(ids.UPLOAD_PICK, "value"), Output(ids.UPLOAD_MAPPING, "style"),
    Input(ids.UPLOAD, "contents"), Input(ids.UPLOAD_PICK, "value"), State(ids.UPLOAD, "filename"),
    State(ids.SESSION_ID, "data"),
    prevent_initial_call=True,
)
def upload(contents, pick, filename, sid):
    """Read an uploaded CSV with the engine; keep it for this session. A running simulation is untouched. When
    detection cannot decide the demand column, the mapping step asks: a dropdown of the candidates, whose pick
    reads the same upload again with that column."""
    picked = ctx.triggered_id == ids.UPLOAD_PICK
    if picked and not pick:
        raise dash.exceptions.PreventUpdate
    result = accept_upload(get_store(), sid, contents, filename, settings.upload_max_bytes,
                           columns={"demand": pick} if picked else None)
    hidden = ([], None, {"display": "none"}) if not picked else (no_update, no_update, no_update)
    if result.choices:
        cols = next(iter(result.choices.values()))
        return (C.message(result.message), no_update, [{"label": c, "value": c} for c in cols], None,
                {"display": "block"})
    if result.needs_mapping:
        return (C.message([result.message, " ", dcc.Link("Open the Portfolio page", href="/portfolio",
                                                         id="upload-portfolio-link")]), no_update, *hidden)
    if not result.accepted:
        return C.message(result.message), no_update, *hidden
    return C.message(result.message, "success"), "upload", [], None, {"display": "none"}


@callback(Output(ids.LEDGER_DOWNLOAD, "data"), Input(ids.DOWNLOAD_LEDGER, "n_clicks"),
          State(ids.SESSION_ID, "data"), prevent_initial_call=True)
def download_ledger(_n, sid):
    rows = _service().ledger_rows(sid)
    if not rows:
        return no_update
    return dict(content=ledger_csv(rows), filename="ledger.csv", type="text/csv")


@callback(
    output={key: Output(ids.field_row(key), "style") for key in POLICY_KEYS},
    inputs={"policy": Input(ids.POLICY, "value")},
)
def policy_fields(policy):
    """Show only the parameters of the chosen policy."""
    shown = field_map(policy) if isinstance(policy, str) else {}
    return {key: None if key in shown else {"display": "none"} for key in POLICY_KEYS}


# The event-log filter hides the unchecked kinds with a class on the log (no server trip; new entries obey it too).
dash.clientside_callback(
    """function(kinds) {
        const all = %s;
        return 'event-log' + all.filter(k => !(kinds || []).includes(k)).map(k => ' hide-' + k).join('');
    }""" % list(ids.EVENT_KINDS),
    Output(ids.EVENT_LOG, "className"), Input(ids.EVENT_FILTER, "value"),
)


# On a phone the settings sit in a collapsed panel below the run bar; the toggle opens and closes it.
dash.clientside_callback(
    """function(n, open) { return [!open, String(!open)]; }""",
    Output(ids.SETTINGS_PANEL, "is_open"), Output(ids.SETTINGS_TOGGLE, "aria-expanded"),
    Input(ids.SETTINGS_TOGGLE, "n_clicks"), State(ids.SETTINGS_PANEL, "is_open"), prevent_initial_call=True,
)


# Every number field marked invalid while its typed value is outside what the server accepts (dashapp.ui.field_rules).
for _key in NUMBER_KEYS:
    dash.clientside_callback(check_js(_key), Output(ids.control_id(_key), "invalid"),
                             Input(ids.control_id(_key), "value"))
