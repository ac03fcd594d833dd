"""The forecasters the portfolio chooses among per demand class, driven day by day over many rows at once (their
incremental start / step / level form): shared by the portfolio's backtest and paths (engine.studies.portfolio) and
the replay of its recommendations on real days (engine.studies.history_replay)."""
from __future__ import annotations

import numpy as np

from engine.forecast.registry import get_forecaster

__all__ = ["CANDIDATES", "candidate_forecasters", "masked_step", "replicate"]


def candidate_forecasters():
    """The registry's forecasters the portfolio chooses among; each has the incremental form start / step / level
    (engine.forecast.baselines, engine.forecast.intermittent) the backtest and the paths drive over rows."""
    names = {m for c in CANDIDATES.values() for m in c}
    return {name: get_forecaster(name) for name in sorted(names)}


CANDIDATES = {"smooth": ("ses", "ma28"), "erratic": ("ses", "ma28"), "intermittent": ("croston", "sba", "tsb"),
              "lumpy": ("croston", "sba", "tsb"), "no demand": ("ses",)}


def masked_step(f, s: dict, y: np.ndarray, valid: np.ndarray) -> None:
    """Advance the state only on rows whose day is part of their history (histories are left-padded)."""
    if valid.all():
        f.step(s, y)
        return
    old = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in s.items()}
    f.step(s, np.where(valid, y, 0.0))
    for k, v in s.items():
        if isinstance(v, np.ndarray) and v.shape[:1] == valid.shape:
            mask = valid if v.ndim == 1 else valid[:, None]
            s[k] = np.where(mask, v, old[k])


def replicate(s: dict, times: int) -> dict:
    """Each row of a state repeated `times` times (row i -> rows i*times .. i*times+times-1)."""
    return {k: (np.repeat(v, times, axis=0) if isinstance(v, np.ndarray) else v) for k, v in s.items()}
