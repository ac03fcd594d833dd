"""Results pages that say what to do, in headless Chromium at 1440 px: the simulator's settings travel to /optimum
and /scenarios through real links, the after-run hint's cost is the cost card's, /optimum and /scenarios open with
a sentence (what to set, what it saves, how sure), and the /scenarios results are a grid with the name pinned and
a not-significant difference marked."""
from __future__ import annotations

import re

import pytest

from tests.web.conftest import click, set_input, text_of, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _run_short_replay(d):
    d.execute_script("window.scrollTo(0, 0)")
    set_input(d, "horizon", 20)
    set_input(d, "lead-time", 3)
    set_input(d, "speed", 0.05)
    click(d, "start")
    wait_until(lambda: "finished" in text_of(d, "sim-status"), 30, what="the run to end")


def _table_cells(d, table_id: str) -> list[str]:
    return [c.text for c in d.find_elements("css selector", f"#{table_id} .ag-cell")]


def test_the_hint_cost_matches_the_card_and_its_optimum_link_carries_the_run_s_settings(page):
    d = page
    _run_short_replay(d)
    hint = wait_until(lambda: text_of(d, "hint-text"), 30, what="the hint")
    card = text_of(d, "kpi-cost")
    assert f"Your animated run cost {card} on its one demand path (the Cumulative cost card)" in hint, (hint, card)
    assert text_of(d, "hint-level").startswith("Level used: q = p/(p+h) = ")  # replay: the critical ratio itself
    days = text_of(d, "hint-run-days")   # both rules on the replayed days, labelled in sample
    assert days.startswith("On your run's own 20 days (the replayed history") and f"your rule's {card}" in days, days
    link = d.find_element("id", "hint-optimum-link")
    assert link.tag_name == "a" and "/optimum?set=" in link.get_attribute("href")
    click(d, "hint-optimum-link")
    wait_until(lambda: "/optimum" in d.current_url and d.find_elements("id", "opt-table"), 20, what="/optimum")
    cells = wait_until(lambda: _table_cells(d, "opt-table"), 10, what="the scenario row")
    assert "Your simulator settings" in cells and "replay" in cells and "3" in cells, cells


def test_a_service_target_set_on_the_rule_opens_optimum_under_that_fill_rate(page):
    d = page
    set_input(d, "service-level", 0.9)
    _run_short_replay(d)
    target = wait_until(lambda: text_of(d, "hint-target"), 30, what="the hint's target sentence")
    assert "service-level target of 90.0%" in target and "is on /optimum" in target, target
    click(d, "hint-optimum-link")
    wait_until(lambda: "/optimum" in d.current_url and d.find_elements("id", "opt-objective"), 20, what="/optimum")
    assert d.find_element("id", "opt-objective").get_attribute("value") == "fill-rate"
    assert float(d.find_element("id", "opt-target").get_attribute("value")) == 0.9


def test_the_settings_links_carry_the_fields_and_scenarios_opens_with_a_sentence_and_a_grid(page):
    d = page
    set_input(d, "lead-time", 4)
    wait_until(lambda: "/scenarios?set=" in d.find_element("id", "sim-scenarios-link").get_attribute("href"), 10,
               what="the link with the settings")
    click(d, "sim-scenarios-link")
    wait_until(lambda: d.find_elements("id", "sc-table"), 20, what="/scenarios")
    cells = wait_until(lambda: _table_cells(d, "sc-table"), 10, what="the rows")
    assert cells.count("4") >= 2 and "Your simulator settings" in cells, cells
    set_input(d, "sc-replications", 20)
    set_input(d, "sc-days", 60)
    click(d, "sc-run")
    wait_until(lambda: d.find_elements("id", "sc-sentence"), 120, what="the results")
    sentence = text_of(d, "sc-sentence")
    assert re.search(r"(Use \"|The baseline \").*mean total cost [\d,.]+ \([\d,.]+ per day\) over 60 days", sentence)
    grid = d.find_element("id", "sc-kpi-table")
    assert grid.find_elements("css selector", ".ag-pinned-left-cols-container [col-id=scenario]")
    headers = [h.text for h in grid.find_elements("css selector", ".ag-header-cell-text")]
    assert any(h.startswith("Δ total cost vs") for h in headers), headers
    diffs = [c.text for c in grid.find_elements("css selector", ".ag-center-cols-container [col-id=diff_total_cost]")]
    # the settings carried a replay (one demand path): its differences say so instead of "± 0.00"
    assert diffs[0].endswith("(baseline)") and all(("±" in t or "1 path — no interval" in t) for t in diffs[1:]), \
        diffs


def test_optimum_opens_with_a_recommendation_a_range_and_units(page):
    d = page
    _run_short_replay(d)
    click(d, "sim-optimum-link")
    wait_until(lambda: d.find_elements("id", "opt-run"), 20, what="/optimum")
    set_input(d, "opt-replications", 10)
    click(d, "opt-run")
    wait_until(lambda: d.find_elements("id", "opt-sentence"), 180, what="the optimum results")
    assert text_of(d, "opt-recommendation-policy").startswith(("order up to S = ", "(r, Q) rule"))
    assert "Objective: least expected cost" in text_of(d, "opt-recommendation-objective")
    worlds = text_of(d, "opt-two-worlds")  # the recommendation's paths are not the replayed yardsticks' one path
    assert worlds.startswith("Two demand worlds") and "(Replay the data, 1 path)" in worlds, worlds
    sentence = text_of(d, "opt-sentence")
    assert sentence.startswith("Yardstick ") and "per day" in sentence and "over 20 days" in sentence, sentence
    assert "units" in text_of(d, "opt-best-s") and "per day" in text_of(d, "opt-best-z")
