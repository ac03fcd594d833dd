"""The supplier's rules on the pages (MOQ, pack size, order days, fixed cost per order K): the simulator's fields
checked with the page's words, kept with the session's controls and mapped to SimConfig, so the run orders whole
packs ≥ MOQ on order days only and pays K per order; /portfolio's fields checked alike and mapped to
PortfolioSettings with a cache key that survives the browser."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from dashapp import engine_facade as E
from dashapp.pages.portfolio import service as P
from dashapp.pages.portfolio.view import column_defs, grid_rows, results_view, rules_note
from dashapp.pages.simulator.service import MESSAGE, SimulationService, accepted_choices
from dashapp.pages.simulator.session_views import events_of, kpi_values
from dashapp.platform.store import DiskSessionStore
from dashapp.ui.recommendation import rules_sentence
from dashapp.ui.validation import DEFAULT_CONTROLS, InputError, clean_controls
from engine.data.layout import ColumnMapping
from engine.studies.portfolio import PortfolioSettings
from tests.web.test_portfolio_service import SMALL, data_url, german_csv

RULES = dict(moq=24, pack_size=12, order_days=["thu", "mon"], order_cost=5)
BASE = dict(DEFAULT_CONTROLS, forecaster="ma7", horizon=30, lead_time=2)


def _clean(**changes) -> dict:
    return clean_controls(dict(BASE, **changes), *accepted_choices())


def test_the_four_fields_are_checked_and_normalised():
    c = _clean(**RULES)
    assert (c["moq"], c["pack_size"], c["order_days"], c["order_cost"]) == (24.0, 12, ["mon", "thu"], 5.0)
    blank = _clean(moq="", pack_size=None, order_days=None, order_cost="")
    assert (blank["moq"], blank["pack_size"], blank["order_days"], blank["order_cost"]) == (None, None, [], None)
    every = _clean(order_days=["sun", "sat", "fri", "thu", "wed", "tue", "mon"])
    assert every["order_days"] == []  # all seven checked: every day, like none


@pytest.mark.parametrize("field, value, words", [
    ("moq", "lots", "minimum order quantity: 'lots' is not a number"),
    ("moq", -3, "minimum order quantity: -3 is out of range"),
    ("pack_size", 2.5, "pack size: 2.5 must be a whole number"),
    ("pack_size", 0, "pack size: 0 is out of range"),
    ("order_cost", -1, "fixed cost per order: -1 is out of range"),
    ("order_days", ["mon", "someday"], "order days:"),
    ("order_days", "mon", "order days:"),
])
def test_a_bad_value_is_refused_naming_the_field(field, value, words):
    with pytest.raises(InputError) as err:
        _clean(**{field: value})
    assert str(err.value).startswith(words)


def test_controls_map_to_the_run_s_rules_and_blanks_to_none():
    config = E.sim_config(_clean(**RULES))
    assert (config.moq, config.pack_size, config.order_days, config.order_cost) == (24.0, 12, ["mon", "thu"], 5.0)
    assert config.order_rules().review_period() == 4
    plain = E.sim_config(_clean(moq=0))
    assert (plain.moq, plain.pack_size, plain.order_days, plain.order_cost) == (None, None, None, 0.0)
    assert not plain.order_rules().active


@pytest.fixture
def service(tmp_path):
    store = DiskSessionStore(str(tmp_path / "sessions"), 64 * 2**20, 600)
    yield SimulationService(store)
    store.close()


def test_a_run_with_the_rules_orders_whole_packs_above_the_moq_on_order_days_and_pays_k(service):
    sid = service.press(None, "load", {}).sid
    screen = service.press(sid, "step", dict(BASE, **RULES))
    for _ in range(29):
        screen = service.press(sid, "step", dict(BASE, **RULES))
    rows = screen.rows
    assert len(rows) == 30 and screen.status == "done"
    orders = [r for r in rows if r["order_qty"]]
    assert len(orders) >= 3
    for r in orders:
        assert r["order_qty"] % 12 == 0 and r["order_qty"] >= 24
        assert dt.date.fromisoformat(r["date"][:10]).weekday() in (0, 3)
        assert r["ordering_cost"] == 5.0
    assert all(not r["order_qty"] for r in rows if dt.date.fromisoformat(r["date"][:10]).weekday() not in (0, 3))
    main, sub = kpi_values(rows, 30)["kpi-cost"]
    assert f"ordering {5.0 * len(orders):,.2f}" in sub
    assert float(main.replace(",", "")) == pytest.approx(rows[-1]["cumulative_cost"], abs=0.005)
    day = dt.date.fromisoformat(orders[0]["date"][:10])
    assert events_of(orders[0])[0][0].startswith(f"Day {orders[0]['day']} ({day:%a}")
    # the rules are the session's controls: a reload puts them back into the fields
    restored = service.press(sid, "load", {}).controls
    assert {k: restored[k] for k in RULES} == {"moq": 24.0, "pack_size": 12, "order_days": ["mon", "thu"],
                                                "order_cost": 5.0}


def test_a_bad_rule_is_refused_on_start_and_the_session_keeps_its_controls(service):
    sid = service.press(None, "load", {}).sid
    service.press(sid, "reset", dict(BASE, **RULES))
    refused = service.press(sid, "start", dict(BASE, **dict(RULES, pack_size=-12)))
    assert refused.kind == MESSAGE and "pack size" in refused.message
    assert service.press(sid, "load", {}).controls["pack_size"] == 12


def test_without_k_the_cost_card_names_no_ordering():
    rows = [dict(day=1, date=None, holding_cost=1.0, stockout_cost=0.0, ordering_cost=0.0, demand=1.0,
                 fulfilled=1.0, unmet=0.0, arrivals=0.0, order_qty=0.0, cumulative_cost=1.0, on_hand=3.0,
                 on_order=0.0, inventory_position=4.0, order_up_to=None, forecast=1.0)]
    assert "ordering" not in kpi_values(rows, 10)["kpi-cost"][1]


def test_the_recommendation_names_the_rules_it_was_chosen_under():
    text = rules_sentence({"moq": 24.0, "pack_size": 12, "order_days": ["mon", "thu"], "order_cost": 5.0,
                           "review_period": 4, "integer": False})
    assert "whole packs of 12" in text and "at least 24 units" in text and "Mon, Thu" in text
    assert "review period 4 days" in text and "5 per order" in text
    assert rules_sentence({"moq": 0.0, "pack_size": None, "order_days": None, "order_cost": 0.0}) is None
    assert rules_sentence(None) is None


def test_the_hint_s_settings_carry_the_run_s_rules():
    from engine.studies.recommend import settings_for

    s = settings_for(E.sim_config(_clean(**RULES)))
    assert (s.moq, s.pack_size, s.order_days, s.order_cost) == (24.0, 12, ["mon", "thu"], 5.0)


# -- /portfolio ---------------------------------------------------------------------------------------------------
def test_portfolio_form_maps_the_rules_and_the_key_survives_the_browser():
    s = P.settings_from_form(None, 20, 90, "cost", 0.95, moq="24", pack_size=12, order_cost="5",
                             order_days=["thu", "mon"])
    assert (s.moq, s.pack_size, s.order_cost, s.order_days) == (24.0, 12, 5.0, ["mon", "thu"])
    # the request goes through the browser as JSON, where 12 and 12.0 are one number
    back = P.settings_from_dict(json.loads(json.dumps(s.to_dict()).replace('"pack_size": 12', '"pack_size": 12.0')))
    m = ColumnMapping(demand="Menge")
    assert P.result_key("f" * 64, m, False, back) == P.result_key("f" * 64, m, False, s)
    other = P.settings_from_form(None, 20, 90, "cost", 0.95, order_cost=6)
    assert P.result_key("f" * 64, m, False, other) != P.result_key("f" * 64, m, False, s)
    none = P.settings_from_form(None, 20, 90, "cost", 0.95, moq="", pack_size=None, order_cost=None, order_days=[])
    assert none.to_dict() == P.settings_from_form(None, 20, 90, "cost", 0.95).to_dict()
    assert (none.moq, none.pack_size, none.order_cost, none.order_days) == (0.0, None, 0.0, None)


@pytest.mark.parametrize("field, value, words", [
    ("moq", "x", "minimum order quantity"), ("pack_size", 1.5, "pack size"), ("order_cost", -2, "fixed cost per order"),
    ("order_days", ["mon", "funday"], "order days"),
])
def test_portfolio_refuses_a_bad_rule_naming_the_field(field, value, words):
    with pytest.raises(P.PortfolioInputError) as err:
        P.settings_from_form(None, 20, 90, "cost", 0.95, **{field: value})
    assert str(err.value).startswith(words)


def test_portfolio_result_with_k_orders_less_often_and_says_so(tmp_path):
    from dashapp.platform.store import make_kv

    files = make_kv(None, str(tmp_path / "files"), 600, prefix="pf:")
    insp = P.inspect_upload(files, data_url(german_csv()), "verkauf.csv", 2**20)
    ds = P.read_dataset(files, insp.file_id, insp.mapping, False)
    plain = P.compute(ds, PortfolioSettings(**SMALL).validate(), "a" * 40, lambda d, t: None)
    costly = P.compute(ds, PortfolioSettings(**SMALL, order_cost=10.0, pack_size=6).validate(), "b" * 40,
                       lambda d, t: None)
    per_year = [[r["orders_per_year"] for r in grid_rows(res["records"])] for res in (plain, costly)]
    assert all(n > 0 for n in per_year[1]) and sum(per_year[1]) < sum(per_year[0]) / 2  # fewer, larger orders
    assert "orders_per_year" in {c["field"] for c in column_defs()}
    text = str(results_view(costly))
    assert "pf-total-parts" in text and "10 per order placed" in text and "whole packs of 6" in text
    assert rules_note(plain["settings"]) == ""
    # "Open in simulator" opens the series under the same rules
    from urllib.parse import parse_qsl, urlparse

    from dashapp.pages.simulator.link import link_controls

    query = dict(parse_qsl(urlparse(P.simulator_link(costly["records"][0])).query))
    assert {k: v for k, v in link_controls(query).items() if k in RULES} == {"pack_size": 6, "order_cost": 10}
    assert link_controls({"order_days": "thu;mon;someday"}) == {"order_days": ["mon", "thu"]}


# -- the settings carried to /optimum and /scenarios --------------------------------------------------------------
def test_the_rules_travel_to_optimum_and_scenarios_as_table_columns():
    from dashapp.ui import carry_settings as carry
    from dashapp.ui.scenario_table import table_columns
    from engine.studies import scenarios as sc

    assert {"moq", "pack_size", "order_days", "order_cost"} <= {c["field"] for c in table_columns()}
    config = E.sim_config(_clean(**RULES))
    for search in (carry.optimum_search(config), carry.scenarios_search(config)):
        sset = sc.decode_set(search.split("=", 1)[1])
        # the page's table shows the set and gives the same set back on Run
        assert sc.rows_to_set(sc.set_to_rows(sset), replications=sset["replications"], days=sset["days"],
                              seed=sset["seed"]) == sset
        for cfg in sc.build_configs(sset, allow_files=False):
            assert (cfg.moq, cfg.pack_size, cfg.order_days, cfg.order_cost) == (24, 12, ["mon", "thu"], 5)
    plain = sc.decode_set(carry.optimum_search(E.sim_config(_clean())).split("=", 1)[1])
    assert not {"moq", "pack_size", "order_days", "order_cost"} & set(plain["scenarios"][0])
