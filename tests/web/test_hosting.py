"""Hosting: the Procfile's gunicorn with 4 workers at the fastest speed; a worker killed mid-run; a tick forced
slower than the interval (SIM_TEST_TICK_DELAY) — no pile-up and no double step; start-up configuration errors."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from dashapp.platform.config import settings
from dashapp.platform.store import DiskSessionStore
from tests.conftest import REPO
from tests.web.conftest import (
    click,
    download_ledger,
    interval_disabled,
    open_app,
    session_id,
    set_input,
    snapshot,
    wait_until,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def served_by(server, sid: str) -> int | None:
    """Which worker stepped the session last (the tick records its pid in the session record)."""
    store = DiskSessionStore(str(server.var_dir / "sessions"), 2**30, 3600, shards=settings.session_store_shards)
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
    assert "Traceback" not in srv.log()


def test_slow_tick_no_pile_up_no_double_step(server_factory, sample_csv, browser_factory, tmp_path):
    """Each tick sleeps 0.6 s inside the session lock while the interval asks every 100 ms."""
    delay = 0.6
    srv = server_factory(workers=2, env={"SIM_SAMPLE_DATA": str(sample_csv), "SIM_TEST_TICK_DELAY": str(delay)})
    d = browser_factory()
    open_app(d, srv.url)
    set_input(d, "horizon", 200)
    set_input(d, "speed", 0.1)  # 100 ms interval
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
    # one tick at a time, each catching up the days the pace asks for (dashapp.pages.simulator.pace) and never more:
    # the run is
    # not ahead of 0.1 s/day, and Pause is not stuck behind a queue of ticks
    # (the tick in flight when Pause was pressed still steps the days due until it holds the lock: + reacted)
    assert snap["day"] <= (elapsed + reacted) / 0.1 + 2, (snap, elapsed, reacted)
    assert snap["day"] >= 0.5 * elapsed / 0.1, (snap, elapsed)  # slow ticks catch up instead of slowing the run
    # Pause waits for the step in flight (one delay) and, at worst, for one more tick the renderer sent before the
    # Pause answer disabled the interval (a second delay), plus round trips; a pile-up of 100 ms ticks behind
    # 0.6 s steps would take many delays
    assert reacted < delay * 4, reacted
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


def test_procfile_defaults_share_a_generated_key_across_workers(tmp_path, sample_csv):
    """The Procfile's web command as a host runs it (WEB_CONCURRENCY and SECRET_KEY unset → 2 workers, one
    generated key in the var dir): a session keeps its id across ticks served by either worker."""
    import psutil

    from bench.dash_client import DashSession
    from tests.conftest import free_port, wait_for_port

    web = next(line.split(":", 1)[1].strip() for line in (REPO / "Procfile").read_text().splitlines()
               if line.startswith("web:"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("WEB_CONCURRENCY", "SECRET_KEY", "REDIS_URL")}
    env.update(PORT=str(port), SIM_VAR_DIR=str(tmp_path), SIM_SAMPLE_DATA=str(sample_csv), PYTHONPATH=str(REPO))
    web = web.replace("0.0.0.0", "127.0.0.1")  # loopback only in tests
    log_path = tmp_path / "gunicorn.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(["bash", "-c", "exec " + web], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, 30)
        wait_until(lambda: len(psutil.Process(proc.pid).children()) == 2, 30, what="2 workers")
        s = DashSession(f"http://127.0.0.1:{port}")
        s.load("/")
        s.trigger("start.n_clicks", 1)
        sid = s.get("session-id", "data")
        tick = s.find(input="tick.n_intervals")
        for _ in range(30):
            s.fire(tick, ["tick.n_intervals"])
        assert s.get("sim-day", "data")["day"] == 30
        assert s.get("session-id", "data") == sid
        assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
        s.load("/")  # a reload on any worker finds the same session
        assert s.text("kpi-day").startswith("Day 30")
        # each worker built the page's default run before it served (dashapp.gunicorn_hooks)
        assert log_path.read_text().count("prepared before serving: runs") == 2
    finally:
        proc.terminate()
        proc.wait(15)
        log.close()


def test_python_m_dashapp_runs_locally_on_port(tmp_path, sample_csv):
    import requests

    from tests.conftest import free_port, wait_for_port

    port = free_port()
    env = {**os.environ, "PORT": str(port), "SIM_VAR_DIR": str(tmp_path), "SIM_SAMPLE_DATA": str(sample_csv),
           "PYTHONPATH": str(REPO)}
    env.pop("SIM_DEBUG", None)
    proc = subprocess.Popen([sys.executable, "-m", "dashapp"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_port(port, 30)
        r = requests.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert r.status_code == 200 and "Inventory Simulator" in r.text
        assert "bootstrap" in requests.get(f"http://127.0.0.1:{port}/", timeout=10).text  # local CSS, no CDN
    finally:
        proc.terminate()
        out = proc.communicate(timeout=15)[0]
    assert f"http://127.0.0.1:{port}/" in out and "Debug mode: off" in out
