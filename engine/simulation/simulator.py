"""Day-by-day inventory simulation with a fixed, documented event order (day t, 1-based):

1. order decision from information up to day t−1: the forecaster sees demand history up to t−1 (plus covariates
   known in advance), inventory position IP = on-hand + on-order − backlog; the policy returns (Q, level);
   an order placed on day t arrives at the start of day t + L (L = 0: the same day, before demand);
2. arrivals due today go on hand (with backorders, they first serve the outstanding backlog);
3. demand: fulfilled from on-hand; the rest is lost (default) or backordered (`backorders=True`);
4. costs: h × ending on-hand + p × unmet units (lost sales) or b × backlog at day end (backorders).

Costs: h = holding_rate × unit_cost / 365; lost sales: p = unit_price − unit_cost (the margin lost per unit)
unless `stockout_cost` is given; backorders: b per unit per day of backlog = `backorder_cost`, else
`stockout_cost`, else margin / BACKORDER_DAYS (a unit a month late costs its margin: the customer's patience is
priced at the margin over a month). A non-positive p is a ConfigError. Initial inventory (default): the policy's
day-1 level — order-up-to: S₁ = μ₁ + safety₁; base-stock: its level; s-S: S; r-Q: r + Q — with an empty pipeline.

Protection period W = round(mean effective lead time) + 1, the effective lead time coming from the arrival process
(engine.demand.modes.effective_lead_times: without crossing, orders queue). The order-up-to rule's safety stock is the
quantile of relative W-day forecast errors (engine.protection.tracker): seeded before day 1 from the forecaster's
rolling-origin errors on the context (Forecaster.window_errors) in replay mode, from the forecaster's errors on
extra paths of the mode itself in synthetic and forecast-noise mode (engine.protection.prior), and updated online
with each window completed before the decision day. σ (the RMSE of the context's W-day
errors, with (mean daily demand)² · Var(L) added for stochastic lead times) is still given to other policies.

State is a plain JSON-safe dict (`to_state()`, version 2: adds the protection error buffer);
`Simulator.from_state` rebuilds the same demand paths from the seed and continues exactly where the stored run
stopped.
"""
from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field, fields, replace

import numpy as np

from engine.data.cost_sources import cost_sources, overall_source
from engine.data.dataset import SeriesData, load_csv
from engine.demand.modes import MAX_LEAD_TIME, DemandPlan, build_plan, context_length, effective_lead_times
from engine.errors import ConfigError
from engine.forecast.base import Forecaster, window_sum
from engine.forecast.registry import UnknownForecaster, default_forecaster_name, get_forecaster
from engine.policies.base import (
    POLICY_PARAMS,
    Observation,
    PolicySetup,
    all_params,
    make_policy,
    policy_names,
    policy_params,
)
from engine.policies.order_rules import OrderRules, parse_order_days, weekday_of
from engine.protection.lead_times import arrival_lead_times
from engine.protection.lost_sales_level import lost_sales_level
from engine.protection.model_quantiles import model_level, reads_model_quantiles
from engine.protection.prior import lead_time_reach, prior_key, simulated_prior_paths
from engine.protection.tracker import (
    CAPACITY,
    ProtectionTracker,
    SeasonalPrior,
    floor_for,
    protection_level,
    relative_errors,
)
from engine.simulation.kernel import InventoryKernel
from engine.simulation.metrics import ledger_kpis

__all__ = ["SimConfig", "Simulator", "ConfigError", "STATE_VERSION", "LEDGER_COLUMNS", "resolve_costs",
           "prepare", "load_series", "ledger_cell", "ledger_csv"]


def ledger_csv(rows: list[dict], columns: list[str] | None = None) -> str:
    """A run's ledger as CSV text, the one writer the CLI's --ledger and the page's download use: `columns` (default
    the first row's keys; LEDGER_COLUMNS for a ledger), numbers by ledger_cell, an empty cell for None, and every
    text cell formula-injection safe (engine.data.csv_safe: a date cell from an uploaded file may read =HYPERLINK)."""
    from engine.data.csv_safe import csv_text
    if columns is None:
        if not rows:
            return ""
        columns = list(rows[0].keys())
    return csv_text([columns] + [["" if r.get(c) is None else ledger_cell(r.get(c)) for c in columns]
                                 for r in rows])


def ledger_cell(value):
    """A ledger number as a CSV writes it: rounded to 1e-9 units (float sums leave residues such as 56.00000000000009
    on hand or 7.1e-15 units unmet that no planner should have to read), -0.0 as 0."""
    if isinstance(value, float):
        value = round(value, 9)
        return 0.0 if value == 0 else value
    return value

STATE_VERSION = 2
BACKORDER_DAYS = 30.0  # default backorder cost per unit per day = unit margin / BACKORDER_DAYS
NOISE_SEED = 7_331   # fixed seed of the normal prior used when the context is too short for W-day errors
DEMAND_MODES = ("replay", "synthetic", "forecast-noise")
SIMULATED_PRIOR_MODES = ("synthetic", "forecast-noise")   # modes whose prior comes from engine.protection.prior
LEDGER_COLUMNS = [
    "day", "date", "forecast", "demand", "on_hand_start", "arrivals", "backlog_filled", "fulfilled", "unmet",
    "backlog", "on_hand", "on_order", "inventory_position", "order_qty", "order_up_to", "lead_time",
    "mu", "safety_stock", "quantile_method", "holding_cost", "stockout_cost", "daily_cost", "cumulative_cost",
    "ordering_cost",
]
# (min, max, min_inclusive) of numeric settings; the web app uses the same table to refuse forged input
LIMITS = {
    "days": (1, 3650, True),
    "lead_time": (0, MAX_LEAD_TIME, True),
    "holding_rate": (0.0, 5.0, False),
    "noise": (0.0, 5.0, True),
    "replications": (1, 100000, True),
    "seed": (0, 2**32 - 1, True),
    "unit_cost": (0.0, 1e9, False),
    "unit_price": (0.0, 1e9, False),
    "stockout_cost": (0.0, 1e9, False),
    "backorder_cost": (0.0, 1e9, False),
    "initial_inventory": (0.0, 1e12, True),
    "context_days": (1, 100000, True),
    "moq": (0.0, 1e12, True),
    "pack_size": (1, 1e12, True),
    "order_cost": (0.0, 1e9, True),
}
_INT_FIELDS = {"days", "lead_time", "replications", "seed", "context_days", "pack_size"}
_BOOL_FIELDS = {"backorders", "allow_crossing", "integer_orders"}
_OPTIONAL = ("unit_cost", "unit_price", "stockout_cost", "backorder_cost", "initial_inventory", "context_days",
             "moq", "pack_size")


@dataclass
class SimConfig:
    """Every setting of a run (JSON-safe). `validate()` raises ConfigError naming the field and value."""

    data: str | None = None               # CSV path (CLI / from_options only; Simulator takes a SeriesData)
    series: str | None = None             # "SKU_1/WH_1"; None = first series of the file
    forecaster: str | None = None         # registry name; None = default_forecaster_name()
    policy: str = "order-up-to"
    policy_params: dict = field(default_factory=dict)
    days: int = 90
    lead_time: int = 7
    lead_time_dist: dict | None = None    # {"kind": "uniform", "low": 5, "high": 9} | {"kind": "poisson", "mean": 7}
    allow_crossing: bool = False
    holding_rate: float = 0.25
    unit_cost: float | None = None        # None = from the series (last row; default 20)
    unit_price: float | None = None       # None = from the series (last row; default 40)
    stockout_cost: float | None = None    # None = unit_price − unit_cost
    backorder_cost: float | None = None   # per unit per day of backlog; None = stockout_cost or margin / 30
    backorders: bool = False              # False = lost sales (as the original)
    demand: str = "replay"
    noise: float = 0.1
    seed: int = 42
    initial_inventory: float | None = None
    replications: int = 1
    context_days: int | None = None
    moq: float | None = None              # minimum units per order (engine.policies.order_rules); None = none
    pack_size: int | None = None          # order multiple (case pack), whole units; None = any quantity
    order_days: list | None = None        # weekdays orders may be placed on, e.g. ["mon", "thu"]; None = every day
    order_cost: float = 0.0               # fixed cost K per order placed
    integer_orders: bool = False          # whole units (implied by a pack size)

    def validate(self) -> "SimConfig":
        for name, (lo, hi, lo_incl) in LIMITS.items():
            v = getattr(self, name)
            if v is None:
                if name in _OPTIONAL:
                    continue
                raise ConfigError(f"{name} is required", field=name, value=v)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or (name in _INT_FIELDS and v != int(v)):
                kind = "a whole number" if name in _INT_FIELDS else "a number"
                raise ConfigError(f"{name} must be {kind}, got {v!r}", field=name, value=v)
            if not math.isfinite(v) or v > hi or v < lo or (v == lo and not lo_incl):
                rng = f"{'[' if lo_incl else '('}{lo:g}, {hi:g}]"
                raise ConfigError(f"{name} = {v!r} is out of range {rng}", field=name, value=v)
        if self.policy not in policy_names():
            raise ConfigError(f"unknown policy {self.policy!r}; choose one of: {', '.join(policy_names())}",
                              field="policy", value=self.policy)
        if self.demand not in DEMAND_MODES:
            raise ConfigError(f"unknown demand mode {self.demand!r}; choose one of: {', '.join(DEMAND_MODES)}",
                              field="demand", value=self.demand)
        if not isinstance(self.policy_params, dict):
            raise ConfigError("policy_params must be a mapping", field="policy_params", value=self.policy_params)
        allowed = POLICY_PARAMS.get(self.policy, ())
        for k, v in self.policy_params.items():
            if v is None:
                continue
            if k not in allowed:
                raise ConfigError(f"policy {self.policy} does not take {k} (it takes: "
                                  f"{', '.join(allowed) or 'no parameters'})", field=k, value=v)
            own = {spec.name: spec for spec in policy_params(self.policy)}
            own[k].check(v)  # bounds declared by this policy (engine/policies/params.py)
        for name in _BOOL_FIELDS:
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be true or false", field=name, value=getattr(self, name))
        if self.forecaster is not None and not isinstance(self.forecaster, str):
            raise ConfigError("forecaster must be a name", field="forecaster", value=self.forecaster)
        self.lead_time_dist = _check_lead_time_dist(self.lead_time_dist)
        days = parse_order_days(self.order_days)
        self.order_days = None if days is None else list(days)
        return self

    def order_rules(self) -> OrderRules:
        """The supplier's rules this run orders under (engine.policies.order_rules)."""
        return OrderRules(moq=float(self.moq or 0.0), pack_size=self.pack_size,
                          order_days=None if self.order_days is None else tuple(self.order_days),
                          integer=bool(self.integer_orders), order_cost=float(self.order_cost))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["policy_params"] = dict(self.policy_params)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "SimConfig":
        names = {f.name for f in fields(cls)}
        unknown = [k for k in d if k not in names]
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(map(str, unknown))}", field=str(unknown[0]))
        return cls(**{k: (dict(v) if k == "policy_params" and v is not None else v) for k, v in d.items()}).validate()

    @classmethod
    def from_options(cls, options: dict) -> "SimConfig":
        """Build from `simulate`'s long option names with dashes as underscores, e.g. {"lead_time": 14,
        "policy": "order-up-to", "lost_sales": False, "backorders": True, "s": 20, "service_level": 0.95,
        "lead_time_dist": "uniform:5:9"}. Values may be text (web forms). Unknown keys → ConfigError."""
        names = {f.name for f in fields(cls)} - {"policy_params"}
        kw: dict = {}
        params: dict = dict(options.get("policy_params") or {})
        lost_sales = None
        for key, value in options.items():
            if key in ("policy_params", "ledger", "json", "func", "command"):
                continue
            if key == "lost_sales":
                lost_sales = _to_bool(key, value)
            elif key in all_params():
                if value is not None and value != "":
                    params[key] = _to_number(key, value)
            elif key in names:
                kw[key] = _coerce(key, value)
            else:
                raise ConfigError(f"unknown option {key!r}", field=str(key), value=value)
        if lost_sales is not None:
            if "backorders" in kw and kw["backorders"] is not None and kw["backorders"] == lost_sales:
                raise ConfigError("choose either lost sales or backorders, not both", field="backorders",
                                  value=kw["backorders"])
            kw["backorders"] = not lost_sales
        kw = {k: v for k, v in kw.items() if v is not None or k in ("unit_cost", "unit_price", "stockout_cost",
                                                                      "backorder_cost", "moq", "pack_size",
                                                                      "order_days",
                                                                      "initial_inventory", "context_days",
                                                                      "forecaster", "series", "data",
                                                                      "lead_time_dist")}
        return cls(policy_params=params, **kw).validate()


def _to_bool(key, value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "on"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "0", "no", "off", ""):
        return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ConfigError(f"{key} must be true or false, got {value!r}", field=key, value=value)


def _to_number(key, value):
    if isinstance(value, bool):
        raise ConfigError(f"{key} must be a number, got {value!r}", field=key, value=value)
    if isinstance(value, (int, float)):
        return value
    try:
        v = float(str(value).strip())
    except ValueError:
        raise ConfigError(f"{key} must be a number, got {str(value)[:40]!r}", field=key, value=value) from None
    if key in _INT_FIELDS:
        if not math.isfinite(v) or v != int(v):
            raise ConfigError(f"{key} must be a whole number, got {str(value)[:40]!r}", field=key, value=value)
        return int(v)
    return v


def _coerce(key, value):
    if value is None or (isinstance(value, str) and value.strip() == "" and key not in ("data",)):
        return None
    if key in _BOOL_FIELDS:
        return _to_bool(key, value)
    if key in LIMITS:
        return _to_number(key, value)
    if key == "lead_time_dist":
        return parse_lead_time_dist(value) if isinstance(value, str) else value
    if key == "order_days":
        days = parse_order_days(value)
        return None if days is None else list(days)
    return value


def parse_lead_time_dist(text: str) -> dict | None:
    """'uniform:5:9' → {"kind": "uniform", "low": 5, "high": 9}; 'poisson:7' → {"kind": "poisson", "mean": 7};
    'fixed' or '' → None."""
    t = text.strip().lower()
    if t in ("", "fixed", "none"):
        return None
    m = re.fullmatch(r"uniform:(\d+):(\d+)", t)
    if m:
        return _check_lead_time_dist({"kind": "uniform", "low": int(m.group(1)), "high": int(m.group(2))})
    m = re.fullmatch(r"poisson:(\d+(?:\.\d+)?)", t)
    if m:
        return _check_lead_time_dist({"kind": "poisson", "mean": float(m.group(1))})
    raise ConfigError(f"lead-time distribution {text[:40]!r} is not 'uniform:LOW:HIGH' or 'poisson:MEAN'",
                      field="lead_time_dist", value=text)


def _check_lead_time_dist(d):
    if d is None:
        return None
    if not isinstance(d, dict) or d.get("kind") not in ("uniform", "poisson"):
        raise ConfigError("lead_time_dist must be {'kind': 'uniform', 'low', 'high'} or {'kind': 'poisson', 'mean'}",
                          field="lead_time_dist", value=d)
    try:
        if d["kind"] == "uniform":
            lo, hi = d["low"], d["high"]
            if isinstance(lo, bool) or isinstance(hi, bool) or int(lo) != lo or int(hi) != hi:
                raise ValueError
            if not (0 <= lo <= hi <= MAX_LEAD_TIME):
                raise ConfigError(f"uniform lead times need 0 <= low <= high <= {MAX_LEAD_TIME} (got {lo}..{hi})",
                                  field="lead_time_dist", value=d)
            return {"kind": "uniform", "low": int(lo), "high": int(hi)}
        mean = float(d["mean"])
        if not (0 <= mean <= MAX_LEAD_TIME):
            raise ConfigError(f"poisson lead-time mean must be in [0, {MAX_LEAD_TIME}] (got {mean})",
                              field="lead_time_dist", value=d)
        return {"kind": "poisson", "mean": mean}
    except ConfigError:
        raise
    except (KeyError, TypeError, ValueError):
        raise ConfigError(f"lead_time_dist {d!r} is malformed", field="lead_time_dist", value=d) from None


def lead_time_moments(config: SimConfig) -> tuple[float, float]:
    """(mean, variance) of the lead time."""
    d = config.lead_time_dist
    if not d:
        return float(config.lead_time), 0.0
    if d["kind"] == "uniform":
        n = d["high"] - d["low"] + 1
        return (d["low"] + d["high"]) / 2.0, (n * n - 1) / 12.0
    return d["mean"], d["mean"]


def resolve_costs(config: SimConfig, series: SeriesData) -> dict:
    """h, p and the unit cost/price used (ConfigError when p ≤ 0), with where they came from: `source` "entered"
    (a setting), "file" (the data file's price / cost column) or "assumed" (defaults 20 / 40), and `sources` per
    quantity (engine.data.cost_sources)."""
    cost = float(config.unit_cost if config.unit_cost is not None else series.unit_cost)
    price = float(config.unit_price if config.unit_price is not None else series.unit_price)
    if not cost > 0:
        raise ConfigError(f"unit cost must be positive (got {cost:g}); set --unit-cost", field="unit_cost",
                          value=cost)
    h = config.holding_rate * cost / 365.0
    if config.backorders and config.backorder_cost is not None:
        p = float(config.backorder_cost)
    elif config.stockout_cost is not None:
        p = float(config.stockout_cost)
    else:
        p = price - cost
        if not p > 0:
            raise ConfigError(
                f"stockout cost p = unit price − unit cost = {price:g} − {cost:g} = {p:g} is not positive; "
                "set --stockout-cost or a unit price above the unit cost", field="stockout_cost", value=p)
        if config.backorders:
            p = p / BACKORDER_DAYS
    sources = cost_sources(series, config.unit_cost, config.unit_price)
    return {"h": h, "p": p, "unit_cost": cost, "unit_price": price, "source": overall_source(sources),
            "sources": sources}


def load_series(config: SimConfig) -> SeriesData:
    """The series a config names (config.data path, config.series key or the first series)."""
    if not config.data:
        raise ConfigError("no data file given (--data)", field="data")
    return load_csv(config.data).get(config.series)


@dataclass
class Prepared:
    """Everything fixed before day 1 (shared by the single run and the batch)."""

    config: SimConfig
    series: SeriesData
    forecaster: Forecaster
    plan: DemandPlan
    costs: dict
    setup: PolicySetup
    policy: object
    window: int
    sigma: float
    seed_errors: np.ndarray = field(default_factory=lambda: np.zeros(0))   # relative W-day errors before day 1
    seed_source: str = "context"          # "context" (rolling-origin errors) | "noise" (forecast-noise prior)
    lead_deviation: np.ndarray | None = None   # (L_eff + 1 − W) / W samples (stochastic lead times)
    effective_lead_time: float = 0.0
    floor: float = 1.0
    prior: SeasonalPrior | None = None  # synthetic / forecast-noise: errors on extra paths of the mode
    rules: OrderRules = field(default_factory=OrderRules)   # the supplier's rules the kernel applies
    first_weekday: int = 0              # weekday of day 1 (Monday = 0): the rules' order days are read against it

    def tracker(self, rows: int, days: int, lead_times=None) -> ProtectionTracker:
        """A fresh online quantile tracker for `rows` replications (the same seed errors for all). With a random
        lead time and the rows' drawn `lead_times` ((rows, days)), the own errors are over realised protection
        periods (engine.protection.lead_times)."""
        lead_eff, reach = None, 0
        if lead_times is not None and self.config.lead_time_dist:
            lead_eff = arrival_lead_times(np.asarray(lead_times)[:, :days], bool(self.config.allow_crossing))
            reach = lead_time_reach(self.config, self.window)
        return ProtectionTracker(rows, days, self.window, self.seed_errors, self.floor, CAPACITY,
                                 self.lead_deviation, seed_independent=self.seed_source == "noise",
                                 prior=self.prior, lead_eff=lead_eff, reach=reach)


def prepare(config: SimConfig, series: SeriesData, forecaster: Forecaster | None, reps,
            sigma: float | None = None) -> Prepared:
    config.validate()
    config = replace(config, policy_params=dict(config.policy_params))  # the caller's object is never changed
    if forecaster is None:
        name = config.forecaster or default_forecaster_name()
        try:
            forecaster = get_forecaster(name)
        except UnknownForecaster as exc:
            raise ConfigError(str(exc), field="forecaster", value=name) from None
    config.forecaster = forecaster.name  # the state records the forecaster actually used
    context_length(config, series, forecaster.min_history)  # "too few rows" is reported before anything else
    if getattr(forecaster, "requires_planning", False) and series.planning is None:
        raise ConfigError(f"forecaster {forecaster.name!r} needs the Demand_Forecast column, which series "
                          f"{series.key} does not have", field="forecaster", value=forecaster.name)
    costs = resolve_costs(config, series)
    plan = build_plan(config, series, forecaster.min_history, reps)
    mean_l, _ = lead_time_moments(config)
    eff = effective_lead_times(config)
    eff_mean = float(eff.mean())
    var_l = float(eff.var())
    rules = config.order_rules()
    review = rules.review_period()  # periodic review: an order covers L + R days (engine.policies.order_rules)
    window = int(round(eff_mean)) + review
    deviation = None if not config.lead_time_dist else (eff[:CAPACITY * 4] + review - window) / window
    floor = floor_for(window)
    ctx = plan.context
    recent = ctx[-28:]
    mean_d = float(recent.mean())
    std_d = float(recent.std()) if len(recent) > 1 else 0.0
    seed_errors, seed_source = np.zeros(0), "context"
    if sigma is None:
        cov = None
        if forecaster.reads_covariates:
            cov = plan.covariates().take(plan.n_context + forecaster.horizon, rows=slice(0, 1))
        try:
            actual, fc = forecaster.window_errors(ctx[None, :], cov, window)
            if len(actual) >= 8:
                sigma_w = float(math.sqrt(np.mean(np.square(actual - fc))))
            else:
                sigma_w = float(forecaster.window_sigma(ctx[None, :], cov, window))
            if len(actual) >= 8:
                if deviation is not None:  # the lead-time variability of the arrival process (see the tracker)
                    actual = actual + deviation[np.arange(len(actual)) % len(deviation)] * fc
                seed_errors = relative_errors(actual, fc, floor)
            else:  # too short a context for W-day errors: a normal prior with the forecaster's σ
                draws = np.random.default_rng(NOISE_SEED).standard_normal(CAPACITY)
                level = window * mean_d
                seed_errors, seed_source = relative_errors(level + draws * sigma_w, level, floor), "sigma"
        except ConfigError:
            raise
        except ValueError as exc:
            raise forecast_failed(forecaster, series, exc) from None
        sigma = math.sqrt(sigma_w * sigma_w + mean_d * mean_d * var_l)
    prior = None
    if config.demand in SIMULATED_PRIOR_MODES:
        try:
            prior_paths = simulated_prior_paths(config, series, forecaster, window, floor, deviation)
            prior_errors = prior_paths[0]
        except ConfigError:
            raise
        except ValueError as exc:
            raise forecast_failed(forecaster, series, exc) from None
        prior = SeasonalPrior(prior_errors, window)
        seed_errors, seed_source = np.zeros(0), "simulated"
    sigma_one = sigma / math.sqrt(window)
    setup = PolicySetup(h=costs["h"], p=costs["p"], lead_time=mean_l, window=window, sigma_window=sigma,
                        sigma_one=sigma_one, mean_demand=mean_d, demand_std=std_d, backorders=config.backorders,
                        order_cost=rules.order_cost, review_period=review)
    policy = make_policy(config.policy, setup, config.policy_params)
    if prior is not None and not config.backorders and getattr(policy, "takes_lost_sales_level", False):
        policy.use_lost_sales_level(lost_sales_level(
            prior_paths, prior_key(config, series, forecaster, window, floor, deviation), policy.target,
            costs["h"], costs["p"], window, floor, config.initial_inventory, config.lead_time_dist,
            config.allow_crossing))
    return Prepared(config, series, forecaster, plan, costs, setup, policy, window, sigma, seed_errors, seed_source,
                    deviation, eff_mean, floor, prior, rules, weekday_of(plan.dates[0] if plan.dates else None))


def protection_info(prep: Prepared, method: str | None = None) -> dict:
    """How the order-up-to level is obtained (JSON-safe, for `info`): the quantile level, its method, the window."""
    q = getattr(prep.policy, "quantile_level", None)
    return {"protection": {"quantile_level": q, "quantile_method": method if q is not None else "none",
                           "seed": prep.seed_source,
                           "seed_errors": int(len(prep.seed_errors) if prep.prior is None else prep.prior.n),
                           "effective_lead_time": prep.effective_lead_time, "window": prep.window,
                           "floor": prep.floor, "error_capacity": CAPACITY,
                           **({"source": f"{prep.forecaster.name}'s own {prep.window}-day-sum quantile (calibrated "
                                         "on its held-out meta period; no error sample)"} if method == "model"
                              else {})},
            "order_rules": prep.rules.describe()}


def forecast_failed(forecaster, series: SeriesData, exc: Exception) -> ConfigError:
    """A forecaster that refuses the series (e.g. a model trained with covariates the file lacks)."""
    return ConfigError(f"forecaster {forecaster.name!r} cannot forecast series {series.key}: {exc}",
                       field="forecaster", value=forecaster.name)


class Simulator:
    """One replication, one day per `step()`; the ledger is a list of plain dict rows (LEDGER_COLUMNS)."""

    def __init__(self, config: SimConfig, series: SeriesData, forecaster: Forecaster | None = None,
                 replication: int = 0, *, _sigma: float | None = None) -> None:
        self.series = series
        self.replication = int(replication)
        prep = prepare(config, series, forecaster, [self.replication], sigma=_sigma)
        self.config = prep.config  # a copy with the forecaster name resolved
        self._prep = prep
        self.forecaster = prep.forecaster
        self.policy = prep.policy
        self.costs = prep.costs
        self.sigma = prep.sigma
        self.window = prep.window
        plan = prep.plan
        self.plan = plan
        self.days = plan.days
        self._h, self._p = prep.costs["h"], prep.costs["p"]
        self._n_ctx = plan.n_context
        self._hist = plan.history(1)
        self._future = None if plan.future is None else [float(x) for x in plan.future[0]]
        self._z = None if plan.noise_z is None else [float(x) for x in plan.noise_z[0]]
        self._noise = plan.noise
        self._lead = [int(x) for x in plan.lead_times[0]]
        self._max_lead = max(self._lead, default=0)
        self._dates = plan.dates
        self._cov = plan.covariates() if self.forecaster.reads_covariates else None
        self._H = self.forecaster.horizon
        self._f0 = np.zeros(plan.days)
        self._obs = Observation()
        self._obs.sigma = self.sigma
        self._q = getattr(self.policy, "quantile_level", None)
        self._fixed_q = getattr(self.policy, "safety_quantile", None)
        self._model_q = reads_model_quantiles(self.forecaster, self._q, self.window, bool(prep.config.lead_time_dist))
        self._inputs = None   # the last forecast's history and covariates (the model's quantile reads them too)
        self.protection = prep.tracker(1, plan.days, plan.lead_times)
        config = self.config
        self._backorders = bool(config.backorders)
        self._crossing = bool(config.allow_crossing)
        self.day = 0                  # days simulated so far
        self.ledger: list[dict] = []
        self.cumulative_cost = 0.0
        if config.initial_inventory is not None:
            on_hand = float(config.initial_inventory)
        else:
            on_hand = float(self._initial_level())
        self.kernel = InventoryKernel(on_hand, h=self._h, p=self._p, backorders=self._backorders,
                                      max_lead=self._max_lead, crossing=self._crossing, totals=False,
                                      rules=prep.rules, first_weekday=prep.first_weekday)

    # the inventory's state lives in the kernel; these read it under the names the ledger and the state use
    @property
    def on_hand(self) -> float:
        return self.kernel.on_hand

    @property
    def on_order(self) -> float:
        return self.kernel.on_order

    @property
    def backlog(self) -> float:
        return self.kernel.backlog

    @property
    def last_arrival(self) -> int:
        return self.kernel.last_arrival

    @property
    def pipeline(self) -> dict[int, float]:
        """Orders not yet received: {0-based arrival day: quantity}."""
        return self.kernel.outstanding_by_day(self.day)

    # -- internals -----------------------------------------------------------------------------------------
    def _forecast(self, d: int):
        t = self._n_ctx + d
        cov = None if self._cov is None else self._cov.take(t + self._H, rows=None)
        try:
            f = self.forecaster.predict(self._hist[:, :t], cov)
        except ConfigError:
            raise
        except ValueError as exc:
            raise forecast_failed(self.forecaster, self.series, exc) from None
        self._inputs = (self._hist[:, :t], cov)
        f0, mu = float(f[0, 0]), float(window_sum(f, self.window)[0])
        if not (math.isfinite(f0) and math.isfinite(mu)):
            raise ConfigError(f"forecaster {self.forecaster.name!r} returned a non-finite forecast for day {d + 1}",
                              field="forecaster", value=self.forecaster.name)
        return f, f0, mu

    def _protect(self, d: int, mu: float, obs: Observation) -> None:
        """μ and the calibrated safety stock of day d (only windows completed by day d − 1 are read)."""
        self.protection.set_mu(d, mu)
        if self._fixed_q is not None:   # a stated rule's Q (OrderUpTo.safety_quantile)
            obs.safety = float(protection_level(mu, self._fixed_q, self._prep.floor)) - mu
            obs.quantile_method = "fixed"
            return
        if self._q is None:
            obs.safety, obs.quantile_method = 0.0, "none"
            return
        if self._model_q:
            level = model_level(self.forecaster, *self._inputs, self.window, self._q)
            obs.safety, obs.quantile_method = float(level[0]) - mu, "model"
            return
        safety, method = self.protection.safety(d, self._q)
        obs.safety, obs.quantile_method = float(safety[0]), method
        if getattr(self.policy, "reads_errors", False):
            obs.errors = self.protection.buffer.values()

    def _initial_level(self) -> float:
        f, f0, mu = self._forecast(0)
        obs = Observation()
        obs.day, obs.forecast, obs.forecasts, obs.mu, obs.sigma = 1, f0, f[0], mu, self.sigma
        obs.past_forecasts = self._f0[:0]
        obs.on_hand, obs.pipeline = 0.0, np.zeros(self._max_lead)
        self._protect(0, mu, obs)
        return max(float(self.policy.initial_inventory(obs)), 0.0)

    @property
    def done(self) -> bool:
        return self.day >= self.days

    def step(self) -> dict:
        """Simulate the next day and return its ledger row."""
        d = self.day
        if d >= self.days:
            raise ConfigError(f"the simulation has already run all {self.days} days", field="days", value=self.days)
        # (1) order decision from information up to yesterday
        f, f0, mu = self._forecast(d)
        obs = self._obs
        obs.day = d + 1
        obs.forecast = f0
        obs.forecasts = f[0]
        obs.mu = mu
        obs.past_forecasts = self._f0[:d]
        self._f0[d] = f0
        self._protect(d, mu, obs)
        kernel = self.kernel
        on_hand_start = kernel.on_hand
        ip = kernel.position()
        obs.on_hand = on_hand_start
        obs.pipeline = kernel.pipeline(d, self._max_lead)
        qty, level = self.policy.decide(ip, obs)
        qty = float(qty)
        level = float(level)
        # (2)-(4) the order joins the pipeline; arrivals, demand and costs: the one inventory day (kernel.py)
        placed, arrival = kernel.place(d, qty, self._lead[d])
        qty = kernel.ordered
        if self._future is not None:
            demand = self._future[d]
        else:
            demand = max(0.0, f0 + self._z[d] * self._noise * max(1.0, f0))
            self._hist[0, self._n_ctx + d] = demand
        self.protection.set_demand(d, demand)
        flows = kernel.serve(d, demand, placed)
        holding, stockout = flows.holding, flows.stockout
        daily = holding + stockout
        if kernel.order_cost:
            daily = daily + flows.ordering
        self.cumulative_cost += daily
        self.day = d + 1
        backlog, on_hand = kernel.backlog, kernel.on_hand
        arrivals, backlog_filled, fulfilled, unmet = flows.arrivals, flows.backlog_filled, flows.fulfilled, flows.unmet
        lead = arrival - d if placed else None
        row = {
            "day": d + 1, "date": None if self._dates is None else self._dates[d], "forecast": f0,
            "demand": demand, "on_hand_start": on_hand_start, "arrivals": arrivals,
            "backlog_filled": backlog_filled, "fulfilled": fulfilled, "unmet": unmet, "backlog": backlog,
            "on_hand": on_hand, "on_order": kernel.on_order, "inventory_position": ip, "order_qty": qty,
            "order_up_to": level, "lead_time": lead, "mu": mu, "safety_stock": obs.safety,
            "quantile_method": obs.quantile_method, "holding_cost": holding, "stockout_cost": stockout,
            "daily_cost": daily, "cumulative_cost": self.cumulative_cost, "ordering_cost": flows.ordering,
        }
        self.ledger.append(row)
        return row

    def run(self, n: int | None = None) -> list[dict]:
        """Run n more days (all remaining when None); returns the new rows."""
        stop = self.days if n is None else min(self.days, self.day + int(n))
        out = []
        while self.day < stop:
            out.append(self.step())
        return out

    def kpis(self) -> dict:
        return ledger_kpis(self.ledger, backorders=self._backorders)

    def info(self) -> dict:
        """What was resolved before day 1 (JSON-safe): forecaster, costs, σ, protection period, policy."""
        return {"forecaster": self.forecaster.name, "policy": self.policy.describe(), "costs": dict(self.costs),
                "sigma_window": self.sigma, "window": self.window, "context_days": self._n_ctx,
                "days": self.days, "series": self.series.key, "demand": self.config.demand,
                "replication": self.replication, **protection_info(self._prep, self._obs.quantile_method)}

    # -- state ---------------------------------------------------------------------------------------------
    def to_state(self, series: bool = True, ledger_from: int = 0) -> dict:
        """Plain JSON-safe dict; `Simulator.from_state(state)` continues exactly.

        A store that keeps the series and the ledger's earlier rows from a previous save asks for less:
        series=False leaves the series out, ledger_from=k gives the ledger rows from day k+1 on only (what
        changed since the last save; the caller puts the full ledger back before from_state)."""
        return {
            "version": STATE_VERSION,
            "config": self.config.to_dict(),
            **({"series": self.series.to_dict()} if series else {}),
            "replication": self.replication,
            "sigma": self.sigma,
            "protection": self.protection.to_state(),
            "day": self.day,
            "on_hand": self.on_hand,
            "on_order": self.on_order,
            "backlog": self.backlog,
            "cumulative_cost": self.cumulative_cost,
            "last_arrival": self.last_arrival,
            "pipeline": [[int(k), float(v)] for k, v in sorted(self.pipeline.items())],
            "ledger": [dict(r) for r in self.ledger[max(0, int(ledger_from)):]],
        }

    @classmethod
    def from_state(cls, state: dict) -> "Simulator":
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
            version = state.get("version") if isinstance(state, dict) else None
            raise ConfigError(f"unsupported simulator state version {version!r}",
                              field="version")
        try:
            config = SimConfig.from_dict(state["config"])
            series = SeriesData.from_dict(state["series"])
            sim = cls(config, series, replication=int(state["replication"]), _sigma=float(state["sigma"]))
            day = int(state["day"])
            ledger = [dict(r) for r in state["ledger"]]
            if day != len(ledger) or not 0 <= day <= sim.days:
                raise ValueError("day does not match the ledger")
            sim.day = day
            sim.ledger = ledger
            sim.kernel.resume(day, on_hand=float(state["on_hand"]), backlog=float(state["backlog"]),
                              on_order=float(state["on_order"]), last_arrival=int(state["last_arrival"]),
                              outstanding={int(k): float(v) for k, v in state["pipeline"]})
            sim.cumulative_cost = float(state["cumulative_cost"])
            sim.protection.restore(state["protection"], [float(r["mu"]) for r in ledger],
                                   [float(r["demand"]) for r in ledger])
            if ledger:
                sim._obs.quantile_method = str(ledger[-1]["quantile_method"])
            for i, r in enumerate(ledger):
                sim._f0[i] = float(r["forecast"])
                sim._hist[0, sim._n_ctx + i] = float(r["demand"])
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, ConfigError):
                raise
            raise ConfigError(f"stored simulator state is malformed ({exc})") from None
        return sim
