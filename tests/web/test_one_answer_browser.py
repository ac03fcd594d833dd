"""One item, one answer, in headless Chromium at 1440 px: the simulator's hint, /optimum's headline and /portfolio's
row give the same recommendation (what to do and its figures) for the same series and settings, because all three
call engine.studies.recommend."""
from __future__ import annotations

import pytest

from tests.web.conftest import click, set_input, text_of, wait_until
from tests.web.test_portfolio_browser import grid_series, open_portfolio, prop, upload

pytestmark = [pytest.mark.browser, pytest.mark.slow]

def _row_cell(d, series: str, col: str) -> str:
    names = grid_series(d)
    i = names.index(series)
    cell = d.find_element("css selector", f"#pf-grid .ag-center-cols-container [row-index='{i}'] [col-id={col}]")
    return cell.text


def test_the_hint_optimum_and_portfolio_say_the_same_for_one_series(page, app, sample_csv):
    d = page
    d.execute_script("window.scrollTo(0, 0)")
    set_input(d, "horizon", 30)
    set_input(d, "lead-time", 3)
    set_input(d, "speed", 0.05)
    click(d, "start")
    wait_until(lambda: "finished" in text_of(d, "sim-status"), 60, what="the run to end")
    policy = wait_until(lambda: text_of(d, "hint-recommendation-policy"), 60, what="the hint's recommendation")
    figures = text_of(d, "hint-recommendation-figures")
    assert "same 20 resampled 30-day paths" in text_of(d, "hint-comparison")

    click(d, "hint-optimum-link")
    wait_until(lambda: "/optimum" in d.current_url and d.find_elements("id", "opt-run"), 20, what="/optimum")
    set_input(d, "opt-replications", 4)
    click(d, "opt-run")
    assert wait_until(lambda: text_of(d, "opt-recommendation-policy"), 180, what="/optimum's headline") == policy
    assert text_of(d, "opt-recommendation-figures") == figures

    open_portfolio(d, app.url)
    upload(d, sample_csv)  # the file the app's simulator serves as its sample
    wait_until(lambda: text_of(d, "pf-file-ok"), 30, what="the file's check")
    set_input(d, "pf-lead-time", 3)
    set_input(d, "pf-days", 30)
    click(d, "pf-run")
    wait_until(lambda: "SKU_1/WH_1" in grid_series(d), 180,
               what=f"the grid's rows (status: {text_of(d, 'pf-status')!r})")
    assert _row_cell(d, "SKU_1/WH_1", "what_to_do") == policy
    row = next(r for r in prop(d, "pf-grid", "rowData") if r["series"] == "SKU_1/WH_1")  # columns off screen too
    assert f"Expected cost {row['expected_cost']:,.2f} (95 % interval {row['cost_ci'].replace(' – ', ' – ')})" \
        in figures
