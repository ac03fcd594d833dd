"""Per-session simulation service: signed session ids, control validation, and the operations the simulator
page performs (start, pause/resume, step, reset, tick) on the state kept in the server-side store.

Callbacks stay thin: they call these functions and render what they return. Nothing here imports dash.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import math
import os
import secrets
import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

from dashapp.config import REPO_ROOT, resolve_secret_key, settings
from engine.csv_safe import csv_text

RECORD_VERSION = 2
MAX_LOG = 200  # event-log entries kept on the page (the full ledger downloads as CSV)
SAMPLE_PATH = Path(os.environ.get("SIM_SAMPLE_DATA") or REPO_ROOT / "data" / "sample.csv")

# Bounds the page offers; the server enforces them too (forged requests never reach the engine unchecked).
BOUNDS = {
    "horizon": (1, 730),
    "lead_time": (0, 30),
    "holding_rate": (0.0, 5.0),
    "noise": (0.0, 2.0),
    "speed": (0.05, 5.0),
    "seed": (0, 2**32 - 1),
    "unit_cost": (0.0, 1e7),
    "unit_price": (0.0, 1e7),
    "stockout_cost": (0.0, 1e7),
    "initial_inventory": (0.0, 1e9),
    "service_level": (0.5, 0.9999),
    "policy_level": (0.0, 1e9),
    "policy_s": (0.0, 1e9),
    "policy_q": (0.0, 1e9),
}
DEMAND_MODES = {"replay": "Replay the data", "synthetic": "Synthetic (generator)",
                "forecast-noise": "Forecast + noise (original app)"}
POLICIES = {"order-up-to": "Order-up-to S = μ + zσ", "base-stock": "Constant base-stock S",
            "s-S": "(s, S)", "r-Q": "(r, Q)", "original": "Original app's rule (for comparison)"}
DEFAULT_CONTROLS = {
    "data_source": "sample", "series": None, "forecaster": "ma7", "policy": "order-up-to",
    "demand_mode": "replay", "horizon": 90, "lead_time": 7, "holding_rate": 0.25, "noise": 0.1,
    "speed": 0.3, "seed": 42, "unit_cost": None, "unit_price": None, "stockout_cost": None,
    "backorders": False, "initial_inventory": None, "service_level": None,
    "policy_level": None, "policy_s": None, "policy_q": None,
}


class InputError(ValueError):
    """A control value the server refuses; str() names the field and the value."""


# ---------------------------------------------------------------- session ids
_key_lock = threading.Lock()
_key: bytes | None = None


def _secret() -> bytes:
    global _key
    with _key_lock:
        if _key is None:
            _key = resolve_secret_key(settings).encode()
        return _key


def _tag(token: str) -> str:
    mac = hmac.new(_secret(), token.encode(), hashlib.sha256).digest()[:12]
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def new_session_id() -> str:
    """192 random bits plus an HMAC tag, so forged ids are recognised without a store lookup."""
    token = secrets.token_urlsafe(24)
    return f"{token}.{_tag(token)}"


def valid_session_id(sid) -> bool:
    if not isinstance(sid, str) or len(sid) > 80 or sid.count(".") != 1:
        return False
    token, tag = sid.split(".")
    return len(token) >= 32 and hmac.compare_digest(tag, _tag(token))


# ---------------------------------------------------------------- engine access (cached per process)
def engine_api():
    """The engine's public pieces (imported lazily so the app starts even while the engine is incomplete)."""
    from engine import data as edata
    from engine.errors import ConfigError, DataError
    from engine.forecast import registry
    from engine.simulator import SimConfig, Simulator

    try:
        import engine.policy_original  # noqa: F401  registers the original app's rule ("original")
    except ImportError:
        pass
    return edata, registry, SimConfig, Simulator, ConfigError, DataError


def default_forecaster() -> str:
    """The bundled ensemble when models/default is servable, else the 7-day moving average."""
    try:
        _, registry, *_ = engine_api()
        return registry.default_forecaster_name()
    except Exception:  # noqa: BLE001 - engine not importable: the page says so on Start
        return "ma7"


def new_controls() -> dict:
    return dict(DEFAULT_CONTROLS, forecaster=default_forecaster())


def forecaster_options() -> list[dict]:
    _, registry, *_ = engine_api()
    return [{"label": f["label"], "value": f["name"]} for f in registry.list_forecasters()]


def policy_options() -> dict[str, str]:
    engine_api()
    from engine.policy import policy_names

    return {name: POLICIES.get(name, name) for name in policy_names()}


@lru_cache(maxsize=1)
def sample_dataset():
    edata, *_ = engine_api()
    return edata.load_csv(str(SAMPLE_PATH), name="sample.csv")


# ---------------------------------------------------------------- control validation
def _number(field: str, raw, integer: bool = False, optional: bool = False):
    label = field.replace("_", " ")
    if raw is None or raw == "":
        if optional:
            return None
        raise InputError(f"{label}: a value is required")
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise InputError(f"{label}: {str(raw)[:40]!r} is not a number")
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise InputError(f"{label}: {str(raw)[:40]!r} is not a number") from None
    if not math.isfinite(value):
        raise InputError(f"{label}: {raw!r} is not a finite number")
    lo, hi = BOUNDS[field]
    if not lo <= value <= hi:
        raise InputError(f"{label}: {raw!r} is out of range ({lo:g} to {hi:g})")
    if integer:
        if value != int(value):
            raise InputError(f"{label}: {raw!r} must be a whole number")
        return int(value)
    return value


def _number_in(label: str, raw, bounds: tuple, integer: bool = False):
    """A number within bounds for controls outside BOUNDS (InputError naming the label otherwise)."""
    if raw is None or raw == "" or isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise InputError(f"{label}: {str(raw)[:40]!r} is not a number")
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"{label}: {str(raw)[:40]!r} is not a number") from None
    lo, hi = bounds
    if not math.isfinite(value) or not lo <= value <= hi:
        raise InputError(f"{label}: {raw!r} is out of range ({lo:g} to {hi:g})")
    if integer and value != int(value):
        raise InputError(f"{label}: {raw!r} must be a whole number")
    return int(value) if integer else value


def _choice(field: str, raw, allowed) -> str:
    if not isinstance(raw, str) or raw not in allowed:
        raise InputError(f"{field.replace('_', ' ')}: {str(raw)[:60]!r} is not one of the offered choices")
    return raw


def clean_controls(raw: dict, upload_keys: list[str] | None = None) -> dict:
    """Validate every control value from the page (or a forged request); raises InputError with a message."""
    c = {}
    names = {f["value"] for f in forecaster_options()}
    c["forecaster"] = _choice("forecaster", raw.get("forecaster"), names)
    c["policy"] = _choice("policy", raw.get("policy"), policy_options())
    c["demand_mode"] = _choice("demand_mode", raw.get("demand_mode"), DEMAND_MODES)
    c["data_source"] = _choice("data_source", raw.get("data_source") or "sample", {"sample", "upload"})
    for f in ("horizon", "lead_time", "seed"):
        c[f] = _number(f, raw.get(f), integer=True)
    for f in ("holding_rate", "noise", "speed"):
        c[f] = _number(f, raw.get(f))
    for f in ("unit_cost", "unit_price", "stockout_cost", "initial_inventory", "service_level",
              "policy_level", "policy_s", "policy_q"):
        c[f] = _number(f, raw.get(f), optional=True)
    c["backorders"] = bool(raw.get("backorders"))
    series = raw.get("series")
    if series is not None and not isinstance(series, str):
        raise InputError("series: not a series name")
    c["series"] = series
    return c


# ---------------------------------------------------------------- session records
def new_record(controls: dict | None = None) -> dict:
    return {"v": RECORD_VERSION, "status": "idle", "run": 0, "controls": dict(controls or new_controls()),
            "sim": None, "horizon": None, "message": None}


def upload_key(sid: str) -> str:
    return sid + ":upload"


def dataset_for(store, sid: str, controls: dict):
    """The chosen series: the bundled sample or this session's uploaded file (never a path from the browser)."""
    edata, *_ = engine_api()
    if controls["data_source"] == "upload":
        stored = store.get(upload_key(sid))
        if not stored:
            raise InputError("data: no uploaded file in this session; upload a CSV or choose the sample data")
        series = {k: edata.SeriesData.from_dict(v) for k, v in stored["series"].items()}
        name = stored["name"]
    else:
        ds = sample_dataset()
        series, name = ds.series, ds.name
    key = controls.get("series")
    if key is None or key not in series:
        if key is not None:
            raise InputError(f"series: {str(key)[:60]!r} is not in {name}")
        key = next(iter(series))
    return series[key]


POLICY_PARAM_MAP = {  # page field -> engine policy parameter, per policy
    "order-up-to": {"service_level": "service_level"},
    "base-stock": {"policy_level": "base_stock_level"},
    "s-S": {"policy_s": "s", "policy_level": "S"},
    "r-Q": {"policy_s": "r", "policy_q": "Q"},
}


def sim_config(controls: dict, series_key: str | None = None):
    """Map validated controls to the engine's SimConfig, which validates again (ConfigError names the field)."""
    *_, SimConfig, _Simulator, _ConfigError, _DataError = engine_api()
    c = controls
    d = {
        "days": c["horizon"], "lead_time": c["lead_time"], "holding_rate": c["holding_rate"],
        "noise": c["noise"], "seed": c["seed"], "forecaster": c["forecaster"], "policy": c["policy"],
        "demand": c["demand_mode"], "backorders": c["backorders"], "series": series_key,
        "policy_params": {eng: c[page] for page, eng in POLICY_PARAM_MAP.get(c["policy"], {}).items()
                          if c.get(page) is not None},
    }
    for f in ("unit_cost", "unit_price", "stockout_cost", "initial_inventory"):
        if c.get(f) is not None:
            d[f] = c[f]
    return SimConfig.from_dict(d)


def build_simulator(store, sid: str, controls: dict):
    *_, Simulator, _c, _d = engine_api()
    series = dataset_for(store, sid, controls)
    return Simulator(sim_config(controls, series.key), series)


def restore(state: dict, controls: dict | None = None):
    """The simulator from its stored state (forecasters are cached per process by the registry)."""
    *_, Simulator, _c, _d = engine_api()
    return Simulator.from_state(state)


# ---------------------------------------------------------------- session storage layout
# Per session, in the store (all JSON, all with the session TTL):
#   sid                         the record: status, run, controls, horizon, days simulated, rev, run_key
#   sid:series:<run_key>        the run's series (written once per run)
#   sid:state:<rev>             the simulator state without series and ledger (a new key per save: the record
#                               switches to it only after it is written, so a crash never mixes two saves)
#   sid:ledger:<run_key>:<i>    ledger rows i*CHUNK .. (i+1)*CHUNK-1; a tick rewrites only the last chunk,
#                               so saving costs the same on day 10 and on day 300
LEDGER_CHUNK = 32

# Live simulators of this process, keyed by session id and the revision of the stored record they match.
# The store stays the source of truth: a record saved by another worker has another revision, so this process
# rebuilds from the stored state; the cache only skips re-reading and re-preparing a run nobody else touched.
_LIVE_MAX = 64
_live: "OrderedDict[str, tuple[str, object]]" = OrderedDict()
_live_lock = threading.Lock()


class SessionExpired(RuntimeError):
    """Part of a session's stored run is gone (expired or evicted)."""


def _chunk_key(sid: str, rec: dict, i: int) -> str:
    return f"{sid}:ledger:{rec['run_key']}:{i}"


def load_rows(store, sid: str, rec: dict) -> list[dict]:
    """The stored ledger of the session's run (days 1..rec['days'])."""
    days = int(rec.get("days") or 0)
    if not rec.get("run_key") or days == 0:
        return []
    rows: list[dict] = []
    for i in range((days - 1) // LEDGER_CHUNK + 1):
        chunk = store.get(_chunk_key(sid, rec, i))
        if chunk is None:
            raise SessionExpired("the stored run has expired")
        rows.extend(chunk["rows"])
    if len(rows) < days:
        raise SessionExpired("the stored run is incomplete")
    return rows[:days]


def load_state(store, sid: str, rec: dict) -> dict:
    """The engine's full state (Simulator.from_state input) reassembled from its parts."""
    state = store.get(f"{sid}:state:{rec['rev']}")
    series = store.get(f"{sid}:series:{rec['run_key']}")
    if state is None or series is None:
        raise SessionExpired("the stored run has expired")
    return {**state, "series": series, "ledger": load_rows(store, sid, rec)}


def live_simulator(store, sid: str, rec: dict):
    """The simulator for this record; a cached one is taken out (it is about to change) and only goes back in
    through save_session, so a failed save can never leave an advanced simulator under an old revision."""
    with _live_lock:
        hit = _live.pop(sid, None)
    if hit is not None and rec.get("rev") is not None and hit[0] == rec["rev"]:
        return hit[1]
    return restore(load_state(store, sid, rec))


def rows_of(store, sid: str, rec: dict, sim=None) -> list[dict]:
    if sim is not None:
        return sim.ledger
    with _live_lock:
        hit = _live.get(sid)
    if hit is not None and hit[0] == rec.get("rev"):
        return hit[1].ledger
    return load_rows(store, sid, rec) if rec.get("has_sim") else []


def save_session(store, sid: str, rec: dict, sim=None, new_run: bool = False) -> None:
    """Store the record (and, with `sim`, the run's new state and ledger rows) under a new revision."""
    old_rev = rec.get("rev")
    if sim is not None:
        state = sim.to_state()
        ledger = state.pop("ledger")
        series = state.pop("series")
        if new_run or not rec.get("run_key"):
            rec["run_key"] = secrets.token_hex(6)
            store.put(f"{sid}:series:{rec['run_key']}", series)
            first = 0
        else:
            first = int(rec.get("days") or 0) // LEDGER_CHUNK
        for i in range(first, (len(ledger) - 1) // LEDGER_CHUNK + 1 if ledger else 0):
            store.put(_chunk_key(sid, rec, i), {"rows": ledger[i * LEDGER_CHUNK:(i + 1) * LEDGER_CHUNK]})
        rec["rev"] = secrets.token_hex(8)
        store.put(f"{sid}:state:{rec['rev']}", state)
        rec.update(days=len(ledger), has_sim=True)
    store.put(sid, rec)
    if sim is not None:
        if old_rev and old_rev != rec["rev"]:
            try:
                store.delete(f"{sid}:state:{old_rev}")
            except Exception:  # noqa: BLE001 - a leftover key expires with the TTL
                pass
        with _live_lock:
            _live[sid] = (rec["rev"], sim)
            while len(_live) > _LIVE_MAX:
                _live.popitem(last=False)


def run_inputs(store, sid: str, rec: dict):
    """(SimConfig, SeriesData) of the stored run."""
    edata, _r, SimConfig, _s, _c, _d = engine_api()
    state = store.get(f"{sid}:state:{rec['rev']}")
    series = store.get(f"{sid}:series:{rec['run_key']}")
    if state is None or series is None:
        raise SessionExpired("the stored run has expired")
    return SimConfig.from_dict(state["config"]), edata.SeriesData.from_dict(series)


def improvement_hint(config, series) -> dict:
    """engine.optimum.improvement_hint: best z / constant S for these settings and the saving (30 CRN paths)."""
    engine_api()
    from engine.optimum import improvement_hint as hint

    return hint(config, series)


def horizon_of(sim) -> int:
    """Days this run will simulate (replay mode may be shorter than the requested horizon)."""
    return int(sim.days)


def user_error_types():
    edata, registry, _s, _sim, ConfigError, DataError = engine_api()
    return (InputError, ConfigError, DataError, registry.UnknownForecaster, SessionExpired)


# ---------------------------------------------------------------- derived views
def events_of(row: dict) -> list[tuple[str, str]]:
    """Event-log entries of one ledger row, newest first within the day: (text, kind)."""
    out = []
    d = int(row["day"])
    if row.get("order_qty"):
        out.append((f"Day {d}: ordered {row['order_qty']:.0f} units (S = {row.get('order_up_to', 0):.1f})", "order"))
    if row.get("unmet"):
        what = "backordered" if row.get("backlog") else "lost"
        out.append((f"Day {d}: STOCKOUT — {row['unmet']:.0f} of {row['demand']:.0f} units {what}", "stockout"))
    if row.get("arrivals"):
        out.append((f"Day {d}: {row['arrivals']:.0f} units arrived", "arrival"))
    return out


def latest_events(rows: list[dict], limit: int = MAX_LOG) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for row in reversed(rows):
        out.extend(events_of(row))
        if len(out) >= limit:
            break
    return out[:limit]


def event_count(rows: list[dict]) -> int:
    return sum(len(events_of(r)) for r in rows)


def kpi_values(rows: list[dict], horizon: int | None) -> dict:
    """The KPI cards' texts: id -> (main text, sub text)."""
    n = len(rows)
    hz = horizon or 0
    if not rows:
        return {
            "kpi-day": (f"Day 0 of {hz}", "not started"), "kpi-on-hand": ("–", ""), "kpi-on-order": ("–", ""),
            "kpi-cost": ("0.00", "holding 0.00 · stockout 0.00"), "kpi-fill-rate": ("–", ""),
            "kpi-order": ("–", ""),
        }
    last = rows[-1]
    hold = sum(float(r["holding_cost"]) for r in rows)
    short = sum(float(r["stockout_cost"]) for r in rows)
    demand = sum(float(r["demand"]) for r in rows)
    fulfilled = sum(float(r["fulfilled"]) for r in rows)
    fill = fulfilled / demand if demand > 0 else 1.0
    csl = sum(1 for r in rows if not r.get("unmet")) / n
    return {
        "kpi-day": (f"Day {n} of {hz}", f"{100 * n / hz:.0f}% done" if hz else ""),
        "kpi-on-hand": (f"{last['on_hand']:.0f}", f"position {last['inventory_position']:.0f}"),
        "kpi-on-order": (f"{last['on_order']:.0f}", _level_text(last)),
        "kpi-cost": (f"{last['cumulative_cost']:,.2f}", f"holding {hold:,.2f} · stockout {short:,.2f}"),
        "kpi-fill-rate": (f"{100 * fill:.1f}%", f"days without stockout {100 * csl:.1f}%"),
        "kpi-order": (f"{last['order_qty']:.0f}", f"forecast {last['forecast']:.1f}"),
    }


def _level_text(row: dict) -> str:
    """The order-up-to level with its parts: S = μ + safety stock (how the quantile was obtained)."""
    if row.get("order_up_to") is None:
        return ""
    text = f"S = {row['order_up_to']:.1f}"
    if row.get("quantile_method") not in (None, "none"):
        text += f" = μ {row['mu']:.1f} + {row['safety_stock']:.1f} ({row['quantile_method']} quantile)"
    return text


def ledger_csv(rows: list[dict]) -> str:
    """The run's ledger as CSV (formula-injection safe: engine.csv_safe)."""
    if not rows:
        return ""
    fields = list(rows[0].keys())
    return csv_text([fields] + [[r.get(f) for f in fields] for r in rows])


def days_per_tick(speed: float) -> tuple[int, int]:
    """(interval in ms, days per tick): ticks never fire faster than every 100 ms; faster speeds step more days."""
    interval = max(100, int(round(speed * 1000)))
    return interval, max(1, int(round(0.1 / speed))) if speed < 0.1 else 1
