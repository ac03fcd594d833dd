"""The editable scenario table shared by /scenarios and /optimum: columns and dropdown options.

Kept out of the page modules because Dash imports pages itself (importing one page from another registers it
twice). Column ids are simulate's option names; the policy column offers the registered policies and each policy
parameter (engine.policies.base.all_params) gets a column labelled as its policy declares it.
"""
from __future__ import annotations

import re

from engine.forecast.registry import list_forecasters
from engine.policies.base import all_params, policy_names
from engine.studies import scenarios as sc

# (column id, label, kind, dropdown options or None) of the columns that are not policy parameters
_OPTION_COLUMNS = {
    "lead_time": ("Lead time", "numeric", None),
    "lead_time_dist": ("Stochastic lead time (uniform:5:9 | poisson:7)", "text", None),
    "holding_rate": ("Holding rate / yr", "numeric", None),
    "unit_cost": ("Unit cost", "numeric", None),
    "unit_price": ("Unit price", "numeric", None),
    "stockout_cost": ("Stockout cost (blank: price − cost)", "numeric", None),
    "sales": ("Unmet demand", "text", sc.SALES_CHOICES),
    "forecaster": ("Forecaster", "text", []),  # filled from the forecaster registry
    "demand": ("Demand", "text", sc.DEMAND_CHOICES),
    "noise": ("Noise", "numeric", None),
    "moq": ("Minimum order quantity", "numeric", None),  # the supplier's rules (engine.policies.order_rules)
    "pack_size": ("Pack size", "numeric", None),
    "order_days": ("Order days (mon;thu, blank: every day)", "text", None),
    "order_cost": ("Fixed cost per order K", "numeric", None),
}


def table_spec() -> list[tuple[str, str, str, list | None]]:
    """Every column: name, policy, one per policy parameter, then the other options."""
    return ([("name", "Name", "text", None), ("policy", "Policy", "text", policy_names())]
            + [(p.name, p.label or p.name, "numeric", None) for p in all_params().values()]
            + [(cid, *spec) for cid, spec in _OPTION_COLUMNS.items()])


def table_columns() -> list[dict]:
    cols = []
    for cid, label, kind, options in table_spec():
        col = {"id": cid, "name": label, "editable": True}
        if options is not None:
            col["presentation"] = "dropdown"
        elif kind == "numeric":
            col["type"] = "numeric"
        cols.append(col)
    return cols


def table_dropdowns() -> dict:
    out = {}
    for cid, _label, _kind, options in table_spec():
        if options is None:
            continue
        if cid == "forecaster":
            opts = [{"label": f["label"] or f["name"], "value": f["name"]} for f in list_forecasters()]
        else:
            opts = [{"label": str(o), "value": o} for o in options]
        out[cid] = {"options": opts, "clearable": cid not in sc.REQUIRED_TABLE_COLUMNS}
    return out


def table_words(message: str) -> str:
    """An engine message about a scenario in the table's words: a column id ("lead_time = 1000000000 is out of
    range [0, 60]", "lead_time must be a number") becomes its label ("“Lead time” 1000000000 is out of range
    [0, 60]"); the run settings' ids their field names."""
    names = {cid: label for cid, label, _kind, _opts in table_spec()}
    names.update({"baseline": "Baseline", "replications": "Replications", "days": "Days", "seed": "Seed"})

    def label(m: re.Match) -> str:   # "id = v" → "“Label” v"; "id must" → "“Label” must" (prose is left alone)
        return f"“{names[m.group(1)]}” " + ("" if m.group(2) == " = " else "must ")
    ids = "|".join(sorted(map(re.escape, names), key=len, reverse=True))
    return re.sub(rf"\b({ids})( = | must )", label, message)
