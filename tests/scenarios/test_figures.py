"""Figure builders are pure (records in, figures out) and build traces from plain lists (no binary arrays)."""
from __future__ import annotations

import json

import plotly.io as pio

from dashapp.ui import scenario_figures as figs
from engine.studies import scenarios as sc


def _result(sample_csv):
    sset = sc.canonical_set([{"name": "A", "forecaster": "ma7", "demand": "synthetic"},
                             {"name": "B", "forecaster": "ma7", "demand": "synthetic", "lead_time": 12}],
                            replications=8, days=40, seed=2)
    return sc.to_record(sc.compare(sset, default_data=sample_csv))


def test_result_record_is_json_safe_and_figures_render(sample_csv):
    rec = _result(sample_csv)
    json.dumps(rec, allow_nan=False)
    builders = [figs.cost_breakdown_figure, figs.paired_difference_figure, figs.cost_distribution_figure,
                figs.inventory_traces_figure]
    for build in builders:
        fig = build(rec)
        text = pio.to_json(fig)
        assert "bdata" not in text, build.__name__
        assert len(fig.data) >= 1
    box = figs.cost_distribution_figure(rec)
    assert [list(t.y) for t in box.data] == [s["total_cost_samples"] for s in rec["scenarios"]]
    traces = figs.inventory_traces_figure(rec)
    assert [len(t.y) for t in traces.data] == [40, 40]
    rows = figs.kpi_table_rows(rec)
    assert rows[0]["scenario"] == "A" and rows[0]["diff_total_cost"].startswith("+0.00 ± 0.00")
    b = rec["scenarios"][1]
    assert rows[1]["total_cost"] == f"{b['kpis']['total_cost']['mean']:,.2f} ± {b['kpis']['total_cost']['ci95']:,.2f}"


def test_csv_rows_cover_every_scenario_and_kpi(sample_csv):
    rec = _result(sample_csv)
    rows = sc.result_csv_rows(rec)
    assert rows[0][:2] == ["scenario", "kpi"]
    assert len(rows) == 1 + 2 * len(sc.REPORTED_KPIS)


def test_optimum_figures():
    curve = {"levels": [10.0, 20.0, 30.0], "mean": [9000.0, 40.0, 55.0], "ci95": [5.0, 1.0, 2.0]}
    fig = figs.cost_curve_figure(curve, bound=3.0, marks=[{"name": "best base-stock", "level": 20.0, "cost": 40.0},
                                                         {"name": "order-up-to", "level": None, "cost": 35.0}])
    assert "bdata" not in pio.to_json(fig)
    assert fig.layout.yaxis.type == "log"  # 9000 / 40: a wide range
    names = [t.name for t in fig.data]
    assert "perfect-information bound" in names and "best base-stock" in names and "order-up-to" not in names
    reg = figs.regret_figure([{"name": "a", "regret": 0.5}, {"name": "b", "regret": 2.0}])
    assert list(reg.data[0].y) == [50.0, 200.0]
    # titled for what it plots: the regret field is measured against the best policy found out of sample
    assert reg.layout.title.text == "Regret: extra mean cost over the cheapest policy found out of sample"
    assert "perfect-information" not in reg.layout.title.text


def test_z_curve_figure():
    fig = figs.z_curve_figure({"z": [0.0, 1.0, 2.0], "mean": [50.0, 20.0, 25.0], "ci95": [1.0, 1.0, None]},
                              default_z=1.3)
    assert "bdata" not in pio.to_json(fig)
    assert list(fig.data[1].y) == [50.0, 20.0, 25.0]
