"""The bound against the engine's real policies, and the optimum report / improvement hint on generated data."""
from __future__ import annotations

import numpy as np
import pytest

from engine.data.dataset import load_csv
from engine.simulation.simulator import SimConfig, Simulator
from engine.studies.optimum import _Study, demand_paths, lower_bounds, optimum_report


@pytest.mark.parametrize("opts", [
    {"demand": "synthetic"},
    {"demand": "synthetic", "backorders": True},
    {"demand": "forecast-noise", "noise": 0.3, "lead_time": 3},
    {"demand": "synthetic", "lead_time_dist": "uniform:3:11"},
    {"demand": "synthetic", "lead_time_dist": "poisson:6", "backorders": True},
])
def test_bound_is_below_every_policy_on_every_path(sample_series, opts):
    cfg = SimConfig.from_options({"forecaster": "ma7", "days": 60, "seed": 11, **opts})
    study = _Study(cfg, sample_series, replications=16)
    demand, lead = demand_paths(study)
    bounds = lower_bounds(study, demand, lead)
    policies = [("order-up-to", {}), ("order-up-to", {"service_level": 0.6}), ("original", {}),
                ("base-stock", {"base_stock_level": 50.0}), ("base-stock", {"base_stock_level": 400.0}),
                ("s-S", {"s": 60.0, "S": 250.0}), ("r-Q", {"r": 100.0, "Q": 90.0})]
    for name, params in policies:
        res = study.run(name, params, keep=study.R)
        assert np.array_equal(res.kept["demand"], demand), "CRN: the policy saw other demand"
        cost = np.asarray(res.kpis["total_cost"])
        assert np.all(bounds <= cost + 1e-6 * np.maximum(1, cost)), (name, params, (bounds - cost).max())


def _constant_csv(tmp_path, d=10.0, n=200):
    path = tmp_path / "constant.csv"
    path.write_text("Units_Sold,Unit_Cost,Unit_Price\n" + "".join(f"{d:g},20,40\n" for _ in range(n)))
    return load_csv(str(path)).get(None)


@pytest.mark.parametrize("L", [1, 4, 7, 14])
@pytest.mark.parametrize("backorders", [False, True])
def test_deterministic_demand_bound_equals_the_order_up_to_rule_with_S_d_L_plus_1(tmp_path, L, backorders):
    series = _constant_csv(tmp_path)
    cfg = SimConfig.from_options({"forecaster": "naive", "demand": "replay", "days": 120, "lead_time": L,
                                  "backorders": backorders})
    sim = Simulator(cfg, series)
    sim.run()
    assert sim.sigma == 0.0
    assert all(r["order_up_to"] == pytest.approx(10.0 * (L + 1)) for r in sim.ledger)
    study = _Study(cfg, series, replications=1)
    assert study.base.initial_inventory == pytest.approx(10.0 * (L + 1))
    demand, lead = demand_paths(study)
    bound = lower_bounds(study, demand, lead)[0]
    assert bound == pytest.approx(sim.kpis()["total_cost"], rel=1e-9, abs=1e-9)
    assert bound > 0  # the starting stock d(L+1) is held for L days before the first order arrives


def test_optimum_report_shape_and_relations(sample_series):
    cfg = SimConfig.from_options({"forecaster": "ma7", "demand": "forecast-noise", "days": 60, "seed": 2})
    rep = optimum_report(cfg, sample_series, 20, quick=True)
    assert set(rep) >= {"lower_bound", "best_base_stock", "best_z", "policies", "calibration"}
    assert set(rep["lower_bound"]) == {"mean", "ci95"}
    assert set(rep["best_base_stock"]) >= {"level", "cost"} and set(rep["best_z"]) >= {"z", "cost"}
    assert rep["best_base_stock"]["selection"] == rep["best_z"]["selection"] == "out-of-sample"
    assert set(rep["calibration"]) == {"nominal", "coverage", "n"} and rep["calibration"]["n"] > 0
    assert [p["name"] for p in rep["policies"]] == ["order-up-to", "original", "best base-stock",
                                                    "order-up-to, best z"]
    lb = rep["lower_bound"]["mean"]
    best = min(p["cost"] for p in rep["policies"])
    for p in rep["policies"]:
        assert p["cost"] >= lb
        assert p["vs_perfect_information"] == pytest.approx((p["cost"] - lb) / lb)
        assert p["regret"] == pytest.approx((p["cost"] - best) / best)  # against the best found out of sample
    # the best base-stock is the minimum of its own curve on the selection paths; costed on the others
    assert rep["best_base_stock"]["cost_selection"] == pytest.approx(min(rep["curve"]["mean"]))
    assert rep["best_base_stock"]["cost"] == pytest.approx(rep["policies"][2]["cost"])
    assert rep["best_z"]["cost"] == pytest.approx(rep["policies"][3]["cost"])
    assert all(rep["bound_below_every_policy_on_every_path"].values())
    saa = rep["saa"]
    assert saa["cost_in_sample"] <= saa["cost_out_of_sample"] * 1.5


def test_selection_and_evaluation_paths_are_disjoint(sample_series):
    from engine.studies.optimum import selection_config

    cfg = SimConfig.from_options({"forecaster": "ma7", "demand": "synthetic", "days": 40, "seed": 2,
                                  "replications": 6})
    sel_cfg, first, _ = selection_config(cfg, sample_series)
    ev = _Study(cfg, sample_series, 6)
    sel = _Study(sel_cfg, sample_series, 6, first_replication=first)
    d_ev, _ = demand_paths(ev)
    d_sel, _ = demand_paths(sel)
    assert first == 6
    assert not any(np.array_equal(a, b) for a in d_ev for b in d_sel)
    # replay (one path): the selection window ends the day before the evaluated window begins
    rep = SimConfig.from_options({"forecaster": "ma7", "demand": "replay", "days": 60})
    sel_cfg, _, label = selection_config(rep, sample_series)
    assert sel_cfg.context_days + sel_cfg.days == len(sample_series) - 60 and "before" in label


