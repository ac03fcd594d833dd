"""Security claims, tested with forged requests against real gunicorn (what an attacker's script would send).

- No request can make the server unpickle, import or open a path the client chose (forecaster names are
  checked against the registry; data is the bundled sample or this session's upload, never a path).
- Session ids are unguessable; an id of the right shape but the wrong value gets a fresh session.
- The upload size limit is enforced by the server; out-of-range forged parameters are refused with a message.
- Debug mode is off under gunicorn; SECRET_KEY is required when several processes must share it.
"""
from __future__ import annotations

import json
import pickle
import re
import secrets
import string
import time
from pathlib import Path

import pytest
import requests

from bench.app_server import AppServer
from tests.conftest import REPO
from tests.evidence.conftest import gunicorn_server
from tests.evidence.corpus import _MarkerPayload
from tests.evidence.page import Page, ledger_days

pytestmark = pytest.mark.slow


def refused(p: Page, field_words: tuple[str, ...]) -> str:
    msg = p.message()
    low = msg.lower()
    assert "refused" in low, f"no refusal message: {msg!r}"
    assert any(w in low for w in field_words), f"the message should name {field_words}: {msg!r}"
    return msg


def no_5xx(p: Page) -> None:
    bad = [(c.output[:40], c.status, c.error[:200]) for c in p.s.calls if c.status >= 500]
    assert not bad, f"HTTP 5xx: {bad}"


@pytest.fixture(scope="module")
def victim(shared_gunicorn):
    """A session with a run in progress: forged requests must never disturb it."""
    p = Page(shared_gunicorn.url).open()
    p.start(horizon=300, demand_mode="forecast-noise", speed=5.0, seed=7)
    assert p.ticking, p.message()
    p.run_ticks(4)
    assert p.day == 4
    return p


# ------------------------------------------------------------------------------------------ no client-chosen code/paths
def test_forecaster_name_never_used_as_path_or_import(victim, tmp_path):
    marker = tmp_path / "UNPICKLED"
    pkl = tmp_path / "model.pkl"
    pkl.write_bytes(pickle.dumps(_MarkerPayload(str(marker))))
    (tmp_path / "card.json").write_text(json.dumps({"name": "evil", "files": ["model.pkl"]}))
    p = victim
    day = p.day
    names = [str(pkl), str(tmp_path), "../../../../etc/passwd", "/etc/passwd", f"ensemble:{tmp_path}",
             "ensemble:../../../../" + str(tmp_path).lstrip("/"), "ensemble:../tests", "os", "subprocess",
             "__import__('os').system('id')", "engine.forecast.train", "file://" + str(pkl), "pickle:" + str(pkl),
             "", None, 42, ["ma7"], {"name": "ma7"}]
    for name in names:
        p.start(forecaster=name, horizon=300, demand_mode="forecast-noise", speed=5.0, seed=7)
        refused(p, ("forecaster",))
        assert not marker.exists(), f"forecaster={name!r} made the server UNPICKLE a client-chosen file"
    p.set(forecaster="ma7")
    p.tick()
    assert p.day == day + 1, f"the running simulation was disturbed: {p.text('kpi-day')!r}"
    no_5xx(p)


def test_data_source_and_series_never_paths(victim):
    p = victim
    day = p.day
    for field, value, words in [("data_source", "/etc/passwd", ("data",)),
                                ("data_source", "../data/sample.csv", ("data",)),
                                ("series", "../../etc/passwd", ("series",)), ("series", {"$ne": 1}, ("series",))]:
        p.start(**{"horizon": 300, "demand_mode": "forecast-noise", "speed": 5.0, "seed": 7, field: value})
        refused(p, words)
        p.set(data_source="sample", series=None)
    p.tick()
    assert p.day == day + 1
    no_5xx(p)


def test_serving_code_never_unpickles_or_imports_by_name():
    """Source guard: nothing under dashapp/ or the engine's serving path can unpickle or eval.
    (importlib over fixed module-name constants, as engine/cli/main.py and engine/policies/base.py do for optional
    plugins,
    is fine; a client-chosen import is covered by the forged-forecaster test above.)"""
    risky = re.compile(r"\b(pickle\.loads?|joblib\.load|cloudpickle|dill\.load|"
                       r"__import__\(|torch\.load|np\.load\([^)]*allow_pickle\s*=\s*True|\beval\(|\bexec\()")
    allowed = {"engine/forecast/legacy.py", "engine/forecast/train.py", "engine/forecast/export.py"}
    hits = []
    for path in list((REPO / "dashapp").rglob("*.py")) + list((REPO / "engine").rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        if rel in allowed:
            continue
        for i, line in enumerate(path.read_text().splitlines(), 1):
            if risky.search(line) and not line.lstrip().startswith("#"):
                hits.append(f"{rel}:{i}: {line.strip()}")
    assert not hits, "serving code that can unpickle/import/eval by name:\n" + "\n".join(hits)


# ------------------------------------------------------------------------------------------ session ids
def test_session_ids_unguessable(shared_gunicorn):
    ids = []
    for _ in range(60):
        p = Page(shared_gunicorn.url).open()
        ids.append(p.sid)
    assert all(isinstance(i, str) for i in ids), ids[:3]
    assert len(set(ids)) == len(ids), "two fresh sessions got the same id"
    alphabet = set(string.ascii_letters + string.digits + "-_.")
    for sid in ids:
        assert set(sid) <= alphabet, f"unexpected characters in {sid!r}"
    tokens = [i.split(".")[0] for i in ids]
    bits = min(len(t) for t in tokens) * 6  # base64url: 6 bits per character
    assert bits >= 128, f"session ids carry only ~{bits} random bits"
    # every position varies (no counter, no timestamp prefix)
    for pos in range(min(len(t) for t in tokens)):
        assert len({t[pos] for t in tokens}) >= 15, f"position {pos} of the id barely varies: not random"


def _forged_variants(real: str) -> list[str]:
    token, _, tag = real.partition(".")
    flip = "A" if token[5] != "A" else "B"
    rand_token = secrets.token_urlsafe(len(token) * 3 // 4)[:len(token)]
    return [
        token[:5] + flip + token[6:] + "." + tag,             # one character of the token changed
        rand_token + "." + tag,                                # another token with this tag
        rand_token + "." + secrets.token_urlsafe(len(tag))[:len(tag)],  # right shape, random value
        token,                                                 # token without its tag
        real + "x",                                            # appended
        real.upper(),
    ]


def test_forged_session_id_gets_fresh_session(shared_gunicorn, victim):
    real = victim.sid
    victim_day = victim.day
    for forged in _forged_variants(real):
        p = Page(shared_gunicorn.url)
        p.s.browser_storage["session-id"] = forged  # the attacker's tab carries the forged id
        p.open()
        assert p.sid != real and p.sid != forged, f"forged id {forged!r} was accepted as a session"
        assert p.day in (0, None), f"forged id {forged!r} shows someone's day {p.text('kpi-day')!r}"
        # the attacker's own requests with the forged id: ticks and ledger download reveal nothing
        p.s.values[("session-id", "data")] = forged
        p.s.values[("sim-day", "data")] = {"run": 1, "day": 0}
        r = p.tick()
        assert r.status_code in (200, 204)
        assert p.day in (0, None), f"a tick with a forged id returned days: {p.text('kpi-day')!r}"
        assert p.ledger() == [], f"ledger download with forged id {forged!r} returned rows"
        no_5xx(p)
    victim.tick()
    assert victim.day == victim_day + 1, "the victim's session was disturbed by forged ids"


# ------------------------------------------------------------------------------------------ forged parameters
OUT_OF_RANGE = [
    ("horizon", 10**9), ("horizon", -5), ("horizon", 0), ("horizon", 1.5), ("horizon", "abc"), ("horizon", True),
    ("lead_time", -1), ("lead_time", 10**6), ("holding_rate", -0.1), ("holding_rate", 1e9),
    ("holding_rate", "NaN"), ("holding_rate", "inf"), ("noise", -1), ("noise", 1e9), ("speed", 0), ("speed", -1),
    ("speed", 1e9), ("seed", -1), ("seed", 2**70), ("demand_mode", "evil"), ("policy", "../../x"),
    ("unit_cost", -5), ("unit_price", "1e999"), ("initial_inventory", -1), ("service_level", 1.5),
]


@pytest.mark.parametrize("field,value", OUT_OF_RANGE, ids=[f"{f}={v!r}"[:40] for f, v in OUT_OF_RANGE])
def test_out_of_range_forged_parameter_refused(victim, field, value):
    p = victim
    day = p.day
    p.start(**{"horizon": 300, "demand_mode": "forecast-noise", "speed": 5.0, "seed": 7, field: value})
    refused(p, (field.replace("_", " "), field.replace("_", "-"), field))
    # put the good value back (as the page's input would hold it) and check the run is intact
    p.set(horizon=300, demand_mode="forecast-noise", speed=5.0, seed=7, lead_time=7, holding_rate=0.25, noise=0.1,
          policy="order-up-to", unit_cost=None, unit_price=None, initial_inventory=None, service_level=None)
    p.tick()
    assert p.day == day + 1, f"after a refused {field}={value!r}: {p.text('kpi-day')!r}"
    no_5xx(p)


@pytest.mark.parametrize("shown", [{"run": 1, "day": 10**9}, {"run": 1, "day": -3}, {"run": "x", "day": 1},
                                   "garbage", None, {"day": 2}, {"run": 10**12, "day": 0}])
def test_forged_tick_state_is_harmless(shared_gunicorn, shown):
    p = Page(shared_gunicorn.url).open()
    p.start(horizon=200, demand_mode="forecast-noise", speed=5.0)
    p.run_ticks(2)
    good = p.s.get("sim-day", "data")
    p.s.values[("sim-day", "data")] = shown
    r = p.tick()
    assert r.status_code in (200, 204), f"forged tick state {shown!r}: HTTP {r.status_code}"
    p.s.values[("sim-day", "data")] = good
    p.reload()
    assert p.day == 2 or p.day == 3, f"forged tick state {shown!r} changed the session: {p.text('kpi-day')!r}"
    days = ledger_days(p.ledger())
    assert days == list(range(1, p.day + 1))
    no_5xx(p)


def test_malformed_callback_requests_get_4xx_not_500(shared_gunicorn):
    url = shared_gunicorn.url + "/_dash-update-component"
    bodies = [b"not json", b"{}", json.dumps({"output": "nope.children", "inputs": [], "state": []}).encode(),
              json.dumps({"output": "tick.interval", "outputs": {"id": "tick", "property": "interval"},
                          "inputs": [], "state": [], "changedPropIds": []}).encode(), b"[" * 10000]
    codes = []
    for b in bodies:
        r = requests.post(url, data=b, headers={"Content-Type": "application/json"}, timeout=10)
        codes.append(r.status_code)
        assert "Traceback" not in r.text, "a traceback was sent to the client"
    assert all(c < 500 for c in codes), f"malformed callback requests answered with {codes} (want 4xx)"


# ------------------------------------------------------------------------------------------ upload limit
def test_upload_size_limit_enforced_server_side(shared_gunicorn, victim):
    """dcc.Upload's max_size is a browser-side convenience; the server refuses a 21 MB file itself."""
    p = victim
    day = p.day
    content = b"Units_Sold\n" + b"12\n" * (7 * 2**20)  # 21 MB of otherwise valid rows
    r = p.upload("big.csv", content)
    assert r.status_code == 200
    msg = p.text("upload-status").lower()
    assert "big.csv" in msg and ("limit" in msg or "larger" in msg), f"no size refusal: {msg!r}"
    p.tick()
    assert p.day == day + 1


def test_request_body_limit_refuses_before_reading(shared_gunicorn, victim, tmp_path):
    from tests.evidence.streaming import b64_chunks, post_streamed, upload_body_parts
    f = tmp_path / "huge.csv"
    with open(f, "wb") as fh:
        fh.truncate(3 * 2**30)  # 3 GB sparse: 4 GB of base64
    cb = victim.s.find(input="upload-data.contents")
    pre, post, n = upload_body_parts(cb, f, "huge.csv", victim.sid)
    res = post_streamed(shared_gunicorn.url, "/_dash-update-component", pre, b64_chunks(f), post,
                        len(pre) + n + len(post), timeout=60)
    assert res.status == 413, f"expected 413 for a {res.total:,}-byte body, got {res.status}: {res.body[:200]!r}"
    assert res.sent < 200 * 2**20, f"the server let {res.sent:,} bytes in before refusing"
    assert "limit" in res.body.lower()


# ------------------------------------------------------------------------------------------ hosting configuration
def test_debug_off_under_gunicorn(shared_gunicorn):
    html = requests.get(shared_gunicorn.url + "/", timeout=10).text
    m = re.search(r'<script id="_dash-config" type="application/json">(.*?)</script>', html, re.S)
    assert m, "no _dash-config in the page"
    cfg = json.loads(m.group(1))
    assert cfg.get("ui") is False, f"Dash dev-tools UI is on under gunicorn: {cfg.get('ui')}"
    assert not cfg.get("hot_reload"), "hot reload is on under gunicorn"
    assert not cfg.get("props_check"), "props check (debug) is on under gunicorn"
    r = requests.post(shared_gunicorn.url + "/_dash-update-component", json={"output": "x.y"}, timeout=10)
    assert "Traceback" not in r.text and "werkzeug" not in r.text.lower()


def _boot(tmp_path: Path, env: dict, secret: str | None, workers: int) -> tuple[AppServer, int | None, str]:
    g = gunicorn_server(tmp_path / f"var{secrets.token_hex(3)}", workers=workers, env=env, secret=secret)
    g.start(wait=False)
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and g.proc.poll() is None:
        try:
            if requests.get(g.url + "/", timeout=1).status_code == 200:
                break
        except requests.RequestException:
            pass
        time.sleep(0.3)
    rc = g.proc.poll()
    log = g.log()
    g.stop()
    return g, rc, log


@pytest.mark.parametrize("env,workers,why", [
    ({"WEB_CONCURRENCY": "2"}, 2, "two workers"),
    ({"REDIS_URL": "redis://127.0.0.1:1/0", "WEB_CONCURRENCY": "1"}, 1, "Redis (several hosts)"),
])
def test_secret_key_required_when_shared(tmp_path, env, workers, why):
    _g, rc, log = _boot(tmp_path, env, None, workers)
    assert rc is not None, f"gunicorn kept running without SECRET_KEY ({why}); log:\n{log[-1500:]}"
    assert rc != 0
    assert "SECRET_KEY" in log, f"the refusal does not name SECRET_KEY:\n{log[-1500:]}"
    assert "Traceback" not in log.split("SECRET_KEY")[0][-2000:] or "configuration error" in log, log[-1500:]


def test_single_worker_without_secret_key_starts(tmp_path):
    _g, rc, log = _boot(tmp_path, {"WEB_CONCURRENCY": "1"}, None, 1)
    assert rc is None, f"a single embedded worker should start without SECRET_KEY; rc={rc}\n{log[-1500:]}"


def test_short_secret_key_refused(tmp_path):
    _g, rc, log = _boot(tmp_path, {"WEB_CONCURRENCY": "2"}, "short", 2)
    assert rc not in (None, 0) and "SECRET_KEY" in log, log[-1500:]
