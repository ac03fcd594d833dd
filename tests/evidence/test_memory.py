"""1,000 sessions created and abandoned against real gunicorn: the session store stays within its size bound
(older sessions are evicted) and the worker's RSS grows by less than 50 MB after warm-up. Each session uploads
a small CSV (kept server-side), starts a run and ticks twice, so the sessions together hold far more than the
bound.

One worker, so every request lands in the process whose memory is measured. The store bound is set to its
minimum (1 MB) so that 1,000 sessions with running simulations must exceed it and eviction is exercised.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.evidence.page import Page

pytestmark = pytest.mark.slow

N_SESSIONS = 1000
WARMUP = 60
STORE_BOUND = 2**20
RSS_GROWTH_LIMIT_MB = 50


def _store_volume(session_dir: str) -> tuple[int, int]:
    """(bytes, entries) of the embedded diskcache session store (every shard), read from disk by this process."""
    from dashapp.platform.config import settings
    from dashapp.platform.store import DiskSessionStore

    store = DiskSessionStore(session_dir, STORE_BOUND, None, shards=settings.session_store_shards)
    try:
        return store.volume()
    finally:
        store.close()


UPLOAD = None


def _one_session(url: str) -> tuple[str, int | None]:
    """Open the page, upload a small CSV (kept server-side for the session), Start, two ticks, walk away."""
    global UPLOAD
    if UPLOAD is None:
        from tests.evidence.corpus import good_csv
        UPLOAD = good_csv(rows=150).encode()
    p = Page(url).open()
    p.upload("mine.csv", UPLOAD)
    assert "refused" not in p.text("upload-status").lower(), p.text("upload-status")
    # ma7: this test measures memory, and a Start with the ensemble simulates its forecast-noise prior (≈ 0.15 s)
    p.start(data_source="sample", forecaster="ma7", horizon=365, demand_mode="forecast-noise", speed=5.0)
    p.run_ticks(2)
    bad = [c.status for c in p.s.calls if c.status >= 500 or c.status == 0]
    assert not bad, f"HTTP errors {bad}: {p.message()!r}"
    return p.sid, p.day


@pytest.mark.timeout(1500)
def test_thousand_abandoned_sessions_bounded(gunicorn_factory):
    g = gunicorn_factory(workers=1, env={"SESSION_STORE_BYTES": str(STORE_BOUND)})
    session_dir = os.path.join(g.var_dir, "sessions")
    (worker,) = g.worker_pids()
    days = []
    with ThreadPoolExecutor(4) as pool:
        days += [d for _, d in pool.map(lambda _: _one_session(g.url), range(WARMUP))]
        rss_warm = g.worker_rss()[worker] / 2**20
        days += [d for _, d in pool.map(lambda _: _one_session(g.url), range(N_SESSIONS - WARMUP))]
    assert g.worker_pids() == [worker], "the worker was replaced during the test (crash or timeout?)"
    rss_end = g.worker_rss()[worker] / 2**20
    volume, entries = _store_volume(session_dir)
    growth = rss_end - rss_warm
    print(f"{N_SESSIONS} sessions: worker RSS {rss_warm:.0f} MB after {WARMUP} -> {rss_end:.0f} MB after "
          f"{N_SESSIONS} (+{growth:.1f} MB); store {volume / 2**20:.2f} MB in {entries} entries "
          f"(bound {STORE_BOUND / 2**20:.0f} MB)")
    assert all(d == 2 for d in days), f"some sessions did not reach day 2: {sorted(set(days))}"
    assert entries < 2 * N_SESSIONS, f"nothing was evicted: {entries} entries for {N_SESSIONS} sessions " \
                                     f"with an upload each"
    assert volume <= STORE_BOUND * 1.5, f"store {volume:,} bytes exceeds its bound {STORE_BOUND:,}"
    assert growth < RSS_GROWTH_LIMIT_MB, f"worker RSS grew by {growth:.1f} MB over {N_SESSIONS} sessions"
    # the newest session still works after all that eviction
    sid, day = _one_session(g.url)
    assert day == 2
