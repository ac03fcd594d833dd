"""The original hackathon app's order-up-to rule, reproduced exactly, for comparison only ("original").

From its source (../shared/seed/NOTES.md): on each day the level is S = μ + zσ with
  μ = the sum of the last L − 1 *past* one-day forecasts plus today's forecast (L values in all),
  σ = the standard deviation of those same L forecast values (numpy's default, ddof = 0) — the spread of
      forecasts over time, not a forecast error,
  z = Φ⁻¹(clip(p / (p + h), 0.5001, 0.9999));
and the order is max(0, S − inventory position). Early days use whatever past forecasts exist.

Why it is a heuristic the UI must flag: μ looks *backwards* (past forecasts) and covers L days, not the
protection period L + 1 of the textbook rule; σ measures how much the forecast moved, which is unrelated to
how wrong it is (a flat forecast gives σ = 0 and no safety stock whatever the demand noise).
"""
from __future__ import annotations

import numpy as np

from engine.policies.base import Policy, PolicySetup, normal_quantile, register_policy

RATIO_CLIP = (0.5001, 0.9999)


def original_z(h: float, p: float) -> float:
    """z = Φ⁻¹(clip(p / (p + h), 0.5001, 0.9999)), the original's clipped critical ratio."""
    return float(normal_quantile(float(np.clip(p / (p + h), *RATIO_CLIP))))


def original_level(past_forecasts, forecast, lead_time: int, h: float, p: float, z: float | None = None):
    """The original's S for one day; past_forecasts (d,) or (R, d), forecast scalar or (R,)."""
    if z is None:
        z = original_z(h, p)
    L = max(int(lead_time), 1)
    f = np.asarray(forecast, dtype=np.float64)
    past = np.asarray(past_forecasts if past_forecasts is not None else np.zeros(f.shape + (0,)), dtype=np.float64)
    if past.ndim == f.ndim:  # scalar forecast with a 1-D history: add the path axis back consistently
        past = past.reshape(f.shape + (-1,))
    k = min(L - 1, past.shape[-1])
    recent = past[..., past.shape[-1] - k:] if k > 0 else past[..., :0]
    values = np.concatenate([recent, f[..., None]], axis=-1)
    mu = values.sum(axis=-1)
    sigma = values.std(axis=-1)
    return mu + z * sigma


class OriginalRule(Policy):
    """The original app's rule (see the module docstring); registered as policy "original"."""

    name = "original"
    label = "Original app's rule (for comparison)"
    params = ()

    def __init__(self, setup: PolicySetup) -> None:
        super().__init__(setup)
        self.L = max(int(round(setup.lead_time)), 1)
        self.z = original_z(setup.h, setup.p)

    def decide(self, ip, obs):
        level = original_level(obs.past_forecasts, obs.forecast, self.L, self.setup.h, self.setup.p, self.z)
        if np.ndim(level) == 0:
            level = float(level)
        gap = level - ip
        return gap * (gap > 0) + 0.0, level

    def describe(self):
        return {"policy": self.name, "z": self.z, "lead_time": self.L,
                "note": "μ from past forecasts, σ = spread of forecasts (heuristic)"}


register_policy(OriginalRule.name, OriginalRule)
