"""Running totals of a run's ledger rows (costs, demand, events), kept per ledger list and extended as it grows.

Why: every tick shows KPI cards, an event summary and cumulative-cost points that sum over the whole run; summed
afresh each tick, a 730-day run spends most of a late tick re-reading rows it has read before. A live simulator's
ledger is one list that only grows by appending (a new run is a new list), so the sums up to any day are kept as
prefix sums beside that list and extended by the new rows only. A list seen for the first time (a ledger read back
from the store) is summed once. Pure Python; nothing here reads the store or imports dash.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

FIELDS = ("holding", "stockout", "demand", "fulfilled", "unmet", "orders", "arrivals", "stockout_days", "events")
_MAX = 128  # ledgers remembered (sessions live in this process: dashapp.session_storage keeps 64)
_memo: "OrderedDict[int, tuple[list, dict]]" = OrderedDict()
_lock = threading.Lock()


def _events(row: dict) -> int:
    """How many event-log entries a row makes (dashapp.session_views.events_of)."""
    return bool(row.get("order_qty")) + bool(row.get("unmet")) + bool(row.get("arrivals"))


def _extend(prefix: dict, rows: list, start: int) -> None:
    acc = {k: prefix[k][-1] for k in FIELDS}
    for r in rows[start:]:
        unmet = float(r.get("unmet") or 0.0)
        acc["holding"] += float(r.get("holding_cost") or 0.0)
        acc["stockout"] += float(r.get("stockout_cost") or 0.0)
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
    """Sums over rows[:upto] (all rows by default): holding and stockout cost, demand, fulfilled, unmet units,
    order, arrival and stockout days, event-log entries."""
    n = len(rows) if upto is None else max(0, min(int(upto), len(rows)))
    with _lock:
        hit = _memo.get(id(rows))
        if hit is not None and hit[0] is rows and len(hit[1]["events"]) - 1 <= len(rows):
            prefix = hit[1]
            _memo.move_to_end(id(rows))
        else:
            prefix = {k: [0.0] for k in FIELDS}
            _memo[id(rows)] = (rows, prefix)
            while len(_memo) > _MAX:
                _memo.popitem(last=False)
        done = len(prefix["events"]) - 1
        if done < n:
            _extend(prefix, rows, done)
        return {k: prefix[k][n] for k in FIELDS}
