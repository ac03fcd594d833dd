"""Would an uploaded file's series be merged? The loader keys series by the mapping's item and location columns
(engine.data.dataset.load_csv); a column the mapping leaves unused that varies inside one of those series and
holds identifiers ("Code", "Outlet") would have its rows mixed together. This check finds such columns so the
upload is refused with their names, and the page points to /portfolio, whose mapping step maps every role. No dash.
"""
from __future__ import annotations

import csv
import io

from engine.data.layout import PUBLIC_COLUMNS, ColumnMapping, detect_columns, read_header

MAX_ROWS_READ = 200_000
MAX_COLUMNS_CHECKED = 200  # unused columns examined (the first ones): bounds the work on a very wide file


def _looks_like_text_key(values: set[str]) -> bool:
    """Identifiers rather than numbers or dates: most distinct values are neither a number nor a date."""
    def plain(v: str) -> bool:
        try:
            float(v.replace(",", "."))
            return True
        except ValueError:
            return len(v) >= 8 and v[:4].isdigit() and v[4] in "-/."  # 2024-01-31, 2024/01/31
    sample = list(values)[:50]
    return sum(not plain(v) for v in sample) > len(sample) / 2


def merged_key_columns(raw: bytes, mapping: ColumnMapping | None = None) -> list[tuple[str, int]]:
    """[(column, distinct values)] of the columns `mapping` (default: detected) leaves unused that look like an
    item or location and take several values inside one of its series (so loading would merge those rows)."""
    if b"\x00" in raw[:65536]:
        return []  # binary or UTF-16: the loader refuses it with its own message
    try:
        text = raw.decode("utf-8-sig", errors="replace")
        header, sep, _row = read_header(text, "upload")
        m = mapping if mapping is not None else detect_columns(header)
        return _merged(csv.reader(io.StringIO(text, newline=""), delimiter=sep), m)
    except (StopIteration, csv.Error, ValueError):
        return []  # not a CSV the loader could merge: the engine's own check names what is wrong


def _merged(reader, mapping: ColumnMapping) -> list[tuple[str, int]]:
    header = [h.strip() for h in next(reader)]
    used = set(mapping.used().values())
    # the public layout's unread columns (Supplier_ID, Region, ...) are attributes, not keys
    ignored = [i for i, h in enumerate(header) if h and h not in used and h not in PUBLIC_COLUMNS]
    ignored = ignored[:MAX_COLUMNS_CHECKED]
    if not ignored:
        return []
    keys = [header.index(k) for k in (mapping.item, mapping.location) if k in header]
    per_series: dict[tuple, dict[int, set]] = {}
    for n, row in enumerate(reader):
        if n >= MAX_ROWS_READ:
            break
        key = tuple(row[i] if i < len(row) else "" for i in keys)
        seen = per_series.setdefault(key, {i: set() for i in ignored})
        for i in ignored:
            if i < len(row) and len(seen[i]) < 1000:
                seen[i].add(row[i].strip())
    out = []
    for i in ignored:
        values = set().union(*(s[i] for s in per_series.values())) if per_series else set()
        varies = any(len(s[i] - {""}) > 1 for s in per_series.values())
        if varies and _looks_like_text_key(values - {""}):
            out.append((header[i], len(values - {""})))
    return out


def merge_message(name: str, columns: list[tuple[str, int]]) -> str:
    """The refusal: which columns look like item / location, and the two ways on."""
    cols = " and ".join(f"{c} ({n} values)" for c, n in columns)
    return (f"{name}: the column{'s' if len(columns) > 1 else ''} {cols} look{'' if len(columns) > 1 else 's'} like "
            "item / location, but the detected column mapping does not use "
            f"{'them' if len(columns) > 1 else 'it'}: loading would merge those rows into one series, so nothing "
            "was loaded. Rename the columns (e.g. SKU_ID / Warehouse_ID, item / store), or map the columns on the "
            "Portfolio page.")
