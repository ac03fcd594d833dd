"""`python -m bench [--quick] [--out bench/REPORT.md]`: run every benchmark, print the report, write it as Markdown.

Why one entry point: the README quotes these figures with their date and machine, and a reviewer reruns exactly
this command to check them. Each part lives in its own module exposing ``run(quick=False) -> dict``:
bench.bench_engine, bench.bench_forecast, bench.bench_web, bench.bench_scenarios. A module that is missing or
fails is reported as such (with the reason) and the other parts still run. The forecast accuracy table on
../shared/data is computed here and skipped with a clear line when that folder is absent.
"""
from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data" / "supply_chain_sku1.csv"
PARTS = [
    ("Engine", "bench.bench_engine"),
    ("Forecast serving", "bench.bench_forecast"),
    ("Web app", "bench.bench_web"),
    ("Scenarios", "bench.bench_scenarios"),
]


def machine() -> str:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import psutil
        mem = f"{psutil.virtual_memory().total / 2**30:.0f} GB RAM"
    except ImportError:
        mem = "RAM unknown"
    return f"{os.cpu_count()} cores ({cpu or 'cpu unknown'}), {mem}, {platform.system()} {platform.release()}, " \
           f"Python {platform.python_version()}"


def _fmt(v) -> str:
    if isinstance(v, float):
        if v != v:
            return "n/a"
        return f"{v:.4g}" if abs(v) < 1e5 else f"{v:,.0f}"
    if isinstance(v, (list, tuple)) and len(v) > 8:
        return f"[{len(v)} values]"
    if isinstance(v, (dict, list, tuple)):
        return json.dumps(v, default=str)[:200]
    return str(v)


def _flatten(d: dict, prefix: str = "") -> list[tuple[str, object]]:
    rows = []
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v and all(not isinstance(x, (dict, list)) or len(str(x)) < 80 for x in v.values()):
            rows += _flatten(v, key + ".")
        else:
            rows.append((key, v))
    return rows


def render_part(result: dict) -> str:
    """A module's dict as Markdown: its own 'markdown' text when it gives one, else a figure table."""
    if not isinstance(result, dict):
        return f"(module returned {type(result).__name__}, not a dict: {_fmt(result)})\n"
    out = []
    if isinstance(result.get("markdown"), str):
        out.append(result["markdown"].rstrip() + "\n")
    rows = [(k, v) for k, v in _flatten({k: v for k, v in result.items() if k != "markdown"})]
    if rows and not out:
        out.append("| figure | value |\n|---|---|\n" + "".join(f"| {k} | {_fmt(v)} |\n" for k, v in rows))
    return "\n".join(out) if out else "(no figures)\n"


def run_part(modname: str, quick: bool) -> tuple[str, dict | None, float]:
    t0 = time.perf_counter()
    try:
        mod = importlib.import_module(modname)
    except ModuleNotFoundError as exc:
        if exc.name and (exc.name == modname or modname.startswith(exc.name)):
            return f"not available: `{modname}` is not in this checkout\n", None, 0.0
        return f"not available: `{modname}` cannot be imported ({exc})\n", None, 0.0
    except Exception as exc:  # a broken module must not hide the other parts
        return f"not available: `{modname}` failed to import: {type(exc).__name__}: {exc}\n", None, 0.0
    if not hasattr(mod, "run"):
        return f"not available: `{modname}` has no run(quick=False)\n", None, 0.0
    try:
        result = mod.run(quick=quick)
    except Exception as exc:
        tb = traceback.format_exc(limit=3)
        return (f"FAILED: `{modname}.run()` raised {type(exc).__name__}: {exc}\n\n```\n{tb}```\n", None,
                time.perf_counter() - t0)
    return render_part(result), result, time.perf_counter() - t0


def accuracy_table(quick: bool) -> tuple[str, dict | None]:
    """One-step-ahead MAE/RMSE per forecaster on each series of the public data, last 73 days held out."""
    if not SHARED_DATA.exists():
        return (f"skipped: {SHARED_DATA} is absent (the public dataset lives beside the checkout, never in it)\n",
                None)
    try:
        import numpy as np
        from engine.data import load_csv
        from engine.forecast.registry import get_forecaster, list_forecasters
    except ImportError as exc:
        return f"not available: the engine's data loader or forecaster registry is missing ({exc})\n", None
    ds = load_csv(str(SHARED_DATA))
    holdout = 73
    names = [f["name"] for f in list_forecasters()]
    if quick:
        names = [n for n in names if n not in ("arima", "ets")]
    results: dict[str, dict] = {}
    for name in names:
        try:
            fc = get_forecaster(name)
        except Exception as exc:
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        errs = []
        t0 = time.perf_counter()
        try:
            for key, series in ds.series.items():
                y = np.asarray(series.demand, dtype=float)
                n = len(y)
                cov = _covariates(series, n)
                for t in range(n - holdout, n):
                    hist = y[None, :t]
                    c = _cov_slice(cov, t, getattr(fc, "horizon", 31)) if cov is not None else None
                    pred = fc.predict(hist, c) if getattr(fc, "uses_covariates", False) else fc.predict(hist)
                    errs.append(float(pred[0, 0]) - y[t])
        except Exception as exc:
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        e = np.asarray(errs)
        results[name] = {"mae": float(np.mean(np.abs(e))), "rmse": float(np.sqrt(np.mean(e ** 2))),
                         "forecasts": int(e.size), "seconds": time.perf_counter() - t0}
    lines = [f"Data: `{SHARED_DATA.name}` ({len(ds.series)} series), one step ahead, last {holdout} days of each "
             "series held out, rolling origin.\n", "| forecaster | MAE | RMSE | forecasts | s |", "|---|---|---|---|---|"]
    for name, r in sorted(results.items(), key=lambda kv: kv[1].get("mae", float("inf"))):
        if "error" in r:
            lines.append(f"| {name} | n/a | n/a | – | {r['error'][:80]} |")
        else:
            lines.append(f"| {name} | {r['mae']:.2f} | {r['rmse']:.2f} | {r['forecasts']} | {r['seconds']:.1f} |")
    return "\n".join(lines) + "\n", results


def _covariates(series, n):
    """Known-in-advance covariates aligned with the series (promo, planning, day of year), when the engine has them."""
    try:
        import numpy as np
        from engine.forecast.base import Covariates
    except ImportError:
        return None
    promo = np.asarray(series.promo, dtype=float)[None, :] if series.promo is not None else None
    planning = np.asarray(series.planning, dtype=float)[None, :] if series.planning is not None else None
    doy = None
    if series.dates:
        doy = np.asarray([dt.date.fromisoformat(d[:10]).timetuple().tm_yday for d in series.dates])[None, :]
    return (Covariates, promo, planning, doy)


def _cov_slice(cov, t, horizon):
    import numpy as np
    cls, promo, planning, doy = cov
    end = t + horizon

    def cut(a):
        if a is None:
            return None
        a = a[:, :end]
        if a.shape[1] < end:  # pad past the end of the data with the last value
            a = np.concatenate([a, np.repeat(a[:, -1:], end - a.shape[1], axis=1)], axis=1)
        return a
    try:
        return cls(promo=cut(promo), planning=cut(planning), day_of_year=cut(doy))
    except TypeError:
        return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller runs (smoke check, figures not for the README)")
    ap.add_argument("--out", default=str(REPO / "bench" / "REPORT.md"), help="where to write the Markdown report")
    ap.add_argument("--json", help="also write all raw figures to this JSON file")
    args = ap.parse_args(argv)

    sys.path.insert(0, str(REPO))
    started = dt.datetime.now(dt.timezone.utc)
    sections, raw = [], {}
    for title, modname in PARTS:
        print(f"[bench] {title} ({modname}) ...", file=sys.stderr, flush=True)
        text, result, secs = run_part(modname, args.quick)
        sections.append(f"## {title}\n\n{text}" + (f"\n_{secs:.1f} s_\n" if secs else ""))
        raw[modname] = result
    print("[bench] forecast accuracy on ../shared/data ...", file=sys.stderr, flush=True)
    try:
        acc_text, acc = accuracy_table(args.quick)
    except Exception as exc:
        acc_text, acc = f"FAILED: {type(exc).__name__}: {exc}\n", None
    sections.append(f"## Forecast accuracy (public data)\n\n{acc_text}")
    raw["accuracy"] = acc

    head = (f"# Benchmark report\n\nGenerated by `python -m bench{' --quick' if args.quick else ''}` on "
            f"{started:%Y-%m-%d %H:%M} UTC, {machine()}.\n"
            + ("\n**Quick mode: smoke figures, not for quoting.**\n" if args.quick else "") + "\n")
    report = head + "\n".join(sections)
    Path(args.out).write_text(report)
    if args.json:
        Path(args.json).write_text(json.dumps(raw, indent=2, default=str))
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
