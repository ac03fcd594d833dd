"""The supplier's rules in the level: simulated as they are, or left out of the simulation?

    python -m bench.supplier_rules [--data ../shared/data/real/m5_store.csv] [--cut-days 90] [--order-days mon;thu]
                                   [--pack-size 12 --moq 24] [--target 0.95]
                                   [--model NAME --models-dir DIR | (default) train one here]

Order days: an item ordered on some weekdays only (review period R, the longest gap) needs a level covering L + R
days. Two ways to set it: as if every day were an order day with a lead time of L + R − 1 (daily review, no rules),
or with the orders simulated on the order days themselves (periodic review, lead time L). Packs and MOQ: every
order rounded up to whole packs and at least the MOQ, in the simulation that sets the level or only when the order
is placed. Both ways are run for the fill-rate target on the file cut `--cut-days` before its end — each series'
recommendation (engine.studies.portfolio with /portfolio's out-of-time correction, as /orders asks it) and a global
model's calibrated quantile (engine.studies.quantile_level.calibrated_level, as `engine orders --forecaster` sets
it) — and each level is then replayed on the real days after the cut under the rules (lost sales, lead time 7).
Printed: the promise, the realised fill rate (mean over series with demand) and the mean on-hand.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.global_quantiles import add_data_and_model_options, chosen_model, cut_file, data_file  # noqa: E402

LEAD = 7


def per_series(cut: list, after: np.ndarray, target: float, rules, ways: list) -> list[tuple]:
    """(label, promised, realised, on-hand, seconds) of each series' recommendation asked each way: `ways` [(label,
    PortfolioSettings fields)], every level replayed under `rules`."""
    from engine.simulation.metrics import fill_rate
    from engine.studies.history_replay import replay_records
    from engine.studies.portfolio import PortfolioSettings, run_chunk, with_calibration

    base = dict(objective="fill-rate", target_fill_rate=target, replications=20, days=90, seed=42)
    rows = []
    for label, fields in ways:
        t0 = time.perf_counter()
        ps = with_calibration(cut, PortfolioSettings(**base, **fields).validate())
        recs = [dict(r, lead_time=LEAD) for r in run_chunk(cut, ps)]   # orders arrive L days later either way
        seconds = time.perf_counter() - t0
        tot = replay_records(cut, recs, after, ps.history_days, ps.holding_rate, rules)["totals"]
        promised = np.array([np.nan if r["promised_fill_rate"] is None else r["promised_fill_rate"] for r in recs])
        rows.append((label, promised, fill_rate(tot, np.nan), float((tot["on_hand"] / after.shape[1]).mean()), seconds))
    return rows


def global_model(model, full, keys, date, terms, target: float, labels: tuple[str, str]) -> list[tuple]:
    """The same for a global model's calibrated quantile, calibrated without the rules (daily review, lead time
    L + R − 1) and under them (calibrated_level's kernel_lead, rules, first_weekday); `labels` name the two ways.
    Every level is replayed under each item's rules (`terms`)."""
    from engine.demand.classes import classify
    from engine.forecast.seen_days import first_unseen
    from engine.policies.order_rules import weekday_of
    from engine.simulation.metrics import fill_rate
    from engine.studies.global_orders import HISTORY_DAYS, _windows, item_rules, replay_arrays
    from engine.studies.orders import history_before
    from engine.studies.quantile_level import calibrated_level, model_last_training_date, run_levels
    hist = [history_before(full.series[k], date) for k in keys]
    dates = hist[0].dates
    T = len(dates)
    D, cov, cover, h, p = replay_arrays(model, hist, keys, terms)
    Dfull, cov_full, _, _, _ = replay_arrays(model, [full.series[k] for k in keys], keys, terms)
    days = Dfull.shape[1] - T
    lead = np.full(len(keys), LEAD)
    held = T - max(first_unseen(dates, model_last_training_date(model)), model.min_history)
    windows = _windows(held, T)
    classes = [classify(D[i, -HISTORY_DAYS:]).label for i in range(len(keys))]
    rules = [item_rules(terms[k]) for k in keys]
    wd = weekday_of(dates[0])
    rows = []
    for label, kw in zip(labels, ({}, dict(kernel_lead=lead, rules=rules, first_weekday=wd))):
        t0 = time.perf_counter()
        cal = calibrated_level(model, D, cov, windows, cover, h, p, target, classes, **kw)
        seconds = time.perf_counter() - t0
        tot = run_levels(model, Dfull, cov_full, T, days, cover, cal["level"], lead, h, p, rules, wd)[2]
        promised = np.array([np.nan if v is None else v for v in cal["series_fill"]], dtype=float)
        rows.append((label, promised, fill_rate(tot, np.nan), float((tot["on_hand"] / days).mean()), seconds))
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_and_model_options(ap, 90, "real days after the cut replayed (default 90)",
                               "a global entry trained on the cut file (its last days held out)")
    ap.add_argument("--order-days", default="mon;thu")
    ap.add_argument("--pack-size", type=int, default=12)
    ap.add_argument("--moq", type=float, default=24.0)
    ap.add_argument("--target", type=float, default=0.95)
    args = ap.parse_args(argv)
    path = data_file(args.data)
    if path is None:
        return 2
    from engine.data.dataset import load_csv
    from engine.data.items import item_terms
    from engine.data.order_days import parse_order_days
    from engine.policies.order_rules import OrderRules
    from engine.policies.order_rules import parse_order_days as rule_days
    from engine.studies.orders import history_before
    from engine.studies.quantile_backtest import quantile_model

    full = load_csv(path)
    keys = list(full.series)
    date = dt.date.fromisoformat(str(full.series[keys[0]].dates[-args.cut_days])[:10])
    cut = [history_before(full.series[k], date) for k in keys]
    T = len(cut[0].demand)
    after = np.stack([np.asarray(full.series[k].demand, dtype=float)[T:] for k in keys])
    base_terms = item_terms(full, None, checked=keys)
    days_terms = {k: replace(t, order_days=parse_order_days(args.order_days), lead_time=LEAD)
                  for k, t in base_terms.items()}
    pack_terms = {k: replace(t, pack_size=args.pack_size, moq=int(args.moq), lead_time=LEAD)
                  for k, t in base_terms.items()}
    days_rules = OrderRules(order_days=rule_days(args.order_days))
    pack_rules = OrderRules(pack_size=float(args.pack_size), moq=args.moq, integer=True)
    R = days_rules.review_period()

    def train(root: Path) -> str:   # on the file as it stood on the order date: without its last C days
        from engine.forecast.global_commands import train_global_model
        from engine.forecast.global_train import GlobalConfig
        train_global_model(cut_file(path, args.cut_days, root), root / "days-global", cfg=GlobalConfig(),
                           log=lambda m: None, command="bench.supplier_rules", backtest_models=())
        return "days-global"
    with tempfile.TemporaryDirectory() as tmp:
        model = quantile_model(f"ensemble:{chosen_model(args, Path(tmp), train)}")
    print(f"{path.name}: cut {date} ({args.cut_days} real days after it replayed), {len(keys)} series, lead time "
          f"{LEAD}, target {args.target}")
    print("| rules | levels from | set as | promised | realised fill (mean over series) | mean on-hand | "
          "levels set in |")
    print("|---|---|---|---:|---:|---:|---:|")
    runs = [
        (f"orders on {args.order_days} (R = {R})",
         per_series(cut, after, args.target, days_rules,
                    [(f"daily review, lead time {LEAD + R - 1}", {"lead_time": LEAD + R - 1}),
                     (f"on the order days, lead time {LEAD}", {"lead_time": LEAD, "order_days": args.order_days})]),
         global_model(model, full, keys, date, days_terms, args.target,
                      (f"daily review, lead time {LEAD + R - 1}", f"on the order days, lead time {LEAD}"))),
        (f"pack {args.pack_size}, MOQ {args.moq:g}",
         per_series(cut, after, args.target, pack_rules,
                    [("orders not rounded", {"lead_time": LEAD}),
                     ("orders rounded", {"lead_time": LEAD, "pack_size": args.pack_size, "moq": args.moq})]),
         global_model(model, full, keys, date, pack_terms, args.target, ("orders not rounded", "orders rounded"))),
    ]
    for rules_label, own, glob in runs:
        for who, rows in (("each series' recommendation", own), (model.name, glob)):
            for label, promised, fill, on_hand, seconds in rows:
                ok = np.isfinite(promised) & np.isfinite(fill)
                print(f"| {rules_label} | {who} | {label} | {promised[ok].mean():.3f} | {fill[ok].mean():.3f} | "
                      f"{on_hand:.1f} | {seconds:.1f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
