"""Synthetic demand in the public dataset's schema: yearly cycle, optional trend and weekly pattern, planned
promotions, count noise and an ex-ante planning forecast — seeded and reproducible byte for byte.

Defaults look like the public data (NOTES.md): mean ≈ 20.5 units/day with a yearly cycle from ~10 (late
September) to ~31 (early April), promotions on 10% of days (+25%), no weekly cycle, Poisson counts.

The planning forecast (Demand_Forecast) is made the way a planner would, `planning_lead` days before the day, from
information available then: the mean of the 28 realised days up to the plan date with the promotions and the
yearly cycle divided out, times the day's cycle and promotion factor (the calendar and the promotion plan are known
in advance), times a judgement noise (1 + planning_error·N(0, 1)). It never reads the day's demand or any later
one — unlike the public file's column, which is realised demand plus noise (see About).

Random streams: SeedSequence([seed, index, stream]) with stream ids below; `index` is the series number for
`generate_csv` and the replication number for the simulator's synthetic mode.
"""
from __future__ import annotations

import csv
import datetime as _dt
import io
import math
from dataclasses import asdict, dataclass, replace

import numpy as np

from engine.data.dataset import days_of_year

__all__ = ["GeneratorParams", "mean_demand", "draw_promo", "draw_demand", "draw_planning", "planner_forecast",
           "calibrate",
           "continue_series", "generate_csv", "generate_rows", "stream_rng", "STREAM_DEMAND", "STREAM_PROMO",
           "STREAM_PLANNING", "STREAM_LEAD_TIME", "STREAM_SERIES"]

STREAM_DEMAND = 1
STREAM_PROMO = 2
STREAM_PLANNING = 3
STREAM_LEAD_TIME = 4
STREAM_SERIES = 5     # per-series attributes in generate_csv
STREAM_EXTRA = 6      # region labels / inventory book-keeping in generate_csv
YEAR = 365.25
REGIONS = ("North", "South", "East", "West")
PLANNING_WINDOW = 28  # realised days the planner averages


def stream_rng(seed: int, index: int, stream: int, spawn_key: tuple = ()) -> np.random.Generator:
    """The random generator of one stream: SeedSequence([seed, index, stream]); a non-empty `spawn_key` gives a
    family of streams disjoint from the run's (the protection prior's extra paths, engine.protection.prior)."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(index), int(stream)],
                                                        spawn_key=tuple(spawn_key)))


@dataclass
class GeneratorParams:
    base: float = 20.5              # mean units/day without promotion (before the cycle)
    amplitude: float = 10.3         # yearly cycle amplitude (units/day)
    peak_day: float = 95.0          # day of year of the yearly peak
    trend: float = 0.0              # change of the base per day (units/day²)
    weekly_amplitude: float = 0.0   # relative weekly swing (0 = none; weekday pattern sin(2π·weekday/7))
    promo_rate: float = 0.10        # share of days with a promotion
    promo_uplift: float = 0.25      # relative demand uplift on promotion days
    dispersion: float | None = None  # negative-binomial size k (variance = m + m²/k); None = Poisson
    planning_error: float = 0.05    # relative σ of the planner's judgement noise on top of the ex-ante estimate
    planning_lead: int = 31         # days before the day the plan is made (≥ the forecasters' horizon of 31)

    def to_dict(self) -> dict:
        return asdict(self)


def mean_demand(params: GeneratorParams, n: int, promo: np.ndarray, day_of_year: np.ndarray | None = None,
                weekday: np.ndarray | None = None, offset: int = 0) -> np.ndarray:
    """Expected demand of n consecutive days (offset = days since the series start, for the trend)."""
    t = np.arange(offset, offset + n, dtype=np.float64)
    level = params.base + params.trend * t
    if params.weekly_amplitude and weekday is not None:
        level = level * (1.0 + params.weekly_amplitude * np.sin(2 * np.pi * weekday / 7.0))
    if params.amplitude and day_of_year is not None:
        level = level + params.amplitude * np.cos(2 * np.pi * (day_of_year - params.peak_day) / YEAR)
    level = np.maximum(level, 0.1)
    return level * (1.0 + params.promo_uplift * promo)


def draw_promo(params: GeneratorParams, rng: np.random.Generator, n: int) -> np.ndarray:
    return (rng.random(n) < params.promo_rate).astype(np.float64)


def draw_demand(params: GeneratorParams, mean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Count demand around `mean`: Poisson, or negative binomial with size `dispersion`."""
    if params.dispersion is None:
        return rng.poisson(mean).astype(np.float64)
    k = float(params.dispersion)
    return rng.negative_binomial(k, k / (k + mean)).astype(np.float64)


def cycle_factor(params: GeneratorParams, day_of_year: np.ndarray | None, n: int) -> np.ndarray:
    """The yearly cycle as a factor of the base level (1 without dates or amplitude)."""
    if not params.amplitude or day_of_year is None:
        return np.ones(n)
    level = params.base + params.amplitude * np.cos(2 * np.pi * (np.asarray(day_of_year) - params.peak_day) / YEAR)
    return np.maximum(level, 0.1) / max(params.base, 0.1)


def planner_forecast(params: GeneratorParams, demand: np.ndarray, promo: np.ndarray,
                     day_of_year: np.ndarray | None = None, first: int = 0) -> np.ndarray:
    """The planner's noise-free forecast of days first..len(demand)-1, each made `planning_lead` days before.

    For day d: level = mean over the realised days k in [d − lead − 27, d − lead] (those ≥ 0) of
    y_k / ((1 + uplift·promo_k)·cycle_k); forecast = level · cycle_d · (1 + uplift·promo_d). With no realised day
    yet the level is `params.base` (the planner's prior). Day d's value reads demand[:d − lead + 1] only.
    """
    y = np.asarray(demand, dtype=np.float64)
    pr = np.asarray(promo, dtype=np.float64)
    n = len(y)
    lead = max(int(params.planning_lead), 1)
    cyc = cycle_factor(params, day_of_year, n)
    x = y / ((1.0 + params.promo_uplift * pr) * cyc)
    csum = np.concatenate([[0.0], np.cumsum(x)])
    d = np.arange(first, n)
    end = np.clip(d - lead + 1, 0, n)
    start = np.maximum(end - PLANNING_WINDOW, 0)
    count = end - start
    level = np.where(count > 0, (csum[end] - csum[start]) / np.maximum(count, 1), params.base)
    return level * cyc[first:] * (1.0 + params.promo_uplift * pr[first:])


def draw_planning(params: GeneratorParams, demand: np.ndarray, promo: np.ndarray, rng: np.random.Generator,
                  day_of_year: np.ndarray | None = None, first: int = 0) -> np.ndarray:
    """Planning forecast of days first.. = planner_forecast × (1 + planning_error·N(0, 1)), ≥ 0, 2 decimals."""
    base = planner_forecast(params, demand, promo, day_of_year, first)
    noise = rng.standard_normal(len(base))
    return np.round(np.maximum(0.0, base * (1.0 + params.planning_error * noise)), 2)


def _doy(dates: list[str]) -> np.ndarray:
    return days_of_year(dates).astype(np.float64)


def future_dates(last_date: str | None, n: int) -> list[str] | None:
    if last_date is None:
        return None
    d0 = _dt.date.fromisoformat(last_date)
    return [(d0 + _dt.timedelta(days=k)).isoformat() for k in range(1, n + 1)]


def calibrate(demand: np.ndarray, promo: np.ndarray, dates: list[str] | None = None,
              planning: np.ndarray | None = None) -> GeneratorParams:
    """Fit the generator to a context history (heuristic, documented):
    with dates, ≥ 90 days and ≥ 60 days without promotion, least squares of those days on a yearly cosine gives
    base, amplitude and peak, and the promotion uplift is Σ demand / Σ fitted level over promotion days − 1;
    otherwise uplift = mean(promo days)/mean(other days) − 1 (needs ≥ 3 of each, else 0.25) and base = mean of
    the last 28 de-promoted days, no cycle; uplift clipped to [0, 2]; count noise Poisson unless the
    residual variance exceeds 1.1 × the mean (then negative binomial); planning error = relative spread of the
    Demand_Forecast column around the planner's noise-free forecast of the context (planner_forecast), when the
    column is present. No trend, no weekly pattern.
    """
    y = np.asarray(demand, dtype=np.float64)
    pr = np.asarray(promo, dtype=np.float64)
    n = len(y)
    p = GeneratorParams(trend=0.0, weekly_amplitude=0.0)
    p.promo_rate = float(pr.mean()) if n else 0.0
    on, off = pr > 0.5, pr <= 0.5
    doy = None
    if dates is not None and n >= 90 and off.sum() >= 60:
        # yearly cosine fitted on the days without promotion, then the uplift against that fit
        doy = _doy(dates)
        ang = 2 * np.pi * doy / YEAR
        X = np.column_stack([np.ones(n), np.cos(ang), np.sin(ang)])
        coef, *_ = np.linalg.lstsq(X[off], y[off], rcond=None)
        p.base = float(max(coef[0], 0.1))
        p.amplitude = float(math.hypot(coef[1], coef[2]))
        p.peak_day = float((math.atan2(coef[2], coef[1]) * YEAR / (2 * np.pi)) % YEAR)
        if on.sum() >= 3:
            level = np.maximum(X[on] @ coef, 0.1)
            p.promo_uplift = float(np.clip(y[on].sum() / level.sum() - 1.0, 0.0, 2.0))
    else:
        if on.sum() >= 3 and off.sum() >= 3 and y[off].mean() > 0:
            p.promo_uplift = float(np.clip(y[on].mean() / y[off].mean() - 1.0, 0.0, 2.0))
        base_y = y / (1.0 + p.promo_uplift * pr)
        p.base = float(max(base_y[-28:].mean(), 0.1)) if n else 1.0
        p.amplitude = 0.0
    fitted = mean_demand(p, n, pr, doy)
    if n >= 10:
        ratio = float(np.var(y - fitted) / max(fitted.mean(), 1e-9))
        p.dispersion = None if ratio <= 1.1 else float(max(fitted.mean() / (ratio - 1.0), 0.05))
    if planning is not None and n >= 10:
        ex_ante = planner_forecast(p, y, pr, doy)
        rel = (np.asarray(planning, dtype=np.float64) - ex_ante) / np.maximum(ex_ante, 1.0)
        p.planning_error = float(np.clip(np.std(rel), 0.01, 2.0))
    return p


def continue_series(params: GeneratorParams, days: int, seed: int, index: int, last_date: str | None = None,
                    offset: int = 0, day_of_year: np.ndarray | None = None, history: tuple | None = None,
                    spawn_key: tuple = ()) -> dict:
    """`days` more days after a context: dict(demand, promo, planning, dates, day_of_year, mean) with the demand,
    promotion and planning streams of (seed, index). Pass `day_of_year` (precomputed) to skip date arithmetic
    (dates is then None). `history` = (demand, promo, day_of_year or None) of the context: the planner's first
    plans read its last days (without it they start from the prior `params.base`)."""
    if day_of_year is None:
        dates = future_dates(last_date, days)
        doy = _doy(dates) if dates is not None else None
    else:
        dates, doy = None, day_of_year
    promo = draw_promo(params, stream_rng(seed, index, STREAM_PROMO, spawn_key), days)
    mean = mean_demand(params, days, promo, doy, offset=offset)
    demand = draw_demand(params, mean, stream_rng(seed, index, STREAM_DEMAND, spawn_key))
    planning = _continued_planning(params, demand, promo, doy, history,
                                   stream_rng(seed, index, STREAM_PLANNING, spawn_key))
    return {"demand": demand, "promo": promo, "planning": planning, "dates": dates, "day_of_year": doy,
            "mean": mean}


def _continued_planning(params, demand, promo, doy, history, rng) -> np.ndarray:
    """Planning forecasts of continued days, the planner's window reaching back into the context `history`."""
    if history is None:
        return draw_planning(params, demand, promo, rng, doy)
    h_demand, h_promo, h_doy = history
    keep = PLANNING_WINDOW + max(int(params.planning_lead), 1)
    h_demand, h_promo = np.asarray(h_demand)[-keep:], np.asarray(h_promo)[-keep:]
    k = len(h_demand)
    full_doy = None if doy is None or h_doy is None else np.concatenate([np.asarray(h_doy)[-k:], doy])
    return draw_planning(params, np.concatenate([h_demand, demand]), np.concatenate([h_promo, promo]), rng,
                         full_doy, first=k)


def generate_rows(days: int = 365, series: int = 5, seed: int = 42, start: str = "2024-01-01",
                  sku: str = "SKU_1", params: GeneratorParams | None = None) -> list[list[str]]:
    """Rows (as text, header first) of a file in the public schema: `series` warehouses WH_1.. of one SKU."""
    from engine.data.layout import PUBLIC_COLUMNS as COLUMNS

    params = params or GeneratorParams()
    d0 = _dt.date.fromisoformat(start)
    dates = [(d0 + _dt.timedelta(days=k)).isoformat() for k in range(days)]
    doy = _doy(dates)
    weekday = np.array([(d0 + _dt.timedelta(days=k)).weekday() for k in range(days)], dtype=np.float64)
    rows: list[list[str]] = [list(COLUMNS)]
    for i in range(series):
        attr = stream_rng(seed, i, STREAM_SERIES)
        sp = replace(params, base=params.base * float(attr.uniform(0.9, 1.1)))
        unit_cost = round(float(attr.uniform(5.0, 20.0)), 2)
        unit_price = round(unit_cost * float(attr.uniform(1.2, 1.6)), 2)
        lead = int(attr.integers(3, 15))
        supplier = f"SUP_{int(attr.integers(1, 11))}"
        promo = draw_promo(sp, stream_rng(seed, i, STREAM_PROMO), days)
        mean = mean_demand(sp, days, promo, doy, weekday)
        demand = draw_demand(sp, mean, stream_rng(seed, i, STREAM_DEMAND))
        planning = draw_planning(sp, demand, promo, stream_rng(seed, i, STREAM_PLANNING), doy)
        extra = stream_rng(seed, i, STREAM_EXTRA)
        regions = extra.integers(0, len(REGIONS), days)
        # the warehouse's own book-keeping: a reorder point / fixed quantity rule that rarely runs out
        reorder_point = int(round(sp.base * 1.8 * (lead + 1)))
        order_q = int(round(sp.base * 25))
        inventory = reorder_point + order_q
        pipeline: dict[int, int] = {}
        for k in range(days):
            inventory += pipeline.pop(k, 0)
            units = int(demand[k])
            stockout = 1 if units > inventory else 0
            inventory = max(inventory - units, 0)
            qty = 0
            if inventory <= reorder_point and not pipeline:
                qty = order_q
                pipeline[k + lead] = qty
            rows.append([
                dates[k], sku, f"WH_{i + 1}", supplier, REGIONS[int(regions[k])], str(units), str(inventory),
                str(lead), str(reorder_point), str(qty), f"{unit_cost:.2f}", f"{unit_price:.2f}",
                str(int(promo[k])), str(stockout), f"{planning[k]:.2f}",
            ])
    return rows


def generate_csv(days: int = 365, series: int = 5, seed: int = 42, start: str = "2024-01-01",
                 sku: str = "SKU_1", params: GeneratorParams | None = None) -> str:
    """The generated file as text (LF line ends), identical for identical arguments."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerows(generate_rows(days, series, seed, start, sku, params))
    return buf.getvalue()
