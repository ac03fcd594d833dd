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


def test_optimum_reload_during_a_computation_reattaches(app, browser, sample_csv):
    from dashapp.ui.jobs import JobStore
    from tests.scenarios.test_jobs_integration import page_set

    one = as_page_set(sc.canonical_set([{"name": "Long", "forecaster": "ma7", "demand": "synthetic"}],
                                       replications=150, days=365, seed=5))
    browser.get(f"{app.url}/optimum?set={sc.encode_set(one)}")
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.ID, "opt-run"))
    browser.find_element(By.ID, "opt-run").click()
    sset = page_set(browser)
    st = sample_csv.stat()
    key = sc.set_hash(sset, {"kind": "optimum", "default_data": [st.st_size, int(st.st_mtime)]})
    store = JobStore(None, directory=str(app.var_dir / "jobs" / "scenario-records"))
    deadline = time.monotonic() + 60
    while not (store.get_status("optimum", key) or {}).get("done"):
        assert time.monotonic() < deadline, "the optimum job never reported progress"
        time.sleep(0.05)
    browser.refresh()
    WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.ID, "opt-reattach-msg"))
    WebDriverWait(browser, 180).until(lambda d: d.find_elements(By.ID, "opt-policies"))
    assert "best base-stock" in browser.find_element(By.ID, "opt-policies").text
