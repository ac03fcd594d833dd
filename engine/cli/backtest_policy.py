"""`python -m engine backtest-policy`: the portfolio's recommendations run on a file's own held-out history
(engine.studies.policy_backtest), beside a days-of-cover baseline."""
from __future__ import annotations

import json
import sys

__all__ = ["register", "cmd_backtest_policy"]


def register(subparsers, common=None) -> None:
    p = subparsers.add_parser("backtest-policy", allow_abbrev=False,
                              help="rolling-origin backtest of the portfolio: recommend on the history before each "
                                   "origin, run the recommendation on the next real days, promised vs realised")
    p.add_argument("--data", required=True, help="CSV in long format: one row per day and series")
    p.add_argument("--holdout-days", type=int, default=90, help="real days run after each origin (default 90)")
    p.add_argument("--origins", type=int, default=1,
                   help="origins: the last origins × holdout-days days in consecutive windows (default 1)")
    p.add_argument("--lead-time", type=int, help="lead time in days (default: the file's lead-time column, else 7)")
    p.add_argument("--objective", choices=["fill-rate", "cost"], default="fill-rate",
                   help="fill-rate: least stock meeting the target (default); cost: least expected cost")
    p.add_argument("--target-fill-rate", type=float, default=0.95, help="fill-rate target (default 0.95)")
    p.add_argument("--replications", type=int, default=20, help="the portfolio's replications (default 20)")
    p.add_argument("--holding-rate", type=float, default=0.25, help="annual holding rate (default 0.25)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--no-promise-check", action="store_true",
                   help="recommend without the portfolio's out-of-time correction of targets and promises")
    p.add_argument("--check-windows", type=int, default=None, metavar="N",
                   help="held-out windows the out-of-time correction averages before each origin (default: the "
                        "portfolio's CHECK_WINDOWS, 4; each costs about one portfolio run at eight targets)")
    from engine.cli.recommend import add_order_rule_options, add_static_rq_option
    add_order_rule_options(p.add_argument_group("supplier's rules (the recommendations and every replayed order)"))
    add_static_rq_option(p)
    p.add_argument("--forecaster", metavar="ensemble:NAME", default=None,
                   help="a global quantile model (engine train --global) instead of the portfolio's per-series "
                        "forecasters: order up to its own quantile of the (L + R)-day demand, the level calibrated "
                        "for the objective on held-out windows between its training and each origin, replayed "
                        "under the supplier's rules (with --order-cost under --objective cost: an (s, S) lot too)")
    p.add_argument("--models-dir", default=None, help="models folder (default $SIM_MODELS_DIR or <repo>/models)")
    p.add_argument("--out", metavar="SERIES.csv", help="write the per-series records as CSV")
    p.add_argument("--json", action="store_true", help="print one JSON object (totals, by_class, baseline, records)")
    p.set_defaults(func=cmd_backtest_policy)


def cmd_backtest_policy(args) -> int:
    from engine.cli.main import write_output
    from engine.json_safe import json_safe
    from engine.studies.policy_backtest import BacktestSettings, backtest_csv, run_backtest, unscored_text

    if args.models_dir:
        from engine import paths
        paths.use_models_dir(args.models_dir)
    settings = BacktestSettings(holdout_days=args.holdout_days, origins=args.origins, lead_time=args.lead_time,
                                objective=args.objective, target_fill_rate=args.target_fill_rate,
                                replications=args.replications, holding_rate=args.holding_rate, seed=args.seed,
                                promise_check=not args.no_promise_check, forecaster=args.forecaster,
                                moq=args.moq, pack_size=args.pack_size, order_days=args.order_days,
                                order_cost=args.order_cost, static_rq=args.static_rq,
                                **({} if args.check_windows is None else {"check_windows": args.check_windows}))
    out = run_backtest(args.data, settings, columns=getattr(args, "columns", None),
                       fill_missing_zero=bool(getattr(args, "fill_missing_zero", False)))
    if args.out:
        write_output(args.out, backtest_csv(out["records"]))
    if args.json:
        print(json.dumps(json_safe(out), allow_nan=False))
        return 0
    t, b = out["totals"], out["baseline"]
    pct = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731 (a one-line local helper)
    print(f"{t['series']} series, {settings.origins} origin(s) x {settings.holdout_days} held-out days "
          f"(start: on-hand = the level, nothing on order)")
    if settings.forecaster:
        levels = sorted({(r["origin"], r["class"], r["quantile_level"]) for r in out["records"]})
        print(f"level       {settings.forecaster}'s quantile of the (L + R)-day demand, calibrated per demand class "
              "on held-out days before each origin: "
              + ", ".join(f"origin {o + 1} {c} q = {q:.3f}" for o, c, q in levels))
    print(f"fill rate   promised {pct(t['promised_fill_rate'])}  realised {pct(t['realised_fill_rate'])} "
          f"(unit-weighted {pct(t['realised_fill_rate_units'])})  within 5 points: {t['series_within_5pts']} of "
          f"{t['scored']}")
    if t["unscored"]:
        print(f"not scored  {len(t['unscored'])} record(s) with no demand in their held-out days (fill rate "
              f"undefined): {unscored_text(t['unscored'])}")
    print(f"on hand     promised {t['promised_average_on_hand']:.2f}  realised {t['average_on_hand']:.2f}")
    print(f"cost        promised {t['promised_cost']:,.2f}  realised {t['realised_cost']:,.2f} (holding + lost sales "
          f"+ K per order over the held-out days, all series)")
    print(f"days-of-cover baseline: fill {pct(b['realised_fill_rate'])} (unit-weighted "
          f"{pct(b['realised_fill_rate_units'])}), on hand {b['average_on_hand']:.2f}, cost {b['realised_cost']:,.2f}")
    print(f"{'class':<13} {'series':>6} {'promised':>9} {'realised':>9}")
    for c, v in out["by_class"].items():
        print(f"{c:<13} {v['series']:>6} {pct(v['promised_fill_rate']):>9} {pct(v['realised_fill_rate']):>9}")
    if args.out:
        print(f"per-series records written to {args.out}", file=sys.stderr)
    return 0
