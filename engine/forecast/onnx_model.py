"""Serving of trained models (models/NAME/model.onnx + card.json) with onnxruntime — no TensorFlow, no pickle.

Two kinds of entries, told apart by the card's "kind":
- "ensemble": trained by `python -m engine train` (MLP + LSTM + 1-D CNN + linear meta-learner in one ONNX graph,
  inputs built by engine.forecast.features; direct multi-horizon output of H level ratios).
- "legacy": the original app's pickle converted by `python -m engine import-pkl`. It forecasts one day from the last
  30 rows of six columns; the horizon is filled recursively (each forecast is appended as that day's demand). The
  columns the simulator does not have (Inventory_Level, Order_Quantity, Unit_Cost, Unit_Price) are held at the
  values stored in the card (the last row of the context file given at import, else the scaler's means), and the
  Demand_Forecast column is the planning covariate when given, else the demand itself.

`window_sigma`: the contract's rolling-origin estimate (base.py) when the context has enough origins; when the
context is too short for 8 full windows it uses the out-of-sample residuals stored in the card (the meta period of
training, expressed as a ratio to the window level) scaled by the current level, instead of the σ₁·√window
heuristic. Documented in the card's "residuals" section.
"""
from __future__ import annotations

import hashlib
import json
import math
import threading
from pathlib import Path

import numpy as np

from engine.forecast import features as F
from engine.forecast.base import Covariates, Forecaster, as_2d
from engine.forecast.model_names import sole_meta_input, true_label

CARD_FILE = "card.json"
KINDS = ("ensemble", "legacy", "global")  # global: engine.forecast.global_model


class ModelError(ValueError):
    """A model entry that cannot be served; the message names the file and what is wrong with it."""

    def __init__(self, message: str, file=None) -> None:
        self.file = None if file is None else str(file)
        super().__init__(f"model file {file}: {message}" if file is not None else message)


def read_card(folder) -> dict:
    """The parsed and checked card.json of a model folder (ModelError naming the file otherwise)."""
    path = Path(folder) / CARD_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelError("is missing", path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"cannot be read ({exc.__class__.__name__}: {exc})", path) from None
    try:
        card = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelError(f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})", path) from None
    if not isinstance(card, dict):
        raise ModelError("must hold a JSON object", path)
    if card.get("format") != "sim-forecast-card":
        raise ModelError(f"is not a model card (format {card.get('format')!r})", path)
    if card.get("version") != 1:
        raise ModelError(f"has unsupported card version {card.get('version')!r} (this code reads version 1)", path)
    if card.get("kind") not in KINDS:
        raise ModelError(f"has unknown kind {card.get('kind')!r}; expected one of {KINDS}", path)
    required = {"ensemble": ("window", "horizon", "use_covariates", "onnx"),
                "legacy": ("window", "horizon", "onnx", "feature_columns", "scaler", "fill_values"),
                "global": ("window", "horizon", "onnx", "quantiles", "members", "meta")}[card["kind"]]
    for key in required:
        if key not in card:
            raise ModelError(f"lacks the field {key!r}", path)
    try:
        int(card["window"]), int(card["horizon"])
    except (TypeError, ValueError):
        raise ModelError(f"has a non-integer window/horizon ({card['window']!r}, {card['horizon']!r})", path) from None
    if not isinstance(card["onnx"], str) or "/" in card["onnx"] or "\\" in card["onnx"] or card["onnx"].startswith("."):
        raise ModelError(f"names an invalid ONNX file {card['onnx']!r}", path)
    return card


def _session(path: Path, batch_dims: tuple = ()):
    """An onnxruntime session on one thread; batch_dims: names of free dimensions fixed to 1 (the single-row graph:
    onnxruntime then folds the shape arithmetic tf2onnx emits for a dynamic batch)."""
    import onnxruntime as ort
    if not path.is_file():
        raise ModelError("is missing", path)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1  # single-row calls are fastest on one thread; workers run in parallel anyway
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    for name in batch_dims:
        opts.add_free_dimension_override_by_name(name, 1)
    try:
        return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types for corrupt files
        msg = str(exc).splitlines()[0][:200] if str(exc) else exc.__class__.__name__
        raise ModelError(f"is not a valid ONNX model ({msg})", path) from None


class SingleRowRunner:
    """The one-series forecast (one per simulated day and session) without per-call allocation.

    Inputs are written in place into float32 arrays bound once to onnxruntime (IOBinding), and the output lands in
    a bound array, on a session whose batch dimension is fixed to 1. One runner per thread (buffers are not shared).
    """

    def __init__(self, session, output: str, shapes: dict, out_shape: tuple) -> None:
        import onnxruntime as ort
        self.sess = session
        self.arrays = {name: np.zeros((1, *shape), np.float32) for name, shape in shapes.items()}
        self.out = np.zeros((1, *out_shape), np.float32)
        self.binding = session.io_binding()
        self._values = {name: ort.OrtValue.ortvalue_from_numpy(arr) for name, arr in self.arrays.items()}
        for name, value in self._values.items():
            self.binding.bind_ortvalue_input(name, value)
        self._out_value = ort.OrtValue.ortvalue_from_numpy(self.out)
        self.binding.bind_ortvalue_output(output, self._out_value)
        a = self.arrays
        self.bufs = F.Inputs(a["seq"], a["aux"], a["extra"], np.ones(1)) if "seq" in a else None

    def run(self) -> np.ndarray:
        """The output (1, ...) for the inputs currently in the bound arrays."""
        self.sess.run_with_iobinding(self.binding)
        return self.out


def model_identity(folder: Path, card: dict) -> str:
    """sha1 of a served model's graph bytes and its card: a retrained model in the same folder is a new model."""
    onnx = Path(folder) / str(card.get("onnx") or "")
    h = hashlib.sha1(json.dumps(card, sort_keys=True).encode())
    if onnx.is_file():
        h.update(onnx.read_bytes())
    return h.hexdigest()


class OnnxEnsemble(Forecaster):
    """A models/NAME entry served with onnxruntime. Use `OnnxEnsemble.load(folder)`."""

    label = "Ensemble (ONNX)"
    caches_window_errors = True  # immutable once loaded; the registry keeps one per model and card version

    def __init__(self, folder: Path, card: dict, session) -> None:
        self.folder = Path(folder)
        self.card = card
        self.kind = card["kind"]
        self.name = f"ensemble:{self.folder.name}"
        self.identity = model_identity(self.folder, card)
        self.window = int(card["window"])
        self.horizon = int(card["horizon"])
        self.min_history = self.window
        self.uses_covariates = bool(card.get("use_covariates", False))
        self.extra_inputs = None
        self.calendar = None
        if self.kind == "ensemble":  # cards before "extra_inputs" existed: the meta inputs after the 3 base models
            names = card.get("extra_inputs") or (card.get("meta") or {}).get("inputs", [])[3:] or None
            try:
                self.extra_inputs = F.check_extra(names, self.uses_covariates)
                if "calendar" in self.extra_inputs:
                    if not isinstance(card.get("calendar_season"), dict):
                        raise ValueError("the meta-learner input 'calendar' needs the card's 'calendar_season'")
                    self.calendar = F.CalendarSeason.from_dict(card["calendar_season"])
            except (ValueError, TypeError, KeyError) as exc:
                raise ModelError(str(exc), self.folder / CARD_FILE) from None
        # the "calendar" and "fourier" meta inputs read the day of year of the history and the horizon
        self.uses_calendar = self.calendar is not None or "fourier" in (self.extra_inputs or ())
        self.requires_planning = self.uses_covariates
        self._sess = session
        self._sess_one = None          # batch-1 session, made on the first single-row forecast (see _runner)
        self._local = threading.local()
        self._inputs = [i.name for i in session.get_inputs()]
        self._output = session.get_outputs()[0].name
        res = card.get("residuals") or {}
        self._window_rmse_ratio = [float(x) for x in res.get("window_rmse_ratio", [])]
        self._sole_input = sole_meta_input(card) if self.kind == "ensemble" else None
        if self.kind == "legacy":
            sc = card["scaler"]
            self._mean = np.asarray(sc["mean"], dtype=float)
            self._scale = np.asarray(sc["scale"], dtype=float)
            self._cols = list(card["feature_columns"])
            self._fill = np.asarray([float(card["fill_values"].get(c, m)) for c, m in zip(self._cols, self._mean)])
            self._out_mean = float(card.get("output_mean", 0.0))
            self._out_scale = float(card.get("output_scale", 1.0))

    @classmethod
    def load(cls, folder) -> "OnnxEnsemble":
        folder = Path(folder)
        card = read_card(folder)
        onnx_path = folder / card["onnx"]
        sess = _session(onnx_path)
        got = sorted(i.name for i in sess.get_inputs())
        want = sorted(["seq", "aux", "extra"] if card["kind"] == "ensemble" else ["x"])
        if got != want:
            raise ModelError(f"has inputs {got}, the card's kind {card['kind']!r} needs {want}", onnx_path)
        model = cls(folder, card, sess)
        model._self_check(onnx_path)
        return model

    def _self_check(self, onnx_path) -> None:
        """One forecast on a flat history, so a model that loads but cannot run fails at load time; with a sole
        meta input, the graph must agree with it on a seasonal history (else the graph serves)."""
        if self._sole_input is not None and not self._sole_input_agrees():
            self._sole_input = None
        t = max(self.window, 1)
        demand = np.full((1, t), 10.0)
        cov = None
        if self.uses_covariates:
            cov = Covariates(promo=np.zeros((1, t + self.horizon)), planning=np.full((1, t + self.horizon), 10.0))
        try:
            out = self.predict(demand, cov)
        except ModelError:
            raise
        except Exception as exc:  # noqa: BLE001 - shape/type mismatches between card and graph
            raise ModelError(f"does not run with the card's settings ({exc.__class__.__name__}: {exc})",
                             onnx_path) from None
        if out.shape != (1, self.horizon) or not np.all(np.isfinite(out)):
            raise ModelError(f"returned an invalid forecast (shape {out.shape})", onnx_path)

    def _sole_input_agrees(self) -> bool:
        """Whether the graph's forecast equals its sole meta input's (to float32 precision) on a seasonal history
        with promotions: the card's weights describe the graph that was exported with them."""
        t = max(self.window, 400)
        days = np.arange(t + self.horizon)
        wave = 20.0 + 8.0 * np.sin(2 * np.pi * days / 365.25) + 3.0 * (days % 7 == 5)
        demand = wave[None, :t]
        doy = ((days + 30) % 365 + 1)[None, :].astype(np.float64)
        promo = (days % 11 == 0)[None, :].astype(np.float64) if self.uses_covariates else None
        planning = wave[None, :] if self.uses_covariates else None
        try:
            inp = F.build_inputs(demand, promo, planning, window=self.window, horizon=self.horizon,
                                 use_covariates=self.uses_covariates, extra_inputs=self.extra_inputs,
                                 day_of_year=doy, calendar=self.calendar)
            graph = self._sess.run([self._output], inp.feeds())[0].astype(np.float64)
        except Exception:  # noqa: BLE001 - the flat self-check that follows reports a graph that cannot run
            return False
        sole = F.input_forecast(inp, self._sole_input)
        graph = graph * inp.level[:, None]
        return graph.shape == sole.shape and bool(np.allclose(graph, sole, rtol=1e-5, atol=1e-5))

    # -- forecasting -----------------------------------------------------------------------------------------------
    def predict(self, demand, covariates: Covariates | None = None) -> np.ndarray:
        demand = as_2d(demand)
        if demand.shape[1] < self.min_history:
            raise ValueError(f"{self.name} needs at least {self.min_history} days of history, got {demand.shape[1]}")
        if self.kind == "legacy":
            return self._predict_legacy(demand, covariates)
        promo = planning = doy = None
        if self.uses_calendar and covariates is not None:
            doy = covariates.day_of_year
        if self.uses_covariates:
            if covariates is None or covariates.promo is None or covariates.planning is None:
                raise ValueError(f"{self.name} was trained with covariates: it needs the promotion flag and the "
                                 "planning forecast (Demand_Forecast) for the coming days")
            promo, planning = covariates.promo, covariates.planning
        if self._sole_input is not None:  # the meta-learner's one input, in float64 (sole_meta_input)
            inp = F.build_inputs(demand, promo, planning, window=self.window, horizon=self.horizon,
                                 use_covariates=self.uses_covariates, extra_inputs=self.extra_inputs,
                                 day_of_year=doy, calendar=self.calendar)
            out = F.input_forecast(inp, self._sole_input)
            return np.maximum(out, 0.0, out=out)
        runner = self._runner() if demand.shape[0] == 1 else None
        if runner is not None:
            inp = F.build_inputs(demand, promo, planning, window=self.window, horizon=self.horizon,
                                 use_covariates=self.uses_covariates, extra_inputs=self.extra_inputs,
                                 out=runner.bufs, day_of_year=doy, calendar=self.calendar)
            ratio = runner.run()
        else:
            inp = F.build_inputs(demand, promo, planning, window=self.window, horizon=self.horizon,
                                 use_covariates=self.uses_covariates, extra_inputs=self.extra_inputs,
                                 day_of_year=doy, calendar=self.calendar)
            ratio = self._sess.run([self._output], inp.feeds())[0]
        out = np.multiply(ratio, inp.level[:, None])  # float64 (level is float64)
        return np.maximum(out, 0.0, out=out)

    def _runner(self) -> SingleRowRunner | None:
        """This thread's single-row runner; None when the graph has free dimensions besides the batch."""
        runner = getattr(self._local, "runner", None)
        if runner is None:
            shapes = {i.name: tuple(i.shape[1:]) for i in self._sess.get_inputs()}
            out_shape = tuple(self._sess.get_outputs()[0].shape[1:])
            if not all(isinstance(d, int) for shape in (*shapes.values(), out_shape) for d in shape):
                self._local.runner = False
                return None
            if self._sess_one is None:
                dims = tuple(i.shape[0] for i in self._sess.get_inputs() if isinstance(i.shape[0], str))
                self._sess_one = _session(self.folder / self.card["onnx"], dims)
            runner = SingleRowRunner(self._sess_one, self._output, shapes, out_shape)
            self._local.runner = runner
        return runner or None

    def _legacy_rows(self, demand: np.ndarray, planning: np.ndarray | None) -> np.ndarray:
        """(n, window, 6) raw feature rows of the original model for the last `window` days."""
        n, t = demand.shape
        w = self.window
        raw = np.broadcast_to(self._fill, (n, w, len(self._cols))).copy()
        for j, col in enumerate(self._cols):
            if col == "Units_Sold":
                raw[:, :, j] = demand[:, t - w:]
            elif col == "Demand_Forecast":
                raw[:, :, j] = demand[:, t - w:] if planning is None else planning[:, t - w:t]
        return raw

    def forecast_raw(self, raw: np.ndarray) -> np.ndarray:
        """One-step forecast (n,) of the legacy model from raw (unscaled) rows (n, window, 6) — as the original."""
        centred = np.asarray(raw, dtype=float) - self._mean
        runner = self._runner() if centred.shape[0] == 1 else None
        if runner is not None:  # the single-row fast path (see SingleRowRunner)
            np.divide(centred, self._scale, out=runner.arrays["x"], casting="same_kind")
            y = runner.run()[:, 0].astype(np.float64)
        else:
            y = self._sess.run([self._output], {"x": (centred / self._scale).astype(np.float32)})[0][:, 0]
            y = y.astype(np.float64)
        return y * self._out_scale + self._out_mean

    def _predict_legacy(self, demand: np.ndarray, covariates: Covariates | None) -> np.ndarray:
        n, t = demand.shape
        planning = None if covariates is None else covariates.planning
        if planning is not None and planning.shape[1] < t + self.horizon:
            planning = None
        hist = demand[:, t - self.window:].copy()
        plan_hist = None if planning is None else planning[:, t - self.window:t].copy()
        out = np.empty((n, self.horizon))
        for h in range(self.horizon):
            raw = self._legacy_rows(hist, plan_hist)
            f = np.maximum(self.forecast_raw(raw), 0.0)
            out[:, h] = f
            hist = np.concatenate([hist[:, 1:], f[:, None]], axis=1)
            if plan_hist is not None:
                plan_hist = np.concatenate([plan_hist[:, 1:], planning[:, t + h:t + h + 1]], axis=1)
        return out

    # -- uncertainty -----------------------------------------------------------------------------------------------
    def window_sigma(self, demand, covariates: Covariates | None, window: int) -> float:
        y = as_2d(demand)[:1]
        t = y.shape[1]
        full_windows = t - self.min_history - window + 1
        if full_windows >= 8 or not self._window_rmse_ratio or t < self.window:
            return super().window_sigma(y, covariates, window)
        level = float(F.level_of(y, self.window)[0])
        table = self._window_rmse_ratio
        if window <= len(table):
            ratio = table[window - 1]
        else:  # beyond the stored table: grow with sqrt(window) from the last entry (heuristic, documented)
            ratio = table[-1] * math.sqrt(window / len(table))
        return float(level * ratio)

    def describe(self) -> dict:
        """What the app shows about the model: kind, training data, backtest table."""
        c = self.card
        return {"name": self.name, "label": true_label(self.folder.name, c), "kind": self.kind,
                "window": self.window, "horizon": self.horizon,
                "uses_covariates": self.uses_covariates, "training": c.get("training"),
                "backtest": c.get("backtest"), "description": c.get("description")}
