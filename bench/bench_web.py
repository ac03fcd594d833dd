"""Web benchmarks: tick callback server time (p50/p95, with the ensemble when models/ has one), bytes sent per
tick on day 10 vs day 300, gunicorn cold start to the first page, worker RSS.

Tick time is measured in-process through Flask's test client (the whole Dash dispatch: parse, session lock,
load state, step, save, build the Patch, serialise — no network); bytes are the tick response bodies.
Cold start and RSS use a real `gunicorn dashapp.app:server` subprocess on a free loopback port.

    python -m bench.bench_web [--quick]
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.app_server import free_port

REPO = Path(__file__).resolve().parent.parent


class _Resp:
    def __init__(self, r) -> None:
        self.status_code = r.status_code
        self.content = r.get_data()
        self.text = self.content.decode(errors="replace")

    def json(self):
        return json.loads(self.content)

    def raise_for_status(self):
        if self.status_code >= 400:
            raise RuntimeError(f"HTTP {self.status_code}: {self.text[:200]}")


class _TestHTTP:
    """The two calls bench.dash_client makes (get/post), served by Flask's test client in-process."""

    def __init__(self, server, base: str) -> None:
        self.client = server.test_client()
        self.base = base

    def get(self, url, timeout=None):
        return _Resp(self.client.get(url[len(self.base):] or "/"))

    def post(self, url, json=None, timeout=None):
        return _Resp(self.client.post(url[len(self.base):], json=json))


def _pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))]


def tick_figures(days: int = 320, forecaster: str | None = None) -> dict:
    from bench.dash_client import DashSession
    from dashapp.app import server
    from engine.forecast.registry import list_forecasters

    names = [f["name"] for f in list_forecasters()]
    if forecaster is None:
        forecaster = "ensemble:default" if "ensemble:default" in names else \
            next((n for n in names if n.startswith("ensemble:")), "ma7")
    base = "http://127.0.0.1:1"
    s = DashSession(base)
    s.http = _TestHTTP(server, base)
    s.load("/")
    s.trigger("start.n_clicks", 1, extra={"forecaster.value": forecaster, "horizon.value": days,
                                           "demand-mode.value": "synthetic",
                                           "speed.value": 5.0})  # the slowest pace: one day a tick
    msg = s.text("sim-message")
    if msg:
        raise RuntimeError(f"start refused: {msg}")
    tick = s.find(input="tick.n_intervals")
    times, sizes = [], {}
    for _ in range(days):
        before = s.get("sim-day", "data")["day"]
        r, _, _ = s.fire(tick, ["tick.n_intervals"])
        ms = s.calls[-1].ms  # the request alone (Dash dispatch in-process), not the client applying the patch
        after = s.get("sim-day", "data")["day"]
        if r.status_code != 200 or after != before + 1:
            raise RuntimeError(f"tick failed at day {before}: {r.status_code} {r.text[:200]}")
        times.append(ms)
        sizes[after] = len(r.content)
    warm = times[5:]
    return {
        "forecaster": forecaster,
        "ticks": len(times),
        "tick_server_ms_p50": round(statistics.median(warm), 2),
        "tick_server_ms_p95": round(_pct(warm, 95), 2),
        "tick_server_ms_max": round(max(warm), 2),
        "bytes_tick_day10": sizes.get(10),
        "bytes_tick_day300": sizes.get(300),
        # single days differ by their content (an order, an arrival, a stockout line in the log), not by growth
        "bytes_tick_mean_days_6_15": round(statistics.mean(sizes[d] for d in range(6, 16)), 1),
        "bytes_tick_mean_days_291_300": round(statistics.mean(sizes[d] for d in range(291, 301)), 1),
        "bytes_tick_max": max(sizes.values()),
    }


def gunicorn_figures(workers: int = 2, var: str | None = None) -> dict:
    import psutil
    import requests

    port = free_port()
    env = {**os.environ, "PORT": str(port), "WEB_CONCURRENCY": str(workers), "PYTHONPATH": str(REPO),
           "SECRET_KEY": "bench-secret-key-0123456789", "SIM_VAR_DIR": var or tempfile.mkdtemp(prefix="bench-web-")}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "dashapp.app:server", "--preload",
                             "--workers", str(workers),
                             "--bind", f"127.0.0.1:{port}"], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        first = None
        while time.perf_counter() - t0 < 60:
            try:
                if requests.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200:
                    first = time.perf_counter() - t0
                    break
            except requests.RequestException:
                time.sleep(0.02)
        if first is None:
            raise RuntimeError("gunicorn did not serve / within 60 s")
        # a real session with the ensemble in every worker: start + 20 ticks each, then measure RSS
        from bench.dash_client import DashSession
        from engine.forecast.registry import list_forecasters

        names = [f["name"] for f in list_forecasters()]
        fc = "ensemble:default" if "ensemble:default" in names else "ma7"
        for _ in range(workers * 2):
            s = DashSession(f"http://127.0.0.1:{port}")
            s.load("/")
            s.trigger("start.n_clicks", 1, extra={"forecaster.value": fc, "speed.value": 0.1})
            tick = s.find(input="tick.n_intervals")
            for _ in range(20):
                s.fire(tick, ["tick.n_intervals"])
        kids = psutil.Process(proc.pid).children()
        rss = [k.memory_info().rss / 2**20 for k in kids]
        # a worker killed mid-run: time until gunicorn has a replacement (forked from the preloaded master)
        # that serves the page
        import signal

        victim = kids[0].pid
        t1 = time.perf_counter()
        os.kill(victim, signal.SIGKILL)
        respawn = None
        while time.perf_counter() - t1 < 30:
            now = [k.pid for k in psutil.Process(proc.pid).children()]
            if victim not in now and len(now) == workers:
                try:
                    if requests.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200:
                        respawn = time.perf_counter() - t1
                        break
                except requests.RequestException:
                    pass
            time.sleep(0.01)
        return {"gunicorn_workers": workers, "cold_start_to_first_page_s": round(first, 2),
                "killed_worker_replaced_and_serving_s": None if respawn is None else round(respawn, 2),
                "worker_rss_mb_max": round(max(rss), 1), "worker_rss_mb_each": [round(x, 1) for x in rss],
                "rss_forecaster": fc}
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


# bench/report.py: this module writes the report's section of this title
SECTION = "Web app"
ORDER = 30


def run(quick: bool = False) -> dict:
    var = tempfile.mkdtemp(prefix="bench-web-")
    os.environ.setdefault("SIM_VAR_DIR", var)
    out = {}
    out.update(tick_figures(days=310 if not quick else 305))
    out.update(gunicorn_figures(workers=2))
    out["load_average_1min"] = round(os.getloadavg()[0], 2)
    out["cpus"] = os.cpu_count()
    out["goals"] = ("tick p95 <= 20 ms with the ensemble; bytes per tick equal on day 10 and 300 and <= 4 KB; "
                    "cold start <= 3 s; worker RSS <= 300 MB")
    return out


if __name__ == "__main__":
    res = run(quick="--quick" in sys.argv)
    for k, v in res.items():
        print(f"{k:32} {v}")
