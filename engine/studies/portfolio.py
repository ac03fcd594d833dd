"""One recommendation per series of a planner's file: demand class, forecaster, order-up-to level, cost and service.

For every ITEM/LOCATION series (chunks of series are independent, so a page or a Celery task can run any chunk and
merge the records):
1. class (Syntetos–Boylan, engine.demand.classes) on the last `history_days` days;
2. forecaster chosen by backtest among a small set for the class (smooth/erratic: ses, ma28; intermittent/lumpy:
   croston, sba, tsb): the one with the smallest RMSE of its protection-period sums (L + 1 days, what an order
   must cover under daily review) over the last `backtest_days` origins of the history;
3. policy: daily-review order-up-to at the protection-period level of engine.protection.tracker,
   S_t = μ_t + Q · √max(μ_t, floor) with μ_t = (L + 1) · forecast_t and Q a quantile of that forecaster's relative
   protection-period errors r = (D − μ) / √max(μ, floor) in the backtest (empirical / conformal order statistic, an
   exponential tail beyond what the sample resolves; no normal spread: a series that is zero 85 % of days has a
   skewed error distribution). Candidates Q are the quantiles at levels SAFETY_LEVELS; the recommended one is the
   smallest whose simulated fill rate reaches the target (objective "fill-rate"), or the one of least expected cost
   (objective "cost"), on SELECTION replications. Under the fill-rate objective (or with `static_rq`) a second
   candidate, a static (r, Q) rule (Q one week of mean demand, r chosen the same way among quantiles of the
   history's (L + 1)-day demand sums), is chosen on the same selection replications; the objective decides between
   the two (fill-rate: the one reaching the target with less stock on hand; cost: the cheaper), and the record's
   `policy` says which won. It is not offered under least expected cost unless asked for: the selection paths
   (below) scramble a trend or a season into week-to-week jumps that a forecast-driven level cannot follow and a
   static r covers, so the static rule won on them where, on the real days after the history, the order-up-to
   rule costs less (policy backtest, docs/BENCHMARK_NOTES.md "The static (r, Q) candidate on real days": realised
   cost −6 % on the M5 store file, −54 % and −59 % on the two public files). Under the fill-rate objective the
   out-of-time correction of the promise per demand class was fitted with it; without it the M5 backtest served
   more units from less stock but missed the per-class promise goals at every cut (lumpy 0.994 at cut 0, 0.907
   at cut 90), so there it stays. With an order cost K > 0 a
   third, K-aware candidate joins: (s, S) with s_t the order-up-to level above and S_t = s_t + a lot size among
   LOT_MULTIPLES × the EOQ √(2 K D / h) (Harris; Silver, Pyke & Thomas ch. 7), chosen with s's quantile on the same
   selection paths ("s-S"); every candidate's cost then includes K per order placed;
   the supplier's rules (MOQ, packs, order days, K: PortfolioSettings.order_rules) apply to every simulated order
   in the kernel; with order days the review is periodic (R = the longest gap between order days), every
   protection period is L + R days and each row's days are read against its own weekdays (day 0 = the day after
   the series' last date);
4. the recommendation is then costed on disjoint EVALUATION replications (other random streams): expected cost
   with a 95 % Student-t interval, fill rate, cycle service level (share of replenishment cycles — from one arrival
   to the day before the next; the first starts on day 1, the last ends with the run — without a stockout),
   stockout days, orders.

Demand paths are moving-block bootstraps of the series' history (blocks of 7 consecutive days from random starts:
the day-to-day dependence within a week is kept, the weekday alignment across blocks is not);
lost sales; holding cost h = holding_rate · unit cost / 365 per unit-day, stockout cost p = price − cost per lost
unit. Series × replications (× safety candidates) are the rows of one numpy array, so a whole chunk advances one
day per step. Random streams are seeded by (seed, series key, selection/evaluation, replication): a series' record
does not depend on which chunk or file layout it came in.
"""
from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

import numpy as np

from engine.data.cost_sources import cost_sources, overall_source
from engine.demand.classes import classify
from engine.demand.modes import MAX_LEAD_TIME
from engine.errors import ConfigError, DataError
from engine.policies.lot_sizing import eoq
from engine.policies.order_rules import weekday_after
from engine.protection.lead_times import arrival_lead_times, distribution_from_history, realised_window_sums
from engine.protection.tracker import FLOOR_PER_DAY, error_quantile, floor_for, protection_level, relative_errors
from engine.simulation.confidence import half_width, nonnegative_interval
from engine.simulation.kernel import InventoryKernel
from engine.simulation.metrics import cycle_service_level, fill_rate, total_cost
from engine.studies.recommendation import OBJECTIVES, history_caveat, recommendation_from_record, service_premium
from engine.studies.series_forecasts import CANDIDATES, candidate_forecasters, masked_step, replicate

__all__ = ["PortfolioSettings", "check_margins", "run_portfolio", "run_chunk", "recommend_chunk", "evaluation_paths",
           "portfolio_totals",
           "records_csv", "RECORD_COLUMNS", "PortfolioCancelled", "CANDIDATES", "DEFAULT_LEAD_TIME"]

DEFAULT_LEAD_TIME = 7
WARM_UP_DAYS = 28
BLOCK_DAYS = 7
REFINE_STEPS = 8
SAFETY_LEVELS = np.array([0.3, 0.5, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995, 0.999])
CHECK_STEPS = np.array([-1.0, -0.5, 0.0, 0.4, 0.6, 0.8, 0.9, 0.98])  # × (1 − target) above the target
ALL_CLASSES = "all"
REPLICATIONS_RANGE = (2, 1000)   # the settings' bounds, said once (validate, and the page's labels)
DAYS_RANGE = (7, 3650)
CHECK_WINDOWS = 4  # chosen on the M5 backtests at lead times 3 and 14 (cuts 0–270), not on lead time 7; see bench
MIN_CHECK_SERIES = 8
SHRINK_SERIES = 30  # pseudo-series of the pooled curve in each class's offset; chosen on the M5 cuts 90–270
LOT_MULTIPLES = np.array([0.25, 0.5, 1.0, 1.5, 2.0, 3.0])  # × EOQ: the lot sizes S − s of the K-aware candidate


def check_targets(target: float) -> np.ndarray:
    """The selection targets the out-of-time check tries: target + (1 − target) · CHECK_STEPS, within [0.5, 0.999]."""
    return np.clip(target + (1.0 - target) * CHECK_STEPS, 0.5, 0.999)


class PortfolioCancelled(RuntimeError):
    """The caller's cancel() returned True between two chunks."""


@dataclass
class PortfolioSettings:
    lead_time: int | None = None        # days; None: the series' lead-time column, else DEFAULT_LEAD_TIME
    replications: int = 20              # evaluation replications (selection uses as many, on other streams)
    days: int = 90                      # simulated days per replication
    target_fill_rate: float = 0.95
    objective: str = "cost"             # "cost": least expected cost; "fill-rate": least stock meeting the target
    holding_rate: float = 0.25          # per year, on unit cost
    seed: int = 42
    history_days: int = 365             # the most recent days of each series that are used
    backtest_days: int = 90             # forecast origins scored when choosing the forecaster
    unit_cost: float | None = None      # overrides every series' unit cost (None: the series' own)
    unit_price: float | None = None     # overrides every series' unit price (None: the series' own)
    stockout_cost: float | None = None  # cost per lost unit for every series (None: price − cost)
    promise_check: bool = True          # fill-rate objective: correct targets and promises out of time (run_portfolio)
    calibration: dict | None = None     # {class: [selection target, promise shift]}; None: not corrected
    check_windows: int = CHECK_WINDOWS  # held-out windows of `days` days the out-of-time check runs on
    lead_time_dist: dict | str | None = None   # random lead times ('poisson:5', 'uniform:4:10'); None: fixed, or
    #                                            the range of the file's lead-time column when it varies
    moq: float = 0.0                    # minimum order quantity, units (engine.policies.order_rules)
    pack_size: int | None = None        # order multiple (case pack); None = any quantity
    order_cost: float = 0.0             # fixed cost K per order, in the cost and the KPIs
    order_days: list | None = None      # weekdays orders may be placed on (['mon', 'thu']); None = every day
    static_rq: bool | None = None       # offer the static (r, Q) rule: None = under the fill-rate objective only
    #                                     (module doc: why not under least expected cost)

    def validate(self) -> "PortfolioSettings":
        checks = [("lead_time", self.lead_time is None or 0 <= self.lead_time <= MAX_LEAD_TIME, f"0..{MAX_LEAD_TIME}"),
                  ("replications", REPLICATIONS_RANGE[0] <= self.replications <= REPLICATIONS_RANGE[1],
                   "{}..{}".format(*REPLICATIONS_RANGE)),
                  ("days", DAYS_RANGE[0] <= self.days <= DAYS_RANGE[1], "{}..{}".format(*DAYS_RANGE)),
                  ("target_fill_rate", 0.5 <= self.target_fill_rate < 1.0, "[0.5, 1)"),
                  ("objective", self.objective in OBJECTIVES, " | ".join(OBJECTIVES)),
                  ("holding_rate", 0 < self.holding_rate <= 5, "(0, 5]"),
                  ("history_days", 60 <= self.history_days <= 3650, "60..3650"),
                  ("backtest_days", 14 <= self.backtest_days <= 730, "14..730"),
                  ("check_windows", 1 <= self.check_windows <= 12, "1..12"),
                  ("moq", 0 <= self.moq <= 1e12, "0..1e12"),
                  ("pack_size", self.pack_size is None or (1 <= self.pack_size <= 1e12
                                                           and self.pack_size == int(self.pack_size)),
                   "a whole number ≥ 1"),
                  ("order_cost", 0 <= self.order_cost <= 1e9, "0..1e9")]
        if self.order_days is not None:
            from engine.policies.order_rules import parse_order_days

            days = parse_order_days(self.order_days)
            self.order_days = None if days is None else list(days)
        if self.lead_time_dist is not None:
            from engine.simulation.simulator import _check_lead_time_dist, parse_lead_time_dist

            d = self.lead_time_dist
            self.lead_time_dist = parse_lead_time_dist(d) if isinstance(d, str) else _check_lead_time_dist(d)
        for name, ok, allowed in checks:
            if not ok:
                value = getattr(self, name)
                raise ConfigError(f"--{name.replace('_', '-')} {value} is out of range ({allowed})", field=name,
                                  value=value)
        # amounts as floats: a settings dict that went through a browser (JSON: 0.0 and 0 are one number) must give
        # the same settings, and so the same cache key, as the one it came from
        for name in ("target_fill_rate", "holding_rate", "moq", "order_cost", "unit_cost", "unit_price",
                     "stockout_cost"):
            value = getattr(self, name)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                setattr(self, name, float(value))
        if self.pack_size is not None:
            self.pack_size = int(self.pack_size)   # 12.0 back from a browser is the pack of 12
        return self

    def to_dict(self) -> dict:
        return asdict(self)

    def offers_static_rq(self) -> bool:
        """Whether the static (r, Q) rule is a candidate: as set, else under the fill-rate objective only."""
        return self.objective == "fill-rate" if self.static_rq is None else bool(self.static_rq)

    def order_rules(self):
        """The supplier's rules every simulated order follows (the kernel applies them)."""
        from engine.policies.order_rules import OrderRules, parse_order_days

        return OrderRules(moq=float(self.moq), pack_size=self.pack_size, order_cost=float(self.order_cost),
                          order_days=parse_order_days(self.order_days))


def _rng(seed: int, key: str, phase: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(key.encode("utf-8")), phase]))


def _t_half_width(a: np.ndarray) -> np.ndarray:
    """95 % Student-t half-width of the mean, per row of a (n, R) array (engine.simulation.confidence)."""
    return half_width(a, 0.95, axis=1)


def _lost_sales_days(demand: np.ndarray, on_hand: np.ndarray, lead: np.ndarray, h: np.ndarray, p: np.ndarray,
                     order: Callable[[int, np.ndarray], np.ndarray], rules=None, weekday=0) -> dict:
    """The day loop both portfolio rules share: engine.simulation.kernel's inventory day with lost sales over
    rows × candidates. Each day place order(day, position) (before the day's arrival, so lead time 0 arrives the
    same day), receive, serve demand, lose the rest, pay holding on the end stock. demand: (rows, days); on_hand:
    (rows, K) starting stock; lead: (rows,), or (rows, days) lead times of each day's order (random lead times); h,
    p: (rows,); rules: the supplier's OrderRules the kernel applies (MOQ, packs, order days, K); weekday: the
    weekday of day 0 (Monday = 0), an int or (rows, 1) per row. Returns the kernel's totals
    (engine.simulation.metrics.TOTAL_NAMES), each (rows, K)."""
    rows, days = demand.shape
    lead = np.asarray(lead, dtype=np.int64)
    per_day = lead.ndim == 2
    kernel = InventoryKernel(np.array(on_hand, dtype=np.float64), h=h[:, None], p=p[:, None],
                             max_lead=int(lead.max()) if lead.size else 0, running_on_order=True,
                             pipeline_views=False, rules=rules, first_weekday=weekday,
                             row_leads=None if per_day else lead)   # fixed lead times: orders kept by day placed
    rows_lead = lead[:, None]
    for d in range(days):
        placed, _ = kernel.place(d, order(d, kernel.position()), lead[:, d:d + 1] if per_day else rows_lead)
        kernel.serve(d, demand[:, d:d + 1], placed)
    return kernel.finish()


def _simulate(level: np.ndarray, demand: np.ndarray, quantile: np.ndarray, lead: np.ndarray, h: np.ndarray,
              p: np.ndarray, lead_days: np.ndarray | None = None, rules=None, weekday=0, review: int = 1) -> dict:
    """Daily-review order-up-to with lost sales for rows × candidates.

    level, demand: (rows, days) forecast per day (made before the day) and demand; quantile: (rows, K) relative
    error quantiles Q; lead, h, p: (rows,). Each day: order up to S = μ + Q·max(μ, floor)^SCALE_POWER, μ = (L+1)·level
    (engine.protection.tracker.protection_level), then the day of `_lost_sales_days`. Returns per (rows, K) totals.
    lead_days: (rows, days) realised lead times of each day's order (random lead times; `lead` is then the one the
    protection period is planned with). review: the review period R of the rules' order days (the protection
    period is L + R; R = 1 under daily review); weekday: the weekday of day 0 (`_lost_sales_days`).
    """
    w = (lead + float(review))[:, None]
    floor = (FLOOR_PER_DAY * np.maximum(lead + float(review), 1.0))[:, None]  # tracker.floor_for, per row

    def order_up_to(d, position):
        qty = protection_level(w * level[:, d:d + 1], quantile, floor) - position  # the record's S
        np.maximum(qty, 0.0, out=qty)
        return qty

    return _lost_sales_days(demand, protection_level(w * level[:, :1], quantile, floor),
                            lead if lead_days is None else lead_days, h, p, order_up_to, rules, weekday)


def _simulate_ss(level: np.ndarray, demand: np.ndarray, quantile: np.ndarray, lot: np.ndarray, lead: np.ndarray,
                 h: np.ndarray, p: np.ndarray, lead_days: np.ndarray | None = None, rules=None, weekday=0,
                 review: int = 1, start_fraction=0.5) -> dict:
    """(s, S) on the forecast, the K-aware candidate: s_t = the order-up-to rule's level of `_simulate` (quantile
    Q over the protection period L + R), S_t = s_t + lot; when the position is below s_t, order S_t − position
    (engine.policies.lot_sizing's rule with a searched lot; with order days it is (R, s, S)). Fewer, larger
    orders: each costs K. quantile, lot: (rows, K) or broadcastable. A path starts with s + u · lot on hand,
    u = start_fraction (rows, 1) or a number: the stationary inventory position is uniform on (s, S] (Hadley &
    Whitin 1963; Zipkin 2000 ch. 6), so the callers spread u evenly over each series' paths (cycle_starts) —
    starting every path at S would hand it a free lot, and every path at the mean s + lot / 2 would never order
    within a horizon shorter than half a cycle: both favour the largest lots over a short horizon, where paths
    spread over the cycle order H · demand / lot times on average, the stationary rate."""
    w = (lead + float(review))[:, None]
    floor = (FLOOR_PER_DAY * np.maximum(lead + float(review), 1.0))[:, None]

    def reorder(d, position):
        low = protection_level(w * level[:, d:d + 1], quantile, floor)
        return (low + lot - position) * (position < low)

    return _lost_sales_days(demand, protection_level(w * level[:, :1], quantile, floor) + lot * start_fraction,
                            lead if lead_days is None else lead_days, h, p, reorder, rules, weekday)


def cycle_starts(series: int, replications: int) -> np.ndarray:
    """(series · replications, 1): u = (r + ½) / R for replication r of every series — stratified points of the
    (s, S) cycle, one per path (rows are series-major, as np.repeat(·, R, axis=0) lays them out)."""
    return np.tile((np.arange(replications) + 0.5) / replications, series)[:, None]


def _simulate_rq(demand: np.ndarray, reorder: np.ndarray, qty: np.ndarray, lead: np.ndarray, h: np.ndarray,
                 p: np.ndarray, lead_days: np.ndarray | None = None, rules=None, weekday=0) -> dict:
    """Daily-review (r, Q) with lost sales for rows × candidates, the rule of engine.policies.base.RQ: when the
    inventory
    position is at or below r, order the smallest multiple n·Q that lifts it above r (Silver, Pyke & Thomas ch. 7);
    the run starts with r + Q on hand. demand: (rows, days); reorder: (rows, K) reorder points r; qty, lead, h, p:
    (rows,). Event order and totals as in `_lost_sales_days`."""
    Q = qty[:, None]

    def reorder_point(d, position):
        return (np.floor((reorder - position) / Q) + 1.0) * (position <= reorder) * Q

    return _lost_sales_days(demand, reorder + Q, lead if lead_days is None else lead_days, h, p, reorder_point,
                            rules, weekday)


def eoq_lots(order_cost, histories: list, h: np.ndarray) -> np.ndarray:
    """(n, len(LOT_MULTIPLES)) candidate lot sizes S − s of the K-aware (s, S) rule: LOT_MULTIPLES × each row's EOQ
    √(2 K D / h) (Harris; Silver, Pyke & Thomas ch. 7), D the mean daily demand of its history; K one for all rows
    or one per row."""
    ks = np.broadcast_to(np.asarray(order_cost, dtype=np.float64), (len(histories),))
    return np.array([[m * eoq(float(ks[i]), float(np.mean(y)) if len(y) else 0.0, float(h[i])) for m in LOT_MULTIPLES]
                     for i, y in enumerate(histories)])


def series_lead_time(series, lead_time: int | None) -> int:
    """The lead time a series is planned with: the settings' `lead_time`, else the file's lead-time column, else
    DEFAULT_LEAD_TIME."""
    if lead_time is not None:
        return int(lead_time)
    return int(series.lead_time_days) if series.lead_time_days is not None else DEFAULT_LEAD_TIME


def demand_paths(series, settings: PortfolioSettings, phase: int) -> np.ndarray:
    """(replications, days) bootstrap demand paths of one series on its phase's random streams (0: selection,
    1: evaluation): the paths `run_chunk` chooses and costs on."""
    history = np.asarray(series.demand[-settings.history_days:], dtype=np.float64)
    return _bootstrap(history, settings.days, settings.replications, _rng(settings.seed, series.key, phase))


def evaluation_paths(series, settings: PortfolioSettings) -> np.ndarray:
    """The evaluation paths `run_chunk` costs this series' recommendation on, so another rule can be costed on the
    very same days (engine.studies.recommend)."""
    return demand_paths(series, settings, 1)


def _bootstrap(history: np.ndarray, days: int, reps: int, rng: np.random.Generator) -> np.ndarray:
    """(reps, days) moving-block bootstrap paths of a 1-d history (circular blocks of BLOCK_DAYS days)."""
    n = len(history)
    blocks = -(-days // BLOCK_DAYS)
    starts = rng.integers(0, n, size=(reps, blocks))
    idx = (starts[:, :, None] + np.arange(BLOCK_DAYS)[None, None, :]) % n
    return history[idx.reshape(reps, -1)[:, :days]]


def _lead_time_dist(settings: PortfolioSettings, series) -> dict | None:
    """A series' random lead time: the settings' distribution; with no lead time set, the range of the file's
    lead-time column when it varies (engine.protection.lead_times.distribution_from_history); else None (fixed)."""
    if settings.lead_time_dist:
        return settings.lead_time_dist
    if settings.lead_time is None and getattr(series, "lead_time_range", None) is not None:
        return distribution_from_history(series.lead_time_range)
    return None


def _effective_leads(dist: dict, rng: np.random.Generator, days: int) -> np.ndarray:
    """(days,) lead times an order placed each day waits: drawn from `dist`, orders never crossing (as the
    simulator's default; engine.protection.lead_times.arrival_lead_times)."""
    if dist["kind"] == "uniform":
        drawn = rng.integers(int(dist["low"]), int(dist["high"]) + 1, days)
    else:
        drawn = np.minimum(rng.poisson(float(dist["mean"]), days), MAX_LEAD_TIME)
    return arrival_lead_times(drawn[None, :], crossing=False)[0]


def check_margins(series, settings: PortfolioSettings | None = None) -> None:
    """DataError unless every series sells above its cost: the lost-sales cost p = price − cost must be positive
    (a lost sale that costs nothing makes no stock the optimum). Named with the first such series and the count,
    so a page can refuse a Run before any simulation starts."""
    def unit(x, name):
        override = None if settings is None else getattr(settings, name)
        return float(getattr(x, name) if override is None else override)

    bad = [x for x in series if not unit(x, "unit_price") - unit(x, "unit_cost") > 0]
    if bad:
        x = bad[0]
        more = f" (and {len(bad) - 1} more series)" if len(bad) > 1 else ""
        raise DataError(f"series {x.key}: unit price {unit(x, 'unit_price'):g} is not above unit cost "
                        f"{unit(x, 'unit_cost'):g}{more}, so a lost sale costs nothing; fix the price/cost columns",
                        file=x.source)


def _corrections(classes: list, s: PortfolioSettings) -> tuple[np.ndarray, np.ndarray]:
    """Per series: the selection target and the promise shift of its class from s.calibration (the pooled entry
    ALL_CLASSES for a class the check did not see; the target itself and no shift without a calibration)."""
    cal = s.calibration or {}
    fallback = cal.get(ALL_CLASSES, [s.target_fill_rate, 0.0])
    pairs = [cal.get(c.label, fallback) for c in classes]
    return np.array([float(a) for a, _ in pairs]), np.array([float(b) for _, b in pairs])


def _interpolate(x: np.ndarray, y: np.ndarray, goal: float) -> float:
    """The x at which the piecewise-linear y(x) (x increasing) first reaches goal; the ends outside it."""
    for k in range(len(x)):
        if y[k] >= goal:
            if k == 0:
                return float(x[0])
            t = (goal - y[k - 1]) / max(y[k] - y[k - 1], 1e-12)
            return float(x[k - 1] + t * (x[k] - x[k - 1]))
    return float(x[-1])


def out_of_time_calibration(series: list, settings: PortfolioSettings, chunk: int = 200) -> dict:
    """{class: [selection target, promise shift]} from an out-of-time check on the history alone.

    Why: the candidates are scored on moving-block bootstrap paths of the past year, a world without the level's
    drift and with the within-week dependence only; on real demand (M5: trends, zero runs that last weeks) the
    same levels deliver less than they promise there, by a margin that depends on the demand class. So the check
    cuts every series `days` days before its end, and 2·`days`, … up to `check_windows` windows (as far as the
    history reaches), recommends on what came before each cut at each selection target of check_targets (the
    target plus a ladder toward 1), runs each recommendation on the real `days` that followed
    (engine.studies.history_replay.replay_records, the one inventory day) and reads the mean realised fill rate
    over series (what a promise is) against the selection target.

    Two parts with different memories:
    - the pooled curve (all classes) is the mean over every window: how far real days fall short of the
      bootstrap moves from one 90-day window to the next with no persistence (M5, lead time 7, selection
      target 0.95: realised 0.943, 0.926, 0.934, 0.934, 0.927 in five consecutive windows, the holiday window
      lowest), so one window carries its own season's luck into the next and pooling averages it out;
    - a class's offset from the pooled curve is read in the latest window only, shrunk toward 0 as if
      SHRINK_SERIES more series had followed the pooled mean: a class's offset changes with the class's members
      and seasons (smooth +2.2, +3.2, +3.8, +1.2, +3.5 points, lumpy +2.9, +3.7, +0.1, −1.7, −2.6 from the newest
      window back), and the latest window is the nearest to the one promised for; classes with fewer than
      MIN_CHECK_SERIES series there use the pooled entry ALL_CLASSES.
    A class's selection target is where its curve reaches the target (linear between ladder points); its promise
    shift is realised − simulated there, added to the simulated fill rate of each later recommendation of the
    class. Objective "cost": the target is kept and only the promise is shifted.
    A series takes part in the latest window when at least 60 days come before it, in a deeper one only when the
    days before it hold the full forecaster backtest (_full_backtest_days): a recommendation made on a truncated
    backtest is not the kind the origin makes (M5, lead time 7, selection target 0.95: a window with 100 days
    before it realised 0.887, the six after it 0.926–0.943). No series long enough: {} (no correction). The
    settings then carry the result (`calibration`), so chunks run anywhere (Celery workers) apply the same
    correction. CHECK_WINDOWS (4) was chosen on the M5 backtests at lead times 3 and 14 (cuts 0, 90, 180, 270:
    mean |realised − target| and |realised − promise| 0.83 and 0.76 points with 4 windows, 0.88 and 0.83 with
    1, read off the ladder's curves); the lead time 7 figures of bench.policy_backtest were only scored. A
    heuristic correction of a mean over series, not a per-series guarantee: each
    series' own window is too short (an intermittent series sells a few units in 90 days) to calibrate alone.
    """
    from engine.studies.history_replay import replay_records

    s = settings
    H = s.days
    base = replace(s, calibration=None, promise_check=False)
    rules = s.order_rules()   # the supplier's rules in the replays too
    targets = check_targets(s.target_fill_rate) if s.objective == "fill-rate" else np.array([s.target_fill_rate])
    realised, simulated, labels, window = [[] for _ in targets], [[] for _ in targets], [], []
    for back in range(1, s.check_windows + 1):  # window `back`: the days [len − back·H, len − (back − 1)·H)
        usable = [x for x in series if len(x) - back * H >= (60 if back == 1 else _full_backtest_days(x, s))]
        if len(usable) < MIN_CHECK_SERIES:  # too few to estimate any class's correction
            break
        cut = [x.slice(0, len(x) - back * H) for x in usable]
        after = np.vstack([np.asarray(x.demand[len(x) - back * H:len(x) - (back - 1) * H], dtype=np.float64)
                           for x in usable])
        per_target: list[list[dict]] = [[] for _ in targets]
        for start in range(0, len(cut), chunk):
            for j, recs in enumerate(recommend_at_targets(cut[start:start + chunk], base, targets)):
                per_target[j].extend(recs)
        for j, recs in enumerate(per_target):
            got = fill_rate(replay_records(cut, recs, after, s.history_days, s.holding_rate, rules)["totals"], np.nan)
            realised[j].extend(got)
            simulated[j].extend(np.nan if r["fill_rate"] is None else r["fill_rate"] for r in recs)
        labels.extend(r["class"] for r in per_target[0])
        window.extend([back] * len(usable))
    if not labels:
        return {}
    realised, simulated = np.array(realised), np.array(simulated)  # (targets, series × windows)
    scored = ~np.isnan(realised).any(axis=0) & ~np.isnan(simulated).any(axis=0)
    latest = scored & (np.array(window) == 1)
    if latest.sum() < MIN_CHECK_SERIES:
        return {}
    r_all, s_all = realised[:, scored].mean(axis=1), simulated[:, scored].mean(axis=1)
    r_new, s_new = realised[:, latest].mean(axis=1), simulated[:, latest].mean(axis=1)
    labels = np.array(labels)
    out = {}
    for c in [ALL_CLASSES] + sorted({str(x) for x in labels[latest]}):
        if c == ALL_CLASSES:
            r_mean, s_mean = r_all, s_all
        else:
            ok = latest & (labels == c)
            m = int(ok.sum())
            if m < MIN_CHECK_SERIES:
                continue
            wt = m / (m + SHRINK_SERIES)  # a small class leans on the pooled curve
            r_mean = r_all + wt * (realised[:, ok].mean(axis=1) - r_new)
            s_mean = s_all + wt * (simulated[:, ok].mean(axis=1) - s_new)
        tau = _interpolate(targets, r_mean, s.target_fill_rate) if s.objective == "fill-rate" else targets[0]
        gap = float(np.interp(tau, targets, r_mean - s_mean))
        out[c] = [float(tau), gap]
    return out


def _full_backtest_days(series, s: PortfolioSettings) -> int:
    """Days of history `recommend_at_targets` needs for its full forecaster backtest on a series: the warm-up,
    `backtest_days` origins and one protection period after the last."""
    return WARM_UP_DAYS + s.backtest_days + series_lead_time(series, s.lead_time) + 1


def with_calibration(series: list, settings: PortfolioSettings, chunk: int = 200) -> PortfolioSettings:
    """The settings with their out-of-time calibration (computed on `series` unless given or switched off). Only
    under the fill-rate objective, where the fill rate is the promise: under least expected cost the choice does
    not read a target, and the check would only cost time."""
    if not settings.promise_check or settings.calibration is not None or settings.objective != "fill-rate":
        return settings
    return replace(settings, calibration=out_of_time_calibration(series, settings, chunk))


def run_chunk(series: list, settings: PortfolioSettings) -> list[dict]:
    """Recommendations for a list of `SeriesData` (independent of every other chunk)."""
    return recommend_at_targets(series, settings, None)[0]


def recommend_at_targets(series: list, settings: PortfolioSettings, targets) -> list[list[dict]]:
    """Recommendations for every selection target of `targets` (None: the settings' target with its class
    corrections), sharing the forecaster backtest, the paths and the coarse candidate simulations."""
    s = settings
    rules = s.order_rules()
    review = rules.review_period()   # order days: periodic review, an order covers L + R days
    n = len(series)
    if n == 0:
        return [[] for _ in (targets if targets is not None else [None])]
    hist = [np.asarray(x.demand[-s.history_days:], dtype=np.float64) for x in series]
    T = max(len(y) for y in hist)
    Y = np.zeros((n, T))
    valid = np.zeros((n, T), dtype=bool)
    for i, y in enumerate(hist):
        Y[i, T - len(y):] = y
        valid[i, T - len(y):] = True
    lead = np.array([series_lead_time(x, s.lead_time) for x in series], dtype=np.int64)
    dists = [_lead_time_dist(s, x) for x in series]
    for i, dist in enumerate(dists):   # random lead times: protection period planned at the effective mean
        if dist is not None:
            lead[i] = int(round(float(_effective_leads(dist, _rng(s.seed, series[i].key, 9), 20_000).mean())))
    w = lead + review
    classes = [classify(y) for y in hist]
    cost = np.array([x.unit_cost if s.unit_cost is None else s.unit_cost for x in series], dtype=np.float64)
    price = np.array([x.unit_price if s.unit_price is None else s.unit_price for x in series], dtype=np.float64)
    h = s.holding_rate * cost / 365.0
    p = price - cost if s.stockout_cost is None else np.full(n, float(s.stockout_cost))
    if s.stockout_cost is None:
        check_margins(series, s)

    # backtest: level before each day, protection-period sums from that day on
    models = candidate_forecasters()
    csum = np.concatenate([np.zeros((n, 1)), np.cumsum(Y, axis=1)], axis=1)
    t_idx = np.arange(T)[None, :]
    end = np.minimum(t_idx + w[:, None], T)
    actual = np.take_along_axis(csum, end, axis=1) - csum[:, :T]
    inside = t_idx + w[:, None] <= T
    actual_random = {}
    for i, dist in enumerate(dists):   # the realised protection periods of lead times drawn over the history
        if dist is not None:
            drawn = _effective_leads(dist, _rng(s.seed, series[i].key, 8), T) + (review - 1)
            sums = realised_window_sums(Y[i:i + 1], drawn[None])
            inside[i] = np.isfinite(sums[0])
            actual[i] = np.where(inside[i], sums[0], 0.0)
            actual_random[i] = np.where(valid[i] & inside[i], sums[0], np.nan)
    first = T - np.array([len(y) for y in hist])
    usable = (t_idx >= first[:, None] + WARM_UP_DAYS) & inside & \
        (t_idx > T - w[:, None] - s.backtest_days)
    names = sorted({m for c in classes for m in CANDIDATES[c.label]})
    errors, mus, final_state = {}, {}, {}
    for name in names:
        f = models[name]
        st = f.start(n)
        lv = np.empty((n, T))
        for t in range(T):
            lv[:, t] = f.level(st)
            masked_step(f, st, Y[:, t], valid[:, t])
        mus[name] = w[:, None] * lv
        errors[name] = np.where(usable, actual - mus[name], np.nan)
        final_state[name] = st
    chosen, rmse = [], np.full(n, np.nan)
    for i, c in enumerate(classes):
        best, best_score = CANDIDATES[c.label][0], math.inf
        for name in CANDIDATES[c.label]:
            e = errors[name][i]
            e = e[~np.isnan(e)]
            score = float(np.sqrt(np.mean(e * e))) if e.size else math.inf
            if score < best_score:
                best, best_score = name, score
        chosen.append(best)
        rmse[i] = best_score if math.isfinite(best_score) else np.nan

    # candidates: quantiles of the chosen forecaster's relative protection-period errors (engine.protection.tracker)
    K = len(SAFETY_LEVELS)
    quant = np.zeros((n, K))
    method, rel = [], []
    for i in range(n):
        ok = ~np.isnan(errors[chosen[i]][i])
        fl = floor_for(int(w[i]))
        if ok.any():
            r = relative_errors(actual[i, ok], mus[chosen[i]][i, ok], fl)
        else:  # history too short for a backtest: (L+1)-day sums around their mean
            y = hist[i]
            sums = np.convolve(y, np.ones(w[i]), mode="valid") if len(y) >= w[i] else np.array([y.sum()])
            r = relative_errors(sums, sums.mean(), fl)
        rel.append(r)
        methods = []
        for k, q in enumerate(SAFETY_LEVELS):
            v, how = error_quantile(r, float(q))
            quant[i, k] = v[0]
            methods.append(how)
        method.append(methods)
    quant = np.maximum.accumulate(quant, axis=1)

    level_now = np.array([models[chosen[i]].level({k: (v[i:i + 1] if isinstance(v, np.ndarray) else v)
                                                   for k, v in final_state[chosen[i]].items()})[0]
                          for i in range(n)])

    def paths(phase: int):
        R = s.replications
        dem = np.vstack([demand_paths(series[i], s, phase) for i in range(n)])
        lvl = np.empty_like(dem)
        for name in set(chosen):
            sel = np.array([c == name for c in chosen])
            rows = np.repeat(sel, R)
            f = models[name]
            st = replicate({k: (v[sel] if isinstance(v, np.ndarray) else v)
                             for k, v in final_state[name].items()}, R)
            sub = dem[rows]
            out = np.empty_like(sub)
            for d in range(s.days):
                out[:, d] = f.level(st)
                f.step(st, sub[:, d])
            lvl[rows] = out
        return dem, lvl

    R = s.replications
    rep = lambda a: np.repeat(a, R, axis=0)  # noqa: E731 (a one-line local helper)
    # the weekday of each row's day 0 (the day after its history), against which the order days are read
    wd = rep(np.array([weekday_after(x.dates) for x in series]))[:, None] if rules.order_days is not None else 0
    dem, lvl = paths(0)
    ev_dem, ev_lvl = paths(1)
    coarse: dict = {}

    def lead_paths(phase: int):
        """(n·R, days) realised lead times of each day's order, or None when every lead time is fixed."""
        if all(d is None for d in dists):
            return None
        out = np.repeat(lead, R)[:, None] * np.ones((1, s.days), dtype=np.int64)
        for i, dist in enumerate(dists):
            if dist is not None:
                g = _rng(s.seed, series[i].key, 10 + phase)
                out[i * R:(i + 1) * R] = np.stack([_effective_leads(dist, g, s.days) for _ in range(R)])
        return out

    lead_sel = lead_paths(0)
    lead_ev = lead_paths(1)

    rows_n = np.arange(n)

    def select(cands: np.ndarray, tau: np.ndarray, simulate=None, key: str | None = None):
        """Per series: the candidate the objective picks on the selection paths (fill-rate: the first reaching
        tau), and its fill rate, mean cost and mean on-hand stock there (candidates must be in increasing order of
        stock). key: the simulation is kept under it and reused (the coarse grids, the same for every target)."""
        k = cands.shape[1]
        if key is not None and key in coarse:
            sim = coarse[key]
        else:
            sim = simulate(cands) if simulate else _simulate(lvl, dem, rep(cands), rep(lead), rep(h), rep(p), lead_sel,
                                                                   rules, wd, review)
            if key is not None:
                coarse[key] = sim
        fill = fill_rate({name: sim[name].reshape(n, R, k).sum(axis=1) for name in ("demand", "fulfilled")})
        cost = total_cost(sim).reshape(n, R, k).mean(axis=1)
        if s.objective == "cost":
            best = np.argmin(cost, axis=1)
        else:
            meets = fill >= tau[:, None]
            best = np.where(meets.any(axis=1), np.argmax(meets, axis=1), k - 1)
        stock = sim["on_hand"].reshape(n, R, k).mean(axis=1)
        return best, fill[rows_n, best], cost[rows_n, best], stock[rows_n, best]

    def refine(grid: np.ndarray, tau: np.ndarray, key: str, simulate=None):
        """Coarse: the grid's levels; fine: REFINE_STEPS points between the neighbours of the coarse choice."""
        k0 = select(grid, tau, simulate, key)[0]
        kk = grid.shape[1]
        lo = grid[rows_n, np.maximum(k0 - 1, 0)]
        hi = grid[rows_n, np.minimum(k0 + 1, kk - 1)] if s.objective == "cost" else grid[rows_n, k0]
        fine = lo[:, None] + (hi - lo)[:, None] * np.linspace(0.0, 1.0, REFINE_STEPS)[None, :]
        k1, fill_, cost_, stock_ = select(fine, tau, simulate)
        return k0, fine[rows_n, k1], fill_, cost_, stock_

    # the (r, Q) candidate: Q one week of mean demand (engine.policies.base's default), r among the empirical quantiles
    # of the history's (L + 1)-day demand sums; chosen on the same selection paths, then compared with the
    # order-up-to choice by the objective (fill-rate: least stock among those reaching the target)
    if s.offers_static_rq():   # only then: r's grid and Q serve that candidate alone
        order_qty = np.array([max(1.0, round(7.0 * float(np.mean(y)))) if len(y) else 1.0 for y in hist])
        pack_rules = replace(s.order_rules(), order_days=None)
        if pack_rules.rounds:   # Q as the supplier ships it: whole packs, at least the MOQ (the advice is what is
            #                     ordered)
            order_qty = np.asarray(pack_rules.apply(order_qty, 0), dtype=np.float64)
        r_grid = np.zeros((n, K))
        for i, y in enumerate(hist):
            sums = np.convolve(y, np.ones(w[i]), mode="valid") if len(y) >= w[i] else np.array([y.sum()])
            if dists[i] is not None and np.isfinite(actual_random[i]).any():   # over realised protection periods
                sums = actual_random[i][np.isfinite(actual_random[i])]
            r_grid[i] = np.quantile(sums, SAFETY_LEVELS)
        r_grid = np.maximum.accumulate(r_grid, axis=1)
        rq_sim = lambda cands: _simulate_rq(dem, rep(cands), rep(order_qty), rep(lead), rep(h), rep(p),  # noqa: E731
                                            lead_sel, rules, wd)

    # the K-aware candidate (order cost K > 0 only): (s, S) with s the order-up-to level and S − s a lot size among
    # LOT_MULTIPLES × the EOQ √(2 K D / h) (D the history's mean daily demand), chosen with the quantile of s on the
    # same selection paths; coarse grid lot-major (the fill-rate objective's "first reaching the target" is then
    # the smallest lot that reaches it), then the quantile refined at the chosen lot
    k_aware = rules.order_cost > 0
    if k_aware:
        lots = eoq_lots(rules.order_cost, hist, h)
        n_q = quant.shape[1]
        q_flat, lot_flat = np.tile(quant, (1, len(LOT_MULTIPLES))), np.repeat(lots, n_q, axis=1)

        def ss_sim(cands, lot):
            return _simulate_ss(lvl, dem, rep(cands), rep(lot), rep(lead), rep(h), rep(p), lead_sel, rules, wd,
                                review, cycle_starts(n, R))

        def refine_ss(tau):
            j = select(q_flat, tau, lambda c: ss_sim(c, lot_flat), "s-S")[0]
            k0, chosen_lot = j % n_q, lots[rows_n, j // n_q]
            lo = quant[rows_n, np.maximum(k0 - 1, 0)]
            hi = quant[rows_n, np.minimum(k0 + 1, n_q - 1)] if s.objective == "cost" else quant[rows_n, k0]
            fine = lo[:, None] + (hi - lo)[:, None] * np.linspace(0.0, 1.0, REFINE_STEPS)[None, :]
            k1, fill_, cost_, stock_ = select(fine, tau, lambda c: ss_sim(c, chosen_lot[:, None]))
            return k0, fine[rows_n, k1], chosen_lot, fill_, cost_, stock_

    def recommend(tau: np.ndarray, shift: np.ndarray) -> list[dict]:
        """The records for per-series selection targets tau and promise shifts."""
        k0, best_q, fill_sel, cost_sel, stock_sel = refine(quant, tau, "order-up-to")
        if s.offers_static_rq():
            _, best_r, fill_rq, cost_rq, stock_rq = refine(r_grid, tau, "r-Q", rq_sim)
            if s.objective == "cost":
                use_rq = cost_rq < cost_sel
            else:
                out_ok, rq_ok = fill_sel >= tau, fill_rq >= tau
                use_rq = np.where(out_ok & rq_ok, stock_rq < stock_sel,
                                  np.where(out_ok | rq_ok, rq_ok, fill_rq > fill_sel))
        else:   # not offered (module doc): the order-up-to choice stands against the K-aware one alone
            best_r, fill_rq, cost_rq, stock_rq = np.zeros(n), fill_sel, cost_sel, stock_sel
            use_rq = np.zeros(n, dtype=bool)
        use_ss = np.zeros(n, dtype=bool)
        if k_aware:   # the (s, S) candidate against the better of the two, by the same objective
            k_ss, best_q_ss, lot_ss, fill_ss, cost_ss, stock_ss = refine_ss(tau)
            if s.objective == "cost":
                use_ss = cost_ss < np.where(use_rq, cost_rq, cost_sel)
            else:
                cur_fill, cur_stock = np.where(use_rq, fill_rq, fill_sel), np.where(use_rq, stock_rq, stock_sel)
                cur_ok, ss_ok = cur_fill >= tau, fill_ss >= tau
                use_ss = np.where(cur_ok & ss_ok, stock_ss < cur_stock,
                                  np.where(cur_ok | ss_ok, ss_ok, fill_ss > cur_fill))
            use_rq = use_rq & ~use_ss
        fill_sel = np.where(use_rq, fill_rq, fill_sel)
        if k_aware:
            fill_sel = np.where(use_ss, fill_ss, fill_sel)

        ev = _simulate(ev_lvl, ev_dem, rep(best_q[:, None]), rep(lead), rep(h), rep(p), lead_ev, rules, wd, review)
        per = {k: v[:, 0].reshape(n, R) for k, v in ev.items()}
        if use_rq.any():
            ev_rq = _simulate_rq(ev_dem, rep(best_r[:, None]), rep(order_qty), rep(lead), rep(h), rep(p), lead_ev,
                                 rules, wd)
            per = {k: np.where(use_rq[:, None], ev_rq[k][:, 0].reshape(n, R), v) for k, v in per.items()}
        if k_aware:
            ev_ss = _simulate_ss(ev_lvl, ev_dem, rep(best_q_ss[:, None]), rep(lot_ss[:, None]), rep(lead), rep(h),
                                 rep(p), lead_ev, rules, wd, review, cycle_starts(n, R))
            per = {k: np.where(use_ss[:, None], ev_ss[k][:, 0].reshape(n, R), v) for k, v in per.items()}
            best_q = np.where(use_ss, best_q_ss, best_q)   # the quantile of s when (s, S) won
            k0 = np.where(use_ss, k_ss, k0)
        cost_total = total_cost(per)
        fill, csl = fill_rate(per), cycle_service_level(per)   # 1 when nothing was demanded: nothing went unmet
        # over all replications' units (NaN: nothing demanded on any path)
        pooled_fill = fill_rate({name: per[name].sum(axis=1) for name in ("demand", "fulfilled")}, np.nan)
        cost_hw = _t_half_width(cost_total)
        out = []
        for i, x in enumerate(series):
            c = classes[i]
            fill_i = fill[i][~np.isnan(fill[i])]
            csl_i = csl[i][~np.isnan(csl[i])]
            wi = int(w[i])
            sd = rmse[i]
            mu_now = wi * level_now[i]
            s_now = float(protection_level(mu_now, best_q[i], floor_for(wi)))
            lot_i = float(lot_ss[i]) if use_ss[i] else None   # (s, S): s = s_now, S = s_now + lot
            out.append({
                "series": x.key, "class": c.label, "adi": c.adi, "cv2": c.cv2, "zero_share": c.zero_share,
                "history_days": len(hist[i]), "forecaster": chosen[i],
                "backtest_rmse": None if np.isnan(sd) else float(sd),
                "policy": "r-Q" if use_rq[i] else "s-S" if use_ss[i] else "order-up-to",
                "reorder_point": float(best_r[i]) if use_rq[i] else s_now if use_ss[i] else None,
                "order_quantity": float(order_qty[i]) if use_rq[i] else None, "lot_size": lot_i,
                "lead_time": int(lead[i]), "protection_days": wi,
                "daily_forecast": float(level_now[i]), "protection_demand": float(mu_now),
                "backtest_coverage": float(np.mean(rel[i] <= best_q[i] + 1e-12)), "quantile_method": method[i][k0[i]],
                "relative_error_quantile": float(best_q[i]), "safety_stock": s_now - float(mu_now),
                "order_up_to": s_now + (lot_i or 0.0),
                "z": None if not sd or np.isnan(sd) else float((s_now - mu_now) / sd),
                "target_fill_rate": s.target_fill_rate, "selection_fill_rate": float(fill_sel[i]),
                "expected_cost": float(cost_total[i].mean()),
                **dict(zip(("cost_ci_low", "cost_ci_high"),
                           nonnegative_interval(float(cost_total[i].mean()), float(cost_hw[i])))),
                "holding_cost": float(per["holding"][i].mean()), "stockout_cost": float(per["stockout"][i].mean()),
                "fill_rate": 1.0 if np.isnan(pooled_fill[i]) else float(pooled_fill[i]),
                "fill_rate_ci": float(_t_half_width(fill_i[None, :])[0]) if fill_i.size > 1 else None,
                "selection_target": float(tau[i]), "promise_shift": float(shift[i]),
                "promised_fill_rate": None if np.isnan(pooled_fill[i]) else
                float(np.clip(pooled_fill[i] + shift[i], 0.0, 1.0)),
                "cycle_service_level": float(csl_i.mean()) if csl_i.size else None,
                "stockout_days": float(per["stockout_days"][i].mean()), "orders": float(per["orders"][i].mean()),
                "average_on_hand": float(per["on_hand"][i].mean() / s.days),
                "unit_cost": float(cost[i]), "unit_price": float(price[i]), "cost_source": cost_source(x, s),
                "days": s.days, "replications": R,
            })
            out[-1]["recommendation"] = recommendation_from_record(
                out[-1], s, {"h": float(h[i]), "p": float(p[i]), "unit_cost": float(cost[i]),
                             "unit_price": float(price[i]), "source": cost_source(x, s),
                             "sources": cost_sources(x, s.unit_cost, s.unit_price),
                             "order_cost": float(rules.order_cost)},
                caveat=history_caveat(len(hist[i]), wi, WARM_UP_DAYS))
        return out

    if targets is None:
        return [recommend(*_corrections(classes, s))]
    return [recommend(np.full(n, float(t)), np.zeros(n)) for t in targets]


def recommend_chunk(series: list, settings: PortfolioSettings) -> list[dict]:
    """`run_chunk`'s records, each recommendation with its `service_premium`: under the service objective what it
    costs beyond the least-cost recommendation on the same evaluation paths (None under the cost objective), so
    a page that chose "least stock meeting a fill-rate target" says how much that target costs."""
    records = run_chunk(series, settings)
    cheapest = run_chunk(series, replace(settings, objective="cost")) if settings.objective != "cost" else records
    for rec, low in zip(records, cheapest):
        rec["recommendation"]["service_premium"] = (None if low is rec else
                                                    service_premium(rec["recommendation"], low["recommendation"]))
    return records


def cost_source(series, settings: PortfolioSettings) -> str:
    """Where a series' unit cost and price came from: "entered" (the settings override them), "file" (the data
    file's price/cost columns), "assumed" (the engine's defaults: shown beside every figure they drive)."""
    if settings.stockout_cost is not None:
        return "entered"
    return overall_source(cost_sources(series, settings.unit_cost, settings.unit_price))


RECORD_COLUMNS = ["series", "class", "adi", "cv2", "zero_share", "history_days", "forecaster", "backtest_rmse",
                  "policy", "reorder_point", "order_quantity", "lot_size", "lead_time", "protection_days",
                  "daily_forecast", "protection_demand", "backtest_coverage",
                  "quantile_method", "relative_error_quantile", "safety_stock", "order_up_to", "z",
                  "target_fill_rate", "selection_fill_rate", "expected_cost", "cost_ci_low", "cost_ci_high",
                  "holding_cost", "stockout_cost", "fill_rate", "fill_rate_ci", "cycle_service_level",
                  "stockout_days", "orders", "average_on_hand", "unit_cost", "unit_price", "cost_source", "days",
                  "replications", "selection_target", "promise_shift", "promised_fill_rate"]


def _series_list(frame_or_path, columns, fill_missing_zero) -> list:
    from engine.data.dataset import MAX_FILE_BYTES, Dataset, SeriesData, load_csv

    src = frame_or_path
    if isinstance(src, Dataset):
        return list(src.series.values())
    if isinstance(src, dict):
        return list(src.values())
    if isinstance(src, (list, tuple)) and all(isinstance(x, SeriesData) for x in src):
        return list(src)
    if hasattr(src, "to_csv") and hasattr(src, "columns"):  # a pandas DataFrame in long format
        src = src.to_csv(index=False).encode("utf-8")
        return list(load_csv(src, name="frame", max_bytes=MAX_FILE_BYTES, columns=columns,
                             fill_missing_zero=fill_missing_zero).series.values())
    return list(load_csv(src, columns=columns, fill_missing_zero=fill_missing_zero).series.values())


def run_portfolio(frame_or_path, settings: PortfolioSettings | None = None,
                  progress: Callable[[int, int], None] | None = None, cancel: Callable[[], bool] | None = None,
                  chunk: int | None = None, *, columns=None, fill_missing_zero: bool = False) -> list[dict]:
    """Records (one dict per series, RECORD_COLUMNS) for a file path / bytes / DataFrame / Dataset.

    Series are processed `chunk` at a time (default 200) and merged; progress(done, total) after each chunk;
    cancel() is asked before each chunk (PortfolioCancelled when it says True).
    """
    settings = (settings or PortfolioSettings()).validate()
    series = _series_list(frame_or_path, columns, fill_missing_zero)
    size = max(1, int(chunk or 200))
    settings = with_calibration(series, settings, chunk=size)
    records: list[dict] = []
    for start in range(0, len(series), size):
        if cancel is not None and cancel():
            raise PortfolioCancelled(f"cancelled after {start} of {len(series)} series")
        records.extend(recommend_chunk(series[start:start + size], settings))
        if progress is not None:
            progress(min(start + size, len(series)), len(series))
    return records


def portfolio_totals(records: list[dict]) -> dict:
    """Sums over series: expected cost (95 % half-width from independent series' half-widths), demand-weighted
    fill rate is not known from records alone, so the mean fill rate and the count per class are given."""
    if not records:
        return {"series": 0}
    cost = sum(r["expected_cost"] for r in records)
    hw = math.sqrt(sum((r["cost_ci_high"] - r["expected_cost"]) ** 2 for r in records))  # the upper end is uncut
    fills = [r["fill_rate"] for r in records if r["fill_rate"] is not None]
    csl = [r["cycle_service_level"] for r in records if r["cycle_service_level"] is not None]
    by_class: dict[str, int] = {}
    by_forecaster: dict[str, int] = {}
    by_policy: dict[str, int] = {}
    for r in records:
        by_policy[r["policy"]] = by_policy.get(r["policy"], 0) + 1
        by_class[r["class"]] = by_class.get(r["class"], 0) + 1
        by_forecaster[r["forecaster"]] = by_forecaster.get(r["forecaster"], 0) + 1
    premiums = [(r.get("recommendation") or {}).get("service_premium") for r in records]
    premium = None
    if premiums and all(x is not None for x in premiums):
        premium = sum(x["extra_cost"] for x in premiums)
    low, high = nonnegative_interval(cost, hw)
    return {"series": len(records), "expected_cost": cost, "cost_ci_low": low, "cost_ci_high": high,
            "service_premium": premium,
            "least_cost": None if premium is None else sum(x["least_cost"] for x in premiums),
            "holding_cost": sum(r["holding_cost"] for r in records),
            "stockout_cost": sum(r["stockout_cost"] for r in records),
            "mean_fill_rate": float(np.mean(fills)) if fills else None,
            "mean_cycle_service_level": float(np.mean(csl)) if csl else None,
            "series_meeting_target": sum(1 for r in records if r["fill_rate"] is not None
                                         and r["fill_rate"] >= r["target_fill_rate"]),
            "by_class": by_class, "by_forecaster": by_forecaster, "by_policy": by_policy}


def records_csv(records: list[dict]) -> str:
    """The records as formula-safe CSV text (engine.data.csv_safe)."""
    from engine.data.csv_safe import csv_text

    return csv_text([RECORD_COLUMNS] + [[r.get(c) for c in RECORD_COLUMNS] for r in records])
