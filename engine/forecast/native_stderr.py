"""TensorFlow's start-up lines on the operator's terminal, filtered at the file descriptor.

On CPUs with AVX-512, importing TensorFlow 2.21 prints "oneDNN custom operations are on ..." (an INFO line) and,
because TensorFlow logs it before absl::InitializeLog(), abseil's "WARNING: All log messages before
absl::InitializeLog() is called are written to STDERR". Both come from C++ straight to file descriptor 2, before
TF_CPP_MIN_LOG_LEVEL is honoured (abseil-cpp pull request #1957: a message below the threshold is still written
when logging is not initialised), so neither the environment variable nor Python's logging can hold them back.
`filtered_native_stderr` routes descriptor 2 through a pipe for the block and passes every other line through
unchanged and in order (Python's own sys.stderr writes to the same descriptor).
"""
from __future__ import annotations

import os
import sys
import threading
from contextlib import contextmanager

__all__ = ["filtered_native_stderr", "STARTUP_NOISE"]

STARTUP_NOISE = (b"All log messages before absl::InitializeLog() is called are written to STDERR",
                 b"oneDNN custom operations are on")


def _write_all(fd: int, data: bytes) -> None:
    """os.write may take part of a buffer (a pipe to a slow reader): write until all of it is out."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


@contextmanager
def filtered_native_stderr(noise: tuple[bytes, ...] = STARTUP_NOISE):
    """Drop the lines of descriptor 2 that contain one of `noise` while the block runs; keep all others."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no descriptor 2 (a detached process): nothing to filter
        yield
        return
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)

    def pump() -> None:
        with os.fdopen(read_end, "rb", buffering=0) as src:
            pending = b""
            while chunk := src.read(65536):
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if not any(n in line for n in noise):
                        _write_all(saved, line + b"\n")
            if pending and not any(n in pending for n in noise):
                _write_all(saved, pending)

    thread = threading.Thread(target=pump, name="native-stderr-filter", daemon=True)
    thread.start()
    try:
        yield
    finally:
        try:
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        os.dup2(saved, 2)  # the pipe's last write end closes: the pump reads to its end and stops
        thread.join(timeout=10)
        os.close(saved)
