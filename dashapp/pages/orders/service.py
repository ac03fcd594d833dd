"""What /orders does, without Dash: read the three uploads with the engine, propose today's orders
(engine.studies.orders), keep the result and the planner's edited quantities in the session's store entry, and
build the grid rows and the ERP CSV from them.

Uploads arrive as base64 data URLs and are parsed by the engine's CSV readers only: nothing is unpickled and no
path from the browser is opened. The session entry is plain JSON (dashapp.platform.store).
"""
from __future__ import annotations

import datetime as _dt
import time as _time

from dashapp import engine_facade as E
from dashapp.ui.levels import levels_choice
from dashapp.ui.uploads import UploadRefused, decode_data_url, file_name
from dashapp.ui.validation import InputError, objective_choice, page_words
from dashapp.ui.validation import target_fill_rate as checked_target
from engine.data.items import item_terms, read_items
from engine.data.stock import read_stock
from engine.json_safe import json_safe
from engine.studies.orders import (
    OrderSettings,
    correction_checks,
    parse_order_date,
    propose_orders,
    purchase_order_csv,
)
from engine.studies.recommendation import objective_words

__all__ = ["OrdersInputError", "MAX_SERIES", "compute", "order_settings", "objective_words", "value_words",
           "session_key", "save", "load", "KIND", "follow", "apply_edit",
           "grid_rows", "export_csv", "default_date", "proposed_words", "line_count"]

# One proposal runs as a background job (no request timeout), bounded so that one planner's run holds a job worker
# for minutes, not hours; the command line takes any number.
MAX_SERIES = 500  # series of the stock file (about 0.3 s each on this 2-core machine: ~2.5 min)
MAX_CHECKED_SERIES = 3000  # fill-rate objective: series × distinct settings the out-of-time correction reads (the
#                            M5 store file's 280 series take ~9 s a correction: 3000 is ~1.5 min)


class OrdersInputError(ValueError):
    """An upload or setting the page cannot use; the message is shown as it is."""


def session_key(sid: str) -> str:
    return f"orders:{sid}"


def _decode(contents, filename, what: str, max_bytes: int) -> tuple[bytes, str]:
    name = file_name(filename or f"{what}.csv")
    try:
        return decode_data_url(contents, name, max_bytes), name
    except UploadRefused as exc:
        raise OrdersInputError(str(exc)) from None


def _sales(contents, filename, max_bytes: int):
    if not contents:
        return E.sample_dataset()
    raw, name = _decode(contents, filename, "sales", max_bytes)
    try:
        return E.load_upload(raw, name)
    except E.USER_ERRORS as exc:
        raise OrdersInputError(str(exc)) from None


def default_date(sales_contents, sales_filename, max_bytes: int) -> str | None:
    """The day after the sales file's last date (the bundled sample's without an upload); None if unreadable."""
    try:
        ds = _sales(sales_contents, sales_filename, max_bytes)
    except OrdersInputError:
        return None
    last = ds.summary().get("date_range")
    return None if not last else (_dt.date.fromisoformat(last[1]) + _dt.timedelta(days=1)).isoformat()


def order_settings(objective, target, levels=None) -> OrderSettings:
    """The recommendation's objective and fill-rate target from the page's fields, read as /portfolio and /optimum
    read them (the target is checked under either objective, so a typo is named before it could matter), and where
    the levels come from (`levels`: dashapp.ui.levels' choice, a global model: engine.studies.global_orders)."""
    try:
        s = OrderSettings(objective=objective_choice(objective), target_fill_rate=checked_target(target))
        levels = levels_choice(levels)
    except InputError as exc:
        raise OrdersInputError(str(exc)) from None
    s.forecaster = levels
    return s


def value_words(result: dict) -> str:
    """The proposed lines' value at unit cost, summed per currency (a file may price items in several): "worth
    8,966.88 EUR", "worth 1,200.00 EUR + 310.50 USD", "worth 8,966.88 (currency not named)"."""
    sums: dict = {}
    for o in result["orders"]:
        if o["order_qty"] > 0:
            cur = o.get("currency") or ""
            sums[cur] = sums.get(cur, 0.0) + float(o["order_value"])
    if not sums:
        return "worth 0"
    parts = [f"{v:,.2f} {c}" if c else f"{v:,.2f} (currency not named)" for c, v in sorted(sums.items())]
    return "worth " + " + ".join(parts)


def compute(sales, stock, items, date_text, max_bytes: int, settings: OrderSettings | None = None,
            progress=None) -> dict:
    """The proposals for the uploads: `sales`, `stock`, `items` are (contents, filename) pairs (sales and items may
    be (None, None): the bundled sample, no item file). OrdersInputError with the engine's message otherwise.
    `progress(done, total, label, long_step=False)`: engine.studies.orders.propose_orders'."""
    if not stock[0]:
        raise OrdersInputError("upload the stock file (item, location, on_hand, on_order, due_date) first")
    if not date_text:
        raise OrdersInputError("pick the order date")
    ds = _sales(*sales, max_bytes)
    try:
        date = parse_order_date(str(date_text)[:10])
        master = None
        if items[0]:
            raw, name = _decode(*items, "items", max_bytes)
            master = read_items(raw, name=name)
        raw, name = _decode(*stock, "stock", max_bytes)
        positions = read_stock(raw, ds, name=name)
        if len(positions) > MAX_SERIES:
            raise OrdersInputError(f"{name} has {len(positions):,} series; this page proposes at most {MAX_SERIES} "
                                   "at a time — split the stock file or use `python -m engine orders`")
        terms = item_terms(ds, master, checked=list(positions))
        checks = correction_checks(terms, positions, settings or OrderSettings())
        if checks * len(ds.series) > MAX_CHECKED_SERIES:
            raise OrdersInputError(
                f"the fill-rate objective corrects its target as /portfolio does, reading all {len(ds.series):,} "
                f"series of the sales file once for each of the {checks} distinct settings (lead time, order days, "
                "packs, MOQ, costs) of these items — more than this page computes in one run; choose least expected "
                "cost, or run `python -m engine orders --objective fill-rate`")
        result = propose_orders(ds, positions, terms, date, settings, progress=progress)
    except E.USER_ERRORS as exc:
        raise OrdersInputError(page_words(str(exc), {"--forecaster": "“Levels from”"})) from None
    result["files"] = {"sales": file_name(sales[1]) if sales[0] else "the bundled sample (data/sample.csv)",
                       "stock": file_name(stock[1]), "items": file_name(items[1]) if items[0] else None}
    result["saved_at"] = _time.time()
    return json_safe(result)


def save(store, sid: str, result: dict, edits: dict, ttl: int | None = None) -> None:
    store.put(session_key(sid), {"result": result, "edits": edits}, ttl=ttl)


# A proposal running for a session is a job of this kind in the job store, keyed by the session id: its status
# record (dashapp.ui.job_pages.Heartbeat) is what a page reloaded during the run follows.
KIND = "orders"


def follow(store, sid: str, started: float, status: dict | None) -> tuple[str, dict | None, dict]:
    """Where the proposal started at `started` stands for a page following it, from the session's running job's
    status record (None when none runs): ("running", status, {}), ("done", result, edits) when the session holds
    lines computed since the run started, or ("stopped", None, {})."""
    if status and float(status.get("started") or 0) == float(started):
        return "running", status, {}
    result, edits = load(store, sid)
    if result and float(result.get("saved_at") or 0) >= float(started):
        return "done", result, edits
    return "stopped", None, {}


def load(store, sid: str) -> tuple[dict | None, dict]:
    entry = store.get(session_key(sid)) or {}
    return entry.get("result"), dict(entry.get("edits") or {})


def apply_edit(result: dict, edits: dict, series: str, value) -> tuple[dict, str]:
    """Edits with `series` set to `value` units, and a sentence on it. A quantity back at the proposal drops the
    edit; one that is not whole packs or below the MOQ is kept (the planner decides) and said so."""
    line = next((o for o in result["orders"] if o["series"] == series), None)
    if line is None:
        raise OrdersInputError(f"no order line for {series!r}")
    try:
        qty = float(value)
    except (TypeError, ValueError):
        raise OrdersInputError(f"{series}: {value!r} is not a quantity") from None
    if not (0 <= qty <= 1e9) or qty != int(qty):
        raise OrdersInputError(f"{series}: {value!r} is not a whole number of units ≥ 0")
    qty = int(qty)
    edits = dict(edits)
    if qty == line["order_qty"]:
        edits.pop(series, None)
        return edits, f"{series}: back to the proposed {qty}"
    edits[series] = qty
    return edits, f"{series}: {qty} units (proposed {line['order_qty']}){edit_warning(line, qty)}"


def edit_warning(line: dict, qty: int) -> str:
    words = []
    if qty and qty % line["pack_size"]:
        words.append(f"not a multiple of the pack ({line['pack_size']})")
    if qty and qty < line["moq"]:
        words.append(f"below the MOQ ({line['moq']})")
    return "" if not words else " — " + " and ".join(words)


def grid_rows(result: dict | None, edits: dict) -> list[dict]:
    """One row per order line, the edited quantity in `order_qty` and the proposal beside it."""
    if not result:
        return []
    rows = []
    for o in result["orders"]:
        qty = edits.get(o["series"], o["order_qty"])
        rows.append({
            "series": o["series"], "order_qty": qty, "proposed_qty": o["order_qty"],
            "packs": qty // o["pack_size"] if qty % o["pack_size"] == 0 else round(qty / o["pack_size"], 2),
            "pack_size": o["pack_size"], "moq": o["moq"],
            "arrival_date": o["arrival_date"] or ((_dt.date.fromisoformat(o["order_date"])
                                                   + _dt.timedelta(days=o["lead_time"])).isoformat() if qty else None),
            "next_order_day": o["next_order_day"], "position": o["position"], "level": o["level"],
            "reason": o["reason"] + (f" [edited: {qty}{edit_warning(o, qty)}]" if o["series"] in edits else ""),
            "assumptions": "; ".join(o["assumption_notes"]) or "none",
            "value": qty * o["unit_cost"], "currency": o["currency"] or "(not named)",
            "edited": o["series"] in edits, **_promise(o.get("recommendation") or {}),
        })
    return rows


def _promise(rec: dict) -> dict:
    """What the series' policy gives on the recommendation's evaluation paths (resampled history, the same figures
    /portfolio shows): its fill rate and cost over those paths' days — the service the proposed level buys."""
    ev = rec.get("evaluation") or {}
    return {"fill_rate": rec.get("fill_rate"), "expected_cost": rec.get("expected_cost"),
            "cost_days": ev.get("days")}


def export_csv(result: dict, edits: dict) -> str:
    return purchase_order_csv(result["orders"], edits)


def line_count(n: int) -> str:
    """'1 order line', '4 order lines': the count the status and the summary both say."""
    return f"{n} order line{'' if n == 1 else 's'}"


def proposed_words(result: dict) -> str:
    """The status after Propose: the order lines (series with a quantity to order, as the summary counts them) and,
    when some series of the stock file order nothing today, how many — "5 order lines" beside a summary of 4 read
    as a contradiction."""
    series, lines = len(result["orders"]), int(result["totals"]["lines"])
    if lines == series:
        return f"Proposed {line_count(lines)}."
    rest = series - lines
    return (f"Proposed {line_count(lines)} for {series} series ({rest} with nothing to order today; "
            f"{'its row stays' if rest == 1 else 'their rows stay'} in the grid).")
