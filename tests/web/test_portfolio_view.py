"""The /portfolio result as the page draws it: totals cards and grid rows with labels, numbers kept as numbers,
a simulator link per row, and every column sortable/filterable except the link."""
from __future__ import annotations

import pytest

from dashapp.pages.portfolio import service as P
from dashapp.pages.portfolio.view import column_defs, grid_rows, results_view
from engine.studies.portfolio import PortfolioSettings
from tests.web.test_portfolio_service import SMALL, data_url, german_csv


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    from dashapp.platform.store import make_kv

    files = make_kv(None, str(tmp_path_factory.mktemp("files")), 600, prefix="pf:")
    insp = P.inspect_upload(files, data_url(german_csv()), "verkauf.csv", 2**20)
    ds = P.read_dataset(files, insp.file_id, insp.mapping, False)
    return P.compute(ds, PortfolioSettings(**SMALL), "k" * 40, lambda d, t: None)


def test_grid_rows_use_labels_and_keep_numbers(result):
    rows = grid_rows(result["records"])
    assert [r["series"] for r in rows] == ["SKU_1/WH_1", "SKU_1/WH_2"]
    r = rows[0]
    assert r["forecaster"] in ("Exponential smoothing", "28-day moving average", "Croston",
                               "Syntetos–Boylan approximation", "Teunter–Syntetos–Babai")
    assert r["policy"] in ("Order-up-to, daily review", "Reorder point r, quantity Q")
    assert isinstance(r["expected_cost"], float) and isinstance(r["fill_rate"], float)
    assert " – " in r["cost_ci"]
    assert r["simulate"].startswith("[Open in simulator](/?") and "series=SKU_1%2FWH_1" in r["simulate"]


def test_columns_pin_the_series_and_format_numbers(result):
    cols = {c["field"]: c for c in column_defs()}
    assert cols["series"]["pinned"] == "left"
    assert "d3.format('.1%')" in cols["fill_rate"]["valueFormatter"]["function"]
    assert cols["simulate"]["cellRenderer"] == "markdown" and cols["simulate"]["sortable"] is False
    assert set(grid_rows(result["records"])[0]) == set(cols)  # every row field has its column


def test_results_view_renders_cards_and_grid(result):
    view = results_view(result)
    text = str(view)
    assert "pf-total-series" in text and "pf-grid" in text and "pf-download-btn" in text
    assert results_view(None) is None


def test_the_result_note_says_what_the_figures_are_computed_on(result):
    """The expected cost comes from resampled paths of the last year, which scramble a season: the note says so and
    points to the replay on real days, so a planner does not read a bootstrap figure as a forecast of the bill."""
    note = next(c for c in results_view(result).children if getattr(c, "id", None) == "pf-result-note").children
    assert "resample each series' last year in week-long stretches" in note
    assert "on a seasonal file the expected cost can come out several times what the real days cost" in note
    assert "“Check against history” below runs the recommendations on real days" in note
