"""The portfolio over real Celery workers on a real redis-server: chunks run by the workers give the records one
process gives, in file order, with progress per chunk; a cancel revokes the chunks not yet run; and the /portfolio
page's job, itself a Celery task on the only worker, finishes by running the chunks nobody else takes."""
from __future__ import annotations

import os
import time

import pytest

from bench.app_server import stop_process_group
from bench.bench_portfolio_celery import start_workers
from engine.studies.portfolio import PortfolioCancelled, PortfolioSettings, run_portfolio
from tests.conftest import REPO
from tests.web.test_portfolio_service import german_csv

pytestmark = [pytest.mark.slow]


@pytest.fixture
def series():
    from engine.data.dataset import load_csv

    return list(load_csv(german_csv(days=120, series=6), name="verkauf.csv").series.values())


@pytest.fixture
def workers(redis_server, tmp_path):
    env = {**os.environ, "REDIS_URL": redis_server.url, "SIM_VAR_DIR": str(tmp_path / "var"),
           "PYTHONPATH": str(REPO), "SECRET_KEY": "portfolio-celery-test-0123456789abcdef"}
    started = start_workers(2, env, tmp_path)
    yield [log for _, log in started]
    for p, _ in started:
        stop_process_group(p)


@pytest.fixture
def client(redis_server):
    from celery import Celery

    app = Celery("test", broker=redis_server.url, backend=redis_server.url)
    yield app
    app.close()


def succeeded(logs) -> int:
    return sum(log.read_text(errors="replace").count("succeeded in") for log in logs)


def test_chunks_on_two_workers_give_the_single_process_records_in_order(series, workers, client):
    from dashapp.platform.portfolio_workers import run_on_workers

    s = PortfolioSettings(replications=5, days=30, history_days=90, backtest_days=30)
    seen = []
    records = run_on_workers(client, series, s, lambda d, t: seen.append((d, t)), chunk=2, help_locally=False)
    assert sorted(seen) == [(2, 6), (4, 6), (6, 6)]
    assert succeeded(workers) == 3  # the workers ran every chunk
    expected = run_portfolio(series, s)
    assert [r["series"] for r in records] == [r["series"] for r in expected]
    for got, want in zip(records, expected):
        assert got["order_up_to"] == pytest.approx(want["order_up_to"])
        assert got["expected_cost"] == pytest.approx(want["expected_cost"])


def test_cancel_revokes_the_chunks_not_yet_run(series, workers, client):
    from dashapp.platform.portfolio_workers import run_on_workers

    s = PortfolioSettings(replications=200, days=365, history_days=90, backtest_days=30)
    progress = []
    with pytest.raises(PortfolioCancelled):
        run_on_workers(client, series * 4, s, lambda d, t: progress.append(d), chunk=1, help_locally=False,
                       cancelled=lambda: bool(progress))
    time.sleep(3)  # what the workers had already started finishes; the rest is discarded
    ran = succeeded(workers)
    assert 1 <= ran < 24, ran
    assert sum("revoked" in log.read_text(errors="replace") for log in workers) >= 1


@pytest.mark.browser
def test_the_page_s_job_on_the_only_worker_runs_the_chunks_itself(redis_server, tmp_path, sample_csv):
    """One worker with one process: the page's job occupies it, so no other worker would ever take a chunk."""
    from tests.scenarios.conftest import CeleryWorker, app_env, start_app
    from tests.web.conftest import click, make_browser, open_app, set_input, text_of, wait_until
    from tests.web.test_portfolio_browser import open_portfolio, prop, upload

    env = app_env(tmp_path / "app", sample_csv, redis_server.url)
    app = start_app(tmp_path / "app", env)
    worker = CeleryWorker(tmp_path / "worker", env)
    d = make_browser()
    try:
        d.set_window_size(1440, 1000)
        open_app(d, app.url)
        open_portfolio(d, app.url)
        (tmp_path / "verkauf.csv").write_bytes(german_csv(days=120, series=4))
        upload(d, tmp_path / "verkauf.csv")
        wait_until(lambda: prop(d, "pf-role-location") == "Filiale", 20, what="the detected mapping")
        set_input(d, "pf-replications", 5)
        set_input(d, "pf-days", 30)
        click(d, "pf-run")
        wait_until(lambda: text_of(d, "pf-total-series") == "4", 120, what="the result")
        assert "the Celery workers" in text_of(d, "pf-result-note")
        assert "dashapp.portfolio_chunk" not in worker.p.log() or "revoked" in worker.p.log()
    finally:
        d.quit()
        worker.stop()
        app.stop()
