"""Forecast-driven projected inventory level (forecast-pil) against the calibrated order-up-to rule: lost sales,
synthetic demand continuing data/sample.csv (SKU_1/WH_1), forecasters ensemble:past-only and ma7, lead times 2, 7
and 14, 60 evaluation replications × 180 days on common random numbers (seed 11).

`python -m bench.bench_pil [--quick] [--json]` prints, per setting, cost(PIL) ÷ cost(order-up-to) with a 95 %
interval (delta method) and the mean paired difference with its 95 % interval — once with both quantile levels
from the costs (p / (p + h)) and once with each level tuned out of sample (chosen on replications 60..119, costed
on 0..59; engine.studies.pil_comparison) — and the time of a 1,000 × 365 batch of each policy with MA(7). A sensitivity
table, labelled as such, repeats the ma7 rows with a stockout cost of 9 days of holding (critical ratio 0.9): the
data's own costs give a critical ratio of 0.9988, at which lost sales before an arrival are rare.
"""
from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from engine.simulation.batch import run_batch
from engine.simulation.simulator import SimConfig, load_series, resolve_costs
from engine.studies.pil_comparison import compare_pil_with_order_up_to

SAMPLE = REPO / "data" / "sample.csv"
FORECASTERS = ("ensemble:past-only", "ma7")
LEADS = (2, 7, 14)


def _config(forecaster: str, lead: int, days: int, policy: str = "order-up-to") -> SimConfig:
    return SimConfig(data=str(SAMPLE), series="SKU_1/WH_1", demand="synthetic", backorders=False, days=days,
                     lead_time=lead, forecaster=forecaster, seed=11, policy=policy)


def batch_seconds(policy: str, lead: int, replications: int = 1000, days: int = 365) -> dict:
    """Wall and CPU seconds of one batch (CPU time is less sensitive to other jobs on a shared machine)."""
    cfg = _config("ma7", lead, days, policy)
    series = load_series(cfg)
    run_batch(cfg, series, replications=5)  # warm-up (imports, caches)
    t0, c0 = time.perf_counter(), time.process_time()
    run_batch(cfg, series, replications=replications)
    return {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0}


# bench/report.py: this module writes the report's section of this title
SECTION = "Forecast-driven projected inventory level vs order-up-to (lost sales)"
ORDER = 70


def run(quick: bool = False) -> dict:
    reps, days = (20, 90) if quick else (60, 180)
    coarse, fine = (7, 5) if quick else (13, 9)
    forecasters = ("ma7",) if quick else FORECASTERS
    rows = []
    t_all = time.perf_counter()
    for fc in forecasters:
        for lead in LEADS:
            cfg = _config(fc, lead, days)
            t0 = time.perf_counter()
            res = compare_pil_with_order_up_to(cfg, load_series(cfg), reps, coarse=coarse, fine=fine)
            res.update(forecaster=fc, lead_time=lead, seconds=time.perf_counter() - t0)
            rows.append(res)
            print(_line(res), flush=True)
    # sensitivity, labelled as such: a stockout cost of 9 days of holding (critical ratio 0.9), where lost sales
    # before an arrival are frequent enough for the projection to matter
    sensitivity = []
    for lead in LEADS:
        cfg = _config("ma7", lead, days)
        series = load_series(cfg)
        h = resolve_costs(cfg, series)["h"]
        cfg = replace(cfg, stockout_cost=9.0 * h)
        t0 = time.perf_counter()
        res = compare_pil_with_order_up_to(cfg, series, reps, coarse=coarse, fine=fine)
        res.update(forecaster="ma7", lead_time=lead, seconds=time.perf_counter() - t0, stockout_cost=9.0 * h)
        sensitivity.append(res)
        print("p = 9h: " + _line(res), flush=True)
    timing = {}
    for lead in LEADS:
        for pol in ("order-up-to", "forecast-pil"):
            timing[f"{pol} L={lead}"] = batch_seconds(pol, lead, 200 if quick else 1000)
    out = {"settings": rows, "sensitivity_p_9h": sensitivity, "batch_1000x365_ma7_seconds": timing,
           "replications": reps, "days": days, "seconds_total": time.perf_counter() - t_all}
    out["markdown"] = markdown(out)
    return out


def _ci(pair) -> str:
    return f"[{pair[0]:.4f}, {pair[1]:.4f}]"


def _line(r: dict) -> str:
    a, b = r["from_costs"], r["tuned"]
    q = r["levels"]
    return (f"{r['forecaster']:<19} L={r['lead_time']:>2}  from costs: ratio {a['ratio']:.4f} {_ci(a['ratio_ci95'])} "
            f"diff {a['difference']:+.3f} {_ci(a['difference_ci95'])}  tuned (q PIL {q['forecast-pil']['tuned']:.4f}, "
            f"OUT {q['order-up-to']['tuned']:.4f}): ratio {b['ratio']:.4f} {_ci(b['ratio_ci95'])} "
            f"diff {b['difference']:+.3f} {_ci(b['difference_ci95'])}  ({r['seconds']:.0f} s)")


def markdown(out: dict) -> str:
    return (f"Lost sales, synthetic demand from data/sample.csv, {out['replications']} evaluation replications × "
            f"{out['days']} days, common random numbers; costs are the mean total cost per replication; ratio = "
            "PIL ÷ order-up-to (OUT).\n\nCosts from the data (stockout cost = unit price − unit cost):\n\n"
            + _table(out["settings"])
            + "\nSensitivity (not the data's costs): stockout cost = 9 × the daily holding cost (critical ratio "
            "0.9):\n\n" + _table(out.get("sensitivity_p_9h", []))
            + "\n| 1,000 × 365 batch, MA(7) | wall s | CPU s |\n|---|---|---|\n"
            + "".join(f"| {k} | {v['wall']:.2f} | {v['cpu']:.2f} |\n"
                      for k, v in out["batch_1000x365_ma7_seconds"].items()))


def _table(rows: list) -> str:
    head = ("| forecaster | L | q from costs | OUT cost | PIL cost | ratio [95 % CI] | paired diff [95 % CI] | "
            "tuned q OUT / PIL | OUT cost | PIL cost | ratio [95 % CI] | paired diff [95 % CI] |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|\n")
    lines = []
    for r in rows:
        a, b, q = r["from_costs"], r["tuned"], r["levels"]
        lines.append(
            f"| {r['forecaster']} | {r['lead_time']} | {q['order-up-to']['from_costs']:.4f} | "
            f"{a['cost_reference']:.2f} | {a['cost']:.2f} | {a['ratio']:.4f} {_ci(a['ratio_ci95'])} | "
            f"{a['difference']:+.3f} {_ci(a['difference_ci95'])} | {q['order-up-to']['tuned']:.4f} / "
            f"{q['forecast-pil']['tuned']:.4f} | {b['cost_reference']:.2f} | {b['cost']:.2f} | {b['ratio']:.4f} "
            f"{_ci(b['ratio_ci95'])} | {b['difference']:+.3f} {_ci(b['difference_ci95'])} |\n")
    return head + "".join(lines)


def main(argv=None) -> int:
    from bench.report import section_main

    return section_main(run, "python -m bench.bench_pil", "ma7 only, 20 replications × 90 days, coarser search", argv)


if __name__ == "__main__":
    raise SystemExit(main())
