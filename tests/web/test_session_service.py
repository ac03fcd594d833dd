"""The simulator page's run logic (dashapp.pages.simulator.service) on a real diskcache store and the real engine,
without a browser or a server: what each button and tick leaves the page to show."""
from __future__ import annotations

import pytest

from dashapp.pages.simulator.service import FULL, MESSAGE, NOTHING, PATCH, STOP, SimulationService
from dashapp.platform.session_ids import new_session_id
from dashapp.platform.store import DiskSessionStore
from dashapp.ui.validation import DEFAULT_CONTROLS

CONTROLS = dict(DEFAULT_CONTROLS, forecaster="ma7", demand_mode="synthetic", horizon=12, lead_time=2)


class FakeClock:
    """Wall time the test moves by hand (the run's pace is kept against the service's clock)."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def service(tmp_path, clock):
    store = DiskSessionStore(str(tmp_path / "sessions"), 64 * 2**20, 600)
    yield SimulationService(store, clock=clock)
    store.close()


@pytest.fixture
def sid(service):
    return service.press(None, "load", {}).sid


def _tick(service, screen, speed=0.3, day=None, wait=None):
    """The tick the page sends after showing `screen` (rows are the live ledger: read its length now), `wait`
    seconds after the previous one (default: one interval of dcc.Interval, max(0.1, speed))."""
    service.clock.now += max(0.1, speed) if wait is None else wait
    shown = len(screen.rows) if day is None else day
    return service.tick(screen.sid, {"run": screen.run, "day": shown}, speed)


def test_load_makes_a_signed_session_and_a_forged_id_gets_a_new_one(service):
    first = service.press(None, "load", {})
    assert first.kind == FULL and first.status == "idle" and first.rows == [] and first.controls
    again = service.press(first.sid, "load", {})
    assert again.sid == first.sid
    forged = service.press(first.sid[:-2] + "AA", "load", {})
    assert forged.sid not in (first.sid, first.sid[:-2] + "AA")


def test_start_then_ticks_advance_one_day_each_until_done(service, sid):
    screen = service.press(sid, "start", CONTROLS)
    assert (screen.kind, screen.status, screen.run, screen.horizon, screen.rows) == (FULL, "running", 1, 12, [])
    days = []
    while screen.status == "running":
        screen = _tick(service, screen)
        assert screen.kind == PATCH
        days.append(len(screen.rows))
    assert days == list(range(1, 13)) and screen.status == "done" and screen.status_changed


def test_a_repeated_tick_sends_the_missing_days_without_stepping(service, sid):
    start = service.press(sid, "start", CONTROLS)
    one = _tick(service, start, day=0)
    repeat = _tick(service, start, day=0)  # the same request again (a lost response retried)
    assert len(one.rows) == len(repeat.rows) == 1 and repeat.shown_day == 0
    assert not one.status_changed  # the run goes on: status and Pause label are not re-sent


def test_pause_resume_and_a_paused_run_does_not_advance(service, sid):
    screen = _tick(service, service.press(sid, "start", CONTROLS))
    paused = service.press(sid, "pause", CONTROLS)
    assert paused.status == "paused" and len(paused.rows) == 1
    assert len(_tick(service, paused).rows) == 1
    resumed = service.press(sid, "pause", CONTROLS)
    assert resumed.status == "running" and resumed.run == screen.run
    assert len(_tick(service, resumed).rows) == 2


def test_step_before_a_run_starts_one_paused_at_day_one_and_step_during_a_run_pauses(service, sid):
    first = service.press(sid, "step", CONTROLS)
    assert (first.status, len(first.rows), first.run) == ("paused", 1, 1)
    assert len(service.press(sid, "step", CONTROLS).rows) == 2
    running = len(_tick(service, service.press(sid, "start", CONTROLS)).rows)
    stepped = service.press(sid, "step", CONTROLS)
    assert (stepped.status, len(stepped.rows), stepped.run) == ("paused", running + 1, 2)


def test_reset_starts_a_new_idle_run_and_late_ticks_of_the_old_run_change_nothing(service, sid):
    old = _tick(service, service.press(sid, "start", CONTROLS))
    reset = service.press(sid, "reset", CONTROLS)
    assert (reset.status, reset.rows, reset.run) == ("idle", [], old.run + 1)
    assert _tick(service, old, day=1).kind == NOTHING


def test_pause_without_a_run_and_bad_controls_are_messages(service, sid):
    nothing = service.press(sid, "pause", CONTROLS)
    assert nothing.message == "Nothing to pause: press Start first." and nothing.status == "idle"
    refused = service.press(sid, "start", dict(CONTROLS, horizon=0))
    assert refused.kind == MESSAGE and refused.message == "Start refused — horizon: 0 is out of range (1 to 730)"
    forged = service.press(sid, "start", dict(CONTROLS, policy="../../etc"))
    assert forged.kind == MESSAGE and "policy" in forged.message
    both = service.press(sid, "start", dict(CONTROLS, service_level=0.9, param_safety_quantile=1.0))
    assert both.kind == MESSAGE and both.message == ("Start refused — order-up-to takes a service target or a "
                                                     "safety quantile Q, not both")


def test_fast_speeds_step_several_days_per_tick(service, sid):
    screen = service.press(sid, "start", dict(CONTROLS, speed=0.05))
    assert len(_tick(service, screen, speed=0.05).rows) == 2  # ticks fire at most every 100 ms: 2 days due


def test_bad_tick_requests_stop_the_ticks(service, sid):
    assert service.tick("forged.id", {"run": 1, "day": 0}, 0.3).kind == STOP
    assert service.tick(sid, {"run": "1", "day": 0}, 0.3).message == "Bad tick request."
    unknown = new_session_id()
    assert service.tick(unknown, {"run": 1, "day": 0}, 0.3).message.startswith("This session has expired")


def test_ledger_rows_and_run_inputs_follow_the_run(service, sid):
    assert service.ledger_rows(sid) == [] and service.finished_run_inputs(sid) is None
    screen = service.press(sid, "step", CONTROLS)
    rows = service.ledger_rows(sid)
    assert rows == screen.rows and rows[0]["day"] == 1
    config, series = service.finished_run_inputs(sid)
    assert config.days == 12 and config.lead_time == 2 and series.key


def test_a_price_below_cost_is_refused_in_the_page_s_words(service, sid):
    refused = service.press(sid, "start", dict(CONTROLS, unit_cost=8.0, unit_price=5.0))
    assert refused.kind == MESSAGE and "--" not in refused.message
    assert refused.message.startswith("Start refused — the unit price (5) is not above the unit cost (8)")


def test_step_while_running_pauses_and_says_so(service, sid):
    days_before = len(_tick(service, service.press(sid, "start", CONTROLS)).rows)
    stepped = service.press(sid, "step", CONTROLS)
    assert stepped.status == "paused" and len(stepped.rows) == days_before + 1
    assert stepped.message == f"Paused at day {len(stepped.rows)}: Step advances one day at a time, Resume goes on."
    again = service.press(sid, "step", CONTROLS)  # already paused: no message
    assert again.status == "paused" and again.message is None


def test_a_service_level_of_95_reaches_the_run_as_095(service, sid):
    service.press(sid, "start", dict(CONTROLS, service_level=95))
    assert service.press(sid, "load", {}).controls["service_level"] == pytest.approx(0.95)


@pytest.mark.parametrize("status, days, disabled", [
    ("idle", 0, {"start": False, "pause": True, "step": False, "reset": True}),     # before a run
    ("running", 3, {"start": True, "pause": False, "step": False, "reset": False}),
    ("paused", 3, {"start": False, "pause": False, "step": False, "reset": False}),
    ("done", 12, {"start": False, "pause": True, "step": False, "reset": False}),
])
def test_run_bar_buttons_are_enabled_only_when_they_apply(status, days, disabled):
    from dashapp.pages.simulator.session_views import RUN_NOTES, button_states

    assert button_states(status, days) == disabled
    assert ("Start is off" in RUN_NOTES.get(status, "")) == disabled["start"]  # a disabled Start says why


def test_slow_round_trips_are_caught_up_so_the_run_keeps_its_pace(service, sid):
    """Each tick arrives 0.15 s late (interval + round trip): the days done follow wall time / speed."""
    screen = service.press(sid, "start", CONTROLS)
    for _ in range(4):
        screen = _tick(service, screen, speed=0.3, wait=0.45)
    assert len(screen.rows) == 6  # 1.8 s at 0.3 s/day, not 4 ticks = 4 days
    assert [r["day"] for r in screen.rows] == list(range(1, 7))  # every day's row, in order


def test_resume_re_bases_the_clock_so_a_pause_is_not_caught_up(service, sid, clock):
    day = len(_tick(service, service.press(sid, "start", CONTROLS)).rows)
    service.press(sid, "pause", CONTROLS)
    clock.now += 60.0  # a long pause
    resumed = service.press(sid, "pause", CONTROLS)
    assert len(_tick(service, resumed).rows) == day + 1


def test_a_speed_change_mid_run_keeps_the_new_pace(service, sid):
    screen = _tick(service, service.press(sid, "start", dict(CONTROLS, horizon=100)), speed=0.3)
    day = len(screen.rows)
    for _ in range(10):
        screen = _tick(service, screen, speed=0.05, wait=0.15)  # 100 ms interval + 50 ms round trip
    assert len(screen.rows) == day + 1 + 27  # re-based at the first fast tick, then 1.35 s / 0.05 s


def test_a_tab_back_from_the_background_does_not_race_through_the_run(service, sid):
    """A throttled tab's tick after 10 s at 0.3 s/day advances at most 2 s worth of days, then the run goes on
    at its pace from there."""
    screen = _tick(service, service.press(sid, "start", dict(CONTROLS, horizon=100)))
    screen = _tick(service, screen, wait=10.0)
    assert len(screen.rows) == 1 + 7  # ceil(2 / 0.3) days
    assert len(_tick(service, screen, day=8).rows) == 1 + 7 + 1


def test_pace_keeps_ticks_idempotent(service, sid):
    """A repeated tick (lost response) sends the days the first one stepped, however late it comes."""
    start = service.press(sid, "start", CONTROLS)
    first = _tick(service, start, day=0, wait=0.9)
    repeat = _tick(service, start, day=0, wait=0.9)
    assert len(first.rows) == len(repeat.rows) == 3 and repeat.shown_day == 0


def test_a_run_records_how_its_order_up_to_level_was_set_and_the_page_says_it(service, sid):
    from dashapp.pages.simulator.session_views import level_note

    service.press(sid, "start", dict(CONTROLS, lead_time=7))  # synthetic demand, lost sales
    lost = service.level_of(sid)
    assert lost["level_source"].startswith("lost-sales") and lost["quantile_level"] <= lost["critical_ratio"]
    assert "lost sales" in level_note(lost) and f"{lost['critical_ratio']:.4f}" in level_note(lost)
    service.press(sid, "start", dict(CONTROLS, backorders=True))
    assert level_note(service.level_of(sid)).startswith("Level used: q = p/(p+h) = ")
    service.press(sid, "start", dict(CONTROLS, service_level=0.9))
    assert level_note(service.level_of(sid)) == "Level used: your service target q = 0.9000."
    service.press(sid, "start", dict(CONTROLS, param_safety_quantile=1.25))   # a recommendation's stated Q
    assert level_note(service.level_of(sid)).startswith("Level used: S = forecast + Q·√max(forecast, floor) with "
                                                        "your fixed safety quantile Q = 1.250")
    service.press(sid, "start", dict(CONTROLS, policy="base-stock"))
    assert service.level_of(sid) is None and level_note(None) == ""
