"""Headless Chromium for the browser benchmarks and the browser tests: the driver, waiting for a condition, and
typing a number into a field the way a user does (one copy; tests/web/conftest.py re-exports these).

Chromium runs as root here, hence --no-sandbox.
"""
from __future__ import annotations

import shutil
import time

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def chrome_options(window: str = "1400,1000"):
    """Headless Chromium as root (the options dash_duo's pytest_setup_options hook would return)."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={window}"):
        options.add_argument(arg)
    return options


def make_browser(window: str = "1400,1000", page_load_timeout: float = 30):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=chrome_options(window))
    driver.set_page_load_timeout(page_load_timeout)
    return driver


def wait_until(fn, timeout: float = 10.0, interval: float = 0.05, what: str = "condition"):
    """fn()'s first truthy value within `timeout` seconds (an exception counts as not yet); AssertionError after."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
            if last:
                return last
        except Exception as exc:  # noqa: BLE001 - element not there yet
            last = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def set_input(driver, element_id: str, value) -> None:
    """Type `value` into a field (select all, delete, type, Enter, Tab) and wait until the renderer holds it."""
    from selenium.webdriver.common.keys import Keys

    el = driver.find_element("id", element_id)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", el)
    el.send_keys(Keys.CONTROL, "a")
    el.send_keys(Keys.DELETE)
    el.send_keys(str(value))
    el.send_keys(Keys.ENTER)
    el.send_keys(Keys.TAB)
    # debounced inputs commit on Enter/blur: wait until the renderer holds the new value
    wait_until(lambda: str(driver.execute_script(
        "const s = window.store.getState(); let n = s.layout;"
        "for (const k of s.paths.strs[arguments[0]]) n = n[k]; return n.props.value;", element_id))
        in (str(value), str(float(value)) if isinstance(value, (int, float)) else str(value)),
        5, what=f"{element_id} = {value}")
