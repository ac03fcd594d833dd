"""Fixtures of the forecasting tests: a tiny ensemble trained once per session on the project's own sample data."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO, SHARED_SEED

SAMPLE = REPO / "data" / "sample.csv"
TINY = dict(holdout_days=73, epochs=2, seed=3)


def sample_arrays(keys=2):
    """The first `keys` series of data/sample.csv as SeriesArrays (the trainer's input)."""
    from engine.data.dataset import load_csv
    from engine.forecast.train import SeriesArrays
    ds = load_csv(SAMPLE)
    out = []
    for s in list(ds.series.values())[:keys]:
        out.append(SeriesArrays(s.key, s.demand.copy(), s.promo.copy(), s.planning.copy(), list(s.dates)))
    return out


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A 2-epoch ensemble (with covariates) on two series of data/sample.csv, exported to a models/ folder."""
    from engine.forecast.commands import train_model
    root = tmp_path_factory.mktemp("models")
    out = root / "tiny"
    train_model(SAMPLE, out, series="SKU_1/WH_1,SKU_1/WH_2", use_covariates=True, log=lambda m: None,
                command="pytest tiny_model", **TINY)
    return out


@pytest.fixture
def seed_pickle() -> Path:
    path = SHARED_SEED / "ensemble_forecast_model.pkl"
    if not path.exists():
        pytest.skip(f"{path} is not present (the original's pickle lives beside the checkout, never in the repo)")
    return path


@pytest.fixture
def seed_context() -> Path:
    path = SHARED_SEED / "sku1_last_30days.csv"
    if not path.exists():
        pytest.skip(f"{path} is not present (it lives beside the checkout, never in the repo)")
    return path


def flat_rng(seed=0, n=3, t=200, mean=20.0):
    return np.random.default_rng(seed).poisson(mean, (n, t)).astype(float)


os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
