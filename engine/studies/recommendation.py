"""The recommendation record: what a planner is told to do for one series, in one shape on every page and command.

One procedure decides it (engine.studies.portfolio.run_chunk: demand class, forecaster by backtest, the policy and
its parameters chosen on selection paths, costed on disjoint evaluation paths); this module only names the result.
The simulator's hint, /optimum's headline, /portfolio's rows, `engine recommend`, `engine optimum` and `engine
portfolio` all show this record, so one item with one set of settings gets one answer.

Keys: policy ("order-up-to" | "r-Q" | "s-S"), params (the policy's parameters: the forecaster, the protection
period, the relative error quantile and today's level S for the forecast-driven order-up-to rule; r and Q for (r, Q);
for (s, S), the K-aware rule offered when an order costs K > 0, today's s (`reorder_point`, the order-up-to rule's
level), the lot size S − s and S), orders_per_year (orders placed per 365 days on the evaluation paths), order_rules
(the supplier's MOQ, pack, order days and K the simulated orders followed),
expected_cost with expected_cost_ci [low, high] (95 %, Student t over the evaluation paths), fill_rate (units served
on the day / units demanded over all evaluation paths), cycle_service_level (share of replenishment cycles without a
stockout), average_on_hand, objective {name, target_fill_rate, meaning}, costs {h, p, unit_cost, unit_price, source}
("file": from the data file's price/cost columns; "assumed": the defaults, shown as an assumption; "entered": set by
the user), and how it was chosen (selection, evaluation: paths, days, start).
"""
from __future__ import annotations

__all__ = ["OBJECTIVES", "policy_words", "objective_meaning", "objective_words", "recommendation_from_record",
           "same_recommendation", "service_premium"]

OBJECTIVES = ("cost", "fill-rate")


def policy_words(rec: dict) -> str:
    """What to do, in a planner's words: the one sentence every page and command shows for a recommendation."""
    p = rec["params"]
    if rec["policy"] == "r-Q":
        return (f"(r, Q) rule: when the inventory position is at or below r = {p['reorder_point']:.1f}, order "
                f"Q = {p['order_quantity']:.0f} (or the multiple of Q that lifts it above r)")
    if rec["policy"] == "s-S":
        return (f"(s, S) rule: when the inventory position is below s = {p['reorder_point']:.1f} today "
                f"({p['forecaster']} forecast over {p['protection_days']} days + safety stock "
                f"{p['safety_stock']:.1f}), order up to S = s + {p['lot_size']:.1f} = {p['order_up_to']:.1f}; "
                "s follows the forecast day by day — fewer, larger orders, each costing the order cost K")
    return (f"order up to S = {p['order_up_to']:.1f} today ({p['forecaster']} forecast over {p['protection_days']} "
            f"days + safety stock {p['safety_stock']:.1f}); S follows the forecast day by day")


def objective_meaning(objective: str, target_fill_rate: float, order_cost: float = 0.0) -> str:
    if objective == "cost":
        return ("least expected cost (holding + lost sales)" if not order_cost > 0 else
                f"least expected cost (holding + lost sales + {order_cost:g} per order)")
    return f"least stock whose fill rate reaches {100 * target_fill_rate:.1f} % (costs may be higher)"


def objective_words(settings: dict) -> str:
    """A run's objective in a few words for a summary over many series (settings: a PortfolioSettings or
    OrderSettings dict; the order cost, which may differ per item, is left to each record's objective_meaning)."""
    if settings.get("objective") == "fill-rate":
        words = f"least stock reaching a {100 * settings['target_fill_rate']:.1f} % fill rate"
    else:
        words = "least expected cost"
    if settings.get("forecaster"):   # engine.studies.global_orders
        words += f", levels from {settings['forecaster']}'s quantiles"
    return words


def history_caveat(history_days: int, protection_days: int, warm_up_days: int) -> str | None:
    """What a recommendation drawn from a short history cannot know, in words (None when the history suffices).

    Below the portfolio's warm-up + the protection period it has no rolling forecast errors to size the safety stock
    on (it falls back on the spread of the history's own protection-period sums), and its paths resample those few
    days only: one day of history gives identical paths and a zero-width cost interval that promises nothing."""
    need = int(warm_up_days) + int(protection_days)
    if history_days >= need:
        return None
    return (f"based on {history_days} day{'s' if history_days != 1 else ''} of history, fewer than the {need} that "
            "check a forecast over the protection period: the level and its cost interval come from resampling those "
            "days only — treat them as a first guess and review them as sales come in")


def recommendation_from_record(record: dict, settings, costs: dict, caveat: str | None = None) -> dict:
    """The recommendation of one portfolio record (engine.studies.portfolio.run_chunk), JSON-safe; `caveat`: what
    it cannot know (history_caveat), said beside it."""
    rq = record["policy"] == "r-Q"
    if rq:
        params = {"reorder_point": record["reorder_point"], "order_quantity": record["order_quantity"]}
    else:
        params = {"order_up_to": record["order_up_to"], "forecaster": record["forecaster"],
                  "protection_days": record["protection_days"],
                  "relative_error_quantile": record["relative_error_quantile"],
                  "daily_forecast": record["daily_forecast"], "safety_stock": record["safety_stock"]}
        if record["policy"] == "s-S":
            params.update(reorder_point=record["reorder_point"], lot_size=record["lot_size"])
    rules = settings.order_rules() if hasattr(settings, "order_rules") else None
    start = getattr(settings, "initial_on_hand", None)
    return {
        "series": record["series"],
        "policy": record["policy"],
        "params": params,
        "lead_time": record["lead_time"],
        "expected_cost": record["expected_cost"],
        "expected_cost_ci": [record["cost_ci_low"], record["cost_ci_high"]],
        "fill_rate": record["fill_rate"],
        "cycle_service_level": record["cycle_service_level"],
        "average_on_hand": record["average_on_hand"],
        "orders_per_year": record["orders"] * 365.0 / record["days"] if record.get("orders") is not None else None,
        "order_rules": None if rules is None else rules.describe(),
        "objective": {"name": settings.objective, "target_fill_rate": settings.target_fill_rate,
                      "meaning": objective_meaning(settings.objective, settings.target_fill_rate,
                                                   float(costs.get("order_cost") or 0.0))},
        "costs": dict(costs),
        "selection": "chosen on selection paths (moving-block bootstraps of the series' history), costed on "
                     "disjoint evaluation paths",
        "evaluation": {"paths": record["replications"], "days": record["days"],
                       "start_on_hand": "at the policy's level" if start is None else float(start)},
        "caveat": caveat,
    }


def service_premium(service: dict, cheapest: dict) -> dict:
    """What the service objective's recommendation costs beyond the least-cost one (same evaluation paths)."""
    base = cheapest["expected_cost"]
    extra = service["expected_cost"] - base
    return {"least_cost": base, "extra_cost": extra, "extra_share": extra / base if base > 0 else None,
            "least_cost_policy": cheapest["policy"], "least_cost_params": cheapest["params"]}


def same_recommendation(a: dict, b: dict, rel: float = 1e-9) -> bool:
    """True when two recommendations say the same (numbers equal to `rel`): the pages' and commands' check."""
    if a.keys() != b.keys():
        return False
    for k in a:
        x, y = a[k], b[k]
        if isinstance(x, dict) and isinstance(y, dict):
            if not same_recommendation(x, y, rel):
                return False
        elif isinstance(x, (list, tuple)) and isinstance(y, (list, tuple)):
            if len(x) != len(y) or not all(_close(u, v, rel) for u, v in zip(x, y)):
                return False
        elif not _close(x, y, rel):
            return False
    return True


def _close(x, y, rel):
    if isinstance(x, (int, float)) and isinstance(y, (int, float)) and not isinstance(x, bool):
        return abs(x - y) <= rel * max(1.0, abs(x), abs(y))
    return x == y
