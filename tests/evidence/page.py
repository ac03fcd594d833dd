"""The simulator page as a user drives it, over HTTP (bench.dash_client): the element ids of the web issue.

Why a page object: fault, bad-input, security and memory tests all do the same things a user does —
open the page, set controls, press Start, let the interval tick, upload a file, download the ledger —
and must send exactly the requests the page sends. Only element ids from the issue are used here
(start, pause, step, reset, horizon, ..., kpi-day, upload-data, upload-status, download-ledger); the tick's
interval component and the message area are found from the layout/callback graph.
"""
from __future__ import annotations

import base64
import csv
import io
import time
from typing import Any

import requests

from bench.dash_client import DashSession
from bench.load import find_interval, ledger_from_response, parse_day


class Page:
    def __init__(self, url: str, timeout: float = 20.0, session: DashSession | None = None) -> None:
        self.s = session or DashSession(url, timeout=timeout)
        self.interval_id: str | None = None

    # ------------------------------------------------------------------ opening and controls
    def open(self, path: str = "/") -> "Page":
        self.s.load(path)
        try:
            self.interval_id = find_interval(self.s)
        except LookupError:
            self.interval_id = None
        return self

    def reload(self) -> "Page":
        """F5 in the same tab: the session id survives (sessionStorage), everything else is fetched again."""
        return self.open()

    @property
    def sid(self) -> Any:
        return self.s.get("session-id", "data")

    def set(self, **controls: Any) -> "Page":
        """Set control values by element id (underscores map to dashes: lead_time -> lead-time)."""
        for k, v in controls.items():
            self.s.values[(k.replace("_", "-"), "value")] = v
        return self

    def click(self, button: str) -> requests.Response | None:
        return self.s.click(button)

    def start(self, **controls: Any) -> requests.Response | None:
        self.set(**controls)
        return self.click("start")

    # ------------------------------------------------------------------ the interval
    def tick(self) -> requests.Response:
        """One dcc.Interval firing (what the browser sends every `speed` seconds while enabled).

        A tick advances the days due by wall time (dashapp.pages.simulator.pace), at least one: tests that count one
        day per
        tick start their runs at the slowest pace (5 s/day) and tick faster than that."""
        assert self.interval_id, "the page has no interval driving a server callback"
        iid = self.interval_id
        n = (self.s.get(iid, "n_intervals") or 0) + 1
        self.s.values[(iid, "n_intervals")] = n
        cb = self.s.find(input=f"{iid}.n_intervals")
        r, changed, _ = self.s.fire(cb, [f"{iid}.n_intervals"])
        if changed:
            self.s._run([], changed)  # noqa: SLF001 - the chained callbacks the renderer would fire
        return r

    @property
    def ticking(self) -> bool:
        return bool(self.interval_id) and not self.s.get(self.interval_id, "disabled")

    def run_ticks(self, n: int, pause_s: float = 0.0) -> list[requests.Response]:
        out = []
        for _ in range(n):
            out.append(self.tick())
            if pause_s:
                time.sleep(pause_s)
        return out

    # ------------------------------------------------------------------ readouts
    @property
    def day(self) -> int | None:
        return parse_day(self.s.text("kpi-day"))

    def text(self, cid: str) -> str:
        return self.s.text(cid)

    def message(self) -> str:
        """Every visible message area of the page (sim message, upload status, status line)."""
        parts = []
        for cid in ("app-message", "sim-message", "upload-status", "sim-status"):
            t = self.s.text(cid)
            if t:
                parts.append(t)
        return " | ".join(parts)

    def ledger(self) -> list[dict]:
        """Press the download button and parse the CSV that comes back ([] when nothing came)."""
        for (cid, prop) in list(self.s.values):
            if self.s.types.get(cid) == "Download" and prop == "data":
                self.s.values[(cid, prop)] = None
        self.click("download-ledger")
        text = ledger_from_response(self.s)
        return list(csv.DictReader(io.StringIO(text))) if text else []

    def ledger_csv_text(self) -> str | None:
        self.ledger()
        return ledger_from_response(self.s)

    # ------------------------------------------------------------------ upload
    def upload(self, filename: str, content: bytes, mime: str = "text/csv") -> requests.Response | None:
        """What dcc.Upload sends after the browser read a file: a data URL plus the file name."""
        self.s.values[("upload-data", "filename")] = filename
        self.s.values[("upload-data", "last_modified")] = int(time.time())
        url = f"data:{mime};base64," + base64.b64encode(content).decode()
        try:
            return self.s.trigger("upload-data.contents", url)
        finally:
            self.s.values[("upload-data", "contents")] = None  # do not keep megabytes in the client

    def statuses(self) -> list[int]:
        return [c.status for c in self.s.calls]


def ledger_days(rows: list[dict]) -> list[int]:
    return [int(float(r["day"])) for r in rows]
