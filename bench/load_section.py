"""The load test (bench/load.py) against a real gunicorn it starts itself, embedded store: 50 sessions × 60 s
ticking every 300 ms (quick: 5 × 5 s), the client spread over 4 processes; first the Procfile's configuration
(2 workers with 4 threads each, gthread), then 2 plain sync workers for comparison.

Goal per configuration: 0 errors, p95 ≤ 100 ms, every session's ledger complete.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SECTION = "Load test"
ORDER = 90
CONFIGURATIONS = (("Procfile (gthread, --threads=4)", ["--threads=4"]), ("sync workers", []))
P95_GOAL_MS = 100


def run(quick: bool = False) -> dict:
    from bench.load import format_text, run_load, server_times, spawn_server

    sessions, seconds, workers, procs = (5, 5, 2, 2) if quick else (50, 60, 2, 4)
    out = {"configurations": {}, "texts": []}
    for label, extra in CONFIGURATIONS:
        server = spawn_server(workers, extra)
        try:
            before = os.getloadavg()[0]
            r = run_load(server.url, sessions, seconds, 300, procs=procs)
            r.update(server_times(server))
            r["loadavg_1min_before"], r["loadavg_1min_after"] = round(before, 2), round(os.getloadavg()[0], 2)
            r["server"] = f"gunicorn, {workers} workers {' '.join(extra)} (spawned), embedded diskcache store"
        finally:
            server.close()
        cmd = (f"python -m bench.load --sessions {sessions} --seconds {seconds} --spawn --workers {workers} "
               f"--procs {procs}" + "".join(f" --gunicorn-arg={a}" for a in extra))
        out["texts"].append(f"### {label}\n\n`{cmd}`\n\n```\n{format_text(r)}\n```\n")
        out["configurations"][label] = r
    return out


def markdown(result: dict) -> str:
    return "\n".join(result["texts"])


def goals(result: dict) -> list:
    from bench.report import Goal

    out = []
    for label, r in result["configurations"].items():
        p95 = r.get("p95_ms")
        met = r["errors"] == 0 and p95 is not None and p95 <= P95_GOAL_MS and r["incomplete_ledgers"] == 0
        out.append(Goal(f"load, {label}", f"0 errors, p95 ≤ {P95_GOAL_MS} ms, every ledger complete",
                        f"{r['errors']} errors, p95 {p95 if p95 is None else f'{p95:.0f}'} ms, "
                        f"{r['incomplete_ledgers']} incomplete ledgers", met))
    return out
