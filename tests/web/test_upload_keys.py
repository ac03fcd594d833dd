"""An upload whose item / location columns carry names detection does not know is found before it would be
merged into one series; a forecaster that needs a column the series lacks is offered disabled with the reason."""
from __future__ import annotations

import datetime as dt

import pytest

from dashapp.platform.upload_keys import merge_message, merged_key_columns


def _file(header: list[str], line) -> bytes:
    start = dt.date(2024, 1, 1)
    rows = [line(start + dt.timedelta(days=i), item, store, i)
            for item in ("A", "B") for store in ("X", "Y") for i in range(60)]
    return (",".join(header) + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows)).encode()


@pytest.mark.parametrize("header", [["Date", "Code", "Outlet", "Units_Sold"],   # unknown names, text values
                                    ["Date", "Kennung", "Ort", "Units_Sold"]])
def test_key_columns_the_mapping_does_not_use_are_found(header):
    raw = _file(header, lambda d, a, s, i: (d, a, s, 5))
    assert merged_key_columns(raw) == [(header[1], 2), (header[2], 2)]
    text = merge_message("f.csv", merged_key_columns(raw))
    assert f"{header[1]} (2 values) and {header[2]} (2 values) look like item / location" in text
    assert "mapping does not use them" in text and "Portfolio" in text


@pytest.mark.parametrize("header", [["Day", "Artikel", "Filiale", "Units_Sold"], ["Date", "item", "store", "qty"]])
def test_key_columns_detection_knows_are_mapped_not_refused(header):
    from engine.data.dataset import load_csv

    raw = _file(header, lambda d, a, s, i: (d, a, s, 5))
    assert merged_key_columns(raw) == []
    assert list(load_csv(raw).series) == ["A/X", "A/Y", "B/X", "B/Y"]


def test_the_public_layout_and_numeric_extras_are_not_refused(sample_csv):
    assert merged_key_columns(sample_csv.read_bytes()) == []
    raw = _file(["Date", "SKU_ID", "Warehouse_ID", "Units_Sold", "Temperature"], lambda d, a, s, i: (d, a, s, 5, i))
    assert merged_key_columns(raw) == []
    # an extra text column that is constant inside each series merges nothing
    raw = _file(["Date", "SKU_ID", "Warehouse_ID", "Units_Sold", "Family"],
                lambda d, a, s, i: (d, a, s, 5, "fam-" + a))
    assert merged_key_columns(raw) == []


def test_forecasters_needing_the_planning_column_are_disabled_for_a_series_without_it(sample_csv):
    from dashapp import engine_facade as E
    from engine.data.dataset import load_csv

    series = next(iter(load_csv(str(sample_csv)).series.values()))
    assert series.planning is not None
    assert not any(o["disabled"] for o in E.forecaster_options_for(series))
    bare = load_csv(_file(["Date", "SKU_ID", "Warehouse_ID", "Units_Sold"], lambda d, a, s, i: (d, a, s, 5)),
                    name="bare.csv")
    options = {o["value"]: o for o in E.forecaster_options_for(next(iter(bare.series.values())))}
    assert options["planning"]["disabled"] and "Demand_Forecast" in options["planning"]["label"]
    assert not options["ma7"]["disabled"]


@pytest.mark.parametrize("raw", [b"", b"Date,Units_Sold\n", bytes(range(256)) * 4, b"Date;Units_Sold\n2024-01-01;3\n"])
def test_files_that_are_not_csv_are_left_to_the_engine_s_message(raw):
    assert merged_key_columns(raw) == []
