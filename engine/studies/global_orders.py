"""Today's order-up-to levels read from a global quantile model (engine train --global) instead of each series'
recommendation: `engine orders --forecaster ensemble:NAME`.

Per series the level is the model's τ-quantile of the demand over its protection period (L + R days, the item's
lead time and review period), forecast on the sales before the order date D: S = Q_τ(D_D + … + D_{D+L+R−1}). τ keeps
a fill-rate target the way the real-demand policy backtest chooses it (engine.studies.quantile_level.calibrated_level,
the choice the backtest scored with less mean on-hand than the per-series forecasters: bench/recorded/
global_policy.md): on held-out windows — days after the model's last training day and before D — each window is
replayed through the one inventory day at every level of a grid, the fill-rate curves averaged per demand class,
and each class's τ is the least level reaching the target. The promise beside each line is that series' fill rate,
cost and mean on-hand at its τ on those real held-out days (not resampled paths).

What it leaves out, said on every proposal (NOTE): the level is set for a fill-rate target only, and it is
calibrated under daily review without the supplier's rules — whole packs and MOQ only round an order up; an order
cost K is not weighed (the portfolio's recommendation weighs it, under the cost objective).
"""
from __future__ import annotations

import datetime as _dt

import numpy as np

from engine.demand.classes import classify
from engine.errors import ConfigError
from engine.forecast.seen_days import first_unseen
from engine.studies.quantile_backtest import finite, series_promise
from engine.studies.quantile_level import calibrated_level, level_paths, model_last_training_date

__all__ = ["WINDOW_DAYS", "MAX_WINDOWS", "MIN_HELD_OUT_DAYS", "NOTE", "global_levels", "replay_arrays"]

WINDOW_DAYS = 28        # a calibration window: four weeks, replayed from the level with nothing on order
MAX_WINDOWS = 4         # the newest held-out windows used (up to 112 days)
MIN_HELD_OUT_DAYS = 14  # fewer days after the model's training than this calibrate nothing
HISTORY_DAYS = 365      # the demand class reads the last year, as the portfolio's

NOTE = ("levels from {model}: its τ-quantile of the protection period's demand, τ chosen per demand class for the "
        "{target:.1f} % fill-rate target on {days} real days it never trained on; calibrated under daily review "
        "without packs, MOQ or the order cost K (packs and MOQ only round an order up; K is not weighed)")


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


def global_levels(model, histories: dict, terms: dict, date: _dt.date, target: float) -> dict:
    """{series key: a recommendation record (engine.studies.recommendation's keys for an order-up-to level)} from
    `model`'s calibrated quantiles. `model` from engine.studies.quantile_backtest.quantile_model (a global model
    whose card says which days it saw), `histories` {key: the series cut before `date`}, `terms` {key: ItemTerms}."""
    last = model_last_training_date(model)
    groups: dict[tuple, list] = {}
    for key, x in histories.items():
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
        D, cov, lead, h, p = replay_arrays(model, [histories[k] for k in keys], keys, terms)
        classes = [classify(D[i, -HISTORY_DAYS:]).label for i in range(len(keys))]
        windows = _windows(held, T)
        cal = calibrated_level(model, D, cov, windows, lead, h, p, target, classes)
        level = level_paths(model, D, cov, T, 1, lead, cal["level"])[:, 0]
        median = level_paths(model, D, cov, T, 1, lead, np.full(len(keys), 0.5))[:, 0]
        days = sum(w for _, w in windows)
        for i, k in enumerate(keys):
            out[k] = _record(model, terms[k], cal, i, float(level[i]), float(median[i]), classes[i], target,
                             windows, days, dates[-1])
    return out


def _record(model, t, cal, i, level, median, label, target, windows, days, last_day) -> dict:
    protection = t.protection_days
    known = "file" if t.prices_known() else "assumed"
    fill = series_promise(cal, i, label)
    w = windows[0][1]
    return {
        "policy": "order-up-to",
        "params": {"forecaster": model.name, "protection_days": protection, "quantile_level": float(cal["level"][i]),
                   "order_up_to": max(level, 0.0), "daily_forecast": max(median, 0.0) / protection,
                   "safety_stock": max(level, 0.0) - max(median, 0.0), "relative_error_quantile": None},
        "level_from": (f"{model.name}'s {cal['level'][i]:.3f}-quantile of the {protection}-day demand (median "
                       f"{max(median, 0.0):.1f}), τ for the {label} class"),
        "fill_rate": fill, "cycle_service_level": finite(cal["series_csl"][i]),
        "average_on_hand": finite(cal["series_on_hand"][i]),
        "expected_cost": finite(cal["series_cost"][i]), "expected_cost_ci": None,
        "objective": {"name": "fill-rate", "target_fill_rate": target,
                      "meaning": f"least level of {model.name}'s quantiles whose fill rate reaches "
                                 f"{100 * target:.1f} % on held-out days"},
        "costs": {"h": t.holding_rate * t.unit_cost / 365.0, "p": t.unit_price - t.unit_cost,
                  "unit_cost": t.unit_cost, "unit_price": t.unit_price, "source": known},
        "demand_class": label,
        "evaluation": {"what": "real held-out days, replayed from the level with nothing on order", "paths":
                       len(windows), "days": w, "last_history_day": str(last_day)[:10], "total_days": days},
        "caveat": None,
    }
