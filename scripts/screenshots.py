"""Screenshots of every page in headless Chromium at 1440 px and 390 px, into docs/screenshots/.

`python scripts/screenshots.py [--out docs/screenshots]` starts the app (gunicorn, bench.app_server) on the bundled
sample, runs a short simulation, a small scenario comparison, a small /optimum search, a /portfolio run on the
sample file and today's orders from a small stock and item file, so the pages show results, and saves
`<page>-<width>.png` (the whole page, not only the first screen).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

WIDTHS = (1440, 390)


def _wait(fn, timeout=60.0, what="condition"):
    from bench.browser import wait_until

    try:
        wait_until(fn, timeout, 0.2, what=what)
    except AssertionError:
        raise SystemExit(f"screenshots: timed out waiting for {what}") from None


def _full_page(driver, path: Path, width: int) -> None:
    """The whole page: the window grown to the document's height, then one screenshot."""
    driver.set_window_size(width, 1000)
    time.sleep(2.0)  # graphs and grids finish their layout at the new width
    driver.execute_script("window.scrollTo(0, document.documentElement.scrollHeight)")
    time.sleep(0.5)
    height = driver.execute_script("return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)")
    driver.execute_script("window.scrollTo(0, 0)")
    driver.set_window_size(width, min(int(height) + 100, 8000))
    time.sleep(0.8)
    driver.save_screenshot(str(path))


def _simulator(d, url):
    from tests.web.conftest import click, open_app, set_input, text_of

    open_app(d, url)
    set_input(d, "horizon", 60)
    set_input(d, "speed", 0.05)
    click(d, "start")
    _wait(lambda: "finished" in text_of(d, "sim-status"), 90, "the simulation")
    _wait(lambda: d.find_elements("id", "hint-text"), 60, "the hint")


def _scenarios(d, url):
    from engine.studies import scenarios as sc

    sset = sc.rows_to_set(sc.default_table_rows(), replications=30, days=120, seed=1)
    d.get(f"{url}/scenarios?set={sc.encode_set(sset)}")
    _wait(lambda: d.find_elements("id", "sc-run"), 30, "/scenarios")
    d.find_element("id", "sc-run").click()
    _wait(lambda: d.find_elements("id", "sc-sentence"), 180, "the comparison")


def _optimum(d, url):
    from engine.studies import scenarios as sc

    row = dict(sc.default_table_rows()[0], name="Current scenario")
    sset = sc.rows_to_set([row], replications=20, days=90, seed=1)
    d.get(f"{url}/optimum?set={sc.encode_set(sset)}")
    _wait(lambda: d.find_elements("id", "opt-run"), 30, "/optimum")
    d.find_element("id", "opt-run").click()
    _wait(lambda: d.find_elements("id", "opt-sentence"), 300, "the optimum")


def _forecasts(d, url):
    d.get(f"{url}/forecasts")
    _wait(lambda: d.find_elements("id", "model-card-facts") or d.find_elements("id", "bt-run"), 30, "/forecasts")


def _portfolio(d, url):
    from tests.web.conftest import click, set_input, text_of

    d.get(f"{url}/portfolio")
    _wait(lambda: d.find_elements("id", "pf-run"), 30, "/portfolio")
    d.find_element("css selector", "#pf-upload input[type=file]").send_keys(str(REPO / "data" / "sample.csv"))
    _wait(lambda: text_of(d, "pf-file-ok"), 30, "the file's check")
    set_input(d, "pf-days", 60)
    click(d, "pf-run")
    _wait(lambda: d.find_elements("css selector", "#pf-grid .ag-pinned-left-cols-container [col-id=series]"), 180,
          "the portfolio's rows")


# today's stock of the bundled sample's five series, and one supplier's terms (what /orders reads)
ORDERS_STOCK = ("sku,warehouse,on_hand,on_order,due_date\nSKU_1,WH_1,40,,\nSKU_1,WH_2,260,,\n"
                "SKU_1,WH_3,120,60,2026-01-03\nSKU_1,WH_4,15,,\nSKU_1,WH_5,600,,\n")
ORDERS_ITEMS = "sku,warehouse,pack_size,moq,order_days\nSKU_1,,24,48,wed;sat\n"


def _orders(d, url):
    from tests.web.conftest import click, text_of

    d.get(f"{url}/orders")
    _wait(lambda: d.find_elements("css selector", "#or-stock-upload input[type=file]"), 30, "/orders")
    folder = Path(tempfile.mkdtemp())
    (folder / "stock.csv").write_text(ORDERS_STOCK)
    (folder / "items.csv").write_text(ORDERS_ITEMS)
    d.find_element("css selector", "#or-stock-upload input[type=file]").send_keys(str(folder / "stock.csv"))
    d.find_element("css selector", "#or-items-upload input[type=file]").send_keys(str(folder / "items.csv"))
    _wait(lambda: "items.csv received" in text_of(d, "or-items-status"), 20, "the item file")
    click(d, "or-run")
    _wait(lambda: d.find_elements("css selector", "#or-grid .ag-center-cols-container [col-id=order_qty]"), 120,
          "the order lines")


def _about(d, url):
    d.get(f"{url}/about")
    _wait(lambda: d.find_elements("css selector", "mjx-container"), 30, "/about")


PAGES = {"simulator": _simulator, "scenarios": _scenarios, "optimum": _optimum, "forecasts": _forecasts,
         "portfolio": _portfolio, "orders": _orders, "about": _about}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "docs" / "screenshots"))
    parser.add_argument("--pages", default=",".join(PAGES), help="comma-separated subset of " + ", ".join(PAGES))
    args = parser.parse_args(argv)
    from bench.app_server import AppServer
    from bench.browser import make_browser

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sample = REPO / "data" / "sample.csv"
    with tempfile.TemporaryDirectory() as tmp:
        srv = AppServer(Path(tmp) / "var", workers=2, env={"SIM_SAMPLE_DATA": str(sample)}, preload=True)
        srv.start(timeout=60)
        d = make_browser()
        try:
            for name in args.pages.split(","):
                d.set_window_size(1440, 1000)
                PAGES[name](d, srv.url)  # results computed once; both widths show them (same session / link)
                for width in WIDTHS:
                    _full_page(d, out / f"{name}-{width}.png", width)
                    print(f"{out / f'{name}-{width}.png'}")
        finally:
            d.quit()
            srv.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
