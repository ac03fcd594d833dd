"""Today's order-up-to levels read from a global quantile model (engine train --global) instead of each series'
recommendation: `engine orders --forecaster ensemble:NAME`.

Per series the level is the model's τ-quantile of the demand over its protection period (L + R days, the item's
lead time and review period), forecast on the sales before the order date D: S = Q_τ(D_D + … + D_{D+L+R−1}). τ is
chosen the way the real-demand policy backtest chooses it (engine.studies.quantile_level.calibrated_level, the
choice the backtest scored with less mean on-hand than the per-series forecasters: bench/recorded/
global_policy.md): on held-out windows — days after the model's last training day and before D — each window is
replayed through the one inventory day at every level of a grid, under the item's own supplier rules (orders only
on its order days, arriving L days later, rounded up to whole packs and the MOQ, K per order in the cost), the
curves averaged per demand class, and each class's τ is the least level reaching the fill-rate target (objective
"fill-rate") or the level of least realised cost — holding + lost sales + K per order (objective "cost"). Under the
cost objective with K > 0 an (s, S) rule joins, s the τ-quantile and S − s a lot among the portfolio's LOT_MULTIPLES
× the EOQ √(2 K D / h) (Harris; Silver, Pyke & Thomas ch. 7), chosen with τ on the same windows: fewer, larger
orders where K outweighs the stock they add. The promise beside each line is that series' fill rate, cost and mean
on-hand at its choice on those real held-out days (not resampled paths).
"""
from __future__ import annotations

import datetime as _dt

import numpy as np

from engine.data.order_days import days_text
from engine.demand.classes import classify
from engine.errors import ConfigError
from engine.forecast.seen_days import first_unseen
from engine.policies.order_rules import OrderRules, parse_order_days, weekday_of
from engine.studies.history_replay import finite
from engine.studies.quantile_backtest import series_promise
from engine.studies.quantile_level import calibrated_level, level_paths, model_last_training_date

__all__ = ["WINDOW_DAYS", "MAX_WINDOWS", "MIN_HELD_OUT_DAYS", "global_levels", "replay_arrays", "item_rules",
           "levels_note"]

WINDOW_DAYS = 28        # a calibration window: four weeks, replayed from the level with nothing on order
MAX_WINDOWS = 4         # the newest held-out windows used (up to 112 days)
MIN_HELD_OUT_DAYS = 14  # fewer days after the model's training than this calibrate nothing
HISTORY_DAYS = 365      # the demand class reads the last year, as the portfolio's


def levels_note(model: str, objective: str, target: float, days: int) -> str:
    """What a proposal's levels are and what they were chosen for, said once on every proposal."""
    goal = (f"the {100 * target:.1f} % fill-rate target" if objective == "fill-rate"
            else "the least realised cost (holding + lost sales + K per order; with K > 0 an (s, S) lot beside it)")
    return (f"levels from {model}: its τ-quantile of the protection period's demand, τ chosen per demand class for "
            f"{goal} on {days} real days it never trained on, replayed under each item's order days, lead time, "
            "packs, MOQ and order cost K")


def item_rules(t) -> OrderRules:
    """The supplier's rules of one item (engine.data.items.ItemTerms) as the kernel applies them: whole units,
    packs, MOQ, order days, K per order."""
    return OrderRules(moq=float(t.moq), pack_size=float(t.pack_size) if t.pack_size > 1 else None,
                      order_days=parse_order_days(days_text(t.order_days)), integer=True,
                      order_cost=float(t.order_cost))


def _windows(held_out: int, history: int) -> list[tuple[int, int]]:
    """(start, days) windows tiling the last `held_out` days of a history of `history` days, newest first."""
    w = min(WINDOW_DAYS, held_out)
    n = min(MAX_WINDOWS, held_out // w)
    return [(history - (j + 1) * w, w) for j in range(n)]


def replay_arrays(model, group: list, keys: list, terms: dict) -> tuple:
    """(demand (n, T), known-in-advance covariates, lead L + R − 1, holding cost h and lost-sale cost p per unit
    and day) of series sharing their dates, with their items' terms: what the model's levels are replayed on."""
    from engine.forecast.series_covariates import stacked_covariates
    D = np.stack([np.asarray(x.demand, dtype=np.float64) for x in group])
    lead = np.array([terms[k].protection_days - 1 for k in keys], dtype=np.int64)
    cost = np.array([terms[k].unit_cost for k in keys], dtype=np.float64)
    price = np.array([terms[k].unit_price for k in keys], dtype=np.float64)
    h = np.array([terms[k].holding_rate for k in keys]) * cost / 365.0
    return D, stacked_covariates(group, model.horizon), lead, h, price - cost


def global_levels(model, histories: dict, terms: dict, date: _dt.date, target: float,
                  objective: str = "fill-rate") -> dict:
    """{series key: a recommendation record (engine.studies.recommendation's keys for an order-up-to or (s, S)
    level)} from `model`'s calibrated quantiles. `model` from engine.studies.quantile_backtest.quantile_model (a
    global model whose card says which days it saw), `histories` {key: the series cut before `date`}, `terms` {key:
    ItemTerms}; objective "fill-rate" (least level reaching `target`) or "cost" (least realised cost)."""
    from engine.studies.portfolio import eoq_lots

    last = model_last_training_date(model)
    groups: dict[tuple, list] = {}
    for key, x in histories.items():   # series calibrated together share their dates
        groups.setdefault(tuple(x.dates), []).append(key)
    out = {}
    for dates, keys in groups.items():
        T = len(dates)
        unseen = first_unseen(dates, last)
        held = T - max(unseen, model.min_history)
        if held < MIN_HELD_OUT_DAYS:
            raise ConfigError(
                f"--forecaster {model.name} was trained on days up to {last}; its level is calibrated on days it "
                f"never saw before {date.isoformat()}, and the sales of {keys[0]} hold {max(held, 0)} of them (at "
                f"least {MIN_HELD_OUT_DAYS} needed): retrain it with --holdout-days 56 (engine train --global), or "
                "order from each series' own recommendation (without --forecaster)", field="forecaster",
                value=model.name)
        too_long = [k for k in keys if terms[k].protection_days > model.max_days]
        if too_long:
            k = too_long[0]
            raise ConfigError(f"--forecaster {model.name} forecasts sums of up to {model.max_days} days; {k} must "
                              f"be covered for {terms[k].protection_days} days (lead time {terms[k].lead_time} + "
                              f"review period {terms[k].review_days})", field="forecaster", value=model.name)
        D, cov, cover, h, p = replay_arrays(model, [histories[k] for k in keys], keys, terms)
        lead = np.array([terms[k].lead_time for k in keys], dtype=np.int64)
        classes = [classify(D[i, -HISTORY_DAYS:]).label for i in range(len(keys))]
        windows = _windows(held, T)
        rules = [item_rules(terms[k]) for k in keys]
        lots = None
        if objective == "cost" and any(r.order_cost > 0 for r in rules):
            lots = eoq_lots([r.order_cost for r in rules], D[:, -HISTORY_DAYS:], h)
        cal = calibrated_level(model, D, cov, windows, cover, h, p, target, classes, objective=objective,
                               kernel_lead=lead, rules=rules, first_weekday=weekday_of(dates[0]), lots=lots)
        level = level_paths(model, D, cov, T, 1, cover, cal["level"])[:, 0]
        median = level_paths(model, D, cov, T, 1, cover, np.full(len(keys), 0.5))[:, 0]
        days = sum(w for _, w in windows)
        for i, k in enumerate(keys):
            out[k] = _record(model, terms[k], cal, i, float(level[i]), float(median[i]), classes[i], target,
                             objective, windows, days, dates[-1])
    return out


def _record(model, t, cal, i, level, median, label, target, objective, windows, days, last_day) -> dict:
    protection = t.protection_days
    known = "file" if t.prices_known() else "assumed"
    fill = series_promise(cal, i, label)
    w = windows[0][1]
    lot = float(cal["lot"][i])
    s_level = max(level, 0.0)
    tau = float(cal["level"][i])
    params = {"forecaster": model.name, "protection_days": protection, "quantile_level": tau,
              "order_up_to": s_level + lot, "daily_forecast": max(median, 0.0) / protection,
              "safety_stock": s_level - max(median, 0.0), "relative_error_quantile": None}
    level_from = (f"{model.name}'s {tau:.3f}-quantile of the {protection}-day demand (median "
                  f"{max(median, 0.0):.1f}), τ for the {label} class")
    if lot > 0:
        params.update(reorder_point=s_level, lot_size=lot)
        level_from += f"; up to S = s + lot {lot:.1f} (order cost K {t.order_cost:g})"
    if objective == "cost":
        goal = {"name": "cost", "meaning": f"least realised cost (holding + lost sales + K per order) of "
                                           f"{model.name}'s quantiles on held-out days"}
    else:
        goal = {"name": "fill-rate", "target_fill_rate": target,
                "meaning": f"least level of {model.name}'s quantiles whose fill rate reaches "
                           f"{100 * target:.1f} % on held-out days"}
    return {
        "policy": "s-S" if lot > 0 else "order-up-to",
        "params": params,
        "level_from": level_from,
        "fill_rate": fill, "cycle_service_level": finite(cal["series_csl"][i]),
        "average_on_hand": finite(cal["series_on_hand"][i]),
        "expected_cost": finite(cal["series_cost"][i]), "expected_cost_ci": None,
        "orders_per_window": finite(cal["series_orders"][i]),
        "objective": goal,
        "costs": {"h": t.holding_rate * t.unit_cost / 365.0, "p": t.unit_price - t.unit_cost,
                  "unit_cost": t.unit_cost, "unit_price": t.unit_price, "source": known},
        "demand_class": label,
        "evaluation": {"what": "real held-out days, replayed from the level with nothing on order, under the "
                               "item's order days, packs, MOQ and K", "paths": len(windows), "days": w,
                       "last_history_day": str(last_day)[:10], "total_days": days},
        "caveat": None,
    }
