"""Before/after speed in one run: `python -m bench.before_after --base 3f15b37 [--repeats 3] [--quick]`.

The commit `--base` is checked out into a temporary `git worktree` (removed at the end); every figure is measured
on it and on this working tree by the same child process code, alternating base/after (`--rounds`, default 3) so
a change in the machine's load hits both sides alike. The machine is shared: each figure is the median of the
repeats, and the load average is printed before and after. Workloads (the goals' own sizes):

- step: one `Simulator.step()` with the 7-day moving average, synthetic demand (median µs over 3,650 days);
- batch: `run_batch` 1,000 replications × 365 days, order-up-to, ma7, synthetic demand (s);
- portfolio: recommendations for 1,000 series (bench.bench_portfolio's file: half smooth, half intermittent;
  20 + 20 replications × 90 days) (s);
- scenarios: 8 scenarios × 200 replications × 365 days with ma7 on common random numbers (bench.bench_scenarios's
  set) (s).

Wall medians, and for the whole-run workloads the CPU time of the measuring process (less sensitive to other
engineers' load on the same cores; numpy here runs single-threaded). The verdict reads the least time of each
side's runs (CPU; wall for step): see `_verdict_ratio`.

A child imports the engine of the tree it measures (flat modules at the base, packages after); its first call of
each workload is a warm-up (imports, the protection prior's build and store), not timed.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORKLOADS = ("step", "batch", "portfolio", "scenarios")


def _import(*names):
    """The first of several module paths that imports (a base commit may predate the engine's packages)."""
    import importlib

    last = None
    for name in names:
        try:
            return importlib.import_module(name)
        except ImportError as exc:
            last = exc
    raise last


def _child(what: str, root: Path, repeats: int, quick: bool, portfolio_file: str | None) -> list[float]:
    """Run one workload `repeats` times after a warm-up, in the engine found at root; seconds (µs for step)."""
    sys.path.insert(0, str(root))
    data = _import("engine.data.dataset", "engine.data")
    sim_mod = _import("engine.simulation.simulator", "engine.simulator")
    series = data.load_csv(str(root / "data" / "sample.csv")).get("SKU_1/WH_1")
    out = []
    if what == "step":
        days = 365 if quick else 3650

        def once():
            sim = sim_mod.Simulator(sim_mod.SimConfig(demand="synthetic", days=days, forecaster="ma7", seed=1),
                                    series)
            clock, samples = time.perf_counter_ns, []
            while not sim.done:
                t0 = clock()
                sim.step()
                samples.append(clock() - t0)
            return [statistics.median(samples) / 1000.0, None]
        once()
        return [once() for _ in range(repeats)]
    if what == "batch":
        batch = _import("engine.simulation.batch", "engine.batch")
        reps = 200 if quick else 1000

        def once():
            t0, c0 = time.perf_counter(), time.process_time()
            batch.run_batch(sim_mod.SimConfig(demand="synthetic", days=365, policy="order-up-to", forecaster="ma7",
                                              seed=1), series, reps)
            return [time.perf_counter() - t0, time.process_time() - c0]
        once()
        return [once() for _ in range(repeats)]
    if what == "portfolio":
        pf = _import("engine.studies.portfolio", "engine.portfolio")
        settings = pf.PortfolioSettings(replications=20, days=90)
        pf.run_portfolio(portfolio_file, settings)   # the warm-up (lazy imports: pandas, scipy.special)
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            pf.run_portfolio(portfolio_file, settings)
            out.append([time.perf_counter() - t0, time.process_time() - c0])
        return out
    if what == "scenarios":
        sc = _import("engine.studies.scenarios", "engine.scenarios")
        common = {"forecaster": "ma7", "demand": "synthetic"}
        scen = [{"name": "L3", **common, "lead_time": 3}, {"name": "L7", **common, "lead_time": 7},
                {"name": "L14", **common, "lead_time": 14}, {"name": "L7 service 98%", **common, "service_level": 0.98},
                {"name": "L7 backorders", **common, "backorders": True},
                {"name": "holding 0.5", **common, "holding_rate": 0.5},
                {"name": "original rule", **common, "policy": "original"},
                {"name": "base-stock", **common, "policy": "base-stock"}]
        reps = 40 if quick else 200
        sset = sc.canonical_set(scen, replications=reps, days=365, seed=1)

        def once():
            t0, c0 = time.perf_counter(), time.process_time()
            sc.compare(sset, default_data=root / "data" / "sample.csv", keep_ledgers=1)
            return [time.perf_counter() - t0, time.process_time() - c0]
        once()
        return [once() for _ in range(repeats)]
    raise SystemExit(f"error: unknown workload {what!r}")


def _measure(script: Path, what: str, root: Path, repeats: int, quick: bool, portfolio_file: str) -> list[float]:
    cmd = [sys.executable, str(script), "--child", what, "--root", str(root), "--repeats", str(repeats),
           "--portfolio-file", portfolio_file] + (["--quick"] if quick else [])
    env = {**os.environ, "PYTHONPATH": str(root)}
    res = subprocess.run(cmd, cwd=str(root), env=env, capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"error: {what} on {root} failed:\n{res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


RECORDED = REPO / "bench" / "recorded" / "before_after.md"
GOAL_SIZES = {"step": "one Simulator.step(), ma7 (µs, median of 3,650 days)",
              "batch": "run_batch 1,000 × 365, order-up-to, ma7 (s)",
              "portfolio": "run_portfolio, 1,000 series, 20 + 20 paths × 90 days (s)",
              "scenarios": "8 scenarios × 200 × 365, ma7, common random numbers (s)"}


def _verdict_ratio(f: dict) -> float:
    """The ratio a workload is judged on: the best (least) CPU time of each side's runs, wall for step (µs per
    call, no CPU reading). Why the least: the work is deterministic, and other engineers' load on the shared
    cores only ever adds time (contention for the cores and their caches), so the least of several alternated
    runs is the closest reading of each side's own cost; medians of three moved by ±25 % between runs here."""
    return f["best_ratio"]


def report_markdown(base: str, head: str, dirty: bool, load_before, load_after, figures: dict, a) -> str:
    """The recorded section: one row per workload, the before and after medians, their ratios, the verdict."""
    import datetime as _dt

    when = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["## Before/after speed (one run)", "",
             f"`python -m bench.before_after --base {a.base} --rounds {a.rounds} --repeats {a.repeats}"
             f"{' --quick' if a.quick else ''} --write-report` ({when}; before: {base}, after: {head}"
             f"{' with uncommitted changes' if dirty else ''}; {os.cpu_count()} CPUs, load average "
             f"{load_before[0]:.2f} before and {load_after[0]:.2f} after). Each side runs in its own child process, "
             "alternating base/after each round; the first call of each workload is a warm-up. A workload counts "
             "as slower when the least CPU time of its after runs is above the least of its before runs (wall "
             "for step): other load on the shared cores only adds time. Medians are shown beside it.", "",
             "| workload | size | before (wall median) | after (wall median) | after/before wall | CPU median "
             "before → after | after/before CPU median | least: after/before | slower? |",
             "|---|---|---|---|---|---|---|---|---|"]
    for what, f in figures.items():
        unit = "µs" if what == "step" else "s"
        cpu = (f"{f['cpu_before']:.2f} → {f['cpu_after']:.2f} s", f"{f['cpu_ratio']:.2f}") \
            if f.get("cpu_ratio") is not None else ("—", "—")
        lines.append(f"| {what} | {GOAL_SIZES[what]} | {f['before']:.3f} {unit} | {f['after']:.3f} {unit} | "
                     f"{f['ratio']:.2f} | {cpu[0]} | {cpu[1]} | {f['best_ratio']:.2f} | "
                     f"{'yes' if _verdict_ratio(f) > 1.0 else 'no'} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default="3f15b37", help="commit measured as 'before' (default 3f15b37)")
    ap.add_argument("--repeats", type=int, default=1, help="timed repeats per child process")
    ap.add_argument("--rounds", type=int, default=3, help="alternations base/after per workload (each a child "
                    "running --repeats); the median over rounds × repeats is printed")
    ap.add_argument("--only", default=",".join(WORKLOADS), help="comma-separated workloads")
    ap.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run, not the goals' figures)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON too")
    ap.add_argument("--write-report", action="store_true",
                    help=f"write the table to {RECORDED.relative_to(REPO)}, a recorded run bench/REPORT.md includes")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--root", help=argparse.SUPPRESS)
    ap.add_argument("--portfolio-file", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        print(json.dumps(_child(a.child, Path(a.root), a.repeats, a.quick, a.portfolio_file)))
        return 0
    only = [w.strip() for w in a.only.split(",") if w.strip()]
    bad = [w for w in only if w not in WORKLOADS]
    if bad or a.repeats < 1 or a.rounds < 1:
        print(f"error: --only takes {', '.join(WORKLOADS)}; --repeats and --rounds at least 1", file=sys.stderr)
        return 2
    rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", a.base], capture_output=True, text=True)
    if rev.returncode != 0:
        print(f"error: {a.base!r} is not a commit of this repository", file=sys.stderr)
        return 2
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    tmp = Path(tempfile.mkdtemp(prefix="before_after_"))
    base_tree = tmp / "base"
    script = Path(__file__).resolve()
    load_before = os.getloadavg()
    note = " (with uncommitted changes)" if dirty else ""
    print(f"before: {rev.stdout.strip()}   after: working tree at {head}{note}")
    print(f"load average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f} "
          f"({os.cpu_count()} CPUs); medians of {a.repeats * a.rounds} repeats per side")
    try:
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "--quiet", str(base_tree), a.base],
                       check=True)
        pfile = str(tmp / "portfolio.csv")
        if "portfolio" in only:
            sys.path.insert(0, str(REPO))
            from bench.bench_portfolio import write_file

            write_file(Path(pfile), 100 if a.quick else 1000, 365)
        figures = {}
        for what in only:
            runs = {"before": [], "after": []}
            for _ in range(a.rounds):
                runs["before"] += _measure(script, what, base_tree, a.repeats, a.quick, pfile)
                runs["after"] += _measure(script, what, REPO, a.repeats, a.quick, pfile)
            wall = {k: statistics.median(r[0] for r in v) for k, v in runs.items()}
            cpu = {k: (statistics.median(r[1] for r in v) if v[0][1] is not None else None) for k, v in runs.items()}
            figures[what] = {"before": wall["before"], "after": wall["after"], "ratio": wall["after"] / wall["before"],
                             "cpu_before": cpu["before"], "cpu_after": cpu["after"],
                             "cpu_ratio": cpu["after"] / cpu["before"] if cpu["before"] else None, "runs": runs}
            best = {k: min(r[1] if r[1] is not None else r[0] for r in v) for k, v in runs.items()}
            figures[what]["best_before"], figures[what]["best_after"] = best["before"], best["after"]
            figures[what]["best_ratio"] = best["after"] / best["before"]
            unit = "µs" if what == "step" else "s"
            line = (f"{what:10s} before {wall['before']:9.3f} {unit:2s}  after {wall['after']:9.3f} {unit:2s}  "
                    f"after/before {wall['after'] / wall['before']:.2f}")
            if cpu["before"]:
                line += (f"   CPU {cpu['before']:.2f} -> {cpu['after']:.2f} s  "
                         f"after/before {cpu['after'] / cpu['before']:.2f}")
            line += f"   best {best['after'] / best['before']:.2f}"
            line += (f"   (wall runs: {' '.join(f'{r[0]:.3g}' for r in runs['before'])} | "
                     f"{' '.join(f'{r[0]:.3g}' for r in runs['after'])})")
            print(line, flush=True)
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(base_tree)],
                       capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    load_after = os.getloadavg()
    print(f"load average after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    slower = [w for w, f in figures.items() if _verdict_ratio(f) > 1.0]
    print("none slower (least CPU time of each side; wall for step)" if not slower else
          f"slower (least CPU time of each side; wall for step): {', '.join(slower)}")
    if a.write_report:
        RECORDED.parent.mkdir(parents=True, exist_ok=True)
        RECORDED.write_text(report_markdown(rev.stdout.strip(), head, dirty, load_before, load_after, figures, a),
                            encoding="utf-8")
        print(f"wrote {RECORDED.relative_to(REPO)}")
    if a.json:
        print(json.dumps({"base": rev.stdout.strip(), "head": head, "load_before": load_before,
                          "load_after": load_after, "figures": figures}))
    return 0


if __name__ == "__main__":
    if "--child" in sys.argv and sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
        sys.path.pop(0)  # the child imports the engine of --root, not this file's folder's neighbours
    sys.exit(main())
