"""The exact yardstick (engine.exact) at scale, and side by side with DynaPlex's exact solver.

`python -m bench.bench_exact [--quick] [--json] [--write-report]` prints:
1. Zipkin's (2008) 16 lost-sales instances (Poisson demand, mean 5, h = 1, p ∈ {4, 9, 19, 39}, L ∈ {1..4}): the
   grid size, the relative-value-iteration time, the optimum next to the published value, the best base-stock, the
   best simple lost-sales policy (capped base-stock, projected inventory level) and the one-step lookahead on it
   (a heuristic), with their exact gaps, and the total time with the policy searches;
2. Bijvank, Bhulai & Huh (2015), Table 1: Poisson(5), L = 2, h = 1, p = 14, fixed order cost K = 5, lost sales —
   optimum and best (s, S) next to their 11.46 and 11.62;
3. Poisson(5), h = 1, p = 9, lost sales at L = 5 and 6, solved by this engine and by DynaPlex's ExactSolver
   (modified policy iteration, `pip install dynaplex`; not a requirement: without it the row says "dynaplex not
   installed"), each solve in its own subprocess so that its time and peak resident memory (ru_maxrss of that
   process, Python and numpy included) are its own. --quick: lead times 1 and 2 of part 1 only.

--write-report writes the figures to bench/recorded/exact_yardstick.md, a recorded run that bench/REPORT.md includes.
The "published" column: 4.73 (p = 4, L = 4) and 8.89 (p = 19, L = 4) are quoted in the issue; the other values are
the table as recalled in the task brief (its p = 39 row could not be checked against the paper).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from engine.exact.distributions import poisson  # noqa: E402
from engine.exact.report import exact_report  # noqa: E402

PUBLISHED = {
    4: (4.04, 4.40, 4.60, 4.73), 9: (5.44, 6.09, 6.53, 6.84), 19: (6.68, 7.66, 8.36, 8.89),
    39: (7.80, 9.11, 10.12, 10.93),
}
BIJVANK = {"optimum": 11.46, "s-S": 11.62}
SIDE_BY_SIDE = {5: 7.05802, 6: 7.22896}  # DynaPlex's values quoted in issue 24
BEGIN, END = "<!-- exact-yardstick:begin -->", "<!-- exact-yardstick:end -->"


# bench/report.py: this module writes the report's section of this title (Zipkin's cells and Bijvank's K cell; the
# side-by-side with DynaPlex takes half an hour and is a recorded run: --write-report)
SECTION = "Exact lost-sales optimum (Zipkin's instances, order costs)"
ORDER = 60


def run(quick: bool = False) -> dict:
    res = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "zipkin": zipkin(quick)}
    if not quick:
        res["bijvank"] = bijvank()
    return res


def markdown(res: dict) -> str:
    return report_section(res).replace(BEGIN, "").replace(END, "").strip()


def zipkin(quick: bool = False) -> dict:
    dist = poisson(5.0)
    rows = []
    t_all = time.perf_counter()
    for p in (4, 9, 19, 39):
        for L in ((1, 2) if quick else (1, 2, 3, 4)):
            rep = exact_report(dist, L, 1.0, float(p))
            simple = [r for r in rep["policies"] if r["name"] in ("capped-base-stock", "projected-inventory-level")]
            best = min(simple, key=lambda r: r["cost"])
            look = next(r for r in rep["policies"] if r.get("heuristic"))
            pub = PUBLISHED[p][L - 1]
            rows.append({"p": p, "L": L, "grid": rep["grid"], "states": rep["states"],
                         "iterations": rep["iterations"], "solve_seconds": rep["solve_seconds"],
                         "optimal": rep["optimal_cost"], "published": pub,
                         "vs_published": rep["optimal_cost"] / pub - 1,
                         "bound_mass": rep["bound_mass"], "base_stock": rep["base_stock"], "best_simple": best,
                         "lookahead": look, "seconds": rep["seconds"]})
            print(_zipkin_line(rows[-1]), flush=True)
    return {"instances": rows, "seconds_total": time.perf_counter() - t_all,
            "solve_seconds_total": sum(r["solve_seconds"] for r in rows)}


def _zipkin_line(r: dict) -> str:
    b = r["best_simple"]
    params = ",".join(f"{k}={v:g}" for k, v in b["params"].items())
    return (f"p={r['p']:>2} L={r['L']} states={r['states']:>6} solve={r['solve_seconds']:5.2f}s "
            f"optimal={r['optimal']:8.5f} published={r['published']:5.2f} ({r['vs_published']:+6.2%}) "
            f"base-stock {r['base_stock']['gap']:+6.2%}  best simple {b['name']} {params} {b['gap']:+6.2%}  "
            f"lookahead {_nonneg(r['lookahead']['gap']):+7.3%}  all {r['seconds']:5.1f}s")


def bijvank() -> dict:
    rep = exact_report(poisson(5.0), 2, 1.0, 14.0, order_cost=5.0)
    ss = next(r for r in rep["policies"] if r["name"] == "s-S")
    snq = next(r for r in rep["policies"] if r["name"] == "s-nQ")
    look = next(r for r in rep["policies"] if r.get("heuristic"))
    out = {"optimal": rep["optimal_cost"], "s-S": ss, "s-nQ": snq, "lookahead": look, "seconds": rep["seconds"]}
    print(f"Bijvank et al. Table 1 (K=5, p=14, L=2): optimum {out['optimal']:.4f} (paper {BIJVANK['optimum']}), "
          f"(s,S) s={ss['params']['s']} S={ss['params']['S']} {ss['cost']:.4f} (paper {BIJVANK['s-S']}), "
          f"(s,nQ) {snq['cost']:.4f} ({snq['gap']:+.2%}), lookahead {look['cost']:.4f} ({look['gap']:+.3%}); "
          f"{rep['seconds']:.1f} s", flush=True)
    return out


# ----- side by side: each solve in its own process -----------------------------------------------------------------
def _child_engine(L: int) -> dict:
    from engine.exact.chain import evaluate_actions
    from engine.exact.grid import GridModel, default_bounds
    from engine.exact.solve import solve_optimal

    pmf = poisson(5.0).pmf
    t0 = time.perf_counter()
    B, Q = default_bounds(L, pmf, 1.0, 9.0)
    model = GridModel(L, B, Q, pmf, 1.0, 9.0)
    sol = solve_optimal(model)
    seconds = time.perf_counter() - t0
    out = {"cost": sol.cost, "span": sol.upper - sol.lower, "seconds": seconds, "states": sol.states,
           "grid": sol.grid, "iterations": sol.iterations, "peak_mb": _peak_mb()}
    t1 = time.perf_counter()
    v = evaluate_actions(model, sol.actions)
    out.update({"bound_mass": v.at_bound, "policy_cost": v.cost, "check_seconds": time.perf_counter() - t1,
                "peak_mb_with_check": _peak_mb()})
    return out


def _child_dynaplex(L: int) -> dict:
    import dynaplex
    from dynaplex.models.lost_sales import LostSalesMDP

    t0 = time.perf_counter()
    mdp = LostSalesMDP(p=9.0, h=1.0, leadtime=L, demand_dist=dynaplex.DiscreteDist.poisson(5.0))
    res = dynaplex.ExactSolver(mdp).solve()
    seconds = time.perf_counter() - t0
    stats = dict(getattr(res, "stats", {}) or {})
    return {"cost": float(res.cost), "seconds": seconds, "states": stats.get("states"), "peak_mb": _peak_mb(),
            "version": getattr(dynaplex, "__version__", None) or _dist_version("dynaplex")}


def _dist_version(name: str):
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def dynaplex_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("dynaplex") is not None


def _in_subprocess(solver: str, L: int, timeout: float) -> dict:
    cmd = [sys.executable, "-m", "bench.bench_exact", "--child", solver, str(L)]
    try:
        done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1][:200]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def side_by_side(leads=(5, 6), timeout: float = 1800.0) -> dict:
    have = dynaplex_available()
    rows = []
    for L in leads:
        eng = _in_subprocess("engine", L, timeout)
        dp = _in_subprocess("dynaplex", L, timeout) if have else {"error": "dynaplex not installed"}
        rows.append({"L": L, "expected": SIDE_BY_SIDE[L], "engine": eng, "dynaplex": dp})
        print(_side_line(rows[-1]), flush=True)
    return {"dynaplex_installed": have, "rows": rows}


def _side_line(r: dict) -> str:
    e, d = r["engine"], r["dynaplex"]
    left = (f"engine {e['cost']:.5f} in {e['seconds']:6.1f} s, peak {e['peak_mb']:6.0f} MB "
            f"({e['states']:,} states; truncation mass {e['bound_mass']:.1e}, checked in {e['check_seconds']:.1f} s)"
            if "error" not in e else f"engine: {e['error']}")
    right = (f"dynaplex {d['cost']:.5f} in {d['seconds']:6.1f} s, peak {d['peak_mb']:6.0f} MB ({d['states']:,} states)"
             if "error" not in d else f"dynaplex: {d['error']}")
    return f"L={r['L']} (expected {r['expected']}): {left} | {right}"


# ----- the report section ------------------------------------------------------------------------------------------
def report_section(res: dict) -> str:
    z, bj, sbs = res.get("zipkin"), res.get("bijvank"), res.get("side_by_side")
    load = res.get("load")
    lines = [BEGIN, "## Exact yardstick (engine.exact): lead times 5–6, lookahead policies, order costs", "",
             f"`python -m bench.bench_exact --write-report` on this 2-core machine ({res['when']}"
             + (f"; 1-minute load average {load[0]:.1f} at the start, {load[1]:.1f} at the end — the machine was "
                "shared, so wall times are upper bounds" if load else "") + "). Each side-by-side "
             "solve runs in its own subprocess; peak memory is that process's ru_maxrss (Python and numpy "
             "included).", ""]
    if sbs:
        lines += ["Poisson(5), h = 1, p = 9, lost sales — this engine (dense grid, Bellman step as one matrix product "
                  "per first pipeline entry, relative value iteration with span bounds) and DynaPlex's ExactSolver "
                  "(modified policy iteration) in the same run:", "",
                  "| L | engine optimum | engine time | engine peak | states | DynaPlex optimum | DynaPlex time | "
                  "DynaPlex peak | DynaPlex states |", "|---|---|---|---|---|---|---|---|---|"]
        for r in sbs["rows"]:
            e, d = r["engine"], r["dynaplex"]
            eng = (f"{e['cost']:.5f} | {e['seconds']:.1f} s | {e['peak_mb']:.0f} MB | {e['states']:,}"
                   if "error" not in e else f"{e['error']} | | |")
            dp = (f"{d['cost']:.5f} | {d['seconds']:.1f} s | {d['peak_mb']:.0f} MB | {d['states']:,}"
                  if "error" not in d else f"{d['error']} | | |")
            lines.append(f"| {r['L']} | {eng} | {dp} |")
        lines += [""]
        for r in sbs["rows"]:
            e, d = r["engine"], r["dynaplex"]
            if "error" not in e and "error" not in d:
                lines.append(f"- L = {r['L']}: the engine takes {d['seconds'] / e['seconds']:.1f}× less time and "
                             f"{d['peak_mb'] / e['peak_mb']:.1f}× less peak memory than DynaPlex; optima differ by "
                             f"{abs(e['cost'] - d['cost']):.1e}.")
        for r in sbs["rows"]:
            e = r["engine"]
            if "error" not in e:
                lines.append(f"- L = {r['L']}: span of the gain bounds {e['span']:.1e}; the solved policy evaluated "
                             f"exactly costs {e['policy_cost']:.6f}; stationary probability that its order sits on "
                             f"a bound (order cap or position bound) {e['bound_mass']:.1e} (that check: "
                             f"{e['check_seconds']:.1f} s more, peak {e['peak_mb_with_check']:.0f} MB).")
        lines.append("")
    if z:
        worst_la = max(r["lookahead"]["gap"] for r in z["instances"])
        worst_simple = max(r["best_simple"]["gap"] for r in z["instances"])
        lines += [f"Zipkin's 16 cells (Poisson 5, h = 1): all 16 optima with every policy search in "
                  f"{z['seconds_total']:.1f} s ({z['solve_seconds_total']:.1f} s of value iteration). Best simple "
                  f"policy (capped base-stock or PIL) at most {worst_simple:.2%} above the optimum; the one-step "
                  f"lookahead on it (a heuristic, evaluated exactly) at most {worst_la:.3%}.", "",
                  "| p | L | optimum | published | base-stock gap | best simple policy | gap | lookahead gap |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in z["instances"]:
            b = r["best_simple"]
            params = ", ".join(f"{k} = {v:g}" for k, v in b["params"].items())
            lines.append(f"| {r['p']} | {r['L']} | {r['optimal']:.4f} | {r['published']:.2f} | "
                         f"{r['base_stock']['gap']:.2%} | {b['name']} ({params}) | {b['gap']:.2%} | "
                         f"{_nonneg(r['lookahead']['gap']):.3%} |")
        lines += ["", "The published column's p = 39 row is the task brief's recollection, not checked against the "
                  "paper (the L = 3 and 4 optima here are 0.8 % and 1.2 % below it; the p = 4, 9, 19 rows agree "
                  "within 0.11 %).", ""]
    if bj:
        ss, snq, la = bj["s-S"], bj["s-nQ"], bj["lookahead"]
        lines += [f"Fixed order cost (Bijvank, Bhulai & Huh 2015, Table 1: Poisson 5, L = 2, h = 1, p = 14, K = 5, "
                  f"lost sales): optimum {bj['optimal']:.4f} (paper {BIJVANK['optimum']}), best (s, S) = "
                  f"({ss['params']['s']}, {ss['params']['S']}) {ss['cost']:.4f} (paper {BIJVANK['s-S']}), best "
                  f"(s, nQ) = ({snq['params']['s']}, {snq['params']['Q']}) {snq['cost']:.4f} ({snq['gap']:.2%} above), "
                  f"one-step lookahead on it {la['cost']:.4f} ({la['gap']:.3%} above); {bj['seconds']:.1f} s.", ""]
    lines.append(END)
    return "\n".join(lines)


def _nonneg(gap: float) -> float:
    """Gaps within the solver's tolerance print as 0 (not −0.000 %)."""
    return 0.0 if abs(gap) < 1e-6 else gap


def write_report(section: str, path: Path = REPO / "bench" / "recorded" / "exact_yardstick.md") -> None:
    """The recorded run bench/REPORT.md includes (bench/report.py: recorded_runs)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(section.replace(BEGIN, "").replace(END, "").strip() + "\n", encoding="utf-8")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.bench_exact")
    ap.add_argument("--quick", action="store_true", help="Zipkin's lead times 1 and 2 only, no side-by-side")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--write-report", action="store_true",
                    help="record the figures for bench/REPORT.md (bench/recorded/)")
    ap.add_argument("--child", nargs=2, metavar=("SOLVER", "L"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        solver, L = args.child
        out = _child_engine(int(L)) if solver == "engine" else _child_dynaplex(int(L))
        print(json.dumps(out))
        return 0
    res = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    load0 = os.getloadavg()[0]
    if not args.quick:
        res["side_by_side"] = side_by_side()
    res["zipkin"] = zipkin(args.quick)
    print(f"Zipkin cells: {res['zipkin']['seconds_total']:.1f} s with the policy searches "
          f"({res['zipkin']['solve_seconds_total']:.1f} s of value iteration)")
    if not args.quick:
        res["bijvank"] = bijvank()
    res["load"] = [load0, os.getloadavg()[0]]
    if args.write_report:
        write_report(report_section(res))
    if args.json:
        print(json.dumps(res, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
