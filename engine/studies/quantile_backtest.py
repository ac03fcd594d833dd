"""The real-demand policy backtest (engine.studies.policy_backtest) with a quantile model's own level instead of the
portfolio's per-series forecasters: `engine backtest-policy --forecaster ensemble:NAME`.

At each origin every series orders up to S_t = the model's τ-quantile of the next L + R days' demand (R the review
period of the order days, 1 without them), recomputed daily from the real history before t
(engine.studies.quantile_level), τ calibrated per demand class on the held-out windows between the model's last
training day and the origin — the least τ reaching the fill-rate target, or under the cost objective the τ of least
realised cost, with an order cost K chosen together with an (s, S) lot among the portfolio's multiples of the EOQ.
The windows and the scored days are replayed under the settings' supplier rules (order days, packs, MOQ, K). The
model must not have seen those windows nor the scored days: the card's last training date says which days it saw,
and a model trained too late is refused with the --holdout-days to retrain it with (engine train --global). The
records and totals have the portfolio backtest's columns (forecaster = the model, policy order-up-to or s-S,
`quantile_level` = τ, the promise = each series' fill rate at τ on the calibration windows, the pooled one for a
series without demand there, none for a series without any sale in its history, as the portfolio), beside the same
days-of-cover baseline.
"""
from __future__ import annotations

import numpy as np

from engine.demand.classes import classify
from engine.errors import ConfigError
from engine.forecast.seen_days import first_unseen
from engine.policies.order_rules import weekday_of
from engine.studies.history_replay import days_of_cover, finite, replayed_fields
from engine.studies.portfolio import eoq_lots, series_lead_time
from engine.studies.quantile_level import (
    calibrated_level,
    has_sum_quantiles,
    model_last_training_date,
    run_levels,
)

__all__ = ["quantile_model", "quantile_backtest_records"]

NO_DEMAND = "no demand"   # engine.demand.classes' label of a series without any sale


def quantile_model(name: str):
    """The named forecaster if it forecasts quantiles of demand sums and its card says which days it saw."""
    from engine.forecast.onnx_model import ModelError
    from engine.forecast.registry import UnknownForecaster, get_forecaster
    try:
        model = get_forecaster(name)
    except (UnknownForecaster, ModelError) as exc:
        raise ConfigError(f"--forecaster: {exc}", field="forecaster", value=name) from None
    if not has_sum_quantiles(model):
        raise ConfigError(f"--forecaster {name} forecasts no quantiles of the demand sum; only a global model "
                          "(engine train --global) does — leave --forecaster out for the portfolio's own choice",
                          field="forecaster", value=name)
    if model_last_training_date(model) is None:
        raise ConfigError(f"--forecaster {name}: its card does not say which days it was trained on, so held-out "
                          "days cannot be told apart", field="forecaster", value=name)
    return model


def quantile_backtest_records(series: list, settings, model) -> list[dict]:
    """Records of every origin and series (policy_backtest's columns) for `model`'s calibrated level."""
    from engine.forecast.series_covariates import stacked_covariates

    H, K = settings.holdout_days, settings.origins
    last = model_last_training_date(model)
    rules = settings.portfolio_settings().order_rules()
    review = rules.review_period()
    groups: dict = {}
    for x in series:
        if not x.dates:
            raise ConfigError(f"--forecaster {model.name} needs dated series (series {x.key} has no dates): the "
                              "held-out days are the ones after the model's last training date",
                              field="forecaster", value=model.name)
        groups.setdefault(tuple(x.dates), []).append(x)
    by_key: dict[tuple, dict] = {}
    for dates, group in groups.items():
        T = len(dates)
        unseen = first_unseen(dates, last)
        D = np.stack([np.asarray(x.demand, dtype=np.float64) for x in group])
        cov = stacked_covariates(group, model.horizon)
        lead = np.array([series_lead_time(x, settings.lead_time) for x in group], dtype=np.int64)
        cover = lead + review - 1   # the level covers L + R days
        first_weekday = weekday_of(dates[0])
        cost = np.array([x.unit_cost for x in group], dtype=np.float64)
        price = np.array([x.unit_price for x in group], dtype=np.float64)
        h, p = settings.holding_rate * cost / 365.0, price - cost
        for j in range(K):
            o = T - (K - j) * H
            windows = [(o - w * H, H) for w in range(1, settings.check_windows + 1)
                       if o - w * H >= max(unseen, model.min_history)]
            if o < unseen or not windows:
                need = (K + 1) * H
                fit = (T - max(unseen, model.min_history)) // (K + 1)   # the longest held-out days that would do
                shorter = f"check it with --holdout-days {fit} or fewer, or " if 7 <= fit < H else ""
                raise ConfigError(
                    f"--forecaster {model.name} was trained on days up to {last}; origin {dates[o]} needs its "
                    f"{H} scored days and at least one held-out window of {H} days before them after that date — "
                    f"{shorter}retrain it without the file's last {need} days (engine train "
                    f"--global --holdout-days {need})", field="forecaster", value=model.name)
            cut = [x.slice(0, o) for x in group]
            classes = [classify(np.asarray(x.demand[-settings.history_days:], dtype=np.float64)).label for x in cut]
            lots = None
            if settings.objective == "cost" and rules.order_cost > 0:
                lots = eoq_lots(rules.order_cost, D[:, max(o - settings.history_days, 0):o], h)
            cal = calibrated_level(model, D, cov, windows, cover, h, p, settings.target_fill_rate, classes,
                                   objective=settings.objective, kernel_lead=lead, rules=rules,
                                   first_weekday=first_weekday, lots=lots)
            S, phase, tot = run_levels(model, D, cov, o, H, cover, cal["level"], lead, h, p, rules, first_weekday,
                                       cal["lot"])
            held = D[:, o:o + H]
            recs = [{"lead_time": int(lead[i]), "protection_days": int(cover[i]) + 1, "unit_cost": float(cost[i]),
                     "unit_price": float(price[i])} for i in range(len(group))]
            base = days_of_cover(cut, recs, held, settings.history_days, settings.holding_rate, settings.objective,
                                 settings.target_fill_rate, rules)
            for i, x in enumerate(group):
                by_key[(x.key, j)] = _record(x, j, dates[o - 1], classes[i], settings, model, cal, i, S[i, 0],
                                             phase[i], lead[i], tot, base, H)
    return [by_key[(x.key, j)] for j in range(K) for x in series]


def series_promise(cal: dict, i: int, label: str) -> float | None:
    """Row i's promised fill rate at its calibrated τ (engine.studies.quantile_level.calibrated_level): none for a
    series without any sale in its history (as the portfolio; the model's level is 0), the pooled promise for one
    without demand in the calibration windows but sales before."""
    if label == NO_DEMAND:
        return None
    promised = finite(cal["series_fill"][i])
    return cal["fill"] if promised is None else promised


def _record(x, origin, origin_date, label, settings, model, cal, i, level, phase, lead, tot, base, H) -> dict:
    promised = series_promise(cal, i, label)
    lot = float(cal["lot"][i])
    return {
        "series": x.key, "origin": origin, "origin_date": origin_date,
        "class": label,
        "forecaster": model.name, "policy": "s-S" if lot > 0 else "order-up-to", "lead_time": int(lead),
        "order_up_to": float(level) + lot, "relative_error_quantile": None, "quantile_level": float(cal["level"][i]),
        "reorder_point": float(level) if lot > 0 else None, "order_quantity": None,
        "selection_target": settings.target_fill_rate if settings.objective == "fill-rate" else None,
        "start_on_hand": float(level) + phase * lot,
        "promised_fill_rate": promised, "simulated_fill_rate": promised,
        "promised_cycle_service_level": finite(cal["series_csl"][i]),
        "promised_cost": float(cal["series_cost"][i]), "promised_average_on_hand": float(cal["series_on_hand"][i]),
        **replayed_fields(tot, base, i, H),
    }
