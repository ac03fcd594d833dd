"""Column layouts of daily demand files: which column is the date, item, location, demand, price, cost, ...

`detect_columns(header)` maps roles to header columns: the public dataset's own layout is one preset mapping
(PUBLIC_LAYOUT, applied to the columns of it a header has), every other role is found by common names in several
languages (date/ds/Datum, sku/item/Artikel, store/warehouse/Filiale, qty/sales/Menge, price/sell_price/Preis/prix,
cost/unit_cost/Kosten, ...). A page shows the mapping and lets the user change it; the command line takes
`--columns date=…,item=…,demand=…`. Two header columns that both look like the demand (e.g. `sales` and `quantity`)
are never resolved by a guess: the mapping leaves demand unset and records both (`ambiguous`), and the loader
refuses the file with a message naming both and how to choose. Reading a file is engine.data.dataset.load_csv.
"""
from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass, field

from engine.errors import DataError

__all__ = ["ColumnMapping", "detect_columns", "parse_columns_spec", "read_header", "sniff_delimiter",
           "ambiguity_message", "ROLES", "REQUIRED_ROLES", "PUBLIC_LAYOUT", "PUBLIC_COLUMNS", "NUMERIC_ROLES",
           "DELIMITERS"]

ROLES = ("date", "item", "location", "demand", "price", "cost", "promotion", "lead_time", "forecast", "inventory")
REQUIRED_ROLES = ("demand",)   # without a date column the rows of each series are consecutive days in file order
NUMERIC_ROLES = ("demand", "price", "cost", "lead_time", "forecast", "inventory")
# The public dataset's header (data/sample.csv; the original app's 30-day file has a subset) and its roles, a preset
# mapping (Supplier_ID, Region, Reorder_Point, Order_Quantity and Stockout_Flag are not read).
PUBLIC_COLUMNS = ["Date", "SKU_ID", "Warehouse_ID", "Supplier_ID", "Region", "Units_Sold", "Inventory_Level",
                  "Supplier_Lead_Time_Days", "Reorder_Point", "Order_Quantity", "Unit_Cost", "Unit_Price",
                  "Promotion_Flag", "Stockout_Flag", "Demand_Forecast"]
PUBLIC_LAYOUT = {"date": "Date", "item": "SKU_ID", "location": "Warehouse_ID", "demand": "Units_Sold",
                 "price": "Unit_Price", "cost": "Unit_Cost", "promotion": "Promotion_Flag",
                 "lead_time": "Supplier_Lead_Time_Days", "forecast": "Demand_Forecast",
                 "inventory": "Inventory_Level"}
# Names compared after dropping accents, lower-casing and keeping letters and digits ("Units_Sold" -> "unitssold",
# "Coût" -> "cout").
_SYNONYMS = {
    "date": ["date", "ds", "day", "datum", "tag", "fecha", "timestamp", "period", "jour"],
    "item": ["sku", "skuid", "item", "itemid", "product", "productid", "produkt", "artikel", "article", "articleid",
             "material", "part", "partnumber", "artikelnummer", "produit", "producto"],
    "location": ["store", "storeid", "location", "locationid", "warehouse", "warehouseid", "filiale", "shop",
                 "site", "branch", "dc", "lager", "magasin", "tienda"],
    "demand": ["qty", "quantity", "units", "unitssold", "sales", "demand", "menge", "absatz", "sold", "y", "volume",
               "unitsordered", "quantite", "ventes", "cantidad", "ventas", "verkauf", "verkaufsmenge"],
    "price": ["price", "unitprice", "sellprice", "sellingprice", "salesprice", "retailprice", "preis",
              "verkaufspreis", "vkpreis", "stueckpreis", "stuckpreis", "prix", "prixunitaire", "precio", "prezzo"],
    "cost": ["cost", "unitcost", "purchasecost", "purchaseprice", "kosten", "einkaufspreis", "ekpreis",
             "stueckkosten", "stuckkosten", "cout", "coutunitaire", "costo", "coste"],
    "promotion": ["promo", "promotion", "promotionflag", "onpromotion", "promoflag", "aktion"],
    "lead_time": ["leadtime", "leadtimedays", "supplierleadtimedays", "lieferzeit"],
    "forecast": ["demandforecast", "forecast", "planningforecast", "prognose"],
    "inventory": ["inventorylevel", "onhand", "inventory", "bestand", "stock"],
}
_PRESET_ROLE = {col: role for role, col in PUBLIC_LAYOUT.items()}
_SYNONYM_ROLE: dict[str, str] = {}
for _role in ROLES:  # a name listed under two roles belongs to the first in ROLES order
    for _syn in _SYNONYMS[_role]:
        _SYNONYM_ROLE.setdefault(_syn, _role)
_EXAMPLES = {"demand": ["qty", "quantity", "units", "sales", "demand", "Units_Sold"]}
DELIMITERS = ((",", "commas"), (";", "semicolons"), ("\t", "tabs"), ("|", "pipes"))


def _norm(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]", "", plain.lower())


@dataclass
class ColumnMapping:
    """Which header column plays which role (None: absent), which roles were guessed rather than given, and the
    roles detection could not decide (role -> the candidate columns; the loader refuses while one is left).

    A page shows `to_dict()` and lets the user change any role; `spec()` is the `--columns` text of the mapping.
    """

    date: str | None = None
    item: str | None = None
    location: str | None = None
    demand: str | None = None
    price: str | None = None
    cost: str | None = None
    promotion: str | None = None
    lead_time: str | None = None
    forecast: str | None = None
    inventory: str | None = None
    guessed: list[str] = field(default_factory=list)   # roles filled by detection (preset or names)
    unused: list[str] = field(default_factory=list)    # header columns no role reads
    ambiguous: dict[str, list[str]] = field(default_factory=dict)  # role -> columns that all fit it

    def used(self) -> dict[str, str]:
        """{role: column} of the roles that are mapped."""
        return {r: getattr(self, r) for r in ROLES if getattr(self, r) is not None}

    def spec(self) -> str:
        return ",".join(f"{r}={c}" for r, c in self.used().items())

    def to_dict(self) -> dict:
        """JSON-safe copy (fields as in the dataclass; lists copied shallowly, so a 10^6-column header is quick)."""
        return {**{r: getattr(self, r) for r in ROLES}, "guessed": list(self.guessed), "unused": list(self.unused),
                "ambiguous": {r: list(c) for r, c in self.ambiguous.items()}}

    def missing_required(self) -> list[str]:
        return [r for r in REQUIRED_ROLES if getattr(self, r) is None]

    def problem(self, header: list[str] | None = None) -> str | None:
        """Why this mapping cannot read a file with `header` (an undecided or missing required role), else
        None."""
        for role, cols in self.ambiguous.items():
            if getattr(self, role) is None:
                return ambiguity_message(role, cols)
        missing = self.missing_required()
        if missing:
            looked = "; ".join(f"{r}: {', '.join(_EXAMPLES[r])}" for r in missing)
            found = ", ".join((self.unused if header is None else header)[:20])
            return (f"no {' and no '.join(missing)} column found (looked for {looked}; found: {found}); name it "
                    "with --columns, e.g. --columns " + ",".join(f"{r}=COLUMN" for r in missing)
                    + ", or choose it in the upload's column mapping")
        return None


def ambiguity_message(role: str, columns: list[str]) -> str:
    """The refusal when several columns fit one role: names them all and both ways to choose."""
    names = " and ".join(repr(c) for c in columns)
    return (f"{len(columns)} columns could be the {role}: {names}; choose one — on the command line "
            f"--columns {role}={columns[0]} (or {role}={columns[1]}), on a page the {role} column in the "
            "upload's column mapping")


def detect_columns(header: list[str], given: dict[str, str] | None = None) -> ColumnMapping:
    """Map every role from the header; roles in `given` (role -> column) are taken as they are (checked).

    Order: given roles; then the public preset for the columns of it the header has; then common names. A role
    other than demand with several matching columns takes the first (a second price column is harmless); several
    demand candidates leave demand unset and listed in `ambiguous`."""
    header = [h.strip() for h in header]
    given = dict(given or {})
    m = ColumnMapping()
    taken: set[str] = set()
    for role, col in given.items():
        if role not in ROLES:
            raise DataError(f"--columns: unknown role {role!r}; roles are {', '.join(ROLES)}")
        if col not in header:
            raise DataError(f"--columns: {role}={col} names no column of the header "
                            f"(found: {', '.join(header[:20])})", column=col)
        setattr(m, role, col)
        taken.add(col)
    candidates: dict[str, list[str]] = {}
    for h in header:
        if h in taken:
            continue
        role = _PRESET_ROLE.get(h) or _SYNONYM_ROLE.get(_norm(h))
        if role is not None:
            candidates.setdefault(role, []).append(h)
    for role in ROLES:
        if role in given or role not in candidates:
            continue
        cols = [c for c in candidates[role] if c not in taken]
        if not cols:
            continue
        if role == "demand" and len(cols) > 1:
            m.ambiguous[role] = cols
            continue
        preset = [c for c in cols if c == PUBLIC_LAYOUT[role]]
        col = preset[0] if preset else cols[0]
        setattr(m, role, col)
        taken.add(col)
        m.guessed.append(role)
    m.unused = [h for h in header if h not in taken]
    return m


def parse_columns_spec(text: str | None) -> dict[str, str]:
    """'date=Datum,item=Artikel,location=Filiale,demand=Menge' -> {role: column}; DataError on a malformed spec."""
    if not text:
        return {}
    out: dict[str, str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        role, sep, col = part.partition("=")
        role, col = role.strip().lower().replace("-", "_"), col.strip()
        if not sep or not col:
            raise DataError(f"--columns: {part.strip()!r} is not ROLE=COLUMN (e.g. date=Datum,demand=Menge)")
        if role not in ROLES:
            raise DataError(f"--columns: unknown role {role!r}; roles are {', '.join(ROLES)}")
        if role in out:
            raise DataError(f"--columns: role {role} is given twice")
        out[role] = col
    return out


def sniff_delimiter(line: str) -> str:
    """The field separator of a header line: the one of , ; TAB | that splits it into the most fields (outside
    quotes); a comma when none splits it. A semicolon-separated file is how Excel saves CSV where the decimal
    mark is a comma (German, French, ... locales)."""
    best, most = ",", 1
    for sep, _label in DELIMITERS:
        try:
            n = len(next(csv.reader([line], delimiter=sep), []))
        except csv.Error:  # e.g. one field above the csv module's size limit: not this separator
            continue
        if n > most:
            best, most = sep, n
    return best


def _first_filled_line(text: str, window: int = 1 << 16) -> tuple[int, str] | None:
    """(1-based number, text) of the first line that is not blank, or None. Looks in the first `window`
    characters before splitting the whole text (a year of 1,000 series is ~400,000 lines; the header is line 1)."""
    head = text[:window]
    lines = head.splitlines()
    whole = len(head) == len(text)
    for i, line in enumerate(lines if whole else lines[:-1], start=1):   # the window's last line may be cut
        if line.strip():
            return i, line
    if whole:
        return None
    return next(((i, ln) for i, ln in enumerate(text.splitlines(), start=1) if ln.strip()), None)


def read_header(text: str, name: str) -> tuple[list[str], str, int]:
    """(stripped header, delimiter, 1-based line of the header) of a file's decoded text; DataError when it has
    no header or an unnamed / repeated column."""
    found = _first_filled_line(text)
    if found is None:
        raise DataError("is empty (no header, no rows)", file=name)
    number, line = found
    sep = sniff_delimiter(line)
    try:
        header = [c.strip() for c in next(csv.reader([line], delimiter=sep))]
    except csv.Error as exc:
        raise DataError(f"the header is not a readable CSV line ({exc})", file=name, row=number) from None
    # a separator at the end of every line (a common spreadsheet export) leaves unnamed columns at the end: they
    # are named for what they are and, mapped to nothing, ignored like any other column the file has to spare
    named = len(header)
    while named > 1 and header[named - 1] == "":
        named -= 1
    header = header[:named] + [f"(unnamed column {k + 1})" for k in range(named, len(header))]
    seen: set[str] = set()
    for i, col in enumerate(header):
        if col == "":
            raise DataError(f"column {i + 1} of the header has no name", file=name, row=number)
        if col in seen:
            raise DataError("appears twice in the header", file=name, row=number, column=col)
        seen.add(col)
    return header, sep, number
