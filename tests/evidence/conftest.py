"""Fixtures of the evidence suite: real gunicorn processes on loopback, the built bad-input corpus.

Real processes, because the claims are about hosting: a worker is SIGKILLed, Redis is stopped, the session
directory is made read-only — all for real. Each server gets its own var directory (sessions, jobs, secret key)
under pytest's tmp_path, so tests never share state with each other or with a developer's `var/`.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests

from tests.conftest import REPO, free_port
from tests.evidence.corpus import build_corpus

SECRET = "evidence-suite-secret-key-0123456789"


class Gunicorn:
    """`gunicorn dashapp.app:server` on 127.0.0.1:<free port>, with its own var dir and log file."""

    def __init__(self, var_dir: Path, workers: int = 2, env: dict[str, str] | None = None,
                 args: list[str] | None = None, secret: str | None = SECRET) -> None:
        self.var_dir = var_dir
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = var_dir.parent / f"gunicorn-{self.port}.log"
        self.env = {**os.environ, "SIM_VAR_DIR": str(var_dir), "WEB_CONCURRENCY": str(workers),
                    "PYTHONUNBUFFERED": "1"}
        self.env.pop("REDIS_URL", None)
        self.env.pop("SECRET_KEY", None)
        if secret:
            self.env["SECRET_KEY"] = secret
        self.env.update(env or {})
        self.args = list(args or [])
        self.proc: subprocess.Popen | None = None

    def command(self) -> list[str]:
        return [sys.executable, "-m", "gunicorn", "dashapp.app:server", "--bind", f"127.0.0.1:{self.port}",
                "--workers", str(self.workers), "--timeout", "60", "--graceful-timeout", "5", *self.args]

    def start(self, wait: bool = True, timeout: float = 90.0) -> "Gunicorn":
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.command(), cwd=REPO, env=self.env, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
            try:
                if requests.get(self.url + "/", timeout=2).status_code == 200 and \
                        len(self.worker_pids()) >= self.workers:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"gunicorn not ready after {timeout}s:\n{self.log()[-3000:]}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def master(self) -> psutil.Process:
        return psutil.Process(self.proc.pid)

    def worker_pids(self) -> list[int]:
        try:
            return sorted(c.pid for c in self.master().children() if c.status() != psutil.STATUS_ZOMBIE)
        except psutil.NoSuchProcess:
            return []

    def worker_rss(self) -> dict[int, int]:
        out = {}
        for pid in self.worker_pids():
            try:
                out[pid] = psutil.Process(pid).memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return out

    def sample_peak_rss(self) -> "PeakRss":
        """Context manager: the highest RSS (MB) any worker reached while the block ran (sampled every 10 ms)."""
        return PeakRss(self)

    def kill_worker(self, pid: int) -> None:
        """SIGKILL one worker (a crash, not a graceful stop); the master forks a replacement."""
        assert pid in self.worker_pids(), f"{pid} is not a worker of this gunicorn"
        os.kill(pid, signal.SIGKILL)

    def wait_workers(self, n: int | None = None, exclude: set[int] = frozenset(), timeout: float = 60) -> list[int]:
        n = n or self.workers
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = [p for p in self.worker_pids() if p not in exclude]
            if len(pids) >= n:
                return pids
            time.sleep(0.1)
        raise TimeoutError(f"only {self.worker_pids()} workers after {timeout}s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if getattr(self, "_log", None):
            self._log.close()


class PeakRss:
    def __init__(self, g: Gunicorn) -> None:
        self.g = g
        self.peak_mb = 0.0
        self._stop = False

    def _run(self) -> None:
        while not self._stop:
            rss = self.g.worker_rss()
            if rss:
                self.peak_mb = max(self.peak_mb, max(rss.values()) / 2**20)
            time.sleep(0.01)

    def __enter__(self) -> "PeakRss":
        import threading
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop = True
        self._t.join(5)


@pytest.fixture
def gunicorn_factory(tmp_path):
    """Start real gunicorn servers: factory(workers=2, env={...}) -> Gunicorn (ready); all stopped at teardown."""
    started: list[Gunicorn] = []

    def make(workers: int = 2, env: dict[str, str] | None = None, args: list[str] | None = None,
             secret: str | None = SECRET, wait: bool = True, name: str = "var") -> Gunicorn:
        g = Gunicorn(tmp_path / f"{name}{len(started)}", workers=workers, env=env, args=args, secret=secret)
        started.append(g)
        return g.start(wait=wait)

    yield make
    for g in started:
        g.stop()


@pytest.fixture(scope="module")
def shared_gunicorn(tmp_path_factory):
    """One 2-worker gunicorn for a module's read-mostly tests (uploads, forged requests)."""
    g = Gunicorn(tmp_path_factory.mktemp("gunicorn") / "var", workers=2)
    g.start()
    yield g
    g.stop()


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """The bad-input corpus, built once per test session (≈ 1.2 GB apparent, ≈ 150 MB on disk)."""
    return build_corpus(tmp_path_factory.mktemp("corpus"))
