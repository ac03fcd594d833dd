"""The global quantile model as the order-up-to level on real demand, beside the portfolio's per-series forecasters
(issue 23's third Must-show): promised and realised fill rate and mean on-hand over the M5 store file's last 90 days.

    python -m bench.global_policy [--data ../shared/data/real/m5_store.csv] [--cut-days N]
                                  [--model NAME --models-dir DIR | (default) train one here]

Protocol (the real-demand policy backtest, engine.studies.policy_backtest, at one origin): the scored window is the
(cut) file's last 90 days; lead time 7, daily review, lost sales, start on-hand = the level at the origin, nothing
on order; every run goes through the one inventory day (engine.simulation.kernel.InventoryKernel).
- per-series: `engine backtest-policy --objective fill-rate --target-fill-rate 0.95`: the portfolio's class,
  forecaster (ses, ma28, croston, sba, tsb) and protection level per series, its targets corrected on held-out
  windows before the origin.
- global: `engine backtest-policy --forecaster ensemble:NAME` (engine.studies.quantile_backtest): S_t = the model's
  τ-quantile of the next L + 1 = 8 days' demand, recomputed daily from the real history before t, τ calibrated for
  the same target on the 90 days before the origin. The model is trained here without the (cut) file's last 180
  days, so that it has seen neither the calibration window nor the scored one (or --model: an entry trained so).
Figures: fill rate = units served on the day / units demanded, mean over series with demand and unit-weighted;
mean closing on-hand per series-day; the promise is the mean over series of each one's promised fill rate.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.global_quantiles import add_data_and_model_options, chosen_model, cut_file, data_file  # noqa: E402

HOLDOUT = 90
LEAD = 7
TARGET = 0.95


def settings(forecaster=None):
    from engine.studies.policy_backtest import BacktestSettings
    return BacktestSettings(holdout_days=HOLDOUT, origins=1, lead_time=LEAD, objective="fill-rate",
                            target_fill_rate=TARGET, forecaster=forecaster)


def row(out: dict, seconds: float) -> dict:
    t = out["totals"]
    levels = {r["class"]: r["quantile_level"] for r in out["records"] if r.get("quantile_level") is not None}
    return {"promised": t["promised_fill_rate"], "fill": t["realised_fill_rate"],
            "units": t["realised_fill_rate_units"], "on_hand": t["average_on_hand"], "scored": t["scored"],
            "within": t["series_within_5pts"], "levels": levels, "seconds": seconds,
            "baseline": out["baseline"], "by_class": out["by_class"]}


def train(data: Path, root: Path, log) -> dict:
    from engine.forecast.global_commands import train_global_model
    from engine.forecast.global_train import GlobalConfig
    t0, c0 = time.time(), resource.getrusage(resource.RUSAGE_SELF)
    train_global_model(data, root / "policy-global", cfg=GlobalConfig(holdout_days=2 * HOLDOUT), log=log,
                       command="bench.global_policy", backtest_models=())
    c1 = resource.getrusage(resource.RUSAGE_SELF)
    return {"wall_s": time.time() - t0, "cpu_s": c1.ru_utime + c1.ru_stime - c0.ru_utime - c0.ru_stime}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_and_model_options(ap, 0, "drop the file's last N days first (another origin)",
                               "a global entry trained without the last 180 days of the cut file")
    args = ap.parse_args(argv)
    path = data_file(args.data)
    if path is None:
        return 2
    from engine.studies.policy_backtest import run_backtest
    log = lambda m: print(m, file=sys.stderr)  # noqa: E731 (one line)
    with tempfile.TemporaryDirectory() as tmp:
        data = cut_file(path, args.cut_days, Path(tmp)) if args.cut_days else path
        t0 = time.time()
        base = row(run_backtest(str(data), settings()), time.time() - t0)
        trained = {}

        def fit(root: Path) -> str:
            trained.update(train(data, root, log))
            return "policy-global"
        name = chosen_model(args, Path(tmp) / "models", fit)
        t0 = time.time()
        glob = row(run_backtest(str(data), settings(f"ensemble:{name}")), time.time() - t0)
    print(f"{path.name}{f' cut {args.cut_days} days' if args.cut_days else ''}, last {HOLDOUT} days, lead time "
          f"{LEAD}, lost sales, daily review, target {TARGET} (load average {os.getloadavg()[0]:.1f} on 2 cores)")
    print("| forecaster and level | promised | fill rate (mean over series) | fill rate (units) | mean on-hand |")
    print("|---|---:|---:|---:|---:|")
    print(f"| per-series portfolio (ses / ma28 / croston / sba / tsb) | {base['promised']:.3f} | {base['fill']:.3f} | "
          f"{base['units']:.3f} | {base['on_hand']:.1f} |")
    print(f"| global model, S = its class's calibrated quantile of the 8-day sum | {glob['promised']:.3f} | "
          f"{glob['fill']:.3f} | {glob['units']:.3f} | {glob['on_hand']:.1f} |")
    b = base["baseline"]
    print(f"| days-of-cover baseline | — | {b['realised_fill_rate']:.3f} | {b['realised_fill_rate_units']:.3f} | "
          f"{b['average_on_hand']:.1f} |")
    print("\n| class | series | level τ | promised (per-series / global) | realised fill | realised (units) | "
          "mean on-hand |")
    print("|---|---:|---:|---|---|---|---|")
    f = lambda v, d=3: "—" if v is None else f"{v:.{d}f}"  # noqa: E731 (one line)
    for c, g in glob["by_class"].items():
        b = base["by_class"].get(c, {})
        print(f"| {c} | {g['series']} | {f(glob['levels'].get(c))} | {f(b.get('promised_fill_rate'))} / "
              f"{f(g['promised_fill_rate'])} | {f(b.get('realised_fill_rate'))} / {f(g['realised_fill_rate'])} | "
              f"{f(b.get('realised_fill_rate_units'))} / {f(g['realised_fill_rate_units'])} | "
              f"{f(b.get('average_on_hand'), 1)} / {f(g['average_on_hand'], 1)} |")
    print(f"mean on-hand, global / per-series: {glob['on_hand'] / base['on_hand']:.3f}; series within 5 points of "
          f"their promise: per-series {base['within']} of {base['scored']}, global {glob['within']} of "
          f"{glob['scored']}; backtests {base['seconds']:.0f} s / {glob['seconds']:.0f} s wall"
          + (f"; global model training {trained['wall_s']:.0f} s wall, {trained['cpu_s']:.0f} s CPU" if trained
             else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
