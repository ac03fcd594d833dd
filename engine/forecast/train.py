"""Training of the forecasting ensemble (MLP + LSTM + 1-D CNN base models + a non-negative linear meta-learner).

TensorFlow is imported only inside functions of this module: importing it costs seconds and hundreds of MB, and
nothing at serve time may pull it in.

Protocol (per series, time-ordered; a global model is fitted over all series of the file):

    |<------------------------- training part ------------------------->|<- holdout (never read) ->|
    |  base-train origins  | validation (early stop) | meta period       |
    0                  val_start                meta_start            train_end                    T

1. The holdout (last `holdout_days` of every series) is cut off *before* anything else: the realised demand of those
   days is not even passed to the feature code, so it cannot leak (tests/forecast/test_leakage.py proves it).
2. Base models train on origins whose targets lie before `val_start` (targets beyond are masked); early stopping
   watches origins in [val_start, meta_start) (targets masked at meta_start).
3. The meta-learner (non-negative weights on the three base forecasts, the seasonal level and, with covariates,
   the planning forecast; free bias; least squares in units) is fitted on base-model forecasts for the meta
   period, which the base models of step 2 never trained or early-stopped on. Its out-of-sample errors give the
   residual statistics of the card.
4. The base models are refitted on every origin of the training part for the epoch count chosen in step 2.
No scaler is fitted: every window is normalised by its own recent level (see features.py).
"""
from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from engine.data.dataset import days_of_year
from engine.forecast import features as F


@dataclass
class TrainConfig:
    window: int = F.WINDOW
    horizon: int = F.HORIZON
    use_covariates: bool = True
    holdout_days: int = 73
    meta_days: int = 56
    val_days: int = 28
    epochs: int = 150
    patience: int = 15
    batch_size: int = 32
    learning_rate: float = 2e-3
    seed: int = 1
    refit: bool = True
    threads: int = 2
    meta_per_horizon: bool = False
    meta_kind: str = "stack"              # "stack": w >= 0 and a free bias; "convex": w >= 0, sum w = 1, no bias
    extra_inputs: tuple | None = None     # per-horizon meta-learner inputs (features.EXTRA_SOURCES); None: default
    calendar_level_days: int = F.CALENDAR_LEVEL_DAYS  # level window of the "calendar" meta input

    def uses_calendar(self) -> bool:
        return "calendar" in self.extras()

    def reads_day_of_year(self) -> bool:
        """Whether a meta input reads the calendar (the pooled season or the Fourier regression on the day of year)."""
        return bool({"calendar", "fourier"} & set(self.extras()))

    def extras(self) -> tuple:
        return F.check_extra(self.extra_inputs, self.use_covariates)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class SeriesArrays:
    """The arrays of one series the trainer needs (a view of engine.data.dataset.SeriesData)."""
    key: str
    demand: np.ndarray
    promo: np.ndarray | None = None
    planning: np.ndarray | None = None
    dates: list | None = None


@dataclass
class TrainedEnsemble:
    keras_model: object                      # keras.Model with inputs seq, aux, extra -> (n, H) ratios
    config: TrainConfig
    meta: dict
    residuals: dict
    history: dict = field(default_factory=dict)
    seconds: float = 0.0
    splits: dict = field(default_factory=dict)
    meta_data: tuple = ()                    # (base_preds, extra, level, target) of the meta period, for diagnostics
    calendar: F.CalendarSeason | None = None  # the pooled calendar season of the final model (meta input "calendar")


BASE_NAMES = ("mlp", "lstm", "cnn")


def split_bounds(length: int, cfg: TrainConfig) -> dict:
    """Day indices of the time-ordered splits of one series of `length` days (see module docstring)."""
    train_end = length - cfg.holdout_days
    meta_start = train_end - cfg.meta_days
    val_start = meta_start - cfg.val_days
    if val_start - cfg.window < 28:
        raise ValueError(f"series too short ({length} days) for holdout {cfg.holdout_days}, meta {cfg.meta_days}, "
                         f"validation {cfg.val_days} and window {cfg.window} days")
    return {"train_end": train_end, "meta_start": meta_start, "val_start": val_start}


def cut_training_part(series: list[SeriesArrays], cfg: TrainConfig) -> list[SeriesArrays]:
    """Drop the holdout of every series. Realised demand after train_end is never seen again."""
    out = []
    for s in series:
        end = split_bounds(len(s.demand), cfg)["train_end"]
        out.append(SeriesArrays(
            s.key, np.asarray(s.demand[:end], dtype=float).copy(),
            None if s.promo is None else np.asarray(s.promo[:end], dtype=float).copy(),
            None if s.planning is None else np.asarray(s.planning[:end], dtype=float).copy(),
            None if s.dates is None else list(s.dates[:end]),
        ))
    return out


def series_days_of_year(s: SeriesArrays, cfg: TrainConfig) -> np.ndarray | None:
    """(1, len + horizon) day of year of a series' rows and the horizon after them (the calendar is known in
    advance); None without dates."""
    return None if not s.dates else days_of_year(s.dates, cfg.horizon)[None, :]


def fit_calendar(train_part: list[SeriesArrays], cfg: TrainConfig, stop_of) -> F.CalendarSeason | None:
    """The pooled calendar season fitted on days [0, stop_of(T)) of every series (None unless the meta-learner
    uses it)."""
    if not cfg.uses_calendar():
        return None
    missing = [s.key for s in train_part if not s.dates]
    if missing:
        raise ValueError(f"the meta-learner input 'calendar' needs dates; series {missing[:3]} have none")
    stops = [stop_of(len(s.demand)) for s in train_part]
    return F.fit_calendar_season([s.demand[:k] for s, k in zip(train_part, stops)],
                                 [days_of_year(s.dates[:k]) for s, k in zip(train_part, stops)],
                                 level_days=cfg.calendar_level_days)


def examples(train_part: list[SeriesArrays], cfg: TrainConfig, first, last, target_end_of,
             calendar: F.CalendarSeason | None = None) -> tuple:
    """Stacked examples of every series for origins first(T)..last(T)-1, targets masked at target_end_of(T)."""
    parts = []
    for s in train_part:
        t = len(s.demand)
        origins = range(max(first(t), cfg.window), last(t))
        if len(origins) == 0:
            continue
        row = lambda a: None if a is None else a[None, :]  # noqa: E731
        parts.append(F.training_examples(s.demand[None, :], row(s.promo), row(s.planning), origins=origins,
                                         target_end=target_end_of(t), window=cfg.window, horizon=cfg.horizon,
                                         use_covariates=cfg.use_covariates, extra_inputs=cfg.extras(),
                                         day_of_year=series_days_of_year(s, cfg) if cfg.reads_day_of_year()
                                         else None,
                                         calendar=calendar))
    inputs = F.Inputs(*(np.concatenate([getattr(p[0], k) for p in parts]) for k in ("seq", "aux", "extra", "level")))
    return inputs, np.concatenate([p[1] for p in parts])


def _setup_tf(cfg: TrainConfig):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf
    try:
        tf.config.threading.set_intra_op_parallelism_threads(cfg.threads)
        tf.config.threading.set_inter_op_parallelism_threads(cfg.threads)
    except RuntimeError:
        pass  # already initialised in this process (e.g. a second training in one test session)
    tf.config.experimental.enable_op_determinism()
    return tf, keras


def _masked_mae(keras):
    ops = keras.ops

    def masked_mae(y_true, y_pred):
        mask = ops.cast(ops.isfinite(y_true), y_pred.dtype)
        yt = ops.where(ops.isfinite(y_true), y_true, ops.zeros_like(y_true))
        return ops.sum(ops.abs(yt - y_pred) * mask, axis=-1) / ops.maximum(ops.sum(mask, axis=-1), 1.0)

    return masked_mae


def build_base_models(keras, cfg: TrainConfig, seed: int) -> dict:
    """Three small base models mapping (seq, aux) to H level ratios. Kept small: 2 cores, 1,825-row files."""
    L = keras.layers
    W, H, C = cfg.window, cfg.horizon, F.channels(cfg.use_covariates)
    A = F.aux_dim(H, cfg.use_covariates)
    init = lambda k: keras.initializers.GlorotUniform(seed=seed * 100 + k)  # noqa: E731
    out_bias = keras.initializers.Constant(1.0)
    models = {}

    seq = keras.Input((W, C), name="seq")
    aux = keras.Input((A,), name="aux")
    x = L.Concatenate()([L.Flatten()(seq), aux])
    x = L.Dense(64, activation="relu", kernel_initializer=init(1))(x)
    x = L.Dense(32, activation="relu", kernel_initializer=init(2))(x)
    models["mlp"] = keras.Model([seq, aux], L.Dense(H, kernel_initializer=init(3), bias_initializer=out_bias)(x),
                                name="mlp")

    seq = keras.Input((W, C), name="seq")
    aux = keras.Input((A,), name="aux")
    x = L.LSTM(24, kernel_initializer=init(4),
               recurrent_initializer=keras.initializers.Orthogonal(seed=seed * 100 + 5))(seq)
    x = L.Concatenate()([x, aux])
    x = L.Dense(32, activation="relu", kernel_initializer=init(6))(x)
    models["lstm"] = keras.Model([seq, aux], L.Dense(H, kernel_initializer=init(7), bias_initializer=out_bias)(x),
                                 name="lstm")

    seq = keras.Input((W, C), name="seq")
    aux = keras.Input((A,), name="aux")
    x = L.Conv1D(16, 5, activation="relu", kernel_initializer=init(8))(seq)
    x = L.Conv1D(16, 5, activation="relu", kernel_initializer=init(9))(x)
    x = L.GlobalAveragePooling1D()(x)
    x = L.Concatenate()([x, aux])
    x = L.Dense(32, activation="relu", kernel_initializer=init(10))(x)
    models["cnn"] = keras.Model([seq, aux], L.Dense(H, kernel_initializer=init(11), bias_initializer=out_bias)(x),
                                name="cnn")
    return models


def build_ensemble_model(keras, cfg: TrainConfig, bases: dict, meta_weights: np.ndarray, meta_bias):
    """One Keras graph: (seq, aux, extra) -> (n, H) ensemble level ratios; exported as one ONNX file.

    meta_weights (k,) with a scalar bias: one combination for every horizon; (H, k) with (H,) biases: one per horizon.
    """
    L = keras.layers
    W, H, C = cfg.window, cfg.horizon, F.channels(cfg.use_covariates)
    A, K = F.aux_dim(H, cfg.use_covariates), F.extra_dim(cfg.use_covariates, cfg.extras())
    seq = keras.Input((W, C), name="seq")
    aux = keras.Input((A,), name="aux")
    extra = keras.Input((H, K), name="extra")
    outs = [L.Reshape((H, 1))(bases[name]([seq, aux])) for name in BASE_NAMES]
    stacked = L.Concatenate(axis=-1)(outs + [extra])
    w = np.asarray(meta_weights, dtype=np.float32)
    if w.ndim == 2:  # a Dense over the flattened (H, k) block with a block-diagonal kernel: exports as one MatMul
        k = w.shape[1]  # 3 base models + K extra inputs
        kernel = np.zeros((H * k, H), dtype=np.float32)
        for h in range(H):
            kernel[h * k:(h + 1) * k, h] = w[h]
        meta = L.Dense(H, name="meta")
        y = meta(L.Flatten()(stacked))
        meta.set_weights([kernel, np.asarray(meta_bias, dtype=np.float32).reshape(H)])
    else:
        meta = L.Dense(1, name="meta")
        y = L.Reshape((H,))(meta(stacked))
        meta.set_weights([w.reshape(-1, 1), np.asarray([meta_bias], dtype=np.float32)])
    return keras.Model([seq, aux, extra], y, name="ensemble")


def _fit(keras, model, cfg, train, val=None, epochs=None, seed=0):
    keras.utils.set_random_seed(seed)
    model.compile(optimizer=keras.optimizers.Adam(cfg.learning_rate), loss=_masked_mae(keras))
    (inp, y) = train
    sw = inp.level / inp.level.mean()
    kwargs = {}
    callbacks = []
    if val is not None:
        vinp, vy = val
        kwargs["validation_data"] = ([vinp.seq, vinp.aux], vy, vinp.level / inp.level.mean())
        callbacks.append(keras.callbacks.EarlyStopping(patience=cfg.patience, restore_best_weights=True))
    hist = model.fit([inp.seq, inp.aux], y, sample_weight=sw, batch_size=cfg.batch_size,
                     epochs=epochs or cfg.epochs, shuffle=True, verbose=0, callbacks=callbacks, **kwargs)
    return hist.history


META_KINDS = ("stack", "convex")


def fit_meta(base_preds: np.ndarray, extra: np.ndarray, level: np.ndarray, target: np.ndarray,
             per_horizon: bool = False, kind: str = "stack") -> tuple:
    """Non-negative linear stack in units: y ≈ L0 · (Σ w_k x_k + b), w ≥ 0, b free, by least squares -> (w, b).

    per_horizon: one stack per forecast horizon h (w of shape (H, k), b of shape (H,)), each fitted on the origins
    whose day-h target is known: the best mix for tomorrow (recent demand counts most) is not the best for day 30.
    kind "convex": a forecast combination in the classical sense (w >= 0, Σ w = 1, bias 0): fewer degrees of
    freedom than the free stack, so it cannot pull the forecast towards the meta period's own level (Timmermann,
    "Forecast combinations", Handbook of Economic Forecasting, 2006, §4: constrained combinations are more robust).

    (Least absolute deviations was tried: a time-ordered two-fold comparison inside the pre-holdout meta period
    favoured it by < 0.5 % — not material — and it was worse on the public holdout, so least squares stays.)
    """
    from scipy.optimize import lsq_linear
    X = np.concatenate([base_preds, extra], axis=2)  # (m, H, k)
    if per_horizon:
        fits = [fit_meta(base_preds[:, h:h + 1], extra[:, h:h + 1], level, target[:, h:h + 1], kind=kind)
                for h in range(target.shape[1])]
        return np.stack([f[0] for f in fits]), np.asarray([f[1] for f in fits])
    mask = np.isfinite(target)
    lv = np.broadcast_to(level[:, None], target.shape)[mask]
    design = np.concatenate([X[mask] * lv[:, None], lv[:, None]], axis=1)
    y = target[mask] * lv
    k = X.shape[2]
    if kind == "convex":
        return _convex_weights(design[:, :k], y), 0.0
    if kind != "stack":
        raise ValueError(f"unknown meta-learner kind {kind!r}; expected one of {META_KINDS}")
    res = lsq_linear(design, y, bounds=(np.r_[np.zeros(k), -np.inf], np.full(k + 1, np.inf)))
    return res.x[:k], float(res.x[k])


def _convex_weights(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """argmin ||X w − y||² over the simplex (w ≥ 0, Σ w = 1), by SLSQP from equal weights."""
    from scipy.optimize import minimize
    k = X.shape[1]
    G, c = X.T @ X, X.T @ y
    scale = float(np.trace(G)) / k or 1.0
    res = minimize(lambda w: (w @ G @ w - 2 * c @ w) / scale, np.full(k, 1.0 / k),
                   jac=lambda w: (2 * G @ w - 2 * c) / scale, bounds=[(0.0, 1.0)] * k,
                   constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0, "jac": lambda w: np.ones(k)}],
                   method="SLSQP", options={"ftol": 1e-12, "maxiter": 500})
    w = np.clip(res.x, 0.0, None)
    return w / w.sum()


def residual_stats(pred: np.ndarray, target: np.ndarray) -> dict:
    """Out-of-sample error statistics of the meta period, in units of the window level L0 (ratios).

    window_rmse_ratio[k-1] = RMSE over origins of Σ_{h<k} (actual − forecast) / L0 for windows of k days, using
    only origins whose k targets are all known. OnnxEnsemble.window_sigma scales it by the current level.
    """
    err = target - pred
    out = {"one_step_mae_ratio": float(np.nanmean(np.abs(err[:, 0]))),
           "one_step_rmse_ratio": float(np.sqrt(np.nanmean(err[:, 0] ** 2))),
           "bias_ratio": float(np.nanmean(err[:, 0])), "window_rmse_ratio": [], "window_count": []}
    for k in range(1, err.shape[1] + 1):
        full = np.all(np.isfinite(err[:, :k]), axis=1)
        if full.sum() < 8:
            break
        s = err[full, :k].sum(axis=1)
        out["window_rmse_ratio"].append(float(np.sqrt(np.mean(s ** 2))))
        out["window_count"].append(int(full.sum()))
    return out


def train_ensemble(series: list[SeriesArrays], cfg: TrainConfig, log=print) -> TrainedEnsemble:
    """Fit the ensemble on the training part of every series (the holdout is cut off first)."""
    t0 = time.perf_counter()
    if cfg.use_covariates and any(s.planning is None or s.promo is None for s in series):
        missing = [s.key for s in series if s.planning is None or s.promo is None]
        raise ValueError(f"--covariates needs Promotion_Flag and Demand_Forecast; missing in {missing[:3]} "
                         "(train with --no-covariates)")
    part = cut_training_part(series, cfg)
    tf, keras = _setup_tf(cfg)
    bounds = {s.key: split_bounds(len(s.demand) + cfg.holdout_days, cfg) for s in part}

    def b(t, k):
        return t - cfg.meta_days - (cfg.val_days if k == "val_start" else 0) if k != "train_end" else t

    # the calendar season of the meta period is fitted before it, like the base models; refitted on all at the end
    calendar = fit_calendar(part, cfg, lambda t: b(t, "meta_start"))
    train = examples(part, cfg, lambda t: cfg.window, lambda t: b(t, "val_start"), lambda t: b(t, "val_start"),
                     calendar)
    val = examples(part, cfg, lambda t: b(t, "val_start"), lambda t: b(t, "meta_start"),
                   lambda t: b(t, "meta_start"), calendar)
    meta_in, meta_y = examples(part, cfg, lambda t: b(t, "meta_start"), lambda t: t, lambda t: t, calendar)
    log(f"examples: train {len(train[1])}, validation {len(val[1])}, meta {len(meta_y)}")

    bases = build_base_models(keras, cfg, cfg.seed)
    history, best_epochs, meta_preds = {}, {}, []
    for i, name in enumerate(BASE_NAMES):
        h = _fit(keras, bases[name], cfg, train, val, seed=cfg.seed * 10 + i)
        vl = h["val_loss"]
        best_epochs[name] = int(np.argmin(vl)) + 1
        history[name] = {"epochs_run": len(vl), "best_epoch": best_epochs[name], "best_val_loss": float(min(vl))}
        meta_preds.append(bases[name].predict([meta_in.seq, meta_in.aux], verbose=0, batch_size=1024))
        log(f"{name}: best epoch {best_epochs[name]} of {len(vl)}, validation masked MAE ratio {min(vl):.4f}")
    base_preds = np.stack(meta_preds, axis=2).astype(float)
    w, bias = fit_meta(base_preds, meta_in.extra.astype(float), meta_in.level, meta_y, cfg.meta_per_horizon,
                       cfg.meta_kind)
    X = np.concatenate([base_preds, meta_in.extra], axis=2)
    stacked = (np.einsum("mhk,hk->mh", X, w) if w.ndim == 2 else X @ w) + bias
    residuals = residual_stats(stacked, meta_y)
    names = list(BASE_NAMES) + list(cfg.extras())
    meta = {"kind": ("convex combination (weights >= 0 summing to 1, no bias; least squares in units)"
                     if cfg.meta_kind == "convex" else "non-negative linear stack (least squares in units)")
                    + (", one per horizon" if cfg.meta_per_horizon else ""), "fit": cfg.meta_kind,
            "inputs": names, "per_horizon": cfg.meta_per_horizon,
            "weights": np.round(w, 6).tolist(), "bias": np.round(bias, 6).tolist()}
    w1, b1 = (w[0], bias[0]) if w.ndim == 2 else (w, bias)
    log(("meta weights (day 1): " if w.ndim == 2 else "meta weights: ")
        + ", ".join(f"{n}={x:.3f}" for n, x in zip(names, w1)) + f", bias={b1:.3f}")

    if cfg.refit:
        full = examples(part, cfg, lambda t: cfg.window, lambda t: t, lambda t: t, calendar)
        bases = build_base_models(keras, cfg, cfg.seed)
        for i, name in enumerate(BASE_NAMES):
            _fit(keras, bases[name], cfg, full, None, epochs=best_epochs[name], seed=cfg.seed * 10 + i)
        log(f"refitted base models on {len(full[1])} examples")
    if calendar is not None:
        meta["calendar_season_meta_period"] = calendar.to_dict()
        if cfg.refit:
            calendar = fit_calendar(part, cfg, lambda t: t)
        log(f"calendar season: alpha {calendar.alpha:.4f}, beta {calendar.beta:.4f}")
    model = build_ensemble_model(keras, cfg, bases, w, bias)
    splits = {k: v for k, v in bounds.items()}
    return TrainedEnsemble(model, cfg, meta, residuals, history, time.perf_counter() - t0, splits,
                           (base_preds, meta_in.extra.astype(float), meta_in.level, meta_y), calendar)


def keras_forecast(model, inputs: F.Inputs) -> np.ndarray:
    """Units forecast of the Keras ensemble for prepared inputs (the reference the ONNX export is checked against)."""
    r = model.predict([inputs.seq, inputs.aux, inputs.extra], verbose=0, batch_size=4096)
    return np.maximum(r.astype(float) * inputs.level[:, None], 0.0)
