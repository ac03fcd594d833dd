"""Every corpus file through the real CLI, `python -m engine validate FILE`, as a reviewer types it.

A refusal must be: exit code 2, no traceback, a short message that names the file and what is wrong
(column / value / line where the case asks for them). Acceptable files exit 0 and say what was found.
Either way the process finishes in bounded time and bounded memory (a 1 GB file is refused by its size,
not by reading it), and nothing is ever unpickled.
"""
from __future__ import annotations

import pytest

from tests.evidence.corpus import case_names
from tests.evidence.helpers import run_measured

BASELINE_MB = 400  # python + numpy + pandas + scipy, with room for a 20 MB parse
PEAK_LIMIT_MB = 1024  # far below what reading the 1 GB / 512 MB-inflated cases would need


def _case(corpus, name):
    return next(c for c in corpus if c.name == name)


def test_corpus_is_large_enough():
    names = case_names()
    assert len(names) >= 30 and len(set(names)) == len(names)


@pytest.mark.slow
@pytest.mark.parametrize("name", case_names())
def test_cli_validate(corpus, name, tmp_path):
    case = _case(corpus, name)
    res = run_measured(["-m", "engine", "validate", str(case.path)], timeout=120, tmp=tmp_path)
    where = (f"{case.name} ({case.why}): rc={res.rc}, {res.seconds:.1f}s, peak {res.peak_rss_mb:.0f} MB\n"
             f"{res.out[-1500:]}")
    assert not res.timed_out, "validate did not finish within 120 s: " + where
    assert "Traceback" not in res.out, "a traceback reached the user: " + where
    assert res.peak_rss_mb < PEAK_LIMIT_MB, "memory not bounded: " + where
    if case.big:
        assert res.peak_rss_mb < BASELINE_MB, "a file over the size limit was read into memory: " + where
    if case.pickle_marker is not None:
        assert not case.pickle_marker.exists(), "the file was UNPICKLED: " + where
    if case.expect == "reject":
        assert res.rc == 2, "expected a refusal with exit code 2: " + where
    else:
        assert res.rc in (0, 2), "expected exit 0 (accepted) or 2 (refused): " + where
    msg = res.out.strip()
    assert msg, "no message at all: " + where
    if res.rc == 2:
        lines = [ln for ln in msg.splitlines() if ln.strip()]
        assert len(lines) <= 5 and len(msg) <= 2000, "a refusal should be a short, clear message: " + where
        assert case.path.name.lower() in msg.lower() or case.path.stem.lower() in msg.lower(), \
            "the message must name the file: " + where
        missing = case.missing_names(msg)
        assert not missing, f"the message must name {missing}: " + where
    else:
        low = msg.lower()
        assert "series" in low and "rows" in low, "an accepted file's summary names series and rows: " + where
        if case.simulate_names is not None:
            sim = run_measured(["-m", "engine", "simulate", "--data", str(case.path), "--json"], timeout=120,
                               tmp=tmp_path)
            swhere = f"simulate {case.name}: rc={sim.rc}\n{sim.out[-800:]}"
            assert sim.rc == 2 and "Traceback" not in sim.out, "simulating it must be refused (exit 2): " + swhere
            missing = case.missing_names(sim.out, case.simulate_names)
            assert not missing, f"the refusal must name {missing}: " + swhere
