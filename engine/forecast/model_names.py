"""True names of trained model entries: what a card's weights say the model is, for the page, the card view and
`engine forecasters`.

An ensemble whose meta-learner puts all its weight on one of the engine's own inputs (onnx_model.sole_meta_input)
is that input: it is labelled with the input's baseline name first, e.g. "Fourier regression (yearly sine/cosine +
level) — ensemble 'past-only', networks weight 0". Any other ensemble is labelled with the members that carry
weight and the networks that carry none; a global model with its members and weights; the imported original as
what it is. Cards are read once per (path, modification time).
"""
from __future__ import annotations

import json
import os

__all__ = ["true_label", "label_for_folder", "INPUT_LABELS"]

NETWORKS = ("mlp", "lstm", "cnn")
INPUT_LABELS = {
    "fourier": "Fourier regression (yearly sine/cosine + level)",
    "seasonal": "Seasonal ratio of the series' Fourier fit",
    "planning": "Planning forecast (Demand_Forecast column)",
    "ma7": "Moving average (7 days)",
    "calendar": "Pooled calendar season × the series' level",
}
_cache: dict[tuple[str, float], str] = {}


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


def _net(name: str) -> str:
    return {"mlp": "MLP", "lstm": "LSTM", "cnn": "1-D CNN"}.get(name, name)


def true_label(name: str, card: dict) -> str:
    """The label of models/<name> from its card (module docstring)."""
    kind = card.get("kind")
    if kind == "legacy":
        return f"Original app's model '{name}' (imported MLP + LSTM + 1-D CNN, one day ahead, ONNX)"
    if kind == "global":
        from engine.forecast.global_model import member_line
        return f"Global quantile trees '{name}' — {member_line(card)} (ONNX)"
    from engine.forecast.onnx_model import sole_meta_input
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
