"""The supplier's rules in headless Chromium: on the simulator page a planner sets pack size 12, MOQ 24, order days
Mon + Thu and K = 5, runs 21 days and sees only whole-pack orders of at least 24 on Mondays and Thursdays in the
event log, the ordering cost in the cost card, and the rules back in the fields after a reload; on /portfolio K and
a pack size set in the form reach the run and the result says so."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.web.conftest import click, set_input, text_of, wait_until
from tests.web.test_portfolio_browser import open_portfolio, prop, upload
from tests.web.test_portfolio_service import german_csv

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ORDER = re.compile(r"Day (\d+) \((\w{3}) (\d{4}-\d{2}-\d{2})\): ordered ([\d,.]+) units")


def check_days(d, checklist_id: str, labels: list[str]) -> None:
    for label in d.find_elements("css selector", f"#{checklist_id} label"):
        if label.text.strip() in labels:
            d.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", label)
            label.click()
    wait_until(lambda: sorted(prop(d, checklist_id) or []) == sorted(x.lower() for x in labels), 5,
               what=f"{labels} checked")


def test_simulator_orders_whole_packs_above_the_moq_on_order_days_only(page):
    d = page
    set_input(d, "pack-size", 12)
    set_input(d, "moq", 24)
    set_input(d, "order-cost", 5)
    check_days(d, "order-days", ["Mon", "Thu"])
    set_input(d, "horizon", 21)
    set_input(d, "speed", 0.05)
    click(d, "start")
    wait_until(lambda: "finished" in text_of(d, "sim-status"), 60, what="the 21-day run")
    orders = [ORDER.match(e.text) for e in d.find_elements("css selector", "#event-log .log-order")]
    assert len(orders) >= 3 and all(orders), [e.text for e in d.find_elements("css selector", "#event-log .log-order")]
    for m in orders:
        qty = float(m.group(4).replace(",", ""))
        assert qty % 12 == 0 and qty >= 24, m.group(0)
        assert m.group(2) in ("Mon", "Thu") and dt.date.fromisoformat(m.group(3)).weekday() in (0, 3), m.group(0)
    assert f"ordering {5 * len(orders):,.2f}" in text_of(d, "kpi-cost-sub")
    # the recommendation after the run was chosen under the same rules, and says so
    rules = wait_until(lambda: text_of(d, "hint-recommendation-rules"), 60, what="the hint's rules")
    assert "whole packs of 12" in rules and "Mon, Thu" in rules and "5 per order" in rules, rules
    d.refresh()  # the rules are the session's: they come back into the fields
    wait_until(lambda: prop(d, "pack-size") == 12 and prop(d, "moq") == 24, 20, what="the rules restored")
    assert prop(d, "order-days") == ["mon", "thu"] and prop(d, "order-cost") == 5


def test_portfolio_runs_under_the_form_s_order_cost_and_pack_and_says_so(page, app, tmp_path):
    d = page
    open_portfolio(d, app.url)
    (tmp_path / "verkauf.csv").write_bytes(german_csv(days=120, series=2, seed=3))
    upload(d, tmp_path / "verkauf.csv")
    wait_until(lambda: prop(d, "pf-role-location") == "Filiale", 20, what="the detected mapping")
    set_input(d, "pf-replications", 4)
    set_input(d, "pf-days", 28)
    set_input(d, "pf-pack-size", 2.5)
    click(d, "pf-run")
    assert "pack size: 2.5 must be a whole number" in wait_until(lambda: text_of(d, "pf-error"), 10,
                                                                 what="the refusal naming the field")
    set_input(d, "pf-pack-size", 6)
    set_input(d, "pf-order-cost", 200)
    check_days(d, "pf-order-days", ["Tue"])
    click(d, "pf-run")
    note = wait_until(lambda: text_of(d, "pf-result-note"), 120, what="the result")
    assert "whole packs of 6" in note and "orders on Tue only" in note and "200 per order placed" in note, note
    assert len(text_of(d, "pf-total-parts").split(" · ")) == 3  # the cost card splits the ordering cost out
