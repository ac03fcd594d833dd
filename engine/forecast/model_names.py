"""True names of trained model entries: what a card's weights say the model is, for the page, the card view and
`engine forecasters`.

An ensemble whose meta-learner puts all its weight on one of the engine's own inputs (sole_meta_input below)
is that input: it is labelled with the input's baseline name first, e.g. "Fourier regression (yearly sine/cosine +
level) — ensemble 'past-only', networks weight 0". Any other ensemble is labelled with the members that carry
weight and the networks that carry none; a global model with its members and weights; the imported original as
what it is. Cards are read once per (path, modification time).
"""
from __future__ import annotations

import json
import os

from engine.forecast.features import EXTRA_SOURCES

__all__ = ["true_label", "label_for_folder", "INPUT_LABELS", "holdout_verdict", "verdict_text"]

NETWORKS = ("mlp", "lstm", "cnn")
INPUT_LABELS = {
    "fourier": "Fourier regression (yearly sine/cosine + level)",
    "seasonal": "Seasonal ratio of the series' Fourier fit",
    "planning": "Planning forecast (Demand_Forecast column)",
    "ma7": "Moving average (7 days)",
    "calendar": "Pooled calendar season × the series' level",
}
_cache: dict[tuple[str, float], str] = {}


def sole_meta_input(card: dict) -> str | None:
    """The meta-learner input an ensemble's forecast is, when its card's convex weights put all of it (1.0, no
    bias, one weight for every horizon) on one of the engine's own inputs ("fourier", "seasonal", ...): the graph
    would pass that input through a float32 cast (a relative error ~6e-8), so the forecaster serves it in float64
    instead — the same forecast, exactly the input's (and the graph is not run). None otherwise."""
    meta = card.get("meta") or {}
    names = list(meta.get("inputs") or [])
    weights = meta.get("weights")
    if meta.get("fit") != "convex" or meta.get("per_horizon") or float(meta.get("bias") or 0.0) != 0.0:
        return None
    if not isinstance(weights, list) or len(weights) != len(names) or not names:
        return None
    try:
        w = [float(x) for x in weights]
    except (TypeError, ValueError):
        return None
    ones = [i for i, x in enumerate(w) if x == 1.0]
    if len(ones) != 1 or any(x != 0.0 for i, x in enumerate(w) if i != ones[0]):
        return None
    name = names[ones[0]]
    return name if name in EXTRA_SOURCES else None  # never a network (mlp, lstm, cnn): its graph must run


def member_line(card: dict) -> str:
    """The members and their meta weights at each level, e.g. "trees 1.000 (all levels); mlp 0 (dropped)"."""
    members = card.get("members") or []
    parts = []
    for m in members:
        ws = m.get("weights") or {}
        vals = sorted(set(round(float(v), 3) for v in ws.values()))
        if not vals or vals == [0.0]:
            parts.append(f"{m['name']} weight 0 (dropped)")
        elif len(vals) == 1:
            parts.append(f"{m['name']} {vals[0]:.3f} at every level")
        else:
            parts.append(f"{m['name']} " + ", ".join(f"{ws[q]:.2f} (q={q})" for q in ws))
    return "; ".join(parts)


def _weights(meta: dict) -> dict[str, float] | None:
    """Input name → weight (per-horizon stacks: the mean over horizons); None when unreadable."""
    names = list(meta.get("inputs") or [])
    w = meta.get("weights")
    try:
        if meta.get("per_horizon"):
            rows = [[float(x) for x in r] for r in w]
            vals = [sum(r[i] for r in rows) / len(rows) for i in range(len(names))]
        else:
            vals = [float(x) for x in w]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return dict(zip(names, vals)) if len(vals) == len(names) else None


def holdout_verdict(card: dict) -> dict | None:
    """A global model's scaled pinball loss on its held-out days against the best per-series baseline of the same
    backtest (its card's): {"model", "loss", "best_baseline", "baseline_loss", "ratio", "series", "data_file"};
    None without a scored backtest. A global model learns across series: on a file of a few series and under two
    years it can lose to a per-series forecaster (on the public file's 5 series × 365 days: 4.95 × the Fourier
    regression's loss), and its label must say so where it is chosen."""
    models = (card.get("backtest") or {}).get("models") or {}
    own = f"ensemble:{card.get('name')}"
    if own not in models:
        own = next((k for k in models if k.startswith("ensemble:")), None)
    try:
        loss = float(models[own]["overall"]["scaled_pinball"])
        others = {k: float(v["overall"]["scaled_pinball"]) for k, v in models.items() if k != own}
    except (KeyError, TypeError, ValueError):
        return None
    others = {k: v for k, v in others.items() if v == v and v > 0}   # finite, scored
    if not others or loss != loss:
        return None
    best = min(others, key=others.get)
    training = card.get("training") or {}
    return {"model": own, "loss": loss, "best_baseline": best, "baseline_loss": others[best],
            "ratio": loss / others[best], "series": len(training.get("series") or []),
            "data_file": training.get("data_file")}


def verdict_text(v: dict) -> str:
    """The verdict in a few words for a label: the training file, the ratio, and the better forecaster when the
    baseline wins (the model may be chosen for another file: the figure is about the one it was trained on)."""
    where = f" on {v['data_file']}" if v.get("data_file") else ""
    ratio = f"held-out loss{where} {v['ratio']:.2f} × the best per-series forecaster's ({v['best_baseline']})"
    if v["ratio"] <= 1.0:
        return ratio
    return f"{ratio}: {v['best_baseline']} forecasts that file better"


def _net(name: str) -> str:
    return {"mlp": "MLP", "lstm": "LSTM", "cnn": "1-D CNN"}.get(name, name)


def true_label(name: str, card: dict) -> str:
    """The label of models/<name> from its card (module docstring)."""
    kind = card.get("kind")
    if kind == "legacy":
        return f"Original app's model '{name}' (imported MLP + LSTM + 1-D CNN, one day ahead, ONNX)"
    if kind == "global":
        v = holdout_verdict(card)
        return f"Global quantile trees '{name}' — {member_line(card)} (ONNX)" + (f"; {verdict_text(v)}" if v else "")
    sole = sole_meta_input(card)
    if sole is not None:
        return f"{INPUT_LABELS.get(sole, sole)} — ensemble '{name}', networks weight 0"
    w = _weights(card.get("meta") or {})
    if not w:
        return f"Ensemble model '{name}' (ONNX)"
    carried = [(n, x) for n, x in w.items() if x > 1e-9]
    zero_nets = [_net(n) for n, x in w.items() if n in NETWORKS and x <= 1e-9]
    total = sum(x for _, x in carried) or 1.0
    parts = ", ".join(f"{_net(n) if n in NETWORKS else n} {x / total:.0%}" for n, x in
                      sorted(carried, key=lambda nx: -nx[1]))
    tail = f"; {', '.join(zero_nets)} weight 0" if zero_nets else ""
    return f"Ensemble '{name}': {parts} of the meta weight{tail} (ONNX)"


def label_for_folder(folder: str, name: str) -> str:
    """true_label of a model folder's card.json, cached by modification time; a generic label if unreadable."""
    path = os.path.join(folder, "card.json")
    try:
        key = (path, os.stat(path).st_mtime)
    except OSError:
        return f"Ensemble model '{name}' (ONNX)"
    got = _cache.get(key)
    if got is None:
        try:
            with open(path, encoding="utf-8") as f:
                card = json.load(f)
            got = true_label(name, card) if isinstance(card, dict) else f"Ensemble model '{name}' (ONNX)"
        except (OSError, ValueError):
            got = f"Ensemble model '{name}' (ONNX)"
        _cache[key] = got
    return got
