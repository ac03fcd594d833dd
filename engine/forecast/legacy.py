"""Import of the original app's model pickle into a models/NAME entry (ONNX + card) servable without TensorFlow.

The pickle is a dict: mlp_model, lstm_model, cnn_model, meta_model (Keras 3 models), scaler (scikit-learn
StandardScaler over the six feature columns), sequence_length (30) and feature_columns. The original forecasts the
next day as meta([mlp(x), lstm(x), cnn(x)]) with x = the scaled last 30 rows; the base and meta outputs are units.

SECURITY: unpickling runs arbitrary code. Only the `import-pkl` CLI calls `import_pickle`, for a file the operator
trusts; the web app never does. TensorFlow (needed to unpickle the Keras models) is imported inside functions.
"""
from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np

from engine.forecast.onnx_model import ModelError

REQUIRED_KEYS = ("mlp_model", "lstm_model", "cnn_model", "meta_model", "scaler", "sequence_length",
                 "feature_columns")
TOLERANCE = 1e-4


def load_pickle(path) -> dict:
    """Unpickle the original model file (TRUSTED files only) and check its structure; ModelError otherwise."""
    path = Path(path)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import warnings

    import keras  # noqa: F401 - the Keras models in the pickle unpickle through keras
    if not path.is_file():
        raise ModelError("does not exist", path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sklearn's InconsistentVersionWarning for the 1.2.2 scaler
            with open(path, "rb") as f:
                obj = pickle.load(f)  # noqa: S301 - trusted operator-supplied file, CLI only
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is reported as a bad model file
        raise ModelError(f"cannot be unpickled ({exc.__class__.__name__}: {str(exc)[:200]})", path) from None
    if not isinstance(obj, dict):
        raise ModelError(f"holds a {type(obj).__name__}, expected the original's dict of models", path)
    missing = [k for k in REQUIRED_KEYS if k not in obj]
    if missing:
        raise ModelError(f"lacks the keys {missing}", path)
    scaler = obj["scaler"]
    cols = list(obj["feature_columns"])
    seq = int(obj["sequence_length"])
    mean, scale = getattr(scaler, "mean_", None), getattr(scaler, "scale_", None)
    if mean is None or scale is None or len(mean) != len(cols) or len(scale) != len(cols):
        raise ModelError("has a scaler that does not match its feature_columns", path)
    for k in ("mlp_model", "lstm_model", "cnn_model"):
        shape = tuple(obj[k].input_shape)
        if shape[1:] != (seq, len(cols)):
            raise ModelError(f"{k} expects input {shape}, not (None, {seq}, {len(cols)})", path)
    return obj


def keras_forecast(obj: dict, raw: np.ndarray) -> np.ndarray:
    """The original's own next-day forecast (n,) through Keras predict() for raw rows (n, window, 6)."""
    x = ((np.asarray(raw, float) - obj["scaler"].mean_) / obj["scaler"].scale_).astype(np.float32)
    base = np.concatenate([obj[k].predict(x, verbose=0) for k in ("mlp_model", "lstm_model", "cnn_model")], axis=1)
    return obj["meta_model"].predict(base, verbose=0)[:, 0].astype(np.float64)


def combined_keras_model(obj: dict):
    """One Keras graph x -> meta([mlp(x), lstm(x), cnn(x)]) (the exported graph)."""
    import keras
    seq, ncol = int(obj["sequence_length"]), len(obj["feature_columns"])
    x = keras.Input((seq, ncol), name="x")
    base = keras.layers.Concatenate()([obj[k](x) for k in ("mlp_model", "lstm_model", "cnn_model")])
    return keras.Model(x, obj["meta_model"](base), name="original_ensemble")


def read_context(path, columns: list[str]) -> np.ndarray:
    """The rows of a context CSV (like sku1_last_30days.csv) in the model's column order."""
    import pandas as pd
    frame = pd.read_csv(path)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ModelError(f"lacks the columns {missing}", path)
    return frame[columns].to_numpy(dtype=float)


def import_pickle(path, out_dir, context=None, horizon: int = 31, log=print) -> dict:
    """Convert the pickle at `path` into out_dir/model.onnx + card.json; verify ONNX == Keras within 1e-4."""
    from engine.forecast import export as E
    path = Path(path)
    obj = load_pickle(path)
    seq, cols = int(obj["sequence_length"]), [str(c) for c in obj["feature_columns"]]
    mean = np.asarray(obj["scaler"].mean_, dtype=float)
    scale = np.asarray(obj["scaler"].scale_, dtype=float)
    ctx = None if context is None else read_context(context, cols)
    fill = {c: float(m) for c, m in zip(cols, mean)}
    if ctx is not None:
        fill = {c: float(v) for c, v in zip(cols, ctx[-1])}
    model = combined_keras_model(obj)
    proto = E.to_onnx(model, [("x", (seq, len(cols)))])

    # verification: the 30-day context (if given) plus random rows around the scaler's distribution
    rng = np.random.default_rng(0)
    raw = mean + scale * rng.normal(size=(64, seq, len(cols)))
    if ctx is not None and len(ctx) >= seq:
        raw = np.concatenate([ctx[None, -seq:], raw])
    want = keras_forecast(obj, raw)
    x = ((raw - mean) / scale).astype(np.float32)
    got = E.onnx_run(proto, {"x": x})[:, 0].astype(np.float64)
    diff = float(np.max(np.abs(got - want)))
    if diff > TOLERANCE:
        raise ModelError(f"ONNX export disagrees with Keras by {diff:.2e} (> {TOLERANCE})", path)
    log(f"ONNX agrees with Keras within {diff:.2e} on {len(raw)} windows")
    card = {
        "kind": "legacy",
        "description": "The original app's ensemble (MLP + LSTM + 1-D CNN + meta MLP, one-day-ahead), converted "
                       "to ONNX. Horizon filled recursively; columns the simulator lacks are held at fill_values.",
        "window": seq, "horizon": int(horizon), "use_covariates": False,
        "feature_columns": cols,
        "scaler": {"kind": "standard", "mean": [float(v) for v in mean], "scale": [float(v) for v in scale]},
        "fill_values": fill,
        "fill_source": "last row of the context file" if ctx is not None else "scaler means",
        "output_mean": 0.0, "output_scale": 1.0,
        "source": {"file": path.name, "sha256": E.file_sha256(path)},
        "onnx_check": {"max_abs_diff_vs_keras": diff, "windows": int(len(raw))},
        "context_forecast": None if ctx is None else float(want[0]),
        "versions": E.library_versions(),
    }
    E.write_entry(out_dir, proto, card)
    return card
