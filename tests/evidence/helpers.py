"""Small helpers of the evidence suite: run a child process and measure its own peak memory."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO


@dataclass
class Finished:
    rc: int
    out: str
    peak_rss_mb: float
    seconds: float
    timed_out: bool


def _high_water_kb(pid: int) -> int | None:
    """The process's own peak RSS (VmHWM, kB) since its exec; None once it has exited or without /proc."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def run_measured(args: list[str], timeout: float = 120.0, tmp: Path | None = None,
                 env: dict[str, str] | None = None) -> Finished:
    """Run ``python args...`` in the repo; return exit code, combined output and the child's own peak RSS.

    The peak is the child's VmHWM, polled while it runs: rusage's ru_maxrss survives fork and exec on Linux, so a
    child of a large test process would report the parent's size. rusage is the fallback where /proc is absent."""
    tmp = tmp or Path("/tmp")
    out_path = tmp / f"child-{os.getpid()}-{time.monotonic_ns()}.out"
    t0 = time.monotonic()
    with open(out_path, "wb") as out:
        proc = subprocess.Popen([sys.executable, *args], cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, **(env or {})}, start_new_session=True)
        timed_out = False
        hwm_kb = 0
        while True:
            hwm_kb = max(hwm_kb, _high_water_kb(proc.pid) or 0)
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - t0 > timeout:
                timed_out = True
                os.killpg(proc.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
    proc.returncode = os.waitstatus_to_exitcode(status)
    text = out_path.read_text(errors="replace")
    out_path.unlink(missing_ok=True)
    peak_kb = hwm_kb if hwm_kb else usage.ru_maxrss
    return Finished(proc.returncode, text, peak_kb / 1024, time.monotonic() - t0, timed_out)
