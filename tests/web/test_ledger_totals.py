"""dashapp.ui.ledger_totals: the running sums the cards, the event summary and the cumulative-cost points read equal
plain sums over the rows, day by day as a run grows, for a list seen first at any length, and after a new run."""
from __future__ import annotations

from dashapp.pages.simulator.session_views import events_of
from dashapp.ui import ledger_totals as T
from engine.data.dataset import load_csv
from engine.data.generator import generate_csv
from engine.simulation.simulator import SimConfig, Simulator


def _plain(rows):
    return {
        "holding": sum(float(r["holding_cost"]) for r in rows),
        "stockout": sum(float(r["stockout_cost"]) for r in rows),
        "ordering": sum(float(r["ordering_cost"]) for r in rows),
        "demand": sum(float(r["demand"]) for r in rows),
        "fulfilled": sum(float(r["fulfilled"]) for r in rows),
        "unmet": sum(float(r.get("unmet") or 0.0) for r in rows),
        "orders": sum(1 for r in rows if r.get("order_qty")),
        "arrivals": sum(1 for r in rows if r.get("arrivals")),
        "stockout_days": sum(1 for r in rows if r.get("unmet")),
        "events": sum(len(events_of(r)) for r in rows),
    }


def _sim(backorders: bool):
    series = next(iter(load_csv(generate_csv().encode(), name="generated.csv").series.values()))
    cfg = SimConfig(days=120, lead_time=5, forecaster="ma7", demand="synthetic", seed=9, backorders=backorders,
                    lead_time_dist={"kind": "poisson", "mean": 5},
                    stockout_cost=0.05, order_cost=2.0)
    return Simulator(cfg, series)


def test_running_totals_equal_plain_sums_on_every_day_of_a_growing_run():
    for backorders in (False, True):
        sim = _sim(backorders)
        while not sim.done:
            sim.step()
            rows = sim.ledger
            assert T.totals(rows) == _plain(rows)
            k = len(rows) // 2
            assert T.totals(rows, k) == _plain(rows[:k])  # a day before the last one, from the same prefix sums
        plain = _plain(sim.ledger)
        assert plain["stockout_days"] > 0 and plain["orders"] > 0
        assert plain["ordering"] == 2.0 * plain["orders"]  # K per order placed


def test_a_list_seen_first_when_long_and_a_new_run_are_summed_afresh():
    sim = _sim(False)
    for _ in range(60):
        sim.step()
    copy = [dict(r) for r in sim.ledger]  # a ledger read back from the store: another list
    assert T.totals(copy) == _plain(copy)
    fresh = _sim(False)
    fresh.step()
    assert T.totals(fresh.ledger) == _plain(fresh.ledger)
    assert T.totals([]) == dict.fromkeys(T.FIELDS, 0.0)


class Row(dict):
    """A ledger row that a weak reference can watch."""


def test_the_memo_keeps_neither_the_ledger_nor_its_rows_alive_but_the_last_summed_one():
    import gc
    import weakref

    sim = _sim(False)
    for _ in range(20):
        sim.step()
    rows = [Row(r) for r in sim.ledger]
    first, last = weakref.ref(rows[0]), weakref.ref(rows[-1])
    assert T.totals(rows) == _plain(rows)
    del rows
    gc.collect()
    assert first() is None and last() is not None


def test_a_list_under_a_remembered_id_with_other_rows_is_summed_afresh():
    sim = _sim(False)
    for _ in range(30):
        sim.step()
    rows = [dict(r) for r in sim.ledger]
    stale = [None, {k: __import__("array").array("d", [0.0] + [123.0] * 10) for k in T.FIELDS}]
    T._memo[id(rows)] = stale  # as if a freed ledger of 10 rows had lived at this address
    assert T.totals(rows) == _plain(rows)
    assert T.totals(rows, 5) == _plain(rows[:5])
