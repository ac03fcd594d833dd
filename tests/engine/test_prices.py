"""A file's price and cost columns: detected under common names, the series' last known value, and the costs of a
run saying where they came from ("file", "assumed", "entered") in `simulate --json` and portfolio records; the M5
file (date,item_id,store_id,sales,sell_price) is read with price=sell_price and costed at each item's own price."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from engine.cli.main import main
from engine.data.dataset import DEFAULT_UNIT_COST, DEFAULT_UNIT_PRICE, load_csv
from engine.data.layout import detect_columns
from engine.simulation.simulator import SimConfig, Simulator, resolve_costs
from engine.studies.portfolio import PortfolioSettings, run_portfolio

REPO = Path(__file__).resolve().parents[2]


def shared_dir() -> Path:
    """The shared data folder: $SIM_SHARED_DIR, else <repo>/../shared, else /work/shared."""
    if os.environ.get("SIM_SHARED_DIR"):
        return Path(os.environ["SIM_SHARED_DIR"])
    beside = REPO.parent / "shared"
    return beside if beside.is_dir() else Path("/work/shared")


def m5_like(days: int = 60, items=("FOODS_1", "HOBBIES_2"), prices=(1.68, 9.97)) -> bytes:
    """A file in the M5 layout: the second item's price changes once and has empty cells before its launch."""
    import datetime as dt

    rows = ["date,item_id,store_id,sales,sell_price"]
    for item, price in zip(items, prices):
        for d in range(days):
            day = (dt.date(2016, 1, 1) + dt.timedelta(days=d)).isoformat()
            cell = "" if item == items[1] and d < 5 else (f"{price:.2f}" if d < days - 10 else f"{price + 1:.2f}")
            rows.append(f"{day},{item},CA_1,{(d * 7) % 5},{cell}")
    return ("\n".join(rows) + "\n").encode()


@pytest.mark.parametrize("name", ["sell_price", "price", "unit_price", "Unit_Price", "Preis", "Verkaufspreis",
                                  "prix", "Prix unitaire", "precio", "selling price"])
def test_price_columns_are_detected_under_common_names(name):
    m = detect_columns(["date", "sku", "qty", name])
    assert m.price == name and "price" in m.guessed


@pytest.mark.parametrize("name", ["unit_cost", "cost", "Unit_Cost", "Kosten", "Einkaufspreis", "Coût", "costo"])
def test_cost_columns_are_detected_under_common_names(name):
    assert detect_columns(["date", "sku", "qty", "price", name]).cost == name


def test_the_series_price_is_its_last_known_one_and_says_it_came_from_the_file():
    ds = load_csv(m5_like(), name="m5.csv")
    assert ds.layout.price == "sell_price" and ds.layout.cost is None
    a, b = ds.get("FOODS_1/CA_1"), ds.get("HOBBIES_2/CA_1")
    assert a.unit_price == pytest.approx(2.68) and b.unit_price == pytest.approx(10.97)  # the last 10 days' price
    assert (a.price_source, a.cost_source) == ("file", "assumed")
    # no cost column: the default cost / price ratio applied to the item's own price, not a cost of 20
    assert a.unit_cost == pytest.approx(2.68 * DEFAULT_UNIT_COST / DEFAULT_UNIT_PRICE)
    assert b.to_dict()["price_source"] == "file"


def test_costs_of_a_run_carry_their_source():
    s = load_csv(m5_like(), name="m5.csv").get()
    costs = resolve_costs(SimConfig(), s)
    assert costs["source"] == "file" and costs["sources"] == {"unit_cost": "assumed", "unit_price": "file"}
    assert costs["unit_price"] == s.unit_price and costs["p"] == pytest.approx(s.unit_price - s.unit_cost)
    assert costs["h"] == pytest.approx(0.25 * s.unit_cost / 365)
    entered = resolve_costs(SimConfig(unit_price=5.0), s)
    assert entered["source"] == "entered" and entered["sources"]["unit_price"] == "entered"
    bare = load_csv(b"date,qty\n2024-01-01,3\n2024-01-02,4\n", name="bare.csv").get()
    assumed = resolve_costs(SimConfig(), bare)
    assert assumed["source"] == "assumed" and (assumed["unit_cost"], assumed["unit_price"]) == (20.0, 40.0)


def test_validate_reports_the_price_column_and_simulate_json_says_file(tmp_path, capsys):
    path = tmp_path / "m5.csv"
    path.write_bytes(m5_like())
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "price=sell_price" in out and "cost=half the price" in out
    assert main(["simulate", "--data", str(path), "--forecaster", "ma7", "--days", "20", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)["info"]
    assert info["costs"]["source"] == "file" and info["costs"]["unit_price"] == pytest.approx(2.68)
    assert main(["simulate", "--data", str(path), "--forecaster", "ma7", "--days", "20", "--unit-price", "3",
                 "--unit-cost", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["info"]["costs"]["source"] == "entered"


def test_portfolio_records_say_where_the_costs_came_from():
    settings = PortfolioSettings(replications=2, days=14, history_days=60, backtest_days=14)
    recs = run_portfolio(m5_like(), settings)
    assert [r["cost_source"] for r in recs] == ["file", "file"]
    assert [r["unit_price"] for r in recs] == pytest.approx([2.68, 10.97])
    bare = b"date,sku,qty\n" + b"".join(f"2024-01-{d:02d},A,{d % 4}\n".encode() for d in range(1, 31)) * 1
    assert run_portfolio(bare, settings)[0]["cost_source"] == "assumed"


def test_the_m5_file_reads_price_sell_price_and_an_item_is_costed_at_its_own_price(capsys):
    path = shared_dir() / "data" / "real" / "m5_store.csv"
    assert main(["validate", str(path)]) == 0
    assert "price=sell_price" in capsys.readouterr().out
    ds = load_csv(path)
    prices = np.array([s.unit_price for s in ds.series.values()])
    assert all(s.price_source == "file" for s in ds.series.values()) and prices.min() < 2 < prices.max()
    assert len(set(prices.tolist())) > 20 and DEFAULT_UNIT_PRICE not in prices  # each its own, not 40
    cheap = min(ds.series.values(), key=lambda s: s.unit_price)
    sim = Simulator(SimConfig(forecaster="ma7", days=30), cheap)
    sim.run()
    costs, level = sim.info()["costs"], sim.info()["policy"]
    assert costs["source"] == "file" and costs["unit_price"] == cheap.unit_price
    assert costs["p"] == pytest.approx(cheap.unit_price - cheap.unit_cost)
    assert level["critical_ratio"] == pytest.approx(costs["p"] / (costs["p"] + costs["h"]))


def test_every_series_carries_its_daily_price_plan_from_the_loader():
    """The price plan the global model reads comes with the series wherever they are loaded (one loader): a change
    of price on its day, an empty cell before launch taking the first known price, a day filled in by
    --fill-missing-zero the last known one; no price column, no plan; the plan survives slicing and storage."""
    ds = load_csv(m5_like(days=60), name="m5.csv")
    a, b = ds.get("FOODS_1/CA_1"), ds.get("HOBBIES_2/CA_1")
    assert a.price.shape == (60,) and np.allclose(a.price[:50], 1.68) and np.allclose(a.price[50:], 2.68)
    assert np.allclose(b.price[:5], 9.97) and np.allclose(b.price[50:], 10.97)  # before launch: the first known
    assert np.allclose(a.slice(45, 55).price, a.price[45:55])
    from engine.data.dataset import SeriesData
    assert np.array_equal(SeriesData.from_dict(a.to_dict()).price, a.price)
    gap = b"date,sku,qty,price\n2024-01-01,A,1,2.5\n2024-01-02,A,1,2.5\n2024-01-05,A,2,3.0\n"
    filled = load_csv(gap, name="gap.csv", fill_missing_zero=True).get()
    assert filled.price.tolist() == [2.5, 2.5, 2.5, 2.5, 3.0]
    assert load_csv(b"date,qty\n2024-01-01,3\n2024-01-02,4\n", name="bare.csv").get().price is None


@pytest.mark.parametrize("demand", ["replay", "synthetic"])
def test_the_simulators_plan_gives_the_calendar_and_the_price_plan(demand):
    """A forecaster that reads the calendar and prices (the global model) gets them in the simulator and the batch
    as in a backtest: the plan's covariates carry the days since 1970 of every column (context, simulated days and
    the padding after them) and the price plan (the series' own over its rows, then the last price in force)."""
    from engine.demand.modes import build_plan
    from engine.forecast.series_covariates import day_numbers
    s = load_csv(m5_like(days=60), name="m5.csv").get("FOODS_1/CA_1")
    cfg = SimConfig(demand=demand, days=20, lead_time=2, context_days=40 if demand == "replay" else None)
    plan = build_plan(cfg, s, 28, [0, 1])
    cov = plan.covariates()
    total = plan.n_context + plan.days
    start = 0 if demand == "replay" else len(s) - plan.n_context
    assert cov.day_number.shape[0] == 1 and cov.price.shape[0] == 1
    assert np.array_equal(cov.day_number[0, :len(s) - start], day_numbers(s.dates[start:])[0])
    assert np.all(np.diff(cov.day_number[0]) == 1) and cov.day_number.shape[1] >= total + 31
    assert np.allclose(cov.price[0, :len(s) - start], s.price[start:])
    assert np.allclose(cov.price[0, len(s) - start:], s.price[-1])
