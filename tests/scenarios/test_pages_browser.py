"""/optimum in a real browser (gunicorn app, Diskcache jobs), and what a colleague sees when opening a link."""
from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from engine.studies import scenarios as sc
from tests.scenarios.conftest import app_env, start_app
from tests.scenarios.test_jobs_integration import as_page_set, open_set, run_and_wait

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def app(tmp_path_factory, sample_csv):
    var = tmp_path_factory.mktemp("pages")
    a = start_app(var / "app", app_env(var / "app", sample_csv))
    yield a
    a.stop()


def test_a_shared_link_prefills_the_table_and_says_how_to_get_the_numbers(app, browser):
    sset = as_page_set(sc.canonical_set([{"name": "Shared A", "forecaster": "ma7", "lead_time": 4},
                                         {"name": "Shared B", "forecaster": "ma7", "lead_time": 11}],
                                        replications=17, days=33, seed=9))
    open_set(browser, app, sset)
    table = browser.find_element(By.ID, "sc-table").text
    assert "Shared A" in table and "Shared B" in table
    assert browser.find_element(By.ID, "sc-replications").get_attribute("value") == "17"
    assert "press Run" in browser.find_element(By.ID, "sc-status").text
    run_and_wait(browser)
    assert "17 replications × 33 days, seed 9" in browser.find_element(By.ID, "sc-result-summary").text


def test_bad_link_gets_a_message_not_an_error_page(app, browser):
    browser.get(f"{app.url}/scenarios?set=garbage!!")
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.ID, "sc-run"))
    assert "damaged" in browser.find_element(By.ID, "sc-status").text


def test_optimum_page_computes_bound_best_levels_and_regrets(app, browser):
    one = as_page_set(sc.canonical_set([{"name": "Current", "forecaster": "ma7", "demand": "forecast-noise"}],
                                       replications=20, days=40, seed=3))
    browser.get(f"{app.url}/optimum?set={sc.encode_set(one)}")
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.ID, "opt-run"))
    browser.find_element(By.ID, "opt-run").click()
    WebDriverWait(browser, 120).until(lambda d: d.find_elements(By.ID, "opt-policies")
                                      or d.find_elements(By.ID, "opt-error"))
    assert not browser.find_elements(By.ID, "opt-error"), browser.find_element(By.ID, "opt-status").text
    text = browser.find_element(By.ID, "opt-policies").text
    for name in ("order-up-to", "original", "best base-stock"):
        assert name in text
    assert "S =" in browser.find_element(By.ID, "opt-best-s").text
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#opt-graph-curve .main-svg"))


def _reloaded_during_a_computation(app, browser, sample_csv, seed: int):
    """Start a long /optimum computation, wait for its first progress report and reload the page; returns the job
    store, the job's key and its status record."""
    from dashapp.ui.jobs import JobStore
    from tests.scenarios.test_jobs_integration import page_set

    one = as_page_set(sc.canonical_set([{"name": "Long", "forecaster": "ma7", "demand": "synthetic"}],
                                       replications=150, days=365, seed=seed))
    browser.get(f"{app.url}/optimum?set={sc.encode_set(one)}")
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.ID, "opt-run"))
    browser.find_element(By.ID, "opt-run").click()
    sset = page_set(browser)
    st = sample_csv.stat()
    key = sc.set_hash(sset, {"kind": "optimum", "default_data": [st.st_size, int(st.st_mtime)]})
    store = JobStore(None, directory=str(app.var_dir / "jobs" / "scenario-records"))
    deadline = time.monotonic() + 60
    while not (status := store.get_status("optimum", key) or {}).get("done"):
        assert time.monotonic() < deadline, "the optimum job never reported progress"
        time.sleep(0.05)
    browser.refresh()
    WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.ID, "opt-reattach-msg"))
    return store, key, status


def test_optimum_reload_during_a_computation_reattaches(app, browser, sample_csv):
    _reloaded_during_a_computation(app, browser, sample_csv, seed=5)
    WebDriverWait(browser, 180).until(lambda d: d.find_elements(By.ID, "opt-policies"))
    assert "best base-stock" in browser.find_element(By.ID, "opt-policies").text


def test_optimum_cancel_on_a_reloaded_page_ends_the_computation(app, browser, sample_csv):
    """The reloaded page holds no Dash job id: its Cancel ends the process the job's record names."""
    from tests.scenarios.test_jobs_integration import cancel_and_wait_for

    store, key, status = _reloaded_during_a_computation(app, browser, sample_csv, seed=6)
    cancel_and_wait_for(browser, status["pid"], "diskcache", button="opt-cancel")
    assert store.get_result("optimum", key) is None and store.get_status("optimum", key) is None
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.ID, "opt-cancelled"))
    assert browser.find_element(By.ID, "opt-run").is_enabled()


def _cell(browser, row: int, col: str):
    return browser.find_element(By.CSS_SELECTOR, f'#sc-table [row-index="{row}"] [col-id="{col}"]')


def _type_into(browser, row: int, col: str, text: str) -> None:
    from selenium.webdriver.common.keys import Keys
    _cell(browser, row, col).click()  # one click opens the cell's editor
    box = WebDriverWait(browser, 10).until(
        lambda d: d.find_element(By.CSS_SELECTOR, f'#sc-table [row-index="{row}"] [col-id="{col}"] input'))
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(text, Keys.ENTER)


def _rows(browser) -> int:
    return len(browser.find_elements(By.CSS_SELECTOR, '#sc-table .ag-center-cols-container [row-index]'))


def test_the_table_is_edited_extended_and_pruned_in_place_and_runs_what_it_shows(app, browser):
    sset = as_page_set(sc.canonical_set([{"name": "Edit A", "forecaster": "ma7", "lead_time": 4},
                                         {"name": "Edit B", "forecaster": "ma7", "lead_time": 11}],
                                        replications=12, days=30, seed=5))
    open_set(browser, app, sset)
    WebDriverWait(browser, 20).until(lambda d: _rows(d) == 2)
    _type_into(browser, 0, "lead_time", "6")
    _type_into(browser, 1, "name", "Renamed B")
    _cell(browser, 1, "sales").click()  # one click opens the choice editor with its list (assets/select_editor.js)
    choices = WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".ag-list-item"))
    time.sleep(0.3)  # the list stays open: nothing toggles it closed a moment later
    choices = browser.find_elements(By.CSS_SELECTOR, ".ag-list-item")
    assert [c.text for c in choices] == ["lost sales", "backorders"]
    next(c for c in choices if c.text == "backorders").click()
    WebDriverWait(browser, 10).until(lambda d: _cell(d, 1, "sales").text == "backorders")
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    ActionChains(browser).send_keys(Keys.ENTER).perform()  # Enter on the focused cell: AG Grid opens the list itself
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".ag-list-item"))
    time.sleep(0.3)  # and the page's script does not toggle it closed again
    assert [c.text for c in browser.find_elements(By.CSS_SELECTOR, ".ag-list-item")] == ["lost sales", "backorders"]
    ActionChains(browser).send_keys(Keys.ESCAPE).perform()
    ActionChains(browser).send_keys(Keys.ESCAPE).perform()
    WebDriverWait(browser, 10).until(lambda d: not d.find_elements(By.CSS_SELECTOR, ".ag-list-item"))
    assert _cell(browser, 1, "sales").text == "backorders"
    browser.find_element(By.ID, "sc-baseline").click()  # the baseline's choices follow the names edited
    WebDriverWait(browser, 10).until(lambda d: [o.text for o in d.find_elements(By.CSS_SELECTOR, "[role=option]")]
                                     == ["Edit A", "Renamed B"])
    browser.find_element(By.ID, "sc-baseline").click()
    browser.find_element(By.ID, "sc-add").click()
    WebDriverWait(browser, 10).until(lambda d: _rows(d) == 3 and "Scenario 3" in d.find_element(By.ID, "sc-table").text)
    browser.find_element(By.CSS_SELECTOR, '#sc-table [row-index="2"] input[type="checkbox"]').click()
    browser.find_element(By.ID, "sc-delete").click()
    WebDriverWait(browser, 10).until(lambda d: _rows(d) == 2 and "Scenario 3" not in d.find_element(By.ID,
                                                                                                   "sc-table").text)
    run_and_wait(browser)
    href = browser.find_element(By.ID, "sc-share-link").get_attribute("href")
    ran = sc.decode_set(href.split("set=", 1)[1])
    assert [s["name"] for s in ran["scenarios"]] == ["Edit A", "Renamed B"]
    assert ran["scenarios"][0]["lead_time"] == 6 and ran["scenarios"][1]["lead_time"] == 11
    assert ran["scenarios"][0]["backorders"] is False and ran["scenarios"][1]["backorders"] is True
