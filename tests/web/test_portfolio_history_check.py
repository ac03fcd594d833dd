"""/portfolio "Check against history" as plain Python: settings from the page's form, promised vs realised per
class with the total, the exception list (misses by more than 5 points, worst first), the calibration chart."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from dashapp.pages.portfolio import history_check as H
from dashapp.pages.portfolio.history_view import check_view
from engine.data.dataset import SeriesData
from engine.studies.portfolio import PortfolioSettings


@pytest.fixture(scope="module")
def result():
    rng = np.random.default_rng(4)
    series = []
    for i in range(6):
        y = rng.poisson(6.0, 200).astype(float)
        y[-30:] *= 2.5 if i < 2 else 1.0  # two series whose demand jumps in the held-out days: they miss
        series.append(SeriesData(key=f"A{i}/S", dates=None, demand=y, promo=np.zeros(200), unit_cost=10.0,
                                 unit_price=20.0))

    ds = SimpleNamespace(name="six.csv", series={x.key: x for x in series})
    s = H.check_settings(PortfolioSettings(lead_time=3, replications=4, days=30), 1)
    return H.compute_check(ds, s, "k" * 40, lambda d, t: None)


def test_settings_follow_the_form_and_refuse_bad_origins():
    s = H.check_settings(PortfolioSettings(lead_time=5, days=60, target_fill_rate=0.9), "2")
    assert (s.holdout_days, s.origins, s.lead_time, s.target_fill_rate) == (60, 2, 5, 0.9)
    with pytest.raises(H.CheckInputError, match="origins"):
        H.check_settings(PortfolioSettings(), "two")
    with pytest.raises(H.CheckInputError, match=r"origins: 0 is out of range \(1 to 24\)"):
        H.check_settings(PortfolioSettings(), 0)
    with pytest.raises(H.CheckInputError, match=r"origins: 2.5 must be a whole number"):
        H.check_settings(PortfolioSettings(), 2.5)
    with pytest.raises(H.CheckInputError, match="a value is required"):
        H.check_settings(PortfolioSettings(), "")
    assert H.check_settings_from_dict(s.to_dict()) == s


def test_class_rows_end_with_the_total_and_points_are_the_difference(result):
    rows = H.class_rows(result)
    assert rows[-1]["class"] == "all series" and rows[-1]["series"] == result["totals"]["scored"]
    for r in rows:
        assert r["points"] == pytest.approx(100 * (r["realised"] - r["promised"]))


def test_exceptions_are_the_misses_by_more_than_5_points_worst_first(result):
    rows = H.exception_rows(result)
    want = {r["series"] for r in result["records"]
            if r["promised_fill_rate"] - r["realised_fill_rate"] > 0.05}
    assert {r["series"] for r in rows} == want and {"A0/S", "A1/S"} <= want
    assert [r["points"] for r in rows] == sorted(r["points"] for r in rows)
    assert all(r["points"] < -5 for r in rows)


def test_the_view_has_the_table_the_chart_and_the_exception_grid(result):
    view = str(check_view(result))
    assert "pfbt-classes" in view and "pfbt-chart" in view and "pfbt-misses" in view
    fig = H.calibration_figure(result)
    names = [t.name for t in fig.data]
    assert names[0] == "promise kept" and sum(len(t.x) for t in fig.data[2:]) == result["totals"]["scored"]
    assert check_view(None) is None


def test_a_file_too_short_for_the_origins_is_a_message():
    x = SeriesData(key="S/1", dates=None, demand=np.ones(80), promo=np.zeros(80))

    ds = SimpleNamespace(name="short.csv", series={"S/1": x})
    with pytest.raises(H.CheckInputError, match="need at least") as err:
        H.compute_check(ds, H.check_settings(PortfolioSettings(days=30), 2), "k" * 40, lambda d, t: None)
    assert "lower “Days per replication” (the held-out days) to 10 or fewer or “Origins”" in str(err.value)
    assert "--" not in str(err.value)


def test_check_settings_carry_the_pages_supplier_rules():
    s = H.check_settings(PortfolioSettings(days=30, moq=24, pack_size=12, order_days=["mon", "thu"], order_cost=5), 1)
    assert (s.moq, s.pack_size, s.order_days, s.order_cost) == (24, 12, ["mon", "thu"], 5)
    assert s.portfolio_settings().order_rules().review_period() == 4


def test_the_page_and_the_job_compute_one_key_when_the_browser_writes_0_0_as_0():
    s = H.check_settings(PortfolioSettings(days=30, moq=0.0, order_cost=0.0, holding_rate=1.0), 1)
    through_browser = {k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in s.to_dict().items()}
    again = H.check_settings_from_dict(through_browser)
    assert H.check_key("f", {}, False, s) == H.check_key("f", {}, False, again)


def test_the_summary_names_the_supplier_rules_the_check_ran_under(result):
    assert "supplier's rules" not in str(check_view(result))
    ruled = {**result, "settings": {**result["settings"], "moq": 24, "pack_size": 12, "order_days": ["mon", "thu"],
                                    "order_cost": 5.0}}
    assert ("Under the supplier's rules: whole packs of 12; at least 24 units an order; orders on Mon, Thu only "
            "(review period 4 days, so the protection period is the lead time + the review period); 5 per order "
            "placed.") in str(check_view(ruled))


def test_the_summary_names_the_series_left_out_of_the_fill_rates(result):
    assert "not scored" not in str(check_view(result))
    gap = {**result, "totals": {**result["totals"], "unscored": ["A/S", "B/S"]}}
    assert "(2 not scored — no demand in their held-out days: A/S, B/S)" in str(check_view(gap))


def _dated(last: str, days: int = 200, n: int = 4) -> SimpleNamespace:
    import datetime as dt
    rng = np.random.default_rng(7)
    end = dt.date.fromisoformat(last)
    dates = [(end - dt.timedelta(days=days - 1 - k)).isoformat() for k in range(days)]
    series = [SeriesData(key=f"B{i}/S", dates=dates, demand=rng.poisson(3.0 + 2 * i, days).astype(float),
                         promo=np.zeros(days), unit_cost=10.0, unit_price=20.0) for i in range(n)]
    return SimpleNamespace(name="dated.csv", series={x.key: x for x in series})


def test_levels_from_a_global_model_check_its_quantile_in_the_pages_words():
    """“Levels from” m5-global (trained on days up to 2016-02-28): on a file after them the check runs its
    calibrated quantile, under either objective and the form's supplier rules; on a file whose days it saw the
    message names the longest held-out days that fit and keeps the retraining command as typed."""
    fill = PortfolioSettings(lead_time=3, replications=4, days=30, objective="fill-rate")
    s = H.check_settings(fill, 1, "ensemble:m5-global")
    assert s.forecaster == "ensemble:m5-global"
    assert H.check_key("f", {}, False, s) != H.check_key("f", {}, False, H.check_settings(fill, 1))
    cost = H.check_settings(PortfolioSettings(lead_time=3, days=30, order_days="mon;thu", order_cost=5.0), 1,
                            "ensemble:m5-global")
    assert cost.objective == "cost" and cost.forecaster == "ensemble:m5-global"
    with pytest.raises(H.CheckInputError, match="is not one of the listed models"):
        H.check_settings(fill, 1, "/etc/passwd")
    out = H.compute_check(_dated("2017-06-30"), s, "k" * 40, lambda d, t: None)
    assert {r["forecaster"] for r in out["records"]} == {"ensemble:m5-global"}
    assert all(r["quantile_level"] is not None for r in out["records"])
    assert "Levels from ensemble:m5-global's quantiles" in str(check_view(out))
    by_cost = H.compute_check(_dated("2017-06-30"), cost, "c" * 40, lambda d, t: None)["records"]
    assert all(r["selection_target"] is None and r["policy"] in ("order-up-to", "s-S") for r in by_cost)
    with pytest.raises(H.CheckInputError) as err:   # 2016-02-29 … 03-31 unseen: 32 days, 30 + 30 needed
        H.compute_check(_dated("2016-03-31"), s, "k" * 40, lambda d, t: None)
    msg = str(err.value)
    assert "“Levels from” ensemble:m5-global was trained on days up to 2016-02-28" in msg
    assert "check it with “Days per replication” (the held-out days) 16 or fewer" in msg
    assert "(engine train --global --holdout-days 60)" in msg
