"""The one loader of daily demand files: `load_csv(source, columns=...)` reads a CSV (path or bytes) in any column
layout into a `Dataset` of `SeriesData`, or raises one `DataError` naming the file, row (1-based line, header =
line 1), column and value; nothing is half-loaded. Every command (`--data` with `--columns`) and every upload box
of the web app reads through it.

Layout: `columns` (a ColumnMapping as a page passes it back, {role: column}, or `--columns` text) names the roles;
roles not given are detected (engine.data.layout: the public dataset's layout is a preset mapping, other names are
found in several languages). Only a demand column is required; two columns that could both be the demand are
refused with a message naming both. Separators: comma, semicolon, tab or pipe (sniffed from the header); in a
file not separated by commas a number column may use a decimal comma ("12,5", "1.234,5").

Per series (ITEM/LOCATION; ITEM without a location column; "ALL" without either): rows in any order, sorted by
date; a day missing inside a series is refused unless the caller says it means zero demand (`fill_missing_zero`);
without a date column the rows are consecutive days in file order. Prices, costs, lead times and on-hand stock are
the series' last non-empty value in date order (the price in force when the plan is made, not an average of past
prices); a series without one gets the documented default (DEFAULTS) and says so (`price_source`,
`cost_source`: "file" or "assumed"). A price without a cost column: the cost is assumed at the default cost/price
ratio (20 / 40) of that price, so a $1.68 item is not costed at 20.
"""
from __future__ import annotations

import datetime as _dt
import io
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from engine.data.cells import (
    codes_to_days,
    factorize,
    factorize_text,
    parse_flags,
    parse_numbers,
    show_cell,
    uses_decimal_comma,
)
from engine.data.layout import ColumnMapping, detect_columns, parse_columns_spec, read_header
from engine.errors import DataError, FractionalDemandError

__all__ = [
    "DataError", "SeriesData", "Dataset", "load_csv", "detect_layout", "file_header", "MAX_UPLOAD_BYTES",
    "MAX_FILE_BYTES", "MAX_ROWS", "MAX_SERIES", "DEFAULTS", "DEFAULT_UNIT_COST", "DEFAULT_UNIT_PRICE", "NO_ITEM",
    "days_of_year",
]

MAX_UPLOAD_BYTES = 20 * 2**20  # 20 MiB per upload (bytes): the public 5-series year is ~150 kB
MAX_FILE_BYTES = 64 * 2**20    # a file named on the command line: ~1,500 series × 2 years of daily rows
MAX_ROWS = 5_000_000           # ~ 13,700 series-years of daily rows; beyond it the file is refused
MAX_SERIES = 20_000
NO_ITEM = "ALL"                # the item of a file without an item column
DEFAULT_UNIT_COST = 20.0       # the original app's defaults, used (and labelled "assumed") without a column
DEFAULT_UNIT_PRICE = 40.0


COST_RULE = f"{DEFAULT_UNIT_COST:g}/{DEFAULT_UNIT_PRICE:g} of the unit price"   # assumed_unit_cost in words


def assumed_unit_cost(unit_price: float) -> float:
    """The unit cost assumed where a price is known but no cost is: the defaults' ratio (20/40) of that price, so
    a lost sale costs the same share of it whatever the price (a cost of 20 under a price of 5.64 would make every
    sale a loss). One rule for the loader and the item master."""
    return float(unit_price) * (DEFAULT_UNIT_COST / DEFAULT_UNIT_PRICE)

# role -> value a series gets without that column
DEFAULTS = {"date": None, "item": NO_ITEM, "promotion": 0, "forecast": None, "cost": DEFAULT_UNIT_COST,
            "price": DEFAULT_UNIT_PRICE, "lead_time": None, "inventory": None}


def days_of_year(dates, extend: int = 0) -> np.ndarray:
    """Day of year (1..366, int64) of ISO dates, continued `extend` days past the last one (the calendar is known
    in advance). The one date-to-season conversion of the engine (generator, demand plans, forecasters)."""
    # Vectorised (numpy datetime64): a simulator's Start converts ~2,000 dates several times. numpy reads only
    # YYYY-MM-DD here (it would take "20240301" for a year); any other ISO form goes through datetime.
    text = [str(x)[:10] for x in dates]
    if all(len(t) == 10 and t[4] == "-" and t[7] == "-" for t in text):
        days = np.asarray(text, dtype="datetime64[D]")
    else:
        days = np.asarray([_dt.date.fromisoformat(t) for t in text], dtype="datetime64[D]")
    if len(days) and extend:
        days = np.concatenate([days, days[-1] + np.arange(1, extend + 1)])
    return (days - days.astype("datetime64[Y]")).astype(np.int64) + 1


@dataclass
class SeriesData:
    """One demand series (one SKU × warehouse), arrays aligned day by day.

    unit_price / unit_cost: the series' last known (non-empty) price / cost in date order — the price in force when
    the plan is made, not the mean of past prices. `price_source` / `cost_source`: "file" when they came from a
    column of the file, "assumed" when they are the defaults (or, for the cost, 20/40 of the file's price)."""

    key: str
    dates: list[str] | None
    demand: np.ndarray
    promo: np.ndarray
    planning: np.ndarray | None = None
    unit_cost: float = DEFAULT_UNIT_COST
    unit_price: float = DEFAULT_UNIT_PRICE
    lead_time_days: int | None = None
    last_inventory: float | None = None
    source: str | None = None  # file name the series came from (for messages)
    lead_time_range: tuple[int, int] | None = None  # (min, max) of the file's lead-time column over the rows
    price_source: str = "assumed"
    cost_source: str = "assumed"
    # The selling-price plan, one price a day (the file's price column, a day without one taking the last known
    # price, the first known before it); None without a price column. Prices are set in advance, so a forecaster
    # may read the coming days' (the global model does, as M5 treats sell_price).
    price: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.demand = np.asarray(self.demand, dtype=np.float64)
        self.promo = np.asarray(self.promo, dtype=np.float64)
        if self.planning is not None:
            self.planning = np.asarray(self.planning, dtype=np.float64)
        if self.price is not None:
            self.price = np.asarray(self.price, dtype=np.float64)
        n = len(self.demand)
        if len(self.promo) != n or (self.planning is not None and len(self.planning) != n) or (
                self.dates is not None and len(self.dates) != n) or (self.price is not None and len(self.price) != n):
            raise DataError(f"series {self.key}: demand, promo, planning, price and dates must have the same length")

    def __len__(self) -> int:
        return len(self.demand)

    def slice(self, start: int, stop: int | None = None) -> "SeriesData":
        """Rows start:stop as a new series (same costs)."""
        return SeriesData(
            key=self.key, dates=None if self.dates is None else self.dates[start:stop],
            demand=self.demand[start:stop].copy(), promo=self.promo[start:stop].copy(),
            planning=None if self.planning is None else self.planning[start:stop].copy(),
            unit_cost=self.unit_cost, unit_price=self.unit_price, lead_time_days=self.lead_time_days,
            last_inventory=self.last_inventory, source=self.source, lead_time_range=self.lead_time_range,
            price_source=self.price_source, cost_source=self.cost_source,
            price=None if self.price is None else self.price[start:stop].copy(),
        )

    def day_of_year(self) -> np.ndarray | None:
        """Day of year (1..366) of each row, or None without dates."""
        return None if self.dates is None else days_of_year(self.dates)

    def to_dict(self) -> dict:
        return {
            "key": self.key, "dates": None if self.dates is None else list(self.dates),
            "demand": [float(x) for x in self.demand], "promo": [float(x) for x in self.promo],
            "planning": None if self.planning is None else [float(x) for x in self.planning],
            "unit_cost": float(self.unit_cost), "unit_price": float(self.unit_price),
            "lead_time_days": self.lead_time_days,
            "last_inventory": None if self.last_inventory is None else float(self.last_inventory),
            "source": self.source, "price_source": self.price_source, "cost_source": self.cost_source,
            "lead_time_range": None if self.lead_time_range is None else list(self.lead_time_range),
            "price": None if self.price is None else [float(x) for x in self.price],
        }

    @classmethod
    def from_dict(cls, d: dict) -> "SeriesData":
        try:
            s = cls(
                key=str(d["key"]), dates=None if d.get("dates") is None else [str(x) for x in d["dates"]],
                demand=np.array(d["demand"], dtype=np.float64), promo=np.array(d["promo"], dtype=np.float64),
                planning=None if d.get("planning") is None else np.array(d["planning"], dtype=np.float64),
                unit_cost=float(d.get("unit_cost", DEFAULT_UNIT_COST)),
                unit_price=float(d.get("unit_price", DEFAULT_UNIT_PRICE)),
                lead_time_days=None if d.get("lead_time_days") is None else int(d["lead_time_days"]),
                last_inventory=None if d.get("last_inventory") is None else float(d["last_inventory"]),
                source=d.get("source"), price_source=_known_source(d.get("price_source")),
                cost_source=_known_source(d.get("cost_source")),
                lead_time_range=None if d.get("lead_time_range") is None else
                tuple(int(x) for x in d["lead_time_range"][:2]),
                price=None if d.get("price") is None else np.array(d["price"], dtype=np.float64),
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, DataError):
                raise
            raise DataError(f"stored series is malformed ({exc})") from None
        if not np.all(np.isfinite(s.demand)) or np.any(s.demand < 0):
            raise DataError(f"stored series {s.key}: demand must be finite and non-negative")
        return s


@dataclass
class Dataset:
    """A loaded file: its series in file order plus what was found."""

    name: str
    series: dict[str, SeriesData] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    layout: ColumnMapping | None = None  # the mapping the file was read with

    def get(self, key: str | None = None) -> SeriesData:
        """The series `key` ("SKU_1/WH_1"), or the first one when key is None."""
        if key is None:
            return next(iter(self.series.values()))
        if key not in self.series:
            known = ", ".join(list(self.series)[:20])
            raise DataError(f"no series {key!r}; the file has: {known}", file=self.name)
        return self.series[key]

    def summary(self) -> dict:
        dated = [s.dates for s in self.series.values() if s.dates]
        date_range = None
        if dated:
            date_range = [min(d[0] for d in dated), max(d[-1] for d in dated)]
        used = self.layout.used() if self.layout is not None else {}
        return {
            "name": self.name,
            "series": list(self.series),
            "series_detail": [
                {"key": s.key, "rows": len(s), "first_date": s.dates[0] if s.dates else None,
                 "last_date": s.dates[-1] if s.dates else None, "has_planning": s.planning is not None,
                 "missing_days": _missing_days(s), "unit_price": float(s.unit_price),
                 "unit_cost": float(s.unit_cost), "price_source": s.price_source, "cost_source": s.cost_source}
                for s in self.series.values()
            ],
            "rows": int(sum(len(s) for s in self.series.values())),
            "date_range": date_range,
            "columns": list(self.columns),
            "ignored_columns": list(self.ignored_columns),
            "defaults_applied": {r: ("half the price" if r == "cost" and "price" in used else v)
                                 for r, v in DEFAULTS.items() if r not in used},
            "layout": None if self.layout is None else self.layout.to_dict(),
        }


def _known_source(value) -> str:
    return value if value in ("file", "assumed") else "assumed"


def _missing_days(s: SeriesData) -> int | None:
    """Calendar days between the first and last date that have no row (None without dates)."""
    if not s.dates:
        return None
    span = (_dt.date.fromisoformat(s.dates[-1]) - _dt.date.fromisoformat(s.dates[0])).days + 1
    return span - len(s)


def _read_source(source, name: str | None, max_bytes: int | None) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        name = name or "upload"
        max_bytes = MAX_UPLOAD_BYTES if max_bytes is None else max_bytes
        if len(source) > max_bytes:
            raise DataError(f"is {len(source):,} bytes, above the {max_bytes:,}-byte limit", file=name)
        return bytes(source), name
    path = Path(source)
    name = name or path.name
    max_bytes = MAX_FILE_BYTES if max_bytes is None else max_bytes
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        raise DataError("does not exist", file=str(source)) from None
    except OSError as exc:
        raise DataError(f"cannot be read ({exc.strerror})", file=str(source)) from None
    if path.is_dir():
        raise DataError("is a directory, not a CSV file", file=str(source))
    if size > max_bytes:
        raise DataError(f"is {size:,} bytes, above the {max_bytes:,}-byte limit", file=name)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(max_bytes + 1)
    except OSError as exc:
        raise DataError(f"cannot be read ({exc.strerror})", file=name) from None
    if len(raw) > max_bytes:  # grew while we looked
        raise DataError(f"is above the {max_bytes:,}-byte limit", file=name)
    return raw, name


def _looks_utf16(raw: bytes) -> bool:
    """UTF-16 without a byte-order mark: ASCII text with a NUL byte beside every character (every other byte)."""
    head = raw[:512]
    if len(head) < 8:
        return False
    even, odd = head[0::2], head[1::2]
    return (odd.count(0) > 0.9 * len(odd) and even.count(0) == 0) or (even.count(0) > 0.9 * len(even)
                                                                          and odd.count(0) == 0)


def decode_text(raw: bytes, name: str) -> str:
    """A file's bytes as text, or the loader's DataError for an empty, UTF-16, binary or non-UTF-8 file: the one
    reading every CSV the engine takes (sales, item master, stock) goes through."""
    if not raw.strip():
        raise DataError("is empty (no header, no rows)", file=name)
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff") or _looks_utf16(raw):
        raise DataError("is UTF-16 text (spreadsheet \"Unicode text\"); save it as UTF-8 CSV", file=name)
    nul = raw.find(b"\x00", 0, 65536)
    if nul >= 0:
        raise DataError(f"is a binary file, not a CSV text file (NUL byte at offset {nul})",
                        file=name, row=raw[:nul].count(b"\n") + 1)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(f"is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
                        "save it as UTF-8 CSV", file=name, row=line) from None


def _mapping_for(header: list[str], columns, name: str, header_row: int) -> ColumnMapping:
    """The mapping `columns` describes for this header (see load_csv), checked; DataError naming the file."""
    if isinstance(columns, ColumnMapping):  # as a page passes it back: every role as set, None = absent
        for role, column in columns.used().items():
            if column not in header:
                raise DataError(f"the mapping's {role}={column} names no column of the header (found: "
                                f"{', '.join(header[:20])})", file=name, row=header_row, column=column)
        used = set(columns.used().values())
        m = replace(columns, unused=[h for h in header if h not in used], guessed=list(columns.guessed),
                    ambiguous=dict(columns.ambiguous))
    else:
        given = parse_columns_spec(columns) if isinstance(columns, str) or columns is None else dict(columns)
        try:
            m = detect_columns(header, given)
        except DataError as exc:
            raise DataError(exc.detail, file=name, row=header_row, column=exc.column) from None
    problem = m.problem(header)
    if problem:
        raise DataError(problem, file=name, row=header_row)
    return m


def detect_layout(source, name: str | None = None, columns=None, max_bytes: int | None = None) -> ColumnMapping:
    """What a page shows after an upload: the mapping detected from the file's header (roles in `columns` as
    given), with `ambiguous` roles for the user to choose; the user changes it and passes it back to load_csv."""
    raw, name = _read_source(source, name, max_bytes)
    header, _sep, row = read_header(decode_text(raw, name), name)
    given = parse_columns_spec(columns) if isinstance(columns, str) or columns is None else dict(columns)
    try:
        return detect_columns(header, given)
    except DataError as exc:
        raise DataError(exc.detail, file=name, row=row, column=exc.column) from None


def file_header(source, name: str | None = None, max_bytes: int | None = None) -> list[str]:
    """The header of a file (path or bytes) as the loader reads it (separator sniffed, names stripped)."""
    raw, name = _read_source(source, name, max_bytes)
    return read_header(decode_text(raw, name), name)[0]


def _read_frame(raw: bytes, name: str, sep: str, header: list[str], usecols: list[str], numeric: list[str],
                max_rows: int, as_text: bool = False, codes: tuple = ()):
    """Only the mapped columns: numbers as float64 when every cell is one or empty (fast; empty = NaN), else as
    text (to read a decimal comma, or to name the first bad cell); item and location codes (`codes`) as text, as
    written (a category column infers numbers: "00123" would read as 123 and "1" and "01" as one location);
    everything else as categories (one copy of each distinct text: a year of 1,000 series holds 365 dates, not
    365,000). The columns take the names read_header gave them (stripped: " Date " is Date)."""
    import pandas as pd

    def read(dtype):
        return pd.read_csv(io.BytesIO(raw), sep=sep, header=0, names=header, usecols=usecols, dtype=dtype,
                           keep_default_na=False, na_values=[""], nrows=max_rows + 1, skipinitialspace=True,
                           encoding="utf-8-sig")

    try:
        try:
            if as_text:
                raise ValueError("numbers as text")
            frame = read({c: (np.float64 if c in numeric else str if c in codes else "category") for c in usecols})
        except (ValueError, TypeError):
            frame = read({c: (str if c in numeric or c in codes else "category") for c in usecols})
    except (ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"is not a readable CSV ({str(exc).splitlines()[0]})", file=name) from None
    if len(frame) > max_rows:
        raise DataError(f"has more than {max_rows:,} rows, the limit for one file; split it (e.g. by item)",
                        file=name)
    if len(frame) == 0:
        raise DataError("has a header but no data rows", file=name)
    frame.columns = [c.strip() for c in frame.columns]
    return frame


def _value_range(values) -> tuple[int, int] | None:
    """(min, max) of a series' lead-time column over its rows (None when every row is empty): a lead time that
    varies is drawn from this range where the level is set (engine.protection.lead_times)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    return (int(v.min()), int(v.max())) if v.size else None


def _last_known(values: np.ndarray) -> float | None:
    """The last non-NaN value of a series' column in date order (None when every cell is empty)."""
    known = values[~np.isnan(values)]
    return float(known[-1]) if known.size else None


def _price_plan(values: np.ndarray | None) -> np.ndarray | None:
    """A series' daily prices with the gaps filled: the last known price, before the first one the first (the
    price in force); None when the series has no price at all."""
    if values is None:
        return None
    v = np.asarray(values, dtype=np.float64)
    known = np.isfinite(v)
    if not known.any():
        return None
    idx = np.where(known, np.arange(len(v)), 0)
    np.maximum.accumulate(idx, out=idx)
    out = v[idx]
    out[:int(np.argmax(known))] = v[int(np.argmax(known))]
    return out


def _refuse_clashing_keys(key_names, pairs, item_names, loc_names, name) -> None:
    """A series is named item/location; an item or location holding "/" can make two series one name (A/B at C,
    A at B/C), which would merge their rows. Refused, naming both."""
    seen: dict = {}
    for key, c in zip(key_names, pairs):
        pair = (item_names[c // len(loc_names)], loc_names[c % len(loc_names)])
        if key in seen:
            (i1, l1), (i2, l2) = seen[key], pair
            raise DataError(f"item {show_cell(i1)} at location {show_cell(l1)} and item {show_cell(i2)} at location "
                            f"{show_cell(l2)} would both be series {key}; rename one (a \"/\" in an item or location "
                            "code)", file=name)
        seen[key] = pair


def load_csv(source, name: str | None = None, max_bytes: int | None = None, columns=None,
             fill_missing_zero: bool = False, max_rows: int = MAX_ROWS, max_series: int = MAX_SERIES,
             whole_demand: bool | str = False) -> Dataset:
    """Parse a daily CSV (path or bytes) into a Dataset, or raise one DataError. Never half-loads.

    columns: a ColumnMapping (as a page passes it back; every role as set), {role: column}, `--columns` text, or
    None (detect every role). max_bytes: default MAX_UPLOAD_BYTES for bytes, MAX_FILE_BYTES for a path. The
    dataset's `layout` is the mapping used. whole_demand: the series that must sell in whole units (True: every
    series; a key: that one), for a model of whole units (the exact solver's pmf); a fraction is refused naming
    its row.
    """
    raw, name = _read_source(source, name, max_bytes)
    text = decode_text(raw, name)
    header, sep, header_row = read_header(text, name)
    del text
    m = _mapping_for(header, columns, name, header_row)
    used = m.used()
    numeric = [used[r] for r in ("demand", "price", "cost", "lead_time", "forecast", "inventory") if r in used]
    frame = _read_frame(raw, name, sep, header, list(dict.fromkeys(used.values())), numeric, max_rows,
                        codes=tuple(c for c in (m.item, m.location) if c is not None))
    n = len(frame)

    def numbers(role: str, frame=frame, **kw) -> np.ndarray:
        values = frame[used[role]].to_numpy()
        if role == "demand" and values.dtype.kind == "f" and not np.isfinite(values).all():  # name the cell's text
            col = used[role]
            values = _read_frame(raw, name, sep, header, [col], [col], max_rows, as_text=True)[col].to_numpy()
        comma = uses_decimal_comma(values, sep)
        return parse_numbers(values, name, used[role], role, decimal_comma=comma, **kw)

    demand = numbers("demand")
    days = codes_to_days(frame[m.date], name, m.date) if m.date is not None else None
    if m.item is not None:
        item_codes, item_names = factorize_text(frame[m.item], "item", name, m.item)
    else:
        item_codes, item_names = np.zeros(n, dtype=np.int64), [NO_ITEM]
    if m.location is not None:
        loc_codes, loc_names = factorize_text(frame[m.location], "location", name, m.location)
        pair_codes, pairs = factorize(item_codes * len(loc_names) + loc_codes)
        key_names = [f"{item_names[c // len(loc_names)]}/{loc_names[c % len(loc_names)]}" for c in pairs]
        _refuse_clashing_keys(key_names, pairs, item_names, loc_names, name)
    else:
        pair_codes, key_names = item_codes, list(item_names)
    if len(key_names) > max_series:
        raise DataError(f"has {len(key_names):,} series, above the limit of {max_series:,}; split the file",
                        file=name)
    # rows of each series together, by date (file order without dates); codes are in order of first appearance
    order = np.lexsort((days if days is not None else np.arange(n), pair_codes))
    k_sorted = pair_codes[order]
    d_sorted = days[order] if days is not None else None
    if d_sorted is not None:
        dup = np.flatnonzero((np.diff(k_sorted) == 0) & (np.diff(d_sorted) == 0))
        if dup.size:
            a, b = sorted((int(order[dup[0]]), int(order[dup[0] + 1])))
            raise DataError(f"duplicate row: series {key_names[k_sorted[dup[0]]]} has two rows for "
                            f"{_dt.date.fromordinal(int(d_sorted[dup[0]]))} (rows {a + 2} and {b + 2}); "
                            "sum or remove them", file=name, row=b + 2, column=m.date)
    optional = {r: numbers(r, allow_empty=True) for r in ("price", "cost", "lead_time", "forecast", "inventory")
                if r in used}
    if "lead_time" in optional:
        lt = optional["lead_time"]
        bad = np.flatnonzero(~np.isnan(lt) & ((lt != np.round(lt)) | (lt > 365)))
        if bad.size:
            cell = str(frame[used["lead_time"]].iloc[int(bad[0])])
            raise DataError(f"{show_cell(cell)} is not a whole number of days between 0 and 365", file=name,
                            row=int(bad[0]) + 2, column=used["lead_time"], value=cell)
    promo = parse_flags(frame[m.promotion], name, m.promotion) if m.promotion is not None else None
    del frame
    iso = None
    if days is not None:
        day0 = int(days.min())
        iso = [_dt.date.fromordinal(day0 + k).isoformat() for k in range(int(days.max()) - day0 + 1)]
    bounds = np.flatnonzero(np.diff(k_sorted)) + 1
    starts = np.concatenate([[0], bounds])
    stops = np.concatenate([bounds, [n]])
    series: dict[str, SeriesData] = {}
    for ki, key in enumerate(key_names):  # file order of first appearance
        key = str(key)
        rows = order[starts[ki]:stops[ki]]
        y = demand[rows]
        if whole_demand is True or whole_demand == key:
            frac = np.flatnonzero(y != np.floor(y))
            if frac.size:
                raise FractionalDemandError(f"demand {y[frac[0]]:g} of series {key} is not a whole number",
                                            file=name,
                                row=int(rows[frac[0]]) + 2, column=used["demand"], value=float(y[frac[0]]))
        p = promo[rows] if promo is not None else np.zeros(len(rows))
        price_plan = optional["price"][rows] if "price" in optional else None
        planning = optional["forecast"][rows] if "forecast" in optional else None
        if planning is not None and np.isnan(planning).any():
            if np.isnan(planning).all():
                planning = None
            else:
                bad = int(rows[np.flatnonzero(np.isnan(planning))[0]])
                raise DataError(f"is empty while other rows of series {key} have a forecast", file=name,
                                row=bad + 2, column=used["forecast"])
        dates = None
        if d_sorted is not None:
            d = d_sorted[starts[ki]:stops[ki]]
            steps = np.diff(d)
            if steps.size and np.median(steps) >= 7:
                raise DataError(f"series {key} has one row every {int(np.median(steps))} days (weekly or coarser "
                                "data); the simulator needs one row per day", file=name, column=m.date)
            gap = np.flatnonzero(steps > 1)
            if gap.size:
                if not fill_missing_zero:
                    g = int(gap[0])
                    first = _dt.date.fromordinal(int(d[g]) + 1)
                    last = _dt.date.fromordinal(int(d[g + 1]) - 1)
                    total = int((steps[gap] - 1).sum())
                    raise DataError(f"series {key} has no rows for {first} .. {last} ({(last - first).days + 1} "
                                    f"days; {total} missing days in this series); add them, or pass "
                                    "--fill-missing-zero if a missing day means zero demand", file=name,
                                    column=m.date)
                pos = d - d[0]
                full = np.arange(d[0], d[-1] + 1)
                y2, p2 = np.zeros(len(full)), np.zeros(len(full))
                y2[pos], p2[pos] = y, p
                if planning is not None:
                    f2 = np.zeros(len(full))
                    f2[pos] = planning
                    planning = f2
                if price_plan is not None:  # a filled-in day has no price of its own: the last known one
                    pr2 = np.full(len(full), np.nan)
                    pr2[pos] = price_plan
                    price_plan = pr2
                d, y, p = full, y2, p2
            dates = [iso[k] for k in (d - day0).tolist()]
        last = {r: _last_known(v[rows]) for r, v in optional.items() if r != "forecast"}
        price, cost = last.get("price"), last.get("cost")
        unit_price = DEFAULT_UNIT_PRICE if price is None else price
        if cost is not None:
            unit_cost = cost
        elif price is not None:
            unit_cost = assumed_unit_cost(price)
        else:
            unit_cost = DEFAULT_UNIT_COST
        lead = last.get("lead_time")
        lead_range = _value_range(optional["lead_time"][rows]) if "lead_time" in optional else None
        series[key] = SeriesData(
            key=key, dates=dates, demand=y, promo=p, planning=planning, unit_cost=unit_cost, unit_price=unit_price,
            lead_time_days=None if lead is None else int(lead), last_inventory=last.get("inventory"), source=name,
            price_source="assumed" if price is None else "file", cost_source="assumed" if cost is None else "file",
            lead_time_range=lead_range, price=_price_plan(price_plan))
    return Dataset(name=name, series=series, columns=list(used.values()), ignored_columns=list(m.unused), layout=m)
