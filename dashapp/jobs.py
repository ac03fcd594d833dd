"""Background-job plumbing for long callbacks (scenario runs, optimum searches).

One code path, two managers: the embedded default runs jobs in local processes through diskcache
(works on one machine, no external service); with REDIS_URL set, jobs go to Celery workers on Redis so
several hosts can share the load. The Procfile's `worker:` line starts such a worker.
"""
from __future__ import annotations

import os

from dash import CeleryManager, DiskcacheManager

from dashapp.config import settings

celery_app = None

if settings.redis_url:
    from celery import Celery

    celery_app = Celery(__name__, broker=settings.redis_url, backend=settings.redis_url)
    background_manager = CeleryManager(celery_app, expire=settings.job_result_ttl)
else:
    import diskcache

    os.makedirs(settings.jobs_dir, exist_ok=True)
    background_manager = DiskcacheManager(diskcache.Cache(settings.jobs_dir), expire=settings.job_result_ttl)
