"""Protection-period demand: the quantile of the demand over the days an order must cover, from forecast errors.

At a decision day t with (effective) lead time L the order protects W = L + 1 days (Silver, Pyke & Thomas,
"Inventory and Production Management in Supply Chains", 4th ed., ch. 6: periodic review R = 1, protection period
R + L). Location μ_t = Σ forecasts of days t..t+W−1. Spread: relative W-day errors

    r = (D − μ) / max(μ, floor),   D = realised demand of the W days,

(written here with SCALE_POWER = 1; the errors are divided by max(μ, floor)^SCALE_POWER, see relative_errors),
i.e. errors that grow with the forecast level (heteroscedastic: a seasonal peak has larger errors than a trough;
the floor keeps near-zero forecasts from blowing a single unit of demand up into a huge relative error). The W-day
errors are measured directly, not as σ₁√W: forecast errors of consecutive days are correlated, so σ₁√W understates
the lead-time error (Prak, Teunter & Syntetos 2017, EJOR 256, "On the calculation of safety stocks when demand is
forecasted").

The order-up-to level at quantile level q is S_t = μ_t + Q_q(r) · max(μ_t, floor)^SCALE_POWER, with Q_q the
quantile of the error sample:
- ``empirical``: the split-conformal order statistic, the ⌈(n + 1) q⌉-th smallest of n errors (Angelopoulos &
  Bates 2021, "A gentle introduction to conformal prediction", §1: marginal coverage ≥ q for exchangeable errors),
  used while n (1 − q) ≥ ``MIN_TAIL_COUNT``, i.e. while the sample has a few errors beyond the quantile;
- ``tail``: beyond what the sample resolves (q = p/(p + h) = 0.9988 needs ~4,000 errors for five beyond it), a
  peaks-over-threshold fit: the top m = max(10, n/10) errors over the threshold u (the (m+1)-th largest) with an
  exponential excess distribution (generalised Pareto with shape 0), P(r > u + y) ≈ (m/n) e^{−y/β}, β = mean
  excess, so Q_q = u + β ln(m / (n (1 − q))) (Coles 2001, "An Introduction to Statistical Modeling of Extreme
  Values", §4.2–4.3). Shape 0 is chosen because a fitted GPD shape from ~20 exceedances is too noisy to
  extrapolate with, and the exponential tail is the conservative choice among light tails;
- ``seed``: (ledger label) the quantile came from seed errors only — no error of the run itself yet.
Errors of consecutive windows overlap W − 1 days, so n of them count as about n / W independent errors: the sample
is read at a level raised for that effective size (``ErrorBuffer.effective_level``).

Online: on decision day t the window that began on decision day t − W ends on day t − 1, so its error is known and
enters the sample; no demand of day ≥ t is ever read (``ProtectionTracker``). The sample is a bounded ring
(``CAPACITY`` most recent errors). Before day 1 it has a prior:
- replay: SEED_KEPT out-of-sample rolling-origin errors of the context, which the run's own errors displace one for
  one (ErrorBuffer);
- synthetic and forecast-noise: the forecaster's errors on extra paths of the mode itself
  (engine.protection.prior), by decision day (``SeasonalPrior``: a location and scale per week, a shape pooled
  over the year). It is never displaced: the run's own errors are held standardised by their day's location and
  scale; they update the pooled standardised prior's location and scale (weight PRIOR_WEIGHT independent errors
  against 1/W for each own error, ``updated_quantile``), the shape and tail stay the pooled prior's, and the result
  maps back with the decision day's location and scale — a prior the run's own errors update, so a path that runs
  above or below the others moves its own level, while the season and the tail come from the prior.
Everything is vectorised over
replications: arrays have shape (R, ...); a single run is R = 1, so the single run and the batch share one
implementation and one arithmetic.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["CAPACITY", "MIN_TAIL_COUNT", "FLOOR_PER_DAY", "METHODS", "relative_errors", "error_quantile",
           "protection_level", "coverage", "ErrorBuffer", "ProtectionTracker", "PriorDistribution",
           "updated_quantile", "PRIOR_WEIGHT", "SeasonalPrior"]

CAPACITY = 365          # online errors kept (most recent); bounds memory and the per-day quantile cost
SEED_KEPT = 30          # seed errors in the sample before the run's own errors displace them one for one
REFRESH = 7             # the quantile is recomputed after this many new errors (errors still enter daily)
MIN_TAIL_COUNT = 5      # empirical order statistic only while ≥ this many errors lie beyond the quantile
MIN_EXCEEDANCES = 10    # peaks-over-threshold: at least this many exceedances for the exponential fit
FLOOR_PER_DAY = 1.0     # floor of the level errors are relative to: one unit per day of the window
SCALE_POWER = 0.5
METHODS = ("none", "empirical", "tail", "seed", "prior", "mixture", "model", "fixed")   # ledger code 0..7; "model":
# the forecaster's own quantile of the window's sum (engine.protection.model_quantiles), no error sample; "fixed": a
# stated rule's Q (engine.policies.base.OrderUpTo.safety_quantile)
# weight of a simulated prior in independent errors (the run's own 8-day errors reach it after 80 days). Chosen on
# seed 5 (the benchmark scores seeds 11 and 23): with 10 against 30, coverage of 0.90 / 0.99 was the same (within
# 0.002) on four cells and the cost at the critical ratio lower in three (e.g. ensemble:past-only synthetic L 7
# 46.3 vs 47.1); with no own errors at all (an infinite weight) the ratio to the best z was 1.01-1.10
PRIOR_WEIGHT = 10.0
PRIOR_BLOCK = 7         # SeasonalPrior: days that share one prior distribution
PRIOR_SPAN = 14         # SeasonalPrior: days on each side of a block whose windows enter its distribution


def floor_for(window: int, per_day: float = FLOOR_PER_DAY) -> float:
    """Floor of the level (units over the window): `per_day` units per day, as forecast-noise mode's max(1, f)."""
    return float(per_day) * max(int(window), 1)


def relative_errors(actual, mu, floor: float):
    """r = (actual − μ) / max(μ, floor)^SCALE_POWER, elementwise.

    SCALE_POWER = 0.5: errors grow like the square root of the level (Poisson-like counts: variance ∝ mean),
    between the homoscedastic 0 and the proportional 1. Chosen on seed 5 (not the benchmark's seed 11) over
    data/sample.csv and the public file, synthetic and forecast-noise demand, ma7, L = 7: coverage of the 0.90 and
    0.99 quantiles was 0.91–0.92 / 0.984–0.994 with 0.5 against 0.91–0.95 / 0.985–0.996 with 1 (over-covering).
    """
    actual = np.asarray(actual, dtype=np.float64)
    mu = np.asarray(mu, dtype=np.float64)
    return (actual - mu) / np.maximum(mu, floor) ** SCALE_POWER


def protection_level(mu, quantile, floor: float):
    """S = μ + Q · max(μ, floor), never below 0 (the inverse of ``relative_errors``)."""
    mu = np.asarray(mu, dtype=np.float64)
    return np.maximum(mu + np.asarray(quantile, dtype=np.float64) * np.maximum(mu, floor) ** SCALE_POWER, 0.0)


def coverage(actual, level) -> tuple[float, int]:
    """(share of windows whose realised demand ≤ the level, number of windows); NaNs are ignored."""
    a = np.asarray(actual, dtype=np.float64).ravel()
    s = np.asarray(level, dtype=np.float64).ravel()
    ok = np.isfinite(a) & np.isfinite(s)
    n = int(ok.sum())
    return (float(np.mean(a[ok] <= s[ok] + 1e-9)) if n else float("nan")), n


def error_quantile(errors, q: float, min_tail: int = MIN_TAIL_COUNT) -> tuple[np.ndarray, str]:
    """Quantile at level q of each row of `errors` ((n,) or (R, n); every row holds n errors) and its method.

    Returns ((R,) quantiles, "empirical" | "tail" | "none"); see the module docstring for the two estimators.
    With no error at all the quantile is 0 (S = μ) and the method "none".
    """
    e = np.asarray(errors, dtype=np.float64)
    if e.ndim == 1:
        e = e[None, :]
    R, n = e.shape
    q = float(q)
    if not 0.0 < q < 1.0:
        raise ValueError(f"quantile level must be in (0, 1), got {q}")
    if n == 0:
        return np.zeros(R), "none"
    k = math.ceil((n + 1) * q) - 1  # 0-based index of the conformal order statistic
    if n * (1.0 - q) >= min_tail and k <= n - 1:
        return np.partition(e, k, axis=1)[:, k].copy(), "empirical"
    if n < 2:
        return e[:, 0].copy(), "tail"
    m = min(max(MIN_EXCEEDANCES, n // 10), n - 1)
    part = np.partition(e, n - m - 1, axis=1)
    u = part[:, n - m - 1]
    beta = _row_sum(part[:, n - m:]) / m - u
    return u + beta * math.log(m / (n * (1.0 - q))), "tail"


def _row_sum(a: np.ndarray) -> np.ndarray:
    """Row sums added column by column: the same arithmetic for one row as for many (numpy's axis reductions
    may group the additions differently by shape, and a single run must equal its replication bit for bit).
    cumsum adds sequentially too (the same bits) and is the faster of the two for a few rows."""
    if a.shape[0] <= 64:
        return np.cumsum(a, axis=1)[:, -1].copy()
    acc = a[:, 0].copy()
    for j in range(1, a.shape[1]):
        acc += a[:, j]
    return acc


class PriorDistribution:
    """The distribution of a large prior error sample (engine.protection.prior): quantile function and CDF.

    Inside what the sample resolves (levels up to p_cut = 1 − MIN_TAIL_COUNT / n_eff, n_eff = n / overlap) the
    quantile interpolates the order statistics at plotting positions i / (n + 1); beyond p_cut it continues with the
    exponential tail of the peaks-over-threshold fit (module docstring; Coles 2001 §4.2): the excess over the
    value at p_cut is exponential with the mean excess β of the errors above a threshold as high as still leaves
    2·MIN_EXCEEDANCES effective exceedances (Coles §4.3.1: the highest threshold with enough data; a low one, as
    the top tenth, lets the body's slope into β and over-states a light tail), and by memorylessness the same β
    holds above any point of the tail, so Q(p) = x_cut + β ln((1 − p_cut) / (1 − p)).
    """

    def __init__(self, errors, overlap: float = 1.0) -> None:
        e = np.sort(np.asarray(errors, dtype=np.float64).ravel())
        n = len(e)
        if n < 2 * MIN_EXCEEDANCES:
            raise ValueError(f"a prior needs at least {2 * MIN_EXCEEDANCES} errors, got {n}")
        self.sorted = e
        self.n = n
        self.n_eff = n / max(float(overlap), 1.0)
        self.levels = np.arange(1, n + 1) / (n + 1.0)
        self.p_cut = min(max(1.0 - MIN_TAIL_COUNT / self.n_eff, self.levels[0]), self.levels[-1])
        self.x_cut = float(np.interp(self.p_cut, self.levels, e))
        # threshold: the top 2·MIN_EXCEEDANCES effective errors — as high as still leaves enough exceedances
        m = min(max(MIN_EXCEEDANCES, int(round(2 * MIN_EXCEEDANCES * n / self.n_eff))), n - 1)
        u = e[n - m - 1]
        self.beta = max(float(np.mean(e[n - m:]) - u), 1e-12)

    def quantile(self, p):
        """Q(p), elementwise (p in (0, 1); p ≤ 0 gives the smallest error)."""
        p = np.asarray(p, dtype=np.float64)
        body = np.interp(p, self.levels, self.sorted)
        tail = self.x_cut + self.beta * np.log((1.0 - self.p_cut) / np.maximum(1.0 - p, 1e-300))
        return np.where(p > self.p_cut, tail, body)

    def cdf(self, x):
        """F(x), elementwise: the inverse of `quantile`."""
        x = np.asarray(x, dtype=np.float64)
        body = np.interp(x, self.sorted, self.levels, left=0.0)
        tail = 1.0 - (1.0 - self.p_cut) * np.exp(-np.maximum(x - self.x_cut, 0.0) / self.beta)
        return np.where(x > self.x_cut, tail, body)


class ScaledPrior:
    """A pooled standardised distribution moved to a location and a scale: Q(p) = m + s·Q_z(p)."""

    def __init__(self, pooled: PriorDistribution, location: float, scale: float) -> None:
        self.pooled, self.location, self.scale = pooled, float(location), float(scale)

    def quantile(self, p):
        return self.location + self.scale * self.pooled.quantile(p)

    def cdf(self, x):
        return self.pooled.cdf((np.asarray(x, dtype=np.float64) - self.location) / self.scale)


class SeasonalPrior:
    """The prior by decision day: a location and scale per PRIOR_BLOCK-day block, a shape pooled over the year.

    The extra paths cover the same calendar days as the run, so the errors of the windows that begin within
    PRIOR_SPAN days of a block, over all paths, show that block's error distribution: a seasonal peak's errors (a
    lagging forecast in the rise, a level-dependent bias) are not mixed with a trough's. A block's sample (at least
    64 paths × 35 days, about 280 independent 8-day errors) fixes its mean and standard deviation well but not its
    0.9988 quantile, so the shape is pooled (a location-scale family): every error is standardised by its own block's
    mean and standard deviation, and the pooled standardised errors (all days, ~1,400 independent) give the
    quantile function Q_z with its exponential tail; block b's quantile is m_b + s_b·Q_z(p). Days beyond the
    prior's days repeat it (d mod H: the prior covers up to a year).
    """

    def __init__(self, errors, overlap: float = 1.0, block: int = PRIOR_BLOCK, span: int = PRIOR_SPAN) -> None:
        e = np.asarray(errors, dtype=np.float64)
        if e.ndim != 2:
            raise ValueError("seasonal prior errors must be (paths, days)")
        self.days = e.shape[1]
        self.block = max(int(block), 1)
        blocks = -(-self.days // self.block)
        loc, scale = np.empty(blocks), np.empty(blocks)
        for b in range(blocks):
            part = e[:, max(0, b * self.block - int(span)):min(self.days, (b + 1) * self.block + int(span))]
            loc[b], scale[b] = float(part.mean()), float(part.std())
        scale = np.maximum(scale, 1e-9 + 1e-6 * max(float(np.abs(e).max()), 1.0))
        of_day = np.arange(self.days) // self.block
        self.pooled = PriorDistribution((e - loc[of_day]) / scale[of_day], overlap)
        self.parts = [ScaledPrior(self.pooled, loc[b], scale[b]) for b in range(blocks)]
        self.n = int(e.size)

    def standardise(self, errors, day: int):
        """Errors of windows that began on `day`, in the pooled shape's units: (e − m_b) / s_b."""
        part = self.at(day)
        return (np.asarray(errors, dtype=np.float64) - part.location) / part.scale

    def block_of(self, day: int) -> int:
        return (int(day) % self.days) // self.block

    def at(self, day: int) -> ScaledPrior:
        return self.parts[self.block_of(day)]


def updated_quantile(pooled: PriorDistribution, weight: float, n: int, sum1, sum2, own_weight: float,
                     a: float) -> np.ndarray:
    """Per row, the level-a quantile of the prior updated by the run's n own standardised errors, given by their
    sums `sum1` and sums of squares `sum2` ((R,) each: ErrorBuffer keeps them as running sums).

    The prior is the pooled standardised distribution (mean 0, variance 1, weight `weight` in independent errors);
    the row's own errors count `own_weight` each (1/W: overlapping windows). The update moves the location and
    the scale to the first two moments of the mixture of both — mean m = n_e·m_o / (w + n_e), variance
    (w·(1 + m²) + n_e·(v_o + (m_o − m)²)) / (w + n_e), with n_e = n·own_weight and m_o, v_o the own errors' mean
    and variance — and keeps the pooled shape: Q = m + √variance · Q_z(a). The shape, and so the tail the
    critical ratio reads (0.9988), stays the pooled one: a run's few hundred own errors say where its level and
    spread lie, not what its 1-in-800 window looks like (an empirical mixture would have no mass beyond the
    largest own error and under-state the tail once the own errors outweigh the prior).
    """
    sum1 = np.asarray(sum1, dtype=np.float64)
    base = float(pooled.quantile(a))
    if n == 0 or own_weight <= 0 or not np.isfinite(weight):
        return np.full(sum1.shape, base)
    n_e = n * own_weight
    m_o = sum1 / n
    v_o = np.maximum(np.asarray(sum2, dtype=np.float64) / n - m_o * m_o, 0.0)
    m = n_e * m_o / (weight + n_e)
    var = (weight * (1.0 + m * m) + n_e * (v_o + (m_o - m) ** 2)) / (weight + n_e)
    return m + np.sqrt(var) * base


class ErrorBuffer:
    """Errors per replication: seed errors (before day 1) and a bounded ring of the run's own errors.

    The sample used is the ring's errors plus the most recent max(0, SEED_KEPT − online) seed errors: the seed is a
    prior that the run's own errors displace one for one, so after SEED_KEPT online errors the quantile rests on
    the days being simulated only (the context may be a different season or, in synthetic mode, a different
    process than the generated days). The ring keeps the most recent `capacity` online errors.
    SEED_KEPT = 30 was chosen on seed 5 (the benchmark scores seed 11): with 120 the context's errors, wider than
    those of the generator's synthetic paths, kept the 0.90/0.99 quantiles at 0.95/0.999 coverage for L = 14 on
    the public file; with 30 they covered 0.90/0.98.
    """

    def __init__(self, rows: int, seed_errors=None, capacity: int = CAPACITY) -> None:
        self.capacity = int(capacity)
        self.rows = int(rows)
        self.ring = np.zeros((self.capacity, self.rows))   # slot-major: a day's push is contiguous
        self.sum1 = np.zeros(self.rows)   # running Σ and Σ² of the errors in the ring (updated_quantile)
        self.sum2 = np.zeros(self.rows)
        self.count = 0      # online errors held (≤ capacity)
        self.pos = 0        # next slot to write
        self.online = 0     # online errors pushed so far
        s = np.zeros(0) if seed_errors is None else np.asarray(seed_errors, dtype=np.float64)
        s = s[..., -self.capacity:]
        self.seed = np.broadcast_to(s if s.ndim == 2 else s[None, :], (self.rows, s.shape[-1]))
        self.overlap = 1.0  # days each error's window shares with the next ones (W): n_eff = n / overlap
        self.seed_independent = False  # seed errors from separate simulated paths (forecast-noise prior)
        self.cached = None  # (q, online count when computed, (R,) quantiles, method)
        self.prior: SeasonalPrior | None = None      # simulated-mode prior (replaces the seed errors)
        self.prior_weight = PRIOR_WEIGHT             # its weight, in independent errors

    @property
    def data(self) -> np.ndarray:
        """(R, capacity) view of the ring: row r holds replication r's errors."""
        return self.ring.T

    def push(self, values) -> None:
        """Append one error per row."""
        if not (type(values) is np.ndarray and values.dtype == np.float64 and values.shape == (self.rows,)):
            values = np.broadcast_to(np.asarray(values, dtype=np.float64), (self.rows,))
        pos = self.pos
        if self.count == self.capacity:   # the oldest error leaves the ring and its sums
            old = self.ring[pos]
            self.sum1 -= old
            self.sum2 -= old * old
        else:
            self.count += 1
        self.sum1 += values
        self.sum2 += values * values
        self.ring[pos] = values
        self.pos = pos + 1 if pos + 1 < self.capacity else 0
        self.online += 1

    def push_one(self, value: float) -> None:
        """`push` for a single row, in Python floats (the same IEEE operations as push's arrays)."""
        pos, value = self.pos, float(value)
        s1, s2 = float(self.sum1[0]), float(self.sum2[0])
        if self.count == self.capacity:
            old = float(self.ring[pos, 0])
            s1 = s1 - old
            s2 = s2 - old * old
        else:
            self.count += 1
        self.sum1[0] = s1 + value
        self.sum2[0] = s2 + value * value
        self.ring[pos, 0] = value
        self.pos = pos + 1 if pos + 1 < self.capacity else 0
        self.online += 1

    def values(self) -> np.ndarray:
        """(R, n) errors used now (order irrelevant)."""
        keep = min(self.seed.shape[1], max(0, SEED_KEPT - self.online))
        own = self.data[:, :self.count]
        if keep == 0:
            return own
        return np.concatenate([self.seed[:, self.seed.shape[1] - keep:], own], axis=1)

    def effective_level(self, q: float) -> float:
        """The level at which to read the error sample so that the level covers q in expectation.

        Errors of windows that overlap W − 1 days are dependent: n of them carry about n_eff = n / W independent
        errors (sums of W overlapping days have autocorrelations (W − k)/W, which add up to W; Hansen & Hodrick
        1980, J. Political Economy 88, overlapping observations). A sample quantile from n_eff independent errors
        covers q only on average over its own noise; the order statistic ⌈(n_eff + 1) q⌉ / n_eff of split
        conformal prediction is, written continuously, the level 1 − (1 − q) n_eff / (n_eff + 1). Seed errors of
        separate simulated paths (forecast-noise mode's prior) count one each. With W = 1 (or
        `overlap` 1) the conformal index of error_quantile already accounts for n, and q is returned unchanged.
        Not tuned: on seed 5 it moved the 0.90 coverage of the four under-covering cells measured from
        0.79/0.82/0.86/0.89 to 0.82/0.84/0.88/0.90; the figures in docs/BENCHMARK_NOTES.md are seed 11.
        """
        if self.prior is not None:
            n_eff = self.prior_weight + self.online / self.overlap
            if not np.isfinite(n_eff):
                return q
            return 1.0 - (1.0 - q) * n_eff / (n_eff + 1.0)
        kept = min(self.seed.shape[1], max(0, SEED_KEPT - self.online))
        n_eff = self.online / self.overlap + (kept if self.seed_independent else kept / self.overlap)
        if self.overlap <= 1 or n_eff <= 0:
            return q
        return 1.0 - (1.0 - q) * n_eff / (n_eff + 1.0)

    def quantile(self, q: float, day: int = 0) -> tuple[np.ndarray, str]:
        """Per-row quantile and its method; "seed" ("prior") when no error of the run itself has entered yet.

        Recomputed when the first own error arrives and then after every REFRESH new errors (a week's errors move
        a 120–365-error quantile little; recomputing it daily would add about a third to the batch's run time).
        With a seasonal prior the own errors are held standardised (ProtectionTracker.update): the mixture's
        quantile is a standardised value z, and the day's quantile is its block's location + scale · z.
        """
        c = self.cached
        if not (c is not None and c[0] == q and (self.online == c[1] or (c[1] > 0 and self.online < c[1] + REFRESH))):
            if self.prior is not None:
                v = updated_quantile(self.prior.pooled, self.prior_weight, self.count, self.sum1, self.sum2,
                                     1.0 / self.overlap, self.effective_level(q))
                method = "prior" if self.online == 0 else "mixture"
            else:
                v, method = error_quantile(self.values(), self.effective_level(q))
                if method != "none" and self.online == 0:
                    method = "seed"
            self.cached = c = (q, self.online, v, method)
        if self.prior is not None:
            part = self.prior.at(day)
            if self.rows == 1:
                return np.array([part.location + part.scale * float(c[2][0])]), c[3]
            return part.location + part.scale * c[2], c[3]
        return c[2], c[3]

    def to_state(self) -> dict:
        """JSON-safe contents (row 0 only: the single run's state)."""
        c = self.cached
        cached = None if c is None else {"q": c[0], "online": c[1], "value": float(c[2][0]), "method": c[3]}
        return {"seed": [float(x) for x in self.seed[0]], "errors": [float(x) for x in self.data[0, :self.count]],
                "pos": self.pos, "count": self.count, "online": self.online, "capacity": self.capacity,
                "cached": cached, "sums": [float(self.sum1[0]), float(self.sum2[0])]}

    @classmethod
    def from_state(cls, state: dict) -> "ErrorBuffer":
        buf = cls(1, np.asarray(state["seed"], dtype=np.float64), int(state["capacity"]))
        errs = np.asarray(state["errors"], dtype=np.float64)
        buf.count = int(state["count"])
        buf.pos = int(state["pos"])
        buf.online = int(state["online"])
        if errs.shape != (buf.count,) or not 0 <= buf.pos < buf.capacity or buf.count > buf.capacity:
            raise ValueError("protection error buffer is malformed")
        buf.ring[:buf.count, 0] = errs
        sums = state.get("sums")
        if sums is not None:   # the running sums as they were (recomputed they could differ in the last bits)
            buf.sum1[0], buf.sum2[0] = float(sums[0]), float(sums[1])
        else:
            for x in errs:
                buf.sum1[0] += x
                buf.sum2[0] += x * x
        c = state.get("cached")
        if c is not None:
            buf.cached = (float(c["q"]), int(c["online"]), np.array([float(c["value"])]), str(c["method"]))
        return buf


class ProtectionTracker:
    """Online protection-period quantiles for R replications over `days` decision days.

    `set_mu(d, μ)` stores decision day d's μ and `set_demand(d, demand)`, after the day, its demand;
    `safety(d, q)` returns
    (safety stock Q·max(μ_d, floor), method) for day d after first moving every window completed by day d − 1
    into the error sample. `lead_deviation` (optional, cycled): δ = (L_eff + 1 − W) / W from the arrival process;
    each window's demand gets δ·μ added (the demand of the days by which the lead time differs from W − 1, at the
    forecast rate), so the spread includes lead-time variability. Seed errors must already include it.
    `lead_eff` (optional, (R, days) ints ≤ `reach`): each row's realised effective lead time of an order placed on
    each day (engine.protection.lead_times.arrival_lead_times); the error of day s is then that of the demand over
    its realised protection period, days s..s + lead_eff[s] (engine.protection.lead_times), and it enters once day
    s + reach has passed — the same day in every row, so a single run and its replication in a batch hold the
    same errors.
    """

    def __init__(self, rows: int, days: int, window: int, seed_errors=None, floor: float | None = None,
                 capacity: int = CAPACITY, lead_deviation=None, seed_independent: bool = False,
                 prior: SeasonalPrior | None = None, lead_eff=None, reach: int = 0) -> None:
        self.R = int(rows)
        self.window = max(int(window), 1)
        self.floor = floor_for(self.window) if floor is None else float(floor)
        self.mu = np.full((int(days), self.R), np.nan)            # day-major: a day's write is contiguous
        self.cum = np.full((int(days) + 1, self.R), np.nan)       # cum[d] = Σ demand of days < d
        self.cum[0] = 0.0
        self.lead_deviation = None if lead_deviation is None or len(lead_deviation) == 0 else \
            np.asarray(lead_deviation, dtype=np.float64)
        self.buffer = ErrorBuffer(self.R, seed_errors, capacity)
        self.buffer.overlap = float(self.window)
        self.buffer.seed_independent = bool(seed_independent)
        self.buffer.prior = prior
        self.pushed_through = -1   # last decision day whose window entered the sample
        self.reach = int(reach)
        self.lead_eff = None
        if lead_eff is not None:
            self.lead_eff = np.minimum(np.asarray(lead_eff, dtype=np.int64).reshape(self.R, -1), self.reach)
            self.lead_deviation = None

    def _deviation(self, k):
        return self.lead_deviation[np.asarray(k) % len(self.lead_deviation)]

    def set_mu(self, d: int, mu) -> None:
        self.mu[d] = mu

    def set_demand(self, d: int, demand) -> None:
        """Day d's demand, once the day is over (cumulative sums: a window's demand in O(1))."""
        if type(demand) is float and self.R == 1:   # a single run's day: the same sum without numpy's overhead
            self.cum[d + 1, 0] = float(self.cum[d, 0]) + demand
            return
        self.cum[d + 1] = self.cum[d] + demand

    def update(self, d: int) -> None:
        """Move the windows that ended by day d − 1 (started on day ≤ d − W; realised periods: on day ≤
        d − reach − 1) into the sample."""
        last = d - self.window if self.lead_eff is None else d - self.reach - 1
        if self.pushed_through >= last:
            return
        cum, mus, window, prior = self.cum, self.mu, self.window, self.buffer.prior
        if self.R == 1 and SCALE_POWER == 0.5:   # one run: the same IEEE operations on Python floats
            self._update_one(last)
            return
        while self.pushed_through < last:
            s = self.pushed_through + 1
            mu = mus[s]
            if self.lead_eff is not None:   # the realised protection period: order day to arrival
                actual = cum[s + self.lead_eff[:, s] + 1, np.arange(self.R)] - cum[s]
            else:
                actual = cum[s + window] - cum[s]
            if self.lead_deviation is not None:  # the window's demand had the lead time been L_eff
                actual = actual + self._deviation(s) * mu
            # relative_errors, written out: the same operations without its conversions (a single run pays
            # numpy's per-call overhead on 1-element arrays every day)
            r = (actual - mu) / np.maximum(mu, self.floor) ** SCALE_POWER
            if prior is not None:  # held in the prior's standardised units (its season removed)
                part = prior.at(s)
                r = (r - part.location) / part.scale
            self.buffer.push(r)
            self.pushed_through = s

    def _update_one(self, last: int) -> None:
        """`update` for a single row with Python floats: +, −, ×, ÷ and the square root are correctly rounded in
        IEEE 754, so these are the bits numpy computes for each row of a batch (SCALE_POWER = 0.5: numpy takes
        x ** 0.5 as its sqrt), without numpy's per-call overhead on 1-element arrays (the single run's day)."""
        cum, mus, window, prior, floor = self.cum, self.mu, self.window, self.buffer.prior, self.floor
        buf = self.buffer
        while self.pushed_through < last:
            s = self.pushed_through + 1
            mu = float(mus[s, 0])
            end = s + window if self.lead_eff is None else s + int(self.lead_eff[0, s]) + 1
            actual = float(cum[end, 0]) - float(cum[s, 0])
            if self.lead_deviation is not None:
                actual = actual + float(self._deviation(s)) * mu
            r = (actual - mu) / math.sqrt(mu if mu > floor else floor)
            if prior is not None:
                part = prior.at(s)
                r = (r - part.location) / part.scale
            buf.push_one(r)
            self.pushed_through = s

    def safety(self, d: int, q: float) -> tuple[np.ndarray, str]:
        """(R,) safety stock for day d at quantile level q (μ_d set before) and the quantile's method."""
        self.update(d)
        quant, method = self.buffer.quantile(q, d)
        if self.R == 1 and SCALE_POWER == 0.5:   # the same bits as the array expression (see _update_one)
            mu = float(self.mu[d, 0])
            return np.array([float(quant[0]) * math.sqrt(mu if mu > self.floor else self.floor)]), method
        return quant * np.maximum(self.mu[d], self.floor) ** SCALE_POWER, method

    def to_state(self) -> dict:
        return {"buffer": self.buffer.to_state(), "pushed_through": self.pushed_through}

    def restore(self, state: dict, mu, demand) -> None:
        """Continue a stored single run: its buffer and its recorded μ and demand per simulated day."""
        seed_independent, prior, weight = self.buffer.seed_independent, self.buffer.prior, self.buffer.prior_weight
        self.buffer = ErrorBuffer.from_state(state["buffer"])
        self.buffer.overlap = float(self.window)
        self.buffer.seed_independent = bool(seed_independent)
        self.buffer.prior, self.buffer.prior_weight = prior, weight
        self.pushed_through = int(state["pushed_through"])
        n = len(mu)
        self.mu[:n, 0] = mu
        for d, x in enumerate(demand):
            self.set_demand(d, x)
