"""Pure figure builders for the /scenarios and /optimum pages: JSON-safe result records in, go.Figure out.

Traces are built from Python lists (plotly 7 serialises numpy arrays as binary, which breaks patches).
"""
from __future__ import annotations

import plotly.graph_objects as go

from dashapp.ui.intervals import mean_ci, single_path

KPI_LABELS = {
    "total_cost": "Total cost",
    "holding_cost": "Holding cost",
    "stockout_cost": "Stockout cost",
    "fill_rate": "Fill rate",
    "cycle_service_level": "Cycle service level",
    "days_without_stockout": "Days without stockout",
    "stockout_days": "Stockout days",
    "orders_placed": "Orders placed",
    "average_on_hand": "Average on-hand",
    "inventory_turns": "Inventory turns",
}
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"]


def _layout(fig: go.Figure, title: str, **kw) -> go.Figure:
    """Shared look; the plot toolbar stands upright in the right margin, clear of the title at the top left."""
    fig.update_layout(title=dict(text=title, x=0.01, xanchor="left", font=dict(size=14)), template="plotly_white",
                      margin=dict(l=50, r=45, t=50, b=40), modebar=dict(orientation="v"),
                      legend=dict(orientation="h", y=-0.2), **kw)
    return fig


def _floats(xs) -> list[float]:
    return [float(x) for x in xs]


def kpi_table_rows(result: dict) -> list[dict]:
    """One row per scenario: each KPI as 'mean ± ci95' and the paired difference of total cost vs the baseline."""
    rows = []
    scenarios = result.get("scenarios", [])
    base = scenarios[result.get("baseline", 0)] if scenarios else {}
    for sc in scenarios:
        row = {"scenario": sc["name"]}
        one_path = "total_cost_samples" in sc and single_path(sc["total_cost_samples"])
        for kpi in KPI_LABELS:
            v = sc.get("kpis", {}).get(kpi)
            if v is not None:
                row[kpi] = _fmt(kpi, v["mean"], v["ci95"], one_path=one_path)
        diff = sc.get("diff_vs_baseline", {}).get("total_cost")
        if diff is not None:
            both = one_path and "total_cost_samples" in base and single_path(base["total_cost_samples"])
            row["diff_total_cost"] = _fmt("total_cost", diff["mean"], diff["ci95"], signed=True, one_path=both)
        rows.append(row)
    return rows


def _fmt(kpi: str, mean: float, hw: float, signed: bool = False, one_path: bool = False) -> str:
    """'mean ± half-width', or the mean with "1 path — no interval" when the replications are one path."""
    if kpi in ("fill_rate", "cycle_service_level", "days_without_stockout"):
        return mean_ci(f"{mean * 100:{'+' if signed else ''}.2f}%", hw, one_path, f"{float(hw or 0) * 100:.2f}")
    return mean_ci(f"{mean:{'+' if signed else ''},.2f}", hw, one_path)


def cost_breakdown_figure(result: dict) -> go.Figure:
    """Stacked bars: mean holding and stockout cost per scenario, total-cost CI as error bar on top."""
    names = [s["name"] for s in result.get("scenarios", [])]
    hold = [s["kpis"]["holding_cost"]["mean"] for s in result.get("scenarios", [])]
    stock = [s["kpis"]["stockout_cost"]["mean"] for s in result.get("scenarios", [])]
    fig = go.Figure([
        go.Bar(name="Holding", x=names, y=_floats(hold), marker_color="#4c78a8"),
        go.Bar(name="Stockout", x=names, y=_floats(stock), marker_color="#e45756",
               error_y=dict(type="data", array=_floats(s["kpis"]["total_cost"]["ci95"]
                                                        for s in result.get("scenarios", [])))),
    ])
    return _layout(fig, "Cost breakdown (mean per replication, 95% CI of the total)", barmode="stack",
                   yaxis_title="cost")


def paired_difference_figure(result: dict, kpi: str = "total_cost") -> go.Figure:
    """Each scenario's paired difference against the baseline with its 95% CI (common random numbers)."""
    scs = [s for s in result.get("scenarios", []) if kpi in s.get("diff_vs_baseline", {})]
    base = result.get("baseline_name", "baseline")
    fig = go.Figure(go.Bar(
        x=[s["name"] for s in scs], y=_floats(s["diff_vs_baseline"][kpi]["mean"] for s in scs),
        error_y=dict(type="data", array=_floats(s["diff_vs_baseline"][kpi]["ci95"] for s in scs)),
        marker_color=["#54a24b" if s["diff_vs_baseline"][kpi]["mean"] < 0 else "#e45756" for s in scs],
    ))
    return _layout(fig, f"{KPI_LABELS.get(kpi, kpi)}: paired difference vs {base} (95% CI)",
                   yaxis_title="difference")


def cost_distribution_figure(result: dict) -> go.Figure:
    """Total cost of every replication, one box per scenario."""
    fig = go.Figure()
    for i, s in enumerate(result.get("scenarios", [])):
        fig.add_trace(go.Box(y=_floats(s.get("total_cost_samples", [])), name=s["name"], boxmean=True,
                             marker_color=PALETTE[i % len(PALETTE)]))
    return _layout(fig, "Distribution of total cost per replication", yaxis_title="total cost", showlegend=False)


def inventory_traces_figure(result: dict) -> go.Figure:
    """On-hand of replication 1 of every scenario, overlaid (same demand path under common random numbers)."""
    fig = go.Figure()
    for i, s in enumerate(result.get("scenarios", [])):
        trace = s.get("trace") or {}
        on_hand = trace.get("on_hand", [])
        fig.add_trace(go.Scatter(x=list(range(1, len(on_hand) + 1)), y=_floats(on_hand), mode="lines",
                                 name=s["name"], line=dict(color=PALETTE[i % len(PALETTE)], width=1.5)))
    return _layout(fig, "On-hand inventory, replication 1 (same demand for every scenario)",
                   xaxis_title="day", yaxis_title="units")


def cost_curve_figure(curve: dict, bound: float | None = None, marks: list[dict] | None = None) -> go.Figure:
    """Mean cost vs constant base-stock level S (with 95% band), the LP lower bound and policy markers.

    curve: {"levels": [...], "mean": [...], "ci95": [...]}; marks: [{"name", "level", "cost"}].
    """
    levels = _floats(curve.get("levels", []))
    mean = _floats(curve.get("mean", []))
    hw = _floats(curve.get("ci95", [0.0] * len(mean)))
    fig = go.Figure([
        go.Scatter(x=levels + levels[::-1], y=[m + h for m, h in zip(mean, hw)] + [m - h for m, h in
                   zip(mean[::-1], hw[::-1])], fill="toself", line=dict(width=0), fillcolor="rgba(76,120,168,0.2)",
                   name="95% CI", hoverinfo="skip"),
        go.Scatter(x=levels, y=mean, mode="lines+markers", name="base-stock cost", line=dict(color="#4c78a8")),
    ])
    if bound is not None and levels:
        fig.add_trace(go.Scatter(x=[min(levels), max(levels)], y=[float(bound)] * 2, mode="lines",
                                 name="perfect-information bound", line=dict(dash="dash", color="#333")))
    for i, m in enumerate(marks or []):
        if m.get("level") is not None:
            fig.add_trace(go.Scatter(x=[float(m["level"])], y=[float(m["cost"])], mode="markers",
                                     name=m["name"], marker=dict(size=12, symbol="diamond",
                                                                 color=PALETTE[(i + 1) % len(PALETTE)])))
    fig = _layout(fig, "Mean total cost vs base-stock level S", xaxis_title="S (units)", yaxis_title="mean cost")
    positive = [m for m in mean if m > 0]
    if positive and max(positive) / min(positive) > 50:
        fig.update_yaxes(type="log", title="mean cost (log scale)")
    return fig


REGRET_REFERENCE = "the cheapest policy found out of sample"


def regret_figure(policies: list[dict], reference: str = REGRET_REFERENCE) -> go.Figure:
    """Each policy's `regret` as a percentage: its extra mean cost over `reference`, the cost it is measured
    against (engine.studies.optimum: (cost − best found) / best found; not the perfect-information bound, which
    the cost curve draws)."""
    fig = go.Figure(go.Bar(x=[p["name"] for p in policies], y=[100.0 * float(p["regret"]) for p in policies],
                           text=[f"{100 * float(p['regret']):.1f}%" for p in policies], textposition="outside",
                           hovertemplate="%{x}: regret %{y:,.1f}%<extra></extra>",
                           marker_color=[PALETTE[i % len(PALETTE)] for i in range(len(policies))]))
    fig = _layout(fig, f"Regret: extra mean cost over {reference}", yaxis_title="extra cost (%)")
    vals = [100.0 * float(p["regret"]) for p in policies if float(p["regret"]) > 0]
    if vals and max(vals) / min(vals) > 50:
        fig.update_yaxes(type="log", title="extra cost (%, log scale)")
    return fig


def z_curve_figure(z_curve: dict, default_z: float | None = None) -> go.Figure:
    """Mean total cost of the order-up-to rule vs its safety factor z (95% band), the cost-based z marked."""
    z = _floats(z_curve.get("z", []))
    mean = _floats(z_curve.get("mean", []))
    hw = [float(h or 0.0) for h in z_curve.get("ci95", [0.0] * len(mean))]
    fig = go.Figure([
        go.Scatter(x=z + z[::-1], y=[m + h for m, h in zip(mean, hw)] + [m - h for m, h in zip(mean[::-1], hw[::-1])],
                   fill="toself", line=dict(width=0), fillcolor="rgba(84,162,75,0.2)", name="95% CI",
                   hoverinfo="skip"),
        go.Scatter(x=z, y=mean, mode="lines+markers", name="order-up-to cost", line=dict(color="#54a24b")),
    ])
    if default_z is not None and z:
        fig.add_vline(x=float(default_z), line_dash="dot", annotation_text="z = Φ⁻¹(p/(p+h))")
    fig = _layout(fig, "Mean total cost vs safety factor z (order-up-to)", xaxis_title="z", yaxis_title="mean cost")
    positive = [m for m in mean if m > 0]
    if positive and max(positive) / min(positive) > 50:
        fig.update_yaxes(type="log", title="mean cost (log scale)")
    return fig
