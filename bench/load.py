"""Load test: N real browser sessions (over HTTP) against a running app — start, tick, pause, ledger check.

    python -m bench.load --sessions 50 --seconds 60 --url http://127.0.0.1:8050 [--json]

Why not a synthetic endpoint hammer: what must hold under load is the page's own protocol — the same Dash
callback requests the simulator page sends (found in `/_dash-dependencies` and the layout, see
bench/dash_client.py), with each session's server-side state, per-session locks and ticks that carry the day
they expect. Each session: loads the page (router + initial callbacks), sets its controls, presses Start, then
fires the page's dcc.Interval tick every `interval` ms (the page's `speed`; default 300 ms) on a fixed cadence
(a late tick is sent as soon as the previous answer arrives — never two at once, like `running=`), presses
Pause when time is up, and downloads its ledger. A ledger is complete when its days are exactly 1..N with N
the day the page shows (no lost or doubled day).

Bounded in count and time: at most --sessions threads, at most --seconds of ticking (plus ramp-up and the final
checks, each with a timeout). Loopback only.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import re
import sys
import threading
import time
from dataclasses import dataclass, field

import requests

from bench.dash_client import DashSession, require_loopback

MAX_SESSIONS = 500
MAX_SECONDS = 1800


@dataclass
class SessionResult:
    index: int
    ticks: int = 0
    final_day: int | None = None
    ledger_days: list[int] | None = None
    ledger_complete: bool = False
    problems: list[str] = field(default_factory=list)
    latencies: dict[str, list[float]] = field(default_factory=dict)  # kind -> ms
    errors: int = 0  # requests answered with an HTTP error or not answered (timeout, connection reset)
    failures: int = 0  # sessions broken by something else (an unexpected page, a missing element)
    requests: int = 0
    tick_log: list[tuple[float, float]] = field(default_factory=list)  # (monotonic send time, latency ms)


def parse_day(text: str) -> int | None:
    m = re.search(r"day\s+(\d+)", text or "", re.I)
    return int(m.group(1)) if m else None


def find_interval(s: DashSession) -> str:
    ids = [cid for cid, t in s.types.items() if t == "Interval"]
    for cid in ids:
        try:
            s.find(input=f"{cid}.n_intervals")
            return cid
        except LookupError:
            continue
    raise LookupError(f"no dcc.Interval drives a server callback on this page (intervals: {ids})")


def ledger_from_response(s: DashSession) -> str | None:
    """The CSV text of the last dcc.Download answer (content, base64 or not)."""
    import base64
    for (cid, prop), val in s.values.items():
        if s.types.get(cid) == "Download" and prop == "data" and isinstance(val, dict) and "content" in val:
            content = val["content"]
            if val.get("base64"):
                content = base64.b64decode(content).decode("utf-8", "replace")
            return content
    return None


def ledger_days(csv_text: str) -> list[int]:
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    return [int(float(r["day"])) for r in rows]


def check_ledger(days: list[int], shown: int | None) -> str | None:
    """None when days are exactly 1..N and N is the day the page shows; else what is wrong."""
    if not days:
        return "empty ledger" if shown else None
    if days != list(range(1, len(days) + 1)):
        from collections import Counter
        dup = sorted(d for d, k in Counter(days).items() if k > 1)
        gaps = sorted(set(range(1, max(days) + 1)) - set(days))
        return f"ledger days not 1..N: doubled {dup[:10]}, missing {gaps[:10]}"
    if shown is not None and len(days) != shown:
        return f"ledger has {len(days)} days but the page shows day {shown}"
    return None


def play_session(index: int, url: str, seconds: float, interval_ms: int | None, deps: list[dict],
                 controls: dict, start_at: float, stop_flag: threading.Event, cadence: str,
                 timeout: float) -> SessionResult:
    res = SessionResult(index)
    s = DashSession(url, timeout=timeout)
    try:
        while time.monotonic() < start_at:
            time.sleep(0.005)
        s.load("/", deps=deps)
        _account(res, s, 0, "load")
        for cid, val in controls.items():
            if (cid, "value") in s.values or cid in s.types:
                s.values[(cid, "value")] = val
        n_before = len(s.calls)
        s.click("start")
        _account(res, s, n_before, "start")
        interval_id = find_interval(s)
        period = (interval_ms or s.get(interval_id, "interval") or 300) / 1000.0
        tick_cb = s.find(input=f"{interval_id}.n_intervals")
        t_end = time.monotonic() + seconds
        next_at = time.monotonic() + period
        n = s.get(interval_id, "n_intervals") or 0
        while time.monotonic() < t_end and not stop_flag.is_set():
            if s.get(interval_id, "disabled"):
                break  # the run ended (horizon reached): the page stops its interval
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            n += 1
            s.values[(interval_id, "n_intervals")] = n
            n_before = len(s.calls)
            t0 = time.monotonic()
            try:
                r, changed, new_ids = s.fire(tick_cb, [f"{interval_id}.n_intervals"])
                if s.follow_chains and changed:
                    s._run([], changed)  # noqa: SLF001 - chained callbacks the renderer would fire
            except requests.RequestException as exc:
                res.problems.append(f"tick {n}: {type(exc).__name__}")
            _account(res, s, n_before, "tick")
            res.tick_log.append((t0, sum(c.ms for c in s.calls[n_before:])))
            res.ticks += 1
            next_at = (next_at + period) if cadence == "fixed" else (time.monotonic() + period)
            if next_at < t0:
                next_at = time.monotonic()
        n_before = len(s.calls)
        try:
            s.click("pause")
        except LookupError:
            pass
        _account(res, s, n_before, "pause")
        time.sleep(0.05)
        res.final_day = parse_day(s.text("kpi-day"))
        n_before = len(s.calls)
        s.click("download-ledger")
        _account(res, s, n_before, "ledger")
        text = ledger_from_response(s)
        if text is None:
            res.problems.append("no ledger CSV came back from download-ledger")
        else:
            res.ledger_days = ledger_days(text)
            problem = check_ledger(res.ledger_days, res.final_day)
            if problem:
                res.problems.append(problem)
            else:
                res.ledger_complete = True
    except Exception as exc:  # one broken session must not stop the others; it is counted
        res.problems.append(f"{type(exc).__name__}: {exc}"[:300])
        _account(res, s, 0, "other", only_unaccounted=True)
        if not isinstance(exc, requests.RequestException):  # a failed request is already an error
            res.failures += 1
    return res


def _account(res: SessionResult, s: DashSession, n_before: int, kind: str, only_unaccounted: bool = False) -> None:
    calls = s.calls[n_before:]
    if only_unaccounted:
        calls = s.calls[res.requests:]
    for c in calls:
        res.requests += 1
        res.latencies.setdefault(kind, []).append(c.ms)
        if c.status not in (200, 204):
            res.errors += 1
            if len(res.problems) < 20:
                res.problems.append(f"{kind}: HTTP {c.status} {c.error[:120]}")


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    v = sorted(values)
    k = (len(v) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def _play_many(url: str, indices: list[int], seconds: float, interval_ms: int | None, deps: list[dict], ctl: dict,
                t0: float, ramp: float, cadence: str, timeout: float) -> list[SessionResult]:
    """One client process: a thread per session (threads of one process share its GIL; see --procs)."""
    stop = threading.Event()
    results: dict[int, SessionResult] = {}

    def worker(i: int) -> None:
        results[i] = play_session(i, url, seconds, interval_ms, deps, ctl, t0 + random.uniform(0, ramp), stop,
                                  cadence, timeout)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in indices]
    for t in threads:
        t.start()
    hard_deadline = time.monotonic() + seconds + ramp + 60 + 3 * timeout
    for t in threads:
        t.join(max(0.0, hard_deadline - time.monotonic()))
    stop.set()
    return [results[i] for i in indices if i in results]


def _play_in_child(args: tuple) -> tuple[list[SessionResult], float]:
    c0 = time.process_time()
    out = _play_many(*args)
    return out, time.process_time() - c0


def run_load(url: str, sessions: int, seconds: float, interval_ms: int | None = None, cadence: str = "fixed",
             controls: dict | None = None, timeout: float = 10.0, ramp: float | None = None,
             procs: int = 1) -> dict:
    """Play ``sessions`` browser sessions for ``seconds`` each, spread over ``procs`` client processes;
    return the figures (see format_text)."""
    url = require_loopback(url)
    if not 1 <= sessions <= MAX_SESSIONS:
        raise ValueError(f"--sessions must be 1..{MAX_SESSIONS}")
    if not 0 < seconds <= MAX_SECONDS:
        raise ValueError(f"--seconds must be in (0, {MAX_SECONDS}]")
    procs = max(1, min(procs, sessions, 16))
    cpu0, wall0 = time.process_time(), time.monotonic()
    deps = requests.get(url + "/_dash-dependencies", timeout=timeout).json()
    ctl = {"horizon": 730, "speed": (interval_ms or 300) / 1000.0, "demand-mode": "forecast-noise"}
    ctl.update(controls or {})
    ramp = min(2.0, seconds / 10) if ramp is None else ramp
    t0 = time.monotonic() + 0.5
    groups = [list(range(i, sessions, procs)) for i in range(procs)]
    child_cpu = 0.0
    if procs == 1:
        done = _play_many(url, groups[0], seconds, interval_ms, deps, ctl, t0, ramp, cadence, timeout)
    else:
        import multiprocessing as mp
        ctx = mp.get_context("fork")  # children inherit t0 (CLOCK_MONOTONIC is system-wide)
        with ctx.Pool(procs) as pool:
            parts = pool.map(_play_in_child, [(url, g, seconds, interval_ms, deps, ctl, t0, ramp, cadence, timeout)
                                              for g in groups])
        done = [r for rs, _ in parts for r in rs]
        child_cpu = sum(c for _, c in parts)
    done.sort(key=lambda r: r.index)
    return summarise(done, url, sessions, seconds, interval_ms, cadence, procs,
                     client_cpu=time.process_time() - cpu0 + child_cpu, wall=time.monotonic() - wall0)


def summarise(done: list[SessionResult], url: str, sessions: int, seconds: float, interval_ms: int | None,
              cadence: str, procs: int, client_cpu: float, wall: float) -> dict:
    lat_all = [ms for r in done for v in r.latencies.values() for ms in v]
    lat_tick = [ms for r in done for ms in r.latencies.get("tick", [])]
    # steady state: ticks sent once every session is ticking (the page loads and Starts of the ramp are over)
    firsts = [r.tick_log[0][0] for r in done if r.tick_log]
    settled = max(firsts) if len(firsts) == len(done) and firsts else None
    lat_steady = [ms for r in done for t, ms in r.tick_log if settled is not None and t >= settled]
    return {
        "url": url, "sessions": sessions, "seconds": seconds, "cadence": cadence,
        "interval_ms": interval_ms or 300, "client_procs": procs,
        "requests": sum(r.requests for r in done),
        "errors": sum(r.errors + r.failures for r in done),
        "p50_ms": _round(percentile(lat_all, 50)), "p95_ms": _round(percentile(lat_all, 95)),
        "p99_ms": _round(percentile(lat_all, 99)),
        "tick_p50_ms": _round(percentile(lat_tick, 50)), "tick_p95_ms": _round(percentile(lat_tick, 95)),
        "tick_p99_ms": _round(percentile(lat_tick, 99)), "ticks": len(lat_tick),
        "steady_ticks": len(lat_steady), "steady_tick_p50_ms": _round(percentile(lat_steady, 50)),
        "steady_tick_p95_ms": _round(percentile(lat_steady, 95)),
        "steady_tick_p99_ms": _round(percentile(lat_steady, 99)),
        "incomplete_ledgers": sum(1 for r in done if not r.ledger_complete) + (sessions - len(done)),
        "unfinished_sessions": sessions - len(done),
        "days_min": min((r.final_day or 0 for r in done), default=0),
        "days_max": max((r.final_day or 0 for r in done), default=0),
        "by_kind": {k: {"n": len(v), "p50_ms": _round(percentile(v, 50)), "p95_ms": _round(percentile(v, 95)),
                        "max_ms": _round(max(v))}
                    for k in ("load", "start", "tick", "pause", "ledger", "other")
                    if (v := [ms for r in done for ms in r.latencies.get(k, [])])},
        "client_cpu_s": round(client_cpu, 1),
        "wall_s": round(wall, 1),
        "problems": [f"session {r.index}: {p}" for r in done for p in r.problems][:30],
    }


def _round(v: float | None) -> float | None:
    return None if v is None else round(v, 1)


def format_text(r: dict) -> str:
    lines = [
        f"load test: {r['sessions']} sessions x {r['seconds']:g} s, tick every {r['interval_ms']} ms "
        f"({r['cadence']} cadence) against {r['url']}, {r.get('client_procs', 1)} client process(es)",
        f"requests {r['requests']}, errors {r['errors']}, ticks {r['ticks']}",
        f"latency all callbacks: p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, p99 {r['p99_ms']} ms",
        f"latency ticks:         p50 {r['tick_p50_ms']} ms, p95 {r['tick_p95_ms']} ms, p99 {r['tick_p99_ms']} ms",
        f"  once every session ticks ({r.get('steady_ticks', 0)} ticks): p50 {r.get('steady_tick_p50_ms')} ms, "
        f"p95 {r.get('steady_tick_p95_ms')} ms, p99 {r.get('steady_tick_p99_ms')} ms",
        f"days reached per session: {r['days_min']}..{r['days_max']}; incomplete ledgers {r['incomplete_ledgers']}"
        f" (unfinished sessions {r['unfinished_sessions']})",
    ]
    if "server_p50_ms" in r:
        lines.append(f"server-side time per request (gunicorn access log): p50 {r['server_p50_ms']} ms, "
                     f"p95 {r['server_p95_ms']} ms, p99 {r['server_p99_ms']} ms over {r['server_requests']} requests")
    if "server_cpu_ms_per_request" in r:
        lines.append(f"server CPU per request (workers' user + system time / requests): "
                     f"{r['server_cpu_ms_per_request']} ms")
    if "loadavg_1min_before" in r:
        lines.append(f"machine load average (1 min) before {r['loadavg_1min_before']}, after "
                     f"{r['loadavg_1min_after']} on {os.cpu_count()} cores; server: {r['server']}")
    lines.append("by request kind: " + "; ".join(f"{k} n={v['n']} p50 {v['p50_ms']} p95 {v['p95_ms']} max {v['max_ms']}"
                                                 for k, v in r.get("by_kind", {}).items()))
    lines.append(f"load generator CPU {r['client_cpu_s']} s over {r['wall_s']} s wall")
    if r["problems"]:
        lines.append("problems (first 30):")
        lines += [f"  - {p}" for p in r["problems"]]
    return "\n".join(lines)


def spawn_server(workers: int, extra_args: list[str] | None = None):
    """A real gunicorn (bench.app_server) with a throw-away var dir and an access log, ready to be tested."""
    from bench.app_server import AppServer
    return AppServer(None, workers=workers, args=list(extra_args or []), access_log=True).start()


def server_times(server) -> dict:
    """Percentiles of the server-side time of each callback request (gunicorn's access log, %(D)s)."""
    xs = server.request_times()
    if not xs:
        return {}
    return {"server_requests": len(xs), "server_p50_ms": _round(percentile(xs, 50)),
            "server_p95_ms": _round(percentile(xs, 95)), "server_p99_ms": _round(percentile(xs, 99))}


def worker_cpu_s(server) -> float:
    """CPU seconds (user + system) the server's worker processes have used so far."""
    import psutil

    total = 0.0
    for pid in server.worker_pids():
        try:
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--url", default="http://127.0.0.1:8050")
    ap.add_argument("--interval-ms", type=int, default=300, help="tick period each session uses (page speed)")
    ap.add_argument("--cadence", choices=["fixed", "browser"], default="fixed",
                    help="fixed: a tick every interval (late ticks go out as soon as the answer arrives); "
                         "browser: interval after each answer (dcc.Interval with running=)")
    ap.add_argument("--timeout", type=float, default=10.0, help="per-request timeout, seconds")
    ap.add_argument("--ramp", type=float, default=None,
                    help="sessions start at random times within this many seconds (default min(2, seconds/10))")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--spawn", action="store_true",
                    help="start a real gunicorn (embedded store, throw-away var dir) on a free loopback port, "
                         "test it, stop it (--url is ignored)")
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers with --spawn (default 2)")
    ap.add_argument("--gunicorn-arg", action="append", default=[], metavar="ARG",
                    help="extra argument for the spawned gunicorn (repeat), e.g. --gunicorn-arg=--threads=4")
    ap.add_argument("--procs", type=int, default=1,
                    help="client processes the sessions are spread over (threads of one process share a GIL: "
                         "on a busy machine their waiting shows up as latency)")
    args = ap.parse_args(argv)
    server = None
    try:
        if args.spawn:
            server = spawn_server(args.workers, args.gunicorn_arg)
            args.url = server.url
        load_before = os.getloadavg()
        cpu_before = worker_cpu_s(server) if server is not None else None
        r = run_load(args.url, args.sessions, args.seconds, args.interval_ms, args.cadence, timeout=args.timeout,
                     ramp=args.ramp, procs=args.procs)
        if server is not None:
            r.update(server_times(server))
            if r.get("server_requests"):  # the CPU a request costs survives a busy machine better than latency
                r["server_cpu_ms_per_request"] = _round(1000 * (worker_cpu_s(server) - cpu_before)
                                                        / r["server_requests"])
        r["loadavg_1min_before"] = round(load_before[0], 2)
        r["loadavg_1min_after"] = round(os.getloadavg()[0], 2)
        r["server"] = (f"gunicorn, {args.workers} workers {' '.join(args.gunicorn_arg)} (spawned)".replace("  ", " ")
                       if args.spawn else "given --url")
    except (ValueError, RuntimeError, requests.RequestException) as exc:
        print(f"load test cannot run: {exc}", file=sys.stderr)
        return 2
    finally:
        if server is not None:
            server.close()
    if args.json:
        print(json.dumps(r))
    else:
        print(format_text(r))
    return 0 if r["errors"] == 0 and r["incomplete_ledgers"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
