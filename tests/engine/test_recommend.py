"""engine.studies.recommend: one item, one answer — `engine recommend`, `engine optimum` and `engine portfolio`
give the same recommendation for the same series and settings, with the keys a planner reads."""
from __future__ import annotations

import json

import pytest

from engine.cli.main import main
from engine.simulation.simulator import SimConfig
from engine.studies.portfolio import PortfolioSettings
from engine.studies.recommend import recommend, settings_for
from engine.studies.recommendation import same_recommendation

from .conftest import SAMPLE

KEYS = {"policy", "params", "expected_cost", "expected_cost_ci", "fill_rate", "cycle_service_level", "objective",
        "costs"}
OPTS = ["--data", str(SAMPLE), "--series", "SKU_1/WH_1", "--lead-time", "7", "--seed", "5", "--days", "60",
        "--replications", "8"]


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def cli_recommendation():
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["recommend", *OPTS, "--json"]) == 0
    return json.loads(out.getvalue())


def test_recommend_prints_the_policy_its_parameters_cost_interval_service_objective_and_costs(cli_recommendation):
    rec = cli_recommendation
    assert KEYS <= rec.keys()
    assert rec["policy"] in ("order-up-to", "r-Q") and isinstance(rec["params"], dict) and rec["params"]
    lo, hi = rec["expected_cost_ci"]
    assert lo <= rec["expected_cost"] <= hi and hi > lo
    assert 0.0 <= rec["fill_rate"] <= 1.0 and 0.0 <= rec["cycle_service_level"] <= 1.0
    assert rec["objective"]["name"] == "cost"
    assert {"h", "p", "unit_cost", "unit_price", "source"} <= rec["costs"].keys()
    assert rec["costs"]["p"] == pytest.approx(rec["costs"]["unit_price"] - rec["costs"]["unit_cost"])


def test_optimum_carries_the_same_recommendation(cli_recommendation, capsys):
    out = _json(capsys, ["optimum", *OPTS[:-2], "--replications", "4", "--quick", "--json"])
    # optimum's --replications sizes its own study; the recommendation keeps the default evaluation paths
    rec = recommend(_sample_series(), settings_for(SimConfig(data=str(SAMPLE), lead_time=7, seed=5, days=60)))
    assert same_recommendation(out["recommendation"], json.loads(json.dumps(rec)))


def _sample_series():
    from engine.data.dataset import load_csv

    return load_csv(SAMPLE).get("SKU_1/WH_1")


def test_each_portfolio_record_carries_what_recommend_says_for_its_series(capsys):
    out = _json(capsys, ["portfolio", "--data", str(SAMPLE), "--lead-time", "7", "--seed", "5", "--days", "60",
                         "--replications", "8", "--objective", "cost", "--json", "--chunk", "2"])
    settings = PortfolioSettings(lead_time=7, seed=5, days=60, replications=8, objective="cost")
    from engine.data.dataset import load_csv

    ds = load_csv(SAMPLE)
    assert len(out["records"]) == len(ds.series) >= 3
    for record in out["records"]:
        alone = json.loads(json.dumps(recommend(ds.get(record["series"]), settings)))
        assert same_recommendation(record["recommendation"], alone), record["series"]


def test_the_static_r_q_rule_is_offered_on_request_by_portfolio_and_recommend_alike(capsys):
    """--static-rq adds the (r, Q) candidate (off by default under least cost: engine.studies.portfolio's module doc);
    on the sample at these settings it wins on the resampled paths, and the two commands still say the same for a
    series."""
    args = ["--data", str(SAMPLE), "--lead-time", "7", "--seed", "5", "--days", "60", "--replications", "8"]
    plain = _json(capsys, ["portfolio", *args, "--json"])
    offered = _json(capsys, ["portfolio", *args, "--static-rq", "--json"])
    assert {r["policy"] for r in plain["records"]} == {"order-up-to"}
    assert "r-Q" in {r["policy"] for r in offered["records"]}
    alone = _json(capsys, ["recommend", *args, "--series", "SKU_1/WH_1", "--static-rq", "--json"])
    first = next(r for r in offered["records"] if r["series"] == "SKU_1/WH_1")
    assert same_recommendation(first["recommendation"], alone)


def test_the_static_rule_is_offered_under_the_fill_rate_objective_unless_turned_off():
    """Under the fill-rate objective the per-class promise correction was fitted with the static (r, Q) candidate
    (engine.studies.portfolio's module doc), so it is offered there by default; --no-static-rq turns it off."""
    import argparse

    from engine.cli.recommend import add_static_rq_option

    assert not PortfolioSettings().offers_static_rq()
    assert PortfolioSettings(objective="fill-rate").offers_static_rq()
    assert not PortfolioSettings(objective="fill-rate", static_rq=False).offers_static_rq()
    assert PortfolioSettings(static_rq=True).offers_static_rq()
    parser = argparse.ArgumentParser()
    add_static_rq_option(parser)
    assert [parser.parse_args(a).static_rq for a in ([], ["--static-rq"], ["--no-static-rq"])] == [None, True, False]


def test_the_service_objective_says_what_it_costs_beyond_the_least_cost_answer(sample_series):
    base = PortfolioSettings(lead_time=7, seed=5, days=60, replications=8)
    cheapest = recommend(sample_series, base)
    service = recommend(sample_series, PortfolioSettings(lead_time=7, seed=5, days=60, replications=8,
                                                         objective="fill-rate", target_fill_rate=0.99))
    assert cheapest["service_premium"] is None
    prem = service["service_premium"]
    assert prem["least_cost"] == pytest.approx(cheapest["expected_cost"])
    assert prem["extra_cost"] == pytest.approx(service["expected_cost"] - cheapest["expected_cost"])
    assert service["objective"]["name"] == "fill-rate" and "99.0 %" in service["objective"]["meaning"]


def test_entered_costs_drive_the_recommendation_and_are_named_entered(sample_series):
    rec = recommend(sample_series, PortfolioSettings(lead_time=3, days=30, replications=4, unit_cost=10.0,
                                                     unit_price=25.0))
    assert rec["costs"]["source"] == "entered"
    assert rec["costs"]["p"] == pytest.approx(15.0)
    assert rec["costs"]["h"] == pytest.approx(0.25 * 10.0 / 365.0)


def test_settings_for_a_simulation_take_its_lead_time_costs_seed_and_horizon():
    s = settings_for(SimConfig(lead_time_dist={"kind": "uniform", "low": 4, "high": 10}, holding_rate=0.3, seed=9,
                               days=120, unit_cost=5.0), objective="fill-rate")
    assert (s.lead_time, s.holding_rate, s.seed, s.days, s.unit_cost, s.objective) == (7, 0.3, 9, 120, 5.0,
                                                                                          "fill-rate")


def test_a_bad_objective_is_refused_on_the_command_line(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["recommend", "--objective", "cheapest"])
    assert exc.value.code == 2
    assert "cheapest" in capsys.readouterr().err


def test_same_recommendation_tells_a_different_number():
    a = {"policy": "r-Q", "params": {"r": 1.0}, "expected_cost_ci": [1.0, 2.0]}
    assert same_recommendation(a, {"policy": "r-Q", "params": {"r": 1.0}, "expected_cost_ci": [1.0, 2.0]})
    assert not same_recommendation(a, {"policy": "r-Q", "params": {"r": 1.0 + 1e-6}, "expected_cost_ci": [1.0, 2.0]})


def test_under_the_service_objective_one_series_gets_its_portfolio_row_given_the_file():
    """/portfolio corrects the service objective's targets from the whole file; recommend given the file's series
    applies the same correction, so the item's answer is its row (without the file it may differ)."""
    import numpy as np

    from engine.data.dataset import SeriesData
    from engine.studies.portfolio import recommend_chunk, with_calibration

    rng = np.random.default_rng(4)
    days = 200
    ramp = np.linspace(1.0, 1.6, days)  # growth: the out-of-time check moves the target
    series = [SeriesData(key=f"I{i}/S", dates=None, demand=rng.poisson((4.0 + i) * ramp).astype(float),
                         promo=np.zeros(days), unit_cost=10.0, unit_price=20.0) for i in range(8)]
    s = PortfolioSettings(lead_time=3, replications=6, days=30, history_days=120, backtest_days=30,
                          objective="fill-rate", target_fill_rate=0.95).validate()
    corrected = with_calibration(series, s)
    assert corrected.calibration  # the file is long enough to be checked
    rows = recommend_chunk(series, corrected)
    for x, row in zip(series[:3], rows[:3]):
        assert same_recommendation(recommend(x, s, file_series=series), row["recommendation"])
    assert not all(same_recommendation(recommend(x, s), row["recommendation"]) for x, row in zip(series, rows))
    cost = PortfolioSettings(lead_time=3, replications=6, days=30, history_days=120, backtest_days=30).validate()
    assert same_recommendation(recommend(series[0], cost, file_series=series), recommend(series[0], cost))


def test_a_recommendation_from_a_short_history_says_what_it_cannot_know():
    """Below WARM_UP_DAYS + the protection period there are no rolling forecast errors: the recommendation carries
    a caveat (one day of history gives identical paths and a zero-width interval); a year of history none."""
    from dataclasses import replace

    full = _sample_series()
    s = PortfolioSettings(lead_time=7, replications=4, days=30)
    assert recommend(full, s)["caveat"] is None
    short = replace(full, dates=full.dates[:20], demand=full.demand[:20], promo=full.promo[:20],
                    planning=None if full.planning is None else full.planning[:20],
                    price=None if full.price is None else full.price[:20])
    rec = recommend(short, s)
    assert rec["caveat"].startswith("based on 20 days of history, fewer than the 36 that check a forecast")
