"""Today's orders from a global quantile model (engine.studies.global_orders, `engine orders --forecaster`): the
level is the model's τ-quantile of the protection period's demand on the sales before the order date, τ chosen per
demand class for the fill-rate target on days the model never trained on; the order is that level less the position
in whole packs; the promise is the series' fill rate on those held-out days; what it leaves out is said."""
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
    assert any("never trained on" in n and "K is not weighed" in n for n in out["notes"])
    assert not any("not on these series" in n for n in out["notes"])   # trained on this very file


def test_a_higher_target_never_lowers_a_level(shop):
    lo = propose_orders(shop["ds"], shop["stock"], shop["terms"], ORDER_DATE,
                        OrderSettings(objective="fill-rate", target_fill_rate=0.8, forecaster="ensemble:tiny"))
    hi = propose_orders(shop["ds"], shop["stock"], shop["terms"], ORDER_DATE,
                        OrderSettings(objective="fill-rate", target_fill_rate=0.99, forecaster="ensemble:tiny"))
    a = {x["series"]: x["level"] for x in lo["orders"]}
    b = {x["series"]: x["level"] for x in hi["orders"]}
    assert all(b[k] >= a[k] - 1e-9 for k in a) and sum(b.values()) > sum(a.values())


def test_refusals_say_what_to_change(shop):
    with pytest.raises(ConfigError, match="fill-rate target; --objective cost is not offered"):
        propose_orders(shop["ds"], shop["stock"], shop["terms"], ORDER_DATE,
                       OrderSettings(objective="cost", forecaster="ensemble:tiny"))
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
    assert main(base) == 2
    err = capsys.readouterr().err
    assert "--objective cost is not offered" in err and "Traceback" not in err
