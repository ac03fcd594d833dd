"""The fast tier is chosen by what a test uses: tests/conftest.py marks tests from their fixtures.

A throwaway suite (its own conftest re-exporting the project's hook) is collected in a subprocess with the fast
tier's marker expression, so the check exercises the real hook, not a copy of it."""
from __future__ import annotations

import configparser
import re
import subprocess
import sys

from tests.conftest import REPO

FAST = re.search(r"FAST='([^']+)'", (REPO / "scripts" / "test.sh").read_text()).group(1)

CONFTEST = '''
import pytest
from tests.conftest import pytest_collection_modifyitems  # noqa: F401 - the hook under test

@pytest.fixture
def browser():
    return None

@pytest.fixture
def redis_server():
    return None

@pytest.fixture
def tiny_model():
    return None

@pytest.fixture
def app(browser):
    return browser

@pytest.fixture(params=["diskcache", "redis"])
def store(request):
    return request.param
'''

TESTS = '''
import pytest

def test_pure():
    pass

def test_in_a_browser(browser):
    pass

def test_through_a_fixture_that_needs_a_browser(app):
    pass

def test_on_redis(redis_server):
    pass

def test_with_a_trained_model(tiny_model):
    pass

def test_each_store(store):
    pass

@pytest.mark.slow
def test_marked_slow():
    pass
'''


def collected(tmp_path, expression: str) -> set[str]:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_sample.py").write_text(TESTS)
    ini = configparser.ConfigParser()
    ini.read(REPO / "pytest.ini")
    markers = ini["pytest"]["markers"].replace("\n", "\n    ")
    (tmp_path / "pytest.ini").write_text(f"[pytest]\nmarkers ={markers}\n")
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--strict-markers",
                          "--collect-only", "-q", "-m", expression, str(tmp_path)],
                         cwd=tmp_path, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin",
                                            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
                         capture_output=True, text=True, timeout=120)
    assert out.returncode in (0, 5), out.stdout + out.stderr
    return {line.split("::", 1)[1] for line in out.stdout.splitlines() if "::" in line}


def test_fast_tier_keeps_only_tests_without_browser_service_training_or_slow_mark(tmp_path):
    assert collected(tmp_path, FAST) == {"test_pure", "test_each_store[diskcache]"}


def test_rest_tier_is_the_complement(tmp_path):
    assert collected(tmp_path, f"not ({FAST})") == {
        "test_in_a_browser", "test_through_a_fixture_that_needs_a_browser", "test_on_redis",
        "test_with_a_trained_model", "test_each_store[redis]", "test_marked_slow"}
