"""bench/accuracy_public.py: trains the three ensembles of the issue's goals, backtests them and judges the goals."""
from __future__ import annotations

import math

import pytest

from bench import accuracy_public as A
from tests.forecast.conftest import SAMPLE


def test_goal_column_says_met_or_not_from_the_figures():
    row = {"label": "x", "seed": 1, "per_series_rmse": 5.0, "train_seconds": 70.0, "meta": [], "meta_weights": []}
    res = {"data": "f.csv", "seeds": [1], "quick": False, "seconds": 1.0, "baselines_mae": {"ma7": 4.655},
           "rows": [dict(row, per_series_mae=4.399, seed_protocol_mae=4.42, goal=("per-series", 4.4), met=True),
                    dict(row, per_series_mae=2.1, seed_protocol_mae=4.8, goal=("per-series", 2.05), met=False)]}
    md = A.markdown(res).splitlines()
    assert "| x | 1 | 4.399 | 4.420 (≤ 4.7: met) | 70 | ≤ 4.4: met |" in md
    assert "| x | 1 | 2.100 | 4.800 (≤ 4.7: NOT met) | 70 | ≤ 2.05: NOT met |" in md
    assert "| ma7 (baseline) | | 4.655 | | | |" in md


def test_missing_data_file_is_reported_not_raised(tmp_path):
    assert "skipped" in A.run(data=tmp_path / "absent.csv")["markdown"]


@pytest.mark.slow
def test_quick_run_on_the_sample_trains_three_ensembles_and_judges_them():
    res = A.run(quick=True, data=SAMPLE, log=lambda m: None)
    assert [r["config"] for r in res["rows"]] == ["past", "calendar", "covariates"]
    for r in res["rows"]:
        assert math.isfinite(r["per_series_mae"]) and math.isfinite(r["seed_protocol_mae"])
        assert r["met"] == (None if r["goal"] is None else r["per_series_mae"] <= r["goal"][1])
    assert res["rows"][1]["meta"][-1] == "calendar"
    assert set(res["baselines_mae"]) == {"naive", "seasonal-naive", "ma7", "ses", "planning"}
    assert res["markdown"].count("| ensemble, ") == 3
