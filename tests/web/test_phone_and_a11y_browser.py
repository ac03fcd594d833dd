"""Phone and keyboard, in headless Chromium: at 390 px the run bar is on the first screen with the settings in a
collapsed panel below it and no page is wider than the screen; Start is early in the Tab order, every button
shows a focus ring (the yellow Pause too), and axe-core finds no serious or critical violation on any page (nor a
moderate one on a page as it opens)."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from tests.web.conftest import click, open_app, set_input, text_of, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = (390, 844)
PAGES = ("/", "/forecasts", "/scenarios", "/optimum", "/about")


def _open(d, url, path):
    d.get(url + path)
    wait_until(lambda: d.execute_script("return document.querySelector('#_pages_content') &&"
                                        " document.querySelector('#_pages_content').children.length > 0"),
               30, what=f"{path} rendered")
    wait_until(lambda: not d.find_elements("css selector", "._dash-loading"), 30, what=f"{path} loaded")


def _page_width(d) -> tuple[int, int]:
    return d.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")


def test_at_390_px_start_is_on_the_first_screen_and_the_settings_collapse_below_the_run_bar(app, browser_factory):
    d = browser_factory()
    d.set_window_size(*PHONE)
    open_app(d, app.url)
    start = d.execute_script("const r = document.getElementById('start').getBoundingClientRect();"
                             "return [r.top, r.bottom, window.innerHeight, window.scrollY];")
    assert start[3] == 0 and 0 <= start[0] and start[1] <= start[2], start  # visible without scrolling
    assert not d.find_element("id", "horizon").is_displayed()  # settings collapsed
    toggle = d.find_element("id", "settings-toggle")
    bar_bottom = d.execute_script("return document.getElementById('run-bar').getBoundingClientRect().bottom")
    assert toggle.is_displayed() and toggle.rect["y"] >= bar_bottom - 1
    toggle.click()
    wait_until(lambda: d.find_element("id", "horizon").is_displayed(), 5, what="the settings opened")
    assert toggle.get_attribute("aria-expanded") == "true"
    width = _page_width(d)
    assert width[0] <= width[1], width


@pytest.mark.parametrize("path", PAGES[1:])
def test_at_390_px_no_page_is_wider_than_the_screen(app, browser_factory, path):
    d = browser_factory()
    d.set_window_size(*PHONE)
    _open(d, app.url, path)
    width = _page_width(d)
    assert width[0] <= width[1], (path, width)


def test_at_1440_px_the_settings_are_always_shown_beside_the_results(app, browser_factory):
    d = browser_factory()
    d.set_window_size(1440, 1000)
    open_app(d, app.url)
    assert d.find_element("id", "horizon").is_displayed()
    assert not d.find_element("id", "settings-toggle").is_displayed()


def test_start_is_early_in_the_tab_order_and_every_run_bar_button_shows_a_focus_ring(app, browser_factory):
    d = browser_factory()
    d.set_window_size(1440, 1000)
    open_app(d, app.url)
    stops = 0
    while stops < 20 and d.switch_to.active_element.get_attribute("id") != "start":
        ActionChains(d).send_keys(Keys.TAB).perform()  # from the top of a fresh page: brand, nav links, Start
        stops += 1
    # skip link, brand, one link per page (seven), then the run bar: Start within the eleventh stop
    pages = len(d.find_elements("css selector", "nav .nav-link"))
    assert d.switch_to.active_element.get_attribute("id") == "start" and stops <= pages + 4, (stops, pages)
    set_input(d, "horizon", 300)
    click(d, "start")
    wait_until(lambda: d.find_element("id", "pause").is_enabled(), 10, what="Pause enabled")
    for button in ("pause", "step", "reset"):
        d.execute_script("document.getElementById('start').focus()")
        el = d.find_element("id", button)
        # keyboard focus (focus-visible): Tab from the previous enabled button
        d.execute_script("arguments[0].focus()", el)
        d.switch_to.active_element.send_keys(Keys.SHIFT)  # a key press makes the focus keyboard focus
        ring = d.execute_script("const s = getComputedStyle(arguments[0]);"
                                "return [s.outlineStyle, parseFloat(s.outlineWidth), s.outlineColor];", el)
        assert ring[0] != "none" and ring[1] >= 2, (button, ring)
    click(d, "pause")


def _axe(d, impacts=("serious", "critical")) -> list[dict]:
    import axe_core_python

    time.sleep(0.5)  # late components (dropdowns, grids) finish rendering
    script = (Path(axe_core_python.__file__).parent / "axe.min.js").read_text()
    d.execute_script(script)
    d.set_script_timeout(60)
    res = d.execute_async_script("const done = arguments[arguments.length - 1];"
                                 "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations));")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in res if v["impact"] in impacts]


MODERATE_AND_UP = ("moderate", "serious", "critical")


@pytest.mark.parametrize("width", [1440, 390])
def test_axe_core_finds_no_moderate_serious_or_critical_violation_on_any_page(app, browser_factory, width):
    d = browser_factory()
    d.set_window_size(width, 1000)
    open_app(d, app.url)
    paths = [p for p in d.execute_script(
        "return Array.from(document.querySelectorAll('.navbar .nav-link')).map(a => new URL(a.href).pathname)")]
    assert set(PAGES) <= set(paths), paths
    found = {}
    if width == 1440:  # the simulator after a run: graphs, KPI cards, event log, hint
        set_input(d, "horizon", 20)
        set_input(d, "speed", 0.05)
        click(d, "start")
        wait_until(lambda: "finished" in text_of(d, "sim-status"), 30, what="the run")
        wait_until(lambda: d.find_elements("id", "hint-text"), 30, what="the hint")
    # moderate ones too: one main landmark holding all content, one level-one heading, headings in order
    found["/"] = _axe(d, MODERATE_AND_UP)
    for path in paths:
        if path == "/":
            continue
        _open(d, app.url, path)
        found[path] = _axe(d, MODERATE_AND_UP)
    bad = {p: v for p, v in found.items() if v}
    assert not bad, bad


def test_axe_core_finds_no_serious_or_critical_violation_in_the_results_of_scenarios_and_optimum(
        app, browser_factory):
    from engine.studies import scenarios as sc

    d = browser_factory()
    d.set_window_size(1440, 1000)
    sset = sc.rows_to_set(sc.default_table_rows(), replications=10, days=40, seed=2)
    d.get(f"{app.url}/scenarios?set={sc.encode_set(sset)}")
    wait_until(lambda: d.find_elements("id", "sc-run"), 30, what="/scenarios")
    click(d, "sc-run")
    wait_until(lambda: d.find_elements("css selector", "#sc-kpi-table .ag-row"), 120, what="the comparison")
    found = {"/scenarios": _axe(d)}
    one = sc.rows_to_set(sc.default_table_rows()[:1], replications=5, days=40, seed=2)
    d.get(f"{app.url}/optimum?set={sc.encode_set(one)}")
    wait_until(lambda: d.find_elements("id", "opt-run"), 30, what="/optimum")
    click(d, "opt-run")
    wait_until(lambda: d.find_elements("id", "opt-sentence"), 180, what="the optimum")
    found["/optimum"] = _axe(d)
    bad = {p: v for p, v in found.items() if v}
    assert not bad, bad


def test_axe_core_finds_no_serious_or_critical_violation_after_a_backtest_on_forecasts(app, browser_factory):
    """The plot's model picker is a clearable multi-select: its clear link (an <a> without href inside the
    dropdown's button) must not carry an aria-label (axe aria-allowed-attr)."""
    d = browser_factory()
    d.set_window_size(1440, 1000)
    _open(d, app.url, "/forecasts")
    keep = {"naive", "ma7"}
    for box in d.find_elements("css selector", "#bt-models input[type=checkbox]"):
        if (box.get_attribute("value") in keep) != box.is_selected():
            d.execute_script("arguments[0].click();", box)
    click(d, "bt-run")
    wait_until(lambda: d.find_elements("id", "backtest-table"), 120, what="the backtest table")
    wait_until(lambda: d.find_elements("css selector", "#bt-plot-models .dash-dropdown-clear"), 30,
               what="the model picker's clear link")
    assert _axe(d) == []
    clear = d.find_element("css selector", "#bt-plot-models .dash-dropdown-clear")
    assert clear.get_attribute("aria-label") is None and clear.get_attribute("aria-hidden") == "true"
    button = clear.find_element("xpath", "ancestor::button[1]")
    assert button.get_attribute("aria-keyshortcuts") == "Delete Backspace"


def test_a_skip_link_comes_first_and_a_dropdown_shows_a_focus_ring(app, browser_factory):
    d = browser_factory()
    d.set_window_size(1440, 1000)
    open_app(d, app.url)
    ActionChains(d).send_keys(Keys.TAB).perform()
    skip = d.switch_to.active_element
    assert skip.get_attribute("id") == "skip-link" and skip.is_displayed() and skip.text == "Skip to the page"
    skip.send_keys(Keys.ENTER)
    wait_until(lambda: d.switch_to.active_element.get_attribute("id") == "main", 5, what="focus in <main>")
    ActionChains(d).send_keys(Keys.TAB).perform()
    assert d.switch_to.active_element.get_attribute("id") == "start"  # past the navigation in two stops
    source = d.find_element("css selector", "#data-source button.dash-dropdown, button#data-source")
    d.execute_script("arguments[0].focus()", source)
    d.switch_to.active_element.send_keys(Keys.SHIFT)  # a key press makes the focus keyboard focus
    ring = d.execute_script("const s = getComputedStyle(document.activeElement);"
                            "return [s.outlineStyle, parseFloat(s.outlineWidth), document.activeElement.tagName];")
    assert ring[2] == "BUTTON" and ring[0] != "none" and ring[1] >= 2, ring


def test_the_simulator_opens_with_a_title_one_sentence_and_the_formulas_behind_a_toggle(app, browser_factory):
    d = browser_factory()
    d.set_window_size(1440, 1000)
    open_app(d, app.url)
    title = d.find_element("css selector", "#main h1")
    assert title.is_displayed() and title.text == "Inventory simulator"
    intro = d.find_element("id", "sim-intro")
    assert intro.is_displayed() and intro.text.count(". ") == 0 and intro.text.endswith(".")  # one sentence
    formulas = d.find_element("id", "sim-formulas")
    assert formulas.get_attribute("open") is None
    assert not d.find_element("css selector", "#sim-formulas dl").is_displayed()
    d.find_element("css selector", "#sim-formulas summary").click()
    wait_until(lambda: d.find_element("css selector", "#sim-formulas dl").is_displayed(), 5, what="the formulas")
    assert "S = μ + safety stock" in d.find_element("css selector", "#sim-formulas dl").text
