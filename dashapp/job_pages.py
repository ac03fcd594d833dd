"""What the /scenarios and /optimum pages share about their background job: reattaching a reloaded page to a job
that is still running, polling it until its result reaches the cache, and writing the shareable link into the
address bar.

Why one module: both pages run a Dash background callback whose heartbeat and result live in the job store
(dashapp/jobs.py); how a reloaded page finds and follows that job must not differ between them. Each page names
its component-id prefix and the words it uses (`JobWords`); the callbacks are registered once per page.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, no_update

from dashapp.jobs import job_store
from engine import scenarios as sc

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
    unit: str = ""     # after done/total in progress messages, e.g. " steps"


def running_status(kind: str, key: str) -> dict | None:
    """The heartbeat of the job for `key` when it is still running, else None."""
    status = job_store().get_status(kind, key)
    return status if status and status.get("state") == "running" else None


def reattach_components(words: JobWords, reattach_key: str | None) -> list:
    """The key of the job a reloaded page follows and the interval that polls it (off when there is none)."""
    return [dcc.Store(id=f"{words.prefix}-reattach-key", data=reattach_key),
            dcc.Interval(id=f"{words.prefix}-reattach-poll", interval=1000, disabled=reattach_key is None)]


def poll_once(words: JobWords, key: str | None) -> tuple:
    """(result or no_update, status alert, poll disabled) for one tick of the reattach poll."""
    if not key:
        return no_update, no_update, True
    result = job_store().get_result(words.kind, key)
    if result is not None:
        return result, dbc.Alert(f"The {words.noun} finished.", color="success", id=f"{words.prefix}-done"), True
    status = running_status(words.kind, key)
    if status is None:
        return no_update, dbc.Alert(f"The {words.noun} this page was attached to stopped without a result "
                                    f"(cancelled or its worker died): press {words.button} to start it again.",
                                    color="warning"), True
    return no_update, dbc.Alert(f"{words.noun.capitalize()} in progress: {status['done']}/{status['total']}"
                                f"{words.unit} (reattached).", color="info", id=f"{words.prefix}-reattach-msg"), False


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


def run_and_cache(words: JobWords, key: str, set_progress, compute) -> tuple:
    """The body of a background job: compute(progress) with a heartbeat in the job store (a reloaded page finds
    it and reattaches) and the progress bar; the record is cached under `key`. Returns (record, status alert)."""
    store = job_store()
    started = time.time()

    def progress(done, total):
        store.beat(words.kind, key, done, total, started)
        set_progress([int(100 * done / max(total, 1)), f"{done}/{total}"])

    try:
        record = compute(progress)
    except (sc.ScenarioError, ValueError) as err:
        store.clear_status(words.kind, key)
        return no_update, error_alert(words, err)
    store.put_result(words.kind, key, record)
    return record, dbc.Alert(f"Done in {record['elapsed_s']:.1f} s.", color="success", id=f"{words.prefix}-done")


def register(words: JobWords) -> None:
    """The page's reattach poll and address-bar write (call once, at the page module's import)."""
    p = words.prefix

    @callback(
        Output(f"{p}-result", "data", allow_duplicate=True),
        Output(f"{p}-status", "children", allow_duplicate=True),
        Output(f"{p}-reattach-poll", "disabled"),
        Input(f"{p}-reattach-poll", "n_intervals"),
        State(f"{p}-reattach-key", "data"),
        prevent_initial_call=True,
    )
    def poll_reattached(_n, key):
        """After a reload during a job: wait for its result to reach the cache."""
        return poll_once(words, key)

    dash.clientside_callback(WRITE_SEARCH_JS, Output(f"{p}-url-written", "data"), Input(f"{p}-search", "data"),
                             prevent_initial_call=True)
