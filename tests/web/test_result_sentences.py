"""The results pages' opening sentences, the after-run hint's sentence, the settings carried to /optimum and
/scenarios, and the scenario CSV: pure functions, checked on hand-made records."""
from __future__ import annotations

import csv
import io

import pytest

from dashapp.pages.scenarios.csv_export import scenario_csv
from dashapp.pages.simulator.hint import comparison_sentence, run_days_sentence, target_sentence
from dashapp.ui import carry_settings as carry
from dashapp.ui.result_sentences import flat_range, not_significant, optimum_sentence, scenarios_sentence
from engine.studies import scenarios as sc


def test_the_flat_range_is_the_levels_within_the_best_s_ci_around_it():
    levels = [10, 20, 30, 40, 50, 60]
    mean = [100, 40, 31, 30, 32.5, 60]
    hw = [1, 1, 1, 2, 1, 1]
    assert flat_range(levels, mean, hw) == (30, 40)  # 31 <= 30 + 2; 32.5 > 32
    assert flat_range(levels, mean, [0, 0, 0, 3, 0, 0]) == (30, 50)
    assert flat_range([], [], []) is None


def _rep(s_cost=21.0, z_cost=25.0, current=30.0, current_hw=1.0):
    return {"days": 60, "best_base_stock": {"level": 282.0, "cost": s_cost}, "best_z": {"z": 3.1, "cost": z_cost},
            "curve": {"levels": [270, 280, 290, 300], "mean": [23.0, 21.0, 21.5, 26.0], "ci95": [1, 1, 1, 1]},
            "z_curve": {"z": [2.9, 3.1, 3.3], "mean": [26, 25, 25.8], "ci95": [1, 1, 1]},
            "policies": [{"name": "order-up-to", "cost": current, "ci95": current_hw}]}


def test_the_optimum_yardstick_says_the_best_of_the_rule_s_kind_what_it_saves_and_the_flat_range():
    text = optimum_sentence(_rep())
    assert text.startswith("Yardstick for the rule as set")
    assert "a constant base-stock level S of about 282 units" in text
    assert "9.00 (30%) less than the order-up-to rule as set" in text
    assert "any S from 280 to 290 units" in text and "(0.35 per day)" in text
    z_text = optimum_sentence(_rep(s_cost=26.0, z_cost=25.0))
    assert "safety factor z ≈ 3.10" in z_text and "any z from 2.90 to 3.30" in z_text


def test_a_saving_inside_the_rule_s_ci_is_called_not_significant():
    assert "not a significant saving" in optimum_sentence(_rep(current=21.5, current_hw=2.0))
    assert "not a significant" not in optimum_sentence(_rep(current=30.0, current_hw=2.0))


def _result(diff_mean, diff_hw):
    k = lambda m: {"total_cost": {"mean": m, "ci95": 1.0}}  # noqa: E731
    return {"days": 100, "replications": 50, "seed": 1, "baseline_name": "A", "scenarios": [
        {"name": "A", "kpis": k(50.0), "diff_vs_baseline": {"total_cost": {"mean": 0.0, "ci95": 0.0}},
         "options": {"policy": "order-up-to", "lead_time": 7}},
        {"name": "B", "kpis": k(50.0 + diff_mean), "diff_vs_baseline": {"total_cost": {"mean": diff_mean,
                                                                                       "ci95": diff_hw}},
         "options": {"policy": "original", "lead_time": 3}}]}


def test_the_scenarios_sentence_names_the_cheapest_and_whether_the_saving_is_significant():
    text = scenarios_sentence(_result(-4.0, 1.0))
    assert text.startswith('Use "B"') and "4.00 less than the baseline \"A\"" in text
    assert "3.00 to 5.00" in text and "significant at 95 %" in text
    assert "not significant" in scenarios_sentence(_result(-4.0, 5.0))
    assert "keep its settings" in scenarios_sentence(_result(3.0, 1.0))
    assert not_significant({"mean": -1.0, "ci95": 2.0}) and not not_significant({"mean": -3.0, "ci95": 2.0})


def test_the_scenario_csv_has_the_settings_beside_rounded_kpis():
    res = _result(-4.123456789, 1.0)
    rows = list(csv.DictReader(io.StringIO(scenario_csv(res))))
    assert [r["scenario"] for r in rows] == ["A", "B"]
    assert rows[1]["policy"] == "original" and rows[1]["lead_time"] == "3" and rows[1]["replications"] == "50"
    assert rows[1]["total_cost_diff_mean"] == "-4.12" and rows[1]["total_cost_mean"] == "45.88"


def _rec(cost):
    return {"expected_cost": cost}


@pytest.mark.parametrize("mine, best, needle", [
    (54.29, 47.50, "costs 54.29 against 47.50 for the recommendation (12.5% less with it)"),
    (40.00, 47.50, "no more than the recommendation's 47.50, on these resampled paths: keep it, or see how the "
                   "recommendation did on the real days after the history (Portfolio → Check against history)"),
])
def test_the_hint_compares_on_the_same_paths_and_names_the_run_s_own_cost(mine, best, needle):
    rule = {"expected_cost": mine, "paths": 20, "days": 90, "start_on_hand": 152.5}
    text = comparison_sentence(_rec(best), rule, 61.0)
    assert "same 20 resampled 90-day paths, both starting with 152.5 on hand" in text
    assert needle in text
    assert text.endswith("Your animated run cost 61.00 on its one demand path (the Cumulative cost card).")
    assert "lost sales" in comparison_sentence(_rec(best), rule, None, backorders=True)


def test_the_hint_names_the_spread_of_start_stocks_of_an_s_s_recommendation():
    rule = {"expected_cost": 50.0, "paths": 8, "days": 30, "start_on_hand": 215.0, "start_range": [40.0, 390.0]}
    text = comparison_sentence(_rec(45.0), rule, None)
    assert "both starting with 40.0 to 390.0 on hand (the (s, S) cycle's positions, one per path)" in text


def test_the_simulator_settings_travel_in_the_link():
    from dashapp import engine_facade as E

    controls = dict(E.new_controls(), forecaster="ma7", lead_time=3, demand_mode="replay", horizon=30,
                    holding_rate=0.3, unit_cost=8.0, unit_price=20.0)
    config = E.sim_config(controls, "SKU_1/WH_1")
    one = sc.decode_set(carry.optimum_search(config).removeprefix("?set="))
    (s,) = one["scenarios"]
    assert (s["name"], s["lead_time"], s["demand"], s["forecaster"], s["holding_rate"], s["unit_cost"]) == \
        (carry.CURRENT_NAME, 3, "replay", "ma7", 0.3, 8)
    assert one["days"] == 30 and one["seed"] == controls["seed"]
    two = sc.decode_set(carry.scenarios_search(config).removeprefix("?set="))
    assert [x["policy"] for x in two["scenarios"]] == ["order-up-to", "original"]
    assert all(x["lead_time"] == 3 for x in two["scenarios"])


def test_a_service_target_travels_to_optimum_as_its_fill_rate_objective():
    """A target set on the run's rule opens /optimum under "least stock reaching that fill rate" (clipped to the
    page's bounds); a rule that takes its level from the costs carries no objective."""
    from urllib.parse import parse_qs

    from dashapp import engine_facade as E
    from dashapp.ui.validation import target_fill_rate

    plain = E.sim_config(dict(E.new_controls(), forecaster="ma7"), "SKU_1/WH_1")
    assert carry.service_target(plain) is None and "objective" not in carry.optimum_search(plain)
    config = E.sim_config(dict(E.new_controls(), forecaster="ma7", service_level=0.97), "SKU_1/WH_1")
    query = parse_qs(carry.optimum_search(config).removeprefix("?"))
    assert query["objective"] == ["fill-rate"] and query["target"] == ["0.97"]
    assert target_fill_rate(query["target"][0]) == 0.97   # how /optimum's layout reads the carried target
    assert sc.decode_set(query["set"][0])["scenarios"][0]["lead_time"] == config.lead_time
    high = E.sim_config(dict(E.new_controls(), forecaster="ma7", service_level=0.9995), "SKU_1/WH_1")
    assert carry.service_target(high) == 0.999


def test_the_hint_says_a_service_target_is_answered_on_optimum_not_by_its_least_cost_recommendation():
    rec = {"objective": {"name": "cost"}, "fill_rate": 0.9991}
    text = target_sentence(0.95, rec)
    assert "service-level target of 95.0%" in text and "least-cost one (fill rate 99.9%)" in text
    assert "reaches 95.0% is on /optimum" in text
    assert target_sentence(None, rec) is None
    assert target_sentence(0.95, {"objective": {"name": "fill-rate"}, "fill_rate": 0.95}) is None


def test_the_series_of_a_link_survives_the_table_and_run():
    """The table has no series column; rows from a link keep the series they name, and Run (rows_to_set, the
    page's prepare) computes that series, not the data's first one."""
    from dashapp import engine_facade as E

    config = E.sim_config(dict(E.new_controls(), forecaster="ma7", lead_time=3), "SKU_1/WH_2")
    two = sc.decode_set(carry.scenarios_search(config).removeprefix("?set="))
    rows = sc.set_to_rows(two)
    assert all(r["series"] == "SKU_1/WH_2" for r in rows)
    again = sc.rows_to_set(rows, replications=two["replications"], days=two["days"], seed=two["seed"])
    assert [s.get("series") for s in again["scenarios"]] == ["SKU_1/WH_2", "SKU_1/WH_2"]
    assert sc.result_key(again) == sc.result_key(two)  # the same set: a link's cached result is found again
    plain = sc.rows_to_set(sc.default_table_rows(), replications=10, days=30, seed=1)
    assert all("series" not in s for s in plain["scenarios"])


@pytest.mark.parametrize("mine, best", [(1e-17, 0.0), (2.68 + 1e-15, 2.68)])
def test_equal_costs_up_to_float_residue_keep_the_users_rule(mine, best):
    """0 against 0 read "(100.0% less with it)" and 2.68 against 2.68 "(0.0% less with it)" before."""
    rule = {"expected_cost": mine, "paths": 8, "days": 30, "start_on_hand": 10.0}
    text = comparison_sentence(_rec(best), rule, None)
    assert "no more than the recommendation's" in text and "less with it" not in text


def test_a_computation_faster_than_a_tenth_of_a_second_is_not_said_to_take_none():
    from dashapp.ui.components import duration

    assert duration(0.04) == "under 0.1 s" and duration(0) == "under 0.1 s" and duration(None) == "under 0.1 s"
    assert duration(0.05) == "0.1 s" and duration(12.34) == "12.3 s" and duration(1234.5) == "1,234.5 s"


def test_optimum_says_its_recommendation_and_yardsticks_are_costed_on_two_demand_worlds():
    from dashapp.ui.recommendation import two_worlds_sentence

    rec = {"evaluation": {"paths": 20, "days": 90}}
    text = two_worlds_sentence(rec, "Synthetic (generator)", 20, 225.9)
    assert "20 paths of resampled week-long stretches of this series' history" in text
    assert "(Synthetic (generator), 20 paths) from 225.9 on hand" in text and "not one comparison" in text
    assert "(Replay the data, 1 path)" in two_worlds_sentence(rec, "Replay the data", 1, 0.0)


def test_the_hint_puts_both_rules_on_the_run_s_own_days_and_says_when_they_are_in_sample():
    both = {"yours": 14.54, "recommended": 12.01, "yours_fill": 1.0, "recommended_fill": 0.9987, "days": 60,
            "start_on_hand": 139.885}
    text = run_days_sentence(both, replayed=True)
    assert text.startswith("On your run's own 60 days (the replayed history, which the recommendation was chosen "
                           "on: in sample), both from 139.9 on hand")
    assert "costs 12.01 (fill rate 99.9%) against your rule's 14.54 (fill rate 100.0%)" in text
    assert "(the path it drew)" in run_days_sentence(dict(both, recommended_fill=None), replayed=False)
    assert "fill rate n/a" in run_days_sentence(dict(both, recommended_fill=None), replayed=False)
    assert run_days_sentence(None, True) is None
