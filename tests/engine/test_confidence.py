"""engine.simulation.confidence: the one Student-t interval every study reports."""
from __future__ import annotations

import math

import numpy as np
import pytest

from engine.simulation.confidence import half_width, mean_ci, nonnegative_interval, t_quantile
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


def test_a_cost_interval_is_cut_at_zero_not_its_upper_end():
    assert nonnegative_interval(20.32, 76.38) == [0.0, pytest.approx(96.70)]
    assert nonnegative_interval(20.0, 5.0) == [15.0, 25.0]
    assert nonnegative_interval(3.0, None) == [3.0, 3.0]


def test_few_replications_of_a_skewed_cost_never_give_a_negative_lower_end(capsys, shared_data):
    """3 evaluation paths of 20 days at lead time 0 on the public file: the t interval of its first series' cost is
    20.32 ± 76.4; recommend and the portfolio (records and totals) say [0, high] with the upper end unchanged."""
    import json

    from engine.cli.main import main

    SAMPLE = shared_data
    for cmd in ("recommend", "portfolio"):
        assert main([cmd, "--data", str(SAMPLE), "--replications", "3", "--days", "20", "--lead-time", "0",
                     "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        recs = [out] if cmd == "recommend" else out["records"]
        for r in recs:
            lo, hi = r.get("expected_cost_ci") or (r["cost_ci_low"], r["cost_ci_high"])
            assert 0.0 <= lo <= r["expected_cost"] <= hi
        assert any(r.get("expected_cost_ci", [None, None])[0] == 0.0 or r.get("cost_ci_low") == 0.0
                   for r in recs)  # the cut happened: the raw t interval of these paths reaches below 0
        if cmd == "portfolio":
            t = out["totals"]
            assert 0.0 <= t["cost_ci_low"] <= t["expected_cost"] <= t["cost_ci_high"]
