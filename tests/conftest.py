"""Fixtures shared by every suite: real service processes on loopback, paths, the shared-data marker."""
from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from bench.app_server import free_port, wait_for_port  # noqa: F401 - re-exported for the suites

REPO = Path(__file__).resolve().parent.parent

# The servers the suites start (and this process) share one store of simulated priors: each web worker prepares
# the default runs before it serves (dashapp.warmup), and the first server of a test session builds them once for
# all the others (bench runs, which measure a cold start, do not set it).
_PRIORS = tempfile.mkdtemp(prefix="sim-test-priors-")
os.environ.setdefault("SIM_PRIOR_DIR", _PRIORS)
atexit.register(shutil.rmtree, _PRIORS, True)

SHARED_DATA = REPO.parent / "shared" / "data" / "supply_chain_sku1.csv"
SHARED_SEED = REPO.parent / "shared" / "seed"


class RedisServer:
    """A real redis-server process on a free loopback port (no persistence)."""

    def __init__(self) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            raise RuntimeError("redis-server is not installed: run scripts/test.sh (it apt-installs it)")
        self.exe = exe
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None


@pytest.fixture
def redis_server():
    """Function-scoped real Redis; tests may stop() and start() it again to cause outages."""
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def shared_data() -> Path:
    """The public dataset beside the checkout; tests needing it are skipped with a clear reason when absent."""
    if not SHARED_DATA.exists():
        pytest.skip(f"{SHARED_DATA} is not present (it lives beside the checkout, never in the repo)")
    return SHARED_DATA


# ------------------------------------------------------------------ test tiers
# The fast tier (`scripts/test.sh --fast`) is `not (browser or server or training or slow)` and runs in a .venv
# without TensorFlow. These markers are set here from the fixtures a test uses, so a new test is classified by what
# it asks for; `slow`, and `training` for a test that imports Keras without a trained-model fixture, are set by hand.
FIXTURE_MARKERS = {
    "browser": {"dash_duo", "dash_br", "browser", "browser_factory"},
    "server": {"server_factory", "gunicorn_factory", "shared_gunicorn", "redis_server", "celery_worker",
               "dash_thread_server", "dash_process_server"},
    "training": {"tiny_model"},
}
# A test parametrized over a backend that is a service process (e.g. a store on "redis") needs that service too.
SERVICE_PARAMS = {"redis", "celery"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for marker, fixtures in FIXTURE_MARKERS.items():
            if used & fixtures:
                item.add_marker(marker)
        params = getattr(getattr(item, "callspec", None), "params", {})
        if any(isinstance(v, str) and v in SERVICE_PARAMS for v in params.values()):
            item.add_marker("server")
