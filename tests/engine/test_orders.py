"""Today's orders (engine.studies.orders, `python -m engine orders`): quantities in whole packs and at least the MOQ
or 0, an item far above its level orders nothing, one below it orders on an order day and not on other days (naming
the next order day), reasons name the numbers, assumptions are listed, the level is the one recommendation's."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json

import numpy as np
import pytest

from engine.cli.main import main
from engine.data.dataset import DataError, load_csv
from engine.data.items import item_terms, read_items
from engine.data.stock import StockPosition, read_stock
from engine.studies.orders import (
    OrderSettings,
    decide,
    history_before,
    order_quantity,
    propose_orders,
    purchase_order_csv,
)

FAST = OrderSettings(replications=4, days=21)
MONDAY = dt.date(2024, 3, 4)  # the sales below run 2024-01-01 .. 2024-03-10


def sales_csv(items=("A", "B"), days: int = 70, seed: int = 3) -> bytes:
    rng = np.random.default_rng(seed)
    start = dt.date(2024, 1, 1)
    rows = ["date,sku,store,qty,price,cost"]
    for k in range(days):
        d = (start + dt.timedelta(days=k)).isoformat()
        for item in items:
            rows.append(f"{d},{item},S1,{rng.poisson(6)},9.5,5")
    return ("\n".join(rows) + "\n").encode()


@pytest.fixture(scope="module")
def ds():
    return load_csv(sales_csv(), name="sales.csv")


def test_order_quantity_is_whole_packs_at_least_the_moq_or_zero():
    for pack in (1, 6, 12, 24):
        for moq in (0, 5, 24, 48, 100):
            for need in np.linspace(-3, 250, 97):
                qty, packs, _ = order_quantity(float(need), pack, moq)
                if need <= 0:
                    assert qty == packs == 0
                else:
                    assert qty == packs * pack and qty >= moq and qty >= need - 1e-9
                    assert (packs - 1) * pack < max(need, moq)  # the fewest packs that do it
    assert order_quantity(21.6, 24, 48) == (48, 2, True)
    assert order_quantity(30.0, 24, 0) == (48, 2, False)


def up_to(level=61.6, forecast=6.2, safety=12.0):
    """A recommendation record's fields that decide() reads (engine.studies.recommendation)."""
    return {"policy": "order-up-to", "params": {"order_up_to": level, "daily_forecast": forecast,
                                                "safety_stock": safety}}


def terms_for(ds, text: bytes):
    return item_terms(ds, read_items(text, name="items.csv"))["A/S1"]


def test_reason_names_the_numbers(ds):
    t = terms_for(ds, b"item,pack_size,moq,lead_time,order_days\nA,24,48,4,mon;thu\n")
    stock = StockPosition("A/S1", "A", "S1", on_hand=30.0, orders=[(10.0, MONDAY + dt.timedelta(days=2))])
    line = decide(up_to(), stock, t, MONDAY)
    assert line["order_qty"] == 48 and line["packs"] == 2
    assert line["arrival_date"] == "2024-03-08"  # D + lead time 4
    assert line["reason"] == ("position 40 (30 on hand + 10 on order) < level 61.6 (8 days (lead time 4 + 4 days "
                              "between order days mon;thu) × forecast 6.2/day + safety 12.0): need 21.6 → MOQ 48 → "
                              "48 = 2 × 24")
    rq = {"policy": "r-Q", "params": {"reorder_point": 52.0, "order_quantity": 30.0}}
    line = decide(rq, stock, t, MONDAY)
    assert line["order_qty"] == 48 and "position 40 (30 on hand + 10 on order) ≤ reorder point 52.0" in line["reason"]
    assert line["reason"].endswith("1 × Q = 30 → 48 = 2 × 24")  # two packs already reach the MOQ


def test_an_order_due_on_or_before_the_date_is_not_counted_twice(ds):
    t = terms_for(ds, b"item,pack_size\nA,1\n")
    stock = StockPosition("A/S1", "A", "S1", on_hand=30.0, orders=[(10.0, MONDAY), (5.0, None)])
    line = decide(up_to(), stock, t, MONDAY)
    assert line["position"] == 35.0 and line["order_qty"] == 27  # 61.6 − 35 = 26.6 → 27 whole units
    assert "10 due 2024-03-04 counted as arrived" in line["reason"]


def test_order_days_below_the_level_orders_only_on_an_order_day_and_names_the_next(ds):
    t = terms_for(ds, b"item,pack_size,order_days\nA,12,mon;thu\n")
    stock = StockPosition("A/S1", "A", "S1", on_hand=0.0)
    on = decide(up_to(), stock, t, MONDAY)
    assert on["order_qty"] == 72 and on["order_day"]
    tuesday = MONDAY + dt.timedelta(days=1)
    off = decide(up_to(), stock, t, tuesday)
    assert off["order_qty"] == 0 and off["packs"] == 0 and off["arrival_date"] is None and not off["order_day"]
    assert off["next_order_day"] == "2024-03-07"
    assert "Tue 2024-03-05 is not an order day (mon;thu)" in off["reason"]
    assert "next order day Thu 2024-03-07" in off["reason"] and off["reason"].endswith("order then")


def test_propose_orders_on_the_recommendation(ds):
    items = read_items(b"item,location,pack_size,moq,order_days,lead_time,currency\nA,S1,12,36,mon;thu,3,EUR\n",
                       name="items.csv")
    terms = item_terms(ds, items)
    stock = read_stock(b"sku,store,on_hand,on_order,due_date\nA,S1,0,,\nB,S1,100000,,\n", ds, name="stock.csv")
    out = propose_orders(ds, stock, terms, MONDAY, FAST)
    low, high = out["orders"]
    assert low["series"] == "A/S1" and low["order_qty"] > 0
    assert low["order_qty"] % 12 == 0 and low["order_qty"] >= 36 and low["packs"] == low["order_qty"] // 12
    assert low["arrival_date"] == "2024-03-07" and low["protection_days"] == 3 + 4
    assert "orders on mon;thu only: a protection period of 7 days = lead time 3 + review period 4" in \
        low["protection_note"]
    assert high["order_qty"] == 0 and "nothing to order" in high["reason"]  # far above its level
    # the level is the one recommendation's, simulated with orders on the item's order days (protection L + R),
    # rounded to its packs and MOQ
    from dataclasses import replace

    from engine.studies.portfolio import PortfolioSettings
    from engine.studies.recommend import recommend

    hist = history_before(ds.series["A/S1"], MONDAY)
    assert hist.dates[-1] == "2024-03-03"  # D's own sales are not used
    hist = replace(hist, lead_time_days=3, price_source="file", cost_source="file")
    rec = recommend(hist, PortfolioSettings(lead_time=3, order_days="mon;thu", pack_size=12, moq=36, replications=4,
                                            days=21))
    assert low["recommendation"] == rec and rec["lead_time"] == 3 and rec["params"].get("protection_days") == 7
    level = rec["params"].get("order_up_to", rec["params"].get("reorder_point"))
    assert low["level"] == pytest.approx(level)
    assert low["costs_source"] == "file"  # price and cost columns of the sales file
    # the assumptions: what neither file gave, with the series they apply to
    fields = {a["field"]: a for a in out["assumptions"]}
    assert set(fields) == {"holding_rate", "order_cost", "currency", "moq", "pack_size", "order_days", "lead_time"}
    assert fields["pack_size"]["series"] == ["B/S1"] and fields["currency"]["series"] == ["B/S1"]
    assert "pack size 1 assumed — edit the item file" in high["assumption_notes"]
    assert low["assumed"] == ["holding_rate", "order_cost"]
    assert out["skipped"] == []
    assert any("order cost K" in n for n in out["notes"])


def test_purchase_order_csv_is_formula_safe_and_takes_edits():
    ds = load_csv(sales_csv(items=("=HYPERLINK(1)", "B")), name="sales.csv")
    stock = read_stock(b"sku,store,on_hand\n=HYPERLINK(1),S1,0\nB,S1,0\n", ds, name="stock.csv")
    out = propose_orders(ds, stock, item_terms(ds), MONDAY, FAST)
    rows = list(csv.DictReader(io.StringIO(purchase_order_csv(out["orders"]))))
    assert [r["item"] for r in rows] == ["'=HYPERLINK(1)", "B"]
    edited = purchase_order_csv(out["orders"], {"B/S1": 0, "=HYPERLINK(1)/S1": 7})
    rows = list(csv.DictReader(io.StringIO(edited)))
    assert len(rows) == 1 and rows[0]["order_qty"] == "7"


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode())
    return str(p)


def run_cli(capsys, *argv):
    code = main(["orders", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_json_and_po_csv(tmp_path, capsys):
    sales = write(tmp_path, "sales.csv", sales_csv())
    stock = write(tmp_path, "stock.csv", "sku,store,on_hand\nA,S1,0\nB,S1,100000\n")
    items = write(tmp_path, "items.csv", "sku,pack_size,moq,order_days\nA,24,48,mon;thu\n")
    po = tmp_path / "po.csv"
    code, out, _ = run_cli(capsys, "--data", sales, "--stock", stock, "--items", items, "--date", "2024-03-04",
                           "--replications", "4", "--days", "21", "--json", "--out", str(po))
    assert code == 0
    res = json.loads(out)
    by = {o["series"]: o for o in res["orders"]}
    assert set(by["A/S1"]) >= {"series", "order_qty", "packs", "arrival_date", "reason"}
    assert by["A/S1"]["order_qty"] % 24 == 0 and by["A/S1"]["order_qty"] >= 48
    assert by["B/S1"]["order_qty"] == 0
    assert res["assumptions"] and all("assumed" in a["note"] or "not named" in a["note"] for a in res["assumptions"])
    lines = list(csv.DictReader(io.StringIO(po.read_text())))
    assert [r["series"] for r in lines] == ["A/S1"] and int(lines[0]["order_qty"]) == by["A/S1"]["order_qty"]
    code, out, _ = run_cli(capsys, "--data", sales, "--stock", stock, "--items", items, "--date", "2024-03-05",
                           "--replications", "4", "--days", "21", "--json")
    tue = {o["series"]: o for o in json.loads(out)["orders"]}
    assert tue["A/S1"]["order_qty"] == 0 and "next order day Thu 2024-03-07" in tue["A/S1"]["reason"]
    code, out, err = run_cli(capsys, "--data", sales, "--stock", stock, "--date", "2024-03-04", "--replications",
                             "4", "--days", "21", "--objective", "fill-rate", "--target-fill-rate", "0.9")
    assert code == 0 and out.splitlines()[0].endswith("chosen for least stock reaching a 90.0 % fill rate")
    assert "orders: 0 of 2 series; correcting the fill-rate target on all" in err   # the long step is announced


@pytest.mark.parametrize("case, message", [
    ("unknown item", "item 'Z' at location 'S1' is not in the sales file"),
    ("bad date", "--date '2024-02-30' is not a date"),
    ("negative stock", "-4 is negative"),
    ("bad order days", "'someday' is not a weekday"),
    ("bad due date", "'soon' is not a date"),
    ("no on_hand", "no on_hand column found"),
    ("no history", "has no sales before 2023-01-02"),
])
def test_cli_bad_input_is_one_line_exit_2(tmp_path, capsys, case, message):
    sales = write(tmp_path, "sales.csv", sales_csv())
    stock_text = {"unknown item": "sku,store,on_hand\nZ,S1,3\n", "negative stock": "sku,store,on_hand\nA,S1,-4\n",
                  "bad due date": "sku,store,on_hand,on_order,due_date\nA,S1,3,5,soon\n",
                  "no on_hand": "sku,store,qty\nA,S1,3\n"}.get(case, "sku,store,on_hand\nA,S1,3\n")
    argv = ["--data", sales, "--stock", write(tmp_path, "stock.csv", stock_text),
            "--date", {"bad date": "2024-02-30", "no history": "2023-01-02"}.get(case, "2024-03-04")]
    if case == "bad order days":
        argv += ["--items", write(tmp_path, "items.csv", "sku,order_days\nA,mon;someday\n")]
    code, out, err = run_cli(capsys, *argv, "--json")
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


@pytest.mark.parametrize("text", [
    b"sku;store;on_hand;on_order\nA;S1;10,5;2\nB;S1;1.234,5;0\n",
    b"sku\tstore\ton_hand\ton_order\nA\tS1\t10,5\t2\nB\tS1\t1.234,5\t0\n",
    b"sku,store,on_hand,on_order\nA,S1,10.5,2\nB,S1,1234.5,0\n",
])
def test_stock_files_separated_like_sales_files_read_the_same(ds, text):
    """A stock or item file separated by ; or tab (decimal commas allowed) reads as the comma one: the sales
    loader's separators (the stock reader split every line on commas and failed on the header)."""
    got = read_stock(text, ds, name="stock.csv")
    assert {k: (p.on_hand, sum(q for q, _ in p.orders)) for k, p in got.items()} == \
        {"A/S1": (10.5, 2.0), "B/S1": (1234.5, 0.0)}
    items = read_items(b"sku;store;moq;unit_cost\nA;S1;12;3,5\n", name="items.csv")
    assert item_terms(ds, items)["A/S1"].unit_cost == 3.5


def test_a_stock_column_with_decimal_commas_reads_its_dots_as_the_sales_loader_does(ds):
    """One rule for a decimal-comma column (engine.data.cells): its dots group thousands in every cell, with or
    without a comma; a column without commas reads dots as decimal points."""
    got = read_stock(b"sku;store;on_hand;on_order\nA;S1;1.234;2.5\nB;S1;0,5;0\n", ds, name="stock.csv")
    assert {k: (p.on_hand, sum(q for q, _ in p.orders)) for k, p in got.items()} == \
        {"A/S1": (1234.0, 2.5), "B/S1": (0.5, 0.0)}
    with pytest.raises(DataError, match="decimal comma is read in files separated by semicolons"):
        read_stock(b"sku,store,on_hand\nA,S1,\"10,5\"\n", ds, name="stock.csv")


def test_fill_rate_orders_carry_portfolio_s_correction_read_on_the_file_before_the_date():
    """Under the fill-rate objective a line is /portfolio's record for the series on the file as it stood on D: the
    out-of-time correction read on every series cut before D (here 10 series, enough for the check), the same for
    every line with the same settings."""
    from dataclasses import replace

    from engine.studies.portfolio import PortfolioSettings, with_calibration
    from engine.studies.recommend import recommend

    items = tuple("ABCDEFGHIJ")
    big = load_csv(sales_csv(items=items, days=130, seed=5), name="sales.csv")
    date = dt.date(2024, 4, 30)   # 120 days of sales before it
    stock = read_stock(b"sku,store,on_hand\nA,S1,0\nB,S1,3\n", big, name="stock.csv")
    settings = OrderSettings(objective="fill-rate", target_fill_rate=0.9, replications=4, days=21)
    out = propose_orders(big, stock, item_terms(big, None), date, settings)
    before = [history_before(x, date) for x in big.series.values()]
    ps = PortfolioSettings(lead_time=7, replications=4, days=21, objective="fill-rate", target_fill_rate=0.9)
    corrected = with_calibration(before, ps)
    assert corrected.calibration, "the check found no window: the test would not see the correction"
    uncorrected = []
    for line in out["orders"]:
        hist = replace(history_before(big.series[line["series"]], date), lead_time_days=7, price_source="file",
                       cost_source="file")
        assert line["recommendation"] == recommend(hist, corrected)
        uncorrected.append(recommend(hist, ps))
    assert [line["recommendation"] for line in out["orders"]] != uncorrected   # the correction moved the answer
    assert out["settings"]["objective"] == "fill-rate" and out["settings"]["target_fill_rate"] == 0.9


def test_correction_checks_count_the_distinct_settings_under_the_fill_rate_objective_only(ds):
    from engine.studies.orders import correction_checks

    same = item_terms(ds, read_items(b"item,lead_time\nA,3\nB,3\n", name="items.csv"))
    two = item_terms(ds, read_items(b"item,lead_time\nA,3\nB,5\n", name="items.csv"))
    fill = OrderSettings(objective="fill-rate")
    assert correction_checks(same, ["A/S1", "B/S1"], fill) == 1
    assert correction_checks(two, ["A/S1", "B/S1"], fill) == 2
    assert correction_checks(two, ["A/S1", "B/S1"], OrderSettings()) == 0


def test_a_stale_sales_file_is_one_note_not_one_a_series():
    """Ordering days after the sales file ends: one note names the gap for the series it applies to (all of them
    here), not a copy per series."""
    ds = load_csv(sales_csv(items=("A", "B", "C", "D")), name="sales.csv")   # 2024-01-01 .. 2024-03-10
    stock = read_stock(b"sku,store,on_hand\nA,S1,0\nB,S1,0\nC,S1,0\nD,S1,0\n", ds, name="stock.csv")
    out = propose_orders(ds, stock, item_terms(ds, None), dt.date(2024, 3, 15), FAST)
    stale = [n for n in out["notes"] if "the sales history ends" in n]
    assert stale == ["all 4 series (A/S1, B/S1, C/S1, …): the sales history ends 2024-03-10, 4 days before "
                     "2024-03-15; the forecast starts from there"]
    fresh = propose_orders(ds, stock, item_terms(ds, None), dt.date(2024, 3, 11), FAST)
    assert not any("the sales history ends" in n for n in fresh["notes"])


def test_short_histories_share_one_caveat_note():
    ds = load_csv(sales_csv(items=("A", "B", "C"), days=20), name="sales.csv")   # 2024-01-01 .. 2024-01-20
    stock = read_stock(b"sku,store,on_hand\nA,S1,0\nB,S1,0\nC,S1,0\n", ds, name="stock.csv")
    out = propose_orders(ds, stock, item_terms(ds, None), dt.date(2024, 1, 21), FAST)
    caveats = [n for n in out["notes"] if "the recommendation is based on" in n]
    assert len(caveats) == 1 and caveats[0].startswith("all 3 series (A/S1, B/S1, C/S1): the recommendation is "
                                                       "based on 20 days of history")
    assert all(line["recommendation"]["caveat"] for line in out["orders"])   # each line keeps its own
