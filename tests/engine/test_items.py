"""The item master (engine.data.items) and order days (engine.data.order_days): values from the item file, the sales
file or defaults, and every default listed as an assumption."""
from __future__ import annotations

import datetime as dt

import pytest

from engine.data.dataset import load_csv
from engine.data.items import assumption_notes, assumptions_by_field, item_terms, read_items
from engine.data.order_days import is_order_day, next_order_day, parse_order_days, review_days
from engine.errors import DataError


def sales(days: int = 60) -> bytes:
    """Two items at two stores, no price or cost columns."""
    start = dt.date(2024, 1, 1)
    rows = ["date,sku,store,qty"]
    for k in range(days):
        d = (start + dt.timedelta(days=k)).isoformat()
        for item in ("A", "B"):
            for store in ("S1", "S2"):
                rows.append(f"{d},{item},{store},{(k * 7 + len(item + store)) % 9}")
    return ("\n".join(rows) + "\n").encode()


@pytest.fixture(scope="module")
def ds():
    return load_csv(sales(), name="sales.csv")


def test_order_days_parse_review_period_and_next_day():
    assert parse_order_days("mon;thu") == (0, 3)
    assert parse_order_days("Monday, Thursday") == (0, 3)
    assert parse_order_days("") == tuple(range(7)) and parse_order_days("daily") == tuple(range(7))
    assert review_days((0, 3)) == 4  # mon→thu 3 days, thu→mon 4 days: the longest gap
    assert review_days((2,)) == 7 and review_days(tuple(range(7))) == 1
    tue = dt.date(2024, 3, 5)
    assert not is_order_day(tue, (0, 3)) and is_order_day(dt.date(2024, 3, 7), (0, 3))
    assert next_order_day(tue, (0, 3)) == dt.date(2024, 3, 7)
    assert next_order_day(dt.date(2024, 3, 7), (0, 3)) == dt.date(2024, 3, 11)  # after, not on, the day
    with pytest.raises(ValueError, match="'xyz' is not a weekday"):
        parse_order_days("mon;xyz")


def test_without_an_item_file_every_field_is_an_assumption(ds):
    terms = item_terms(ds)
    t = terms["A/S1"]
    assert (t.unit_cost, t.unit_price, t.pack_size, t.moq, t.lead_time) == (20.0, 40.0, 1, 0, 7)
    assert set(t.assumed()) == {"unit_cost", "unit_price", "holding_rate", "currency", "moq", "pack_size",
                                "order_cost", "order_days", "lead_time"}
    assert "unit cost 20 assumed (20/40 of the unit price) — edit the item file" in assumption_notes(t)
    groups = {g["field"]: g for g in assumptions_by_field(terms)}
    assert groups["unit_cost"]["series"] == ["A/S1", "A/S2", "B/S1", "B/S2"]
    assert groups["order_days"]["value"] == "daily"


def test_item_file_rows_for_an_item_and_for_one_location(ds):
    items = read_items(b"item,location,unit_cost,unit_price,pack_size,moq,order_days,lead_time,currency\n"
                       b"A,,5,9,24,48,mon;thu,3,EUR\n"
                       b"A,S2,,,12,,,,\n", name="items.csv")
    terms = item_terms(ds, items)
    a1, a2, b1 = terms["A/S1"], terms["A/S2"], terms["B/S1"]
    assert (a1.unit_cost, a1.unit_price, a1.pack_size, a1.moq, a1.order_days, a1.lead_time, a1.currency) == \
        (5.0, 9.0, 24, 48, (0, 3), 3, "EUR")
    assert a2.pack_size == 12 and a2.moq == 48  # the location's row wins where it has a value
    assert a1.protection_days == 3 + 4
    assert a1.source["pack_size"] == "item file" and a1.assumed() == ["holding_rate", "order_cost"]
    assert a1.prices_known() and not b1.prices_known()
    assert "unit_cost" in b1.assumed()


def test_a_sales_file_lead_time_beyond_the_limit_is_refused_unless_the_item_file_sets_one():
    text = b"date,sku,qty,lead_time\n" + b"".join(f"2024-01-{d:02d},A,3,75\n".encode() for d in range(1, 29))
    ds = load_csv(text, name="sales.csv")
    with pytest.raises(DataError, match="series A: lead time 75 days \\(sales file\\) is above 60 days"):
        item_terms(ds)
    assert item_terms(ds, read_items(b"item,lead_time\nA,9\n"))["A"].lead_time == 9


def test_sales_file_price_and_cost_columns_are_not_assumptions():
    path = "data/sample.csv"
    t = item_terms(load_csv(path))["SKU_1/WH_1"]
    assert t.source["unit_cost"] == "sales file" and t.source["unit_price"] == "sales file"
    assert t.source["lead_time"] == "sales file" and "unit_cost" not in t.assumed()


@pytest.mark.parametrize("text, message", [
    (b"item,pack_size\nZ,12\n", "item 'Z' is not in the sales file"),
    (b"item,location,pack_size\nA,S9,12\n", "item 'A' at location 'S9' is not in the sales file"),
    (b"item,pack_size\nA,0\n", "row 2, column pack_size: 0 is out of range"),
    (b"item,moq\nA,2.5\n", "2.5 is not a whole number"),
    (b"item,unit_cost\nA,-3\n", "-3 is negative"),
    (b"item,order_days\nA,mon;funday\n", "row 2, column order_days: order days: 'funday' is not a weekday"),
    (b"item,lead_time\nA,abc\n", "'abc' is not a number"),
    (b"item,unit_cost,unit_price\nA,10,8\n", "unit price 8 (item file) is not above unit cost 10"),
    (b"item,pack_size\nA,6\nA,12\n", "has two rows"),
    (b"product_name,pack_size\nA,6\n", "no item column found"),
    (b"item,colour\nA,red\n", "has no item-master column"),
])
def test_bad_item_files_give_one_message_naming_the_cell(ds, text, message):
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")) as err:
        item_terms(ds, read_items(text, name="items.csv"))
    assert "items.csv" in str(err.value) or "series" in str(err.value)


def priced_sales() -> bytes:
    """Item A sells at 5.64 and B at 0.98, no cost column (the M5 layout)."""
    rows = ["date,item_id,store_id,sales,sell_price"]
    for k in range(60):
        d = (dt.date(2016, 1, 1) + dt.timedelta(days=k)).isoformat()
        rows += [f"{d},A,CA_1,{k % 4},5.64", f"{d},B,CA_1,{k % 3},0.98"]
    return ("\n".join(rows) + "\n").encode()


def test_a_file_price_without_a_cost_assumes_the_loaders_ratio_not_the_default_cost():
    ds = load_csv(priced_sales(), name="m5.csv")
    terms = item_terms(ds)
    a, b = terms["A/CA_1"], terms["B/CA_1"]
    assert (a.unit_price, a.unit_cost) == (5.64, pytest.approx(2.82))  # 20/40 of the price, as the loader's
    assert b.unit_cost == pytest.approx(0.49) and ds.series["B/CA_1"].unit_cost == pytest.approx(b.unit_cost)
    assert a.source["unit_cost"] == "assumed" and a.source["unit_price"] == "sales file"
    assert assumption_notes(a)[0] == "unit cost 2.82 assumed (20/40 of the unit price) — edit the item file"
    groups = [g for g in assumptions_by_field(terms) if g["field"] == "unit_cost"]
    assert len(groups) == 1 and sorted(groups[0]["series"]) == ["A/CA_1", "B/CA_1"]  # one rule, said once
    # an item-file price without a cost moves the assumed cost with it
    t = item_terms(ds, read_items(b"item,unit_price\nA,10\n", name="items.csv"))["A/CA_1"]
    assert (t.unit_price, t.unit_cost) == (10.0, 5.0)


def test_terms_are_checked_only_on_the_series_asked_for():
    ds = load_csv(priced_sales(), name="m5.csv")
    bad_b = read_items(b"item,unit_cost\nB,3\n", name="items.csv")   # B's cost 3 above its price 0.98
    with pytest.raises(DataError, match="B/CA_1: unit price 0.98"):
        item_terms(ds, bad_b)
    assert item_terms(ds, bad_b, checked=["A/CA_1"])["A/CA_1"].unit_cost == pytest.approx(2.82)
