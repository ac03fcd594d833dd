"""The exported ensemble served with onnxruntime agrees with Keras; batch calls; window_sigma; the card."""
from __future__ import annotations

import json

import numpy as np
import pytest

from engine.data.dataset import days_of_year
from engine.forecast import features as F
from engine.forecast.base import Covariates
from engine.forecast.onnx_model import OnnxEnsemble
from tests.forecast.conftest import sample_arrays


def covariates(series, stop, h=31):
    pr = F._pad(np.stack([s.promo for s in series]), stop + h)
    pl = F._pad(np.stack([s.planning for s in series]), stop + h)
    doy = np.stack([days_of_year(s.dates, h)[:stop + h] for s in series])
    return Covariates(promo=pr, planning=pl, day_of_year=doy)


@pytest.mark.slow
@pytest.mark.parametrize("per_horizon, kind, extras", [
    (False, "stack", ("seasonal", "planning")),
    (True, "convex", ("seasonal", "planning", "ma7")),
    (False, "convex", ("seasonal", "planning", "calendar")),
    (False, "convex", ("seasonal", "planning", "fourier")),
])
def test_onnx_agrees_with_keras_within_1e_4(tmp_path, per_horizon, kind, extras):
    from engine.forecast import export as E
    from engine.forecast import train as T
    cfg = T.TrainConfig(use_covariates=True, epochs=2, seed=2, meta_per_horizon=per_horizon, meta_kind=kind,
                        extra_inputs=extras)
    series = sample_arrays(2)
    trained = T.train_ensemble(series, cfg, log=lambda m: None)
    W, H = cfg.window, cfg.horizon
    proto = E.to_onnx(trained.keras_model, [("seq", (W, 3)), ("aux", (F.aux_dim(H, True),)),
                                            ("extra", (H, len(extras)))])
    calendar = trained.calendar
    assert (calendar is not None) == ("calendar" in extras)
    E.write_entry(tmp_path / "m", proto, {"kind": "ensemble", "window": W, "horizon": H, "use_covariates": True,
                                         "extra_inputs": list(extras), "residuals": trained.residuals,
                                         **({"calendar_season": calendar.to_dict()} if calendar else {})})
    model = OnnxEnsemble.load(tmp_path / "m")
    assert model.extra_inputs == extras and model.uses_calendar == bool({"calendar", "fourier"} & set(extras))
    y = np.stack([s.demand for s in series])
    for t in (40, 150, 300, 365):  # short (no seasonal fit) and long histories
        cov = covariates(series, t)
        got = model.predict(y[:, :t], cov)
        want = T.keras_forecast(trained.keras_model, F.build_inputs(
            y[:, :t], cov.promo, cov.planning, use_covariates=True, extra_inputs=extras,
            day_of_year=cov.day_of_year, calendar=calendar))
        assert got.shape == (2, 31)
        np.testing.assert_allclose(got, want, atol=1e-4, rtol=4e-7)
        one = model.predict(y[1:, :t], Covariates(promo=cov.promo[1:], planning=cov.planning[1:],
                                                  day_of_year=cov.day_of_year[1:]))
        np.testing.assert_array_equal(one, got[1:])  # the single-row fast path = the batch path


def test_tiny_model_card_and_backtest(tiny_model):
    card = json.loads((tiny_model / "card.json").read_text())
    assert card["kind"] == "ensemble" and card["use_covariates"] is True
    assert card["onnx_check"]["max_abs_diff_vs_keras_units"] <= 1e-4
    tr = card["training"]
    assert tr["last_train_date_by_series"] == {"SKU_1/WH_1": "2025-10-18", "SKU_1/WH_2": "2025-10-18"}
    assert tr["last_date"] == "2025-10-18"
    assert set(card["backtest"]["models"]) >= {"ensemble:tiny", "ma7", "planning"}
    assert card["backtest"]["holdout_rows"] == 2 * 73
    assert len(card["residuals"]["window_rmse_ratio"]) >= 8
    assert (tiny_model / "CARD.md").read_text().count("| ensemble:tiny |") == 1


def test_batch_prediction_equals_row_by_row(tiny_model):
    model = OnnxEnsemble.load(tiny_model)
    series = sample_arrays(2)
    y = np.stack([s.demand for s in series])[:, :200]
    cov = covariates(series, 200)
    batch = model.predict(y, cov)
    for i in range(2):
        one = model.predict(y[i:i + 1], Covariates(cov.promo[i:i + 1], cov.planning[i:i + 1]))
        np.testing.assert_allclose(one[0], batch[i], atol=1e-5)
    assert np.all(batch >= 0)


def test_forecast_scales_with_the_level(tiny_model):
    """Level normalisation: scaling history and planning by 3 scales the forecast by 3."""
    model = OnnxEnsemble.load(tiny_model)
    series = sample_arrays(1)
    y = series[0].demand[None, :250]
    cov = covariates(series, 250)
    a = model.predict(y, cov)
    b = model.predict(3 * y, Covariates(cov.promo, 3 * cov.planning))
    np.testing.assert_allclose(b, 3 * a, rtol=1e-4)


def test_covariates_are_required_and_short_history_refused(tiny_model):
    model = OnnxEnsemble.load(tiny_model)
    with pytest.raises(ValueError, match="promotion flag"):
        model.predict(np.full((1, 60), 10.0))
    with pytest.raises(ValueError, match="at least 28 days"):
        model.predict(np.full((1, 10), 10.0), Covariates(np.zeros((1, 41)), np.ones((1, 41))))


def test_window_sigma_short_context_uses_card_residuals(tiny_model):
    model = OnnxEnsemble.load(tiny_model)
    card = json.loads((tiny_model / "card.json").read_text())
    series = sample_arrays(1)
    y = series[0].demand[None, :40]
    cov = covariates(series, 40)
    level = F.level_of(y, 28)[0]
    s = model.window_sigma(y, cov, 8)
    assert s == pytest.approx(level * card["residuals"]["window_rmse_ratio"][7])
    # a long context uses the contract's rolling-origin errors instead
    y_long = series[0].demand[None, :200]
    cov_long = covariates(series, 200)
    s_long = model.window_sigma(y_long, cov_long, 8)
    from engine.forecast.base import Forecaster
    assert s_long == pytest.approx(Forecaster.window_sigma(model, y_long, cov_long, 8))
    assert 0 < s_long < 10 * np.std(y_long) * np.sqrt(8)


def test_registry_serves_a_models_dir_entry(tiny_model, monkeypatch):
    from engine.forecast import registry
    monkeypatch.setenv("SIM_MODELS_DIR", str(tiny_model.parent))
    names = [f["name"] for f in registry.list_forecasters()]
    assert "ensemble:tiny" in names
    f = registry.get_forecaster("ensemble:tiny")
    assert isinstance(f, OnnxEnsemble) and f.name == "ensemble:tiny"
    with pytest.raises(registry.UnknownForecaster):
        registry.get_forecaster("ensemble:../tiny")


def test_single_row_fast_path_is_thread_safe(tiny_model):
    """Each thread has its own bound buffers: concurrent single-series forecasts never see each other's inputs."""
    import threading
    model = OnnxEnsemble.load(tiny_model)
    series = sample_arrays(2)
    jobs = []
    for k in range(6):
        s = series[k % 2]
        t = 150 + 20 * k
        cov = Covariates(promo=F._pad(s.promo[None, :], t + 31), planning=F._pad(s.planning[None, :], t + 31))
        jobs.append((s.demand[None, :t], cov))
    want = [model.predict(y, c) for y, c in jobs]
    assert len({w.tobytes() for w in want}) == len(jobs)
    bad = []

    def work(k):
        for _ in range(300):
            if not np.array_equal(model.predict(*jobs[k]), want[k]):
                bad.append(k)
                return

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(jobs))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert bad == []


def test_card_without_extra_inputs_uses_the_meta_inputs(tiny_model, tmp_path):
    """Cards written before `extra_inputs` existed are served with the meta-learner inputs they list."""
    import shutil
    folder = tmp_path / "old"
    shutil.copytree(tiny_model, folder)
    card = json.loads((folder / "card.json").read_text())
    card.pop("extra_inputs", None)
    (folder / "card.json").write_text(json.dumps(card))
    assert OnnxEnsemble.load(folder).extra_inputs == ("seasonal", "planning")
    card["extra_inputs"] = ["seasonal", "bogus"]
    (folder / "card.json").write_text(json.dumps(card))
    from engine.forecast.onnx_model import ModelError
    with pytest.raises(ModelError, match="card.json.*bogus"):
        OnnxEnsemble.load(folder)


def test_calendar_input_without_a_stored_season_is_refused(tiny_model, tmp_path):
    import shutil

    from engine.forecast.onnx_model import ModelError
    folder = tmp_path / "cal"
    shutil.copytree(tiny_model, folder)
    card = json.loads((folder / "card.json").read_text())
    card["extra_inputs"] = ["seasonal", "calendar"]
    (folder / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="card.json.*calendar_season"):
        OnnxEnsemble.load(folder)
    card["calendar_season"] = {"alpha": 3.0, "beta": 0.0}
    (folder / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="card.json.*not positive"):
        OnnxEnsemble.load(folder)
