"""Forecaster baselines, the out-of-sample σ rule, and the registry's name validation."""
from __future__ import annotations

import math

import numpy as np
import pytest

from engine.forecast.base import Covariates, Forecaster
from engine.forecast.baselines import SimpleExpSmoothing
from engine.forecast.registry import UnknownForecaster, default_forecaster_name, get_forecaster, list_forecasters

BASELINES = ["naive", "seasonal-naive", "ma7", "ma28", "ses", "planning"]


def test_baselines_listed_and_shapes(sample_series):
    names = [f["name"] for f in list_forecasters()]
    assert names[:6] == BASELINES
    hist = np.vstack([sample_series.demand[:100], sample_series.demand[1:101]])
    cov = Covariates(promo=np.vstack([sample_series.promo] * 2), planning=np.vstack([sample_series.planning] * 2))
    for n in BASELINES:
        f = get_forecaster(n)
        assert f.name == n
        out = f.predict(hist, cov if f.uses_covariates else None)
        assert out.shape == (2, f.horizon) and f.horizon >= 31
        # a row's forecast does not depend on the other rows
        assert np.array_equal(f.predict(hist[1:], cov.take(200, rows=slice(1, 2)) if f.uses_covariates else None)[0],
                              out[1])


def test_baseline_values(sample_series):
    y = sample_series.demand[:50]
    assert np.all(get_forecaster("naive").predict(y[None])[0] == y[-1])
    assert np.allclose(get_forecaster("ma7").predict(y[None])[0], y[-7:].mean())
    sn = get_forecaster("seasonal-naive").predict(y[None])[0]
    assert np.array_equal(sn[:14], np.concatenate([y[-7:], y[-7:]]))
    level = y[0]
    for v in y[1:]:
        level = 0.2 * v + 0.8 * level
    assert np.allclose(SimpleExpSmoothing().predict(y[None])[0], level)
    plan = sample_series.planning
    out = get_forecaster("planning").predict(y[None], Covariates(planning=plan[None, :81]))[0]
    assert np.array_equal(out, plan[50:81])  # reads only the known-in-advance columns t..t+H-1


def test_forecasters_do_not_peek_at_the_future(sample_series):
    y = sample_series.demand.copy()
    for n in ["naive", "seasonal-naive", "ma7", "ma28", "ses"]:
        f = get_forecaster(n)
        a = f.predict(y[None, :200])
        z = y.copy()
        z[200:] = 999.0
        assert np.array_equal(a, f.predict(z[None, :200]))


class Constant(Forecaster):
    name = "const"
    min_history = 1

    def predict(self, demand, covariates=None):
        return np.full((demand.shape[0], self.horizon), 10.0)


def test_window_sigma_rules():
    rng = np.random.default_rng(0)
    y = 10.0 + rng.normal(0, 2, 60)
    f = Constant()
    # ≥ 8 windows: RMSE of window-sum errors over rolling origins
    errs = [y[o:o + 3].sum() - 30.0 for o in range(1, 58)]
    assert f.window_sigma(y, None, 3) == pytest.approx(math.sqrt(np.mean(np.square(errs))))
    # fewer than 8 windows: σ₁·√window
    short = y[:9]
    one = [short[o] - 10.0 for o in range(1, 9)]
    assert f.window_sigma(short, None, 5) == pytest.approx(math.sqrt(np.mean(np.square(one))) * math.sqrt(5))
    # fewer than 2 one-step errors: std(demand)·√window
    assert f.window_sigma(y[:2], None, 4) == pytest.approx(np.std(y[:2]) * 2.0)
    # σ is a forecast error, not a spread of forecasts: a flat forecast still has σ > 0
    assert f.window_sigma(y, None, 3) > 0


@pytest.mark.parametrize("name", ["../etc/passwd", "ensemble:../../etc", "ensemble:", "ensemble:nope", "MA7",
                                  "ma7 ", "", "ensemble:/tmp/x"])
def test_unknown_names_are_refused(name, tmp_path, monkeypatch):
    monkeypatch.setenv("SIM_MODELS_DIR", str(tmp_path))
    with pytest.raises(UnknownForecaster, match="unknown forecaster"):
        get_forecaster(name)


def test_default_forecaster_rule(tmp_path, monkeypatch):
    monkeypatch.setenv("SIM_MODELS_DIR", str(tmp_path))
    assert default_forecaster_name() == "ma7"
    (tmp_path / "past-only").mkdir()
    assert default_forecaster_name() == "ma7"  # a folder without card.json is not a model
    (tmp_path / "bad name!").mkdir()
    (tmp_path / "bad name!" / "card.json").write_text("{}")
    (tmp_path / "default").mkdir()
    (tmp_path / "default" / "card.json").write_text("{}")
    try:
        import engine.forecast.onnx_model  # noqa: F401
        assert default_forecaster_name() == "ma7"  # the covariate model reads the planning column: never default
    except ImportError:
        pass
    (tmp_path / "past-only" / "card.json").write_text("{}")
    try:
        import engine.forecast.onnx_model  # noqa: F401
    except ImportError:
        assert default_forecaster_name() == "ma7"  # the ensemble cannot be served without its module
        return
    assert default_forecaster_name() == "ensemble:past-only"
    names = [f["name"] for f in list_forecasters()]
    assert "ensemble:default" in names and not any("bad name" in n for n in names)
