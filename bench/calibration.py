"""Is the order-up-to level calibrated? `python -m bench.calibration [options]` prints one row per cell.

A cell = data file × forecaster × demand mode × lost sales / backorders × lead time L. In each cell, on common
random numbers (60 paths × 180 days, seed 11 by default):
- ratio: cost of the order-up-to rule at the critical ratio (z from costs) on the evaluation paths 0..R−1 ÷ cost
  of the same rule with the best z, chosen on the selection paths R..2R−1 and costed on 0..R−1 (goal ≤ 1.05);
- cov90 / cov99: coverage of the (L+1)-day quantile at service levels 0.90 and 0.99 — the share of decision days
  whose realised demand over the protection period is ≤ μ_t + safety_t (goal: within ±2 points); with a random
  lead time (`--lead-time-dist poisson:5,uniform:4:10`) the period is the realised one, from the order day to the
  arrival of that day's order (engine.studies.optimum.calibration_of);
- base: the best constant base-stock level (chosen on the selection paths, costed on the evaluation paths) and
  the forecast-driven rule's cost against it.
Tuned parameters are never scored on the paths they were chosen on. The public file
(../shared/data/supply_chain_sku1.csv, relative to the repository) is skipped with a note when absent.

Examples: `python -m bench.calibration --quick` (sample data, ma7, L = 7, both modes and stock rules);
`python -m bench.calibration --forecasters ma7,ses --lead-times 2,7,14 --data sample`;
`--data my.csv` runs the grid on a file of one's own (its first series).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from engine.data.dataset import load_csv  # noqa: E402
from engine.errors import ConfigError  # noqa: E402
from engine.simulation.simulator import SimConfig, parse_lead_time_dist  # noqa: E402
from engine.studies.optimum import _Study, calibration_of, search_base_stock, search_z  # noqa: E402

DATA = {"sample": REPO / "data" / "sample.csv",
        "public": REPO.parent / "shared" / "data" / "supply_chain_sku1.csv"}
FORECASTERS = ["ma7", "ses", "ensemble:past-only", "ensemble:default"]
MODES = ["synthetic", "forecast-noise"]
STOCK = ["lost", "backorders"]
LEAD_TIMES = [2, 7, 14]


def run_cell(series, data_path, forecaster, mode, stock, L, replications, days, seed, quick=True,
             with_base_stock=False) -> dict:
    """One cell's figures (see the module docstring). L: a fixed lead time (int) or a distribution's text
    ('poisson:5', 'uniform:4:10')."""
    from scipy.stats import norm

    fixed = isinstance(L, int)
    cfg = SimConfig(data=str(data_path), forecaster=forecaster, demand=mode, backorders=(stock == "backorders"),
                    lead_time=L if fixed else 0, lead_time_dist=None if fixed else parse_lead_time_dist(L),
                    days=days, replications=replications, seed=seed).validate()
    t0 = time.perf_counter()
    ev = _Study(cfg, series, replications)
    sel = _Study(cfg, series, replications, initial_inventory=ev.base.initial_inventory,
                 first_replication=replications)
    ou = ev.run("order-up-to", {}, keep=replications)
    cost_cr = float(np.mean(ou.kpis["total_cost"]))
    coarse, fine = (9, 5) if quick else (13, 9)
    best_z, _, _, _ = search_z(sel, coarse, fine)
    cost_best = float(np.mean(ev.cost("order-up-to", {"service_level": float(norm.cdf(best_z))})))
    cov = {}
    for q in (0.90, 0.99):
        res = ev.run("order-up-to", {"service_level": q}, keep=replications)
        cov[q] = calibration_of(res, q)["coverage"]
    out = {"forecaster": forecaster, "mode": mode, "stock": stock, "L": L,
           "z_cr": ou.info["policy"]["z"], "best_z": best_z, "cost_cr": cost_cr, "cost_best_z": cost_best,
           "ratio": cost_cr / cost_best if cost_best > 0 else float("nan"),
           "cov_cr": calibration_of(ou, ou.info["protection"]["quantile_level"])["coverage"],
           "cov90": cov[0.90], "cov99": cov[0.99]}
    if with_base_stock:
        center = float(np.mean(ou.kept["order_up_to"]))
        level, _, _, _ = search_base_stock(sel, center, coarse, fine)
        out["base_stock"] = level
        out["cost_base_stock"] = float(np.mean(ev.cost("base-stock", {"base_stock_level": level})))
    out["seconds"] = time.perf_counter() - t0
    return out


def fmt_row(data, r) -> str:
    base = "" if "cost_base_stock" not in r else f" | {r['cost_base_stock']:.1f}"
    return (f"| {data} | {r['forecaster']} | {r['mode']} | {r['stock']} | {r['L']} | {r['z_cr']:.2f} | "
            f"{r['best_z']:.2f} | {r['cost_cr']:.1f} | {r['cost_best_z']:.1f} | {r['ratio']:.3f} | "
            f"{r['cov90']:.3f} | {r['cov99']:.3f}{base} |")


HEADER = ("| data | forecaster | demand | stock | L | z (costs) | best z (selection) | cost z (costs) | cost best z "
          "| ratio | cov 0.90 | cov 0.99 |")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.calibration", description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="sample,public",
                    help="comma list of: sample, public, or paths of .csv files in the public schema")
    ap.add_argument("--forecasters", default=",".join(FORECASTERS))
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--stock", default=",".join(STOCK), help="comma list of: lost, backorders")
    ap.add_argument("--lead-times", default=",".join(map(str, LEAD_TIMES)))
    ap.add_argument("--lead-time-dist", default="",
                    help="comma list of random lead times, e.g. poisson:5,uniform:4:10 (replaces --lead-times; "
                         "coverage is then over the realised protection periods)")
    ap.add_argument("--replications", type=int, default=60)
    ap.add_argument("--days", type=int, default=180)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--base-stock", action="store_true",
                    help="also the best constant base-stock (chosen out of sample) in synthetic cells")
    ap.add_argument("--quick", action="store_true", help="sample data, ma7, L = 7 only")
    a = ap.parse_args(argv)
    if a.quick:
        a.data, a.forecasters, a.lead_times = "sample", "ma7", "7"
    try:
        lead_times = [int(x) for x in a.lead_times.split(",")]
    except ValueError:
        print(f"error: --lead-times must be whole numbers, got {a.lead_times!r}", file=sys.stderr)
        return 2
    if a.lead_time_dist:
        lead_times = [x.strip() for x in a.lead_time_dist.split(",") if x.strip()]
        for x in lead_times:
            try:
                parse_lead_time_dist(x)
            except ConfigError as exc:
                print(f"error: --lead-time-dist: {exc}", file=sys.stderr)
                return 2
    files = {}
    for name in a.data.split(","):
        if name in DATA:
            files[name] = DATA[name]
        elif name.lower().endswith(".csv") and Path(name).is_file():
            files[Path(name).stem] = Path(name)
        else:
            print(f"error: unknown data {name!r}; choose from {', '.join(DATA)} or give a .csv file that exists",
                  file=sys.stderr)
            return 2
    print(f"seed {a.seed}, {a.replications} evaluation + {a.replications} selection paths × {a.days} days")
    print(HEADER + (" cost best base-stock |" if a.base_stock else ""))
    print("|" + "---|" * (HEADER.count("|") - 1 + (1 if a.base_stock else 0)))
    ratios, covs = [], []
    for name, path in files.items():
        if not path.exists():
            print(f"(skipped {name}: {path} is absent)")
            continue
        series = load_csv(path).get(None)
        for fc in a.forecasters.split(","):
            for mode in a.modes.split(","):
                for stock in a.stock.split(","):
                    for L in lead_times:
                        try:
                            r = run_cell(series, path, fc, mode, stock, L, a.replications, a.days, a.seed,
                                         with_base_stock=a.base_stock and mode == "synthetic")
                        except Exception as exc:  # a forecaster that cannot serve this file: say so, go on
                            print(f"| {name} | {fc} | {mode} | {stock} | {L} | failed: {exc} |")
                            continue
                        ratios.append(r["ratio"])
                        covs.append((r["cov90"] - 0.90, r["cov99"] - 0.99))
                        print(fmt_row(name, r), flush=True)
    if ratios:
        c = np.array(covs)
        print(f"\ncells {len(ratios)}: ratio max {max(ratios):.3f}, median {float(np.median(ratios)):.3f}, "
              f"≤ 1.05 in {sum(x <= 1.05 for x in ratios)}; coverage error 0.90: max |{np.abs(c[:, 0]).max():.3f}|, "
              f"0.99: max |{np.abs(c[:, 1]).max():.3f}|; within ±0.02: "
              f"{int(np.sum(np.abs(c) <= 0.02))} of {c.size}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
