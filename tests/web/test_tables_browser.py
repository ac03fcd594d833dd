"""Tables and logs a planner reads, in headless Chromium at 1440 px: the model card as readable fields with its
backtest in a grid under the registry's labels, and the event log's summary line and filter by event kind."""
from __future__ import annotations

import re

import pytest

from tests.web.conftest import click, open_app, set_input, text_of, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_model_card_reads_as_fields_and_its_backtest_grid_shows_labels(app, browser_factory):
    d = browser_factory()
    d.set_window_size(1440, 1000)
    d.get(app.url + "/forecasts")
    wait_until(lambda: d.find_elements("id", "model-card-facts"), 20, what="the model card")
    card = text_of(d, "model-card")
    assert "{" not in card and "Input window (days)" in card and "Library versions" in card, card[:400]
    models = wait_until(lambda: [c.text for c in d.find_elements(
        "css selector", "#card-backtest .ag-pinned-left-cols-container [col-id=model]")], 15, what="the grid")
    internal = {"ma7", "ma28", "ses", "naive", "seasonal-naive"}
    assert models and not internal & set(models), models
    assert any(m.startswith("Moving average") for m in models), models


def test_the_event_log_has_a_summary_line_and_a_filter_by_kind(app, browser_factory):
    d = browser_factory()
    d.set_window_size(1440, 1000)
    open_app(d, app.url)
    set_input(d, "horizon", 40)
    set_input(d, "speed", 0.05)
    click(d, "start")
    wait_until(lambda: "finished" in text_of(d, "sim-status"), 30, what="the run to end")
    summary = text_of(d, "event-summary")
    m = re.match(r"40 days: (\d+) orders · (\d+) arrivals · (\d+) stockout days", summary)
    assert m, summary
    orders = len(d.find_elements("css selector", "#event-log .log-order"))
    assert orders == int(m.group(1))  # 40 days: fewer than 200 entries, all in the log

    def visible(kind):
        return [e for e in d.find_elements("css selector", f"#event-log .log-{kind}") if e.is_displayed()]

    assert visible("order")
    box = d.find_element("css selector", "#event-filter input[value=order]")
    d.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", box)
    wait_until(lambda: not visible("order"), 5, what="orders hidden")
    assert len(visible("arrival")) == int(m.group(2))
