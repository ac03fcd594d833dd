"""The global quantile model as the order-up-to level on real demand, beside the portfolio's per-series forecasters
(issue 23's third Must-show): realised fill rate and mean on-hand over the M5 store file's last 90 days.

    python -m bench.global_policy [--data ../shared/data/real/m5_store.csv] [--levels 0.9,0.95]

Protocol (the real-demand policy backtest's, bench.policy_backtest at cut 0): origin = the file's last 90 days;
lead time 7, daily review, lost sales, start on-hand = the level at the origin, nothing on order; every run goes
through the one inventory day (engine.studies.history_replay.replay, InventoryKernel).
- per-series: `engine backtest-policy` (engine.studies.policy_backtest.run_backtest, objective fill-rate, target
  0.95): the portfolio's class, forecaster (ses, ma28, croston, sba, tsb) and protection level per series.
- global: a global model trained on the file without its last 90 days (trained here, in a temporary folder; the
  shipped m5-global saw 34 of those days), order-up-to S_t = its q-quantile of the next L + 1 = 8 days' demand,
  recomputed every day from the real history before it. q is one level for every series, stated, not fitted per
  series (no calibration on held-out windows yet: the heuristic q = 0.9 / 0.95 levels are reported side by side).
Figures: fill rate = units served on the day / units demanded, mean over series with demand and unit-weighted;
mean closing on-hand per series-day.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.global_quantiles import M5  # noqa: E402

HOLDOUT = 90
LEAD = 7
TARGET = 0.95


def per_series(path: Path) -> dict:
    from engine.studies.policy_backtest import BacktestSettings, run_backtest
    out = run_backtest(str(path), BacktestSettings(holdout_days=HOLDOUT, origins=1, lead_time=LEAD,
                                                   objective="fill-rate", target_fill_rate=TARGET))
    t = out["totals"]
    return {"fill": t["realised_fill_rate"], "units": t["realised_fill_rate_units"], "on_hand": t["average_on_hand"],
            "promised": t["promised_fill_rate"], "scored": t["scored"]}


def global_levels(path: Path, levels, log=print) -> tuple[dict, dict]:
    from engine import paths
    from engine.data.dataset import load_csv
    from engine.forecast.backtest import targets_per_series
    from engine.forecast.global_commands import train_global_model
    from engine.forecast.global_train import GlobalConfig
    from engine.forecast.prices import attach_prices
    from engine.forecast.registry import get_forecaster
    from engine.forecast.series_covariates import stacked_covariates
    from engine.studies.history_replay import fill_rates, replay
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "models"
        t0, c0 = time.time(), resource.getrusage(resource.RUSAGE_SELF)
        train_global_model(path, root / "policy-global", cfg=GlobalConfig(holdout_days=HOLDOUT), log=log,
                           command="bench.global_policy", backtest_models=())
        c1 = resource.getrusage(resource.RUSAGE_SELF)
        train = {"wall_s": time.time() - t0, "cpu_s": c1.ru_utime + c1.ru_stime - c0.ru_utime - c0.ru_stime}
        paths.use_models_dir(root)
        model = get_forecaster("ensemble:policy-global")
        ds = load_csv(path)
        attach_prices(ds, path)
        targets = targets_per_series(ds, HOLDOUT)
        D = np.stack([t.demand for t in targets]).astype(np.float64)
        origin = D.shape[1] - HOLDOUT
        cov = stacked_covariates(targets, model.horizon)
        S = np.stack([model.predict_sum_quantiles(D[:, :origin + d], cov.take(origin + d + model.horizon),
                                                  LEAD + 1, levels) for d in range(HOLDOUT)], axis=2)  # (n, k, H)
    held = D[:, origin:]
    n = len(D)
    lead = np.full(n, LEAD, dtype=np.int64)
    out = {}
    for j, q in enumerate(levels):
        tot = replay(held, S[:, j, 0], lead, np.zeros(n), np.zeros(n), lambda d, pos, j=j: S[:, j, d] - pos)
        fill = fill_rates(tot)
        ok = ~np.isnan(fill)
        out[format(q, "g")] = {"fill": float(fill[ok].mean()),
                               "units": float(tot["fulfilled"].sum() / tot["demand"].sum()),
                               "on_hand": float((tot["on_hand"] / HOLDOUT).mean()), "scored": int(ok.sum())}
    return out, train


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(M5))
    ap.add_argument("--levels", default="0.9,0.95")
    args = ap.parse_args(argv)
    path = Path(args.data)
    if not path.is_file():
        print(f"error: {path} not found (set SIM_SHARED_DIR)", file=sys.stderr)
        return 2
    levels = tuple(float(x) for x in args.levels.split(","))
    t0 = time.time()
    base = per_series(path)
    base_s = time.time() - t0
    glob, train = global_levels(path, levels, log=lambda m: print(m, file=sys.stderr))
    print(f"{path.name}, last {HOLDOUT} days, lead time {LEAD}, lost sales, daily review "
          f"(load average {os.getloadavg()[0]:.1f} on 2 cores)")
    print("| forecaster and level | fill rate (mean over series) | fill rate (units) | mean on-hand |")
    print("|---|---:|---:|---:|")
    print(f"| per-series portfolio (target {TARGET}, promised {base['promised']:.3f}) | {base['fill']:.3f} | "
          f"{base['units']:.3f} | {base['on_hand']:.1f} |")
    for q, r in glob.items():
        print(f"| global model, S = q{q} of the 8-day sum | {r['fill']:.3f} | {r['units']:.3f} | {r['on_hand']:.1f} |")
    print(f"per-series backtest {base_s:.0f} s wall; global model training {train['wall_s']:.0f} s wall, "
          f"{train['cpu_s']:.0f} s CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
