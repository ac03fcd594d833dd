"""`python -m bench.calibration` runs its grid on a planner's own file as on the two named ones."""
from __future__ import annotations

import re

from bench.calibration import main
from engine.data.generator import generate_csv


def test_a_csv_of_ones_own_runs_a_cell_and_prints_its_ratio_and_coverage(tmp_path, capsys):
    path = tmp_path / "own.csv"
    path.write_text(generate_csv(days=200, series=1, seed=7))
    code = main(["--data", str(path), "--forecasters", "ma7", "--modes", "forecast-noise", "--stock", "backorders",
                 "--lead-times", "2", "--replications", "3", "--days", "20"])
    out = capsys.readouterr().out
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith("| own | ma7 | forecast-noise | backorders | 2 |"))
    ratio, cov90, cov99 = (float(x) for x in row.strip(" |").split(" | ")[9:12])
    assert ratio > 0 and 0 <= cov90 <= 1 and 0 <= cov99 <= 1
    assert re.search(r"cells 1: ratio max [0-9.]+", out)


def test_unknown_data_is_refused_with_a_message(capsys):
    assert main(["--data", "nowhere.csv"]) == 2
    assert "unknown data 'nowhere.csv'" in capsys.readouterr().err
