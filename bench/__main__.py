"""`python -m bench [--quick] [--out bench/REPORT.md]`: run every benchmark, print the report, write it as Markdown.

Why one entry point: bench/REPORT.md holds these figures with their date and machine, and a reviewer reruns
exactly this command to check them; the report's hand-written notes (below NOTES_MARKER) are kept across runs.
Each part lives in its own module exposing ``run(quick=False) -> dict``:
bench.bench_engine, bench.bench_forecast, bench.bench_web, bench.bench_scenarios, bench.accuracy_public. A module
that is missing or fails is reported as such (with the reason) and the other parts still run. The forecast
accuracy table on ../shared/data is computed here and skipped with a clear line when that folder is absent.
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
    ("Forecast accuracy goals (ensembles trained on the public file)", "bench.accuracy_public"),
    ("Exact lost-sales optimum (Zipkin's instances)", "bench.bench_exact"),
    ("Forecast-driven projected inventory level vs order-up-to (lost sales)", "bench.bench_pil"),
    ("Order costs: the K-aware (s, S) rule against order-up-to at every review", "bench.bench_order_cost"),
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
    """Forecast accuracy on the public data with the engine's honest backtest (engine/forecast/backtest.py):
    per-series protocol (last 73 days of each series held out, rolling one step ahead) and the original
    notebook's split ("seed" protocol) for a like-for-like comparison with its published figures."""
    if not SHARED_DATA.exists():
        return (f"skipped: {SHARED_DATA} is absent (the public dataset lives beside the checkout, never in it)\n",
                None)
    try:
        from engine.data.dataset import load_csv
        from engine.forecast.backtest import DEFAULT_MODELS, markdown_table, run_backtest
        from engine.forecast.registry import list_forecasters
    except ImportError as exc:
        return f"not available: the engine's backtest or registry is missing ({exc})\n", None
    ds = load_csv(str(SHARED_DATA))
    listed = [f["name"] for f in list_forecasters()]
    models = [m for m in DEFAULT_MODELS if m in listed]
    models += [n for n in listed if n.startswith("ensemble:") and n not in models]
    if not quick:
        models += [n for n in ("ets", "arima") if n in listed and n not in models]
    out_text, raw = [], {}
    protocols = [("per-series", "last 73 days of each series held out, one step ahead, rolling origin")]
    if not quick:
        protocols.append(("seed", "the original notebook's split: all rows sorted by date, last 10 % held out"))
    for protocol, what in protocols:
        t0 = time.perf_counter()
        try:
            res = run_backtest(ds, models, protocol=protocol, holdout_days=73, data_path=str(SHARED_DATA))
        except Exception as exc:  # one protocol failing must not hide the other
            out_text.append(f"### {protocol}\n\nFAILED: {type(exc).__name__}: {exc}\n")
            continue
        raw[protocol] = res
        notes = [f"- {m}: {r['note']}" for m, r in res["models"].items() if r.get("note")]
        skipped = [f"- {m} skipped: {why}" for m, why in res.get("skipped", {}).items()]
        out_text.append(f"### {protocol} protocol\n\n{what}; {res['holdout_rows']} forecasts over "
                        f"{len(res['series'])} series ({time.perf_counter() - t0:.0f} s).\n\n"
                        + markdown_table(res) + "\n" + ("\n" + "\n".join(notes + skipped) + "\n"
                                                        if notes or skipped else ""))
    return ("The bundled models (trained on data/sample.csv, not on this file) and the baselines.\n\n"
            f"Data: `{SHARED_DATA.name}` (read in place, never copied).\n\n" + "\n".join(out_text)), raw


def load_section(quick: bool) -> tuple[str, dict | None]:
    """The load test (bench/load.py) against a real gunicorn it starts itself, embedded store: 50 sessions x
    60 s ticking every 300 ms (quick: 5 x 5 s), client spread over 4 processes; first the Procfile's
    configuration (2 workers with 4 threads each, gthread), then 2 plain sync workers for comparison."""
    from bench.load import format_text, run_load, server_times, spawn_server
    sessions, seconds, workers, procs = (5, 5, 2, 2) if quick else (50, 60, 2, 4)
    texts, raw = [], {}
    for label, extra in (("Procfile (gthread, --threads=4)", ["--threads=4"]), ("sync workers", [])):
        server = spawn_server(workers, extra)
        try:
            before = os.getloadavg()[0]
            r = run_load(server.url, sessions, seconds, 300, procs=procs)
            r.update(server_times(server))
            r["loadavg_1min_before"], r["loadavg_1min_after"] = round(before, 2), round(os.getloadavg()[0], 2)
            r["server"] = f"gunicorn, {workers} workers {' '.join(extra)} (spawned), embedded diskcache store"
        finally:
            server.close()
        met = r["errors"] == 0 and (r["p95_ms"] or 1e9) <= 100 and r["incomplete_ledgers"] == 0
        cmd = (f"python -m bench.load --sessions {sessions} --seconds {seconds} --spawn --workers {workers} "
               f"--procs {procs}" + "".join(f" --gunicorn-arg={a}" for a in extra))
        texts.append(f"### {label}\n\n`{cmd}`\n\n```\n{format_text(r)}\n```\n\n"
                     f"goal (0 errors, p95 <= 100 ms, every ledger complete): **{'MET' if met else 'NOT MET'}**\n")
        raw[label] = r
    return "\n".join(texts), raw


def guarded(section, quick: bool) -> tuple[str, dict | None]:
    """(text, figures) of a report section; a section that raises is reported as FAILED and the others still run."""
    try:
        return section(quick)
    except Exception as exc:
        return f"FAILED: {type(exc).__name__}: {exc}\n", None


NOTES_MARKER = "<!-- Hand-written notes below this line are kept when `python -m bench` rewrites the report. -->"


def kept_notes(out: Path) -> str:
    """The hand-written part of an existing report (from NOTES_MARKER on): goals, readings of the figures."""
    try:
        text = out.read_text()
    except OSError:
        return ""
    at = text.find(NOTES_MARKER)
    return "" if at < 0 else "\n" + text[at:]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller runs (smoke check, figures not for the README)")
    ap.add_argument("--out", default=str(REPO / "bench" / "REPORT.md"), help="where to write the Markdown report")
    ap.add_argument("--json", help="also write all raw figures to this JSON file")
    ap.add_argument("--no-load", action="store_true", help="skip the 60 s load test")
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
    acc_text, acc = guarded(accuracy_table, args.quick)
    sections.append(f"## Forecast accuracy (public data)\n\n{acc_text}")
    raw["accuracy"] = acc
    if args.no_load:
        sections.append("## Load test\n\nskipped (--no-load)\n")
    else:
        print("[bench] load test against a spawned gunicorn ...", file=sys.stderr, flush=True)
        load_text, load = guarded(load_section, args.quick)
        sections.append(f"## Load test\n\n{load_text}")
        raw["load"] = load

    head = (f"# Benchmark report\n\nGenerated by `python -m bench{' --quick' if args.quick else ''}` on "
            f"{started:%Y-%m-%d %H:%M} UTC, {machine()}.\n"
            + ("\n**Quick mode: smoke figures, not for quoting.**\n" if args.quick else "") + "\n")
    report = head + "\n".join(sections) + kept_notes(Path(args.out))
    Path(args.out).write_text(report)
    if args.json:
        Path(args.json).write_text(json.dumps(raw, indent=2, default=str))
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
