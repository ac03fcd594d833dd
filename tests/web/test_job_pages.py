"""The job plumbing /scenarios and /optimum share (dashapp/ui/job_pages.py): a job is findable from the moment Run
is pressed, a reattached page gets its progress and Run/Cancel states, and a cancel request stops the job at its
next step — checked on a real job store directory, without a browser."""
from __future__ import annotations

import pytest

from dashapp.ui import job_pages as J
from dashapp.ui import jobs
from dashapp.ui.jobs import JobStore

WORDS = J.JobWords(prefix="sc", kind="scenarios", noun="run", button="Run")


@pytest.fixture
def store(tmp_path, monkeypatch):
    s = JobStore(None, directory=str(tmp_path / "records"))
    s._pid = __import__("os").getpid()
    monkeypatch.setattr(jobs, "_store", s)
    return s


def test_a_submitted_job_is_running_before_its_first_progress_report(store):
    J.submit(WORDS, "k1")
    status = J.running_status("scenarios", "k1")
    assert status and status["done"] == 0 and status["label"] == "starting"
    out = J.poll_once(WORDS, "k1")
    assert out["poll_off"] is False and out["cancel_off"] is False
    assert "starting" in str(out["status"].children)


def test_a_submitted_job_no_worker_picked_up_reads_as_stopped_after_the_stale_delay(store):
    """A reload between Run and the browser's request for the background job drops that request: the page's own
    record must not promise a run for ever."""
    J.submit(WORDS, "k0")
    record = store._get("sim:scenarios:status:k0")
    record["heartbeat"] -= jobs.STALE_AFTER + 1  # no job beat since the page's submit
    store._set("sim:scenarios:status:k0", record, ttl=60)
    assert J.running_status("scenarios", "k0") is None
    out = J.poll_once(WORDS, "k0")
    assert out["poll_off"] is True and out["run_off"] is False and "press Run" in str(out["status"].children)


def test_a_reattached_poll_shows_the_progress_and_the_result_re_enables_run(store):
    store.beat("scenarios", "k2", 3, 8, 0.0, "3 of 8 steps (2 scenarios × 4 blocks of replications)")
    out = J.poll_once(WORDS, "k2")
    assert out["progress"] == 37 and out["progress_label"].startswith("3 of 8 steps")
    store.put_result("scenarios", "k2", {"elapsed_s": 1.0})
    out = J.poll_once(WORDS, "k2")
    assert out["result"] == {"elapsed_s": 1.0} and out["poll_off"] and not out["run_off"] and out["cancel_off"]


def test_a_cancel_request_stops_the_job_at_its_next_step_and_clears_its_status(store):
    shown = []
    steps = []

    def compute(progress):
        for i in range(1, 9):
            steps.append(i)
            if i == 3:
                store.request_cancel("scenarios", "k3")
            progress(i, 8)
        return {"elapsed_s": 0.0}

    J.submit(WORDS, "k3")
    record, alert = J.run_and_cache(WORDS, "k3", shown.append, compute, label=lambda d, t: f"{d} of {t}")
    assert steps == [1, 2, 3] and record is J.no_update and "cancelled" in str(alert.children)
    assert store.get_status("scenarios", "k3") is None and store.get_result("scenarios", "k3") is None
    assert shown == [[12, "1 of 8"], [25, "2 of 8"]]
    J.submit(WORDS, "k3")  # a new run of the same set forgets the old cancel request
    assert not store.cancel_requested("scenarios", "k3")


def test_a_heartbeat_that_lands_after_the_cancel_does_not_revive_the_job(store):
    """The cancel request and a killed job's last heartbeat race; the cancel wins whichever lands last."""
    J.submit(WORDS, "k4")
    store.request_cancel("scenarios", "k4")
    store.beat("scenarios", "k4", 2, 8, 0.0, "2 of 8")  # a beat of the job that started before the cancel
    assert store.get_status("scenarios", "k4") is None
    J.submit(WORDS, "k4")  # a new run after the cancel is running again
    assert store.get_status("scenarios", "k4")["state"] == "running"


def test_a_job_cancelled_before_it_starts_never_computes(store):
    J.submit(WORDS, "k5")
    store.request_cancel("scenarios", "k5")
    ran = []
    record, alert = J.run_and_cache(WORDS, "k5", lambda _v: None, lambda progress: ran.append(1))
    assert ran == [] and record is J.no_update and "cancelled" in str(alert.children)
    assert store.get_status("scenarios", "k5") is None


def _sleeper():
    import subprocess
    import sys
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


def test_cancel_returns_the_jobs_record_and_ends_its_process(store):
    """A reloaded page's Cancel (no Dash job id) still ends the job's process: the one the record names."""
    proc = _sleeper()
    try:
        store._set("sim:scenarios:status:k6", {"state": "running", "done": 1, "total": 8, "started": 0.0,
                                               "heartbeat": 0.0, "pid": proc.pid,
                                               "pid_started": jobs.process_started(proc.pid), "task": None}, ttl=60)
        record = store.cancel("scenarios", "k6")
        assert record["pid"] == proc.pid
        assert store.get_status("scenarios", "k6") is None and store.cancel_requested("scenarios", "k6")
        assert jobs.end_job_process(record) is True
        assert proc.wait(timeout=5) is not None
    finally:
        proc.kill()


def test_a_record_whose_pid_another_process_took_over_ends_nothing(store):
    proc = _sleeper()
    try:
        born = jobs.process_started(proc.pid)
        assert jobs.end_job_process({"pid": proc.pid, "pid_started": born - 5.0}) is False  # not the job's process
        assert jobs.end_job_process({"pid": proc.pid, "pid_started": None}) is False       # an older record
        assert jobs.end_job_process({"pid": __import__("os").getpid(), "pid_started": jobs.process_started()}) is False
        assert jobs.end_job_process(None) is False
        assert proc.poll() is None  # still running
    finally:
        proc.kill()
        proc.wait()


def test_a_jobs_heartbeat_names_its_process_and_start_time(store):
    J.submit(WORDS, "k7")
    beat = J.Heartbeat("scenarios", "k7", every=60.0)
    try:
        st = store.get_status("scenarios", "k7")
        assert st["pid"] == __import__("os").getpid() and st["pid_started"] == jobs.process_started()
        assert st["task"] is None  # not in a Celery worker
    finally:
        beat.stop()


def test_a_reattach_poll_after_cancel_says_cancelled_not_that_the_job_died(store):
    """A poll tick in flight when Cancel is pressed must not replace "cancelled" with "stopped without a result"."""
    store.beat("scenarios", "k8", 3, 8, 0.0, "3 of 8")
    store.cancel("scenarios", "k8")
    out = J.poll_once(WORDS, "k8")
    assert out["status"].id == "sc-cancelled" and "cancelled" in str(out["status"].children)
    assert out["poll_off"] and not out["run_off"] and out["cancel_off"]
    J.submit(WORDS, "k8")          # a new run forgets the request ...
    store.clear_status("scenarios", "k8")
    out = J.poll_once(WORDS, "k8")  # ... and a job that then dies is said to have stopped
    assert "stopped without a result" in str(out["status"].children)
