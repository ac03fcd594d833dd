"""/portfolio's "Check against history" in headless Chromium: upload, map, press the button; the background job
recommends on the history before the origin, runs the recommendations on the held-out days and the page shows
promised vs realised per class, the calibration chart and the exception list; the same check again is served from
the cache."""
from __future__ import annotations

import pytest

from tests.web.conftest import click, set_input, text_of, wait_until
from tests.web.test_portfolio_browser import choose, open_portfolio, planner_file, prop, upload

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def open_planner_file(d, url, tmp_path) -> None:
    """/portfolio with a planner's 150-day file uploaded and its columns mapped (the market as the location)."""
    open_portfolio(d, url)
    upload(d, planner_file(tmp_path / "verkauf.csv", days=150))
    wait_until(lambda: prop(d, "pf-role-date") == "Datum", 20, what="the detected mapping")
    choose(d, "pf-role-location", "Markt")


def test_check_against_history_shows_promised_vs_realised_and_the_exceptions(page, app, tmp_path):
    d = page
    open_planner_file(d, app.url, tmp_path)
    set_input(d, "pf-replications", 5)
    set_input(d, "pf-days", 30)
    set_input(d, "pfbt-origins", 2)
    click(d, "pfbt-run")
    summary = wait_until(lambda: text_of(d, "pfbt-summary"), 180, what="the check's summary")
    assert "3 series × 2 origin(s) of 30 held-out days" in summary and "Promised" in summary
    table = wait_until(lambda: text_of(d, "pfbt-classes"), 20, what="the per-class table")
    assert "all series" in table and "Promised fill rate" in table and "Days of cover" in table
    wait_until(lambda: d.find_elements("css selector", "#pfbt-chart .main-svg"), 20, what="the calibration chart")
    assert "promise kept" in text_of(d, "pfbt-chart")
    misses = text_of(d, "pfbt-misses")
    assert "missed" in misses  # the exception list, or the sentence that no series missed by > 5 points
    assert d.find_element("id", "pfbt-run").is_enabled()
    click(d, "pfbt-run")
    wait_until(lambda: "result cache" in text_of(d, "pfbt-cached"), 20, what="the cached check")
    # a file too short for the origins asked: the engine's message, nothing else changes
    set_input(d, "pfbt-origins", 5)
    click(d, "pfbt-run")
    assert "need at least" in wait_until(lambda: text_of(d, "pfbt-error"), 60, what="the refusal")
    assert "all series" in text_of(d, "pfbt-classes")


def test_check_the_levels_of_a_global_model(page, app, tmp_path):
    """“Levels from” a global model under the page's default objective, least expected cost: the check runs the
    model's calibrated quantile and says so."""
    from selenium.webdriver.support.ui import Select

    d = page
    open_planner_file(d, app.url, tmp_path)
    set_input(d, "pf-days", 30)
    Select(d.find_element("id", "pfbt-levels")).select_by_value("ensemble:m5-global")
    assert prop(d, "pf-objective") == "cost"   # the page's default objective
    click(d, "pfbt-run")
    summary = wait_until(lambda: text_of(d, "pfbt-summary"), 180, what="the check's summary")
    assert "Levels from ensemble:m5-global's quantiles" in summary and "Promised" in summary
