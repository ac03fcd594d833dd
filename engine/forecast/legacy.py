"""Import of the original app's model pickle into a models/NAME entry (ONNX + card) servable without TensorFlow.

The pickle is a dict: mlp_model, lstm_model, cnn_model, meta_model (Keras 3 models), scaler (scikit-learn
StandardScaler over the six feature columns), sequence_length (30) and feature_columns. The original forecasts the
next day as meta([mlp(x), lstm(x), cnn(x)]) with x = the scaled last 30 rows; the base and meta outputs are units.

An import reads two files, the model pickle and an optional context CSV, and writes one folder: every refusal names
which of them is wrong (ModelError "model file …", ContextError "context file …", or the output folder), and the
cheap checks (paths, the context's text) run before TensorFlow is imported and the pickle is unpickled.

SECURITY: unpickling runs arbitrary code. Only the `import-pkl` CLI calls `import_pickle`, for a file the operator
trusts; the web app never does. TensorFlow (needed to unpickle the Keras models) is imported inside functions.
"""
from __future__ import annotations

import contextlib
import csv
import io
import logging
import math
import operator
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.forecast.onnx_model import ModelError

REQUIRED_KEYS = ("mlp_model", "lstm_model", "cnn_model", "meta_model", "scaler", "sequence_length",
                 "feature_columns")
BASE_MODELS = ("mlp_model", "lstm_model", "cnn_model")
TOLERANCE = 1e-4


class ContextError(ModelError):
    """A context CSV that cannot be used. Says "context file" (not ModelError's "model file"): the import reads
    two files and the operator must know which one to fix. `row` is the 1-based line (header = line 1)."""

    def __init__(self, message: str, file, row: int | None = None, column: str | None = None) -> None:
        where = [f"context file {file}"] + ([f"row {row}"] if row is not None else []) + (
            [f"column {column}"] if column is not None else [])
        super().__init__(f"{', '.join(where)}: {message}")
        self.file, self.row, self.column = str(file), row, column


@dataclass
class ContextTable:
    """A context CSV's header and data rows as text, with each row's line number (for messages)."""

    file: Path
    header: list[str]
    rows: list[list[str]]
    lines: list[int]
    sep: str = ","


def check_model_path(path) -> Path:
    """The pickle's path if it names a regular file; ModelError saying what it is otherwise. Only a regular file
    is ever unpickled (a folder, device or pipe is refused here)."""
    path = Path(path)
    if not path.exists():
        raise ModelError("does not exist", path)
    if path.is_dir():
        raise ModelError("is a folder, not a file; give the path of the pickle (e.g. ensemble_forecast_model.pkl)",
                         path)
    if not path.is_file():
        raise ModelError("is not a regular file", path)
    return path


def load_pickle(path) -> dict:
    """Unpickle the original model file (TRUSTED files only) and check its structure; ModelError otherwise."""
    path = check_model_path(path)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import warnings

    import keras  # noqa: F401 - the Keras models in the pickle unpickle through keras
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
    try:
        seq = operator.index(obj["sequence_length"])
        cols = list(obj["feature_columns"])
    except TypeError:
        raise ModelError("has a sequence_length that is not an integer or feature_columns that are not a list",
                         path) from None
    if seq < 1 or not cols or not all(isinstance(c, str) for c in cols):
        raise ModelError(f"has sequence_length {seq} and feature_columns {cols!r}; expected a positive length "
                         "and column names", path)
    scaler = obj["scaler"]
    mean, scale = getattr(scaler, "mean_", None), getattr(scaler, "scale_", None)
    if mean is None or scale is None or len(mean) != len(cols) or len(scale) != len(cols):
        raise ModelError("has a scaler that does not match its feature_columns", path)
    shapes = {}
    for k in (*BASE_MODELS, "meta_model"):
        try:
            shapes[k] = tuple(obj[k].input_shape), tuple(obj[k].output_shape)
        except (AttributeError, TypeError, ValueError):
            raise ModelError(f"{k} is a {type(obj[k]).__name__}, not a Keras model", path) from None
    for k in BASE_MODELS:
        (shape, out) = shapes[k]
        if shape[1:] != (seq, len(cols)):
            raise ModelError(f"{k} expects input {shape}, not (None, {seq}, {len(cols)})", path)
        if out[1:] != (1,):
            raise ModelError(f"{k} outputs {out}, not one value per window (None, 1)", path)
    if shapes["meta_model"][0][1:] != (len(BASE_MODELS),) or shapes["meta_model"][1][1:] != (1,):
        raise ModelError(f"meta_model maps {shapes['meta_model'][0]} to {shapes['meta_model'][1]}, not the three "
                         "base forecasts (None, 3) to one (None, 1)", path)
    return obj


def keras_forecast(obj: dict, raw: np.ndarray) -> np.ndarray:
    """The original's own next-day forecast (n,) through Keras predict() for raw rows (n, window, 6)."""
    x = ((np.asarray(raw, float) - obj["scaler"].mean_) / obj["scaler"].scale_).astype(np.float32)
    base = np.concatenate([obj[k].predict(x, verbose=0) for k in BASE_MODELS], axis=1)
    return obj["meta_model"].predict(base, verbose=0)[:, 0].astype(np.float64)


def combined_keras_model(obj: dict):
    """One Keras graph x -> meta([mlp(x), lstm(x), cnn(x)]) (the exported graph)."""
    import keras
    seq, ncol = int(obj["sequence_length"]), len(obj["feature_columns"])
    x = keras.Input((seq, ncol), name="x")
    base = keras.layers.Concatenate()([obj[k](x) for k in BASE_MODELS])
    return keras.Model(x, obj["meta_model"](base), name="original_ensemble")


def read_context_table(path) -> ContextTable:
    """The header and data rows of a context CSV as text (blank lines skipped); ContextError for a missing,
    unreadable or empty file. Decoded and split as the sales loader reads a file (engine.data.dataset.decode_text,
    engine.data.layout.read_header: UTF-8, the separator sniffed from the header, trailing separators named), so a
    file the simulator reads is a context the import reads. Needs no model, so an import checks it before
    unpickling."""
    from engine.data.dataset import MAX_FILE_BYTES, decode_text
    from engine.data.layout import read_header
    from engine.errors import DataError

    path = Path(path)
    if not path.exists():
        raise ContextError("does not exist", path)
    if path.is_dir():
        raise ContextError("is a folder, not a CSV file", path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ContextError(f"is {path.stat().st_size:,} bytes, above the {MAX_FILE_BYTES:,}-byte limit of a "
                               "data file", path)
        raw = path.read_bytes()
    except OSError as exc:
        raise ContextError(f"cannot be read ({exc.strerror or exc})", path) from None
    try:
        text = decode_text(raw, str(path))
        header, sep, header_line = read_header(text, str(path))
    except DataError as exc:
        raise ContextError(exc.detail, path, row=exc.row, column=exc.column) from None
    rows, lines = [], []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    line = 0
    try:
        for row in reader:
            line = reader.line_num
            if line <= header_line or not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise ContextError(f"has {len(row)} fields, the header has {len(header)}", path, row=line)
            rows.append(row)
            lines.append(line)
    except csv.Error as exc:
        raise ContextError(f"is not a readable CSV ({exc})", path, row=line + 1) from None
    if not rows:
        raise ContextError("has a header but no data rows", path)
    return ContextTable(path, header, rows, lines, sep)


def context_values(table: ContextTable, columns: list[str], min_rows: int = 1) -> np.ndarray:
    """The table's rows (n, len(columns)) in the model's column order as finite floats; ContextError naming the
    column, row and cell otherwise, or when there are fewer than `min_rows` rows (the model's window)."""
    missing = [c for c in columns if c not in table.header]
    if missing:
        found = ", ".join(table.header[:20]) + (", …" if len(table.header) > 20 else "")
        raise ContextError(f"lacks the columns {missing} the model reads (found: {found})", table.file, row=1)
    from engine.data.cells import decimal_comma_number, show_cell, uses_decimal_comma

    index = [table.header.index(c) for c in columns]   # once each: read_header refuses a repeated column
    comma = [uses_decimal_comma([row[i] for row in table.rows], table.sep) for i in index]
    values = np.empty((len(table.rows), len(columns)))
    for r, (row, line) in enumerate(zip(table.rows, table.lines)):
        for j, (column, i) in enumerate(zip(columns, index)):
            cell = row[i].strip()
            if not cell:
                raise ContextError("is empty; the model reads a number here", table.file, row=line, column=column)
            try:
                v = decimal_comma_number(cell) if comma[j] else float(cell)
                if v != v and cell.lower() not in ("nan", "+nan", "-nan"):
                    raise ValueError(cell)
            except ValueError:
                raise ContextError(f"{show_cell(cell)} is not a number", table.file, row=line, column=column) from None
            if not math.isfinite(v):
                raise ContextError(f"{show_cell(cell)} is not a finite number", table.file, row=line, column=column)
            values[r, j] = v
    if len(values) < min_rows:
        raise ContextError(f"has {len(values)} data rows; the model reads the last {min_rows} (its "
                           "sequence_length), so the context needs at least that many", table.file)
    return values


def read_context(path, columns: list[str], min_rows: int = 1) -> np.ndarray:
    """The rows of a context CSV (like sku1_last_30days.csv) in the model's column order."""
    return context_values(read_context_table(path), columns, min_rows)


@contextlib.contextmanager
def quiet_tensorflow_warnings():
    """Raise the `tensorflow` logger to ERROR for the block. Keras predict() on the verification batches makes
    TensorFlow log "triggered tf.function retracing" WARNINGs: expected in a one-off conversion, and noise on the
    operator's terminal. Errors still show; the previous level is restored afterwards."""
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def import_pickle(path, out_dir, context=None, horizon: int = 31, log=print) -> dict:
    """Convert the pickle at `path` into out_dir/model.onnx + card.json; verify ONNX == Keras within 1e-4.

    The output folder, the pickle's path and the context's text are checked before TensorFlow is loaded; the
    context's columns and numbers once the pickle has said which columns and how many rows it reads."""
    from engine.forecast import export as E
    problem = E.out_dir_problem(out_dir)
    if problem:
        raise ModelError(f"output folder {out_dir}: {problem}")
    path = check_model_path(path)
    table = None if context is None else read_context_table(context)
    with quiet_tensorflow_warnings():
        obj = load_pickle(path)
        seq, cols = int(obj["sequence_length"]), [str(c) for c in obj["feature_columns"]]
        mean = np.asarray(obj["scaler"].mean_, dtype=float)
        scale = np.asarray(obj["scaler"].scale_, dtype=float)
        ctx = None if table is None else context_values(table, cols, min_rows=seq)
        fill = {c: float(m) for c, m in zip(cols, mean)}
        if ctx is not None:
            fill = {c: float(v) for c, v in zip(cols, ctx[-1])}
        try:
            model = combined_keras_model(obj)
        except (ValueError, TypeError) as exc:
            raise ModelError(f"its models do not combine into one graph ({exc.__class__.__name__}: "
                             f"{str(exc)[:200]})", path) from None
        proto = E.to_onnx(model, [("x", (seq, len(cols)))])

        # verification: the context's last window (if given) plus random rows around the scaler's distribution
        rng = np.random.default_rng(0)
        raw = mean + scale * rng.normal(size=(64, seq, len(cols)))
        if ctx is not None:
            raw = np.concatenate([ctx[None, -seq:], raw])
        want = keras_forecast(obj, raw)
    x = ((raw - mean) / scale).astype(np.float32)
    got = E.onnx_run(proto, {"x": x})[:, 0].astype(np.float64)
    diff = float(np.max(np.abs(got - want)))
    if not diff <= TOLERANCE:
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
    try:
        E.write_entry(out_dir, proto, card)
    except OSError as exc:
        raise ModelError(f"output folder {out_dir}: cannot be written ({exc.strerror or exc})") from None
    return card
