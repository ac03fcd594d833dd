"""The bad-input corpus: malformed and hostile data files, built at test time into a temporary directory.

Why built, not committed: several cases are large (a 1 GB sparse file, 10^6 columns, a million rows) and must
never enter the repository; building them from code also documents exactly what each file contains.

Every case says what a user must get:
- ``reject``: a clear, one-line refusal (CLI exit code 2, the upload page's message) naming the file and,
  through ``names``, the column / value / row the engine issue asks to be named;
- ``either``: the file may be accepted (it is well-formed enough) or refused, but never with a traceback,
  never by running out of memory, and only within the time the test allows.
``pickle_marker`` cases are pickles that would create a marker file if anything unpickled them.
"""
from __future__ import annotations

import gzip
import io
import os
import pickle
import random
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

HEADER = ("Date,SKU_ID,Warehouse_ID,Supplier_ID,Region,Units_Sold,Inventory_Level,Supplier_Lead_Time_Days,"
          "Reorder_Point,Order_Quantity,Unit_Cost,Unit_Price,Promotion_Flag,Stockout_Flag,Demand_Forecast")
LEGACY_HEADER = "Units_Sold,Inventory_Level,Order_Quantity,Unit_Cost,Unit_Price,Demand_Forecast"
GOOD_ROWS = 120  # comfortably more than any forecaster's context window
SIZE_WORDS = ("MB", "bytes", "size", "large", "limit")  # any one of them names a size refusal


def _date(i: int) -> str:
    """ISO date i days after 2024-01-01 (no datetime import needed for 2024's 366 days)."""
    import datetime as _dt
    return (_dt.date(2024, 1, 1) + _dt.timedelta(days=i)).isoformat()


def good_row(i: int, units: object = None, sku: str = "SKU_1", wh: str = "WH_1", date: str | None = None,
             region: str = "West") -> str:
    """One well-formed row of the public schema; ``units`` overrides Units_Sold (as text)."""
    u = (10 + (i * 7) % 21) if units is None else units
    d = _date(i) if date is None else date
    return (f"{d},{sku},{wh},SUP_8,{region},{u},500,14,379,0,13.95,20.48,{1 if i % 10 == 0 else 0},0,"
            f"{(10 + (i * 7) % 21) * 1.05:.2f}")


def good_csv(rows: int = GOOD_ROWS, **overrides: Callable[[int], str]) -> str:
    """A valid file of ``rows`` rows; ``overrides[str(i)]`` may replace row i (0-based data row)."""
    lines = [HEADER]
    for i in range(rows):
        fn = overrides.get(str(i))
        lines.append(fn(i) if fn else good_row(i))
    return "\n".join(lines) + "\n"


def _with_row(i_bad: int, make: Callable[[int], str], rows: int = GOOD_ROWS) -> bytes:
    return good_csv(rows, **{str(i_bad): make}).encode()


def _minimal_xlsx() -> bytes:
    """A real (minimal) Office Open XML workbook: a zip with the parts Excel writes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/'
                   '2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument'
                   '.spreadsheetml.sheet.main+xml"/></Types>')
        z.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                   'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/'
                   'spreadsheetml/2006/main"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1" '
                   'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"/></sheets>'
                   '</workbook>')
        rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{10 + r}</v></c></row>' for r in range(2, 40))
        z.writestr("xl/worksheets/sheet1.xml", '<?xml version="1.0"?><worksheet xmlns="http://schemas.'
                   'openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr">'
                   f'<is><t>Units_Sold</t></is></c></row>{rows}</sheetData></worksheet>')
    return buf.getvalue()


def _ole2_xls() -> bytes:
    """The header of a legacy .xls (OLE2 compound document) followed by sector padding."""
    header = bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 16 + struct.pack("<HH", 0x3E, 0x3)
    return header + b"\xfe\xff" + b"\x00" * (512 - len(header) - 2) + os.urandom(4096)


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 8 for _ in range(8))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


class _MarkerPayload:
    """Unpickling this creates the marker file: proof that something unpickled client data."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _gzip_bomb(path: Path, decompressed_bytes: int) -> None:
    """Gzip of a valid header followed by ``decompressed_bytes`` of digits-and-newlines, streamed to disk."""
    block = ("7\n" * 32768).encode()
    with gzip.open(path, "wb", compresslevel=9) as fh:
        fh.write(b"Units_Sold\n")
        for _ in range(decompressed_bytes // len(block)):
            fh.write(block)


@dataclass
class Case:
    """One corpus file: where it is, what a user must get, and what the message must name."""

    name: str
    path: Path
    expect: str  # "reject" | "either"
    # substrings (case-insensitive) the message must contain; a tuple means "any one of these"
    names: list[str | tuple[str, ...]] = field(default_factory=list)
    why: str = ""
    big: bool = False  # too big to send through the upload UI as a whole (tested by declared size instead)
    # a file that validates but cannot be simulated: `simulate --data FILE` must refuse naming these
    simulate_names: list[str | tuple[str, ...]] | None = None
    pickle_marker: Path | None = None

    def missing_names(self, message: str, names: list | None = None) -> list[str]:
        """The required names that ``message`` does not contain (empty when it names everything)."""
        low = message.lower()
        missing = []
        for want in (self.names if names is None else names):
            alts = want if isinstance(want, tuple) else (want,)
            if not any(a.lower() in low for a in alts):
                missing.append(" or ".join(alts))
        return missing

    @property
    def size(self) -> int:
        return self.path.stat().st_size


def build_corpus(root: Path, dry: bool = False) -> list[Case]:
    """Write every corpus file under ``root`` and return the cases (≥ 30); ``dry``: only list them."""
    if not dry:
        root.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []

    def add(name: str, content: bytes | None, expect: str, names: list | None = None, why: str = "",
            big: bool = False) -> Case:
        p = root / name
        if content is not None and not dry:
            p.write_bytes(content)
        c = Case(name=name, path=p, expect=expect, names=list(names or []), why=why, big=big)
        cases.append(c)
        return c

    # --- the engine issue's list -----------------------------------------------------------------------------
    add("empty.csv", b"", "reject", why="zero bytes")
    add("header_only.csv", (HEADER + "\n").encode(), "reject", why="a header and no rows")
    add("whitespace_only.csv", b"   \n\n \t \n", "reject", why="blank lines only")
    add("semicolon_delimiter.csv", good_csv().replace(",", ";").encode(), "either",
        why="European Excel export: ';' instead of ',' (the loader sniffs the separator)")
    add("tab_delimiter.csv", good_csv().replace(",", "\t").encode(), "either",
        why="TSV saved as .csv (the loader sniffs the separator)")
    add("missing_units_sold.csv", good_csv().replace("Units_Sold", "Quantity_Ordered").encode(), "reject",
        [("Units_Sold", "demand")], why="no column that could be the demand")
    add("text_in_number.csv", _with_row(40, lambda i: good_row(i, units="twelve")), "reject",
        ["Units_Sold", "twelve", "42"], why="text in Units_Sold on line 42")
    add("negative_demand.csv", _with_row(10, lambda i: good_row(i, units=-3)), "reject", ["Units_Sold", "-3", "12"],
        why="negative demand on line 12")
    add("nan_demand.csv", _with_row(20, lambda i: good_row(i, units="NaN")), "reject", ["Units_Sold", "22"],
        why="NaN demand on line 22")
    add("blank_demand.csv", _with_row(30, lambda i: good_row(i, units="")), "reject", ["Units_Sold", "32"],
        why="an empty Units_Sold cell on line 32")
    add("infinite_demand.csv", _with_row(50, lambda i: good_row(i, units="inf")), "reject", ["Units_Sold", "52"],
        why="'inf' on line 52")
    add("overflow_demand.csv", _with_row(60, lambda i: good_row(i, units="1e400")), "reject", ["Units_Sold", "62"],
        why="1e400 parses to infinity")
    add("duplicate_dates.csv", _with_row(7, lambda i: good_row(i, date=_date(6))), "reject", [_date(6)],
        why="the same date twice in one series")
    add("unsorted_dates.csv", _with_row(9, lambda i: good_row(i, date=_date(200))), "reject", ["date"],
        why="one date out of order")
    add("impossible_date.csv", _with_row(5, lambda i: good_row(i, date="2024-02-30")), "reject", ["2024-02-30"],
        why="a date that does not exist")
    add("too_few_rows.csv", good_csv(rows=3).encode(), "either",
        why="3 rows: may validate, but too few for any window: simulating it is refused"
        ).simulate_names = ["3 rows", ("window", "context", "needs")]
    add("binary_random.csv", random.Random(7).randbytes(64 * 1024), "reject", why="random bytes")
    add("utf8_bom.csv", b"\xef\xbb\xbf" + good_csv().encode(), "either",
        why="UTF-8 with byte-order mark (Excel's 'CSV UTF-8'): should load; if refused, clearly")
    # 100 MB of otherwise valid rows: refused by the size limit before parsing.
    if not dry:
        with open(root / "rows_100mb.csv", "wb") as fh:
            fh.write((HEADER + "\n").encode())
            block = ("\n".join(good_row(i % 360) for i in range(2000)) + "\n").encode()
            while fh.tell() < 100 * 2**20:
                fh.write(block)
    add("rows_100mb.csv", None, "reject", [SIZE_WORDS], why="100 MB of rows: over the size limit", big=True)

    # --- the evidence issue's additions ----------------------------------------------------------------------
    add("excel_xlsx_renamed.csv", _minimal_xlsx(), "reject", why="an .xlsx workbook renamed .csv")
    add("excel_xls_renamed.csv", _ole2_xls(), "reject", why="a legacy .xls (OLE2) renamed .csv")
    add("gzip_valid.csv", gzip.compress(good_csv().encode()), "either",
        why="a gzip-compressed CSV (may be refused, or decompressed within the size limit)")
    if not dry:
        _gzip_bomb(root / "gzip_bomb.csv", 512 * 2**20)
    add("gzip_bomb.csv", None, "reject", why="~0.5 MB of gzip that inflates to 512 MB")
    if not dry:
        with open(root / "sparse_1gb.csv", "wb") as fh:  # sparse: 1 GB apparent size, no data blocks written
            fh.truncate(2**30)
    add("sparse_1gb.csv", None, "reject", [SIZE_WORDS], why="1 GB sparse file (NUL bytes)", big=True)
    if not dry:
        with open(root / "million_columns.csv", "w") as fh:
            fh.write("Units_Sold," + ",".join(f"c{j}" for j in range(1, 10**6)) + "\n")
            zeros = ",0" * (10**6 - 1)
            for i in range(5):
                fh.write(f"{10 + i}{zeros}\n")
    add("million_columns.csv", None, "either", why="10^6 columns (5 rows): refused, or loaded and refused on simulate"
        ).simulate_names = ["5 rows"]
    add("formula_injection_text.csv",
        good_csv(**{str(i): (lambda i: good_row(i, sku="=cmd|' /C calc'!A0")) for i in range(GOOD_ROWS)}).encode(),
        "either", why="=cmd|... as SKU_ID: may load (exports must neutralise it) or be refused")
    add("formula_injection_region.csv",
        good_csv(**{str(i): (lambda i: good_row(i, region="=HYPERLINK(\"http://x\";\"y\")"))
                    for i in range(GOOD_ROWS)}).encode(),
        "either", why="=HYPERLINK in a text column of every row")
    add("formula_injection_number.csv", _with_row(3, lambda i: good_row(i, units="=cmd|' /C calc'!A0")), "reject",
        ["Units_Sold", "5"], why="=cmd|... in Units_Sold on line 5")
    add("formula_prefixes.csv", _with_row(4, lambda i: good_row(i, units="@SUM(1+1)")), "reject", ["Units_Sold"],
        why="@SUM in Units_Sold")
    long_field = "A" * (8 * 2**20)
    add("very_long_line.csv", _with_row(2, lambda i: good_row(i, region=long_field)), "either",
        why="one 8 MB field on line 4")
    add("very_long_number.csv", _with_row(2, lambda i: good_row(i, units="9" * 500_000)), "reject",
        [("Units_Sold", "row 4", "line 4")], why="a 500,000-digit number on line 4")
    mixed = good_csv(**{str(i): (lambda i: good_row(i, region="Zürich")) for i in range(0, GOOD_ROWS, 2)}).encode()
    mixed = mixed.replace("Zürich".encode(), "Zürich".encode("latin-1"), 10)  # first 10 in latin-1, rest UTF-8
    add("mixed_encodings.csv", mixed, "either", why="UTF-8 and latin-1 rows in one file")
    add("utf16.csv", good_csv().encode("utf-16"), "either", why="UTF-16 with BOM (Excel 'Unicode text')")
    add("nul_bytes.csv", good_csv().replace("West", "We\x00st", 5).encode(), "either",
        why="NUL bytes inside a text field")
    add("unbalanced_quote.csv", _with_row(8, lambda i: good_row(i, region='"West')), "either",
        why="an opening quote that never closes")
    add("html_error_page.csv", b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>"
        b"<h1>Bad Gateway</h1></body></html>\n", "reject", why="an HTML page saved as .csv")
    marker = root / "UNPICKLED_MARKER"
    c = add("pickle_renamed.csv", pickle.dumps(_MarkerPayload(str(marker))), "reject",
            why="a pickle whose unpickling would create a marker file")
    c.pickle_marker = marker
    add("legacy_text_in_number.csv",
        (LEGACY_HEADER + "\n" + "".join(f"{v},700,0,13.95,20.48,14.2\n"
                                        for v in ["24"] * 12 + ["abc"] + ["16"] * 17)).encode(),
        "reject", ["abc"], why="the original app's 30-day format with text in Units_Sold (line 14)")
    bad_series = good_csv() + "".join(good_row(i, wh="WH_2", units=(-1 if i == 33 else None)) + "\n"
                                      for i in range(GOOD_ROWS))
    add("one_bad_series.csv", bad_series.encode(), "reject", ["-1"],
        why="second series has -1: all-or-nothing, nothing half-loaded")
    if not dry:
        with open(root / "million_rows_one_series.csv", "w") as fh:
            fh.write("Units_Sold\n")
            chunk = "".join(f"{10 + (i * 7) % 21}\n" for i in range(10_000))
            for _ in range(100):
                fh.write(chunk)
    add("million_rows_one_series.csv", None, "either", why="10^6 rows of one series (~3 MB)")
    if not dry:
        with open(root / "many_series.csv", "w") as fh:
            fh.write(HEADER + "\n")
            for k in range(5000):
                fh.write("".join(good_row(i, sku=f"SKU_{k}") + "\n" for i in range(40)))
    add("many_series.csv", None, "either", why="5,000 series of 40 rows each")
    add("crlf_mixed_endings.csv", good_csv().replace("\n", "\r\n", 60).encode(), "either",
        why="CRLF and LF line endings mixed")
    add("path_traversal_name..%2f..%2fetc%2fpasswd.csv", good_csv(rows=GOOD_ROWS).encode(), "either",
        why="a file name that looks like a path: never used as a path")
    return cases


def case_names() -> list[str]:
    """The corpus file names, without writing anything (for test parametrisation)."""
    return [c.name for c in build_corpus(Path("/nonexistent-dry-run"), dry=True)]


if __name__ == "__main__":  # python -m tests.evidence.corpus DIR: build the corpus to look at it
    import sys
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "corpus_out")
    for case in build_corpus(out):
        print(f"{case.expect:6} {case.size:>12,} {case.name}  ({case.why})")
