"""Supplier order days: which weekdays an item may be ordered on, and what that means for the protection period.

An item ordered only on some weekdays is under periodic review: an order placed today must cover the demand until
the order placed on the *next* order day arrives, i.e. the lead time L plus the review period R (Silver, Pyke &
Thomas, "Inventory and Production Management in Supply Chains", 4th ed., § 6.9: the (R, S) system protects over
R + L). With irregular order days (mon;thu: gaps of 3 and 4 days) R is taken as the longest gap, the period an
order may have to cover — the conservative choice, stated wherever it is used.
"""
from __future__ import annotations

import datetime as _dt
import re

__all__ = ["WEEKDAYS", "parse_order_days", "review_days", "is_order_day", "next_order_day", "days_text"]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = date.weekday()
_NAMES = {**{d: i for i, d in enumerate(WEEKDAYS)},
          **{n: i for i, n in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                                         "sunday"))},
          "tues": 1, "wednes": 2, "thur": 3, "thurs": 3}
_EVERY_DAY = {"", "daily", "all", "every day", "everyday", "*"}


def parse_order_days(text) -> tuple[int, ...]:
    """'mon;thu' (also ',', '|', '/' or spaces; full names; any case) -> (0, 3). Empty / 'daily' -> every day
    (0, …, 6). ValueError naming the bad word otherwise."""
    raw = "" if text is None else str(text).strip().lower()
    if raw in _EVERY_DAY:
        return tuple(range(7))
    days = set()
    for word in re.split(r"[;,|/\s]+", raw):
        if not word:
            continue
        if word not in _NAMES:
            raise ValueError(f"{word!r} is not a weekday (use mon, tue, wed, thu, fri, sat, sun, e.g. mon;thu)")
        days.add(_NAMES[word])
    if not days:
        raise ValueError(f"{text!r} names no weekday (e.g. mon;thu)")
    return tuple(sorted(days))


def review_days(days: tuple[int, ...]) -> int:
    """R: the longest gap in days between consecutive order days, around the week (every day: 1; one day: 7)."""
    d = sorted(set(days))
    gaps = [b - a for a, b in zip(d, d[1:])] + [d[0] + 7 - d[-1]]
    return max(gaps)


def is_order_day(date: _dt.date, days: tuple[int, ...]) -> bool:
    return date.weekday() in days


def next_order_day(date: _dt.date, days: tuple[int, ...]) -> _dt.date:
    """The first order day after `date` (not `date` itself)."""
    for k in range(1, 8):
        d = date + _dt.timedelta(days=k)
        if d.weekday() in days:
            return d
    raise ValueError("no order day in the week")


def days_text(days: tuple[int, ...]) -> str:
    """(0, 3) -> 'mon;thu'; every day -> 'daily'."""
    return "daily" if len(set(days)) == 7 else ";".join(WEEKDAYS[d] for d in sorted(set(days)))
