"""engine.simulation.confidence: the one Student-t interval every study reports."""
from __future__ import annotations

import math

import numpy as np
import pytest

from engine.simulation.confidence import half_width, mean_ci, t_quantile
from engine.simulation.metrics import summarize
from engine.studies.optimum import mean_ci95


def test_the_half_width_is_the_student_t_interval_not_the_normal_one():
    x = np.array([3.0, 5.0, 4.0, 8.0, 6.0])
    s = float(np.std(x, ddof=1))
    assert t_quantile(5) == pytest.approx(2.776445105, abs=1e-8)      # t_{0.975, 4} (tables)
    assert half_width(x) == pytest.approx(2.776445105 * s / math.sqrt(5), rel=1e-9)
    assert half_width(x) > 1.96 * s / math.sqrt(5)
    assert mean_ci95(x)["ci95"] == half_width(x)                       # the optimum's helper is this one
    assert summarize({"cost": x})["half_width"]["cost"] == half_width(x)


def test_rows_few_values_and_nans():
    a = np.array([[1.0, 2.0, 4.0], [2.0, 2.0, 2.0]])
    np.testing.assert_allclose(half_width(a, axis=1), [half_width(a[0]), 0.0])
    assert half_width([1.0]) is None and mean_ci([1.0]) == {"mean": 1.0, "ci95": None}
    assert mean_ci95([1.0])["ci95"] == 0.0
    assert mean_ci([np.nan, 2.0, 4.0])["mean"] == 3.0
    assert mean_ci([]) == {"mean": None, "ci95": None}
