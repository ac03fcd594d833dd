"""Forecast-driven projected inventory level (PIL) for lost sales on non-stationary series.

The stationary PIL (engine.policies.lost_sales; van Jaarsveld & Arts, "Projected inventory level policies for lost
sales inventory systems", Operations Research 2024) orders (target − E[on-hand when the order arrives])⁺ with the
projection running the stock and the pipeline through the L days of demand before the arrival, lost sales
included. Here the days differ: the demand of day t + k (k = 0..L−1) is located at its forecast f_k and spread
with the calibrated protection-period errors of engine.protection.tracker — the online sample of relative W-day errors r
(W = L + 1), scaled to one day. The sample's mean r̄ (the forecaster's bias: a moving average lags a trend) and
the deviations r − r̄ scale differently: the bias of a window is the sum of its days' biases, so day k gets the
share max(f_k, 1) / max(μ_t, W) of the window's mean error r̄ · max(μ_t, W)^SCALE_POWER; the deviations follow the
law the errors are defined with, (r − r̄) · max(f_k, FLOOR_PER_DAY)^SCALE_POWER (with SCALE_POWER = 1/2 the
variance of a day is proportional to its level, so L independent days add up to the spread of an L-day window).
No normal shape is assumed: the deviations are the sample itself.

The expectation over that demand is taken on N_PATHS fixed projection paths: path m uses, on projected day k, the
error at a fixed position of the sample (a Latin hypercube over (path, day) drawn once from a constant seed), so
the decision is a deterministic function of the observation — the single run and each replication of the batch
compute it with the same elementwise arithmetic (bit for bit equal).

Target (parameter ``service_level`` = q, default the critical ratio p/(p + h)): the order brings the projected
on-hand at the arrival up to T_t = S_t − D̄_L,t, with S_t = μ_t + safety_t the calibrated quantile at level q of the
W-day protection-period demand (the order-up-to rule's level, engine.policies.base.OrderUpTo) and D̄_L,t the projected
mean demand of the L days before the arrival. As E[on-hand at arrival] = IP − D̄_L,t + E[units lost before the
arrival] on every path, the order is (S_t − IP − E[lost before the arrival])⁺: the order-up-to rule less the
projected lost sales (demand that finds no stock does not consume the stock the order-up-to rule counts on).
Under backorders nothing is lost and the policy is the order-up-to rule. Orders are not rounded (the engine's
stock is continuous).
"""
from __future__ import annotations

import math

import numpy as np

from engine.errors import ConfigError
from engine.policies.base import Observation, Policy, PolicySetup, register_policy
from engine.policies.lost_sales import stock_and_pipeline
from engine.policies.params import Param
from engine.protection.tracker import FLOOR_PER_DAY, SCALE_POWER

__all__ = ["N_PATHS", "ForecastPIL", "forecast_projection"]

N_PATHS = 16          # projection paths (Latin hypercube over path × day)
_PATH_SEED = 424242   # constant: the paths are part of the rule, not of the simulation's randomness


def _columns_sum(a: np.ndarray) -> np.ndarray:
    """Row sums column by column (one row gives the same bits as many; engine.protection.tracker._row_sum)."""
    acc = a[:, 0].copy()
    for j in range(1, a.shape[1]):
        acc += a[:, j]
    return acc


def path_positions(lead: int, paths: int = N_PATHS) -> np.ndarray:
    """(lead, paths) uniform positions in [0, 1): for each projected day one point in each of `paths` equal strata,
    in a random order per day, so each day's draws are spread evenly over the error sample. The sample is kept in
    the order the errors arrived (not sorted: a sort per decision would cost more than the projection), so the
    strata spread the draws over time, not over the error quantiles."""
    rng = np.random.default_rng(_PATH_SEED)
    out = np.empty((lead, paths))
    for k in range(lead):
        out[k] = (rng.permutation(paths) + rng.random(paths)) / paths
    return out


def forecast_projection(avail, rest, forecasts, errors, positions, mu, window: int):
    """(E[on-hand just before an order placed now arrives], E[units lost before it arrives]), lost sales, over the
    projection paths; both (R,).

    avail: (R,) stock for today's demand (today's arrival included); rest: (R, L − 1) arrivals at the start of days
    1..L − 1; forecasts: (R or 1, ≥ L) daily forecasts from today; errors: (R, n) relative W-day errors (n ≥ 1);
    positions: (L, M) from ``path_positions``; mu: (R,) or scalar W-day forecast μ_t; window: W. Day k's demand on
    path m: max(0, f_k + r̄ · s_W · max(f_k, 1) / max(μ_t, W) + (r − r̄) · max(f_k, 1)^SCALE_POWER), r the error at
    position ⌊u_{k,m} n⌋ of the row's sample, r̄ the row's mean, s_W = max(μ_t, W)^SCALE_POWER.
    """
    avail = np.asarray(avail, dtype=np.float64)
    lead, paths = positions.shape
    R = avail.shape[0]
    if lead == 0:
        return avail.copy(), np.zeros(R)
    errors = np.asarray(errors, dtype=np.float64)
    n = errors.shape[1]
    mean = np.cumsum(errors, axis=1)[:, -1:] / n  # a sequential sum: the same bits for a row alone or in a batch
    level = np.maximum(np.asarray(mu, dtype=np.float64), float(window) * FLOOR_PER_DAY).reshape(-1, 1)
    f = np.maximum(forecasts[:, :lead], 0.0)
    fl = np.maximum(f, FLOOR_PER_DAY)
    scale = fl ** SCALE_POWER
    # demand = max(0, base + r · scale): base = f + r̄ · s_W · fl / level − r̄ · scale, per row and day
    base = f + (mean * level ** SCALE_POWER / level) * fl - mean * scale
    idx = np.minimum((positions * n).astype(np.int64), n - 1)
    demand = errors[:, idx.ravel()].reshape(R, lead, paths)
    demand *= scale[:, :, None]
    demand += base[:, :, None]
    np.maximum(demand, 0.0, out=demand)
    x = np.repeat(avail[:, None], paths, axis=1)
    supplied = avail.copy()
    taken = np.zeros((R, paths))
    for k in range(lead):
        d = demand[:, k]
        x -= d
        taken += d
        np.maximum(x, 0.0, out=x)
        if k < lead - 1:
            x += rest[:, k:k + 1]
            supplied = supplied + rest[:, k]
    on_hand = _columns_sum(x) / paths
    # on every path: on-hand at arrival = supplied − demand + lost
    lost = on_hand - supplied + _columns_sum(taken) / paths
    return on_hand, np.maximum(lost, 0.0)


class ForecastPIL(Policy):
    """Order (S_t − μ_L,t − projected on-hand at arrival)⁺ with the forecast-driven projection (module docstring)."""

    name = "forecast-pil"
    label = "Projected inventory level (forecast-driven)"
    help = ("order so that the stock expected when the order arrives, after the lost sales the forecasts and "
            "their calibrated errors project, covers the protection-period quantile at the service level")
    params = (Param("service_level", "Service target (blank: critical ratio from costs)", (0.0, 1.0), exclusive=True,
                    help="forecast-driven projected level: the protection-period quantile level, strictly "
                         "between 0 and 1"),)
    reads_errors = True   # the simulator passes the calibrated error sample in obs.errors

    def __init__(self, setup: PolicySetup, service_level: float | None = None) -> None:
        super().__init__(setup)
        q = setup.p / (setup.p + setup.h) if service_level is None else float(service_level)
        if not (math.isfinite(q) and 0.0 < q < 1.0):
            raise ConfigError(f"policy {self.name} needs 0 < service_level < 1 (got {service_level!r})",
                              field="service_level", value=service_level)
        self.service_level = service_level
        self.quantile_level = q   # the simulator supplies obs.safety at this level
        self.lead = max(int(setup.window) - 1, 0)
        self.positions = path_positions(self.lead)

    def _forecasts(self, obs: Observation) -> np.ndarray:
        f = np.asarray(obs.forecasts, dtype=np.float64)
        f = f[None, :] if f.ndim == 1 else f
        if f.shape[1] < self.lead:
            raise ConfigError(f"policy {self.name} needs forecasts for the {self.lead} days of the lead time "
                              f"(the forecaster gives {f.shape[1]})", field="policy", value=self.name)
        return f

    def projection(self, obs: Observation):
        """(R,) expected on-hand when an order placed now arrives and (R,) expected units lost before then."""
        avail, rest, late = stock_and_pipeline(obs, self.lead)
        errors = getattr(obs, "errors", None)
        errors = np.zeros((1, 1)) if errors is None or np.size(errors) == 0 else np.asarray(errors, np.float64)
        errors = errors if errors.ndim == 2 else errors[None, :]
        if errors.shape[0] != avail.shape[0]:
            errors = np.broadcast_to(errors[:1], (avail.shape[0], errors.shape[1]))
        f = self._forecasts(obs)
        on_hand, lost = forecast_projection(avail, rest, f, errors, self.positions, obs.mu, self.setup.window)
        return on_hand + late, lost

    def decide(self, ip, obs):
        level = obs.mu + obs.safety
        level = level * (level > 0) + 0.0
        if self.setup.backorders or self.lead == 0:
            gap = level - ip
            return gap * (gap > 0) + 0.0, level
        _, lost = self.projection(obs)
        gap = level - ip - lost
        qty = gap * (gap > 0) + 0.0
        if np.ndim(ip) == 0:
            return float(qty[0]), float(level)
        return qty, level + 0.0 * qty

    def initial_inventory(self, obs):
        """The order-up-to rule's day-1 level μ + safety (pipeline empty)."""
        level = obs.mu + obs.safety
        return level * (level > 0) + 0.0

    def describe(self):
        return {"policy": self.name, "service_level": self.service_level, "quantile_level": self.quantile_level,
                "lead_time": self.lead, "paths": N_PATHS}


register_policy(ForecastPIL.name, ForecastPIL)
