"""What /portfolio draws for "Check against history": the button row, and from a result the summary sentence,
promised vs realised per demand class (with the days-of-cover baseline), the calibration chart and the exception
list (dashapp.pages.portfolio.history_check computes them)."""
from __future__ import annotations

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashapp import ids
from dashapp.pages.portfolio.history_check import calibration_figure, class_rows, exception_rows
from dashapp.pages.portfolio.view import pct, rules_note
from dashapp.ui.components import duration
from dashapp.ui.levels import OWN_LEVELS, level_options
from dashapp.ui.tables import plain_columns, result_grid
from engine.studies.policy_backtest import ORIGINS_RANGE, unscored_text


def check_controls():
    """The section's explanation, the origins and “Levels from” fields, the button, Cancel and the progress bar."""
    return html.Div([
        html.H2("Check against history", className="h5"),
        html.P("Recommend again on the file's history before an origin — the last days per replication of each "
               "series held out — then run those recommendations on the real held-out days (on-hand = the level "
               "at the start, nothing on order) and compare what was promised with what happened. More origins: "
               "the held-out windows step back from the end of the file, each recommended on what came before it. "
               "Beside it, a days-of-cover rule the way planners set stock (S = k × (lead time + 1) × the last 28 "
               "days' mean, k per series on its own past for the same target). “Levels from” a global model checks "
               "its quantile as the level instead, chosen per demand class for the objective on days it never "
               "trained on, before each origin, under the same supplier's rules.", className="text-muted small"),
        dbc.Row([
            dbc.Col([dbc.Label("Origins ({}–{})".format(*ORIGINS_RANGE), className="small mb-0",
                               html_for=ids.PFBT_ORIGINS),
                     dbc.Input(id=ids.PFBT_ORIGINS, type="number", step="any", value=1, size="sm")],
                    md=2, sm=3),
            dbc.Col([dbc.Label("Levels from", className="small mb-0", html_for=ids.PFBT_LEVELS),
                     dbc.Select(id=ids.PFBT_LEVELS, options=level_options(), value=OWN_LEVELS, size="sm")],
                    md=2, sm=4),
            dbc.Col(dbc.Button("Check against history", id=ids.PFBT_RUN, color="secondary"), width="auto"),
            dbc.Col(dbc.Button("Cancel", id=ids.PFBT_CANCEL, color="danger", outline=True, disabled=True),
                    width="auto"),
            dbc.Col(dbc.Progress(id=ids.PFBT_PROGRESS, value=0, label="", style={"height": "24px"}),
                    className="pt-1"),
        ], className="g-2 align-items-end mb-2"),
        html.Div(id=ids.PFBT_STATUS),
    ])


def _summary(result: dict):
    s, t, b = result["settings"], result["totals"], result["baseline"]
    rules = rules_note(s)   # the supplier's rules the check ran under, as the portfolio run says them
    levels = (f"Levels from {s['forecaster']}'s quantiles, τ per demand class on the days it never trained on. "
              if s.get("forecaster") else "")
    return html.P([
        f"{result['file']}: {t['series']} series × {s['origins']} origin(s) of {s['holdout_days']} held-out days, "
        f"target {pct(s['target_fill_rate'])}. {levels}{rules + ' ' if rules else ''}"
        f"Promised {pct(t['promised_fill_rate'])}, realised "
        f"{pct(t['realised_fill_rate'])} (mean over series; {pct(t['realised_fill_rate_units'])} of all units); "
        f"{t['series_within_5pts']} of {t['scored']} series within 5 points of their promise"
        + (f" ({len(t['unscored'])} not scored — no demand in their held-out days: {unscored_text(t['unscored'])})"
           if t.get("unscored") else "") + ". Mean stock on hand "
        f"{t['average_on_hand']:,.1f} units against {b['average_on_hand']:,.1f} for days of cover "
        f"(fill {pct(b['realised_fill_rate'])}). Computed in {duration(result['elapsed_s'])}."],
        className="small", id=ids.PFBT_SUMMARY)


def _class_table(result: dict):
    rows = [{**r, "promised": pct(r["promised"]), "realised": pct(r["realised"]),
             "points": "–" if r["points"] is None else f"{r['points']:+.1f}",
             "on_hand": "–" if r["on_hand"] is None else f"{r['on_hand']:,.1f}",
             "baseline": pct(r["baseline"]),
             "baseline_on_hand": "–" if r["baseline_on_hand"] is None else f"{r['baseline_on_hand']:,.1f}"}
            for r in class_rows(result)]
    cols = [("class", "Demand class"), ("series", "Series"), ("promised", "Promised fill rate"),
            ("realised", "Realised fill rate"), ("points", "Realised − promised (points)"),
            ("on_hand", "Mean on hand"), ("baseline", "Days of cover: fill rate"),
            ("baseline_on_hand", "Days of cover: on hand")]
    return result_grid(ids.PFBT_CLASSES, rows, plain_columns(cols))


def _misses(result: dict):
    rows = exception_rows(result)
    if not rows:
        return html.P("No series missed its promise by more than 5 points.", className="small", id=ids.PFBT_MISSES)
    num = {"filter": "agNumberColumnFilter", "type": "rightAligned"}
    fmt = lambda f: {"function": f"params.value == null ? '–' : d3.format('{f}')(params.value)"}  # noqa: E731
    cols = [{"headerName": "Series", "field": "series", "pinned": "left", "minWidth": 160},
            {"headerName": "Last day seen", "field": "origin_date"}, {"headerName": "Class", "field": "class"},
            {"headerName": "Policy", "field": "policy"}, {"headerName": "Forecaster", "field": "forecaster"},
            {"headerName": "Promised", "field": "promised", "valueFormatter": fmt(".1%"), **num},
            {"headerName": "Realised", "field": "realised", "valueFormatter": fmt(".1%"), **num},
            {"headerName": "Points", "field": "points", "valueFormatter": fmt("+.1f"), "sort": "asc", **num},
            {"headerName": "Units demanded", "field": "demand", "valueFormatter": fmt(",.0f"), **num},
            {"headerName": "Mean on hand", "field": "on_hand", "valueFormatter": fmt(",.1f"), **num}]
    return html.Div([
        html.H3(f"Exceptions: {len(rows)} series missed the promise by more than 5 points", className="h6"),
        dag.AgGrid(id=ids.PFBT_MISSES, rowData=rows, columnDefs=cols,
                   defaultColDef={"sortable": True, "filter": True, "resizable": True, "minWidth": 100},
                   dashGridOptions={"pagination": True, "paginationPageSize": 20, "animateRows": False},
                   columnSize="autoSize", style={"height": "420px", "width": "100%"}),
    ])


def check_view(result: dict | None):
    if not result:
        return None
    return html.Div([
        _summary(result),
        _class_table(result),
        dcc.Graph(id=ids.PFBT_CHART, figure=calibration_figure(result)),
        _misses(result),
    ])
