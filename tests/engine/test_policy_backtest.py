"""Policy backtest on a file's own history: the replay is the portfolio's rule on real days, the recommendation
never sees the held-out days, the days-of-cover baseline is the smallest k reaching the target, and the
out-of-time check raises a class's selection target where real demand delivers less than the bootstrap promised."""
from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from engine.cli.main import main
from engine.data.dataset import SeriesData
from engine.simulation.metrics import fill_rate
from engine.studies.history_replay import DAYS_OF_COVER_GRID, days_of_cover, replay, replay_records
from engine.studies.policy_backtest import BACKTEST_COLUMNS, BacktestSettings, backtest_csv, run_backtest
from engine.studies.portfolio import (
    PortfolioSettings,
    _simulate,
    _simulate_rq,
    out_of_time_calibration,
    run_chunk,
)
from engine.studies.series_forecasts import candidate_forecasters


def series_set(n: int = 10, days: int = 400, growth: float = 0.0, seed: int = 3) -> list[SeriesData]:
    """Poisson series, half smooth (mean 10) and half intermittent (20 % demand days), the mean growing by
    `growth` × over the last 120 days."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        ramp = np.ones(days)
        ramp[-min(120, days):] = np.linspace(1.0, 1.0 + growth, min(120, days))
        if i % 2 == 0:
            y = rng.poisson(10.0 * ramp)
        else:
            y = np.where(rng.random(days) < 0.2 * ramp, rng.poisson(3.0, days) + 1, 0)
        out.append(SeriesData(key=f"I{i}/S", dates=None, demand=y.astype(float), promo=np.zeros(days),
                              unit_cost=10.0, unit_price=20.0))
    return out


def settings(**kw) -> PortfolioSettings:
    return PortfolioSettings(lead_time=3, replications=6, days=30, history_days=120, backtest_days=30, **kw)


def test_order_up_to_replay_is_the_portfolios_rule_on_the_same_path():
    ser = series_set(4, days=150)
    s = settings(promise_check=False)
    recs = run_chunk(ser, s)
    future = np.random.default_rng(9).poisson(8.0, (4, 30)).astype(float)
    got = replay_records(ser, [{**r, "policy": "order-up-to"} for r in recs], future, s.history_days, 0.25)
    for i, (x, r) in enumerate(zip(ser, recs)):
        f = candidate_forecasters()[r["forecaster"]]
        st = f.start(1)
        for y in x.demand[-s.history_days:]:
            f.step(st, np.array([y]))
        level = np.empty(30)
        for d in range(30):
            level[d] = f.level(st)[0]
            f.step(st, future[i:i + 1, d])
        want = _simulate(level[None, :], future[i:i + 1], np.array([[r["relative_error_quantile"]]]),
                         np.array([3]), np.array([0.25 * 10 / 365]), np.array([10.0]))
        assert got["totals"]["fulfilled"][i] == pytest.approx(want["fulfilled"][0, 0])
        assert got["totals"]["on_hand"][i] == pytest.approx(want["on_hand"][0, 0])
        assert got["totals"]["holding"][i] + got["totals"]["stockout"][i] == pytest.approx(
            want["holding"][0, 0] + want["stockout"][0, 0])


def test_reorder_point_replay_is_the_portfolios_rule():
    ser = series_set(2, days=150)
    recs = [{"series": x.key, "lead_time": 2, "unit_cost": 10.0, "unit_price": 20.0, "policy": "r-Q",
             "forecaster": "ses", "relative_error_quantile": 0.0, "reorder_point": r, "order_quantity": 10.0}
            for x, r in zip(ser, (15.0, 4.0))]
    dem = np.full((2, 12), 5.0)
    got = replay_records(ser, recs, dem, 120, 0.25)["totals"]
    want = _simulate_rq(dem, np.array([[15.0], [4.0]]), np.array([10.0, 10.0]), np.array([2, 2]),
                        np.full(2, 0.25 * 10 / 365), np.full(2, 10.0))
    assert list(got["fulfilled"]) == list(want["fulfilled"][:, 0]) and got["fulfilled"][0] == 60
    assert list(got["orders"]) == list(want["orders"][:, 0])


def test_days_of_cover_takes_the_smallest_k_reaching_the_target_on_the_past():
    ser = series_set(4, days=200)
    recs = [{"lead_time": 3, "unit_cost": 10.0, "unit_price": 20.0} for _ in ser]
    after = np.full((4, 20), 6.0)
    got = days_of_cover(ser, recs, after, 150, 0.25, "fill-rate", 0.95)
    G = len(DAYS_OF_COVER_GRID)
    for i, x in enumerate(ser[:2]):
        y = x.demand[-150:]
        mean = np.array([y[max(t - 28, 0):t].mean() if t else y[0] for t in range(150)])
        lv = DAYS_OF_COVER_GRID[:, None] * 4 * mean[None, 28:]  # one row per k, by hand
        tot = replay(np.repeat(y[None, 28:], G, axis=0), lv[:, 0], np.full(G, 3), np.full(G, 0.01),
                     np.full(G, 10.0), lambda d, pos, lv=lv: lv[:, d] - pos)
        reach = DAYS_OF_COVER_GRID[fill_rate(tot, np.nan) >= 0.95]
        assert got["k"][i] == pytest.approx(reach[0])
        assert reach[0] > DAYS_OF_COVER_GRID[0]  # the target binds: a smaller k falls short


@pytest.mark.slow
def test_the_recommendation_never_sees_the_held_out_days():
    a = series_set(10, days=400)
    b = [SeriesData(key=x.key, dates=None, demand=np.concatenate([x.demand[:-30], x.demand[-30:] * 3]),
                    promo=x.promo, unit_cost=10.0, unit_price=20.0) for x in a]
    s = BacktestSettings(holdout_days=30, lead_time=3, replications=6, history_days=120)
    ra, rb = run_backtest(a, s)["records"], run_backtest(b, s)["records"]
    for x, y in zip(ra, rb):
        for k in ("policy", "order_up_to", "reorder_point", "promised_fill_rate", "promised_cost",
                  "baseline_days_of_cover_k"):
            assert x[k] == y[k]
    assert sum(x["demand"] for x in rb) == pytest.approx(3 * sum(x["demand"] for x in ra))
    assert sum(x["realised_fill_rate"] for x in rb) < sum(x["realised_fill_rate"] for x in ra)


@pytest.mark.slow
def test_out_of_time_check_raises_the_target_when_demand_grows():
    fill = settings(objective="fill-rate")  # the target is read under the service objective only
    flat = out_of_time_calibration(series_set(16, days=400, growth=0.0), fill)
    grow = out_of_time_calibration(series_set(16, days=400, growth=1.0), fill)
    assert grow["all"][0] > flat["all"][0]
    assert grow["all"][1] < 0  # real days delivered less than the bootstrap's promise
    assert out_of_time_calibration(series_set(16, days=80), fill) == {}  # too short to cut


def test_cli_json_has_totals_by_class_baseline_and_records(tmp_path, capsys):
    rows = ["date,item,store,sales"]
    start = dt.date(2020, 1, 1)
    for x in series_set(8, days=300):
        item = x.key.split("/")[0]
        rows += [f"{(start + dt.timedelta(t)).isoformat()},{item},S,{int(v)}" for t, v in enumerate(x.demand)]
    path = tmp_path / "d.csv"
    path.write_text("\n".join(rows) + "\n")
    out = tmp_path / "series.csv"
    assert main(["backtest-policy", "--data", str(path), "--holdout-days", "30", "--origins", "2", "--lead-time",
                 "3", "--replications", "4", "--check-windows", "1", "--json", "--out", str(out)]) == 0
    got = json.loads(capsys.readouterr().out)
    assert {"series", "promised_fill_rate", "realised_fill_rate", "realised_fill_rate_units", "average_on_hand",
            "series_within_5pts"} <= set(got["totals"])
    assert got["totals"]["series"] == 8 and len(got["records"]) == 16
    assert {"realised_fill_rate", "average_on_hand"} <= set(got["baseline"])
    for c in got["by_class"].values():
        assert {"series", "promised_fill_rate", "realised_fill_rate"} <= set(c)
    assert out.read_text().splitlines()[0].split(",") == BACKTEST_COLUMNS
    assert backtest_csv([]).startswith("series,origin,")
    assert main(["backtest-policy", "--data", str(path), "--holdout-days", "200", "--origins", "2"]) == 2
    assert capsys.readouterr().err.startswith("error: series ")


def test_out_of_time_check_pools_the_level_over_windows_and_reads_class_offsets_in_the_latest(monkeypatch):
    """The pooled curve is the mean over every window; a class's offset from it comes from the latest window
    only (shrunk by SHRINK_SERIES); a deeper window whose history cannot hold the full forecaster backtest takes
    no part. Recommendations and replays are stand-ins whose realised fill rate is known per window and class."""
    import engine.studies.history_replay as hr
    import engine.studies.portfolio as pf

    H = 30
    s = PortfolioSettings(lead_time=3, replications=6, days=H, history_days=120, backtest_days=60, check_windows=3,
                          objective="fill-rate")  # the full backtest: 28 + 60 + 4 = 92 days
    ser = [SeriesData(key=f"I{i}/S", dates=None, demand=np.ones(160), promo=np.zeros(160), unit_cost=10.0,
                      unit_price=20.0) for i in range(16)]
    # realised − simulated per window (1: latest) and class; window 3 (70 days before it) must be left out
    short = {1: {"smooth": -0.02, "intermittent": -0.06}, 2: {"smooth": -0.06, "intermittent": -0.02},
             3: {"smooth": -0.5, "intermittent": -0.5}}

    def recommend(cut, base, targets):
        return [[{"class": "smooth" if int(x.key[1:].split("/")[0]) < 8 else "intermittent", "fill_rate": float(t)}
                 for x in cut] for t in targets]

    monkeypatch.setattr(pf, "recommend_at_targets", recommend)
    monkeypatch.setattr(hr, "replay_records", lambda cut, recs, after, *a: {"totals": (cut, recs)})
    monkeypatch.setattr(pf, "fill_rate", lambda tot, nothing_demanded=1.0: np.array(
        [r["fill_rate"] + short[(160 - len(x)) // H][r["class"]] for x, r in zip(*tot)]))
    got = out_of_time_calibration(ser, s)
    assert got["all"][0] == pytest.approx(0.99) and got["all"][1] == pytest.approx(-0.04)  # windows 1 and 2
    lean = 8 / (8 + pf.SHRINK_SERIES)
    assert got["smooth"][1] == pytest.approx(-0.04 + 0.02 * lean)
    assert got["intermittent"][1] == pytest.approx(-0.04 - 0.02 * lean)
    assert got["smooth"][0] < got["all"][0] < got["intermittent"][0]


def test_cli_check_windows_out_of_range_is_one_line(tmp_path, capsys):
    assert main(["backtest-policy", "--data", str(tmp_path / "none.csv"), "--check-windows", "0"]) == 2
    err = capsys.readouterr().err
    assert "--check-windows 0 is out of range" in err and err.count("\n") == 1


def test_the_supplier_rules_govern_every_replayed_order_and_the_baseline(monkeypatch):
    """With order days, a pack and an MOQ, the recommendation covers L + R days and every order the backtest
    replays — the portfolio's and the days-of-cover baseline's — falls on an order day, in whole packs, at least
    the MOQ."""
    from engine.simulation.kernel import InventoryKernel
    from engine.studies import history_replay

    seen = []

    class Spy(InventoryKernel):
        def place(self, d, qty, lead):
            placed, arrival = super().place(d, qty, lead)
            wd = (np.broadcast_to(self.first_weekday, placed.shape) + d) % 7
            qty = np.broadcast_to(self.ordered, placed.shape)
            seen.extend(zip(wd[placed].tolist(), qty[placed].tolist()))
            return placed, arrival

    monkeypatch.setattr(history_replay, "InventoryKernel", Spy)
    start = dt.date(2021, 1, 1)
    series = series_set(n=4, days=300)
    for x in series:
        x.dates = [(start + dt.timedelta(days=k)).isoformat() for k in range(300)]
    base = dict(holdout_days=40, lead_time=3, replications=6, history_days=120, promise_check=False)
    out = run_backtest(series, BacktestSettings(**base, order_days="mon,thu", pack_size=12, moq=24))
    assert len(seen) > 20 and {wd for wd, _ in seen} == {0, 3}
    assert all(q >= 24 and q % 12 == 0 for _, q in seen)
    seen.clear()
    free = run_backtest(series, BacktestSettings(**base))
    assert len({wd for wd, _ in seen}) > 2                      # without the rules: orders on most weekdays
    assert out["totals"]["average_on_hand"] != free["totals"]["average_on_hand"]


def test_a_series_without_demand_in_its_held_out_days_is_named_not_silently_dropped(tmp_path, capsys):
    rows = ["date,item,store,sales"]
    start = dt.date(2020, 1, 1)
    for x in series_set(4, days=200):
        y = x.demand.copy()
        if x.key.startswith("I1/"):
            y[-30:] = 0.0   # nothing sold in the held-out days: its fill rate is undefined
        item = x.key.split("/")[0]
        rows += [f"{(start + dt.timedelta(t)).isoformat()},{item},S,{int(v)}" for t, v in enumerate(y)]
    path = tmp_path / "d.csv"
    path.write_text("\n".join(rows) + "\n")
    argv = ["backtest-policy", "--data", str(path), "--holdout-days", "30", "--lead-time", "3", "--replications",
            "2", "--no-promise-check"]
    assert main(argv + ["--json"]) == 0
    t = json.loads(capsys.readouterr().out)["totals"]
    assert (t["series"], t["scored"], t["unscored"]) == (4, 3, ["I1/S"])
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "not scored  1 record(s) with no demand in their held-out days (fill rate undefined): I1/S" in text
    cost = f"cost        promised {t['promised_cost']:,.2f}  realised {t['realised_cost']:,.2f} (holding + lost"
    assert cost in text   # the text output states the costs the JSON totals hold
