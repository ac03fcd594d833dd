"""CLI subcommands of the forecasting work: `train`, `import-pkl`, `backtest` (registered by engine/cli/main.py).

Each handler returns an exit code: 0 success, 2 bad input (message on stderr naming the file/field), 1 failure.
TensorFlow is only imported by `train` and `import-pkl`, inside their handlers.
"""
from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

from engine import paths
from engine.forecast.export import out_dir_problem
from engine.forecast.native_stderr import filtered_native_stderr
from engine.forecast.training_files import load_training_file

CARD_MD = "CARD.md"


DEFAULT_META = "shared"
REPLACE_HELP = ("replace the model entry --out already holds, its graphs the new card does not name removed "
                "(without it such a folder is refused before any work)")


def _parents(common):
    if common is None:
        return []
    return list(common) if isinstance(common, (list, tuple)) else [common]


def register(subparsers, common=None) -> None:
    """Add the train, import-pkl and backtest parsers to an argparse subparsers object."""
    p = subparsers.add_parser("train", parents=_parents(common),
                              help="train the forecasting ensemble and export it to models/NAME (ONNX + card)")
    p.add_argument("--data", required=True, help="CSV file (the format of data/sample.csv)")
    p.add_argument("--series", default=None, help="comma-separated series keys (default: every series)")
    p.add_argument("--holdout-days", type=int, default=None,
                   help="last days of every series never used (default 73; with --global 56)")
    p.add_argument("--epochs", type=int, default=150, help="maximum epochs per base model (early stopping)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--no-covariates", action="store_true",
                   help="past demand only (no promotion flag, no planning forecast)")
    p.add_argument("--window", type=int, default=28)
    p.add_argument("--meta", choices=["per-horizon", "shared"], default=DEFAULT_META,
                   help=f"meta-learner: one linear stack per forecast horizon or one for all (default {DEFAULT_META})")
    p.add_argument("--meta-fit", choices=["stack", "convex"], default="stack",
                   help="stack: non-negative weights and a free bias (default); convex: weights >= 0 summing to 1")
    p.add_argument("--meta-inputs", default=None,
                   help="comma-separated per-horizon meta-learner inputs besides the base models, from "
                        "seasonal, planning, ma7, calendar, fourier (default: seasonal[,planning with covariates]); "
                        "calendar: a yearly season by day of year pooled over the file's series (needs dates); "
                        "fourier: the yearly sine/cosine regression of the series' own history")
    p.add_argument("--calendar-days", type=int, default=None,
                   help="level window (days) of the calendar meta input (default 91; bench/select_meta.py scores "
                        "91 and 365)")
    p.add_argument("--out", required=True, help="output folder, e.g. models/default")
    p.add_argument("--replace", action="store_true", help=REPLACE_HELP)
    p.add_argument("--json", action="store_true", help="print the card as JSON")
    p.add_argument("--global", dest="global_model", action="store_true",
                   help="train the global quantile model (gradient-boosted trees across all series; quantiles of "
                        "the 1-31-day demand sums; engine.forecast.global_train) instead of the per-layout ensemble; "
                        "uses --holdout-days (default here 56), --seed, --networks, --meta-days")
    p.add_argument("--networks", default="",
                   help="with --global: comma-separated network members to try beside the trees (mlp, cnn, lstm; "
                        "needs TensorFlow); a member the meta-learner gives weight 0 is named on the card, not shipped")
    p.add_argument("--meta-days", type=int, default=56, help="with --global: days before the holdout that fit the "
                                                              "meta-learner and no member (default 56)")
    p.add_argument("--threads", type=int, default=None,
                   help="with --global: threads of the tree fits (default: the cores this process may use)")
    p.set_defaults(func=cmd_train)

    p = subparsers.add_parser("import-pkl", parents=_parents(common),
                              help="convert the original app's model pickle (TRUSTED files only) to ONNX + card")
    p.add_argument("file", help="the original's ensemble_forecast_model.pkl (unpickling runs code: trust it)")
    p.add_argument("--out", required=True, help="output folder, e.g. models/original")
    p.add_argument("--replace", action="store_true", help=REPLACE_HELP)
    p.add_argument("--context", default=None,
                   help="optional context CSV (like sku1_last_30days.csv: the model's feature columns, at least its "
                        "30 rows): verifies on it and holds the columns the simulator lacks at its last row")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_import_pkl)

    p = subparsers.add_parser("backtest", parents=_parents(common),
                              help="rolling one-step-ahead backtest of forecasters on held-out days")
    p.add_argument("--data", required=True)
    p.add_argument("--holdout-days", type=int, default=None,
                   help="the last days of every series scored (default 73, or fewer when a model of the run was "
                        "trained on this file and never read only its last N: a global model leaves out 56)")
    p.add_argument("--models", default=None,
                   help="comma-separated forecaster names, e.g. ensemble:default,ses,ma7 (default: the baselines "
                        "and every ensemble)")
    p.add_argument("--protocol", choices=["per-series", "seed"], default="per-series")
    p.add_argument("--series", default=None, help="comma-separated series keys (default: every series)")
    p.add_argument("--models-dir", default=None, help="models folder (default $SIM_MODELS_DIR or <repo>/models)")
    p.add_argument("--sum-days", type=int, default=8,
                   help="days of the demand sums scored (the protection period L + 1; default 8)")
    p.add_argument("--quantiles", default=None,
                   help="comma-separated quantile levels of the sums to score, e.g. 0.5,0.9,0.95,0.99: scaled "
                        "pinball loss and coverage per model (origins every --sum-days days in the holdout)")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    p.set_defaults(func=cmd_backtest)


def _out_refusal(args) -> str | None:
    """Why train's or import-pkl's --out cannot take the model (engine.forecast.export.out_dir_problem, an existing
    entry refused without --replace), checked before any work; None when it can."""
    problem = out_dir_problem(args.out, args.replace)
    return f"--out {args.out}: {problem}" if problem else None


def _err(msg: str) -> int:
    print(f"error: {msg}", file=sys.stderr)
    return 2


# -- train --------------------------------------------------------------------------------------------------------
def train_model(data, out, *, series=None, holdout_days=73, epochs=150, seed=1, use_covariates=True, window=28,
                meta=DEFAULT_META, meta_fit="stack", extra_inputs=None, log=print, command=None,
                calendar_days=None, columns=None, fill_missing_zero=False) -> dict:
    """Train, export, verify and backtest; writes out/model.onnx, out/card.json and out/CARD.md. Returns the card."""
    import numpy as np

    from engine.errors import DataError
    from engine.forecast import backtest as B
    from engine.forecast import export as E
    from engine.forecast import features as F
    from engine.forecast import train as T
    from engine.forecast.onnx_model import OnnxEnsemble
    from engine.forecast.seen_days import history_digests

    ds = load_training_file(data, series, columns, fill_missing_zero)
    if use_covariates and any(s.planning is None for s in ds.series.values()):
        raise DataError("has no Demand_Forecast column; train with --no-covariates", file=ds.name,
                        column="Demand_Forecast")
    extras = F.check_extra(extra_inputs, use_covariates)
    cfg = T.TrainConfig(window=window, use_covariates=use_covariates, holdout_days=holdout_days, epochs=epochs,
                        seed=seed, meta_per_horizon=(meta == "per-horizon"), meta_kind=meta_fit,
                        extra_inputs=extras, calendar_level_days=int(calendar_days or F.CALENDAR_LEVEL_DAYS))
    if "calendar" in extras and any(not s.dates for s in ds.series.values()):
        raise DataError("has no Date column; the meta-learner input 'calendar' needs dates", file=ds.name,
                        column="Date")
    arrays = [T.SeriesArrays(s.key, s.demand, s.promo, s.planning, s.dates) for s in ds.series.values()]
    for a in arrays:
        try:
            T.split_bounds(len(a.demand), cfg)
        except ValueError as exc:
            raise DataError(f"series {a.key}: {exc}", file=ds.name) from None
    trained = T.train_ensemble(arrays, cfg, log=log)
    W, H = cfg.window, cfg.horizon
    specs = [("seq", (W, F.channels(use_covariates))), ("aux", (F.aux_dim(H, use_covariates),)),
             ("extra", (H, len(extras)))]
    proto = E.to_onnx(trained.keras_model, specs)

    # ONNX == Keras on the inputs of every held-out origin of every series
    parts = []
    for a in arrays:
        n = len(a.demand)
        doy = T.series_days_of_year(a, cfg) if cfg.reads_day_of_year() else None  # dates parsed once per series
        for o in range(n - holdout_days, n):
            pr = pl = None
            if use_covariates:
                pr, pl = F._pad(a.promo[None, :], o + H), F._pad(a.planning[None, :], o + H)
            parts.append(F.build_inputs(a.demand[None, :o], pr, pl, window=W, horizon=H,
                                        use_covariates=use_covariates, extra_inputs=extras,
                                        day_of_year=None if doy is None else doy[:, :o + H],
                                        calendar=trained.calendar))
    inp = F.Inputs(*(np.concatenate([getattr(p, k) for p in parts]) for k in ("seq", "aux", "extra", "level")))
    keras_units = T.keras_forecast(trained.keras_model, inp)
    onnx_units = np.maximum(E.onnx_run(proto, inp.feeds()).astype(float) * inp.level[:, None], 0.0)
    diff = float(np.max(np.abs(onnx_units - keras_units)))
    # float32 graphs: allow 1e-4 units or float32 rounding of the value itself (series in the thousands)
    if np.any(np.abs(onnx_units - keras_units) > 1e-4 + 4e-7 * np.abs(keras_units)):
        raise RuntimeError(f"ONNX export disagrees with Keras by {diff:.2e} units (> 1e-4 + 4e-7 × value)")
    log(f"ONNX agrees with Keras within {diff:.2e} units on {len(inp.level)} forecasts")

    training = {
        "data_file": Path(data).name, "data_sha256": E.file_sha256(data), "series": [a.key for a in arrays],
        "rows": int(sum(len(a.demand) for a in arrays)), "holdout_days": holdout_days,
        "train_days_by_series": {a.key: len(a.demand) - holdout_days for a in arrays},
        "first_date_by_series": {a.key: a.dates[0] for a in arrays if a.dates},
        "history_digest_by_series": history_digests(arrays),
        "last_train_date_by_series": {a.key: a.dates[len(a.demand) - holdout_days - 1] for a in arrays if a.dates},
        "last_date": max((a.dates[len(a.demand) - holdout_days - 1] for a in arrays if a.dates), default=None),
        "splits": {"val_days": cfg.val_days, "meta_days": cfg.meta_days,
                   "by_series": trained.splits},
        "config": cfg.to_dict(), "history": trained.history, "train_seconds": round(trained.seconds, 1),
        "command": command or "",
    }
    card = {
        "kind": "ensemble",
        "description": "MLP + LSTM + 1-D CNN (global over the file's series, direct multi-horizon) stacked with a "
                       "non-negative linear meta-learner" + (" using the promotion flag and planning forecast"
                                                            if use_covariates else " on past demand only"),
        "window": W, "horizon": H, "use_covariates": use_covariates, "extra_inputs": list(extras),
        "inputs": {"seq": "last W days of demand / L0" + (", promo flag, planning / L0" if use_covariates else ""),
                   "aux": "seasonal ratio (H), season_ok flag" + (", promo (H), planning / L0 (H)"
                                                                  if use_covariates else ""),
                   "extra": "meta-learner inputs per horizon: " + ", ".join(EXTRA_TEXT[x] for x in extras)},
        "normalisation": {"kind": "window level", "level": f"L0 = max(mean of the last {W} days, "
                                                          f"{F.MIN_LEVEL})", "output": "ratio × L0, clipped at 0"},
        "season": {"kind": "first-order Fourier fit on the series' own index", "period_days": F.SEASON_PERIOD,
                   "min_history": F.SEASON_MIN_HISTORY, "max_history": F.SEASON_MAX_HISTORY,
                   "clip_ratio": list(F.SEASON_CLIP)},
        **({"calendar_season": {**trained.calendar.to_dict(),
                                "kind": "g(d) = 1 + alpha sin(2 pi d / period) + beta cos(2 pi d / period), d = day "
                                        "of year; pooled least squares over every series' training days; applied "
                                        "to a series' deseasonalised mean of its last level_days days"}}
           if trained.calendar is not None else {}),
        "meta": trained.meta, "residuals": trained.residuals,
        "residuals_note": "out-of-sample errors on the meta period (not the holdout), as ratios of L0; "
                          "window_sigma uses window_rmse_ratio × L0 when the context is too short for 8 windows",
        "training": training,
        "onnx_check": {"max_abs_diff_vs_keras_units": diff, "forecasts": int(len(inp.level))},
        "versions": E.library_versions(),
        "retrain": {"command": command or "", "requirements": "requirements-train.txt"},
    }
    E.write_entry(out, proto, card)

    model = OnnxEnsemble.load(out)
    model.name = f"ensemble:{Path(out).name}"
    names = [model, "naive", "seasonal-naive", "ma7", "ma28", "ses", "fourier"] + (
        ["planning"] if all(s.planning is not None for s in ds.series.values()) else [])
    result = B.run_backtest(ds, names, "per-series", holdout_days, data_path=data, log=log)
    card = json.loads((Path(out) / "card.json").read_text())
    card["backtest"] = {k: v for k, v in result.items() if k != "series"}
    (Path(out) / "card.json").write_text(json.dumps(card, indent=2, allow_nan=False) + "\n")
    (Path(out) / CARD_MD).write_text(card_markdown(card, result, Path(out).name))
    return card


EXTRA_TEXT = {"seasonal": "seasonal ratio", "planning": "planning / L0", "ma7": "mean of the last 7 days / L0",
              "calendar": "pooled calendar season × the series' deseasonalised level / L0",
              "fourier": "yearly Fourier regression of the series' whole history on the day of year / L0"}


def meta_summary(meta: dict) -> str:
    """One line on the meta-learner's weights (day 1 and day 31 when there is one stack per horizon)."""
    def one(w, b):
        return ", ".join(f"{n} {x:.3f}" for n, x in zip(meta["inputs"], w)) + f", bias {b:.3f}"
    if meta.get("per_horizon"):
        w, b = meta["weights"], meta["bias"]
        return f"one stack per horizon; day 1: {one(w[0], b[0])}; day {len(w)}: {one(w[-1], b[-1])}"
    return one(meta["weights"], meta["bias"])


def calendar_line(season: dict) -> str:
    """The calendar season of a card in one line of CARD.md."""
    return (f"- Calendar season (pooled over the series, d = day of year): g(d) = 1 {season['alpha']:+.4f}·sin(2πd/"
            f"{season['period']}) {season['beta']:+.4f}·cos(2πd/{season['period']}), applied to each series' "
            f"deseasonalised mean of its last {season['level_days']} days.")


def card_markdown(card: dict, result: dict, name: str = "model") -> str:
    from engine.forecast.backtest import markdown_table
    tr = card["training"]
    dates = tr.get("last_train_date_by_series") or {}
    from engine.forecast.model_names import true_label
    lines = [
        f"# Model card: {true_label(name, card)}",
        "",
        f"- Architecture: {card['description']}; the meta-learner's weights decide what it forecasts (next lines).",
        f"- Trained on `{tr['data_file']}` ({len(tr['series'])} series, {tr['rows']} rows), last "
        f"{tr['holdout_days']} days of every series held out" + (f" (training ends {min(dates.values())})"
                                                                 if dates else "") + ".",
        f"- Window {card['window']} days, horizon {card['horizon']} days, covariates: "
        f"{'promotion flag + planning forecast' if card['use_covariates'] else 'none (past demand only)'}.",
        "- Meta-learner weights: " + meta_summary(card["meta"]) + ".",
        *([calendar_line(card["calendar_season"])] if card.get("calendar_season") else []),
        f"- Training time {tr['train_seconds']} s (seed {tr['config']['seed']}); ONNX vs Keras max difference "
        f"{card['onnx_check']['max_abs_diff_vs_keras_units']:.1e} units.",
        f"- Reproduce: `{tr['command']}`",
        "",
        f"Holdout backtest (rolling one-step-ahead, {result['holdout_rows']} forecasts):",
        "",
        markdown_table(result),
        "",
    ]
    return "\n".join(lines)


TRAIN_RANGES = (("seed", 0, 2**32 - 1), ("epochs", 1, 10_000), ("window", 7, 364))


def train_range_error(args) -> str | None:
    """The first numeric option of `engine train` outside its range, as a message naming it (the trainers would
    otherwise fail deep inside: --window 0 divided by zero, --epochs -1 trained nothing and lost its history)."""
    for name, lo, hi in TRAIN_RANGES:
        v = getattr(args, name, None)
        if v is not None and not lo <= v <= hi:
            return f"--{name} {v} is out of range [{lo}, {hi}]"
    h = getattr(args, "holdout_days", None)
    if h is not None and not args.global_model and h < 1:
        return f"--holdout-days {h} must be at least 1 (the held-out days score the trained model)"
    return None


def cmd_train(args) -> int:
    cmd = "python -m engine train " + " ".join(shlex.quote(a) for a in _argv_after("train"))
    bad = train_range_error(args)
    if bad:
        return _err(bad)
    bad = _out_refusal(args)
    if bad:
        return _err(bad)
    with filtered_native_stderr():  # TensorFlow's start-up lines (engine.forecast.native_stderr)
        return _cmd_train_global(args, cmd) if args.global_model else _cmd_train_ensemble(args, cmd)


def _cmd_train_ensemble(args, cmd: str) -> int:
    if args.calendar_days is not None and not 7 <= args.calendar_days <= 730:
        return _err(f"--calendar-days {args.calendar_days} is out of range [7, 730]")
    return _print_card(args, lambda: train_model(
        args.data, args.out, series=args.series, holdout_days=73 if args.holdout_days is None else args.holdout_days,
        epochs=args.epochs, seed=args.seed, use_covariates=not args.no_covariates, window=args.window,
        meta=args.meta, meta_fit=args.meta_fit,
        extra_inputs=None if args.meta_inputs is None else
        tuple(x.strip() for x in args.meta_inputs.split(",") if x.strip()),
        log=lambda m: print(m, file=sys.stderr), command=cmd, calendar_days=args.calendar_days,
        columns=getattr(args, "columns", None), fill_missing_zero=bool(getattr(args, "fill_missing_zero", False))))


def _cmd_train_global(args, cmd: str) -> int:
    from engine.forecast.global_commands import train_global_model
    from engine.forecast.global_train import NETWORKS, GlobalConfig, available_cores
    networks = tuple(x.strip() for x in args.networks.split(",") if x.strip())
    unknown = [x for x in networks if x not in NETWORKS]
    if unknown:
        return _err(f"--networks: unknown member {unknown[0]!r}; choose from {', '.join(NETWORKS)}")
    holdout = 56 if args.holdout_days is None else args.holdout_days
    if holdout < 0 or not 7 <= args.meta_days <= 365:
        return _err("--holdout-days must be >= 0 and --meta-days within [7, 365]")
    threads = available_cores() if args.threads is None else args.threads
    if threads < 1:
        return _err("--threads must be at least 1")
    cfg = GlobalConfig(holdout_days=holdout, meta_days=args.meta_days, networks=networks, seed=args.seed,
                       threads=threads)
    return _print_card(args, lambda: train_global_model(
        args.data, args.out, series=args.series, cfg=cfg, log=lambda m: print(m, file=sys.stderr), command=cmd,
        columns=getattr(args, "columns", None), fill_missing_zero=bool(getattr(args, "fill_missing_zero", False))))


def _print_card(args, train) -> int:
    """Run `train()` (either kind of training) and print its card: JSON with --json, else the card's Markdown."""
    from engine.errors import DataError
    try:
        card = train()
    except (DataError, ValueError) as exc:
        return _err(str(exc))
    if args.json:
        print(json.dumps(card, indent=2))
    else:
        print(Path(args.out, CARD_MD).read_text())
    return 0


def _argv_after(word: str) -> list[str]:
    argv = sys.argv[1:]
    return argv[argv.index(word) + 1:] if word in argv else argv


# -- import-pkl ---------------------------------------------------------------------------------------------------
def cmd_import_pkl(args) -> int:
    """Convert the pickle; every bad input ends as one `error:` line naming --out, the model file or the context
    file. --out is checked first: the conversion loads TensorFlow and takes ~10 s before it writes anything."""
    from engine.forecast.legacy import import_pickle
    from engine.forecast.onnx_model import ModelError
    bad = _out_refusal(args)
    if bad:
        return _err(bad)
    try:
        with filtered_native_stderr():  # TensorFlow's start-up lines (engine.forecast.native_stderr)
            card = import_pickle(args.file, args.out, context=args.context,
                                 log=lambda m: print(m, file=sys.stderr))
    except ModelError as exc:
        return _err(str(exc))
    if args.json:
        print(json.dumps(card, indent=2))
    else:
        print(f"wrote {args.out}: ONNX agrees with Keras within {card['onnx_check']['max_abs_diff_vs_keras']:.1e}")
    return 0


# -- backtest -----------------------------------------------------------------------------------------------------
def cmd_backtest(args) -> int:
    from engine.errors import DataError
    from engine.forecast import backtest as B
    from engine.forecast.onnx_model import ModelError
    from engine.forecast.pinball import parse_quantiles
    from engine.forecast.registry import UnknownForecaster, list_forecasters
    if args.models_dir:
        paths.use_models_dir(args.models_dir)
    if not 1 <= args.sum_days <= 60:
        return _err(f"--sum-days {args.sum_days} is out of range [1, 60]")
    try:
        quantiles = parse_quantiles(args.quantiles) if args.quantiles is not None else None
    except ValueError as exc:
        return _err(f"--quantiles: {exc}")
    try:
        ds = load_training_file(args.data, args.series, getattr(args, "columns", None),
                                bool(getattr(args, "fill_missing_zero", False)))
        if args.models:
            names = [m.strip() for m in args.models.split(",") if m.strip()]
        else:
            names = [f["name"] for f in list_forecasters() if f["kind"] != "statsmodels"]
        holdout, why = args.holdout_days, None
        if holdout is None:
            holdout, why = B.default_holdout(ds, names, args.data) if args.protocol == "per-series" else \
                (B.DEFAULT_HOLDOUT_DAYS, None)
        if why and not args.json:
            print(why, file=sys.stderr)
        # a model named in --models that saw held-out days is refused; one from the default list is left out
        result = B.run_backtest(ds, names, args.protocol, holdout, data_path=args.data,
                                log=None if args.json else (lambda m: print(m, file=sys.stderr)),
                                sum_days=args.sum_days, quantiles=quantiles, skip_seen=not args.models)
    except (DataError, UnknownForecaster, ModelError, B.BacktestError) as exc:
        return _err(str(exc))
    if why:
        result["holdout_note"] = why
    if args.json:
        print(json.dumps(result, indent=2, allow_nan=False))
    else:
        print(B.markdown_table(result))
        for name, why in result["skipped"].items():
            print(f"skipped {name}: {why}")
    return 0
