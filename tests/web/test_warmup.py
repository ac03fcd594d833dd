"""dashapp.warmup: what a web worker prepares before it serves is what its first requests would otherwise build —
the simulated priors of the default runs (kept in the machine's prior store for the other workers), the
simulator's figures and the pages."""
from __future__ import annotations

import pytest

from dashapp import engine_facade as E
from dashapp import ids
from dashapp.pages.simulator import render as simulator_render
from dashapp.warmup import warm_worker
from engine.protection import prior as PP


def test_a_worker_prepares_the_priors_the_others_then_read_and_the_first_requests_work(tmp_path, monkeypatch):
    monkeypatch.setattr(PP, "_disk", None)
    PP.use_prior_store(tmp_path / "priors")
    monkeypatch.setattr(PP, "_cache", PP.BuildOnceCache(16))
    simulator_render._empty_figure_json.cache_clear()
    took = warm_worker(first=1)
    assert set(took) == {"runs", "pages", "simulator views", "forecaster choices"}
    simulated = [c for c in E.warm_controls() if c["demand_mode"] != "replay"]
    assert len(simulated) == 4 and {c["horizon"] for c in simulated} == {90, PP.PRIOR_DAYS}
    assert len(PP._disk) == len(simulated)  # one prior per simulated run, on disk
    assert simulator_render._empty_figure_json.cache_info().currsize == len(ids.GRAPHS)
    # another worker: a fresh process cache, the same store — it reads every prior instead of building it
    monkeypatch.setattr(PP, "_cache", PP.BuildOnceCache(16))
    monkeypatch.setattr(PP, "_simulated_prior", lambda *a, **k: pytest.fail("built again"))
    warm_worker(first=2)
