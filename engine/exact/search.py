"""The integer walk the exact policy searches share: from a start, step to the neighbour of lower cost until neither
neighbour is lower. On the convex-in-practice cost curves of a base-stock level, a capped level or an order size
(engine.exact.policies, engine.exact.fixed_cost) it finds the minimum in a few evaluations of an exact chain each."""
from __future__ import annotations

from collections.abc import Callable

__all__ = ["descend"]


def descend(f: Callable, start: int, lo: int, hi: int, tried: dict, cost: Callable = lambda v: v) -> int:
    """Integer argmin of cost(f(x)) on [lo, hi], walking from `start` towards lower values; every f(x) evaluated is
    kept in `tried` (x -> f(x)), which the caller may read after."""
    def val(x):
        if x not in tried:
            tried[x] = f(x)
        return cost(tried[x])

    x = min(max(start, lo), hi)
    while True:
        best = x
        for y in (x - 1, x + 1):
            if lo <= y <= hi and val(y) < val(best):
                best = y
        if best == x:
            return x
        x = best
