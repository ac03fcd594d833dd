"""What the /portfolio page draws from a result: the totals cards and the recommendations grid (dash-ag-grid).

Labels, not internal names: the grid shows "Croston" rather than "croston", percentages for fill rates, money with
two decimals; numbers stay numbers in the grid (formatted by the grid), so sorting and filtering work on values.
"""
from __future__ import annotations

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import html

from dashapp import ids
from dashapp.pages.portfolio.service import simulator_link
from dashapp.ui.components import duration
from dashapp.ui.recommendation import rules_sentence
from engine.data.layout import ROLES
from engine.policies.order_rules import OrderRules
from engine.studies.recommendation import objective_words, policy_words

FORECASTER_LABELS = {"ses": "Exponential smoothing", "ma28": "28-day moving average", "croston": "Croston",
                     "sba": "Syntetos–Boylan approximation", "tsb": "Teunter–Syntetos–Babai"}
POLICY_LABELS = {"order-up-to": "Order-up-to, daily review", "r-Q": "Reorder point r, quantity Q",
                 "s-S": "(s, S): below s order up to S (order cost K)"}
NONE = "__none__"  # the dropdown value of "not in this file"


def choices_from_values(values: list) -> dict:
    """{role: column or None} from the dropdowns' values, in ROLES order."""
    return {role: (None if v in (None, NONE) else v) for role, v in zip(ROLES, values)}


def _card(title: str, value: str, sub: str = "", card_id: str | None = None):
    return dbc.Col(dbc.Card(dbc.CardBody([html.Div(title, className="kpi-title"),
                                          html.Div(value, className="kpi-value",
                                                   **({"id": card_id} if card_id else {})),
                                          html.Div(sub, className="kpi-sub")]), className="kpi-card h-100"),
                   xl=2, md=4, sm=6, className="mb-2")


def pct(x) -> str:
    """A share as the portfolio pages write it ('95.2 %'; '–' when undefined)."""
    return "–" if x is None else f"{100 * x:.1f} %"


def totals_cards(result: dict):
    t = result["totals"]
    s = result["settings"]
    by_class = ", ".join(f"{n} {c}" for c, n in sorted(t.get("by_class", {}).items()))
    return dbc.Row([
        _card("Series", f"{t['series']:,}", by_class, ids.PF_TOTAL_SERIES),
        _card(f"Expected cost ({s['days']} days)", f"{t['expected_cost']:,.2f}",
              f"95 % CI {t['cost_ci_low']:,.2f} – {t['cost_ci_high']:,.2f}", ids.PF_TOTAL_COST),
        _cost_parts_card(t, s),
        _card("Mean fill rate", pct(t.get("mean_fill_rate")), f"target {100 * s['target_fill_rate']:.1f} %"),
        _card("Mean cycle service level", pct(t.get("mean_cycle_service_level")),
              "share of replenishment cycles without a stockout"),
        _card("Series meeting the target", f"{t['series_meeting_target']:,}", "simulated fill rate ≥ target"),
        *([_card("Cost of the fill-rate target", f"{t['service_premium']:,.2f}",
                 f"more than least expected cost ({t['least_cost']:,.2f}) on the same paths", ids.PF_TOTAL_PREMIUM)]
          if t.get("service_premium") is not None else []),
    ])


def _cost_parts_card(t: dict, s: dict):
    """Holding and stockout cost, and the ordering cost (K × orders: the rest of the expected cost) under an order
    cost K."""
    policies = " · ".join(f"{n} {POLICY_LABELS.get(k, k)}" for k, n in sorted(t.get("by_policy", {}).items()))
    if not s.get("order_cost"):
        return _card("Holding · stockout cost", f"{t['holding_cost']:,.0f} · {t['stockout_cost']:,.0f}", policies)
    ordering = t["expected_cost"] - t["holding_cost"] - t["stockout_cost"]
    return _card("Holding · stockout · ordering cost",
                 f"{t['holding_cost']:,.0f} · {t['stockout_cost']:,.0f} · {ordering:,.0f}", policies,
                 "pf-total-parts")


def rules_note(settings: dict) -> str:
    """The supplier's rules of the run in one sentence ('' without any)."""
    rules = {k: settings.get(k) for k in ("moq", "pack_size", "order_cost", "order_days")}
    if rules["order_days"]:
        rules["review_period"] = OrderRules(order_days=tuple(rules["order_days"])).review_period()
    return rules_sentence(rules) or ""


def grid_rows(records: list[dict]) -> list[dict]:
    """One grid row per record: numbers kept as numbers, names as labels, a link to the simulator."""
    rows = []
    for r in records:
        rows.append({
            "series": r["series"], "class": r["class"],
            "what_to_do": policy_words(r["recommendation"]) if "recommendation" in r else None,
            "costs": (r.get("recommendation") or {}).get("costs", {}).get("source"),
            "forecaster": FORECASTER_LABELS.get(r["forecaster"], r["forecaster"]),
            "policy": POLICY_LABELS.get(r["policy"], r["policy"]), "lead_time": r["lead_time"],
            "reorder_point": r.get("reorder_point"), "order_quantity": r.get("order_quantity"),
            "order_up_to": r["order_up_to"], "safety_stock": r["safety_stock"], "z": r["z"],
            "daily_forecast": r["daily_forecast"], "expected_cost": r["expected_cost"],
            "cost_ci": f"{r['cost_ci_low']:,.2f} – {r['cost_ci_high']:,.2f}",
            "fill_rate": r["fill_rate"], "promised_fill_rate": r.get("promised_fill_rate"),
            "cycle_service_level": r["cycle_service_level"],
            "stockout_days": r["stockout_days"],
            "orders_per_year": None if r.get("orders") is None else r["orders"] * 365.0 / r["days"],
            "simulate": f"[Open in simulator]({simulator_link(r)})",
        })
    return rows


def _num(fmt: str) -> dict:
    return {"function": f"params.value == null ? '–' : d3.format('{fmt}')(params.value)"}


def column_defs() -> list[dict]:
    text = {"filter": "agTextColumnFilter"}
    num = {"filter": "agNumberColumnFilter", "type": "rightAligned"}
    return [
        {"headerName": "Series", "field": "series", "pinned": "left", "minWidth": 150, **text},
        {"headerName": "What to do (the recommendation)", "field": "what_to_do", "minWidth": 420, "wrapText": True,
         "autoHeight": True, **text},
        {"headerName": "Demand class", "field": "class", **text},
        {"headerName": "Forecaster (by backtest)", "field": "forecaster", "minWidth": 190, **text},
        {"headerName": "Policy", "field": "policy", "minWidth": 190, **text},
        {"headerName": "Lead time (days)", "field": "lead_time", **num},
        {"headerName": "Reorder point r", "field": "reorder_point", "valueFormatter": _num(",.1f"), **num},
        {"headerName": "Order quantity Q", "field": "order_quantity", "valueFormatter": _num(",.0f"), **num},
        {"headerName": "Order-up-to level S", "field": "order_up_to", "valueFormatter": _num(",.1f"), **num},
        {"headerName": "Safety stock", "field": "safety_stock", "valueFormatter": _num(",.1f"), **num},
        {"headerName": "z (safety ÷ backtest RMSE)", "field": "z", "valueFormatter": _num(".2f"), **num},
        {"headerName": "Forecast per day", "field": "daily_forecast", "valueFormatter": _num(",.2f"), **num},
        {"headerName": "Expected cost", "field": "expected_cost", "valueFormatter": _num(",.2f"), **num},
        {"headerName": "Cost 95 % CI", "field": "cost_ci", "minWidth": 170, "sortable": False, **text},
        {"headerName": "Costs (file / assumed / entered)", "field": "costs", "minWidth": 150, **text},
        {"headerName": "Fill rate", "field": "fill_rate", "valueFormatter": _num(".1%"), **num},
        {"headerName": "Promised fill rate (corrected on history)", "field": "promised_fill_rate",
         "valueFormatter": _num(".1%"), **num},
        {"headerName": "Cycle service level", "field": "cycle_service_level", "valueFormatter": _num(".1%"), **num},
        {"headerName": "Stockout days", "field": "stockout_days", "valueFormatter": _num(".1f"), **num},
        {"headerName": "Orders per year", "field": "orders_per_year", "valueFormatter": _num(",.1f"), **num},
        {"headerName": "Simulator", "field": "simulate", "cellRenderer": "markdown", "linkTarget": "_self",
         "pinned": "right",
         "sortable": False, "filter": False, "minWidth": 160},
    ]


def results_view(result: dict | None):
    if not result:
        return None
    s = result["settings"]
    lead = "from the file (else 7 days)" if s.get("lead_time") is None else f"{s['lead_time']} days"
    goal = objective_words(s)
    return html.Div([
        html.P(f"{result['file']}: {s['replications']} replications × {s['days']} days per series (as many other "
               f"replications chose the safety stock), lead time {lead}, objective: {goal}. The paths resample each "
               "series' last year in week-long stretches: a season or a trend the days follow becomes week-to-week "
               "jumps there, so on a seasonal file the expected cost can come out several times what the real days "
               "cost; “Check against history” below runs the recommendations on real days. "
               f"Computed in {duration(result['elapsed_s'])} on {result.get('ran_on', 'the server')}; a second "
               "Run of the same file, mapping and settings is served from the result cache at once. " + rules_note(s),
               className="text-muted small", id=ids.PF_RESULT_NOTE),
        totals_cards(result),
        dbc.Row([
            dbc.Col(html.P("Sort or filter by any column header. Policy: the order-up-to level S (the columns S, "
                           "safety stock, z); under the fill-rate objective, or when asked for, a static reorder "
                           "point r with quantity Q, whichever reached the objective better on the selection "
                           "replications; with an order cost, (s, S). “Open in simulator” opens that series on the "
                           "Simulator page with its forecaster, lead time and policy (an order-up-to winner as the "
                           "very rule: its safety quantile Q, S following the forecast).",
                           className="small text-muted mb-1")),
            dbc.Col(dbc.Button("Download recommendations (CSV)", id=ids.PF_DOWNLOAD_BTN, size="sm",
                               color="primary", outline=True), width="auto"),
        ], className="align-items-end"),
        dag.AgGrid(id=ids.PF_GRID, rowData=grid_rows(result["records"]), columnDefs=column_defs(),
                   defaultColDef={"sortable": True, "filter": True, "resizable": True, "floatingFilter": True,
                                  "minWidth": 110},
                   dashGridOptions={"pagination": True, "paginationPageSize": 50, "animateRows": False},
                   columnSize="autoSize", style={"height": "620px", "width": "100%"}),
    ])
