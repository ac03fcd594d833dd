"""A small LRU cache whose entries are built once, even when several threads ask for the same key at once.

Why: the web server's threads share the per-process caches of the simulated protection prior (~1 s with an
ensemble) and of a forecaster's context errors. Without a lock per key, a burst of Starts with the same settings
all miss the cache together and each builds the same result (a thundering herd: N× the CPU, every one of them
late); with it, the first builds and the others wait for it and then read the cache. Different keys never wait
for each other."""
from __future__ import annotations

import threading
from collections import OrderedDict
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


class BuildOnceCache:
    """At most `size` results, least recently used dropped first; `get_or_build(key, build)` calls build() at most
    once per key at a time (the other threads asking for that key wait for it, then read the result)."""

    def __init__(self, size: int) -> None:
        self.size = int(size)
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self._building = KeyedLocks()

    def get_or_build(self, key, build):
        with self._building.hold(key):
            with self._lock:
                if key in self._items:
                    self._items.move_to_end(key)
                    return self._items[key]
            value = build()
            with self._lock:
                self._items[key] = value
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
            return value

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
