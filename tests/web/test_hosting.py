"""Hosting: the Procfile's gunicorn with 4 workers at the fastest speed; a worker killed mid-run; a tick forced
slower than the interval (SIM_TEST_TICK_DELAY) — no pile-up and no double step; start-up configuration errors."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from dashapp.store import DiskSessionStore
from tests.conftest import REPO
from tests.web.conftest import click, download_ledger, interval_disabled, open_app, session_id, set_input, \
    snapshot, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def served_by(server, sid: str) -> int | None:
    """Which worker stepped the session last (the tick records its pid in the session record)."""
    store = DiskSessionStore(str(server.var / "sessions"), 2**30, 3600)
    try:
        rec = store.get(sid)
        return rec.get("worker") if rec else None
    finally:
        store.close()


def test_four_workers_90_days_exact_ledger_and_killed_worker(server_factory, sample_csv, browser_factory, tmp_path):
    srv = server_factory(workers=4, env={"SIM_SAMPLE_DATA": str(sample_csv)})
    assert len(srv.worker_pids()) == 4
    d = browser_factory()
    open_app(d, srv.url)
    sid = session_id(d)
    set_input(d, "horizon", 90)
    set_input(d, "speed", 0.05)
    click(d, "start")
    wait_until(lambda: snapshot(d)["day"] >= 30, 20, what="day 30")
    victim = wait_until(lambda: served_by(srv, sid), 5, what="the worker of the last tick")
    assert victim in srv.worker_pids()
    os.kill(victim, signal.SIGKILL)
    killed_at = snapshot(d)["day"]
    wait_until(lambda: snapshot(d)["day"] == 90, 40, what="the end of the 90-day run after the kill")
    wait_until(lambda: interval_disabled(d) is True, 5, what="the interval to stop")
    end = snapshot(d)
    assert end["points"] == [90, 90] and end["xs"] == list(range(1, 91)), end
    assert killed_at < 90
    assert victim not in srv.worker_pids()  # it really died; gunicorn replaced it
    ledger = download_ledger(d, tmp_path)
    assert [int(r["day"]) for r in ledger] == list(range(1, 91))  # none skipped, none doubled
    assert "Traceback" not in srv.log_text()


def test_slow_tick_no_pile_up_no_double_step(server_factory, sample_csv, browser_factory, tmp_path):
    """Each tick sleeps 0.6 s inside the session lock while the interval asks every 100 ms."""
    delay = 0.6
    srv = server_factory(workers=2, env={"SIM_SAMPLE_DATA": str(sample_csv), "SIM_TEST_TICK_DELAY": str(delay)})
    d = browser_factory()
    open_app(d, srv.url)
    set_input(d, "horizon", 200)
    set_input(d, "speed", 0.1)  # 100 ms interval, one day per tick
    click(d, "start")
    t0 = time.monotonic()
    wait_until(lambda: snapshot(d)["day"] >= 3, 10, what="ticks")
    time.sleep(3.0)
    click(d, "pause")
    paused_at = time.monotonic()
    wait_until(lambda: d.find_element("id", "pause").text == "Resume", 5, what="pause")
    reacted = time.monotonic() - paused_at
    time.sleep(delay * 2)
    snap = snapshot(d)
    elapsed = paused_at - t0
    # one tick at a time: at most one day per (delay) seconds, and Pause is not stuck behind a queue of ticks
    assert snap["day"] <= elapsed / delay + 2, (snap, elapsed)
    assert reacted < delay * 3, reacted
    assert snap["points"] == [snap["day"]] * 2 and snap["xs"] == list(range(1, snap["day"] + 1)), snap
    ledger = download_ledger(d, tmp_path)
    assert [int(r["day"]) for r in ledger] == list(range(1, snap["day"] + 1))


def _start_app(env: dict) -> subprocess.CompletedProcess:
    code = "import dashapp.app"
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO),
                                                                     **env}, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("env, needle", [
    ({"WEB_CONCURRENCY": "4"}, "SECRET_KEY is required when WEB_CONCURRENCY=4"),
    ({"REDIS_URL": "redis://127.0.0.1:1/0"}, "SECRET_KEY is required when REDIS_URL is set"),
    ({"WEB_CONCURRENCY": "four"}, "WEB_CONCURRENCY='four' is not a whole number"),
])
def test_startup_configuration_errors_are_one_clear_line(env, needle, tmp_path):
    env = {"SIM_VAR_DIR": str(tmp_path), "SECRET_KEY": "", **env}
    r = _start_app(env)
    assert r.returncode != 0
    assert needle in r.stderr
    assert "Traceback" not in r.stderr
