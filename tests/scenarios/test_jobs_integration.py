"""The /scenarios page end to end: real gunicorn app, headless Chromium, jobs in Diskcache subprocesses or in a
real Celery worker on a real redis-server.

- the same scenario set gives the same numbers through Celery as through Diskcache (and as engine.studies.scenarios
  computed in this process);
- Cancel stops the job's process within 2 s (both managers), on a reloaded page too;
- reloading the page during a run reattaches to it and shows the result when it lands.
"""
from __future__ import annotations

import time

import psutil
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from bench.app_server import AppServer
from dashapp.ui import scenario_figures as figs
from dashapp.ui.jobs import JobStore
from engine.studies import scenarios as sc
from tests.scenarios.conftest import CeleryWorker, app_env, start_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def job_stack(tmp_path, redis_server, sample_csv, manager: str):
    """The app (gunicorn), a Celery worker when manager == "celery" (else None: Diskcache jobs run in the app's
    own subprocesses) and the job store the app writes to."""
    redis_url = redis_server.url if manager == "celery" else None
    env = app_env(tmp_path / "app", sample_csv, redis_url)
    app = start_app(tmp_path / "app", env)
    worker = CeleryWorker(tmp_path / "worker", env) if manager == "celery" else None
    return app, worker, JobStore(redis_url, directory=str(tmp_path / "app" / "jobs" / "scenario-records"))


def small_set():
    return sc.canonical_set([
        {"name": "L7", "forecaster": "ma7", "demand": "synthetic", "lead_time": 7},
        {"name": "L14", "forecaster": "ma7", "demand": "synthetic", "lead_time": 14},
        {"name": "Original", "forecaster": "ma7", "demand": "synthetic", "policy": "original"},
    ], replications=30, days=120, seed=7)


def long_set(replications=2000):
    scen = [{"name": f"S{i}", "forecaster": "ma7", "demand": "synthetic", "lead_time": 3 + i} for i in range(8)]
    return sc.canonical_set(scen, replications=replications, days=365, seed=3)


def as_page_set(sset: dict) -> dict:
    """The set exactly as the page's table submits it (explicit defaults filled in)."""
    return sc.rows_to_set(sc.set_to_rows(sset), replications=sset["replications"], days=sset["days"],
                          seed=sset["seed"], baseline=sset["baseline"])


def open_set(driver, app: AppServer, sset: dict) -> None:
    driver.get(f"{app.url}/scenarios?set={sc.encode_set(as_page_set(sset))}")
    WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.ID, "sc-run"))


def run_and_wait(driver, timeout=90) -> str:
    driver.find_element(By.ID, "sc-run").click()
    WebDriverWait(driver, timeout).until(
        lambda d: d.find_elements(By.ID, "sc-kpi-table") or d.find_elements(By.ID, "sc-error"))
    assert not driver.find_elements(By.ID, "sc-error"), driver.find_element(By.ID, "sc-status").text
    return driver.find_element(By.ID, "sc-kpi-table").text


def wait_running(store: JobStore, key: str, timeout=60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = store.get_status("scenarios", key)
        if st and st.get("state") == "running" and st.get("done", 0) >= 1:
            return st
        time.sleep(0.05)
    raise TimeoutError("the job never reported progress")


def pid_stopped(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def cancel_and_wait_for(browser, pid: int, manager: str, button: str = "sc-cancel") -> None:
    """Press Cancel; the job's process must stop within 2 s, and no result may land after it."""
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, button).is_enabled())
    t0 = time.monotonic()
    browser.find_element(By.ID, button).click()
    while not pid_stopped(pid) and time.monotonic() - t0 < 10:
        time.sleep(0.02)
    elapsed = time.monotonic() - t0
    assert pid_stopped(pid), "the job's process is still running 10 s after Cancel"
    print(f"[{manager}] Cancel -> job process stopped in {elapsed:.3f} s")
    assert elapsed <= 2.0, f"the job's process stopped {elapsed:.2f} s after Cancel"
    time.sleep(1.5)


def test_celery_and_diskcache_show_the_same_numbers(tmp_path, redis_server, sample_csv, browser):
    sset = small_set()
    expected = sc.to_record(sc.compare(sset, default_data=sample_csv))
    disk_app = start_app(tmp_path / "disk", app_env(tmp_path / "disk", sample_csv))
    env = app_env(tmp_path / "celery", sample_csv, redis_server.url)
    celery_app = start_app(tmp_path / "celery", env)
    worker = CeleryWorker(tmp_path / "worker", env)
    try:
        open_set(browser, disk_app, sset)
        disk_table = run_and_wait(browser)
        open_set(browser, celery_app, sset)
        celery_table = run_and_wait(browser)
        assert celery_table == disk_table
        # ... and they are the numbers the engine computes in this process, for the same seed
        for row in figs.kpi_table_rows(expected):
            assert row["total_cost"] in celery_table
            assert row["diff_total_cost"] in celery_table
        # the run really went through the Celery worker (and the web app ran no job itself)
        log = worker.p.log()
        assert "background_callback_" in log and "succeeded" in log, log[-2000:]
        # the shareable link reproduces the comparison: served from the result cache by the set's hash
        browser.get(browser.current_url)
        WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.ID, "sc-kpi-table"))
        assert browser.find_element(By.ID, "sc-kpi-table").text == celery_table
    finally:
        worker.stop()
        celery_app.stop()
        disk_app.stop()


@pytest.mark.parametrize("reload", [False, True], ids=["same-page", "reloaded-page"])
@pytest.mark.parametrize("manager", ["diskcache", "celery"])
def test_cancel_stops_the_job_process_within_2_s(tmp_path, redis_server, sample_csv, browser, manager, reload):
    """On the page that started the job (Dash's cancel) and on a reloaded one, which holds no Dash job id (its
    Cancel ends the process the job's record names)."""
    app, worker, store = job_stack(tmp_path, redis_server, sample_csv, manager)
    sset = long_set()
    try:
        open_set(browser, app, sset)
        browser.find_element(By.ID, "sc-run").click()
        key = server_key(page_set(browser), sample_csv)
        try:
            pid = wait_running(store, key)["pid"]
        except TimeoutError as exc:
            raise AssertionError(browser.find_element(By.ID, "sc-status").text + app.log()[-3000:]) from exc
        if reload:
            browser.refresh()
            WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.ID, "sc-reattach-msg"))
        assert psutil.pid_exists(pid)
        cancel_and_wait_for(browser, pid, manager)
        assert store.get_result("scenarios", key) is None and store.get_status("scenarios", key) is None
        WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.ID, "sc-cancelled"))
        assert browser.find_element(By.ID, "sc-run").is_enabled()
    finally:
        if worker:
            worker.stop()
        app.stop()


@pytest.mark.parametrize("manager", ["diskcache", "celery"])
def test_reload_during_a_run_reattaches_and_shows_the_result(tmp_path, redis_server, sample_csv, browser, manager):
    app, worker, store = job_stack(tmp_path, redis_server, sample_csv, manager)
    sset = long_set(replications=1500)
    expected = sc.to_record(sc.compare(sset, default_data=sample_csv))
    try:
        open_set(browser, app, sset)
        browser.find_element(By.ID, "sc-run").click()
        wait_running(store, server_key(page_set(browser), sample_csv))
        browser.refresh()
        WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.ID, "sc-reattach-msg"))
        assert "reattached" in browser.find_element(By.ID, "sc-status").text
        WebDriverWait(browser, 120).until(lambda d: d.find_elements(By.ID, "sc-kpi-table"))
        table = browser.find_element(By.ID, "sc-kpi-table").text
        for row in figs.kpi_table_rows(expected):
            assert row["total_cost"] in table
    finally:
        if worker:
            worker.stop()
        app.stop()


def page_set(driver) -> dict:
    """The scenario set the page submitted, read back from the address bar (the shareable link)."""
    WebDriverWait(driver, 10).until(lambda d: "set=" in d.current_url)
    return sc.decode_set(driver.current_url.split("set=", 1)[1].split("&", 1)[0])


def server_key(sset: dict, sample_csv) -> str:
    """The cache key the server computes: the set's hash plus its sample-data file's size and mtime."""
    st = sample_csv.stat()
    return sc.set_hash(sset, {"default_data": [st.st_size, int(st.st_mtime)]})

