"""Running totals of a run's ledger rows (costs, demand, events), kept per ledger list and extended as it grows.

Why: every tick shows KPI cards, an event summary and cumulative-cost points that sum over the whole run; summed
afresh each tick, a 730-day run spends most of a late tick re-reading rows it has read before. A live simulator's
ledger is one list that only grows by appending (a new run is a new list), so the sums up to any day are kept as
prefix sums beside that list and extended by the new rows only. A list seen for the first time (a ledger read back
from the store) is summed once. Pure Python; nothing here reads the store or imports dash.

Memory: an entry holds its prefix sums (arrays of doubles) and the last row it has summed, never the list: the
ledger lives as long as its simulator does, not as long as this memo. That row is also the identity check — a
list found under a remembered id whose row at that position is another object is another ledger (summed afresh).
"""
from __future__ import annotations

import threading
from array import array
from collections import OrderedDict

FIELDS = ("holding", "stockout", "ordering", "demand", "fulfilled", "unmet", "orders", "arrivals", "stockout_days",
          "events")
_MAX = 128  # ledgers remembered (live simulators of this process: dashapp.platform.session_storage keeps 64)
_memo: "OrderedDict[int, list]" = OrderedDict()  # id(rows) -> [last row summed, prefix sums]
_lock = threading.Lock()


def _events(row: dict) -> int:
    """How many event-log entries a row makes (dashapp.pages.simulator.session_views.events_of)."""
    return bool(row.get("order_qty")) + bool(row.get("unmet")) + bool(row.get("arrivals"))


def _extend(prefix: dict, rows: list, start: int) -> None:
    acc = {k: prefix[k][-1] for k in FIELDS}
    for r in rows[start:]:
        unmet = float(r.get("unmet") or 0.0)
        acc["holding"] += float(r.get("holding_cost") or 0.0)
        acc["stockout"] += float(r.get("stockout_cost") or 0.0)
        acc["ordering"] += float(r.get("ordering_cost") or 0.0)
        acc["demand"] += float(r.get("demand") or 0.0)
        acc["fulfilled"] += float(r.get("fulfilled") or 0.0)
        acc["unmet"] += unmet
        acc["orders"] += bool(r.get("order_qty"))
        acc["arrivals"] += bool(r.get("arrivals"))
        acc["stockout_days"] += bool(unmet)
        acc["events"] += _events(r)
        for k in FIELDS:
            prefix[k].append(acc[k])


def totals(rows: list, upto: int | None = None) -> dict:
    """Sums over rows[:upto] (all rows by default): holding, stockout and ordering cost, demand, fulfilled, unmet units,
    order, arrival and stockout days, event-log entries."""
    n = len(rows) if upto is None else max(0, min(int(upto), len(rows)))
    with _lock:
        entry = _memo.get(id(rows))
        if entry is not None:
            done = len(entry[1]["events"]) - 1
            if done > len(rows) or (done and rows[done - 1] is not entry[0]):
                entry = None  # another list under a reused id, or this one was cut: sum afresh
        if entry is None:
            entry = [None, {k: array("d", [0.0]) for k in FIELDS}]
            _memo[id(rows)] = entry
            while len(_memo) > _MAX:
                _memo.popitem(last=False)
        else:
            _memo.move_to_end(id(rows))
        prefix = entry[1]
        done = len(prefix["events"]) - 1
        if done < len(rows) and done < n:
            _extend(prefix, rows, done)
            entry[0] = rows[-1]
        return {k: prefix[k][n] for k in FIELDS}
