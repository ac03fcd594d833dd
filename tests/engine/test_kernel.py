"""engine.simulation.kernel: the one inventory day — scalar and array states add the same numbers in the same order,
and the event order is the contract's (order, arrivals, backlog, demand, costs)."""
from __future__ import annotations

import numpy as np
import pytest

from engine.simulation.kernel import InventoryKernel


def _play(kernel, demand, orders, leads):
    flows = []
    for d in range(len(demand)):
        placed, _ = kernel.place(d, orders[d], leads[d])
        flows.append(kernel.serve(d, demand[d], placed))
    return flows, kernel.finish()


@pytest.mark.parametrize("backorders", [False, True])
@pytest.mark.parametrize("crossing", [False, True])
def test_a_scalar_inventory_equals_each_row_of_an_array_of_inventories_bit_for_bit(backorders, crossing):
    rng = np.random.default_rng(3)
    R, days = 6, 40
    demand = rng.gamma(2.0, 3.0, size=(R, days))
    orders = np.where(rng.random((R, days)) < 0.4, rng.gamma(2.0, 8.0, size=(R, days)), 0.0)
    leads = rng.integers(0, 5, size=(R, days))
    vec = InventoryKernel(np.full(R, 12.5), h=0.3, p=4.0, backorders=backorders, max_lead=4, crossing=crossing)
    vflows, vtot = _play(vec, demand.T, orders.T, leads.T)
    for r in range(R):
        one = InventoryKernel(12.5, h=0.3, p=4.0, backorders=backorders, max_lead=4, crossing=crossing)
        sflows, stot = _play(one, demand[r], orders[r], leads[r])
        for d in range(days):
            for name in ("arrivals", "backlog_filled", "fulfilled", "unmet", "holding", "stockout"):
                assert getattr(sflows[d], name) == getattr(vflows[d], name)[r], (name, d)
        for k, v in stot.items():
            assert float(v) == float(vtot[k][r]), k


def test_event_order_lead_zero_arrives_today_and_lost_sales_cost_the_unit_penalty():
    k = InventoryKernel(0.0, h=1.0, p=10.0)
    placed, arrival = k.place(0, 5.0, 0)
    flows = k.serve(0, 8.0, placed)
    assert (flows.arrivals, flows.fulfilled, flows.unmet) == (5.0, 5.0, 3.0)
    assert (flows.holding, flows.stockout) == (0.0, 30.0)


def test_backorders_are_served_first_from_the_next_arrival_and_cost_per_day_open():
    k = InventoryKernel(0.0, h=1.0, p=2.0, backorders=True, max_lead=1)
    k.place(0, 0.0, 1)
    f0 = k.serve(0, 4.0)
    assert (f0.unmet, f0.stockout) == (4.0, 8.0)            # 4 open at day end, 2 per unit-day
    placed, _ = k.place(1, 10.0, 0)
    f1 = k.serve(1, 3.0, placed)
    assert (f1.backlog_filled, f1.fulfilled, f1.stockout, k.on_hand) == (4.0, 3.0, 0.0, 3.0)


def test_orders_do_not_cross_unless_allowed_and_the_position_counts_the_pipeline():
    k = InventoryKernel(0.0, h=1.0, p=1.0, max_lead=5, crossing=False)
    k.place(0, 1.0, 5)
    _, arrival = k.place(0, 0.0, 0)
    placed, arrival = k.place(1, 2.0, 1)
    assert arrival == 5                                        # waits for the earlier order
    assert k.position() == 3.0
    assert list(k.pipeline(1)) == [0.0, 0.0, 0.0, 0.0, 3.0]


def test_cycles_run_from_one_arrival_to_the_day_before_the_next():
    k = InventoryKernel(2.0, h=0.0, p=1.0, max_lead=1)
    plan = [(0, 1.0), (5.0, 1.0), (0, 1.0), (0, 5.0)]         # stockout in cycle 1 (day 0 short), none in cycle 2
    demand = [3.0, 0.0, 1.0, 1.0]
    for d, (qty, dem) in enumerate(zip([0.0, 5.0, 0.0, 0.0], demand)):
        placed, _ = k.place(d, qty, 1)
        k.serve(d, dem, placed)
    tot = k.finish()
    assert tot["cycles"] == 2.0 and tot["cycles_with_stockout"] == 1.0
    assert plan  # the plan documents the days


def test_an_outstanding_pipeline_at_the_start_arrives_on_its_day():
    k = InventoryKernel(0.0, h=1.0, p=1.0, max_lead=2, pipeline={2: 7.0})
    assert k.position() == 7.0
    k.place(0, 0.0, 0)
    assert k.serve(0, 0.0).arrivals == 0.0
    k.place(1, 0.0, 0)
    assert k.serve(1, 0.0).arrivals == 0.0
    k.place(2, 0.0, 0)
    assert k.serve(2, 1.0).arrivals == 7.0


def test_orders_kept_by_the_day_placed_give_the_same_days_bit_for_bit():
    """row_leads (each row's orders wait the same days) keeps orders by the day placed and gathers arrivals; the
    totals and every day's flows equal the ring kept by arrival day."""
    rng = np.random.default_rng(8)
    rows, k, days = 50, 4, 60
    lead = rng.integers(0, 9, rows)
    demand = rng.poisson(5.0, (rows, days)).astype(float)
    level = 20.0 + rng.random((rows, k)) * 30.0
    h, p = rng.random(rows)[:, None], 5.0 + rng.random(rows)[:, None]

    def run(**kw):
        kern = InventoryKernel(level.copy(), h=h, p=p, max_lead=int(lead.max()), running_on_order=True,
                               pipeline_views=False, **kw)
        flows = []
        for d in range(days):
            qty = level - kern.position()
            qty[:, ::2] -= 3.0   # some days nothing is ordered in some cells
            placed, arrival = kern.place(d, qty, lead[:, None])
            assert np.array_equal(arrival, np.broadcast_to(d + lead[:, None], arrival.shape))
            flows.append(kern.serve(d, demand[:, d:d + 1], placed))
        return kern.finish(), flows

    by_arrival, f1 = run()
    by_placement, f2 = run(row_leads=lead)
    for name in by_arrival:
        assert np.array_equal(by_arrival[name], by_placement[name]), name
    for a, b in zip(f1, f2):
        assert np.array_equal(a.arrivals, b.arrivals) and np.array_equal(a.unmet, b.unmet)


def test_row_leads_refuse_what_they_cannot_keep():
    state = np.zeros((3, 2))
    with pytest.raises(ValueError, match="one lead time per row"):
        InventoryKernel(state, h=1.0, p=1.0, max_lead=4, running_on_order=True, pipeline_views=False,
                        row_leads=[1, 2])
    with pytest.raises(ValueError, match="running_on_order"):
        InventoryKernel(state, h=1.0, p=1.0, max_lead=4, row_leads=[1, 2, 3])
    with pytest.raises(ValueError, match="0..max_lead"):
        InventoryKernel(state, h=1.0, p=1.0, max_lead=2, running_on_order=True, pipeline_views=False,
                        row_leads=[1, 2, 3])
    kern = InventoryKernel(state, h=1.0, p=1.0, max_lead=4, running_on_order=True, pipeline_views=False,
                           row_leads=[1, 2, 3])
    with pytest.raises(ValueError, match="day placed"):
        kern.pipeline(0)
