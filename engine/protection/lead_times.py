"""Realised protection periods: the days an order placed on day d must cover when lead times are random.

With periodic review (one decision a day) the order placed on day d covers the demand from day d up to the day
its own order arrives, d + L_d, inclusive: L_d + 1 days (Silver, Pyke & Thomas, "Inventory and Production
Management in Supply Chains", 4th ed., ch. 6, protection period R + L with R = 1). With a random lead time that
period is random, and the spread of its demand includes the lead time's: Var(D over L + 1 days) = E[L + 1]·σ_d² +
(mean daily demand)²·Var(L) for independent days (Silver, Pyke & Thomas §6.10; Eppen & Martin 1988, "Determining
safety stock in the presence of stochastic lead time and demand", Manag. Sci. 34(11)). Rather than that formula
(which assumes independent days and a known demand rate), the errors here are measured empirically over the
realised periods: each decision day's window runs over the lead time the path actually drew.

Without crossing an order never arrives before an earlier one (engine.simulation.kernel.InventoryKernel.place):
its arrival is max(d + L_d, previous arrival). `arrival_lead_times` reads the realised period as if an order
were placed every day (the order-up-to rule orders on nearly every day; the period is a property of the arrival
process, not of whether today's quantity happens to be zero), as engine.demand.modes.effective_lead_times does
for its sample.
"""
from __future__ import annotations

import numpy as np

__all__ = ["arrival_lead_times", "realised_window_sums", "distribution_from_history"]


def arrival_lead_times(lead, crossing: bool) -> np.ndarray:
    """(R, days) lead times an order placed each day really waits: the drawn ones with crossing allowed; without
    crossing, arrival_d = max(d + L_d, arrival_{d−1}) and the effective lead time is arrival_d − d."""
    lead = np.atleast_2d(np.asarray(lead, dtype=np.int64))
    if crossing:
        return lead.copy()
    day = np.arange(lead.shape[1], dtype=np.int64)
    return np.maximum.accumulate(day[None, :] + lead, axis=1) - day[None, :]


def realised_window_sums(demand, lead_eff) -> np.ndarray:
    """Demand over each decision day's realised protection period: Σ demand[r, d .. d + lead_eff[r, d]] ((R, T)
    demand, (R, days) lead times with days ≤ T). NaN where the period runs past the last day of `demand`."""
    demand = np.atleast_2d(np.asarray(demand, dtype=np.float64))
    lead_eff = np.atleast_2d(np.asarray(lead_eff, dtype=np.int64))
    R, T = demand.shape
    days = lead_eff.shape[1]
    c = np.concatenate([np.zeros((R, 1)), np.cumsum(demand, axis=1)], axis=1)
    start = np.arange(days)[None, :]
    end = start + lead_eff + 1                       # exclusive
    inside = end <= T
    rows = np.arange(R)[:, None]
    sums = c[rows, np.minimum(end, T)] - c[rows, np.broadcast_to(start, end.shape)]
    return np.where(inside, sums, np.nan)


def distribution_from_history(lead_times) -> dict | None:
    """A lead-time distribution (SimConfig.lead_time_dist) from a file's lead-time column history: uniform over
    the observed range when the column varies, None (a fixed lead time) when it does not. A heuristic, labelled as
    one: a file's few distinct supplier lead times say which range occurs, not how often each value does."""
    x = np.asarray([v for v in np.ravel(lead_times) if v is not None and np.isfinite(v)], dtype=np.float64)
    if x.size == 0:
        return None
    lo, hi = int(np.floor(x.min())), int(np.ceil(x.max()))
    if lo == hi:
        return None
    return {"kind": "uniform", "low": max(lo, 0), "high": hi}
