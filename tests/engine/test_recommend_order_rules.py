"""The recommendation under a supplier's rules: an order cost K brings the K-aware (s, S) rule into the candidates
and K × orders into the cost, so a large K gives fewer, larger orders that cost no more than the K-blind answer
charged K on the same evaluation paths; order days make the simulated review periodic (orders only on those
weekdays, protection period L + R). `engine recommend` and `engine portfolio` still give one answer per series."""
from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

from engine.cli.main import main
from engine.data.dataset import load_csv
from engine.data.generator import generate_csv
from engine.policies.order_rules import OrderRules, weekday_of
from engine.simulation.kernel import InventoryKernel
from engine.studies import portfolio
from engine.studies.portfolio import PortfolioSettings, run_chunk
from engine.studies.recommend import recommend
from engine.studies.recommendation import same_recommendation

BASE = dict(lead_time=3, seed=11, days=84, replications=8)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    path = tmp_path_factory.mktemp("gen") / "gen.csv"
    path.write_text(generate_csv(days=400, series=2, seed=7))
    return path


@pytest.fixture(scope="module")
def series(generated):
    return load_csv(generated).get(None)


def test_a_large_order_cost_gives_fewer_orders_at_no_more_cost_than_the_k_blind_answer(series):
    K = 60.0
    blind = recommend(series, PortfolioSettings(**BASE))
    aware = recommend(series, PortfolioSettings(**BASE, order_cost=K))
    # the same evaluation paths (streams keyed by seed and series) and K does not change which orders are placed,
    # so the K-blind rule charged K costs its holding + lost sales plus K per order it placed there
    blind_orders = blind["orders_per_year"] * BASE["days"] / 365.0
    blind_with_k = blind["expected_cost"] + K * blind_orders
    assert aware["orders_per_year"] < 0.5 * blind["orders_per_year"]
    assert aware["expected_cost"] <= blind_with_k
    assert aware["costs"]["order_cost"] == K and "per order" in aware["objective"]["meaning"]
    if aware["policy"] == "s-S":
        p = aware["params"]
        assert p["order_up_to"] == pytest.approx(p["reorder_point"] + p["lot_size"]) and p["lot_size"] > 0


def test_without_an_order_cost_the_k_aware_rule_is_not_offered(series):
    rec = recommend(series, PortfolioSettings(**BASE))
    assert rec["policy"] in ("order-up-to", "r-Q") and rec["costs"]["order_cost"] == 0.0


def _order_weekdays(monkeypatch, series, settings) -> tuple[dict, set]:
    """run_chunk's record and the weekdays (Monday = 0) on which any of its simulated rows placed an order (a spy
    on the one kernel's place())."""
    days = set()
    first = (weekday_of(series.dates[-1]) + 1) % 7   # the first simulated day follows the history's last date

    class Spy(InventoryKernel):
        def place(self, d, qty, lead):
            placed, arrival = super().place(d, qty, lead)
            if np.any(placed):
                days.add((first + d) % 7)
            return placed, arrival

    monkeypatch.setattr(portfolio, "InventoryKernel", Spy)
    return run_chunk([series], settings)[0], days


def test_order_days_make_the_simulated_review_periodic(series, monkeypatch):
    daily, any_day = _order_weekdays(monkeypatch, series, PortfolioSettings(**BASE))
    rec, weekdays = _order_weekdays(monkeypatch, series, PortfolioSettings(**BASE, order_days="mon;thu"))
    assert len(any_day) > 2                  # without order days the rows order on most weekdays
    assert weekdays == {0, 3}                # with them: only on Mondays and Thursdays, both used
    assert rec["protection_days"] == BASE["lead_time"] + 4 and daily["protection_days"] == BASE["lead_time"] + 1
    assert rec["recommendation"]["order_rules"]["order_days"] == ["mon", "thu"]
    assert rec["recommendation"]["order_rules"]["review_period"] == 4


def test_the_kernel_reads_order_days_against_each_rows_own_weekday():
    rules = OrderRules(order_days=("mon",))
    k = InventoryKernel(np.zeros((2, 1)), h=0.0, p=0.0, rules=rules, first_weekday=np.array([[0], [3]]))
    placed_on = {0: [], 1: []}
    for d in range(14):
        placed, _ = k.place(d, np.ones((2, 1)), 0)
        for row in (0, 1):
            if placed[row, 0]:
                placed_on[row].append(d)
        k.serve(d, np.zeros((2, 1)), placed)
    assert placed_on == {0: [0, 7], 1: [4, 11]}   # row 1's day 0 is a Thursday: its Mondays are days 4 and 11


def _json(argv):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(argv) == 0
    return json.loads(out.getvalue())


def test_recommend_and_portfolio_give_one_answer_with_an_order_cost_and_order_days(generated):
    rules = ["--order-cost", "25", "--order-days", "mon,thu", "--pack-size", "6"]
    opts = ["--lead-time", "3", "--seed", "11", "--days", "56", "--replications", "6"]
    out = _json(["portfolio", "--data", str(generated), *opts, *rules, "--json", "--chunk", "1"])
    settings = PortfolioSettings(lead_time=3, seed=11, days=56, replications=6, order_cost=25.0,
                                 order_days="mon,thu", pack_size=6)
    ds = load_csv(generated)
    for record in out["records"]:
        alone = json.loads(json.dumps(recommend(ds.get(record["series"]), settings)))
        assert same_recommendation(record["recommendation"], alone), record["series"]
        assert record["protection_days"] == 3 + 4   # mon → thu 3 days, thu → mon 4: R = 4
    key = out["records"][0]["series"]
    cli = _json(["recommend", "--data", str(generated), "--series", key, *opts, *rules, "--json"])
    assert same_recommendation(cli, out["records"][0]["recommendation"])


def test_todays_order_under_an_s_s_recommendation_orders_below_s_up_to_s_plus_the_lot():
    import datetime as dt

    from engine.data.items import item_terms, read_items
    from engine.data.stock import StockPosition
    from engine.studies.orders import decide

    sales = "date,sku,store,qty\n" + "".join(f"2024-01-{d:02d},A,S1,6\n" for d in range(1, 29))
    ds = load_csv(sales.encode(), name="sales.csv")
    t = item_terms(ds, read_items(b"item,pack_size,lead_time\nA,12,3\n", name="items.csv"))["A/S1"]
    rec = {"policy": "s-S", "params": {"reorder_point": 40.0, "order_up_to": 100.0, "lot_size": 60.0,
                                       "daily_forecast": 6.0, "safety_stock": 16.0}}
    day = dt.date(2024, 1, 29)
    below = decide(rec, StockPosition("A/S1", "A", "S1", on_hand=30.0), t, day)
    assert below["order_qty"] == 72 and below["packs"] == 6     # need 100 − 30 = 70 → 6 packs of 12
    assert "position 30 < reorder level s 40.0" in below["reason"] and "S = s + lot 60.0 = 100.0" in below["reason"]
    above = decide(rec, StockPosition("A/S1", "A", "S1", on_hand=55.0), t, day)
    assert above["order_qty"] == 0 and "nothing to order" in above["reason"]   # below S but not below s


def test_optimum_carries_the_recommendation_with_the_simulations_order_rules():
    from engine.simulation.simulator import SimConfig
    from engine.studies.recommend import settings_for
    from tests.engine.conftest import SAMPLE

    out = _json(["optimum", "--data", str(SAMPLE), "--series", "SKU_1/WH_1", "--lead-time", "7", "--seed", "5",
                 "--days", "30", "--replications", "3", "--quick", "--order-cost", "20", "--order-days", "mon,thu",
                 "--json"])
    config = SimConfig(data=str(SAMPLE), series="SKU_1/WH_1", lead_time=7, seed=5, days=30, order_cost=20.0,
                       order_days=["mon", "thu"])
    rec = recommend(load_csv(SAMPLE).get("SKU_1/WH_1"), settings_for(config))
    assert rec["order_rules"]["order_cost"] == 20.0 and rec["order_rules"]["review_period"] == 4
    assert same_recommendation(out["recommendation"], json.loads(json.dumps(rec)))



def test_the_r_q_advice_is_in_whole_packs_and_at_least_the_moq():
    """The (r, Q) candidate's Q is what the supplier ships: a multiple of the pack and ≥ MOQ (a Q of 37 units with
    packs of 6 is rounded at each order anyway, so advice in other units is not what gets ordered)."""
    from engine.data.dataset import SeriesData

    rng = np.random.default_rng(5)
    days = 300
    ser = [SeriesData(key=f"I{i}/S", dates=None, promo=np.zeros(days), unit_cost=10.0, unit_price=20.0,
                      demand=np.where(rng.random(days) < 0.3, rng.poisson(4.0, days) + 1, 0).astype(float))
           for i in range(6)]
    recs = run_chunk(ser, PortfolioSettings(**BASE, pack_size=6, moq=40, static_rq=True).validate())
    rq = [r for r in recs if r["policy"] == "r-Q"]
    assert rq, "no (r, Q) recommendation among the intermittent series"
    assert all(r["order_quantity"] % 6 == 0 and r["order_quantity"] >= 40 for r in rq)
    # not offered unless asked for (engine.studies.portfolio's module doc): the same series, order-up-to throughout
    plain = run_chunk(ser, PortfolioSettings(**BASE, pack_size=6, moq=40).validate())
    assert {r["policy"] for r in plain} == {"order-up-to"}
    both = [(a["order_up_to"], b["order_up_to"]) for a, b in zip(plain, recs) if b["policy"] == "order-up-to"]
    assert all(a == b for a, b in both)   # where the order-up-to rule won anyway, the same level


def test_s_s_paths_start_spread_over_the_cycle_so_a_short_horizon_still_pays_its_orders():
    """Demand 5 a day, lot 400 (80 days), 30-day paths: every path started at the mean position s + 200 would
    never order (0 orders, K never paid); paths started at the cycle's stratified points order H · d / lot = 0.375
    times on average — the stationary rate."""
    R, H = 8, 30
    level = np.full((R, H), 5.0)
    one = lambda v: np.full(R, v)  # noqa: E731
    args = (level, level.copy(), np.zeros((R, 1)), np.full((R, 1), 400.0), one(2).astype(np.int64), one(0.01),
            one(1.0))
    at_mean = portfolio._simulate_ss(*args, start_fraction=0.5)
    spread = portfolio._simulate_ss(*args, start_fraction=portfolio.cycle_starts(1, R))
    assert at_mean["orders"].sum() == 0
    assert spread["orders"].mean() == pytest.approx(H * 5.0 / 400.0)
