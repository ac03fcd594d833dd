"""The key-value store behind sessions, scenario/optimum job records and the backtest cache: the browser holds
only a random id; the simulator state lives here.

Two back ends behind one interface (get, put with an optional per-key TTL, delete, exists, lock, ping, close;
each instance keeps its keys under its own prefix):
- embedded default: a diskcache directory (SQLite + files) — shared by every gunicorn worker on one machine,
  survives a worker restart, bounded in size (least-recently-stored eviction) and with a TTL per entry;
- Redis when REDIS_URL is set — shared by several hosts; TTL via EX.

Values are plain JSON-safe dicts (serialised as JSON, never pickled). The per-session lock works across
processes (flock on lock files beside the diskcache database / a Redis lock), so two workers never step one
simulator at once.
Every back-end failure (Redis down, disk full or read-only) becomes `StoreUnavailable`, whose message the page
shows instead of an HTTP 500.
"""
from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import time
import zlib
from contextlib import contextmanager
from typing import Iterable, Iterator

from dashapp.platform.config import Settings
from dashapp.platform.config import settings as default_settings

# Redis: seconds after which a lock whose holder vanished expires (a tick holds it for milliseconds; the test hook's
# delay is added). Short, so a session whose worker died mid-request, or whose lock request reached a hung Redis
# after the client gave up, resumes within seconds rather than half a minute.
LOCK_TTL = 6.0 + default_settings.test_tick_delay
LOCK_STRIPES = 1024  # lock files of the embedded store (sessions hash onto them)
# Least bytes per database of a sharded embedded store: each shard evicts on its own, so a shard must hold many
# sessions (a session with an uploaded file and a year's ledger is ~0.1–1 MB) or a few busy ones would evict each
# other's live runs.
MIN_SHARD_BYTES = 16 * 2**20


class StoreUnavailable(RuntimeError):
    """The session store cannot be read or written; str() is the message the page shows."""


class SessionBusy(RuntimeError):
    """Another request holds this session's lock (e.g. a tick still running in another worker)."""


def _dumps(value: dict) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


class DiskSessionStore:
    """diskcache back end (embedded default).

    `shards` SQLite databases (at most as many as hold MIN_SHARD_BYTES each within `size_limit`; the first in
    `directory`, the others in `directory/shard-N`), a key's shard chosen by what precedes its first ":" — a
    session's id for all of that session's keys, so one session's records always share a database and put_many
    stays one transaction. Why: SQLite has one write lock per database, and
    every tick writes once; with one database the threads of all workers queued on it (py-spy: about half of a
    tick's wall time under 30 sessions, in SQLite's busy handler, which sleeps in steps of up to 100 ms)."""

    kind = "diskcache"

    def __init__(self, directory: str, size_limit: int, ttl: int | None, prefix: str = "s:", shards: int = 1) -> None:
        import diskcache

        self.ttl = ttl
        self.prefix = prefix
        self.directory = directory
        n = max(1, min(int(shards), int(size_limit) // MIN_SHARD_BYTES))  # a small store stays one database
        try:
            self.caches = [diskcache.Cache(
                directory if i == 0 else os.path.join(directory, f"shard-{i}"), size_limit=size_limit // n,
                eviction_policy="least-recently-stored", cull_limit=10, timeout=5,
                disk_min_file_size=2**22,  # session records stay inside SQLite: no file churn per tick
            ) for i in range(n)]
        except (OSError, sqlite3.Error) as exc:
            raise StoreUnavailable(f"session store at {directory} cannot be opened: {exc}") from exc

    @property
    def cache(self):
        """The first shard (the only one unless `shards` > 1)."""
        return self.caches[0]

    def _shard(self, key: str):
        if len(self.caches) == 1:
            return self.caches[0]
        return self.caches[zlib.crc32(key.split(":", 1)[0].encode()) % len(self.caches)]

    def _guard(self, what: str, fn, *args, **kwargs):
        import diskcache

        try:
            return fn(*args, **kwargs)
        except diskcache.Timeout as exc:
            raise StoreUnavailable(
                f"session store cannot {what} (timed out): the disk may be busy, full or read-only"
            ) from exc
        except (OSError, sqlite3.Error) as exc:
            raise StoreUnavailable(
                f"session store cannot {what} ({exc}); the disk may be full or read-only"
            ) from exc

    def get(self, key: str) -> dict | None:
        raw = self._guard("read", self._shard(key).get, self.prefix + key)
        return None if raw is None else json.loads(raw)

    def put(self, key: str, value: dict, ttl: int | None = None) -> None:
        """Store `value` (JSON) for `ttl` seconds (default: the store's TTL; None there: no expiry)."""
        self._guard("write", self._shard(key).set, self.prefix + key, _dumps(value), expire=ttl or self.ttl)

    def delete(self, key: str) -> None:
        self._guard("delete", self._shard(key).delete, self.prefix + key)

    def exists(self, key: str) -> bool:
        return self.get(key) is not None

    def put_many(self, items: dict[str, dict], delete: Iterable[str] = ()) -> None:
        """Store several values and delete keys in one SQLite transaction per shard (one, for the keys of one
        session): one wait for the database's write lock instead of one per key."""
        groups: dict[int, tuple] = {}
        for key, value in items.items():
            cache = self._shard(key)
            groups.setdefault(id(cache), (cache, [], []))[1].append((key, value))
        for key in delete:
            cache = self._shard(key)
            groups.setdefault(id(cache), (cache, [], []))[2].append(key)

        def write(cache, puts, deletes) -> None:
            with cache.transact():
                for key, value in puts:
                    cache.set(self.prefix + key, _dumps(value), expire=self.ttl)
                for key in deletes:
                    cache.delete(self.prefix + key)
        for cache, puts, deletes in groups.values():
            self._guard("write", write, cache, puts, deletes)

    @contextmanager
    def lock(self, key: str, timeout: float = 5.0) -> Iterator[None]:
        """An exclusive advisory lock (flock) on one of LOCK_STRIPES files beside the database.

        Why not a row in SQLite: taking and releasing it would be two more write transactions per request, and
        every worker thread queues on SQLite's one write lock (SQLite's busy handler then sleeps in steps of up
        to 100 ms). flock works across the processes of this host and between threads (each acquisition opens
        its own file description), and the kernel releases it when its holder dies, so a killed worker never
        leaves a session locked. Two sessions on one stripe wait for each other for the milliseconds a request
        holds it."""
        path = os.path.join(self.directory, "locks", f"{zlib.crc32(key.encode()) % LOCK_STRIPES:04d}.lock")
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except FileNotFoundError:
            self._guard("lock", os.makedirs, os.path.dirname(path), exist_ok=True)
            fd = self._guard("lock", os.open, path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StoreUnavailable(f"session store cannot lock ({exc}); the disk may be full or read-only") from exc
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise SessionBusy("this session is busy in another request") from None
                    time.sleep(0.002)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def ping(self) -> None:
        self._guard("write", self.cache.set, "ping", time.time(), expire=60)

    def volume(self) -> tuple[int, int]:
        """(bytes on disk, entries) over every shard."""
        return sum(c.volume() for c in self.caches), sum(len(c) for c in self.caches)

    def close(self) -> None:
        for cache in self.caches:
            cache.close()


class RedisSessionStore:
    """Redis back end (REDIS_URL): several hosts share sessions."""

    kind = "redis"

    def __init__(self, url: str, ttl: int | None, prefix: str = "sim:s:") -> None:
        import redis

        self.ttl = ttl
        self.prefix = prefix
        self.client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        self._errors = (redis.exceptions.RedisError, OSError)

    def _guard(self, what: str, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except self._errors as exc:
            raise StoreUnavailable(f"session store (Redis) cannot {what}: {exc}") from exc

    def get(self, key: str) -> dict | None:
        raw = self._guard("read", self.client.get, self.prefix + key)
        return None if raw is None else json.loads(raw)

    def put(self, key: str, value: dict, ttl: int | None = None) -> None:
        """Store `value` (JSON) for `ttl` seconds (default: the store's TTL; None there: no expiry)."""
        self._guard("write", self.client.set, self.prefix + key, _dumps(value), ex=ttl or self.ttl)

    def delete(self, key: str) -> None:
        self._guard("delete", self.client.delete, self.prefix + key)

    def exists(self, key: str) -> bool:
        return bool(self._guard("read", self.client.exists, self.prefix + key))

    def put_many(self, items: dict[str, dict], delete: Iterable[str] = ()) -> None:
        """Several values stored and keys deleted in one round trip (a MULTI/EXEC pipeline)."""
        def write() -> None:
            pipe = self.client.pipeline(transaction=True)
            for key, value in items.items():
                pipe.set(self.prefix + key, _dumps(value), ex=self.ttl)
            for key in delete:
                pipe.delete(self.prefix + key)
            pipe.execute()
        self._guard("write", write)

    @contextmanager
    def lock(self, key: str, timeout: float = 5.0) -> Iterator[None]:
        import redis

        lk = self.client.lock("sim:l:" + key, timeout=LOCK_TTL, blocking_timeout=timeout, sleep=0.005)
        if not self._guard("lock", lk.acquire):
            raise SessionBusy("this session is busy in another request")
        try:
            yield
        finally:
            try:
                lk.release()
            except redis.exceptions.LockError:
                pass  # expired while held (a very slow request): nothing to release
            except self._errors as exc:
                raise StoreUnavailable(f"session store (Redis) cannot unlock: {exc}") from exc

    def ping(self) -> None:
        self._guard("reach", self.client.ping)

    def close(self) -> None:
        self.client.close()


def make_store(s: Settings | None = None) -> DiskSessionStore | RedisSessionStore:
    """The session store: Redis with REDIS_URL, else a diskcache directory bounded in size."""
    s = s or default_settings
    if s.redis_url:
        return RedisSessionStore(s.redis_url, s.session_ttl)
    return DiskSessionStore(s.session_dir, s.session_store_bytes, s.session_ttl, shards=s.session_store_shards)


def make_kv(redis_url: str | None, directory: str, ttl: int | None, prefix: str,
            size_limit: int = 2**30) -> DiskSessionStore | RedisSessionStore:
    """A key-value store for another kind of record (job records, caches) under its own key prefix."""
    if redis_url:
        return RedisSessionStore(redis_url, ttl, prefix=prefix)
    return DiskSessionStore(directory, size_limit, ttl, prefix=prefix)


_store = None


def get_store():
    """The process-wide store, opened lazily (after gunicorn forks)."""
    global _store
    if _store is None:
        _store = make_store()
    return _store
