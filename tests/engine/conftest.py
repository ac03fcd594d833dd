"""Engine test fixtures: data the project generates itself (data/sample.csv is made by engine.data.generator)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.data.dataset import SeriesData, load_csv

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "sample.csv"


@pytest.fixture(scope="session")
def sample_dataset():
    return load_csv(SAMPLE)


@pytest.fixture(scope="session")
def sample_series(sample_dataset) -> SeriesData:
    return sample_dataset.get("SKU_1/WH_1")


def constant_series(value: float, n: int, cost: float = 10.0, price: float = 15.0) -> SeriesData:
    return SeriesData(key="CONST/1", dates=None, demand=np.full(n, float(value)), promo=np.zeros(n),
                      planning=None, unit_cost=cost, unit_price=price)


@pytest.fixture(autouse=True)
def baseline_default_forecaster(tmp_path_factory, monkeypatch):
    """Engine tests run against the moving-average default: an empty models folder hides trained ensembles
    (test_cli.py::test_default_forecaster_is_the_trained_ensemble_when_present checks the real folder)."""
    empty = tmp_path_factory.mktemp("no_models")
    monkeypatch.setenv("SIM_MODELS_DIR", str(empty))
