"""`python -m engine exact` refuses what it cannot answer exactly instead of printing a wrong optimum or a
traceback: a --bound that truncates the optimum or would not fit in memory, fractional or degenerate demand, an
optimum of zero (gaps undefined), an unconverged optimum and a policy that undercuts the computed optimum."""
from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pytest

from engine.cli.main import main
from engine.errors import ConfigError, DataError
from engine.exact import report as report_mod
from engine.exact.backorders import _G, _expected_next, lead_time_demand, newsvendor, solve_backorders
from engine.exact.distributions import MIN_DEMAND_RATE, empirical, from_counts, from_values, poisson
from engine.exact.report import NOT_CONVERGED, UNDERCUT, bound_range, exact_report
from engine.exact.solve import solve_optimal

HEADER = "Date,SKU_ID,Warehouse_ID,Units_Sold\n"


def _csv(path, demand, item="A", start=1):
    return "".join(f"2024-01-{start + i:02d},{item},W,{v}\n" for i, v in enumerate(demand))


def _one_error_line(capsys) -> str:
    got = capsys.readouterr()
    assert got.out == "" and "Traceback" not in got.err and got.err.count("\n") == 1
    return got.err


# ----- --bound ---------------------------------------------------------------------------------------------------

def test_a_bound_below_the_base_stock_level_is_refused_naming_the_smallest_bound(capsys):
    """--bound 5 used to print an 'optimum' of 30.21 and gaps of −79 %: the bound truncated the state space."""
    assert main(["exact", "--demand-dist", "poisson:5", "--lead-time", "2", "--bound", "5"]) == 2
    err = _one_error_line(capsys)
    low = newsvendor(poisson(5.0).pmf, 2, 1.0, 9.0)[0] + 1
    assert "--bound 5" in err and f"--bound {low} or more" in err


def test_the_smallest_accepted_bound_keeps_the_optimum_and_no_gap_is_negative(capsys):
    low, _ = bound_range(2, poisson(5.0).pmf, 1.0, 9.0)
    assert low == newsvendor(poisson(5.0).pmf, 2, 1.0, 9.0)[0] + 1
    assert main(["exact", "--demand-dist", "poisson:5", "--lead-time", "2", "--bound", str(low - 1)]) == 2
    capsys.readouterr()
    assert main(["exact", "--demand-dist", "poisson:5", "--lead-time", "2", "--bound", str(low), "--json"]) == 0
    at_low = json.loads(capsys.readouterr().out)
    assert main(["exact", "--demand-dist", "poisson:5", "--lead-time", "2", "--json"]) == 0
    default = json.loads(capsys.readouterr().out)
    assert at_low["bound"] == low < default["bound"]
    assert at_low["optimal_cost"] == pytest.approx(default["optimal_cost"], abs=1e-6)
    gaps = [r["gap"] for r in at_low["policies"]] + [at_low["base_stock"]["gap"]]
    assert min(gaps) > -1e-6


def test_a_bound_an_order_cost_optimum_goes_past_is_refused_after_the_solve(capsys):
    """With K > 0 the optimum orders up to well above the K = 0 level, so the up-front limit is not enough: the
    solved policy reaching the bound is what gives the truncation away."""
    args = ["exact", "--demand-dist", "poisson:5", "--lead-time", "1", "--stockout-cost", "19", "--order-cost", "20",
            "--no-policies"]
    assert main([*args, "--bound", "18"]) == 2
    err = _one_error_line(capsys)
    assert "--bound 18 cuts the optimum off" in err and "larger --bound" in err
    assert main([*args, "--bound", "25", "--json"]) == 0
    wide = json.loads(capsys.readouterr().out)
    assert main([*args, "--json"]) == 0
    default = json.loads(capsys.readouterr().out)
    assert wide["optimal_cost"] == pytest.approx(default["optimal_cost"], abs=1e-6)


def test_a_huge_bound_is_refused_before_the_solver_allocates(capsys, monkeypatch):
    """--bound 100000 used to ask numpy for 74.5 GiB (the (B + 1)² leftover matrix)."""
    def no_model(*a, **k):
        raise AssertionError("a grid was built for a refused bound")

    monkeypatch.setattr(report_mod, "GridModel", no_model)
    assert main(["exact", "--demand-dist", "poisson:5", "--bound", "100000"]) == 2
    err = _one_error_line(capsys)
    assert "--bound 100000" in err and "--bound 1731 or less" in err


def test_the_largest_bound_follows_the_grid_limit():
    dist = poisson(5.0)
    _, high = bound_range(1, dist.pmf, 1.0, 9.0, max_grid=10_000)
    assert high == 99
    rep = exact_report(dist, 1, bound=high, policies=False, max_grid=10_000)
    assert rep["certified"] and rep["bound"] == 99
    with pytest.raises(ConfigError, match="--bound 100 is above 99"):
        exact_report(dist, 1, bound=high + 1, policies=False, max_grid=10_000)


def test_bound_with_backorders_is_refused_not_ignored(capsys):
    assert main(["exact", "--demand-dist", "poisson:5", "--backorders", "--bound", "30"]) == 2
    assert "--bound" in _one_error_line(capsys)


# ----- zero-cost optimum -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("demand", [[10] * 20, [10]], ids=["constant", "one-row"])
@pytest.mark.parametrize("extra", [[], ["--backorders"], ["--order-cost", "3", "--no-policies"]],
                         ids=["lost-sales", "backorders", "order-cost"])
def test_a_zero_cost_optimum_leaves_gaps_undefined_instead_of_crashing(capsys, tmp_path, demand, extra):
    f = tmp_path / "d.csv"
    f.write_text(HEADER + _csv(f, demand))
    args = ["exact", "--demand-dist", f"empirical:{f}", "--lead-time", "2", *extra]
    assert main([*args, "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    if rep["optimal_cost"] == 0.0:
        assert "gap_note" in rep
        assert all(r["gap"] is None for r in rep["policies"])
    else:  # an order cost K is paid every period: the optimum is K, not 0
        assert "gap_note" not in rep and rep["optimal_cost"] == pytest.approx(3.0, abs=1e-6)
    assert main(args) == 0
    out = capsys.readouterr().out
    if rep["optimal_cost"] == 0.0:
        assert "–" in out and "undefined" in out and "%" not in out


# ----- demand --------------------------------------------------------------------------------------------------

def test_fractional_demand_is_refused_naming_file_row_and_column(capsys, tmp_path):
    """One series' demand + 0.5 was rounded half-to-even (mean 21.019 against the true 20.971) without a word."""
    f = tmp_path / "frac.csv"
    f.write_text(HEADER + _csv(f, [1, 2, 3, 4]) + _csv(f, [5, 6, 7.5, 8], item="B"))
    assert main(["exact", "--demand-dist", f"empirical:{f}:B/W"]) == 2
    err = _one_error_line(capsys)
    assert f"file {f.name}, row 8, column Units_Sold" in err and "7.5" in err and "whole number" in err
    assert main(["exact", "--demand-dist", f"empirical:{f}:A/W", "--no-policies"]) == 0


def test_fractional_demand_with_a_decimal_comma_is_refused_naming_its_row(tmp_path):
    f = tmp_path / "semi.csv"
    f.write_text("Date;SKU_ID;Warehouse_ID;Units_Sold\n2024-01-02;A;W;4\n2024-01-01;A;W;2,5\n")
    with pytest.raises(DataError) as exc:
        empirical(str(f), None)
    assert (exc.value.row, exc.value.column) == (3, "Units_Sold") and "2.5" in str(exc.value)


def test_values_and_counts_keep_integer_demand_and_refuse_fractions():
    assert from_values([0, 1, 1, 3], "x").pmf.tolist() == [0.25, 0.5, 0.0, 0.25]
    with pytest.raises(ConfigError, match="whole number"):
        from_values([1, 2.5], "x")
    with pytest.raises(ConfigError, match="positive in"):
        from_counts([int(2 / MIN_DEMAND_RATE), 1], "x")


@pytest.mark.parametrize("dist,needle", [
    ("poisson:1e300", "above 2000"),                 # was: ValueError cannot convert float NaN to integer
    ("negbin:1e300:1e301", "above 2000"),
    ("negbin:5:1e300", "not the 5 and 1e+300"),      # was: silently demand 0 every period
    ("negbin:1500:100000", "support points"),
    ("poisson:0.0001", "positive in 0.0001"),        # was: unconverged optimum, negative gaps
    ("poisson:1e-300", "positive in"),               # was: ValueError min() arg is an empty sequence
    ("poisson:0", "must be positive"),
])
def test_demand_parameters_the_model_cannot_hold_are_refused(capsys, dist, needle):
    assert main(["exact", "--demand-dist", dist, "--lead-time", "0"]) == 2
    err = _one_error_line(capsys)
    assert "--demand-dist" in err and needle in err


# ----- certificate backstops ---------------------------------------------------------------------------------

def test_an_unconverged_optimum_is_not_certified(capsys, monkeypatch):
    monkeypatch.setattr(report_mod, "solve_optimal", lambda model: solve_optimal(model, max_iter=3))
    assert main(["exact", "--demand-dist", "poisson:5", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["certified"] is False and rep["status"] == NOT_CONVERGED
    assert rep["optimal_cost"] is None and rep["policies"] == []
    monkeypatch.setattr(report_mod, "solve_backorders", lambda *a, **k: solve_backorders(*a, **k, max_iter=3))
    assert main(["exact", "--demand-dist", "poisson:5", "--backorders"]) == 0
    out = capsys.readouterr().out
    assert NOT_CONVERGED in out and "%" not in out


def test_a_policy_below_the_optimum_voids_the_certificate(capsys, monkeypatch):
    real = report_mod.best_base_stock

    def too_cheap(*a):
        res = real(*a)
        res.cost /= 2
        return res

    monkeypatch.setattr(report_mod, "best_base_stock", too_cheap)
    assert main(["exact", "--demand-dist", "poisson:5", "--no-policies"]) == 0
    out = capsys.readouterr().out
    assert UNDERCUT in out and "%" not in out


# ----- backorders at long lead times ------------------------------------------------------------------------

def test_backorder_costs_and_expectations_match_the_direct_sums():
    rng = np.random.default_rng(3)
    pmf = poisson(30.0).pmf
    for L in (0, 3):
        conv = lead_time_demand(pmf, L)
        y = np.arange(-len(pmf), len(conv) + 20)
        d = np.arange(len(conv))
        direct = 1.0 * (np.maximum(y[:, None] - d, 0) @ conv) + 9.0 * (np.maximum(d - y[:, None], 0) @ conv)
        assert np.allclose(_G(y, conv, 1.0, 9.0), direct, rtol=1e-12, atol=1e-9)
    V = rng.random(200)
    idx = np.clip(np.arange(200)[:, None] - np.arange(len(pmf))[None, :], 0, 199)
    assert np.allclose(_expected_next(V, pmf), V[idx] @ pmf, rtol=1e-13)


def test_the_backorder_solver_memory_does_not_grow_with_lead_time_times_demand():
    """poisson:1000 at lead time 30 held a positions × lead-time-demand table: 23 GB resident."""
    pmf = poisson(200.0).pmf
    tracemalloc.start()
    try:
        sol = solve_backorders(pmf, 10, 1.0, 9.0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sol.converged and sol.level == newsvendor(pmf, 10, 1.0, 9.0)[0]
    assert peak < 20 * 2**20
