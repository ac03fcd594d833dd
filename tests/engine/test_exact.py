"""The exact lost-sales / backorder solver against published values, closed forms and the engine's simulator."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from engine.cli.main import main
from engine.data.dataset import SeriesData, load_csv
from engine.exact.backorders import base_stock_cost, newsvendor, solve_backorders
from engine.exact.chain import evaluate_actions
from engine.exact.distributions import negative_binomial, parse_demand_dist, poisson
from engine.exact.grid import GridModel, default_bounds
from engine.exact.model import enumerate_simplex, rank, simplex_size
from engine.exact.policies import (
    best_base_stock,
    best_capped_base_stock,
    best_pil,
    evaluate_base_stock,
    evaluate_capped,
)
from engine.exact.solve import solve_optimal
from engine.simulation.simulator import SimConfig, Simulator

# Zipkin (2008), Operations Research 56(5): Poisson demand, mean 5, h = 1; optimal average cost by (p, L).
# The issue quotes 4.73 (p = 4, L = 4) and 8.89 (p = 19, L = 4); the rest of rows p = 4, 9, 19 are the
# table as recalled in the task brief (our solver agrees with every one of them within 0.1 %). The p = 39 row
# of that recollection (7.80, 9.11, 10.12, 10.93) is not used: it could not be checked against the paper.
ZIPKIN_OPTIMAL = {
    (4, 1): 4.04, (4, 2): 4.40, (4, 3): 4.60, (4, 4): 4.73,
    (9, 1): 5.44, (9, 2): 6.09, (9, 3): 6.53, (9, 4): 6.84,
    (19, 1): 6.68, (19, 2): 7.66, (19, 3): 8.36, (19, 4): 8.89,
}
ZIPKIN_BASE_STOCK_P4_L4 = 5.20  # "best base-stock about 5.20" (issue)
FAST = [k for k in ZIPKIN_OPTIMAL if k[1] <= 2]
SLOW = [k for k in ZIPKIN_OPTIMAL if k[1] > 2]
MEAN5 = poisson(5.0)


def _grid(p, L, extra=0):
    B, Q = default_bounds(L, MEAN5.pmf, 1.0, p)
    return GridModel(L, B + extra, Q + extra, MEAN5.pmf, 1.0, float(p))


def _optimum(p, L, extra=0):
    return solve_optimal(_grid(p, L, extra))


def test_simplex_rank_is_the_enumeration_order():
    for k, B in [(1, 6), (2, 9), (3, 7), (4, 5)]:
        t = enumerate_simplex(k, B)
        assert len(t) == simplex_size(k, B) == math.comb(B + k, k)
        assert (rank(t, B) == np.arange(len(t))).all()


@pytest.mark.parametrize("p,L", FAST)
def test_zipkin_optimal_cost_fast(p, L):
    sol = _optimum(p, L)
    assert sol.upper - sol.lower < 1e-5
    assert sol.cost == pytest.approx(ZIPKIN_OPTIMAL[(p, L)], rel=0.005)


@pytest.mark.slow
@pytest.mark.parametrize("p,L", SLOW)
def test_zipkin_optimal_cost_long_lead_times(p, L):
    sol = _optimum(p, L)
    assert sol.cost == pytest.approx(ZIPKIN_OPTIMAL[(p, L)], rel=0.005)


@pytest.mark.parametrize("p,L", [(9, 1), (39, 2), (4, 3)])
def test_optimum_does_not_depend_on_the_bound(p, L):
    small, large = _optimum(p, L), _optimum(p, L, extra=6)
    assert large.states > small.states
    assert small.cost == pytest.approx(large.cost, abs=2e-6)
    # the optimal policy's stationary mass at either bound is nil: the truncation is never felt
    v = evaluate_actions(_grid(p, L), small.actions)
    assert v.at_bound < 1e-6
    assert v.cost == pytest.approx(small.cost, abs=1e-5)


def test_the_optimal_policy_evaluated_exactly_is_no_better_than_the_optimum():
    sol = _optimum(9, 2)
    model = _grid(9, 2)
    v = evaluate_actions(model, sol.actions)
    assert sol.lower - 1e-9 <= v.cost <= sol.upper + 1e-6
    # and any other stationary policy costs at least as much
    other = np.maximum(14 - model.states().sum(axis=1), 0)
    assert evaluate_actions(model, other).cost >= sol.lower - 1e-9


@pytest.mark.slow
def test_best_base_stock_p4_l4_is_about_5_20_and_lost_sales_policies_close_the_gap():
    opt = _optimum(4, 4).cost
    base = best_base_stock(4, MEAN5.pmf, 1.0, 4.0)
    assert base.cost == pytest.approx(ZIPKIN_BASE_STOCK_P4_L4, abs=0.01)
    assert base.cost / opt - 1 > 0.08
    best = min(best_capped_base_stock(4, MEAN5.pmf, 1.0, 4.0, base).cost, best_pil(4, MEAN5.pmf, 1.0, 4.0).cost)
    assert best / opt - 1 < 0.01


@pytest.mark.parametrize("p,L", [(4, 1), (19, 2), (39, 2)])
def test_lost_sales_aware_policies_within_one_percent_fast(p, L):
    opt = _optimum(p, L).cost
    base = best_base_stock(L, MEAN5.pmf, 1.0, float(p))
    capped = best_capped_base_stock(L, MEAN5.pmf, 1.0, float(p), base)
    pil = best_pil(L, MEAN5.pmf, 1.0, float(p))
    assert capped.cost <= base.cost + 1e-12  # cap = S is base-stock itself
    for res in (base, capped, pil):
        assert res.cost >= opt * (1 - 1e-6)
    assert min(capped.cost, pil.cost) / opt - 1 < 0.01


def test_base_stock_with_the_cap_at_s_is_plain_base_stock():
    a = evaluate_base_stock(2, MEAN5.pmf, 1.0, 9.0, 15).cost
    b = evaluate_capped(2, MEAN5.pmf, 1.0, 9.0, 15, 15).cost
    assert a == pytest.approx(b, rel=1e-12)


@pytest.mark.parametrize("dist", [poisson(5.0), negative_binomial(4.0, 10.0)], ids=["poisson", "negbin"])
@pytest.mark.parametrize("L", [0, 1, 3])
@pytest.mark.parametrize("p", [4.0, 39.0])
def test_backorders_exact_solver_equals_the_newsvendor_closed_form(dist, L, p):
    sol = solve_backorders(dist.pmf, L, 1.0, p)
    S, cost = newsvendor(dist.pmf, L, 1.0, p)
    assert sol.level == S
    assert sol.lower - 1e-7 <= cost <= sol.upper + 1e-7
    # the closed form itself: S* is the smallest level with F(S) ≥ p/(p+h) for the (L+1)-period Poisson demand
    if dist.label.startswith("poisson"):
        assert S == int(stats.poisson.ppf(p / (p + 1.0), 5.0 * (L + 1)))
        assert base_stock_cost(dist.pmf, L, 1.0, p, S - 1) > cost and base_stock_cost(dist.pmf, L, 1.0, p, S + 1) > cost


def _iid_series(dist, n, seed):
    dem = dist.sample(np.random.default_rng(seed), n)
    return SeriesData(key="IID/1", dates=None, demand=dem, promo=np.zeros(n), unit_cost=365.0, unit_price=400.0)


def _simulated_cost(policy, params, L, p, backorders, paths=8, days=3000, warmup=100):
    """Mean daily cost over independent i.i.d. Poisson(5) paths replayed by the engine's Simulator (h = 1)."""
    costs = []
    for k in range(paths):
        cfg = SimConfig(policy=policy, policy_params=params, days=days, context_days=50, lead_time=L,
                        holding_rate=1.0, stockout_cost=p, backorders=backorders, demand="replay", forecaster="naive",
                        initial_inventory=float(params.get("S", params.get("base_stock_level", 0))))
        rows = Simulator(cfg, _iid_series(MEAN5, days + 50, [11, k])).run()
        costs.append(np.mean([r["daily_cost"] for r in rows[warmup:]]))
    costs = np.asarray(costs)
    half = stats.t.ppf(0.995, len(costs) - 1) * costs.std(ddof=1) / math.sqrt(len(costs))
    return costs.mean(), half


@pytest.mark.slow
def test_exact_evaluation_equals_the_simulator_lost_sales_capped_base_stock():
    mean, half = _simulated_cost("capped-base-stock", {"S": 17, "cap": 6}, 2, 9.0, False)
    exact = evaluate_capped(2, MEAN5.pmf, 1.0, 9.0, 17, 6).cost
    assert abs(mean - exact) <= half


@pytest.mark.slow
def test_exact_evaluation_equals_the_simulator_backorders_base_stock():
    mean, half = _simulated_cost("base-stock", {"base_stock_level": 14}, 1, 9.0, True)
    assert abs(mean - base_stock_cost(MEAN5.pmf, 1, 1.0, 9.0, 14)) <= half


def test_parse_demand_dist_errors():
    from engine.errors import ConfigError

    assert parse_demand_dist("poisson:2.5").mean == pytest.approx(2.5, rel=1e-9)
    nb = parse_demand_dist("negbin:4:10")
    assert (nb.mean, nb.var) == (pytest.approx(4.0, rel=1e-6), pytest.approx(10.0, rel=1e-5))
    for bad in ("poisson:-1", "negbin:5:4", "gamma:3", "empirical:"):
        with pytest.raises(ConfigError):
            parse_demand_dist(bad)


def test_cli_exact_json(capsys):
    assert main(["exact", "--demand-dist", "poisson:5", "--lead-time", "1", "--stockout-cost", "4", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"optimal_cost", "base_stock", "policies", "states", "seconds"}
    assert out["optimal_cost"] == pytest.approx(ZIPKIN_OPTIMAL[(4, 1)], rel=0.005)
    assert set(out["base_stock"]) >= {"level", "cost"}
    names = {r["name"] for r in out["policies"]}
    assert names == {"capped-base-stock", "projected-inventory-level", "constant-order", "lookahead"}
    assert [r.get("heuristic", False) for r in out["policies"]] == [False, False, False, True]
    for r in out["policies"]:
        assert r["gap"] == pytest.approx(r["cost"] / out["optimal_cost"] - 1)
        assert r["gap"] > -1e-6


def test_cli_exact_backorders_and_empirical(capsys, tmp_path):
    assert main(["exact", "--demand-dist", "poisson:5", "--lead-time", "2", "--backorders", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    S, cost = newsvendor(MEAN5.pmf, 2, 1.0, 9.0)
    assert out["base_stock"] == {"level": S, "cost": pytest.approx(cost)}
    assert out["optimal_cost"] == pytest.approx(cost, rel=1e-6)
    f = tmp_path / "d.csv"
    f.write_text("Date,SKU_ID,Warehouse_ID,Units_Sold\n" + "".join(
        f"2024-01-{i + 1:02d},A,W,{v}\n" for i, v in enumerate([0, 1, 2, 1, 3, 0, 2, 1, 1, 2])))
    assert main(["exact", "--demand-dist", f"empirical:{f}:A/W", "--lead-time", "1", "--no-policies"]) == 0
    assert "optimal average cost" in capsys.readouterr().out


@pytest.mark.parametrize("args,needle", [
    (["--demand-dist", "negbin:5:4"], "VAR > MEAN"),
    (["--demand-dist", "poisson:5", "--order-cost", "-1"], "order cost"),
    (["--demand-dist", "poisson:5", "--order-multiple", "0"], "order multiple"),
    (["--demand-dist", "poisson:5", "--lead-time", "-1"], "lead time"),
    (["--demand-dist", "poisson:5", "--stockout-cost", "0"], "stockout cost"),
    (["--demand-dist", "weibull:3"], "poisson:MEAN"),
])
def test_cli_exact_bad_arguments_exit_2_with_one_line(capsys, args, needle):
    assert main(["exact", *args]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


def test_cli_exact_unknown_series_names_the_choices(capsys, tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("Date,SKU_ID,Warehouse_ID,Units_Sold\n2024-01-01,A,W,1\n2024-01-02,A,W,2\n")
    assert main(["exact", "--demand-dist", f"empirical:{f}:B/W"]) == 2
    err = capsys.readouterr().err
    assert "A/W" in err and err.count("\n") == 1


def test_demand_without_zeros_uses_the_aperiodic_transform():
    from engine.exact.distributions import from_values

    dist = from_values([3, 4, 4, 5, 6], "test")
    assert dist.pmf[0] == 0
    model = GridModel(1, 16, 16, dist.pmf, 1.0, 9.0)
    sol = solve_optimal(model)
    assert sol.upper - sol.lower < 1e-5
    v = evaluate_actions(model, sol.actions)
    assert sol.lower - 1e-6 <= v.cost <= sol.upper + 1e-6
    bo = solve_backorders(dist.pmf, 2, 1.0, 9.0)
    assert bo.level == newsvendor(dist.pmf, 2, 1.0, 9.0)[0]


@pytest.mark.slow
@pytest.mark.parametrize("p,L", [(p, L) for p in (4, 9, 19, 39) for L in (1, 2, 3, 4)])
def test_best_lost_sales_aware_policy_within_one_percent_of_the_optimum(p, L):
    opt = _optimum(p, L).cost
    base = best_base_stock(L, MEAN5.pmf, 1.0, float(p))
    best = min(best_capped_base_stock(L, MEAN5.pmf, 1.0, float(p), base).cost,
               best_pil(L, MEAN5.pmf, 1.0, float(p)).cost)
    assert opt * (1 - 1e-6) <= best < opt * 1.01


def test_cli_exact_with_a_random_lead_time_is_not_certified(capsys):
    """The exact model's pipeline is one fixed lead time long: a lead-time distribution is answered "not
    certified", never solved at its mean."""
    assert main(["exact", "--demand-dist", "poisson:5", "--lead-time-dist", "poisson:5", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["certified"] is False and "optimal_cost" not in got and "policies" not in got
    assert got["status"] == "not certified: the exact model assumes a fixed lead time"
    assert main(["exact", "--demand-dist", "poisson:5", "--lead-time-dist", "uniform:4:10"]) == 0
    assert "not certified: the exact model assumes a fixed lead time" in capsys.readouterr().out
    assert main(["exact", "--demand-dist", "poisson:5", "--lead-time-dist", "fixed"]) == 2
    assert "--lead-time" in capsys.readouterr().err


def test_empirical_needs_whole_units_of_the_modelled_series_only(tmp_path):
    from engine.errors import DataError, FractionalDemandError
    from engine.exact.distributions import empirical

    f = tmp_path / "d.csv"
    f.write_text("Date,SKU_ID,Warehouse_ID,Units_Sold\n2024-01-01,A,W,1\n2024-01-02,A,W,2\n"
                 "2024-01-01,B,W,0.5\n2024-01-02,B,W,3\n")
    assert empirical(str(f), None).label == "empirical:A/W"   # the first series, whole: B's fraction is not read
    with pytest.raises(FractionalDemandError):
        load_csv(f, whole_demand=True)
    with pytest.raises(DataError) as exc:
        empirical(str(f), "B/W")
    assert (exc.value.row, exc.value.column, exc.value.value) == (4, "Units_Sold", 0.5)
    assert "the exact model needs demand in whole units" in exc.value.detail
    g = tmp_path / "first.csv"
    g.write_text("Date,SKU_ID,Warehouse_ID,Units_Sold\n2024-01-01,A,W,1.5\n2024-01-02,A,W,2\n")
    with pytest.raises(DataError) as exc:
        empirical(str(g), None)
    assert exc.value.row == 2 and "demand 1.5 of series A/W is not a whole number" in str(exc.value)
