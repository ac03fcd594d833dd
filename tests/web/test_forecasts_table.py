"""/forecasts' backtest table and the CLI's Markdown table rank models by what the decisions read — the scaled
pinball loss of the 8-day-sum quantiles — then by MAE; a model without scored quantiles comes after those with,
one not evaluated last; coverage is the scored quantiles' when they exist."""
from __future__ import annotations

import pytest

from dashapp.pages.forecasts import backtests as B
from engine.forecast.backtest import markdown_table


def _entry(mae, pinball=None, cov=None):
    overall = {"mae": mae, "rmse": mae * 1.3, "bias": 0.0, "mase": 0.9, "sum_rmse": 10.0,
               "sum_coverage": {"coverage": [0.5, 0.6]}}
    if pinball is not None:
        overall.update({"scaled_pinball": pinball, "coverage": cov or {"0.9": 0.9, "0.99": 0.99}})
    return {"overall": overall, "note": ""}


def test_the_page_ranks_by_scaled_pinball_then_mae():
    results = {"low-mae": {"metrics": _entry(2.0, 0.30)}, "best-quantiles": {"metrics": _entry(2.5, 0.20)},
               "unscored": {"metrics": _entry(1.0)}, "skipped": {"metrics": None, "skipped": "no column"}}
    rows = B.table_rows(results)
    assert [r["model"] for r in rows] == ["best-quantiles", "low-mae", "unscored", "skipped"]
    assert rows[0]["cover_90"] == 0.9 and rows[2]["cover_90"] == 0.5  # scored quantiles' coverage, else the sum's
    assert B.plot_default(results, 2) == ["best-quantiles", "low-mae"]


def test_the_markdown_table_ranks_by_scaled_pinball_when_quantiles_were_scored():
    scored = {"models": {"a": _entry(2.0, 0.30), "b": _entry(2.5, 0.20)}, "sum_days": 8}
    text = markdown_table(scored)
    assert "8-day-sum scaled pinball" in text.splitlines()[0]
    assert text.index("| b |") < text.index("| a |") and "| 0.2000 |" in text
    plain = markdown_table({"models": {"a": _entry(2.0), "b": _entry(2.5)}, "sum_days": 8})
    assert "scaled pinball" not in plain and plain.index("| a |") < plain.index("| b |")


def test_engine_messages_read_in_the_page_s_words(tmp_path):
    """The engine names the CLI's flag; the page has a "Hold-out days" field instead, and says so."""
    from engine.data.dataset import load_csv
    from engine.forecast.backtest import BacktestError, targets_per_series

    path = tmp_path / "short.csv"
    path.write_text("date,item,units\n" + "".join(f"2024-01-{d:02d},A,{d % 5}\n" for d in range(1, 31)))
    with pytest.raises(BacktestError) as err:
        targets_per_series(load_csv(path), 73)
    text = B.page_words(err.value)
    assert "lower “Hold-out days per series” to 28 or fewer" in text and "--" not in text
