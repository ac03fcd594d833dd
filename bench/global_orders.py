"""Today's orders from a global model (engine orders --forecaster, engine.studies.global_orders): does the promise
beside each line hold on the real days after the order date?

    python -m bench.global_orders [--data ../shared/data/real/m5_store.csv] [--cut-days 90]
                                  [--model NAME --models-dir DIR | (default) train one here]

Protocol: the file without its last `--cut-days` days (C) is what a planner has on the order date D (the day after
it); a global model is trained on it with its last 56 days held out (engine train --global's default), so its level
is calibrated on those 56 days, as /orders does on such a file. Then the C real days after D are replayed through the
one inventory day (lost sales, lead time 7, start on-hand = the level on D — an (s, S) rule's s + a phase of its lot
spread over the series, engine.studies.quantile_level.cycle_phases — nothing on order) with S_t = the model's
τ-quantile of the next L + R days recomputed each day from the real history before t — the policy the level belongs
to — under the items' supplier rules (`--order-days mon;thu`: orders on those days only, R the longest gap;
`--order-cost K` per order: an (s, S) lot under the cost objective). Printed per fill-rate target and for the least
cost objective: the promise (mean over series of each one's fill on the calibration days), the realised fill rate
(mean over series with demand), mean closing on-hand, realised cost per series and day (holding + lost sales + K per
order; unit costs and prices of the file, holding 25 % a year), orders per series, each class's τ, and the time the
levels took (what /orders waits for).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.global_quantiles import add_data_and_model_options, chosen_model, data_file  # noqa: E402

TARGETS = (0.9, 0.95, 0.98)


def replayed(model, full, terms, keys, o: int, days: int, recs: dict) -> dict:
    """Realised fill per series, mean on-hand, cost per series-day and orders per series of the model's daily level
    at each record's τ (and lot) over the `days` after day o, under each item's rules."""
    from engine.policies.order_rules import weekday_of
    from engine.simulation.metrics import fill_rate, total_cost
    from engine.studies.global_orders import item_rules, replay_arrays
    from engine.studies.quantile_level import run_levels
    D, cov, cover, h, p = replay_arrays(model, [full.series[k] for k in keys], keys, terms)
    lead = np.array([terms[k].lead_time for k in keys])
    tau = np.array([recs[k]["params"]["quantile_level"] for k in keys])
    lot = np.array([recs[k]["params"].get("lot_size") or 0.0 for k in keys])
    tot = run_levels(model, D, cov, o, days, cover, tau, lead, h, p, [item_rules(terms[k]) for k in keys],
                     weekday_of(full.series[keys[0]].dates[0]), lot)[2]
    cost = total_cost(tot)
    return {"fill": fill_rate(tot, np.nan), "on_hand": float((tot["on_hand"] / days).mean()),
            "cost": float(cost.mean() / days), "orders": float(tot["orders"].mean())}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_and_model_options(ap, 90, "days after the order date replayed (default 90)",
                               "a global entry trained on the cut file (its last days held out)")
    ap.add_argument("--order-days", default="daily", help="every item's order days, e.g. mon;thu (default daily)")
    ap.add_argument("--order-cost", type=float, default=0.0, help="every item's cost K per order (default 0)")
    args = ap.parse_args(argv)
    path = data_file(args.data)
    if path is None:
        return 2
    from engine.data.dataset import load_csv
    from engine.data.items import item_terms
    from engine.studies.global_orders import global_levels
    from engine.studies.orders import history_before
    from engine.studies.quantile_backtest import quantile_model
    full = load_csv(path)
    date = dt.date.fromisoformat(str(next(iter(full.series.values())).dates[-args.cut_days])[:10])

    def train(root: Path) -> str:   # on the file as it stood on the order date: without its last C days
        from bench.global_quantiles import cut_file
        from engine.forecast.global_commands import train_global_model
        from engine.forecast.global_train import GlobalConfig
        train_global_model(cut_file(path, args.cut_days, root), root / "orders-global", cfg=GlobalConfig(),
                           log=lambda m: None, command="bench.global_orders", backtest_models=())
        return "orders-global"
    with tempfile.TemporaryDirectory() as tmp:
        model = quantile_model(f"ensemble:{chosen_model(args, Path(tmp), train)}")   # loaded before tmp goes
    name = model.name.split(":", 1)[1]
    keys = list(full.series)
    from engine.data.order_days import parse_order_days
    terms = {k: replace(t, order_days=parse_order_days(args.order_days), order_cost=args.order_cost)
             for k, t in item_terms(full, None, checked=keys).items()}
    hist = {k: history_before(full.series[k], date) for k in keys}
    o = len(hist[keys[0]].demand)
    t0 = terms[keys[0]]
    print(f"{path.name}: order date {date} (the file cut {args.cut_days} days before its end), {len(keys)} series, "
          f"lead time {t0.lead_time}, order days {args.order_days} (protection {t0.protection_days} days), K "
          f"{args.order_cost:g}, the next {args.cut_days} real days replayed; model ensemble:{name} (load average "
          f"{os.getloadavg()[0]:.1f} on 2 cores)")
    print("| objective | promised (held-out days) | realised fill (mean over series) | mean on-hand | cost per "
          "series-day | orders per series | τ by class | levels computed in |")
    print("|---|---:|---:|---:|---:|---:|---|---:|")
    for objective, target in [("fill-rate", t) for t in TARGETS] + [("cost", 0.95)]:
        t0 = time.perf_counter()
        recs = global_levels(model, hist, terms, date, target, objective)
        seconds = time.perf_counter() - t0
        out = replayed(model, full, terms, keys, o, args.cut_days, recs)
        promised = np.array([np.nan if recs[k]["fill_rate"] is None else recs[k]["fill_rate"] for k in keys])
        ok = np.isfinite(out["fill"]) & np.isfinite(promised)
        taus = sorted({(recs[k]["demand_class"], round(recs[k]["params"]["quantile_level"], 3)) for k in keys})
        lots = sum(1 for k in keys if recs[k]["policy"] == "s-S")
        label = f"fill rate {target}" if objective == "fill-rate" else "least cost" + (f" ({lots} (s, S))" if lots
                                                                                        else "")
        print(f"| {label} | {promised[ok].mean():.3f} | {out['fill'][ok].mean():.3f} | {out['on_hand']:.1f} | "
              f"{out['cost']:.3f} | {out['orders']:.1f} | " + ", ".join(f"{c} {t}" for c, t in taus)
              + f" | {seconds:.1f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
