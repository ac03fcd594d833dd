"""`python -m engine orders`: today's purchase-order proposals (engine.studies.orders) from a sales file, today's
stock and optionally an item file."""
from __future__ import annotations

import json
import sys

__all__ = ["register", "cmd_orders"]


def register(subparsers, common=None) -> None:
    p = subparsers.add_parser("orders", allow_abbrev=False,
                              help="today's orders: per series the recommendation netted against on-hand and on-order "
                                   "stock, rounded to packs and MOQ, on the item's order days, with the reason")
    p.add_argument("--data", help="sales CSV (default data/sample.csv)")
    p.add_argument("--stock", required=True, help="stock CSV: item, location, on_hand, on_order, due_date")
    p.add_argument("--items", help="item CSV: item, location and any of unit_cost, unit_price, holding_rate, "
                                   "currency, moq, pack_size, order_cost, order_days (e.g. mon;thu), lead_time")
    p.add_argument("--date", required=True, help="the order date D (YYYY-MM-DD); the history before it is used")
    p.add_argument("--objective", choices=["cost", "fill-rate"], default="cost",
                   help="the recommendation's objective (default cost: least expected cost; fill-rate: the least stock "
                        "reaching --target-fill-rate, with the portfolio's out-of-time correction read on every "
                        "series of the sales file before --date)")
    p.add_argument("--target-fill-rate", type=float, default=0.95, help="fill-rate target (default 0.95)")
    p.add_argument("--replications", type=int, default=20, help="evaluation paths per series (default 20)")
    p.add_argument("--days", type=int, default=90, help="simulated days per path (default 90)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--forecaster", metavar="ensemble:NAME", default=None,
                   help="a global quantile model (engine train --global) instead of each series' recommendation: "
                        "order up to its quantile of the protection period's demand, the quantile chosen per demand "
                        "class on days it never trained on, replayed under each item's order days, packs, MOQ and K: "
                        "the least reaching --target-fill-rate (--objective fill-rate) or of least realised cost "
                        "(--objective cost; with K > 0 an (s, S) lot too)")
    p.add_argument("--models-dir", default=None, help="models folder (default $SIM_MODELS_DIR or <repo>/models)")
    p.add_argument("--out", metavar="PO.csv", help="write the order lines (quantity > 0) as CSV for an ERP")
    p.add_argument("--json", action="store_true", help="print one JSON object: orders, assumptions, notes")
    p.set_defaults(func=cmd_orders)


def _progress_printer(every: float = 5.0):
    """progress(done, total, label) for propose_orders: a line on stderr at most every `every` seconds, and for each
    fill-rate correction (a long step over the whole file), so a run of thousands of series is seen to move."""
    import time
    last = [time.monotonic()]

    def progress(_done, _total, label, long_step=False):
        now = time.monotonic()
        if long_step or now - last[0] >= every:
            last[0] = now
            print(f"orders: {label}", file=sys.stderr, flush=True)
    return progress


def cmd_orders(args) -> int:
    from engine.cli.main import default_data_path, read_data, write_output
    from engine.data.items import item_terms, read_items
    from engine.data.stock import read_stock
    from engine.json_safe import json_safe
    from engine.studies.orders import OrderSettings, parse_order_date, propose_orders, purchase_order_csv
    from engine.studies.portfolio import PortfolioSettings
    from engine.studies.recommendation import objective_words

    if args.models_dir:
        from engine import paths
        paths.use_models_dir(args.models_dir)
    date = parse_order_date(args.date)
    PortfolioSettings(replications=args.replications, days=args.days, objective=args.objective,
                      target_fill_rate=args.target_fill_rate).validate()
    settings = OrderSettings(objective=args.objective, target_fill_rate=args.target_fill_rate,
                             replications=args.replications, days=args.days, seed=args.seed,
                             forecaster=args.forecaster)
    dataset = read_data(args, args.data or default_data_path())   # with --columns and --fill-missing-zero
    stock = read_stock(args.stock, dataset)
    terms = item_terms(dataset, read_items(args.items) if args.items else None, checked=list(stock))
    result = json_safe(propose_orders(dataset, stock, terms, date, settings, progress=_progress_printer()))
    if args.out:
        write_output(args.out, purchase_order_csv(result["orders"]))
    if args.json:
        print(json.dumps(result, allow_nan=False))
        return 0
    print(f"orders for {result['weekday']} {result['date']}: {result['totals']['lines']} lines, "
          f"{result['totals']['units']} units, chosen for {objective_words(result['settings'])}")
    for o in result["orders"]:
        what = f"order {o['order_qty']} ({o['packs']} × {o['pack_size']}) arriving {o['arrival_date']}" \
            if o["order_qty"] else "no order"
        print(f"  {o['series']}: {what} — {o['reason']}")
    for a in result["assumptions"]:
        print(f"  assumption: {a['note']} ({len(a['series'])} series)")
    for n in result["notes"]:
        print(f"  note: {n}")
    for s in result["skipped"]:
        print(f"  skipped {s['series']}: {s['reason']}")
    if args.out:
        print(f"order lines written to {args.out}", file=sys.stderr)
    return 0
