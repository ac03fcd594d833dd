"""Quantiles of the W-day sums: the pinball loss, the empirical quantiles of past errors, M5's scale, coverage, and
the backtest command's JSON keys."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from engine.data.dataset import load_csv
from engine.forecast import backtest as B
from engine.forecast.ets_weekly import EtsWeekly
from engine.forecast.pinball import naive_scale, parse_quantiles, pinball
from engine.forecast.sum_quantiles import empirical_quantiles, holdout_origins, score_sum_quantiles
from tests.conftest import REPO
from tests.forecast.retail_data import write_retail_csv


@pytest.fixture(scope="module")
def retail(tmp_path_factory):
    path = tmp_path_factory.mktemp("retail") / "retail.csv"
    write_retail_csv(path)
    return path


def test_pinball_is_the_quantile_loss():
    assert pinball(10.0, 7.0, 0.9) == pytest.approx(0.9 * 3)
    assert pinball(7.0, 10.0, 0.9) == pytest.approx(0.1 * 3)
    # the sample q-quantile minimises the mean pinball loss
    y = np.random.default_rng(1).exponential(5.0, 2000)
    grid = np.linspace(0, 30, 601)
    best = grid[np.argmin([pinball(y, g, 0.9).mean() for g in grid])]
    assert best == pytest.approx(np.quantile(y, 0.9), abs=0.1)


def test_parse_quantiles_sorts_and_refuses_bad_levels():
    assert parse_quantiles("0.99, 0.5,0.9,0.5") == (0.5, 0.9, 0.99)
    for bad in ("1.2", "x", ""):
        with pytest.raises(ValueError):
            parse_quantiles(bad)


def test_empirical_quantiles_additive_and_relative():
    fc_hist = np.full((1, 99), 10.0)
    act_hist = (10.0 + np.arange(-49, 50, dtype=float))[None, :]       # errors -49..49
    add = empirical_quantiles(fc_hist, act_hist, [20.0], (0.5, 0.9), "additive")[0]
    assert add[0] == pytest.approx(20.0 + 0.0, abs=1.0) and add[1] == pytest.approx(20.0 + 40.0, abs=1.5)
    rel = empirical_quantiles(fc_hist, act_hist, [20.0], (0.5,), "relative")[0]
    assert rel[0] == pytest.approx(20.0 * 1.0, abs=2.5)  # actual/forecast median 1.0 → twice the sum of 10 → 20
    # non-negative even when the errors are large and negative
    low = empirical_quantiles(fc_hist, np.zeros((1, 99)), [1.0], (0.5,), "additive")
    assert low.min() == 0.0


def test_holdout_origins_are_non_overlapping_windows():
    assert holdout_origins(730, 56, 8) == [674, 682, 690, 698, 706, 714, 722]


def test_ets_weekly_learns_a_weekly_pattern():
    t = np.arange(140)
    y = (10.0 + 6.0 * (t % 7 == 5))[None, :]
    f = EtsWeekly().predict(y)
    days = (140 + np.arange(14)) % 7
    assert np.allclose(f[0, :14], 10.0 + 6.0 * (days == 5), atol=1e-6)


def test_stacked_backtest_equals_one_series_at_a_time(retail):
    ds = load_csv(retail)
    targets = B.targets_per_series(ds, 20)
    for name in ("ses", "tsb", "ets-weekly"):
        from engine.forecast.registry import get_forecaster
        f = get_forecaster(name)
        stacked = B.forecast_targets(f, targets)
        for t in targets:
            one = B.forecast_targets(f, [t])
            assert np.allclose(one[t.key], stacked[t.key], rtol=1e-12, atol=1e-12)
            assert np.allclose(one[t.key + "#sum"], stacked[t.key + "#sum"], rtol=1e-12, atol=1e-12)


def test_scaled_pinball_equals_an_independent_computation_for_a_flat_forecast(retail):
    """ma28 with additive quantiles: recompute its score by hand from the rolling errors."""
    from engine.forecast.registry import get_forecaster
    ds = load_csv(retail)
    targets = B.targets_per_series(ds, 24)
    qs = (0.5, 0.9)
    res = score_sum_quantiles(get_forecaster("ma28"), targets, 24, 8, qs, calibration=40)
    assert set(res["coverage"]) == {"0.5", "0.9"} and res["origins"] == 3
    w, losses = 8, []
    for t in targets:
        y = t.demand
        n = len(y)
        scale = np.mean(np.abs(np.diff(y[:n - 24])))
        for o in holdout_origins(n, 24, w):
            past = range(o - w - 40 + 1, o - w + 1)
            f = {p: 8 * y[p - 28:p].mean() for p in [*past, o]}
            errs = np.array([y[p:p + w].sum() - f[p] for p in past])
            a = y[o:o + w].sum()
            qhat = []
            for q in qs:
                lev = min(1.0, q * (len(errs) + 1) / len(errs))
                qhat.append(max(f[o] + np.quantile(errs, lev, method="higher"), 0.0))
            qhat = np.sort(qhat)
            losses.append(np.mean([pinball(a, qh, q) for qh, q in zip(qhat, qs)]) / (w * scale))
    if res["method"] == "additive":
        assert res["scaled_pinball"] == pytest.approx(float(np.mean(losses)), rel=1e-9)
    else:  # the relative rule scored better before the holdout: it must then not be worse there by construction
        assert res["method"] == "relative"


def test_naive_scale():
    assert naive_scale([1, 3, 2]) == pytest.approx(1.5)


@pytest.mark.slow
def test_backtest_cli_reports_scaled_pinball_and_coverage(retail):
    r = subprocess.run([sys.executable, "-m", "engine", "backtest", "--data", str(retail), "--holdout-days", "24",
                        "--sum-days", "8", "--quantiles", "0.5,0.9,0.99", "--models", "ses,tsb", "--json"],
                       cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    for name in ("ses", "tsb"):
        o = res["models"][name]["overall"]
        assert o["scaled_pinball"] > 0
        assert set(o["coverage"]) == {"0.5", "0.9", "0.99"}
        assert all(0.0 <= v <= 1.0 for v in o["coverage"].values())
        assert o["coverage"]["0.5"] <= o["coverage"]["0.9"] <= o["coverage"]["0.99"]


@pytest.mark.slow
def test_backtest_cli_refuses_bad_quantiles(retail):
    r = subprocess.run([sys.executable, "-m", "engine", "backtest", "--data", str(retail), "--quantiles", "0.5,2",
                        "--models", "ses"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and r.stderr.startswith("error: --quantiles") and "Traceback" not in r.stderr


def test_a_constant_series_beside_others_is_left_unscored_without_a_warning():
    """Its scale is 0: the choice between additive and relative errors divided by it (a RuntimeWarning on every
    file with a series not yet selling, as M5's launches)."""
    import datetime as dt
    import warnings
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=k) for k in range(200)]
    rows = "".join(f"{d.isoformat()},A,10\n{d.isoformat()},B,{k % 3}\n" for k, d in enumerate(days))
    targets = B.targets_per_series(load_csv(("date,item,sales\n" + rows).encode(), name="x.csv"), 30)
    from engine.forecast.registry import get_forecaster
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = score_sum_quantiles(get_forecaster("ses"), targets, 30, 8, (0.5, 0.9))
    assert res["per_series"]["A"] is None and res["series_scored"] == 1 and np.isfinite(res["scaled_pinball"])


def test_constant_series_and_no_holdout_get_messages_not_crashes(tmp_path):
    """A series that never changes has no M5 scale: its quantiles are reported unscored (null in the JSON, "n/a" on
    the terminal), never NaN or a formatting error; --holdout-days 0 is refused naming the option."""
    path = tmp_path / "flat.csv"
    import datetime as dt
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=k) for k in range(200)]
    path.write_text("date,sales\n" + "".join(f"{d.isoformat()},10\n" for d in days))
    cmd = [sys.executable, "-m", "engine", "backtest", "--data", str(path), "--models", "ses", "--holdout-days", "30",
           "--quantiles", "0.9"]
    text = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    assert text.returncode == 0 and "Traceback" not in text.stderr, text.stderr[-400:]
    assert "scaled pinball n/a" in text.stderr
    js = subprocess.run(cmd + ["--json"], capture_output=True, text=True, cwd=REPO)
    assert js.returncode == 0, js.stderr[-400:]
    overall = json.loads(js.stdout)["models"]["ses"]["overall"]
    assert overall["scaled_pinball"] is None and overall["pinball_by_quantile"] == {"0.9": None}
    assert overall["coverage"] == {"0.9": 1.0}
    none = subprocess.run(cmd[:-4] + ["--holdout-days", "0"], capture_output=True, text=True, cwd=REPO)
    assert none.returncode == 2 and "--holdout-days 0 must be at least 1" in none.stderr
