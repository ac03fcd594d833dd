"""engine.keyed_locks: threads asking for the same key build once (the others wait and read the cache); other
keys do not wait; nothing accumulates once every holder has left. Also the two caches that use it."""
from __future__ import annotations

import threading
import time

import numpy as np

from engine.keyed_locks import KeyedLocks


def test_the_same_key_is_built_once_and_other_keys_run_in_parallel():
    locks, cache, built, lock = KeyedLocks(), {}, [], threading.Lock()

    def get(key):
        with locks.hold(key):
            if key in cache:
                return cache[key]
            with lock:
                built.append(key)
            time.sleep(0.05)
            cache[key] = key * 2
            return cache[key]

    out = []
    threads = [threading.Thread(target=lambda k=k: out.append(get(k))) for k in [1] * 8 + [2] * 8]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(built) == [1, 2] and sorted(out) == [2] * 8 + [4] * 8
    assert time.perf_counter() - t0 < 0.5  # keys 1 and 2 were built side by side, each once
    assert len(locks) == 0


def test_a_failing_build_releases_the_key():
    locks = KeyedLocks()
    try:
        with locks.hold("k"):
            raise ValueError("boom")
    except ValueError:
        pass
    assert len(locks) == 0
    with locks.hold("k"):
        assert len(locks) == 1


def test_concurrent_window_errors_of_one_forecaster_compute_its_rolling_origins_once():
    from engine.forecast.registry import get_forecaster

    f = get_forecaster("ma7")
    f.caches_window_errors = True  # as the served ensembles do
    calls, inner = [], f.predict

    def predict(demand, covariates=None):
        calls.append(1)
        return inner(demand, covariates)
    f.predict = predict
    y = np.random.default_rng(5).gamma(5.0, 4.0, 200)[None, :]
    threads = [threading.Thread(target=f.window_errors, args=(y, None, 8)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    single = len(calls)
    f.window_errors(y, None, 8)
    assert len(calls) == single and 100 < single <= 200  # one pass of rolling origins, not six


def test_concurrent_starts_with_the_same_settings_build_the_simulated_prior_once(monkeypatch):
    from engine.data.dataset import load_csv
    from engine.data.generator import generate_csv
    from engine.forecast.registry import get_forecaster
    from engine.protection import prior as PP
    from engine.simulation.simulator import SimConfig

    series = next(iter(load_csv(generate_csv().encode(), name="generated.csv").series.values()))
    cfg = SimConfig(days=40, lead_time=3, forecaster="ma7", demand="synthetic", seed=1234567)
    builds, inner = [], PP.prior_paths

    def counting(*a, **k):
        builds.append(1)
        return inner(*a, **k)
    monkeypatch.setattr(PP, "prior_paths", counting)
    monkeypatch.setattr(PP, "_disk", None)  # this process's cache only (a prior store may hold it from a past run)
    out = []
    threads = [threading.Thread(target=lambda: out.append(PP.simulated_prior_paths(cfg, series, get_forecaster("ma7"),
                                                                                    4, 0.5)))
               for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(builds) == 1 and len(out) == 5 and all(o is out[0] for o in out)


def test_the_build_once_cache_drops_the_least_recently_used_entry():
    from engine.keyed_locks import BuildOnceCache

    cache, built = BuildOnceCache(2), []

    def get(k):
        return cache.get_or_build(k, lambda: built.append(k) or k * 10)
    assert [get(1), get(2), get(1), get(3)] == [10, 20, 10, 30]  # 3 drops 2 (1 was used after it)
    assert get(1) == 10 and get(2) == 20 and built == [1, 2, 3, 2] and len(cache) == 2
