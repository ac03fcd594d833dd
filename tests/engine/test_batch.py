"""Batch mode: vectorised over replications, identical to single runs, common random numbers, CIs."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from engine.simulation.batch import run_batch
from engine.simulation.simulator import SimConfig, Simulator

CASES = list(itertools.product(
    ["replay", "synthetic", "forecast-noise"],
    ["order-up-to", "base-stock", "s-S", "r-Q"],
    [False, True],
))


@pytest.mark.parametrize("mode,policy,backorders", CASES)
def test_batch_replications_equal_single_runs_exactly(sample_series, mode, policy, backorders):
    cfg = dict(demand=mode, policy=policy, backorders=backorders, days=60, seed=11, noise=0.4,
               lead_time_dist={"kind": "uniform", "low": 1, "high": 9} if backorders else None,
               forecaster="ses" if mode == "forecast-noise" else "ma7")
    res = run_batch(SimConfig(**cfg), sample_series, replications=3, keep_ledgers=3)
    for r in range(3):
        sim = Simulator(SimConfig(**cfg), sample_series, replication=r)
        sim.run()
        assert res.ledger(r) == sim.ledger  # bit-for-bit, every column of every day
        single = sim.kpis()
        for k, v in single.items():
            got = res.kpis[k] if k == "days" else res.kpis[k][r]
            assert got == v or (v is None and np.isnan(got)), k


def test_common_random_numbers_across_policies(sample_series):
    demand = {}
    for pol in ("order-up-to", "base-stock", "s-S", "r-Q"):
        res = run_batch(SimConfig(demand="synthetic", policy=pol, days=90, seed=5), sample_series, 20)
        demand[pol] = res.kpis["total_demand"]
    ref = demand["order-up-to"]
    assert len(set(ref)) > 5  # replications differ from each other...
    for v in demand.values():
        assert np.array_equal(v, ref)  # ...but every policy sees the same paths


def test_chunking_does_not_change_results(sample_series, monkeypatch):
    import engine.simulation.batch as b
    cfg = SimConfig(demand="synthetic", days=50, seed=2)
    whole = run_batch(cfg, sample_series, 9)
    monkeypatch.setattr(b, "CHUNK_CELLS", 1)  # one replication per chunk
    chunked = run_batch(SimConfig(demand="synthetic", days=50, seed=2), sample_series, 9)
    for k in whole.kpis:
        assert np.array_equal(np.asarray(whole.kpis[k]), np.asarray(chunked.kpis[k]))


def test_summary_confidence_half_widths(sample_series):
    res = run_batch(SimConfig(demand="synthetic", days=60, seed=1), sample_series, 50)
    s = res.summary()
    tc = res.kpis["total_cost"]
    assert s["mean"]["total_cost"] == pytest.approx(tc.mean())
    from scipy.stats import t
    assert s["half_width"]["total_cost"] == pytest.approx(t.ppf(0.975, 49) * tc.std(ddof=1) / np.sqrt(50))
    d = res.to_dict()
    assert len(d["per_replication"]["total_cost"]) == 50 and d["replications"] == 50


def test_replay_is_the_same_in_every_replication(sample_series):
    res = run_batch(SimConfig(days=60), sample_series, 4)
    assert len(set(res.kpis["total_cost"])) == 1
    assert res.summary()["half_width"]["total_cost"] == pytest.approx(0.0, abs=1e-9)
