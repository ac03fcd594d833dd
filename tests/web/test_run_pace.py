"""The run's pace (dashapp.pages.simulator.pace): days due per tick from wall time, with catch-up, re-basing and a
cap."""
from __future__ import annotations

import pytest

from dashapp.pages.simulator.pace import days_due, max_days_per_tick, new_clock


def test_a_tick_on_time_advances_one_day_and_keeps_the_clock():
    clock = new_clock(100.0, 0, 0.3)
    n, after = days_due(clock, 100.3, 0, 0.3)
    assert n == 1 and after == clock


@pytest.mark.parametrize("speed, late, days", [(0.3, 0.15, 60), (0.05, 0.085, 60), (1.0, 0.2, 20)])
def test_ticks_that_arrive_late_keep_the_pace_over_a_run(speed, late, days):
    """A browser whose ticks each come `late` seconds after the period still ends the run at speed × days."""
    now, day, clock = 0.0, 0, new_clock(0.0, 0, speed)
    interval = max(0.1, speed)
    while day < days:
        now += interval + late
        n, clock = days_due(clock, now, day, speed)
        day = min(days, day + n)
    assert speed * days - 1e-9 <= now <= speed * days + interval + late  # done within one tick of the due time


def test_never_less_than_one_day_a_tick_and_never_ahead_by_more_than_one():
    clock = new_clock(0.0, 0, 0.3)
    n, clock = days_due(clock, 0.01, 0, 0.3)  # a tick far too early (a client not waiting its interval)
    assert n == 1
    n, clock = days_due(clock, 0.31, 1, 0.3)  # the clock says 1 is due and 1 is done: still one day
    assert n == 1


def test_no_clock_or_a_new_speed_re_bases_at_the_current_day():
    n, clock = days_due(None, 50.0, 7, 0.3)  # as if day 7 was reached one period ago
    assert n == 1 and clock == new_clock(49.7, 7, 0.3)
    n, clock = days_due(new_clock(0.0, 0, 0.3), 50.0, 7, 0.05)
    assert n == 1 and clock == new_clock(49.95, 7, 0.05)
    assert days_due(clock, 50.5, 8, 0.05)[0] == 10  # 0.55 s after day 7 at 0.05 s/day: 18 due, 8 done


def test_far_behind_steps_at_most_two_seconds_of_days_and_re_bases():
    n, clock = days_due(new_clock(0.0, 0, 0.3), 60.0, 10, 0.3)
    assert n == max_days_per_tick(0.3) == 7
    assert clock == new_clock(60.0, 17, 0.3)
    assert days_due(new_clock(0.0, 0, 0.05), 60.0, 0, 0.05)[0] == 40


def test_floating_point_round_off_does_not_lose_a_day():
    clock = new_clock(1_000_000.1, 0, 0.1)
    assert days_due(clock, 1_000_000.1 + 3 * 0.1, 0, 0.1)[0] == 3
