"""The order cost K in the recommendation (engine.studies.portfolio.run_chunk): the K-aware choice — order-up-to,
(r, Q) or (s, S) with a lot among 0.25..3 × EOQ, by expected cost including K per order — against the K-blind
recommendation (chosen with K = 0) charged K for the orders it places, on the same evaluation paths.

The evaluation paths are keyed by seed and series, and K changes no order quantity, so the K-blind rule's cost with
K is exactly its holding + lost sales plus K × its orders there. Files: data/sample.csv (5 series, its prices) and,
when it is beside the checkout ($SIM_SHARED_DIR/data/real or ../shared/data/real), the first series of the M5 store
file (sell_price as the price). Lead time 7, 90 days × 20 evaluation paths (as many selection ones), seed 1,
K ∈ {5, 25}. Per file and K: total cost of each, orders per year, the policies chosen, and how many series the
K-aware choice costs more than the K-blind one (it is chosen on other paths than it is costed on, so a few may).

`python -m bench.bench_recommend_order_cost [--quick] [--json]` prints the table.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from engine.data.dataset import load_csv  # noqa: E402
from engine.studies.portfolio import PortfolioSettings, run_portfolio  # noqa: E402

SECTION = "Order costs in the recommendation: the K-aware choice against the K-blind one charged K"
ORDER_COSTS = (5.0, 25.0)


def _m5() -> Path | None:
    base = Path(os.environ["SIM_SHARED_DIR"]) if os.environ.get("SIM_SHARED_DIR") else REPO.parent / "shared"
    path = base / "data" / "real" / "m5_store.csv"
    return path if path.exists() else None


def compare(name: str, series: list, K: float, blind: list, settings: dict) -> dict:
    t0 = time.perf_counter()
    aware = run_portfolio(series, PortfolioSettings(**settings, order_cost=K))
    seconds = time.perf_counter() - t0
    per_year = 365.0 / settings["days"]
    blind_k = [b["expected_cost"] + K * b["orders"] for b in blind]
    policies: dict[str, int] = {}
    for r in aware:
        policies[r["policy"]] = policies.get(r["policy"], 0) + 1
    return {"file": name, "series": len(series), "order_cost": K,
            "blind_cost_with_k": sum(blind_k), "blind_orders_per_year": sum(b["orders"] for b in blind) * per_year,
            "aware_cost": sum(r["expected_cost"] for r in aware),
            "aware_orders_per_year": sum(r["orders"] for r in aware) * per_year, "policies": policies,
            "series_costlier": sum(1 for r, c in zip(aware, blind_k) if r["expected_cost"] > c + 1e-9),
            "seconds": seconds}


def run(quick: bool = False) -> dict:
    settings = {"lead_time": 7, "seed": 1, "days": 90, "replications": 10 if quick else 20}
    files = [("data/sample.csv", list(load_csv(REPO / "data" / "sample.csv").series.values()))]
    m5 = _m5()
    if m5 is not None:
        files.append((f"M5 store, first {10 if quick else 40} series",
                      list(load_csv(m5).series.values())[:10 if quick else 40]))
    rows = []
    t0 = time.perf_counter()
    for name, series in files:
        blind = run_portfolio(series, PortfolioSettings(**settings))
        rows.extend(compare(name, series, K, blind, settings) for K in ORDER_COSTS)
    out = {"settings": settings, "rows": rows, "seconds_total": time.perf_counter() - t0}
    out["markdown"] = markdown(out)
    return out


def markdown(out: dict) -> str:
    s = out["settings"]
    head = ("| file | series | K | K-blind charged K: cost | orders/yr | K-aware: cost | orders/yr | policies | "
            "series costlier |\n|---|---|---|---|---|---|---|---|---|\n")
    lines = [f"| {r['file']} | {r['series']} | {r['order_cost']:g} | {r['blind_cost_with_k']:,.1f} | "
             f"{r['blind_orders_per_year']:,.0f} | {r['aware_cost']:,.1f} | {r['aware_orders_per_year']:,.0f} | "
             f"{', '.join(f'{k} {v}' for k, v in sorted(r['policies'].items()))} | {r['series_costlier']} |\n"
             for r in out["rows"]]
    return (f"Lead time {s['lead_time']}, {s['replications']} evaluation paths × {s['days']} days, seed {s['seed']}; "
            "totals over the file's series; the K-blind recommendation is chosen with K = 0 and charged K × its "
            "orders on the same evaluation paths.\n\n" + head + "".join(lines))


def main(argv=None) -> int:
    from bench.report import section_main

    return section_main(run, "python -m bench.bench_recommend_order_cost", "10 paths; 10 M5 series", argv)


if __name__ == "__main__":
    raise SystemExit(main())
