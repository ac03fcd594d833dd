"""The inventory day: the one implementation of the contract's event order that every simulation calls.

Day d (0-based) of an inventory, after the policy has seen the inventory position (`position()`):

1. `place(d, qty, lead)`: the order joins the pipeline, due on day d + lead (without crossing, never before the
   last order placed; a lead time of 0 arrives today);
2. `serve(d, demand)`: today's arrivals are received, the backlog is served first (backorders), then today's
   demand; what is left unmet is lost or backordered; holding h × closing on-hand, stockout p × units lost (lost
   sales) or b × closing backlog (backorders; p is then the backorder cost per unit per day); K per order placed
   today (the fixed ordering cost).

A supplier's rules (engine.policies.order_rules.OrderRules: whole units, MOQ, pack multiples, order days) are applied
in `place()`, so every caller orders what the supplier accepts; `ordered` is the quantity actually placed today.

The state may be one inventory (Python floats: the day-by-day simulator, ~1 µs of arithmetic a day) or an array of
any shape (replications, series × candidate levels, levels × paths): the arithmetic is written once over a small
ops namespace (`SCALAR` for floats, `VECTOR` for numpy), so the single run and every batch add the same numbers in
the same order and agree bit for bit. Totals for the KPIs (engine.simulation.metrics.TOTAL_NAMES) accumulate as the
days are served; the cycle service level counts replenishment cycles from one arrival to the day before the next
(Silver, Pyke & Thomas, "Inventory and Production Management in Supply Chains", 4th ed., ch. 6, "P1").
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from types import SimpleNamespace

import numpy as np

from engine.simulation.metrics import SHORT_UNITS, TOTAL_NAMES

__all__ = ["InventoryKernel", "DayFlows", "SCALAR", "VECTOR"]


def _where_scalar(cond, a, b):
    return a if cond else b


SCALAR = SimpleNamespace(minimum=min, maximum=max, where=_where_scalar, zeros=lambda shape: 0.0,
                         false=lambda shape: False, any=bool)
VECTOR = SimpleNamespace(minimum=np.minimum, maximum=np.maximum, where=np.where,
                         zeros=lambda shape: np.zeros(shape), false=lambda shape: np.zeros(shape, dtype=bool),
                         any=lambda a: bool(np.any(a)))


@dataclass
class DayFlows:
    """What one `serve` moved: floats for a scalar kernel, arrays of the state's shape otherwise."""
    arrivals: object
    backlog_filled: object
    fulfilled: object
    unmet: object
    holding: object
    stockout: object
    ordering: object = 0.0

    @property
    def daily(self):
        return self.holding + self.stockout + self.ordering


class InventoryKernel:
    """Inventories of one shape (a float, or an array) advanced one day at a time on the contract's event order.

    on_hand: the starting stock (float or array; its shape is the state's); h, p: floats or arrays broadcastable
    to it; max_lead: the longest lead time an order can have (the pipeline is a ring of max_lead + 1 slots, so
    memory is O(shape × lead), not O(shape × days)); crossing: whether a later order may arrive before an earlier
    one; pipeline: orders already outstanding at the start, {days from now (≥ 0; 0 arrives with day 0): quantity};
    totals: accumulate the KPI totals (a caller that keeps its own ledger, as the simulator, skips them);
    running_on_order: keep the orders outstanding as a running sum (placed − received: O(1) a day instead of
    O(lead), but it may differ from the pipeline's sum by rounding) — for callers that read totals only, as the
    portfolio's rows × candidates; the simulator and the batch sum the pipeline afresh each day;
    pipeline_views: an array state keeps its ring twice (slot k and k + slots) so that `pipeline()` is a view, not
    a gather (a caller that never reads the pipeline passes False and writes each order once).
    row_leads: for a (rows, candidates) state whose every order of row r waits the same row_leads[r] days (the
    portfolio's fixed lead times): the orders are kept by the day they were placed and today's arrivals gathered
    from day d − L_r — a plain write and a one-axis gather instead of a scatter by arrival day (~5× less for the
    pipeline's part of the day, the same numbers: each slot holds one order). Needs running_on_order, no
    starting pipeline; `pipeline()` is not kept then. place()'s lead is then row_leads (as a (rows, 1) column).
    rules: an OrderRules (None: any quantity, every day, no ordering cost); first_weekday: the weekday of day 0
    (Monday = 0), which the rules' order days are read against — an int, or an array broadcastable to the state
    (e.g. (rows, 1): each row's own weekday of day 0).
    """

    def __init__(self, on_hand, *, h, p, backorders: bool = False, max_lead: int = 0, crossing: bool = True,
                 pipeline: dict | None = None, totals: bool = True, running_on_order: bool = False,
                 pipeline_views: bool = True, rules=None, first_weekday: int = 0, row_leads=None) -> None:
        self.scalar = np.ndim(on_hand) == 0 and not isinstance(on_hand, np.ndarray)
        self.ops = ops = SCALAR if self.scalar else VECTOR
        self.shape = () if self.scalar else np.shape(on_hand)
        self.on_hand = float(on_hand) if self.scalar else np.array(on_hand, dtype=np.float64)
        self.h, self.p = self._full(h), self._full(p)
        self.backorders = bool(backorders)
        self.running_on_order = bool(running_on_order)
        self.crossing = bool(crossing)
        start_lead = max(pipeline or {0: 0.0})
        self.max_lead = max(int(max_lead), int(start_lead))
        self.slots = self.max_lead + 1
        self.mirror = 0
        if self.scalar:
            self.ring = [0.0] * self.slots
        else:
            # held twice (slot k and k + slots) with pipeline_views: any window of the pipeline is one view
            self.mirror = self.slots if pipeline_views else 0
            self.ring = np.zeros((self.slots + self.mirror,) + self.shape)
        for ahead, qty in (pipeline or {}).items():
            if ahead < 0:
                raise ValueError(f"an outstanding order is due {ahead} days from now; it must be 0 or more")
            self.ring[int(ahead) % self.slots] += qty
            if not self.scalar and self.mirror:
                self.ring[int(ahead) % self.slots + self.slots] = self.ring[int(ahead) % self.slots]
        self.backlog = ops.zeros(self.shape)
        self.on_order = self._outstanding(-1)  # everything of the starting pipeline is still outstanding
        self._row_leads = None
        if row_leads is not None:
            leads = np.asarray(row_leads, dtype=np.int64).reshape(-1)
            if self.scalar or len(self.shape) != 2 or leads.shape != (self.shape[0],):
                raise ValueError("row_leads takes one lead time per row of a (rows, candidates) state")
            if pipeline or not self.running_on_order or self.mirror:
                raise ValueError("row_leads needs running_on_order, no starting pipeline and pipeline_views=False")
            if leads.size and (leads.min() < 0 or leads.max() > self.max_lead):
                raise ValueError(f"row_leads must lie in 0..max_lead ({self.max_lead})")
            self._row_leads = leads
            self._placed_by_day = self.ring.reshape(-1, self.shape[1])   # row (d mod slots) · rows + r: day d's order
        self.last_arrival = -1 if self.scalar else np.full(self.shape, -1, dtype=np.int64)
        self._no_fill = 0.0 if self.scalar else np.zeros(self.shape)   # lost sales serve no backlog (read-only)
        self._rows = np.arange(self.shape[0]) if len(self.shape) == 2 else None
        self._cells = None if self.scalar else np.arange(int(np.prod(self.shape, dtype=np.int64)))
        self.totals = {k: ops.zeros(self.shape) for k in TOTAL_NAMES} if totals else None
        self._cycle_short = ops.false(self.shape)
        self._days = 0
        self.rules = rules if rules is not None and rules.active else None
        self.order_cost = float(rules.order_cost) if rules is not None else 0.0
        if np.ndim(first_weekday) == 0:
            self.first_weekday = int(first_weekday)
            self._day_mask = self._any_day = None
        else:   # one weekday per row (rows × candidates of series whose runs start on different weekdays)
            self.first_weekday = np.asarray(first_weekday, dtype=np.int64)
            self._day_mask = np.array(self.rules.order_day_mask() if self.rules is not None else (True,) * 7)
            self._any_day = None if self.rules is None else replace(self.rules, order_days=None)
        self.ordered = ops.zeros(self.shape)
        self._demand_day = None

    def _full(self, value):
        """A per-row cost (rows, 1) spread to the state's shape once: the day's products then run on equal shapes
        (a broadcast over a short last axis is ~2× slower in numpy). Same values, so the same products."""
        if self.scalar or np.ndim(value) == 0 or np.shape(value) == self.shape:
            return value
        try:
            return np.ascontiguousarray(np.broadcast_to(value, self.shape), dtype=np.float64)
        except ValueError:
            return value

    def position(self):
        """Inventory position the policy sees: on-hand + on order − backlog (lost sales: no backlog, and x − 0 = x)."""
        if not self.backorders:
            return self.on_hand + self.on_order
        return self.on_hand + self.on_order - self.backlog

    def pipeline(self, d: int, width: int | None = None):
        """Outstanding orders by days until arrival at the start of day d (column j = due on day d + j)."""
        if self._row_leads is not None:
            raise ValueError("this kernel keeps its orders by the day placed (row_leads): no pipeline by arrival")
        width = self.max_lead if width is None else width
        if self.scalar:
            ring, slots = self.ring, self.slots
            return np.array([ring[(d + j) % slots] for j in range(width)], dtype=np.float64)
        if width <= self.slots and (self.mirror or d % self.slots + width <= self.slots):   # a view, no copy
            start = d % self.slots
            window = self.ring[start:start + width]
        else:
            window = self.ring[(d + np.arange(width)) % self.slots]
        return window.T if window.ndim == 2 else np.moveaxis(window, 0, -1)

    def place(self, d: int, qty, lead):
        """Place today's order: qty ≥ 0 (float or array), lead: days until arrival (int or array of the state's
        shape, ≤ max_lead). The rules round qty first (`ordered` keeps the result). Returns (placed, arrival day)."""
        ops = self.ops
        if self.rules is not None:
            if self._day_mask is None:
                qty = self.rules.apply(qty, (self.first_weekday + d) % 7)
            else:
                qty = np.where(self._day_mask[(self.first_weekday + d) % 7], self._any_day.apply(qty, 0), 0.0)
        self.ordered = qty
        placed = qty > 0
        arrival = d + lead
        if not self.crossing:
            arrival = ops.maximum(arrival, self.last_arrival)
        if self.scalar:
            if placed:
                self.last_arrival = arrival
                self.ring[arrival % self.slots] += qty
                self.on_order += qty
            return placed, arrival
        amount = np.maximum(qty, 0.0)   # nothing for qty ≤ 0 (one pass; np.where with a mask is ~8× slower here)
        if self._row_leads is not None:   # kept by the day placed; serve() gathers it L_r days later
            self.on_order += amount
            self.ring[d % self.slots] = amount
            return placed, arrival
        if not self.crossing:
            self.last_arrival = np.where(placed, arrival, self.last_arrival)
        self.on_order += amount
        ring, slots, mirror = self.ring, self.slots, self.mirror
        if np.ndim(arrival) == 0 or (arrival.size and (arrival == arrival.flat[0]).all()):  # one arrival day
            k = int(arrival if np.ndim(arrival) == 0 else arrival.flat[0]) % slots
            ring[k] += amount
            if mirror:
                ring[k + slots] = ring[k]
        elif len(self.shape) == 2 and arrival.ndim == 2 and arrival.shape == (self.shape[0], 1):
            # one arrival day per row (rows × candidates, per-row lead): the ring as (slot × row, candidate), so
            # the scatter indexes one axis with whole rows of candidates (~2.5× faster than a two-axis index)
            n = self.shape[0]
            flat = ring.reshape(-1, self.shape[1])
            at = arrival[:, 0] % slots * n + self._rows
            flat[at] += amount
            if mirror:
                flat[at + slots * n] = flat[at]
        elif ops.any(placed):  # one order per cell a day: each (slot, cell) is written once, no np.add.at
            cell = np.broadcast_to(arrival % slots, self.shape).ravel() * self._cells.size + self._cells
            flat = ring.reshape(-1)
            flat[cell] += np.broadcast_to(amount, self.shape).ravel()
            if mirror:
                flat[cell + slots * self._cells.size] = flat[cell]
        return placed, arrival

    def _outstanding(self, d: int):
        """Orders due after day d, summed in arrival order (the same numbers in the same order every day: no
        drift between a running sum and the pipeline). d = −1 (the start) counts every slot."""
        ring, slots = self.ring, self.slots
        if self.scalar:
            total = 0.0
            for j in range(slots if d < 0 else slots - 1):
                total = total + ring[(d + 1 + j) % slots]
            return total
        total = np.zeros(self.shape)   # 0 + x = x: the same bits as the scalar sum that starts from 0.0
        for j in range(slots if d < 0 else slots - 1):
            total += ring[(d + 1 + j) % slots]
        return total

    def outstanding_by_day(self, d: int) -> dict:
        """A scalar inventory's orders not yet received at the start of day d: {arrival day: quantity} (the
        simulator's stored state)."""
        if not self.scalar:
            raise TypeError("outstanding_by_day is for a scalar inventory")
        out = {}
        for j in range(self.slots):
            qty = self.ring[(d + j) % self.slots]
            if qty != 0.0:
                out[d + j] = qty
        return out

    def resume(self, day: int, *, on_hand: float, backlog: float, on_order: float, last_arrival: int,
               outstanding: dict) -> None:
        """Put a scalar inventory where a stored run stopped, before day `day`: its stock, backlog, the sum of
        its open orders as it was computed then, the last arrival day and {arrival day (≥ day): quantity}."""
        if not self.scalar:
            raise TypeError("resume is for a scalar inventory")
        self.ring = [0.0] * self.slots
        for k, qty in outstanding.items():
            if not day <= int(k) < day + self.slots:
                raise ValueError(f"an outstanding order is due on day {k}, outside days {day}..{day + self.slots - 1}")
            self.ring[int(k) % self.slots] += float(qty)
        self.on_hand, self.backlog, self.on_order = float(on_hand), float(backlog), float(on_order)
        self.last_arrival = int(last_arrival)
        self._days = int(day)

    def serve(self, d: int, demand, placed=False) -> DayFlows:
        """Receive today's arrivals, serve the backlog then today's demand, pay holding and stockout. `placed`
        (whether an order was placed today) only counts orders for the KPIs."""
        if self._row_leads is not None:   # row r receives what it ordered on day d − L_r (zeros before day L_r)
            at = (d - self._row_leads) % self.slots * self.shape[0] + self._rows
            arrivals = np.take(self._placed_by_day, at, axis=0)
            self.on_order -= arrivals
            return self._serve_stock(d, demand, placed, arrivals)
        slot = d % self.slots
        arrivals = self.ring[slot]
        if self.scalar:
            self.ring[slot] = 0.0
        else:
            arrivals = arrivals.copy()
            self.ring[slot] = 0.0
            if self.mirror:
                self.ring[slot + self.slots] = 0.0
        if self.running_on_order:
            if self.scalar:
                self.on_order = self.on_order - arrivals
            else:
                self.on_order -= arrivals
        else:
            self.on_order = self._outstanding(d)
        return self._serve_stock(d, demand, placed, arrivals)

    def _serve_stock(self, d: int, demand, placed, arrivals) -> DayFlows:
        """The rest of `serve` once today's arrivals are known: stock, backlog, demand, costs, the KPI totals."""
        ops = self.ops
        if self.scalar:
            on_hand = self.on_hand + arrivals
        else:   # the kernel's own array, updated in place (a caller keeps a copy of the stock it wants to keep)
            on_hand = self.on_hand
            on_hand += arrivals
        if not self.scalar and np.shape(demand) != self.shape:   # e.g. a (rows, 1) day of rows × candidates
            if self._demand_day is None:
                self._demand_day = np.empty(self.shape)
            np.copyto(self._demand_day, demand)   # spread once; the day's four uses then run on equal shapes
            demand = self._demand_day
        backlog = self.backlog
        if self.backorders:
            filled = ops.minimum(on_hand, backlog)
            on_hand = on_hand - filled
            backlog = backlog - filled
        else:
            filled = self._no_fill
        fulfilled = ops.minimum(on_hand, demand)
        unmet = demand - fulfilled
        if self.scalar:
            on_hand = on_hand - fulfilled
        else:
            on_hand -= fulfilled
        if self.backorders:
            backlog = backlog + unmet
        holding = self.h * on_hand
        stockout = self.p * (backlog if self.backorders else unmet)
        ordering = self.order_cost * placed if self.order_cost else 0.0   # no array work without an order cost
        self.on_hand, self.backlog = on_hand, backlog
        tot = self.totals
        if tot is None:
            self._days += 1
            return DayFlows(arrivals, filled, fulfilled, unmet, holding, stockout, ordering)
        tot["holding"] += holding
        tot["stockout"] += stockout
        if self.order_cost:
            tot["ordering"] += ordering
        tot["demand"] += demand
        tot["fulfilled"] += fulfilled
        tot["unmet"] += unmet
        short = unmet > SHORT_UNITS
        tot["stockout_days"] += short
        tot["orders"] += placed
        tot["on_hand"] += on_hand
        if self.backorders:   # with lost sales nothing is shipped late: shipped = fulfilled, set by finish()
            tot["shipped"] += fulfilled + filled
        if self.scalar:
            if self._days > 0:  # an arrival closes the running cycle and opens the next
                new_cycle = arrivals > 0
                tot["cycles"] += new_cycle
                tot["cycles_with_stockout"] += new_cycle and self._cycle_short
                self._cycle_short = self._cycle_short and not new_cycle
            self._cycle_short = self._cycle_short or short
        else:
            cycle_short = self._cycle_short   # the kernel's own array: updated in place
            if self._days > 0:
                new_cycle = arrivals > 0
                tot["cycles"] += new_cycle
                tot["cycles_with_stockout"] += new_cycle & cycle_short
                np.greater(cycle_short, new_cycle, out=cycle_short)   # short and no arrival: a & ~b on booleans
            cycle_short |= short
        self._days += 1
        return DayFlows(arrivals, filled, fulfilled, unmet, holding, stockout, ordering)

    def finish(self) -> dict:
        """The totals with the running cycle closed (the last cycle ends with the run); call once, at the end."""
        if self.totals is None:
            raise ValueError("this kernel was built with totals=False")
        tot = dict(self.totals)
        if not self.backorders:
            tot["shipped"] = tot["fulfilled"] + 0.0   # the same sum, added in the same order (a copy)
        if self._days:
            tot["cycles"] = tot["cycles"] + 1.0
            tot["cycles_with_stockout"] = tot["cycles_with_stockout"] + self._cycle_short
        return tot

    @property
    def days(self) -> int:
        return self._days
