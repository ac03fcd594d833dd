"""Today's orders from a global quantile model (engine.studies.global_orders, `engine orders --forecaster`): the
level is the model's τ-quantile of the protection period's demand on the sales before the order date, τ chosen per
demand class on days the model never trained on, replayed under each item's supplier rules — the least level
reaching the fill-rate target, or the least realised cost with an (s, S) lot where an order costs K; the order is
that level less the position in whole packs; the promise is the series' fill rate on those held-out days."""
from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pytest

from engine import paths
from engine.cli.main import main
from engine.data.dataset import load_csv
from engine.data.items import item_terms, read_items
from engine.data.stock import read_stock
from engine.errors import ConfigError
from engine.forecast.global_train import GlobalConfig
from engine.forecast.series_covariates import stacked_covariates
from engine.studies.orders import OrderSettings, history_before, propose_orders
from tests.forecast.retail_data import write_retail_csv

pytestmark = pytest.mark.slow   # trains a small global model (~5 s)

SMALL = dict(max_iter=15, min_samples_leaf=20, origin_step=3, draws=1, meta_draws=1, holdout_days=28, meta_days=21)
DAYS = 260
ORDER_DATE = dt.date(2015, 1, 1) + dt.timedelta(days=DAYS)   # the day after the file's last
FILL = OrderSettings(objective="fill-rate", target_fill_rate=0.95, forecaster="ensemble:tiny")


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    from engine.forecast.global_commands import train_global_model
    root = tmp_path_factory.mktemp("go")
    data = root / "retail.csv"
    write_retail_csv(data, n_items=6, days=DAYS)
    models = root / "models"
    train_global_model(data, models / "tiny", cfg=GlobalConfig(**SMALL), log=lambda m: None, command="pytest",
                       backtest_models=())
    seen = root / "seen"   # the same file with no held-out days: it trained on every day
    train_global_model(data, seen / "tiny", cfg=GlobalConfig(**{**SMALL, "holdout_days": 0}), log=lambda m: None,
                       command="pytest", backtest_models=())
    ds = load_csv(data)
    stock_csv = "item,location,on_hand\n" + "".join(f"ITEM_{i},S_1,{3 * i}\n" for i in range(6))
    items_csv = "item,location,pack_size,unit_cost,unit_price\n" + "".join(
        f"ITEM_{i},S_1,{1 if i % 2 else 4},2,5\n" for i in range(6))
    old = paths._models_dir_override
    paths.use_models_dir(models)
    try:
        yield {"data": data, "models": models, "seen": seen, "ds": ds,
               "stock": read_stock(stock_csv.encode(), ds, name="stock.csv"),
               "terms": item_terms(ds, read_items(items_csv.encode(), name="items.csv")),
               "stock_csv": stock_csv, "root": root}
    finally:
        paths._models_dir_override = old


def test_the_level_is_the_models_calibrated_quantile_and_the_order_fills_it_in_packs(shop):
    from engine.forecast.registry import get_forecaster
    out = propose_orders(shop["ds"], shop["stock"], shop["terms"], ORDER_DATE, FILL)
    model = get_forecaster("ensemble:tiny")
    by_class: dict = {}
    for line in out["orders"]:
        rec = line["recommendation"]
        tau = rec["params"]["quantile_level"]
        assert 0.5 <= tau <= 0.99
        by_class.setdefault(rec["demand_class"], set()).add(round(tau, 9))
        hist = history_before(shop["ds"].series[line["series"]], ORDER_DATE)
        cov = stacked_covariates([hist], model.horizon).take(len(hist.demand) + model.horizon)
        q = model.predict_sum_quantiles(np.asarray(hist.demand, dtype=float)[None, :], cov, 8, [tau])[0, 0]
        assert line["level"] == pytest.approx(max(q, 0.0), rel=1e-6)
        need = line["level"] - line["position"]
        pack = line["pack_size"]
        assert line["order_qty"] == (pack * math.ceil(need / pack - 1e-9) if need > 0 else 0)
        assert "ensemble:tiny's" in line["reason"] and f"{tau:.3f}-quantile" in line["reason"]
        assert rec["evaluation"]["what"].startswith("real held-out days")
    assert all(len(taus) == 1 for taus in by_class.values())   # one τ per demand class
    assert any("never trained on" in n and "order days, lead time, packs, MOQ and order cost K" in n
               for n in out["notes"])
    assert not any("not on these series" in n for n in out["notes"])   # trained on this very file


def test_a_higher_target_never_lowers_a_level(shop):
    lo = propose_orders(shop["ds"], shop["stock"], shop["terms"], ORDER_DATE,
                        OrderSettings(objective="fill-rate", target_fill_rate=0.8, forecaster="ensemble:tiny"))
    hi = propose_orders(shop["ds"], shop["stock"], shop["terms"], ORDER_DATE,
                        OrderSettings(objective="fill-rate", target_fill_rate=0.99, forecaster="ensemble:tiny"))
    a = {x["series"]: x["level"] for x in lo["orders"]}
    b = {x["series"]: x["level"] for x in hi["orders"]}
    assert all(b[k] >= a[k] - 1e-9 for k in a) and sum(b.values()) > sum(a.values())


def test_the_cost_objective_weighs_the_order_cost_with_a_lot_and_orders_on_order_days_only(shop):
    """Items with an order cost K get the (s, S) rule when it is cheaper on the held-out days (fewer orders), the
    others order up to the level; every level covers lead time + review period and nothing is ordered on a day
    that is not an order day."""
    items = "item,location,pack_size,unit_cost,unit_price,order_cost,order_days\n" + "".join(
        f"ITEM_{i},S_1,1,2,5,{40 if i % 2 == 0 else 0},mon;thu\n" for i in range(6))
    terms = item_terms(shop["ds"], read_items(items.encode(), name="items.csv"))
    out = propose_orders(shop["ds"], shop["stock"], terms, ORDER_DATE,
                         OrderSettings(objective="cost", forecaster="ensemble:tiny"))
    assert any("least realised cost" in n for n in out["notes"])
    top = [line for line in out["orders"] if line["recommendation"]["params"]["quantile_level"] >= 0.99 - 1e-9]
    assert any(f"{len(top)} of 6 levels are ensemble:tiny's highest quantile" in n for n in out["notes"]) == bool(top)
    for line in out["orders"]:
        rec = line["recommendation"]
        assert rec["objective"]["name"] == "cost" and line["protection_days"] == 7 + 4
        assert rec["params"]["protection_days"] == 11 and "order days" in rec["evaluation"]["what"]
        if line["order_cost"] > 0:
            p = rec["params"]
            assert rec["policy"] == "s-S" and p["lot_size"] > 0
            assert p["order_up_to"] == pytest.approx(p["reorder_point"] + p["lot_size"])
        else:
            assert rec["policy"] == "order-up-to"
        assert line["order_qty"] == 0 and "is not an order day" in line["reason"]   # a Friday
    saved = sum(line["recommendation"]["orders_per_window"] for line in out["orders"] if line["order_cost"] > 0)
    fill = propose_orders(shop["ds"], shop["stock"], terms, ORDER_DATE, FILL)
    assert saved < sum(line["recommendation"]["orders_per_window"] for line in fill["orders"]
                       if line["order_cost"] > 0)


def test_refusals_say_what_to_change(shop):
    with pytest.raises(ConfigError, match="forecasts no quantiles of the demand sum"):
        propose_orders(shop["ds"], shop["stock"], shop["terms"], ORDER_DATE,
                       OrderSettings(objective="fill-rate", forecaster="ses"))
    paths.use_models_dir(shop["seen"])
    try:
        with pytest.raises(ConfigError, match=r"hold 0 of them .*retrain it with --holdout-days 56"):
            propose_orders(shop["ds"], shop["stock"], shop["terms"], ORDER_DATE, FILL)
    finally:
        paths.use_models_dir(shop["models"])


def test_cli_orders_with_a_global_model(shop, capsys):
    stock = shop["root"] / "stock.csv"
    stock.write_text(shop["stock_csv"])
    base = ["orders", "--data", str(shop["data"]), "--stock", str(stock), "--date", ORDER_DATE.isoformat(),
            "--models-dir", str(shop["models"]), "--forecaster", "ensemble:tiny"]
    assert main(base + ["--objective", "fill-rate", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["orders"]) == 6 and all(o["recommendation"]["params"]["forecaster"] == "ensemble:tiny"
                                           for o in out["orders"])
    assert main(base + ["--json"]) == 0   # the default objective, least expected cost
    out = json.loads(capsys.readouterr().out)
    assert all(o["recommendation"]["objective"]["name"] == "cost" for o in out["orders"])
