"""Portfolio over Celery workers: the bench_portfolio job (1,000 series × 365 days, 20 + 20 replications × 90 days)
split into chunks of 50 series, each chunk a Celery task running engine.studies.portfolio.run_chunk on one of N workers
(`celery -A dashapp.ui.jobs:celery_app worker --concurrency=1`, the Procfile's worker line) over a real redis-server
started on a free loopback port. The dispatching process runs no chunk itself (help_locally=False), so the figure
is the workers' alone.

`python -m bench.bench_portfolio_celery [--series N] [--workers 2]` prints the wall time, series per second, series
per second per worker, the chunks each worker ran, and beside it the single-process figure of bench.bench_portfolio
on the same file (wall time and peak RSS). On a 2-core machine two workers can at best halve the wall time; the
reading is throughput per worker against the one process.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.app_server import free_port, wait_for_port

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

CHUNK = 50


def _stop(proc: subprocess.Popen) -> None:
    from bench.app_server import stop_process_group

    stop_process_group(proc)


def start_workers(n: int, env: dict, logdir: Path) -> list[tuple[subprocess.Popen, Path]]:
    """N Celery workers (one process each), ready when each log says "ready."."""
    out = []
    for i in range(n):
        log = logdir / f"worker{i + 1}.log"
        fh = open(log, "ab")
        p = subprocess.Popen([sys.executable, "-m", "celery", "-A", "dashapp.ui.jobs:celery_app", "worker",
                              "--loglevel=info", "--concurrency=1", "--without-gossip", "--without-mingle",
                              "-n", f"bench{i + 1}@%h"], cwd=REPO, env=env, stdout=fh, stderr=subprocess.STDOUT,
                             start_new_session=True)
        out.append((p, log))
    deadline = time.monotonic() + 120
    for p, log in out:
        while "ready." not in log.read_text(errors="replace"):
            if p.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"celery worker did not start:\n{log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.2)
    return out


def run_celery(path: str, redis_url: str, replications: int, days: int, workers: int) -> dict:
    from celery import Celery

    from dashapp.platform.portfolio_workers import run_on_workers
    from engine.data.dataset import load_csv
    from engine.studies.portfolio import PortfolioSettings

    app = Celery("bench", broker=redis_url, backend=redis_url)
    t0 = time.perf_counter()
    series = list(load_csv(path).series.values())
    read_s = time.perf_counter() - t0
    settings = PortfolioSettings(replications=replications, days=days)
    done_at = []
    t1 = time.perf_counter()
    records = run_on_workers(app, series, settings, lambda d, t: done_at.append((time.perf_counter() - t1, d)),
                             chunk=CHUNK, help_locally=False)
    run_s = time.perf_counter() - t1
    app.close()
    wall = read_s + run_s
    return {"series": len(records), "workers": workers, "chunks": -(-len(series) // CHUNK),
            "read_s": round(read_s, 2), "recommend_s": round(run_s, 2), "wall_s": round(wall, 2),
            "series_per_s": round(len(records) / wall, 1),
            "series_per_s_per_worker": round(len(records) / wall / workers, 1),
            "first_chunk_done_s": round(done_at[0][0], 2) if done_at else None,
            "load_avg_1min": round(os.getloadavg()[0], 2),
            "mean_fill_rate": round(sum(r["fill_rate"] for r in records if r["fill_rate"] is not None)
                                    / max(1, sum(r["fill_rate"] is not None for r in records)), 4)}


def chunks_per_worker(logs: list[Path]) -> dict:
    """How many chunk tasks each worker's log reports as succeeded."""
    return {log.stem: log.read_text(errors="replace").count("dashapp.portfolio_chunk[") // 2 for log in logs}


def main(argv=None) -> int:
    from bench.bench_portfolio import add_job_arguments, write_file

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_job_arguments(ap)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-single", action="store_true", help="skip the single-process figure")
    args = ap.parse_args(argv)

    exe = shutil.which("redis-server")
    if exe is None:
        print("error: redis-server is not installed (apt-get install redis-server)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = tmp / "portfolio.csv"
        write_file(path, args.series, args.history)
        single = None
        if not args.no_single:
            out = subprocess.run([sys.executable, "-m", "bench.bench_portfolio", "--run", str(path),
                                  "--replications", str(args.replications), "--days", str(args.days)], cwd=REPO,
                                 capture_output=True, text=True, check=True)
            s = json.loads(out.stdout)
            single = {k: s[k] for k in ("series", "wall_s", "cpu_s", "series_per_s", "peak_rss_mb", "load_avg_1min")}
        port = free_port()
        redis = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                                  "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        workers = []
        try:
            wait_for_port(port)
            url = f"redis://127.0.0.1:{port}/0"
            env = {**os.environ, "REDIS_URL": url, "SIM_VAR_DIR": str(tmp / "var"), "PYTHONPATH": str(REPO),
                   "SECRET_KEY": "bench-portfolio-celery-0123456789abcdef"}
            workers = start_workers(args.workers, env, tmp)
            res = run_celery(str(path), url, args.replications, args.days, args.workers)
            res["chunks_per_worker"] = chunks_per_worker([log for _, log in workers])
        finally:
            for p, _ in workers:
                _stop(p)
            _stop(redis)
    res.update({"single_process": single, "history_days": args.history, "replications": args.replications,
                "days": args.days, "cpus": os.cpu_count()})
    if single:
        res["speedup_vs_single_process"] = round(single["wall_s"] / res["wall_s"], 2)
        res["per_worker_vs_single_process"] = round(res["series_per_s_per_worker"] / single["series_per_s"], 2)
    print(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
