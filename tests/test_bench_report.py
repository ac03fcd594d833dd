"""`python -m bench` rewrites bench/REPORT.md's figures but keeps the hand-written notes below its marker."""
from __future__ import annotations

from bench.__main__ import NOTES_MARKER, kept_notes
from tests.conftest import REPO


def test_notes_below_the_marker_are_kept_and_the_old_figures_dropped(tmp_path):
    report = tmp_path / "REPORT.md"
    report.write_text(f"# Benchmark report\n\n| step | 9.8 |\n{NOTES_MARKER}\n## Goals\n\nreadings\n")
    assert kept_notes(report) == f"\n{NOTES_MARKER}\n## Goals\n\nreadings\n"


def test_a_report_without_notes_or_no_report_adds_nothing(tmp_path):
    assert kept_notes(tmp_path / "absent.md") == ""
    (tmp_path / "plain.md").write_text("# Benchmark report\n")
    assert kept_notes(tmp_path / "plain.md") == ""


def test_the_committed_report_has_its_notes_marker():
    assert NOTES_MARKER in (REPO / "bench" / "REPORT.md").read_text()
