"""CLI as reviewers call it: JSON keys, ledger columns, exit code 2 with one message and no traceback."""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import subprocess
import sys

import pytest

from engine.cli.main import main

from .conftest import REPO

KPI_KEYS = {"total_cost", "holding_cost", "stockout_cost", "fill_rate", "cycle_service_level", "days_without_stockout",
            "stockout_days",
            "orders_placed", "average_on_hand", "days"}
LEDGER_KEYS = ["day", "forecast", "demand", "arrivals", "fulfilled", "unmet", "on_hand", "on_order", "order_qty",
               "order_up_to", "holding_cost", "stockout_cost", "cumulative_cost"]


def run(*args):
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120)


def test_simulate_json_and_ledger(tmp_path):
    ledger = tmp_path / "l.csv"
    r = run("simulate", "--forecaster", "ma7", "--json", "--ledger", str(ledger))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert KPI_KEYS <= set(out) and out["days"] == 90
    assert out["info"]["series"] == "SKU_1/WH_1" and out["info"]["forecaster"] == "ma7"
    rows = list(csv.DictReader(ledger.open()))
    assert len(rows) == 90 and set(LEDGER_KEYS) <= set(rows[0])
    assert float(rows[-1]["cumulative_cost"]) == pytest.approx(out["total_cost"])


def test_simulate_replications_report_half_widths(capsys):
    rc = main(["simulate", "--forecaster", "ma7", "--demand", "synthetic", "--replications", "30", "--days", "60",
               "--policy", "r-Q", "--backorders", "--lead-time-dist", "uniform:3:9", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert KPI_KEYS <= set(out) and out["replications"] == 30
    assert KPI_KEYS - {"days"} <= set(out["half_width"]) and out["half_width"]["total_cost"] > 0


@pytest.mark.parametrize("args,message", [
    (["simulate", "--days", "0"], "error: --days 0 is out of range [1, 3650]"),
    (["simulate", "--lead-time", "1000"], "error: --lead-time 1000 is out of range [0, 60]"),
    (["simulate", "--context-days", "1000"], "do not fit; use --context-days 640 or fewer or --demand synthetic"),
    (["generate", "--out", "-", "--promo-rate", "1.5"], "error: --promo-rate 1.5 is out of range [0, 1]"),
    (["backtest", "--data", "data/sample.csv", "--models", "ses", "--models-dir", "/no/such/folder"],
     "error: --models-dir /no/such/folder: does not exist"),
    (["simulate", "--forecaster", "ensemble:../../etc"], "error: unknown forecaster 'ensemble:../../etc'"),
    (["simulate", "--policy", "s-S", "--s", "50", "--S", "10"], "error: policy s-S needs S > s"),
    (["simulate", "--series", "SKU_1/WH_9"], "no series 'SKU_1/WH_9'"),
    (["simulate", "--days", "800"], "replaying 800 days"),
    (["simulate", "--data", "nope.csv"], "error: file nope.csv: does not exist"),
    (["simulate", "--unit-cost", "50", "--unit-price", "40"], "stockout cost p = unit price − unit cost"),
])
def test_bad_settings_exit_2_without_traceback(args, message):
    r = run(*args)
    assert r.returncode == 2
    assert message in r.stderr and "Traceback" not in r.stderr and r.stdout == ""


def test_validate(tmp_path):
    r = run("validate", "data/sample.csv")
    assert r.returncode == 0 and "5 series, 3650 rows" in r.stdout and "2024-01-01 .. 2025-12-30" in r.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("Date,Units_Sold\n2024-01-01,4\n2024-01-02,abc\n")
    r = run("validate", str(bad))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip() == "error: file bad.csv, row 3, column Units_Sold: 'abc' is not a number"
    r = run("validate", str(bad.parent / "missing.csv"))
    assert r.returncode == 2 and "does not exist" in r.stderr


def test_validate_takes_the_file_as_every_other_command_does_too():
    """`--data FILE` (the other commands' flag) was refused as an unrecognised argument."""
    r = run("validate", "--data", "data/sample.csv")
    assert r.returncode == 0 and "data/sample.csv: OK — 5 series, 3650 rows" in r.stdout
    r = run("validate")
    assert r.returncode == 2 and r.stderr.strip() == ("error: validate needs the file: python -m engine validate "
                                                      "FILE.csv (or --data FILE.csv)")
    r = run("validate", "data/sample.csv", "--data", "other.csv")
    assert r.returncode == 2 and "two files given" in r.stderr and "Traceback" not in r.stderr


def test_generate_bad_arguments():
    r = run("generate", "--out", "-", "--days", "0")
    assert r.returncode == 2 and "--days 0 is out of range" in r.stderr
    r = run("generate", "--out", "-", "--days", "3", "--series", "1")
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 4
    r = run("generate", "--out", "-", "--weekly-amplitude", "2")
    assert r.returncode == 2 and "--weekly-amplitude 2 is out of range [0, 1)" in r.stderr


def test_generate_weekly_pattern_and_trend(tmp_path):
    import numpy as np

    from engine.data.dataset import load_csv
    out = tmp_path / "w.csv"
    assert main(["generate", "--out", str(out), "--days", "728", "--series", "1", "--weekly-amplitude", "0.5",
                 "--trend", "0.02"]) == 0
    s = load_csv(out).get()
    wd = np.array([np.mean(s.demand[k::7]) for k in range(7)])
    assert (wd.max() - wd.min()) / wd.mean() > 0.4  # a clear weekly pattern
    assert s.demand[-364:].mean() > s.demand[:364].mean() + 4  # trend 0.02/day ≈ +7 units/day after a year


def test_optional_command_module_failure_does_not_break_the_cli(monkeypatch, capsys):
    import types

    import engine.cli.main as cli
    broken = types.ModuleType("broken_commands")

    def register(sub, common):
        raise RuntimeError("boom")

    broken.register = register
    monkeypatch.setitem(sys.modules, "broken_commands", broken)
    monkeypatch.setattr(cli, "OPTIONAL_COMMAND_MODULES", ("broken_commands",))
    assert main(["forecasters"]) == 0
    captured = capsys.readouterr()
    assert "ma7" in captured.out and "commands of broken_commands are unavailable" in captured.err


def test_common_helpers_for_command_modules():
    import argparse

    from engine.cli.main import COMMON
    p = argparse.ArgumentParser()
    COMMON.add_simulation_options(p)
    args = p.parse_args(["--lead-time", "3", "--backorders", "--service-level", "0.9"])
    cfg = COMMON.config_from_args(args)
    assert cfg.lead_time == 3 and cfg.backorders and cfg.policy_params == {"service_level": 0.9}
    assert cfg.data.endswith("data/sample.csv")


def test_default_forecaster_is_the_past_only_ensemble_when_present(monkeypatch):
    from engine.forecast.registry import default_forecaster_name

    monkeypatch.delenv("SIM_MODELS_DIR")
    expected = default_forecaster_name()
    assert expected == ("ensemble:past-only" if (REPO / "models" / "past-only" / "card.json").exists() else "ma7")
    r = run("simulate", "--days", "10", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["info"]["forecaster"] == expected


def test_default_replay_lies_outside_the_default_models_training_period(monkeypatch):
    """The app's and CLI's default run (replay, 90 days) plays only days the default model never trained on."""
    from engine.forecast.registry import default_forecaster_name

    monkeypatch.delenv("SIM_MODELS_DIR")
    name = default_forecaster_name()
    card = json.loads((REPO / "models" / name.split(":", 1)[1] / "card.json").read_text())
    r = run("simulate", "--json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)["info"]
    assert info["forecaster"] == name and info["demand"] == "replay" and info["days"] == 90
    last_trained = card["training"]["last_train_date_by_series"][info["series"]]
    assert card["training"]["last_date"] >= last_trained
    assert info["first_date"] > last_trained and info["last_date"] == "2025-12-30"
    assert info["warnings"] == []


def test_a_replay_inside_the_training_period_warns(monkeypatch):
    monkeypatch.delenv("SIM_MODELS_DIR")
    r = run("simulate", "--forecaster", "ensemble:past-only", "--days", "500", "--json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)["info"]
    assert info["first_date"] == "2024-08-18"
    assert len(info["warnings"]) == 1 and "inside the training period of ensemble:past-only" in info["warnings"][0]
    r = run("simulate", "--forecaster", "ensemble:past-only", "--days", "500")   # the text output says it too
    assert r.returncode == 0 and "warning: the replay starts on 2024-08-18" in r.stdout
    r = run("simulate", "--forecaster", "ensemble:past-only", "--days", "30", "--demand", "synthetic", "--json")
    info = json.loads(r.stdout)["info"]
    assert info["first_date"] == "2025-12-31" and info["warnings"] == []


def test_the_app_run_gets_the_same_training_window_warning(monkeypatch, sample_series):
    """The simulator page builds a Simulator: simulator_warnings flags the same replay windows as simulate."""
    from engine.forecast.training_window import simulator_warnings
    from engine.simulation.simulator import SimConfig, Simulator

    monkeypatch.delenv("SIM_MODELS_DIR")
    inside = Simulator(SimConfig(days=500, forecaster="ensemble:past-only"), sample_series)
    assert len(simulator_warnings(inside)) == 1 and "2024-08-18" in simulator_warnings(inside)[0]
    assert simulator_warnings(Simulator(SimConfig(days=90, forecaster="ensemble:past-only"), sample_series)) == []
    assert simulator_warnings(Simulator(SimConfig(days=500, forecaster="ma7"), sample_series)) == []


def test_help_of_the_cli_and_of_every_command_renders():
    """argparse %-formats every help text: a bare '%' ('95 % interval') made `python -m engine --help` a
    TypeError traceback."""
    from engine.cli.main import build_parser
    parser = build_parser()
    assert "recommend" in parser.format_help()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, p in sub.choices.items():
        assert p.format_help().startswith("usage:"), name
    r = subprocess.run([sys.executable, "-m", "engine", "--help"], cwd=REPO, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0 and "95 % interval" in r.stdout, r.stderr[-500:]


def test_generate_to_a_folder_that_does_not_exist_names_the_path(tmp_path):
    target = tmp_path / "missing" / "x.csv"
    r = run("generate", "--out", str(target))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"--out {target}: cannot be written (No such file or directory)" in r.stderr


@pytest.mark.parametrize("option, value, words", [
    ("--epochs", "-1", "--epochs -1 is out of range [1, 10000]"),
    ("--window", "0", "--window 0 is out of range [7, 364]"),
    ("--seed", "-1", "--seed -1 is out of range [0, 4294967295]"),
    ("--holdout-days", "-5", "--holdout-days -5 must be at least 1"),
])
def test_train_names_an_option_out_of_range_before_training(tmp_path, option, value, words):
    """Checked before the trainers load (--window 0 was a ZeroDivisionError traceback, --epochs -1 a KeyError)."""
    r = run("train", "--data", str(REPO / "data" / "sample.csv"), "--out", str(tmp_path / "m"), option, value)
    assert r.returncode == 2 and "Traceback" not in r.stderr and words in r.stderr, r.stderr[-400:]
    assert not (tmp_path / "m").exists()


def test_a_ledger_to_a_folder_that_does_not_exist_names_the_path(tmp_path):
    target = tmp_path / "missing" / "l.csv"
    r = run("simulate", "--forecaster", "ma7", "--days", "10", "--ledger", str(target))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"--ledger {target}: cannot be written (No such file or directory)" in r.stderr


def _file_with_a_gap(tmp_path, days=60):
    """One series of `days` days with days 10-12 missing."""
    import datetime as dt
    rows = ["date,item_id,store_id,sales"]
    start = dt.date(2024, 1, 1)
    rows += [f"{start + dt.timedelta(days=k)},A,S,{3 + k % 4}" for k in range(days) if not 10 <= k <= 12]
    path = tmp_path / "gap.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_every_command_that_reads_a_sales_file_honours_fill_missing_zero(tmp_path):
    """recommend, orders and train --global read the file with the flag too (they said "pass
    --fill-missing-zero" when it was passed)."""
    data = _file_with_a_gap(tmp_path)
    stock = tmp_path / "stock.csv"
    stock.write_text("item,location,on_hand\nA,S,5\n")
    runs = {"recommend": run("recommend", "--data", str(data), "--fill-missing-zero", "--replications", "20",
                             "--json"),
            "orders": run("orders", "--data", str(data), "--fill-missing-zero", "--stock", str(stock), "--date",
                          "2024-03-01", "--replications", "20", "--json"),
            "train --global": run("train", "--global", "--data", str(data), "--fill-missing-zero", "--out",
                                  str(tmp_path / "g"))}
    for name, r in runs.items():
        assert "Traceback" not in r.stderr and "no rows for" not in r.stderr, (name, r.stderr[-400:])
    assert runs["recommend"].returncode == 0 and json.loads(runs["recommend"].stdout)["policy"]
    assert runs["orders"].returncode == 0, runs["orders"].stderr[-400:]
    assert "too short: training needs" in runs["train --global"].stderr   # 60 days: the gap is no longer the issue
    assert ("180 days before the 56 meta and 56 held-out days, 292 in all (--meta-days and --holdout-days set the "
            "last two)") in runs["train --global"].stderr
    assert "no rows for 2024-01-11 .. 2024-01-13" in run("recommend", "--data", str(data)).stderr


def test_orders_run_on_a_file_with_prices_and_no_cost_column(tmp_path):
    """The M5 layout: the cost is assumed at 20/40 of each series' price, as every other command does (a default
    cost of 20 above a price of 5.64 refused every series), and said as an assumption."""
    rows = ["date,item_id,store_id,sales,sell_price"]
    for k in range(90):
        d = (dt.date(2016, 1, 1) + dt.timedelta(days=k)).isoformat()
        rows += [f"{d},FOODS_1,CA_1,{k % 5},5.64", f"{d},FOODS_2,CA_1,{k % 3},0.98"]
    data, stock = tmp_path / "m5.csv", tmp_path / "stock.csv"
    data.write_text("\n".join(rows) + "\n")
    stock.write_text("item,location,on_hand,on_order,due_date\nFOODS_1,CA_1,2,0,\n")
    r = run("orders", "--data", str(data), "--stock", str(stock), "--date", "2016-03-31", "--replications", "4",
            "--days", "30", "--json")
    assert r.returncode == 0, r.stderr[-400:]
    out = json.loads(r.stdout)
    assert [o["series"] for o in out["orders"]] == ["FOODS_1/CA_1"] and out["orders"][0]["unit_cost"] == 2.82
    assert any(a["field"] == "unit_cost" and "20/40 of the unit price" in a["note"] for a in out["assumptions"])
    text = run("recommend", "--data", str(data), "--series", "FOODS_1/CA_1", "--replications", "4", "--days", "30")
    assert "unit cost 2.82 (assumed: 20/40 of the unit price), price 5.64" in text.stdout, text.stderr[-300:]
