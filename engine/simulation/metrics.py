"""KPIs of a run, from per-replication totals so single runs and batches share one definition.

total_cost = holding_cost + stockout_cost + ordering_cost (K per order placed; 0 without an order cost);
orders_per_year = orders placed × 365 / days; cost_per_order_line = ordering cost / orders placed (K itself when
every order is one line of one item; None without orders); fill_rate = units of demand served on the day they
were demanded / units demanded (the "P2" fill rate, Silver, Pyke & Thomas ch. 6),
1 when nothing was demanded — written as
1 − unmet / demand, no unit went unmet; every caller (simulator, batch, scenarios, portfolio) reads this one
definition, and a figure over replications is their mean; cycle_service_level = share of replenishment cycles without a
stockout (Silver, Pyke & Thomas ch. 6, "P1"): a cycle runs from one arrival to the day before the next (the first
starts on day 1, the last ends on the last day), and has a stockout when any of its days has unmet demand > 0;
days_without_stockout = share of days without a stockout; stockout_days; orders_placed; average_on_hand = mean
ending on-hand; inventory_turns = annualised units shipped (incl. backlog served) / average on-hand (None when
average on-hand is 0); days.
"""
from __future__ import annotations

import math

import numpy as np

from engine.simulation.confidence import half_width

__all__ = ["KPI_NAMES", "TOTAL_NAMES", "total_cost", "fill_rate", "cycle_service_level", "kpis_from_totals",
           "ledger_totals", "ledger_kpis", "summarize"]

KPI_NAMES = ["total_cost", "holding_cost", "stockout_cost", "fill_rate", "cycle_service_level",
             "days_without_stockout", "stockout_days",
             "orders_placed", "average_on_hand", "inventory_turns", "days", "total_demand", "unmet_units",
             "ordering_cost", "orders_per_year", "cost_per_order_line"]
# Unmet units below this are float residue, not a stockout: levels and positions are sums of fractional forecasts,
# and a day that should close at exactly 0 on hand can open at 7 − 7e-15 against a demand of 7 (a "stockout day"
# with no unit lost, measured on a constant series). The kernel and the ledger's totals both count with it.
SHORT_UNITS = 1e-9
TOTAL_NAMES = ["holding", "stockout", "demand", "fulfilled", "unmet", "stockout_days", "orders", "on_hand",
               "shipped", "cycles", "cycles_with_stockout", "ordering"]


def total_cost(tot: dict):
    """Holding + lost sales (or backorder) + K per order placed, from kernel totals (floats or arrays per row)."""
    return tot["holding"] + tot["stockout"] + tot["ordering"]


def fill_rate(tot: dict, nothing_demanded: float = 1.0):
    """The P2 fill rate from kernel totals (floats or arrays per row): units served on the day ÷ units demanded.
    Where nothing was demanded it is `nothing_demanded`: 1 in a run's KPIs (no unit went unmet); NaN where a mean
    over series or windows should leave such a row out (the replays of real days)."""
    demand = np.asarray(tot["demand"], dtype=np.float64)
    served = np.asarray(tot["fulfilled"], dtype=np.float64)
    return np.where(demand > 0, served / np.where(demand > 0, demand, 1.0), nothing_demanded)


def cycle_service_level(tot: dict, no_cycle: float = 1.0):
    """The P1 cycle service level from kernel totals: the share of replenishment cycles without a stockout;
    `no_cycle` where no cycle was counted (the kernel closes one at the end of every run of at least one day)."""
    cycles = np.asarray(tot["cycles"], dtype=np.float64)
    short = np.asarray(tot["cycles_with_stockout"], dtype=np.float64)
    return np.where(cycles > 0, 1.0 - short / np.where(cycles > 0, cycles, 1.0), no_cycle)


def ledger_totals(rows: list[dict]) -> dict:
    tot = {k: 0.0 for k in TOTAL_NAMES}
    short = False
    for i, r in enumerate(rows):
        if i > 0 and r["arrivals"] > 0:  # an arrival closes the running cycle and opens the next
            tot["cycles"] += 1.0
            tot["cycles_with_stockout"] += 1.0 if short else 0.0
            short = False
        short = short or r["unmet"] > SHORT_UNITS
        tot["holding"] += r["holding_cost"]
        tot["stockout"] += r["stockout_cost"]
        tot["ordering"] += r.get("ordering_cost", 0.0)
        tot["demand"] += r["demand"]
        tot["fulfilled"] += r["fulfilled"]
        tot["unmet"] += r["unmet"]
        tot["stockout_days"] += 1.0 if r["unmet"] > SHORT_UNITS else 0.0
        tot["orders"] += 1.0 if r["order_qty"] > 0 else 0.0
        tot["on_hand"] += r["on_hand"]
        tot["shipped"] += r["fulfilled"] + r.get("backlog_filled", 0.0)
    if rows:  # the last cycle ends with the run
        tot["cycles"] += 1.0
        tot["cycles_with_stockout"] += 1.0 if short else 0.0
    return tot


def kpis_from_totals(tot: dict, days: int):
    """KPIs from totals that are floats (one run) or (R,) arrays (a batch); same formulas for both."""
    if days <= 0:
        return {k: (0 if k == "days" else None) for k in KPI_NAMES}
    scalar = not isinstance(tot["holding"], np.ndarray)
    demand = np.asarray(tot["demand"], dtype=np.float64)
    avg_oh = np.asarray(tot["on_hand"], dtype=np.float64) / days
    with np.errstate(divide="ignore", invalid="ignore"):
        orders = np.asarray(tot["orders"], dtype=np.float64)
        ordering = np.asarray(tot.get("ordering", 0.0), dtype=np.float64)
        per_line = np.where(orders > 0, ordering / np.where(orders > 0, orders, 1.0), np.nan)
        turns = np.where(avg_oh > 0, (np.asarray(tot["shipped"]) * 365.0 / days) / np.where(avg_oh > 0, avg_oh, 1.0),
                         np.nan)
    out = {
        "total_cost": np.asarray(tot["holding"]) + np.asarray(tot["stockout"]) + ordering,
        "holding_cost": np.asarray(tot["holding"], dtype=np.float64),
        "stockout_cost": np.asarray(tot["stockout"], dtype=np.float64),
        "fill_rate": fill_rate(tot),
        "cycle_service_level": cycle_service_level(tot),
        "days_without_stockout": 1.0 - np.asarray(tot["stockout_days"]) / days,
        "stockout_days": np.asarray(tot["stockout_days"], dtype=np.float64),
        "orders_placed": np.asarray(tot["orders"], dtype=np.float64),
        "average_on_hand": avg_oh,
        "inventory_turns": turns,
        "days": days,
        "total_demand": demand,
        "unmet_units": np.asarray(tot["unmet"], dtype=np.float64),
        "ordering_cost": ordering + 0.0 * demand,
        "orders_per_year": orders * 365.0 / days,
        "cost_per_order_line": per_line,
    }
    if scalar:
        res = {}
        for k, v in out.items():
            if k == "days":
                res[k] = int(days)
            elif k in ("stockout_days", "orders_placed"):
                res[k] = int(v)
            else:
                v = float(v)
                res[k] = None if math.isnan(v) else v
        return res
    return out


def ledger_kpis(rows: list[dict], backorders: bool = False) -> dict:
    """KPIs of a single run's ledger rows."""
    return kpis_from_totals(ledger_totals(rows), len(rows))


def summarize(kpis: dict, confidence: float = 0.95) -> dict:
    """Means over replications and Student-t confidence half-widths (engine.simulation.confidence):
    {"mean": {...}, "half_width": {...}}; NaN values (an undefined KPI in a replication) are left out."""
    mean, half = {}, {}
    for k, v in kpis.items():
        if k == "days":
            mean[k] = int(v)
            continue
        a = np.asarray(v, dtype=np.float64)
        a = a[~np.isnan(a)]
        if len(a) == 0:
            mean[k], half[k] = None, None
            continue
        mean[k] = float(a.mean())
        half[k] = half_width(a, confidence)
    return {"mean": mean, "half_width": half}
