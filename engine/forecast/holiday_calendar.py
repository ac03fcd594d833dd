"""US retail holidays from the dates alone: which days of a calendar are holidays, for the global model's inputs.

A holiday moves a store's demand by more than its weekday and season do (the store file closes on Christmas day:
every series sells 0), and the days it falls on are known in advance from the date, so they are a legitimate
input of a forecast — M5's winning entries read the competition's event calendar the same way (Makridakis,
Spiliotis & Assimakopoulos 2022, "M5 accuracy competition: Results, findings, and conclusions", IJF 38(4)).
The list is the M5 calendar's national US events computed by their rules (HOLIDAYS: fixed dates, n-th weekday of
a month, Easter by the anonymous Gregorian computus — Meeus, "Astronomical Algorithms", 1991, ch. 8). The Super
Bowl rule (first Sunday of February; second Sunday from 2022) is a heuristic: the game's date is set by the league.

Christmas is kept apart from the others (CHRISTMAS code): it is the one day US stores close, where the others
shift demand up or down by a share.
"""
from __future__ import annotations

import numpy as np

__all__ = ["HOLIDAYS", "CHRISTMAS", "holiday_codes", "easter"]

# (name, month, rule): rule int = day of month; ("nth", weekday Mon=0, n) n-th weekday (n = −1: the last);
# "easter": Easter Sunday; "superbowl": the heuristic above. Codes are 1-based positions in this tuple.
HOLIDAYS = (
    ("new_year", 1, 1),
    ("martin_luther_king", 1, ("nth", 0, 3)),
    ("super_bowl", 2, "superbowl"),
    ("valentines", 2, 14),
    ("presidents", 2, ("nth", 0, 3)),
    ("easter", 3, "easter"),
    ("mothers_day", 5, ("nth", 6, 2)),
    ("memorial", 5, ("nth", 0, -1)),
    ("fathers_day", 6, ("nth", 6, 3)),
    ("independence", 7, 4),
    ("labor", 9, ("nth", 0, 1)),
    ("halloween", 10, 31),
    ("thanksgiving", 11, ("nth", 3, 4)),
    ("christmas", 12, 25),
)
CHRISTMAS = [name for name, _, _ in HOLIDAYS].index("christmas") + 1


def easter(year: int) -> np.datetime64:
    """Easter Sunday of a Gregorian year (anonymous Gregorian algorithm, Meeus 1991)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month = (h + l_ - 7 * m + 114) // 31
    day = (h + l_ - 7 * m + 114) % 31 + 1
    return np.datetime64(f"{year:04d}-{month:02d}-{day:02d}")


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> np.datetime64:
    first = np.datetime64(f"{year:04d}-{month:02d}", "M").astype("datetime64[D]")
    if n > 0:
        offset = (weekday - (first.astype(np.int64) + 3) % 7) % 7
        return first + offset + 7 * (n - 1)
    last = (np.datetime64(f"{year:04d}-{month:02d}", "M") + 1).astype("datetime64[D]") - 1
    return last - ((last.astype(np.int64) + 3) % 7 - weekday) % 7


def _holiday_day(year: int, month: int, rule) -> np.datetime64:
    if rule == "easter":
        return easter(year)
    if rule == "superbowl":
        return _nth_weekday(year, month, 6, 2 if year >= 2022 else 1)
    if isinstance(rule, tuple):
        return _nth_weekday(year, month, rule[1], rule[2])
    return np.datetime64(f"{year:04d}-{month:02d}-{rule:02d}")


_CACHE: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _year_table(year: int) -> tuple[np.ndarray, np.ndarray]:
    """(day numbers, codes) of a year's holidays (cached: serving asks for the same years again and again)."""
    if year not in _CACHE:
        days = np.asarray([_holiday_day(year, m, r).astype(np.int64) for _, m, r in HOLIDAYS], dtype=np.int64)
        _CACHE[year] = (days, np.arange(1, len(HOLIDAYS) + 1, dtype=np.int64))
    return _CACHE[year]


def _table(first_year: int, last_year: int) -> tuple[np.ndarray, np.ndarray]:
    """(sorted day numbers, codes) of the holidays of the years first_year..last_year (cached by the range)."""
    key = (first_year, last_year)
    if key not in _RANGES:
        tables = [_year_table(y) for y in range(first_year, last_year + 1)]
        days = np.concatenate([t[0] for t in tables])
        codes = np.concatenate([t[1] for t in tables])
        order = np.argsort(days)
        _RANGES[key] = (days[order], codes[order])
    return _RANGES[key]


_RANGES: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}


def holiday_codes(day_number: np.ndarray) -> np.ndarray:
    """Holiday code of each day (1..len(HOLIDAYS), 0 for an ordinary day); day_number: days since 1970-01-01."""
    dn = np.asarray(day_number, dtype=np.int64)
    if dn.size == 0:
        return np.zeros(dn.shape, dtype=np.int64)
    first = max(1, 1970 + int(dn.min()) // 366 - 1)
    last = min(9999, 1970 + int(dn.max()) // 365 + 1)
    days, codes = _table(first, last)
    pos = np.clip(np.searchsorted(days, dn), 0, len(days) - 1)
    return np.where(days[pos] == dn, codes[pos], 0)
