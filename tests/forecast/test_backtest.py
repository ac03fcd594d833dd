"""Backtests: metrics equal an independent computation, protocols hold out what they say, and a model whose card
shows it trained on the held-out days is refused."""
from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from engine.data.dataset import load_csv
from engine.forecast import backtest as B
from tests.conftest import REPO
from tests.forecast.conftest import SAMPLE


def test_per_series_metrics_match_an_independent_computation():
    ds = load_csv(SAMPLE)
    res = B.run_backtest(ds, ["ma7", "naive", "planning"], "per-series", 30, data_path=SAMPLE)
    errs, naive_errs, scale = [], [], []
    for s in ds.series.values():
        y = s.demand
        n = len(y)
        for t in range(n - 30, n):
            errs.append(y[t - 7:t].mean() - y[t])
            naive_errs.append(y[t - 1] - y[t])
        scale.extend(np.abs(np.diff(y[:n - 30])))
    errs = np.array(errs)
    o = res["models"]["ma7"]["overall"]
    assert o["n"] == 5 * 30 and res["holdout_rows"] == 150
    assert o["mae"] == pytest.approx(np.abs(errs).mean())
    assert o["rmse"] == pytest.approx(math.sqrt(np.mean(errs ** 2)))
    assert o["bias"] == pytest.approx(errs.mean())
    assert o["mase"] == pytest.approx(np.abs(errs).mean() / np.mean(scale))
    assert res["models"]["naive"]["overall"]["mae"] == pytest.approx(np.abs(naive_errs).mean())
    assert set(res["models"]["ma7"]["per_series"]) == set(ds.series)
    assert res["models"]["planning"]["overall"]["mae"] < o["mae"]


def test_seed_protocol_holds_out_the_last_tenth_of_date_sorted_rows():
    ds = load_csv(SAMPLE)
    targets, train_mean, first = B.targets_seed(ds)
    assert sum(len(t.positions) for t in targets) == math.ceil(3650 * 0.1)
    all_rows = sorted((d, k) for k, s in ds.series.items() for d in s.dates)
    assert first == all_rows[-365][0]
    held = {(ds.series[t.key].dates[p], t.key) for t in targets for p in t.positions}
    assert held == set(all_rows[-365:])
    train_vals = [ds.series[k].demand[ds.series[k].dates.index(d)] for d, k in all_rows[:-365]]
    assert train_mean == pytest.approx(np.mean(train_vals))
    res = B.run_backtest(ds, ["ma7"], "seed", data_path=SAMPLE)
    assert set(res["models"]) == {"ma7", "train-mean"}


def test_a_model_trained_on_the_holdout_is_refused(tiny_model, monkeypatch):
    """tiny_model trained with 73 held-out days: a 73-day backtest is fine, a 100-day one would overlap."""
    monkeypatch.setenv("SIM_MODELS_DIR", str(tiny_model.parent))
    ds = load_csv(SAMPLE)
    ds.series = {k: ds.series[k] for k in ("SKU_1/WH_1", "SKU_1/WH_2")}
    ok = B.run_backtest(ds, ["ensemble:tiny"], "per-series", 73, data_path=SAMPLE)
    assert "before the holdout" in ok["models"]["ensemble:tiny"]["note"]
    with pytest.raises(B.BacktestError, match="overlaps the held-out days") as err:
        B.run_backtest(ds, ["ensemble:tiny"], "per-series", 100, data_path=SAMPLE)
    assert "backtest it on the 73 days it never saw (--holdout-days 73)" in str(err.value)


def test_cli_json_and_bad_input(tmp_path):
    r = subprocess.run([sys.executable, "-m", "engine", "backtest", "--data", str(SAMPLE), "--models",
                        "ma7,seasonal-naive", "--holdout-days", "20", "--json"], cwd=REPO, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["holdout_rows"] == 100 and set(out["models"]) == {"ma7", "seasonal-naive"}
    r = subprocess.run([sys.executable, "-m", "engine", "backtest", "--data", str(SAMPLE), "--models",
                        "no-such-model"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "no-such-model" in r.stderr and "Traceback" not in r.stderr
    missing = tmp_path / "absent.csv"
    r = subprocess.run([sys.executable, "-m", "engine", "backtest", "--data", str(missing)], cwd=REPO,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "absent.csv" in r.stderr and "Traceback" not in r.stderr


def test_protection_period_sums_match_an_independent_computation():
    ds = load_csv(SAMPLE)
    res = B.run_backtest(ds, ["ma7"], "per-series", 30, data_path=SAMPLE)
    errs = []
    for s in ds.series.values():
        y = s.demand
        n = len(y)
        for t in range(n - 30, n - 8 + 1):   # origins whose 8 days are all held out
            errs.append(8 * y[t - 7:t].mean() - y[t:t + 8].sum())
    o = res["models"]["ma7"]["overall"]
    assert res["sum_days"] == 8 and o["sum_n"] == len(errs) == 5 * 23
    assert o["sum_rmse"] == pytest.approx(math.sqrt(np.mean(np.square(errs))))
    cov = o["sum_coverage"]
    assert cov["nominal"] == [0.9, 0.99] and all(c is None or 0.0 <= c <= 1.0 for c in cov["coverage"])


def test_conformal_coverage_is_near_nominal_and_reads_only_finished_windows():
    from engine.forecast.coverage import conformal_coverage
    rng = np.random.default_rng(5)
    n = 4000
    times = np.arange(n, dtype=float)
    f = np.full(n, 100.0)
    a = f + rng.normal(0.0, 10.0, n)
    got = conformal_coverage(times, f, a, 8)
    assert got["coverage"][0] == pytest.approx(0.90, abs=0.02) and got["coverage"][1] == pytest.approx(0.99, abs=0.01)
    # origin j knows the j − 7 errors of origins ≤ j − 8; it is scored once it knows MIN_ERRORS = 20 (j ≥ 27)
    assert got["n"][0] == got["n"][1] == n - 27
    # an error whose window has not ended at origin j never moves j's quantile: a huge last error changes nothing
    # before it, and the last 8 origins' outcomes are scored with errors known before them
    a2 = a.copy()
    a2[-1] = 1e9
    head = conformal_coverage(times[:-1], f[:-1], a[:-1], 8)
    both = conformal_coverage(times, f, a2, 8)
    assert both["n"][0] == head["n"][0] + 1
    hits_head = head["coverage"][0] * head["n"][0]
    assert both["coverage"][0] * both["n"][0] == pytest.approx(hits_head)   # the marker origin is a miss


def test_fourier_regression_recovers_a_yearly_cycle_and_needs_no_dates():
    from engine.forecast.base import Covariates
    from engine.forecast.baselines import FourierRegression
    days = np.arange(1, 400 + 31 + 1, dtype=float)
    doy = (days - 1) % 365 + 1
    y = 20 + 8 * np.cos(2 * np.pi * (doy - 95) / 365.25)
    f = FourierRegression()
    with_dates = f.predict(y[None, :400], Covariates(day_of_year=doy[None, :]))
    truth = y[400:400 + f.horizon]
    assert np.max(np.abs(with_dates[0] - (20 + 8 * np.cos(2 * np.pi * (doy[400:431] - 95) / 365.25)))) < 0.05
    without = f.predict(y[None, :300])   # without dates the position stands in (the same fit within a year)
    np.testing.assert_allclose(without, f.predict(y[None, :300], Covariates(day_of_year=doy[None, :])), atol=1e-9)
    assert truth.shape == (31,)
    short = f.predict(y[None, :50])
    assert np.allclose(short, y[:50].mean())   # too short for a yearly cycle: the level alone


def _short_file(tmp_path, days):
    path = tmp_path / "short.csv"
    dates = np.datetime64("2024-01-01") + np.arange(days)
    path.write_text("date,item,units\n" + "".join(f"{d},A,{3 + i % 4}\n" for i, d in enumerate(dates)))
    return load_csv(path)


def test_a_series_too_short_for_the_hold_out_says_how_many_days_fit(tmp_path):
    ds = _short_file(tmp_path, 30)
    with pytest.raises(B.BacktestError) as err:
        B.targets_per_series(ds, 29)
    assert "series A has 30 days" in str(err.value) and "lower --holdout-days to 28 or fewer" in str(err.value)
    assert len(B.targets_per_series(ds, 28)[0].positions) == 28   # the number it names works
    with pytest.raises(B.BacktestError) as err:
        B.targets_per_series(_short_file(tmp_path, 1), 7)
    assert "series A has 1 day: too short to backtest" in str(err.value) and "--holdout-days" not in str(err.value)
