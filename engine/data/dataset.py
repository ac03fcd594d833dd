"""Load and validate demand data: the public dataset's schema (several SKU × warehouse series per file) and the
original app's 30-day file (six columns, no Date). All-or-nothing: a bad file raises one `DataError` naming the
file, row (1-based line number, header = line 1), column and value; nothing is half-loaded.

Only `Units_Sold` is mandatory. Defaults for missing optional columns (documented in DEFAULTS):
Date → no dates (day numbers only), SKU_ID → "LEGACY", Warehouse_ID → "1" (so the 30-day file is "LEGACY/1"),
Promotion_Flag → 0, Demand_Forecast → none (the `planning` forecaster is then unavailable), Unit_Cost → 20,
Unit_Price → 40 (the original app's defaults), Supplier_Lead_Time_Days → none, Inventory_Level → none.
"""
from __future__ import annotations

import csv
import datetime as _dt
import io
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.errors import DataError

__all__ = [
    "DataError", "SeriesData", "Dataset", "load_csv", "MAX_UPLOAD_BYTES", "COLUMNS", "DEFAULTS",
    "DEFAULT_UNIT_COST", "DEFAULT_UNIT_PRICE",
]

MAX_UPLOAD_BYTES = 20 * 2**20  # 20 MiB: the public 5-series year is ~150 kB; refuse before reading anything
COLUMNS = [
    "Date", "SKU_ID", "Warehouse_ID", "Supplier_ID", "Region", "Units_Sold", "Inventory_Level",
    "Supplier_Lead_Time_Days", "Reorder_Point", "Order_Quantity", "Unit_Cost", "Unit_Price", "Promotion_Flag",
    "Stockout_Flag", "Demand_Forecast",
]
LEGACY_COLUMNS = ["Units_Sold", "Inventory_Level", "Order_Quantity", "Unit_Cost", "Unit_Price", "Demand_Forecast"]
DEFAULT_UNIT_COST = 20.0
DEFAULT_UNIT_PRICE = 40.0
DEFAULTS = {
    "Date": None, "SKU_ID": "LEGACY", "Warehouse_ID": "1", "Promotion_Flag": 0, "Demand_Forecast": None,
    "Unit_Cost": DEFAULT_UNIT_COST, "Unit_Price": DEFAULT_UNIT_PRICE, "Supplier_Lead_Time_Days": None,
    "Inventory_Level": None,
}
_NUMERIC = {"Units_Sold", "Inventory_Level", "Supplier_Lead_Time_Days", "Reorder_Point", "Order_Quantity",
            "Unit_Cost", "Unit_Price", "Demand_Forecast"}
_FLAGS = {"Promotion_Flag", "Stockout_Flag"}
_FLAG_VALUES = {"0": 0.0, "1": 1.0, "0.0": 0.0, "1.0": 1.0, "false": 0.0, "true": 1.0}


def _show(value: object, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


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
    """One demand series (one SKU × warehouse), arrays aligned day by day."""

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

    def __post_init__(self) -> None:
        self.demand = np.asarray(self.demand, dtype=np.float64)
        self.promo = np.asarray(self.promo, dtype=np.float64)
        if self.planning is not None:
            self.planning = np.asarray(self.planning, dtype=np.float64)
        n = len(self.demand)
        if len(self.promo) != n or (self.planning is not None and len(self.planning) != n) or (
                self.dates is not None and len(self.dates) != n):
            raise DataError(f"series {self.key}: demand, promo, planning and dates must have the same length")

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
            "source": self.source,
            "lead_time_range": None if self.lead_time_range is None else list(self.lead_time_range),
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
                source=d.get("source"),
                lead_time_range=None if d.get("lead_time_range") is None else
                tuple(int(x) for x in d["lead_time_range"][:2]),
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
    layout: object = None  # engine.data.layout.ColumnMapping when the file was read by column detection

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
        return {
            "name": self.name,
            "series": list(self.series),
            "series_detail": [
                {"key": s.key, "rows": len(s), "first_date": s.dates[0] if s.dates else None,
                 "last_date": s.dates[-1] if s.dates else None, "has_planning": s.planning is not None,
                 "missing_days": _missing_days(s)}
                for s in self.series.values()
            ],
            "rows": int(sum(len(s) for s in self.series.values())),
            "date_range": date_range,
            "columns": list(self.columns),
            "ignored_columns": list(self.ignored_columns),
            "defaults_applied": {c: DEFAULTS[c] for c in DEFAULTS if c not in self._canonical_columns()},
            "layout": None if self.layout is None else self.layout.to_dict(),
        }

    def _canonical_columns(self) -> list[str]:
        """The public-layout names of the columns present (a detected layout's roles translated)."""
        if self.layout is None:
            return list(self.columns)
        roles = {"date": "Date", "item": "SKU_ID", "location": "Warehouse_ID", "demand": "Units_Sold",
                 "price": "Unit_Price", "cost": "Unit_Cost", "promotion": "Promotion_Flag",
                 "lead_time": "Supplier_Lead_Time_Days"}
        # a detected layout keys series by ITEM/LOCATION or ITEM alone: no SKU/warehouse default is applied
        return [roles[r] for r in self.layout.used()] + ["SKU_ID", "Warehouse_ID"]


def _missing_days(s: SeriesData) -> int | None:
    """Calendar days between the first and last date that have no row (None without dates)."""
    if not s.dates:
        return None
    span = (_dt.date.fromisoformat(s.dates[-1]) - _dt.date.fromisoformat(s.dates[0])).days + 1
    return span - len(s)


def _read_source(source, name: str | None, max_bytes: int) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        name = name or "upload"
        if len(source) > max_bytes:
            raise DataError(f"is {len(source):,} bytes, above the {max_bytes:,}-byte limit", file=name)
        return bytes(source), name
    path = Path(source)
    name = name or path.name
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


def _decode(raw: bytes, name: str) -> str:
    if not raw.strip():
        raise DataError("is empty (no header, no rows)", file=name)
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


def _parse_number(text: str, name: str, row: int, col: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"{_show(text)} is not a number", file=name, row=row, column=col, value=text) from None
    if not math.isfinite(value):
        raise DataError(f"{_show(text)} is not a finite number", file=name, row=row, column=col, value=text)
    return value


def _has_units_sold(text: str) -> bool:
    """Whether the header is the public or the 30-day layout (it names Units_Sold or the public schema's own
    columns), which this module reads; any other layout goes to engine.data.layout."""
    for line in text.splitlines():
        if line.strip():
            header = {c.strip() for c in next(csv.reader([line]), [])}
            # a public-schema file that lost its Units_Sold column is refused as before, not re-detected
            return "Units_Sold" in header or len(header & _PUBLIC_ONLY) >= 2
    return True


_PUBLIC_ONLY = {"Inventory_Level", "Reorder_Point", "Order_Quantity", "Stockout_Flag", "Demand_Forecast", "Region",
                "Supplier_ID"}


def load_csv(source, name: str | None = None, max_bytes: int = MAX_UPLOAD_BYTES, columns: str | None = None,
             fill_missing_zero: bool | None = None) -> Dataset:
    """Parse a CSV (path or bytes) into a Dataset, or raise one DataError. Never half-loads.

    A file in the public layout (it has Units_Sold) is read here unless `columns` maps it; any other long-format
    daily layout (date/sku/store/qty, ...) is read by `engine.data.layout.load_long` with the mapping `columns`
    (--columns text; None: the command line's, else detected) and `fill_missing_zero`.
    """
    from engine.data import layout as _layout

    cli_columns, cli_fill = _layout.current_layout()
    columns = cli_columns if columns is None else columns
    fill_missing_zero = cli_fill if fill_missing_zero is None else fill_missing_zero
    raw, name = _read_source(source, name, max_bytes)
    text = _decode(raw, name)
    if columns or (not _has_units_sold(text)
                   and not _layout.detect_columns(_layout.read_header(raw, name)).missing_required()):
        return _layout.load_long(raw, columns, name=name, fill_missing_zero=fill_missing_zero)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = None
        header_line = 0
        for rec in reader:
            if rec and any(c.strip() for c in rec):
                header = [c.strip() for c in rec]
                header_line = reader.line_num
                break
        if header is None:
            raise DataError("is empty (no header, no rows)", file=name)
        if len(header) == 1:
            for sep, label in ((";", "semicolons"), ("\t", "tabs"), ("|", "pipes")):
                if sep in header[0]:
                    raise DataError(f"the header is separated by {label}, not commas; save the file as a "
                                    "comma-separated CSV", file=name, row=header_line, value=header[0][:60])
        seen: dict[str, int] = {}
        for i, col in enumerate(header):
            if col == "":
                raise DataError(f"column {i + 1} of the header has no name", file=name, row=header_line)
            if col in seen:
                raise DataError("appears twice in the header", file=name, row=header_line, column=col)
            seen[col] = i
        if "Units_Sold" not in seen:
            found = ", ".join(header[:16])
            raise DataError(f"the required column Units_Sold is missing (found: {found})", file=name,
                            row=header_line, column="Units_Sold")
        known = [c for c in header if c in COLUMNS]
        ignored = [c for c in header if c not in COLUMNS]
        idx = {c: seen[c] for c in known}
        width = len(header)

        groups: dict[str, dict] = {}
        nrows = 0
        for rec in reader:
            line = reader.line_num
            if not rec or (len(rec) == 1 and not rec[0].strip()):
                continue
            if len(rec) != width:
                raise DataError(f"has {len(rec)} fields but the header has {width}", file=name, row=line)
            nrows += 1
            vals: dict[str, object] = {}
            for col, j in idx.items():
                cell = rec[j].strip()
                if col == "Units_Sold":
                    if cell == "":
                        raise DataError("is empty; every row needs a demand value", file=name, row=line,
                                        column=col, value=cell)
                    v = _parse_number(cell, name, line, col)
                    if v < 0:
                        raise DataError(f"demand {cell} is negative", file=name, row=line, column=col, value=cell)
                    vals[col] = v
                elif col in _NUMERIC:
                    if cell == "":
                        vals[col] = None
                        continue
                    v = _parse_number(cell, name, line, col)
                    if v < 0:
                        raise DataError(f"{cell} is negative", file=name, row=line, column=col, value=cell)
                    if col == "Supplier_Lead_Time_Days" and (v != int(v) or v > 365):
                        raise DataError(f"{cell} is not a whole number of days between 0 and 365", file=name,
                                        row=line, column=col, value=cell)
                    vals[col] = v
                elif col in _FLAGS:
                    if cell == "":
                        vals[col] = 0.0
                        continue
                    flag = _FLAG_VALUES.get(cell.lower())
                    if flag is None:
                        raise DataError(f"{_show(cell)} is not a 0/1 flag", file=name, row=line, column=col,
                                        value=cell)
                    vals[col] = flag
                elif col == "Date":
                    try:
                        d = _dt.date.fromisoformat(cell[:10])
                        if len(cell) > 10 and cell[10] not in " T":
                            raise ValueError
                    except ValueError:
                        raise DataError(f"{_show(cell)} is not a date (expected YYYY-MM-DD)", file=name, row=line,
                                        column=col, value=cell) from None
                    vals[col] = d
                else:
                    vals[col] = cell
            sku = vals.get("SKU_ID") or DEFAULTS["SKU_ID"]
            wh = vals.get("Warehouse_ID") or DEFAULTS["Warehouse_ID"]
            key = f"{sku}/{wh}"
            g = groups.get(key)
            if g is None:
                g = groups[key] = {"rows": [], "lines": [], "date_line": {}}
            if "Date" in vals:
                d = vals["Date"]
                if d in g["date_line"]:
                    raise DataError(f"duplicate date {d.isoformat()} in series {key} (first at row "
                                    f"{g['date_line'][d]})", file=name, row=line, column="Date", value=d.isoformat())
                if g["rows"] and d < g["rows"][-1]["Date"]:
                    raise DataError(f"date {d.isoformat()} comes after {g['rows'][-1]['Date'].isoformat()} in series "
                                    f"{key}; sort the file by date", file=name, row=line, column="Date",
                                    value=d.isoformat())
                g["date_line"][d] = line
            g["rows"].append(vals)
            g["lines"].append(line)
    except csv.Error as exc:
        raise DataError(f"is not a readable CSV ({exc})", file=name, row=reader.line_num) from None
    if nrows == 0:
        raise DataError("has a header but no data rows", file=name)

    series: dict[str, SeriesData] = {}
    for key, g in groups.items():
        rows = g["rows"]
        last = rows[-1]
        has_planning = "Demand_Forecast" in idx
        planning = None
        if has_planning:
            missing = [ln for r, ln in zip(rows, g["lines"]) if r["Demand_Forecast"] is None]
            if missing and len(missing) < len(rows):
                raise DataError(f"is empty while other rows of series {key} have a forecast", file=name,
                                row=missing[0], column="Demand_Forecast")
            if not missing:
                planning = np.array([r["Demand_Forecast"] for r in rows], dtype=np.float64)

        def last_value(col, default, rows=rows):
            for r in reversed(rows):
                if r.get(col) is not None:
                    return r[col]
            return default

        unit_cost = float(last_value("Unit_Cost", DEFAULT_UNIT_COST))
        unit_price = float(last_value("Unit_Price", DEFAULT_UNIT_PRICE))
        lt = last_value("Supplier_Lead_Time_Days", None)
        lts = [r["Supplier_Lead_Time_Days"] for r in rows if r.get("Supplier_Lead_Time_Days") is not None]
        inv = last.get("Inventory_Level")
        series[key] = SeriesData(
            key=key,
            dates=[r["Date"].isoformat() for r in rows] if "Date" in idx else None,
            demand=np.array([r["Units_Sold"] for r in rows], dtype=np.float64),
            promo=np.array([r.get("Promotion_Flag", 0.0) for r in rows], dtype=np.float64),
            planning=planning, unit_cost=unit_cost, unit_price=unit_price,
            lead_time_days=None if lt is None else int(lt), last_inventory=None if inv is None else float(inv),
            source=name, lead_time_range=(int(min(lts)), int(max(lts))) if lts else None,
        )
    return Dataset(name=name, series=series, columns=known, ignored_columns=ignored)
