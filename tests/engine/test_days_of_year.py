"""engine.data.dataset.days_of_year (vectorised) against the calendar: leap years, year ends, extension, other ISO
forms."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from engine.data.dataset import days_of_year


def _reference(dates, extend=0):
    days = [dt.date.fromisoformat(str(x)[:10]) for x in dates]
    if days and extend:
        days += [days[-1] + dt.timedelta(days=k) for k in range(1, extend + 1)]
    return [d.timetuple().tm_yday for d in days]


def test_matches_the_calendar_over_leap_years_and_an_extension():
    start = dt.date(2019, 12, 20)
    dates = [(start + dt.timedelta(days=k)).isoformat() for k in range(900)]  # crosses 29 Feb 2020 and 3 year ends
    got = days_of_year(dates, extend=400)
    assert got.dtype == np.int64 and got.tolist() == _reference(dates, 400)


def test_timestamps_basic_format_and_empty_input():
    assert days_of_year(["2024-03-01 00:00:00", "2024-12-31T12:00"]).tolist() == [61, 366]
    assert days_of_year(["20240301"]).tolist() == [61]
    assert days_of_year([]).tolist() == []


def test_a_bad_date_is_a_value_error():
    with pytest.raises(ValueError):
        days_of_year(["2024-02-30"])
