"""gunicorn settings for the Procfile's web line (`--config python:dashapp.gunicorn_hooks`).

post_worker_init: each worker builds the page's default run once before it takes requests (see
dashapp.engine_facade.warm_default_run). It runs after the fork, in the worker: the forecaster's onnxruntime
session is never created in the --preload master and inherited across a fork. A failure is logged and the worker
serves anyway (the first Start then builds what it needs, as without the warm-up)."""
from __future__ import annotations


def post_worker_init(worker) -> None:
    from dashapp.engine_facade import warm_default_run

    try:
        seconds = warm_default_run()
    except Exception as exc:  # noqa: BLE001 - never keep a worker from serving
        worker.log.warning("default run not prepared in advance: %s", exc)
        return
    worker.log.info("default run prepared in %.2f s", seconds)
