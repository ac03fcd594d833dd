"""The scenario grid's rows and columns (dashapp.ui.scenario_table): row keys that stay unique, deletion by key,
and choice columns that offer a blank only where the engine has a default."""
from __future__ import annotations

from dashapp.ui.scenario_table import ROW_ID, table_columns, with_row_ids, without_rows
from engine.studies import scenarios as sc


def test_row_keys_are_unique_and_kept_and_deletion_goes_by_them():
    rows = with_row_ids([{"name": "a", ROW_ID: "1"}, {"name": "b"}, {"name": "c"}, None])
    assert [r[ROW_ID] for r in rows] == ["1", "0", "2", "3"]
    assert with_row_ids(rows) == rows  # keys that exist are kept
    copied = with_row_ids(rows + [dict(rows[0], name="copy of a")])  # Add scenario copies the last row
    assert [r[ROW_ID] for r in copied] == ["1", "0", "2", "3", "4"]
    kept = without_rows(rows, [{"name": "b changed since it was checked", ROW_ID: "0"}, {ROW_ID: "3"}])
    assert [r["name"] for r in kept] == ["a", "c"]
    assert without_rows(rows, []) == rows
    # the key is not a scenario option: the set is the same with or without it
    two = sc.default_table_rows()
    assert sc.rows_to_set(with_row_ids(two), replications=5, days=10, seed=1) == \
        sc.rows_to_set(two, replications=5, days=10, seed=1)


def test_choice_columns_offer_a_blank_only_where_a_default_exists():
    cols = {c["field"]: c for c in table_columns()}
    assert cols["name"]["pinned"] == "left"
    assert cols["sales"]["cellEditorParams"]["values"] == list(sc.SALES_CHOICES)  # required: no blank
    forecaster = cols["forecaster"]
    assert forecaster["cellEditorParams"]["values"][0] == "" and "ma7" in forecaster["cellEditorParams"]["values"]
    assert forecaster["refData"]["ma7"] != "ma7"  # shown by its registry label, stored by its name
    assert cols["lead_time"]["cellEditor"] == "agNumberCellEditor"
    assert "cellEditor" not in cols["order_days"]  # free text (mon;thu)
