"""Figure builders: ledger rows (dicts) in, `go.Figure` or `dash.Patch` out. Pure functions, no I/O.

Every streamed trace is built from Python lists (plotly 7 would encode numpy arrays as binary `bdata`, which
`Patch` appends and `extendData` cannot extend). New points are written by *index* (`Assign` at x[i]) instead
of appended, so a tick response applied twice still leaves exactly one point per simulated day.
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence

import plotly.graph_objects as go
import plotly.io as pio
from dash import Patch

from dashapp.ids import GRAPHS as GRAPH_IDS
from dashapp.ui.ledger_totals import totals

# The app's figures use plotly_white. Set as the default once: a `template=` per figure is validated anew each
# time (~35 ms of a 50 ms figure; a page load builds four), the default is applied without that.
pio.templates.default = "plotly_white"

# graph id -> [(trace name, column, plotly trace kwargs)], in trace order.
TRACES: dict[str, list[tuple[str, str, dict]]] = {
    "graph-demand": [
        ("Forecast", "forecast", dict(mode="lines", line=dict(color="#1f77b4", dash="dot"))),
        ("Actual demand", "demand", dict(mode="lines+markers", marker=dict(size=4), line=dict(color="#d62728"))),
    ],
    "graph-inventory": [
        ("On-hand (end of day)", "on_hand", dict(mode="lines", line=dict(color="#2ca02c"))),
        ("Inventory position", "inventory_position", dict(mode="lines", line=dict(color="#9467bd"))),
        ("Order-up-to level S", "order_up_to", dict(mode="lines", line=dict(color="#ff7f0e", dash="dash", shape="hv"))),
        # open, half-transparent markers: an arrival never hides the on-hand line under it
        ("Arrivals", "arrivals_marker", dict(mode="markers", opacity=0.7,
                                             marker=dict(symbol="triangle-up-open", size=8, color="#17becf",
                                                         line=dict(width=1.5)))),
    ],
    "graph-orders": [
        ("Order quantity", "order_qty", dict(type="bar", marker=dict(color="#8c564b"))),
    ],
    "graph-cost": [
        # stacked areas: the stockout band sits on the holding area and has no edge line of its own, so with no
        # stockout cost the band is empty and the holding line stays visible (the band's top is the total)
        ("Holding (cumulative)", "cum_holding", dict(mode="lines", stackgroup="cost", line=dict(color="#9a9b1c"),
                                                     fillcolor="rgba(188,189,34,0.35)")),
        ("Stockout (cumulative, stacked on holding)", "cum_stockout",
         dict(mode="none", stackgroup="cost", fillcolor="rgba(227,119,194,0.55)")),
    ],
}

TITLES = {
    "graph-demand": ("Forecast vs actual demand", "units / day"),
    "graph-inventory": ("Inventory: on-hand, position, S, arrivals", "units"),
    "graph-orders": ("Orders placed", "units"),
    "graph-cost": ("Cumulative cost (holding + stockout)", "cost"),
}


def _num(v) -> float | None:
    """JSON-safe float (None for missing/NaN) as a plain Python float."""
    if v is None:
        return None
    f = float(v)
    return None if math.isnan(f) or math.isinf(f) else round(f, 4)


def columns(rows: Sequence[dict], start: int = 0) -> dict[str, list]:
    """Plotted columns of rows[start:] as Python lists, including derived ones (cumulative cost split, arrival
    markers); cumulative sums still count every row before `start`."""
    part = rows[start:]
    out: dict[str, list] = {"day": [int(r["day"]) for r in part]}
    for key in ("forecast", "demand", "on_hand", "inventory_position", "order_up_to", "order_qty"):
        out[key] = [_num(r.get(key)) for r in part]
    out["arrivals_marker"] = [_num(r["arrivals"]) if r.get("arrivals") else None for r in part]
    before = totals(rows, start)
    h, s = before["holding"], before["stockout"]
    cum_h, cum_s = [], []
    for r in part:
        h += float(r.get("holding_cost") or 0.0)
        s += float(r.get("stockout_cost") or 0.0)
        cum_h.append(round(h, 4))
        cum_s.append(round(s, 4))
    out["cum_holding"], out["cum_stockout"] = cum_h, cum_s
    return out


def _layout(graph_id: str, horizon: int | None) -> dict:
    title, ytitle = TITLES[graph_id]
    xaxis = dict(title="day")
    if horizon:
        xaxis["range"] = [0.5, horizon + 0.5]
    return dict(
        title=dict(text=title, font=dict(size=14)), xaxis=xaxis, yaxis=dict(title=ytitle, rangemode="tozero"),
        margin=dict(l=50, r=10, t=40, b=40), height=300, legend=dict(orientation="h", y=-0.25),
        uirevision=graph_id, bargap=0.2,
    )


def build_figure(graph_id: str, rows: Sequence[dict], horizon: int | None = None) -> go.Figure:
    """The full figure of one graph for the ledger so far."""
    cols = columns(rows)
    fig = go.Figure()
    for name, key, kwargs in TRACES[graph_id]:
        kw = dict(kwargs)
        kind = kw.pop("type", "scatter")
        trace = go.Bar if kind == "bar" else go.Scatter
        fig.add_trace(trace(x=list(cols["day"]), y=list(cols[key]), name=name, **kw))
    fig.update_layout(**_layout(graph_id, horizon))
    return fig


def point_patches(rows: Sequence[dict], start: int) -> dict[str, Patch]:
    """Patches that write the points of days start+1..len(rows) at their indices (idempotent)."""
    cols = columns(rows, start)
    patches = {}
    for gid in GRAPH_IDS:
        p = Patch()
        for ti, (_, key, _) in enumerate(TRACES[gid]):
            for j, i in enumerate(range(start, len(rows))):
                p["data"][ti]["x"][i] = cols["day"][j]
                p["data"][ti]["y"][i] = cols[key][j]
        patches[gid] = p
    return patches


def backtest_figure(actual: Sequence[float], forecasts: dict[str, Sequence[float]], x: Iterable | None = None,
                    title: str = "Forecast vs actual (holdout)") -> go.Figure:
    """Holdout actuals against each model's one-step-ahead forecasts. The actual series is the last trace, so it is
    drawn in front of the forecasts; the legend sits at the right, clear of the x-axis title."""
    xs = list(x) if x is not None else list(range(1, len(actual) + 1))
    fig = go.Figure()
    for name, values in forecasts.items():
        fig.add_trace(go.Scatter(x=xs, y=[_num(v) for v in values], name=name, mode="lines",
                                 line=dict(width=1.5), opacity=0.85))
    fig.add_trace(go.Scatter(x=xs, y=[_num(v) for v in actual], name="Actual", mode="lines",
                             line=dict(color="black", width=2.5)))
    fig.update_layout(title=title, template="plotly_white", height=380, margin=dict(l=50, r=10, t=40, b=45),
                      xaxis=dict(title="holdout day"), yaxis=dict(title="units / day"),
                      legend=dict(orientation="v", x=1.01, y=1, xanchor="left", yanchor="top"))
    return fig


def empty_figure(message: str) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(template="plotly_white", height=300, xaxis=dict(visible=False), yaxis=dict(visible=False),
                      annotations=[dict(text=message, showarrow=False, font=dict(size=14))])
    return fig
