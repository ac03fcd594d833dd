"""Exported CSVs neutralise formula injection (=, +, -, @, tab, CR at the start of a text cell).

Text a user (or an attacker) controls can reach an export: series keys from an uploaded file, scenario names
typed into a table, and — because a Dash State comes from the browser — anything a forged request puts in a
store. Whatever reaches a CSV must not be executable when the file is opened in a spreadsheet.
"""
from __future__ import annotations

import csv
import io
import json

import pytest
import requests

from tests.evidence.corpus import HEADER, good_row
from tests.evidence.helpers import run_measured
from tests.evidence.page import Page

pytestmark = pytest.mark.slow

INJECTIONS = ["=cmd|' /C calc'!A0", "+HYPERLINK(\"http://x\")", "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
              "\t=1+1"]


def unsafe_cells(text: str) -> list[str]:
    bad = []
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            if not cell:
                continue
            if cell[0] in "=+@\t\r":
                bad.append(cell)
            elif cell[0] == "-":
                try:
                    float(cell)
                except ValueError:
                    bad.append(cell)
    return bad


def injected_file(n_rows: int = 200) -> bytes:
    lines = [HEADER]
    for i in range(n_rows):
        lines.append(good_row(i, sku=INJECTIONS[0], wh=INJECTIONS[1].replace(",", ";")))
    return ("\n".join(lines) + "\n").encode()


def test_simulator_ledger_export_is_safe(shared_gunicorn):
    p = Page(shared_gunicorn.url).open()
    p.upload("injection.csv", injected_file())
    status = p.text("upload-status")
    if "refused" in status.lower():
        pytest.skip(f"the upload refuses formula text outright (also safe): {status}")
    p.start(data_source="upload", horizon=20, demand_mode="forecast-noise", speed=5.0)
    assert p.ticking, p.message()
    p.run_ticks(5)
    text = p.ledger_csv_text()
    assert text, "no ledger came back"
    assert not unsafe_cells(text), f"formula cells in the ledger export: {unsafe_cells(text)[:5]}"


def test_scenario_export_neutralises_forged_names(shared_gunicorn):
    """The scenario CSV is built from a browser-held result: forge one whose names are formulas."""
    deps = requests.get(shared_gunicorn.url + "/_dash-dependencies", timeout=10).json()
    cb = next((c for c in deps if c["output"].startswith("sc-download.data")), None)
    if cb is None:
        pytest.fail("no scenario download callback (sc-download.data) registered")
    kpis = {k: {"mean": 1.0, "ci95": 0.1} for k in ("total_cost", "fill_rate", "cycle_service_level")}
    result = {"scenarios": [{"name": name, "kpis": kpis, "diff_vs_baseline": kpis} for name in INJECTIONS]}
    body = {"output": cb["output"], "outputs": {"id": "sc-download", "property": "data"},
            "inputs": [{"id": i["id"], "property": i["property"], "value": 1} for i in cb["inputs"]],
            "state": [{"id": s["id"], "property": s["property"], "value": result if s["property"] == "data" else None}
                      for s in cb.get("state", [])],
            "changedPropIds": [f"{cb['inputs'][0]['id']}.{cb['inputs'][0]['property']}"]}
    r = requests.post(shared_gunicorn.url + "/_dash-update-component", json=body, timeout=30)
    assert r.status_code in (200, 204), f"HTTP {r.status_code}: {r.text[:300]}"
    if r.status_code == 204:
        return  # the server refused the forged result outright: nothing exported
    data = r.json()["response"]["sc-download"]["data"]
    content = data["content"]
    if data.get("base64"):
        import base64
        content = base64.b64decode(content).decode()
    bad = unsafe_cells(content)
    assert not bad, f"the scenario CSV export carries formula cells: {bad[:6]}"


def test_cli_ledger_export_is_safe(tmp_path):
    data = tmp_path / "injection.csv"
    data.write_bytes(injected_file())
    out = tmp_path / "ledger.csv"
    res = run_measured(["-m", "engine", "simulate", "--data", str(data), "--demand", "synthetic", "--days", "30",
                        "--ledger", str(out)], timeout=120, tmp=tmp_path)
    if res.rc == 2:
        pytest.skip(f"the CLI refuses formula text outright (also safe): {res.out[:200]}")
    assert res.rc == 0, res.out[-800:]
    text = out.read_text()
    assert not unsafe_cells(text), unsafe_cells(text)[:5]
    js = run_measured(["-m", "engine", "validate", str(data)], timeout=60, tmp=tmp_path)
    assert "Traceback" not in js.out


def test_ledger_csv_helper_neutralises_text():
    from dashapp.pages.simulator.session_views import ledger_csv
    rows = [{"day": 1, "note": s, "value": -3.5} for s in INJECTIONS]
    text = ledger_csv(rows)
    assert not unsafe_cells(text), unsafe_cells(text)
    assert "-3.5" in text, "negative numbers stay numbers"
    assert json.dumps(text)  # plain text
