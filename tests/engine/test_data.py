"""The one loader on the public layout and on other layouts: documented defaults, semicolons and decimal commas,
prices, and one clear DataError (file, row, column, value) per bad file."""
from __future__ import annotations

import codecs
import os

import numpy as np
import pytest

import engine.data.dataset as edata
from engine.data.dataset import MAX_FILE_BYTES, DataError, SeriesData, load_csv
from engine.data.layout import PUBLIC_LAYOUT

from .conftest import SAMPLE

HEADER = ("Date,SKU_ID,Warehouse_ID,Supplier_ID,Region,Units_Sold,Inventory_Level,Supplier_Lead_Time_Days,"
          "Reorder_Point,Order_Quantity,Unit_Cost,Unit_Price,Promotion_Flag,Stockout_Flag,Demand_Forecast")


def sample_lines(n: int) -> list[str]:
    return SAMPLE.read_text().splitlines()[1:n + 1]


def write(tmp_path, name, text, mode="w"):
    p = tmp_path / name
    if mode == "w":
        p.write_text(text, encoding="utf-8")
    else:
        p.write_bytes(text)
    return p


def error_of(path_or_bytes, **kw) -> DataError:
    with pytest.raises(DataError) as info:
        load_csv(path_or_bytes, **kw)
    return info.value


def test_sample_has_five_series_in_file_order(sample_dataset):
    s = sample_dataset.summary()
    assert s["series"] == [f"SKU_1/WH_{i}" for i in range(1, 6)]
    assert s["rows"] == 3650
    assert s["date_range"] == ["2024-01-01", "2025-12-30"]
    assert s["columns"] == list(PUBLIC_LAYOUT.values())  # what the engine reads; the rest is listed as ignored
    assert s["ignored_columns"] == ["Supplier_ID", "Region", "Reorder_Point", "Order_Quantity", "Stockout_Flag"]
    wh1 = sample_dataset.get("SKU_1/WH_1")
    assert len(wh1) == 730 and wh1.dates[0] == "2024-01-01" and wh1.planning is not None
    last = sample_lines(730)[-1].split(",")  # WH_1's last row
    assert wh1.unit_cost == float(last[10]) and wh1.unit_price == float(last[11])
    assert wh1.lead_time_days == int(last[7]) and wh1.last_inventory == float(last[6])
    assert (wh1.price_source, wh1.cost_source) == ("file", "file")


def test_legacy_30_day_file_without_dates(tmp_path):
    rows = [r.split(",") for r in sample_lines(30)]
    text = "Units_Sold,Inventory_Level,Order_Quantity,Unit_Cost,Unit_Price,Demand_Forecast\n" + "".join(
        f"{float(r[5])},{float(r[6])},{float(r[9])},{r[10]},{r[11]},{r[14]}\n" for r in rows)
    ds = load_csv(write(tmp_path, "legacy.csv", text))
    assert list(ds.series) == ["ALL"]  # no item column: one series, rows in file order
    s = ds.get()
    assert s.dates is None and len(s) == 30
    assert np.array_equal(s.demand, [float(r[5]) for r in rows])
    assert np.all(s.promo == 0)  # documented default
    assert s.unit_cost == float(rows[-1][10])


def test_only_units_sold_needed_and_defaults(tmp_path):
    ds = load_csv(write(tmp_path, "min.csv", "Units_Sold\n3\n4\n5\n"))
    s = ds.get()
    assert s.key == "ALL" and s.unit_cost == 20.0 and s.unit_price == 40.0
    assert (s.price_source, s.cost_source) == ("assumed", "assumed")
    assert s.planning is None and s.lead_time_days is None and s.last_inventory is None
    assert ds.summary()["defaults_applied"]["cost"] == 20.0


def test_bytes_source_and_round_trip(sample_series):
    raw = SAMPLE.read_bytes()
    ds = load_csv(raw, name="upload.csv")
    assert ds.name == "upload.csv"
    assert np.array_equal(ds.get().demand, sample_series.demand)
    back = SeriesData.from_dict(sample_series.to_dict())
    assert back.to_dict() == sample_series.to_dict()


# ---- bad input: the message a user reads ------------------------------------------------------------------
def test_empty_file(tmp_path):
    e = error_of(write(tmp_path, "empty.csv", ""))
    assert str(e) == "file empty.csv: is empty (no header, no rows)"


def test_header_only(tmp_path):
    e = error_of(write(tmp_path, "head.csv", HEADER + "\n"))
    assert str(e) == "file head.csv: has a header but no data rows"


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_other_separators_are_sniffed_from_the_header(tmp_path, sep, sample_dataset):
    text = HEADER.replace(",", sep) + "\n" + "\n".join(line.replace(",", sep) for line in sample_lines(30))
    s = load_csv(write(tmp_path, "semi.csv", text)).get()
    ref = sample_dataset.get()
    assert len(s) == 30 and np.array_equal(s.demand, ref.demand[:30]) and s.dates == ref.dates[:30]
    assert s.unit_price == float(sample_lines(30)[-1].split(",")[11])  # "20.48": a decimal point still reads


def test_decimal_commas_in_a_semicolon_file(tmp_path):
    text = ("Datum;Artikel;Menge;Preis;Kosten\n"
            "01.01.2024;A;12,5;1.234,5;7\n02.01.2024;A;3;1.234,50;7,25\n03.01.2024;A;1.000;2,5;1\n")
    s = load_csv(write(tmp_path, "de.csv", text)).get()
    # Menge has a comma in some cell, so its dots are thousands separators ("1.000" is a thousand)
    assert s.demand.tolist() == [12.5, 3.0, 1000.0]
    assert (s.unit_price, s.unit_cost) == (2.5, 1.0)
    e = error_of(write(tmp_path, "bad.csv", "date;sku;qty\n2024-01-01;A;1,2,3\n"))
    assert (e.row, e.column, e.value) == (2, "qty", "1,2,3") and "is not a number" in str(e)
    e = error_of(write(tmp_path, "comma.csv", 'date,sku,qty\n2024-01-01,A,"12,5"\n'))
    assert "decimal comma" in str(e) and e.row == 2


def test_missing_units_sold(tmp_path):
    e = error_of(write(tmp_path, "nounits.csv", "Date,Demand_Forecast\n2024-01-01,3\n"))
    assert e.row == 1 and "no demand column found" in str(e) and "Units_Sold" in str(e)
    assert "found: Date, Demand_Forecast" in str(e) and "--columns demand=COLUMN" in str(e)


def test_text_in_a_number(tmp_path):
    lines = sample_lines(5)
    parts = lines[3].split(",")
    parts[5] = "twelve"
    lines[3] = ",".join(parts)
    e = error_of(write(tmp_path, "text.csv", HEADER + "\n" + "\n".join(lines) + "\n"))
    assert (e.row, e.column, e.value) == (5, "Units_Sold", "twelve")  # header = line 1, 4th data row = line 5
    assert str(e) == "file text.csv, row 5, column Units_Sold: 'twelve' is not a number"


@pytest.mark.parametrize("value,expected", [
    ("-3", "demand -3 is negative"),
    ("nan", "'nan' is not a finite number"),
    ("inf", "'inf' is not a finite number"),
    ("-Infinity", "'-Infinity' is not a finite number"),
    ("", "is empty; every row needs a demand value"),
])
def test_bad_demand_values(tmp_path, value, expected):
    lines = sample_lines(4)
    parts = lines[1].split(",")
    parts[5] = value
    lines[1] = ",".join(parts)
    e = error_of(write(tmp_path, "bad.csv", HEADER + "\n" + "\n".join(lines) + "\n"))
    assert str(e) == f"file bad.csv, row 3, column Units_Sold: {expected}"


def test_text_in_an_optional_number_column(tmp_path):
    lines = sample_lines(3)
    parts = lines[2].split(",")
    parts[10] = "12,5".replace(",", ".") + "x"
    lines[2] = ",".join(parts)
    e = error_of(write(tmp_path, "cost.csv", HEADER + "\n" + "\n".join(lines) + "\n"))
    assert (e.row, e.column) == (4, "Unit_Cost") and "is not a number" in str(e)


def test_duplicate_dates(tmp_path):
    lines = sample_lines(5)
    lines.insert(3, lines[2])
    e = error_of(write(tmp_path, "dup.csv", HEADER + "\n" + "\n".join(lines) + "\n"))
    assert str(e) == ("file dup.csv, row 5, column Date: duplicate row: series SKU_1/WH_1 has two rows for "
                      "2024-01-03 (rows 4 and 5); sum or remove them")


def test_rows_in_any_order_are_sorted_by_date(tmp_path, sample_dataset):
    lines = sample_lines(5)
    lines[1], lines[2] = lines[2], lines[1]
    s = load_csv(write(tmp_path, "unsorted.csv", HEADER + "\n" + "\n".join(lines) + "\n")).get()
    assert s.dates == sample_dataset.get().dates[:5] and np.array_equal(s.demand, sample_dataset.get().demand[:5])


def test_whole_demand_refuses_a_fraction_of_the_series_named_only(tmp_path):
    f = write(tmp_path, "frac.csv", "Date,SKU_ID,Warehouse_ID,Units_Sold\n2024-01-02,A,W,3\n2024-01-01,A,W,2.5\n"
                                    "2024-01-01,B,W,1\n2024-01-02,B,W,4\n")
    assert load_csv(f, whole_demand="B/W").get("B/W").demand.tolist() == [1.0, 4.0]
    for whole in ("A/W", True):
        with pytest.raises(DataError) as exc:
            load_csv(f, whole_demand=whole)
        assert (exc.value.row, exc.value.column, exc.value.value) == (3, "Units_Sold", 2.5)
        assert exc.value.detail == "demand 2.5 of series A/W is not a whole number"


def test_bad_date_and_bad_flag(tmp_path):
    lines = sample_lines(3)
    p = lines[1].split(",")
    p[0] = "03/01/2024"
    bad = HEADER + "\n" + "\n".join([lines[0], ",".join(p), lines[2]]) + "\n"
    e = error_of(write(tmp_path, "date.csv", bad))
    assert str(e) == ("file date.csv, row 3, column Date: mixed date formats: '03/01/2024' is MM/DD/YYYY but row 2 "
                      "has '2024-01-01' (YYYY-MM-DD); use one format for the whole column")
    p = lines[1].split(",")
    p[12] = "yes please"
    e = error_of(write(tmp_path, "flag.csv", HEADER + "\n" + "\n".join([lines[0], ",".join(p)]) + "\n"))
    assert (e.row, e.column) == (3, "Promotion_Flag") and "is not a 0/1 flag" in str(e)


def test_ragged_row(tmp_path):
    lines = sample_lines(3)
    lines[2] = ",".join(lines[2].split(",")[:-2])
    e = error_of(write(tmp_path, "ragged.csv", HEADER + "\n" + "\n".join(lines) + "\n"))
    assert e.row == 4 and e.column == "Demand_Forecast"  # the short row's missing cell is named


def test_binary_file(tmp_path):
    p = write(tmp_path, "model.pkl", b"\x80\x04\x95\x00\x00\x00\x00binary\x00stuff", mode="b")
    e = error_of(p)
    assert "is a binary file, not a CSV text file" in str(e) and "model.pkl" in str(e)


def test_not_utf8(tmp_path):
    p = write(tmp_path, "latin1.csv", (HEADER + "\n" + sample_lines(1)[0].replace("West", "Wést")
                                       .replace("East", "Éast").replace("North", "Nörth")
                                       .replace("South", "Söuth") + "\n").encode("latin-1"), mode="b")
    e = error_of(p)
    assert "is not UTF-8 text" in str(e) and e.row == 2


def test_utf8_bom_is_read_correctly(tmp_path):
    p = write(tmp_path, "bom.csv", codecs.BOM_UTF8 + (HEADER + "\n" + "\n".join(sample_lines(10)) + "\n").encode(),
              mode="b")
    ds = load_csv(p)
    assert ds.columns[0] == "Date"  # not '\ufeffDate'
    assert ds.get().dates[0] == "2024-01-01" and len(ds.get()) == 10


def test_100_mb_file_refused_by_size_before_reading(tmp_path, monkeypatch):
    p = tmp_path / "huge.csv"
    with open(p, "wb") as fh:
        fh.truncate(100 * 2**20)  # sparse: no 100 MB written or read
    assert os.stat(p).st_size == 100 * 2**20

    def no_open(*a, **k):
        raise AssertionError("the file was opened although its size is over the limit")

    monkeypatch.setattr(edata, "open", no_open, raising=False)
    e = error_of(p)
    assert str(e) == f"file huge.csv: is 104,857,600 bytes, above the {MAX_FILE_BYTES:,}-byte limit"


def test_oversized_bytes_refused():
    e = error_of(b"Units_Sold\n" + b"1\n" * 20, name="up.csv", max_bytes=10)
    assert str(e) == "file up.csv: is 51 bytes, above the 10-byte limit"


def test_missing_file_and_directory(tmp_path):
    assert "does not exist" in str(error_of(tmp_path / "nope.csv"))
    assert "is a directory" in str(error_of(tmp_path))


def test_error_on_last_row_loads_nothing(tmp_path):
    lines = sample_lines(50)
    parts = lines[-1].split(",")
    parts[5] = "-1"
    lines[-1] = ",".join(parts)
    e = error_of(write(tmp_path, "late.csv", HEADER + "\n" + "\n".join(lines) + "\n"))
    assert e.row == 51


def test_unknown_series_names_the_choices(sample_dataset):
    with pytest.raises(DataError, match=r"no series 'SKU_9/WH_1'; the file has: SKU_1/WH_1, SKU_1/WH_2"):
        sample_dataset.get("SKU_9/WH_1")


def test_calendar_gaps_are_refused_unless_they_mean_zero_demand(tmp_path):
    lines = sample_lines(10)
    del lines[3:5]
    path = write(tmp_path, "gaps.csv", HEADER + "\n" + "\n".join(lines) + "\n")
    e = error_of(path)
    assert "2024-01-04 .. 2024-01-05" in str(e) and "--fill-missing-zero" in str(e)
    s = load_csv(path, fill_missing_zero=True).get()
    assert len(s) == 10 and s.demand[3] == s.demand[4] == 0.0 and s.planning[3] == 0.0
    assert load_csv(write(tmp_path, "nodates.csv", "Units_Sold\n1\n")).summary()["series_detail"][0][
        "missing_days"] is None


def test_a_header_field_above_the_csv_module_limit_is_one_message_not_a_traceback():
    e = error_of(b"Units_Sold," + b"c" * 200_000 + b"\n1,2\n", name="wide.csv")
    assert e.row == 1 and "not a readable CSV line" in str(e) and "wide.csv" in str(e)


def test_item_and_location_codes_are_kept_as_written():
    """ERP codes are text: "00123" is not 123, and locations "1" and "01" are two locations."""
    text = ("date,item,location,sales\n2024-01-01,00123,007,1\n2024-01-02,00123,007,2\n"
            "2024-01-01,00123,1,3\n2024-01-01,00123,01,4\n2024-01-01,1.50,1,5\n").encode()
    ds = load_csv(text, name="erp.csv")
    assert list(ds.series) == ["00123/007", "00123/1", "00123/01", "1.50/1"]
    assert ds.series["00123/007"].demand.tolist() == [1.0, 2.0]


def test_an_empty_item_cell_is_named_not_a_crash():
    err = error_of(b"date,item,location,sales\n2024-01-01,A,S,1\n2024-01-02,,S,2\n")
    assert err.row == 3 and err.column == "item" and "is empty; every row needs its item" in str(err)


def test_two_series_that_would_share_a_name_are_refused_not_merged():
    text = b"date,item,location,sales\n2024-01-01,A/B,C,1\n2024-01-01,A,B/C,100\n"
    err = error_of(text)
    assert "item 'A/B' at location 'C' and item 'A' at location 'B/C' would both be series A/B/C" in str(err)


def test_an_implausibly_large_cell_is_refused_with_its_row():
    err = error_of(b"date,sales,price\n2024-01-01,5,2\n2024-01-02,1e200,2\n")
    assert err.row == 3 and err.column == "sales" and "is above 1e+12" in str(err)
    err = error_of(b"date,sales,price\n2024-01-01,5,2\n2024-01-02,6,3e15\n")
    assert err.row == 3 and err.column == "price"
    assert load_csv(b"date,sales\n2024-01-01,999999999\n").series["ALL"].demand[0] == 999999999


def test_spreadsheet_exports_padded_headers_trailing_separators_and_utf16():
    padded = load_csv(b" Date , Sales , Price \n2024-01-01,5,2\n2024-01-02,6,2\n", name="padded.csv")
    assert padded.series["ALL"].demand.tolist() == [5.0, 6.0] and padded.series["ALL"].unit_price == 2.0
    trailing = load_csv(b"date,sales,\n2024-01-01,5,\n2024-01-02,6,\n", name="trailing.csv")
    assert trailing.series["ALL"].demand.tolist() == [5.0, 6.0]
    assert "(unnamed column 3)" in trailing.layout.unused
    assert "column 2 of the header has no name" in str(error_of(b"date,,sales\n2024-01-01,1,5\n"))
    for text in ("date,sales\n2024-01-01,5\n".encode("utf-16"), "date,sales\n2024-01-01,5\n".encode("utf-16-le")):
        assert "is UTF-16 text" in str(error_of(text, name="unicode.csv"))
