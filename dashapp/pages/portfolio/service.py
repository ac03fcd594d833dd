"""The /portfolio page's operations as plain Python (no Dash): receive a planner's daily file, show what
engine.data.layout detected, read it with the user's mapping (engine.data.dataset.load_csv, the one loader), run
engine.studies.portfolio on it (one process, or chunks over Celery workers through a runner the page passes in),
cache the result by file hash + mapping + settings, and turn records into grid rows, simulator links and the CSV
export.

Why a service: the page's callbacks only move values between components and these functions, so everything a
planner can get wrong (a bad upload, a mapping naming no column, a setting out of range) is tested without a browser.
The browser never names a path on the server and nothing is unpickled: an upload is kept as base64 text in a JSON
key-value store under the SHA-256 of its bytes, and read back only by that hash.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from dashapp.ui.uploads import UploadRefused, decode_data_url, file_name
from dashapp.ui.validation import BOUNDS, InputError, number, objective_choice
from dashapp.ui.validation import order_days as checked_days
from dashapp.ui.validation import target_fill_rate as checked_target
from engine.data.dataset import detect_layout, file_header, load_csv
from engine.data.layout import ROLES, ColumnMapping
from engine.errors import ConfigError, DataError
from engine.json_safe import json_safe
from engine.studies.portfolio import PortfolioSettings, check_margins, portfolio_totals, records_csv, run_portfolio

KIND = "portfolio"                 # the job store's kind for results and heartbeats
CHUNK = 50                         # series per chunk: a chunk is one progress step, one heartbeat, one Celery task
RESULT_VERSION = 1                 # part of the cache key: a change of the record layout invalidates old results
ROLE_LABELS = {"date": "Date", "item": "Item", "location": "Location", "demand": "Demand (units per day)",
               "price": "Unit price", "cost": "Unit cost", "promotion": "Promotion flag (0/1)",
               "lead_time": "Lead time (days)", "forecast": "Planning forecast", "inventory": "Stock on hand"}
_HASH = re.compile(r"^[0-9a-f]{64}$")


class PortfolioInputError(ValueError):
    """Something the user sent that cannot be used; str() is the message the page shows."""


@dataclass
class Inspection:
    """What the page shows after an upload: the file, its header, the detected mapping and the check of the whole
    file with that mapping (`problem` is the loader's message, None when the file reads as it is; when several
    columns could be the demand, it asks the user to pick one and `ambiguous` lists them)."""

    file_id: str
    name: str
    header: list[str]
    mapping: dict            # role -> column or None
    guessed: list[str]
    summary: str | None
    problem: str | None
    ambiguous: dict | None = None  # role -> the columns that could all be it

    def to_dict(self) -> dict:
        return {"file_id": self.file_id, "name": self.name, "header": self.header, "mapping": self.mapping,
                "guessed": self.guessed, "summary": self.summary, "problem": self.problem,
                "ambiguous": self.ambiguous or {}}


def pick_message(ambiguous: dict) -> str | None:
    """The mapping step's question when detection could not decide a role: names every candidate."""
    for role, cols in (ambiguous or {}).items():
        names = " and ".join(repr(c) for c in cols)
        return (f"{len(cols)} columns could be the {role}: {names}. Pick the one that holds "
                f"{'units sold or used per day' if role == 'demand' else 'the ' + role} under "
                f"“{ROLE_LABELS.get(role, role)}” and press Run.")
    return None


# -- the uploaded file ---------------------------------------------------------------------------------------------
def decode_upload(contents, filename, max_bytes: int) -> tuple[str, bytes]:
    """(file name, bytes) of a data-URL upload; PortfolioInputError for anything that is not one."""
    name = file_name(filename)
    try:
        raw = decode_data_url(contents, name, max_bytes)
    except UploadRefused as exc:
        raise PortfolioInputError(str(exc)) from None
    if not raw.strip():
        raise PortfolioInputError(f"{name}: the file is empty")
    return name, raw


def file_id(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def keep_file(files, name: str, raw: bytes) -> str:
    """Store the upload (JSON: name + base64) under its hash; returns the hash."""
    fid = file_id(raw)
    files.put(f"file:{fid}", {"name": name, "b64": base64.b64encode(raw).decode("ascii")})
    return fid


def kept_file(files, fid) -> tuple[str, bytes]:
    """(name, bytes) of a kept upload; PortfolioInputError when the id is malformed or the file has expired."""
    if not isinstance(fid, str) or not _HASH.match(fid):
        raise PortfolioInputError("no uploaded file: upload a CSV first")
    stored = files.get(f"file:{fid}")
    if not stored:
        raise PortfolioInputError("the uploaded file has expired from the server: upload it again")
    return stored["name"], base64.b64decode(stored["b64"])


def _summary(ds) -> str:
    lengths = [len(s) for s in ds.series.values()]
    first = min((s.dates[0] for s in ds.series.values() if s.dates), default=None)
    last = max((s.dates[-1] for s in ds.series.values() if s.dates), default=None)
    return (f"{len(lengths):,} series, {sum(lengths):,} days in all"
            + (f", {first} to {last}" if first else "") + ".")


def inspect_upload(files, contents, filename, max_bytes: int) -> Inspection:
    """Decode, keep and inspect an upload: the detected mapping, and whether the whole file reads with it."""
    name, raw = decode_upload(contents, filename, max_bytes)
    try:
        header = file_header(raw, name, max_bytes=len(raw))  # the upload's own limit was applied on decoding
        mapping = detect_layout(raw, name, max_bytes=len(raw))
    except DataError as exc:
        raise PortfolioInputError(f"Upload refused — {exc}") from None
    fid = keep_file(files, name, raw)
    summary, problem = None, pick_message(mapping.ambiguous)
    if problem is None:
        try:
            ds = load_csv(raw, name=name, columns=mapping, max_bytes=len(raw))
            summary = _summary(ds)
            check_margins(ds.series.values())  # said on upload, not only when a run starts
        except DataError as exc:
            problem = str(exc)
    return Inspection(fid, name, header, {r: getattr(mapping, r) for r in ROLES}, list(mapping.guessed), summary,
                      problem, dict(mapping.ambiguous))


def mapping_from_choices(choices: dict, header: list[str]) -> ColumnMapping:
    """The user's mapping (role -> column or None) checked against the header: every column named exists, no
    column plays two roles, the demand is set."""
    m = ColumnMapping()
    seen: dict[str, str] = {}
    for role in ROLES:
        col = (choices or {}).get(role)
        if col in (None, ""):
            continue
        if not isinstance(col, str) or col not in header:
            raise PortfolioInputError(f"{ROLE_LABELS[role]}: {str(col)[:60]!r} is not a column of the file")
        if col in seen:
            raise PortfolioInputError(f"column {col!r} is mapped twice ({ROLE_LABELS[seen[col]]} and "
                                      f"{ROLE_LABELS[role]}); choose one role for it")
        seen[col] = role
        setattr(m, role, col)
    missing = [ROLE_LABELS[r] for r in m.missing_required()]
    if missing:
        raise PortfolioInputError(f"choose the column for {' and '.join(missing)}")
    m.unused = [h for h in header if h not in seen]
    return m


def read_dataset(files, fid, choices: dict, fill_missing_zero: bool):
    """The kept file read with the user's mapping (engine.data.dataset.load_csv); PortfolioInputError with the
    engine's message when it cannot be read."""
    name, raw = kept_file(files, fid)
    try:
        mapping = mapping_from_choices(choices, file_header(raw, name, max_bytes=len(raw)))
        ds = load_csv(raw, name=name, columns=mapping, fill_missing_zero=bool(fill_missing_zero), max_bytes=len(raw))
        check_margins(ds.series.values())  # refused at Run, before a job starts
        return ds
    except DataError as exc:
        raise PortfolioInputError(str(exc)) from None


# -- settings, cache key, run -------------------------------------------------------------------------------------
def supplier_rules_from_form(moq=None, pack_size=None, order_cost=None, order_days=None) -> dict:
    """The supplier's rules from the page's fields, as PortfolioSettings' moq, pack_size, order_cost, order_days:
    blank MOQ / K = 0, blank pack = any quantity, none or all days checked = every day (the simulator page's rules,
    dashapp.ui.validation); PortfolioInputError naming the field otherwise."""
    try:
        out = {"moq": number("moq", moq, optional=True) or 0.0,
               "pack_size": number("pack_size", pack_size, integer=True, optional=True),
               "order_cost": number("order_cost", order_cost, optional=True) or 0.0,
               "order_days": checked_days(order_days) or None}
    except InputError as exc:
        raise PortfolioInputError(str(exc)) from None
    return out


def settings_from_form(lead_time, replications, days, objective, target_fill_rate, **rules) -> PortfolioSettings:
    """PortfolioSettings from the page's fields (blank lead time: the file's lead-time column, else the default);
    `rules`: the supplier-rule fields of supplier_rules_from_form."""
    def whole(label, raw, blank_ok=False):
        if raw in (None, ""):
            if blank_ok:
                return None
            raise PortfolioInputError(f"{label}: a value is required")
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise PortfolioInputError(f"{label}: {str(raw)[:40]!r} is not a number") from None
        if value != int(value):
            raise PortfolioInputError(f"{label}: {raw!r} must be a whole number")
        return int(value)

    try:
        objective, target = objective_choice(objective), checked_target(target_fill_rate)
    except InputError as exc:
        raise PortfolioInputError(str(exc)) from None
    s = PortfolioSettings(lead_time=whole("lead time", lead_time, blank_ok=True),
                          replications=whole("replications", replications), days=whole("days", days),
                          objective=objective, target_fill_rate=target,
                          **supplier_rules_from_form(**rules))
    try:
        return s.validate()
    except ConfigError as exc:
        text = str(exc)
        for name in s.to_dict():
            text = text.replace(f"--{name.replace('_', '-')}", name.replace("_", " "))
        raise PortfolioInputError(text) from None


def settings_from_dict(d: dict) -> PortfolioSettings:
    allowed = set(PortfolioSettings().to_dict())
    try:
        return PortfolioSettings(**{k: v for k, v in dict(d).items() if k in allowed}).validate()
    except (TypeError, ConfigError) as exc:
        raise PortfolioInputError(f"bad settings: {exc}") from None


def key_settings(settings: dict) -> dict:
    """Settings as a cache key reads them: every number a float. The settings reach the job through the browser,
    whose JSON writes 0.0 as 0, and the page and the job must compute one key."""
    return {k: float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v for k, v in settings.items()}


def result_key(fid: str, mapping: ColumnMapping, fill_missing_zero: bool, settings: PortfolioSettings) -> str:
    """The cache key: the file's hash, the mapping, "missing = zero" and every setting."""
    text = json.dumps({"v": RESULT_VERSION, "file": fid, "mapping": mapping.used(), "fill": bool(fill_missing_zero),
                       "settings": key_settings(settings.to_dict())}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def valid_key(key) -> bool:
    return isinstance(key, str) and re.fullmatch(r"[0-9a-f]{40}", key) is not None


ChunkRunner = Callable[[list, PortfolioSettings, Callable[[int, int], None]], list]


def chunk_size(settings: PortfolioSettings) -> int:
    """Series per chunk: CHUNK at the default 20 replications × 90 days (~0.6 s a chunk here), fewer for longer
    runs, so that progress and the job's heartbeat (a reloaded page takes a job silent for 10 s as dead) keep
    coming."""
    return max(1, min(CHUNK, int(CHUNK * 20 * 90 / (settings.replications * settings.days))))


def run_records(series: list, settings: PortfolioSettings, progress: Callable[[int, int], None],
                runner: ChunkRunner | None = None) -> list[dict]:
    """Records for every series, in file order: engine.studies.portfolio in this process, or `runner` (the Celery
    chunk dispatcher of dashapp.platform.portfolio_workers) — both run engine.studies.portfolio.run_chunk on the same
    chunks."""
    if runner is not None:
        return runner(series, settings, progress)
    return run_portfolio(series, settings, progress=progress, chunk=chunk_size(settings))


def compute(dataset, settings: PortfolioSettings, key: str, progress: Callable[[int, int], None],
            runner: ChunkRunner | None = None, where: str = "this server process") -> dict:
    """The cached result: records, totals, the settings and file, how long it took and where it ran."""
    t0 = time.perf_counter()
    series = list(dataset.series.values())
    records = run_records(series, settings, progress, runner)
    return json_safe({"key": key, "file": dataset.name, "mapping": dataset.layout.used(),
                      "settings": settings.to_dict(), "records": records, "totals": portfolio_totals(records),
                      "elapsed_s": time.perf_counter() - t0, "ran_on": where})


def share_with_simulator(store, sid: str, dataset) -> None:
    """Make the file this session's uploaded data on the simulator page (the same entry a simulator upload
    writes), so a link from the grid opens a series that exists there."""
    from dashapp import engine_facade as E

    E.keep_upload(store, sid, dataset)


# -- what the grid and the export show -----------------------------------------------------------------------------
SIMULATOR_LEAD_TIME_MAX = int(BOUNDS["lead_time"][1])   # the simulator page's bound (the engine's own)


def simulator_link(record: dict) -> str:
    """The simulator page on this series with the recommendation: the uploaded file as data, the chosen
    forecaster, the lead time, and the recommended policy — an (r, Q) winner as the simulator's r-Q with its r and
    Q, an order-up-to winner as the simulator's order-up-to with the record's fixed safety quantile Q (the very
    rule: S = forecast + Q·√max(forecast, floor), moving with the forecast day by day; OrderUpTo.safety_quantile),
    an (s, S) winner as a static (s, S) at today's s and S; and the supplier's rules the recommendation was chosen
    under."""
    query = {"data_source": "upload", "series": record["series"], "forecaster": record["forecaster"],
             "lead_time": min(int(record["lead_time"]), SIMULATOR_LEAD_TIME_MAX)}
    if record.get("policy") == "r-Q":
        query.update(policy="r-Q", policy_s=round(float(record["reorder_point"]), 2),
                     policy_q=round(float(record["order_quantity"]), 2))
    elif record.get("policy") == "s-S":   # the K-aware winner as a static (s, S) at today's s and S
        query.update(policy="s-S", policy_s=round(float(record["reorder_point"]), 2),
                     policy_level=round(float(record["order_up_to"]), 2))
    else:
        query.update(policy="order-up-to", param_safety_quantile=round(float(record["relative_error_quantile"]), 4))
    query["horizon"] = min(int(record["days"]), 730)
    rules = (record.get("recommendation") or {}).get("order_rules") or {}  # the supplier's rules it was chosen under
    query.update({k: rules[k] for k in ("moq", "pack_size", "order_cost") if rules.get(k)})
    if rules.get("order_days"):
        query["order_days"] = ";".join(rules["order_days"])
    return "/?" + urlencode(query)


def export_csv(result: dict) -> str:
    """The recommendations as formula-safe CSV (engine.studies.portfolio.records_csv -> engine.data.csv_safe)."""
    return records_csv(result.get("records") or [])
