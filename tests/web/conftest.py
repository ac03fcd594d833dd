"""Web fixtures: a real gunicorn server subprocess on a free loopback port and headless Chromium (selenium).

Browser tests drive the real app over HTTP exactly like a user; they start few servers (module scope) to stay
fast. The driver, wait_until and set_input are bench/browser.py's (the pace benchmark uses the same ones).
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from bench.app_server import AppServer
from bench.browser import make_browser, set_input, wait_until  # noqa: F401 - the browser tests import them from here
from tests.conftest import REPO

SECRET = "test-secret-key-0123456789abcdef"

@pytest.fixture(scope="module")
def server_factory(tmp_path_factory):
    started: list[AppServer] = []

    def make(workers: int = 2, env: dict | None = None) -> AppServer:
        srv = AppServer(tmp_path_factory.mktemp("app") / "var", workers=workers, env=env, secret=SECRET,
                        preload=True)
        started.append(srv)
        return srv.start(timeout=30)

    yield make
    for srv in started:
        srv.stop()


@pytest.fixture
def browser_factory():
    drivers = []

    def make():
        d = make_browser()
        drivers.append(d)
        return d

    yield make
    for d in drivers:
        d.quit()


# ------------------------------------------------------------------ page helpers used by the browser tests
@pytest.fixture(scope="module")
def app(server_factory, sample_csv):
    """The app on two gunicorn workers with the generated sample data, one per test module (a module that needs
    other settings defines its own `app`)."""
    return server_factory(workers=2, env={"SIM_SAMPLE_DATA": str(sample_csv)})


@pytest.fixture
def page(app, browser_factory):
    """A headless Chromium at 1440 × 1000 on the simulator page (a session exists, as for a planner who starts
    there)."""
    d = browser_factory()
    d.set_window_size(1440, 1000)
    open_app(d, app.url)
    return d


def text_of(driver, element_id: str) -> str:
    return driver.find_element("id", element_id).text


def shown_day(driver) -> int:
    """The day number in kpi-day ("Day 12 of 90")."""
    import re

    m = re.search(r"Day (\d+)", text_of(driver, "kpi-day"))
    return int(m.group(1)) if m else -1


def trace_x(driver, graph_id: str, trace: int = 0) -> list:
    return driver.execute_script(
        "const g = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');"
        "return g && g.data && g.data[arguments[1]] ? Array.from(g.data[arguments[1]].x || []) : null;",
        graph_id, trace)


def interval_disabled(driver) -> bool:
    """dcc.Interval keeps no DOM state: read its props from the renderer's store."""
    return driver.execute_script(
        "const s = window.store && window.store.getState();"
        "if (!s) return null;"
        "const path = s.paths.strs['tick'];"
        "let node = s.layout; for (const k of path) node = node[k];"
        "return node.props.disabled;")


def click(driver, element_id: str) -> None:
    el = driver.find_element("id", element_id)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", el)
    el.click()


def open_app(driver, url: str) -> None:
    driver.get(url + "/")
    wait_until(lambda: shown_day(driver) >= 0, 20, what="the simulator page")
    wait_until(lambda: driver.execute_script("return sessionStorage.getItem('session-id')"), 10,
               what="a session id")


def session_id(driver) -> str:
    return json.loads(driver.execute_script("return sessionStorage.getItem('session-id')"))


@pytest.fixture(scope="session")
def sample_csv(tmp_path_factory) -> Path:
    """The bundled sample (data/sample.csv), or — until it is committed — the same generator's output."""
    bundled = REPO / "data" / "sample.csv"
    if bundled.exists():
        return bundled
    from engine.data.generator import generate_csv

    path = tmp_path_factory.mktemp("data") / "sample.csv"
    path.write_text(generate_csv())
    return path


def snapshot(driver) -> dict:
    """Day shown, points per trace of graph-demand, status text — read in one JS turn (consistent)."""
    return driver.execute_script(
        "const g = document.querySelector('#graph-demand .js-plotly-plot');"
        "const m = /Day (\\d+)/.exec(document.getElementById('kpi-day').textContent);"
        "return {day: m ? parseInt(m[1]) : -1,"
        " points: g && g.data ? g.data.map(t => (t.x || []).length) : null,"
        " xs: g && g.data ? Array.from(g.data[1].x || []) : null,"
        " status: document.getElementById('sim-status').textContent,"
        " cost: document.getElementById('kpi-cost').textContent};")


def enable_downloads(driver, folder: Path) -> None:
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(folder)})


def download_ledger(driver, folder: Path) -> list[dict]:
    import csv

    for f in folder.glob("ledger*.csv"):
        f.unlink()
    enable_downloads(driver, folder)
    click(driver, "download-ledger")
    path = wait_until(lambda: next((p for p in folder.glob("ledger*.csv") if p.stat().st_size > 0), None), 10,
                      what="the ledger download")
    time.sleep(0.2)
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))
