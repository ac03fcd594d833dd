"""Engine speed figures: one Simulator.step() with the 7-day moving average, a 1,000 × 365 order-up-to batch,
and the cost of storing/restoring a simulator state. `python -m bench.bench_engine [--quick]` prints them.

Goals (issue 2): step() < 50 µs with ma7; 1,000 replications × 365 days of order-up-to < 1 s on 2 cores.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from engine.data.dataset import load_csv  # noqa: E402
from engine.simulation.batch import run_batch  # noqa: E402
from engine.simulation.simulator import SimConfig, Simulator  # noqa: E402

SECTION = "Engine"   # bench/report.py: this module writes the report's section of that title
ORDER = 10
STEP_GOAL_US, BATCH_GOAL_S = 50.0, 1.0


def _series():
    return load_csv(REPO / "data" / "sample.csv").get("SKU_1/WH_1")


def time_steps(series, forecaster: str, days: int) -> dict:
    sim = Simulator(SimConfig(demand="synthetic", days=days, forecaster=forecaster, seed=1), series)
    samples = []
    clock = time.perf_counter_ns
    while not sim.done:
        t0 = clock()
        sim.step()
        samples.append(clock() - t0)
    samples.sort()
    return {"median_us": statistics.median(samples) / 1000, "mean_us": statistics.fmean(samples) / 1000,
            "p95_us": samples[int(0.95 * (len(samples) - 1))] / 1000, "steps": len(samples)}


def time_batch(series, replications: int, days: int, demand: str, repeat: int) -> dict:
    best = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = run_batch(SimConfig(demand=demand, days=days, policy="order-up-to", forecaster="ma7", seed=1),
                        series, replications)
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    return {"seconds": best, "replications": replications, "days": days, "demand": demand,
            "mean_total_cost": res.summary()["mean"]["total_cost"]}


def time_state(series, days: int = 90) -> dict:
    sim = Simulator(SimConfig(demand="synthetic", days=365, seed=1, forecaster="ma7"), series)
    sim.run(days)
    t0 = time.perf_counter()
    text = json.dumps(sim.to_state())
    t1 = time.perf_counter()
    Simulator.from_state(json.loads(text))
    t2 = time.perf_counter()
    return {"bytes_after_90_days": len(text), "to_state_json_ms": (t1 - t0) * 1000, "from_state_ms": (t2 - t1) * 1000}


def run(quick: bool = False) -> dict:
    series = _series()
    steps = 365 if quick else 3650
    # the process's first run pays one-time costs a web worker pays before it serves (dashapp.gunicorn_hooks:
    # forecaster load, the protection prior's build and store, numpy's first calls); measured apart, as "cold"
    cold = time_steps(series, "ma7", 365)
    out = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "step_ma7_cold_first_run": cold,
        "step_ma7": time_steps(series, "ma7", steps),
        "step_ses": time_steps(series, "ses", 365),
        "batch_1000x365_synthetic": time_batch(series, 1000, 365, "synthetic", 1 if quick else 3),
        "batch_1000x365_forecast_noise": time_batch(series, 1000, 365, "forecast-noise", 1 if quick else 3),
        "state": time_state(series),
    }
    out["goals"] = {
        "step_ma7_under_50us": out["step_ma7"]["median_us"] < STEP_GOAL_US,
        "batch_1000x365_under_1s": out["batch_1000x365_synthetic"]["seconds"] < BATCH_GOAL_S,
    }
    return out


def goals(result: dict) -> list:
    from bench.report import Goal

    step, batch = result["step_ma7"], result["batch_1000x365_synthetic"]
    cold = result.get("step_ma7_cold_first_run")
    first = f"; a process's first run {cold['median_us']:.1f} µs" if cold else ""
    return [Goal("one Simulator.step() with ma7 (median, after the process's first run)", f"< {STEP_GOAL_US:g} µs",
                 f"{step['median_us']:.1f} µs (p95 {step['p95_us']:.1f}{first})", step["median_us"] < STEP_GOAL_US),
            Goal("order-up-to batch, 1,000 replications × 365 days (synthetic, best of runs)",
                 f"< {BATCH_GOAL_S:g} s", f"{batch['seconds']:.2f} s", batch["seconds"] < BATCH_GOAL_S)]


if __name__ == "__main__":
    res = run(quick="--quick" in sys.argv)
    print(json.dumps(res, indent=2))
