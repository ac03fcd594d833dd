"""Server CPU per request of the simulator page — page load, Start, tick — measured in-process.

    python -m bench.request_cpu [--sessions 12] [--ticks 20]

Why CPU and in-process: on a machine shared with other jobs, latency measures the queue for the cores; the CPU a
request costs the server does not depend on that queue (much), so it compares two versions fairly. Each request
runs through the whole Flask/Dash dispatch (Flask's test client, no network); the figure is the thread CPU time
of the WSGI call, so the simulated browser's own work (bench.dash_client) is not counted. Settings: the defaults
with a 730-day horizon and forecast-noise demand, speed 5 s/day (each tick is one day).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time


def run(sessions: int = 12, ticks: int = 20) -> dict:
    os.environ.setdefault("SIM_VAR_DIR", tempfile.mkdtemp(prefix="request-cpu-"))
    from bench.bench_web import _TestHTTP
    from bench.dash_client import DashSession
    from dashapp.app import server

    spent: list[float] = []
    inner = server.wsgi_app

    def timed(environ, start_response):
        c0 = time.thread_time()
        try:
            return inner(environ, start_response)
        finally:
            spent.append(1000 * (time.thread_time() - c0))

    server.wsgi_app = timed
    kinds: dict[str, list[float]] = {"page load": [], "start": [], "tick": []}

    def cpu(fn, *args) -> float:
        n = len(spent)
        fn(*args)
        return sum(spent[n:])

    base = "http://127.0.0.1:1"
    try:
        for _ in range(sessions):
            s = DashSession(base)
            s.http = _TestHTTP(server, base)
            kinds["page load"].append(cpu(s.load, "/"))
            s.values.update({("horizon", "value"): 730, ("speed", "value"): 5.0,
                             ("demand-mode", "value"): "forecast-noise"})
            kinds["start"].append(cpu(s.click, "start"))
            tick = s.find(input="tick.n_intervals")
            for _ in range(ticks):
                kinds["tick"].append(cpu(s.fire, tick, ["tick.n_intervals"]))
    finally:
        server.wsgi_app = inner
    warm = {"page load": kinds["page load"][2:], "start": kinds["start"][2:], "tick": kinds["tick"][2 * ticks:]}
    return {k: {"n": len(v), "median_ms": round(statistics.median(v), 1), "mean_ms": round(statistics.mean(v), 1)}
            for k, v in warm.items()} | {"loadavg_1min": round(os.getloadavg()[0], 2)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.request_cpu", description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=12)
    ap.add_argument("--ticks", type=int, default=20)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if not 3 <= args.sessions <= 200 or not 1 <= args.ticks <= 500:
        print("request-cpu bench cannot run: --sessions must be 3..200, --ticks 1..500", file=__import__("sys").stderr)
        return 2
    r = run(args.sessions, args.ticks)
    if args.json:
        print(json.dumps(r))
    else:
        print("server CPU per request (thread CPU time of the WSGI call, in-process; load average "
              f"{r['loadavg_1min']}):")
        for k in ("page load", "start", "tick"):
            print(f"  {k}: median {r[k]['median_ms']} ms, mean {r[k]['mean_ms']} ms (n={r[k]['n']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
