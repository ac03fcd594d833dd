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

Optionally (meta-learner input "calendar") a *pooled calendar season*: one yearly seasonal index by day of year,
g(d) = 1 + α·sin(2πd/P) + β·cos(2πd/P), fitted at training time on every series of the file together
(`fit_calendar_season`), stored in the model card, and applied to a series by its own deseasonalised level over
the last `level_days` days. Where the series of a file share one yearly pattern (one SKU in several warehouses),
its two shape coefficients are estimated from all of them instead of from one series' own noisy fit. It needs
the calendar (the day of year of the history and the horizon, known in advance); without dates it falls back to
the series' own seasonal level.
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
    ratios: dict | None = None  # the meta-learner inputs by name, (n, H) float64 before the graph's float32 cast
    units: dict | None = None   # inputs that are forecasts in units before the ratio (fourier), (n, H) float64

    def feeds(self) -> dict:
        return {"seq": self.seq, "aux": self.aux, "extra": self.extra}


def channels(use_covariates: bool) -> int:
    return 3 if use_covariates else 1


def aux_dim(horizon: int, use_covariates: bool) -> int:
    return horizon + 1 + (2 * horizon if use_covariates else 0)


EXTRA_SOURCES = ("seasonal", "planning", "ma7", "calendar", "fourier")
CALENDAR_LEVEL_DAYS = 91


@dataclass(frozen=True)
class CalendarSeason:
    """A yearly seasonal index by day of year shared by the series of a model (see the module docstring)."""
    alpha: float
    beta: float
    period: float = SEASON_PERIOD
    level_days: int = CALENDAR_LEVEL_DAYS

    def index(self, day_of_year) -> np.ndarray:
        """g(d) for days of year d (any shape)."""
        w = 2.0 * np.pi * np.asarray(day_of_year, dtype=float) / self.period
        return 1.0 + self.alpha * np.sin(w) + self.beta * np.cos(w)

    @property
    def table(self) -> np.ndarray:
        """g(d) for d = 0..366, looked up by integer day of year on the serving path."""
        return _calendar_table(self)

    def to_dict(self) -> dict:
        return {"alpha": float(self.alpha), "beta": float(self.beta), "period": float(self.period),
                "level_days": int(self.level_days)}

    @classmethod
    def from_dict(cls, d: dict) -> "CalendarSeason":
        out = cls(float(d["alpha"]), float(d["beta"]), float(d.get("period", SEASON_PERIOD)),
                  int(d.get("level_days", CALENDAR_LEVEL_DAYS)))
        if not (np.isfinite(out.alpha) and np.isfinite(out.beta) and out.period > 0 and out.level_days >= 1):
            raise ValueError(f"invalid calendar season {d!r}")
        if np.min(out.table[1:]) <= 0.05:
            raise ValueError(f"calendar season {d!r} is not positive over the year")
        return out


@lru_cache(maxsize=64)
def _calendar_table(season: CalendarSeason) -> np.ndarray:
    """CalendarSeason.table's work, once per season (a frozen dataclass: hashable)."""
    t = season.index(np.arange(367))
    t.setflags(write=False)
    return t


def fit_calendar_season(demands: list, days_of_year: list, level_days: int = CALENDAR_LEVEL_DAYS,
                        period: float = SEASON_PERIOD) -> CalendarSeason:
    """Pooled least-squares fit of y_it / mean_i ≈ c + a·sin + b·cos over every given series; α = a/c, β = b/c.

    demands[i] and days_of_year[i] are the realised demand of series i and the day of year of each of its rows
    (the training part only: the caller cuts them). Dividing by each series' mean lets series of different sizes
    share one shape.
    """
    rows, xs = [], []
    for y, d in zip(demands, days_of_year):
        y = np.asarray(y, dtype=float)
        d = np.asarray(d, dtype=float)[:len(y)]
        if len(y) == 0 or len(d) != len(y):
            raise ValueError("every series needs a day of year for each of its rows")
        m = y.mean()
        if m <= 0:
            continue
        rows.append(y / m)
        xs.append(d)
    if not rows:
        raise ValueError("no series with positive mean demand to fit the calendar season on")
    r, d = np.concatenate(rows), np.concatenate(xs)
    w = 2.0 * np.pi * d / period
    X = np.stack([np.ones_like(w), np.sin(w), np.cos(w)], axis=1)
    c, a, b = np.linalg.lstsq(X, r, rcond=None)[0]
    if c <= 0:
        raise ValueError("the pooled calendar season has a non-positive level")
    return CalendarSeason(float(a / c), float(b / c), float(period), int(level_days))


def calendar_level(demand: np.ndarray, day_of_year: np.ndarray, calendar: CalendarSeason,
                   horizon: int = HORIZON) -> np.ndarray:
    """(n, horizon) forecasts: each row's deseasonalised mean of its last level_days days times g(horizon days).

    demand (n, t); day_of_year (n, >= t + horizon) integers 1..366 aligned with demand (column t = first forecast
    day).
    """
    n, t = demand.shape
    k = min(calendar.level_days, t)
    g = calendar.table
    doy = np.asarray(day_of_year)
    if doy.dtype.kind not in "iu":
        doy = np.rint(doy).astype(np.int64)
    past = g[doy[:, t - k:t]]
    lvl = (demand[:, t - k:] / past).mean(axis=1)
    return lvl[:, None] * g[doy[:, t:t + horizon]]


def default_extra(use_covariates: bool) -> tuple[str, ...]:
    """Meta-learner inputs of cards written before `extra_inputs` existed, and the train command's default."""
    return ("seasonal", "planning") if use_covariates else ("seasonal",)


def check_extra(extra_inputs, use_covariates: bool) -> tuple[str, ...]:
    """The validated tuple of per-horizon meta-learner inputs (names from EXTRA_SOURCES)."""
    return _checked_extra(None if extra_inputs is None else tuple(extra_inputs), bool(use_covariates))


@lru_cache(maxsize=64)
def _checked_extra(extra_inputs: tuple | None, use_covariates: bool) -> tuple[str, ...]:
    """check_extra's work, once per distinct argument (build_inputs calls it on every forecast)."""
    names = default_extra(use_covariates) if extra_inputs is None else extra_inputs
    bad = [x for x in names if x not in EXTRA_SOURCES]
    if bad or not names or len(set(names)) != len(names):
        raise ValueError(f"meta-learner inputs {list(names)} must be distinct names from {list(EXTRA_SOURCES)}")
    if "planning" in names and not use_covariates:
        raise ValueError("the meta-learner input 'planning' needs a model with covariates")
    return names


def extra_dim(use_covariates: bool, extra_inputs=None) -> int:
    return len(check_extra(extra_inputs, use_covariates))


@lru_cache(maxsize=128)
def _season_projector(length: int, horizon: int, period: float) -> tuple[np.ndarray, np.ndarray]:
    """(fit, extrapolate): fit (3, length) maps the last `length` days to the Fourier coefficients, extrapolate
    (horizon, 3) maps them to the horizon. Two small factors instead of one (horizon, length) matrix: a forecast
    touches 10x less memory, which keeps onnxruntime's weights in the CPU cache on single-row calls."""
    idx = np.arange(length, dtype=float)
    fut = np.arange(length, length + horizon, dtype=float)

    def design(x):
        w = 2.0 * np.pi * x / period
        return np.stack([np.ones_like(x), np.sin(w), np.cos(w)], axis=1)

    fit = np.ascontiguousarray(np.linalg.pinv(design(idx)))
    ext = np.ascontiguousarray(design(fut))
    fit.setflags(write=False)
    ext.setflags(write=False)
    return fit, ext


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
    fit, ext = _season_projector(length, horizon, float(period))
    return (demand[:, t - length:] @ fit.T) @ ext.T, True


def level_of(demand: np.ndarray, window: int) -> np.ndarray:
    """L0 = mean of the last `window` days of each row, at least MIN_LEVEL."""
    return np.maximum(np.asarray(demand, dtype=float)[:, -window:].mean(axis=1), MIN_LEVEL)


def build_inputs(demand: np.ndarray, promo: np.ndarray | None = None, planning: np.ndarray | None = None, *,
                 window: int = WINDOW, horizon: int = HORIZON, use_covariates: bool = False,
                 extra_inputs=None, out: Inputs | None = None, day_of_year: np.ndarray | None = None,
                 calendar: CalendarSeason | None = None) -> Inputs:
    """Features for forecasting days t..t+horizon-1 of every row from history demand[:, :t].

    demand: (n, t) realised history. promo, planning: (n, t + horizon) arrays aligned with demand (column t = the
    first forecast day); only needed when use_covariates. Only columns < t of demand are read.
    extra_inputs: names of the per-horizon meta-learner inputs, in order (default: default_extra): "seasonal" (the
    seasonal ratio), "planning" (planning / L0), "ma7" (mean of the last 7 days / L0, the same for every horizon),
    "calendar" (calendar_level / L0: needs `calendar`; without `day_of_year` (n, >= t + horizon) it is the seasonal
    ratio), "fourier" (the yearly Fourier regression of the whole history on the day of year — the `fourier`
    baseline's forecast, baselines.fourier_forecast_calendar — / L0, clipped like the seasonal ratio; past demand
    and the calendar only; without `day_of_year` the positions stand in for the day of year).
    out: Inputs whose seq/aux/extra arrays (of the right shapes) are filled in place instead of new arrays — the
    serving fast path keeps them bound to onnxruntime (onnx_model.SingleRowRunner).
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
        seas *= inv
        seas_r = np.clip(seas, SEASON_CLIP[0], SEASON_CLIP[1], out=seas)
    else:
        seas_r = np.ones((n, horizon))
    names = check_extra(extra_inputs, use_covariates)
    C, K = channels(use_covariates), len(names)
    if out is None:
        seq = np.empty((n, window, C), dtype=np.float32)
        aux = np.empty((n, aux_dim(horizon, use_covariates)), dtype=np.float32)
        extra = np.empty((n, horizon, K), dtype=np.float32)
    else:
        seq, aux, extra = out.seq, out.aux, out.extra
        if (seq.shape, aux.shape, extra.shape) != ((n, window, C), (n, aux_dim(horizon, use_covariates)),
                                                   (n, horizon, K)):
            raise ValueError("out arrays do not have the shapes of these inputs")
    seq[:, :, 0] = recent * inv
    aux[:, :horizon] = seas_r
    aux[:, horizon] = 1.0 if ok else 0.0
    ratios, units = {}, {}
    for j, name in enumerate(names):
        if name == "seasonal":
            ratios[name] = seas_r
        elif name == "ma7":
            ratios[name] = np.broadcast_to((demand[:, max(t - 7, 0):].mean(axis=1) * inv[:, 0])[:, None],
                                           (n, horizon))
        elif name == "calendar":
            ratios[name] = _calendar_ratio(demand, day_of_year, calendar, horizon, inv, seas_r)
        elif name == "fourier":
            units[name] = _fourier_units(demand, day_of_year, horizon)
            r = units[name] * inv
            ratios[name] = np.clip(r, SEASON_CLIP[0], SEASON_CLIP[1], out=r)
        if name in ratios:
            extra[:, :, j] = ratios[name]
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
        if "planning" in names:
            ratios["planning"] = pl[:, window:]
            extra[:, :, names.index("planning")] = ratios["planning"]
    return Inputs(seq, aux, extra, lvl, ratios, units)


def _fourier_units(demand, day_of_year, horizon) -> np.ndarray:
    """The "fourier" meta input before its ratio: the yearly Fourier regression on the calendar (positions without
    dates), the `fourier` baseline's forecast. The input is this / L0, clipped like the seasonal ratio."""
    from engine.forecast.baselines import fourier_forecast_calendar
    n, t = demand.shape
    if day_of_year is not None:
        doy = np.asarray(day_of_year)
        if doy.ndim != 2 or doy.shape[0] not in (1, n) or doy.shape[1] < t + horizon:
            raise ValueError(f"day_of_year must have shape ({n}, >= {t + horizon}), got {doy.shape}")
        day_of_year = doy
    return fourier_forecast_calendar(demand, horizon, day_of_year)


def input_forecast(inp: Inputs, name: str) -> np.ndarray:
    """The meta-learner input `name` as a forecast in units (input × L0), float64: what an ensemble whose weights
    sit wholly on that input forecasts. An input that is a forecast before its ratio (fourier) is taken as such,
    clipped to the input's band, so that where the band does not bind it is that baseline's forecast bit for bit."""
    lvl = inp.level[:, None]
    if inp.units and name in inp.units:
        return np.clip(inp.units[name], SEASON_CLIP[0] * lvl, SEASON_CLIP[1] * lvl)
    return inp.ratios[name] * lvl


def _calendar_ratio(demand, day_of_year, calendar, horizon, inv, fallback) -> np.ndarray:
    """The "calendar" meta input: calendar_level / L0, clipped like the seasonal ratio; `fallback` without dates."""
    if calendar is None:
        raise ValueError("the meta-learner input 'calendar' needs the model's calendar season")
    n, t = demand.shape
    if day_of_year is None:
        return fallback
    doy = np.asarray(day_of_year)
    if doy.ndim != 2 or doy.shape[0] != n or doy.shape[1] < t + horizon:
        raise ValueError(f"day_of_year must have shape ({n}, >= {t + horizon}), got {doy.shape}")
    used = doy[:, max(t - calendar.level_days, 0):t + horizon]
    if (doy.dtype.kind == "f" and not np.isfinite(used).all()) or used.min() < 1 or used.max() > 366:
        raise ValueError("day_of_year values must lie in 1..366")
    r = calendar_level(demand, doy, calendar, horizon)
    r *= inv
    return np.clip(r, SEASON_CLIP[0], SEASON_CLIP[1], out=r)


def training_examples(demand: np.ndarray, promo: np.ndarray | None, planning: np.ndarray | None, *,
                      origins: range | list, target_end: int, window: int = WINDOW, horizon: int = HORIZON,
                      use_covariates: bool = False, extra_inputs=None, day_of_year: np.ndarray | None = None,
                      calendar: CalendarSeason | None = None) -> tuple[Inputs, np.ndarray]:
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
        doy = None if day_of_year is None else np.asarray(day_of_year)[:, :o + horizon]
        inp = build_inputs(hist, pr, pl, window=window, horizon=horizon, use_covariates=use_covariates,
                           extra_inputs=extra_inputs, day_of_year=doy, calendar=calendar)
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
