"""`python -m engine train` refuses unusable input with one message naming the file and what is wrong."""
from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO
from tests.forecast.conftest import SAMPLE


def run(*args):
    return subprocess.run([sys.executable, "-m", "engine", "train", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=300)


def test_unknown_series_and_short_file(tmp_path):
    r = run("--data", str(SAMPLE), "--series", "NOPE", "--out", str(tmp_path / "a"))
    assert r.returncode == 2 and "sample.csv" in r.stderr and "'NOPE'" in r.stderr and "Traceback" not in r.stderr
    short = tmp_path / "short.csv"
    short.write_text("Units_Sold,Promotion_Flag,Demand_Forecast\n" + "".join(f"{i % 7},0,3\n" for i in range(60)))
    r = run("--data", str(short), "--out", str(tmp_path / "b"))
    assert r.returncode == 2 and "short.csv" in r.stderr and "too short (60 days)" in r.stderr
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_covariates_need_the_planning_column(tmp_path):
    f = tmp_path / "noplan.csv"
    f.write_text("Units_Sold\n" + "".join(f"{i % 9}\n" for i in range(400)))
    r = run("--data", str(f), "--out", str(tmp_path / "c"))
    assert r.returncode == 2 and "noplan.csv" in r.stderr and "Demand_Forecast" in r.stderr
    assert "--no-covariates" in r.stderr and "Traceback" not in r.stderr


def test_bad_meta_learner_inputs(tmp_path):
    r = run("--data", str(SAMPLE), "--no-covariates", "--meta-inputs", "seasonal,planning",
            "--out", str(tmp_path / "d"))
    assert r.returncode == 2 and "'planning' needs a model with covariates" in r.stderr
    r = run("--data", str(SAMPLE), "--meta-inputs", "seasonal,lunar", "--out", str(tmp_path / "e"))
    assert r.returncode == 2 and "'lunar'" in r.stderr and "Traceback" not in r.stderr
    r = run("--data", str(SAMPLE), "--no-covariates", "--meta-inputs", "seasonal,calendar", "--calendar-days", "3",
            "--out", str(tmp_path / "g"))
    assert r.returncode == 2 and "--calendar-days 3 is out of range" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "d").exists() and not (tmp_path / "e").exists() and not (tmp_path / "g").exists()


def test_calendar_input_needs_a_date_column(tmp_path):
    f = tmp_path / "nodates.csv"
    f.write_text("Units_Sold\n" + "".join(f"{i % 9}\n" for i in range(400)))
    r = run("--data", str(f), "--no-covariates", "--meta-inputs", "seasonal,calendar", "--out", str(tmp_path / "f"))
    assert r.returncode == 2 and "nodates.csv" in r.stderr and "Date" in r.stderr
    assert "'calendar' needs dates" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "f").exists()
