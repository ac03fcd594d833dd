"""`python -m bench [--quick] [--only NAMES] [--skip NAMES] [--out bench/REPORT.md] [--json FILE]`: run the
benchmarks and write bench/REPORT.md whole — figures, goals met or not, the commit, the machine, the load average.

Why generated whole: a report that mixes figures with hand-written notes goes stale in the notes (a summary that
quotes figures its own sections call out of date). So bench/REPORT.md holds only what this run measured, and the
readings live in docs/BENCHMARK_NOTES.md. The report's first line carries a hash of its body; a report edited by
hand no longer matches it and is never overwritten (the command stops with `error: ...`, exit 2), so no
hand-written text is lost.

Adding a benchmark section (no edit here): in your module bench/<name>.py define at module level
    SECTION = "Title of the section"       # makes the module a section (found by reading the source, not by import)
    ORDER = 55                              # optional: its place in the report (default 100; smaller first)
    def run(quick: bool = False) -> dict    # measures; quick = small runs for a smoke check
and optionally
    def goals(result) -> list[bench.report.Goal]   # Goal(name, target, figure, met): rows of the goal table
    def markdown(result) -> str                    # the section's text (default: result["markdown"], else a table)
A section whose module fails to import or whose run() raises is reported as such; the others still run.
`--only` / `--skip` take module names (bench_engine) or section titles, comma-separated.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.report import HandWrittenText, discover, render, run_part, write_report  # noqa: E402


def _chosen(part, names: set[str]) -> bool:
    return part.module.rsplit(".", 1)[1] in names or part.module in names or part.title in names


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller runs (smoke check, figures not for quoting)")
    ap.add_argument("--out", default=str(REPO / "bench" / "REPORT.md"), help="where to write the Markdown report")
    ap.add_argument("--json", help="also write every section's raw figures to this JSON file")
    ap.add_argument("--only", default="", help="run only these sections (module names or titles, comma-separated)")
    ap.add_argument("--skip", default="", help="skip these sections (module names or titles, comma-separated)")
    ap.add_argument("--no-load", action="store_true", help="skip the load test (same as --skip load_section)")
    ap.add_argument("--list", action="store_true", help="list the sections and exit")
    args = ap.parse_args(argv)

    parts = discover()
    if args.list:
        for p in parts:
            print(f"{p.order:>4}  {p.module.rsplit('.', 1)[1]:<20} {p.title}")
        return 0
    only = {n.strip() for n in args.only.split(",") if n.strip()}
    skip = {n.strip() for n in args.skip.split(",") if n.strip()} | ({"load_section"} if args.no_load else set())
    unknown = sorted(n for n in only | skip if not any(_chosen(p, {n}) for p in parts))
    if unknown:
        print(f"error: no benchmark section named {', '.join(unknown)} (see --list)", file=sys.stderr)
        return 2
    run = [p for p in parts if (not only or _chosen(p, only)) and not _chosen(p, skip)]
    started = dt.datetime.now(dt.timezone.utc)
    sections = []
    for part in run:
        print(f"[bench] {part.title} ({part.module}) ...", file=sys.stderr, flush=True)
        sections.append(run_part(part, args.quick))
    command = "python -m bench" + "".join(f" {a}" for a in (argv if argv is not None else sys.argv[1:])
                                           if not a.startswith("--out") and not a.startswith("--json"))
    body = render(sections, command=command, started=started, quick=args.quick,
                  not_run=[p for p in parts if p not in run])
    try:
        write_report(Path(args.out), body)
    except HandWrittenText as exc:
        print(body)
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        Path(args.json).write_text(json.dumps({s.module: s.figures for s in sections}, indent=2, default=str))
    print(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
