"""Would an uploaded file's series be merged? The simulator reads series keys only from SKU_ID and Warehouse_ID
(engine.data.dataset.load_csv); a planner file whose item / location columns carry other names ("Artikel", "store")
would
load as one series of every row mixed together. This check finds such columns so the upload is refused with their
names, and the page points to /portfolio, which maps any column layout (engine.data.layout). No dash.
"""
from __future__ import annotations

import csv
import io

from engine.data.dataset import COLUMNS
from engine.data.layout import detect_columns

KEY_COLUMNS = ("SKU_ID", "Warehouse_ID")
MAX_ROWS_READ = 200_000


def _looks_like_text_key(values: set[str]) -> bool:
    """Identifiers rather than numbers or dates: most distinct values are neither a number nor a date."""
    def plain(v: str) -> bool:
        try:
            float(v)
            return True
        except ValueError:
            return len(v) >= 8 and v[:4].isdigit() and v[4] in "-/."  # 2024-01-31, 2024/01/31
    sample = list(values)[:50]
    return sum(not plain(v) for v in sample) > len(sample) / 2


def merged_key_columns(raw: bytes) -> list[tuple[str, int]]:
    """[(column, distinct values)] of the columns the simulator ignores that look like an item or location and
    take several values inside one of its series (so loading would merge those rows). [] when nothing merges."""
    try:
        return _merged(csv.reader(io.StringIO(raw.decode("utf-8-sig", errors="replace"), newline="")))
    except (StopIteration, csv.Error):
        return []  # not a CSV the simulator could merge: the engine's own check names what is wrong


def _merged(reader) -> list[tuple[str, int]]:
    header = [h.strip() for h in next(reader)]
    ignored = [i for i, h in enumerate(header) if h and h not in COLUMNS]
    if not ignored:
        return []
    guessed = detect_columns([header[i] for i in ignored])
    named = {guessed.item, guessed.location} - {None}
    keys = [header.index(k) for k in KEY_COLUMNS if k in header]
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
        if varies and (header[i] in named or _looks_like_text_key(values - {""})):
            out.append((header[i], len(values - {""})))
    return out


def merge_message(name: str, columns: list[tuple[str, int]]) -> str:
    """The refusal: which columns look like item / location, and the two ways on."""
    cols = " and ".join(f"{c} ({n} values)" for c, n in columns)
    return (f"{name}: the column{'s' if len(columns) > 1 else ''} {cols} look{'' if len(columns) > 1 else 's'} like "
            f"item / location, but the simulator reads series only from {KEY_COLUMNS[0]} and {KEY_COLUMNS[1]}: "
            "loading would merge those rows into one series, so nothing was loaded. Rename the columns to "
            f"{KEY_COLUMNS[0]} / {KEY_COLUMNS[1]}, or map the columns on the Portfolio page.")
