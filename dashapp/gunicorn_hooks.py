"""gunicorn settings for the Procfile's web line (`--config python:dashapp.gunicorn_hooks`).

post_worker_init: each worker does the work of its first requests once before it takes any (dashapp.warmup: the
default runs, the pages, the simulator's views), each starting at a different run: what one builds, the others
read from the machine's prior store instead of building it again. It runs after the fork, in the worker: the
forecaster's onnxruntime session is never created in the --preload master and inherited across a fork. A failure
is logged and the worker serves anyway (its first requests then do that work, as without the warm-up)."""
from __future__ import annotations


def post_worker_init(worker) -> None:
    from dashapp.warmup import warm_worker

    try:
        took = warm_worker(first=getattr(worker, "age", 0))  # age: the worker's spawn number
    except Exception as exc:  # noqa: BLE001 - never keep a worker from serving
        worker.log.warning("nothing prepared before serving: %s", exc)
        return
    worker.log.info("prepared before serving: %s", ", ".join(f"{k} {v:.2f} s" for k, v in took.items()))
