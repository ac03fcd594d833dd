"""A reload during a scenario run, in headless Chromium at 1440 px (Diskcache jobs): the page finds its job even
before the job's first progress report, shows its progress in the bar with steps that match the scenarios, and
its Cancel stops the job."""
from __future__ import annotations

import time

import psutil
import pytest

from dashapp.ui.jobs import JobStore
from engine.studies import scenarios as sc
from tests.web.conftest import text_of, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _page_set(replications: int) -> dict:
    rows = [{"name": "Lead 3", "policy": "order-up-to", "forecaster": "ma7", "demand": "synthetic", "lead_time": 3,
             "sales": "lost sales"},
            {"name": "Lead 9", "policy": "order-up-to", "forecaster": "ma7", "demand": "synthetic", "lead_time": 9,
             "sales": "lost sales"}]
    return sc.rows_to_set(rows, replications=replications, days=365, seed=4)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_a_reload_right_after_run_finds_the_job_shows_its_progress_and_cancels_it(app, browser_factory, sample_csv):
    d = browser_factory()
    d.set_window_size(1440, 1000)
    sset = _page_set(2000)  # 4 blocks of 500 replications × 2 scenarios = 8 steps
    d.get(f"{app.url}/scenarios?set={sc.encode_set(sset)}")
    wait_until(lambda: d.find_elements("id", "sc-run"), 30, what="/scenarios")
    st = sample_csv.stat()
    key = sc.set_hash(sset, {"default_data": [st.st_size, int(st.st_mtime)]})
    store = JobStore(None, directory=str(app.var_dir / "jobs" / "scenario-records"))
    d.find_element("id", "sc-run").click()
    # The page's own record (pid None) lands before the browser asks for the background job; a reload in between
    # would drop that request, so wait for the job's own first heartbeat (pid set) and reload before any progress.
    first = wait_until(lambda: (s := store.get_status("scenarios", key)) and s.get("pid") and s, 30, interval=0.01,
                       what="the job's first heartbeat")
    assert first["done"] == 0  # started, no progress report yet: the window a reload used to miss
    d.refresh()
    wait_until(lambda: d.find_elements("id", "sc-reattach-msg"), 15, what="the reattached page")
    assert "reattached" in text_of(d, "sc-status")
    assert d.find_element("id", "sc-cancel").is_enabled()
    label = wait_until(lambda: (t := text_of(d, "sc-progress")) and "of 8 steps" in t and t, 120,
                       what="progress with steps")
    assert "(2 scenarios × 4 blocks of replications)" in label, label
    value = float(d.find_element("css selector", "#sc-progress .progress-bar").get_attribute("aria-valuenow"))
    assert value > 0
    d.find_element("id", "sc-cancel").click()
    wait_until(lambda: d.find_elements("id", "sc-cancelled"), 10, what="the cancel message")
    # the reloaded page holds no Dash job id: its Cancel ends the process the job's record names, not a step later
    wait_until(lambda: not _alive(first["pid"]), 5, interval=0.05, what="the job's process to end")
    wait_until(lambda: store.get_status("scenarios", key) is None, 10, interval=0.2, what="the job to stop")
    time.sleep(2.0)
    assert store.get_result("scenarios", key) is None and store.get_status("scenarios", key) is None
    assert d.find_element("id", "sc-run").is_enabled()
