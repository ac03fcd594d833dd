"""What a supplier accepts as an order, applied in one place: whole units, a minimum order quantity (MOQ), order
multiples (the case pack) and order days; and what an order costs (a fixed K per order line).

`OrderRules.apply(qty, weekday)` turns what a policy wants into what is ordered, elementwise on a float or an
array: 0 on a day that is not an order day, 0 when nothing is wanted, else the wanted quantity rounded *up* to a
whole number of packs and to at least the MOQ (the MOQ itself rounded up to a pack multiple). Rounding up, not to
the nearest pack, keeps a rule's protection: the stock after the order is never below the level it aimed at
(van Donselaar et al., "Inventory control of perishables in supermarkets", IJPE 2006, on case packs; Silver, Pyke &
Thomas, 4th ed., ch. 6 on MOQ and pack rounding). The kernel (engine.simulation.kernel) applies the rules in
`place()`, so every simulation — the single run, the batch, the optimum and the portfolio — orders the same way.

Order days make the review periodic: with review period R (the longest gap between two order days) an order must
cover the lead time and the R days until the next one can arrive, so the protection period is L + R
(`review_period`; Silver, Pyke & Thomas ch. 6, "(R, S) systems").
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.data.order_days import WEEKDAYS
from engine.data.order_days import parse_order_days as weekday_numbers
from engine.errors import ConfigError

__all__ = ["OrderRules", "WEEKDAYS", "parse_order_days", "weekday_of", "weekday_after", "NEED_TOLERANCE"]

NEED_TOLERANCE = 1e-9   # a wanted quantity at or below this (float dust of S − IP) is no order


def parse_order_days(value) -> tuple[str, ...] | None:
    """'mon,thu' / 'mon;thu' / ['Mon', 'thursday'] → ('mon', 'thu') in week order; '' / None / 'daily' / all seven
    → None (every day). The words are read by engine.data.order_days (the item file's reading: full names, any
    case, ',', ';', '|', '/' or spaces); ConfigError naming the unknown day."""
    if value is None:
        return None
    parts = [value] if isinstance(value, str) else list(value)
    days: set[int] = set()
    for part in parts:
        if not isinstance(part, str):
            raise ConfigError(f"order_days must be weekday names, got {part!r}", field="order_days", value=value)
        if not part.strip() and len(parts) > 1:
            continue
        try:
            days.update(weekday_numbers(part))
        except ValueError as exc:
            raise ConfigError(f"unknown order day: {exc}", field="order_days", value=value) from None
    if len(days) == 7:
        return None
    return tuple(WEEKDAYS[d] for d in sorted(days))


def weekday_of(date: str | None) -> int:
    """Monday = 0 … Sunday = 6 of an ISO date; a run without dates starts on a Monday (day 1 = Monday)."""
    if not date:
        return 0
    return int((np.datetime64(str(date)[:10], "D").astype(np.int64) + 3) % 7)   # 1970-01-01 was a Thursday


def weekday_after(dates) -> int:
    """The weekday (Monday = 0) of the day after a series' last date — the first day simulated or replayed after
    its history; Monday without dates."""
    return (weekday_of(dates[-1]) + 1) % 7 if dates else 0


@dataclass(frozen=True)
class OrderRules:
    """moq: minimum units per order (0 = none); pack_size: order multiple (None = any quantity); order_days:
    weekday names (None = every day); integer: whole units (implied by a whole pack size); order_cost: K per
    order placed (in the cost and the KPIs, not in the rounding)."""

    moq: float = 0.0
    pack_size: float | None = None
    order_days: tuple[str, ...] | None = None
    integer: bool = False
    order_cost: float = 0.0

    def __post_init__(self) -> None:
        if self.pack_size is not None and not self.pack_size > 0:
            raise ConfigError(f"pack_size must be positive, got {self.pack_size!r}", field="pack_size",
                              value=self.pack_size)
        if not self.moq >= 0:
            raise ConfigError(f"moq must be 0 or more, got {self.moq!r}", field="moq", value=self.moq)

    @property
    def rounds(self) -> bool:
        """Whether a wanted quantity is changed at all (else apply is the identity on order days)."""
        return bool(self.integer or self.pack_size is not None or self.moq > 0)

    @property
    def active(self) -> bool:
        return self.rounds or self.order_days is not None

    @property
    def step(self) -> float | None:
        """The multiple an order is rounded up to: the pack, else 1 for whole units, else None."""
        if self.pack_size is not None:
            return float(self.pack_size)
        return 1.0 if self.integer else None

    @property
    def minimum(self) -> float:
        """The smallest order: the MOQ rounded up to the step."""
        step = self.step
        if step is None or self.moq <= 0:
            return float(self.moq)
        return math.ceil(self.moq / step - NEED_TOLERANCE) * step

    def order_day_mask(self) -> tuple[bool, ...]:
        """Whether each weekday (Monday first) is an order day."""
        if self.order_days is None:
            return (True,) * 7
        return tuple(d in self.order_days for d in WEEKDAYS)

    def review_period(self) -> int:
        """R: the longest number of days from one order day to the next (1 when every day is an order day)."""
        if self.order_days is None:
            return 1
        idx = [WEEKDAYS.index(d) for d in self.order_days]
        return max(((idx[(i + 1) % len(idx)] - idx[i] - 1) % 7) + 1 for i in range(len(idx)))

    def is_order_day(self, weekday: int) -> bool:
        return self.order_day_mask()[int(weekday) % 7]

    def apply(self, qty, weekday: int):
        """The quantity ordered for a wanted `qty` (float or array) on `weekday` (Monday = 0)."""
        if self.order_days is not None and not self.order_day_mask()[int(weekday) % 7]:
            return 0.0 if np.ndim(qty) == 0 and not isinstance(qty, np.ndarray) else np.zeros(np.shape(qty))
        if not self.rounds:
            return qty
        step, minimum = self.step, self.minimum
        if np.ndim(qty) == 0 and not isinstance(qty, np.ndarray):
            q = float(qty)
            if q <= NEED_TOLERANCE:
                return 0.0
            if step is not None:
                q = math.ceil(q / step - NEED_TOLERANCE) * step
            return float(max(q, minimum))
        q = np.asarray(qty, dtype=np.float64)
        want = q > NEED_TOLERANCE
        if step is not None:
            q = np.ceil(q / step - NEED_TOLERANCE) * step
        return np.where(want, np.maximum(q, minimum), 0.0)

    def packs(self, qty) -> float | None:
        """Whole packs in an ordered quantity (None without a pack size)."""
        return None if self.pack_size is None else qty / self.pack_size

    def describe(self) -> dict:
        return {"moq": self.moq, "pack_size": self.pack_size,
                "order_days": None if self.order_days is None else list(self.order_days),
                "integer": bool(self.integer or self.step == 1.0), "order_cost": self.order_cost,
                "review_period": self.review_period()}
