"""One lock per cache key, so that threads asking for the same expensive result build it once.

Why: the web server's threads share the per-process caches of the simulated protection prior (~1 s with an
ensemble) and of a forecaster's context errors. Without a lock per key, a burst of Starts with the same settings
all miss the cache together and each builds the same result (a thundering herd: N× the CPU, every one of them
late); with it, the first builds and the others wait for it and then read the cache. Different keys never wait
for each other."""
from __future__ import annotations

import threading
from contextlib import contextmanager


class KeyedLocks:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict = {}  # key -> [lock, holders and waiters]

    @contextmanager
    def hold(self, key):
        with self._guard:
            entry = self._locks.setdefault(key, [threading.Lock(), 0])
            entry[1] += 1
        try:
            with entry[0]:
                yield
        finally:
            with self._guard:
                entry[1] -= 1
                if entry[1] == 0:
                    del self._locks[key]

    def __len__(self) -> int:
        """Keys currently held or waited for (0 when idle: nothing accumulates)."""
        with self._guard:
            return len(self._locks)
