"""A supplier's order rules (engine/policies/order_rules.py) and their path through the kernel, the single run, the
batch, the CLI, the K-aware policy and the portfolio."""
from __future__ import annotations

import csv
import datetime as dt
import json
import subprocess
import sys

import numpy as np
import pytest

from engine.cli.main import main
from engine.errors import ConfigError
from engine.policies.lot_sizing import eoq
from engine.policies.order_rules import OrderRules, parse_order_days, weekday_of
from engine.simulation.batch import run_batch
from engine.simulation.kernel import InventoryKernel
from engine.simulation.simulator import SimConfig, Simulator

from .conftest import REPO, SAMPLE

MON, TUE, THU = 0, 1, 3


# -- the rule ------------------------------------------------------------------------------------------------------
def test_rounds_up_to_pack_multiples_and_the_moq():
    rules = OrderRules(moq=24, pack_size=12)
    assert rules.apply(0.4, MON) == 24.0          # below the MOQ: the MOQ
    assert rules.apply(25.0, MON) == 36.0         # above it: the next pack multiple up
    assert rules.apply(36.0, MON) == 36.0         # already a multiple: unchanged
    assert rules.apply(36.5, MON) == 48.0
    assert rules.apply(0.0, MON) == 0.0           # nothing needed: no order, not the MOQ
    assert rules.apply(-3.0, MON) == 0.0
    assert OrderRules(moq=30, pack_size=12).apply(1.0, MON) == 36.0   # the MOQ itself rounded up to packs


def test_integer_orders_and_no_rules_leave_quantities_alone():
    assert OrderRules(integer=True).apply(11.046, MON) == 12.0
    assert OrderRules().apply(11.046, MON) == 11.046
    assert not OrderRules().active and OrderRules(order_cost=5).active is False


def test_order_days_zero_other_days_and_set_the_review_period():
    rules = OrderRules(pack_size=10, order_days=("mon", "thu"))
    assert rules.apply(15.0, MON) == 20.0 and rules.apply(15.0, THU) == 20.0
    assert rules.apply(15.0, TUE) == 0.0
    assert rules.review_period() == 4             # thu → mon is the longest gap
    assert OrderRules(order_days=("wed",)).review_period() == 7
    assert OrderRules().review_period() == 1


def test_arrays_equal_scalars_elementwise():
    rules = OrderRules(moq=7, pack_size=3)
    want = np.array([0.0, 1e-12, 0.5, 6.9, 7.0, 7.1, 29.99, 30.0, 100.2])
    got = rules.apply(want, MON)
    assert got.tolist() == [rules.apply(float(x), MON) for x in want]
    assert rules.apply(want, TUE).tolist() == got.tolist()
    assert OrderRules(order_days=("mon",)).apply(want, TUE).tolist() == [0.0] * len(want)


def test_parse_order_days_and_weekdays():
    assert parse_order_days("Thu;mon") == ("mon", "thu")
    assert parse_order_days(["monday", "Friday"]) == ("mon", "fri")
    assert parse_order_days("") is None
    assert parse_order_days("mon,tue,wed,thu,fri,sat,sun") is None
    assert parse_order_days("daily") is None and parse_order_days("Mon | Thursday") == ("mon", "thu")  # as items
    with pytest.raises(ConfigError, match="unknown order day: 'funday' is not a weekday"):
        parse_order_days("mon,funday")
    assert weekday_of("2024-01-01") == MON and weekday_of("2024-01-04") == THU
    assert weekday_of(None) == MON


def test_config_validation_messages():
    with pytest.raises(ConfigError, match="pack_size must be a whole number"):
        SimConfig(pack_size=2.5).validate()
    with pytest.raises(ConfigError, match="moq = -1 is out of range"):
        SimConfig(moq=-1).validate()
    with pytest.raises(ConfigError, match="order_cost = -5 is out of range"):
        SimConfig(order_cost=-5).validate()
    with pytest.raises(ConfigError, match="unknown order day"):
        SimConfig.from_options({"order_days": "mon,xyz"})
    cfg = SimConfig.from_options({"order_days": "thu,mon", "pack_size": "12", "moq": "24", "order_cost": "5"})
    assert cfg.order_days == ["mon", "thu"] and cfg.pack_size == 12
    assert SimConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))).order_rules() == cfg.order_rules()


# -- the kernel ----------------------------------------------------------------------------------------------------
def test_kernel_places_the_rounded_quantity_and_charges_k():
    rules = OrderRules(moq=24, pack_size=12, order_days=("mon", "thu"), order_cost=5.0)
    k = InventoryKernel(0.0, h=0.1, p=1.0, max_lead=0, rules=rules, first_weekday=MON)
    placed, _ = k.place(0, 5.0, 0)
    assert placed and k.ordered == 24.0
    flows = k.serve(0, 3.0, placed)
    assert flows.ordering == 5.0 and flows.daily == pytest.approx(0.1 * 21.0 + 5.0)
    placed, _ = k.place(1, 50.0, 0)               # a Tuesday: nothing is ordered
    assert not placed and k.ordered == 0.0
    assert k.serve(1, 0.0, placed).ordering == 0.0
    assert k.finish()["ordering"] == 5.0


# -- the single run, the ledger, the KPIs --------------------------------------------------------------------------
CONSTRAINED = dict(moq=24, pack_size=12, order_days=["mon", "thu"], order_cost=5.0)


def test_simulate_cli_ledger_respects_every_rule(tmp_path, capsys):
    out = tmp_path / "ledger.csv"
    rc = main(["simulate", "--data", str(SAMPLE), "--forecaster", "ma7", "--moq", "24", "--pack-size", "12",
               "--order-days", "mon,thu", "--order-cost", "5", "--ledger", str(out), "--json"])
    assert rc == 0
    kpis = json.loads(capsys.readouterr().out)
    rows = list(csv.DictReader(out.open()))
    orders = [r for r in rows if float(r["order_qty"]) > 0]
    assert len(orders) >= 5
    for r in rows:
        q = float(r["order_qty"])
        weekday = dt.date.fromisoformat(r["date"]).strftime("%a").lower()
        if q > 0:
            assert weekday in ("mon", "thu"), r["date"]
            assert q >= 24 and q % 12 == 0, q
            assert float(r["ordering_cost"]) == 5.0
        else:
            assert float(r["ordering_cost"]) == 0.0
    assert kpis["ordering_cost"] == pytest.approx(5.0 * len(orders))
    assert kpis["orders_placed"] == len(orders)
    assert kpis["orders_per_year"] == pytest.approx(len(orders) * 365 / len(rows))
    assert kpis["cost_per_order_line"] == pytest.approx(5.0)
    assert kpis["total_cost"] == pytest.approx(kpis["holding_cost"] + kpis["stockout_cost"] + kpis["ordering_cost"])


@pytest.mark.slow
def test_cli_refuses_a_bad_order_day_in_one_line():
    res = subprocess.run([sys.executable, "-m", "engine", "simulate", "--data", str(SAMPLE), "--forecaster", "ma7",
                          "--order-days", "mon,someday"], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert res.returncode == 2
    assert res.stderr.startswith("error: ") and "unknown order day" in res.stderr
    assert "Traceback" not in res.stderr


def test_order_cost_is_in_the_daily_and_cumulative_cost(sample_series):
    sim = Simulator(SimConfig(forecaster="ma7", days=40, **CONSTRAINED), sample_series)
    sim.run()
    total = sum(r["holding_cost"] + r["stockout_cost"] + r["ordering_cost"] for r in sim.ledger)
    assert sim.ledger[-1]["cumulative_cost"] == pytest.approx(total)
    assert sum(r["ordering_cost"] for r in sim.ledger) == 5.0 * sum(r["order_qty"] > 0 for r in sim.ledger)


def test_order_days_lengthen_the_protection_period(sample_series):
    daily = Simulator(SimConfig(forecaster="ma7", days=5, lead_time=3), sample_series)
    weekly = Simulator(SimConfig(forecaster="ma7", days=5, lead_time=3, order_days=["wed"]), sample_series)
    assert daily.window == 4 and weekly.window == 3 + 7
    assert weekly.info()["order_rules"]["review_period"] == 7


def test_state_round_trip_keeps_the_rules(sample_series):
    cfg = SimConfig(forecaster="ma7", days=30, **CONSTRAINED)
    whole = Simulator(cfg, sample_series)
    whole.run()
    half = Simulator(cfg, sample_series)
    half.run(13)
    resumed = Simulator.from_state(json.loads(json.dumps(half.to_state())))
    resumed.run()
    assert resumed.ledger == whole.ledger


@pytest.mark.parametrize("policy", ["order-up-to", "s-S", "r-Q", "s-S-eoq", "capped-base-stock"])
@pytest.mark.parametrize("mode", ["replay", "synthetic"])
def test_batch_equals_single_runs_bit_for_bit_with_rules(sample_series, policy, mode):
    cfg = dict(demand=mode, policy=policy, days=45, seed=3, forecaster="ma7", **CONSTRAINED)
    res = run_batch(SimConfig(**cfg), sample_series, replications=3, keep_ledgers=3)
    for r in range(3):
        sim = Simulator(SimConfig(**cfg), sample_series, replication=r)
        sim.run()
        assert res.ledger(r) == sim.ledger
        for k, v in sim.kpis().items():
            got = res.kpis[k] if k == "days" else res.kpis[k][r]
            assert got == v or (v is None and np.isnan(got)), k
        assert any(row["order_qty"] > 0 for row in sim.ledger)
        for row in sim.ledger:
            assert row["order_qty"] == 0 or (row["order_qty"] >= 24 and row["order_qty"] % 12 == 0)


# -- the K-aware policy --------------------------------------------------------------------------------------------
def test_eoq_policy_is_order_up_to_without_k_and_orders_less_with_it(sample_series):
    base = dict(demand="synthetic", days=60, seed=9, forecaster="ma7")
    out = run_batch(SimConfig(policy="order-up-to", **base), sample_series, 5, keep_ledgers=5)
    same = run_batch(SimConfig(policy="s-S-eoq", **base), sample_series, 5, keep_ledgers=5)
    assert all(out.ledger(r) == same.ledger(r) for r in range(5))   # K = 0: EOQ 0, the same rule
    daily = run_batch(SimConfig(policy="order-up-to", order_cost=5.0, **base), sample_series, 5)
    lots = run_batch(SimConfig(policy="s-S-eoq", order_cost=5.0, **base), sample_series, 5)
    assert lots.info["policy"]["eoq"] > 0
    assert (lots.kpis["orders_placed"] < daily.kpis["orders_placed"]).all()
    assert lots.kpis["total_cost"].mean() < daily.kpis["total_cost"].mean()


def test_eoq_formula_and_the_gap_under_periodic_review():
    from engine.policies.base import PolicySetup
    from engine.policies.lot_sizing import EoqSS

    assert eoq(5.0, 20.0, 0.01) == pytest.approx((2 * 5 * 20 / 0.01) ** 0.5)
    assert eoq(0.0, 20.0, 0.01) == 0.0

    def gap(K, R):
        setup = PolicySetup(h=0.01, p=1.0, lead_time=2, window=2 + R, sigma_window=1.0, sigma_one=1.0,
                            mean_demand=20.0, demand_std=4.0, order_cost=K, review_period=R)
        return EoqSS(setup).lot_size

    assert gap(5.0, 4) == pytest.approx(eoq(5.0, 20.0, 0.01) - 20.0 * 4 / 2)
    assert gap(0.05, 4) == 0.0                    # the review alone orders more than the EOQ: no extra gap


# -- the portfolio -------------------------------------------------------------------------------------------------
def test_portfolio_day_loop_follows_the_rules():
    from engine.studies.portfolio import _simulate

    rng = np.random.default_rng(0)
    demand = rng.poisson(6.0, size=(4, 40)).astype(float)
    level = np.full((4, 40), 6.0)
    quantile = np.array([[0.5, 1.5]] * 4)
    args = (level, demand, quantile, np.full(4, 2), np.full(4, 0.01), np.full(4, 1.0))
    free = _simulate(*args)
    packed = _simulate(*args, rules=OrderRules(moq=20, pack_size=10, order_cost=3.0))
    assert (packed["orders"] < free["orders"]).all()
    assert np.array_equal(packed["ordering"], 3.0 * packed["orders"])
    assert (free["ordering"] == 0).all()


def test_portfolio_settings_carry_the_rules_and_refuse_bad_ones():
    from engine.studies.portfolio import PortfolioSettings

    rules = PortfolioSettings(moq=24, pack_size=12, order_cost=5.0).validate().order_rules()
    assert rules == OrderRules(moq=24.0, pack_size=12, order_cost=5.0)
    with pytest.raises(ConfigError, match="--pack-size 2.5 is out of range"):
        PortfolioSettings(pack_size=2.5).validate()
    with pytest.raises(ConfigError, match="--order-cost -1 is out of range"):
        PortfolioSettings(order_cost=-1).validate()
