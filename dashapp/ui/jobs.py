"""Background-job plumbing for long callbacks (scenario runs, optimum searches).

One code path, two managers: the embedded default runs jobs in local processes through diskcache
(works on one machine, no external service); with REDIS_URL set, jobs go to Celery workers on Redis so
several hosts can share the load. The Procfile's `worker:` line starts such a worker.
"""
from __future__ import annotations

import os
import time

from dash import CeleryManager, DiskcacheManager

from dashapp.platform.config import settings
from dashapp.platform.store import make_kv

celery_app = None

if settings.redis_url:
    from celery import Celery

    celery_app = Celery(__name__, broker=settings.redis_url, backend=settings.redis_url)
    background_manager = CeleryManager(celery_app, expire=settings.job_result_ttl)
else:
    import diskcache

    os.makedirs(settings.jobs_dir, exist_ok=True)
    background_manager = DiskcacheManager(diskcache.Cache(settings.jobs_dir), expire=settings.job_result_ttl)

# The worker process must define the background callbacks to know their tasks: importing the app imports the
# pages (use_pages=True), whose `@callback(background=True)` registrations create the Celery tasks.
if celery_app is not None:
    celery_app.conf.imports = ["dashapp.app"]
    celery_app.conf.worker_prefetch_multiplier = 1
    celery_app.conf.task_acks_late = False


class JobStore:
    """Scenario/optimum job records shared by web workers and job workers: results cached by the scenario
    set's hash, and a status record (state, progress, heartbeat) per running hash so that a page reloaded
    during a run can reattach to it and a cancelled run can be observed to stop.

    Redis when REDIS_URL is set, else a diskcache directory beside the background-job cache (dashapp.platform.store).
    JSON only.
    """

    def __init__(self, redis_url: str | None = None, directory: str | None = None, ttl: int | None = None):
        self.ttl = int(ttl or settings.job_result_ttl)
        self._kv = make_kv(redis_url, directory or os.path.join(settings.jobs_dir, "scenario-records"), self.ttl,
                           prefix="")

    def _get(self, key: str):
        return self._kv.get(key)

    def _set(self, key: str, value: dict, ttl: int | None = None) -> None:
        self._kv.put(key, value, ttl=ttl)

    def _delete(self, key: str) -> None:
        self._kv.delete(key)

    def get_result(self, kind: str, key: str) -> dict | None:
        return self._get(f"sim:{kind}:result:{key}")

    def put_result(self, kind: str, key: str, result: dict) -> None:
        self._set(f"sim:{kind}:result:{key}", result)
        self._delete(f"sim:{kind}:status:{key}")

    def get_status(self, kind: str, key: str) -> dict | None:
        """The running job's record, or None; a record whose heartbeat is older than 10 s is a dead job.

        A job cancelled after it started has no record, even if a last heartbeat landed after the cancel (the
        cancel request and the job's own writes race: the job may be killed between them)."""
        st = self._get(f"sim:{kind}:status:{key}")
        if st is not None:
            cancel = self._get(f"sim:{kind}:cancel:{key}")
            if cancel is not None and float(cancel.get("at", 0)) >= float(st.get("started", 0)):
                self._delete(f"sim:{kind}:status:{key}")
                return None
        if st is not None and time.time() - st.get("heartbeat", 0) > STALE_AFTER:
            st["state"] = "stale"
        return st

    def beat(self, kind: str, key: str, done: int, total: int, started: float, label: str | None = None,
             task: str | None = None) -> None:
        """The running job's record, written by the job's own process: its pid and that process' start time (so
        a cancel never ends another process that took the pid over) and, in a Celery worker, its task id."""
        self._set(f"sim:{kind}:status:{key}", {"state": "running", "done": int(done), "total": int(total),
                                             "label": label or f"{int(done)}/{int(total)}", "started": started,
                                             "heartbeat": time.time(), "pid": os.getpid(),
                                             "pid_started": process_started(), "task": task},
                  ttl=60)

    def clear_status(self, kind: str, key: str) -> None:
        self._delete(f"sim:{kind}:status:{key}")

    def submitted(self, kind: str, key: str, label: str = "starting") -> None:
        """Mark a job as running before its worker picks it up: a page reloaded in that window finds it (and any
        earlier cancel request for the same key is forgotten)."""
        self._delete(f"sim:{kind}:cancel:{key}")
        self._set(f"sim:{kind}:status:{key}", {"state": "running", "done": 0, "total": 0, "label": label,
                                             "started": time.time(), "heartbeat": time.time(), "pid": None},
                  ttl=60)

    def cancel(self, kind: str, key: str) -> dict | None:
        """Record a cancel request for `key` and clear its status; returns the status record the job had written
        (None if none), which end_job_process reads to end the job's process."""
        record = self._get(f"sim:{kind}:status:{key}")  # get_status would hide it once the request is recorded
        self.request_cancel(kind, key)
        self.clear_status(kind, key)
        return record

    def request_cancel(self, kind: str, key: str) -> None:
        """Ask the job for `key` to stop at its next progress report (works from any page, reattached ones too)."""
        self._set(f"sim:{kind}:cancel:{key}", {"at": time.time()}, ttl=600)

    def cancel_requested(self, kind: str, key: str) -> bool:
        return self._get(f"sim:{kind}:cancel:{key}") is not None

    def put_note(self, kind: str, key: str, name: str, value: dict) -> None:
        """A job's side record (e.g. the ids of the Celery tasks it queued, so Cancel can revoke them)."""
        self._set(f"sim:{kind}:{name}:{key}", value)

    def get_note(self, kind: str, key: str, name: str) -> dict | None:
        return self._get(f"sim:{kind}:{name}:{key}")


STALE_AFTER = 10.0
_store: JobStore | None = None


def process_started(pid: int | None = None) -> float | None:
    """When process `pid` (default: this one) started, as psutil reads it; None when it cannot be read."""
    import psutil
    try:
        return psutil.Process(os.getpid() if pid is None else int(pid)).create_time()
    except (psutil.Error, OSError):
        return None


def current_task_id() -> str | None:
    """The id of the Celery task this thread runs (what Dash's CeleryManager calls the job), else None."""
    if celery_app is None:
        return None
    from celery import current_task
    return getattr(getattr(current_task, "request", None), "id", None) if current_task else None


def end_job_process(record: dict | None) -> bool:
    """End the process of the job whose status `record` is (JobStore.cancel's return), as Dash's own Cancel does
    for the page that started the job: the Celery task terminated by its id, or the Diskcache job's process
    killed, only if the process under that pid is the one that wrote the record. Why a second path: Dash ends a
    job only from the page that holds its job id, so without this a reloaded page's Cancel, or a click the
    renderer sent before it had the id, left the job to stop at its next progress report. True when a stop was
    sent."""
    if not record:
        return False
    try:
        if celery_app is not None:
            task = record.get("task")
            if task:
                celery_app.control.revoke(task, terminate=True)
            return bool(task)
        pid, born = record.get("pid"), record.get("pid_started")
        if not pid or born is None or pid == os.getpid():
            return False
        now = process_started(pid)
        if now is None or abs(now - float(born)) > 0.01:  # gone, or another process took the pid over
            return False
        background_manager.terminate_job(pid)
        return True
    except Exception:  # noqa: BLE001 - broker down, or the process ended meanwhile: the request in the store stays
        return False


def cancel_job(kind: str, key: str) -> None:
    """A page's Cancel for the job of `key`: the job stops at its next progress report (the request in the job
    store), and its process is ended at once where it can be reached (end_job_process)."""
    end_job_process(job_store().cancel(kind, key))


def job_store() -> JobStore:
    """The process's job store (created lazily: job processes build their own after fork)."""
    global _store
    if _store is None or getattr(_store, "_pid", None) != os.getpid():
        _store = JobStore(settings.redis_url)
        _store._pid = os.getpid()
    return _store
