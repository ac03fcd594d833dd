"""The registry's forecasters the portfolio uses, driven day by day (start / step / level) over rows × paths,
forecast what their `predict` forecasts on the same history."""
from __future__ import annotations

import numpy as np
import pytest

from engine.forecast.registry import get_forecaster
from engine.studies.series_forecasts import CANDIDATES, candidate_forecasters


@pytest.mark.parametrize("name", sorted({m for c in CANDIDATES.values() for m in c}))
def test_the_incremental_level_equals_predict_on_the_same_history(name):
    f = get_forecaster(name)
    rng = np.random.default_rng(5)
    rows, days = 6, 60
    y = np.where(rng.random((rows, days)) < 0.4, rng.poisson(6.0, (rows, days)), 0).astype(float)
    state = f.start(rows)
    for t in range(days):
        f.step(state, y[:, t])
        if t + 1 >= f.min_history:
            np.testing.assert_allclose(f.level(state), f.predict(y[:, :t + 1])[:, 0], rtol=1e-12, atol=1e-12,
                                       err_msg=f"{name} after {t + 1} days")


def test_the_portfolio_takes_its_forecasters_from_the_registry():
    models = candidate_forecasters()
    for name, f in models.items():
        assert type(f) is type(get_forecaster(name)) and f.name == name
