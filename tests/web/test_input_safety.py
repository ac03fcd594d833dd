"""Bad input never breaks a session: bad uploads show their message in upload-status (in the browser) and leave
the run untouched; forged callback requests (out-of-range values, paths as names, forged ids, oversized bodies)
are refused with a message, never an HTTP 500."""
from __future__ import annotations

import base64
import json
import time

import pytest
import requests

from bench.dash_client import DashSession
from tests.web.conftest import click, open_app, snapshot, wait_until

UPLOAD_LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def app(server_factory, sample_csv):
    return server_factory(workers=2, env={"SIM_SAMPLE_DATA": str(sample_csv), "UPLOAD_MAX_BYTES": str(UPLOAD_LIMIT)})


BAD_FILES = [
    ("empty.csv", b"", "is empty"),
    ("header_only.csv", b"Date,Units_Sold\n", "no data rows"),
    ("no_units.csv", b"Date,Foo\n2024-01-01,3\n", "no column looks like the demand"),
    ("text_in_number.csv", b"Units_Sold\n3\nabc\n4\n", "row 3, column Units_Sold: 'abc' is not a number"),
    ("negative.csv", b"Units_Sold\n3\n-4\n", "negative"),
    ("weekly.csv", b"Date;Units_Sold\n2024-01-01;3\n2024-01-08;4\n2024-01-15;4\n", "weekly"),
    ("binary.csv", bytes(range(256)) * 4, "binary"),
    ("too_big.csv", b"Units_Sold\n" + b"12\n" * (UPLOAD_LIMIT // 3 + 100), "upload limit"),
]


@pytest.mark.browser
def test_bad_uploads_show_their_message_and_leave_the_run_untouched(app, browser_factory, tmp_path):
    d = browser_factory()
    open_app(d, app.url)
    click(d, "start")
    wait_until(lambda: snapshot(d)["day"] >= 3, 10, what="running")
    click(d, "pause")
    wait_until(lambda: d.find_element("id", "pause").text == "Resume", 5, what="paused")
    time.sleep(0.5)
    before = snapshot(d)
    file_input = d.find_element("css selector", "#upload-data input[type=file]")
    for name, content, needle in BAD_FILES:
        path = tmp_path / name
        path.write_bytes(content)
        file_input.send_keys(str(path))
        wait_until(lambda name=name: name in d.find_element("id", "upload-status").text, 10, what=f"message for {name}")
        status = d.find_element("id", "upload-status").text
        assert needle in status, (name, status)
    after = snapshot(d)
    assert after == before  # the paused run is exactly as it was
    assert d.find_element("id", "data-source").text.startswith("Bundled sample")

    import datetime as dt

    good = tmp_path / "good.csv"
    start = dt.date(2024, 1, 1)
    good.write_text("Date,SKU_ID,Warehouse_ID,Units_Sold\n" + "".join(
        f"{start + dt.timedelta(days=i)},SKU_9,WH_{w},{10 + (i * w) % 7}\n" for w in (1, 2) for i in range(200)))
    file_input.send_keys(str(good))
    wait_until(lambda: "good.csv: 2 series" in d.find_element("id", "upload-status").text, 10, what="good upload")
    wait_until(lambda: "SKU_9/WH_1" in d.find_element("id", "series").text, 5, what="series picker")
    assert snapshot(d) == before  # uploading does not touch the run either
    if "ensemble:default" in d.find_element("id", "forecaster").text or "Ensemble model 'default'" in \
            d.find_element("id", "forecaster").text:
        click(d, "start")  # the bundled ensemble needs the planning column this file lacks: a message, no run
        wait_until(lambda: d.switch_to.alert, 5, what="the restart confirmation").accept()
        wait_until(lambda: "Demand_Forecast" in d.find_element("id", "sim-message").text, 10, what="message")
        assert snapshot(d) == before
    planned = tmp_path / "planned.csv"
    planned.write_text("Date,SKU_ID,Warehouse_ID,Units_Sold,Demand_Forecast\n" + "".join(
        f"{start + dt.timedelta(days=i)},SKU_9,WH_{w},{10 + (i * w) % 7},{12.5}\n" for w in (1, 2)
        for i in range(200)))
    file_input.send_keys(str(planned))
    wait_until(lambda: "planned.csv: 2 series" in d.find_element("id", "upload-status").text, 10, what="upload")
    click(d, "start")  # a new run on the uploaded series: the paused run is discarded after a confirmation
    wait_until(lambda: d.switch_to.alert, 5, what="the restart confirmation").accept()
    wait_until(lambda: snapshot(d)["day"] >= 2 and snapshot(d)["status"] == "running", 10, what="run on the upload")
    assert "Traceback" not in app.log()


@pytest.mark.browser
@pytest.mark.parametrize("path, upload, status", [
    ("/orders", "or-stock-upload", "or-stock-status"),
    ("/orders", "or-items-upload", "or-items-status"),
    ("/portfolio", "pf-upload", "pf-upload-status"),
    ("/optimum", "optx-upload", "optx-upload-status"),
])
def test_a_file_over_the_limit_is_named_on_every_upload_not_dropped_silently(app, browser_factory, tmp_path, path,
                                                                            upload, status):
    """dcc.Upload's max_size drops a larger file without calling back (plotly/dash#2638): each upload's status line
    says so (assets/upload_limit.js reads the limit and the upload it belongs to from the status element)."""
    big = tmp_path / "big.csv"
    big.write_bytes(b"Units_Sold\n" + b"12\n" * (UPLOAD_LIMIT // 3 + 100))
    d = browser_factory()
    d.get(app.url + path)
    wait_until(lambda: d.find_element("css selector", f"#{upload} input[type=file]"), 20, what=path)
    d.find_element("css selector", f"#{upload} input[type=file]").send_keys(str(big))
    wait_until(lambda: "larger than the" in d.find_element("id", status).text, 10, what=f"the refusal on {path}")
    assert d.find_element("id", status).text == ("big.csv: the file is 64.3 kB, larger than the 64.0 kB upload limit; "
                                                 "nothing was loaded")


# ------------------------------------------------------------------------------------------- forged requests
def session(app) -> DashSession:
    s = DashSession(app.url)
    s.load("/")
    assert s.text("kpi-day").startswith("Day 0")
    return s


def message(s: DashSession) -> str:
    return s.text("sim-message")


@pytest.mark.parametrize("field, value, needle", [
    ("horizon.value", 10**9, "horizon: 1000000000 is out of range"),
    ("horizon.value", "abc", "horizon: 'abc' is not a number"),
    ("horizon.value", "1e309", "not a finite number"),
    ("horizon.value", 2.5, "must be a whole number"),
    ("lead-time.value", -1, "lead time: -1 is out of range"),
    ("forecaster.value", "/etc/passwd", "forecaster: '/etc/passwd' is not one of the offered choices"),
    ("forecaster.value", "ensemble:../../etc", "is not one of the offered choices"),
    ("forecaster.value", {"__class__": "x"}, "is not one of the offered choices"),
    ("policy.value", "__import__('os')", "policy"),
    ("demand-mode.value", "file:///etc/passwd", "demand mode"),
    ("data-source.value", "/etc/passwd", "data source"),
    ("series.value", "../../etc/passwd", "series: '../../etc/passwd' is not in sample.csv"),
    ("holding-rate.value", -0.5, "holding rate"),
    ("service-level.value", 1.5, "service level"),
])
def test_forged_control_values_are_refused_with_a_message(app, field, value, needle):
    s = session(app)
    r = s.trigger("start.n_clicks", 1, extra={field: value})
    assert r.status_code == 200, r.text[:300]
    assert needle in message(s), message(s)
    assert s.text("kpi-day").startswith("Day 0")  # nothing started


def test_engine_validation_reaches_the_page(app):
    """A value inside the page's bounds that the engine refuses (stockout cost 0 → p ≤ 0) gets the engine's message."""
    s = session(app)
    r = s.trigger("start.n_clicks", 1, extra={"stockout-cost.value": 0})
    assert r.status_code == 200
    assert "refused" in message(s) and "stockout" in message(s).lower()


def test_forged_session_ids_get_a_fresh_session(app):
    s = session(app)
    s.trigger("start.n_clicks", 1)
    real = s.get("session-id", "data")
    for forged in ("../../etc/passwd", real.split(".")[0] + ".AAAAAAAAAAAAAAAA", {"a": 1}, 12345):
        t = session(app)
        r = t.trigger("start.n_clicks", 1, extra={"session-id.data": forged})
        assert r.status_code == 200
        assert t.get("session-id", "data") not in (forged, real)


def test_forged_ticks_are_no_ops_or_refused(app):
    s = session(app)
    s.trigger("pause.n_clicks", 0)  # nothing
    s.trigger("start.n_clicks", 1)
    tick = s.find(input="tick.n_intervals")
    day0 = s.get("sim-day", "data")
    body = s.request_body(tick, ["tick.n_intervals"])
    r1 = s.post(body)
    r2 = s.post(body)  # the same tick again: the state is already past the day it expects
    assert r1.status_code == r2.status_code == 200
    d1, d2 = r1.json()["response"]["sim-day"]["data"], r2.json()["response"]["sim-day"]["data"]
    assert d1 == d2 == {"run": day0["run"], "day": day0["day"] + 1}  # one step, not two
    for bad in ({"run": "x", "day": 1}, {"run": 1, "day": -5}, "day", None):
        body = s.request_body(tick, ["tick.n_intervals"])
        for st in body["state"]:
            if st["id"] == "sim-day":
                st["value"] = bad
        r = s.post(body)
        assert r.status_code == 200, r.text[:200]


def test_forged_uploads_and_bodies_never_500(app):
    s = session(app)
    up = s.find(input="upload-data.contents")

    def upload(contents, filename="x.csv"):
        body = s.request_body(up, ["upload-data.contents"])
        body["inputs"][0]["value"] = contents
        for st in body["state"]:
            if st["property"] == "filename":
                st["value"] = filename
        r = s.post(body)
        assert r.status_code == 200, r.text[:200]
        return json.dumps(r.json())

    assert "not valid base64" in upload("data:text/csv;base64,!!!not-base64")
    assert "not a file upload" in upload(12345)
    big = base64.b64encode(b"1\n" * (UPLOAD_LIMIT // 2 + 10)).decode()
    assert "upload limit" in upload("data:text/csv;base64," + big)
    assert "x.csv" in upload("data:text/csv;base64," + base64.b64encode(b"").decode(), "../../../x.csv")
    # a body over the request limit: a JSON 413, not a 500 page
    r = requests.post(app.url + "/_dash-update-component", data=b"x" * (4 * UPLOAD_LIMIT),
                      headers={"Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 413 and "upload limit" in r.json()["message"]
    # malformed callback requests
    for body in ({"output": "nope.children", "outputs": {"id": "nope", "property": "children"}, "inputs": [],
                  "changedPropIds": []}, {"garbage": True}, "not json"):
        r = requests.post(app.url + "/_dash-update-component", json=body, timeout=10)
        assert r.status_code < 500, (body, r.status_code, r.text[:200])
    assert "Traceback" not in app.log()
