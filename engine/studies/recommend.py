"""`recommend(series, settings)`: the one recommendation service every page and command calls.

The decision is the portfolio's per-series procedure (engine.studies.portfolio.run_chunk, with recommend_chunk's
service premium) run on this one series. A series' record does not depend on the chunk it came in (its random
streams are keyed by seed and series key), so `recommend` equals the record `engine portfolio` gives the same series
with the same settings, and /optimum and the simulator's hint, which call this function, say the same.
`settings_for(config)` maps a simulation's settings (lead time, holding rate, entered costs, seed, horizon, the
supplier's MOQ, pack, order days and order cost K) onto the recommendation's, so a page passes what the user set.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from engine.studies.portfolio import (
    PortfolioSettings,
    cycle_starts,
    evaluation_paths,
    recommend_chunk,
    with_calibration,
)

__all__ = ["recommend", "settings_for", "start_on_hand", "rule_on_recommendation_paths", "stated_rule",
           "both_on_the_run_s_days"]


def recommend(series, settings: PortfolioSettings | None = None, file_series=None) -> dict:
    """The recommendation record (engine.studies.recommendation) for one SeriesData, with its `service_premium`
    under the service objective (what the target costs beyond the least-cost recommendation; None under "cost").

    file_series: every series of the file `series` came from. Under the service objective /portfolio corrects
    targets and promises from an out-of-time check over the whole file (engine.studies.portfolio.with_calibration);
    given the file, one series gets that same correction and so the same answer as its /portfolio row. Under
    least expected cost, or without the file, nothing is corrected."""
    settings = (settings or PortfolioSettings()).validate()
    if file_series is not None:
        settings = with_calibration(list(file_series), settings)
    return recommend_chunk([series], settings)[0]["recommendation"]


def settings_for(config, **overrides) -> PortfolioSettings:
    """Recommendation settings from a SimConfig (engine.simulation.simulator): its lead time (the mean of a lead
    time distribution, rounded), holding rate, entered unit cost / price, seed and order rules (MOQ, pack, order
    days, K); `overrides` set the rest (objective, target_fill_rate, replications, days)."""
    from engine.simulation.simulator import lead_time_moments

    mean_lead, _ = lead_time_moments(config)
    base = PortfolioSettings(lead_time=int(round(mean_lead)), holding_rate=float(config.holding_rate),
                             seed=int(config.seed), days=int(config.days), unit_cost=config.unit_cost,
                             unit_price=config.unit_price,
                             stockout_cost=config.stockout_cost, moq=float(config.moq or 0.0),
                             pack_size=config.pack_size, order_cost=float(config.order_cost or 0.0),
                             order_days=None if config.order_days is None else list(config.order_days))
    return replace(base, **overrides).validate()


def start_on_hand(rec: dict, fraction: float = 0.5) -> float:
    """The stock a recommendation's evaluation path starts with: today's level S (order-up-to), r + Q, or
    (s, S)'s s + fraction · lot (its paths are spread over the cycle, engine.studies.portfolio.cycle_starts; ½ is
    the stationary mean position)."""
    p = rec["params"]
    if rec["policy"] == "s-S":
        return float(p["reorder_point"] + p["lot_size"] * fraction)
    return float(p["order_up_to"]) if rec["policy"] == "order-up-to" else float(p["reorder_point"] +
                                                                                 p["order_quantity"])


def rule_on_recommendation_paths(config, series, rec: dict, settings: PortfolioSettings, forecaster=None) -> dict:
    """A simulation's rule as configured (policy, parameters, forecaster) costed on the recommendation's own
    evaluation paths, each from the stock the recommendation's path started with, nothing on order, lost sales: the
    like-for-like
    comparison the simulator's hint shows. Each path is the series' history followed by that path's days,
    replayed through the simulator (engine.simulation.batch, the one inventory day); the rule's forecaster sees
    the history and the days already played, nothing later.

    Returns {"expected_cost", "expected_cost_ci" [low, high], "fill_rate" (units over all paths), "paths",
    "days", "start_on_hand" (the mean start), "start_range" [lowest, highest start]}."""
    from dataclasses import replace

    from engine.data.dataset import SeriesData
    from engine.forecast.registry import get_forecaster
    from engine.simulation.batch import run_batch
    from engine.simulation.confidence import half_width, nonnegative_interval

    paths = evaluation_paths(series, settings)
    starts = [start_on_hand(rec, u) for u in cycle_starts(1, len(paths))[:, 0]]
    n = len(series)
    days = paths.shape[1]
    cfg = replace(config, demand="replay", days=days, context_days=n, initial_inventory=starts[0], replications=1,
                  lead_time=settings.lead_time if settings.lead_time is not None else config.lead_time,
                  lead_time_dist=None, backorders=False, unit_cost=rec["costs"]["unit_cost"],
                  unit_price=rec["costs"]["unit_price"], stockout_cost=rec["costs"]["p"])
    fc = forecaster if forecaster is not None else get_forecaster(cfg.forecaster) if cfg.forecaster else None
    costs, served, demanded = [], 0.0, 0.0
    planning = None
    for path, start in zip(paths, starts):
        if series.planning is not None:
            planning = np.concatenate([series.planning, np.full(days, series.planning[-1])])
        ext = SeriesData(key=series.key, dates=None, demand=np.concatenate([series.demand, path]),
                         promo=np.concatenate([series.promo, np.zeros(days)]), planning=planning,
                         unit_cost=series.unit_cost, unit_price=series.unit_price,
                         lead_time_days=series.lead_time_days, source=series.source)
        k = run_batch(replace(cfg, initial_inventory=start), ext, replications=1, forecaster=fc).kpis
        costs.append(float(np.asarray(k["total_cost"])[0]))
        d, f = _demanded_served(k)
        demanded, served = demanded + d, served + f
    mean, half = float(np.mean(costs)), half_width(np.asarray(costs))
    return {"expected_cost": mean, "expected_cost_ci": nonnegative_interval(mean, half),
            "fill_rate": _units_fill(demanded, served), "paths": len(costs), "days": days,
            "start_on_hand": float(np.mean(starts)), "start_range": [min(starts), max(starts)]}


def stated_rule(rec: dict) -> dict:
    """The recommendation as a simulator rule {"policy", "policy_params", "forecaster"}: the forecast-driven
    order-up-to with its fixed safety quantile Q (OrderUpTo.safety_quantile), (s, S) as s-S-eoq with the same Q and
    its lot, (r, Q) with its r and Q (no forecaster: None keeps the run's)."""
    p = rec["params"]
    if rec["policy"] == "r-Q":
        return {"policy": "r-Q", "policy_params": {"r": float(p["reorder_point"]), "Q": float(p["order_quantity"])},
                "forecaster": None}
    q = {"safety_quantile": float(p["relative_error_quantile"])}
    if rec["policy"] == "s-S":
        return {"policy": "s-S-eoq", "policy_params": {**q, "lot_size": float(p["lot_size"])},
                "forecaster": p["forecaster"]}
    return {"policy": "order-up-to", "policy_params": q, "forecaster": p["forecaster"]}


def both_on_the_run_s_days(config, series, rec: dict, forecaster=None) -> dict:
    """The run's rule and the recommendation's (stated_rule) on the run's own demand path — its replication 0: the
    replayed history, or the path its demand mode drew — from the run's own start stock, through the batch (the
    one inventory day): the like-for-like comparison on the days the planner just watched, where the hint's other
    comparison (rule_on_recommendation_paths) is on the recommendation's resampled paths.

    Returns {"yours", "recommended" (total costs), "yours_fill", "recommended_fill", "days", "start_on_hand"}."""
    from dataclasses import replace

    from engine.simulation.batch import run_batch

    run = run_batch(replace(config, replications=1), series, replications=1, forecaster=forecaster, keep_ledgers=1)
    mine = run.kpis
    start = float(run.kept["on_hand_start"][0, 0])   # the run's day-1 stock, whichever way the run set it
    rule = stated_rule(rec)
    theirs_cfg = replace(config, policy=rule["policy"], policy_params=rule["policy_params"],
                         forecaster=rule["forecaster"] or config.forecaster, initial_inventory=start,
                         replications=1).validate()
    theirs = run_batch(theirs_cfg, series, replications=1,
                       forecaster=forecaster if rule["forecaster"] is None else None).kpis

    return {"yours": float(np.asarray(mine["total_cost"])[0]),
            "recommended": float(np.asarray(theirs["total_cost"])[0]),
            "yours_fill": _units_fill(*_demanded_served(mine)),
            "recommended_fill": _units_fill(*_demanded_served(theirs)), "days": int(config.days),
            "start_on_hand": start}


def _demanded_served(kpis: dict) -> tuple[float, float]:
    """Units demanded and units served of a one-replication batch run (its KPIs' row 0)."""
    demand = float(np.asarray(kpis["total_demand"])[0])
    return demand, demand - float(np.asarray(kpis["unmet_units"])[0])


def _units_fill(demanded: float, served: float) -> float | None:
    """Served ÷ demanded units; None (shown "n/a") when nothing was demanded — the batch's KPI `fill_rate` counts
    such a run as 1, which the hint would show as a promise kept on no demand."""
    return served / demanded if demanded > 0 else None
