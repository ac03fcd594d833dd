"""The item master: per series what an order costs and how it may be placed, and which of it was assumed.

Per series: unit cost, unit price, annual holding rate, currency, minimum order quantity (MOQ), order multiple
(pack size), fixed cost per order K, order weekdays and lead time. Each comes from, in this order: the item file
(`--items items.csv`, an upload on /orders), the sales file's own columns (price, cost, lead time), or a default.
A default is an assumption: `ItemTerms.assumed()` lists them and `assumption_notes` words them ("unit cost 20
assumed — edit the item file"), so every page and command shows them beside the numbers they drive.

Item file: an item column and optionally a location column (found by the sales file's rules,
engine.data.layout.detect_columns; a row without a location applies to every location of the item), and any of
unit_cost, unit_price, holding_rate, currency, moq, pack_size, order_cost, order_days (e.g. `mon;thu`, see
engine.data.order_days), lead_time. An empty cell is a missing value (the default applies).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from engine.data.dataset import COST_RULE, DEFAULT_UNIT_COST, DEFAULT_UNIT_PRICE, assumed_unit_cost
from engine.data.item_tables import ItemTable, parse_number, read_item_table, series_for
from engine.data.order_days import days_text, parse_order_days, review_days
from engine.errors import DataError

__all__ = ["ItemTerms", "ItemMaster", "read_items", "item_terms", "assumption_notes", "assumptions_by_field",
           "FIELDS", "DEFAULTS", "LABELS", "MAX_LEAD_TIME"]

DEFAULT_HOLDING_RATE = 0.25   # per year, on unit cost (the simulator's and the portfolio's default)
DEFAULT_LEAD_TIME = 7         # days (engine.studies.portfolio.DEFAULT_LEAD_TIME)
MAX_LEAD_TIME = 60            # days; with a weekly review the protection period stays within the engine's limits
FIELDS = ("unit_cost", "unit_price", "holding_rate", "currency", "moq", "pack_size", "order_cost", "order_days",
          "lead_time")
DEFAULTS = {"unit_cost": DEFAULT_UNIT_COST, "unit_price": DEFAULT_UNIT_PRICE, "holding_rate": DEFAULT_HOLDING_RATE,
            "currency": "", "moq": 0, "pack_size": 1, "order_cost": 0.0, "order_days": tuple(range(7)),
            "lead_time": DEFAULT_LEAD_TIME}
LABELS = {"unit_cost": "unit cost", "unit_price": "unit price", "holding_rate": "holding rate",
          "currency": "currency", "moq": "MOQ", "pack_size": "pack size", "order_cost": "order cost K",
          "order_days": "order days", "lead_time": "lead time"}
# normalised header names (lower case, letters and digits only) of each field in an item file
SYNONYMS = {
    "unit_cost": ["unitcost", "cost", "purchasecost", "purchaseprice", "kosten", "einkaufspreis", "ek"],
    "unit_price": ["unitprice", "price", "sellprice", "sellingprice", "salesprice", "preis", "verkaufspreis", "vk"],
    "holding_rate": ["holdingrate", "holdingcostrate", "carryingrate", "lagerkostensatz"],
    "currency": ["currency", "curr", "ccy", "waehrung", "wahrung"],
    "moq": ["moq", "minorderqty", "minorderquantity", "minimumorderquantity", "minqty", "mindestmenge"],
    "pack_size": ["packsize", "pack", "casepack", "casesize", "caseqty", "ordermultiple", "multiple", "packungsgroesse",
                  "vpe"],
    "order_cost": ["ordercost", "fixedordercost", "costperorder", "setupcost", "k", "bestellkosten"],
    "order_days": ["orderdays", "orderweekdays", "orderday", "bestelltage"],
    "lead_time": ["leadtime", "leadtimedays", "supplierleadtimedays", "lieferzeit"],
}


@dataclass
class ItemTerms:
    """One series' item master. `source[field]` is "item file", "sales file" or "assumed"."""

    unit_cost: float = DEFAULT_UNIT_COST
    unit_price: float = DEFAULT_UNIT_PRICE
    holding_rate: float = DEFAULT_HOLDING_RATE
    currency: str = ""
    moq: int = 0
    pack_size: int = 1
    order_cost: float = 0.0
    order_days: tuple = tuple(range(7))
    lead_time: int = DEFAULT_LEAD_TIME
    source: dict = field(default_factory=dict)

    @property
    def review_days(self) -> int:
        """R: the longest gap between order days (1 when every day is an order day)."""
        return review_days(self.order_days)

    @property
    def protection_days(self) -> int:
        """L + R: what an order placed today must cover (engine.data.order_days)."""
        return self.lead_time + self.review_days

    def assumed(self) -> list[str]:
        return [f for f in FIELDS if self.source.get(f, "assumed") == "assumed"]

    def prices_known(self) -> bool:
        """Unit cost and price both from a file (the recommendation's costs then have source "file")."""
        return "unit_cost" not in self.assumed() and "unit_price" not in self.assumed()

    def to_dict(self) -> dict:
        d = asdict(self)
        d["order_days"] = days_text(self.order_days)
        d["review_days"] = self.review_days
        d["protection_days"] = self.protection_days
        d["assumed"] = self.assumed()
        return d


@dataclass
class ItemMaster:
    """An item file as read: its table and, per row, the parsed values ({field: value} of the non-empty cells)."""

    table: ItemTable
    values: list  # (line, item, location, {field: value}) in file order


def read_items(source, name: str | None = None) -> ItemMaster:
    """Read and check an item file (path or bytes); DataError naming the row, column and value of a bad cell."""
    table = read_item_table(source, name, SYNONYMS, blank_location_means_all=True)
    if not table.columns:
        raise DataError("has no item-master column (unit_cost, unit_price, holding_rate, currency, moq, pack_size, "
                        "order_cost, order_days, lead_time)", file=table.name, row=1)
    seen = {}
    values = []
    for line, item, loc, cells in table.rows:
        key = (item, loc)
        if key in seen:
            raise DataError(f"item {item!r}{'' if loc is None else f' at {loc!r}'} has two rows ({seen[key]} and "
                            f"{line}); keep one", file=table.name, row=line)
        seen[key] = line
        v = {}
        num = {"unit_cost": dict(above_low=True), "unit_price": dict(above_low=True),
               "holding_rate": dict(above_low=True, high=5.0), "moq": dict(integer=True, high=1e9),
               "pack_size": dict(integer=True, low=1.0, high=1e9), "order_cost": dict(high=1e9),
               "lead_time": dict(integer=True, high=float(MAX_LEAD_TIME))}
        for f, opts in num.items():
            if f in cells:
                x = parse_number(cells[f], table, line, f, **opts)
                if x is not None:
                    v[f] = int(x) if opts.get("integer") else x
        if cells.get("currency"):
            v["currency"] = cells["currency"][:12]
        if cells.get("order_days"):
            try:
                v["order_days"] = parse_order_days(cells["order_days"])
            except ValueError as exc:
                raise DataError(f"order days: {exc}", file=table.name, row=line,
                                column=table.columns["order_days"], value=cells["order_days"]) from None
        values.append((line, item, loc, v))
    return ItemMaster(table=table, values=values)


def item_terms(dataset, master: ItemMaster | None = None, checked=None) -> dict[str, ItemTerms]:
    """Every series' ItemTerms: item file > the sales file's columns > defaults. A row for one location wins over
    a row for every location of its item; a cost nobody gave is assumed from the price in force
    (engine.data.dataset.assumed_unit_cost). DataError for an item-file row whose item the sales file lacks, and
    for terms no order can be planned under (lead time too long, price not above cost) on the series in `checked`
    (default: all) — the series today's orders are for, not every series of the sales file."""
    out = {}
    for key, s in dataset.series.items():
        t = ItemTerms()
        src = {f: "assumed" for f in FIELDS}
        if getattr(s, "cost_source", "assumed") == "file":  # the sales file's own columns (engine.data.dataset)
            t.unit_cost, src["unit_cost"] = float(s.unit_cost), "sales file"
        if getattr(s, "price_source", "assumed") == "file":
            t.unit_price, src["unit_price"] = float(s.unit_price), "sales file"
        if s.lead_time_days is not None:
            t.lead_time, src["lead_time"] = int(s.lead_time_days), "sales file"
        t.source = src
        out[key] = t
    if master is not None:
        # rows for every location first, then rows for one location (more specific wins)
        ordered = sorted(master.values, key=lambda r: r[2] is not None)
        for line, item, loc, v in ordered:
            for key in series_for(dataset, master.table, line, item, loc):
                t = out[key]
                for f, x in v.items():
                    setattr(t, f, x)
                    t.source[f] = "item file"
    for t in out.values():
        if t.source["unit_cost"] == "assumed":
            t.unit_cost = assumed_unit_cost(t.unit_price)
    for key in (out if checked is None else checked):
        t = out[key]
        if t.lead_time > MAX_LEAD_TIME:
            raise DataError(f"series {key}: lead time {t.lead_time} days ({t.source['lead_time']}) is above "
                            f"{MAX_LEAD_TIME} days, the longest today's orders plan for; set lead_time in the item "
                            "file")
        if t.unit_price <= t.unit_cost:
            raise DataError(f"series {key}: unit price {t.unit_price:g} ({t.source['unit_price']}) is not above unit "
                            f"cost {t.unit_cost:g} ({t.source['unit_cost']}), so a lost sale would cost nothing; "
                            "give both in the item file (unit_cost, unit_price)")
    return out


def _value_text(f: str, v) -> str:
    if f == "order_days":
        return days_text(v)
    if f == "holding_rate":
        return f"{100 * v:g} %/year"
    if f == "currency":
        return "not named"
    if f == "lead_time":
        return f"{v} days"
    return f"{v:g}"


def assumption_notes(terms: ItemTerms) -> list[str]:
    """'unit cost 20 assumed — edit the item file', one per assumed field of a series."""
    return [_note(f, getattr(terms, f)) for f in terms.assumed()]


def _note(f: str, v) -> str:
    if f == "currency":
        return "currency not named — add a currency column to the item file"
    if f == "unit_cost":  # engine.data.dataset.assumed_unit_cost
        return f"unit cost {_value_text(f, v)} assumed ({COST_RULE}) — edit the item file"
    return f"{LABELS[f]} {_value_text(f, v)} assumed — edit the item file"


def assumptions_by_field(terms: dict[str, ItemTerms]) -> list[dict]:
    """[{field, label, value, note, series: [keys]}]: each assumption once, with the series it applies to."""
    groups: dict = {}
    for key, t in terms.items():
        for f in t.assumed():
            v = getattr(t, f)
            if f == "unit_cost":  # one rule, a value per price: said once for every series it applies to
                g = groups.setdefault((f, None), {"field": f, "label": LABELS[f], "value": COST_RULE,
                                                  "note": f"unit cost assumed at {COST_RULE} — edit the item file",
                                                  "series": []})
                g["series"].append(key)
                continue
            text = _value_text(f, v)
            g = groups.setdefault((f, text), {"field": f, "label": LABELS[f],
                                              "value": days_text(v) if f == "order_days" else v,
                                              "note": _note(f, v),
                                              "series": []})
            g["series"].append(key)
    return list(groups.values())
