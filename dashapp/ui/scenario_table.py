"""The editable scenario table shared by /scenarios and /optimum: an AG Grid, its columns and choices.

Kept out of the page modules because Dash imports pages itself (importing one page from another registers it
twice). Column ids are simulate's option names; the policy column offers the registered policies and each policy
parameter (engine.policies.base.all_params) gets a column labelled as its policy declares it.
"""
from __future__ import annotations

import re

import dash_ag_grid as dag

from engine.forecast.registry import list_forecasters
from engine.policies.base import all_params, policy_names
from engine.studies import scenarios as sc

# (column id, label, kind, dropdown options or None) of the columns that are not policy parameters
_OPTION_COLUMNS = {
    "lead_time": ("Lead time", "numeric", None),
    "lead_time_dist": ("Stochastic lead time (uniform:5:9 | poisson:7)", "text", None),
    "holding_rate": ("Holding rate / yr", "numeric", None),
    "unit_cost": ("Unit cost", "numeric", None),
    "unit_price": ("Unit price", "numeric", None),
    "stockout_cost": ("Stockout cost (blank: price − cost)", "numeric", None),
    "sales": ("Unmet demand", "text", sc.SALES_CHOICES),
    "forecaster": ("Forecaster", "text", []),  # filled from the forecaster registry
    "demand": ("Demand", "text", sc.DEMAND_CHOICES),
    "noise": ("Noise", "numeric", None),
    "moq": ("Minimum order quantity", "numeric", None),  # the supplier's rules (engine.policies.order_rules)
    "pack_size": ("Pack size", "numeric", None),
    "order_days": ("Order days (mon;thu, blank: every day)", "text", None),
    "order_cost": ("Fixed cost per order K", "numeric", None),
}


def table_spec() -> list[tuple[str, str, str, list | None]]:
    """Every column: name, policy, one per policy parameter, then the other options."""
    return ([("name", "Name", "text", None), ("policy", "Policy", "text", policy_names())]
            + [(p.name, p.label or p.name, "numeric", None) for p in all_params().values()]
            + [(cid, *spec) for cid, spec in _OPTION_COLUMNS.items()])


ROW_ID = "row_id"  # each grid row's key (selection, deletion); not a scenario option: rows_to_set ignores it


def _choices(cid: str, options: list) -> list[tuple[str, str]]:
    """(value, label) of a choice column: the forecasters' registry labels, the other choices as they are."""
    if cid == "forecaster":
        return [(f["name"], f["label"] or f["name"]) for f in list_forecasters()]
    return [(str(o), str(o)) for o in options]


def table_columns() -> list[dict]:
    """AG Grid column definitions: every cell editable; a choice column edits with a select of its choices (a blank
    first where the column may be left to its default), a number column with a number editor (a number or blank,
    nothing else can be typed); the name column pinned left. A choice cell's list opens on the click that starts
    editing it (assets/select_editor.js: AG Grid opens it by itself only when editing starts with Enter)."""
    cols = []
    for cid, label, kind, options in table_spec():
        col = {"field": cid, "headerName": label, "editable": True, "cellDataType": False, "minWidth": 110}
        if options is not None:
            choices = _choices(cid, options)
            blank = [] if cid in sc.REQUIRED_TABLE_COLUMNS else [""]
            col.update(cellEditor="agSelectCellEditor", cellEditorParams={"values": blank + [v for v, _ in choices]},
                       refData={**{"": ""}, **dict(choices)})
        elif kind == "numeric":
            col.update(cellEditor="agNumberCellEditor", type="rightAligned")
        cols.append(col)
    cols[0].update(pinned="left", minWidth=160)
    return cols


def with_row_ids(rows) -> list[dict]:
    """The rows, each with a ROW_ID unique in the table: a row without one, or with one an earlier row holds (a
    copy of a row), gets the next free number."""
    rows = [dict(r or {}) for r in rows or []]
    taken = {str(r[ROW_ID]) for r in rows if r.get(ROW_ID) not in (None, "")}
    seen, n = set(), 0
    for r in rows:
        key = r.get(ROW_ID)
        if key in (None, "") or str(key) in seen:
            while str(n) in taken:
                n += 1
            r[ROW_ID] = str(n)
            taken.add(str(n))
        seen.add(str(r[ROW_ID]))
    return rows


def scenario_grid(grid_id: str, rows, deletable: bool = False) -> dag.AgGrid:
    """The editable table: one click edits a cell, leaving it keeps the edit; `deletable` adds a check box a row
    (the page's delete button removes the checked rows). Every column is rendered, so the page's text holds every
    cell; the grid is as tall as its rows."""
    options = {"domLayout": "autoHeight", "suppressColumnVirtualisation": True, "singleClickEdit": True,
               "stopEditingWhenCellsLoseFocus": True, "animateRows": False}
    if deletable:
        options["rowSelection"] = {"mode": "multiRow", "checkboxes": True, "headerCheckbox": False,
                                   "enableClickSelection": False}
        options["selectionColumnDef"] = {"pinned": "left", "width": 44, "maxWidth": 44, "resizable": False,
                                         "headerTooltip": "Check rows, then “Delete checked”"}
    return dag.AgGrid(id=grid_id, rowData=with_row_ids(rows), columnDefs=table_columns(),
                      getRowId=f"params.data.{ROW_ID}", className="ag-theme-alpine",
                      defaultColDef={"resizable": True, "wrapHeaderText": True, "autoHeaderHeight": True},
                      dashGridOptions=options, columnSize="autoSize", style={"width": "100%"})


def without_rows(rows, selected) -> list[dict]:
    """The rows less the selected ones (matched by ROW_ID)."""
    gone = {str((r or {}).get(ROW_ID)) for r in selected or []}
    return [r for r in rows or [] if str((r or {}).get(ROW_ID)) not in gone]


def table_words(message: str) -> str:
    """An engine message about a scenario in the table's words: a column id ("lead_time = 1000000000 is out of
    range [0, 60]", "lead_time must be a number") becomes its label ("“Lead time” 1000000000 is out of range
    [0, 60]"); the run settings' ids their field names."""
    names = {cid: label for cid, label, _kind, _opts in table_spec()}
    names.update({"baseline": "Baseline", "replications": "Replications", "days": "Days", "seed": "Seed"})

    def label(m: re.Match) -> str:   # "id = v" → "“Label” v"; "id must" → "“Label” must" (prose is left alone)
        return f"“{names[m.group(1)]}” " + ("" if m.group(2) == " = " else "must ")
    ids = "|".join(sorted(map(re.escape, names), key=len, reverse=True))
    return re.sub(rf"\b({ids})( = | must )", label, message)
