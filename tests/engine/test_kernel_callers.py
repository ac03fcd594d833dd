"""Every simulation runs engine.simulation.kernel's inventory day: each caller's figures equal a direct
InventoryKernel run on the same demand paths with the same orders (bit for bit where the caller adds the same
numbers in the same order)."""
from __future__ import annotations

import numpy as np
import pytest

from engine.protection.tracker import FLOOR_PER_DAY, protection_level
from engine.simulation.batch import run_batch
from engine.simulation.kernel import InventoryKernel
from engine.simulation.metrics import kpis_from_totals
from engine.simulation.simulator import SimConfig, Simulator
from engine.studies.optimum import evaluate_plan
from engine.studies.portfolio import _simulate, _simulate_rq


@pytest.mark.parametrize("cfg", [
    dict(demand="synthetic", policy="order-up-to"),
    dict(demand="replay", policy="s-S", backorders=True),
    dict(demand="synthetic", policy="r-Q", lead_time_dist={"kind": "uniform", "low": 1, "high": 9}),
    dict(demand="synthetic", lead_time_dist={"kind": "poisson", "mean": 5}, allow_crossing=True),
])
def test_the_simulators_ledger_is_the_kernels_day_with_its_orders(sample_series, cfg):
    sim = Simulator(SimConfig(days=70, seed=4, **cfg), sample_series)
    sim.run()
    rows = sim.ledger
    k = InventoryKernel(rows[0]["on_hand_start"], h=sim.costs["h"], p=sim.costs["p"],
                        backorders=sim.config.backorders, max_lead=max(sim._lead), crossing=sim.config.allow_crossing)
    for d, row in enumerate(rows):
        assert k.position() == row["inventory_position"]
        placed, _ = k.place(d, row["order_qty"], sim._lead[d])
        f = k.serve(d, row["demand"], placed)
        got = (f.arrivals, f.backlog_filled, f.fulfilled, f.unmet, k.backlog, k.on_hand, k.on_order, f.holding,
               f.stockout)
        want = tuple(row[c] for c in ("arrivals", "backlog_filled", "fulfilled", "unmet", "backlog", "on_hand",
                                      "on_order", "holding_cost", "stockout_cost"))
        assert got == want, d


def test_a_stored_simulator_resumes_mid_pipeline_bit_for_bit(sample_series):
    cfg = dict(days=60, seed=9, demand="synthetic", lead_time=9, policy="r-Q")
    full = Simulator(SimConfig(**cfg), sample_series)
    full.run()
    part = Simulator(SimConfig(**cfg), sample_series)
    part.run(23)
    assert part.pipeline  # orders are open when the state is stored
    resumed = Simulator.from_state(part.to_state())
    assert resumed.pipeline == part.pipeline and resumed.on_order == part.on_order
    resumed.run()
    assert resumed.ledger == full.ledger


def test_the_batchs_totals_are_the_kernels_on_its_orders(sample_series):
    cfg = SimConfig(demand="synthetic", days=50, seed=2, backorders=True,
                    lead_time_dist={"kind": "uniform", "low": 2, "high": 8})
    res = run_batch(cfg, sample_series, replications=4, keep_ledgers=4)
    leads = np.array([Simulator(cfg, sample_series, replication=r)._lead for r in range(4)])
    k = InventoryKernel(res.kept["on_hand_start"][:, 0], h=res.info["costs"]["h"], p=res.info["costs"]["p"],
                        backorders=True, max_lead=int(leads.max()), crossing=False)
    for d in range(50):
        placed, _ = k.place(d, res.kept["order_qty"][:, d], leads[:, d])
        k.serve(d, res.kept["demand"][:, d], placed)
    direct = kpis_from_totals(k.finish(), 50)
    for name, v in res.kpis.items():
        assert np.array_equal(np.asarray(v), np.asarray(direct[name]), equal_nan=True), name


def _portfolio_case(seed=1, rows=5, days=40, K=3):
    rng = np.random.default_rng(seed)
    demand = rng.poisson(rng.uniform(0.5, 6.0, size=(rows, 1)), size=(rows, days)).astype(float)
    lead = rng.integers(0, 6, size=rows)
    h, p = rng.uniform(0.01, 0.1, rows), rng.uniform(1.0, 5.0, rows)
    return rng, demand, lead, h, p


def test_the_portfolios_order_up_to_totals_equal_a_direct_kernel_run():
    rng, demand, lead, h, p = _portfolio_case()
    rows, days = demand.shape
    level = demand.mean(axis=1, keepdims=True) * rng.uniform(0.8, 1.2, size=(rows, days))
    quantile = np.sort(rng.uniform(-0.5, 2.0, size=(rows, 3)), axis=1)
    tot = _simulate(level, demand, quantile, lead, h, p)
    w = (lead + 1.0)[:, None]
    floor = FLOOR_PER_DAY * w
    k = InventoryKernel(protection_level(w * level[:, :1], quantile, floor), h=h[:, None], p=p[:, None],
                        max_lead=int(lead.max()), running_on_order=True)
    for d in range(days):
        target = protection_level(w * level[:, d:d + 1], quantile, floor)
        placed, _ = k.place(d, np.maximum(target - k.position(), 0.0), lead[:, None])
        k.serve(d, demand[:, d:d + 1], placed)
    direct = k.finish()
    assert set(tot) == set(direct)
    for name in direct:
        np.testing.assert_allclose(tot[name], direct[name], rtol=1e-12, atol=1e-9, err_msg=name)


def test_the_portfolios_r_q_totals_equal_a_direct_kernel_run():
    rng, demand, lead, h, p = _portfolio_case(seed=2)
    rows, days = demand.shape
    reorder = np.sort(rng.uniform(0.0, 30.0, size=(rows, 3)), axis=1)
    qty = rng.uniform(3.0, 20.0, rows)
    tot = _simulate_rq(demand, reorder, qty, lead, h, p)
    k = InventoryKernel(reorder + qty[:, None], h=h[:, None], p=p[:, None], max_lead=int(lead.max()),
                        running_on_order=True)
    for d in range(days):
        position = k.position()
        batches = np.where(position <= reorder, np.floor((reorder - position) / qty[:, None]) + 1.0, 0.0)
        placed, _ = k.place(d, batches * qty[:, None], lead[:, None])
        k.serve(d, demand[:, d:d + 1], placed)
    direct = k.finish()
    for name in direct:
        assert np.array_equal(tot[name], direct[name]), name


@pytest.mark.parametrize("backorders", [False, True])
def test_evaluate_plan_is_the_kernel_with_the_plans_orders(backorders):
    rng = np.random.default_rng(7)
    paths = rng.gamma(2.0, 4.0, size=(6, 30))
    orders = np.where(rng.random(30) < 0.5, rng.uniform(0, 30, 30), 0.0)
    ev = evaluate_plan(orders, paths, lead_time=3, holding_cost=0.2, stockout_cost=3.0, initial_inventory=15.0,
                       pipeline={0: 4.0, 2: 6.0}, backorders=backorders)
    k = InventoryKernel(np.full(6, 15.0), h=0.2, p=3.0, backorders=backorders, max_lead=3,
                        pipeline={0: 4.0, 2: 6.0})
    for t in range(30):
        placed, _ = k.place(t, orders[t], 3)
        k.serve(t, paths[:, t], placed)
        assert np.array_equal(ev["on_hand"][:, t], k.on_hand)
    tot = k.finish()
    assert np.array_equal(ev["holding_cost"], tot["holding"]) and np.array_equal(ev["stockout_cost"], tot["stockout"])
    # and by hand on day 0: 15 on hand + 4 due today, nothing else arrives before day 2
    assert ev["on_hand"][0, 0] == max(19.0 - paths[0, 0], 0.0)
