"""`python -m engine portfolio`: one recommendation per series of a daily file (engine.studies.portfolio)."""
from __future__ import annotations

import json
import sys

__all__ = ["register", "cmd_portfolio"]


def register(subparsers, common=None) -> None:
    p = subparsers.add_parser("portfolio", allow_abbrev=False,
                              help="recommend a policy for every series of a daily file (class, forecaster, "
                                   "order-up-to level, cost, fill rate, cycle service level)")
    p.add_argument("--data", required=True, help="CSV in long format: one row per day and series")
    p.add_argument("--lead-time", type=int, help="lead time in days (default: the file's lead-time column, else 7)")
    p.add_argument("--lead-time-dist", metavar="DIST",
                   help="random lead times: poisson:MEAN or uniform:LOW:HIGH (default: fixed, or the range of the "
                        "file's lead-time column when it varies)")
    p.add_argument("--replications", type=int, default=20, help="evaluation replications (default 20; as many "
                                                                   "other ones choose the safety stock)")
    p.add_argument("--days", type=int, default=90, help="simulated days per replication (default 90)")
    p.add_argument("--target-fill-rate", type=float, default=0.95, help="fill-rate target (default 0.95)")
    p.add_argument("--objective", choices=["cost", "fill-rate"], default="cost",
                   help="cost: least expected cost (default); fill-rate: least stock meeting the target")
    p.add_argument("--holding-rate", type=float, default=0.25, help="annual holding rate (default 0.25)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--moq", type=float, default=0.0, help="minimum order quantity in units (default none)")
    p.add_argument("--pack-size", type=float, help="order multiple (case pack), whole units (default any)")
    p.add_argument("--order-cost", type=float, default=0.0, help="fixed cost K per order (default 0)")
    p.add_argument("--order-days", help="weekdays orders may be placed on, e.g. mon,thu (default every day)")
    from engine.cli.recommend import add_static_rq_option
    add_static_rq_option(p)
    p.add_argument("--chunk", type=int, default=200, help="series per chunk (default 200)")
    p.add_argument("--out", metavar="RECS.csv", help="write the recommendations as CSV")
    p.add_argument("--json", action="store_true", help="print one JSON object (records and totals)")
    p.set_defaults(func=cmd_portfolio)


def cmd_portfolio(args) -> int:
    from engine.cli.main import write_output
    from engine.errors import ConfigError
    from engine.json_safe import json_safe
    from engine.studies.portfolio import (
        PortfolioSettings,
        _series_list,
        portfolio_totals,
        records_csv,
        run_portfolio,
        with_calibration,
    )

    if args.chunk < 1:
        raise ConfigError(f"--chunk {args.chunk} must be at least 1", field="chunk", value=args.chunk)
    settings = PortfolioSettings(lead_time=args.lead_time, replications=args.replications, days=args.days,
                                 target_fill_rate=args.target_fill_rate, objective=args.objective,
                                 holding_rate=args.holding_rate, seed=args.seed,
                                 lead_time_dist=getattr(args, "lead_time_dist", None), moq=args.moq,
                                 pack_size=args.pack_size, order_cost=args.order_cost, order_days=args.order_days,
                                 static_rq=args.static_rq)
    series = _series_list(args.data, getattr(args, "columns", None), bool(getattr(args, "fill_missing_zero", False)))
    settings = with_calibration(series, settings.validate(), chunk=args.chunk)  # shown in the JSON's settings
    records = run_portfolio(series, settings, chunk=args.chunk)
    totals = portfolio_totals(records)
    if args.out:
        write_output(args.out, records_csv(records))
    if args.json:
        print(json.dumps(json_safe({"settings": settings.to_dict(), "totals": totals, "records": records}),
                         allow_nan=False))
        return 0
    print(f"{totals['series']} series  expected cost {totals['expected_cost']:,.2f} "
          f"[{totals['cost_ci_low']:,.2f}, {totals['cost_ci_high']:,.2f}] over {settings.days} days  "
          f"series meeting the fill-rate target {totals['series_meeting_target']}")
    print(f"{'series':<24} {'class':<12} {'forecaster':<9} {'policy':<11} {'S or r':>10} {'Q':>6} {'cost':>11} "
          f"{'fill':>6} {'CSL':>6}")
    for r in records:
        fill = "n/a" if r["fill_rate"] is None else f"{r['fill_rate']:.3f}"
        csl = "n/a" if r["cycle_service_level"] is None else f"{r['cycle_service_level']:.3f}"
        rq = r["policy"] == "r-Q"
        level = r["reorder_point"] if rq or r["policy"] == "s-S" else r["order_up_to"]
        qty = (f"{r['order_quantity']:>6.0f}" if rq else f"{r['lot_size']:>6.0f}" if r["policy"] == "s-S"
               else f"{'':>6}")
        print(f"{r['series'][:24]:<24} {r['class']:<12} {r['forecaster']:<9} {r['policy']:<11} {level:>10.2f} "
              f"{qty} {r['expected_cost']:>11.2f} {fill:>6} {csl:>6}")
    if args.out:
        print(f"recommendations written to {args.out}", file=sys.stderr)
    return 0
