"""Cell text to values for the loader (engine.data.dataset.load_csv): dates in one format per column, numbers with
a decimal point or a decimal comma, 0/1 flags, item / location names as codes. Each refusal is one DataError naming
the file, row (1-based line, header = line 1), column and value.
"""
from __future__ import annotations

import datetime as _dt
import re

import numpy as np

from engine.errors import DataError

__all__ = ["DATE_FORMATS", "parse_dates", "parse_numbers", "parse_flags", "factorize", "factorize_text",
           "codes_to_days", "uses_decimal_comma", "decimal_comma_number", "show_cell"]

DATE_FORMATS = [("%Y-%m-%d", "YYYY-MM-DD"), ("%d.%m.%Y", "DD.MM.YYYY"), ("%m/%d/%Y", "MM/DD/YYYY"),
                ("%d/%m/%Y", "DD/MM/YYYY"), ("%Y/%m/%d", "YYYY/MM/DD"), ("%Y%m%d", "YYYYMMDD")]
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([ T].*)?$")
_EPOCH_ORDINAL = _dt.date(1970, 1, 1).toordinal()
_FLAG_VALUES = {"0": 0.0, "1": 1.0, "0.0": 0.0, "1.0": 1.0, "false": 0.0, "true": 1.0, "": 0.0}
# "1.234,5", "1234,5", "12", "-3,25": a decimal comma with optional dots between groups of three digits
_DECIMAL_COMMA = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d*)(,\d*)?$")


def show_cell(value: object, limit: int = 40) -> str:
    """repr of a cell for a message, shortened (a 500,000-digit number is not repeated back); every reader's
    messages quote cells with it."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def factorize(values):
    """(codes, distinct values) in order of first appearance; a categorical column without expanding it."""
    import pandas as pd

    if isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy().astype(np.int64)
        cats = list(values.cat.categories)
        present, first = np.unique(codes, return_index=True)
        order = present[np.argsort(first)]
        order = order[order >= 0]   # an empty cell (code -1) stays -1: the caller names its row
        remap = np.full(len(cats) + 1, -1, dtype=np.int64)
        remap[order] = np.arange(len(order))
        return remap[codes], [cats[o] for o in order]
    codes, uniq = pd.factorize(values, sort=False)
    return np.asarray(codes, dtype=np.int64), list(uniq)


def factorize_text(values, role: str, name: str, column: str):
    """(codes in order of first appearance, stripped names) of an item/location column; " A" and "A" are one."""
    codes, uniq = factorize(values)
    names = [str(u).strip() for u in uniq]
    if "" in names or (codes < 0).any():
        bad = int(np.flatnonzero((codes < 0) | (codes == (names.index("") if "" in names else -2)))[0])
        raise DataError(f"is empty; every row needs its {role}", file=name, row=bad + 2, column=column)
    if len(set(names)) < len(names):
        merged, inv = np.unique(np.asarray(names, dtype=object), return_inverse=True)
        first: dict = {}
        for i, u in enumerate(inv[codes]):
            first.setdefault(u, i)
        ordered = sorted(first, key=first.get)
        rank = {u: k for k, u in enumerate(ordered)}
        return np.array([rank[u] for u in inv[codes]], dtype=np.int64), [str(merged[u]) for u in ordered]
    return codes, names


def codes_to_days(column, name: str, label: str) -> np.ndarray:
    """Day ordinals (int64) of a date column, each distinct text parsed once."""
    codes, uniq = factorize(column)
    if (codes < 0).any():
        raise DataError("is empty; every row needs a date", file=name, row=int(np.flatnonzero(codes < 0)[0]) + 2,
                        column=label)
    first = np.zeros(len(uniq), dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes))[::-1]  # the first row of each distinct text
    uniq_days = parse_dates(np.array([str(u).strip() for u in uniq]), name, label, first)
    return uniq_days[codes] if len(uniq_days) else uniq_days


def parse_dates(values: np.ndarray, name: str, column: str, rows: np.ndarray | None = None) -> np.ndarray:
    """Text dates -> day ordinals (int64); one format for the whole column, else a message naming the mixed rows.

    rows[i] is the 0-based data row of values[i] (default i) for the messages. A text that two formats read
    (01/02/2024) is read by the format that gives daily steps."""
    rows = np.arange(len(values)) if rows is None else rows
    uniq, inverse = np.unique(values, return_inverse=True)
    uniq = [str(u) for u in uniq]
    if "" in uniq:
        bad = int(rows[np.flatnonzero(inverse == uniq.index(""))].min()) + 2
        raise DataError("is empty; every row needs a date", file=name, row=bad, column=column)
    iso = [u[:10] for u in uniq if _ISO.match(u)]
    if len(iso) == len(uniq):  # the common case, vectorised; an impossible date falls through to the messages
        try:
            days = (np.asarray(iso, dtype="datetime64[D]").astype(np.int64) + _EPOCH_ORDINAL)
            return days[inverse]
        except ValueError:
            pass
    parsed: dict[str, list] = {}
    for fmt, _label in DATE_FORMATS:
        out = []
        for u in uniq:
            try:
                text = u[:10] if fmt == "%Y-%m-%d" and (len(u) == 10 or u[10:11] in (" ", "T")) else u
                out.append(_dt.datetime.strptime(text, fmt).date())
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
            raise DataError(f"mixed date formats: {show_cell(uniq[bad_u])} is {label[other[0]]} but row {good_row} has "
                            f"{show_cell(uniq[good_u])} ({label[best]}); use one format for the whole column",
                            file=name, row=row, column=column, value=uniq[bad_u])
        raise DataError(f"{show_cell(uniq[bad_u])} is not a date (formats read: "
                        f"{', '.join(lbl for _, lbl in DATE_FORMATS)})", file=name, row=row, column=column,
                        value=uniq[bad_u])
    if len(full) > 1:
        def step(fmt):
            d = sorted(set(parsed[fmt]))
            return np.median(np.diff([x.toordinal() for x in d])) if len(d) > 1 else 1
        full.sort(key=lambda f: (step(f) != 1, DATE_FORMATS.index((f, label[f]))))
    days = np.array([d.toordinal() for d in parsed[full[0]]], dtype=np.int64)
    return days[inverse]


def uses_decimal_comma(values, sep: str) -> bool:
    """Whether a column (array or list of cells) of a file separated by `sep` writes numbers with a decimal comma:
    the file is not separated by commas and any cell has a comma (then dots are thousands separators: "1.234,5" is
    1234.5). The one rule of the sales loader, the item and stock tables and import-pkl's context."""
    if sep == "," or (isinstance(values, np.ndarray) and values.dtype.kind == "f"):
        return False
    import pandas as pd

    return bool(pd.Series(values, dtype=object).astype(str).str.contains(",", regex=False).any())


def decimal_comma_number(text: str) -> float:
    """One cell of a decimal-comma column as parse_numbers reads it ("1.234,5" is 1234.5, "10,5" 10.5, "12" 12);
    nan when it is not such a number. The item and stock tables read their cells one by one with it."""
    t = text.strip()
    if t in ("", "+", "-", ",") or not _DECIMAL_COMMA.match(t):
        return float("nan")
    return float(t.replace(".", "").replace(",", "."))


# Beyond this a cell is no plausible daily demand, price or stock, and the engine's sums of squares over a year
# (variances, RMSE) would overflow float64 long before 1e300: refused at load with its row, not as a numpy warning.
MAX_NUMBER = 1e12


def parse_numbers(values: np.ndarray, name: str, column: str, role: str, *, decimal_comma: bool = False,
                  allow_empty: bool = False, allow_negative: bool = False) -> np.ndarray:
    """float64 of a number column; empty cells are NaN when `allow_empty`, else refused like any non-number."""
    import pandas as pd

    if values.dtype.kind == "f":  # read as numbers: an empty cell is NaN
        nums = values.astype(np.float64, copy=False)
        empty = np.isnan(nums) if allow_empty else np.zeros(len(nums), dtype=bool)
    else:
        cells = pd.Series(values, dtype=object).fillna("").astype(str)
        empty = (cells.str.strip() == "").to_numpy()
        if decimal_comma:
            text = cells.str.strip()
            ok = text.str.match(_DECIMAL_COMMA) & (text != "") & ~text.isin(["+", "-", ","])
            converted = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
            nums = pd.to_numeric(converted.where(ok, "x"), errors="coerce").to_numpy(dtype=np.float64)
        else:
            nums = pd.to_numeric(cells, errors="coerce").to_numpy(dtype=np.float64)
        if allow_empty:
            nums = np.where(empty, np.nan, nums)
        else:
            empty = np.zeros(len(nums), dtype=bool)
    bad = ~np.isfinite(nums) & ~empty
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        cell = "" if values[i] is None or (isinstance(values[i], float) and np.isnan(values[i])
                                            and values.dtype.kind != "f") else str(values[i])
        if values.dtype.kind == "f" and np.isnan(nums[i]):
            cell = "" if role == "demand" else "nan"
        if role == "demand" and cell.strip() == "":
            what = "is empty; every row needs a demand value"
        elif not decimal_comma and "," in cell:
            what = (f"{show_cell(cell)} is not a number (a decimal comma is read in files separated by semicolons "
                    "or tabs)")
        else:
            finite = "finite " if values.dtype.kind == "f" or _float_text(cell) else ""
            what = f"{show_cell(cell)} is not a {finite}number"
        raise DataError(what, file=name, row=i + 2, column=column, value=cell)
    big = np.abs(np.nan_to_num(nums)) > MAX_NUMBER
    if big.any():
        i = int(np.flatnonzero(big)[0])
        shown = f"{nums[i]:g}" if values.dtype.kind == "f" else str(values[i]).strip()
        raise DataError(f"{show_cell(shown)} is above {MAX_NUMBER:g}, the largest number a file's cell may hold (no "
                        "series sells or costs that much a day; a misplaced exponent or unit?)", file=name,
                        row=i + 2, column=column, value=shown)
    if not allow_negative and (nums < 0).any():
        i = int(np.flatnonzero(nums < 0)[0])
        shown = f"{nums[i]:g}" if values.dtype.kind == "f" else str(values[i]).strip()
        raise DataError(f"{'demand ' if role == 'demand' else ''}{shown} is negative", file=name, row=i + 2,
                        column=column, value=shown)
    return nums


def _float_text(cell: str) -> bool:
    """Whether Python reads the text as a float (then a refused one is NaN or infinite)."""
    try:
        float(cell)
        return True
    except ValueError:
        return False


def parse_flags(column, name: str, label: str) -> np.ndarray:
    """0/1 flags (true/false, 1.0/0.0; empty = 0) as float64."""
    codes, uniq = factorize(column)
    flags = [_FLAG_VALUES.get(str(v).strip().lower()) for v in uniq]
    if None in flags:
        bad_u = flags.index(None)
        bad = int(np.flatnonzero(codes == bad_u)[0])
        raise DataError(f"{show_cell(str(uniq[bad_u]))} is not a 0/1 flag", file=name, row=bad + 2, column=label,
                        value=str(uniq[bad_u]))
    out = np.asarray(flags, dtype=np.float64)
    return np.where(codes < 0, 0.0, out[codes]) if len(out) else np.zeros(len(codes))
