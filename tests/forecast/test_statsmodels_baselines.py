"""ETS and ARIMA baselines: listed by the registry, correct shapes, track a level shift, survive bad fits."""
from __future__ import annotations

import numpy as np
import pytest

from engine.forecast.registry import get_forecaster, list_forecasters


def test_listed_and_served_by_the_registry():
    kinds = {f["name"]: f["kind"] for f in list_forecasters()}
    assert kinds["ets"] == "statsmodels" and kinds["arima"] == "statsmodels"


@pytest.mark.parametrize("name", ["ets", "arima"])
def test_forecasts_follow_the_level(name):
    rng = np.random.default_rng(1)
    y = np.concatenate([rng.normal(10, 1, (2, 100)), rng.normal(30, 1, (2, 100))], axis=1)
    f = get_forecaster(name)
    out = f.predict(y)
    assert out.shape == (2, 31) and np.all(np.isfinite(out)) and np.all(out >= 0)
    assert np.all(np.abs(out[:, 0] - 30) < 3)


@pytest.mark.parametrize("name", ["ets", "arima"])
def test_constant_or_short_history(name):
    f = get_forecaster(name)
    out = f.predict(np.full((1, 40), 7.0))
    assert np.allclose(out, 7.0, atol=0.5)
    with pytest.raises(ValueError, match="at least"):
        f.predict(np.ones((1, 3)))
