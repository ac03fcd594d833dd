"""The lean grid solver (engine.exact.grid/solve/chain), the one-step lookahead heuristic, fixed order costs and
order multiples, and the certificate when a lead time is beyond reach."""
from __future__ import annotations

import json

import numpy as np
import pytest

from engine.cli.main import main
from engine.exact.backorders import solve_backorders
from engine.exact.chain import PolicyChain, evaluate_actions, relative_values
from engine.exact.distributions import from_values, poisson
from engine.exact.evaluate import evaluate_policy
from engine.exact.fixed_cost import best_policy, evaluate_s_s, s_s_orders
from engine.exact.grid import GridModel, default_bounds
from engine.exact.lookahead import capped_actions, one_step_lookahead, pil_grid_actions
from engine.exact.model import LostSalesModel
from engine.exact.policies import best_base_stock, best_capped_base_stock, best_pil
from engine.exact.report import NOT_CERTIFIED, exact_report
from engine.exact.solve import solve_optimal

MEAN5 = poisson(5.0)


def _grid(L, p, K=0.0, m=1, pmf=MEAN5.pmf):
    B, Q = default_bounds(L, pmf, 1.0, p, K, m)
    return GridModel(L, B, Q, pmf, 1.0, float(p), K, m)


@pytest.mark.parametrize("L", [0, 1, 2, 3])
def test_grid_policy_cost_equals_the_sparse_simplex_model(L):
    """The same capped base-stock policy evaluated on the grid chain and on engine.exact.model's sparse matrix."""
    S, cap = 5 * (L + 1) + 3, 7
    grid = GridModel(L, S, S if L <= 1 else cap, MEAN5.pmf, 1.0, 9.0)
    a = capped_actions(grid, S, cap)
    simplex = LostSalesModel(L, S, MEAN5.pmf, 1.0, 9.0)
    b = np.minimum(np.maximum(S - simplex.states().sum(axis=1), 0), cap)
    assert evaluate_actions(grid, a).cost == pytest.approx(evaluate_policy(simplex, b).cost, rel=1e-9)


def test_value_determination_brackets_the_stationary_cost():
    model = _grid(3, 9)
    a = pil_grid_actions(model, 7.0)
    _, lo, hi, _ = relative_values(PolicyChain(model, a))
    cost = evaluate_actions(model, a).cost
    assert lo - 1e-9 <= cost <= hi + 1e-9 and hi - lo < 1e-6


def test_wider_order_cap_and_position_bound_leave_the_optimum_unchanged():
    model = _grid(3, 19)
    wide = GridModel(3, model.B + 4, model.Q + 5, MEAN5.pmf, 1.0, 19.0)
    a, b = solve_optimal(model), solve_optimal(wide)
    assert wide.n_states > 2 * model.n_states
    assert a.cost == pytest.approx(b.cost, abs=1e-6)


@pytest.mark.parametrize("p", [4, 9, 19, 39])
@pytest.mark.parametrize("L", [1, 2, 3])
def test_lookahead_improves_the_best_simple_policy_to_within_half_a_percent(p, L):
    model = _grid(L, p)
    opt = solve_optimal(model).cost
    pmf = MEAN5.pmf
    base = best_base_stock(L, pmf, 1.0, p)
    capped, pil = best_capped_base_stock(L, pmf, 1.0, p, base), best_pil(L, pmf, 1.0, p)
    for acts in ((capped_actions(model, capped.params["S"], capped.params["cap"])),
                 pil_grid_actions(model, pil.params["target"])):
        la = one_step_lookahead(model, acts)
        assert opt * (1 - 1e-7) <= la.value.cost <= la.base_cost + 1e-7  # policy improvement never hurts
    best = min(capped.cost, pil.cost)
    la = one_step_lookahead(model, capped_actions(model, capped.params["S"], capped.params["cap"]) if
                            capped.cost <= pil.cost else pil_grid_actions(model, pil.params["target"]))
    assert la.value.cost <= best + 1e-7
    assert la.value.cost / opt - 1 < 0.005


def test_order_cost_zero_is_the_plain_model_and_a_positive_cost_orders_less_often():
    plain = solve_optimal(_grid(2, 9))
    zero = solve_optimal(GridModel(2, *default_bounds(2, MEAN5.pmf, 1.0, 9.0), MEAN5.pmf, 1.0, 9.0, 0.0, 1))
    assert zero.cost == pytest.approx(plain.cost, abs=1e-9)
    m5 = _grid(2, 9, K=5.0)
    with_k = solve_optimal(m5)
    v0 = evaluate_actions(_grid(2, 9), plain.actions)
    v5 = evaluate_actions(m5, with_k.actions)
    assert v5.order_rate < v0.order_rate
    assert with_k.cost > plain.cost
    assert v5.cost == pytest.approx(with_k.cost, abs=1e-6)


def test_order_multiples_are_respected_and_cost_more():
    m = _grid(2, 9, m=4)
    sol = solve_optimal(m)
    assert (sol.actions % 4 == 0).all() and sol.actions.max() >= 4
    assert sol.cost > solve_optimal(_grid(2, 9)).cost


@pytest.mark.parametrize("K,m", [(5.0, 1), (3.0, 2)])
def test_backorders_with_order_cost_the_best_s_S_is_optimal(K, m):
    """Scarf (1960): with backorders an (s, S) policy is optimal, so the searched (s, S) must reach the optimum."""
    sol = solve_backorders(MEAN5.pmf, 1, 1.0, 9.0, K=K, multiple=m)
    res = best_policy("s-S", 1, MEAN5.pmf, 1.0, 9.0, K, m, backorders=True)
    assert res.cost == pytest.approx(sol.cost, rel=1e-7)
    assert res.params["s"] == sol.reorder


def test_lost_sales_s_S_is_above_the_optimum_and_its_orders_are_packs():
    model = _grid(1, 9, K=4.0, m=3)
    opt = solve_optimal(model).cost
    res = best_policy("s-S", 1, MEAN5.pmf, 1.0, 9.0, 4.0, 3)
    assert res.cost >= opt * (1 - 1e-9)
    cost, rate = evaluate_s_s(1, MEAN5.pmf, 1.0, 9.0, 4.0, res.params["s"], res.params["S"], 3)
    assert cost == pytest.approx(res.cost) and 0 < rate < 1
    orders = s_s_orders(np.arange(30), res.params["s"], res.params["S"], 3)
    assert (orders % 3 == 0).all()


def test_report_with_order_cost_offers_s_S_s_nQ_and_the_lookahead():
    rep = exact_report(poisson(3.0), 1, 1.0, 9.0, order_cost=4.0)
    names = [r["name"] for r in rep["policies"]]
    assert names == ["s-S", "s-nQ", "lookahead"]
    assert all(r["gap"] >= -1e-7 for r in rep["policies"])
    assert rep["policies"][-1]["heuristic"] is True
    assert rep["policies"][-1]["cost"] <= min(r["cost"] for r in rep["policies"][:2]) + 1e-7
    assert rep["base_stock"]["cost"] > rep["policies"][0]["cost"]


def test_beyond_reach_is_a_certificate_status_not_an_error(capsys):
    rep = exact_report(MEAN5, 9, 1.0, 9.0)
    assert rep["certified"] is False and rep["status"] == NOT_CERTIFIED and rep["optimal_cost"] is None
    assert rep["largest_lead_time"] == 6
    assert main(["exact", "--demand-dist", "poisson:5", "--lead-time", "9", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == NOT_CERTIFIED and out["largest_lead_time"] == 6
    assert main(["exact", "--demand-dist", "poisson:5", "--lead-time", "9"]) == 0
    text = capsys.readouterr().out
    assert NOT_CERTIFIED in text and "is 6" in text


def test_empirical_series_gets_a_certificate_per_policy(capsys, tmp_path):
    f = tmp_path / "d.csv"
    vals = [0, 1, 2, 1, 3, 0, 2, 1, 1, 2, 4, 0, 1, 2]
    f.write_text("Date,SKU_ID,Warehouse_ID,Units_Sold\n" + "".join(
        f"2024-01-{i + 1:02d},A,W,{v}\n" for i, v in enumerate(vals)))
    assert main(["exact", "--demand-dist", f"empirical:{f}:A/W", "--lead-time", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["certified"] is True and out["demand"] == "empirical:A/W"
    assert out["demand_mean"] == pytest.approx(np.mean(vals))
    assert len(out["policies"]) == 4
    for r in out["policies"]:
        assert r["gap"] == pytest.approx(r["cost"] / out["optimal_cost"] - 1) and r["gap"] > -1e-6
    assert min(r["gap"] for r in out["policies"]) < 0.005


def test_demand_without_zeros_on_the_grid_with_order_cost():
    dist = from_values([3, 4, 4, 5, 6], "test")
    sol = solve_optimal(_grid(2, 9, K=2.0, pmf=dist.pmf))
    assert sol.upper - sol.lower < 1e-6
    assert evaluate_actions(_grid(2, 9, K=2.0, pmf=dist.pmf), sol.actions).cost == pytest.approx(sol.cost, abs=1e-6)


@pytest.mark.slow
def test_bijvank_bhulai_huh_table_1_lost_sales_with_order_cost(capsys):
    """Bijvank, Bhulai & Huh (2015), Table 1: Poisson(5), L = 2, h = 1, p = 14, K = 5: optimum 11.46, best (s, S)
    11.62."""
    assert main(["exact", "--demand-dist", "poisson:5", "--lead-time", "2", "--holding-cost", "1",
                 "--stockout-cost", "14", "--order-cost", "5", "--lost-sales", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["optimal_cost"] == pytest.approx(11.46, rel=0.005)
    ss = next(r for r in out["policies"] if r["name"] == "s-S")
    assert ss["cost"] == pytest.approx(11.62, rel=0.005)
    assert min(r["gap"] for r in out["policies"]) < 0.01


def test_beyond_the_simplex_searches_capped_base_stock_is_searched_on_its_own_grid(monkeypatch):
    """With the simplex searches out of reach (limit lowered), the report still offers capped base-stock (found on
    its grid: the same policy cost as the simplex search finds), constant order and the lookahead."""
    from engine.exact import report as rp

    full = exact_report(MEAN5, 3, 1.0, 9.0)
    monkeypatch.setattr(rp, "POLICY_STATES", 10)
    small = exact_report(MEAN5, 3, 1.0, 9.0)
    names = [r["name"] for r in small["policies"]]
    assert names == ["capped-base-stock", "constant-order", "lookahead"]
    assert small["base_stock"] is None and "not searched" in small["policies_note"]
    by = {r["name"]: r for r in full["policies"]}
    grid_capped = small["policies"][0]
    assert grid_capped["cost"] == pytest.approx(by["capped-base-stock"]["cost"], rel=1e-3)
    assert 0 <= small["policies"][2]["gap"] < 0.005


@pytest.mark.slow
@pytest.mark.parametrize("p", [4, 9, 19, 39])
def test_zipkin_lead_time_four_best_offered_policy_within_half_a_percent(p):
    rep = exact_report(MEAN5, 4, 1.0, float(p))
    assert min(r["gap"] for r in rep["policies"]) < 0.005
    assert all(r["gap"] > -1e-6 for r in rep["policies"])
    assert rep["bound_mass"] < 1e-6


@pytest.mark.slow
def test_lead_time_five_reaches_the_published_optimum():
    """Poisson(5), h = 1, p = 9, L = 5: 7.05802 (DynaPlex's exact solver, issue 24)."""
    sol = solve_optimal(_grid(5, 9))
    assert sol.cost == pytest.approx(7.05802, abs=1e-5)
    assert sol.upper - sol.lower < 1e-6


def test_lead_time_zero_lost_sales_base_stock_is_optimal():
    """With L = 0 the order arrives before demand: the newsvendor base-stock is optimal under lost sales too."""
    rep = exact_report(poisson(3.0), 0, 1.0, 9.0)
    assert rep["base_stock"]["gap"] == pytest.approx(0.0, abs=1e-7)
    k = exact_report(poisson(3.0), 0, 1.0, 9.0, order_cost=3.0)
    assert k["optimal_cost"] > rep["optimal_cost"]
    assert min(r["gap"] for r in k["policies"]) == pytest.approx(0.0, abs=1e-6)  # (s, S) is optimal at L = 0
