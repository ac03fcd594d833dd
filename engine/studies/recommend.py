"""`recommend(series, settings)`: the one recommendation service every page and command calls.

The decision is the portfolio's per-series procedure (engine.studies.portfolio.run_chunk, with recommend_chunk's
service premium) run on this one series. A series' record does not depend on the chunk it came in (its random
streams are keyed by seed and series key), so `recommend` equals the record `engine portfolio` gives the same series
with the same settings, and /optimum and the simulator's hint, which call this function, say the same.
`settings_for(config)` maps a simulation's settings (lead time, holding rate, entered costs, seed, horizon) onto the
recommendation's, so a page passes what the user set.
"""
from __future__ import annotations

from dataclasses import replace

from engine.studies.portfolio import PortfolioSettings, recommend_chunk

__all__ = ["recommend", "settings_for"]


def recommend(series, settings: PortfolioSettings | None = None) -> dict:
    """The recommendation record (engine.studies.recommendation) for one SeriesData, with its `service_premium`
    under the service objective (what the target costs beyond the least-cost recommendation; None under "cost")."""
    settings = (settings or PortfolioSettings()).validate()
    return recommend_chunk([series], settings)[0]["recommendation"]


def settings_for(config, **overrides) -> PortfolioSettings:
    """Recommendation settings from a SimConfig (engine.simulation.simulator): its lead time (the mean of a lead
    time distribution, rounded), holding rate, entered unit cost / price and seed; `overrides` set the rest
    (objective, target_fill_rate, replications, days)."""
    from engine.simulation.simulator import lead_time_moments

    mean_lead, _ = lead_time_moments(config)
    base = PortfolioSettings(lead_time=int(round(mean_lead)), holding_rate=float(config.holding_rate),
                             seed=int(config.seed), days=int(config.days), unit_cost=config.unit_cost,
                             unit_price=config.unit_price,
                             stockout_cost=config.stockout_cost)
    return replace(base, **overrides).validate()
