"""engine.protection.prior_store: a simulated prior is built once per machine — processes that ask together wait for one
build and read it; a changed model or engine, or a broken file, never serves an old array."""
from __future__ import annotations

import multiprocessing as mp
import os
import time

import numpy as np
import pytest

from engine.data.dataset import load_csv
from engine.data.generator import generate_csv
from engine.forecast.registry import get_forecaster
from engine.protection import prior as PP
from engine.protection import prior_store as PS
from engine.simulation.simulator import SimConfig


def _slow_build_in_child(directory: str, marks: str, out) -> None:
    store = PS.PriorStore(directory)

    def build():
        with open(marks, "a") as fh:
            fh.write(f"{os.getpid()}\n")
        time.sleep(0.5)  # long enough that the other process asks while this one builds
        return np.arange(12.0).reshape(3, 4)
    out.put(store.get_or_build(("series", 1, 2.5), build).tolist())


def test_two_processes_asking_together_build_once_and_read_the_same_array(tmp_path):
    marks = tmp_path / "builds.txt"
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    procs = [ctx.Process(target=_slow_build_in_child, args=(str(tmp_path / "priors"), str(marks), out))
             for _ in range(2)]
    for p in procs:
        p.start()
    results = [out.get(timeout=30) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert marks.read_text().count("\n") == 1
    assert results[0] == results[1] == np.arange(12.0).reshape(3, 4).tolist()


def test_a_stored_array_is_read_back_exactly_and_read_only(tmp_path):
    store = PS.PriorStore(tmp_path)
    value = np.random.default_rng(3).normal(size=(5, 7))
    store.get_or_build(("k",), lambda: value)
    again = PS.PriorStore(tmp_path).get_or_build(("k",), lambda: pytest.fail("built twice"))
    assert np.array_equal(again, value) and again.dtype == value.dtype and not again.flags.writeable


def test_a_broken_file_is_built_again(tmp_path):
    store = PS.PriorStore(tmp_path)
    store.get_or_build(("k",), lambda: np.ones(3))
    (tmp_path / f"{store.name_of(('k',))}.npy").write_bytes(b"\x93NUMPY cut short")
    assert store.get_or_build(("k",), lambda: np.full(3, 2.0)).tolist() == [2.0, 2.0, 2.0]


def test_a_changed_engine_is_a_new_key(tmp_path, monkeypatch):
    store = PS.PriorStore(tmp_path)
    before = store.name_of(("k",))
    monkeypatch.setattr(PS, "engine_source_digest", lambda: "another engine")
    assert store.name_of(("k",)) != before


def test_the_oldest_files_go_beyond_the_limit(tmp_path):
    store = PS.PriorStore(tmp_path, max_files=3)
    for i in range(5):
        store.get_or_build((i,), lambda i=i: np.full(2, float(i)))
        os.utime(tmp_path / f"{store.name_of((i,))}.npy", (1000 + i, 1000 + i))
    store.get_or_build((5,), lambda: np.zeros(2))
    assert len(store) == 3
    assert store.get_or_build((4,), lambda: pytest.fail("the newest were kept")).tolist() == [4.0, 4.0]


def test_the_simulated_prior_from_the_store_equals_a_fresh_build_and_a_new_model_misses_it(tmp_path, monkeypatch):
    series = next(iter(load_csv(generate_csv().encode(), name="generated.csv").series.values()))
    cfg = SimConfig(days=30, lead_time=2, forecaster="ma7", demand="forecast-noise", seed=777)
    f = get_forecaster("ma7")
    monkeypatch.setattr(PP, "_disk", None)
    fresh = PP._simulated_prior(cfg, series, f, 3, 0.5)
    PP.use_prior_store(tmp_path)
    monkeypatch.setattr(PP, "_cache", PP.BuildOnceCache(4))
    first = PP.simulated_prior_paths(cfg, series, f, 3, 0.5)
    monkeypatch.setattr(PP, "_cache", PP.BuildOnceCache(4))  # a new process: only the store remembers
    builds = []
    monkeypatch.setattr(PP, "_simulated_prior", lambda *a, **k: builds.append(1) or fresh)
    second = PP.simulated_prior_paths(cfg, series, f, 3, 0.5)
    assert builds == [] and np.array_equal(first, fresh) and np.array_equal(second, fresh)
    # a retrained model under the same name (the registry reloads a changed card) misses this process's cache too
    monkeypatch.setattr(f, "identity", "a retrained model", raising=False)
    PP.simulated_prior(cfg, series, f, 3, 0.5)
    assert builds == [1]


def test_a_directory_that_cannot_be_written_costs_the_sharing_not_the_result(tmp_path, monkeypatch):
    store = PS.PriorStore(tmp_path / "priors")

    def full(*_a, **_k):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(store, "_write", full)
    assert store.get_or_build(("k",), lambda: np.arange(3.0)).tolist() == [0.0, 1.0, 2.0]
    assert len(store) == 0
    blocker = tmp_path / "a file"
    blocker.write_text("not a directory")
    monkeypatch.setattr(PP, "_disk", None)
    PP.use_prior_store(blocker / "priors")
    assert PP._disk is None
