"""Settings read once from the environment (documented in the README's Configuration table), paths included."""
from __future__ import annotations

import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from engine.paths import REPO_ROOT, sample_data


class ConfigurationError(SystemExit):
    """A setting is missing or malformed: the process stops at start-up with a one-line message.

    The exit status is 3, gunicorn's "worker failed to boot": its master then stops with the message instead of
    respawning workers that can never start. The line is written when the error is raised because SystemExit
    with a numeric code prints nothing itself.
    """

    BOOT_ERROR = 3

    def __init__(self, message: str) -> None:
        self.message = f"configuration error: {message}"
        print(self.message, file=sys.stderr, flush=True)
        super().__init__(self.BOOT_ERROR)

    def __str__(self) -> str:
        return self.message


def _int(name: str, default: int, minimum: int | None = None) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not a whole number") from None
    if minimum is not None and value < minimum:
        raise ConfigurationError(f"{name}={value} must be at least {minimum}")
    return value


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not a number") from None
    if not value >= 0:
        raise ConfigurationError(f"{name}={raw!r} must be a number >= 0")
    return value


@dataclass(frozen=True)
class Settings:
    port: int
    web_concurrency: int
    redis_url: str | None
    secret_key: str | None
    session_ttl: int  # seconds an idle session is kept
    session_dir: str  # embedded (diskcache) session store
    session_store_bytes: int  # size bound of the embedded store
    session_store_shards: int  # SQLite databases of the embedded store (dashapp.platform.store.DiskSessionStore)
    jobs_dir: str
    job_result_ttl: int
    upload_max_bytes: int
    debug: bool  # SIM_DEBUG=1: Dash debug mode for `python -m dashapp` only
    test_tick_delay: float  # SIM_TEST_TICK_DELAY: seconds slept inside each tick (test hook)
    var_dir: str
    prior_dir: str  # SIM_PRIOR_DIR: the machine's simulated priors (engine.protection.prior_store), shared by its
                    # processes
    sample_data: Path  # SIM_SAMPLE_DATA: the bundled series the simulator starts with

    @property
    def secret_key_required(self) -> bool:
        """Several processes must agree on the key that signs session ids."""
        return self.web_concurrency > 1 or bool(self.redis_url)


def load_settings() -> Settings:
    var = Path(os.environ.get("SIM_VAR_DIR", REPO_ROOT / "var"))
    return Settings(
        port=_int("PORT", 8050, minimum=1),
        web_concurrency=_int("WEB_CONCURRENCY", 1, minimum=1),
        redis_url=os.environ.get("REDIS_URL") or None,
        secret_key=os.environ.get("SECRET_KEY") or None,
        session_ttl=_int("SESSION_TTL", 6 * 3600, minimum=60),
        session_dir=os.environ.get("SIM_SESSION_DIR", str(var / "sessions")),
        session_store_bytes=_int("SESSION_STORE_BYTES", 512 * 2**20, minimum=2**20),
        session_store_shards=_int("SESSION_STORE_SHARDS", 8, minimum=1),
        jobs_dir=os.environ.get("SIM_JOBS_DIR", str(var / "jobs")),
        job_result_ttl=_int("JOB_RESULT_TTL", 3600),
        upload_max_bytes=_int("UPLOAD_MAX_BYTES", 20 * 2**20, minimum=1024),
        debug=os.environ.get("SIM_DEBUG", "") == "1",
        test_tick_delay=_float("SIM_TEST_TICK_DELAY", 0.0),
        var_dir=str(var),
        prior_dir=os.environ.get("SIM_PRIOR_DIR", str(var / "priors")),
        sample_data=sample_data(),
    )


def resolve_secret_key(s: Settings) -> str:
    """SECRET_KEY, or — for a single-host embedded deployment only — a generated key shared by the
    workers of this machine through a file in the var directory (created atomically, mode 0600)."""
    if s.secret_key:
        if len(s.secret_key) < 16:
            raise ConfigurationError("SECRET_KEY must be at least 16 characters")
        return s.secret_key
    if s.secret_key_required:
        why = "REDIS_URL is set" if s.redis_url else f"WEB_CONCURRENCY={s.web_concurrency}"
        raise ConfigurationError(
            f"SECRET_KEY is required when {why} (several processes must share it); "
            "set it to a long random string, e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    path = Path(s.var_dir) / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
    tmp.write_text(secrets.token_urlsafe(32))
    os.chmod(tmp, 0o600)
    try:
        os.link(tmp, path)  # atomic: the first process wins, the others read its key
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text().strip()


settings = load_settings()
