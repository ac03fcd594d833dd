"""/optimum's recommendation objective: the same choice /portfolio offers (least expected cost, or the least stock
reaching a fill-rate target), checked when it comes from the browser, carried in the request, the cache key and the
address, and pre-filled from the address."""
from __future__ import annotations

import pytest

import dashapp.app  # noqa: F401 - the pages register themselves on the app
from dashapp.pages.optimum import page as P
from engine.studies import scenarios as sc


def _set():
    return sc.rows_to_set([sc.default_table_rows()[0]], replications=10, days=30, seed=1)


def _find(component, id_):
    if getattr(component, "id", None) == id_:
        return component
    children = getattr(component, "children", None)
    for c in children if isinstance(children, list) else ([children] if children is not None else []):
        found = None if isinstance(c, str) else _find(c, id_)
        if found is not None:
            return found
    return None


@pytest.mark.parametrize("objective, target, words", [
    ("fastest", 0.95, "objective must be one of cost, fill-rate"),
    ("fill-rate", 1.2, "must be in [0.5, 0.999], got 1.2"),
    ("fill-rate", "ninety", "must be a number in [0.5, 0.999], got 'ninety'"),
    ("fill-rate", None, "must be a number"),
])
def test_a_bad_objective_or_target_is_named(objective, target, words):
    with pytest.raises(sc.ScenarioError, match=words.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        P.objective_of(objective, target)


def test_the_cache_key_keeps_cost_results_and_tells_fill_rate_targets_apart():
    sset = _set()
    cost = P._result_key(sset, P.objective_of("cost", 0.95))
    assert cost == sc.result_key(sset, {"kind": P.KIND}) == P._result_key(sset, P.objective_of("cost", 0.8))
    f95, f90 = (P._result_key(sset, P.objective_of("fill-rate", t)) for t in (0.95, 0.9))
    assert len({cost, f95, f90}) == 3


def test_prepare_carries_the_objective_into_the_request_and_the_address(monkeypatch):
    class Store:
        def get_result(self, kind, key):
            return None
    submitted = []
    monkeypatch.setattr(P, "job_store", lambda: Store())
    monkeypatch.setattr(P, "submit", lambda words, key: submitted.append(key))
    rows = sc.set_to_rows(_set())
    request, _, status, search = P.prepare(1, rows, 10, 30, 1, "fill-rate", 0.9)
    assert status is None and request["objective"] == "fill-rate" and request["target_fill_rate"] == 0.9
    assert search.endswith("&objective=fill-rate&target=0.9") and submitted == [request["key"]]
    _, _, status, _ = P.prepare(1, rows, 10, 30, 1, "fill-rate", 0.3)
    assert "[0.5, 0.999], got 0.3" in str(status)
    layout = P.layout(objective="fill-rate", target="0.9")
    assert _find(layout, "opt-objective").value == "fill-rate" and _find(layout, "opt-target").value == 0.9
    bad = P.layout(objective="fill-rate", target="2")
    assert _find(bad, "opt-objective").value == "cost" and "got 2" in str(_find(bad, "opt-status"))
