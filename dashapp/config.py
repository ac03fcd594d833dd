"""Settings read once from the environment (documented in the README's Configuration table)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"configuration error: {name}={raw!r} is not a whole number")


@dataclass(frozen=True)
class Settings:
    port: int
    web_concurrency: int
    redis_url: str | None
    secret_key: str | None
    session_ttl: int  # seconds an idle session is kept
    session_dir: str  # embedded (diskcache) session store
    session_store_bytes: int  # size bound of the embedded store
    jobs_dir: str
    job_result_ttl: int
    upload_max_bytes: int


def load_settings() -> Settings:
    var = Path(os.environ.get("SIM_VAR_DIR", REPO_ROOT / "var"))
    return Settings(
        port=_int("PORT", 8050),
        web_concurrency=_int("WEB_CONCURRENCY", 1),
        redis_url=os.environ.get("REDIS_URL") or None,
        secret_key=os.environ.get("SECRET_KEY") or None,
        session_ttl=_int("SESSION_TTL", 6 * 3600),
        session_dir=os.environ.get("SIM_SESSION_DIR", str(var / "sessions")),
        session_store_bytes=_int("SESSION_STORE_BYTES", 512 * 2**20),
        jobs_dir=os.environ.get("SIM_JOBS_DIR", str(var / "jobs")),
        job_result_ttl=_int("JOB_RESULT_TTL", 3600),
        upload_max_bytes=_int("UPLOAD_MAX_BYTES", 20 * 2**20),
    )


settings = load_settings()
