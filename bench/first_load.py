"""First page after a fresh server start: how long the first browser waits for a rendered graph.

    python -m bench.first_load [--starts 12] [--json]

Each start launches the Procfile's web line (gunicorn --preload, 2 workers × 4 threads, timeout 60) with a fresh
var directory, waits only until its port accepts a TCP connection (not until a page answers), then opens / in a
headless Chromium that was started beforehand and records the time until the first graph of the simulator has
been drawn (a .js-plotly-plot with its traces). Per start it prints that time, the slowest request of the
gunicorn access log (path and server time) and whether the server log holds a worker timeout or restart, so a
slow first page can be traced to the request that held it. The machine's load average is printed beside it.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import time

from bench.app_server import AppServer
from bench.browser import make_browser

RENDERED = ("const g = document.querySelector('#graph-demand .js-plotly-plot');"
            "return !!(g && g.data && g.data.length);")


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _access_log(server: AppServer) -> list[tuple[float, str, str]]:
    """(server ms, status, path) of every request so far."""
    out = []
    try:
        for line in server.access_log_path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 3:
                out.append((int(parts[0]) / 1000, parts[1], parts[2]))
    except OSError:
        pass
    return out


def one_start(driver, limit: float) -> dict:
    server = AppServer(None, workers=2, preload=True, args=["--threads", "4"], access_log=True)
    t_launch = time.monotonic()
    server.start(wait=False)
    try:
        while not _port_open(server.port):
            if server.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {server.proc.returncode}:\n{server.log()[-2000:]}")
            if time.monotonic() - t_launch > 120:
                raise RuntimeError("the port did not open within 120 s")
            time.sleep(0.02)
        t_port = time.monotonic()
        driver.get(server.url + "/")
        rendered = None
        while time.monotonic() - t_port < limit:
            if driver.execute_script(RENDERED):
                rendered = time.monotonic() - t_port
                break
            time.sleep(0.05)
        requests_ = _access_log(server)
        slowest = max(requests_, default=(0.0, "-", "-"))
        log = server.log()
        return {"port_open_s": round(t_port - t_launch, 2),
                "first_graph_s": None if rendered is None else round(rendered, 2),
                "slowest_request": {"ms": round(slowest[0], 1), "status": slowest[1], "path": slowest[2]},
                "requests": len(requests_),
                "worker_timeout_or_restart": "WORKER TIMEOUT" in log or log.count("Booting worker") > 2,
                "loadavg_1min": round(os.getloadavg()[0], 2)}
    finally:
        server.stop()


def run(starts: int = 12, limit: float = 60.0) -> dict:
    driver = make_browser("1440,1000", page_load_timeout=60)
    try:
        driver.get("about:blank")
        results = []
        for _ in range(starts):
            driver.delete_all_cookies()
            results.append(one_start(driver, limit))
    finally:
        driver.quit()
    times = [r["first_graph_s"] for r in results if r["first_graph_s"] is not None]
    return {"starts": starts, "limit_s": limit, "never_rendered": starts - len(times),
            "first_graph_max_s": max(times, default=None),
            "first_graph_median_s": sorted(times)[len(times) // 2] if times else None, "runs": results}


def format_text(r: dict) -> str:
    lines = [f"first page after a fresh start of the Procfile server, {r['starts']} starts: first graph median "
             f"{r['first_graph_median_s']} s, max {r['first_graph_max_s']} s; not rendered within {r['limit_s']:g} s: "
             f"{r['never_rendered']}"]
    for i, x in enumerate(r["runs"], 1):
        s = x["slowest_request"]
        lines.append(f"  start {i}: port open after {x['port_open_s']} s, "
                     f"first graph {x['first_graph_s']} s after it; "
                     f"slowest request {s['ms']} ms {s['status']} {s['path']} of {x['requests']}; "
                     f"worker timeout/restart {x['worker_timeout_or_restart']}; load average {x['loadavg_1min']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.first_load", description=__doc__.splitlines()[0])
    ap.add_argument("--starts", type=int, default=12)
    ap.add_argument("--limit", type=float, default=60.0, help="seconds to wait for the first graph per start")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if not 1 <= args.starts <= 100 or not 1 <= args.limit <= 300:
        print("first-load bench cannot run: --starts must be 1..100, --limit 1..300", file=sys.stderr)
        return 2
    try:
        r = run(args.starts, args.limit)
    except RuntimeError as exc:
        print(f"first-load bench cannot run: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(r) if args.json else format_text(r))
    return 0 if r["never_rendered"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
