"""Read-only result tables: one AG Grid set-up for every page (dash_table.DataTable is deprecated in Dash 4 and warns
on every render; the editable scenario table is an AG Grid too, dashapp.ui.scenario_table)."""
from __future__ import annotations

import dash_ag_grid as dag

__all__ = ["result_grid", "plain_columns"]


def result_grid(grid_id: str, rows: list[dict], columns: list[dict], **grid_options) -> dag.AgGrid:
    """A grid as tall as its rows (no inner scroll), every column rendered (so the page's text holds every cell),
    columns sized to their content, resizable and sortable, headers wrapped; `columns` are AG Grid column
    definitions ({"field", "headerName", ...}); `grid_options` add to dashGridOptions."""
    return dag.AgGrid(id=grid_id, rowData=rows, columnDefs=columns, className="ag-theme-alpine",
                      defaultColDef={"resizable": True, "sortable": True, "wrapHeaderText": True,
                                     "autoHeaderHeight": True},
                      dashGridOptions={"domLayout": "autoHeight", "suppressColumnVirtualisation": True,
                                       "tooltipShowDelay": 300, **grid_options},
                      columnSize="autoSize", style={"width": "100%"})


def plain_columns(pairs) -> list[dict]:
    """Column definitions of (field, header) pairs: text as given, nothing formatted in the browser."""
    return [{"field": f, "headerName": h} for f, h in pairs]
