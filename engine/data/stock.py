"""Today's stock file: per series the units on hand and the open orders with their due dates.

Columns: item and location (found by the sales file's rules, engine.data.layout.detect_columns), `on_hand`
(required), `on_order` and `due_date` (optional). Several rows of one series add up (e.g. one row per open order).
The inventory position on date D is on-hand plus the units on order that are due after D: an order due on or
before D is taken to be in the on-hand count already (it arrived), and is named as such, never counted twice.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

from engine.data.item_tables import parse_date, parse_number, read_item_table, series_for

__all__ = ["StockPosition", "read_stock", "SYNONYMS"]

SYNONYMS = {
    "on_hand": ["onhand", "stock", "stockonhand", "qtyonhand", "onhandqty", "inventory", "inventorylevel",
                "bestand", "lagerbestand"],
    "on_order": ["onorder", "qtyonorder", "openorder", "openorders", "onorderqty", "bestellt", "offenebestellungen"],
    "due_date": ["duedate", "due", "eta", "expecteddate", "arrivaldate", "deliverydate", "liefertermin"],
}


@dataclass
class StockPosition:
    """One series' stock: `on_hand`, the open orders [(units, due date or None)], and the item/location text as
    the stock file wrote it (for the purchase order)."""

    series: str
    item: str
    location: str | None
    on_hand: float = 0.0
    orders: list = field(default_factory=list)

    def position(self, date: _dt.date) -> tuple[float, float, list]:
        """(inventory position, units on order due after `date`, [(units, due) of orders due on or before it])."""
        later = sum(q for q, due in self.orders if due is None or due > date)
        arrived = [(q, due) for q, due in self.orders if due is not None and due <= date and q > 0]
        return self.on_hand + later, later, arrived


def read_stock(source, dataset, name: str | None = None) -> dict[str, StockPosition]:
    """{series key: StockPosition} in file order; DataError for an unknown item, a negative or non-numeric
    quantity, a bad date, or a row that names an item sold at several locations without saying which."""
    table = read_item_table(source, name, SYNONYMS, required=("on_hand",))
    out: dict[str, StockPosition] = {}
    for line, item, loc, cells in table.rows:
        keys = series_for(dataset, table, line, item, loc)
        if len(keys) > 1:
            from engine.errors import DataError

            raise DataError(f"item {item!r} is sold at {len(keys)} locations ({', '.join(keys[:5])}); add a location "
                            "column", file=table.name, row=line, column=table.item, value=item)
        on_hand = parse_number(cells["on_hand"], table, line, "on_hand", high=1e12)
        on_order = parse_number(cells.get("on_order", ""), table, line, "on_order", high=1e12)
        due = parse_date(cells.get("due_date", ""), table, line, "due_date")
        pos = out.setdefault(keys[0], StockPosition(series=keys[0], item=item, location=loc))
        pos.on_hand += on_hand or 0.0
        if on_order:
            pos.orders.append((on_order, due))
    return out
