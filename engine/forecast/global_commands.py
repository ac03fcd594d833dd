"""`python -m engine train --global`: train the global quantile model on a file, export it to models/NAME (ONNX
graphs + card.json + CARD.md) and backtest it on the held-out days against the per-series baselines.
TensorFlow is imported only when networks are asked for (--networks). A NOTES.md the folder already holds (what was
measured about the entry beyond its own backtest) is kept and appended to the regenerated CARD.md."""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from engine.forecast import global_features as G

__all__ = ["train_global_model", "BASELINES", "BACKTEST_QUANTILES"]

BASELINES = ("ses", "ma28", "fourier", "croston", "sba", "tsb", "ets-weekly", "seasonal-naive")
BACKTEST_QUANTILES = (0.5, 0.9, 0.95, 0.99)
SUM_DAYS = 8
MEAN_ONNX_FILE = "mean.onnx"   # the trees' mean model (the point forecasts), apart from the quantile graph
NOTES_FILE = "NOTES.md"   # hand-written notes in the entry's folder: kept on retraining, appended to CARD.md


def _network_specs(kind: str) -> list:
    return [("X", (len(G.FEATURES),))] + ([("seq", (G.SEQ_DAYS, 1))] if kind in ("cnn", "lstm") else [])


def train_global_model(data, out, *, series=None, cfg=None, log=print, command: str = "",
                       backtest_models=BASELINES, columns=None, fill_missing_zero: bool = False) -> dict:
    """Train, export, verify (ONNX vs the fitted members) and backtest; returns the card."""
    from engine.errors import DataError
    from engine.forecast import backtest as B
    from engine.forecast import export as E
    from engine.forecast.global_model import GlobalQuantileModel
    from engine.forecast.global_train import GlobalConfig, train_global
    from engine.forecast.model_names import member_line
    from engine.forecast.seen_days import history_digests
    from engine.forecast.training_files import load_training_file
    from engine.forecast.tree_onnx import trees_to_onnx

    cfg = cfg or GlobalConfig()
    ds = load_training_file(data, series, columns, fill_missing_zero)
    series_list = list(ds.series.values())
    t0 = time.time()
    try:
        trained = train_global(series_list, cfg, log=log)
    except ValueError as exc:
        raise DataError(str(exc), file=ds.name) from None
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    k = len(cfg.quantiles)

    # export and verify on the rows of the first panel's last meta-period origin
    panel = trained["panels"][0]
    T = panel.demand.shape[1]
    o = T - cfg.holdout_days - 1
    days = np.broadcast_to(np.arange(1, cfg.max_days + 1), (panel.demand.shape[0], cfg.max_days))
    X, s = G.build_features(panel.demand[:, :o], days, panel.day_number, panel.price, panel.promo)
    # the quantile trees and the mean model in two graphs: the quantile path (every order-up-to level, the batch)
    # never runs the mean model's trees (onnxruntime runs every node of a graph whichever outputs are asked for)
    proto = trees_to_onnx(trained["trees"][:k], len(G.FEATURES))
    mean_proto = trees_to_onnx(trained["trees"][k:], len(G.FEATURES))
    from engine.forecast.export import onnx_run
    ref = np.stack([m.predict(X) for m in trained["trees"]], axis=1)
    diff = float(np.max(np.abs(np.concatenate([onnx_run(proto, {"X": X}), onnx_run(mean_proto, {"X": X})], axis=1)
                               - ref)))
    if diff > 1e-3:
        raise RuntimeError(f"ONNX trees disagree with scikit-learn by {diff:.2e} (scaled units)")
    log(f"ONNX trees agree with scikit-learn within {diff:.1e} on {len(X)} rows")
    checks = {"trees": diff}
    (out / MEAN_ONNX_FILE).write_bytes(mean_proto.SerializeToString())
    members = [{"name": "trees", "onnx": E.ONNX_FILE, "mean_onnx": MEAN_ONNX_FILE,
                "what": f"HistGradientBoostingRegressor × {k} quantile levels + 1 mean model (rows weighted by "
                        "the scale², its squared error in units), "
                        f"{cfg.max_iter} iterations, {cfg.max_leaf_nodes} leaves, learning rate {cfg.learning_rate}",
                "weights": {q: v["weights"].get("trees", 0.0) for q, v in trained["meta"].items()}}]
    for kind, net in trained["networks"].items():
        weights = {q: v["weights"].get(kind, 0.0) for q, v in trained["meta"].items()}
        entry = {"name": kind, "onnx": None, "what": f"Keras {kind.upper()} on the same rows, cumulative-softplus "
                                                      "quantile outputs, pinball loss", "weights": weights}
        if any(w > 0 for w in weights.values()):
            nproto = E.to_onnx(net, _network_specs(kind), output_name="quantiles")
            (out / f"{kind}.onnx").write_bytes(nproto.SerializeToString())
            entry["onnx"] = f"{kind}.onnx"
            entry["standardize"] = net.standardize
            from engine.forecast.global_train import standardized
            feeds = {"X": standardized(X, net.standardize)}
            if kind in ("cnn", "lstm"):
                feeds["seq"] = G.sequence_input(panel.demand[:, :o], s, cfg.max_days)
            from engine.forecast.global_train import _network_predict
            nd = float(np.max(np.abs(onnx_run(nproto, feeds) -
                                     _network_predict(net, kind, X, feeds.get("seq")))))
            checks[kind] = nd
        members.append(entry)
    # what the trees were given (engine.forecast.global_train.panel_of decides: every series has a price plan)
    has_price = trained["panels"][0].price is not None
    training = {
        "data_file": Path(data).name, "data_sha256": E.file_sha256(data), "series": [s.key for s in series_list],
        "rows": int(sum(len(s.demand) for s in series_list)), "holdout_days": cfg.holdout_days,
        "meta_days": cfg.meta_days,
        "train_days_by_series": {s.key: len(s.demand) - cfg.holdout_days for s in series_list},
        "last_train_date_by_series": {s.key: s.dates[len(s.demand) - cfg.holdout_days - 1]
                                      for s in series_list if s.dates},
        "history_digest_by_series": history_digests(series_list),
        "member_rows": trained["rows"], "config": cfg.to_dict(), "train_seconds": round(time.time() - t0, 1),
        "command": command, "uses_price": has_price,
    }
    uses_promo = trained["panels"][0].promo is not None
    card = {
        "kind": "global", "name": out.name,
        "description": "Global quantile model: gradient-boosted quantile trees trained across every series of the "
                       "file on series-scaled inputs, quantiles of the demand sum over 1-31 days",
        "window": 364, "horizon": G.MAX_DAYS, "max_days": cfg.max_days, "min_history": 28,
        "quantiles": list(cfg.quantiles), "features": list(G.FEATURES), "uses_price": has_price,
        "uses_promo": uses_promo, "members": members, "meta": trained["meta"],
        "member_scores_meta_period": trained["member_scores"],
        "scale": f"s = mean |one-day change| over the last {G.SCALE_DAYS} days, or over the last "
                 f"{G.RECENT_SCALE_DAYS} when larger, at least {G.MIN_SCALE}, without the changes into and out of "
                 "Christmas day when the file has dates",
        "training": training, "onnx_check": checks, "versions": E.library_versions(),
        "retrain": {"command": command, "requirements": "requirements-train.txt"},
    }
    E.write_entry(out, proto, card)
    model = GlobalQuantileModel.load(out)
    model.name = f"ensemble:{out.name}"
    card = json.loads((out / "card.json").read_text())
    if cfg.holdout_days >= SUM_DAYS:
        result = B.run_backtest(ds, [model, *backtest_models], "per-series", cfg.holdout_days, data_path=data,
                                log=log, sum_days=SUM_DAYS, quantiles=BACKTEST_QUANTILES)
        card["backtest"] = {k2: v for k2, v in result.items() if k2 != "series"}
        for entry in card["backtest"]["models"].values():
            entry.pop("per_series", None)
        from engine.forecast.model_names import holdout_verdict
        verdict = holdout_verdict(card)
        if verdict:
            card["holdout_verdict"] = verdict
            log(f"{verdict['model']}: {verdict_sentence(verdict)}")
    (out / "card.json").write_text(json.dumps(card, indent=2, allow_nan=False) + "\n")
    notes = out / NOTES_FILE
    (out / "CARD.md").write_text(card_markdown(card, member_line(card))
                                 + (("\n" + notes.read_text()) if notes.is_file() else ""))
    return card


def verdict_sentence(v: dict) -> str:
    """The held-out verdict (engine.forecast.model_names.holdout_verdict) as CARD.md and the training log say it."""
    return (f"scaled pinball {v['loss']:.4f} = {v['ratio']:.3f} × the best per-series forecaster's "
            f"({v['best_baseline']}, {v['baseline_loss']:.4f})"
            + (f"; {v['best_baseline']} forecasts this file better (a global model learns across series: "
               f"{v['series']} here)." if v["ratio"] > 1.0 else "."))


def card_markdown(card: dict, members: str) -> str:
    tr = card["training"]
    from engine.forecast.model_names import true_label
    lines = [f"# Model card: {true_label(card.get('name', 'model'), card)}", "", f"- {card['description']}.",
             f"- Trained on `{tr['data_file']}` ({len(tr['series'])} series, {tr['rows']} rows); the last "
             f"{tr['holdout_days']} days of every series never read, the {tr['meta_days']} days before them fit "
             f"the meta-learner only.",
             f"- Members and meta weights: {members}.",
             "- Meta shift per level (scaled units): " + ", ".join(f"q={q} {v['shift']:+.3f}"
                                                                  for q, v in card["meta"].items()) + ".",
             f"- Inputs: {len(card['features'])} series-scaled features (price: {'yes' if card['uses_price'] else 'no'}"
             f", promotion: {'yes' if card['uses_promo'] else 'no'}); {card['scale']}.",
             f"- Training time {tr['train_seconds']} s; member rows {tr['member_rows']}.",
             f"- Reproduce: `{tr['command']}`", ""]
    v = card.get("holdout_verdict")
    if v:
        lines[-1:-1] = [f"- Held out: {verdict_sentence(v)}"]
    bt = card.get("backtest")
    if bt:
        lines += [f"Holdout backtest: {bt['sum_days']}-day sums, origins every {bt['sum_days']} days over the last "
                  f"{bt['holdout_days']} days, quantiles {', '.join(format(q, 'g') for q in bt['quantiles'])}:", "",
                  "| model | scaled pinball | quantiles from | " + " | ".join(f"coverage {q}" for q in bt['quantiles'])
                  + " | MAE (1 day) |",
                  "|---|---:|---|" + "---:|" * len(bt["quantiles"]) + "---:|"]
        ranked = sorted(bt["models"].items(), key=lambda kv: kv[1]["overall"]["scaled_pinball"])
        for name, r in ranked:
            o = r["overall"]
            lines.append(f"| {name} | {o['scaled_pinball']:.4f} | {o['method']} | "
                         + " | ".join(f"{o['coverage'][format(q, 'g')]:.3f}" for q in bt["quantiles"])
                         + f" | {o['mae']:.3f} |")
        lines.append("")
    return "\n".join(lines)
