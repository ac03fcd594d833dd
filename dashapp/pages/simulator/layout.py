"""The simulator page's layout: control fields, run bar, KPI cards, graphs, event log (ids: dashapp.ids)."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashapp import engine_facade as E
from dashapp import ids
from dashapp.platform.config import settings
from dashapp.ui import components as C
from dashapp.ui import figures
from dashapp.ui.field_rules import range_text
from dashapp.ui.policy_fields import field_specs
from dashapp.ui.validation import DEFAULT_CONTROLS as D
from dashapp.ui.validation import DEMAND_MODES, WEEKDAYS


def _number(key: str, value=None):
    return C.checked_number(ids.control_id(key), value, range_text(key))


def _policy_fields() -> list:
    """One field per policy parameter (dashapp.ui.policy_fields); the policy dropdown shows the chosen one's."""
    return [C.field(label, _number(key), hidden_id=ids.field_row(key))
            for key, (label, _step, _bounds) in field_specs().items()]


def _data_fields() -> list:
    return [
        html.H2("Data", className="h6"),
        C.field("Source", C.dropdown(ids.DATA_SOURCE, [
            {"label": "Bundled sample data", "value": "sample"},
            {"label": "Uploaded CSV (this session)", "value": "upload"}], D["data_source"])),
        C.field("Series", C.dropdown(ids.SERIES, [], None)),
        dcc.Upload(
            html.Div(["Drop a CSV here or ", html.A("choose a file")]), id=ids.UPLOAD,
            className="upload-box", max_size=settings.upload_max_bytes, multiple=False,
            accept=".csv,text/csv,text/plain",
        ),
        C.upload_status(ids.UPLOAD_STATUS, ids.UPLOAD, "small mt-1 mb-2"),
        html.Div(C.field("Demand column", C.dropdown(ids.UPLOAD_PICK, [], None)), id=ids.UPLOAD_MAPPING,
                 style={"display": "none"}),
    ]


def _supplier_fields() -> list:
    """The supplier's rules every order of the run follows (engine.policies.order_rules, applied in the kernel):
    whole packs, at least the MOQ, only on order days, K per order in the cost."""
    return [
        html.H3("Supplier rules", className="h6 small fw-semibold mt-2 mb-1"),
        C.field("Minimum order quantity (blank or 0: none)", _number("moq")),
        C.field("Pack size / order multiple (blank: any quantity)", _number("pack_size")),
        html.Fieldset([
            html.Legend("Order days (none or all checked: every day)", className="small mb-0"),
            dbc.Checklist(id=ids.control_id("order_days"), inline=True, className="small", value=D["order_days"],
                          options=[{"label": d.capitalize(), "value": d} for d in WEEKDAYS]),
        ], className="mb-2"),
        C.field("Fixed cost per order K (blank: 0)", _number("order_cost")),
    ]


def _controls_panel():
    policies = [{"label": v, "value": k} for k, v in E.policy_options().items()]
    return html.Div(_data_fields() + [
        html.H2("Forecast & demand", className="h6"),
        C.field("Forecaster", C.dropdown("forecaster", E.forecaster_options(), E.default_forecaster())),
        C.field("Demand mode", C.dropdown("demand-mode", [{"label": v, "value": k}
                                                          for k, v in DEMAND_MODES.items()], D["demand_mode"])),
        C.field("Noise (forecast-noise mode)", _number("noise", D["noise"])),
        C.field("Random seed", _number("seed", D["seed"])),
        html.H2("Supply & costs", className="h6"),
        C.field("Horizon (days)", _number("horizon", D["horizon"])),
        C.field("Lead time (days)", _number("lead_time", D["lead_time"])),
        C.field("Annual holding rate", _number("holding_rate", D["holding_rate"])),
        C.field("Unit cost (blank: from data)", _number("unit_cost")),
        C.field("Unit price (blank: from data)", _number("unit_price")),
        C.field("Stockout cost per unit (blank: price − cost)", _number("stockout_cost")),
        C.field("Initial inventory (blank: engine default)", _number("initial_inventory")),
        dbc.Switch(id="backorders", label="Backorders (off: lost sales)", value=False, className="small"),
        *_supplier_fields(),
        html.H2("Policy", className="h6"),
        C.field("Policy", C.dropdown(ids.POLICY, policies, D["policy"])),
        *_policy_fields(),
    ], className="controls")


def _run_bar():
    """Start/Pause/Step/Reset, the status, why a button is off, and the speed box: sticky at the top of the main
    column, so changing the speed mid-run keeps the buttons in view. Before a run only Start and Step apply."""
    buttons = dbc.ButtonGroup([
        dbc.Button("Start", id=ids.START, color="success", n_clicks=0),
        dbc.Button("Pause", id=ids.PAUSE, color="warning", n_clicks=0, disabled=True),
        dbc.Button("Step", id=ids.STEP, color="secondary", n_clicks=0),
        dbc.Button("Reset", id=ids.RESET, color="danger", outline=True, n_clicks=0, disabled=True),
    ], className="me-3")
    speed = html.Div([dbc.Label("Speed (seconds per day)", html_for=ids.SPEED, className="mb-0 me-2 small"),
                      html.Div(_number("speed", D["speed"]), className="run-speed-field")],
                     className="run-speed d-flex align-items-start ms-auto")
    return html.Div([buttons,
                     html.Div([html.Span(id=ids.STATUS, className="text-muted small"),
                               html.Span(id=ids.RUN_NOTE, className="small ms-2 run-note")], className="me-3"),
                     speed],
                    className="run-bar d-flex flex-wrap align-items-center mb-2", id=ids.RUN_BAR)


def _settings_links():
    """Links that carry the fields' current settings to /optimum and /scenarios (hrefs set by a callback)."""
    return html.Div([html.Span("With these settings: ", className="small"),
                     dcc.Link("find the best z / S on /optimum", href="/optimum", id=ids.OPTIMUM_LINK,
                              className="small"),
                     html.Span(" · ", className="small"),
                     dcc.Link("compare rules on /scenarios", href="/scenarios", id=ids.SCENARIOS_LINK,
                              className="small")], id=ids.SETTINGS_LINKS, className="mb-2")


def _results():
    graphs = dbc.Row([
        dbc.Col(html.Div(dcc.Graph(id=gid, figure=figures.build_figure(gid, [], D["horizon"]),
                                   config={"displaylogo": False, "displayModeBar": False}),
                         className="graph-card"), lg=6)
        for gid in ids.GRAPHS
    ])
    return [
        _settings_links(),
        html.Div(id=ids.MESSAGE),
        html.Div(id=ids.HINT),
        dbc.Progress(id=ids.PROGRESS, value=0, label="", className="mb-3", style={"height": "18px"}),
        dbc.Row([dbc.Col(C.kpi_card(k), xl=2, md=4, xs=6, className="mb-2") for k in ids.KPIS]),
        html.Div(id=ids.COST_NOTE, className="mb-2", role="note"),
        graphs,
        dbc.Row([
            dbc.Col([html.H2("Event log (newest first, latest 200)", className="h6"),
                     html.Div(id=ids.EVENT_SUMMARY, className="small mb-1 event-summary", role="status"),
                     dbc.Checklist(id=ids.EVENT_FILTER, inline=True, className="small mb-1",
                                   options=[{"label": v, "value": k} for k, v in ids.EVENT_KINDS.items()],
                                   value=list(ids.EVENT_KINDS)),
                     html.Div(id=ids.EVENT_LOG, className="event-log", tabIndex="0", role="log",
                              **{"aria-label": "Event log"})], md=9),
            dbc.Col([html.H2("Ledger", className="h6"), dbc.Button("Download ledger CSV", id=ids.DOWNLOAD_LEDGER,
                                                   color="primary", outline=True, size="sm")], md=3),
        ], className="mb-4"),
    ]


INTRO = ("Plays one item's stock day by day: each morning the policy orders from the forecast, the order arrives "
         "after the lead time, demand is served from the shelf, and holding and stockout costs add up.")


def _formulas() -> html.Details:
    """How a day is computed, behind an info toggle (a native <details>: keyboard and screen-reader ready)."""
    items = [
        ("Inventory position", "IP = on-hand + on order − backlog, seen before today's order."),
        ("Order-up-to level", "S = μ + safety stock: μ is the forecast demand of the protection period (lead time "
                              "+ 1 days), the safety stock a quantile of past forecast errors over that period."),
        ("Order", "max(0, S − IP); it arrives at the start of day t + lead time."),
        ("Supplier rules", "on an order day the order is rounded up to whole packs and to at least the MOQ; on "
                           "other days nothing is ordered, and S covers the lead time + the days to the next order "
                           "day; each order adds the fixed cost K."),
        ("Costs per day", "h × end-of-day on-hand + p × units short; h = annual holding rate × unit cost / 365, "
                          "p = price − cost (lost sales) unless set."),
        ("Fill rate", "units served from stock ÷ units demanded; beside it the share of days without a stockout."),
    ]
    return html.Details([
        html.Summary("How a day is computed (formulas)", className="small"),
        html.Dl([part for term, text in items for part in (html.Dt(term), html.Dd(text))],
                className="small mb-0 formulas"),
        html.Div(["More on the ", dcc.Link("About page", href="/about"), "."], className="small"),
    ], id="sim-formulas", className="mb-2")


def simulator_layout():
    return html.Div([
        html.H1("Inventory simulator", className="h4 mb-1"),
        html.P(INTRO, className="small mb-1", id="sim-intro"),
        dcc.Store(id=ids.SHOWN_DAY, data={"run": 0, "day": 0}),  # what this page shows: the tick's expected day
        dcc.Interval(id=ids.TICK, interval=int(D["speed"] * 1000), disabled=True, n_intervals=0),
        dcc.Interval(id=ids.TICK_WATCHDOG, interval=1000),
        dcc.Download(id=ids.LEDGER_DOWNLOAD),
        _run_bar(),  # first control: on a phone Start is on the first screen; sticky, so it stays in view
        _formulas(),  # after the run bar: Start stays the first Tab stop of the page
        html.Button("Settings ▾", id=ids.SETTINGS_TOGGLE, n_clicks=0, type="button",
                    className="btn btn-outline-secondary btn-sm d-md-none mb-2 settings-toggle",
                    **{"aria-controls": ids.SETTINGS_PANEL, "aria-expanded": "false"}),
        dbc.Row([
            # Collapsed on a phone (the toggle above opens it); always shown from the md breakpoint (style.css).
            dbc.Col(dbc.Collapse(_controls_panel(), id=ids.SETTINGS_PANEL, is_open=False,
                                 className="settings-panel"), lg=3, md=4),
            dbc.Col(_results(), lg=9, md=8),
        ]),
    ], className="simulator-page")
