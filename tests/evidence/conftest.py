"""Fixtures of the evidence suite: real gunicorn processes on loopback, the built bad-input corpus.

Real processes, because the claims are about hosting: a worker is SIGKILLed, Redis is stopped, the session
directory is made read-only — all for real. Each server gets its own var directory (sessions, jobs, secret key)
under pytest's tmp_path, so tests never share state with each other or with a developer's `var/`.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from bench.app_server import AppServer
from tests.evidence.corpus import build_corpus

SECRET = "evidence-suite-secret-key-0123456789"


def gunicorn_server(var_dir: Path, workers: int = 2, env: dict[str, str] | None = None, args: list[str] | None = None,
             secret: str | None = SECRET) -> AppServer:
    """This suite's server: bench.app_server.AppServer with the suite's SECRET_KEY (None: started without one)."""
    return AppServer(var_dir, workers=workers, env=env, args=args or [], secret=secret)


@pytest.fixture
def gunicorn_factory(tmp_path):
    """Start real gunicorn servers: factory(workers=2, env={...}) -> AppServer (ready); all stopped at teardown."""
    started: list[AppServer] = []

    def make(workers: int = 2, env: dict[str, str] | None = None, args: list[str] | None = None,
             secret: str | None = SECRET, wait: bool = True, name: str = "var") -> AppServer:
        g = gunicorn_server(tmp_path / f"{name}{len(started)}", workers=workers, env=env, args=args, secret=secret)
        started.append(g)
        return g.start(wait=wait)

    yield make
    for g in started:
        g.stop()


@pytest.fixture(scope="module")
def shared_gunicorn(tmp_path_factory):
    """One 2-worker gunicorn for a module's read-mostly tests (uploads, forged requests)."""
    g = gunicorn_server(tmp_path_factory.mktemp("gunicorn") / "var", workers=2)
    g.start()
    yield g
    g.stop()


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """The bad-input corpus, built once per test session (≈ 1.2 GB apparent, ≈ 150 MB on disk)."""
    return build_corpus(tmp_path_factory.mktemp("corpus"))
