"""The picture of the exact optimal lost-sales policy: how much to order in each state (on-hand, pipeline).

A pure function of JSON records, so it is tested without a browser. For lead time L = 2 the state is the on-hand
stock and the one order in the pipeline; for L ≤ 1 there is no pipeline and the picture is a single row.
Traces are built from Python lists (plotly serialises numpy arrays as binary, which breaks patches).
"""
from __future__ import annotations

import plotly.graph_objects as go

__all__ = ["optimal_order_figure"]


def optimal_order_figure(records: list[dict], lead_time: int) -> go.Figure:
    """Heatmap of the optimal order quantity: x = on-hand (units), y = pipeline (units); records
    [{"on_hand", "pipeline", "order"}]. States outside the solver's bound (on-hand + pipeline > B) stay blank."""
    if not records:
        fig = go.Figure()
        fig.update_layout(title="Optimal order: no states to show", template="plotly_white")
        return fig
    xs = sorted({int(r["on_hand"]) for r in records})
    ys = sorted({int(r["pipeline"]) for r in records})
    col = {x: i for i, x in enumerate(xs)}
    row = {y: i for i, y in enumerate(ys)}
    z: list[list] = [[None] * len(xs) for _ in ys]
    for r in records:
        z[row[int(r["pipeline"])]][col[int(r["on_hand"])]] = int(r["order"])
    fig = go.Figure(go.Heatmap(
        x=xs, y=ys, z=z, colorscale="Blues", colorbar=dict(title="order (units)"),
        hovertemplate="on-hand %{x}, pipeline %{y}: order %{z} units<extra></extra>"))
    pipeline_title = "order in the pipeline (units)" if lead_time >= 2 else "pipeline (none at this lead time)"
    fig.update_layout(title=f"Optimal order quantity (lead time {lead_time})", template="plotly_white",
                      xaxis_title="on-hand stock (units)", yaxis_title=pipeline_title,
                      margin=dict(l=60, r=20, t=60, b=50))
    return fig
