"""Column detection and the long-format loader: layouts, --columns, and one clear message per bad file."""
from __future__ import annotations

import pytest

from engine.cli.main import main
from engine.data.dataset import load_csv
from engine.data.layout import ColumnMapping, detect_columns, detect_layout, load_long, parse_columns_spec
from engine.errors import DataError

PUBLIC_HEADER = ["Date", "SKU_ID", "Warehouse_ID", "Supplier_ID", "Region", "Units_Sold", "Inventory_Level",
                 "Supplier_Lead_Time_Days", "Reorder_Point", "Order_Quantity", "Unit_Cost", "Unit_Price",
                 "Promotion_Flag", "Stockout_Flag", "Demand_Forecast"]


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("header, expected", [
    (["date", "sku", "store", "qty"], ("date", "sku", "store", "qty")),
    (["ds", "item_id", "location", "sales"], ("ds", "item_id", "location", "sales")),
    (["day", "product", "warehouse", "units_sold"], ("day", "product", "warehouse", "units_sold")),
    (PUBLIC_HEADER, ("Date", "SKU_ID", "Warehouse_ID", "Units_Sold")),
    (["Date", "item", "quantity"], ("Date", "item", None, "quantity")),
])
def test_detects_the_four_roles_of_common_layouts(header, expected):
    m = detect_columns(header)
    assert (m.date, m.item, m.location, m.demand) == expected
    assert set(m.guessed) >= {r for r, c in zip(("date", "item", "location", "demand"), expected) if c}


def test_public_header_maps_its_optional_columns_too():
    m = detect_columns(PUBLIC_HEADER)
    assert (m.price, m.cost, m.promotion, m.lead_time) == ("Unit_Price", "Unit_Cost", "Promotion_Flag",
                                                           "Supplier_Lead_Time_Days")
    assert "Inventory_Level" in m.unused


def test_given_roles_override_detection_and_are_not_marked_guessed():
    m = detect_columns(["Datum", "Artikel", "Filiale", "Menge", "qty"], parse_columns_spec(
        "date=Datum,item=Artikel,location=Filiale,demand=Menge"))
    assert (m.date, m.item, m.location, m.demand) == ("Datum", "Artikel", "Filiale", "Menge")
    assert {"date", "item", "location", "demand"}.isdisjoint(m.guessed)
    assert m.spec().startswith("date=Datum,item=Artikel,location=Filiale,demand=Menge")


@pytest.mark.parametrize("spec, words", [("date", "ROLE=COLUMN"), ("colour=x", "unknown role"),
                                         ("date=a,date=b", "given twice")])
def test_malformed_columns_spec_is_refused(spec, words):
    with pytest.raises(DataError, match=words):
        parse_columns_spec(spec)


def test_rows_in_any_order_become_date_sorted_series_keyed_item_slash_location(tmp_path):
    path = write(tmp_path, "a.csv", "qty,store,date,sku\n5,S1,2024-01-02,A\n3,S1,2024-01-01,A\n7,S2,2024-01-01,A\n"
                                    "8,S2,2024-01-02,A\n")
    ds = load_long(path)
    assert list(ds.series) == ["A/S1", "A/S2"]
    assert ds.get("A/S1").dates == ["2024-01-01", "2024-01-02"]
    assert ds.get("A/S1").demand.tolist() == [3.0, 5.0]


def test_without_a_location_the_key_is_the_item(tmp_path):
    ds = load_long(write(tmp_path, "a.csv", "date,sku,qty\n2024-01-01,X,1\n2024-01-02,X,2\n"))
    assert list(ds.series) == ["X"]


def test_german_dates_and_price_cost_lead_time_columns(tmp_path):
    path = write(tmp_path, "g.csv", "Datum,Artikel,Menge,Preis,Kosten,Lieferzeit\n31.12.2023,A,1,9.5,4,3\n"
                                    "01.01.2024,A,2,10,5,4\n")
    s = load_long(path).get()
    assert s.dates == ["2023-12-31", "2024-01-01"]
    assert (s.unit_price, s.unit_cost, s.lead_time_days) == (10.0, 5.0, 4)


def test_load_csv_reads_other_layouts_and_keeps_the_public_one(tmp_path, sample_dataset):
    ds = load_csv(write(tmp_path, "a.csv", "ds,item_id,sales\n2024-01-01,X,1\n2024-01-02,X,2\n"))
    assert ds.layout is not None and ds.get().demand.tolist() == [1.0, 2.0]
    assert sample_dataset.layout is None  # the public layout still goes through the original reader


def test_missing_days_are_refused_with_the_gap_unless_filled_with_zero(tmp_path):
    path = write(tmp_path, "gap.csv", "date,sku,qty\n2024-01-01,A,3\n2024-01-02,A,3\n2024-01-05,A,1\n")
    with pytest.raises(DataError) as err:
        load_long(path)
    msg = str(err.value)
    assert "series A" in msg and "2024-01-03 .. 2024-01-04" in msg and "--fill-missing-zero" in msg
    s = load_long(path, fill_missing_zero=True).get()
    assert s.demand.tolist() == [3.0, 3.0, 0.0, 0.0, 1.0]
    assert s.dates[2] == "2024-01-03"


BAD_FILES = [
    ("dup.csv", "date,sku,qty\n2024-01-01,A,3\n2024-01-02,A,1\n2024-01-01,A,0\n",
     ["duplicate row", "series A", "2024-01-01", "rows 2 and 4"]),
    ("neg.csv", "date,sku,qty\n2024-01-01,A,3\n2024-01-02,A,-1\n", ["row 3", "column qty", "-1 is negative"]),
    ("text.csv", "date,sku,qty\n2024-01-01,A,3\n2024-01-02,A,many\n",
     ["row 3", "column qty", "'many' is not a number"]),
    ("empty_demand.csv", "date,sku,qty\n2024-01-01,A,3\n2024-01-02,A,\n", ["row 3", "is empty"]),
    ("weekly.csv", "date,sku,qty\n2024-01-01,A,3\n2024-01-08,A,1\n2024-01-15,A,1\n",
     ["series A", "every 7 days", "weekly"]),
    ("mixed.csv", "date,sku,qty\n2024-01-01,A,3\n02.01.2024,A,1\n", ["mixed date formats", "row 3", "DD.MM.YYYY"]),
    ("notdate.csv", "date,sku,qty\n2024-01-01,A,3\nyesterday,A,1\n", ["row 3", "'yesterday' is not a date"]),
    ("nodemand.csv", "date,sku,colour\n2024-01-01,A,red\n", ["Units_Sold", "found: date, sku, colour"]),
    ("semicolon.csv", "date;sku;qty\n2024-01-01;A;3\n", ["semicolons"]),
]


@pytest.mark.parametrize("name, text, words", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_each_layout_error_is_one_line_and_exit_2_on_every_command(tmp_path, capsys, name, text, words):
    path = write(tmp_path, name, text)
    for argv in (["validate", path], ["simulate", "--data", path], ["portfolio", "--data", path]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err
        for w in words:
            assert w in err, (argv[0], err)


def test_no_demand_column_in_an_unknown_layout_names_the_roles_to_map(tmp_path):
    with pytest.raises(DataError, match="no demand column found.*--columns"):
        load_long(write(tmp_path, "x.csv", "date,sku,colour\n2024-01-01,A,red\n"))


def test_columns_option_maps_a_layout_detection_cannot(tmp_path, capsys):
    path = write(tmp_path, "odd.csv", "when,what,how_many\n2024-01-01,A,3\n2024-01-02,A,4\n")
    assert main(["validate", path]) == 2
    capsys.readouterr()
    assert main(["validate", path, "--columns", "date=when,item=what,demand=how_many", "--json"]) == 0
    assert '"A"' in capsys.readouterr().out
    assert main(["validate", path, "--columns", "date=when,demand=nope"]) == 2
    assert "demand=nope names no column" in capsys.readouterr().err


def test_row_and_series_caps_are_stated(tmp_path):
    path = write(tmp_path, "big.csv", "date,sku,qty\n" + "".join(f"2024-01-0{d},S{s},1\n" for s in range(3)
                                                               for d in range(1, 4)))
    with pytest.raises(DataError, match="more than 5 rows"):
        load_long(path, max_rows=5)
    with pytest.raises(DataError, match="3 series, above the limit of 2"):
        load_long(path, max_series=2)


def test_a_page_shows_the_detected_mapping_and_passes_back_a_changed_one(tmp_path):
    raw = b"Datum,Artikel,Filiale,Menge,Umsatz\n01.01.2024,A,F1,3,30\n02.01.2024,A,F1,4,40\n"
    m = detect_layout(raw)
    assert (m.date, m.item, m.location, m.demand) == ("Datum", "Artikel", "Filiale", "Menge")
    assert m.unused == ["Umsatz"] and m.to_dict()["guessed"] == m.guessed
    changed = ColumnMapping(**{**m.to_dict(), "demand": "Umsatz"})
    assert load_long(raw, changed).get().demand.tolist() == [30.0, 40.0]
    no_location = ColumnMapping(**{**m.to_dict(), "location": None})
    assert list(load_long(raw, no_location).series) == ["A"]
    with pytest.raises(DataError, match="demand=Umsatz2 names no column"):
        load_long(raw, ColumnMapping(**{**m.to_dict(), "demand": "Umsatz2"}))


def test_simulate_runs_on_another_layout(tmp_path, capsys):
    rows = "".join(f"2024-{1 + d // 28:02d}-{1 + d % 28:02d},A,S1,{5 + d % 3}\n" for d in range(28 * 6))
    path = write(tmp_path, "a.csv", "date,sku,store,qty\n" + rows)
    assert main(["simulate", "--data", path, "--series", "A/S1", "--forecaster", "sba", "--days", "30",
                 "--json"]) == 2  # Feb 29, 30, 31 ... never written: a gap, refused without the flag
    assert "--fill-missing-zero" in capsys.readouterr().err
    assert main(["simulate", "--data", path, "--series", "A/S1", "--forecaster", "sba", "--days", "30",
                 "--fill-missing-zero", "--json"]) == 0
    assert '"fill_rate"' in capsys.readouterr().out
