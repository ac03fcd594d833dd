"""A policy that weighs the fixed cost K of an order against holding: (s, S) with the gap S − s from the economic
order quantity (registered as "s-S-eoq").

Each day s_t = μ_t + safety_t, the order-up-to rule's level over the protection period L + R (the same calibrated
quantile as "order-up-to", engine.protection.tracker), and S_t = s_t + Δ. When IP < s_t it orders S_t − IP. An
order is then Δ plus the undershoot of s, about D·R/2 on average with a review every R days, so the gap that makes
the average order the EOQ Q* = √(2 K D / h) (Harris 1913; Silver, Pyke & Thomas, 4th ed., ch. 5) is
Δ = max(0, Q* − D·R/2), D the mean daily demand of the context's last 28 days and h the holding cost per unit per
day: fewer orders, each K, for about Q*/2 units more on hand. The choice s = the order-up-to level, S − s from the
EOQ is the textbook (s, S) / (R, s, S) approximation (Silver, Pyke & Thomas ch. 7), a heuristic, not the optimal
pair; with K = 0 the EOQ is 0 and the rule is "order-up-to" exactly. A supplier's
MOQ, packs and order days are applied to its orders by the kernel like any policy's
(engine.policies.order_rules). A given `lot_size` replaces the EOQ (e.g. one searched on selection paths).
"""
from __future__ import annotations

import math

from engine.policies.base import SAFETY_QUANTILE, SERVICE_LEVEL, OrderUpTo, PolicySetup, register_policy
from engine.policies.params import Param

__all__ = ["EoqSS", "eoq"]


def eoq(order_cost: float, mean_demand: float, h: float) -> float:
    """√(2 K D / h) in units (K per order, D units per day, h per unit per day); 0 when K or D is 0."""
    if order_cost <= 0 or mean_demand <= 0 or h <= 0:
        return 0.0
    return math.sqrt(2.0 * order_cost * mean_demand / h)


class EoqSS(OrderUpTo):
    """(s, S) with s = the order-up-to level μ + safety and S − s = EOQ √(2KD/h) − D·R/2 (K-aware, heuristic)."""

    name = "s-S-eoq"
    label = "(s, S): s = μ + safety, S − s = EOQ (K-aware)"
    params = (SERVICE_LEVEL, SAFETY_QUANTILE, Param("lot_size", "Lot size S − s (blank: EOQ)",
                                       help="s-S-eoq: S − s in units (default max(0, √(2KD/h) − D·R/2))"),)

    def __init__(self, setup: PolicySetup, service_level: float | None = None, safety_quantile: float | None = None,
                 lot_size: float | None = None) -> None:
        super().__init__(setup, service_level, safety_quantile)
        self.eoq = eoq(setup.order_cost, setup.mean_demand, setup.h)
        undershoot = setup.mean_demand * setup.review_period / 2.0
        self.lot_size = float(lot_size) if lot_size is not None else max(0.0, self.eoq - undershoot)
        self.lot_source = "given" if lot_size is not None else "EOQ"

    def decide(self, ip, obs):
        s = obs.mu + obs.safety
        s = s * (s > 0) + 0.0
        top = s + self.lot_size
        return (top - ip) * (ip < s) + 0.0, top

    def describe(self):
        return {**super().describe(), "policy": self.name, "lot_size": self.lot_size, "lot_source": self.lot_source,
                "eoq": self.eoq, "order_cost": self.setup.order_cost}


register_policy(EoqSS.name, EoqSS)
