"""Column detection and the one loader in other layouts: --columns, and one clear message per bad file."""
from __future__ import annotations

import json

import pytest

from engine.cli.main import main
from engine.data.dataset import detect_layout, load_csv
from engine.data.layout import PUBLIC_LAYOUT, ColumnMapping, detect_columns, parse_columns_spec
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
    assert (m.forecast, m.inventory) == ("Demand_Forecast", "Inventory_Level")
    assert m.used() == PUBLIC_LAYOUT and "Order_Quantity" in m.unused


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
    ds = load_csv(path)
    assert list(ds.series) == ["A/S1", "A/S2"]
    assert ds.get("A/S1").dates == ["2024-01-01", "2024-01-02"]
    assert ds.get("A/S1").demand.tolist() == [3.0, 5.0]


def test_without_a_location_the_key_is_the_item(tmp_path):
    ds = load_csv(write(tmp_path, "a.csv", "date,sku,qty\n2024-01-01,X,1\n2024-01-02,X,2\n"))
    assert list(ds.series) == ["X"]


def test_german_dates_and_price_cost_lead_time_columns(tmp_path):
    path = write(tmp_path, "g.csv", "Datum,Artikel,Menge,Preis,Kosten,Lieferzeit\n31.12.2023,A,1,9.5,4,3\n"
                                    "01.01.2024,A,2,10,5,4\n")
    s = load_csv(path).get()
    assert s.dates == ["2023-12-31", "2024-01-01"]
    assert (s.unit_price, s.unit_cost, s.lead_time_days) == (10.0, 5.0, 4)


def test_one_loader_reads_other_layouts_and_the_public_one_as_a_preset_mapping(tmp_path, sample_dataset):
    ds = load_csv(write(tmp_path, "a.csv", "ds,item_id,sales\n2024-01-01,X,1\n2024-01-02,X,2\n"))
    assert ds.layout.used() == {"date": "ds", "item": "item_id", "demand": "sales"}
    assert ds.get().demand.tolist() == [1.0, 2.0]
    assert sample_dataset.layout.used() == PUBLIC_LAYOUT


def test_missing_days_are_refused_with_the_gap_unless_filled_with_zero(tmp_path):
    path = write(tmp_path, "gap.csv", "date,sku,qty\n2024-01-01,A,3\n2024-01-02,A,3\n2024-01-05,A,1\n")
    with pytest.raises(DataError) as err:
        load_csv(path)
    msg = str(err.value)
    assert "series A" in msg and "2024-01-03 .. 2024-01-04" in msg and "--fill-missing-zero" in msg
    s = load_csv(path, fill_missing_zero=True).get()
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
    ("nodemand.csv", "date,sku,colour\n2024-01-01,A,red\n", ["Units_Sold", "found: date, sku, colour", "--columns"]),
    ("two_demands.csv", "date,sku,sales,quantity\n2024-01-01,A,3,4\n",
     ["'sales' and 'quantity'", "--columns demand=sales"]),
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
        load_csv(write(tmp_path, "x.csv", "date,sku,colour\n2024-01-01,A,red\n"))


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
        load_csv(path, max_rows=5)
    with pytest.raises(DataError, match="3 series, above the limit of 2"):
        load_csv(path, max_series=2)


def test_a_page_shows_the_detected_mapping_and_passes_back_a_changed_one(tmp_path):
    raw = b"Datum,Artikel,Filiale,Menge,Umsatz\n01.01.2024,A,F1,3,30\n02.01.2024,A,F1,4,40\n"
    m = detect_layout(raw)
    assert (m.date, m.item, m.location, m.demand) == ("Datum", "Artikel", "Filiale", "Menge")
    assert m.unused == ["Umsatz"] and m.to_dict()["guessed"] == m.guessed
    changed = ColumnMapping(**{**m.to_dict(), "demand": "Umsatz"})
    assert load_csv(raw, columns=changed).get().demand.tolist() == [30.0, 40.0]
    no_location = ColumnMapping(**{**m.to_dict(), "location": None})
    assert list(load_csv(raw, columns=no_location).series) == ["A"]
    with pytest.raises(DataError, match="demand=Umsatz2 names no column"):
        load_csv(raw, columns=ColumnMapping(**{**m.to_dict(), "demand": "Umsatz2"}))


def test_simulate_runs_on_another_layout(tmp_path, capsys):
    rows = "".join(f"2024-{1 + d // 28:02d}-{1 + d % 28:02d},A,S1,{5 + d % 3}\n" for d in range(28 * 6))
    path = write(tmp_path, "a.csv", "date,sku,store,qty\n" + rows)
    assert main(["simulate", "--data", path, "--series", "A/S1", "--forecaster", "sba", "--days", "30",
                 "--json"]) == 2  # Feb 29, 30, 31 ... never written: a gap, refused without the flag
    assert "--fill-missing-zero" in capsys.readouterr().err
    assert main(["simulate", "--data", path, "--series", "A/S1", "--forecaster", "sba", "--days", "30",
                 "--fill-missing-zero", "--json"]) == 0
    assert '"fill_rate"' in capsys.readouterr().out


# ---- two plausible demand columns: never a silent choice ---------------------------------------------------------
@pytest.mark.parametrize("header, both", [
    (["date", "sku", "sales", "quantity"], ["sales", "quantity"]),
    (["Datum", "Artikel", "Menge", "Absatz"], ["Menge", "Absatz"]),
    (["Date", "SKU_ID", "Warehouse_ID", "Units_Sold", "qty"], ["Units_Sold", "qty"]),  # even beside the preset
])
def test_two_plausible_demand_columns_are_left_for_the_user(header, both):
    m = detect_columns(header)
    assert m.demand is None and m.ambiguous == {"demand": both}
    assert all(c in m.problem() for c in (repr(both[0]), repr(both[1]), f"--columns demand={both[0]}"))
    chosen = detect_columns(header, {"demand": both[1]})
    assert chosen.demand == both[1] and chosen.problem() is None and both[0] in chosen.unused


def test_two_demand_columns_refused_by_the_loader_and_the_cli_until_one_is_chosen(tmp_path, capsys):
    path = write(tmp_path, "two.csv", "date,sku,sales,quantity\n2024-01-01,A,3,30\n2024-01-02,A,4,40\n")
    with pytest.raises(DataError) as err:
        load_csv(path)
    assert "'sales' and 'quantity'" in str(err.value) and "--columns demand=sales" in str(err.value)
    assert main(["validate", path]) == 2
    text = capsys.readouterr().err
    assert text.startswith("error: ") and "'sales' and 'quantity'" in text and "--columns demand=" in text
    assert main(["validate", path, "--columns", "demand=quantity", "--json"]) == 0
    capsys.readouterr()
    assert load_csv(path, columns="demand=sales").get().demand.tolist() == [3.0, 4.0]
    assert load_csv(path, columns={"demand": "quantity"}).get().demand.tolist() == [30.0, 40.0]


def test_columns_reach_every_command_without_shared_state(tmp_path, capsys):
    """--columns is passed to the loader by each command (no context variable): two runs in one process with
    different choices read different columns, and the loader's default afterwards is detection again."""
    rows = "".join(f"2024-01-{d:02d},A,{d % 3},{10 + d % 3}\n" for d in range(1, 29))
    path = write(tmp_path, "two.csv", "date,sku,sales,quantity\n" + rows)
    for col, mean in (("sales", 1.0), ("quantity", 11.0)):
        assert main(["simulate", "--data", path, "--columns", f"demand={col}", "--forecaster", "ma7", "--days",
                     "7", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["info"]["series"] == "A"
        assert abs(load_csv(path, columns=f"demand={col}").get().demand.mean() - mean) < 0.1
    with pytest.raises(DataError, match="could be the demand"):
        load_csv(path)


def test_the_data_package_has_no_import_cycle_at_module_or_function_level():
    """Every import statement of engine/data (also inside functions) forms an acyclic graph, and no module keeps
    a context variable that steers how files are read."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "engine" / "data"
    graph = {}
    for f in root.glob("*.py"):
        tree = ast.parse(f.read_text())
        deps = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("engine.data"):
                deps.add(node.module.split(".")[2] if node.module.count(".") >= 2 else None)
                if node.module == "engine.data":
                    deps.update(a.name for a in node.names)
            elif isinstance(node, ast.Import):
                deps.update(a.name.split(".")[2] for a in node.names if a.name.startswith("engine.data."))
        graph[f.stem] = deps - {None, f.stem}
        assert "contextvars" not in f.read_text(), f.name
    assert graph["layout"] == set() and "dataset" not in graph["cells"]
    done = set()

    def visit(m, path=()):
        assert m not in path, f"import cycle: {' -> '.join(path + (m,))}"
        if m in done:
            return
        for d in graph.get(m, ()):
            visit(d, path + (m,))
        done.add(m)

    for m in graph:
        visit(m)


def test_the_header_is_the_first_filled_line_also_past_the_first_window():
    from engine.data.layout import _first_filled_line, read_header

    assert _first_filled_line("\n  \r\ndate,item\n1,2\n") == (3, "date,item")
    assert _first_filled_line(" \n\n") is None
    # blank lines fill the first window and the header is cut by its edge: the whole text is read
    text = "\n" * 10 + "date,item,sales\n" + "2024-01-01,a,1\n" * 5
    assert _first_filled_line(text, window=14) == (11, "date,item,sales")
    assert _first_filled_line(text, window=20) == (11, "date,item,sales")
    assert read_header(text, "f.csv")[0] == ["date", "item", "sales"]
