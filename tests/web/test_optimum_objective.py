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
    ("fastest", 0.95, "objective: choose least expected cost or least stock reaching the fill-rate target "
                        "(got 'fastest')"),
    ("fill-rate", 1.2, "target fill rate: 1.2 is out of range (0.5 to 0.999, or 50 to 99.9 as a percentage)"),
    ("fill-rate", 100, "target fill rate: 100 is out of range"),
    ("fill-rate", "ninety", "target fill rate: 'ninety' is not a number"),
    ("fill-rate", None, "target fill rate: a value is required"),
])
def test_a_bad_objective_or_target_is_named(objective, target, words):
    with pytest.raises(sc.ScenarioError) as err:
        P.objective_of(objective, target)
    assert words in str(err.value)


@pytest.mark.parametrize("typed, read", [(0.9, 0.9), ("0.95", 0.95), (95, 0.95), ("97.5", 0.975), (99.9, 0.999)])
def test_optimum_and_portfolio_read_a_target_the_same_way(typed, read):
    """One reading of the field on both pages: a percentage is the same target as its fraction on each, so the
    recommendation /optimum shows is the one /portfolio gives for what the planner typed."""
    from dashapp.pages.portfolio.service import settings_from_form
    assert P.objective_of("fill-rate", typed)["target_fill_rate"] == pytest.approx(read)
    assert settings_from_form(None, 20, 90, "fill-rate", typed).target_fill_rate == pytest.approx(read)


@pytest.mark.parametrize("typed", [0.3, 1.5, 100, "", "x"])
def test_both_pages_refuse_the_same_targets_with_the_same_words(typed):
    from dashapp.pages.portfolio.service import PortfolioInputError, settings_from_form
    with pytest.raises(sc.ScenarioError) as opt:
        P.objective_of("fill-rate", typed)
    with pytest.raises(PortfolioInputError) as pf:
        settings_from_form(None, 20, 90, "fill-rate", typed)
    assert str(opt.value) == str(pf.value) and str(opt.value).startswith("target fill rate: ")


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
    assert "target fill rate: 0.3 is out of range (0.5 to 0.999" in str(status)
    layout = P.layout(objective="fill-rate", target="0.9")
    assert _find(layout, "opt-objective").value == "fill-rate" and _find(layout, "opt-target").value == 0.9
    bad = P.layout(objective="fill-rate", target="2")
    assert _find(bad, "opt-objective").value == "cost"
    assert "target fill rate: '2' is out of range" in str(_find(bad, "opt-status"))


def test_the_target_fields_let_a_percentage_reach_the_server():
    """An HTML max of 0.999 would make the browser send 95 as blank ("a value is required" for what was typed)."""
    from dashapp import ids as pf_ids
    from dashapp.pages.portfolio import page as pf_page
    fields = [_find(P.layout(), "opt-target"), _find(pf_page.layout(), pf_ids.PF_TARGET)]
    assert all(f is not None for f in fields)
    for f in fields:  # and step "any": the default step 1 makes 0.95 invalid (sent as blank too)
        assert getattr(f, "min", None) is None and getattr(f, "max", None) is None and f.step == "any"
