"""Start during a paused run asks before it restarts from day 1 (headless Chromium at 1440 px)."""
from __future__ import annotations

import time

import pytest

from tests.web.conftest import click, open_app, set_input, shown_day, text_of, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_start_while_paused_asks_and_cancelling_keeps_the_run(app, browser_factory):
    d = browser_factory()
    d.set_window_size(1440, 1000)
    open_app(d, app.url)
    set_input(d, "horizon", 200)
    set_input(d, "speed", 0.1)
    click(d, "start")  # no run yet: starts without asking
    wait_until(lambda: shown_day(d) >= 5, 15, what="running")
    click(d, "pause")
    wait_until(lambda: "paused" in text_of(d, "sim-status"), 5, what="paused")
    paused_at = shown_day(d)
    set_input(d, "speed", 2)  # the new run climbs slowly: its early days are seen before it passes paused_at
    click(d, "start")
    alert = wait_until(lambda: d.switch_to.alert, 5, what="the confirmation")
    assert "Start a new run from day 1?" in alert.text
    alert.dismiss()
    time.sleep(1.0)
    assert shown_day(d) == paused_at and "paused" in text_of(d, "sim-status")  # nothing restarted
    click(d, "start")
    wait_until(lambda: d.switch_to.alert, 5, what="the confirmation again").accept()
    wait_until(lambda: "running" in text_of(d, "sim-status") and shown_day(d) < paused_at, 10,
               what="a new run from day 1")
