"""Fixtures of the scenario suite: generated sample data, real app servers (gunicorn), a real Celery worker on a
real redis-server, headless Chromium.

Everything runs as separate processes on loopback, as in production: the app serves the page, the job runs in a
Diskcache subprocess (embedded default) or in a Celery worker (REDIS_URL) — the same callback code.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.app_server import AppServer, stop_process_group
from tests.conftest import REPO

SECRET = "scenario-suite-secret-key-0123456789abcdef"


@pytest.fixture(scope="session")
def sample_csv(tmp_path_factory) -> Path:
    """A two-year, two-series file made by the project's own generator (never a copy of ../shared)."""
    from engine.data.generator import generate_csv

    path = tmp_path_factory.mktemp("data") / "sample.csv"
    path.write_text(generate_csv(days=730, series=2, seed=42))
    return path


@pytest.fixture(scope="session")
def sample_series(sample_csv):
    from engine.data.dataset import load_csv

    return load_csv(str(sample_csv)).get(None)


class Proc:
    """A subprocess in its own process group with its log in a file."""

    def __init__(self, cmd: list[str], env: dict, log: Path) -> None:
        self.log_path = log
        self._fh = open(log, "ab")
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=self._fh, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        stop_process_group(self.proc)
        self._fh.close()


def app_env(var: Path, sample_csv: Path, redis_url: str | None = None) -> dict:
    env = {**os.environ, "SIM_VAR_DIR": str(var), "SIM_SAMPLE_DATA": str(sample_csv), "SECRET_KEY": SECRET,
           "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def start_app(var: Path, env: dict, workers: int = 2) -> AppServer:
    """`gunicorn dashapp.app:server` (bench.app_server, the Procfile's web line), ready when /scenarios answers."""
    return AppServer(var, workers=workers, env=env, timeout=120).start(timeout=60, ready_path="/scenarios")


class CeleryWorker:
    """The Procfile's worker line: `celery -A dashapp.ui.jobs:celery_app worker` (prefork, one child)."""

    def __init__(self, var: Path, env: dict) -> None:
        var.mkdir(parents=True, exist_ok=True)
        self.p = Proc([sys.executable, "-m", "celery", "-A", "dashapp.ui.jobs:celery_app", "worker", "--loglevel=info",
                       "--concurrency=1", "--without-gossip", "--without-mingle"], env, var / "celery.log")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if "ready." in self.p.log():
                return
            if self.p.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError(f"celery worker did not start:\n{self.p.log()[-3000:]}")

    def stop(self) -> None:
        self.p.stop()


@pytest.fixture
def browser():
    shutil.which("chromium") or pytest.fail("chromium is not installed (scripts/test.sh installs it)")
    from bench.browser import make_browser

    driver = make_browser()
    try:
        yield driver
    finally:
        driver.quit()
