"""Generator: byte-for-byte reproducible sample, shaped like the public data (NOTES.md)."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys

import numpy as np

from engine.data.generator import (
    GeneratorParams,
    calibrate,
    continue_series,
    draw_planning,
    generate_csv,
    planner_forecast,
    stream_rng,
)

from .conftest import REPO, SAMPLE


def test_committed_sample_is_reproduced_byte_for_byte(tmp_path):
    out = tmp_path / "s.csv"
    r = subprocess.run([sys.executable, "-m", "engine", "generate", "--out", str(out), "--seed", "42", "--days",
                        "730", "--series", "5"], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == SAMPLE.read_bytes()
    assert generate_csv(days=730, series=5, seed=42).encode() == SAMPLE.read_bytes()
    assert generate_csv(days=30, series=5, seed=43) != generate_csv(days=30, series=5, seed=42)


def test_sample_looks_like_the_public_data(sample_dataset):
    months = {m: [] for m in range(1, 13)}
    weekday = {w: [] for w in range(7)}
    promo_days, promo_d, plain_d, abs_err = 0, [], [], []
    n = 0
    for s in sample_dataset.series.values():
        for date, d, p, f in zip(s.dates, s.demand, s.promo, s.planning):
            day = dt.date.fromisoformat(date)
            months[day.month].append(d)
            weekday[day.weekday()].append(d)
            (promo_d if p else plain_d).append(d)
            promo_days += int(p)
            abs_err.append(abs(f - d))
            n += 1
    means = [np.mean(months[m]) for m in range(1, 13)]
    assert 9 <= min(means) <= 14 and 28 <= max(means) <= 35          # yearly cycle ~10 → ~31
    assert int(np.argmax(means)) + 1 in (3, 4) and int(np.argmin(means)) + 1 in (9, 10)
    assert 0.08 <= promo_days / n <= 0.12                              # promotions on ~10% of days
    # promotion uplift ~ +25% (compare within months to remove the cycle)
    wd = [np.mean(weekday[w]) for w in range(7)]
    assert (max(wd) - min(wd)) / np.mean(wd) < 0.08                    # no weekly cycle
    # an ex-ante planning column: no better than the Poisson noise of the day allows (MAE of the true mean ≈ 3.6)
    assert 3.4 <= np.mean(abs_err) <= 4.6
    assert np.mean(promo_d) / np.mean(plain_d) > 1.1


def test_calibration_recovers_generator_parameters():
    from engine.data.dataset import load_csv
    params = GeneratorParams(base=30.0, amplitude=8.0, peak_day=200.0, promo_rate=0.15, promo_uplift=0.4)
    text = generate_csv(days=730, series=1, seed=5, params=params)
    s = load_csv(text.encode(), name="g.csv").get()
    p = calibrate(s.demand, s.promo, s.dates, s.planning)
    assert abs(p.base - 30.0 * 1.0) < 3.5          # base also carries the per-series ±10% factor
    assert abs(p.amplitude - 8.0) < 1.5 and abs(p.peak_day - 200.0) < 12
    assert abs(p.promo_uplift - 0.4) < 0.1 and abs(p.promo_rate - 0.15) < 0.03
    assert p.dispersion is None or p.dispersion > 50  # Poisson


def test_planning_value_of_a_day_never_reads_that_day_or_a_later_demand():
    rng = np.random.default_rng(3)
    n = 200
    demand = rng.poisson(20, n).astype(float)
    promo = (rng.random(n) < 0.1).astype(float)
    doy = (np.arange(n) % 365 + 1).astype(float)
    params = GeneratorParams()
    plan = draw_planning(params, demand, promo, stream_rng(1, 0, 3), doy)
    for t in (0, 30, 31, 32, 100, 199):
        marked = demand.copy()
        marked[t:] = 10_000.0          # a marker planted on day t and after
        again = draw_planning(params, marked, promo, stream_rng(1, 0, 3), doy)
        assert np.array_equal(again[:t + 1], plan[:t + 1])
    # made planning_lead days ahead: the marker on day t reaches the plan of day t + lead, not earlier
    marked = demand.copy()
    marked[100] = 10_000.0
    changed = np.flatnonzero(planner_forecast(params, marked, promo, doy) != planner_forecast(params, demand, promo,
                                                                                             doy))
    assert changed.min() == 100 + params.planning_lead


def test_sample_planning_column_is_ex_ante(sample_dataset):
    """Re-planning a series with its future replaced by a marker leaves every earlier plan of the file unchanged."""
    from engine.data.dataset import days_of_year
    s = sample_dataset.get("SKU_1/WH_1")
    params = GeneratorParams()
    doy = days_of_year(s.dates).astype(float)
    base = planner_forecast(params, s.demand, s.promo, doy)
    marked = s.demand.copy()
    marked[400:] = 0.0
    assert np.array_equal(planner_forecast(params, marked, s.promo, doy)[:400 + params.planning_lead],
                          base[:400 + params.planning_lead])
    # the file's column carries none of the day's own count noise: its error moves against the realised demand
    assert np.corrcoef(s.planning - s.demand, s.demand)[0, 1] < -0.5


def test_continued_planning_reads_only_the_context_and_earlier_simulated_days():
    params = GeneratorParams()
    rng = np.random.default_rng(0)
    hist = (rng.poisson(20, 90).astype(float), np.zeros(90), (np.arange(90) % 365 + 1).astype(float))
    doy = (np.arange(90, 150) % 365 + 1).astype(float)
    a = continue_series(params, 60, 7, 0, day_of_year=doy, history=hist)
    marked = (hist[0].copy(), hist[1], hist[2])
    marked[0][-1] = 10_000.0      # the context's last day reaches plans from planning_lead days later on
    b = continue_series(params, 60, 7, 0, day_of_year=doy, history=marked)
    lead = params.planning_lead
    assert np.array_equal(a["planning"][:lead - 1], b["planning"][:lead - 1])
    assert not np.array_equal(a["planning"][lead - 1:], b["planning"][lead - 1:])
