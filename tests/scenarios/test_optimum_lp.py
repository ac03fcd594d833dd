"""The perfect-information LP and the SAA plan, checked against an independent day-by-day simulation.

The reference simulation here follows the contract's event order literally (decision, arrivals, demand, costs)
so the LP's formulation is checked against the textbook, not against itself.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.studies.optimum import evaluate_plan, perfect_information_bound, saa_plan


def reference_base_stock(demand, level, *, L, h, p, I0, backorders=False):
    """Constant base-stock: each day order up to `level` (inventory position), contract event order."""
    T = len(demand)
    pipeline = {}
    on_hand, backlog, cost = float(I0), 0.0, 0.0
    for t in range(T):
        position = on_hand + sum(pipeline.values()) - backlog
        q = max(0.0, level - position)
        if q > 0:
            pipeline[t + L] = pipeline.get(t + L, 0.0) + q
        on_hand += pipeline.pop(t, 0.0)
        if backorders:
            need = backlog + demand[t]
            served = min(on_hand, need)
            on_hand -= served
            backlog = need - served
            cost += h * on_hand + p * backlog
        else:
            served = min(on_hand, demand[t])
            on_hand -= served
            cost += h * on_hand + p * (demand[t] - served)
    return cost


@pytest.mark.parametrize("backorders,L,I0", [
    (True, 0, 0.0), (True, 1, 0.0), (True, 7, 0.0), (True, 7, 30.0), (True, 7, 200.0), (True, 14, 55.5),
    # lost sales: equal whenever the start stock covers the lead time (I0 >= d·L), see the next test otherwise
    (False, 0, 0.0), (False, 1, 10.0), (False, 7, 70.0), (False, 7, 80.0), (False, 7, 200.0), (False, 14, 145.5),
])
def test_deterministic_bound_equals_order_up_to_with_S_d_L_plus_1(L, I0, backorders):
    d = 10.0
    demand = np.full(120, d)
    kw = dict(L=L, h=0.07, p=3.0, I0=I0, backorders=backorders)
    lp = perfect_information_bound(demand, lead_time=L, holding_cost=0.07, stockout_cost=3.0,
                                   initial_inventory=I0, backorders=backorders)
    assert lp.cost == pytest.approx(reference_base_stock(demand, d * (L + 1), **kw), abs=1e-6)


def test_lost_sales_start_with_too_little_stock_overshoots_once():
    """With lost sales and I0 < d·L the rule's position ignores the lost units, so the first order overshoots
    by the lost demand and that stock is held for a while: the bound is strictly lower (and still a bound)."""
    demand = np.full(120, 10.0)
    lp = perfect_information_bound(demand, lead_time=7, holding_cost=0.07, stockout_cost=3.0, initial_inventory=0)
    rule = reference_base_stock(demand, 80.0, L=7, h=0.07, p=3.0, I0=0)
    assert lp.cost == pytest.approx(3.0 * 70, abs=1e-6)  # seven days with nothing on hand, nothing held after
    assert rule > lp.cost


def test_deterministic_bound_is_zero_when_the_start_is_exactly_right():
    # On-hand d·L covers the lead time exactly; from then on just-in-time orders cost nothing.
    lp = perfect_information_bound(np.full(60, 5.0), lead_time=4, holding_cost=1.0, stockout_cost=9.0,
                                   initial_inventory=5.0 * 4)
    assert lp.cost == pytest.approx(0.0 + 1.0 * (15 + 10 + 5 + 0), abs=1e-9)  # holding while the start stock drains


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), L=st.integers(0, 10), backorders=st.booleans(),
       I0=st.floats(0, 200), level_factor=st.floats(0.2, 3.0))
def test_bound_never_exceeds_a_base_stock_policy_on_the_same_path(seed, L, backorders, I0, level_factor):
    rng = np.random.default_rng(seed)
    demand = rng.gamma(2.0, 8.0, size=90)
    h, p = 0.05, 2.5
    level = level_factor * demand.mean() * (L + 1)
    lp = perfect_information_bound(demand, lead_time=L, holding_cost=h, stockout_cost=p, initial_inventory=I0,
                                   backorders=backorders)
    policy = reference_base_stock(demand, level, L=L, h=h, p=p, I0=I0, backorders=backorders)
    assert lp.cost <= policy + 1e-6


def test_lost_sales_bound_is_the_unavoidable_start_up_cost():
    """Perfect information, no ordering cost: from day L+1 on, just-in-time orders cost nothing; the bound is
    what the starting stock forces on the first L days (greedy fulfilment) — computed by hand here."""
    rng = np.random.default_rng(3)
    demand = rng.poisson(20, 365).astype(float)
    L, h, p, I0 = 7, 0.0137, 20.0, 100.0
    on_hand, cost = I0, 0.0
    for t in range(L):
        served = min(on_hand, demand[t])
        on_hand -= served
        cost += h * on_hand + p * (demand[t] - served)
    # leftover start stock is used first after day L, so it keeps costing h until it is gone
    t = L
    while on_hand > 0 and t < 365:
        on_hand = max(0.0, on_hand - demand[t])
        cost += h * on_hand
        t += 1
    lp = perfect_information_bound(demand, lead_time=L, holding_cost=h, stockout_cost=p, initial_inventory=I0)
    assert lp.cost == pytest.approx(cost, rel=1e-9, abs=1e-6)
    assert lp.holding_cost + lp.stockout_cost == pytest.approx(lp.cost, abs=1e-6)


def test_orders_that_cannot_arrive_in_the_horizon_are_not_placed():
    lp = perfect_information_bound(np.full(20, 3.0), lead_time=5, holding_cost=0.1, stockout_cost=1.0)
    assert np.all(lp.orders[15:] == 0)


def test_stochastic_arrival_days_are_respected():
    T = 30
    demand = np.full(T, 4.0)
    # every order takes 3 days except those placed on days 0..4, which take 10
    arrival = np.arange(T) + 3
    arrival[:5] = np.arange(5) + 10
    lp = perfect_information_bound(demand, lead_time=3, arrival_day=arrival, holding_cost=0.1, stockout_cost=2.0)
    # days 0..2 nothing can arrive at all: 3 days × 4 units lost at p = 2
    assert lp.stockout_cost >= 2.0 * 12 - 1e-9
    fixed = perfect_information_bound(demand, lead_time=3, holding_cost=0.1, stockout_cost=2.0)
    assert lp.cost >= fixed.cost - 1e-9


@pytest.mark.parametrize("backorders", [False, True])
def test_saa_plan_is_optimal_in_sample_and_honest_out_of_sample(backorders):
    rng = np.random.default_rng(11)
    K, T, L = 12, 60, 3
    paths = rng.poisson(15, (K, T)).astype(float)
    kw = dict(lead_time=L, holding_cost=0.1, stockout_cost=4.0, initial_inventory=40.0, backorders=backorders)
    plan = saa_plan(paths, **kw)
    in_sample = evaluate_plan(plan.orders, paths, **kw)["total_cost"].mean()
    assert plan.cost == pytest.approx(in_sample, rel=1e-6)
    # any other open-loop plan is no better in sample: e.g. the mean demand, or the mean plus a buffer
    for bump in (0.0, 2.0, -2.0):
        other = np.full(T, max(0.0, paths.mean() + bump))
        assert in_sample <= evaluate_plan(other, paths, **kw)["total_cost"].mean() + 1e-6
    # each path's perfect-information bound is below the plan's cost on that path
    per_path = evaluate_plan(plan.orders, paths, **kw)["total_cost"]
    for k in range(K):
        bound = perfect_information_bound(paths[k], lead_time=L, holding_cost=0.1, stockout_cost=4.0,
                                          initial_inventory=40.0, backorders=backorders).cost
        assert bound <= per_path[k] + 1e-6


def test_bad_inputs_are_refused_with_a_message():
    with pytest.raises(ValueError, match="non-negative"):
        perfect_information_bound([1.0, -2.0], holding_cost=1, stockout_cost=1)
    with pytest.raises(ValueError, match="stockout cost > 0"):
        perfect_information_bound([1.0, 2.0], holding_cost=1, stockout_cost=0)
