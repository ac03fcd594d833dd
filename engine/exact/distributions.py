"""Discrete i.i.d. demand distributions for the exact models: a pmf on 0..D_max.

The support is cut where the upper tail mass falls below TAIL (1e-12) and that tail is added to the last point,
so the pmf sums to one exactly and every expectation is off by at most TAIL × (largest cost in the model).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
from scipy import stats

from engine.errors import ConfigError

__all__ = ["TAIL", "DemandDist", "empirical", "from_counts", "from_values", "negative_binomial", "parse_demand_dist",
           "poisson"]

TAIL = 1e-12
MAX_SUPPORT = 2000  # a demand pmf longer than this is refused (the state space would be far too large anyway)


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
        raise ConfigError(f"demand distribution {label} needs {n} support points (at most {MAX_SUPPORT}); "
                          "the exact model is for small integer demands", field="demand_dist", value=label)


def poisson(mean: float) -> DemandDist:
    if not (math.isfinite(mean) and mean > 0):
        raise ConfigError(f"poisson mean must be positive (got {mean!r})", field="demand_dist", value=mean)
    hi = int(stats.poisson.isf(TAIL, mean)) + 2
    _check_len(hi, f"poisson:{mean:g}")
    pmf = stats.poisson.pmf(np.arange(hi + 1), mean)
    pmf[-1] += stats.poisson.sf(hi, mean)
    return DemandDist(_cut(pmf), f"poisson:{mean:g}")


def negative_binomial(mean: float, var: float) -> DemandDist:
    """Negative binomial with the given mean and variance (needs var > mean): n = m²/(v − m), p = m/v."""
    if not (math.isfinite(mean) and mean > 0):
        raise ConfigError(f"negbin mean must be positive (got {mean!r})", field="demand_dist", value=mean)
    if not (math.isfinite(var) and var > mean):
        raise ConfigError(f"negbin needs VAR > MEAN (got mean {mean:g}, var {var:g}); use poisson:MEAN when they "
                          "are equal", field="demand_dist", value=var)
    n, p = mean * mean / (var - mean), mean / var
    hi = int(stats.nbinom.isf(TAIL, n, p)) + 2
    _check_len(hi, f"negbin:{mean:g}:{var:g}")
    pmf = stats.nbinom.pmf(np.arange(hi + 1), n, p)
    pmf[-1] += stats.nbinom.sf(hi, n, p)
    return DemandDist(_cut(pmf), f"negbin:{mean:g}:{var:g}")


def from_values(values, label: str) -> DemandDist:
    """Empirical pmf of observed demands (rounded to whole units; needs at least one value and a positive mean)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        raise ConfigError(f"series {label} has no demand values", field="demand_dist", value=label)
    if (v < 0).any():
        raise ConfigError(f"series {label} has negative demand", field="demand_dist", value=label)
    k = np.rint(v).astype(np.int64)
    _check_len(int(k.max()) + 1, label)
    pmf = np.bincount(k).astype(np.float64)
    if pmf[1:].sum() == 0:
        raise ConfigError(f"series {label} has no positive demand", field="demand_dist", value=label)
    return DemandDist(pmf / pmf.sum(), f"empirical:{label}")


def from_counts(counts, label: str) -> DemandDist:
    """Empirical pmf from counts[d] = number of periods with demand d (what a page keeps of an uploaded series)."""
    c = np.asarray(counts, dtype=np.float64)
    if c.ndim != 1 or c.size == 0 or (c < 0).any() or not np.isfinite(c).all() or c[1:].sum() <= 0:
        raise ConfigError(f"series {label} has no positive demand counts", field="demand_dist", value=label)
    _check_len(c.size, label)
    return DemandDist(c / c.sum(), f"empirical:{label}")


def empirical(path: str, series: str | None) -> DemandDist:
    """The empirical distribution of the Units_Sold column of one series of a data file
    (engine.data.dataset.load_csv)."""
    from engine.data.dataset import load_csv

    s = load_csv(path).get(series)
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
            raise ConfigError("empirical needs a file: empirical:FILE.csv[:SERIES]", field="demand_dist", value=t)
        return empirical(path, series)
    raise ConfigError(f"demand distribution {t[:60]!r} is not poisson:MEAN, negbin:MEAN:VAR or "
                      "empirical:FILE.csv[:SERIES]", field="demand_dist", value=t)
