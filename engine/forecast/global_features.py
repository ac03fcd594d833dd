"""Inputs of the global model: one row per (series, origin, days summed), every amount divided by the series' scale.

The global model (engine.forecast.global_model) is trained across all series of a file, so its inputs must mean the
same on a series selling 0.3 a day and one selling 300: amounts are divided by the series' scale s = mean absolute
one-day change over the last year of history (M5's scale), or over the last 28 days when that is larger, floored at
MIN_SCALE, leaving out the changes into and out of Christmas day when the dates are known (US stores close: the
store file sells 0 that day, which is not demand variability and read the four weeks after it on a scale ~10 % too
large); the target is the sum of the next d days ÷ (d · s), so the training loss on scaled targets is a scaled
pinball loss (engine.forecast.pinball; the backtest's scale is the year's term alone). The recent term is for a
series (re)launched after months without sales: on the year's scale its recent days read as 20–60 scale units, far
beyond any row the trees learned from (they cannot extrapolate, and under-forecast it several-fold), and such rows
in the meta period inflate the upper levels' shift for every series (measured: +7.8 scale units at q = 0.99 with the
year's scale alone on the M5 store file cut 112 days before its end, +0.76 with the recent term).

Inputs read the history before the origin, the calendar, and the known-in-advance price and promotion plan of the
coming days; never a column derived from realised demand (the planning forecast).

Columns (FEATURES; absent price/promotion columns take neutral values: ratio 1, share 0):
- days: d, the days summed (the protection period L + 1)
- log_scale: ln s (count-scale regime: a sum of a few units is discrete)
- scale_jump: ln(s ÷ the year's term): how far the last 28 days' changes exceed the year's (a relaunch)
- mean_7 … mean_364: mean of the last w days / s; mean_d: mean of the last d days / s; ses: SES level (α = 0.1)
- last_1 … last_7: the last seven days / s
- wday_0 … wday_6: mean of the last 8 same-weekdays of day o + k / s (the weekly profile of the coming week)
- std_28, max_28 / s; zero_28, zero_112: share of days without sale; since_sale: days since the last sale (≤ 365);
  size_112: mean size of a sale day / s (Croston's z)
- sum_q50, sum_q75, sum_q90, sum_q95, sum_q100: quantiles (order statistics) of the series' own d-day sums over the
  windows ending on each of its last 112 days / (d · s) — the series' recent spread of the very sum being forecast,
  which the upper levels need per series (a per-series error quantile is what makes the baselines' upper levels
  sharp; the trees otherwise infer it from std_28 and max_28 of single days)
- year_d: mean of the d days one year (364 days) before the window / s (−1 without a year of history)
- weekday, day_of_month, month, day_of_year of the first summed day (−1 without dates)
- holiday_share, christmas_share: share of the d summed days that are US holidays other than Christmas / Christmas
  (engine.forecast.holiday_calendar); days_to_holiday: days from the first summed day to the next holiday (≤ 63),
  next_holiday: its code; holiday_recent: share of the last 7 days that were holidays (their sales in the recent
  inputs are not the usual level); all −1 without dates
- price_28, price_364, price_max: price of the first summed day ÷ mean (28, 364 days) / max (364 days) of past
  prices; price_window: mean price over the d days ÷ yesterday's
- promo_window: share of promotion days among the d days; promo_28: among the last 28
"""
from __future__ import annotations

import numpy as np

from engine.forecast.holiday_calendar import CHRISTMAS, holiday_codes

__all__ = ["FEATURES", "MIN_SCALE", "series_scale", "build_features", "calendar_parts", "MAX_DAYS"]

MIN_SCALE = 0.05
SCALE_DAYS = 364
RECENT_SCALE_DAYS = 28
MAX_DAYS = 31  # protection periods up to L + 1 = 31 (lead times up to 30)
MEAN_WINDOWS = (7, 14, 28, 56, 112, 364)
LOOKBACK = 365   # the most days before the origin any input reads (since_sale, the scale's 364 changes)
SES_ALPHA = 0.1
SES_DAYS = 112
WEEKS = 8
PAST_SUM_DAYS = 112    # windows ending on each of the last 112 days
PAST_SUM_LEVELS = (0.5, 0.75, 0.9, 0.95, 1.0)

FEATURES = (
    ["days", "log_scale", "scale_jump"] + [f"mean_{w}" for w in MEAN_WINDOWS] + ["mean_d", "ses"]
    + [f"last_{k}" for k in range(1, 8)] + [f"wday_{k}" for k in range(7)]
    + ["std_28", "max_28", "zero_28", "zero_112", "since_sale", "size_112", "year_d"]
    + [f"sum_q{int(round(100 * q))}" for q in PAST_SUM_LEVELS]
    + ["weekday", "day_of_month", "month", "day_of_year"]
    + ["holiday_share", "christmas_share", "days_to_holiday", "next_holiday", "holiday_recent"]
    + ["price_28", "price_364", "price_max", "price_window", "promo_window", "promo_28"]
)
_SES_W = SES_ALPHA * (1.0 - SES_ALPHA) ** np.arange(SES_DAYS - 1, -1, -1)


def _mean_change(history: np.ndarray, days: int, closed: np.ndarray | None = None) -> np.ndarray:
    """Mean |one-day change| over the last `days` days, at least MIN_SCALE; `closed` (1 or n, t) marks days the
    calendar says the store is shut, whose changes in and out are left out (a closure is not demand variability)."""
    h = history[:, -days - 1:]
    if h.shape[1] < 2:
        return np.full(h.shape[0], MIN_SCALE)
    change = np.abs(np.diff(h, axis=1))
    if closed is None:
        return np.maximum(change.mean(axis=1), MIN_SCALE)
    c = closed[:, -h.shape[1]:]
    keep = np.broadcast_to(~(c[:, 1:] | c[:, :-1]), change.shape)
    return np.maximum((change * keep).sum(axis=1) / np.maximum(keep.sum(axis=1), 1), MIN_SCALE)


def series_scale(history: np.ndarray, closed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """((n,) scale of each row, (n,) its year's term): the scale is the larger of the mean |one-day change| over its
    last SCALE_DAYS and its last RECENT_SCALE_DAYS days, at least MIN_SCALE, changes touching a `closed` day left
    out (module docstring: why the recent term and the closures)."""
    year = _mean_change(history, SCALE_DAYS, closed)
    return np.maximum(year, _mean_change(history, RECENT_SCALE_DAYS, closed)), year


def calendar_parts(day_number: np.ndarray) -> np.ndarray:
    """(..., 4) weekday (Monday 0), day of month, month, day of year of day numbers (days since 1970-01-01)."""
    d = np.asarray(day_number).astype("datetime64[D]")
    month_start = d.astype("datetime64[M]")
    year_start = d.astype("datetime64[Y]")
    weekday = (np.asarray(day_number, dtype=np.int64) + 3) % 7
    dom = (d - month_start.astype("datetime64[D]")).astype(np.int64) + 1
    month = month_start.astype(np.int64) % 12 + 1
    doy = (d - year_start.astype("datetime64[D]")).astype(np.int64) + 1
    return np.stack([weekday, dom, month, doy], axis=-1).astype(np.float64)


def build_features(history: np.ndarray, days, day_number=None, price=None, promo=None,
                   scale: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(features (n·m, len(FEATURES)) float32, scale (n,)) at the origin t = history.shape[1] of each row.

    history (n, t) demand before the origin; days: int, (n,) or (n, m) days summed (row i·m + j of the result is
    series i with days[i, j]: the d-free columns are computed once per series); day_number (n or 1, ≥ t + d) days
    since 1970-01-01 (None: no calendar); price / promo (n or 1, ≥ t + d) known-in-advance plans (None: absent).
    """
    y = np.asarray(history, dtype=np.float64)
    if y.shape[1] > LOOKBACK:  # no input reads further back: the same features from less array work (serving cost)
        cut = y.shape[1] - LOOKBACK
        y = y[:, cut:]
        day_number, price, promo = (None if a is None else np.asarray(a)[:, cut:] for a in (day_number, price, promo))
    n, t = y.shape
    d = np.asarray(days, dtype=np.int64)
    d = np.broadcast_to(d.reshape(-1, 1) if d.ndim == 1 else d if d.ndim == 2 else d.reshape(1, 1),
                        (n, d.shape[1] if d.ndim == 2 else 1))
    m = d.shape[1]
    closed = None if day_number is None else closed_days(np.asarray(day_number)[:, :t])
    s, year = series_scale(y, closed)
    if scale is not None:
        s = np.asarray(scale, dtype=np.float64)
    inv = (1.0 / s)[:, None]
    rows = np.arange(n)[:, None]
    X = np.empty((n, m, len(FEATURES)), dtype=np.float64)
    col = {name: i for i, name in enumerate(FEATURES)}

    def put(name, values):  # values (n,) or (n, m)
        v = np.asarray(values, dtype=np.float64)
        X[:, :, col[name]] = v[:, None] if v.ndim == 1 else v

    put("days", d)
    put("log_scale", np.log(s))
    put("scale_jump", np.log(s / year))
    for w in MEAN_WINDOWS:
        put(f"mean_{w}", y[:, -w:].mean(axis=1) * inv[:, 0])
    csum = np.concatenate([np.zeros((n, 1)), np.cumsum(y, axis=1)], axis=1)
    dd = np.minimum(d, t)
    put("mean_d", (csum[:, t:t + 1] - csum[rows, t - dd]) / np.maximum(dd, 1) * inv)
    tail = y[:, -SES_DAYS:]
    w = _SES_W[-tail.shape[1]:]
    put("ses", (tail * w).sum(axis=1) / w.sum() * inv[:, 0])
    for k in range(1, 8):
        put(f"last_{k}", (y[:, t - k] if t >= k else np.zeros(n)) * inv[:, 0])
    for k in range(7):
        idx = [t + k - 7 * j for j in range(1, WEEKS + 1) if 0 <= t + k - 7 * j < t]
        put(f"wday_{k}", (y[:, idx].mean(axis=1) if idx else np.zeros(n)) * inv[:, 0])
    last28 = y[:, -28:]
    put("std_28", last28.std(axis=1) * inv[:, 0])
    put("max_28", last28.max(axis=1) * inv[:, 0])
    put("zero_28", (last28 == 0).mean(axis=1))
    last112 = y[:, -112:]
    put("zero_112", (last112 == 0).mean(axis=1))
    sale = y[:, -365:] > 0
    put("since_sale", np.where(sale.any(axis=1), np.argmax(sale[:, ::-1], axis=1), 365))
    nz = (last112 > 0).sum(axis=1)
    put("size_112", np.where(nz > 0, last112.sum(axis=1) / np.maximum(nz, 1), 0.0) * inv[:, 0])
    put_past_sums(put, csum, d, s)
    if t >= 364:
        stop = np.minimum(t - 364 + d, t)
        put("year_d", (csum[rows, stop] - csum[:, t - 364:t - 363]) / np.maximum(stop - (t - 364), 1) * inv)
    else:
        put("year_d", np.full(n, -1.0))
    names = ("weekday", "day_of_month", "month", "day_of_year")
    if day_number is not None:
        dn = np.broadcast_to(np.asarray(day_number)[:, t], (n,))
        cal = calendar_parts(dn)
        for k, name in enumerate(names):
            put(name, cal[:, k])
        put_holidays(put, dn, d)
    else:
        for name in names + HOLIDAY_FEATURES:
            put(name, np.full(n, -1.0))
    if price is not None:
        p = np.asarray(price, dtype=np.float64)
        p = np.broadcast_to(p, (n, p.shape[1]))
        now = np.maximum(p[:, t], 1e-9)
        past = p[:, max(t - 364, 0):t] if t > 0 else p[:, :1]
        put("price_28", now / np.maximum(p[:, max(t - 28, 0):max(t, 1)].mean(axis=1), 1e-9))
        put("price_364", now / np.maximum(past.mean(axis=1), 1e-9))
        put("price_max", now / np.maximum(past.max(axis=1), 1e-9))
        stop = np.minimum(t + d, p.shape[1])
        yesterday = np.maximum(p[:, t - 1] if t > 0 else now, 1e-9)[:, None]
        put("price_window", _window_sums(p, t, stop) / np.maximum(stop - t, 1) / yesterday)
    else:
        for name in ("price_28", "price_364", "price_max", "price_window"):
            put(name, np.ones(n))
    if promo is not None:
        pr = np.asarray(promo, dtype=np.float64)
        pr = np.broadcast_to(pr, (n, pr.shape[1]))
        stop = np.minimum(t + d, pr.shape[1])
        put("promo_window", _window_sums(pr, t, stop) / np.maximum(stop - t, 1))
        put("promo_28", pr[:, max(t - 28, 0):t].mean(axis=1) if t > 0 else np.zeros(n))
    else:
        put("promo_window", np.zeros(n))
        put("promo_28", np.zeros(n))
    return X.reshape(n * m, len(FEATURES)).astype(np.float32), s


def _window_sums(plan: np.ndarray, t: int, stop: np.ndarray) -> np.ndarray:
    """(n, m) sums of a plan (n, ≥ t) over days t … stop − 1: one cumulative sum over the coming days only (the plan's
    past is as long as the history; summing it first cost a pass over a year per call)."""
    c = np.concatenate([np.zeros((plan.shape[0], 1)), np.cumsum(plan[:, t:int(stop.max())], axis=1)], axis=1)
    return c[np.arange(plan.shape[0])[:, None], stop - t]


def closed_days(day_number: np.ndarray) -> np.ndarray:
    """(rows, t) True on Christmas days; one calendar row is worked out once for all series (serving cost)."""
    if day_number.shape[0] > 1 and np.array_equal(day_number, np.broadcast_to(day_number[:1], day_number.shape)):
        day_number = day_number[:1]
    return holiday_codes(day_number) == CHRISTMAS


def put_past_sums(put, csum: np.ndarray, d: np.ndarray, s: np.ndarray) -> None:
    """The sum_q columns: order statistics of the d-day sums over windows ending on the last PAST_SUM_DAYS days
    (windows reaching before the first day are cut there)."""
    n, t = csum.shape[0], csum.shape[1] - 1
    ends = np.arange(max(t - PAST_SUM_DAYS + 1, 1), t + 1)
    if d.shape[1] == 1 and d.min() == d.max() and ends[0] >= d[0, 0]:  # serving: one d, every window whole
        lo = ends[0] - int(d[0, 0])
        sums = np.sort((csum[:, ends[0]:t + 1] - csum[:, lo:lo + len(ends)])[:, None, :], axis=2)
    else:
        starts = np.maximum(ends[None, None, :] - d[:, :, None], 0)
        sums = np.sort(csum[:, None, ends] - csum[np.arange(n)[:, None, None], starts], axis=2)
    k = len(ends)
    scale = (d * s[:, None]).astype(np.float64)
    for q in PAST_SUM_LEVELS:
        put(f"sum_q{int(round(100 * q))}", sums[:, :, int(round(q * (k - 1)))] / scale)


HOLIDAY_FEATURES = ("holiday_share", "christmas_share", "days_to_holiday", "next_holiday", "holiday_recent")
HOLIDAY_AHEAD = 63   # days_to_holiday is capped here (the next holiday further away reads as 63)
RECENT_DAYS = 7


def put_holidays(put, first_day: np.ndarray, d: np.ndarray) -> None:
    """The holiday columns from the first summed day's day number (n,) and the days summed d (n, m); the calendar
    is daily from that day on (as calendar_parts reads it)."""
    first_day = np.asarray(first_day, dtype=np.int64)
    base = first_day[:1] if first_day.min() == first_day.max() else np.unique(first_day)  # one calendar: one row
    grid = base[:, None] + np.arange(-RECENT_DAYS, HOLIDAY_AHEAD + 1)[None, :]
    codes = holiday_codes(grid)
    which = np.searchsorted(base, first_day)            # (n,) row of grid per series
    ahead = codes[:, RECENT_DAYS:]
    other = np.concatenate([np.zeros((len(base), 1)), np.cumsum((ahead > 0) & (ahead != CHRISTMAS), axis=1)], 1)
    xmas = np.concatenate([np.zeros((len(base), 1)), np.cumsum(ahead == CHRISTMAS, axis=1)], axis=1)
    dd = np.minimum(d, HOLIDAY_AHEAD)
    rows = which[:, None]
    put("holiday_share", other[rows, dd] / d)
    put("christmas_share", xmas[rows, dd] / d)
    has = ahead > 0
    first = np.where(has.any(axis=1), np.argmax(has, axis=1), HOLIDAY_AHEAD)
    put("days_to_holiday", first[which])
    put("next_holiday", np.where(has.any(axis=1), ahead[np.arange(len(base)), np.minimum(first, HOLIDAY_AHEAD)],
                                 0)[which])
    put("holiday_recent", (codes[:, :RECENT_DAYS] > 0).mean(axis=1)[which])


SEQ_DAYS = 56


def sequence_input(history: np.ndarray, scale: np.ndarray, repeats: int = 1) -> np.ndarray:
    """(n·repeats, SEQ_DAYS, 1) float32: the last SEQ_DAYS days / scale (zeros before the first day), the
    sequence the convolutional and recurrent members read; each row repeated `repeats` times (one per days
    value of build_features)."""
    y = np.asarray(history, dtype=np.float64)
    n, t = y.shape
    out = np.zeros((n, SEQ_DAYS), dtype=np.float64)
    k = min(t, SEQ_DAYS)
    if k:
        out[:, SEQ_DAYS - k:] = y[:, t - k:] / scale[:, None]
    if repeats > 1:
        out = np.repeat(out, repeats, axis=0)
    return out[:, :, None].astype(np.float32)
