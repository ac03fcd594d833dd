"""Forecasters for intermittent demand (most days zero): Croston, SBA and TSB, vectorised over rows (paths).

- Croston (1972), "Forecasting and stock control for intermittent demands", Operational Research Quarterly 23:
  on a demand day, smooth the size z and the interval p between demands with α; forecast per day z / p.
- SBA, Syntetos & Boylan (2005), "The accuracy of intermittent demand estimates", Int. J. Forecasting 21:
  Croston's z / p is biased upwards; (1 − α/2) · z / p removes most of the bias.
- TSB, Teunter, Syntetos & Babai (2011), "Intermittent demand: linking forecasting to inventory obsolescence",
  EJOR 214: smooth the probability d of a demand every day (β) and the size z on demand days (α); forecast d · z.
  It follows a series that dies out, which Croston cannot (its interval is only updated on demand days).

Thin numpy code instead of a library: the maintained one with all three, statsforecast (2.1.1), requires
pandas < 3 (this project runs pandas 3) and pulls fugue, pyarrow (a 55 MB wheel) and statsmodels into the serving
process, for three recursions of a few lines each; this module imports numpy only. The state is a dict of (n,)
arrays, so a simulation can advance it one day at a time (`start` / `step` / `level`) and `predict` runs the
same recursion over a whole history.
"""
from __future__ import annotations

import numpy as np

from engine.forecast.base import Forecaster, as_2d

__all__ = ["Croston", "SBA", "TSB", "REGISTRY", "INTERMITTENT_NAMES"]


class Croston(Forecaster):
    """Croston's method with one smoothing constant α for size and interval (default 0.1)."""

    name = "croston"
    label = "Croston (intermittent demand, α = 0.1)"
    min_history = 1
    bias_factor = 1.0
    rows_independent = True

    def __init__(self, alpha: float = 0.1) -> None:
        self.alpha = float(alpha)

    def start(self, n: int) -> dict:
        """State before any observation: no demand seen yet (forecast 0)."""
        return {"z": np.zeros(n), "p": np.ones(n), "q": np.zeros(n), "seen": np.zeros(n, dtype=bool)}

    def step(self, s: dict, y: np.ndarray) -> None:
        """Advance the state by one day of demand y ((n,) array), in place."""
        a = self.alpha
        s["q"] += 1.0
        nz = y > 0
        first = nz & ~s["seen"]
        upd = nz & s["seen"]
        s["z"] = np.where(first, y, np.where(upd, s["z"] + a * (y - s["z"]), s["z"]))
        s["p"] = np.where(first, s["q"], np.where(upd, s["p"] + a * (s["q"] - s["p"]), s["p"]))
        s["q"] = np.where(nz, 0.0, s["q"])
        s["seen"] = s["seen"] | nz

    def level(self, s: dict) -> np.ndarray:
        """Forecast of one day's demand from the state."""
        return np.where(s["seen"], self.bias_factor * s["z"] / s["p"], 0.0)

    def run(self, demand) -> dict:
        y = as_2d(demand)
        s = self.start(y.shape[0])
        for t in range(y.shape[1]):
            self.step(s, y[:, t])
        return s

    def predict(self, demand, covariates=None):
        lvl = self.level(self.run(demand))
        return np.repeat(lvl[:, None], self.horizon, axis=1)


class SBA(Croston):
    """Syntetos–Boylan approximation: Croston × (1 − α/2)."""

    name = "sba"
    label = "SBA (Syntetos–Boylan, α = 0.1)"

    def __init__(self, alpha: float = 0.1) -> None:
        super().__init__(alpha)
        self.bias_factor = 1.0 - self.alpha / 2.0


class TSB(Croston):
    """Teunter–Syntetos–Babai: demand probability smoothed daily (β, default 0.1), size on demand days (α 0.1)."""

    name = "tsb"
    label = "TSB (Teunter–Syntetos–Babai, α = β = 0.1)"

    def __init__(self, alpha: float = 0.1, beta: float = 0.1) -> None:
        super().__init__(alpha)
        self.beta = float(beta)

    def start(self, n: int) -> dict:
        return {"z": np.zeros(n), "d": np.zeros(n), "seen": np.zeros(n, dtype=bool), "t": 0}

    def step(self, s: dict, y: np.ndarray) -> None:
        nz = y > 0
        occ = nz.astype(np.float64)
        s["d"] = occ if s["t"] == 0 else s["d"] + self.beta * (occ - s["d"])
        first = nz & ~s["seen"]
        upd = nz & s["seen"]
        s["z"] = np.where(first, y, np.where(upd, s["z"] + self.alpha * (y - s["z"]), s["z"]))
        s["seen"] = s["seen"] | nz
        s["t"] += 1

    def level(self, s: dict) -> np.ndarray:
        return s["d"] * s["z"]


REGISTRY = {"croston": (Croston.label, Croston), "sba": (SBA.label, SBA), "tsb": (TSB.label, TSB)}
INTERMITTENT_NAMES = tuple(REGISTRY)
