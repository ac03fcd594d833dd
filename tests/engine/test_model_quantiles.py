"""The order-up-to level from the forecaster's own quantiles: with a global quantile model (the shipped
models/m5-global, served by onnxruntime) and a service level it was trained for, the simulator's and the batch's
level S_t is the model's quantile of the protection-period sum ("model" in the ledger), the same in both; a level
beyond the model's range or a random lead time falls back to the tracker's error quantile."""
from __future__ import annotations

import numpy as np
import pytest

from engine.forecast.registry import get_forecaster
from engine.protection.model_quantiles import reads_model_quantiles
from engine.simulation.batch import run_batch
from engine.simulation.simulator import SimConfig, Simulator, load_series
from tests.conftest import REPO

MODEL = "ensemble:m5-global"


@pytest.fixture(autouse=True)
def baseline_default_forecaster(monkeypatch):
    """These tests read the shipped models folder (the engine tests' default hides it)."""
    monkeypatch.setenv("SIM_MODELS_DIR", str(REPO / "models"))


def config(**kw) -> SimConfig:
    base = dict(data=str(REPO / "data" / "sample.csv"), forecaster=MODEL, policy="order-up-to", lead_time=3,
                days=30, demand="replay", policy_params={"service_level": 0.95})
    base.update(kw)
    return SimConfig(**base)


def test_the_level_is_the_models_own_quantile_of_the_protection_period_sum():
    cfg = config()
    series = load_series(cfg)
    sim = Simulator(cfg, series)
    rows = sim.run()
    assert {r["quantile_method"] for r in rows} == {"model"}
    plan, model = sim.plan, get_forecaster(MODEL)
    hist = plan.history(1)
    cov = plan.covariates()
    for d in (0, 7, 29):
        t = plan.n_context + d
        q95 = model.predict_sum_quantiles(hist[:, :t], cov.take(t + model.horizon), 4, [0.95])[0, 0]
        assert rows[d]["order_up_to"] == pytest.approx(max(q95, 0.0), rel=1e-9, abs=1e-9)
    assert "own 4-day-sum quantile" in sim.info()["protection"]["source"]
    batch = run_batch(cfg, series, replications=3)
    assert batch.info["protection"]["quantile_method"] == "model"
    assert np.allclose(batch.kpis["total_cost"], sim.kpis()["total_cost"])


def test_beyond_the_models_levels_or_with_random_lead_times_the_tracker_sets_the_level():
    series = load_series(config())
    costs = Simulator(config(policy_params={}), series)            # critical ratio p/(p + h) ≈ 0.999 > 0.99
    assert costs.policy.quantile_level > 0.99 and costs.run(5)[-1]["quantile_method"] != "model"
    rand = Simulator(config(lead_time_dist={"kind": "poisson", "mean": 3}), series)
    assert rand.run(5)[-1]["quantile_method"] != "model"


def test_reads_model_quantiles_only_for_a_model_with_them_and_a_level_and_window_it_covers():
    model = get_forecaster(MODEL)
    assert reads_model_quantiles(model, 0.95, 8, False)
    assert not reads_model_quantiles(model, 0.995, 8, False)
    assert not reads_model_quantiles(model, 0.95, model.max_days + 1, False)
    assert not reads_model_quantiles(model, 0.95, 8, True)
    assert not reads_model_quantiles(get_forecaster("ses"), 0.95, 8, False)
    assert not reads_model_quantiles(model, None, 8, False)
