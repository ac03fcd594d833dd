"""Today's orders from a global model (engine orders --forecaster, engine.studies.global_orders): does the promise
beside each line hold on the real days after the order date?

    python -m bench.global_orders [--data ../shared/data/real/m5_store.csv] [--cut-days 90]
                                  [--model NAME --models-dir DIR | (default) train one here]

Protocol: the file without its last `--cut-days` days (C) is what a planner has on the order date D (the day after
it); a global model is trained on it with its last 56 days held out (engine train --global's default), so its level
is calibrated on those 56 days, as /orders does on such a file. Then the C real days after D are replayed through the
one inventory day (lost sales, daily review, lead time 7, start on-hand = the level on D, nothing on order) with
S_t = the model's τ-quantile of the next 8 days recomputed each day from the real history before t — the policy
the order-up-to level belongs to. Printed per fill-rate target: the promise (mean over series of each one's fill on
the calibration days), the realised fill rate (mean over series with demand), mean closing on-hand, each class's τ,
and the time the levels took (what /orders waits for).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.global_quantiles import M5, chosen_model, data_file  # noqa: E402

TARGETS = (0.9, 0.95, 0.98)


def replayed(model, full, terms, keys, o: int, days: int, tau: np.ndarray) -> dict:
    """Realised fill per series and mean on-hand of the model's daily level at τ over the `days` after day o."""
    from engine.studies.global_orders import replay_arrays
    from engine.studies.history_replay import fill_rates
    from engine.studies.quantile_level import level_paths, replay_levels
    D, cov, lead, h, p = replay_arrays(model, [full.series[k] for k in keys], keys, terms)
    tot = replay_levels(D[:, o:o + days], level_paths(model, D, cov, o, days, lead, tau)[:, None, :], lead, h, p)
    return {"fill": fill_rates(tot), "on_hand": float((tot["on_hand"] / days).mean())}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(M5))
    ap.add_argument("--cut-days", type=int, default=90, help="days after the order date replayed (default 90)")
    ap.add_argument("--model", default=None, help="a global entry trained on the cut file (its last days held out)")
    ap.add_argument("--models-dir", default=None)
    args = ap.parse_args(argv)
    path = data_file(args.data)
    if path is None:
        return 2
    from engine.data.dataset import load_csv
    from engine.data.items import item_terms
    from engine.studies.global_orders import global_levels
    from engine.studies.orders import history_before
    from engine.studies.quantile_backtest import quantile_model
    full = load_csv(path)
    date = dt.date.fromisoformat(str(next(iter(full.series.values())).dates[-args.cut_days])[:10])

    def train(root: Path) -> str:   # on the file as it stood on the order date: without its last C days
        from bench.global_quantiles import cut_file
        from engine.forecast.global_commands import train_global_model
        from engine.forecast.global_train import GlobalConfig
        train_global_model(cut_file(path, args.cut_days, root), root / "orders-global", cfg=GlobalConfig(),
                           log=lambda m: None, command="bench.global_orders", backtest_models=())
        return "orders-global"
    with tempfile.TemporaryDirectory() as tmp:
        model = quantile_model(f"ensemble:{chosen_model(args, Path(tmp), train)}")   # loaded before tmp goes
    name = model.name.split(":", 1)[1]
    keys = list(full.series)
    terms = item_terms(full, None, checked=keys)
    hist = {k: history_before(full.series[k], date) for k in keys}
    o = len(hist[keys[0]].demand)
    print(f"{path.name}: order date {date} (the file cut {args.cut_days} days before its end), {len(keys)} series, "
          f"lead time {terms[keys[0]].lead_time}, the next {args.cut_days} real days replayed; model "
          f"ensemble:{name} (load average {os.getloadavg()[0]:.1f} on 2 cores)")
    print("| target | promised (held-out days) | realised fill (mean over series) | mean on-hand | τ by class | "
          "levels computed in |")
    print("|---:|---:|---:|---:|---|---:|")
    for target in TARGETS:
        t0 = time.perf_counter()
        recs = global_levels(model, hist, terms, date, target)
        seconds = time.perf_counter() - t0
        tau = np.array([recs[k]["params"]["quantile_level"] for k in keys])
        out = replayed(model, full, terms, keys, o, args.cut_days, tau)
        promised = np.array([np.nan if recs[k]["fill_rate"] is None else recs[k]["fill_rate"] for k in keys])
        ok = np.isfinite(out["fill"]) & np.isfinite(promised)
        taus = sorted({(recs[k]["demand_class"], round(recs[k]["params"]["quantile_level"], 3)) for k in keys})
        print(f"| {target} | {promised[ok].mean():.3f} | {out['fill'][ok].mean():.3f} | {out['on_hand']:.1f} | "
              + ", ".join(f"{c} {t}" for c, t in taus) + f" | {seconds:.1f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
