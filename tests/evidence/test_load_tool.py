"""The load-test tool itself: it must detect what it claims to detect (lost/doubled days, HTTP errors), refuse
non-loopback targets, and — against real gunicorn — play complete sessions. Latency goals are measured by
running `python -m bench.load` (figures in bench/REPORT.md and the README), not asserted here."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench.dash_client import apply_patch, require_loopback, split_output
from bench.load import SessionResult, check_ledger, parse_day, percentile, run_load, summarise
from tests.conftest import REPO


def test_ledger_check_finds_lost_and_doubled_days():
    assert check_ledger([1, 2, 3], 3) is None
    assert "missing [2]" in check_ledger([1, 3, 4], 3)
    assert "doubled [2]" in check_ledger([1, 2, 2, 3], 4)
    assert "shows day 5" in check_ledger([1, 2, 3], 5)
    assert check_ledger([], 0) is None and check_ledger([], 4) == "empty ledger"


def test_steady_state_ticks_start_once_every_session_ticks():
    """The ramp's ticks (sent before the last session's first tick) are left out of the steady-state figures."""
    early = SessionResult(0, tick_log=[(1.0, 900.0), (1.3, 800.0), (2.0, 10.0), (2.3, 12.0)])
    late = SessionResult(1, tick_log=[(2.0, 20.0), (2.3, 30.0)])
    for r, ms in ((early, [900.0, 800.0, 10.0, 12.0]), (late, [20.0, 30.0])):
        r.latencies["tick"] = ms
    out = summarise([early, late], "http://127.0.0.1:1", 2, 1.0, 300, "fixed", 1, 0.0, 1.0)
    assert out["ticks"] == 6 and out["steady_ticks"] == 4
    assert out["steady_tick_p50_ms"] == 16.0 and out["tick_p95_ms"] > 500


def test_parse_day_and_percentile():
    assert parse_day("Day 12 of 90") == 12 and parse_day("–") is None
    assert percentile([1, 2, 3, 4], 50) == 2.5 and percentile([], 95) is None
    assert percentile(list(range(101)), 95) == 95


def test_loopback_only():
    for url in ("http://10.0.0.5:8050", "http://example.com", "http://0.0.0.0:8050"):
        with pytest.raises(ValueError, match="loopback"):
            require_loopback(url)
    assert require_loopback("http://127.0.0.1:8050/") == "http://127.0.0.1:8050"


def test_client_applies_dash_patches_like_the_renderer():
    fig = {"data": [{"x": [1], "y": [5]}], "layout": {}}
    patch = {"__dash_patch_update": "__dash_patch_update", "operations": [
        {"operation": "Extend", "location": ["data", 0, "x"], "params": {"value": [2, 3]}},
        {"operation": "Append", "location": ["data", 0, "y"], "params": {"value": 6}},
        {"operation": "Assign", "location": ["layout", "title"], "params": {"value": "t"}},
        {"operation": "Prepend", "location": ["data"], "params": {"value": {"x": []}}},
        {"operation": "Delete", "location": ["data", 0]}]}
    out = apply_patch(fig, patch)
    assert out == {"data": [{"x": [1, 2, 3], "y": [5, 6]}], "layout": {"title": "t"}}
    assert fig["data"][0]["x"] == [1], "the original value must not be mutated"
    assert split_output("..a.b...c.d@123..") == [("a", "b"), ("c", "d")]


@pytest.mark.slow
def test_sessions_against_real_gunicorn(gunicorn_factory):
    g = gunicorn_factory(workers=2)
    r = run_load(g.url, sessions=4, seconds=4, interval_ms=300)
    assert r["errors"] == 0, r["problems"]
    assert r["incomplete_ledgers"] == 0, r["problems"]
    assert r["ticks"] >= 4 * 8 and r["days_min"] >= 5, r


@pytest.mark.slow
def test_cli_json_output(gunicorn_factory):
    g = gunicorn_factory(workers=2)
    out = subprocess.run([sys.executable, "-m", "bench.load", "--sessions", "2", "--seconds", "2", "--url", g.url,
                          "--json"], cwd=REPO, capture_output=True, text=True, timeout=120)
    r = json.loads(out.stdout)
    for key in ("requests", "errors", "p50_ms", "p95_ms", "p99_ms", "incomplete_ledgers"):
        assert key in r, key
    assert r["requests"] > 0 and r["errors"] == 0 and r["incomplete_ledgers"] == 0
    assert out.returncode == 0
