"""The recommendation as the pages show it: one component for the simulator's hint, /optimum's headline and
/portfolio's detail, built from engine.studies.recommendation's record, so the three read the same words and
numbers. Assumed costs are said to be assumptions beside the figures they drive."""
from __future__ import annotations

from dash import html

from engine.data.dataset import COST_RULE
from engine.studies.recommendation import policy_words

__all__ = ["recommendation_view", "rules_sentence", "cost_note", "cost_note_view", "is_assumed", "figures_sentence",
           "two_worlds_sentence"]


def figures_sentence(rec: dict) -> str:
    lo, hi = rec["expected_cost_ci"]
    ev = rec["evaluation"]
    fill = "n/a" if rec["fill_rate"] is None else f"{100 * rec['fill_rate']:.1f} %"
    csl = "n/a" if rec["cycle_service_level"] is None else f"{100 * rec['cycle_service_level']:.1f} %"
    return (f"Expected cost {rec['expected_cost']:,.2f} (95 % interval {lo:,.2f} – {hi:,.2f}) over {ev['days']} "
            f"days, fill rate {fill}, cycle service level {csl}, mean on-hand {rec['average_on_hand']:,.1f} — "
            f"on {ev['paths']} resampled paths of this series' history other than those it was chosen on.")


def two_worlds_sentence(rec: dict, demand_words: str, paths: int, start: float) -> str:
    """Why /optimum's recommendation and its yardsticks can disagree by a wide margin: they are costed on different
    demand (the recommendation on resampled week-long stretches of the series' history, as everywhere it is shown; the
    yardsticks on the page's scenario) from different start stocks, so their costs are two answers to two questions,
    not one comparison. The like-for-like one is the simulator's hint (the rule as set on the recommendation's own
    paths)."""
    ev = rec["evaluation"]
    return (f"Two demand worlds on this page: the recommendation's figures are on {ev['paths']} paths of resampled "
            f"week-long stretches of this series' history; the yardsticks below on this scenario's demand "
            f"({demand_words}, {paths} path{'' if paths == 1 else 's'}) from {start:,.1f} on hand. Their costs "
            "answer different questions and are not one comparison; the simulator's hint costs your rule as set on "
            "the recommendation's own paths.")


def rules_sentence(rules: dict | None) -> str | None:
    """The supplier's rules the recommendation was chosen and costed under (OrderRules.describe()), in one
    sentence; None when there are none."""
    if not rules:
        return None
    parts = []
    if rules.get("pack_size"):
        parts.append(f"whole packs of {rules['pack_size']:g}")
    if rules.get("moq"):
        parts.append(f"at least {rules['moq']:g} units an order")
    if rules.get("order_days"):
        days = ", ".join(d.capitalize() for d in rules["order_days"])
        parts.append(f"orders on {days} only (review period {rules.get('review_period', 1)} days, so the "
                     "protection period is the lead time + the review period)")
    if rules.get("order_cost"):
        parts.append(f"{rules['order_cost']:g} per order placed")
    return f"Under the supplier's rules: {'; '.join(parts)}." if parts else None


def cost_note(costs: dict, edit: str | None = None) -> str:
    """Where the costs came from, in one sentence beside the figures they drive: an assumed number is named as an
    assumption with where to change it (`edit`: the page's field, e.g. "Unit cost and Unit price under Supply &
    costs"; None: entering them in general); numbers from the file say "from the file". `costs` is a resolved
    cost dict (engine.simulation.simulator.resolve_costs, a recommendation's `costs`): h, p, unit_cost,
    unit_price, source and, when known, `sources` per quantity (engine.data.cost_sources)."""
    sources = {"unit_cost": costs["source"], "unit_price": costs["source"], **(costs.get("sources") or {})}
    values = {"unit_cost": f"{costs['unit_cost']:g}", "unit_price": f"{costs['unit_price']:g}"}
    drives = f"holding {costs['h']:.4f} per unit and day, a lost sale {costs['p']:,.2f}"
    where = f"edit {edit}" if edit else "enter your unit cost and price to make these figures yours"
    if not is_assumed(costs):
        how = {"file": "from the file", "entered": "as entered"}
        if sources["unit_cost"] == sources["unit_price"]:
            return (f"Costs {how[sources['unit_cost']]} (unit cost {values['unit_cost']}, price "
                    f"{values['unit_price']}: {drives}).")
        return (f"Unit cost {values['unit_cost']} {how[sources['unit_cost']]}, price {values['unit_price']} "
                f"{how[sources['unit_price']]} ({drives}).")
    if sources["unit_cost"] == sources["unit_price"] == "assumed":
        return (f"Unit cost {values['unit_cost']} and price {values['unit_price']} assumed — the file has no price "
                f"or cost column ({drives}); {where}.")
    words = {"file": "from the file", "entered": "as entered", "assumed": "assumed"}
    cost_words = words[sources["unit_cost"]]
    if sources["unit_cost"] == "assumed" and sources["unit_price"] == "file":
        cost_words = f"assumed at {COST_RULE} (the file has no cost column)"
    return (f"Price {values['unit_price']} {words[sources['unit_price']]}, unit cost {values['unit_cost']} "
            f"{cost_words} — {drives}; {where}.")


def is_assumed(costs: dict) -> bool:
    """Whether any cost number is an assumption (overall or one quantity)."""
    return costs.get("source") == "assumed" or "assumed" in (costs.get("sources") or {}).values()


def cost_note_view(costs: dict, element_id: str, edit: str | None = None) -> html.Div:
    """`cost_note` as the pages show it: marked as a warning when anything is assumed."""
    return html.Div(cost_note(costs, edit), id=element_id,
                    className="small cost-note" + (" text-warning-emphasis" if is_assumed(costs) else " text-muted"))


def recommendation_view(rec: dict, id_prefix: str) -> html.Div:
    """The recommendation: what to do, its figures, the objective, the costs (ids `{id_prefix}-policy`, `-figures`,
    `-objective`, `-costs`, `-premium` for tests and screen readers)."""
    parts = [html.Div([html.Strong("Recommended: "), html.Span(policy_words(rec), id=f"{id_prefix}-policy")]),
             html.Div(figures_sentence(rec), id=f"{id_prefix}-figures", className="small"),
             html.Div(f"Objective: {rec['objective']['meaning']}.", id=f"{id_prefix}-objective", className="small")]
    if rec.get("caveat"):
        parts.append(html.Div(f"Caution: {rec['caveat']}.", id=f"{id_prefix}-caveat", className="small text-warning"))
    prem = rec.get("service_premium")
    if prem:
        share = "" if prem["extra_share"] is None else f" ({100 * prem['extra_share']:.1f} %)"
        parts.append(html.Div(f"This service target costs {prem['extra_cost']:,.2f}{share} more than the least-cost "
                              f"recommendation ({prem['least_cost']:,.2f}).", id=f"{id_prefix}-premium",
                              className="small fw-semibold"))
    rules = rules_sentence(rec.get("order_rules"))
    if rules:
        parts.append(html.Div(rules, id=f"{id_prefix}-rules", className="small"))
    parts.append(cost_note_view(rec["costs"], f"{id_prefix}-costs"))
    return html.Div(parts, id=id_prefix, className="recommendation")
