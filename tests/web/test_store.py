"""Session store: both back ends for real (diskcache directory, redis-server), locks across processes, failures."""
from __future__ import annotations

import multiprocessing as mp
import time

import pytest

from dashapp.platform.store import DiskSessionStore, RedisSessionStore, SessionBusy, StoreUnavailable


@pytest.fixture(params=["diskcache", "redis"])
def store(request, tmp_path):
    if request.param == "diskcache":
        s = DiskSessionStore(str(tmp_path / "sessions"), size_limit=8 * 2**20, ttl=60)
        yield s
        s.close()
    else:
        server = request.getfixturevalue("redis_server")
        s = RedisSessionStore(server.url, ttl=60)
        yield s
        s.close()


def test_round_trip_and_delete(store):
    assert store.get("abc") is None
    store.put("abc", {"day": 3, "ledger": [{"day": 1, "x": 1.5}]})
    assert store.get("abc") == {"day": 3, "ledger": [{"day": 1, "x": 1.5}]}
    store.delete("abc")
    assert store.get("abc") is None


def test_values_are_json_not_pickle(store):
    with pytest.raises(TypeError):
        store.put("k", {"obj": object()})
    with pytest.raises(ValueError):
        store.put("k", {"x": float("nan")})


def test_lock_is_exclusive_and_times_out(store):
    with store.lock("s1"):
        t0 = time.monotonic()
        with pytest.raises(SessionBusy):
            with store.lock("s1", timeout=0.2):
                pass
        assert time.monotonic() - t0 >= 0.19
        with store.lock("other", timeout=0.2):  # other sessions are not blocked
            pass
    with store.lock("s1", timeout=0.2):  # released
        pass


def _hold_lock(kind, where, started, release):
    s = DiskSessionStore(where, 8 * 2**20, 60) if kind == "diskcache" else RedisSessionStore(where, 60)
    with s.lock("shared"):
        started.set()
        release.wait(10)


def test_lock_works_across_processes(store):
    if store.kind == "redis":
        kw = store.client.connection_pool.connection_kwargs
        where = f"redis://{kw['host']}:{kw['port']}/0"
    else:
        where = store.directory
    ctx = mp.get_context("spawn")
    started, release = ctx.Event(), ctx.Event()
    p = ctx.Process(target=_hold_lock, args=(store.kind, where, started, release))
    p.start()
    try:
        assert started.wait(20)
        with pytest.raises(SessionBusy):
            with store.lock("shared", timeout=0.3):
                pass
        release.set()
        p.join(10)
        with store.lock("shared", timeout=2):
            pass
    finally:
        release.set()
        p.join(5)


def test_ttl_expires_idle_sessions(tmp_path):
    s = DiskSessionStore(str(tmp_path / "ttl"), 8 * 2**20, ttl=1)
    s.put("a", {"x": 1})
    assert s.get("a") == {"x": 1}
    time.sleep(1.3)
    assert s.get("a") is None


def test_size_bound_evicts_old_sessions(tmp_path):
    s = DiskSessionStore(str(tmp_path / "small"), size_limit=2**20, ttl=600)
    blob = "x" * 50_000
    for i in range(100):  # ~5 MB into a 1 MB store
        s.put(f"s{i}", {"blob": blob})
    assert s.cache.volume() < 3 * 2**20
    assert s.get("s99") is not None
    assert s.get("s0") is None


def test_redis_down_is_store_unavailable(redis_server):
    s = RedisSessionStore(redis_server.url, ttl=60)
    s.put("a", {"x": 1})
    redis_server.stop()
    with pytest.raises(StoreUnavailable, match="Redis"):
        s.get("a")
    with pytest.raises(StoreUnavailable):
        s.put("a", {"x": 2})
    with pytest.raises(StoreUnavailable):
        with s.lock("a"):
            pass
    redis_server.start()  # same port: the store recovers without a restart
    s2 = RedisSessionStore(redis_server.url, ttl=60)
    s2.put("b", {"y": 1})
    assert s2.get("b") == {"y": 1}


def test_disk_failure_is_store_unavailable(tmp_path):
    """A store whose SQLite file turns read-only (as on a full or remounted disk) raises StoreUnavailable."""
    import sqlite3

    s = DiskSessionStore(str(tmp_path / "full"), 8 * 2**20, 60)
    s.put("a", {"x": 1})
    con = s.cache._con  # the real connection: switch it to query_only, which fails writes like a RO disk
    con.execute("PRAGMA query_only = ON")
    with pytest.raises(StoreUnavailable, match="full or read-only"):
        s.put("a", {"x": 2})
    assert isinstance(sqlite3.OperationalError("x"), sqlite3.Error)


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 1 MB tmpfs (needs CAP_SYS_ADMIN; CI runs as root in a container that allows it)."""
    import subprocess

    d = tmp_path / "tiny"
    d.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(d)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (not a missing install): {r.stderr.strip()}")
    try:
        yield d
    finally:
        subprocess.run(["umount", "-l", str(d)], check=False)


def test_full_disk_is_store_unavailable(tiny_disk):
    s = DiskSessionStore(str(tiny_disk), size_limit=64 * 2**20, ttl=60)  # bound above the disk: the disk fills
    s.put("first", {"x": 1})
    with pytest.raises(StoreUnavailable, match="full or read-only"):
        for i in range(100):
            s.put(f"s{i}", {"blob": "y" * 200_000})
    assert s.get("first") == {"x": 1}  # what was stored is still readable


def test_put_many_stores_and_deletes_together(store):
    store.put("old", {"x": 0})
    store.put_many({"a": {"x": 1}, "b": {"x": 2}}, delete=["old"])
    assert (store.get("a"), store.get("b"), store.get("old")) == ({"x": 1}, {"x": 2}, None)


def _hold_lock_forever(where, started):
    s = DiskSessionStore(where, 8 * 2**20, 60)
    with s.lock("held"):
        started.set()
        time.sleep(60)


def test_a_killed_holder_releases_the_disk_lock_at_once(tmp_path):
    """A worker killed while holding a session's lock (SIGKILL) does not leave the session busy."""
    where = str(tmp_path / "sessions")
    s = DiskSessionStore(where, 8 * 2**20, 60)
    ctx = mp.get_context("spawn")
    started = ctx.Event()
    p = ctx.Process(target=_hold_lock_forever, args=(where, started))
    p.start()
    try:
        assert started.wait(20)
        with pytest.raises(SessionBusy):
            with s.lock("held", timeout=0.2):
                pass
        p.kill()
        p.join(10)
        t0 = time.monotonic()
        with s.lock("held", timeout=1.0):
            assert time.monotonic() - t0 < 0.5
    finally:
        p.kill()
        p.join(5)
        s.close()


def test_a_sharded_store_keeps_each_sessions_keys_together_and_reads_them_back(tmp_path):
    s = DiskSessionStore(str(tmp_path / "sharded"), 64 * 2**20, ttl=600, shards=4)
    sids = [f"sess{i}" for i in range(16)]
    for sid in sids:
        s.put_many({sid: {"rec": sid}, f"{sid}:state:1": {"day": 1}, f"{sid}:ledger:r:0": {"rows": [sid]}})
    used = {id(s._shard(sid)) for sid in sids}
    assert len(used) > 1  # the sessions spread over the databases
    for sid in sids:
        assert {id(s._shard(k)) for k in (sid, f"{sid}:state:1", f"{sid}:ledger:r:0")} == {id(s._shard(sid))}
        assert s.get(sid) == {"rec": sid} and s.get(f"{sid}:ledger:r:0") == {"rows": [sid]}
    s.put_many({"sess0:state:2": {"day": 2}}, delete=["sess0:state:1"])
    assert s.get("sess0:state:1") is None and s.get("sess0:state:2") == {"day": 2}
    s.close()
    reopened = DiskSessionStore(str(tmp_path / "sharded"), 64 * 2**20, ttl=600, shards=4)
    assert all(reopened.get(sid) == {"rec": sid} for sid in sids)
    assert reopened.volume()[1] == 3 * len(sids)


def test_a_small_store_stays_one_database_so_busy_sessions_never_evict_each_other(tmp_path):
    assert len(DiskSessionStore(str(tmp_path / "small"), 2**20, ttl=600, shards=8).caches) == 1
    assert len(DiskSessionStore(str(tmp_path / "mid"), 48 * 2**20, ttl=600, shards=8).caches) == 3
    assert len(DiskSessionStore(str(tmp_path / "big"), 512 * 2**20, ttl=600, shards=8).caches) == 8
