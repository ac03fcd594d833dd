"""Discrete i.i.d. demand distributions for the exact models: a pmf on 0..D_max.

The support is cut where the upper tail mass falls below TAIL (1e-12) and that tail is added to the last point,
so the pmf sums to one exactly and every expectation is off by at most TAIL × (largest cost in the model).

Every distribution is checked before a model sees it (ConfigError / DataError in the CLI's wording): its pmf must
carry the mean and variance asked for (a parameter whose mass lies beyond MAX_SUPPORT would otherwise be cut to a
different distribution), demand must be positive in at least MIN_DEMAND_RATE of periods (rarer demand makes the
chains mix so slowly that value iteration stops before its bounds meet), and observed demand must be whole units
(the models' states are integer stock levels; rounding would change the series' mean without saying so).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
from scipy import stats

from engine.errors import ConfigError, DataError, FractionalDemandError

__all__ = ["MIN_DEMAND_RATE", "TAIL", "DemandDist", "empirical", "from_counts", "from_values", "negative_binomial",
           "parse_demand_dist", "poisson"]

TAIL = 1e-12
MAX_SUPPORT = 2000  # a demand pmf longer than this is refused (the state space would be far too large anyway)
MIN_DEMAND_RATE = 1e-3  # P(D ≥ 1) below this is refused: poisson:0.0001 stops value iteration unconverged


@dataclass(frozen=True)
class DemandDist:
    """pmf[d] = P(D = d), d = 0..len(pmf) − 1; `label` says what it is ("poisson:5")."""

    pmf: np.ndarray
    label: str

    @property
    def mean(self) -> float:
        return float(np.arange(len(self.pmf)) @ self.pmf)

    @property
    def var(self) -> float:
        d = np.arange(len(self.pmf))
        return float(d * d @ self.pmf - self.mean ** 2)

    @property
    def max_demand(self) -> int:
        return len(self.pmf) - 1

    def cdf(self) -> np.ndarray:
        return np.cumsum(self.pmf)

    def convolve(self, k: int) -> np.ndarray:
        """pmf of the sum of k independent copies (k >= 1), tail beyond TAIL folded into the last point."""
        out = self.pmf
        for _ in range(k - 1):
            out = _cut(np.convolve(out, self.pmf))
        return out

    def sample(self, rng: np.random.Generator, shape) -> np.ndarray:
        """i.i.d. integer draws (float64) by inversion."""
        u = rng.random(shape)
        return np.searchsorted(self.cdf(), u, side="right").clip(0, self.max_demand).astype(np.float64)


def _cut(pmf: np.ndarray) -> np.ndarray:
    """Drop the upper tail with mass < TAIL, folding it into the last kept point."""
    pmf = np.asarray(pmf, dtype=np.float64)
    tail = np.cumsum(pmf[::-1])[::-1]  # tail[d] = P(D >= d)
    keep = int(np.nonzero(tail >= TAIL)[0][-1]) + 1 if (tail >= TAIL).any() else 1
    out = pmf[:keep].copy()
    out[-1] += tail[keep] if keep < len(pmf) else 0.0
    return out / out.sum()


def _check_len(n: int, label: str) -> None:
    if n > MAX_SUPPORT:
        raise ConfigError(f"--demand-dist: demand distribution {label} needs {n} support points (at most "
                          f"{MAX_SUPPORT}); the exact model is for small integer demands", field="demand_dist",
                          value=label)


def _check_mean(mean: float, label: str) -> None:
    if mean > MAX_SUPPORT:
        raise ConfigError(f"--demand-dist {label}: the mean {mean:g} is above {MAX_SUPPORT}, the largest demand the "
                          "exact model holds (it is for small integer demands)", field="demand_dist", value=label)


def _check_rate(pmf: np.ndarray, label: str) -> None:
    rate = float(pmf[1:].sum())
    if rate < MIN_DEMAND_RATE:
        raise ConfigError(f"--demand-dist {label}: demand is positive in {rate:.3g} of periods, below the "
                          f"{MIN_DEMAND_RATE:g} the exact model solves reliably", field="demand_dist", value=label)


def _upper_end(isf: float, label: str) -> int:
    """The support's last point from the distribution's inverse survival function at TAIL (NaN or beyond
    MAX_SUPPORT: refused, the mass lies where the model cannot hold it)."""
    if not math.isfinite(isf) or isf + 2 > MAX_SUPPORT:
        raise ConfigError(f"--demand-dist {label}: the distribution needs more than {MAX_SUPPORT} support points "
                          f"(its tail beyond them has probability {TAIL:g} or more); the exact model is for small "
                          "integer demands", field="demand_dist", value=label)
    return int(isf) + 2


def _checked(pmf: np.ndarray, label: str, mean: float, var: float) -> DemandDist:
    """The distribution, once its cut pmf is known to carry the mean and variance asked for."""
    dist = DemandDist(_cut(pmf), label)
    if not (abs(dist.mean - mean) <= 1e-6 * mean and abs(dist.var - var) <= 1e-4 * var):
        raise ConfigError(f"--demand-dist {label}: on 0..{MAX_SUPPORT} this distribution has mean {dist.mean:.6g} "
                          f"and variance {dist.var:.6g}, not the {mean:g} and {var:g} asked for (too much of its "
                          "mass lies beyond what the exact model holds)", field="demand_dist", value=label)
    _check_rate(dist.pmf, label)
    return dist


def poisson(mean: float) -> DemandDist:
    label = f"poisson:{mean:g}"
    if not (math.isfinite(mean) and mean > 0):
        raise ConfigError(f"--demand-dist {label}: the poisson mean must be positive", field="demand_dist",
                          value=mean)
    _check_mean(mean, label)
    _check_rate(np.array([math.exp(-mean), -math.expm1(-mean)]), label)
    hi = _upper_end(stats.poisson.isf(TAIL, mean), label)
    pmf = stats.poisson.pmf(np.arange(hi + 1), mean)
    pmf[-1] += stats.poisson.sf(hi, mean)
    return _checked(pmf, label, mean, mean)


def negative_binomial(mean: float, var: float) -> DemandDist:
    """Negative binomial with the given mean and variance (needs var > mean): n = m²/(v − m), p = m/v."""
    label = f"negbin:{mean:g}:{var:g}"
    if not (math.isfinite(mean) and mean > 0):
        raise ConfigError(f"--demand-dist {label}: the negbin mean must be positive", field="demand_dist",
                          value=mean)
    if not (math.isfinite(var) and var > mean):
        raise ConfigError(f"--demand-dist {label}: negbin needs VAR > MEAN (got mean {mean:g}, var {var:g}); use "
                          "poisson:MEAN when they are equal", field="demand_dist", value=var)
    _check_mean(mean, label)
    n, p = mean * mean / (var - mean), mean / var
    hi = _upper_end(stats.nbinom.isf(TAIL, n, p), label)
    pmf = stats.nbinom.pmf(np.arange(hi + 1), n, p)
    pmf[-1] += stats.nbinom.sf(hi, n, p)
    return _checked(pmf, label, mean, var)


def from_values(values, label: str) -> DemandDist:
    """Empirical pmf of observed demands: whole units, at least one value, positive in at least MIN_DEMAND_RATE of
    them (module docstring)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        raise ConfigError(f"series {label} has no demand values", field="demand_dist", value=label)
    if (v < 0).any():
        raise ConfigError(f"series {label} has negative demand", field="demand_dist", value=label)
    frac = v != np.floor(v)
    if frac.any():
        raise ConfigError(f"series {label} has demand {v[frac][0]:g}, not a whole number; the exact model needs "
                          "demand in whole units", field="demand_dist", value=label)
    _check_len(int(v.max()) + 1, label)
    pmf = np.bincount(v.astype(np.int64)).astype(np.float64)
    if pmf[1:].sum() == 0:
        raise ConfigError(f"series {label} has no positive demand", field="demand_dist", value=label)
    pmf /= pmf.sum()
    _check_rate(pmf, f"empirical:{label}")
    return DemandDist(pmf, f"empirical:{label}")


def from_counts(counts, label: str) -> DemandDist:
    """Empirical pmf from counts[d] = number of periods with demand d (what a page keeps of an uploaded series)."""
    c = np.asarray(counts, dtype=np.float64)
    if c.ndim != 1 or c.size == 0 or (c < 0).any() or not np.isfinite(c).all() or c[1:].sum() <= 0:
        raise ConfigError(f"series {label} has no positive demand counts", field="demand_dist", value=label)
    _check_len(c.size, label)
    _check_rate(c / c.sum(), f"empirical:{label}")
    return DemandDist(c / c.sum(), f"empirical:{label}")


def empirical(path: str, series: str | None) -> DemandDist:
    """The empirical distribution of the Units_Sold column of one series of a data file
    (engine.data.dataset.load_csv; without a series named, the file's first). Only that series must sell in whole
    units; a fraction is refused with the loader's row and column."""
    from engine.data.dataset import load_csv

    s = load_csv(path).get(series)
    if not np.array_equal(s.demand, np.floor(s.demand)):
        try:  # read again asking the loader for this series in whole units: its refusal names the row and column
            load_csv(path, whole_demand=s.key)
        except FractionalDemandError as exc:
            raise DataError(f"{exc.detail}; the exact model needs demand in whole units (--demand-dist "
                            "empirical:FILE)", file=exc.file, row=exc.row, column=exc.column,
                            value=exc.value) from None
    return from_values(s.demand, s.key)


_NUM = r"([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"


def parse_demand_dist(text: str) -> DemandDist:
    """'poisson:MEAN' | 'negbin:MEAN:VAR' | 'empirical:FILE.csv[:SERIES]' → DemandDist (ConfigError otherwise)."""
    t = str(text).strip()
    m = re.fullmatch(rf"poisson:{_NUM}", t, re.IGNORECASE)
    if m:
        return poisson(float(m.group(1)))
    m = re.fullmatch(rf"negbin:{_NUM}:{_NUM}", t, re.IGNORECASE)
    if m:
        return negative_binomial(float(m.group(1)), float(m.group(2)))
    if t.lower().startswith("empirical:"):
        rest = t[len("empirical:"):]
        path, series = rest, None
        low = rest.lower()
        cut = low.rfind(".csv:")
        if cut >= 0:
            path, series = rest[:cut + 4], rest[cut + 5:] or None
        if not path:
            raise ConfigError("--demand-dist: empirical needs a file: empirical:FILE.csv[:SERIES]",
                              field="demand_dist", value=t)
        return empirical(path, series)
    raise ConfigError(f"--demand-dist: {t[:60]!r} is not poisson:MEAN, negbin:MEAN:VAR or "
                      "empirical:FILE.csv[:SERIES]", field="demand_dist", value=t)
