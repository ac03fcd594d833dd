"""Promises on real demand: `python -m bench.policy_backtest [--cuts 0,90,180,270] [--quick] [--write-report]` runs
engine.studies.policy_backtest on shared/data/real/m5_store.csv (280 M5 series × 730 days) cut at several end
dates — each cut drops that many days from the end, then one origin 90 days before the new end — with lead time 7,
objective fill-rate, target 0.95, with and without the portfolio's out-of-time correction, and prints per cut:
promised and realised fill rate (mean over series, unit-weighted), per-class realised means, mean on-hand stock,
the days-of-cover baseline, and the wall time of the run (with the load average: the machine is shared).
`--write-report` also runs the first cut at target 0.90 (lead time 7) and at lead times 3 and 14 (target 0.95), the
cuts 45, 135 and 225, and writes the figures to bench/recorded/policy_backtest.md, the recorded run
bench/REPORT.md includes.

Goal (issue 21): at every cut, realised within ±1.5 points of the target (mean and unit-weighted) and of the
promise, each class within ±3 points, not dominated by the baseline (higher fill or less stock); one origin of
280 series in ≤ 60 s. The correction's free choices: how many held-out windows its pooled curve averages
(CHECK_WINDOWS = 4) was chosen on the same backtest at lead times 3 and 14 (cuts 0–270), not at lead time 7; how
far a class's offset leans on the pooled curve (SHRINK_SERIES = 30) on the cuts 90, 180 and 270 before that. The
lead time 7 rows here are scored, not used to choose.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

TARGET = 0.95
LEAD_TIME = 7
CLASSES = ("smooth", "erratic", "intermittent", "lumpy")
OTHER_SETTINGS = ((0.90, 7), (0.95, 3), (0.95, 14))  # (target, lead time) of the generalisation rows
BETWEEN_CUTS = (45, 135, 225)  # origins between the four cuts' (overlapping windows), looked at after the choices
RECORD = REPO / "bench" / "recorded" / "policy_backtest.md"


def m5_path() -> Path | None:
    """shared/data/real/m5_store.csv: $SIM_SHARED_DIR, else beside the repository, else /work/shared."""
    for base in (os.environ.get("SIM_SHARED_DIR"), REPO.parent / "shared", "/work/shared"):
        if base and (Path(base) / "data" / "real" / "m5_store.csv").exists():
            return Path(base) / "data" / "real" / "m5_store.csv"
    return None


def one_cut(series: list, cut: int, promise_check: bool, target: float = TARGET, lead_time: int = LEAD_TIME,
            check_windows: int | None = None) -> dict:
    """One origin `cut` days before the file's end; check_windows None: the portfolio's CHECK_WINDOWS."""
    from engine.studies.policy_backtest import BacktestSettings, run_backtest
    from engine.studies.portfolio import CHECK_WINDOWS

    windows = CHECK_WINDOWS if check_windows is None else check_windows

    ser = [x.slice(0, len(x) - cut) for x in series] if cut else series
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    out = run_backtest(ser, BacktestSettings(holdout_days=90, origins=1, lead_time=lead_time, objective="fill-rate",
                                             target_fill_rate=target, promise_check=promise_check,
                                             check_windows=windows))
    wall = time.perf_counter() - t0
    t, b = out["totals"], out["baseline"]
    return {"cut": cut, "origin": out["records"][0]["origin_date"], "check": promise_check, "wall_s": wall,
            "target": target, "lead_time": lead_time, "windows": windows,
            "load": max(load, os.getloadavg()[0]), "promised": t["promised_fill_rate"],
            "realised": t["realised_fill_rate"],
            "units": t["realised_fill_rate_units"], "on_hand": t["average_on_hand"],
            "within_5": t["series_within_5pts"], "scored": t["scored"],
            "classes": {c: out["by_class"].get(c, {}).get("realised_fill_rate") for c in CLASSES},
            "base_fill": b["realised_fill_rate"], "base_units": b["realised_fill_rate_units"],
            "base_on_hand": b["average_on_hand"]}


def verdict(r: dict) -> str:
    target = r.get("target", TARGET)
    ok = (abs(r["realised"] - target) <= 0.015 and abs(r["units"] - target) <= 0.015
          and abs(r["realised"] - r["promised"]) <= 0.015 and abs(r["units"] - r["promised"]) <= 0.015
          and all(v is None or abs(v - target) <= 0.03 for v in r["classes"].values())
          and (r["realised"] > r["base_fill"] or r["on_hand"] < r["base_on_hand"]))
    return "yes" if ok else "no"


def table(rows: list[dict]) -> str:
    head = ("| cut (days) | last day seen | target | lead time | correction | promised | realised | unit-weighted | "
            + " | ".join(CLASSES) + " | within 5 pts | on hand | baseline fill (units) | baseline on hand | "
            "goals met | wall s (load) |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        cls = " | ".join("–" if r["classes"][c] is None else f"{r['classes'][c]:.3f}" for c in CLASSES)
        check = f"on, {r['windows']} window{'s' if r['windows'] > 1 else ''}" if r["check"] else "off"
        lines.append(f"| {r['cut']} | {r['origin']} | {r['target']:.2f} | {r['lead_time']} | "
                     f"{check} | {r['promised']:.3f} | "
                     f"{r['realised']:.3f} | {r['units']:.3f} | {cls} | {r['within_5']}/{r['scored']} | "
                     f"{r['on_hand']:.1f} | {r['base_fill']:.3f} ({r['base_units']:.3f}) | {r['base_on_hand']:.1f} | "
                     f"{verdict(r)} | {r['wall_s']:.1f} ({r['load']:.1f}) |")
    return "\n".join(lines)


def run(quick: bool = False, cuts=(0, 90, 180, 270), others: bool = False) -> dict:
    """The table rows: per cut the correction on and off (with `others`, also the correction read on one window
    only, the other targets and lead times at the first cut, and the check's window curves)."""
    from engine.studies.portfolio import _series_list

    path = m5_path()
    if path is None:
        return {"skipped": "shared/data/real/m5_store.csv not found (set SIM_SHARED_DIR)"}
    series = _series_list(str(path), None, False)
    rows = []
    for cut in (cuts[:1] if quick else cuts):
        for check in (True, False):
            rows.append(one_cut(series, cut, check))
        if others:
            rows.append(one_cut(series, cut, True, check_windows=1))
    other_rows = []
    if others:
        for target, lead in OTHER_SETTINGS:
            for check in (True, False):
                other_rows.append(one_cut(series, cuts[0], check, target, lead))
    between = [one_cut(series, cut, check) for cut in BETWEEN_CUTS for check in (True, False)] if others else []
    windows = window_curves(series) if others else []
    return {"rows": rows, "table": table(rows), "other_rows": other_rows,
            "between_rows": between, "between_table": table(between) if between else "",
            "other_table": table(other_rows) if other_rows else "", "windows": windows,
            "window_table": window_table(windows) if windows else ""}


def window_curves(series: list, target: float = TARGET, lead_time: int = LEAD_TIME, holdout: int = 90) -> list[dict]:
    """What the out-of-time check reads, window by window back from the file's end: recommendations on the days
    before each 90-day window at every selection target of the check's ladder, run on the window's real days. Per
    window: its days of history, the mean realised and simulated fill rate over series at each selection target,
    and each class's offset from the mean at the target itself."""
    import numpy as np

    from engine.simulation.metrics import fill_rate
    from engine.studies.history_replay import replay_records
    from engine.studies.portfolio import PortfolioSettings, check_targets, recommend_at_targets

    s = PortfolioSettings(lead_time=lead_time, days=holdout, target_fill_rate=target, objective="fill-rate",
                          promise_check=False)
    ladder = check_targets(target)
    at = int(np.argmin(abs(ladder - target)))
    n_days = min(len(x) for x in series)
    out = []
    for back in range(0, n_days // holdout):
        end = n_days - back * holdout
        if end - holdout < 60:
            break
        cut = [x.slice(0, len(x) - back * holdout - holdout) for x in series]
        after = np.vstack([np.asarray(x.demand[len(x) - back * holdout - holdout:len(x) - back * holdout],
                                      dtype=np.float64) for x in series])
        per = recommend_at_targets(cut, s, ladder)
        real = np.array([fill_rate(replay_records(cut, recs, after, s.history_days, s.holding_rate)["totals"], np.nan)
                         for recs in per])
        sim = np.array([[np.nan if r["fill_rate"] is None else r["fill_rate"] for r in recs] for recs in per])
        ok = ~np.isnan(real).any(axis=0) & ~np.isnan(sim).any(axis=0)
        labels = np.array([r["class"] for r in per[0]])
        pooled = real[:, ok].mean(axis=1)
        first = series[0]
        out.append({"window_end": None if first.dates is None else first.dates[len(first) - back * holdout - 1],
                    "history_days": end - holdout, "series": int(ok.sum()), "ladder": ladder.tolist(),
                    "realised": pooled.tolist(), "simulated": sim[:, ok].mean(axis=1).tolist(),
                    "class_offsets": {c: float(real[at, ok & (labels == c)].mean() - pooled[at])
                                      for c in CLASSES if (ok & (labels == c)).sum() >= 8}})
    return out


def window_table(rows: list[dict], target: float = TARGET) -> str:
    ladder = rows[0]["ladder"]
    head = ("| window ends | days before it | series | " + " | ".join(f"realised at {x:.3g}" for x in ladder)
            + " | simulated at " + f"{target:g} | " + " | ".join(f"{c} offset" for c in CLASSES) + " |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    at = min(range(len(ladder)), key=lambda k: abs(ladder[k] - target))
    for r in rows:
        off = " | ".join(f"{100 * r['class_offsets'][c]:+.1f}" if c in r["class_offsets"] else "–" for c in CLASSES)
        lines.append(f"| {r['window_end']} | {r['history_days']} | {r['series']} | "
                     + " | ".join(f"{v:.3f}" for v in r["realised"]) + f" | {r['simulated'][at]:.3f} | {off} |")
    return "\n".join(lines)


def _commit() -> str:
    import subprocess

    try:
        return subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short=12", "HEAD"], capture_output=True,
                              text=True, timeout=10).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def markdown(out: dict, when: str) -> str:
    """The recorded section: what ran, the tables, and how the goals read in them."""
    from engine.studies.portfolio import CHECK_WINDOWS

    rows = out["rows"]
    on = [r for r in rows if r["check"] and r["windows"] == CHECK_WINDOWS]
    one = [r for r in rows if r["check"] and r["windows"] == 1]
    met = sum(verdict(r) == "yes" for r in on)
    loads = [r["load"] for r in rows + out["other_rows"]]
    first = on[0]
    wins = out.get("windows") or []
    at = [min(range(len(w["ladder"])), key=lambda k: abs(w["ladder"][k] - TARGET)) for w in wins]
    by_window = ", ".join(f"{w['realised'][k]:.3f}" for w, k in zip(wins, at))
    def offsets(c):
        return ", ".join(f"{100 * w['class_offsets'][c]:+.1f}" for w in wins if c in w["class_offsets"])
    lines = [
        "## Policy backtest on real demand (M5 store file)", "",
        f"`python -m bench.policy_backtest --write-report` on {when}, commit {_commit()}, on the 2-core machine "
        f"shared with other runs (1-minute load average {min(loads):.1f}–{max(loads):.1f} while it ran): the "
        "portfolio recommends on shared/data/real/m5_store.csv (280 series) cut `cut` days before its end, then the "
        "recommendations run on the next 90 real days through the inventory kernel (lost sales, start on-hand = the "
        "level, nothing on order); objective fill-rate. \"correction\": the portfolio's out-of-time check "
        "(engine.studies.portfolio.out_of_time_calibration: the pooled realised-vs-target curve averaged over up "
        "to four 90-day windows before the origin, each class's offset from it read in the latest window and "
        "shrunk toward it); \"off\": the bootstrap's promise as it is. Baseline: days of cover "
        "S = k · (L + 1) · the 28-day mean, k per series on its own past. Goals met: realised within ±1.5 points of "
        "the target and of the promise (mean over series and unit-weighted), every class within ±3, not dominated "
        "by the baseline (higher fill or less stock).", "",
        f"Target {TARGET}, lead time {LEAD_TIME}, four cuts (scored only: the correction's free choices were made "
        "on other runs, see below):", "", out["table"], "",
    ]
    if out["other_rows"]:
        lines += [f"Other targets and lead times at cut {out['other_rows'][0]['cut']} (lead times 3 and 14 are the "
                  "runs the number of check windows was chosen on; target 0.90 was not used to choose anything):",
                  "", out["other_table"], ""]
    if out.get("between_rows"):
        bet = [r for r in out["between_rows"] if r["check"]]
        lines += [f"Cuts between those ({', '.join(str(c) for c in BETWEEN_CUTS)} days; first run after the "
                  f"choices were made): goals met at {sum(verdict(r) == 'yes' for r in bet)} of {len(bet)}:", "",
                  out["between_table"], ""]
    if out.get("windows"):
        lines += [f"What the check reads, window by window back from the file's end (target {TARGET}, lead time "
                  f"{LEAD_TIME}, no correction): the mean realised fill rate over series at each selection target "
                  "of the check's ladder, the bootstrap's simulated one at the target, and each class's offset "
                  "from the mean at the target (points):", "", out["window_table"], ""]
    lines += [
        "Reading:",
        f"- With the correction the goals are met at {met} of {len(on)} cuts at target {TARGET}, lead time "
        f"{LEAD_TIME}; at cut {first['cut']} (the file's last 90 days) promised {first['promised']:.3f}, realised "
        f"{first['realised']:.3f} over series and {first['units']:.3f} over units, with "
        f"{first['on_hand']:.1f} units on hand against the baseline's {first['base_on_hand']:.1f}. Wall time of "
        f"one origin with the correction: {min(r['wall_s'] for r in on):.1f}–{max(r['wall_s'] for r in on):.1f} s "
        "at the load shown.",
        "- Why one held-out window was not enough: how far real days fall short of the bootstrap's promise moves "
        "from one 90-day window to the next with no persistence (realised at selection target "
        f"{TARGET} in the windows from the newest back: {by_window}; see the window table). A correction read on "
        "the one window before the origin carries that window's luck (rows \"on, 1 window\": realised "
        + ", ".join(f"{r['realised']:.3f}" for r in one) + f" at cuts {', '.join(str(r['cut']) for r in one)}; "
        f"goals met at {sum(verdict(r) == 'yes' for r in one)} of {len(one)}). The pooled curve averages up to "
        f"{CHECK_WINDOWS} windows; a class's offset from it, which changes with the class's members and seasons "
        f"(smooth {offsets('smooth')}, intermittent {offsets('intermittent')}, lumpy {offsets('lumpy')} points "
        "from the newest window back), is read in the latest window, the nearest to the one promised for.",
        "- A window whose history cannot hold the full forecaster backtest (warm-up, backtest origins, one "
        "protection period) is left out of the check: such a window (the table's last, if its days before it "
        "are fewer than 28 + 90 + 8) realises far less than its neighbours.",
        "- Free choices: four windows was chosen on the lead time 3 and 14 backtests at cuts 0–270 (mean "
        "|realised − target| and |realised − promise| 0.83 and 0.76 points with four windows, 0.88 and 0.83 with "
        "one, read off the ladder's curves); the shrinkage of class offsets (30 pseudo-series) on cuts 90–270 "
        "before that. The lead time 7 rows above were only scored.",
        "- Mean over cuts with the correction: realised "
        f"{sum(r['realised'] for r in on) / len(on):.3f} over series, {sum(r['units'] for r in on) / len(on):.3f} "
        f"over units, promised {sum(r['promised'] for r in on) / len(on):.3f}.",
        "- Cost of the correction: it recommends again at eight selection targets on each window's history "
        "(sharing the forecaster backtest, the paths and the coarse candidate simulations), about 4× one "
        "portfolio run per window.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cuts", default="0,90,180,270", help="days dropped from the file's end, comma-separated")
    ap.add_argument("--quick", action="store_true", help="the first cut only")
    ap.add_argument("--write-report", action="store_true",
                    help="also the other targets and lead times; record the figures for bench/REPORT.md")
    args = ap.parse_args(argv)
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    out = run(args.quick, tuple(int(c) for c in args.cuts.split(",")), others=args.write_report)
    print(out.get("skipped") or "\n\n".join(x for x in (out["table"], out["other_table"], out.get("between_table"))
                                             if x))
    if args.write_report and "skipped" not in out:
        RECORD.parent.mkdir(parents=True, exist_ok=True)
        RECORD.write_text(markdown(out, when), encoding="utf-8")
        print(f"wrote {RECORD.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
