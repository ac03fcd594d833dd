"""The simulator page's operations on one session — load, start, pause/resume, step, reset, tick — as plain
Python on the key-value store: no dash here, so the run logic is tested without a browser.

Every operation returns a `Screen`: what the page must show next (a full redraw, the days after the one it shows,
or only a message). The callbacks in dashapp/pages/simulator/page.py translate a Screen into component properties.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from dashapp import engine_facade as E
from dashapp.pages.simulator.pace import days_due, new_clock
from dashapp.platform import session_storage as st
from dashapp.platform.session_ids import new_session_id, valid_session_id
from dashapp.platform.store import SessionBusy, StoreUnavailable
from dashapp.ui.policy_fields import field_specs
from dashapp.ui.validation import clean_controls, page_words

FULL, PATCH, MESSAGE, STOP, NOTHING = "full", "patch", "message", "stop", "nothing"
# Errors whose message is for the user; anything else is a bug (logged by the app, generic message).
USER_ERRORS = E.USER_ERRORS + (st.SessionExpired,)


@dataclass
class Screen:
    """What the page shows after a request. kind: FULL redraws everything from `rows`; PATCH adds the days after
    `shown_day`; MESSAGE shows `message` only; STOP shows it and stops the ticks; NOTHING changes nothing."""

    sid: str
    kind: str
    rows: list = field(default_factory=list)
    status: str = "idle"
    run: int = 0
    horizon: int | None = None
    shown_day: int = 0
    message: str | None = None
    color: str = "danger"
    controls: dict | None = None  # FULL on page load: the stored controls to put back into the fields
    status_changed: bool = True   # PATCH: False while a run goes on (the page re-sends nothing it already has)
    costs: dict | None = None     # the run's resolved costs with their sources (the note under the KPI cards)


def _screen(sid: str, kind: str, rec: dict, rows: list, **kw) -> Screen:
    horizon = rec.get("horizon") or rec["controls"].get("horizon")
    return Screen(sid, kind, rows=rows, status=rec["status"], run=rec["run"], horizon=horizon,
                  costs=rec.get("costs"), **kw)


def _choices() -> tuple[set, dict, dict]:
    """What clean_controls accepts: the offered forecasters, policies and policy fields' bounds."""
    bounds = {key: spec[2] for key, spec in field_specs().items()}
    return {f["value"] for f in E.forecaster_options()}, E.policy_options(), bounds


accepted_choices = _choices  # public: the page's settings links check controls the same way


class SimulationService:
    """Start/Pause/Step/Reset and the tick on sessions kept in `store` (a dashapp.platform.store back end)."""

    def __init__(self, store, tick_delay: float = 0.0, clock=time.time) -> None:
        self.store = store
        self.tick_delay = tick_delay  # test hook: a tick slower than its interval
        self.clock = clock  # wall time in seconds (tests pass a fake one); the run's pace is kept against it

    # ------------------------------------------------------------------ buttons and page load
    def press(self, sid, action: str, raw_controls: dict) -> Screen:
        """`action` is "load" (no button) or one of start, pause, step, reset; an invalid id gets a new one."""
        if not valid_session_id(sid):
            sid = new_session_id()
        self._pressed_at = self.clock()  # a run's pace counts from the press, not from the end of building it
        try:
            with self.store.lock(sid):
                rec = st.load_record(self.store, sid)
                if action == "load":
                    return self._load(sid, rec)
                return getattr(self, "_" + action)(sid, rec, raw_controls)
        except USER_ERRORS as exc:
            return Screen(sid, MESSAGE, message=f"{action.capitalize()} refused — {page_words(str(exc))}")
        except SessionBusy:
            return Screen(sid, MESSAGE, message="The simulator is busy with the previous request; try again.",
                          color="warning")
        except StoreUnavailable as exc:
            return Screen(sid, MESSAGE, message=f"Session store unavailable: {exc}")

    def _load(self, sid: str, rec: dict) -> Screen:
        message = None
        try:
            rows = st.rows_of(self.store, sid, rec)
        except st.SessionExpired:
            rec, rows, message = st.new_record(rec["controls"]), [], "Your last run has expired."
        st.save_session(self.store, sid, rec)  # refreshes the TTL; creates the session when new
        return _screen(sid, FULL, rec, rows, message=message, color="warning", controls=rec["controls"])

    def _new_run(self, sid: str, rec: dict, raw: dict, status: str):
        controls = clean_controls(raw, *_choices())
        sim = E.build_simulator(self.store, sid, controls)
        policy = sim.policy.describe()
        rec.update(controls=controls, horizon=int(sim.days), run=rec["run"] + 1, status=status,
                   costs=dict(sim.costs),
                   level={k: policy.get(k) for k in ("quantile_level", "critical_ratio", "level_source",
                                                      "safety_quantile")}
                   if policy.get("level_source") else None)
        return sim

    def _saved(self, sid: str, rec: dict, sim=None, new_run: bool = False, message=None) -> Screen:
        st.save_session(self.store, sid, rec, sim, new_run=new_run)
        return _screen(sid, FULL, rec, st.rows_of(self.store, sid, rec, sim), message=message, color="warning")

    def _start(self, sid: str, rec: dict, raw: dict) -> Screen:
        sim = self._new_run(sid, rec, raw, "running")
        rec["pace"] = new_clock(self._pressed_at, 0, rec["controls"].get("speed") or 0.3)
        return self._saved(sid, rec, sim, new_run=True, message=_replay_warning(sim))

    def _reset(self, sid: str, rec: dict, raw: dict) -> Screen:
        sim = self._new_run(sid, rec, raw, "idle")
        return self._saved(sid, rec, sim, new_run=True, message=_replay_warning(sim))

    def _pause(self, sid: str, rec: dict, _raw: dict) -> Screen:
        """Pause a running run, resume a paused one; otherwise say why nothing happened."""
        flip = {"running": "paused", "paused": "running"}
        if rec["status"] in flip:
            rec["status"] = flip[rec["status"]]
            if rec["status"] == "running":  # the pause does not count: the clock restarts at the current day
                rec["pace"] = new_clock(self._pressed_at, int(rec.get("days") or 0),
                                        rec["controls"].get("speed") or 0.3)
            return self._saved(sid, rec)
        message = ("Nothing to pause: press Start first." if rec["status"] == "idle"
                   else "The run has finished: press Start for a new run.")
        return self._saved(sid, rec, message=message)

    def _step(self, sid: str, rec: dict, raw: dict) -> Screen:
        """One day. Before a run (or after one, or with changed controls while idle) Step starts a new run
        paused at day 1; during a run it pauses the run and advances one day."""
        sim, new_run = None, False
        was_running = rec["status"] == "running"
        if not rec.get("has_sim") or rec["status"] in ("idle", "done"):
            controls = clean_controls(raw, *_choices())
            if not rec.get("has_sim") or rec["status"] == "done" or controls != rec["controls"]:
                sim, new_run = self._new_run(sid, rec, raw, rec["status"]), True
        sim = sim or st.live_simulator(self.store, sid, rec)
        if not sim.done:
            sim.step()
        rec.update(horizon=int(sim.days), status="done" if sim.done else "paused")
        message = (f"Paused at day {sim.day}: Step advances one day at a time, Resume goes on."
                   if was_running and not sim.done else None)
        return self._saved(sid, rec, sim, new_run=new_run, message=message)

    # ------------------------------------------------------------------ the tick
    def tick(self, sid, shown, speed: float) -> Screen:
        """Advance the days due by the run's pace (dashapp.pages.simulator.pace: wall time since the run started or
        resumed,
        at least one day) — unless the stored run is already past the day the page shows (a repeated or late
        tick), in which case only the missing days are sent."""
        if not valid_session_id(sid) or not isinstance(shown, dict):
            return Screen(sid, STOP, message="Session lost: reload the page.")
        run, day = shown.get("run"), shown.get("day")
        if not isinstance(run, int) or not isinstance(day, int) or day < 0:
            return Screen(sid, STOP, message="Bad tick request.")
        try:
            with self.store.lock(sid, timeout=2.0):
                return self._tick(sid, run, day, speed)
        except SessionBusy:
            return Screen(sid, NOTHING)  # another worker holds the session: the next tick retries
        except StoreUnavailable as exc:
            return Screen(sid, STOP, message=f"Session store unavailable: {exc}")
        except st.SessionExpired:
            return Screen(sid, STOP, message="This run has expired from the session store: press Start for a new run.")

    def _tick(self, sid: str, run: int, day: int, speed: float) -> Screen:
        rec = self.store.get(sid)
        if not rec:
            return Screen(sid, STOP, message="This session has expired: press Start for a new run.")
        if rec["run"] != run:  # a late tick from a previous run
            return Screen(sid, NOTHING)
        state_day, status_before, sim = int(rec.get("days") or 0), rec["status"], None
        if rec["status"] == "running" and state_day == day:
            if self.tick_delay:  # test hook: the stepping is slower than the interval
                time.sleep(self.tick_delay)
            sim = st.live_simulator(self.store, sid, rec)
            n, rec["pace"] = days_due(rec.get("pace"), self.clock(), state_day, speed)
            for _ in range(n):
                if sim.done:
                    break
                sim.step()
            rec["worker"] = os.getpid()  # which process served the last step (hosting tests kill it)
            if sim.done:
                rec["status"] = "done"
            st.save_session(self.store, sid, rec, sim)
        elif state_day < day:
            return Screen(sid, STOP, message="The page is ahead of the session; reload the page.")
        return _screen(sid, PATCH, rec, st.rows_of(self.store, sid, rec, sim), shown_day=day,
                       status_changed=not (status_before == rec["status"] == "running"))

    # ------------------------------------------------------------------ reads
    def ledger_rows(self, sid) -> list[dict]:
        """The run's ledger for the CSV download ([] without a run or when the store cannot answer)."""
        if not valid_session_id(sid):
            return []
        try:
            with self.store.lock(sid):
                rec = self.store.get(sid)
                return st.rows_of(self.store, sid, rec) if rec and rec.get("has_sim") else []
        except (StoreUnavailable, SessionBusy, st.SessionExpired):
            return []

    def level_of(self, sid) -> dict | None:
        """How the session's run set its order-up-to level (quantile level, critical ratio, source), or None."""
        if not valid_session_id(sid):
            return None
        try:
            rec = self.store.get(sid)
        except StoreUnavailable:
            return None
        return rec.get("level") if rec else None

    def finished_run_inputs(self, sid):
        """(SimConfig, SeriesData) of the session's run, or None (no run, or the store cannot answer)."""
        if not valid_session_id(sid):
            return None
        try:
            with self.store.lock(sid):
                rec = self.store.get(sid)
                return st.run_inputs(self.store, sid, rec) if rec and rec.get("has_sim") else None
        except (StoreUnavailable, SessionBusy):
            return None


def _replay_warning(sim) -> str | None:
    """A replay window inside the forecaster's training period (engine.forecast.training_window), as a sentence."""
    from engine.forecast.training_window import simulator_warnings  # lazy, like every engine import here

    return " ".join(w[:1].upper() + w[1:] for w in simulator_warnings(sim)) or None
