"""Portfolio recommendations: layout-independent, honest (selection ≠ evaluation streams), on target for
intermittent demand, chunk-independent, exported formula-safe."""
from __future__ import annotations

import csv
import datetime as dt
import json

import numpy as np
import pytest

from engine.cli.main import main
from engine.errors import ConfigError
from engine.studies.portfolio import (
    PortfolioCancelled,
    PortfolioSettings,
    _rng,
    _simulate,
    _simulate_rq,
    portfolio_totals,
    records_csv,
    run_portfolio,
)

START = dt.date(2024, 1, 1)


def four_series_rows(days: int = 365) -> list[tuple[str, str, str, int]]:
    """(iso date, item, store, qty): smooth, intermittent (85 % zero days), weekly, lumpy."""
    rng = np.random.default_rng(7)
    rows = []
    for item, store, kind in (("A", "S1", "smooth"), ("A", "S2", "intermittent"), ("B", "S1", "weekly"),
                              ("C", "S3", "lumpy")):
        for t in range(days):
            if kind == "smooth":
                q = rng.poisson(20)
            elif kind == "weekly":
                q = rng.poisson(8 + 3 * np.sin(2 * np.pi * t / 7))
            elif kind == "intermittent":
                q = rng.poisson(4) + 1 if rng.random() < 0.15 else 0
            else:
                q = int(rng.gamma(0.7, 10)) + 1 if rng.random() < 0.3 else 0
            rows.append(((START + dt.timedelta(t)).isoformat(), item, store, int(q)))
    return rows


@pytest.fixture(scope="module")
def layouts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("layouts")
    rows = four_series_rows()
    paths = {}
    with open(folder / "a.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["date", "sku", "store", "qty"])
        w.writerows(rows)
    paths["a"] = folder / "a.csv"
    with open(folder / "b.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["ds", "item_id", "location", "sales"])
        w.writerows(rows)
    paths["b"] = folder / "b.csv"
    with open(folder / "de.csv", "w", newline="") as fh:  # other column order, German dates, rows reversed
        w = csv.writer(fh)
        w.writerow(["Menge", "Datum", "Filiale", "Artikel"])
        for d, item, store, q in reversed(rows):
            w.writerow([q, dt.date.fromisoformat(d).strftime("%d.%m.%Y"), store, item])
    paths["de"] = folder / "de.csv"
    return paths


@pytest.fixture(scope="module")
def records(layouts):
    return run_portfolio(str(layouts["a"]), FILL)


FILL = PortfolioSettings(objective="fill-rate")  # the records below: least stock meeting the 0.95 target


def by_series(recs):
    return {r["series"]: r for r in recs}


def test_three_layouts_give_identical_results(layouts, records, capsys):
    b = run_portfolio(str(layouts["b"]), FILL)
    assert main(["portfolio", "--data", str(layouts["de"]), "--objective", "fill-rate", "--columns",
                 "date=Datum,item=Artikel,location=Filiale,demand=Menge", "--json"]) == 0
    de = json.loads(capsys.readouterr().out)["records"]
    assert set(by_series(records)) == {"A/S1", "A/S2", "B/S1", "C/S3"}
    assert by_series(b) == by_series(records)
    assert by_series(de) == json.loads(json.dumps(by_series(records)))


def test_intermittent_series_gets_an_intermittent_forecaster_and_meets_its_fill_rate_target(records):
    r = by_series(records)["A/S2"]
    assert r["zero_share"] == pytest.approx(0.85, abs=0.03)
    assert r["class"] in ("intermittent", "lumpy")
    assert r["forecaster"] in ("croston", "sba", "tsb")
    assert abs(r["fill_rate"] - r["target_fill_rate"]) <= 0.03, r
    assert by_series(records)["A/S1"]["forecaster"] in ("ses", "ma28")


def test_record_fields_are_consistent(records):
    for r in records:
        assert r["cost_ci_low"] <= r["expected_cost"] <= r["cost_ci_high"]
        assert r["expected_cost"] == pytest.approx(r["holding_cost"] + r["stockout_cost"])
        assert r["order_up_to"] == pytest.approx(max(r["protection_days"] * r["daily_forecast"] + r["safety_stock"],
                                                     0))
        assert 0 <= r["cycle_service_level"] <= 1 and 0 <= r["fill_rate"] <= 1
        assert r["lead_time"] == 7 and r["protection_days"] == 8
    t = portfolio_totals(records)
    assert t["series"] == 4 and t["expected_cost"] == pytest.approx(sum(r["expected_cost"] for r in records))
    assert sum(t["by_class"].values()) == 4


def test_selection_and_evaluation_use_different_random_streams():
    a = _rng(42, "A/S2", 0).integers(0, 10**9, 8)
    b = _rng(42, "A/S2", 1).integers(0, 10**9, 8)
    assert not np.array_equal(a, b)


def test_chunks_are_independent(layouts, records):
    done = []
    one_by_one = run_portfolio(str(layouts["a"]), FILL, chunk=1, progress=lambda d, n: done.append((d, n)))
    assert one_by_one == records
    assert done == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_cancel_stops_between_chunks(layouts):
    asked = []

    def cancel():
        asked.append(1)
        return len(asked) > 2

    with pytest.raises(PortfolioCancelled, match="after 2 of 4"):
        run_portfolio(str(layouts["a"]), chunk=1, cancel=cancel)


def test_a_dataframe_gives_the_same_records(layouts, records):
    pd = pytest.importorskip("pandas")
    frame = pd.read_csv(layouts["b"], dtype=str)
    assert by_series(run_portfolio(frame, FILL)) == by_series(records)


def test_cost_objective_never_costs_more_than_the_fill_rate_one_on_selection_paths(layouts, records):
    cheap = by_series(run_portfolio(str(layouts["a"]), PortfolioSettings(objective="cost")))
    for key, r in by_series(records).items():
        # lost sales cost p = 20 per unit against h = 0.014 per unit-day: least cost holds more than 95 % fill
        assert cheap[key]["safety_stock"] >= r["safety_stock"]


def test_order_up_to_simulation_by_hand():
    # constant demand 5, forecast 5, lead 2: μ = 3·5 = 15; Q = 0 gives S = 15, which covers the pipeline
    days = 12
    dem = np.full((1, days), 5.0)
    tot = _simulate(np.full((1, days), 5.0), dem, np.array([[0.0, -1 / 3]]), np.array([2]), np.array([0.1]),
                    np.array([2.0]))
    assert tot["fulfilled"][0, 0] == 60 and tot["stockout_days"][0, 0] == 0
    assert tot["cycles"][0, 0] > 0 and tot["cycles_with_stockout"][0, 0] == 0
    # Q = −1/3: S = 15 − 15/3 = 10 < demand over the protection period: lost sales, cycles with a stockout
    assert tot["fulfilled"][0, 1] < 60 and tot["stockout"][0, 1] == pytest.approx(2.0 * (60 - tot["fulfilled"][0, 1]))
    assert tot["cycles_with_stockout"][0, 1] > 0
    assert tot["holding"][0, 0] == pytest.approx(0.1 * tot["on_hand"][0, 0])


def test_csv_export_is_formula_safe(tmp_path):
    path = tmp_path / "evil.csv"
    rows = ["date,sku,qty"] + [f"{(START + dt.timedelta(t)).isoformat()},=HYPERLINK(1),{t % 3}" for t in range(120)]
    path.write_text("\n".join(rows) + "\n")
    out = tmp_path / "recs.csv"
    assert main(["portfolio", "--data", str(path), "--out", str(out), "--replications", "5"]) == 0
    text = out.read_text()
    assert "'=HYPERLINK(1)" in text and "\n=" not in text
    assert records_csv([]).startswith("series,class,")


def test_bad_settings_exit_2(layouts, capsys):
    assert main(["portfolio", "--data", str(layouts["a"]), "--replications", "1"]) == 2
    assert "--replications 1 is out of range" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="target-fill-rate"):
        PortfolioSettings(target_fill_rate=1.0).validate()


def test_public_layout_runs_with_its_cost_price_and_lead_time_columns(sample_dataset):
    from tests.engine.conftest import SAMPLE

    recs = run_portfolio(str(SAMPLE), PortfolioSettings(replications=5))
    assert [r["series"] for r in recs] == list(sample_dataset.series)
    for r in recs:
        s = sample_dataset.get(r["series"])
        assert r["unit_cost"] == s.unit_cost and r["lead_time"] == s.lead_time_days
        assert r["cost_source"] == "file"


def test_cycle_service_level_counts_cycles_between_arrivals_by_hand():
    # lead 0, forecast 1, Q 0: S = 1. Day 2 loses 2 of 3 units; day 3's order arrives the same day and closes the
    # first cycle (days 1-2, with a stockout); the second (days 3-4) ends with the run without one.
    tot = _simulate(np.ones((1, 4)), np.array([[0, 3, 0, 0.0]]), np.zeros((1, 1)), np.array([0]), np.array([0.1]),
                    np.array([2.0]))
    assert (tot["cycles"][0, 0], tot["cycles_with_stockout"][0, 0]) == (2, 1)
    assert (tot["fulfilled"][0, 0], tot["stockout_days"][0, 0], tot["orders"][0, 0]) == (1, 1, 1)


def test_reorder_point_quantity_simulation_by_hand():
    # constant demand 5, lead 2, r = 15, Q = 10: starts with 25 on hand; IP ≤ 15 triggers one order of 10
    days = 12
    tot = _simulate_rq(np.full((1, days), 5.0), np.array([[15.0, 4.0]]), np.array([10.0]), np.array([2]),
                       np.array([0.1]), np.array([2.0]))
    assert tot["fulfilled"][0, 0] == 60 and tot["stockout_days"][0, 0] == 0
    assert tot["orders"][0, 0] == 5  # 60 units in orders of 10 (25 to start, 25 + 50 − 60 = 15 left)
    # r = 4 cannot cover 2 days of lead time (10 units): lost sales, paid at p per unit
    assert tot["fulfilled"][0, 1] < 60 and tot["stockout"][0, 1] == pytest.approx(2.0 * (60 - tot["fulfilled"][0, 1]))


def test_the_record_names_the_policy_that_won_with_its_parameters(layouts):
    for objective in ("fill-rate", "cost"):
        recs = run_portfolio(str(layouts["a"]), PortfolioSettings(objective=objective))
        for r in recs:
            assert r["policy"] in ("order-up-to", "r-Q")
            if r["policy"] == "r-Q":
                assert r["reorder_point"] >= 0 and r["order_quantity"] >= 1
            else:
                assert r["reorder_point"] is None and r["order_quantity"] is None
        assert sum(portfolio_totals(recs)["by_policy"].values()) == 4


def test_a_series_without_demand_has_the_one_fill_rate_definition(tmp_path):
    path = tmp_path / "quiet.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["date", "sku", "store", "qty"])
        w.writerows(((START + dt.timedelta(t)).isoformat(), "Z", "S1", 0) for t in range(120))
    (rec,) = run_portfolio(str(path), PortfolioSettings(replications=4, days=14))
    assert rec["class"] == "no demand"
    assert rec["fill_rate"] == 1.0 and rec["fill_rate_ci"] == 0.0   # engine.simulation.metrics: nothing went unmet
    assert rec["expected_cost"] == rec["holding_cost"] + rec["stockout_cost"]
