"""Generator: byte-for-byte reproducible sample, shaped like the public data (NOTES.md)."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys

import numpy as np

from engine.generator import GeneratorParams, calibrate, generate_csv

from .conftest import REPO, SAMPLE


def test_committed_sample_is_reproduced_byte_for_byte(tmp_path):
    out = tmp_path / "s.csv"
    r = subprocess.run([sys.executable, "-m", "engine", "generate", "--out", str(out), "--seed", "42", "--days",
                        "365", "--series", "5"], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == SAMPLE.read_bytes()
    assert generate_csv(days=365, series=5, seed=42).encode() == SAMPLE.read_bytes()
    assert generate_csv(days=365, series=5, seed=43) != generate_csv(days=365, series=5, seed=42)


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
    assert 1.8 <= np.mean(abs_err) <= 2.8                              # planning column MAE ≈ 2.3
    assert np.mean(promo_d) / np.mean(plain_d) > 1.1


def test_calibration_recovers_generator_parameters():
    from engine.data import load_csv
    params = GeneratorParams(base=30.0, amplitude=8.0, peak_day=200.0, promo_rate=0.15, promo_uplift=0.4)
    text = generate_csv(days=730, series=1, seed=5, params=params)
    s = load_csv(text.encode(), name="g.csv").get()
    p = calibrate(s.demand, s.promo, s.dates, s.planning)
    assert abs(p.base - 30.0 * 1.0) < 3.5          # base also carries the per-series ±10% factor
    assert abs(p.amplitude - 8.0) < 1.5 and abs(p.peak_day - 200.0) < 12
    assert abs(p.promo_uplift - 0.4) < 0.1 and abs(p.promo_rate - 0.15) < 0.03
    assert p.dispersion is None or p.dispersion > 50  # Poisson
