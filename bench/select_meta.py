"""Choose the ensemble's meta-learner without looking at the holdout: an inner backtest inside the training part.

    python -m bench.select_meta --data ../shared/data/supply_chain_sku1.csv [--holdout-days 73] [--seed 1]

The real holdout (last `holdout_days` of every series) is dropped before anything else. What remains is split the
same way again: the ensemble's base models are trained (once) on the inner training part with the train command's
protocol, and every candidate meta-learner is fitted on the same meta period and scored by rolling one-step MAE on
the inner holdout (the `holdout_days` days just before the real holdout). The candidate with the lowest inner MAE
becomes the train command's default; the real holdout is then evaluated once (README, model cards).
The "calendar" candidates use the pooled calendar season (features.CalendarSeason) with a level window of 91 or
365 days; the "fourier" candidates the yearly Fourier regression of each series' whole history on the day of
year (the `fourier` baseline's forecast).
Each candidate is also scored by the RMSE of its 8-day (L + 1, L = 7) forecast sums from the inner-holdout origins
whose 8 days lie in the inner holdout — what an order-up-to policy uses; `best` is the lowest inner MAE,
`best_sum` the lowest inner 8-day-sum RMSE.
"""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np

CANDIDATES = [  # (label, kind, per_horizon, extra inputs[, level days of the calendar input])
    ("stack, shared, seasonal", "stack", False, ("seasonal",)),
    ("stack, shared, seasonal+ma7", "stack", False, ("seasonal", "ma7")),
    ("stack, per horizon, seasonal", "stack", True, ("seasonal",)),
    ("stack, per horizon, seasonal+ma7", "stack", True, ("seasonal", "ma7")),
    ("convex, shared, seasonal", "convex", False, ("seasonal",)),
    ("convex, shared, seasonal+ma7", "convex", False, ("seasonal", "ma7")),
    ("convex, per horizon, seasonal", "convex", True, ("seasonal",)),
    ("convex, per horizon, seasonal+ma7", "convex", True, ("seasonal", "ma7")),
    ("stack, shared, seasonal+calendar(91)", "stack", False, ("seasonal", "calendar"), 91),
    ("stack, shared, seasonal+calendar(365)", "stack", False, ("seasonal", "calendar"), 365),
    ("stack, shared, calendar(91)", "stack", False, ("calendar",), 91),
    ("stack, shared, calendar(365)", "stack", False, ("calendar",), 365),
    ("convex, shared, seasonal+calendar(91)", "convex", False, ("seasonal", "calendar"), 91),
    ("convex, shared, seasonal+calendar(365)", "convex", False, ("seasonal", "calendar"), 365),
    ("stack, per horizon, seasonal+calendar(91)", "stack", True, ("seasonal", "calendar"), 91),
    ("stack, shared, seasonal+fourier", "stack", False, ("seasonal", "fourier")),
    ("convex, shared, seasonal+fourier", "convex", False, ("seasonal", "fourier")),
    ("convex, shared, fourier", "convex", False, ("fourier",)),
    ("convex, shared, seasonal+calendar(91)+fourier", "convex", False, ("seasonal", "calendar", "fourier"), 91),
    ("stack, per horizon, seasonal+fourier", "stack", True, ("seasonal", "fourier")),
    ("convex, per horizon, seasonal+fourier", "convex", True, ("seasonal", "fourier")),
]
ALL_EXTRA = ("seasonal", "ma7", "calendar", "fourier")
SUM_DAYS = 8
CALENDAR_DAYS = (91, 365)


def inner_series(path: str, holdout_days: int) -> list:
    """The series of the file with the real holdout cut off (never read again)."""
    from engine.data.dataset import load_csv
    from engine.forecast.train import SeriesArrays
    ds = load_csv(path)
    out = []
    for s in ds.series.values():
        end = len(s.demand) - holdout_days
        out.append(SeriesArrays(s.key, np.asarray(s.demand[:end], dtype=float).copy(), None, None,
                                None if s.dates is None else list(s.dates[:end])))
    return out


def _with_level_days(cfg, calendar, days: int):
    import dataclasses
    return dataclasses.replace(cfg, calendar_level_days=days), dataclasses.replace(calendar, level_days=days)


def run(data: str, holdout_days: int = 73, seed: int = 1, log=print) -> dict:
    from engine.forecast import features as F
    from engine.forecast import train as T
    series = inner_series(data, holdout_days)
    cfg = T.TrainConfig(use_covariates=False, holdout_days=holdout_days, seed=seed, extra_inputs=ALL_EXTRA,
                        calendar_level_days=CALENDAR_DAYS[0])
    trained = T.train_ensemble(series, cfg, log=log)
    base_preds, extra, level, target = trained.meta_data
    # the calendar input with each level window: meta-period values (season fitted before the meta period, as
    # train_ensemble does) and inner-holdout values (the refitted season)
    part = T.cut_training_part(series, cfg)
    meta_cal = T.fit_calendar(part, cfg, lambda t: t - cfg.meta_days)
    cal_col = ALL_EXTRA.index("calendar")
    meta_calendar, hold_calendar = {}, {}
    for days in CALENDAR_DAYS:
        cfg_d, cal_d = _with_level_days(cfg, meta_cal, days)
        inp_d, _ = T.examples(part, cfg_d, lambda t: t - cfg.meta_days, lambda t: t, lambda t: t, cal_d)
        meta_calendar[days] = inp_d.extra[:, :, cal_col].astype(float)
    # base forecasts of the refitted models for every inner-holdout origin
    parts, actual, sums = [], [], []
    for days in CALENDAR_DAYS:
        cfg_d, cal_d = _with_level_days(cfg, trained.calendar, days)
        cols = []
        for s in series:
            n = len(s.demand)
            doy = T.series_days_of_year(s, cfg)
            for o in range(n - holdout_days, n):
                p = F.build_inputs(s.demand[None, :o], window=cfg.window, horizon=cfg.horizon,
                                   extra_inputs=ALL_EXTRA, day_of_year=doy[:, :o + cfg.horizon], calendar=cal_d)
                cols.append(p.extra[:, :, cal_col])
                if days == CALENDAR_DAYS[0]:
                    parts.append(p)
                    actual.append(s.demand[o])
                    sums.append(s.demand[o:o + SUM_DAYS].sum() if o + SUM_DAYS <= n else np.nan)
        hold_calendar[days] = np.concatenate(cols).astype(float)
    inp = F.Inputs(*(np.concatenate([getattr(p, k) for p in parts]) for k in ("seq", "aux", "extra", "level")))
    model = trained.keras_model
    hold_base = np.stack([model.get_layer(name).predict([inp.seq, inp.aux], verbose=0, batch_size=4096)
                          for name in T.BASE_NAMES], axis=2).astype(float)
    actual = np.asarray(actual)
    sums = np.asarray(sums)
    has_sum = np.isfinite(sums)
    rows = []
    for label, kind, per_h, extras, *days in CANDIDATES:
        cols = [ALL_EXTRA.index(x) for x in extras]
        meta_x, hold_x = extra[:, :, cols].copy(), inp.extra[:, :, cols].astype(float)
        if "calendar" in extras:
            j = extras.index("calendar")
            meta_x[:, :, j], hold_x[:, :, j] = meta_calendar[days[0]], hold_calendar[days[0]]
        w, b = T.fit_meta(base_preds, meta_x, level, target, per_h, kind)
        X_all = np.concatenate([hold_base, hold_x], axis=2)
        X = X_all[:, 0, :]  # day 1
        w1, b1 = (w[0], b[0]) if np.ndim(w) == 2 else (w, b)
        pred = np.maximum((X @ w1 + b1) * inp.level, 0.0)
        sum_pred = np.zeros(len(actual))
        for h in range(SUM_DAYS):
            wh, bh = (w[h], b[h]) if np.ndim(w) == 2 else (w, b)
            sum_pred += np.maximum((X_all[:, h, :] @ wh + bh) * inp.level, 0.0)
        sum_rmse = float(np.sqrt(np.mean((sum_pred[has_sum] - sums[has_sum]) ** 2)))
        rows.append({"candidate": label, "inner_mae": float(np.mean(np.abs(pred - actual))),
                     "inner_sum_rmse": sum_rmse,
                     "day1_weights": [round(float(x), 3) for x in w1], "day1_bias": round(float(b1), 3)})
        log(f"{label:36s} inner MAE {rows[-1]['inner_mae']:.4f}  8-day-sum RMSE {sum_rmse:.3f}  "
            f"day-1 weights {rows[-1]['day1_weights']} bias {rows[-1]['day1_bias']}")
    alone = [("seasonal feature alone", inp.extra[:, 0, 0]), ("ma7 alone", inp.extra[:, 0, 1])]
    alone += [(f"calendar({d}) alone", hold_calendar[d][:, 0]) for d in CALENDAR_DAYS]
    for label, x in alone:
        rows.append({"candidate": f"(reference) {label}",
                     "inner_mae": float(np.mean(np.abs(np.maximum(x * inp.level, 0) - actual)))})
        log(f"{'(reference) ' + label:36s} inner MAE {rows[-1]['inner_mae']:.4f}")
    scored = [r for r in rows if not r["candidate"].startswith("(")]
    best = min(scored, key=lambda r: r["inner_mae"])
    best_sum = min(scored, key=lambda r: r["inner_sum_rmse"])
    return {"data": data, "holdout_days": holdout_days, "seed": seed, "inner_forecasts": int(len(actual)),
            "inner_sums": int(has_sum.sum()), "rows": rows, "best": best["candidate"],
            "best_sum": best_sum["candidate"]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--holdout-days", type=int, default=73)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    res = run(args.data, args.holdout_days, args.seed, log=lambda m: print(m, file=sys.stderr))
    print(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
