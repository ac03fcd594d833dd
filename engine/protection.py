"""Protection-period demand: the quantile of the demand over the days an order must cover, from forecast errors.

At a decision day t with (effective) lead time L the order protects W = L + 1 days (Silver, Pyke & Thomas,
"Inventory and Production Management in Supply Chains", 4th ed., ch. 6: periodic review R = 1, protection period
R + L). Location μ_t = Σ forecasts of days t..t+W−1. Spread: relative W-day errors

    r = (D − μ) / max(μ, floor),   D = realised demand of the W days,

i.e. errors proportional to the forecast level (heteroscedastic: a seasonal peak has larger errors than a trough;
the floor keeps near-zero forecasts from blowing a single unit of demand up into a huge relative error). The W-day
errors are measured directly, not as σ₁√W: forecast errors of consecutive days are correlated, so σ₁√W understates
the lead-time error (Prak, Teunter & Syntetos 2017, EJOR 256, "On the calculation of safety stocks when demand is
forecasted").

The order-up-to level at quantile level q is S_t = μ_t + Q_q(r) · max(μ_t, floor), with Q_q the quantile of the
error sample:
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

Online: on decision day t the window that began on decision day t − W ends on day t − 1, so its error is known and
enters the sample; no demand of day ≥ t is ever read (``ProtectionTracker``). The sample is a bounded ring
(``CAPACITY`` most recent errors) seeded with out-of-sample errors from before day 1. Everything is vectorised over
replications: arrays have shape (R, ...); a single run is R = 1, so the single run and the batch share one
implementation and one arithmetic.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["CAPACITY", "MIN_TAIL_COUNT", "FLOOR_PER_DAY", "METHODS", "relative_errors", "error_quantile",
           "protection_level", "coverage", "ErrorBuffer", "ProtectionTracker"]

CAPACITY = 365          # errors kept (most recent); bounds memory and the per-day quantile cost
MIN_TAIL_COUNT = 5      # empirical order statistic only while ≥ this many errors lie beyond the quantile
MIN_EXCEEDANCES = 10    # peaks-over-threshold: at least this many exceedances for the exponential fit
FLOOR_PER_DAY = 1.0     # floor of the level errors are relative to: one unit per day of the window
METHODS = ("none", "empirical", "tail", "seed")   # ledger code 0..3


def floor_for(window: int, per_day: float = FLOOR_PER_DAY) -> float:
    """Floor of the level (units over the window): `per_day` units per day, as forecast-noise mode's max(1, f)."""
    return float(per_day) * max(int(window), 1)


def relative_errors(actual, mu, floor: float):
    """r = (actual − μ) / max(μ, floor), elementwise."""
    actual = np.asarray(actual, dtype=np.float64)
    mu = np.asarray(mu, dtype=np.float64)
    return (actual - mu) / np.maximum(mu, floor)


def protection_level(mu, quantile, floor: float):
    """S = μ + Q · max(μ, floor), never below 0 (the inverse of ``relative_errors``)."""
    mu = np.asarray(mu, dtype=np.float64)
    return np.maximum(mu + np.asarray(quantile, dtype=np.float64) * np.maximum(mu, floor), 0.0)


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
    beta = part[:, n - m:].mean(axis=1) - u
    return u + beta * math.log(m / (n * (1.0 - q))), "tail"


class ErrorBuffer:
    """A bounded ring of relative errors per replication: (R, capacity), the most recent `capacity` kept."""

    def __init__(self, rows: int, seed_errors=None, capacity: int = CAPACITY) -> None:
        self.capacity = int(capacity)
        self.data = np.zeros((int(rows), self.capacity))
        self.count = 0      # errors held (≤ capacity)
        self.pos = 0        # next slot to write
        self.online = 0     # errors pushed during the run (not seed)
        if seed_errors is not None:
            s = np.asarray(seed_errors, dtype=np.float64)
            s = s[..., -self.capacity:]
            n = s.shape[-1]
            self.data[:, :n] = s if s.ndim == 2 else s[None, :]
            self.count = n
            self.pos = n % self.capacity

    def push(self, values) -> None:
        """Append one error per row."""
        self.data[:, self.pos] = values
        self.pos = (self.pos + 1) % self.capacity
        self.count = min(self.count + 1, self.capacity)
        self.online += 1

    def values(self) -> np.ndarray:
        """(R, count) errors held (order irrelevant)."""
        return self.data[:, :self.count]

    def quantile(self, q: float) -> tuple[np.ndarray, str]:
        """Per-row quantile and its method; "seed" when no error of the run itself has entered yet."""
        v, method = error_quantile(self.values(), q)
        if method != "none" and self.online == 0:
            method = "seed"
        return v, method

    def to_state(self) -> dict:
        """JSON-safe contents (row 0 only: the single run's state)."""
        return {"errors": [float(x) for x in self.data[0, :self.count]], "pos": self.pos, "count": self.count,
                "online": self.online, "capacity": self.capacity}

    @classmethod
    def from_state(cls, state: dict) -> "ErrorBuffer":
        buf = cls(1, None, int(state["capacity"]))
        errs = np.asarray(state["errors"], dtype=np.float64)
        buf.count = int(state["count"])
        buf.pos = int(state["pos"])
        buf.online = int(state["online"])
        if errs.shape != (buf.count,) or not 0 <= buf.pos < buf.capacity or buf.count > buf.capacity:
            raise ValueError("protection error buffer is malformed")
        buf.data[0, :buf.count] = errs
        return buf


class ProtectionTracker:
    """Online protection-period quantiles for R replications over `days` decision days.

    `record(d, mu, demand)` stores decision day d's μ and, after the day, its demand; `safety(d, q)` returns
    (safety stock Q·max(μ_d, floor), method) for day d after first moving every window completed by day d − 1
    into the error sample. `lead_deviation` (optional, cycled) is added to each error: the relative change of the
    window's demand when the effective lead time differs from W − 1 ((L_eff + 1 − W) / W, from the arrival
    process), so the spread includes lead-time variability.
    """

    def __init__(self, rows: int, days: int, window: int, seed_errors=None, floor: float | None = None,
                 capacity: int = CAPACITY, lead_deviation=None) -> None:
        self.R = int(rows)
        self.window = max(int(window), 1)
        self.floor = floor_for(self.window) if floor is None else float(floor)
        self.mu = np.full((self.R, int(days)), np.nan)
        self.demand = np.full((self.R, int(days)), np.nan)
        self.lead_deviation = None if lead_deviation is None or len(lead_deviation) == 0 else \
            np.asarray(lead_deviation, dtype=np.float64)
        seed = None
        if seed_errors is not None:
            seed = np.asarray(seed_errors, dtype=np.float64)
            if self.lead_deviation is not None:
                seed = seed + self._deviation(np.arange(seed.shape[-1]) + 7919)
        self.buffer = ErrorBuffer(self.R, seed, capacity)
        self.pushed_through = -1   # last decision day whose window entered the sample

    def _deviation(self, k):
        return self.lead_deviation[np.asarray(k) % len(self.lead_deviation)]

    def set_mu(self, d: int, mu) -> None:
        self.mu[:, d] = mu

    def set_demand(self, d: int, demand) -> None:
        self.demand[:, d] = demand

    def update(self, d: int) -> None:
        """Move the windows that ended by day d − 1 (started on day ≤ d − W) into the sample."""
        last = d - self.window
        while self.pushed_through < last:
            s = self.pushed_through + 1
            actual = self.demand[:, s:s + self.window].sum(axis=1)
            r = relative_errors(actual, self.mu[:, s], self.floor)
            if self.lead_deviation is not None:
                r = r + self._deviation(s)
            self.buffer.push(r)
            self.pushed_through = s

    def safety(self, d: int, q: float) -> tuple[np.ndarray, str]:
        """(R,) safety stock for day d at quantile level q (μ_d set before) and the quantile's method."""
        self.update(d)
        quant, method = self.buffer.quantile(q)
        return quant * np.maximum(self.mu[:, d], self.floor), method

    def to_state(self) -> dict:
        return {"buffer": self.buffer.to_state(), "pushed_through": self.pushed_through}

    def restore(self, state: dict, mu, demand) -> None:
        """Continue a stored single run: its buffer and its recorded μ and demand per simulated day."""
        self.buffer = ErrorBuffer.from_state(state["buffer"])
        self.pushed_through = int(state["pushed_through"])
        n = len(mu)
        self.mu[0, :n] = mu
        self.demand[0, :n] = demand
