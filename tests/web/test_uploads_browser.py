"""Uploads of other layouts on the simulator page (headless Chromium at 1440 px): a file whose item / location
columns have other names is refused with their names and a link to the Portfolio page, never merged into one
series; a file without the Demand_Forecast column leaves the forecasters that need it disabled, saying why."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.web.conftest import open_app, text_of, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _rows(header: str, line) -> str:
    start = dt.date(2024, 1, 1)
    return header + "\n" + "".join(line(start + dt.timedelta(days=i), item, store, i)
                                   for item in ("A1", "B2") for store in ("North", "South") for i in range(120))


def _forecaster_options(d) -> list[dict]:
    return d.execute_script(
        "const s = window.store.getState(); let n = s.layout;"
        "for (const k of s.paths.strs['forecaster']) n = n[k]; return n.props.options;")


def test_unknown_item_and_location_columns_are_refused_not_merged(app, browser_factory, tmp_path):
    d = browser_factory()
    d.set_window_size(1440, 1000)
    open_app(d, app.url)
    path = tmp_path / "planner.csv"
    path.write_text(_rows("Day,Code,Outlet,Units_Sold", lambda day, a, f, i: f"{day},{a},{f},{5 + i % 4}\n"))
    d.find_element("css selector", "#upload-data input[type=file]").send_keys(str(path))
    msg = wait_until(lambda: "planner.csv" in (t := text_of(d, "upload-status")) and t, 15, what="the refusal")
    assert "Code (2 values) and Outlet (2 values) look like item / location" in msg, msg
    assert "nothing was loaded" in msg and "1 series" not in msg
    link = d.find_element("id", "upload-portfolio-link")
    assert link.get_attribute("href").endswith("/portfolio")
    assert d.find_element("id", "data-source").text.startswith("Bundled sample")


def test_a_forecaster_the_file_cannot_serve_is_offered_disabled_with_the_reason(app, browser_factory, tmp_path):
    d = browser_factory()
    d.set_window_size(1440, 1000)
    open_app(d, app.url)
    assert not any(o.get("disabled") for o in _forecaster_options(d))  # the sample has Demand_Forecast
    path = tmp_path / "no_plan.csv"
    path.write_text(_rows("Date,SKU_ID,Warehouse_ID,Units_Sold",
                          lambda day, a, f, i: f"{day},{a},{f},{5 + i % 4}\n"))
    d.find_element("css selector", "#upload-data input[type=file]").send_keys(str(path))
    wait_until(lambda: "no_plan.csv: 4 series" in text_of(d, "upload-status"), 15, what="the upload")
    options = wait_until(lambda: (o := _forecaster_options(d)) and any(x.get("disabled") for x in o) and o, 15,
                         what="disabled forecasters")
    off = {o["value"]: o["label"] for o in options if o.get("disabled")}
    assert "planning" in off and "needs the Demand_Forecast column" in off["planning"], off
    assert "ma7" not in off
    chosen = d.execute_script(
        "const s = window.store.getState(); let n = s.layout;"
        "for (const k of s.paths.strs['forecaster']) n = n[k]; return n.props.value;")
    assert chosen not in off  # the dropdown never keeps a choice the data cannot serve
