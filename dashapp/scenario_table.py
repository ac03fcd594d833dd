"""The editable scenario table shared by /scenarios and /optimum: columns and dropdown options.

Kept out of the page modules because Dash imports pages itself (importing one page from another registers it
twice). Column ids are simulate's option names (engine.scenarios.TABLE_COLUMNS).
"""
from __future__ import annotations

from engine import scenarios as sc
from engine.forecast.registry import list_forecasters


def table_columns() -> list[dict]:
    cols = []
    for cid, label, kind, options in sc.TABLE_COLUMNS:
        col = {"id": cid, "name": label, "editable": True}
        if options is not None:
            col["presentation"] = "dropdown"
        elif kind == "numeric":
            col["type"] = "numeric"
        cols.append(col)
    return cols


def table_dropdowns() -> dict:
    out = {}
    for cid, _label, _kind, options in sc.TABLE_COLUMNS:
        if options is None:
            continue
        if cid == "forecaster":
            opts = [{"label": f["label"] or f["name"], "value": f["name"]} for f in list_forecasters()]
        else:
            opts = [{"label": str(o), "value": o} for o in options]
        out[cid] = {"options": opts, "clearable": cid not in sc.REQUIRED_TABLE_COLUMNS}
    return out
