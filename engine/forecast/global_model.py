"""Serving of the global quantile model (models/NAME with a card of kind "global"): onnxruntime only — no
TensorFlow, no scikit-learn.

The entry holds one ONNX graph per member that earned weight (model.onnx: the gradient-boosted quantile trees, with
their mean model in mean.onnx — an entry without it has the mean as the trees graph's last column; optionally
mlp.onnx / cnn.onnx / lstm.onnx) and a card with the meta-learner: per quantile level
q, convex member weights w and a shift δ (engine.forecast.global_train). For a history and d days summed:

    r_q = Σ_m w_m,q · member_m,q(features) + δ_q   (scaled units: per day, per unit of the series' scale s)
    quantile_q(Σ demand of the next d days) = max(0, sort_q(r)) · d · s

`predict_sum_quantiles` returns those (levels between the trained ones interpolated linearly in q); `predict` gives
daily point forecasts from the mean model: the mean d-day sums for d = 1..H, made non-decreasing, differenced.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.forecast import global_features as G
from engine.forecast.base import Covariates, Forecaster, as_2d
from engine.forecast.onnx_model import CARD_FILE, ModelError, _session, model_identity, read_card

__all__ = ["GlobalQuantileModel"]

MEAN = "trees mean"   # the session of the trees' mean model when the entry ships it as its own graph


def _member_session(folder: Path, f) -> object:
    """The session of an ONNX file the card names: a bare file name inside the entry's folder, never a path."""
    if not isinstance(f, str) or "/" in f or "\\" in f or f.startswith("."):
        raise ModelError(f"names an invalid ONNX file {f!r}", folder / CARD_FILE)
    return _session(folder / f)


class GlobalQuantileModel(Forecaster):
    """A "global" models/NAME entry. Use `GlobalQuantileModel.load(folder)`."""

    label = "Global quantile model (ONNX)"
    caches_window_errors = True
    rows_independent = True
    kind = "global"

    def __init__(self, folder: Path, card: dict, sessions: dict) -> None:
        self.folder = Path(folder)
        self.card = card
        self.name = f"ensemble:{self.folder.name}"
        self.identity = model_identity(self.folder, card)
        self.horizon = int(card["horizon"])
        self.max_days = int(card.get("max_days", self.horizon))
        self.min_history = int(card.get("min_history", 28))
        self.quantiles = np.asarray([float(q) for q in card["quantiles"]])
        self.uses_price = bool(card.get("uses_price"))
        self.uses_promo = bool(card.get("uses_promo"))
        self.uses_covariates = self.uses_price or self.uses_promo
        self.uses_calendar = True
        self._sessions = sessions
        self._members = [m for m in card["members"] if m["name"] in sessions]
        meta = card["meta"]
        keys = [format(q, "g") for q in self.quantiles]
        self._w = {m["name"]: np.asarray([meta[k]["weights"].get(m["name"], 0.0) for k in keys])
                   for m in self._members}
        self._shift = np.asarray([meta[k]["shift"] for k in keys])
        self._standardize = {m["name"]: (np.asarray(m["standardize"]["mean"]), np.asarray(m["standardize"]["std"]))
                             for m in self._members if m.get("standardize")}

    @classmethod
    def load(cls, folder) -> "GlobalQuantileModel":
        folder = Path(folder)
        card = read_card(folder)
        if card.get("kind") != "global":
            raise ModelError(f"is a {card.get('kind')!r} card, not a global model", folder / CARD_FILE)
        for key in ("quantiles", "members", "meta", "features"):
            if key not in card:
                raise ModelError(f"lacks the field {key!r}", folder / CARD_FILE)
        if list(card["features"]) != list(G.FEATURES):
            raise ModelError("was trained on other input features than this code builds; retrain it",
                             folder / CARD_FILE)
        sessions = {}
        for m in card["members"]:
            if not m.get("onnx"):
                continue  # a member with weight 0 everywhere: named on the card, not exported
            sessions[m["name"]] = _member_session(folder, m["onnx"])
            if m["name"] == "trees" and m.get("mean_onnx"):
                sessions[MEAN] = _member_session(folder, m["mean_onnx"])
        if "trees" not in sessions:
            raise ModelError("has no trees member (its mean model makes the point forecasts)", folder / CARD_FILE)
        model = cls(folder, card, sessions)
        out = model.predict(np.full((1, max(model.min_history, 60)), 3.0))
        if out.shape != (1, model.horizon) or not np.all(np.isfinite(out)):
            raise ModelError(f"returned an invalid forecast (shape {out.shape})", folder / card["onnx"])
        return model

    # -- inputs ---------------------------------------------------------------------------------------------------
    def _features(self, demand, covariates: Covariates | None, days):
        dn = price = promo = None
        if covariates is not None:
            dn = covariates.day_number
            price = covariates.price if self.uses_price else None
            promo = covariates.promo if self.uses_promo else None
        t = demand.shape[1]
        need = t + int(np.max(days))
        if dn is None:  # no calendar given: the features' "unknown" calendar values (as in training without dates)
            dn = None
        elif dn.shape[1] < need:
            dn = np.concatenate([dn, dn[:, -1:] + np.arange(1, need - dn.shape[1] + 1)], axis=1)
        if price is not None and price.shape[1] < need:
            price = np.concatenate([price, np.repeat(price[:, -1:], need - price.shape[1], axis=1)], axis=1)
        if promo is not None and promo.shape[1] < need:
            promo = np.concatenate([promo, np.zeros((promo.shape[0], need - promo.shape[1]))], axis=1)
        return G.build_features(demand, days, dn, price, promo)

    def _run(self, name: str, X: np.ndarray, demand=None, scale=None, repeats: int = 1) -> np.ndarray:
        st = self._standardize.get(name)
        feeds = {"X": X if st is None else ((X - st[0]) / st[1]).astype(np.float32)}
        if name in ("cnn", "lstm"):
            feeds["seq"] = G.sequence_input(demand, scale, repeats)
        return self._sessions[name].run(None, feeds)[0].astype(np.float64)

    def _scaled_quantiles(self, demand, X, s, repeats) -> np.ndarray:
        k = len(self.quantiles)
        r = np.zeros((X.shape[0], k))
        for m in self._members:
            out = self._run(m["name"], X, demand, s, repeats)[:, :k]
            r += self._w[m["name"]][None, :] * out
        r += self._shift[None, :]
        return np.sort(np.maximum(r, 0.0), axis=1)

    # -- forecasts ------------------------------------------------------------------------------------------------
    def predict_sum_quantiles(self, demand, covariates: Covariates | None, days: int, quantiles) -> np.ndarray:
        """(n, len(quantiles)) quantiles of Σ demand over the next `days` days (1..max_days) for each row."""
        demand = as_2d(demand)
        days = int(days)
        if not 1 <= days <= self.max_days:
            raise ValueError(f"{self.name} forecasts sums of 1 to {self.max_days} days, not {days}")
        qs = np.asarray([float(q) for q in quantiles])
        lo, hi = self.quantiles[0], self.quantiles[-1]
        if np.any(qs < lo - 1e-12) or np.any(qs > hi + 1e-12):
            raise ValueError(f"{self.name} was trained for quantiles {lo:g} to {hi:g}; asked for "
                             f"{', '.join(format(q, 'g') for q in qs)}")
        X, s = self._features(demand, covariates, days)
        r = self._scaled_quantiles(demand, X, s, 1)
        # linear interpolation in q between the trained levels, one set of weights for every row
        j = np.clip(np.searchsorted(self.quantiles, qs, side="right") - 1, 0, len(self.quantiles) - 2)
        lo_q, hi_q = self.quantiles[j], self.quantiles[j + 1]
        w = np.clip((qs - lo_q) / (hi_q - lo_q), 0.0, 1.0)
        grid = r[:, j] * (1.0 - w) + r[:, j + 1] * w
        return grid * (days * s)[:, None]

    def predict(self, demand, covariates: Covariates | None = None) -> np.ndarray:
        demand = as_2d(demand)
        if demand.shape[1] < self.min_history:
            raise ValueError(f"{self.name} needs at least {self.min_history} days of history, got {demand.shape[1]}")
        n = demand.shape[0]
        h = self.horizon
        days = np.broadcast_to(np.arange(1, h + 1), (n, h))
        X, s = self._features(demand, covariates, days)
        mean = (self._run(MEAN, X)[:, 0] if MEAN in self._sessions
                else self._run("trees", X)[:, len(self.quantiles)]).reshape(n, h)
        sums = np.maximum.accumulate(np.maximum(mean, 0.0) * days * s[:, None], axis=1)
        return np.diff(np.concatenate([np.zeros((n, 1)), sums], axis=1), axis=1)

    def describe(self) -> dict:
        c = self.card
        from engine.forecast.model_names import member_line, true_label
        return {"name": self.name, "label": true_label(self.folder.name, c), "kind": "global",
                "horizon": self.horizon, "quantiles": list(self.quantiles),
                "uses_covariates": self.uses_covariates, "training": c.get("training"),
                "backtest": c.get("backtest"), "description": c.get("description"), "members": member_line(c)}
