"""Croston, SBA and TSB: the recursions by hand, the vectorised rows, and the registry."""
from __future__ import annotations

import numpy as np
import pytest

from engine.forecast.intermittent import SBA, TSB, Croston
from engine.forecast.registry import get_forecaster, list_forecasters


def test_croston_by_hand():
    # demands 4 on day 1 (interval 2) and 6 on day 4 (interval 3): z = 4 + .5(6-4) = 5, p = 2 + .5(3-2) = 2.5
    f = Croston(alpha=0.5)
    y = np.array([[0, 4, 0, 0, 6, 0.0]])
    assert f.predict(y)[0, 0] == pytest.approx(5 / 2.5)
    assert f.predict(y).shape == (1, f.horizon)


def test_sba_is_croston_times_one_minus_half_alpha():
    rng = np.random.default_rng(0)
    y = np.where(rng.random((3, 200)) < 0.2, rng.poisson(3, (3, 200)) + 1, 0).astype(float)
    assert np.allclose(SBA(0.1).predict(y)[:, 0], 0.95 * Croston(0.1).predict(y)[:, 0])


def test_tsb_by_hand_and_it_decays_when_demand_stops():
    f = TSB(alpha=0.5, beta=0.5)
    # d: 1 (day 0 demand) -> .5 -> .75 ; z: 2 -> 2 -> 2 + .5(4-2) = 3 ; forecast .75 * 3
    assert f.predict(np.array([[2, 0, 4.0]]))[0, 0] == pytest.approx(0.75 * 3)
    y = np.r_[np.tile([0, 0, 0, 5.0], 50), np.zeros(60)][None, :]
    assert TSB().predict(y)[0, 0] < 0.01 * Croston().predict(y)[0, 0]  # Croston never learns the series stopped


def test_rows_are_independent_paths():
    rng = np.random.default_rng(1)
    y = np.where(rng.random((4, 120)) < 0.3, rng.poisson(5, (4, 120)), 0).astype(float)
    for f in (Croston(), SBA(), TSB()):
        together = f.predict(y)[:, 0]
        alone = [f.predict(y[i:i + 1])[0, 0] for i in range(4)]
        assert np.array_equal(together, alone)


def test_no_demand_yet_forecasts_zero():
    for f in (Croston(), SBA(), TSB()):
        assert f.predict(np.zeros((2, 10)))[:, 0].tolist() == [0.0, 0.0]


def test_registered_and_usable_by_name():
    names = {f["name"] for f in list_forecasters()}
    assert {"croston", "sba", "tsb"} <= names
    f = get_forecaster("tsb")
    assert f.name == "tsb" and f.window_sigma(np.r_[np.zeros(20), 3, np.zeros(20), 4], None, 8) > 0
