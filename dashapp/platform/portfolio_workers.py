"""The portfolio run over Celery workers (REDIS_URL): series split into chunks, each chunk one task running
engine.studies.portfolio.recommend_chunk — the code a single process runs — and the records merged in file order.

Why chunks as separate tasks: a 1,000-series file is ~20 chunks of independent work (a series' record depends only
on its own history, settings and seed), so every worker takes chunks as it frees up. The page's own background
job (itself a Celery task) dispatches them and waits; so that it never waits on a queue no free worker serves
(one worker, one process: the dispatcher occupies it), it also runs chunks itself — from the end of the list,
each one only when no worker has started it yet (the queued task is revoked first).

Cancel: the dispatcher records the chunk task ids in the job store; the page's Cancel revokes them (the
dispatcher itself is terminated by Dash) and the dispatcher, while it lives, stops when `cancelled()` says so.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from engine.data.dataset import SeriesData
from engine.errors import ConfigError, DataError
from engine.json_safe import json_safe
from engine.studies.portfolio import PortfolioCancelled, PortfolioSettings, recommend_chunk, with_calibration

TASK_NAME = "dashapp.portfolio_chunk"
POLL_S = 0.1


def chunk_payload(series: list, settings: PortfolioSettings) -> list[dict]:
    """The JSON a chunk task receives: only the days run_chunk reads (the last history_days) of each series."""
    out = []
    for s in series:
        start = max(0, len(s) - settings.history_days)
        out.append((s.slice(start) if start else s).to_dict())
    return out


def run_payload(series_dicts: list[dict], settings_dict: dict) -> dict:
    """A chunk task's body: {"records": [...]} or {"error": message} for a user error (a one-line message the
    page shows, rather than a worker traceback)."""
    try:
        series = [SeriesData.from_dict(d) for d in series_dicts]
        return {"records": json_safe(recommend_chunk(series, PortfolioSettings(**settings_dict).validate()))}
    except (DataError, ConfigError) as exc:
        return {"error": str(exc)}


def register(celery_app) -> None:
    """Define the chunk task on the app's Celery instance (the worker imports the app, hence this module)."""
    if celery_app is None or TASK_NAME in celery_app.tasks:
        return

    @celery_app.task(name=TASK_NAME, track_started=True, acks_late=False)
    def portfolio_chunk(series_dicts, settings_dict):  # noqa: ANN001 - Celery passes JSON
        return run_payload(series_dicts, settings_dict)


def run_on_workers(celery_app, series: list, settings: PortfolioSettings, progress: Callable[[int, int], None],
                   *, chunk: int = 50, cancelled: Callable[[], bool] | None = None,
                   submitted: Callable[[list[str]], None] | None = None, help_locally: bool = True,
                   timeout: float = 3600.0) -> list[dict]:
    """Records of every series, chunk by chunk on the workers, in file order.

    progress(done, total) after each finished chunk; submitted(task ids) once all are queued; cancelled() is asked
    at every poll (PortfolioCancelled after revoking what is left); help_locally: this process runs chunks that no
    worker has started yet (False in the benchmark, which measures the workers alone).
    """
    settings = with_calibration(series, settings.validate())  # the whole file's out-of-time check, then chunks
    parts = [series[i:i + chunk] for i in range(0, len(series), chunk)]
    if not parts:
        return []
    tasks = [celery_app.send_task(TASK_NAME, args=[chunk_payload(p, settings), settings.to_dict()]) for p in parts]
    if submitted is not None:
        submitted([t.id for t in tasks])
    results: list[list[dict] | None] = [None] * len(parts)
    done_series = 0
    deadline = time.monotonic() + timeout

    def finish(i: int, payload: dict) -> None:
        nonlocal done_series
        if "error" in payload:
            revoke_all(celery_app, [t.id for j, t in enumerate(tasks) if results[j] is None and j != i])
            raise DataError(payload["error"])
        results[i] = payload["records"]
        done_series += len(parts[i])
        progress(done_series, len(series))

    while any(r is None for r in results):
        if cancelled is not None and cancelled():
            revoke_all(celery_app, [t.id for i, t in enumerate(tasks) if results[i] is None])
            raise PortfolioCancelled(f"cancelled after {done_series} of {len(series)} series")
        if time.monotonic() > deadline:
            revoke_all(celery_app, [t.id for i, t in enumerate(tasks) if results[i] is None])
            raise DataError(f"the portfolio run took longer than {timeout:.0f} s on the workers; it was stopped")
        moved = False
        for i, t in enumerate(tasks):
            if results[i] is None and t.ready():
                if t.failed():
                    revoke_all(celery_app, [x.id for j, x in enumerate(tasks) if results[j] is None and j != i])
                    raise RuntimeError(f"a portfolio chunk failed on a worker: {t.result!r}")
                finish(i, t.result)
                moved = True
        if help_locally and not moved:
            waiting = [i for i in range(len(parts)) if results[i] is None and tasks[i].state == "PENDING"]
            if waiting:
                i = waiting[-1]
                tasks[i].revoke()
                finish(i, run_payload(chunk_payload(parts[i], settings), settings.to_dict()))
                moved = True
        if not moved:
            time.sleep(POLL_S)
    return [r for part in results for r in part]


def revoke_all(celery_app, task_ids: list[str]) -> None:
    """Revoke queued chunk tasks (a chunk already running finishes; its result is ignored)."""
    if task_ids:
        celery_app.control.revoke(list(task_ids))
