"""Replenishment policies behind one interface that works on scalars (a single run) and on arrays of shape (R,)
(a batch of replications): `decide(ip, obs) -> (order_qty, level)`.

Textbook order-up-to (periodic review every day, lead time L): protection period L + 1 days,
S = μ + zσ where μ = Σ forecasts of the *coming* L + 1 days and σ = the forecaster's out-of-sample error σ over
L + 1-day windows (see Forecaster.window_sigma), z = Φ⁻¹(p / (p + h)) (or Φ⁻¹(service_level) when given),
Q = max(0, S − inventory position). Static policies (base-stock, s-S, r-Q) take their levels as parameters;
when a level is not given it is derived from the context history (documented in `_static_levels`).

Another module can add a policy: `register_policy("name", cls)` with `cls(setup, **params)`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist

from engine.errors import ConfigError
from engine.policies.params import Param, param_specs

__all__ = ["PolicySetup", "Observation", "Policy", "OrderUpTo", "BaseStock", "SS", "RQ", "register_policy",
           "unregister_policy", "make_policy", "policy_names", "POLICY_PARAMS", "critical_ratio_z", "newsvendor_level",
           "Param", "policy_params", "all_params", "policy_label", "policy_help"]


_NORMAL = NormalDist()


def normal_quantile(q: float) -> float:
    """Φ⁻¹(q) (stdlib NormalDist: keeps scipy.stats out of the CLI's start-up)."""
    return _NORMAL.inv_cdf(q)


def critical_ratio_z(p: float, h: float) -> float:
    """z = Φ⁻¹(p / (p + h)), the newsvendor critical fractile."""
    return normal_quantile(p / (p + h))


def newsvendor_level(mu: float, sigma: float, h: float, p: float) -> float:
    """Single-period optimum S = μ + σ Φ⁻¹(p / (p + h)) (normal demand)."""
    return mu + critical_ratio_z(p, h) * sigma


@dataclass
class PolicySetup:
    """What a policy may know before day 1 (all scalars)."""

    h: float                    # holding cost per unit per day
    p: float                    # stockout cost per unit (lost) or per unit per day (backordered)
    lead_time: float            # mean lead time L (days)
    window: int                 # protection period L + 1 (rounded mean lead time + 1)
    sigma_window: float         # σ of demand over the protection period (forecast errors, see simulator)
    sigma_one: float            # one-day σ (forecast errors)
    mean_demand: float          # mean daily demand over the last 28 context days
    demand_std: float           # std of daily demand over the last 28 context days
    backorders: bool = False
    order_cost: float = 0.0     # fixed cost K per order (engine.policies.order_rules)
    review_period: int = 1      # R: days between order days (the window is L + R)
    extra: dict = field(default_factory=dict)


class Observation:
    """Information at the order decision of a day (reused object; fields are scalars or (R,) arrays).

    day: 1-based day; forecast: forecast for today; forecasts: (H,) or (R, H) forecasts for today onwards;
    mu: Σ forecasts over the protection period; sigma: σ over the protection period (set before day 1);
    safety: the calibrated safety stock at the policy's `quantile_level` (engine.protection.tracker; 0 when the policy
    has no quantile level); quantile_method: how that quantile was obtained (engine.protection.tracker.METHODS);
    past_forecasts: today's-forecast values of the previous simulated days ((day-1,) or (R, day-1));
    on_hand: on-hand stock at the decision, before today's arrivals (scalar or (R,));
    pipeline: outstanding orders by arrival day, column j = due j days from today, j = 0 today ((K,) or (R, K),
    K = the longest lead time of the run; read-only);
    errors: the calibrated relative W-day error sample ((R, n), engine.protection.tracker) — set only for a policy with
    `reads_errors = True`, else None.
    """

    __slots__ = ("day", "forecast", "forecasts", "mu", "sigma", "safety", "quantile_method", "past_forecasts",
                 "on_hand", "pipeline", "errors")

    def __init__(self) -> None:
        self.day = 0
        self.forecast = 0.0
        self.forecasts = None
        self.mu = 0.0
        self.sigma = 0.0
        self.safety = 0.0
        self.quantile_method = "none"
        self.past_forecasts = None
        self.on_hand = 0.0
        self.pipeline = None
        self.errors = None


class Policy:
    """Base: subclasses implement `decide`. Works elementwise on floats and numpy arrays."""

    name = "policy"
    label = ""
    params: tuple = ()  # Param objects or plain names (engine/policies/params.py)

    def __init__(self, setup: PolicySetup, **params) -> None:
        self.setup = setup

    def decide(self, ip, obs: Observation):
        """(order quantity >= 0, the level the rule aimed at) given inventory position `ip`."""
        raise NotImplementedError

    def initial_inventory(self, obs: Observation):
        """Starting on-hand stock when the user gives none: the rule's day-1 level (pipeline empty)."""
        return self.decide(0.0, obs)[1]

    def describe(self) -> dict:
        """Resolved parameters (JSON-safe) for reports and the ledger header."""
        return {"policy": self.name}


SERVICE_LEVEL = Param("service_level", "Service target (blank: z from costs)", (0.0, 1.0), exclusive=True,
                      help="order-up-to: z = Φ⁻¹(target) instead of p/(p+h)")


SAFETY_QUANTILE = Param("safety_quantile", "Safety quantile Q (blank: from the target or costs)", (-100.0, 100.0),
                        help="order-up-to: S = μ + Q·√max(μ, floor) with this fixed Q — the relative protection-period "
                             "error quantile a recommendation states (engine recommend, /portfolio) — instead of the "
                             "quantile of the run's own errors at the target")


class OrderUpTo(Policy):
    """S_t = μ_t + safety_t: the quantile at level q of the protection-period demand; order S_t − IP when positive.

    The simulator supplies safety_t = Q_q(r)·max(μ_t, floor) from the calibrated relative-error distribution
    (engine.protection.tracker) at this rule's `quantile_level` q = service_level, or the critical ratio p/(p + h)
    when no
    service level is given (the newsvendor fractile; Silver, Pyke & Thomas ch. 6). `z` = Φ⁻¹(q) is reported as the
    normal score of that level: the optimum search tunes z, i.e. the quantile level Φ(z) of the calibrated
    distribution (not a multiplier of a normal σ). With `safety_quantile` Q fixed, safety_t = Q·√max(μ_t, floor)
    (engine.protection.tracker.protection_level): the rule a recommendation states, whose Q was read off its
    forecaster's backtest errors (engine.studies.portfolio), so the simulator runs that very rule.
    """

    name = "order-up-to"
    label = "Order-up-to S = μ + zσ"
    params = (SERVICE_LEVEL, SAFETY_QUANTILE)

    def __init__(self, setup: PolicySetup, service_level: float | None = None,
                 safety_quantile: float | None = None) -> None:
        super().__init__(setup)
        if service_level is not None and safety_quantile is not None:
            raise ConfigError("order-up-to takes a service target or a safety quantile Q, not both",
                              field="safety_quantile", value=safety_quantile)
        self.safety_quantile = None if safety_quantile is None else float(safety_quantile)
        if service_level is not None:
            self.z = normal_quantile(float(service_level))
            self.target = float(service_level)
        else:
            self.target = setup.p / (setup.p + setup.h)
            self.z = critical_ratio_z(setup.p, setup.h)
        self.service_level = service_level
        self.quantile_level = self.target
        self.level_source = ("fixed safety quantile Q" if self.safety_quantile is not None else
                             "service level" if service_level is not None else "critical ratio")

    @property
    def takes_lost_sales_level(self) -> bool:
        """The level comes from costs (no service target, no fixed Q): under lost sales the simulator may replace
        the critical ratio by the level chosen on the simulated prior's paths (engine.protection.lost_sales_level)."""
        return self.service_level is None and self.safety_quantile is None

    def use_lost_sales_level(self, q: float) -> None:
        self.quantile_level = float(q)
        self.z = normal_quantile(self.quantile_level)
        self.level_source = "lost-sales level on the prior's paths (heuristic)"

    def decide(self, ip, obs):
        level = obs.mu + obs.safety
        level = level * (level > 0) + 0.0
        gap = level - ip
        return gap * (gap > 0) + 0.0, level

    def describe(self):
        return {"policy": self.name, "z": self.z, "critical_ratio": self.target,
                "service_level": self.service_level, "quantile_level": self.quantile_level,
                "safety_quantile": self.safety_quantile, "level_source": self.level_source}


class BaseStock(Policy):
    """Constant order-up-to level: order level − IP each day when positive."""

    name = "base-stock"
    label = "Constant base-stock S"
    params = (Param("base_stock_level", "Base-stock S", help="base-stock level (default from the context)"),)

    def __init__(self, setup: PolicySetup, base_stock_level: float | None = None) -> None:
        super().__init__(setup)
        self.level = float(base_stock_level if base_stock_level is not None else _static_levels(setup)["S"])

    def decide(self, ip, obs):
        gap = self.level - ip
        return gap * (gap > 0) + 0.0, self.level + 0.0 * gap

    def describe(self):
        return {"policy": self.name, "base_stock_level": self.level}


class SS(Policy):
    """(s, S): when IP <= s, order up to S."""

    name = "s-S"
    label = "(s, S)"
    params = (Param("s", "s", help="s-S: reorder level s"), Param("S", "S", help="s-S: order-up-to level S"))

    def __init__(self, setup: PolicySetup, s: float | None = None, S: float | None = None) -> None:
        super().__init__(setup)
        d = _static_levels(setup)
        self.s = float(s if s is not None else d["s"])
        self.S = float(S if S is not None else max(d["S_sS"], self.s + d["Q"]))
        if not self.S > self.s:
            raise ConfigError(f"policy s-S needs S > s (got s={self.s:g}, S={self.S:g})", field="S", value=self.S)

    def decide(self, ip, obs):
        return (self.S - ip) * (ip <= self.s) + 0.0, self.S + 0.0 * ip

    def initial_inventory(self, obs):
        return self.S

    def describe(self):
        return {"policy": self.name, "s": self.s, "S": self.S}


class RQ(Policy):
    """(r, Q): when IP <= r, order the smallest multiple n·Q that lifts IP above r."""

    name = "r-Q"
    label = "(r, Q)"
    params = (Param("r", "r", help="r-Q: reorder point r"), Param("Q", "Q", help="r-Q: order quantity Q"))

    def __init__(self, setup: PolicySetup, r: float | None = None, Q: float | None = None) -> None:
        super().__init__(setup)
        d = _static_levels(setup)
        self.r = float(r if r is not None else d["s"])
        self.Q = float(Q if Q is not None else d["Q"])
        if not self.Q > 0:
            raise ConfigError(f"policy r-Q needs Q > 0 (got {self.Q:g})", field="Q", value=self.Q)

    def decide(self, ip, obs):
        n = ((self.r - ip) // self.Q + 1) * (ip <= self.r)
        return n * self.Q + 0.0, self.r + self.Q + 0.0 * ip

    def initial_inventory(self, obs):
        return self.r + self.Q

    def describe(self):
        return {"policy": self.name, "r": self.r, "Q": self.Q}


def _static_levels(setup: PolicySetup) -> dict:
    """Defaults for static policies, from the context (heuristic, documented):
    S (base-stock) = s (reorder level) = r = mean·(L+1) + z·sd·√(L+1), with mean/sd of the last 28 context days
    and z = Φ⁻¹(p/(p+h)); Q = max(1, one week of mean demand), or with a fixed order cost K > 0 the EOQ
    √(2 K mean / h) rounded (at least 1; engine.policies.lot_sizing); S (s-S) = s + Q.
    """
    z = critical_ratio_z(setup.p, setup.h)
    level = setup.mean_demand * setup.window + z * setup.demand_std * math.sqrt(setup.window)
    level = max(level, 0.0)
    q = max(1.0, round(7.0 * setup.mean_demand))
    if setup.order_cost > 0 and setup.h > 0:
        q = max(1.0, round(math.sqrt(2.0 * setup.order_cost * setup.mean_demand / setup.h)))
    return {"S": level, "s": level, "Q": q, "S_sS": level + q}


_REGISTRY: dict[str, type[Policy]] = {}
POLICY_PARAMS: dict[str, tuple[str, ...]] = {}
_SPECS: dict[str, tuple[Param, ...]] = {}


def register_policy(name: str, cls: type[Policy]) -> None:  # noqa: D401
    """Make `cls` available under `name` (its constructor: cls(setup, **params); `cls.params` declares them)."""
    _REGISTRY[name] = cls
    _SPECS[name] = param_specs(cls)
    POLICY_PARAMS[name] = tuple(p.name for p in _SPECS[name])


for _cls in (OrderUpTo, BaseStock, SS, RQ):
    register_policy(_cls.name, _cls)


def unregister_policy(name: str) -> None:
    """Remove a policy added with register_policy (tests)."""
    _REGISTRY.pop(name, None)
    POLICY_PARAMS.pop(name, None)
    _SPECS.pop(name, None)


# Modules that register more policies when imported: adding a policy is its module, a line here and its tests.
_PLUGINS = ("engine.policies.original", "engine.policies.lost_sales", "engine.policies.forecast_pil",
            "engine.policies.lot_sizing")
_plugins_loaded = False


def _load_plugins() -> None:
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    import importlib

    for mod in _PLUGINS:
        importlib.import_module(mod)


def policy_names() -> list[str]:
    _load_plugins()
    return list(_REGISTRY)


def make_policy(name: str, setup: PolicySetup, params: dict | None = None) -> Policy:
    """Build a registered policy; unknown names/parameters raise ConfigError."""
    _load_plugins()
    if name not in _REGISTRY:
        raise ConfigError(f"unknown policy {name!r}; choose one of: {', '.join(_REGISTRY)}", field="policy",
                          value=name)
    allowed = POLICY_PARAMS[name]
    params = {k: v for k, v in (params or {}).items() if v is not None}
    extra = [k for k in params if k not in allowed]
    if extra:
        raise ConfigError(f"policy {name} does not take {', '.join(extra)} (it takes: "
                          f"{', '.join(allowed) or 'no parameters'})", field="policy_params", value=extra)
    return _REGISTRY[name](setup, **params)


def policy_params(name: str) -> tuple[Param, ...]:
    """The parameters policy `name` declares (ConfigError for an unknown name)."""
    _load_plugins()
    if name not in _SPECS:
        raise ConfigError(f"unknown policy {name!r}; choose one of: {', '.join(_REGISTRY)}", field="policy",
                          value=name)
    return _SPECS[name]


def all_params() -> dict[str, Param]:
    """Every parameter any registered policy takes, by name (the first declaration of a shared name wins)."""
    _load_plugins()
    out: dict[str, Param] = {}
    for specs in _SPECS.values():
        for p in specs:
            out.setdefault(p.name, p)
    return out


def policy_label(name: str) -> str:
    """The policy's label (its name when it declares none)."""
    _load_plugins()
    cls = _REGISTRY.get(name)
    return (getattr(cls, "label", "") or name) if cls else name


def policy_help(name: str) -> str:
    """The first line of the policy class's docstring."""
    _load_plugins()
    doc = (_REGISTRY[name].__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""
