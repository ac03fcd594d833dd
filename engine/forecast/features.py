"""Feature and window building shared by training and serving (pure numpy, no TensorFlow, no sklearn).

Why one module: the ensemble is only as good as the agreement between the features it was trained on and the
features it is served with. Training (`train.py`) and serving (`onnx_model.py`) both call `build_inputs`, so the
two can never drift apart.

Normalisation is local to each window (no fitted scaler to store): every input and target is divided by the
window's *level* L0 = mean of the last `window` days (at least 1 unit). The data has a strong yearly cycle, so a
level-free network generalises across the seasons and across series of different sizes.

The yearly cycle itself is captured by a *seasonal level*: a first-order Fourier fit (period 365.25 days) of the
series on its own time index, extrapolated over the horizon. It uses past values only (no calendar); with fewer
than `SEASON_MIN_HISTORY` days the fit is unreliable and the feature falls back to the flat recent level (and the
`season_ok` flag is 0).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

HORIZON = 31
WINDOW = 28
SEASON_PERIOD = 365.25
SEASON_MIN_HISTORY = 120
SEASON_MAX_HISTORY = 730
SEASON_CLIP = (0.4, 2.5)
MIN_LEVEL = 1.0


@dataclass
class Inputs:
    """Arrays fed to the ONNX graph plus the level needed to turn ratios back into units."""
    seq: np.ndarray         # (n, window, channels) float32: past demand / L0 [, past promo, past planning / L0]
    aux: np.ndarray         # (n, aux_dim) float32: future seasonal ratio (H), season_ok (1) [, promo (H), plan/L0 (H)]
    extra: np.ndarray       # (n, H, k) float32: per-horizon inputs of the meta-learner: seasonal [, planning]
    level: np.ndarray       # (n,) float64: L0

    def feeds(self) -> dict:
        return {"seq": self.seq, "aux": self.aux, "extra": self.extra}


def channels(use_covariates: bool) -> int:
    return 3 if use_covariates else 1


def aux_dim(horizon: int, use_covariates: bool) -> int:
    return horizon + 1 + (2 * horizon if use_covariates else 0)


def extra_dim(use_covariates: bool) -> int:
    return 2 if use_covariates else 1


@lru_cache(maxsize=128)
def _season_projector(length: int, horizon: int, period: float) -> np.ndarray:
    """(horizon, length) matrix mapping the last `length` days to the extrapolated Fourier fit for the horizon."""
    idx = np.arange(length, dtype=float)
    fut = np.arange(length, length + horizon, dtype=float)

    def design(x):
        w = 2.0 * np.pi * x / period
        return np.stack([np.ones_like(x), np.sin(w), np.cos(w)], axis=1)

    proj = design(fut) @ np.linalg.pinv(design(idx))
    proj.setflags(write=False)
    return proj


def seasonal_level(demand: np.ndarray, horizon: int = HORIZON, period: float = SEASON_PERIOD,
                   min_history: int = SEASON_MIN_HISTORY) -> tuple[np.ndarray, bool]:
    """Extrapolated first-order Fourier fit of each row of `demand` (n, t) for the next `horizon` days.

    Returns ((n, horizon) forecasts, ok). With t < min_history, ok is False and the result is NaN.
    """
    demand = np.asarray(demand, dtype=float)
    n, t = demand.shape
    if t < min_history:
        return np.full((n, horizon), np.nan), False
    length = min(t, SEASON_MAX_HISTORY)
    proj = _season_projector(length, horizon, float(period))
    return demand[:, t - length:] @ proj.T, True


def level_of(demand: np.ndarray, window: int) -> np.ndarray:
    """L0 = mean of the last `window` days of each row, at least MIN_LEVEL."""
    return np.maximum(np.asarray(demand, dtype=float)[:, -window:].mean(axis=1), MIN_LEVEL)


def build_inputs(demand: np.ndarray, promo: np.ndarray | None = None, planning: np.ndarray | None = None, *,
                 window: int = WINDOW, horizon: int = HORIZON, use_covariates: bool = False) -> Inputs:
    """Features for forecasting days t..t+horizon-1 of every row from history demand[:, :t].

    demand: (n, t) realised history. promo, planning: (n, t + horizon) arrays aligned with demand (column t = the
    first forecast day); only needed when use_covariates. Only columns < t of demand are read.
    """
    demand = np.asarray(demand, dtype=float)
    if demand.ndim != 2:
        raise ValueError(f"demand must be a 2-D array (series, days), got shape {demand.shape}")
    n, t = demand.shape
    if t < window:
        raise ValueError(f"need at least {window} days of history, got {t}")
    recent = demand[:, t - window:]
    lvl = recent.sum(axis=1)
    lvl *= 1.0 / window
    seas, ok = seasonal_level(demand, horizon)
    if not np.isfinite(lvl.sum() + (seas.sum() if ok else 0.0)):
        raise ValueError("demand history contains NaN or infinite values")
    np.maximum(lvl, MIN_LEVEL, out=lvl)
    inv = (1.0 / lvl)[:, None]
    if ok:
        seas_r = seas * inv
        np.maximum(seas_r, SEASON_CLIP[0], out=seas_r)
        np.minimum(seas_r, SEASON_CLIP[1], out=seas_r)
    else:
        seas_r = np.ones((n, horizon))
    C, K = channels(use_covariates), extra_dim(use_covariates)
    seq = np.empty((n, window, C), dtype=np.float32)
    aux = np.empty((n, aux_dim(horizon, use_covariates)), dtype=np.float32)
    extra = np.empty((n, horizon, K), dtype=np.float32)
    seq[:, :, 0] = recent * inv
    aux[:, :horizon] = seas_r
    aux[:, horizon] = 1.0 if ok else 0.0
    extra[:, :, 0] = seas_r
    if use_covariates:
        if promo is None or planning is None:
            raise ValueError("this model needs the covariates promo and planning (Demand_Forecast) "
                             f"for {horizon} days ahead")
        promo = np.asarray(promo, dtype=float)
        planning = np.asarray(planning, dtype=float)
        for label, arr in (("promo", promo), ("planning", planning)):
            if arr.ndim != 2 or arr.shape[0] != n or arr.shape[1] < t + horizon:
                raise ValueError(f"covariate {label} must have shape ({n}, >= {t + horizon}), got {arr.shape}")
        pr = promo[:, t - window:t + horizon]
        pl = planning[:, t - window:t + horizon] * inv
        if not np.isfinite(pr.sum() + pl.sum()):
            raise ValueError("covariates promo/planning contain NaN or infinite values")
        seq[:, :, 1] = pr[:, :window]
        seq[:, :, 2] = pl[:, :window]
        aux[:, horizon + 1:2 * horizon + 1] = pr[:, window:]
        aux[:, 2 * horizon + 1:] = pl[:, window:]
        extra[:, :, 1] = pl[:, window:]
    return Inputs(seq, aux, extra, lvl)


def training_examples(demand: np.ndarray, promo: np.ndarray | None, planning: np.ndarray | None, *,
                      origins: range | list, target_end: int, window: int = WINDOW, horizon: int = HORIZON,
                      use_covariates: bool = False) -> tuple[Inputs, np.ndarray]:
    """Examples for the given forecast origins of every row, targets masked (NaN) at days >= target_end.

    The history of origin o is demand[:, :o] and covariates are cut to o + horizon, so nothing at or after
    target_end is ever read as an input except the known-in-advance covariates; realised demand at days
    >= target_end is never read at all. Returns (inputs stacked over origins then rows, target ratios (m, H)).
    """
    demand = np.asarray(demand, dtype=float)
    parts, targets = [], []
    for o in origins:
        if o < window or o >= target_end:
            raise ValueError(f"origin {o} outside [{window}, {target_end})")
        hist = demand[:, :o]
        pr = pl = None
        if use_covariates:
            pr, pl = _pad(promo, o + horizon), _pad(planning, o + horizon)
        inp = build_inputs(hist, pr, pl, window=window, horizon=horizon, use_covariates=use_covariates)
        tgt = np.full((demand.shape[0], horizon), np.nan)
        stop = min(o + horizon, target_end)
        tgt[:, :stop - o] = demand[:, o:stop]
        parts.append(inp)
        targets.append(tgt / inp.level[:, None])
    inputs = Inputs(np.concatenate([p.seq for p in parts]), np.concatenate([p.aux for p in parts]),
                    np.concatenate([p.extra for p in parts]), np.concatenate([p.level for p in parts]))
    return inputs, np.concatenate(targets)


def _pad(arr: np.ndarray, length: int) -> np.ndarray:
    """First `length` columns of a covariate, repeating its last column if the file ends earlier."""
    arr = np.asarray(arr, dtype=float)
    if arr.shape[1] >= length:
        return arr[:, :length]
    return np.concatenate([arr, np.repeat(arr[:, -1:], length - arr.shape[1], axis=1)], axis=1)
