"""How one simulator session lives in the key-value store, and the per-process cache of live simulators.

Per session, in the store (all JSON, all with the session TTL):
  sid                         the record: status, run, controls, horizon, days simulated, rev, run_key
  sid:series:<run_key>        the run's series (written once per run)
  sid:state:<rev>             the simulator state without series and ledger (a new key per save: the record
                              switches to it only after it is written, so a crash never mixes two saves)
  sid:ledger:<run_key>:<i>    ledger rows i*CHUNK .. (i+1)*CHUNK-1; a tick rewrites only the last chunk,
                              so saving costs the same on day 10 and on day 300
"""
from __future__ import annotations

import secrets
import threading
from collections import OrderedDict

from dashapp import engine_facade as E

RECORD_VERSION = 2
LEDGER_CHUNK = 32

# Live simulators of this process, keyed by session id and the revision of the stored record they match.
# The store stays the source of truth: a record saved by another worker has another revision, so this process
# rebuilds from the stored state; the cache only skips re-reading and re-preparing a run nobody else touched.
_LIVE_MAX = 64
_live: "OrderedDict[str, tuple[str, object]]" = OrderedDict()
_live_lock = threading.Lock()


class SessionExpired(RuntimeError):
    """Part of a session's stored run is gone (expired or evicted)."""


def new_record(controls: dict | None = None) -> dict:
    return {"v": RECORD_VERSION, "status": "idle", "run": 0, "controls": dict(controls or E.new_controls()),
            "sim": None, "horizon": None, "message": None}


def load_record(store, sid: str) -> dict:
    """The session's record, or a fresh one when there is none (or one of an older layout)."""
    rec = store.get(sid)
    return rec if isinstance(rec, dict) and rec.get("v") == RECORD_VERSION else new_record()


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


def _stored_parts(store, sid: str, rec: dict) -> tuple[dict, dict]:
    state = store.get(f"{sid}:state:{rec['rev']}")
    series = store.get(f"{sid}:series:{rec['run_key']}")
    if state is None or series is None:
        raise SessionExpired("the stored run has expired")
    return state, series


def load_state(store, sid: str, rec: dict) -> dict:
    """The engine's full state (Simulator.from_state input) reassembled from its parts."""
    state, series = _stored_parts(store, sid, rec)
    return {**state, "series": series, "ledger": load_rows(store, sid, rec)}


def run_inputs(store, sid: str, rec: dict):
    """(SimConfig, SeriesData) of the stored run."""
    state, series = _stored_parts(store, sid, rec)
    return E.config_from_dict(state["config"]), E.series_from_dict(series)


def live_simulator(store, sid: str, rec: dict):
    """The simulator for this record; a cached one is taken out (it is about to change) and only goes back in
    through save_session, so a failed save can never leave an advanced simulator under an old revision."""
    with _live_lock:
        hit = _live.pop(sid, None)
    if hit is not None and rec.get("rev") is not None and hit[0] == rec["rev"]:
        return hit[1]
    return E.restore(load_state(store, sid, rec))


def rows_of(store, sid: str, rec: dict, sim=None) -> list[dict]:
    """The run's ledger: from `sim`, the live cache, or the store."""
    if sim is not None:
        return sim.ledger
    with _live_lock:
        hit = _live.get(sid)
    if hit is not None and hit[0] == rec.get("rev"):
        return hit[1].ledger
    return load_rows(store, sid, rec) if rec.get("has_sim") else []


def save_session(store, sid: str, rec: dict, sim=None, new_run: bool = False) -> None:
    """Store the record (and, with `sim`, the run's new state and ledger rows) under a new revision, in one
    write (store.put_many: one transaction / one round trip) so a tick waits once for the store's write lock."""
    old_rev = rec.get("rev")
    items: dict[str, dict] = {}
    if sim is not None:
        new = new_run or not rec.get("run_key")
        first = 0 if new else int(rec.get("days") or 0) // LEDGER_CHUNK
        # only what changed: the series once per run, the ledger from the first chunk not yet complete
        state = sim.to_state(series=new, ledger_from=first * LEDGER_CHUNK)
        part = state.pop("ledger")
        days = len(sim.ledger)
        if new:
            rec["run_key"] = secrets.token_hex(6)
            items[f"{sid}:series:{rec['run_key']}"] = state.pop("series")
        for i in range(first, (days - 1) // LEDGER_CHUNK + 1 if days else 0):
            j = (i - first) * LEDGER_CHUNK
            items[_chunk_key(sid, rec, i)] = {"rows": part[j:j + LEDGER_CHUNK]}
        rec["rev"] = secrets.token_hex(8)
        items[f"{sid}:state:{rec['rev']}"] = state
        rec.update(days=days, has_sim=True)
    items[sid] = rec  # last: a reader never sees a record whose parts are not written
    stale = [f"{sid}:state:{old_rev}"] if sim is not None and old_rev and old_rev != rec["rev"] else []
    store.put_many(items, delete=stale)
    if sim is not None:
        with _live_lock:
            _live[sid] = (rec["rev"], sim)
            while len(_live) > _LIVE_MAX:
                _live.popitem(last=False)
