"""dashapp.pages.orders.service without a browser: uploads read by the engine only (a pickle is refused as a CSV,
never loaded), the engine's messages passed on, edits validated and kept, rows and CSV follow the edits."""
from __future__ import annotations

import base64
import pickle

import pytest

from dashapp.pages.orders import service as O
from dashapp.ui.levels import OWN_LEVELS, level_options
from engine.studies.orders import OrderSettings

FAST = OrderSettings(replications=3, days=14)
MAX = 20 * 2**20


def data_url(text) -> str:
    raw = text if isinstance(text, bytes) else text.encode()
    return "data:text/csv;base64," + base64.b64encode(raw).decode()


STOCK = data_url("sku,warehouse,on_hand\nSKU_1,WH_1,0\nSKU_1,WH_2,100000\n")
ITEMS = data_url("sku,pack_size,moq\nSKU_1,12,24\n")


@pytest.fixture(scope="module")
def result():
    return O.compute((None, None), (STOCK, "stock.csv"), (ITEMS, "items.csv"), "2025-12-31", MAX, FAST)


def test_compute_on_the_bundled_sample(result):
    low, high = result["orders"]
    assert low["order_qty"] > 0 and low["order_qty"] % 12 == 0 and high["order_qty"] == 0
    assert result["files"] == {"sales": "the bundled sample (data/sample.csv)", "stock": "stock.csv",
                               "items": "items.csv"}
    assert O.default_date(None, None, MAX) == "2025-12-31"
    # the status counts order lines as the summary does, and says how many series order nothing today
    assert O.proposed_words(result) == ("Proposed 1 order line for 2 series (1 with nothing to order today; its "
                                        "row stays in the grid).")
    both = dict(result, orders=[low, low], totals=dict(result["totals"], lines=2))
    assert O.proposed_words(both) == "Proposed 2 order lines."


@pytest.mark.parametrize("stock, date, message", [
    (None, "2025-12-31", "upload the stock file"),
    (data_url("sku,warehouse,on_hand\nSKU_1,WH_1,x\n"), "2025-12-31", "row 2, column on_hand: 'x' is not a number"),
    (STOCK, "31.12.2025", "“Order date” '31.12.2025' is not a date (YYYY-MM-DD)"),
    (data_url(pickle.dumps({"on_hand": 1})), "2025-12-31", "file stock.csv, row 1: is a binary file"),
    (data_url("item,location,on_hand\nA,S1,10\n".encode("utf-16")), "2025-12-31", "file stock.csv: is UTF-16 text"),
    ("not a data url", "2025-12-31", "not a file upload"),
])
def test_bad_input_is_the_engine_s_one_line(stock, date, message):
    with pytest.raises(O.OrdersInputError, match=message.replace("(", r"\(").replace(")", r"\)")) as err:
        O.compute((None, None), (stock, "stock.csv"), (None, None), date, MAX, FAST)
    assert "\n" not in str(err.value)


def test_edits_are_validated_kept_and_reach_rows_and_csv(result):
    edits, text = O.apply_edit(result, {}, "SKU_1/WH_2", 30)
    assert edits == {"SKU_1/WH_2": 30} and "not a multiple of the pack (12)" in text
    rows = {r["series"]: r for r in O.grid_rows(result, edits)}
    assert rows["SKU_1/WH_2"]["order_qty"] == 30 and rows["SKU_1/WH_2"]["proposed_qty"] == 0
    assert rows["SKU_1/WH_2"]["edited"] and "[edited: 30" in rows["SKU_1/WH_2"]["reason"]
    csv_text = O.export_csv(result, edits)
    assert "SKU_1,WH_2,SKU_1/WH_2,2025-12-31,30," in csv_text
    back, text = O.apply_edit(result, edits, "SKU_1/WH_2", 0)
    assert back == {} and "back to the proposed" in text
    for bad in (-1, 2.5, "many"):
        with pytest.raises(O.OrdersInputError):
            O.apply_edit(result, {}, "SKU_1/WH_1", bad)


def test_the_session_entry_round_trips(result, tmp_path):
    from dashapp.platform.store import DiskSessionStore

    store = DiskSessionStore(str(tmp_path / "s"), size_limit=2**26, ttl=60)
    O.save(store, "sid1", result, {"SKU_1/WH_1": 12})
    again, edits = O.load(store, "sid1")
    assert again == result and edits == {"SKU_1/WH_1": 12}
    assert O.load(store, "other") == (None, {})


def test_the_objective_and_target_are_read_as_portfolio_reads_them_and_named_in_the_result():
    s = O.order_settings("fill-rate", "97.5")   # a percentage, as /portfolio and /optimum take it
    assert (s.objective, s.target_fill_rate) == ("fill-rate", 0.975)
    assert O.order_settings("cost", 0.9).objective == "cost"
    with pytest.raises(O.OrdersInputError, match=r"target fill rate: '120' is out of range \(0.5 to 0.999"):
        O.order_settings("fill-rate", "120")
    with pytest.raises(O.OrdersInputError, match="target fill rate: a value is required"):
        O.order_settings("cost", "")
    with pytest.raises(O.OrdersInputError, match="objective: choose least expected cost"):
        O.order_settings("<script>", 0.95)
    fill = O.compute((None, None), (STOCK, "stock.csv"), (ITEMS, "items.csv"), "2025-12-31", MAX,
                     OrderSettings(objective="fill-rate", target_fill_rate=0.9, replications=3, days=14))
    assert fill["settings"]["objective"] == "fill-rate"
    assert O.objective_words(fill["settings"]) == "least stock reaching a 90.0 % fill rate"
    assert all(o["recommendation"]["objective"]["name"] == "fill-rate" for o in fill["orders"])
    assert O.objective_words({"objective": "cost", "target_fill_rate": 0.95}) == "least expected cost"


def test_a_fill_rate_correction_too_large_for_one_request_is_refused_with_the_way_out(monkeypatch):
    monkeypatch.setattr(O, "MAX_CHECKED_SERIES", 4)   # the sample's 5 series × one setting of its items
    fill = OrderSettings(objective="fill-rate", replications=3, days=14)
    with pytest.raises(O.OrdersInputError, match=r"reading all 5 series of the sales file once for each of the 1 "
                                                 r"distinct settings \(lead time, order days, packs, MOQ, costs\) "
                                                 r".* `python -m engine orders"):
        O.compute((None, None), (STOCK, "stock.csv"), (ITEMS, "items.csv"), "2025-12-31", MAX, fill)
    assert O.compute((None, None), (STOCK, "stock.csv"), (ITEMS, "items.csv"), "2025-12-31", MAX, FAST)["orders"]


def test_the_value_of_the_proposed_lines_is_summed_per_currency(result):
    worth = sum(o["order_value"] for o in result["orders"] if o["order_qty"] > 0)
    assert worth > 0 and O.value_words(result) == f"worth {worth:,.2f} (currency not named)"
    line = dict(result["orders"][0], order_qty=10, order_value=20.0)
    mixed = {"orders": [dict(line, currency="USD"), dict(line, currency="EUR"), dict(line, currency="EUR"),
                        dict(line, order_qty=0, order_value=0.0, currency="GBP")]}
    assert O.value_words(mixed) == "worth 40.00 EUR + 20.00 USD"
    assert O.value_words({"orders": [dict(line, order_qty=0, order_value=0.0)]}) == "worth 0"


def test_each_row_carries_what_its_policy_gives_on_the_recommendation_s_paths(result):
    rows = O.grid_rows(result, {})
    for row, line in zip(rows, result["orders"]):
        rec = line["recommendation"]
        assert row["fill_rate"] == rec["fill_rate"] and 0 <= row["fill_rate"] <= 1
        assert row["expected_cost"] == rec["expected_cost"] and row["cost_days"] == FAST.days


def test_a_running_proposal_is_followed_until_its_lines_land_or_it_goes_quiet(tmp_path):
    """The session's running job's status (dashapp.ui.job_pages.Heartbeat in the job store) tells a reloaded page
    whether to wait: running while that run's record is there (running_status drops a stale one), done once the
    session holds lines computed since the run started, stopped when the record is gone without them."""
    from dashapp.platform.store import DiskSessionStore

    store = DiskSessionStore(str(tmp_path / "s"), size_limit=2**26, ttl=60)
    status = {"state": "running", "started": 990.0, "label": "3 of 40 series"}
    assert O.follow(store, "sid1", 990.0, status)[0] == "running"
    assert O.follow(store, "sid1", 980.0, status)[0] == "stopped"      # another run than the one followed
    assert O.follow(store, "sid1", 990.0, None)[0] == "stopped"        # no record (gone quiet, or cancelled)
    O.save(store, "sid1", {"saved_at": 985.0, "orders": []}, {})       # older lines: not this run's
    assert O.follow(store, "sid1", 990.0, None)[0] == "stopped"
    O.save(store, "sid1", {"saved_at": 1001.0, "orders": []}, {"A": 3})
    state, result, edits = O.follow(store, "sid1", 990.0, None)
    assert state == "done" and result["saved_at"] == 1001.0 and edits == {"A": 3}


def test_levels_from_a_global_model_are_offered_for_either_objective():
    """“Levels from” lists each series' recommendation and the models folder's global models (not the per-series
    ensembles) under either objective; an unlisted value is named, not loaded."""
    values = [o["value"] for o in level_options()]
    assert values[0] == OWN_LEVELS and "ensemble:m5-global" in values and "ensemble:default" not in values
    assert O.order_settings("fill-rate", 0.95, "ensemble:m5-global").forecaster == "ensemble:m5-global"
    assert O.order_settings("cost", 0.95, "ensemble:m5-global").forecaster == "ensemble:m5-global"
    assert O.order_settings("cost", 0.95, OWN_LEVELS).forecaster is None
    with pytest.raises(O.OrdersInputError, match="is not one of the listed models"):
        O.order_settings("fill-rate", 0.95, "../../etc/passwd")


def test_orders_with_a_global_models_levels_name_it_in_every_reason():
    s = O.order_settings("fill-rate", 0.95, "ensemble:m5-global")
    out = O.compute((None, None), (STOCK, "stock.csv"), (ITEMS, "items.csv"), "2025-12-31", MAX, s)
    assert out["settings"]["forecaster"] == "ensemble:m5-global"
    assert all("ensemble:m5-global's" in o["reason"] and "-quantile" in o["reason"] for o in out["orders"])
    assert O.objective_words(out["settings"]).endswith("levels from ensemble:m5-global's quantiles")
    assert any("never trained on" in n for n in out["notes"])
    # m5-global never saw the sample's series: said, with the check and the training command as typed
    assert any("was trained on m5_store.csv, not on these series" in n and "(engine train --global)" in n
               for n in out["notes"])
    rows = O.grid_rows(out, {})
    assert all(r["fill_rate"] is None or 0 <= r["fill_rate"] <= 1 for r in rows)
    cost = O.compute((None, None), (STOCK, "stock.csv"), (ITEMS, "items.csv"), "2025-12-31", MAX,
                     O.order_settings("cost", 0.95, "ensemble:m5-global"))
    assert O.objective_words(cost["settings"]) == "least expected cost, levels from ensemble:m5-global's quantiles"
    assert all(o["recommendation"]["objective"]["name"] == "cost" for o in cost["orders"])
