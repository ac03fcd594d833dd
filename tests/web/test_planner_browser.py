"""What a planner sees on the simulator page in headless Chromium at 1440 px: number fields that say their range
and turn invalid as you type, refusals in the page's words, run-bar buttons enabled only when they apply, a run bar
that stays in view, and a Day card whose text fits."""
from __future__ import annotations

import pytest

from tests.web.conftest import click, set_input, shown_day, text_of, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def invalid(d, field_id: str) -> bool:
    return "is-invalid" in d.find_element("id", field_id).get_attribute("class")


def enabled(d, button: str) -> bool:
    return d.find_element("id", button).is_enabled()


@pytest.mark.parametrize("field, value, needle", [
    ("speed", 0.01, "speed: 0.01 is out of range (0.05 to 5)"),
    ("horizon", 1000, "horizon: 1000 is out of range (1 to 730)"),
    ("lead-time", 2.5, "lead time: 2.5 must be a whole number (0 to 60)"),
])
def test_an_out_of_range_value_is_marked_as_typed_and_refused_naming_the_range(page, field, value, needle):
    d = page
    assert "to" in text_of(d, f"{field}-range")  # the range is shown beside the field
    set_input(d, field, value)
    wait_until(lambda: invalid(d, field), 5, what=f"{field} marked invalid")
    assert "Allowed:" in text_of(d, f"{field}-invalid")
    click(d, "start")
    msg = wait_until(lambda: text_of(d, "sim-message"), 10, what="a refusal")
    assert needle in msg and "a value is required" not in msg, msg
    assert shown_day(d) == 0


def test_a_service_level_typed_as_95_is_used_as_095(page):
    d = page
    set_input(d, "service-level", 95)
    assert not invalid(d, "service-level")
    set_input(d, "horizon", 5)
    click(d, "start")
    wait_until(lambda: "finished" in text_of(d, "sim-status"), 20, what="the run to end")
    d.refresh()  # the stored controls come back into the fields: the run used 0.95
    wait_until(lambda: d.find_element("id", "service-level").get_attribute("value") == "0.95", 20,
               what="service level 0.95 restored")


def test_a_price_below_cost_is_refused_in_the_page_s_words(page):
    d = page
    set_input(d, "unit-cost", 8)
    set_input(d, "unit-price", 5)
    click(d, "start")
    msg = wait_until(lambda: text_of(d, "sim-message"), 10, what="a refusal")
    assert "the unit price (5) is not above the unit cost (8)" in msg and "--" not in msg, msg


def test_run_bar_buttons_apply_only_when_they_can_and_stay_in_view(page):
    d = page
    assert enabled(d, "start") and enabled(d, "step")
    assert not enabled(d, "pause") and not enabled(d, "reset")  # before a run
    set_input(d, "horizon", 200)
    click(d, "start")
    wait_until(lambda: shown_day(d) >= 2, 10, what="running")
    assert not enabled(d, "start") and enabled(d, "pause") and enabled(d, "reset")
    assert "Start is off during a run" in text_of(d, "run-note")
    # scrolled to the bottom of the page, the run bar (buttons and speed box) is still on screen
    d.execute_script("window.scrollTo(0, document.body.scrollHeight)")
    top = d.execute_script("return document.getElementById('pause').getBoundingClientRect().top")
    speed_top = d.execute_script("return document.getElementById('speed').getBoundingClientRect().top")
    assert 0 <= top < 200 and 0 <= speed_top < 200, (top, speed_top)
    click(d, "step")  # Step while running pauses, and says so
    msg = wait_until(lambda: text_of(d, "sim-message"), 10, what="the step message")
    assert msg.startswith("Paused at day") and d.find_element("id", "pause").text == "Resume"
    assert enabled(d, "start")


def test_the_day_card_fits_at_1440_px(page):
    d = page
    set_input(d, "horizon", 90)
    set_input(d, "speed", 0.05)
    click(d, "start")
    wait_until(lambda: "Day 90 of 90" in text_of(d, "kpi-day"), 30, what="day 90")
    fits = d.execute_script(
        "const v = document.getElementById('kpi-day'); const card = v.closest('.card-body');"
        "const c = card.getBoundingClientRect(), r = v.getBoundingClientRect();"
        "return [r.right <= c.right + 0.5, v.scrollWidth <= v.clientWidth, r.right, c.right];")
    assert fits[0] and fits[1], fits


def test_the_backtest_plot_shows_the_three_best_models_and_the_actual_in_front(app, browser_factory):
    import time

    d = browser_factory()
    d.set_window_size(1440, 1000)
    d.get(app.url + "/forecasts")
    wait_until(lambda: d.find_element("id", "bt-run"), 15, what="the forecasts page")
    boxes = d.find_elements("css selector", "#bt-models input[type=checkbox]")
    keep = {b.get_attribute("value") for b in boxes[:4]}
    for box in boxes:
        if (box.get_attribute("value") in keep) != box.is_selected():
            d.execute_script("arguments[0].click();", box)
    time.sleep(0.3)
    click(d, "bt-run")
    wait_until(lambda: d.find_elements("id", "backtest-table"), 90, what="the backtest table")
    cells = [[td.text for td in r.find_elements("tag name", "td")]
             for r in d.find_elements("css selector", "#backtest-table tbody tr")]
    evaluated = [c[0] for c in cells if c[1] != "–"]  # model labels, as in the plot's legend
    names = wait_until(lambda: (n := d.execute_script(
        "const g = document.querySelector('#bt-graph .js-plotly-plot');"
        "return g && g.data ? g.data.map(t => t.name) : null;")) and "Actual" in n and n, 15, what="the plot")
    assert len(evaluated) == 4 and names[-1] == "Actual" and sorted(names[:-1]) == sorted(evaluated[:3]), names
    legend_bottom = d.execute_script(
        "return document.querySelector('#bt-graph .legend').getBoundingClientRect().bottom")
    xtitle_top = d.execute_script(
        "return document.querySelector('#bt-graph .g-xtitle').getBoundingClientRect().top")
    legend_left = d.execute_script("return document.querySelector('#bt-graph .legend').getBoundingClientRect().left")
    xtitle_right = d.execute_script(
        "return document.querySelector('#bt-graph .g-xtitle').getBoundingClientRect().right")
    assert legend_bottom <= xtitle_top or legend_left >= xtitle_right  # the legend clear of the x-axis title
