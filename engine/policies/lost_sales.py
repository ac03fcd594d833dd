"""Lost-sales-aware replenishment policies (engine interface `decide(ip, obs) -> (qty, level)`, elementwise on
floats and (R,) arrays). They need the on-hand stock and the pipeline, which the simulator and the batch put in
`obs.on_hand` (on-hand at the decision, before today's arrivals) and `obs.pipeline` (column j = quantity arriving
j days from today, j = 0 today before demand).

- capped base-stock (S, cap): order min((S − IP)⁺, cap) — Xin (2021), "Understanding the performance of capped
  base-stock policies in lost-sales inventory models", Operations Research 69(1).
- projected inventory level (target): order (target − E[on-hand when the order arrives])⁺, the projection
  running today's stock and the pipeline through the L periods of demand before the arrival with lost sales — van
  Jaarsveld & Arts, "Projected inventory level policies for lost sales inventory systems" (Operations Research,
  2024). Orders are whole units (rounded to the nearest).
- constant order (order_qty): order the same quantity every period — Reiman (2004); Goldberg, Katz-Rogozhnikov,
  Lu, Sharma & Squillante (2016), Mathematics of Operations Research 41(3): asymptotically optimal for long lead
  times.

Parameters optimised exactly for i.i.d. demand: engine.exact.policies. The projection is exact for integer stock
and a discrete demand pmf; the demand pmf comes from `setup.extra["demand_pmf"]` when given (an array,
P(D = d) for d = 0, 1, …), else a Poisson (variance ≤ 1.05 × mean) or negative binomial fitted to the context's
mean and standard deviation. `ProjectedInventoryLevel.period_pmfs` is the one place that says which demand each
projected period has, so a forecast-driven projection only overrides that method.
"""
from __future__ import annotations

import math

import numpy as np

from engine.errors import ConfigError
from engine.policies.base import (
    Observation,
    Policy,
    PolicySetup,
    _static_levels,
    critical_ratio_z,
    register_policy,
)
from engine.policies.params import Param

__all__ = [
    "CappedBaseStock",
    "ConstantOrder",
    "ProjectedInventoryLevel",
    "capped_order",
    "fitted_pmf",
    "project_on_hand",
    "stock_and_pipeline",
]

_PMF_TAIL = 1e-12


def capped_order(ip, S: float, cap: float):
    """min((S − IP)⁺, cap)."""
    gap = S - ip
    return np.minimum(gap * (gap > 0), cap) + 0.0


def project_on_hand(avail, rest, pmfs) -> np.ndarray:
    """E[on-hand just before an order placed now arrives], with lost sales (exact, integer stock).

    avail: (n,) stock available for this period's demand (today's arrival included); rest: (n, m) arrivals at the
    start of the next m periods; pmfs: one demand pmf per projected period (len(pmfs) = m + 1 for lead time
    m + 1 ≥ 1; an empty list for lead time 0, when the projection is `avail` itself).
    """
    avail = np.asarray(avail, dtype=np.int64)
    rest = np.asarray(rest, dtype=np.int64).reshape(len(avail), -1)
    if len(pmfs) == 0:
        return avail.astype(np.float64)
    if rest.shape[1] != len(pmfs) - 1:
        raise ValueError("project_on_hand needs one pmf per projected period")
    top = int(avail.max(initial=0) + rest.sum(axis=1).max(initial=0))
    n = len(avail)
    levels = np.arange(top + 1)
    dist = np.zeros((n, top + 1))
    dist[np.arange(n), avail] = 1.0
    for k, pmf in enumerate(pmfs):
        dist = _after_demand(dist, np.asarray(pmf, dtype=np.float64))
        if k < rest.shape[1]:  # the arrival q shifts each row's distribution up by q (zeros shift in)
            padded = np.concatenate([np.zeros((n, top + 1)), dist], axis=1)
            dist = np.take_along_axis(padded, levels[None, :] - rest[:, k:k + 1] + top + 1, axis=1)
    return dist @ levels


def _after_demand(dist: np.ndarray, pmf: np.ndarray) -> np.ndarray:
    """Rows: distribution of y over 0..m−1 → distribution of (y − D)⁺. P(z) = Σ_j dist[z + j]·pmf[j] for z ≥ 1,
    P(0) = Σ_y dist[y]·P(D ≥ y): a product with the (m × m) transition matrix for small m, else a correlation by
    FFT along the rows."""
    m = dist.shape[1]
    dmax = len(pmf) - 1
    sf = np.cumsum(pmf[::-1])[::-1]  # sf[y] = P(D ≥ y)
    sf = np.concatenate([sf, np.zeros(max(0, m - len(sf)))])[:m]
    if m <= 96:
        lag = np.arange(m)[:, None] - np.arange(m)[None, :]  # y − z
        M = np.where((lag >= 0) & (lag <= dmax), pmf[np.clip(lag, 0, dmax)], 0.0)
        M[:, 0] = sf
        return dist @ M
    from scipy.signal import fftconvolve

    out = np.clip(fftconvolve(dist, pmf[::-1][None, :], axes=1)[:, dmax:dmax + m], 0.0, None)
    out[:, 0] = dist @ sf
    return out


def fitted_pmf(mean: float, std: float) -> np.ndarray:
    """Poisson (var ≤ 1.05·mean) or negative binomial pmf with the given moments, cut where the tail < 1e-12."""
    from scipy import stats

    mean = max(float(mean), 1e-9)
    var = float(std) ** 2
    if var <= 1.05 * mean:
        dist = stats.poisson(mean)
    else:
        dist = stats.nbinom(mean * mean / (var - mean), mean / var)
    hi = int(dist.isf(_PMF_TAIL)) + 2
    pmf = dist.pmf(np.arange(hi + 1))
    pmf[-1] += dist.sf(hi)
    return pmf / pmf.sum()


def stock_and_pipeline(obs: Observation, lead: int):
    """(avail, rest, late) for the projection: avail = on-hand + today's arrival, rest = arrivals of days
    1..lead − 1, late = orders due on day `lead` or later (stochastic lead times), counted as on hand when the new
    order arrives. Lead 0: avail = on-hand. Shapes (n,), (n, max(lead − 1, 0)), (n,)."""
    on_hand = np.atleast_1d(np.asarray(obs.on_hand, dtype=np.float64))
    n = on_hand.shape[0]
    pipe = obs.pipeline
    pipe = np.zeros((n, 0)) if pipe is None else np.asarray(pipe, dtype=np.float64).reshape(n, -1)
    if pipe.shape[1] < lead:
        pipe = np.concatenate([pipe, np.zeros((n, lead - pipe.shape[1]))], axis=1)
    late = pipe[:, lead:].sum(axis=1)
    if lead == 0:
        return on_hand, np.zeros((n, 0)), late
    return on_hand + pipe[:, 0], pipe[:, 1:lead], late


class CappedBaseStock(Policy):
    """min((S − IP)⁺, cap): base-stock with at most `cap` units per order."""

    name = "capped-base-stock"
    label = "Capped base-stock (S, cap)"
    help = "order up to S, but never more than cap units in one order (Xin 2021); good for lost sales"
    params = (Param("S", "Order-up-to S", help="capped base-stock: order up to S (units; default from the context)"),
              Param("cap", "Cap per order", help="capped base-stock: at most this many units in one order "
                    "(default: mean + one standard deviation of daily demand)"))

    def __init__(self, setup: PolicySetup, S: float | None = None, cap: float | None = None) -> None:
        super().__init__(setup)
        self.S = float(S if S is not None else _static_levels(setup)["S"])
        default_cap = max(1.0, round(setup.mean_demand + setup.demand_std))
        self.cap = float(cap if cap is not None else default_cap)
        if not self.cap > 0:
            raise ConfigError(f"policy {self.name} needs cap > 0 (got {self.cap:g})", field="cap", value=self.cap)

    def decide(self, ip, obs):
        return capped_order(ip, self.S, self.cap), self.S + 0.0 * ip

    def initial_inventory(self, obs):
        return self.S

    def describe(self):
        return {"policy": self.name, "S": self.S, "cap": self.cap}


class ProjectedInventoryLevel(Policy):
    """Order (target − projected on-hand at arrival)⁺, rounded to whole units (module docstring)."""

    name = "projected-inventory-level"
    label = "Projected inventory level (lost sales)"
    help = ("order so that the expected stock when the order arrives, after projected lost sales, reaches the "
            "target (van Jaarsveld & Arts)")
    params = (Param("target", "Target at arrival", help="projected inventory level: the stock (units) the order "
                    "aims at when it arrives (default: mean + z·sd of daily demand, z from costs)"),)

    def __init__(self, setup: PolicySetup, target: float | None = None) -> None:
        super().__init__(setup)
        self.lead = round(setup.lead_time)
        pmf = setup.extra.get("demand_pmf") if isinstance(setup.extra, dict) else None
        self.pmf = np.asarray(pmf, dtype=np.float64) if pmf is not None else fitted_pmf(setup.mean_demand,
                                                                                          setup.demand_std)
        if target is None:
            target = setup.mean_demand + critical_ratio_z(setup.p, setup.h) * setup.demand_std
        self.target = float(target)

    def period_pmfs(self, obs: Observation) -> list:
        """Demand pmf of each of the `lead` periods before the arrival (i.i.d.: the same pmf each period)."""
        return [self.pmf] * self.lead

    def projection(self, obs: Observation) -> np.ndarray:
        avail, rest, late = stock_and_pipeline(obs, self.lead)
        avail = np.maximum(np.rint(avail), 0)
        rest = np.maximum(np.rint(rest), 0)
        return project_on_hand(avail, rest, self.period_pmfs(obs)) + late

    def decide(self, ip, obs):
        proj = self.projection(obs)
        qty = np.maximum(np.rint(self.target - proj), 0.0)
        level = proj + qty
        if np.ndim(ip) == 0:
            return float(qty[0]), float(level[0])
        return qty, level

    def initial_inventory(self, obs):
        return max(self.target, 0.0)

    def describe(self):
        return {"policy": self.name, "target": self.target, "lead_time": self.lead,
                "demand_mean": float(np.arange(len(self.pmf)) @ self.pmf)}


class ConstantOrder(Policy):
    """The same order every period, whatever the stock."""

    name = "constant-order"
    label = "Constant order"
    help = "order the same quantity every period (Goldberg et al. 2016); near-optimal for long lead times"
    params = (Param("order_qty", "Order quantity", help="constant order: units ordered every day "
                    "(default: mean daily demand × p/(p+h))"),)

    def __init__(self, setup: PolicySetup, order_qty: float | None = None) -> None:
        super().__init__(setup)
        default = setup.mean_demand * setup.p / (setup.p + setup.h)
        self.order_qty = float(order_qty if order_qty is not None else default)
        if not (math.isfinite(self.order_qty) and self.order_qty >= 0):
            raise ConfigError(f"policy {self.name} needs order_qty >= 0 (got {self.order_qty!r})", field="order_qty",
                              value=self.order_qty)

    def decide(self, ip, obs):
        return self.order_qty + 0.0 * ip, ip + self.order_qty

    def initial_inventory(self, obs):
        return self.order_qty * (round(self.setup.lead_time) + 1)

    def describe(self):
        return {"policy": self.name, "order_qty": self.order_qty}


for _cls in (CappedBaseStock, ProjectedInventoryLevel, ConstantOrder):
    register_policy(_cls.name, _cls)
