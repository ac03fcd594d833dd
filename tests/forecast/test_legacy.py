"""Import of the original's pickle: ONNX forecasts equal the Keras original within 1e-4; the shipped
models/original entry reproduces it without TensorFlow."""
from __future__ import annotations

import json

import numpy as np
import pytest

from engine.forecast.onnx_model import ModelError, OnnxEnsemble
from tests.conftest import REPO


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    from tests.conftest import SHARED_SEED
    pkl, ctx = SHARED_SEED / "ensemble_forecast_model.pkl", SHARED_SEED / "sku1_last_30days.csv"
    if not pkl.exists():
        pytest.skip(f"{pkl} is not present (the original's pickle lives beside the checkout, never in the repo)")
    from engine.forecast import legacy
    out = tmp_path_factory.mktemp("legacy") / "original"
    card = legacy.import_pickle(pkl, out, context=ctx, log=lambda m: None)
    return legacy.load_pickle(pkl), out, card, legacy.read_context(ctx, card["feature_columns"])


@pytest.mark.slow
def test_onnx_forecasts_equal_keras(original):
    from engine.forecast import legacy
    obj, out, card, ctx = original
    model = OnnxEnsemble.load(out)
    rng = np.random.default_rng(7)
    mean, scale = np.array(card["scaler"]["mean"]), np.array(card["scaler"]["scale"])
    raw = np.concatenate([ctx[None], mean + scale * rng.normal(size=(20, 30, 6))])
    np.testing.assert_allclose(model.forecast_raw(raw), legacy.keras_forecast(obj, raw), atol=1e-4, rtol=0)
    # the original's forecast on its own 30-day file (about 14.5 units, see the seed notes)
    assert card["context_forecast"] == pytest.approx(14.5, abs=0.1)
    assert model.forecast_raw(ctx[None])[0] == pytest.approx(card["context_forecast"], abs=1e-4)


@pytest.mark.slow
def test_recursive_horizon_matches_keras_recursion(original):
    """predict() fills the horizon by feeding each forecast back as demand, the same through Keras."""
    from engine.forecast import legacy
    obj, out, card, ctx = original
    model = OnnxEnsemble.load(out)
    demand = ctx[:, 0][None, :]
    got = model.predict(demand)
    assert got.shape == (1, 31)
    cols = card["feature_columns"]
    fill = np.array([card["fill_values"][c] for c in cols])
    hist = list(demand[0])
    for h in range(5):
        raw = np.tile(fill, (30, 1))
        raw[:, cols.index("Units_Sold")] = hist[-30:]
        raw[:, cols.index("Demand_Forecast")] = hist[-30:]
        f = max(float(legacy.keras_forecast(obj, raw[None])[0]), 0.0)
        assert got[0, h] == pytest.approx(f, abs=1e-4)
        hist.append(f)


def test_shipped_original_entry_matches_the_pickles_card(seed_pickle):
    """models/original (committed ONNX + card) is the conversion of ../shared/seed's pickle."""
    folder = REPO / "models" / "original"
    card = json.loads((folder / "card.json").read_text())
    from engine.forecast.export import file_sha256
    assert card["source"]["sha256"] == file_sha256(seed_pickle)
    model = OnnxEnsemble.load(folder)
    ctx_card = card["context_forecast"]
    import pandas as pd
    ctx = pd.read_csv(seed_pickle.parent / "sku1_last_30days.csv")[card["feature_columns"]].to_numpy(float)
    assert model.forecast_raw(ctx[None])[0] == pytest.approx(ctx_card, abs=1e-4)


@pytest.mark.training  # unpickling needs Keras
def test_missing_or_corrupt_pickle_gives_a_model_error(tmp_path):
    from engine.forecast import legacy
    with pytest.raises(ModelError, match="nope.pkl.*does not exist"):
        legacy.load_pickle(tmp_path / "nope.pkl")
    bad = tmp_path / "bad.pkl"
    bad.write_bytes(b"\x80\x04this is not a pickle")
    with pytest.raises(ModelError, match="bad.pkl.*cannot be unpickled"):
        legacy.load_pickle(bad)
    import pickle
    wrong = tmp_path / "wrong.pkl"
    wrong.write_bytes(pickle.dumps({"mlp_model": 1}))
    with pytest.raises(ModelError, match="wrong.pkl.*lacks the keys"):
        legacy.load_pickle(wrong)
