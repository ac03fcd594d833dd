"""The simulator's settings carried to /optimum and /scenarios as a shareable `?set=TOKEN` link.

Why: a planner who just ran lead time 3 on replayed demand must find those settings under "Current scenario" on
/optimum and /scenarios, not the pages' defaults. The link holds a canonical scenario set (engine.studies.scenarios), so
the pages need nothing new to read it; the supplier's rules (MOQ, pack size, order days, K) travel as the table's
columns of the same names. Only the bundled data can travel (a link never carries an uploaded file):
`data_note` says so when the run used an upload. A service-level target set on the run's rule travels as /optimum's
objective "least stock whose fill rate reaches the target" (`service_target`): the planner's stated goal, where the
simulator's hint answers at least expected cost. No dash here.
"""
from __future__ import annotations

from dashapp.ui.validation import TARGET_FILL_RATE_BOUNDS
from engine.studies import scenarios as sc

CURRENT_NAME = "Your simulator settings"
OPTIMUM_REPLICATIONS = 100   # /optimum's default number of demand paths
SCENARIO_REPLICATIONS = 100  # /scenarios' default number of demand paths


def scenario_row(config) -> dict:
    """One scenario-table row (engine.studies.scenarios' option names) of a SimConfig: what the simulator ran."""
    row = {"name": CURRENT_NAME, "policy": config.policy, **dict(config.policy_params or {}),
           "lead_time": int(config.lead_time), "holding_rate": float(config.holding_rate),
           "demand": config.demand, "noise": float(config.noise),
           "sales": "backorders" if config.backorders else "lost sales"}
    if config.forecaster:
        row["forecaster"] = config.forecaster
    for key in ("unit_cost", "unit_price", "stockout_cost"):
        if getattr(config, key, None) is not None:
            row[key] = float(getattr(config, key))
    if getattr(config, "series", None):
        row["series"] = config.series
    row.update(supplier_rules(config))
    return row


def supplier_rules(config) -> dict:
    """The run's supplier rules as table cells (only those set): MOQ, pack size, order days as "mon;thu", K."""
    out = {}
    if getattr(config, "moq", None):
        out["moq"] = float(config.moq)
    if getattr(config, "pack_size", None):
        out["pack_size"] = int(config.pack_size)
    if getattr(config, "order_days", None):
        out["order_days"] = ";".join(config.order_days)
    if getattr(config, "order_cost", 0.0):
        out["order_cost"] = float(config.order_cost)
    return out


def _days(config) -> int:
    return max(1, min(int(config.days or 90), sc.MAX_DAYS))


def service_target(config) -> float | None:
    """The service-level target set on the run's rule (its `service_level` parameter), as a fill-rate target within
    /optimum's bounds; None when the rule takes its level from the costs. The rule reads it as a quantile level of
    the protection-period demand; the recommendation's objective reads it as the share of demand served (the fill
    rate), the figure a planner's target usually means — the hint and /optimum say which."""
    value = (config.policy_params or {}).get("service_level")
    if value is None:
        return None
    low, high = TARGET_FILL_RATE_BOUNDS
    return round(min(max(float(value), low), high), 4)


def optimum_search(config) -> str:
    """`?set=TOKEN` for /optimum: the simulator's settings as its one scenario, with `&objective=fill-rate&target=T`
    when the run's rule has a service-level target (service_target)."""
    sset = sc.rows_to_set([scenario_row(config)], replications=OPTIMUM_REPLICATIONS, days=_days(config),
                          seed=int(config.seed))
    target = service_target(config)
    goal = "" if target is None else f"&objective=fill-rate&target={target:g}"
    return _with_series(sset, config) + goal


def scenarios_search(config) -> str:
    """`?set=TOKEN` for /scenarios: the simulator's settings (baseline) beside the same settings under the other
    textbook rule (order-up-to ↔ original), so Run compares at once."""
    mine = scenario_row(config)
    other_policy = "original" if config.policy != "original" else "order-up-to"
    other = {k: v for k, v in mine.items() if k not in (config.policy_params or {})}
    other.update(name=f"Same settings, {other_policy} rule", policy=other_policy)
    sset = sc.rows_to_set([mine, other], replications=SCENARIO_REPLICATIONS, days=_days(config),
                          seed=int(config.seed))
    return _with_series(sset, config)


def _with_series(sset: dict, config) -> str:
    """The series the simulator ran (rows_to_set keeps only the table's columns) — bundled data only."""
    if getattr(config, "series", None):
        for s in sset["scenarios"]:
            s["series"] = config.series
        sset = sc.canonical_set(sset["scenarios"], replications=sset["replications"], days=sset["days"],
                                seed=sset["seed"], baseline=sset.get("baseline", 0))
    return f"?set={sc.encode_set(sset)}"


def data_note(data_source: str | None) -> str | None:
    """Why the link uses the bundled sample although the run used an uploaded file."""
    if data_source == "upload":
        return "The link uses the bundled sample data: an uploaded file stays in this simulator session."
    return None
