"""`python -m engine exact`: the optimal average cost of an i.i.d. demand setting and each policy's gap to it
(engine.exact.report). Registered by engine/cli/main.py's OPTIONAL_COMMAND_MODULES."""
from __future__ import annotations

import json

from engine.exact.distributions import parse_demand_dist
from engine.exact.report import base_stock_gap, exact_report, random_lead_time_report
from engine.json_safe import json_safe

__all__ = ["cmd_exact", "register"]


def register(subparsers, common=None) -> None:
    p = subparsers.add_parser("exact", allow_abbrev=False,
                              help="exact optimum (lost sales or backorders, i.i.d. demand) and policy gaps")
    p.add_argument("--demand-dist", required=True, metavar="DIST",
                   help="poisson:MEAN | negbin:MEAN:VAR | empirical:FILE.csv[:SERIES]")
    p.add_argument("--lead-time", type=int, default=1, help="periods between order and arrival (default 1)")
    p.add_argument("--lead-time-dist", metavar="DIST", default=None,
                   help="random lead times (uniform:LOW:HIGH | poisson:MEAN): answered 'not certified', the exact "
                        "model assumes a fixed lead time")
    p.add_argument("--holding-cost", type=float, default=1.0, help="h per unit left at period end (default 1)")
    p.add_argument("--stockout-cost", type=float, default=9.0,
                   help="p per lost unit, or per backlogged unit per period (default 9)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--lost-sales", dest="backorders", action="store_false", help="unmet demand is lost (default)")
    g.add_argument("--backorders", dest="backorders", action="store_true", help="unmet demand waits")
    p.add_argument("--order-cost", type=float, default=0.0,
                   help="fixed cost K per order (default 0); policies offered are then (s, S) and (s, nQ)")
    p.add_argument("--order-multiple", type=int, default=1, help="orders in multiples of this pack size (default 1)")
    p.add_argument("--bound", type=int, default=None,
                   help="largest inventory position after ordering (default: a fractile of lead-time demand)")
    p.add_argument("--no-policies", action="store_true", help="only the optimum and the best base-stock")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_exact, backorders=False)


def cmd_exact(args) -> int:
    dist = parse_demand_dist(args.demand_dist)
    if args.lead_time_dist is not None:
        rep = random_lead_time_report(args.lead_time_dist)
        print(json.dumps(json_safe(rep)) if args.json else rep["message"])
        return 0
    rep = exact_report(dist, args.lead_time, args.holding_cost, args.stockout_cost, args.backorders, args.bound,
                       policies=not args.no_policies, order_cost=args.order_cost,
                       order_multiple=args.order_multiple)
    if args.json:
        print(json.dumps(json_safe(rep)))
        return 0
    extra = (f", K = {rep['order_cost']:g}" if rep["order_cost"] else "") + (
        f", orders in multiples of {rep['order_multiple']}" if rep["order_multiple"] > 1 else "")
    print(f"{rep['model']}, demand {rep['demand']} (mean {rep['demand_mean']:.3f}, var {rep['demand_var']:.3f}), "
          f"lead time {rep['lead_time']}, h = {rep['holding_cost']:g}, p = {rep['stockout_cost']:g}{extra}")
    if not rep["certified"]:
        print(rep["message"])
        return 0
    lo, hi = rep["optimal_bounds"]
    print(f"optimal average cost  {rep['optimal_cost']:.4f}   (bounds {lo:.6f} .. {hi:.6f}; {rep['states']:,} states; "
          f"{rep['seconds']:.1f} s)")
    print(f"{'policy':<28} {'parameters':<24} {'cost':>9} {'gap':>8}")
    bs = rep["base_stock"]
    if bs:
        print(f"{'base-stock':<28} {'S=' + str(bs['level']):<24} {bs['cost']:>9.4f} {_gap(base_stock_gap(rep)):>8}")
    for r in rep["policies"]:
        if r["name"] == "base-stock":
            continue
        params = ", ".join(f"{k}={v:g}" if not isinstance(v, str) else f"{k}={v}" for k, v in r["params"].items())
        name = "lookahead (heuristic)" if r.get("heuristic") else r["name"]
        print(f"{name:<28} {params:<24} {r['cost']:>9.4f} {_gap(r['gap']):>8}")
    if rep.get("gap_note"):
        print(rep["gap_note"])
    if rep.get("policies_note"):
        print(rep["policies_note"])
    return 0


def _gap(g: float | None) -> str:
    """The gap column: "–" where the gap is undefined (a zero optimum); gaps within the solver's tolerance print as
    0 (not −0.00 %)."""
    if g is None:
        return "–"
    return f"{0.0 if abs(g) < 1e-6 else g:.2%}"
