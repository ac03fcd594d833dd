"""Small per-item CSV files (the item master, today's stock): rows keyed by item and location, matched to the series
of a sales file.

The item and location columns are found by the sales file's own rules (engine.data.layout.detect_columns), so a
file whose sales use `sku`/`store` may use the same names here. Other columns are found by their normalised name
(lower case, letters and digits only) among a field's synonyms. Every problem is one DataError naming the file,
row, column and value.
"""
from __future__ import annotations

import csv
import datetime as _dt
import io
import re
from dataclasses import dataclass
from pathlib import Path

from engine.data.cells import DATE_FORMATS, decimal_comma_number, uses_decimal_comma
from engine.data.dataset import decode_text
from engine.data.layout import detect_columns, read_header
from engine.errors import DataError

__all__ = ["ItemTable", "read_item_table", "series_for", "parse_number", "parse_date", "MAX_TABLE_BYTES"]

MAX_TABLE_BYTES = 20 * 2**20
MAX_TABLE_ROWS = 100_000


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@dataclass
class ItemTable:
    """A read file: `name`, the `item` / `location` column names (location None: absent), `columns` {field: header
    column} of the fields found, and `rows`: (line number, item, location or None, {field: text})."""

    name: str
    item: str
    location: str | None
    columns: dict
    rows: list
    # The fields whose column writes a decimal comma (10,5 for 10.5; then dots group thousands): a file separated by
    # ; or tab with a comma in any cell of the column, the sales loader's rule (engine.data.cells.uses_decimal_comma).
    comma_fields: frozenset = frozenset()


def read_item_table(source, name: str | None, fields: dict[str, list[str]], required: tuple[str, ...] = (),
                    blank_location_means_all: bool = False) -> ItemTable:
    """Read `source` (a path or bytes) whose columns are an item, an optional location and any of `fields`
    ({field: normalised synonyms}); DataError when the item column or a `required` field is missing. With
    `blank_location_means_all` an empty location cell is a row for every location of the item (location None)."""
    if name is None:
        name = "upload" if isinstance(source, (bytes, bytearray)) else Path(source).name
    if isinstance(source, (bytes, bytearray)):
        raw = bytes(source)
    else:
        try:
            raw = Path(source).read_bytes()
        except OSError as exc:
            raise DataError(f"cannot be read ({exc.strerror})", file=name) from None
    if len(raw) > MAX_TABLE_BYTES:
        raise DataError(f"is {len(raw):,} bytes, above the {MAX_TABLE_BYTES:,}-byte limit", file=name)
    text = decode_text(raw, name)       # empty, UTF-16, binary, not UTF-8: the sales loader's messages
    header, sep, _row = read_header(text, name)   # the separator sniffed as for the sales file (, ; tab |)
    mapping = detect_columns(header)
    if mapping.item is None:
        raise DataError(f"no item column found (looked for sku, item, product, artikel, …; found: "
                        f"{', '.join(header[:20])})", file=name, row=1)
    columns = {}
    by_norm = {}
    for h in header:
        by_norm.setdefault(_norm(h), h)
    for f, names in fields.items():
        col = next((by_norm[n] for n in names if n in by_norm and by_norm[n] not in (mapping.item,
                                                                                   mapping.location)), None)
        if col is not None:
            columns[f] = col
    missing = [f for f in required if f not in columns]
    if missing:
        raise DataError(f"no {' and no '.join(missing)} column found (found: {', '.join(header[:20])})", file=name,
                        row=1)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    index = None
    rows = []
    for rec in reader:
        if not rec or not any(c.strip() for c in rec):
            continue
        if index is None:
            stripped = [c.strip() for c in rec]
            index = {c: stripped.index(c) for c in {mapping.item, mapping.location, *columns.values()} if c}
            continue
        line = reader.line_num
        if len(rows) >= MAX_TABLE_ROWS:
            raise DataError(f"has more than {MAX_TABLE_ROWS:,} rows", file=name)
        cells = {c: (rec[i].strip() if i < len(rec) else "") for c, i in index.items()}
        item = cells[mapping.item]
        if not item:
            raise DataError("is empty; every row needs its item", file=name, row=line, column=mapping.item)
        loc = (cells[mapping.location] or None) if mapping.location else None
        if mapping.location and loc is None and not blank_location_means_all:
            raise DataError("is empty; every row needs its location", file=name, row=line, column=mapping.location)
        rows.append((line, item, loc, {f: cells[c] for f, c in columns.items()}))
    if not rows:
        raise DataError("has a header but no data rows", file=name)
    comma_fields = frozenset(f for f in columns if uses_decimal_comma([r[3][f] for r in rows], sep))
    return ItemTable(name=name, item=mapping.item, location=mapping.location, columns=columns, rows=rows,
                     comma_fields=comma_fields)


def series_for(dataset, table: ItemTable, line: int, item: str, location: str | None) -> list[str]:
    """The keys of the sales file's series a row names: ITEM/LOCATION, or every location of ITEM when the row has
    no location; DataError for an item (or item and location) the sales file does not have."""
    keys = list(dataset.series)
    has_location = getattr(dataset.layout, "location", "") is not None  # the public layout keys SKU/WAREHOUSE
    if not has_location:
        found = [k for k in keys if k == item]
    elif location is not None:
        found = [k for k in keys if k == f"{item}/{location}"]
    else:
        found = [k for k in keys if k.startswith(item + "/")]
    if not found:
        what = f"item {item!r}" + (f" at location {location!r}" if location is not None and has_location else "")
        raise DataError(f"{what} is not in the sales file (it has: {', '.join(keys[:10])}"
                        f"{', …' if len(keys) > 10 else ''})", file=table.name, row=line, column=table.item,
                        value=item)
    return found


def parse_number(text: str, table: ItemTable, line: int, field: str, *, low: float = 0.0, high: float | None = None,
                 integer: bool = False, above_low: bool = False) -> float | None:
    """A cell as a number in [low, high] (None when empty); DataError naming the cell otherwise."""
    if text == "":
        return None
    if field in table.comma_fields:
        value = decimal_comma_number(text)
    else:
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
    col = table.columns.get(field, field)
    if value != value or value in (float("inf"), float("-inf")):
        hint = " (a decimal comma is read in files separated by semicolons or tabs)" if "," in text and (
            field not in table.comma_fields) else ""
        raise DataError(f"{text!r} is not a number{hint}", file=table.name, row=line, column=col, value=text)
    if value < 0 and low >= 0:
        raise DataError(f"{text} is negative ({field.replace('_', ' ')} cannot be below 0)", file=table.name,
                        row=line, column=col, value=text)
    if value < low or (above_low and value == low) or (high is not None and value > high):
        bound = f"above {low:g}" if above_low else f"at least {low:g}"
        rng = f"{bound}{'' if high is None else f' and at most {high:g}'}"
        raise DataError(f"{text} is out of range ({field.replace('_', ' ')} must be {rng})", file=table.name,
                        row=line, column=col, value=text)
    if integer and value != int(value):
        raise DataError(f"{text} is not a whole number ({field.replace('_', ' ')} counts units or days)",
                        file=table.name, row=line, column=col, value=text)
    return value


def parse_date(text: str, table: ItemTable, line: int, field: str) -> _dt.date | None:
    """A cell as a date in one of the sales file's formats (engine.data.cells.DATE_FORMATS); None when empty."""
    if text == "":
        return None
    for fmt, _label in DATE_FORMATS:
        try:
            return _dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise DataError(f"{text!r} is not a date (formats read: {', '.join(lbl for _, lbl in DATE_FORMATS)})",
                    file=table.name, row=line, column=table.columns.get(field, field), value=text)
