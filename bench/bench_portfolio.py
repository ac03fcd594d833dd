"""Portfolio speed: 1,000 series × 365 days of history (half the engine's generator, half intermittent), 20
evaluation (+ 20 selection) replications × 90 days each. `python -m bench.bench_portfolio [--series N]` prints the
wall and CPU time of reading + recommending (and the machine's load average: a busy machine stretches the wall
time), the series per second and the peak RSS of the process that did it.

Goal (issue 14): recommendations for 1,000 series in ≤ 60 s on the 2-core machine.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

HEADER = ["date", "sku", "store", "qty", "cost", "price", "lead_time"]


def write_file(path: Path, series: int, days: int, seed: int = 1) -> None:
    """Half the series from engine.data.generator (smooth demand of the public schema), half intermittent: demand on a
    share 5-30 % of days, size 1 + Poisson(1-8)."""
    from engine.data.generator import generate_rows

    smooth = series // 2
    rows = generate_rows(days=days, series=smooth, seed=seed)
    col = {c: i for i, c in enumerate(rows[0])}
    rng = np.random.default_rng(seed)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(HEADER)
        for r in rows[1:]:
            w.writerow([r[col["Date"]], r[col["SKU_ID"]], r[col["Warehouse_ID"]], r[col["Units_Sold"]],
                        r[col["Unit_Cost"]], r[col["Unit_Price"]], r[col["Supplier_Lead_Time_Days"]]])
        dates = [r[col["Date"]] for r in rows[1:days + 1]]
        for i in range(series - smooth):
            share, size = rng.uniform(0.05, 0.30), rng.uniform(1.0, 8.0)
            qty = np.where(rng.random(days) < share, 1 + rng.poisson(size, days), 0)
            cost = round(float(rng.uniform(2, 50)), 2)
            price, lead = round(cost * float(rng.uniform(1.2, 2.0)), 2), int(rng.integers(1, 15))
            for d, q in zip(dates, qty):
                w.writerow([d, f"PART_{i + 1}", "DC_1", int(q), cost, price, lead])


def run(path: str, replications: int, days: int) -> dict:
    from engine.studies.portfolio import PortfolioSettings, portfolio_totals, run_portfolio

    t0, c0 = time.perf_counter(), time.process_time()
    records = run_portfolio(path, PortfolioSettings(replications=replications, days=days))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    totals = portfolio_totals(records)
    intermittent = [r for r in records if r["class"] in ("intermittent", "lumpy")]
    return {"series": len(records), "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "load_avg_1min": round(os.getloadavg()[0], 2), "series_per_s": round(len(records) / wall, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "by_class": totals["by_class"], "by_forecaster": totals["by_forecaster"], "by_policy": totals["by_policy"],
            "mean_fill_rate": round(totals["mean_fill_rate"], 4),
            "fill_rate_within_3_points_of_target": sum(abs(r["fill_rate"] - r["target_fill_rate"]) <= 0.03
                                                       for r in records if r["fill_rate"] is not None),
            "intermittent_series": len(intermittent),
            "intermittent_mean_fill_rate": round(float(np.mean([r["fill_rate"] for r in intermittent])), 4)
            if intermittent else None}


def add_job_arguments(ap: argparse.ArgumentParser) -> None:
    """The measured job (series × history days, replications × days): one definition for this bench and
    bench_portfolio_celery, which must time the same job."""
    ap.add_argument("--series", type=int, default=1000)
    ap.add_argument("--history", type=int, default=365)
    ap.add_argument("--replications", type=int, default=20)
    ap.add_argument("--days", type=int, default=90)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_job_arguments(ap)
    ap.add_argument("--run", metavar="FILE", help=argparse.SUPPRESS)  # the measured child process
    args = ap.parse_args(argv)
    if args.run:
        print(json.dumps(run(args.run, args.replications, args.days)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "portfolio.csv"
        write_file(path, args.series, args.history)
        size_mb = os.path.getsize(path) / 2**20
        out = subprocess.run([sys.executable, "-m", "bench.bench_portfolio", "--run", str(path), "--replications",
                              str(args.replications), "--days", str(args.days)], cwd=REPO, capture_output=True,
                             text=True, check=True)
    res = json.loads(out.stdout)
    res.update({"history_days": args.history, "replications": args.replications, "days": args.days,
                "file_mb": round(size_mb, 1), "cpus": os.cpu_count(), "goal_s": 60,
                "meets_goal": res["wall_s"] <= 60})
    print(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
