"""One launcher for `gunicorn dashapp.app:server` (the Procfile's web command) on a free loopback port.

Used by the load test (`python -m bench.load --spawn`, `python -m bench`) and by every test suite that needs a real
server (tests/web, tests/evidence, tests/scenarios): they differ only in settings (workers, environment, extra
gunicorn arguments, the page that proves readiness), not in how a server is started, watched and stopped.

Each server has its own var directory (sessions, jobs, secret key) and a log file *beside* it, so a test that makes
the var directory read-only still gets the server's log. The server runs in its own process group; stop() ends the
master and its workers together.
"""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
RANDOM = object()  # secret=RANDOM: a fresh SECRET_KEY for this server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    """Return once something accepts connections on 127.0.0.1:port; TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def stop_process_group(proc: subprocess.Popen, grace: float = 15.0) -> None:
    """End a process started with start_new_session=True and everything it forked: SIGTERM to its group, SIGKILL
    after `grace` seconds."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


class AppServer:
    """A real gunicorn serving the app. `AppServer(var_dir, workers=2, ...).start()`; stop() or use `with`.

    var_dir: the app's SIM_VAR_DIR (None: a temporary directory removed by stop()). env: extra environment on top
    of this process's (REDIS_URL and SECRET_KEY are dropped from it first; pass them in env to use them). secret:
    SECRET_KEY (RANDOM by default; None starts the server without one). args: extra gunicorn arguments.
    access_log: write gunicorn's access log with the request time, for request_times().
    """

    def __init__(self, var_dir: Path | str | None = None, *, workers: int = 2, env: dict | None = None,
                 args: list[str] | tuple = (), secret=RANDOM, timeout: int = 60, preload: bool = False,
                 access_log: bool = False) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="app-server-") if var_dir is None else None
        self.var_dir = Path(self._tmp.name) / "var" if self._tmp else Path(var_dir)
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.var_dir.parent / f"gunicorn-{self.port}.log"
        self.access_log_path = self.var_dir.parent / f"access-{self.port}.log" if access_log else None
        self.env = {**os.environ, "SIM_VAR_DIR": str(self.var_dir), "WEB_CONCURRENCY": str(workers),
                    "PORT": str(self.port), "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
        self.env.pop("REDIS_URL", None)
        self.env.pop("SECRET_KEY", None)
        if secret is RANDOM:
            secret = secrets.token_urlsafe(32)
        if secret:
            self.env["SECRET_KEY"] = secret
        self.env.update(env or {})
        self.args = [*(["--preload"] if preload else []), "--timeout", str(timeout), "--graceful-timeout", "5",
                     *([] if self.access_log_path is None else
                       ["--access-logfile", str(self.access_log_path), "--access-logformat", "%(D)s %(s)s %(U)s"]),
                     *args]
        self.proc: subprocess.Popen | None = None
        self._log = None

    # -- life cycle -----------------------------------------------------------------------------------------------
    def command(self) -> list[str]:
        return [sys.executable, "-m", "gunicorn", "dashapp.app:server", "--config", "python:dashapp.gunicorn_hooks",
                "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers), *self.args]

    def start(self, wait: bool = True, timeout: float = 90.0, ready_path: str = "/") -> "AppServer":
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.command(), cwd=REPO, env=self.env, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        if wait:
            self.wait_ready(timeout, ready_path)
        return self

    def wait_ready(self, timeout: float = 90.0, ready_path: str = "/") -> None:
        """Until `ready_path` answers 200 and every worker is up; RuntimeError with the log's tail otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
            try:
                if requests.get(self.url + ready_path, timeout=5).status_code == 200 and \
                        len(self.worker_pids()) >= self.workers:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not serve {ready_path} within {timeout}s:\n{self.log()[-3000:]}")

    def stop(self) -> None:
        """SIGTERM to the process group (SIGKILL after 15 s); removes a temporary var directory."""
        if self.proc:
            stop_process_group(self.proc)
        if self._log:
            self._log.close()
            self._log = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    close = stop

    def __enter__(self) -> "AppServer":
        return self if self.proc else self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- watching -------------------------------------------------------------------------------------------------
    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def master(self):
        import psutil
        return psutil.Process(self.proc.pid)

    def worker_pids(self) -> list[int]:
        import psutil
        try:
            return sorted(c.pid for c in self.master().children() if c.status() != psutil.STATUS_ZOMBIE)
        except psutil.NoSuchProcess:
            return []

    def worker_rss(self) -> dict[int, int]:
        import psutil
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

    def request_times(self) -> list[float]:
        """Server-side time (ms) of each Dash callback request, from the access log (needs access_log=True)."""
        if self.access_log_path is None:
            raise ValueError("this server was started without access_log=True")
        xs = []
        try:
            for line in self.access_log_path.read_text().splitlines():
                parts = line.split()
                if len(parts) == 3 and parts[2] == "/_dash-update-component":
                    xs.append(int(parts[0]) / 1000)
        except OSError:
            return []
        return xs


class PeakRss:
    """The highest worker RSS of a server while a `with` block runs (a sampling thread)."""

    def __init__(self, server: AppServer) -> None:
        self.server = server
        self.peak_mb = 0.0
        self._stop = False

    def _run(self) -> None:
        while not self._stop:
            rss = self.server.worker_rss()
            if rss:
                self.peak_mb = max(self.peak_mb, max(rss.values()) / 2**20)
            time.sleep(0.01)

    def __enter__(self) -> "PeakRss":
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop = True
        self._t.join(5)
