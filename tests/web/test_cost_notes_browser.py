"""The assumed-cost notes in headless Chromium: beside the simulator's KPI cards and /scenarios' KPI table, costs
from a file's price columns say "from the file", and a file without prices says that unit cost 20 and price 40 are
assumed and names the fields where they are set (the note /optimum, /portfolio and the hint show)."""
from __future__ import annotations

import datetime as dt

import pytest

from engine.studies import scenarios as sc
from tests.web.conftest import click, open_app, text_of, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ASSUMED = "Unit cost 20 and price 40 assumed"


def _no_price_csv(days: int = 240) -> str:
    """Two series of daily sales with no price or cost column."""
    start = dt.date(2024, 1, 1)
    lines = ["Date,SKU_ID,Warehouse_ID,Units_Sold"]
    lines += [f"{start + dt.timedelta(days=i)},{sku},WH_1,{4 + (i * 7 + len(sku)) % 5}"
              for sku in ("A1", "B22") for i in range(days)]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def app_no_prices(server_factory, tmp_path_factory):
    """The app whose bundled sample is a file without prices."""
    path = tmp_path_factory.mktemp("no_prices") / "sample.csv"
    path.write_text(_no_price_csv())
    return server_factory(workers=1, env={"SIM_SAMPLE_DATA": str(path)})


def _cost_note(d) -> str:
    return text_of(d, "sim-cost-note")


def test_simulator_says_from_the_file_then_assumed_for_a_file_without_prices(page, tmp_path):
    d = page
    assert _cost_note(d) == ""  # no run yet: no costs to explain
    click(d, "step")
    note = wait_until(lambda: (t := _cost_note(d)) and t, 20, what="the cost note after Step")
    assert note.startswith("Costs from the file (unit cost "), note
    assert "assumed" not in note
    path = tmp_path / "no_prices.csv"
    path.write_text(_no_price_csv())
    d.find_element("css selector", "#upload-data input[type=file]").send_keys(str(path))
    wait_until(lambda: "no_prices.csv: 2 series" in text_of(d, "upload-status"), 15, what="the upload")
    click(d, "reset")  # a new run on the uploaded file's first series
    note = wait_until(lambda: ASSUMED in (t := _cost_note(d)) and t, 20, what="the assumed-cost note")
    assert "the file has no price or cost column" in note
    assert note.endswith("edit Unit cost and Unit price under Supply & costs.")
    assert "text-warning-emphasis" in d.find_element("id", "sim-cost-note-text").get_attribute("class")


def _run_scenarios(d, url: str) -> str:
    sset = sc.canonical_set([{"name": "Rule A", "forecaster": "ma7", "lead_time": 3},
                             {"name": "Rule B", "forecaster": "ma7", "lead_time": 3, "policy": "original"}],
                            replications=4, days=30, seed=3)
    sset = sc.rows_to_set(sc.set_to_rows(sset), replications=4, days=30, seed=3, baseline=0)
    d.get(f"{url}/scenarios?set={sc.encode_set(sset)}")
    wait_until(lambda: d.find_elements("id", "sc-run"), 30, what="/scenarios")
    click(d, "sc-run")
    wait_until(lambda: d.find_elements("id", "sc-kpi-table") or d.find_elements("id", "sc-error"), 90,
               what="the scenario results")
    assert not d.find_elements("id", "sc-error"), text_of(d, "sc-status")
    return text_of(d, "sc-cost-note")


def test_scenarios_say_from_the_file(app, browser_factory):
    d = browser_factory()
    d.set_window_size(1440, 1000)
    note = _run_scenarios(d, app.url)
    assert note.startswith("Costs from the file (unit cost "), note
    assert "assumed" not in note


def test_scenarios_say_assumed_and_where_to_edit(app_no_prices, browser_factory):
    d = browser_factory()
    d.set_window_size(1440, 1000)
    open_app(d, app_no_prices.url)
    note = _run_scenarios(d, app_no_prices.url)
    assert note.startswith(ASSUMED), note
    assert note.endswith("edit the Unit cost and Unit price columns of the table above.")
