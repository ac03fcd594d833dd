"""Pages that agree and read cold: the simulator's cards and event log say what their figures are and show the
ledger's quantities, every page offers the engine's lead-time range, a single replayed path is never given a
"± 0.00" interval, and /optimum's exact section prices a day with the simulator's costs. Pure functions, no browser
(the browser checks are in test_phone_and_a11y_browser.py)."""
from __future__ import annotations

import pytest

from dashapp.pages.simulator import session_views as S
from dashapp.ui import scenario_figures as figs
from dashapp.ui.intervals import SINGLE_PATH, mean_ci, single_path
from dashapp.ui.result_sentences import optimum_sentence, scenarios_sentence


def _row(**kw) -> dict:
    row = dict(day=12, date=None, forecast=21.4, demand=19.0, arrivals=20.5, fulfilled=19.0, unmet=0.0, backlog=0.0,
               on_hand=60.25, on_order=146.0, inventory_position=190.0, order_qty=34.07, order_up_to=224.07,
               mu=180.0, safety_stock=44.07, quantile_method="empirical", holding_cost=0.3, stockout_cost=0.0,
               daily_cost=0.3, cumulative_cost=4.2)
    row.update(kw)
    return row


def test_the_event_log_shows_the_ledger_s_quantities_with_one_rule():
    texts = [t for t, _ in S.events_of(_row(unmet=2.5, demand=21.0))]
    assert "Day 12: ordered 34.07 units (S = 224.07)" in texts  # not "34 units"
    assert "Day 12: STOCKOUT — 2.50 of 21 units lost" in texts
    assert "Day 12: 20.50 units arrived" in texts
    assert [S.units(x) for x in (21.0, 34.07, 34.1, 1234.5, 0.004)] == ["21", "34.07", "34.10", "1,234.50", "0"]


def test_the_on_hand_card_says_its_position_is_before_and_after_today_s_order():
    k = S.kpi_values([_row()], 90)
    assert k["kpi-on-hand"] == ("60.25", "position 190 before today's order, 224.07 after")
    assert S.kpi_values([_row(order_qty=0.0)], 90)["kpi-on-hand"][1] == "position 190 before today's order, 190 after"
    assert k["kpi-on-order"] == ("146", "S = 224.07 = forecast 180 + safety 44.07 (empirical quantile)")
    assert k["kpi-order"] == ("34.07", "forecast 21.40")


def test_the_fill_rate_card_names_its_second_line_for_what_it_is():
    from dashapp.ui.components import KPI_TITLES

    rows = [_row(day=1), _row(day=2, unmet=1.0, fulfilled=18.0)]
    main, sub = S.kpi_values(rows, 90)["kpi-fill-rate"]
    assert main == f"{100 * 37 / 38:.1f}%" and sub == "days without a stockout 50.0%"
    assert KPI_TITLES["kpi-fill-rate"] == "Fill rate"  # no "cycle service": the card does not show it


def test_every_page_offers_the_engine_s_lead_time_range():
    from dashapp.pages.portfolio.service import SIMULATOR_LEAD_TIME_MAX, PortfolioInputError, settings_from_form
    from dashapp.ui.field_rules import range_text
    from dashapp.ui.validation import BOUNDS, InputError, number
    from engine.demand.modes import MAX_LEAD_TIME
    from engine.errors import ConfigError
    from engine.simulation.simulator import LIMITS, SimConfig
    from engine.studies.portfolio import PortfolioSettings

    assert LIMITS["lead_time"][:2] == (0, MAX_LEAD_TIME) == BOUNDS["lead_time"]
    assert range_text("lead_time") == f"0 to {MAX_LEAD_TIME} days, whole number"
    assert number("lead_time", MAX_LEAD_TIME, integer=True) == MAX_LEAD_TIME
    with pytest.raises(InputError):
        number("lead_time", MAX_LEAD_TIME + 1, integer=True)
    SimConfig(lead_time=MAX_LEAD_TIME).validate()
    with pytest.raises(ConfigError):
        SimConfig(lead_time=MAX_LEAD_TIME + 1).validate()
    assert PortfolioSettings(lead_time=MAX_LEAD_TIME).validate().lead_time == MAX_LEAD_TIME
    with pytest.raises(PortfolioInputError, match=f"0..{MAX_LEAD_TIME}"):
        settings_from_form(MAX_LEAD_TIME + 1, 20, 90, "cost", 0.95)
    assert SIMULATOR_LEAD_TIME_MAX == MAX_LEAD_TIME


def test_the_portfolio_page_s_lead_time_field_has_the_engine_s_bound():
    import dashapp.app  # noqa: F401 - the page modules register themselves with the app
    from dashapp import ids
    from dashapp.pages.portfolio.page import _settings_row
    from engine.demand.modes import MAX_LEAD_TIME

    def find(node, cid):
        if getattr(node, "id", None) == cid:
            return node
        kids = getattr(node, "children", None)
        for kid in kids if isinstance(kids, list) else [kids] if kids is not None else []:
            hit = find(kid, cid)
            if hit is not None:
                return hit
        return None

    def labels(node):
        if getattr(node, "html_for", None) == ids.PF_LEAD_TIME:
            yield node.children
        kids = getattr(node, "children", None)
        for kid in kids if isinstance(kids, list) else [kids] if kids is not None else []:
            if not isinstance(kid, str):
                yield from labels(kid)

    row = _settings_row()
    field = find(row, ids.PF_LEAD_TIME)
    # the range is said in the label; no HTML max (the browser would send 61 as blank, not to the server's check)
    assert field is not None and getattr(field, "max", None) is None
    assert [f"0–{MAX_LEAD_TIME} days" in text for text in labels(row)] == [True]


def test_a_single_path_is_never_given_an_interval():
    assert mean_ci("12.34", 0.0, True) == f"12.34 ({SINGLE_PATH})"
    assert mean_ci("12.34", 1.5, False) == "12.34 ± 1.50"
    assert single_path(paths=1) and not single_path(paths=30)
    assert single_path([5.0, 5.0, 5.0]) and not single_path([5.0, 5.1]) and not single_path(None)


def _scenario(name, samples, mean, hw):
    return {"name": name, "kpis": {"total_cost": {"mean": mean, "ci95": hw}, "fill_rate": {"mean": 0.9, "ci95": hw}},
            "diff_vs_baseline": {"total_cost": {"mean": mean - 50.0, "ci95": hw}}, "total_cost_samples": samples,
            "options": {}}


def test_replayed_scenarios_show_no_interval_and_simulated_ones_keep_theirs():
    replay = {"days": 90, "baseline": 0, "baseline_name": "A",
              "scenarios": [_scenario("A", [50.0] * 5, 50.0, 0.0), _scenario("B", [45.0] * 5, 45.0, 0.0)]}
    rows = figs.kpi_table_rows(replay)
    assert all("±" not in v for r in rows for k, v in r.items() if k != "scenario")
    assert rows[1]["total_cost"] == f"45.00 ({SINGLE_PATH})" and rows[1]["fill_rate"] == f"90.00% ({SINGLE_PATH})"
    assert rows[1]["diff_total_cost"] == f"-5.00 ({SINGLE_PATH})"
    text = scenarios_sentence(replay)
    assert "±" not in text and "CI" not in text and SINGLE_PATH in text and "5.00 less" in text
    simulated = {**replay, "scenarios": [_scenario("A", [49.0, 51.0], 50.0, 1.0), _scenario("B", [44.0, 46.0],
                                                                                            45.0, 1.0)]}
    rows = figs.kpi_table_rows(simulated)
    assert rows[1]["total_cost"] == "45.00 ± 1.00" and rows[1]["fill_rate"] == "90.00% ± 100.00"


def test_the_optimum_sentence_on_one_replayed_path_gives_no_interval():
    rep = {"days": 60, "replications": 1, "best_base_stock": {"level": 282.0, "cost": 21.0},
           "best_z": {"z": 3.1, "cost": 25.0},
           "curve": {"levels": [270, 280, 290], "mean": [23.0, 21.0, 21.5], "ci95": [0, 0, 0]},
           "policies": [{"name": "order-up-to", "cost": 21.5, "ci95": 0.0}]}
    text = optimum_sentence(rep)
    assert "± 0.00" not in text and f"(21.50 ({SINGLE_PATH}))" in text and "not a significant" not in text
    assert "21.50 ± 2.00" in optimum_sentence({**rep, "replications": 30,
                                                "policies": [{"name": "order-up-to", "cost": 21.5, "ci95": 2.0}]})


def test_the_regret_chart_is_titled_for_what_its_bars_measure():
    fig = figs.regret_figure([{"name": "order-up-to", "regret": 0.1}])
    assert "cheapest policy found out of sample" in fig.layout.title.text
    assert "perfect-information" not in fig.layout.title.text


def test_the_exact_section_opens_on_the_costs_it_is_given():
    from dashapp import ids
    from dashapp.pages.optimum.exact import exact_section

    def value_of(node, cid):
        if getattr(node, "id", None) == cid:
            return node.value
        kids = getattr(node, "children", None)
        for kid in kids if isinstance(kids, list) else [kids] if kids is not None else []:
            hit = value_of(kid, cid)
            if hit is not None:
                return hit
        return None

    section = exact_section({"h": 0.0045137, "p": 3.75, "source": "the simulator's costs"})
    assert value_of(section, ids.EXACT_H) == 0.004514 and value_of(section, ids.EXACT_P) == 3.75
    assert value_of(exact_section(), ids.EXACT_H) == 1 and value_of(exact_section(), ids.EXACT_P) == 9


def test_the_exact_section_says_a_random_lead_time_is_not_certified():
    import dashapp.app  # noqa: F401 - the pages register themselves on the app
    from dashapp.pages.optimum.exact import exact_section
    from dashapp.pages.optimum.page import scenario_lead_time_dist
    from engine.studies import scenarios as sc

    row = sc.default_table_rows()[0]
    fixed = sc.rows_to_set([row], replications=10, days=30, seed=1)
    random = sc.rows_to_set([{**row, "lead_time_dist": "uniform:4:10"}], replications=10, days=30, seed=1)
    assert scenario_lead_time_dist(fixed) is None and scenario_lead_time_dist(random) == "uniform:4:10"
    text = str(exact_section(None, scenario_lead_time_dist(random)))
    assert "Not certified: the exact model assumes a fixed lead time" in text and "uniform:4:10" in text
    assert "optx-random-lead" in text
    assert "not certified" not in str(exact_section(None, scenario_lead_time_dist(fixed))).lower()
