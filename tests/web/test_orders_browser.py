"""/orders in headless Chromium as a planner uses it: the bundled sample's sales, an uploaded stock file and item
file → the grid of proposals with reasons and assumption notes → an edited quantity kept after a reload → the CSV
for the ERP carries the edit; a bad stock file shows the engine's one-line message."""
from __future__ import annotations

import csv
import time

import pytest
from selenium.webdriver.common.keys import Keys

from tests.forecast.retail_data import write_retail_csv
from tests.web.conftest import click, enable_downloads, text_of, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# the bundled sample (data/sample.csv) ends 2025-12-30: the page's order date is the day after, a Wednesday
STOCK = ("sku,warehouse,on_hand,on_order,due_date\n"
         "SKU_1,WH_1,0,,\n"            # far below any level: orders
         "SKU_1,WH_2,100000,,\n")      # far above: orders nothing
ITEMS = "sku,warehouse,pack_size,moq,order_days,currency\nSKU_1,,24,48,wed;sat,EUR\n"


def open_orders(d, url):
    d.get(url + "/orders")
    wait_until(lambda: d.find_element("css selector", "#or-stock-upload input[type=file]"), 20, what="/orders")


def upload(d, upload_id, path):
    d.find_element("css selector", f"#{upload_id} input[type=file]").send_keys(str(path))


def upload_stock(d, tmp_path, text: str = STOCK) -> None:
    """A stock file written as stock.csv, uploaded, and its receipt shown."""
    (tmp_path / "stock.csv").write_text(text)
    upload(d, "or-stock-upload", tmp_path / "stock.csv")
    wait_until(lambda: "stock.csv received" in text_of(d, "or-stock-status"), 10, what="the stock file")


def cell(d, series, col):
    return d.find_element("css selector", f"#or-grid .ag-center-cols-container [row-id='{series}'] [col-id='{col}']")


def cell_text(d, series, col):
    try:
        return cell(d, series, col).text
    except Exception:  # noqa: BLE001 - not rendered yet
        return None


def test_upload_propose_edit_reload_and_download(page, app, tmp_path):
    d = page
    open_orders(d, app.url)
    assert d.find_element("id", "or-date").get_attribute("value") == "2025-12-31"
    (tmp_path / "stock.csv").write_text(STOCK)
    (tmp_path / "items.csv").write_text(ITEMS)
    upload(d, "or-stock-upload", tmp_path / "stock.csv")
    upload(d, "or-items-upload", tmp_path / "items.csv")
    wait_until(lambda: "items.csv received" in text_of(d, "or-items-status"), 10, what="the item file")
    click(d, "or-run")
    wait_until(lambda: cell_text(d, "SKU_1/WH_1", "order_qty"), 60, what="the grid's rows")
    qty = int(cell_text(d, "SKU_1/WH_1", "order_qty"))
    assert qty > 0 and qty % 24 == 0 and qty >= 48
    assert int(cell_text(d, "SKU_1/WH_2", "order_qty")) == 0
    assert "nothing to order" in cell_text(d, "SKU_1/WH_2", "reason")
    reason = cell_text(d, "SKU_1/WH_1", "reason")
    assert "position 0" in reason and f"= {qty // 24} × 24" in reason
    notes = text_of(d, "or-assumption-notes")
    assert "holding rate 25 %/year assumed — edit the item file" in notes
    assert "order cost K" in notes
    assert "assumed" in cell_text(d, "SKU_1/WH_1", "assumptions")
    # the planner edits a quantity: kept in the session
    target = cell(d, "SKU_1/WH_1", "order_qty")
    d.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", target)
    target.click()
    editor = wait_until(lambda: d.find_element("css selector", "#or-grid .ag-cell-inline-editing input"), 5,
                        what="the cell editor")
    editor.send_keys(Keys.CONTROL, "a")
    editor.send_keys(str(qty + 24))
    editor.send_keys(Keys.ENTER)
    wait_until(lambda: "Kept for this session" in text_of(d, "or-edit-status"), 10, what="the kept edit")
    d.refresh()
    wait_until(lambda: cell_text(d, "SKU_1/WH_1", "order_qty") == str(qty + 24), 20, what="the edit after reload")
    assert cell_text(d, "SKU_1/WH_1", "proposed_qty") == str(qty)
    # the ERP file has the edited quantity
    enable_downloads(d, tmp_path)
    click(d, "or-download-btn")
    path = wait_until(lambda: next((p for p in tmp_path.glob("orders_*.csv") if p.stat().st_size > 0), None), 10,
                      what="the CSV download")
    time.sleep(0.2)
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["series"], int(r["order_qty"]), r["currency"]) for r in rows] == [("SKU_1/WH_1", qty + 24, "EUR")]


def test_a_bad_stock_file_shows_one_line(page, app, tmp_path):
    d = page
    open_orders(d, app.url)
    upload_stock(d, tmp_path, "sku,warehouse,on_hand\nSKU_1,WH_1,-5\n")
    click(d, "or-run")
    msg = wait_until(lambda: text_of(d, "or-error"), 30, what="the refusal")
    assert "row 2, column on_hand: -5 is negative" in msg


def test_the_objective_and_target_choose_the_lines_and_a_bad_target_is_named(page, app, tmp_path):
    from selenium.webdriver.support.ui import Select

    d = page
    open_orders(d, app.url)
    upload_stock(d, tmp_path)
    Select(d.find_element("id", "or-objective")).select_by_value("fill-rate")
    target = d.find_element("id", "or-target")
    target.send_keys(Keys.CONTROL, "a")
    target.send_keys("120")
    click(d, "or-run")
    msg = wait_until(lambda: text_of(d, "or-error"), 30, what="the refusal")
    assert "target fill rate: 120 is out of range (0.5 to 0.999, or 50 to 99.9 as a percentage)" in msg
    target.send_keys(Keys.CONTROL, "a")
    target.send_keys("97")
    click(d, "or-run")
    wait_until(lambda: "fill rate" in text_of(d, "or-summary"), 60, what="the proposals")
    assert "chosen for least stock reaching a 97.0 % fill rate" in text_of(d, "or-summary")
    assert int(cell_text(d, "SKU_1/WH_1", "order_qty")) > 0
    d.refresh()   # the form shows what the restored grid was chosen for
    wait_until(lambda: "97.0 % fill rate" in text_of(d, "or-summary"), 20, what="the restored proposals")
    assert d.find_element("id", "or-objective").get_attribute("value") == "fill-rate"
    assert float(d.find_element("id", "or-target").get_attribute("value")) == 0.97


def test_levels_from_a_global_model(page, app, tmp_path):
    """“Levels from” a global model under either objective: every reason names the model's quantile, the summary
    the objective, and a reload shows the choice the grid was made with."""
    from selenium.webdriver.support.ui import Select

    d = page
    open_orders(d, app.url)
    upload_stock(d, tmp_path)
    Select(d.find_element("id", "or-levels")).select_by_value("ensemble:m5-global")
    Select(d.find_element("id", "or-objective")).select_by_value("cost")
    click(d, "or-run")
    wait_until(lambda: "least expected cost, levels from ensemble:m5-global" in text_of(d, "or-summary"), 60,
               what="the proposals for least cost")
    Select(d.find_element("id", "or-objective")).select_by_value("fill-rate")
    click(d, "or-run")
    wait_until(lambda: "fill rate, levels from ensemble:m5-global" in text_of(d, "or-summary"), 60,
               what="the proposals")
    assert "ensemble:m5-global's" in cell_text(d, "SKU_1/WH_1", "reason")
    assert "never trained on" in text_of(d, "or-assumption-notes")
    d.refresh()
    wait_until(lambda: "levels from ensemble:m5-global" in text_of(d, "or-summary"), 20, what="the restored grid")
    assert d.find_element("id", "or-levels").get_attribute("value") == "ensemble:m5-global"


def start_long_proposal(d, url, tmp_path, n: int) -> None:
    """/orders with a generated sales file of `n` series × 400 days and a stock file of them all, under the
    fill-rate objective (its correction reads the whole file first: seconds), Propose pressed and running."""
    from selenium.webdriver.support.ui import Select

    open_orders(d, url)
    write_retail_csv(tmp_path / "sales.csv", n_items=n, days=400)
    upload(d, "or-sales-upload", tmp_path / "sales.csv")
    wait_until(lambda: "sales.csv received" in text_of(d, "or-sales-status"), 20, what="the sales file")
    upload_stock(d, tmp_path, "item_id,store_id,on_hand,on_order,due_date\n"
                 + "".join(f"ITEM_{i},S_1,0,,\n" for i in range(n)))
    Select(d.find_element("id", "or-objective")).select_by_value("fill-rate")
    click(d, "or-run")
    wait_until(lambda: "proposing:" in text_of(d, "or-progress"), 30, what="the progress line")


def test_a_long_proposal_shows_its_progress_and_cancel_stops_it(page, app, tmp_path):
    """Propose is a background job: while 120 series are proposed under the fill-rate objective (its correction reads
    the whole sales file first: several seconds) the button is off, the progress says where the run is and Cancel
    is on; Cancel stops the run, leaves the grid as it was, and Propose works again."""
    d = page
    start_long_proposal(d, app.url, tmp_path, 120)
    assert not d.find_element("id", "or-run").is_enabled()
    assert d.find_element("id", "or-cancel").is_enabled()
    click(d, "or-cancel")
    wait_until(lambda: d.find_element("id", "or-run").is_enabled(), 15, what="Propose back on")
    assert not d.find_element("id", "or-cancel").is_enabled()
    assert "Proposal cancelled" in wait_until(lambda: text_of(d, "or-cancelled"), 10, what="the cancel line")
    time.sleep(2)   # a run that was not stopped would fill the grid now
    assert cell_text(d, "ITEM_0/S_1", "order_qty") is None and not d.find_elements("id", "or-done")


def test_a_page_reloaded_during_a_proposal_follows_it_until_its_lines_land(page, app, tmp_path):
    """The job keeps running when the page is reloaded; the reloaded page says so with the run's progress and
    shows the lines when the job has kept them in the session (300 series under the fill-rate objective: long
    enough to reload in the middle)."""
    d = page
    start_long_proposal(d, app.url, tmp_path, 300)
    d.refresh()
    msg = wait_until(lambda: text_of(d, "or-following"), 20, what="the reattached run")
    assert "is still running" in msg and "series" in msg
    wait_until(lambda: cell_text(d, "ITEM_0/S_1", "order_qty"), 120, what="the grid's rows")
    assert "Proposed" in text_of(d, "or-done") and not d.find_elements("id", "or-following")


def test_with_redis_the_proposal_runs_on_the_celery_worker(tmp_path, redis_server, sample_csv, browser_factory):
    """The Procfile's web and worker lines on a real redis-server: Propose's job runs on the Celery worker (the
    uploads travel with it) and its lines reach the grid and the session as with the embedded manager."""
    from tests.scenarios.conftest import CeleryWorker, app_env, start_app

    env = app_env(tmp_path / "app", sample_csv, redis_server.url)
    server = start_app(tmp_path / "app", env)
    worker = CeleryWorker(tmp_path / "worker", env)
    try:
        d = browser_factory()
        d.set_window_size(1440, 1000)
        open_orders(d, server.url)
        upload_stock(d, tmp_path)
        click(d, "or-run")
        wait_until(lambda: cell_text(d, "SKU_1/WH_1", "order_qty"), 60, what="the grid's rows")
        assert int(cell_text(d, "SKU_1/WH_1", "order_qty")) > 0
        log = worker.p.log()
        assert "background_callback_" in log and "succeeded" in log, log[-2000:]
        d.refresh()   # kept in the session by the worker
        wait_until(lambda: cell_text(d, "SKU_1/WH_1", "order_qty"), 20, what="the restored grid")
    finally:
        worker.stop()
        server.stop()
