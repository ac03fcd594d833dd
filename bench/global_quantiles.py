"""The global quantile model against the per-series baselines on real retail demand (the M5 store file): scaled
pinball loss of 8-day-sum quantiles, coverage, training time and batch serving time.

    python -m bench.global_quantiles [--data ../shared/data/real/m5_store.csv] [--model m5-global]
                                     [--cut-days N --train] [--networks mlp,cnn,lstm]

Protocol (engine.forecast.sum_quantiles): the last 56 days of every series held out, 7 origins one every 8 days,
quantiles 0.5, 0.9, 0.95, 0.99 of each origin's 8-day sum; scaled pinball = pinball ÷ (8 × the series' mean
absolute one-day change before the holdout), averaged over series, origins and quantiles (M5's scale). Baselines
take quantiles from their own rolling out-of-sample sum errors, additive or relative as they score better before
the holdout. `--cut-days N` drops the last N days of the file first (another cut date) and, with `--train`, trains
a model on the cut file in a temporary folder (the shipped entry was trained on the whole file minus its holdout).
The training settings (GlobalConfig's defaults: origins every 2 days, 200 boosting iterations at learning rate
0.05) were chosen on the cut 168 days before the file's end; the inputs' series scale (its recent term) and holiday
inputs on the cuts 112 and 168; cuts 0, 28, 56 and 84 are scored, never used to choose.
Goals (issue 23): scaled pinball ≤ 0.92 × the best baseline; coverage of q = 0.9 within ±0.03 and of q = 0.99
within ±0.015; training ≤ 10 minutes on this 2-core machine; batch serving ≤ 50 µs per series-row.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    env = os.environ.get("SIM_SHARED_DIR")
    for p in ([Path(env)] if env else []) + [REPO.parent / "shared", Path("/work/shared")]:
        if p.is_dir():
            return p
    return REPO.parent / "shared"


M5 = shared_dir() / "data" / "real" / "m5_store.csv"
HOLDOUT = 56
SUM_DAYS = 8
QUANTILES = (0.5, 0.9, 0.95, 0.99)
GOAL_RATIO = 0.92


def data_file(arg) -> Path | None:
    """The benchmark's --data file, or None once stderr says it is missing (the caller exits with 2)."""
    path = Path(arg)
    if path.is_file():
        return path
    print(f"error: {path} not found (set SIM_SHARED_DIR)", file=sys.stderr)
    return None


def add_data_and_model_options(ap, cut_days: int, cut_help: str, model_help: str) -> None:
    """--data, --cut-days, --model and --models-dir of the benchmarks that score a global model they may train
    (read back by data_file and chosen_model)."""
    ap.add_argument("--data", default=str(M5))
    ap.add_argument("--cut-days", type=int, default=cut_days, help=cut_help)
    ap.add_argument("--model", default=None, help=model_help)
    ap.add_argument("--models-dir", default=None)


def chosen_model(args, models_root: Path, train) -> str:
    """The global model a benchmark scores: --model (in --models-dir when given), or the one `train(models_root)`
    trains there and names; the models folder is set for the registry either way."""
    from engine import paths
    if args.model:
        if args.models_dir:
            paths.use_models_dir(args.models_dir)
        return args.model
    name = train(models_root)
    paths.use_models_dir(models_root)
    return name


def cut_file(data: Path, days: int, out_dir: Path) -> Path:
    """A copy of a date-keyed file without its last `days` dates."""
    import pandas as pd
    frame = pd.read_csv(data)
    date_col = next(c for c in frame.columns if c.lower() in ("date", "ds", "day"))
    last = sorted(frame[date_col].unique())[-days - 1]
    out = out_dir / f"{data.stem}_cut{days}.csv"
    frame[frame[date_col] <= last].to_csv(out, index=False)
    return out


def serving_us(model, ds, repeats: int = 20, rounds: int = 5) -> tuple[float, float]:
    """(wall, CPU) µs per series-row of predict_sum_quantiles over all series at once (features + ONNX + assembly;
    one thread): the median over `rounds` of the mean of `repeats` calls. The CPU figure is what the call costs; on a
    shared machine the wall figure also holds the time other processes held the core. One round alone moved by
    ±15 % from round to round in one idle process (41–56 µs), so a single reading could pass or fail the goal; the
    median of five still moved 38–57 µs on a day this VM's speed varied (a 600 × 600 matmul 10–20 ms)."""
    from engine.forecast.backtest import targets_per_series
    from engine.forecast.series_covariates import stacked_covariates
    targets = targets_per_series(ds, HOLDOUT)
    D = np.stack([t.demand for t in targets])
    o = D.shape[1] - HOLDOUT
    cov = stacked_covariates(targets, model.horizon).take(o + model.horizon)
    model.predict_sum_quantiles(D[:, :o], cov, SUM_DAYS, QUANTILES)
    per = repeats * len(D) / 1e6
    walls, cpus = [], []
    for _ in range(rounds):
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(repeats):
            model.predict_sum_quantiles(D[:, :o], cov, SUM_DAYS, QUANTILES)
        walls.append((time.perf_counter() - t0) / per)
        cpus.append((time.process_time() - c0) / per)
    return float(np.median(walls)), float(np.median(cpus))


def score(data: Path, models_root: Path, name: str, log=print) -> dict:
    from engine import paths
    from engine.data.dataset import load_csv
    from engine.forecast.backtest import run_backtest
    from engine.forecast.global_commands import BASELINES
    from engine.forecast.registry import get_forecaster
    paths.use_models_dir(models_root)
    ds = load_csv(data)  # with each series' price plan
    model = get_forecaster(f"ensemble:{name}")
    t0 = time.time()
    res = run_backtest(ds, [model, *BASELINES], "per-series", HOLDOUT, data_path=data, sum_days=SUM_DAYS,
                       quantiles=QUANTILES)
    seconds = time.time() - t0
    rows = {n: r["overall"] for n, r in res["models"].items()}
    best_name = min(BASELINES, key=lambda n: rows[n]["scaled_pinball"])
    g = rows[model.name]
    ratio = g["scaled_pinball"] / rows[best_name]["scaled_pinball"]
    cov = g["coverage"]
    serving, serving_cpu = serving_us(model, ds)
    out = {"data": data.name, "days": int(len(next(iter(ds.series.values())).demand)), "series": len(ds.series),
           "model": model.name, "rows": {n: {"scaled_pinball": r["scaled_pinball"], "coverage": r["coverage"],
                                               "method": r["method"], "mae": r["mae"]} for n, r in rows.items()},
           "best_baseline": best_name, "ratio": ratio, "serving_us_per_row": serving,
           "serving_cpu_us_per_row": serving_cpu, "load_average": os.getloadavg()[0],
           "backtest_seconds": seconds, "members": model.card.get("members"),
           "goals": {"ratio <= 0.92": ratio <= GOAL_RATIO, "coverage 0.9 within 0.03": abs(cov["0.9"] - 0.9) <= 0.03,
                     "coverage 0.99 within 0.015": abs(cov["0.99"] - 0.99) <= 0.015,
                     "serving <= 50 µs CPU per series-row": serving_cpu <= 50}}
    return out


def print_table(r: dict, log=print) -> None:
    log(f"{r['data']} ({r['series']} series × {r['days']} days), holdout {HOLDOUT} days, {SUM_DAYS}-day sums, "
        f"quantiles {', '.join(map(str, QUANTILES))}")
    log("| model | scaled pinball | quantiles from | " + " | ".join(f"cov {q}" for q in QUANTILES) + " |")
    log("|---|---:|---|" + "---:|" * len(QUANTILES))
    for n, o in sorted(r["rows"].items(), key=lambda kv: kv[1]["scaled_pinball"]):
        log(f"| {n} | {o['scaled_pinball']:.4f} | {o['method']} | "
            + " | ".join(f"{o['coverage'][format(q, 'g')]:.3f}" for q in QUANTILES) + " |")
    log(f"ratio to the best baseline ({r['best_baseline']}): {r['ratio']:.3f} (goal ≤ {GOAL_RATIO})")
    log(f"batch serving: {r['serving_cpu_us_per_row']:.1f} µs CPU per series-row (goal ≤ 50), "
        f"{r['serving_us_per_row']:.1f} µs wall at load average {r['load_average']:.1f} on 2 cores")
    for goal, ok in r["goals"].items():
        log(f"  {'met' if ok else 'NOT met'}: {goal}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(M5))
    ap.add_argument("--model", default="m5-global", help="entry under --models-dir (default m5-global)")
    ap.add_argument("--models-dir", default=str(REPO / "models"))
    ap.add_argument("--cut-days", type=int, default=0, help="drop the file's last N days first")
    ap.add_argument("--train", action="store_true", help="train a model on the (cut) file in a temporary folder")
    ap.add_argument("--networks", default="")
    ap.add_argument("--threads", type=int, default=None,
                    help="threads of the training (default: the cores this process may use, as engine train)")
    ap.add_argument("--meta-days", type=int, default=None,
                    help="with --train: days before the holdout that fit the meta-learner (default: GlobalConfig's)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    data = data_file(args.data)
    if data is None:
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.cut_days:
            data = cut_file(data, args.cut_days, tmp)
        models_root, name = Path(args.models_dir), args.model
        train = None
        if args.train:
            from engine.forecast.global_commands import train_global_model
            from engine.forecast.global_train import GlobalConfig, available_cores
            models_root, name = tmp / "models", "bench-global"
            nets = tuple(x for x in args.networks.split(",") if x)
            t0, c0 = time.time(), resource.getrusage(resource.RUSAGE_SELF)
            extra = {} if args.meta_days is None else {"meta_days": args.meta_days}
            threads = available_cores() if args.threads is None else args.threads
            cfg = GlobalConfig(networks=nets, threads=threads, **extra)
            train_global_model(data, models_root / name, cfg=cfg,
                               log=lambda m: print(m, file=sys.stderr), command="bench.global_quantiles",
                               backtest_models=())
            c1 = resource.getrusage(resource.RUSAGE_SELF)
            train = {"wall_seconds": time.time() - t0, "cpu_seconds": (c1.ru_utime + c1.ru_stime)
                     - (c0.ru_utime + c0.ru_stime), "load_average": os.getloadavg()[0]}
        r = score(data, models_root, name)
        r["train"] = train
        r["cut_days"] = args.cut_days
    if args.json:
        print(json.dumps(r, indent=2))
    else:
        if train:
            print(f"training: {train['wall_seconds']:.0f} s wall, {train['cpu_seconds']:.0f} s CPU "
                  f"(load average {train['load_average']:.1f} on 2 cores)")
        print_table(r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
