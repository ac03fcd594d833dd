"""Many replications at once, vectorised over replications (numpy arrays of shape (R,)).

The inventory day is engine.simulation.kernel's, on an (R,) state, as `Simulator.step`'s on a float
(tests/engine/test_batch.py proves replication r's ledger equals the single run of replication r, exactly).
Common random numbers: replication r draws every stream from
SeedSequence([seed, r, stream]), so under one seed every policy/scenario sees the same demand paths. Forecasts
that cannot depend on the policy are computed once per path (replay: once for all replications). Replications
are processed in chunks so memory stays bounded (≈ CHUNK_CELLS floats of history per chunk).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.data.dataset import SeriesData
from engine.demand.modes import build_plan
from engine.errors import ConfigError
from engine.forecast.base import Forecaster, window_sum
from engine.policies.base import Observation
from engine.protection.model_quantiles import model_level, reads_model_quantiles
from engine.protection.tracker import METHODS, protection_level
from engine.simulation.kernel import InventoryKernel
from engine.simulation.metrics import TOTAL_NAMES, kpis_from_totals, summarize
from engine.simulation.simulator import LEDGER_COLUMNS, SimConfig, forecast_failed, prepare, protection_info

__all__ = ["run_batch", "BatchResult", "CHUNK_CELLS"]

CHUNK_CELLS = 4_000_000
_NUMERIC_COLUMNS = [c for c in LEDGER_COLUMNS if c not in ("day", "date", "lead_time", "quantile_method")]


@dataclass
class BatchResult:
    """KPIs per replication ((R,) arrays), their summary, and (optionally) the first replications' ledgers."""

    config: SimConfig
    replications: int
    kpis: dict
    info: dict
    dates: list[str] | None = None
    kept: dict = field(default_factory=dict)  # column -> (K, days) arrays for replications 0..K-1

    def summary(self, confidence: float = 0.95) -> dict:
        """{"mean": {kpi: mean}, "half_width": {kpi: t-based CI half-width}}."""
        return summarize(self.kpis, confidence)

    def ledger(self, r: int = 0) -> list[dict]:
        """Ledger rows of replication r (only for r < keep_ledgers)."""
        if not self.kept or r >= self.kept["order_qty"].shape[0]:
            raise IndexError(f"replication {r}'s ledger was not kept (run_batch(..., keep_ledgers=K))")
        days = self.kept["order_qty"].shape[1]
        rows = []
        for d in range(days):
            row = {"day": d + 1, "date": None if self.dates is None else self.dates[d]}
            for c in _NUMERIC_COLUMNS:
                row[c] = float(self.kept[c][r, d])
            lt = int(self.kept["lead_time"][r, d])
            row["lead_time"] = lt if lt >= 0 else None
            row["quantile_method"] = METHODS[int(self.kept["quantile_method"][r, d])]
            rows.append({c: row[c] for c in LEDGER_COLUMNS})
        return rows

    def to_dict(self) -> dict:
        """JSON-safe: summary, per-replication KPI lists, resolved info."""
        per = {}
        for k, v in self.kpis.items():
            if k == "days":
                continue
            per[k] = [None if np.isnan(x) else float(x) for x in np.asarray(v, dtype=np.float64)]
        s = self.summary()
        return {"replications": self.replications, "mean": s["mean"], "half_width": s["half_width"],
                "per_replication": per, "info": self.info, "config": self.config.to_dict()}


def run_batch(config: SimConfig, series: SeriesData, replications: int | None = None,
              forecaster: Forecaster | None = None, keep_ledgers: int = 0, first_replication: int = 0,
              policy_params: dict | None = None) -> BatchResult:
    """Run `replications` (default config.replications) replications first_replication, ... vectorised.

    keep_ledgers=K keeps the full daily ledger of the first K replications (BatchResult.ledger(r)).
    """
    R = int(config.replications if replications is None else replications)
    if R < 1:
        raise ConfigError(f"replications must be at least 1 (got {R})", field="replications", value=R)
    reps_all = list(range(first_replication, first_replication + R))
    prep = prepare(config, series, forecaster, reps_all[:1])
    plan0 = prep.plan
    width = plan0.n_context + plan0.days + 200
    chunk = max(1, min(R, CHUNK_CELLS // width))
    totals = {k: [] for k in TOTAL_NAMES}
    kept: dict = {}
    for start in range(0, R, chunk):
        reps = reps_all[start:start + chunk]
        plan = plan0 if len(reps) == 1 and start == 0 else build_plan(prep.config, series,
                                                                       prep.forecaster.min_history, reps)
        k_keep = max(0, min(keep_ledgers - start, len(reps)))
        tot, cols, method = _run_chunk(prep, plan, len(reps), k_keep)
        for k in TOTAL_NAMES:
            totals[k].append(tot[k])
        for c, a in cols.items():
            kept.setdefault(c, []).append(a)
    tot = {k: np.concatenate(v) for k, v in totals.items()}
    kpis = kpis_from_totals(tot, plan0.days)
    kept = {c: np.concatenate(v) for c, v in kept.items()}
    info = {"forecaster": prep.forecaster.name, "policy": prep.policy.describe(), "costs": dict(prep.costs),
            "sigma_window": prep.sigma, "window": prep.window, "context_days": plan0.n_context,
            "days": plan0.days, "series": series.key, "demand": prep.config.demand, "replications": R,
            "first_replication": first_replication, **protection_info(prep, method)}
    return BatchResult(config=prep.config, replications=R, kpis=kpis, info=info, dates=plan0.dates, kept=kept)


def _run_chunk(prep, plan, R: int, k_keep: int):
    config = prep.config
    f_model = prep.forecaster
    policy = prep.policy
    h, p = prep.costs["h"], prep.costs["p"]
    days, n_ctx, w, H = plan.days, plan.n_context, prep.window, f_model.horizon
    shared = plan.shared_demand
    n = 1 if shared else R
    hist = plan.history(n)
    cov = plan.covariates() if f_model.reads_covariates else None
    backorders = bool(config.backorders)
    crossing = bool(config.allow_crossing)
    noise = plan.noise
    past_f0 = np.zeros((n, days))
    obs = Observation()
    obs.sigma = prep.sigma
    q = getattr(policy, "quantile_level", None)
    tracker = prep.tracker(R, days, plan.lead_times)
    reads_errors = getattr(policy, "reads_errors", False)

    from_model = reads_model_quantiles(f_model, q, w, bool(config.lead_time_dist))
    inputs = {}   # the last forecast's history and covariates (the model's quantile reads them too)

    fixed_q = getattr(policy, "safety_quantile", None)

    def protect(d, mu, o):
        tracker.set_mu(d, mu)
        if fixed_q is not None:   # a stated rule's Q (OrderUpTo.safety_quantile), as Simulator._protect
            o.safety, o.quantile_method = protection_level(mu, fixed_q, prep.floor) - mu, "fixed"
        elif q is None:
            o.safety, o.quantile_method = 0.0, "none"
        elif from_model:
            o.safety, o.quantile_method = model_level(f_model, inputs["h"], inputs["c"], w, q) - mu, "model"
        else:
            o.safety, o.quantile_method = tracker.safety(d, q)
            if reads_errors:
                o.errors = tracker.buffer.values()

    def forecast(d):
        t = n_ctx + d
        c = None if cov is None else cov.take(t + H)
        try:
            f = f_model.predict(hist[:, :t], c)
        except ConfigError:
            raise
        except ValueError as exc:
            raise forecast_failed(f_model, prep.series, exc) from None
        inputs["h"], inputs["c"] = hist[:, :t], c
        mu = window_sum(f, w)
        if not (np.isfinite(mu).all() and np.isfinite(f[:, 0]).all()):
            raise ConfigError(f"forecaster {f_model.name!r} returned a non-finite forecast for day {d + 1}",
                              field="forecaster", value=f_model.name)
        return f, f[:, 0].copy(), mu

    if config.initial_inventory is not None:
        on_hand = np.full(R, float(config.initial_inventory))
    else:
        f, f0, mu = forecast(0)
        o = Observation()
        o.day, o.forecast, o.forecasts, o.mu, o.sigma, o.past_forecasts = 1, f0, f, mu, prep.sigma, past_f0[:, :0]
        o.on_hand, o.pipeline = np.zeros(R), np.zeros((R, int(plan.lead_times.max()) if plan.lead_times.size else 0))
        protect(0, mu, o)
        init = np.broadcast_to(np.asarray(policy.initial_inventory(o), dtype=np.float64), (R,))
        on_hand = np.maximum(init, 0.0)
    cum = np.zeros(R)
    lead = plan.lead_times
    max_lead = int(lead.max()) if lead.size else 0  # every outstanding order arrives within max_lead days
    kernel = InventoryKernel(on_hand, h=h, p=p, backorders=backorders, max_lead=max_lead, crossing=crossing,
                             rules=prep.rules, first_weekday=prep.first_weekday)
    cols = {}
    if k_keep:
        cols = {c: np.zeros((k_keep, days)) for c in _NUMERIC_COLUMNS}
        cols["lead_time"] = np.full((k_keep, days), -1, dtype=np.int64)
        cols["quantile_method"] = np.zeros((k_keep, days), dtype=np.int64)
    for d in range(days):
        f, f0, mu = forecast(d)
        obs.day = d + 1
        obs.forecast = f0
        obs.forecasts = f
        obs.mu = mu
        obs.past_forecasts = past_f0[:, :d]
        past_f0[:, d] = f0
        protect(d, mu, obs)
        on_hand_start = kernel.on_hand.copy()   # the kernel updates its stock in place
        ip = kernel.position()
        obs.on_hand = on_hand_start
        obs.pipeline = kernel.pipeline(d, max_lead)
        qty, level = policy.decide(ip, obs)
        qty = np.broadcast_to(np.asarray(qty, dtype=np.float64), (R,))
        level = np.broadcast_to(np.asarray(level, dtype=np.float64), (R,))
        placed, arrival = kernel.place(d, qty, lead[:, d])
        qty = np.broadcast_to(kernel.ordered, (R,))
        if plan.future is not None:
            demand = plan.future[:, d]
            if shared:
                demand = np.broadcast_to(demand, (R,))
        else:
            demand = np.maximum(0.0, f0 + plan.noise_z[:, d] * noise * np.maximum(1.0, f0))
            hist[:, n_ctx + d] = demand
        tracker.set_demand(d, demand)
        flows = kernel.serve(d, demand, placed)
        holding, stockout = flows.holding, flows.stockout
        daily = holding + stockout
        if kernel.order_cost:
            daily = daily + flows.ordering
        cum = cum + daily
        if k_keep:
            K = k_keep
            vals = {"forecast": np.broadcast_to(f0, (R,)), "demand": demand, "on_hand_start": on_hand_start,
                    "arrivals": flows.arrivals, "backlog_filled": np.broadcast_to(flows.backlog_filled, (R,)),
                    "fulfilled": flows.fulfilled, "unmet": flows.unmet, "backlog": kernel.backlog,
                    "on_hand": kernel.on_hand, "on_order": kernel.on_order, "inventory_position": ip,
                    "order_qty": qty, "order_up_to": level, "mu": np.broadcast_to(mu, (R,)),
                    "safety_stock": np.broadcast_to(obs.safety, (R,)), "holding_cost": holding,
                    "stockout_cost": stockout,
                    "daily_cost": daily, "cumulative_cost": cum,
                    "ordering_cost": np.broadcast_to(flows.ordering, (R,))}
            for c, v in vals.items():
                cols[c][:, d] = v[:K]
            cols["lead_time"][:, d] = np.where(placed[:K], arrival[:K] - d, -1)
            cols["quantile_method"][:, d] = METHODS.index(obs.quantile_method)
    return kernel.finish(), cols, obs.quantile_method
