"""Rolling-origin backtest of the whole portfolio pipeline on a file's own history: what was promised, what happened.

At each origin (the last `origins` × `holdout_days` days of every series are cut into `origins` consecutive
windows of `holdout_days` days; origin j sees the days before its window only):
1. the portfolio (engine.studies.portfolio.run_chunk) chooses class, forecaster, policy and parameters on the
   history before the origin and promises a fill rate, cycle service level, cost and mean on-hand stock;
2. the recommendation then runs on the next `holdout_days` real days through the one inventory day
   (engine.simulation.kernel.InventoryKernel), lost sales, from a stated start state: on-hand = the policy's level
   at the origin (order-up-to: S computed from the forecast at the origin; (r, Q): r + Q, as the portfolio's own
   simulation starts), nothing on order. Order-up-to recomputes S each day from the chosen forecaster, updated
   with the real demand of the days before (engine.protection.tracker.protection_level); (r, Q) is static;
3. beside it, a days-of-cover baseline the way planners set stock: daily review, order up to
   S_t = k · (L + 1) · (the mean of the 28 days before t), k per series the smallest of DAYS_OF_COVER_GRID whose
   replay on the series' last `history_days` real days before the origin reaches the same fill-rate target
   (objective fill-rate) or costs least there (objective cost), run on the held-out days the same way.

Realised figures per series (fill rate = units served on the day / units demanded, cycle service level of
engine.simulation.metrics, cost = holding + lost sales, mean closing on-hand) sit beside the promised ones.
Totals: the mean over series with demand in their window (the portfolio's promise is such a mean), the
unit-weighted realised fill rate, the share of series whose realised fill rate is within 5 points of the promise.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from engine.errors import ConfigError, DataError
from engine.studies.history_replay import days_of_cover, replay_records, replayed_fields
from engine.studies.portfolio import CHECK_WINDOWS, PortfolioSettings, _series_list, run_chunk, with_calibration

__all__ = ["BacktestSettings", "run_backtest", "backtest_summary", "backtest_csv", "BACKTEST_COLUMNS"]

WITHIN_POINTS = 0.05


ORIGINS_RANGE = (1, 24)   # the settings' bound, said once (validate, and /portfolio's field and its check)


@dataclass
class BacktestSettings:
    holdout_days: int = 90
    origins: int = 1
    lead_time: int | None = None        # None: the file's lead-time column, else DEFAULT_LEAD_TIME
    objective: str = "fill-rate"
    target_fill_rate: float = 0.95
    holding_rate: float = 0.25
    replications: int = 20
    seed: int = 42
    history_days: int = 365
    promise_check: bool = True          # the portfolio's out-of-time correction of targets and promises
    check_windows: int = CHECK_WINDOWS  # its held-out windows before each origin
    forecaster: str | None = None       # ensemble:NAME of a global model: its own calibrated level
    moq: float = 0.0                    # the supplier's rules (engine.policies.order_rules), as PortfolioSettings:
    pack_size: int | None = None        # the recommendations are chosen under them and every replayed order
    order_days: list | None = None      # follows them, the days-of-cover baseline's too
    order_cost: float = 0.0
    static_rq: bool | None = None       # the static (r, Q) rule: None = under fill-rate only (engine.studies.portfolio)

    def validate(self) -> "BacktestSettings":
        checks = [("holdout_days", 7 <= self.holdout_days <= 730, "7..730"),
                  ("origins", ORIGINS_RANGE[0] <= self.origins <= ORIGINS_RANGE[1], "{}..{}".format(*ORIGINS_RANGE))]
        for name, ok, allowed in checks:
            if not ok:
                value = getattr(self, name)
                raise ConfigError(f"--{name.replace('_', '-')} {value} is out of range ({allowed})", field=name,
                                  value=value)
        self.portfolio_settings().validate()
        return self

    def portfolio_settings(self) -> PortfolioSettings:
        return PortfolioSettings(lead_time=self.lead_time, replications=self.replications, days=self.holdout_days,
                                 target_fill_rate=self.target_fill_rate, objective=self.objective,
                                 holding_rate=self.holding_rate, seed=self.seed, history_days=self.history_days,
                                 promise_check=self.promise_check, check_windows=self.check_windows,
                                 moq=self.moq, pack_size=self.pack_size, order_days=self.order_days,
                                 order_cost=self.order_cost, static_rq=self.static_rq)

    def to_dict(self) -> dict:
        return asdict(self)


def _origin(series: list, records: list[dict], held: list[np.ndarray], s: BacktestSettings, origin: int) -> list:
    """Replay one origin's recommendations and the days-of-cover baseline on the held-out days."""
    by_key = {r["series"]: r for r in records}
    recs = [by_key[x.key] for x in series]
    D = np.vstack(held)
    H = D.shape[1]
    rules = s.portfolio_settings().order_rules()   # the kernel ignores rules that change nothing
    run = replay_records(series, recs, D, s.history_days, s.holding_rate, rules)
    base = days_of_cover(series, recs, D, s.history_days, s.holding_rate, s.objective, s.target_fill_rate, rules)
    real = run["totals"]
    out = []
    for i, x in enumerate(series):
        r = recs[i]
        rq = r["policy"] == "r-Q"
        out.append({
            "series": x.key, "origin": origin, "origin_date": None if x.dates is None else x.dates[-1],
            "class": r["class"], "forecaster": r["forecaster"], "policy": r["policy"],
            "lead_time": r["lead_time"], "order_up_to": None if rq else r["order_up_to"],
            "relative_error_quantile": r["relative_error_quantile"], "quantile_level": None,
            "reorder_point": r["reorder_point"], "order_quantity": r["order_quantity"],
            "selection_target": r.get("selection_target", r["target_fill_rate"]),
            "start_on_hand": float(run["start"][i]),
            "promised_fill_rate": r.get("promised_fill_rate", r["fill_rate"]),
            "simulated_fill_rate": r["fill_rate"],
            "promised_cycle_service_level": r["cycle_service_level"],
            "promised_cost": r["expected_cost"], "promised_average_on_hand": r["average_on_hand"],
            **replayed_fields(real, base, i, H),
        })
    return out


BACKTEST_COLUMNS = ["series", "origin", "origin_date", "class", "forecaster", "policy", "lead_time", "order_up_to",
                    "relative_error_quantile", "quantile_level", "reorder_point", "order_quantity", "selection_target",
                    "start_on_hand", "promised_fill_rate", "simulated_fill_rate", "promised_cycle_service_level",
                    "promised_cost",
                    "promised_average_on_hand", "demand", "realised_fill_rate", "realised_cycle_service_level",
                    "realised_cost", "realised_average_on_hand", "baseline_days_of_cover_k", "baseline_fill_rate",
                    "baseline_cycle_service_level", "baseline_cost", "baseline_average_on_hand"]


def run_backtest(frame_or_path, settings: BacktestSettings | None = None, *, columns=None,
                 fill_missing_zero: bool = False, progress: Callable[[int, int], None] | None = None,
                 cancel: Callable[[], bool] | None = None) -> dict:
    """Per-series records of every origin and their summary (backtest_summary) for a path / bytes / DataFrame /
    Dataset / list of SeriesData."""
    s = (settings or BacktestSettings()).validate()
    model = None
    if s.forecaster is not None:
        from engine.studies.quantile_backtest import quantile_model
        model = quantile_model(s.forecaster)
    series = _series_list(frame_or_path, columns, fill_missing_zero)  # with each series' price plan (the loader)
    if not series:
        raise DataError("the file holds no series")
    H, K = s.holdout_days, s.origins
    need = K * H + 60
    short = [x for x in series if len(x) < need]
    if short:
        more = f" ({len(short) - 1} other series {'is' if len(short) == 2 else 'are'} short too)" \
            if len(short) > 1 else ""
        fewest = min(len(x) for x in series)
        fit = (fewest - 60) // K
        hint = (f"lower --holdout-days to {fit} or fewer" + (" or --origins" if K > 1 else "")) if fit >= 7 else \
            "the file is too short for this check"
        raise DataError(f"series {short[0].key} has {len(short[0])} days; {K} origin(s) of {H} held-out days "
                        f"need at least {need} (60 days of history before the first origin){more}: {hint}")
    if model is not None:
        from engine.studies.quantile_backtest import quantile_backtest_records
        records = quantile_backtest_records(series, s, model)
        if progress is not None:
            progress(K, K)
        return {"settings": s.to_dict(), **backtest_summary(records), "records": records}
    ps = s.portfolio_settings()
    records: list[dict] = []
    for j in range(K):
        if cancel is not None and cancel():
            from engine.studies.portfolio import PortfolioCancelled
            raise PortfolioCancelled(f"cancelled after {j} of {K} origins")
        cut = [x.slice(0, len(x) - (K - j) * H) for x in series]
        held = [np.asarray(x.demand[len(x) - (K - j) * H:len(x) - (K - j - 1) * H], dtype=np.float64)
                for x in series]
        recs = run_chunk(cut, with_calibration(cut, ps))
        records.extend(_origin(cut, recs, held, s, j))
        if progress is not None:
            progress(j + 1, K)
    return {"settings": s.to_dict(), **backtest_summary(records), "records": records}


def _mean(values) -> float | None:
    v = [x for x in values if x is not None]
    return float(np.mean(v)) if v else None


def unscored_text(names: list[str], shown: int = 10) -> str:
    """The records left out of the fill-rate figures, the first `shown` named (a page and the CLI say the same)."""
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {more} more" if more > 0 else "")


def backtest_summary(records: list[dict]) -> dict:
    """totals, by_class and baseline over records whose held-out window had demand (fill rate defined)."""
    scored = [r for r in records if r["realised_fill_rate"] is not None and r["promised_fill_rate"] is not None]
    units = sum(r["demand"] for r in scored)
    served = sum(r["realised_fill_rate"] * r["demand"] for r in scored)
    bserved = sum(r["baseline_fill_rate"] * r["demand"] for r in scored if r["baseline_fill_rate"] is not None)
    one_origin = len({r["origin"] for r in records}) == 1
    totals = {
        "series": len({r["series"] for r in records}), "records": len(records), "scored": len(scored),
        "promised_fill_rate": _mean(r["promised_fill_rate"] for r in scored),
        "realised_fill_rate": _mean(r["realised_fill_rate"] for r in scored),
        "realised_fill_rate_units": served / units if units > 0 else None,
        "promised_cycle_service_level": _mean(r["promised_cycle_service_level"] for r in scored),
        "realised_cycle_service_level": _mean(r["realised_cycle_service_level"] for r in scored),
        "promised_cost": sum(r["promised_cost"] for r in records),
        "realised_cost": sum(r["realised_cost"] for r in records),
        "promised_average_on_hand": _mean(r["promised_average_on_hand"] for r in records),
        "average_on_hand": _mean(r["realised_average_on_hand"] for r in records),
        "series_within_5pts": sum(1 for r in scored
                                  if abs(r["realised_fill_rate"] - r["promised_fill_rate"]) <= WITHIN_POINTS),
        # records left out of the fill-rate figures, named: no demand in the held-out days (or no promise)
        "unscored": [r["series"] if one_origin else f"{r['series']} (origin {r['origin']})"
                     for r in records if r["realised_fill_rate"] is None or r["promised_fill_rate"] is None],
    }
    by_class: dict[str, dict] = {}
    for c in sorted({r["class"] for r in records}):
        rs = [r for r in scored if r["class"] == c]
        by_class[c] = {"series": len(rs),
                       "promised_fill_rate": _mean(r["promised_fill_rate"] for r in rs),
                       "realised_fill_rate": _mean(r["realised_fill_rate"] for r in rs),
                       "realised_fill_rate_units": (sum(r["realised_fill_rate"] * r["demand"] for r in rs)
                                                    / max(sum(r["demand"] for r in rs), 1e-12)) if rs else None,
                       "average_on_hand": _mean(r["realised_average_on_hand"] for r in rs),
                       "baseline_fill_rate": _mean(r["baseline_fill_rate"] for r in rs),
                       "baseline_average_on_hand": _mean(r["baseline_average_on_hand"] for r in rs)}
    baseline = {"realised_fill_rate": _mean(r["baseline_fill_rate"] for r in scored),
                "realised_fill_rate_units": bserved / units if units > 0 else None,
                "realised_cycle_service_level": _mean(r["baseline_cycle_service_level"] for r in scored),
                "realised_cost": sum(r["baseline_cost"] for r in records),
                "average_on_hand": _mean(r["baseline_average_on_hand"] for r in records),
                "rule": "S = k * (L + 1) * mean of the last 28 days, k per series on the history before the origin"}
    misses = sorted((r for r in scored if r["promised_fill_rate"] - r["realised_fill_rate"] > WITHIN_POINTS),
                    key=lambda r: r["realised_fill_rate"] - r["promised_fill_rate"])
    return {"totals": totals, "by_class": by_class, "baseline": baseline,
            "misses": [{"series": r["series"], "origin": r["origin"], "class": r["class"], "policy": r["policy"],
                        "promised_fill_rate": r["promised_fill_rate"], "realised_fill_rate": r["realised_fill_rate"]}
                       for r in misses]}


def backtest_csv(records: list[dict]) -> str:
    """The per-series records as formula-safe CSV text (engine.data.csv_safe)."""
    from engine.data.csv_safe import csv_text

    return csv_text([BACKTEST_COLUMNS] + [[r.get(c) for c in BACKTEST_COLUMNS] for r in records])

