"""What the ticks stream adds up to exactly what a fresh page load renders: graphs point for point and the
event log entry for entry (trimmed to the latest 200), over a run long enough to trim the log. Over HTTP with
the renderer's request/patch semantics (bench.dash_client), against real gunicorn."""
from __future__ import annotations

import pytest

from bench.dash_client import DashSession
from dashapp.ui.figures import GRAPH_IDS

pytestmark = pytest.mark.slow


def _log_texts(s: DashSession) -> list[str]:
    children = s.get("event-log", "children") or []
    return [c["props"]["children"] for c in children]


def _graph_xy(s: DashSession, gid: str) -> list[tuple[list, list]]:
    return [(t["x"], t["y"]) for t in s.get(gid, "figure")["data"]]


def test_streamed_page_equals_a_fresh_render(server_factory, sample_csv):
    srv = server_factory(workers=2, env={"SIM_SAMPLE_DATA": str(sample_csv)})
    s = DashSession(srv.url)
    s.load("/")
    # the slowest pace (5 s/day): each scripted tick is one day (dashapp.pages.simulator.pace)
    s.trigger("start.n_clicks", 1, extra={"horizon.value": 160, "demand-mode.value": "synthetic",
                                           "speed.value": 5.0, "forecaster.value": "ma7"})
    tick = s.find(input="tick.n_intervals")
    sizes = []
    while s.get("sim-day", "data")["day"] < 160:
        r, _, _ = s.fire(tick, ["tick.n_intervals"])
        assert r.status_code == 200
        sizes.append(len(r.content))
    assert s.get("tick", "disabled") is True  # the run ended: the interval is off
    streamed_log = _log_texts(s)
    streamed = {g: _graph_xy(s, g) for g in GRAPH_IDS}
    assert len(streamed_log) == 200  # trimmed on the page
    s.load("/")  # a reload renders everything from the stored state
    assert _log_texts(s) == streamed_log
    for g in GRAPH_IDS:
        assert _graph_xy(s, g) == streamed[g], g
        for x, _ in streamed[g]:
            assert x == list(range(1, 161))
    assert max(sizes) < 4096  # one simulated day per tick: under 4 KB on every day
    assert sum(sizes[-20:]) < 1.15 * sum(sizes[:20])  # and not growing with the day (only digits get longer)
