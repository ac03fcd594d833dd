"""What the /scenarios and /optimum pages share about their background job: reattaching a reloaded page to a job
that is still running, polling it until its result reaches the cache, and writing the shareable link into the
address bar.

Why one module: both pages run a Dash background callback whose heartbeat and result live in the job store
(dashapp/ui/jobs.py); how a reloaded page finds and follows that job must not differ between them. Each page names
its component-id prefix and the words it uses (`JobWords`); the callbacks are registered once per page.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, no_update

from dashapp.ui.components import duration
from dashapp.ui.jobs import cancel_job, current_task_id, job_store
from engine.studies import scenarios as sc

# The shareable link goes into the address bar with history.replaceState: no navigation, so the page (and a
# running job's outputs) is not re-rendered; reloading or sending the address opens the same set.
WRITE_SEARCH_JS = """function(search) {
    if (search) { window.history.replaceState(null, '', window.location.pathname + search); }
    return search || null;
}"""


@dataclass(frozen=True)
class JobWords:
    """A page's component-id prefix and how it names its job in messages."""
    prefix: str        # "sc": ids sc-result, sc-status, sc-reattach-key, sc-reattach-poll, sc-search, ...
    kind: str          # the job store's kind ("scenarios", "optimum")
    noun: str          # "run", "computation"
    button: str        # the button that starts the job: "Run", "Compute"
    unit: str = ""     # what the steps count, e.g. " series" (a page's own progress words)


def running_status(kind: str, key: str) -> dict | None:
    """The heartbeat of the job for `key` when it is still running, else None."""
    status = job_store().get_status(kind, key)
    return status if status and status.get("state") == "running" else None


def progress_of(status: dict | None) -> tuple[int, str]:
    """(percent, label) of a job's status record for the progress bar."""
    if not status:
        return 0, ""
    done, total = int(status.get("done") or 0), int(status.get("total") or 0)
    return (int(100 * done / total) if total else 0), status.get("label") or (f"{done}/{total}" if total else "")


def job_stores(words: JobWords, reattach_key: str | None, search: str | None = None, result=None) -> list:
    """The stores this module's callbacks read and write on a job page: `{p}-request` (what Run hands to the
    background job), `{p}-result`, `{p}-search` ("?…" written into the address bar without a page reload, via
    `{p}-url-written`), and the key of the job a reloaded page follows with the interval that polls it (off when
    there is none)."""
    p = words.prefix
    return [dcc.Store(id=f"{p}-request"), dcc.Store(id=f"{p}-result", data=result),
            dcc.Store(id=f"{p}-search", data=search), dcc.Store(id=f"{p}-url-written"),
            dcc.Store(id=f"{p}-reattach-key", data=reattach_key),
            dcc.Interval(id=f"{p}-reattach-poll", interval=1000, disabled=reattach_key is None)]


def run_controls(words: JobWords, status: dict | None) -> tuple:
    """The Run and Cancel buttons and the progress bar of a page, as a reattached job's status leaves them:
    Cancel on while it runs, the bar at its progress (Run stays on: a new run is the user's call)."""
    p = words.prefix
    value, label = progress_of(status)
    return (dbc.Button(words.button, id=f"{p}-run", color="primary"),
            dbc.Button("Cancel", id=f"{p}-cancel", color="danger", outline=True, disabled=status is None),
            dbc.Progress(id=f"{p}-progress", value=value, label=label, style={"height": "24px"}))


def reattached_alert(words: JobWords, status: dict, what: str) -> dbc.Alert:
    value, label = progress_of(status)
    return dbc.Alert(f"{what} is in progress ({label or 'starting'}) — reattached: the results appear here when "
                     "it finishes; Cancel stops it.", color="info", id=f"{words.prefix}-reattach-msg")


def poll_once(words: JobWords, key: str | None) -> dict:
    """One tick of the reattach poll: result, status alert, poll off, progress bar, Cancel (and Run once the job
    ended: a page's own job turns Run off while it runs)."""
    keep = dict.fromkeys(("result", "status", "progress", "progress_label", "run_off", "cancel_off"), no_update)
    if not key:
        return {**keep, "poll_off": True}
    result = job_store().get_result(words.kind, key)
    done = {"poll_off": True, "run_off": False, "cancel_off": True}
    if result is not None:
        return {**keep, **done, "result": result, "progress": 100, "progress_label": "done",
                "status": dbc.Alert(f"The {words.noun} finished.", color="success", id=f"{words.prefix}-done")}
    status = running_status(words.kind, key)
    if status is None:
        if job_store().cancel_requested(words.kind, key):  # e.g. a tick that lands after Cancel
            alert = dbc.Alert(f"{words.noun.capitalize()} cancelled.", color="warning", id=f"{words.prefix}-cancelled")
        else:
            alert = dbc.Alert(f"The {words.noun} this page was attached to stopped without a result "
                              f"(cancelled or its worker died): press {words.button} to start it again.",
                              color="warning")
        return {**keep, **done, "progress": 0, "progress_label": "", "status": alert}
    value, label = progress_of(status)
    return {**keep, "poll_off": False, "progress": value, "progress_label": label, "cancel_off": False,
            "status": dbc.Alert(f"{words.noun.capitalize()} in progress: {label or 'starting'} (reattached).",
                                color="info", id=f"{words.prefix}-reattach-msg")}


def submit(words: JobWords, key: str, label: str = "starting") -> None:
    """Record the job as running before it is handed to a worker (a reload in between finds it)."""
    job_store().submitted(words.kind, key, label)


def background_job(words: JobWords):
    """The decorator of a page's background job: `{p}-request` in, `{p}-result` and `{p}-status` out, with the
    progress bar, Run/Cancel disabled while it runs, and Cancel stopping it (Dash's background callbacks: a
    Diskcache subprocess by default, a Celery worker with REDIS_URL)."""
    p = words.prefix
    return callback(
        Output(f"{p}-result", "data", allow_duplicate=True),
        Output(f"{p}-status", "children", allow_duplicate=True),
        Input(f"{p}-request", "data"),
        background=True,
        progress=[Output(f"{p}-progress", "value"), Output(f"{p}-progress", "label")],
        progress_default=[0, ""],
        running=[(Output(f"{p}-run", "disabled"), True, False), (Output(f"{p}-cancel", "disabled"), False, True)],
        cancel=[Input(f"{p}-cancel", "n_clicks")],
        prevent_initial_call=True,
    )


def error_alert(words: JobWords, err) -> dbc.Alert:
    return dbc.Alert(str(err), color="danger", id=f"{words.prefix}-error")


class JobCancelled(Exception):
    """A cancel request reached the job (dashapp.ui.jobs.JobStore.request_cancel)."""


class Heartbeat:
    """A running job's status record in the job store (JobStore.beat: what a reloaded page finds and follows),
    written at the start, on every report() and by a thread every `every` seconds until stop(), so a long step that
    reports nothing never looks like a dead job (JobStore.get_status calls a record stale after STALE_AFTER).
    `quiet`: a store failure only costs the record, not the job (a page whose results do not live in the job store)."""

    def __init__(self, kind: str, key: str, every: float = 2.0, quiet: bool = False):
        self.kind, self.key, self.every, self.quiet = kind, key, every, quiet
        self.task = current_task_id()  # read here: Celery's current task is the job thread's, not the beat thread's
        self.started = time.time()
        self.latest = {"done": 0, "total": 0, "label": "starting"}
        self._stop = threading.Event()
        self._write()
        self._thread = threading.Thread(target=self._beat, daemon=True)
        self._thread.start()

    def _write(self) -> None:
        from dashapp.platform.store import StoreUnavailable
        try:
            job_store().beat(self.kind, self.key, self.latest["done"], self.latest["total"], self.started,
                             self.latest["label"], task=self.task)
        except StoreUnavailable:
            if not self.quiet:
                raise

    def _beat(self) -> None:
        while not self._stop.wait(self.every):
            self._write()

    def report(self, done: int, total: int, label: str) -> None:
        self.latest.update(done=done, total=total, label=label)
        self._write()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)  # no beat may land after the status is cleared or the result stored


def run_and_cache(words: JobWords, key: str, set_progress, compute, label=None) -> tuple:
    """The body of a background job: compute(progress) with a heartbeat in the job store (a reloaded page finds
    it, shows its progress and can cancel it) and the progress bar; the record is cached under `key`.
    `label(done, total)` words the progress ("3/8" by default). Returns (record, status alert)."""
    store = job_store()

    def progress(done, total):
        if store.cancel_requested(words.kind, key):
            raise JobCancelled
        beat.report(done, total, label(done, total) if label else f"{done}/{total}")
        set_progress([int(100 * done / max(total, 1)), beat.latest["label"]])

    if store.cancel_requested(words.kind, key):  # cancelled between Run and the job's start
        store.clear_status(words.kind, key)
        return no_update, dbc.Alert(f"{words.noun.capitalize()} cancelled.", color="warning",
                                    id=f"{words.prefix}-cancelled")
    beat = Heartbeat(words.kind, key)
    try:
        try:
            record = compute(progress)
        finally:
            beat.stop()   # before the status is cleared or the result stored
    except JobCancelled:
        store.clear_status(words.kind, key)
        return no_update, dbc.Alert(f"{words.noun.capitalize()} cancelled.", color="warning",
                                    id=f"{words.prefix}-cancelled")
    except (sc.ScenarioError, ValueError) as err:
        store.clear_status(words.kind, key)
        return no_update, error_alert(words, err)
    store.put_result(words.kind, key, record)
    return record, dbc.Alert(f"Done in {duration(record['elapsed_s'])}.", color="success", id=f"{words.prefix}-done")


def register(words: JobWords) -> None:
    """The page's reattach poll and address-bar write (call once, at the page module's import)."""
    p = words.prefix

    @callback(
        output={"result": Output(f"{p}-result", "data", allow_duplicate=True),
                "status": Output(f"{p}-status", "children", allow_duplicate=True),
                "poll_off": Output(f"{p}-reattach-poll", "disabled"),
                "progress": Output(f"{p}-progress", "value", allow_duplicate=True),
                "progress_label": Output(f"{p}-progress", "label", allow_duplicate=True),
                "run_off": Output(f"{p}-run", "disabled", allow_duplicate=True),
                "cancel_off": Output(f"{p}-cancel", "disabled", allow_duplicate=True)},
        inputs={"_n": Input(f"{p}-reattach-poll", "n_intervals")},
        state={"key": State(f"{p}-reattach-key", "data")},
        prevent_initial_call=True,
    )
    def poll_reattached(_n, key):
        """After a reload during a job: follow its progress until its result reaches the cache."""
        return poll_once(words, key)

    @callback(
        Output(f"{p}-status", "children", allow_duplicate=True),
        Output(f"{p}-reattach-poll", "disabled", allow_duplicate=True),
        Output(f"{p}-run", "disabled", allow_duplicate=True),
        Output(f"{p}-cancel", "disabled", allow_duplicate=True),
        Input(f"{p}-cancel", "n_clicks"),
        State(f"{p}-reattach-key", "data"),
        prevent_initial_call=True,
    )
    def cancel_reattached(_n, key):
        """Cancel on a reloaded page: the job's process is ended (dashapp.ui.jobs.cancel_job; else it stops at its
        next progress report)."""
        if not key:
            raise dash.exceptions.PreventUpdate
        cancel_job(words.kind, key)
        return (dbc.Alert(f"{words.noun.capitalize()} cancelled.", color="warning", id=f"{p}-cancelled"),
                True, False, True)

    dash.clientside_callback(WRITE_SEARCH_JS, Output(f"{p}-url-written", "data"), Input(f"{p}-search", "data"),
                             prevent_initial_call=True)
