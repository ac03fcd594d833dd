"""Forecasts judged on what the policy uses: the RMSE of the (L+1)-day demand sum (L = 7) beside the one-step MAE,
and the coverage of split-conformal quantiles of that sum, for ensemble:past-only against the yearly Fourier
regression and the other baselines.

    python -m bench.protection_sums [--data-public ../shared/data/supply_chain_sku1.csv] [--seeds 1] [--ets]

Protocol: per-series, the last 73 days of every series held out, rolling origins (engine.forecast.backtest).
- data/sample.csv: the bundled models/past-only (trained on the file's first year, so the holdout is unseen).
- the public file: an ensemble on past demand only trained on the file's days before the holdout, per seed, in a
  temporary folder, with the meta-learner `python -m bench.select_meta --data FILE` ranks first by inner 8-day-sum
  RMSE on this file's inner split (PUBLIC_CONFIG: stack, shared, the calendar season with a 365-day level, inner
  13.04) — chosen without the holdout. The bundled sample entry combines the base models with the yearly Fourier
  regression on the day of year (convex, shared, fourier: inner 10.306, within 0.06 % of select_meta's first on
  data/sample.csv; docs/FORECASTING.md, "Protection-period accuracy of the past-only ensemble").
Goal: ensemble:past-only's 8-day-sum RMSE ≤ the Fourier regression's on both files.
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
SAMPLE = REPO / "data" / "sample.csv"
BASELINES = ["fourier", "ma7", "ses", "seasonal-naive", "naive"]
HOLDOUT = 73
PUBLIC_CONFIG = {"use_covariates": False, "meta_fit": "stack", "extra_inputs": ("calendar",),
                 "meta": "shared", "calendar_days": 365}


def bundled_config() -> dict:
    card = json.loads((REPO / "models" / "past-only" / "card.json").read_text())
    cfg = card["training"]["config"]
    return {"use_covariates": False, "meta_fit": cfg.get("meta_kind", "stack"),
            "extra_inputs": tuple(cfg["extra_inputs"]) if cfg.get("extra_inputs") else None,
            "meta": "per-horizon" if cfg.get("meta_per_horizon") else "shared",
            "calendar_days": cfg.get("calendar_level_days")}


def rows_of(result: dict, label_of=lambda n: n) -> list[dict]:
    out = []
    for name, r in result["models"].items():
        o = r["overall"]
        cov = o["sum_coverage"]
        out.append({"model": label_of(name), "mae": o["mae"], "sum_rmse": o["sum_rmse"], "sum_n": o["sum_n"],
                    "cover_90": cov["coverage"][0], "cover_99": cov["coverage"][1], "cover_n": cov["n"]})
    return out


def run(quick: bool = False, data_public=None, seeds=(1,), ets: bool = False, log=None) -> dict:
    from engine.data.dataset import load_csv
    from engine.forecast.backtest import run_backtest
    from engine.forecast.registry import get_forecaster
    log = log or (lambda m: print(m, file=sys.stderr))
    t0 = time.perf_counter()
    baselines = BASELINES + (["ets"] if ets else [])
    files = []
    ds = load_csv(str(SAMPLE))
    model = get_forecaster("ensemble:past-only")
    res = run_backtest(ds, [model] + baselines, holdout_days=HOLDOUT, data_path=str(SAMPLE), log=log)
    cfg = bundled_config()
    files.append({"data": SAMPLE.name, "trained": f"bundled models/past-only: meta-learner {cfg['meta_fit']}, "
                  f"{cfg['meta']}, inputs {'+'.join(cfg['extra_inputs'] or ('default',))}", "rows": rows_of(res)})
    data_public = Path(data_public or SHARED_DATA)
    if data_public.exists():
        from engine.forecast.commands import train_model
        from engine.forecast.onnx_model import OnnxEnsemble
        ds = load_csv(str(data_public))
        kwargs = dict(PUBLIC_CONFIG)
        extra = {"epochs": 3} if quick else {}
        with tempfile.TemporaryDirectory() as tmp:
            models = []
            for seed in seeds:
                out = Path(tmp) / f"past-only-seed{seed}"
                train_model(str(data_public), out, seed=seed, holdout_days=HOLDOUT, log=lambda m: None,
                            command=f"bench.protection_sums seed {seed}", **kwargs, **extra)
                m = OnnxEnsemble.load(out)
                m.name = f"ensemble:past-only (trained on this file, seed {seed})"
                models.append(m)
            res = run_backtest(ds, models + baselines, holdout_days=HOLDOUT, data_path=str(data_public), log=log)
        files.append({"data": data_public.name, "trained": "past demand only, meta-learner stack of the "
                      "calendar season (365-day level), trained on the days before the holdout",
                      "rows": rows_of(res)})
    result = {"files": files, "quick": quick, "seconds": round(time.perf_counter() - t0, 1)}
    result["markdown"] = markdown(result)
    return result


def goal_met(ensemble: float, fourier: float) -> bool:
    """≤ at the reported precision (0.01): an ensemble whose weight is all on the Fourier member forecasts the
    regression up to the float32 rounding of the ONNX graph (~1e-5 units on a sum), which decides no ranking."""
    return round(ensemble, 2) <= round(fourier, 2)


def goal(rows: list[dict]) -> str:
    four = next(r for r in rows if r["model"] == "fourier")["sum_rmse"]
    ens = [r for r in rows if r["model"].startswith("ensemble:past-only")]
    return "; ".join(f"{r['model']} {r['sum_rmse']:.2f} vs fourier {four:.2f}: "
                     f"{'met' if goal_met(r['sum_rmse'], four) else 'NOT met'}" for r in ens)


def markdown(result: dict) -> str:
    lines = []
    for f in result["files"]:
        lines += [f"`{f['data']}` ({f['trained']}); last {HOLDOUT} days of every series held out"
                  + (" — quick mode (3 epochs), not for quoting" if result["quick"] else "") + ":", "",
                  "| model | one-step MAE | 8-day-sum RMSE | sums | coverage 0.90 | coverage 0.99 | scored |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for r in sorted(f["rows"], key=lambda r: r["sum_rmse"]):
            c90 = "–" if r["cover_90"] is None else f"{r['cover_90']:.3f}"
            c99 = "–" if r["cover_99"] is None else f"{r['cover_99']:.3f}"
            lines.append(f"| {r['model']} | {r['mae']:.3f} | {r['sum_rmse']:.2f} | {r['sum_n']} | {c90} | {c99} | "
                         f"{r['cover_n'][0]} / {r['cover_n'][1]} |")
        lines += ["", f"Goal (8-day-sum RMSE of ensemble:past-only ≤ Fourier regression): {goal(f['rows'])}.", ""]
    lines.append(f"{result['seconds']:.0f} s.")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-public", default=str(SHARED_DATA))
    ap.add_argument("--seeds", default="1", help="comma-separated training seeds for the public file (default 1)")
    ap.add_argument("--ets", action="store_true", help="add statsmodels ETS (slow: one fit per origin)")
    ap.add_argument("--quick", action="store_true", help="3 training epochs (smoke check)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    try:
        seeds = tuple(int(s) for s in args.seeds.split(",") if s.strip())
    except ValueError:
        print(f"error: --seeds must be comma-separated integers, got {args.seeds!r}", file=sys.stderr)
        return 2
    res = run(args.quick, args.data_public, seeds or (1,), args.ets)
    print(json.dumps({k: v for k, v in res.items() if k != "markdown"}, indent=2) if args.json else res["markdown"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
