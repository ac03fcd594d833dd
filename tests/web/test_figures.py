"""Figure builders and the pure helpers behind the page: lists not binary arrays, idempotent point patches,
event log, KPIs, CSV formula-injection guard, session-id signing."""
from __future__ import annotations

import json

import numpy as np
import plotly.io as pio

from bench.dash_client import apply_patch
from dashapp.pages.simulator import session_views as S
from dashapp.platform import session_ids
from dashapp.ui import figures


def rows(n: int) -> list[dict]:
    out, cum = [], 0.0
    for d in range(1, n + 1):
        hold, short = 0.5 * d, (3.0 if d % 5 == 0 else 0.0)
        cum += hold + short
        out.append(dict(day=d, date=None, forecast=np.float64(10 + d % 3), demand=float(9 + d % 4),
                        arrivals=20.0 if d % 7 == 0 else 0.0, fulfilled=8.0, unmet=1.0 if d % 5 == 0 else 0.0,
                        backlog=0.0, on_hand=30.0 - d % 9, on_order=15.0, inventory_position=45.0,
                        order_qty=12.0 if d % 2 else 0.0, order_up_to=60.0, holding_cost=hold,
                        stockout_cost=short, daily_cost=hold + short, cumulative_cost=cum))
    return out


def test_figures_hold_plain_lists_one_point_per_day():
    for gid in figures.GRAPH_IDS:
        fig = figures.build_figure(gid, rows(12), horizon=90)
        payload = json.loads(pio.to_json(fig))
        for trace in payload["data"]:
            assert isinstance(trace["x"], list) and isinstance(trace["y"], list), gid  # never bdata
            assert trace["x"] == list(range(1, 13))


def test_point_patches_write_by_index_and_are_idempotent():
    rs = rows(15)
    fig = json.loads(pio.to_json(figures.build_figure("graph-demand", rs[:10], 90)))
    patch = figures.point_patches(rs, 10)["graph-demand"].to_plotly_json()
    once = apply_patch(fig, patch)
    twice = apply_patch(once, patch)  # a response applied twice
    full = json.loads(pio.to_json(figures.build_figure("graph-demand", rs, 90)))
    for t_once, t_twice, t_full in zip(once["data"], twice["data"], full["data"]):
        assert t_once["x"] == t_twice["x"] == t_full["x"] == list(range(1, 16))
        assert t_once["y"] == t_full["y"]


def test_patch_size_does_not_grow_with_the_day():
    rs = rows(300)
    small = sum(len(json.dumps(p.to_plotly_json())) for p in figures.point_patches(rs[:10], 9).values())
    late = sum(len(json.dumps(p.to_plotly_json())) for p in figures.point_patches(rs, 299).values())
    assert late <= small + 60  # only digits of larger day numbers differ


def test_cost_split_is_cumulative():
    cols = figures.columns(rows(10))
    assert cols["cum_holding"][-1] == sum(0.5 * d for d in range(1, 11))
    assert cols["cum_stockout"][-1] == 6.0


def test_event_log_newest_first_and_bounded():
    rs = rows(400)
    ev = S.latest_events(rs)
    assert len(ev) == S.MAX_LOG
    days = [int(t.split(":")[0].split()[1]) for t, _ in ev]
    assert days == sorted(days, reverse=True) and days[0] == 400
    assert S.event_count(rs) > S.MAX_LOG


def test_kpis():
    k = S.kpi_values(rows(10), 90)
    assert k["kpi-day"][0] == "Day 10 of 90"
    assert k["kpi-fill-rate"][0] == f"{100 * 80 / sum(9 + d % 4 for d in range(1, 11)):.1f}%"
    assert S.kpi_values([], 90)["kpi-day"][0] == "Day 0 of 90"


def test_ledger_csv_neutralises_formulas():
    rs = rows(2)
    rs[0]["date"] = "=HYPERLINK(\"http://x\")"
    rs[1]["date"] = "@SUM(A1)"
    text = S.ledger_csv(rs)
    assert "'=HYPERLINK" in text and "'@SUM" in text
    assert ",=" not in text and ",@" not in text


def test_session_ids_are_random_signed_and_forgery_is_detected():
    a, b = session_ids.new_session_id(), session_ids.new_session_id()
    assert a != b and session_ids.valid_session_id(a)
    token, tag = a.split(".")
    assert len(token) >= 32  # 24 random bytes = 192 bits
    assert not session_ids.valid_session_id(token + "." + "A" * len(tag))
    assert not session_ids.valid_session_id("../../etc/passwd")
    assert not session_ids.valid_session_id({"x": 1})
    assert not session_ids.valid_session_id(None)


def test_the_stockout_band_draws_no_line_over_the_total():
    """Stacked areas: the stockout band has no edge line, so with stockout cost 0 the holding line is the one seen."""
    no_stockout = [dict(r, stockout_cost=0.0) for r in rows(12)]
    fig = json.loads(pio.to_json(figures.build_figure("graph-cost", no_stockout, 90)))
    holding, stockout = fig["data"]
    assert holding["stackgroup"] == stockout["stackgroup"] and holding["mode"] == "lines"
    assert stockout["mode"] == "none" and stockout["y"] == [0.0] * 12


def test_arrival_markers_are_open_so_the_on_hand_line_shows_through():
    fig = json.loads(pio.to_json(figures.build_figure("graph-inventory", rows(14), 90)))
    arrivals = next(t for t in fig["data"] if t["name"] == "Arrivals")
    assert arrivals["marker"]["symbol"].endswith("-open") and arrivals["opacity"] < 1


def test_backtest_plot_draws_the_actual_in_front_with_the_legend_clear_of_the_axis_title():
    fig = figures.backtest_figure([5, 6, 7], {"ma7": [5, 5, 6], "ses": [6, 6, 6]})
    assert [t.name for t in fig.data] == ["ma7", "ses", "Actual"]  # the last trace is drawn on top
    assert fig.layout.legend.orientation == "v" and fig.layout.legend.x > 1  # at the right, not under the x-axis


def test_backtest_plot_defaults_to_the_three_best_models_by_mae():
    from dashapp.pages.forecasts.backtests import plot_default

    def res(mae):
        return {"metrics": {"overall": {"mae": mae, "rmse": mae, "bias": 0, "mase": 1}}}
    results = {"a": res(3.0), "b": res(1.0), "c": {"metrics": None, "skipped": "too short"}, "d": res(2.0),
               "e": res(5.0)}
    assert plot_default(results) == ["b", "d", "a"]


def test_scenario_and_optimum_figures_keep_the_toolbar_off_the_title():
    from dashapp.ui import scenario_figures

    fig = scenario_figures._layout(go_figure(), "A long title at the top left")
    assert fig.layout.modebar.orientation == "v" and fig.layout.title.xanchor == "left"
    assert fig.layout.margin.r >= 40


def go_figure():
    import plotly.graph_objects as go

    return go.Figure()
