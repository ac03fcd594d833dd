"""CSV export that spreadsheets cannot execute: the one writer behind every CSV the app and the CLI hand out.

A text cell beginning with = + - @ (or a tab / carriage return) is a formula to Excel, LibreOffice and Sheets
(`=cmd|' /C calc'!A0`); such cells get a leading apostrophe (OWASP's advice). Numbers are written as numbers.
"""
from __future__ import annotations

import csv
import io
from typing import Iterable

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """The value itself, or a quoted-out string when a text cell would start a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return "" if value is None else value


def csv_text(rows: Iterable[Iterable]) -> str:
    """Rows (the first may be the header) as CSV text with every cell passed through `safe_cell`."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return buf.getvalue()
