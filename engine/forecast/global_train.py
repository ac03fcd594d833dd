"""Training of the global quantile model: members fitted across every series of a file, a meta-learner fitted on
days no member saw, exported to ONNX (engine.forecast.global_model serves it without TensorFlow or scikit-learn).

Periods of each series (positions; the calendar is the series' own): [0, T − holdout − meta) trains the members
(every window they learn from ends before it ends), [T − holdout − meta, T − holdout) fits the meta-learner (origins
whose window ends inside it), the last `holdout` days are never read (the backtest scores them).

Members (one row per series, origin and days summed d ∈ 1..31; inputs and target of engine.forecast.global_features):
- trees: one scikit-learn HistGradientBoostingRegressor per quantile level (quantile loss; Friedman 2001, as the
  M5 accuracy winners' LightGBM) and one with squared error for the mean (the point forecasts); origins every
  `origin_step` days, `draws` random d per origin and series.
- mlp / cnn / lstm (optional, TensorFlow): the seed's three network kinds on the same rows (cnn and lstm also read the
  last 56 days / s), K outputs made non-crossing by a cumulative softplus (q_1 = a_1, q_k = q_(k−1) + softplus(a_k)),
  trained on the summed pinball loss.
Meta-learner, per quantile level q: convex member weights w and a shift δ minimising the pinball loss of
Σ_m w_m·q̂_m + δ on the meta period — a linear programme (Koenker & Bassett 1978's LP form of quantile regression,
solved with scipy's HiGHS). δ calibrates the level on days no member saw. A member whose weight is 0 at every level
is dropped from the exported entry (the card names it with its weight 0).
"""
from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from engine.forecast import global_features as G

__all__ = ["GlobalConfig", "train_global", "panel_of", "NETWORKS", "available_cores"]

QUANTILES = (0.5, 0.75, 0.9, 0.95, 0.99)
NETWORKS = ("mlp", "cnn", "lstm")


def available_cores() -> int:
    """The cores this process may run on (the training's default threads on the command line)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@dataclass
class GlobalConfig:
    quantiles: tuple = QUANTILES
    max_days: int = G.MAX_DAYS
    holdout_days: int = 56
    meta_days: int = 56
    first_origin: int = 56      # origins need this much history
    origin_step: int = 2
    draws: int = 2
    meta_draws: int = 2
    max_iter: int = 200
    learning_rate: float = 0.05
    max_leaf_nodes: int = 31
    min_samples_leaf: int = 100
    networks: tuple = ()
    network_rows: int = 40_000
    network_epochs: int = 4
    threads: int = 1
    seed: int = 1
    members: list = field(default_factory=list)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("members", None)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


@dataclass
class Panel:
    """Series of one length and calendar stacked: demand (n, T), day numbers (1, T + H), price/promo (n, T + H)."""
    keys: list
    demand: np.ndarray
    day_number: np.ndarray | None
    price: np.ndarray | None
    promo: np.ndarray | None
    dates: list | None


def _pad(a: np.ndarray, extra: int) -> np.ndarray:
    return np.concatenate([a, np.repeat(a[:, -1:], extra, axis=1)], axis=1)


def panel_of(series_list, max_days: int = G.MAX_DAYS) -> list[Panel]:
    """Group series (SeriesData-like: key, demand, dates, promo, price) into stacked panels."""
    from engine.forecast.series_covariates import day_numbers
    groups: dict = {}
    for s in series_list:
        groups.setdefault((len(s.demand), tuple(s.dates) if s.dates else None), []).append(s)
    uses_promo = any(np.any(np.asarray(s.promo) != 0) for s in series_list if s.promo is not None)
    uses_price = all(getattr(s, "price", None) is not None for s in series_list)
    out = []
    for (_, dates), group in groups.items():
        D = np.stack([np.asarray(s.demand, dtype=np.float64) for s in group])
        dn = day_numbers(list(dates), max_days) if dates else None
        price = _pad(np.stack([s.price for s in group]), max_days) if uses_price else None
        promo = _pad(np.stack([np.asarray(s.promo, dtype=np.float64) for s in group]), max_days) \
            if uses_promo else None
        out.append(Panel([s.key for s in group], D, dn, price, promo, list(dates) if dates else None))
    return out


def _rows(panel: Panel, origins, end: int, draws: int, max_days: int, rng, with_seq: bool):
    """(X, seq or None, y) for the origins, `draws` random days-summed per series and origin, windows ending ≤ end."""
    D = panel.demand
    n = D.shape[0]
    csum = np.concatenate([np.zeros((n, 1)), np.cumsum(D, axis=1)], axis=1)
    Xs, Ss, ys = [], [], []
    for o in origins:
        room = end - o
        if room < 1:
            continue
        d = rng.integers(1, min(max_days, room) + 1, size=(n, draws))
        X, s = G.build_features(D[:, :o], d, panel.day_number, panel.price, panel.promo)
        rows = np.arange(n)[:, None]
        y = (csum[rows, o + d] - csum[:, o:o + 1]) / (d * s[:, None])
        Xs.append(X)
        ys.append(y.ravel())
        if with_seq:
            Ss.append(G.sequence_input(D[:, :o], s, draws))
    if not Xs:
        return None, None, None
    return np.concatenate(Xs), (np.concatenate(Ss) if with_seq else None), np.concatenate(ys).astype(np.float64)


def _fit_trees(X, y, cfg: GlobalConfig, log):
    """The quantile and mean trees on cfg.threads threads. scikit-learn loads its OpenMP runtime on import, so it is
    imported before the limit is entered: a limit entered first missed it and every fit ran on all cores (two
    trainings side by side took 4-5 x longer each, spinning on each other's cores).

    The quantile trees learn the scaled target unweighted: their loss is then the scaled pinball loss the decisions
    are judged by. The mean model makes the point forecasts, judged in units (MAE, RMSE of the sums): a scaled error
    e is s·e units a day, so its rows are weighted by s² and its squared error is the squared error in units. On the
    M5 file, cuts 0 / 56 / 252 (bench/recorded/global_quantiles.md), against unweighted rows: MAE 2.273 → 2.217,
    2.008 → 1.948, 2.381 → 2.351; 8-day-sum RMSE −7.3 / −2.7 / −3.3 %."""
    from sklearn.ensemble import HistGradientBoostingRegressor
    from threadpoolctl import threadpool_limits
    models = []
    specs = [("quantile", q) for q in cfg.quantiles] + [("squared_error", None)]
    with threadpool_limits(cfg.threads):
        for loss, q in specs:
            t0 = time.time()
            kw = {"quantile": q} if q is not None else {}
            m = HistGradientBoostingRegressor(loss=loss, max_iter=cfg.max_iter, learning_rate=cfg.learning_rate,
                                              max_leaf_nodes=cfg.max_leaf_nodes,
                                              min_samples_leaf=cfg.min_samples_leaf, early_stopping=False,
                                              random_state=cfg.seed, **kw)
            m.fit(X, y, sample_weight=None if q is not None else _units_weight(X))
            models.append(m)
            log(f"trees {'mean' if q is None else f'q={q}'}: {time.time() - t0:.1f} s")
    return models


def _units_weight(X: np.ndarray) -> np.ndarray:
    """s² of each row (s = exp(log_scale), the series' scale at the row's origin), normalised to mean 1."""
    w = np.exp(2.0 * X[:, G.FEATURES.index("log_scale")].astype(np.float64))
    return w / w.mean()


def _pinball_tf(quantiles):
    import tensorflow as tf
    q = tf.constant(np.asarray(quantiles, dtype=np.float32))[None, :]

    def loss(y_true, y_pred):
        e = y_true - y_pred
        return tf.reduce_mean(tf.reduce_sum(tf.maximum(q * e, (q - 1.0) * e), axis=1))
    return loss


def _network(kind: str, n_features: int, k: int, seed: int):
    """The network member; its feature input is standardised outside the graph (mean/std on the card: a Keras
    Normalization layer's statistics would become graph inputs in the ONNX export)."""
    import keras
    from keras import layers
    keras.utils.set_random_seed(seed)
    feats = keras.Input((n_features,), name="X")
    h = feats
    inputs = [feats]
    if kind in ("cnn", "lstm"):
        seq = keras.Input((G.SEQ_DAYS, 1), name="seq")
        inputs.append(seq)
        if kind == "cnn":
            z = layers.Conv1D(16, 7, activation="relu")(seq)
            z = layers.Conv1D(16, 7, strides=2, activation="relu")(z)
            z = layers.GlobalAveragePooling1D()(z)
        else:
            z = layers.LSTM(16)(seq)
        h = layers.Concatenate()([h, z])
    h = layers.Dense(64, activation="relu")(h)
    h = layers.Dense(32, activation="relu")(h)
    raw = layers.Dense(k)(h)
    first = layers.Lambda(lambda a: a[:, :1])(raw)
    steps = layers.Lambda(lambda a: keras.ops.softplus(a[:, 1:]))(raw)
    out = layers.Lambda(lambda ab: keras.ops.concatenate(
        [ab[0], ab[0] + keras.ops.cumsum(ab[1], axis=1)], axis=1), name="quantiles")([first, steps])
    return keras.Model(inputs, out)


def _fit_network(kind, X, S, y, cfg: GlobalConfig, log):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf
    try:
        tf.config.threading.set_intra_op_parallelism_threads(cfg.threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        pass  # TensorFlow already initialised in this process (another training ran first): its threads stay
    rng = np.random.default_rng(cfg.seed)
    take = rng.permutation(len(y))[:cfg.network_rows]
    Xt = X[take]
    mean, std = Xt.mean(axis=0), np.sqrt(np.maximum(Xt.var(axis=0), 1e-6))
    model = _network(kind, X.shape[1], len(cfg.quantiles), cfg.seed)
    model.standardize = {"mean": [float(x) for x in mean], "std": [float(x) for x in std]}
    import keras
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss=_pinball_tf(cfg.quantiles))
    feeds = [standardized(Xt, model.standardize)] + ([S[take]] if kind in ("cnn", "lstm") else [])
    t0 = time.time()
    hist = model.fit(feeds, y[take].astype(np.float32)[:, None], epochs=cfg.network_epochs, batch_size=512, verbose=0,
                     validation_split=0.1)
    log(f"{kind}: {time.time() - t0:.1f} s, validation pinball {hist.history['val_loss'][-1]:.4f}")
    return model


def standardized(X: np.ndarray, st: dict) -> np.ndarray:
    """Features standardised by a network member's training mean/std (float32, the graph's input)."""
    return ((X - np.asarray(st["mean"])) / np.asarray(st["std"])).astype(np.float32)


def _network_predict(model, kind, X, S):
    feeds = [standardized(X, model.standardize)] + ([S] if kind in ("cnn", "lstm") else [])
    return np.asarray(model.predict(feeds, batch_size=4096, verbose=0), dtype=np.float64)


def fit_meta(preds: dict, y: np.ndarray, quantiles) -> dict:
    """Per level: convex weights over members and a shift minimising the pinball loss (an LP, module doc)."""
    from scipy.optimize import linprog
    from scipy.sparse import csr_matrix, hstack, identity
    names = list(preds)
    n = len(y)
    out = {}
    for k, q in enumerate(quantiles):
        P = np.stack([preds[m][:, k] for m in names], axis=1)          # (n, M)
        M = P.shape[1]
        if M == 1:  # one member: weight 1, the LP reduces to the shift (the residuals' q-quantile)
            shift = float(np.quantile(y - P[:, 0], q))
            e = y - P[:, 0] - shift
            out[format(q, "g")] = {"weights": {names[0]: 1.0}, "shift": shift,
                                   "pinball": float(np.mean(np.maximum(q * e, (q - 1) * e)))}
            continue
        # variables: w (M, ≥ 0), δ+ , δ− (≥ 0), u (n), v (n); y = P w + δ+ − δ− + u − v
        c = np.concatenate([np.zeros(M + 2), np.full(n, q), np.full(n, 1.0 - q)])
        A_eq = hstack([csr_matrix(P), csr_matrix(np.ones((n, 1))), csr_matrix(-np.ones((n, 1))),
                       identity(n, format="csr"), -identity(n, format="csr")], format="csr")
        A_sum = csr_matrix(np.concatenate([np.ones(M), np.zeros(2 + 2 * n)])[None, :])
        from scipy.sparse import vstack
        res = linprog(c, A_eq=vstack([A_eq, A_sum], format="csr"), b_eq=np.concatenate([y, [1.0]]),
                      bounds=[(0, None)] * (M + 2 + 2 * n), method="highs")
        if not res.success:
            raise RuntimeError(f"meta-learner LP for q={q} failed: {res.message}")
        w = np.maximum(res.x[:M], 0.0)
        w = w / w.sum()
        w[w < 1e-4] = 0.0
        w = w / w.sum()
        shift = float(res.x[M] - res.x[M + 1])
        # the shift that minimises the pinball loss with these (cleaned) weights: the q-quantile of the residuals
        comb = P @ w
        shift = float(np.quantile(y - comb, q))
        out[format(q, "g")] = {"weights": {m: float(round(x, 6)) for m, x in zip(names, w)}, "shift": shift,
                               "pinball": float(np.mean(np.maximum(q * (y - comb - shift),
                                                                   (q - 1) * (y - comb - shift))))}
    return out


def train_global(series_list, cfg: GlobalConfig, log=print) -> dict:
    """Fit members and meta-learner; returns {"trees": [...], "networks": {kind: keras model}, "meta": {...},
    "member_scores": {...}, "rows": {...}, "seconds": ...}."""
    t_start = time.time()
    rng = np.random.default_rng(cfg.seed)
    panels = panel_of(series_list, cfg.max_days)
    with_seq = any(k in ("cnn", "lstm") for k in cfg.networks)
    train_parts, meta_parts = [], []
    for p in panels:
        T = p.demand.shape[1]
        meta_end = T - cfg.holdout_days
        train_end = meta_end - cfg.meta_days
        if train_end - cfg.first_origin < 4 * cfg.max_days:
            need = cfg.first_origin + 4 * cfg.max_days
            total = need + cfg.meta_days + cfg.holdout_days
            raise ValueError(f"series of {T} days are too short: training needs {need} days before the "
                             f"{cfg.meta_days} meta and {cfg.holdout_days} held-out days, {total} in all "
                             "(--meta-days and --holdout-days set the last two)")
        train_parts.append(_rows(p, range(cfg.first_origin, train_end, cfg.origin_step), train_end, cfg.draws,
                                 cfg.max_days, rng, with_seq))
        meta_parts.append(_rows(p, range(train_end, meta_end), meta_end, cfg.meta_draws, cfg.max_days, rng,
                                with_seq))
    X = np.concatenate([a[0] for a in train_parts if a[0] is not None])
    y = np.concatenate([a[2] for a in train_parts if a[0] is not None])
    S = np.concatenate([a[1] for a in train_parts if a[0] is not None]) if with_seq else None
    Xm = np.concatenate([a[0] for a in meta_parts if a[0] is not None])
    ym = np.concatenate([a[2] for a in meta_parts if a[0] is not None])
    Sm = np.concatenate([a[1] for a in meta_parts if a[0] is not None]) if with_seq else None
    log(f"rows: {len(y)} training, {len(ym)} meta ({time.time() - t_start:.1f} s)")
    trees = _fit_trees(X, y, cfg, log)
    k = len(cfg.quantiles)
    preds = {"trees": np.stack([m.predict(Xm) for m in trees[:k]], axis=1)}
    networks = {}
    for kind in cfg.networks:
        networks[kind] = _fit_network(kind, X, S, y, cfg, log)
        preds[kind] = _network_predict(networks[kind], kind, Xm, Sm)
    qs = np.asarray(cfg.quantiles)
    member_scores = {m: {format(q, "g"): float(np.mean(np.maximum(q * (ym - P[:, j]), (q - 1) * (ym - P[:, j]))))
                         for j, q in enumerate(qs)} for m, P in preds.items()}
    meta = fit_meta(preds, ym, cfg.quantiles)
    log("meta weights: " + "; ".join(f"q={q}: " + ", ".join(f"{m} {w:.3f}" for m, w in v["weights"].items())
                                     + f", shift {v['shift']:+.3f}" for q, v in meta.items()))
    return {"trees": trees, "networks": networks, "meta": meta, "member_scores": member_scores,
            "rows": {"train": int(len(y)), "meta": int(len(ym))}, "seconds": time.time() - t_start,
            "panels": panels}
