"""Component ids of the app shell and the simulator page, named once (browser tests address the same strings).

Page-local ids of /scenarios, /optimum and /forecasts carry their page's prefix (sc-, opt-, bt-) in those pages.
"""
from __future__ import annotations

# app shell
SESSION_ID = "session-id"
APP_MESSAGE = "app-message"

# simulator: run bar and status
START, PAUSE, STEP, RESET = "start", "pause", "step", "reset"
STATUS = "sim-status"
RUN_NOTE = "run-note"  # why a run-bar button is off, or what it will do
RUN_BAR = "run-bar"
MESSAGE = "sim-message"
HINT = "sim-hint"
HINT_TEXT = "hint-text"
PROGRESS = "progress"
SHOWN_DAY = "sim-day"  # store: the (run, day) the page shows
TICK = "tick"
TICK_WATCHDOG = "tick-watchdog"
EVENT_LOG = "event-log"
DOWNLOAD_LEDGER = "download-ledger"
LEDGER_DOWNLOAD = "ledger-download"

# simulator: data upload
UPLOAD = "upload-data"
UPLOAD_STATUS = "upload-status"
UPLOAD_MAPPING, UPLOAD_PICK = "upload-mapping", "upload-pick"  # the mapping step: pick an undecided role's column

# simulator: graphs and KPI cards
GRAPH_DEMAND, GRAPH_INVENTORY = "graph-demand", "graph-inventory"
GRAPH_ORDERS, GRAPH_COST = "graph-orders", "graph-cost"
GRAPHS = (GRAPH_DEMAND, GRAPH_INVENTORY, GRAPH_ORDERS, GRAPH_COST)
KPIS = ("kpi-day", "kpi-on-hand", "kpi-on-order", "kpi-cost", "kpi-fill-rate", "kpi-order")
COST_NOTE = "sim-cost-note"  # under the KPI cards: where the run's unit cost and price came from
COST_FIELDS = "Unit cost and Unit price under Supply & costs"  # where the simulator's costs are set


def kpi_sub(kpi_id: str) -> str:
    """The id of a KPI card's second line."""
    return f"{kpi_id}-sub"


# simulator: control fields, id -> key of the controls dict
CONTROLS = {
    "data-source": "data_source", "series": "series", "forecaster": "forecaster", "policy": "policy",
    "demand-mode": "demand_mode", "horizon": "horizon", "lead-time": "lead_time", "holding-rate": "holding_rate",
    "noise": "noise", "speed": "speed", "seed": "seed", "unit-cost": "unit_cost", "unit-price": "unit_price",
    "stockout-cost": "stockout_cost", "backorders": "backorders", "initial-inventory": "initial_inventory",
    "service-level": "service_level", "policy-level": "policy_level", "policy-s": "policy_s",
    "policy-q": "policy_q",
    "moq": "moq", "pack-size": "pack_size", "order-days": "order_days", "order-cost": "order_cost",  # supplier rules
}
DATA_SOURCE, SERIES, POLICY, SPEED = "data-source", "series", "policy", "speed"


def control_id(key: str) -> str:
    """The field id of a controls-dict key ("lead_time" -> "lead-time")."""
    return key.replace("_", "-")


def field_row(key: str) -> str:
    """The id of the row holding a policy parameter's field (hidden when the policy does not take it)."""
    return f"row-{control_id(key)}"

# /optimum: the exact optimum for stationary demand (dashapp/pages/optimum/exact.py); "optx" is its job prefix
EXACT_PREFIX = "optx"
EXACT_DIST, EXACT_MEAN, EXACT_VAR, EXACT_SERIES = "optx-dist", "optx-mean", "optx-var", "optx-series"
EXACT_LEAD, EXACT_H, EXACT_P, EXACT_SALES = "optx-lead-time", "optx-h", "optx-p", "optx-sales"
EXACT_RUN, EXACT_CANCEL, EXACT_PROGRESS = "optx-run", "optx-cancel", "optx-progress"
EXACT_REQUEST, EXACT_RESULT, EXACT_STATUS = "optx-request", "optx-result", "optx-status"
EXACT_RESULTS, EXACT_HEADLINE, EXACT_OPTIMAL = "optx-results", "optx-headline", "optx-optimal-cost"
EXACT_TABLE, EXACT_GRAPH = "optx-gaps", "optx-graph-policy"
EXACT_UPLOAD, EXACT_UPLOADED, EXACT_UPLOAD_STATUS = "optx-upload", "optx-uploaded", "optx-upload-status"
EXACT_K, EXACT_CERTIFICATE = "optx-order-cost", "optx-certificate"

# simulator: the settings carried to /optimum and /scenarios (dashapp/ui/carry_settings.py)
SETTINGS_LINKS, OPTIMUM_LINK, SCENARIOS_LINK = "sim-links", "sim-optimum-link", "sim-scenarios-link"
HINT_OPTIMUM_LINK = "hint-optimum-link"
HINT_RECOMMENDATION = "hint-recommendation"  # the recommendation in the hint (dashapp.ui.recommendation ids)
HINT_COMPARISON = "hint-comparison"  # your rule vs the recommendation on the same paths
HINT_LEVEL = "hint-level"  # the after-run hint's sentence on the order-up-to level used
HINT_TARGET = "hint-target"  # the run's service-level target against the hint's least-cost objective
HINT_RUN_DAYS = "hint-run-days"  # both rules on the run's own days, from its start stock

# simulator: the event log's summary line and its filter by event kind
EVENT_SUMMARY, EVENT_FILTER = "event-summary", "event-filter"
EVENT_KINDS = {"order": "Orders", "arrival": "Arrivals", "stockout": "Stockouts"}

# simulator: the settings panel, collapsible on a phone
SETTINGS_TOGGLE, SETTINGS_PANEL = "settings-toggle", "settings-panel"

# simulator: the forecaster dropdown (its options depend on the chosen series' columns)
FORECASTER = "forecaster"

# /portfolio: upload, mapping step, run settings, totals and grid (dashapp/pages/portfolio/page.py); "pf" is its job
# prefix
PF_PREFIX = "pf"
PF_UPLOAD, PF_UPLOAD_STATUS, PF_FILE, PF_MAPPING = "pf-upload", "pf-upload-status", "pf-file", "pf-mapping"
PF_ROLE_PREFIX = "pf-role-"  # + engine.data.layout role: the dropdown of that role's column
PF_FILE_OK, PF_FILE_PROBLEM, PF_FILL_ZERO = "pf-file-ok", "pf-file-problem", "pf-fill-zero"
PF_LEAD_TIME, PF_REPLICATIONS, PF_DAYS = "pf-lead-time", "pf-replications", "pf-days"
PF_OBJECTIVE, PF_TARGET = "pf-objective", "pf-target"
PF_RUN, PF_CANCEL, PF_PROGRESS = "pf-run", "pf-cancel", "pf-progress"
PF_REQUEST, PF_RESULT, PF_STATUS, PF_RESULTS = "pf-request", "pf-result", "pf-status", "pf-results"
PF_RESULT_NOTE, PF_TOTAL_SERIES, PF_TOTAL_COST = "pf-result-note", "pf-total-series", "pf-total-cost"
PF_GRID, PF_DOWNLOAD_BTN, PF_DOWNLOAD = "pf-grid", "pf-download-btn", "pf-download"
PF_SEARCH = "pf-search"
PF_TOTAL_PREMIUM = "pf-total-premium"  # what the fill-rate objective costs beyond the least-cost one
PF_MOQ, PF_PACK_SIZE, PF_ORDER_DAYS, PF_ORDER_COST = "pf-moq", "pf-pack-size", "pf-order-days", "pf-order-cost"

# /orders: today's order proposals (dashapp/pages/orders/page.py)
OR_SALES_UPLOAD, OR_STOCK_UPLOAD, OR_ITEMS_UPLOAD = "or-sales-upload", "or-stock-upload", "or-items-upload"
OR_SALES_STATUS, OR_STOCK_STATUS, OR_ITEMS_STATUS = "or-sales-status", "or-stock-status", "or-items-status"
OR_DATE, OR_RUN, OR_STATUS, OR_LOADED = "or-date", "or-run", "or-status", "or-loaded"
OR_SUMMARY, OR_ASSUMPTIONS, OR_GRID, OR_EDIT_STATUS = "or-summary", "or-assumptions", "or-grid", "or-edit-status"
OR_DOWNLOAD_BTN, OR_DOWNLOAD = "or-download-btn", "or-download"
OR_OBJECTIVE, OR_TARGET = "or-objective", "or-target"
OR_CANCEL, OR_PROGRESS, OR_REQUEST = "or-cancel", "or-progress", "or-request"
OR_LEVELS = "or-levels"   # where the levels come from: each series' recommendation or a global model
OR_FOLLOW, OR_POLL = "or-follow", "or-poll"   # a reloaded page following its session's running proposal

# /portfolio "Check against history" (dashapp/pages/portfolio/history_view.py); "pfbt" is its job prefix
PFBT_PREFIX = "pfbt"
PFBT_RUN, PFBT_CANCEL, PFBT_PROGRESS, PFBT_ORIGINS = "pfbt-run", "pfbt-cancel", "pfbt-progress", "pfbt-origins"
PFBT_REQUEST, PFBT_RESULT, PFBT_STATUS, PFBT_RESULTS = "pfbt-request", "pfbt-result", "pfbt-status", "pfbt-results"
PFBT_SUMMARY, PFBT_CLASSES, PFBT_CHART, PFBT_MISSES = "pfbt-summary", "pfbt-classes", "pfbt-chart", "pfbt-misses"
PFBT_LEVELS = "pfbt-levels"   # the check's levels: the portfolio's recommendations or a global model's
