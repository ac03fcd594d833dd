"""Syntetos–Boylan demand classes: ADI = days / demand days, CV² of the non-zero sizes, cut-offs 1.32 and 0.49."""
from __future__ import annotations

import numpy as np
import pytest

from engine.demand.classes import classify


@pytest.mark.parametrize("demand, label", [
    ([10, 11, 9, 10, 12, 10, 9, 11], "smooth"),
    ([1, 30, 2, 25, 1, 40, 3, 1], "erratic"),
    ([0, 0, 5, 0, 0, 6, 0, 0, 5, 0], "intermittent"),
    ([0, 0, 1, 0, 0, 40, 0, 0, 2, 0], "lumpy"),
    ([0, 0, 0], "no demand"),
])
def test_the_four_classes(demand, label):
    assert classify(np.asarray(demand, dtype=float)).label == label


def test_adi_and_cv2_values_and_the_cutoffs():
    c = classify(np.array([0, 4, 0, 6.0]))
    assert c.adi == 2.0 and c.zero_share == 0.5
    assert c.cv2 == pytest.approx(np.var([4, 6]) / 25)
    # ADI exactly 1.32 is already intermittent (ADI < 1.32 is smooth/erratic)
    y = np.r_[np.ones(100), np.zeros(32)] * 5
    assert classify(y).adi == pytest.approx(1.32) and classify(y).label == "intermittent"


def test_85_percent_zero_days_are_intermittent_or_lumpy():
    rng = np.random.default_rng(3)
    y = np.where(rng.random(365) < 0.15, rng.poisson(4, 365) + 1, 0).astype(float)
    assert classify(y).label in ("intermittent", "lumpy")
