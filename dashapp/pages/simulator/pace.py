"""The pace of a running simulation: how many days one tick advances so that the run keeps the chosen seconds
per day on the wall clock.

Why not one day per tick: dcc.Interval (with `running=` disabling it during a tick) starts counting its next
period only when the previous tick's answer has arrived, so one day per tick runs at interval + round trip per
day (0.3 s/day became 0.45 s/day, 0.05 s/day became 0.135). Instead the run keeps a clock — the wall time and
the day at which it started, resumed or changed speed — and each tick advances the days that are due since then:
    due = day0 + floor((now - t0) / speed) - days done,
at least one (a tick the page sends has waited one interval) and at most MAX_CATCH_UP_S worth of days (a tab
the browser throttled in the background does not race through the run when it comes back: the clock is re-based
instead, so the run goes on at its pace from where it is).

The clock is a plain dict stored in the session record (JSON) and read by any worker; it uses wall time
(time.time) because two worker processes, or two hosts sharing Redis, must agree on it.
"""
from __future__ import annotations

import math

MAX_CATCH_UP_S = 2.0  # at most this many seconds' worth of days in one tick


def new_clock(now: float, day: int, speed: float) -> dict:
    """A clock that says `day` was reached at `now` at `speed` seconds per day."""
    return {"t0": float(now), "day0": int(day), "speed": float(speed)}


def max_days_per_tick(speed: float) -> int:
    return max(2, math.ceil(MAX_CATCH_UP_S / speed))


def days_due(clock: dict | None, now: float, day: int, speed: float) -> tuple[int, dict]:
    """(days this tick advances, the clock to store) for a run at `day` ticking at `speed` s/day.

    Without a clock, or when the speed changed, the clock is re-based as if the last day was reached one period
    ago (this tick advances one day, the next ones keep the new pace). Floating-point round-off is absorbed by a
    small tolerance, so a tick arriving exactly on time is not a day short."""
    if not clock or clock.get("speed") != float(speed) or not isinstance(clock.get("t0"), (int, float)):
        clock = new_clock(now - speed, day, speed)
    expected = clock["day0"] + math.floor((now - clock["t0"]) / speed + 1e-6)
    due = expected - day
    cap = max_days_per_tick(speed)
    if due > cap:  # far behind (a throttled background tab, a long stall): go on at the pace from here
        return cap, new_clock(now, day + cap, speed)
    return max(1, due), clock
