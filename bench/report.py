"""The benchmark report's parts: what a bench module declares, how its section is built, and the whole file.

bench/REPORT.md is generated whole: every line comes from a run, with the commit, the machine and the load average
it ran under, and a goal table that says met or not met. Readings and history are hand-written and live in
docs/BENCHMARK_NOTES.md. A report that holds text this generator did not write (its body no longer matches the hash
in its first line) is never overwritten: `write_report` refuses, so a hand edit is moved, not lost.
"""
from __future__ import annotations

import ast
import datetime as dt
import hashlib
import importlib
import json
import os
import platform
import re
import subprocess
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NOTES = "docs/BENCHMARK_NOTES.md"
HEADER = ("<!-- Generated whole by `python -m bench`; do not edit (hand-written readings: {notes}). "
          "body-sha256: {digest} -->")
DEFAULT_ORDER = 100


class HandWrittenText(Exception):
    """The report file holds text `python -m bench` did not write."""


@dataclass
class Goal:
    """One goal of a section: what is measured, the target in words, the figure, and whether it is met
    (None: not measured in this run, e.g. a part that was skipped). `timed`: a speed goal, which a busy machine
    cannot judge (the report then says so instead of met / NOT MET); False for goals on results (a cost gap)."""

    name: str
    target: str
    figure: str
    met: bool | None
    timed: bool = True


@dataclass
class Section:
    title: str
    module: str
    body: str
    goals: list[Goal] = field(default_factory=list)
    figures: dict | None = None
    seconds: float = 0.0
    load_before: float | None = None
    load_after: float | None = None
    status: str = "ok"  # ok | failed | unavailable


@dataclass
class Part:
    """A bench module that writes a section: `SECTION` (its title) and `run(quick=False) -> dict` at module level;
    optional `ORDER` (int, the section's place; default 100), `goals(result) -> list[Goal]` and
    `markdown(result) -> str` (default: the result's "markdown" text, else a table of its figures)."""

    module: str
    title: str
    order: int


def discover(folder: Path = REPO / "bench", package: str = "bench") -> list[Part]:
    """The modules of `folder` that declare a section, in report order — read from their source (ast), so finding
    them imports nothing: a helper module (the load client, the browser) is never run by accident."""
    parts = []
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith("_"):
            continue
        values = _module_constants(path, ("SECTION", "ORDER"))
        if isinstance(values.get("SECTION"), str):
            order = values.get("ORDER")
            parts.append(Part(f"{package}.{path.stem}", values["SECTION"],
                              order if isinstance(order, int) else DEFAULT_ORDER))
    return sorted(parts, key=lambda p: (p.order, p.module))


def _module_constants(path: Path, names: tuple[str, ...]) -> dict:
    try:
        tree = ast.parse(path.read_text())
    except (OSError, SyntaxError):
        return {}
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id in names and isinstance(node.value, ast.Constant):
                out[node.targets[0].id] = node.value.value
    return out


def _load() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def run_part(part: Part, quick: bool) -> Section:
    """Run one part; an import failure or an exception becomes the section's text and the others still run."""
    before, t0 = _load(), time.perf_counter()
    try:
        mod = importlib.import_module(part.module)
    except Exception as exc:  # a broken or missing module must not hide the other sections
        return Section(part.title, part.module, f"not available: `{part.module}` cannot be imported "
                       f"({type(exc).__name__}: {exc})\n", status="unavailable", load_before=before)
    try:
        result = mod.run(quick=quick)
    except Exception as exc:
        tb = traceback.format_exc(limit=3)
        return Section(part.title, part.module, f"FAILED: `{part.module}.run()` raised {type(exc).__name__}: "
                       f"{exc}\n\n```\n{tb}```\n", status="failed", seconds=time.perf_counter() - t0,
                       load_before=before, load_after=_load())
    seconds, after = time.perf_counter() - t0, _load()
    body = mod.markdown(result) if hasattr(mod, "markdown") and callable(mod.markdown) else default_markdown(result)
    goals = list(mod.goals(result)) if hasattr(mod, "goals") else []
    return Section(part.title, part.module, body, goals, result, seconds, before, after)


def _fmt(v) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
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
        if isinstance(v, dict) and v:
            rows += _flatten(v, f"{prefix}{k}.")
        else:
            rows.append((f"{prefix}{k}", v))
    return rows


def default_markdown(result) -> str:
    """A result's own "markdown" text when it has one, else a table of its figures."""
    if not isinstance(result, dict):
        return f"(run() returned {type(result).__name__}, not a dict: {_fmt(result)})\n"
    if isinstance(result.get("markdown"), str):
        return result["markdown"].rstrip() + "\n"
    rows = _flatten(result)
    if not rows:
        return "(no figures)\n"
    return "| figure | value |\n|---|---|\n" + "".join(f"| {k} | {_fmt(v)} |\n" for k, v in rows)


def commit(report: Path | None = REPO / "bench" / "REPORT.md") -> str:
    """The commit the figures were measured at, flagged when the work tree differs from it (the report file itself
    aside: a previous run's uncommitted report says nothing about the code measured)."""
    exclude = [f":(exclude){report.resolve().relative_to(REPO)}"] if report and report.resolve().is_relative_to(REPO) \
        else []
    try:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=REPO, capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", *exclude], cwd=REPO,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown (git not available)"
    if not head:
        return "unknown (not a git checkout)"
    return head + (" with uncommitted changes" if dirty else "")


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
    return (f"{os.cpu_count()} cores ({cpu or 'cpu unknown'}), {mem}, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")


def busy(section: Section, cores: int | None = None) -> bool:
    """The machine ran other work while the section ran: a 1-minute load average above its core count."""
    cores = cores or os.cpu_count() or 1
    loads = [x for x in (section.load_before, section.load_after) if x is not None]
    return bool(loads) and max(loads) > cores


def _met(g: Goal, busy_machine: bool = False) -> str:
    if g.met is None:
        return "not measured"
    if busy_machine and g.timed:
        return "not judged: busy machine"
    return "**met**" if g.met else "**NOT MET**"


def render(sections: list[Section], *, command: str, started: dt.datetime, quick: bool,
           not_run: list[Part] = (), commit_text: str | None = None, machine_text: str | None = None,
           load_text: str | None = None) -> str:
    """The report's body (everything below the header line); `not_run`: the sections left out (--only/--skip)."""
    if load_text is None:
        try:
            load_text = " / ".join(f"{x:.2f}" for x in os.getloadavg()) + " (1, 5, 15 min, at the end)"
        except OSError:
            load_text = "unknown"
    lines = ["# Benchmark report", "",
             f"Generated by `{command}` on {started:%Y-%m-%d %H:%M} UTC.", "",
             f"- commit: {commit_text or commit()}",
             f"- machine: {machine_text or machine()}",
             f"- load average: {load_text}; each section gives the 1-minute figure before and after it ran",
             f"- hand-written readings of these figures: [{NOTES}](../{NOTES})", ""]
    if quick:
        lines += ["**Quick mode: smaller runs, smoke figures, not for quoting.**", ""]
    goals = [(s, g) for s in sections for g in s.goals]
    lines += ["## Goals", ""]
    if goals:
        lines += ["| section | goal | target | measured | |", "|---|---|---|---|---|"]
        lines += [f"| {s.title} | {g.name} | {g.target} | {g.figure}"
                  f"{' (busy machine, see the section)' if busy(s) else ''} | {_met(g, busy(s))} |"
                  for s, g in goals]
    else:
        lines += ["No section declared a goal."]
    failed = [s.title for s in sections if s.status != "ok"]
    if failed:
        lines += ["", "Sections that failed or could not be imported: " + "; ".join(failed) + "."]
    if not_run:
        lines += ["", "Not run in this report (left out with --only / --skip; their goals are not measured here): "
                  + "; ".join(f"{p.title} (`{p.module}`)" for p in not_run) + "."]
    lines.append("")
    for s in sections:
        load = ""
        if s.load_before is not None:
            load = f"; load average {s.load_before:.2f} before" + (
                f", {s.load_after:.2f} after" if s.load_after is not None else "")
        lines += [f"## {s.title}", "", f"_`{s.module}`, {s.seconds:.1f} s{load}_", ""]
        if busy(s):
            lines += [f"**The machine was busy** (1-minute load average above its {os.cpu_count()} cores): other "
                      "processes shared the cores, so times here are longer than on an idle machine; rerun before "
                      "quoting them.", ""]
        lines += [s.body.rstrip(), ""]
    recorded = recorded_runs()
    if recorded:
        lines += ["# Recorded runs", "", "Long benchmarks run on their own (bench/recorded/, each written by the "
                  "command it names); not rerun by this report.", ""]
        for text in recorded:
            lines += [("#" + text) if text.startswith("## ") else text, ""]
    return "\n".join(lines).rstrip() + "\n"


RECORDED = REPO / "bench" / "recorded"


def recorded_runs(folder: Path = RECORDED) -> list[str]:
    """The recorded runs: sections a long benchmark wrote when it ran on its own (`python -m bench.<name>`, minutes
    to an hour: the calibration grids, the real-data backtest, the exact solver against DynaPlex), one Markdown file
    each, whose text names the command, the commit or date and the load it ran under. The report includes them as
    they are, after the sections this run measured, so their figures are in the report without rerunning them."""
    if not folder.is_dir():
        return []
    return [p.read_text().strip() for p in sorted(folder.glob("*.md")) if p.read_text().strip()]


def _digest(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


def with_header(body: str) -> str:
    return HEADER.format(notes=NOTES, digest=_digest(body)) + "\n" + body


def generated_whole(text: str) -> bool:
    """True when `text` is exactly what this generator wrote: a header line whose hash matches the body."""
    first, _, body = text.partition("\n")
    found = re.fullmatch(r"<!-- Generated whole by `python -m bench`.* body-sha256: ([0-9a-f]{64}) -->", first)
    return bool(found) and found.group(1) == _digest(body)


def write_report(out: Path, body: str) -> None:
    """Write the report; HandWrittenText when the file there holds text this generator did not write."""
    if out.exists() and out.read_text().strip() and not generated_whole(out.read_text()):
        raise HandWrittenText(
            f"{out} holds text `python -m bench` did not write (a hand edit?); it is left as it is. Move the "
            f"hand-written part to {NOTES}, then delete {out} and run again")
    out.write_text(with_header(body))


def section_main(run, prog: str, quick_help: str, argv=None) -> int:
    """The command line of a section module run on its own (`python -m bench.<name> [--quick] [--json]`): its
    markdown, its total seconds, and with --json its figures (all but the markdown) as one JSON line."""
    import argparse

    ap = argparse.ArgumentParser(prog=prog)
    ap.add_argument("--quick", action="store_true", help=quick_help)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    res = run(args.quick)
    print(res["markdown"])
    print(f"total {res['seconds_total']:.0f} s")
    if args.json:
        print(json.dumps({k: v for k, v in res.items() if k != "markdown"}))
    return 0
