"""The recommendation as the pages show it: one component for the simulator's hint, /optimum's headline and
/portfolio's detail, built from engine.studies.recommendation's record, so the three read the same words and
numbers. Assumed costs are said to be assumptions beside the figures they drive."""
from __future__ import annotations

from dash import html

from engine.studies.recommendation import policy_words

__all__ = ["recommendation_view", "cost_note", "figures_sentence"]


def figures_sentence(rec: dict) -> str:
    lo, hi = rec["expected_cost_ci"]
    ev = rec["evaluation"]
    fill = "n/a" if rec["fill_rate"] is None else f"{100 * rec['fill_rate']:.1f} %"
    csl = "n/a" if rec["cycle_service_level"] is None else f"{100 * rec['cycle_service_level']:.1f} %"
    return (f"Expected cost {rec['expected_cost']:,.2f} (95 % interval {lo:,.2f} – {hi:,.2f}) over {ev['days']} "
            f"days, fill rate {fill}, cycle service level {csl}, mean on-hand {rec['average_on_hand']:,.1f} — "
            f"on {ev['paths']} resampled paths of this series' history other than those it was chosen on.")


def cost_note(costs: dict) -> str:
    """Where the costs came from; an assumption says so and how to change it."""
    base = (f"unit cost {costs['unit_cost']:g}, price {costs['unit_price']:g}: holding {costs['h']:.4f} per unit "
            f"and day, a lost sale {costs['p']:,.2f}")
    if costs["source"] == "assumed":
        return (f"Costs assumed ({base}) — the file has no price or cost column; enter your unit cost and price "
                "to make these figures yours.")
    if costs["source"] == "file":
        return f"Costs from the file ({base})."
    return f"Costs as entered ({base})."


def recommendation_view(rec: dict, id_prefix: str) -> html.Div:
    """The recommendation: what to do, its figures, the objective, the costs (ids `{id_prefix}-policy`, `-figures`,
    `-objective`, `-costs`, `-premium` for tests and screen readers)."""
    parts = [html.Div([html.Strong("Recommended: "), html.Span(policy_words(rec), id=f"{id_prefix}-policy")]),
             html.Div(figures_sentence(rec), id=f"{id_prefix}-figures", className="small"),
             html.Div(f"Objective: {rec['objective']['meaning']}.", id=f"{id_prefix}-objective", className="small")]
    prem = rec.get("service_premium")
    if prem:
        share = "" if prem["extra_share"] is None else f" ({100 * prem['extra_share']:.1f} %)"
        parts.append(html.Div(f"This service target costs {prem['extra_cost']:,.2f}{share} more than the least-cost "
                              f"recommendation ({prem['least_cost']:,.2f}).", id=f"{id_prefix}-premium",
                              className="small fw-semibold"))
    note = cost_note(rec["costs"])
    parts.append(html.Div(note, id=f"{id_prefix}-costs",
                          className="small" + (" text-warning-emphasis" if rec["costs"]["source"] == "assumed"
                                               else " text-muted")))
    return html.Div(parts, id=id_prefix, className="recommendation")
