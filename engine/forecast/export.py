"""Export of Keras models to ONNX (tf2onnx) and writing of a models/NAME entry (ONNX file + JSON card).

tf2onnx's `from_keras` does not accept Keras 3 models, so the model is wrapped in a `tf.function` with a fixed input
signature and converted with `tf2onnx.convert.from_function`. TensorFlow is imported inside functions only.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
from pathlib import Path

import numpy as np

ONNX_FILE = "model.onnx"
CARD_FILE = "card.json"
CARD_FORMAT = "sim-forecast-card"
CARD_VERSION = 1
OPSET = 17


def to_onnx(keras_model, input_specs: list[tuple[str, tuple]], output_name: str = "forecast"):
    """ONNX ModelProto of a Keras 3 model whose inputs are float32 tensors named/shaped by input_specs."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf
    import tf2onnx

    spec = [tf.TensorSpec((None, *shape), tf.float32, name=name) for name, shape in input_specs]

    if len(spec) == 1:
        fn = tf.function(lambda a: {output_name: keras_model(a, training=False)}, input_signature=spec)
    else:
        fn = tf.function(lambda *a: {output_name: keras_model(list(a), training=False)}, input_signature=spec)
    proto, _ = tf2onnx.convert.from_function(fn, input_signature=spec, opset=OPSET)
    return proto


def onnx_run(proto_or_path, feeds: dict) -> np.ndarray:
    """First output of an ONNX model for the given feeds (used to verify an export)."""
    import onnxruntime as ort
    src = proto_or_path.SerializeToString() if hasattr(proto_or_path, "SerializeToString") else str(proto_or_path)
    sess = ort.InferenceSession(src, providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)[0]


def library_versions() -> dict:
    """Installed versions of the libraries a training may use, read from the packages' metadata (the distribution
    that provides each module: tensorflow comes as tensorflow-cpu here): importing them to ask would load
    TensorFlow (~3.8 s, ~660 MB) into a training that uses none of it (the global trees)."""
    from importlib.metadata import PackageNotFoundError, packages_distributions, version
    provided = packages_distributions()
    out = {"python": platform.python_version()}
    for mod in ("numpy", "tensorflow", "keras", "tf2onnx", "onnx", "onnxruntime", "sklearn", "statsmodels"):
        out[mod] = None   # a missing optional library is recorded, not fatal
        for dist in provided.get(mod, []):
            try:
                out[mod] = version(dist)
                break
            except PackageNotFoundError:
                continue
    return out


def file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def out_dir_problem(out_dir, replace: bool = True) -> str | None:
    """Why `out_dir` cannot become a model folder, or None. The CLI checks it before training or converting (minutes
    of work, then a write that fails would lose them); missing parent folders are created. replace=False also
    refuses a folder that already holds a model entry (its card.json): `engine train` and `import-pkl` overwrite
    one only when asked (--replace), so a typo in --out cannot silently replace a model the app serves."""
    out = Path(out_dir)
    if os.path.lexists(out) and not out.exists():
        return "is a broken symbolic link"
    if out.exists() and not out.is_dir():
        return f"is a file, not a folder (a model is written as {ONNX_FILE} and {CARD_FILE} in a folder)"
    base = out
    while not os.path.lexists(base):
        base = base.parent
    if not base.is_dir():
        return f"{base} is a file, not a folder"
    if not os.access(base, os.W_OK | os.X_OK):
        return "is not writable" if base == out else f"cannot be created: {base} is not writable"
    if not replace and (out / CARD_FILE).is_file():
        return f"already holds a model ({CARD_FILE}); add --replace to replace it"
    return None


def write_entry(out_dir, proto, card: dict) -> Path:
    """Write models/NAME/model.onnx and card.json (card gets format, version, file hash, creation time)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    onnx_path = out / ONNX_FILE
    tmp = onnx_path.with_suffix(".onnx.tmp")
    tmp.write_bytes(proto.SerializeToString())
    os.replace(tmp, onnx_path)
    card = {"format": CARD_FORMAT, "version": CARD_VERSION, **card, "onnx": ONNX_FILE,
            "onnx_sha256": file_sha256(onnx_path),
            "created_utc": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()}
    card_path = out / CARD_FILE
    tmp = card_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(card, indent=2, allow_nan=False) + "\n")
    os.replace(tmp, card_path)
    drop_unreferenced_graphs(out, card)
    return out


def drop_unreferenced_graphs(out: Path, card: dict) -> list[str]:
    """Remove the .onnx files of `out` that `card` does not name (its graph, its members' graphs): an entry written
    over another with --replace would otherwise keep graphs of members it no longer ships (an lstm.onnx, a global
    model's mean.onnx under a per-layout ensemble), which nothing reads and which say the wrong thing. Only once the
    new card is in place, so a failed training never loses the old entry's files. Returns the names removed."""
    named = {card.get("onnx")} | {m.get(k) for m in card.get("members") or [] for k in ("onnx", "mean_onnx")}
    gone = []
    for f in sorted(Path(out).glob("*.onnx")):
        if f.name not in named and f.is_file():
            f.unlink()
            gone.append(f.name)
    return gone
