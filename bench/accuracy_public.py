"""The forecasting issue's accuracy goals, measured in one command: ensembles trained on the public file itself.

    python -m bench.accuracy_public [--data ../shared/data/supply_chain_sku1.csv] [--seeds 1,2,3] [--json]

For every seed, three ensembles are trained with the train command's protocol on the days before the holdout
(last 73 days of every series): past demand only (the train defaults), past demand + the pooled calendar season
(`--meta-inputs seasonal,calendar --meta-fit convex`, the candidate bench/select_meta.py chose on the inner split),
and with covariates (promotion flag + planning forecast). Each is backtested rolling one step ahead on the
holdout (per-series protocol) and on the original notebook's split (seed protocol), beside the baselines. Models
go to a temporary folder; the file is read in place and never copied.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data" / "supply_chain_sku1.csv"

CONFIGS = [  # (name, label, train keyword arguments, goal: (protocol, MAE bound) or None)
    ("past", "ensemble, past demand only (train defaults)", dict(use_covariates=False), None),
    ("calendar", "ensemble, past demand + calendar season", dict(use_covariates=False, meta_fit="convex",
                                                                  extra_inputs=("seasonal", "calendar")),
     ("per-series", 4.4)),
    ("covariates", "ensemble, with covariates (promotion, planning)", dict(use_covariates=True),
     ("per-series", 2.05)),
]
SEED_GOAL = 4.7
BASELINES = ["naive", "seasonal-naive", "ma7", "ses", "ets", "arima", "planning"]


# bench/report.py: this module writes the report's section of this title
SECTION = "Forecast accuracy goals (ensembles trained on the public file)"
ORDER = 50


def run(quick: bool = False, data=None, seeds=(1,), log=None) -> dict:
    """Train, backtest and compare with the goals; returns figures and a Markdown table."""
    from engine.data.dataset import load_csv
    from engine.forecast.backtest import run_backtest
    from engine.forecast.commands import train_model
    from engine.forecast.onnx_model import OnnxEnsemble
    data = Path(data or SHARED_DATA)
    if not data.exists():
        return {"markdown": f"skipped: {data} is absent (the public dataset lives beside the checkout)\n"}
    log = log or (lambda m: print(m, file=sys.stderr))
    ds = load_csv(str(data))
    extra = {"epochs": 3} if quick else {}
    rows, t0 = [], time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            for name, label, kwargs, goal in CONFIGS:
                if kwargs.get("use_covariates") and any(s.planning is None for s in ds.series.values()):
                    continue
                out = Path(tmp) / f"{name}-{seed}"
                t = time.perf_counter()
                card = train_model(str(data), out, seed=seed, holdout_days=73, log=lambda m: None,
                                   command=f"bench.accuracy_public {name} seed {seed}", **kwargs, **extra)
                secs = time.perf_counter() - t
                model = OnnxEnsemble.load(out)
                per = card["backtest"]["models"][model.name]["overall"]
                seed_res = run_backtest(ds, [model], protocol="seed", holdout_days=73, data_path=str(data))
                seed_mae = seed_res["models"][model.name]["overall"]["mae"]
                rows.append({"config": name, "label": label, "seed": seed, "per_series_mae": per["mae"],
                             "per_series_rmse": per["rmse"], "seed_protocol_mae": seed_mae,
                             "train_seconds": round(secs, 1), "meta": card["meta"]["inputs"],
                             "meta_weights": card["meta"]["weights"], "goal": goal,
                             "met": None if goal is None else per["mae"] <= goal[1]})
                log(f"{label} seed {seed}: per-series MAE {per['mae']:.3f}, seed protocol {seed_mae:.3f} "
                    f"({secs:.0f} s)")
    baselines = [b for b in BASELINES if not quick or b not in ("ets", "arima")]
    if any(s.planning is None for s in ds.series.values()):
        baselines.remove("planning")
    base = run_backtest(ds, baselines, protocol="per-series", holdout_days=73, data_path=str(data))
    base_mae = {m: r["overall"]["mae"] for m, r in base["models"].items()}
    result = {"data": data.name, "seeds": list(seeds), "quick": quick, "rows": rows, "baselines_mae": base_mae,
              "seconds": round(time.perf_counter() - t0, 1)}
    result["markdown"] = markdown(result)
    return result


def markdown(result: dict) -> str:
    lines = [f"Trained on `{result['data']}` (last 73 days of every series held out), seeds "
             f"{', '.join(map(str, result['seeds']))}" + (" — quick mode (3 epochs), not for quoting" if
                                                          result["quick"] else "") + f"; {result['seconds']:.0f} s.",
             "", "| model | seed | MAE per-series | MAE seed protocol | training s | goal |",
             "|---|---:|---:|---:|---:|---|"]
    for r in result["rows"]:
        goal = "" if r["goal"] is None else f"≤ {r['goal'][1]}: {'met' if r['met'] else 'NOT met'}"
        seed_ok = "met" if r["seed_protocol_mae"] <= SEED_GOAL else "NOT met"
        lines.append(f"| {r['label']} | {r['seed']} | {r['per_series_mae']:.3f} | {r['seed_protocol_mae']:.3f} "
                     f"(≤ {SEED_GOAL}: {seed_ok}) | {r['train_seconds']:.0f} | {goal} |")
    for m, mae in sorted(result["baselines_mae"].items(), key=lambda kv: kv[1]):
        lines.append(f"| {m} (baseline) | | {mae:.3f} | | | |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(SHARED_DATA))
    ap.add_argument("--seeds", default="1", help="comma-separated seeds (default 1)")
    ap.add_argument("--quick", action="store_true", help="3 epochs, no ETS/ARIMA (smoke check)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON instead of Markdown")
    args = ap.parse_args(argv)
    try:
        seeds = tuple(int(s) for s in args.seeds.split(",") if s.strip())
    except ValueError:
        print(f"error: --seeds must be comma-separated integers, got {args.seeds!r}", file=sys.stderr)
        return 2
    res = run(args.quick, args.data, seeds or (1,))
    print(json.dumps({k: v for k, v in res.items() if k != "markdown"}, indent=2) if args.json else res["markdown"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
