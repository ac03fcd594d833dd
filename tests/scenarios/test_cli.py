"""`python -m engine compare` and `python -m engine optimum` exactly as reviewers call them (subprocesses)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO

KPIS = ["total_cost", "holding_cost", "stockout_cost", "fill_rate", "cycle_service_level", "days_without_stockout",
        "stockout_days",
        "orders_placed", "average_on_hand", "inventory_turns"]


def cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "engine", *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout)


def test_compare_json_shape_and_crn(tmp_path, sample_csv):
    f = tmp_path / "s.json"
    f.write_text(json.dumps([
        {"name": "base", "forecaster": "ma7", "demand": "synthetic"},
        {"name": "LT14", "forecaster": "ma7", "demand": "synthetic", "lead_time": 14, "policy": "order-up-to"},
        {"name": "same as base", "forecaster": "ma7", "demand": "synthetic"},
        {"name": "original", "forecaster": "ma7", "demand": "synthetic", "policy": "original"},
    ]))
    p = cli("compare", "--scenarios", f, "--replications", 20, "--days", 60, "--seed", 3, "--data", sample_csv,
            "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert [s["name"] for s in out["scenarios"]] == ["base", "LT14", "same as base", "original"]
    for s in out["scenarios"]:
        for k in KPIS:
            assert set(s[k]) == {"mean", "ci95"}, k
            assert set(s["diff_vs_baseline"][k]) == {"mean", "ci95"}
    base, lt14, same, _orig = out["scenarios"]
    assert base["diff_vs_baseline"]["total_cost"] == {"mean": 0.0, "ci95": 0.0}
    assert same["diff_vs_baseline"]["total_cost"] == {"mean": 0.0, "ci95": 0.0}
    assert same["total_cost"] == base["total_cost"]
    assert lt14["diff_vs_baseline"]["total_cost"]["mean"] == pytest.approx(
        lt14["total_cost"]["mean"] - base["total_cost"]["mean"])
    # the same seed reproduces the same numbers; another seed does not
    again = json.loads(cli("compare", "--scenarios", f, "--replications", 20, "--days", 60, "--seed", 3,
                           "--data", sample_csv, "--json").stdout)
    assert again == out
    other = json.loads(cli("compare", "--scenarios", f, "--replications", 20, "--days", 60, "--seed", 4,
                           "--data", sample_csv, "--json").stdout)
    assert other["scenarios"][0]["total_cost"] != out["scenarios"][0]["total_cost"]


def test_optimum_json_shape(sample_csv):
    p = cli("optimum", "--data", sample_csv, "--forecaster", "ma7", "--demand", "forecast-noise", "--days", 60,
            "--replications", 12, "--quick", "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert set(out["lower_bound"]) == {"mean", "ci95"}
    assert set(out["best_base_stock"]) >= {"level", "cost"} and set(out["best_z"]) >= {"z", "cost"}
    assert out["best_base_stock"]["selection"] == out["best_z"]["selection"] == "out-of-sample"
    assert set(out["calibration"]) == {"nominal", "coverage", "n"}
    assert [x["name"] for x in out["policies"]] == ["order-up-to", "original", "best base-stock",
                                                    "order-up-to, best z"]
    for x in out["policies"]:
        assert set(x) == {"name", "cost", "regret"}
        assert x["cost"] >= out["lower_bound"]["mean"]
    assert out["policies"][2]["cost"] == pytest.approx(out["best_base_stock"]["cost"])


def test_simulate_accepts_the_original_rule(sample_csv):
    p = cli("simulate", "--data", sample_csv, "--forecaster", "ma7", "--policy", "original", "--days", 30, "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["info"]["policy"]["policy"] == "original"


@pytest.mark.parametrize("content,needle", [
    ("{not json", "not valid JSON at line 1"),
    ('{"name": "x"}', "expected a JSON list"),
    ('[{"name": "a", "lead_time": -2}]', "scenario 'a'"),
    ('[{"name": "a", "colour": "red"}]', "unknown option 'colour'"),
    ('[{"name": "a", "days": 30}, {"name": "b", "days": 60}]', "different days"),
    ('[{"name": "a"}, {"name": "a"}]', "used twice"),
])
def test_compare_bad_files_exit_2_with_a_message(tmp_path, sample_csv, content, needle):
    f = tmp_path / "bad.json"
    f.write_text(content)
    p = cli("compare", "--scenarios", f, "--data", sample_csv, "--replications", 2, "--json")
    assert p.returncode == 2
    assert needle in p.stderr and "Traceback" not in p.stderr
    assert str(f) in p.stderr


def test_compare_names_the_flag_not_the_file_for_a_bad_command_line_value(tmp_path, sample_csv):
    f = tmp_path / "ok.json"
    f.write_text('[{"name": "a"}, {"name": "b", "lead_time": 3}]')
    p = cli("compare", "--scenarios", f, "--data", sample_csv, "--replications", 0)
    assert p.returncode == 2 and p.stderr.strip() == "error: --replications 0: must be between 1 and 2000, got 0"
    p = cli("compare", "--scenarios", f, "--data", sample_csv, "--replications", 2, "--days", 0)
    assert p.returncode == 2 and p.stderr.startswith("error: --days 0:") and str(f) not in p.stderr
