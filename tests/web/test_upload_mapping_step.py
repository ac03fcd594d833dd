"""The mapping step refuses to guess between two plausible demand columns, on both upload boxes, without a browser:
the app's own callbacks are called through Flask's test client (as the browser's renderer would post them) in a
fresh process with its own var folder. /portfolio shows the question and leaves Demand unset; the simulator's upload
shows the question with a dropdown of the candidates, and picking one loads the file."""
from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO

PROBE = r"""
import base64, json
from dashapp.app import server
from dashapp.platform.session_ids import new_session_id

with server.test_client() as c:
    deps = c.get("/_dash-dependencies").get_json()


def post(input_id, prop, value, states):
    d = next(d for d in deps if any(i["id"] == input_id and i["property"] == prop for i in d["inputs"]))
    given = {(input_id, prop): value, **states}
    outputs = [dict(zip(("id", "property"), o.split(".", 1))) for o in d["output"].strip(".").split("...")]
    body = {"output": d["output"], "outputs": outputs, "changedPropIds": [f"{input_id}.{prop}"],
            "inputs": [{**i, "value": given.get((i["id"], i["property"]))} for i in d["inputs"]],
            "state": [{**s, "value": given.get((s["id"], s["property"]))} for s in d.get("state", [])]}
    with server.test_client() as c:
        r = c.post("/_dash-update-component", json=body)
    return r.status_code, r.get_json()["response"]


raw = b"date,sku,store,sales,quantity\n" + b"".join(
    f"2024-01-{d:02d},A,S1,{d % 3},{d % 5}\n".encode() for d in range(1, 29))
url = "data:text/csv;base64," + base64.b64encode(raw).decode()
sid = new_session_id()
out = {"portfolio": post("pf-upload", "contents", url, {("pf-upload", "filename"): "two.csv"})}
states = {("upload-data", "filename"): "two.csv", ("session-id", "data"): sid, ("upload-data", "contents"): url}
out["simulator"] = post("upload-data", "contents", url, states)
out["picked"] = post("upload-pick", "value", "quantity", states)
print(json.dumps(out))
"""


def _text(component) -> str:
    """The visible text of a rendered Dash component tree (JSON as the callback returns it)."""
    if isinstance(component, str):
        return component
    if isinstance(component, list):
        return " ".join(_text(c) for c in component)
    if isinstance(component, dict):
        return _text(component.get("props", {}).get("children", ""))
    return ""


def test_the_mapping_step_asks_for_the_demand_column_on_both_upload_boxes(tmp_path):
    env = {"SIM_VAR_DIR": str(tmp_path / "var"), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO),
           "SECRET_KEY": "test-secret-key-0123456789abcdef"}
    run = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=180)
    assert run.returncode == 0, run.stderr[-2000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])

    code, pf = out["portfolio"]
    assert code == 200
    question = _text(pf["pf-file-check"]["children"])
    assert "'sales' and 'quantity'" in question and "Pick" in question
    assert pf["pf-role-demand"]["value"] == "__none__"  # left for the user, not guessed
    assert pf["pf-file"]["data"]["ambiguous"] == {"demand": ["sales", "quantity"]}

    code, sim = out["simulator"]
    assert code == 200
    text = _text(sim["upload-status"]["children"])
    assert "'sales' and 'quantity'" in text and "Pick the demand column" in text
    assert [o["value"] for o in sim["upload-pick"]["options"]] == ["sales", "quantity"]
    assert sim["upload-mapping"]["style"] == {"display": "block"}
    assert "data-source" not in sim  # nothing loaded: the data source stays as it was

    code, picked = out["picked"]
    assert code == 200 and picked["data-source"]["value"] == "upload"
    assert "1 series, 28 rows" in _text(picked["upload-status"]["children"])
    assert picked["upload-mapping"]["style"] == {"display": "none"}
