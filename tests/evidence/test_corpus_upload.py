"""Every corpus file through the upload UI of a real gunicorn app, into a session whose simulation is running.

Each upload is the request dcc.Upload makes (data URL + file name, plus the session id) and must get a clear
message in `upload-status` (HTTP 200) — or, for bodies over the server's request limit, an HTTP 413 with a
JSON message sent *before* the body is read. After every file the running simulation is intact (the next tick
advances exactly one day, the ledger has exactly days 1..N), the workers' memory stays bounded, and nothing
was unpickled.
"""
from __future__ import annotations

import pytest

from tests.evidence.corpus import case_names
from tests.evidence.page import Page, ledger_days
from tests.evidence.streaming import b64_chunks, post_streamed, upload_body_parts

pytestmark = pytest.mark.slow

WORKER_RSS_LIMIT_MB = 1024


@pytest.fixture(scope="module")
def running(shared_gunicorn):
    """A session with a simulation running (a few days in), the one every upload goes to."""
    p = Page(shared_gunicorn.url).open()
    p.start(horizon=700, demand_mode="forecast-noise", speed=5.0)
    assert p.ticking, f"could not start a run: {p.message()!r}"
    p.run_ticks(3)
    assert p.day == 3
    return p


def _case(corpus, name):
    return next(c for c in corpus if c.name == name)


def _check_still_running(p: Page, before: int) -> None:
    p.tick()
    assert p.day == before + 1, f"the running simulation was disturbed: {p.text('kpi-day')!r}, expected day " \
                                f"{before + 1}; message {p.message()!r}"


@pytest.mark.parametrize("name", case_names())
def test_upload(corpus, name, running, shared_gunicorn):
    case = _case(corpus, name)
    p = running
    day = p.day
    n_calls = len(p.s.calls)
    with shared_gunicorn.sample_peak_rss() as peak:
        _send(case, p, shared_gunicorn)
    bad = [(c.status, c.error[:200]) for c in p.s.calls[n_calls:] if c.status >= 500]
    assert not bad, f"HTTP 5xx during the upload of {case.name}: {bad}"
    _check_still_running(p, day)
    print(f"{case.name}: peak worker RSS during the upload {peak.peak_mb:.0f} MB")
    assert peak.peak_mb < WORKER_RSS_LIMIT_MB, f"worker RSS reached {peak.peak_mb:.0f} MB on {case.name}: " \
                                               "memory not bounded"


def _send(case, p: Page, shared_gunicorn) -> None:
    if case.big:
        cb = p.s.find(input="upload-data.contents")
        pre, post, b64_len = upload_body_parts(cb, case.path, case.name, p.sid)
        res = post_streamed(shared_gunicorn.url, "/_dash-update-component", pre, b64_chunks(case.path), post,
                            len(pre) + b64_len + len(post), timeout=60)
        where = f"{case.name}: status {res.status}, sent {res.sent:,} of {res.total:,} bytes in {res.seconds:.1f}s, " \
                f"body {res.body[:300]!r}"
        assert res.status is not None and res.status < 500, "no clean answer: " + where
        if res.status == 413:
            assert "limit" in res.body.lower() or "large" in res.body.lower(), "413 without a message: " + where
            assert res.sent < res.total / 2, "the server read most of an over-limit body before refusing: " + where
        else:
            assert res.status == 200 and case.path.name in res.body, "expected a message naming the file: " + where
    else:
        r = p.upload(case.name, case.path.read_bytes())
        status_text = p.text("upload-status")
        where = f"{case.name} ({case.why}): HTTP {r.status_code}; upload-status {status_text!r}"
        assert r.status_code == 200, where + f" body {r.text[:300]!r}"
        assert status_text, "nothing in upload-status: " + where
        assert "traceback" not in status_text.lower() and "exception" not in status_text.lower(), where
        assert case.name[:60].lower() in status_text.lower(), "the message must name the file: " + where
        refused = any(w in status_text.lower() for w in ("refused", "not loaded", "nothing was loaded", "larger"))
        if case.expect == "reject":
            assert refused, "expected a refusal: " + where
            missing = case.missing_names(status_text)
            assert not missing, f"the message must name {missing}: " + where
        if case.pickle_marker is not None:
            assert not case.pickle_marker.exists(), "the upload was UNPICKLED: " + where


def test_ledger_intact_after_all_uploads(running):
    """Runs after the corpus (file order): the session's ledger has exactly days 1..N, N the day shown."""
    p = running
    p.tick()
    days = ledger_days(p.ledger())
    assert days == list(range(1, p.day + 1)), f"ledger {days[:3]}..{days[-3:]} vs day {p.day}"


def test_rejected_upload_keeps_previous_file(shared_gunicorn, corpus):
    """A good file is accepted; a bad one afterwards is refused and the good one stays this session's data."""
    from tests.evidence.corpus import good_csv
    p = Page(shared_gunicorn.url).open()
    p.upload("good.csv", good_csv(rows=200).encode())
    assert "refused" not in p.text("upload-status").lower(), p.text("upload-status")
    options_before = p.s.get("series", "options")
    assert options_before, "the accepted file's series are offered"
    p.upload("text_in_number.csv", _case(corpus, "text_in_number.csv").path.read_bytes())
    assert "refused" in p.text("upload-status").lower()
    assert p.s.get("series", "options") == options_before
    p.start(data_source="upload", horizon=30, demand_mode="replay", speed=5.0)  # one day per tick
    assert p.ticking, f"Start on the kept upload failed: {p.message()!r}"
    p.run_ticks(2)
    assert p.day == 2
