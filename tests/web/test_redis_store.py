"""The app with REDIS_URL: sessions live in a real Redis (shared by all workers/hosts); when Redis goes down the
page shows a clear message (HTTP 200), and the session continues once Redis is back."""
from __future__ import annotations

import json

import pytest
import redis

from bench.dash_client import DashSession

pytestmark = pytest.mark.slow


def test_sessions_in_redis_and_outage_message(server_factory, sample_csv, redis_server):
    srv = server_factory(workers=2, env={"SIM_SAMPLE_DATA": str(sample_csv), "REDIS_URL": redis_server.url})
    s = DashSession(srv.url)
    s.load("/")
    s.trigger("start.n_clicks", 1)
    assert s.text("sim-message") == ""
    tick = s.find(input="tick.n_intervals")
    for _ in range(5):
        s.fire(tick, ["tick.n_intervals"])
    assert s.get("sim-day", "data")["day"] == 5
    sid = s.get("session-id", "data")
    r = redis.Redis.from_url(redis_server.url)
    rec = json.loads(r.get("sim:s:" + sid))  # JSON, not a pickle
    assert rec["days"] == 5 and rec["status"] == "running"
    chunk = json.loads(r.get(f"sim:s:{sid}:ledger:{rec['run_key']}:0"))
    assert [row["day"] for row in chunk["rows"]] == [1, 2, 3, 4, 5]
    assert json.loads(r.get(f"sim:s:{sid}:state:{rec['rev']}"))["day"] == 5

    redis_server.stop()
    r, _, _ = s.fire(tick, ["tick.n_intervals"])
    assert r.status_code == 200
    assert "Session store unavailable" in s.text("sim-message") and "Redis" in s.text("sim-message")
    r = s.trigger("step.n_clicks", 1)
    assert r.status_code == 200 and "Session store unavailable" in s.text("sim-message")

    redis_server.start()  # same port, empty: the session has expired from the store's point of view
    r = s.trigger("start.n_clicks", 2)
    assert r.status_code == 200 and s.text("sim-message") == ""
    s.fire(tick, ["tick.n_intervals"])
    assert s.get("sim-day", "data")["day"] == 1
    assert "Traceback" not in srv.log()
