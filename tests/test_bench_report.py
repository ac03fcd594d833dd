"""`python -m bench` writes bench/REPORT.md whole from the sections the bench modules declare (figures, goals met or
not, commit, machine, load average) and never overwrites text it did not write."""
from __future__ import annotations

import ast
import datetime as dt
import sys
import textwrap

import pytest

from bench import report as R
from bench.__main__ import main
from tests.conftest import REPO


def _package(tmp_path, files: dict[str, str]):
    pkg = tmp_path / "fakebench"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for name, text in files.items():
        (pkg / f"{name}.py").write_text(textwrap.dedent(text))
    sys.path.insert(0, str(tmp_path))
    return pkg


FILES = {
    "fast": """
        SECTION = "Fast part"
        ORDER = 5
        def run(quick=False):
            return {"seconds": 0.25 if quick else 2.0, "markdown": "fast figures"}
        def goals(result):
            from bench.report import Goal
            return [Goal("fast thing", "< 1 s", f"{result['seconds']} s", result["seconds"] < 1)]
    """,
    "broken": """
        SECTION = "Broken part"
        def run(quick=False):
            raise RuntimeError("disk full")
    """,
    "plain": """
        SECTION = "Plain part"
        ORDER = 7
        def run(quick=False):
            return {"rows": 3, "nested": {"p95_ms": 12.5}}
    """,
    "helper": """
        raise SystemExit("a module without SECTION must never be imported by the report")
    """,
}


@pytest.fixture
def fake(tmp_path):
    pkg = _package(tmp_path, FILES)
    yield pkg
    sys.path.remove(str(tmp_path))
    for name in [m for m in sys.modules if m.startswith("fakebench")]:
        del sys.modules[name]


def test_sections_are_found_in_the_modules_source_in_report_order_without_importing_helpers(fake):
    parts = R.discover(fake, "fakebench")
    assert [(p.module, p.title, p.order) for p in parts] == [
        ("fakebench.fast", "Fast part", 5), ("fakebench.plain", "Plain part", 7),
        ("fakebench.broken", "Broken part", R.DEFAULT_ORDER)]
    assert "fakebench.helper" not in sys.modules


def test_the_report_holds_each_section_its_goals_and_where_it_ran(fake):
    sections = [R.run_part(p, quick=True) for p in R.discover(fake, "fakebench")]
    assert all(s.load_before is not None for s in sections)
    for s in sections:  # as on an idle machine (this one may be busy running other tests)
        s.load_before, s.load_after = 0.1, 0.2
    body = R.render(sections, command="python -m bench --quick", started=dt.datetime(2026, 12, 6, 5, 0),
                    quick=True)
    assert "| Fast part | fast thing | < 1 s | 0.25 s | **met** |" in body
    assert "## Fast part" in body and "fast figures" in body
    assert "| nested.p95_ms | 12.5 |" in body and "| rows | 3 |" in body  # a section without its own text
    assert "FAILED: `fakebench.broken.run()` raised RuntimeError: disk full" in body
    assert "Sections that failed or could not be imported: Broken part." in body
    assert "- commit: " in body and "- machine: " in body and "- load average: " in body
    assert "Quick mode" in body and "load average" in body.split("## Fast part")[1].split("\n")[2]
    sections[0].load_before = 1000.0  # more than any machine's cores: a busy machine is said so
    busy_body = R.render(sections[:1], command="python -m bench", started=dt.datetime(2026, 12, 6), quick=False)
    assert "(busy machine, see the section)" in busy_body and "**The machine was busy**" in busy_body
    assert "| not judged: busy machine |" in busy_body and "**met**" not in busy_body  # a speed goal
    sections[0].goals[0].timed = False  # a goal on results is judged on a busy machine too
    assert "| **met** |" in R.render(sections[:1], command="c", started=dt.datetime(2026, 12, 6), quick=False)
    assert "busy" not in R.render([R.Section("Idle", "m", "x\n", load_before=0.1, load_after=0.2)],
                                  command="c", started=dt.datetime(2026, 12, 6), quick=False)
    slow_part = R.run_part(R.discover(fake, "fakebench")[0], quick=False)
    slow_part.load_before, slow_part.load_after = 0.1, 0.2
    slow = R.render([slow_part], command="python -m bench", started=dt.datetime(2026, 12, 6), quick=False)
    assert "| Fast part | fast thing | < 1 s | 2.0 s | **NOT MET** |" in slow and "Quick mode" not in slow


def test_a_generated_report_is_rewritten_and_a_hand_edited_one_is_left_as_it_is(tmp_path):
    out = tmp_path / "REPORT.md"
    R.write_report(out, "# Benchmark report\n\nfigures 1\n")
    assert R.generated_whole(out.read_text())
    R.write_report(out, "# Benchmark report\n\nfigures 2\n")  # its own output: replaced
    assert out.read_text().endswith("figures 2\n")
    edited = out.read_text() + "\n## My reading\n\nthe step got slower because ...\n"
    out.write_text(edited)
    with pytest.raises(R.HandWrittenText, match="BENCHMARK_NOTES.md"):
        R.write_report(out, "# Benchmark report\n\nfigures 3\n")
    assert out.read_text() == edited  # nothing lost
    hand = tmp_path / "HAND.md"
    hand.write_text("# Benchmark report\n\nwritten by a person\n")
    with pytest.raises(R.HandWrittenText):
        R.write_report(hand, "x\n")
    assert hand.read_text() == "# Benchmark report\n\nwritten by a person\n"


def test_the_command_refuses_to_overwrite_hand_written_text_and_unknown_sections(tmp_path, capsys):
    hand = tmp_path / "REPORT.md"
    hand.write_text("notes a person wrote\n")
    assert main(["--only", "no_such_bench", "--out", str(hand)]) == 2
    assert "error: no benchmark section named no_such_bench" in capsys.readouterr().err
    assert hand.read_text() == "notes a person wrote\n"


def test_every_bench_section_module_declares_a_run_with_quick():
    parts = R.discover()
    modules = {p.module for p in parts}
    assert {"bench.bench_engine", "bench.bench_scenarios", "bench.load_section", "bench.accuracy_table"} <= modules
    for p in parts:
        tree = ast.parse((REPO / "bench" / f"{p.module.split('.')[1]}.py").read_text())
        run = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "run"]
        assert run and "quick" in [a.arg for a in run[0].args.args], p.module


def test_the_committed_report_is_generated_whole_and_the_notes_live_in_docs():
    text = (REPO / "bench" / "REPORT.md").read_text()
    assert R.generated_whole(text), "bench/REPORT.md was edited by hand: move the text to docs/BENCHMARK_NOTES.md"
    assert (REPO / R.NOTES).exists()


@pytest.mark.slow
def test_quick_engine_section_end_to_end(tmp_path):
    out = tmp_path / "REPORT.md"
    assert main(["--quick", "--only", "bench_engine", "--out", str(out)]) == 0
    text = out.read_text()
    assert R.generated_whole(text) and "## Engine" in text
    assert "one Simulator.step() with ma7 (median, after the process's first run)" in text
    assert "Not run in this report" in text
