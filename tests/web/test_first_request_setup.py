"""A freshly imported app is set up before its first request: concurrent first requests of a new worker (the
renderer's bundles, the callback list) all succeed. Dash would otherwise set up on the first request and let a
concurrent one through half-way (a bundle answers 500, the page stays at "Loading...")."""
from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO

PROBE = r"""
import json, threading
from dashapp.app import app, server
state = {"flags": dict(app._got_first_request), "dash_registered": "dash" in app.registered_paths}
paths = ["/_dash-dependencies", "/_dash-layout"] + [
    "/_dash-component-suites/dash/" + p for p in sorted(app.registered_paths["dash"]) if p.endswith(".js")][:6]
codes = {}
def get(p):
    with server.test_client() as c:
        r = c.get(p)
        codes[p] = r.status_code
        if p == "/_dash-dependencies":
            state["router"] = any("_pages_content" in d["output"] for d in r.get_json())
threads = [threading.Thread(target=get, args=(p,)) for p in paths]
[t.start() for t in threads]
[t.join() for t in threads]
state["codes"] = codes
print(json.dumps(state))
"""


def test_a_new_process_is_set_up_before_its_first_request(tmp_path):
    env = {"SIM_VAR_DIR": str(tmp_path / "var"), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    state = json.loads(out.stdout.strip().splitlines()[-1])
    assert state["flags"] == {"pages": True, "setup_server": True} and state["dash_registered"]
    assert len(state["codes"]) == 8 and set(state["codes"].values()) == {200}, state["codes"]
    assert state["router"]  # the pages router's callback is in the list the first browser receives
