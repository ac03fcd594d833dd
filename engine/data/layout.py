"""Long-format daily files in any reasonable layout: which column is the date, item, location and demand.

`detect_columns(header)` guesses a `ColumnMapping` from common names (date/ds/day, sku/item/product, store/location/
warehouse, qty/units/sales/demand, and optional price, cost, promotion and lead-time columns); a page shows it and
lets the user change it, the CLI takes `--columns date=…,item=…,location=…,demand=…`. `load_long` reads a file with
a mapping into a `Dataset` (one `SeriesData` per ITEM/LOCATION, or ITEM without a location column), bounded in
memory (only the mapped columns, read as text, at most MAX_ROWS rows and MAX_SERIES series), and refuses with one
`DataError` naming what is wrong: duplicate rows, negative or non-numeric demand, weekly data, mixed date formats,
and missing days inside a series unless the caller says they are zero-demand days (`fill_missing_zero`).
"""
from __future__ import annotations

import contextlib
import contextvars
import datetime as _dt
import io
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from engine.errors import DataError

__all__ = ["ColumnMapping", "detect_columns", "detect_layout", "read_header", "parse_columns_spec", "load_long",
           "ROLES", "REQUIRED_ROLES",
           "MAX_ROWS", "MAX_SERIES", "DATE_FORMATS", "cli_layout", "current_layout", "NO_LOCATION_ITEM"]

MAX_ROWS = 5_000_000      # ~ 13,700 series-years of daily rows; beyond it the file is refused (read stops there)
MAX_SERIES = 20_000
NO_LOCATION_ITEM = "ALL"  # the item key of a file that has neither an item nor a location column
ROLES = ("date", "item", "location", "demand", "price", "cost", "promotion", "lead_time")
REQUIRED_ROLES = ("date", "demand")
# Names compared after lower-casing and dropping everything but letters and digits ("Units_Sold" -> "unitssold").
_SYNONYMS = {
    "date": ["date", "ds", "day", "datum", "tag", "fecha", "timestamp", "period"],
    "item": ["sku", "skuid", "item", "itemid", "product", "productid", "produkt", "artikel", "article", "articleid",
             "material", "part", "partnumber"],
    "location": ["store", "storeid", "location", "locationid", "warehouse", "warehouseid", "filiale", "shop",
                 "site", "branch", "dc", "lager"],
    "demand": ["qty", "quantity", "units", "unitssold", "sales", "demand", "menge", "absatz", "sold", "y", "volume",
               "unitsordered"],
    "price": ["price", "unitprice", "sellingprice", "preis"],
    "cost": ["cost", "unitcost", "purchasecost", "kosten"],
    "promotion": ["promo", "promotion", "promotionflag", "onpromotion", "promoflag", "aktion"],
    "lead_time": ["leadtime", "leadtimedays", "supplierleadtimedays", "lieferzeit"],
}
_EXAMPLES = {"date": ["date", "ds", "day", "Date"], "demand": ["qty", "quantity", "units", "sales", "demand",
                                                            "Units_Sold"]}
DATE_FORMATS = [("%Y-%m-%d", "YYYY-MM-DD"), ("%d.%m.%Y", "DD.MM.YYYY"), ("%m/%d/%Y", "MM/DD/YYYY"),
                ("%d/%m/%Y", "DD/MM/YYYY"), ("%Y/%m/%d", "YYYY/MM/DD"), ("%Y%m%d", "YYYYMMDD")]
_FLAG_VALUES = {"0": 0.0, "1": 1.0, "0.0": 0.0, "1.0": 1.0, "false": 0.0, "true": 1.0, "": 0.0}


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@dataclass
class ColumnMapping:
    """Which header column plays which role (None: absent), and which roles were guessed rather than given.

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
    guessed: list[str] = field(default_factory=list)   # roles filled by detection
    unused: list[str] = field(default_factory=list)    # header columns no role reads

    def used(self) -> dict[str, str]:
        """{role: column} of the roles that are mapped."""
        return {r: getattr(self, r) for r in ROLES if getattr(self, r) is not None}

    def spec(self) -> str:
        return ",".join(f"{r}={c}" for r, c in self.used().items())

    def to_dict(self) -> dict:
        return asdict(self)

    def missing_required(self) -> list[str]:
        return [r for r in REQUIRED_ROLES if getattr(self, r) is None]


def detect_columns(header: list[str], given: dict[str, str] | None = None) -> ColumnMapping:
    """Guess every role from the header; roles in `given` (role -> column) are taken as they are (checked)."""
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
    by_norm: dict[str, str] = {}
    for h in header:
        by_norm.setdefault(_norm(h), h)
    for role in ROLES:
        if role in given:
            continue
        for syn in _SYNONYMS[role]:
            col = by_norm.get(syn)
            if col is not None and col not in taken:
                setattr(m, role, col)
                taken.add(col)
                m.guessed.append(role)
                break
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


# -- options set once by the command line, read by every loader --------------------------------------------------
_LAYOUT = contextvars.ContextVar("engine_layout", default=(None, False))


@contextlib.contextmanager
def cli_layout(columns: str | None, fill_missing_zero: bool):
    """While active, `current_layout()` returns the command line's --columns / --fill-missing-zero, so every loader
    a command reaches (simulate, validate, backtest, scenarios ...) reads the file the same way."""
    token = _LAYOUT.set((columns, bool(fill_missing_zero)))
    try:
        yield
    finally:
        _LAYOUT.reset(token)


def current_layout() -> tuple[str | None, bool]:
    return _LAYOUT.get()


# -- reading -------------------------------------------------------------------------------------------------------
def _read_frame(source, name: str, usecols: list[str], max_rows: int, numeric: list[str]):
    """Only the mapped columns: numbers as float64 when every cell is one (fast), else as text so that the
    first bad cell can be named; everything else as categories (one copy of each distinct text: a year of 1,000
    series holds 365 dates and 1,000 item names, not 365,000 of each)."""
    import pandas as pd

    def read(dtype):
        buf = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
        return pd.read_csv(buf, usecols=usecols, dtype=dtype, keep_default_na=False, nrows=max_rows + 1,
                           skipinitialspace=True, encoding="utf-8-sig")

    try:
        try:
            frame = read({c: (np.float64 if c in numeric else "category") for c in usecols})
        except (ValueError, TypeError):
            frame = read({c: (str if c in numeric else "category") for c in usecols})
    except (ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"is not a readable CSV ({str(exc).splitlines()[0]})", file=name) from None
    if len(frame) > max_rows:
        raise DataError(f"has more than {max_rows:,} rows, the limit for one file; split it (e.g. by item)",
                        file=name)
    if len(frame) == 0:
        raise DataError("has a header but no data rows", file=name)
    frame.columns = [c.strip() for c in frame.columns]
    return frame


def _factorize(values):
    """(codes, distinct values) in order of first appearance; a categorical column without expanding it."""
    import pandas as pd

    if isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy().astype(np.int64)
        cats = list(values.cat.categories)
        present, first = np.unique(codes, return_index=True)
        order = present[np.argsort(first)]
        remap = np.full(len(cats) + 1, -1, dtype=np.int64)
        remap[order] = np.arange(len(order))
        return remap[codes], [cats[o] for o in order if o >= 0]
    codes, uniq = pd.factorize(values, sort=False)
    return np.asarray(codes, dtype=np.int64), list(uniq)


def _factorize_text(frame, column: str | None, role: str, name: str, n: int):
    """(codes in order of first appearance, stripped names) of an item/location column; one name without it."""
    if column is None:
        return np.zeros(n, dtype=np.int64), [NO_LOCATION_ITEM]
    codes, uniq = _factorize(frame[column])
    names = [str(u).strip() for u in uniq]
    if "" in names:
        bad = int(np.flatnonzero(codes == names.index(""))[0])
        raise DataError(f"is empty; every row needs its {role}", file=name, row=bad + 2, column=column)
    if len(set(names)) < len(names):  # " A" and "A" are one item
        merged, inv = np.unique(np.asarray(names, dtype=object), return_inverse=True)
        first = {}
        for i, u in enumerate(inv[codes]):
            first.setdefault(u, i)
        rank = {u: k for k, u in enumerate(sorted(first, key=first.get))}
        return np.array([rank[u] for u in inv[codes]], dtype=np.int64), [str(merged[u]) for u in
                                                                          sorted(first, key=first.get)]
    return codes, names


def _codes_to_days(column, name: str, label: str) -> np.ndarray:
    codes, uniq = _factorize(column)
    first = np.zeros(len(uniq), dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes))[::-1]  # the first row of each distinct text
    uniq_days = _parse_dates(np.array([str(u).strip() for u in uniq]), name, label, first)
    if len(uniq_days) and (codes < 0).any():
        raise DataError("is empty; every row needs a date", file=name, row=int(np.flatnonzero(codes < 0)[0]) + 2,
                        column=label)
    return uniq_days[codes] if len(uniq_days) else uniq_days


def read_header(source, name: str) -> list[str]:
    """The header of a CSV (path or bytes), stripped; DataError for an empty file or another separator."""
    import csv

    if isinstance(source, (bytes, bytearray)):
        first = bytes(source[:65536]).decode("utf-8-sig", errors="replace").splitlines()
    else:
        try:
            with open(source, "r", encoding="utf-8-sig", errors="replace", newline="") as fh:
                first = [fh.readline()]
        except FileNotFoundError:
            raise DataError("does not exist", file=name) from None
        except (IsADirectoryError, OSError) as exc:
            raise DataError(f"cannot be read ({getattr(exc, 'strerror', exc)})", file=name) from None
    line = next((ln for ln in first if ln.strip()), "")
    if not line:
        raise DataError("is empty (no header, no rows)", file=name)
    header = [c.strip() for c in next(csv.reader([line]))]
    if len(header) == 1:
        for sep, label in ((";", "semicolons"), ("\t", "tabs"), ("|", "pipes")):
            if sep in header[0]:
                raise DataError(f"the header is separated by {label}, not commas; save the file as a "
                                "comma-separated CSV", file=name, row=1, value=header[0][:60])
    return header


def _parse_dates(values: np.ndarray, name: str, column: str, rows: np.ndarray | None = None) -> np.ndarray:
    """Text dates -> day ordinals (int64); one format for the whole file, else a message naming the mixed rows.

    rows[i] is the 0-based data row of values[i] (default i) for the messages."""
    rows = np.arange(len(values)) if rows is None else rows
    uniq, inverse = np.unique(values, return_inverse=True)
    uniq = [str(u) for u in uniq]
    parsed: dict[str, list] = {}
    for fmt, _label in DATE_FORMATS:
        out = []
        for u in uniq:
            try:
                out.append(_dt.datetime.strptime(u[:10] if fmt == "%Y-%m-%d" else u, fmt).date())
            except ValueError:
                out.append(None)
        parsed[fmt] = out
    full = [fmt for fmt, _ in DATE_FORMATS if all(d is not None for d in parsed[fmt])]
    label = dict(DATE_FORMATS)
    if not full:
        best = max(parsed, key=lambda f: sum(d is not None for d in parsed[f]))
        bad_u = next(i for i, d in enumerate(parsed[best]) if d is None)
        row = int(rows[np.flatnonzero(inverse == bad_u)].min()) + 2
        other = [f for f in parsed if parsed[f][bad_u] is not None]
        if other and any(d is not None for d in parsed[best]):
            good_u = next(i for i, d in enumerate(parsed[best]) if d is not None)
            good_row = int(rows[np.flatnonzero(inverse == good_u)].min()) + 2
            raise DataError(f"mixed date formats: {uniq[bad_u]!r} is {label[other[0]]} but row {good_row} has "
                            f"{uniq[good_u]!r} ({label[best]}); use one format for the whole column",
                            file=name, row=row, column=column, value=uniq[bad_u])
        raise DataError(f"{uniq[bad_u]!r} is not a date (formats read: "
                        f"{', '.join(lbl for _, lbl in DATE_FORMATS)})", file=name, row=row, column=column,
                        value=uniq[bad_u])
    if len(full) > 1:  # e.g. 01/02/2024 is both MM/DD and DD/MM: the one that gives daily steps wins
        def step(fmt):
            d = sorted(set(parsed[fmt]))
            return np.median(np.diff([x.toordinal() for x in d])) if len(d) > 1 else 1
        full.sort(key=lambda f: (step(f) != 1, DATE_FORMATS.index((f, label[f]))))
    days = np.array([d.toordinal() for d in parsed[full[0]]], dtype=np.int64)
    return days[inverse]


def _numbers(values: np.ndarray, name: str, column: str, role: str, allow_negative: bool = False) -> np.ndarray:
    import pandas as pd

    if values.dtype.kind == "f":
        nums = values.astype(np.float64, copy=False)
    else:
        nums = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(nums)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        text = str(values[i])
        what = "is empty; every row needs a demand value" if role == "demand" and text.strip() == "" else \
            f"{text!r} is not a {'finite ' if values.dtype.kind == 'f' else ''}number"
        raise DataError(what, file=name, row=i + 2, column=column, value=text)
    if not allow_negative and (nums < 0).any():
        i = int(np.flatnonzero(nums < 0)[0])
        shown = f"{nums[i]:g}" if values.dtype.kind == "f" else str(values[i])
        raise DataError(f"{'demand ' if role == 'demand' else ''}{shown} is negative", file=name, row=i + 2,
                        column=column, value=shown)
    return nums


def detect_layout(source, name: str | None = None, columns: str | dict | None = None) -> ColumnMapping:
    """What a page shows after an upload: the mapping detected from the file's header (roles in `columns` as
    given); the user changes it and passes it back to `load_long`."""
    if name is None:
        name = "upload" if isinstance(source, (bytes, bytearray)) else Path(source).name
    given = parse_columns_spec(columns) if isinstance(columns, str) or columns is None else dict(columns)
    try:
        return detect_columns(read_header(source, name), given)
    except DataError as exc:
        raise DataError(exc.detail, file=name, column=exc.column) from None


def _value_range(values) -> tuple[int, int] | None:
    """(min, max) of a series' lead-time column over its rows (None when every row is empty)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    return (int(v.min()), int(v.max())) if v.size else None


def load_long(source, mapping: ColumnMapping | dict | str | None = None, *, name: str | None = None,
              fill_missing_zero: bool = False, max_rows: int = MAX_ROWS, max_series: int = MAX_SERIES):
    """Read a long-format daily file (path or bytes) into an `engine.data.dataset.Dataset`; one DataError if unusable.

    mapping: a ColumnMapping, {role: column}, a `--columns` text, or None (detect everything). The dataset's
    `layout` attribute is the mapping used. Rows of a series may come in any order (they are sorted by date).
    """
    from engine.data.dataset import DEFAULT_UNIT_COST, DEFAULT_UNIT_PRICE, Dataset, SeriesData

    if name is None:
        name = "upload" if isinstance(source, (bytes, bytearray)) else Path(source).name
    header = read_header(source, name)
    if isinstance(mapping, ColumnMapping):  # as a page passes it back: every role as set, None = absent
        m = mapping
        for role, column in m.used().items():
            if column not in header:
                raise DataError(f"the mapping's {role}={column} names no column of the header (found: "
                                f"{', '.join(header[:20])})", file=name, row=1, column=column)
    else:
        given = parse_columns_spec(mapping) if isinstance(mapping, str) or mapping is None else dict(mapping)
        try:
            m = detect_columns(header, given)
        except DataError as exc:
            raise DataError(exc.detail, file=name, column=exc.column) from None
    missing = m.missing_required()
    if missing:
        looked = "; ".join(f"{r}: {', '.join(_EXAMPLES[r])}" for r in missing)
        raise DataError(f"no {' and no '.join(missing)} column found (looked for {looked}; found: "
                        f"{', '.join(header[:20])}); name them with --columns, e.g. --columns "
                        + ",".join(f"{r}=COLUMN" for r in missing), file=name, row=1)
    used = m.used()
    numeric = [used[r] for r in ("demand", "price", "cost", "lead_time") if r in used]
    frame = _read_frame(source, name, list(dict.fromkeys(used.values())), max_rows, numeric)
    n = len(frame)
    days = _codes_to_days(frame[m.date], name, m.date)
    demand = _numbers(frame[m.demand].to_numpy(), name, m.demand, "demand")
    item_codes, item_names = _factorize_text(frame, m.item, "item", name, n)
    if m.location is not None:
        loc_codes, loc_names = _factorize_text(frame, m.location, "location", name, n)
        pair_codes, pairs = _factorize(item_codes * len(loc_names) + loc_codes)
        key_names = [f"{item_names[c // len(loc_names)]}/{loc_names[c % len(loc_names)]}" for c in pairs]
    else:
        pair_codes, key_names = item_codes, list(item_names)
    if len(key_names) > max_series:
        raise DataError(f"has {len(key_names):,} series, above the limit of {max_series:,}; split the file",
                        file=name)
    key_idx = pair_codes  # codes in order of first appearance in the file
    order = np.lexsort((days, key_idx))
    k_sorted, d_sorted = key_idx[order], days[order]
    dup = np.flatnonzero((np.diff(k_sorted) == 0) & (np.diff(d_sorted) == 0))
    if dup.size:
        a, b = sorted((int(order[dup[0]]), int(order[dup[0] + 1])))
        raise DataError(f"duplicate row: series {key_names[k_sorted[dup[0]]]} has two rows for "
                        f"{_dt.date.fromordinal(int(d_sorted[dup[0]]))} (rows {a + 2} and {b + 2}); "
                        "sum or remove them", file=name, row=b + 2)
    nums = {r: _numbers(frame[used[r]].to_numpy(), name, used[r], r) for r in ("price", "cost", "lead_time")
            if r in used}
    promo = None
    if m.promotion is not None:
        codes, uniq = _factorize(frame[m.promotion])
        flags = [_FLAG_VALUES.get(str(v).strip().lower()) for v in uniq]
        if None in flags:
            bad_u = flags.index(None)
            bad = int(np.flatnonzero(codes == bad_u)[0])
            raise DataError(f"{str(uniq[bad_u])!r} is not a 0/1 flag", file=name, row=bad + 2, column=m.promotion)
        promo = np.asarray(flags, dtype=np.float64)[codes]
    del frame
    uniq_keys = key_names
    day0 = int(days.min())
    iso = [_dt.date.fromordinal(day0 + k).isoformat() for k in range(int(days.max()) - day0 + 1)]
    bounds = np.flatnonzero(np.diff(k_sorted)) + 1
    starts = np.concatenate([[0], bounds])
    stops = np.concatenate([bounds, [n]])
    series: dict[str, SeriesData] = {}
    for ki in range(len(uniq_keys)):  # file order of first appearance
        lo, hi = starts[ki], stops[ki]
        key = str(uniq_keys[ki])
        rows = order[lo:hi]
        d = d_sorted[lo:hi]
        steps = np.diff(d)
        if steps.size and np.median(steps) >= 7:
            raise DataError(f"series {key} has one row every {int(np.median(steps))} days (weekly or coarser "
                            "data); the simulator needs one row per day", file=name, column=m.date)
        y = demand[rows]
        p = promo[rows] if promo is not None else np.zeros(len(rows))
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
            full = np.arange(d[0], d[-1] + 1)
            pos = d - d[0]
            y2, p2 = np.zeros(len(full)), np.zeros(len(full))
            y2[pos], p2[pos] = y, p
            d, y, p = full, y2, p2
        last_row = rows[-1]
        series[key] = SeriesData(
            key=key, dates=[iso[k] for k in (d - day0).tolist()], demand=y, promo=p,
            unit_cost=float(nums["cost"][last_row]) if "cost" in nums else DEFAULT_UNIT_COST,
            unit_price=float(nums["price"][last_row]) if "price" in nums else DEFAULT_UNIT_PRICE,
            lead_time_days=int(nums["lead_time"][last_row]) if "lead_time" in nums else None, source=name,
            lead_time_range=_value_range(nums["lead_time"][rows]) if "lead_time" in nums else None)
    ds = Dataset(name=name, series=series, columns=list(used.values()), ignored_columns=list(m.unused))
    ds.layout = m
    return ds
