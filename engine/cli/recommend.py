"""`python -m engine recommend`: what to do for one series — the one recommendation (engine.studies.recommend)
that /optimum, the simulator's hint and `engine portfolio` also give for it."""
from __future__ import annotations

import argparse
import json

__all__ = ["register", "cmd_recommend", "add_recommendation_options", "recommendation_settings", "add_static_rq_option"]


def add_recommendation_options(p, simulation_options: bool = False) -> None:
    """The options that decide a recommendation. With `simulation_options` the parser already has the simulate
    command's (--lead-time, --holding-rate, --unit-cost, --unit-price, --stockout-cost, --seed, --days) and only
    the objective is added."""
    g = p.add_argument_group("recommendation")
    g.add_argument("--objective", choices=["cost", "fill-rate"], default="cost",
                   help="cost: least expected cost (default); fill-rate: least stock meeting --target-fill-rate")
    g.add_argument("--target-fill-rate", type=float, default=0.95, help="fill-rate target (default 0.95)")
    if simulation_options:
        return
    g.add_argument("--data", help="CSV file (default data/sample.csv)")
    g.add_argument("--series", help="series key, e.g. SKU_1/WH_1 (default: the first in the file)")
    g.add_argument("--lead-time", type=int, help="lead time in days (default: the file's lead-time column, else 7)")
    g.add_argument("--holding-rate", type=float, default=0.25, help="annual holding rate (default 0.25)")
    g.add_argument("--unit-cost", type=float, help="unit cost (default: the file's, else 20 — an assumption)")
    g.add_argument("--unit-price", type=float, help="unit price (default: the file's, else 40 — an assumption)")
    g.add_argument("--stockout-cost", type=float, help="cost per lost unit (default unit price − unit cost)")
    g.add_argument("--seed", type=int, default=42)
    g.add_argument("--days", type=int, default=90, help="simulated days per path (default 90)")
    g.add_argument("--replications", type=int, default=20,
                   help="evaluation paths (default 20; as many other ones choose the policy)")
    add_order_rule_options(g)
    add_static_rq_option(g)


def add_order_rule_options(g) -> None:
    """The supplier's rules a recommendation's simulated orders follow (engine.policies.order_rules)."""
    g.add_argument("--order-cost", type=float, default=0.0,
                   help="fixed cost K per order (default 0); with K > 0 an (s, S) rule with a lot size is offered")
    g.add_argument("--moq", type=float, default=0.0, help="minimum order quantity in units (default none)")
    g.add_argument("--pack-size", type=float, help="order multiple (case pack), whole units (default any)")
    g.add_argument("--order-days", help="weekdays orders may be placed on, e.g. mon,thu (default every day)")


def add_static_rq_option(p) -> None:
    """The static (r, Q) rule as a further candidate (engine.studies.portfolio's module doc: why not by default)."""
    p.add_argument("--static-rq", action=argparse.BooleanOptionalAction, default=None,
                   help="offer a static (r, Q) rule beside the forecast-driven level (default: under the fill-rate "
                        "objective only; under least cost it wins on resampled history where real days favour the "
                        "forecast-driven level)")


def recommendation_settings(args):
    from engine.studies.portfolio import PortfolioSettings

    return PortfolioSettings(lead_time=args.lead_time, holding_rate=args.holding_rate, seed=args.seed,
                             days=args.days, replications=args.replications, objective=args.objective,
                             target_fill_rate=args.target_fill_rate, unit_cost=args.unit_cost,
                             unit_price=args.unit_price, stockout_cost=args.stockout_cost,
                             order_cost=args.order_cost, moq=args.moq, pack_size=args.pack_size,
                             order_days=args.order_days, static_rq=getattr(args, "static_rq", None)).validate()


def register(subparsers, common=None) -> None:
    p = subparsers.add_parser("recommend", allow_abbrev=False,
                              help="the recommended policy for one series: parameters, expected cost with its 95 %% "
                                   "interval, fill rate, cycle service level, the objective and the costs used")
    add_recommendation_options(p)
    p.add_argument("--json", action="store_true", help="print the recommendation as one JSON object")
    p.set_defaults(func=cmd_recommend, _common=common)


def cmd_recommend(args) -> int:
    from engine.cli.main import default_data_path, read_data
    from engine.json_safe import json_safe
    from engine.studies.recommend import recommend

    settings = recommendation_settings(args)
    data = read_data(args, args.data or default_data_path())   # with --columns and --fill-missing-zero
    series = data.get(args.series)
    rec = json_safe(recommend(series, settings, file_series=data.series.values()))   # as /portfolio corrects it
    if args.json:
        print(json.dumps(rec, allow_nan=False))
        return 0
    print(describe(rec))
    return 0


def _said(costs: dict, quantity: str) -> str:
    """" (assumed: 20/40 of the unit price)" where one quantity's source differs from the line's overall source (a
    file's price with an assumed cost reads "costs (file)" otherwise)."""
    from engine.data.dataset import COST_RULE
    src = (costs.get("sources") or {}).get(quantity)
    if src is None or src == costs["source"]:
        return ""
    return f" (assumed: {COST_RULE})" if (quantity, src) == ("unit_cost", "assumed") else f" ({src})"


def describe(rec: dict) -> str:
    """The recommendation in a planner's words, one line per fact."""
    from engine.studies.recommendation import policy_words

    lo, hi = rec["expected_cost_ci"]
    c = rec["costs"]
    assumed = "  (assumed: edit --unit-cost / --unit-price)" if c["source"] == "assumed" else ""
    per_year = rec.get("orders_per_year")
    fill = "n/a" if rec["fill_rate"] is None else f"{rec['fill_rate']:.3f}"
    csl = "n/a" if rec["cycle_service_level"] is None else f"{rec['cycle_service_level']:.3f}"
    lines = [f"series {rec['series']}: {policy_words(rec)}",
             f"expected cost {rec['expected_cost']:,.2f} [{lo:,.2f}, {hi:,.2f}] over {rec['evaluation']['days']} days "
             f"({rec['evaluation']['paths']} evaluation paths)",
             f"fill rate {fill}  cycle service level {csl}  mean on-hand {rec['average_on_hand']:.1f}"
             + ("" if per_year is None else f"  orders per year {per_year:.1f}"),
             f"objective: {rec['objective']['meaning']}",
             f"costs ({c['source']}): h {c['h']:.4f} per unit-day, p {c['p']:.2f} per lost unit, unit cost "
             f"{c['unit_cost']:g}{_said(c, 'unit_cost')}, price {c['unit_price']:g}{_said(c, 'unit_price')}{assumed}"]
    if rec.get("caveat"):
        lines.append(f"caution: {rec['caveat']}")
    prem = rec.get("service_premium")
    if prem:
        share = "" if prem["extra_share"] is None else f" ({prem['extra_share']:.1%})"
        lines.append(f"the service objective costs {prem['extra_cost']:,.2f}{share} more than the least-cost "
                     f"recommendation ({prem['least_cost']:,.2f})")
    return "\n".join(lines)
