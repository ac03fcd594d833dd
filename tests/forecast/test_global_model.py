"""The global quantile model: trained across series on scaled inputs, exported to ONNX (trees converted by our own
converter), meta weights fitted on unseen days, served without TensorFlow or scikit-learn, non-crossing quantiles of
the d-day sums, reachable as ensemble:NAME, and scored by the quantile backtest."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from engine import paths
from engine.forecast import global_features as G
from engine.forecast.global_train import GlobalConfig, fit_meta
from tests.conftest import REPO
from tests.forecast.retail_data import write_retail_csv

SMALL = dict(max_iter=15, min_samples_leaf=20, origin_step=3, draws=1, meta_draws=1, holdout_days=16, meta_days=21)


@pytest.fixture(scope="module")
def global_entry(tmp_path_factory):
    """A small global model trained on a generated retail file with prices, in its own models folder (~10 s of
    CPU with its backtest: the tests that use it are in the slow tier)."""
    from engine.forecast.global_commands import train_global_model
    root = tmp_path_factory.mktemp("gm")
    data = root / "retail.csv"
    write_retail_csv(data, n_items=5, days=260)
    models = root / "models"
    card = train_global_model(data, models / "tiny-global", cfg=GlobalConfig(**SMALL), log=lambda m: None,
                              command="pytest", backtest_models=("ses", "ets-weekly"))
    return {"data": data, "models": models, "card": card}


@pytest.fixture
def served(global_entry):
    from engine.forecast.registry import get_forecaster
    old = paths._models_dir_override
    paths.use_models_dir(global_entry["models"])
    try:
        yield get_forecaster("ensemble:tiny-global")
    finally:
        paths._models_dir_override = old


@pytest.mark.slow
def test_card_states_members_weights_and_the_held_out_backtest(global_entry):
    card = global_entry["card"]
    assert card["kind"] == "global" and card["uses_price"] is True
    assert [m["name"] for m in card["members"]] == ["trees"]
    for v in card["meta"].values():
        assert abs(sum(v["weights"].values()) - 1.0) < 1e-9
    assert card["onnx_check"]["trees"] < 1e-3
    # the quantile path's graph holds the quantile trees only; the mean model (point forecasts) is its own graph
    import onnx
    folder = global_entry["models"] / "tiny-global"
    graphs = {f: onnx.load(folder / f).graph for f in ("model.onnx", card["members"][0]["mean_onnx"])}
    assert [g.output[0].type.tensor_type.shape.dim[1].dim_value for g in graphs.values()] == [len(card["quantiles"]), 1]
    bt = card["backtest"]["models"]
    assert set(bt) == {"ensemble:tiny-global", "ses", "ets-weekly"}
    o = bt["ensemble:tiny-global"]["overall"]
    assert o["method"] == "model" and o["scaled_pinball"] > 0 and set(o["coverage"]) == {"0.5", "0.9", "0.95",
                                                                                         "0.99"}
    tr = card["training"]
    assert all(d < "2015-09-02" for d in tr["last_train_date_by_series"].values())  # 260 days − 16 held out
    assert (global_entry["models"] / "tiny-global" / "CARD.md").read_text().count("| ensemble:tiny-global |") == 1
    v = card["holdout_verdict"]   # the model against the better of its two baselines, on the same held-out days
    best = min(("ses", "ets-weekly"), key=lambda k: bt[k]["overall"]["scaled_pinball"])
    assert v["best_baseline"] == best
    assert abs(v["ratio"] - o["scaled_pinball"] / bt[best]["overall"]["scaled_pinball"]) < 1e-12
    assert f"{v['ratio']:.3f} × the best per-series forecaster's ({best}" in \
        (global_entry["models"] / "tiny-global" / "CARD.md").read_text()


@pytest.mark.slow
def test_served_quantiles_are_non_crossing_and_grow_with_the_days_summed(served, global_entry):
    from engine.data.dataset import load_csv
    from engine.forecast.series_covariates import covariates_for, stacked_covariates
    ds = load_csv(global_entry["data"])  # the loader reads each series' price plan
    targets = [covariates_for(s, 31) for s in ds.series.values()]
    assert targets[0].price is not None and targets[0].day_number is not None
    from engine.forecast.backtest import targets_per_series
    tg = targets_per_series(ds, 16)
    cov = stacked_covariates(tg, 31).take(200 + 31)
    D = np.stack([s.demand for s in ds.series.values()])[:, :200]
    q = served.predict_sum_quantiles(D, cov, 8, (0.5, 0.75, 0.9, 0.99))
    assert q.shape == (5, 4) and np.all(q >= 0) and np.all(np.diff(q, axis=1) >= -1e-9)
    q30 = served.predict_sum_quantiles(D, cov, 30, (0.5, 0.99))
    assert np.all(q30[:, 1] >= q[:, 3] - 1e-6) or np.mean(q30[:, 1] >= q[:, 3]) >= 0.8
    f = served.predict(D, cov)
    assert f.shape == (5, served.horizon) and np.all(f >= 0)
    with pytest.raises(ValueError):
        served.predict_sum_quantiles(D, cov, 8, (0.3,))
    with pytest.raises(ValueError):
        served.predict_sum_quantiles(D, cov, 40, (0.5,))


@pytest.mark.slow
def test_forecasts_never_read_demand_at_or_after_the_origin(served):
    """The backtest passes the history before the origin; the covariates reach past it. Changing every demand value
    at and after the origin while keeping the covariates must not change a quantile."""
    from engine.forecast.base import Covariates
    rng = np.random.default_rng(4)
    y = rng.poisson(4.0, (3, 150)).astype(float)
    cov = Covariates(day_number=(16000 + np.arange(150 + 31.0))[None, :], price=np.full((3, 181), 2.0))
    a = served.predict_sum_quantiles(y[:, :120], cov, 8, (0.5, 0.9))
    y2 = y.copy()
    y2[:, 120:] = 999.0
    b = served.predict_sum_quantiles(y2[:, :120], cov, 8, (0.5, 0.9))
    assert np.array_equal(a, b)


def test_features_are_scale_free():
    rng = np.random.default_rng(0)
    y = rng.poisson(3.0, (4, 400)).astype(float)
    X1, s1 = G.build_features(y, 8)
    X2, s2 = G.build_features(10 * y, 8)
    assert np.allclose(s2, 10 * s1)
    keep = [i for i, n in enumerate(G.FEATURES) if n != "log_scale"]
    assert np.allclose(X1[:, keep], X2[:, keep], rtol=1e-5, atol=1e-6)


def test_the_scale_follows_a_relaunched_series_recent_changes():
    """A series without sales for most of the year that starts selling: its scale comes from the recent days, so
    its scaled inputs stay in the range the model learned on (and scale_jump says so)."""
    rng = np.random.default_rng(3)
    y = np.zeros((2, 400))
    y[0] = rng.poisson(4.0, 400)
    y[1, -20:] = rng.poisson(4.0, 20)
    X, s = G.build_features(y, 8)
    year = np.abs(np.diff(y[:, -365:], axis=1)).mean(axis=1)
    recent = np.abs(np.diff(y[:, -29:], axis=1)).mean(axis=1)
    assert np.allclose(s, np.maximum(np.maximum(year, recent), G.MIN_SCALE))
    assert s[1] == recent[1] > 3 * year[1]
    jump = X[:, G.FEATURES.index("scale_jump")]
    assert jump[1] > np.log(3) and jump[0] < np.log(1.5)


def test_past_sum_inputs_are_the_order_statistics_of_the_series_own_sums_of_the_days_asked():
    """sum_q50 … sum_q100 read the d-day sums of windows ending on each of the last 112 days, per row's own d."""
    rng = np.random.default_rng(5)
    y = rng.poisson(rng.gamma(1.0, 3.0, (3, 1)), (3, 300)).astype(float)
    d = np.array([[1, 8], [8, 30], [15, 3]])
    X, s = G.build_features(y, d)
    names = [f"sum_q{int(round(100 * q))}" for q in G.PAST_SUM_LEVELS]
    cols = [G.FEATURES.index(n) for n in names]
    for i in range(3):
        for j in range(2):
            k = d[i, j]
            sums = np.sort([y[i, e - k:e].sum() for e in range(300 - 111, 301)])
            want = [sums[int(round(q * 111))] / (k * s[i]) for q in G.PAST_SUM_LEVELS]
            assert np.allclose(X[2 * i + j, cols], want, rtol=1e-5)
    assert np.all(np.diff(X[:, cols], axis=1) >= 0)


def test_a_christmas_closure_does_not_count_as_demand_variability_in_the_scale():
    """The store file sells 0 on 25 December (closed): the changes in and out of that day are left out of the
    scale, so the weeks after Christmas are not read on an inflated scale; without dates nothing is left out."""
    import datetime as dt
    rng = np.random.default_rng(6)
    t = 500
    first = dt.date(2014, 11, 1)
    dates = [first + dt.timedelta(days=k) for k in range(t + 31)]
    xmas = dates.index(dt.date(2015, 12, 25))
    y = rng.poisson(20.0, (2, t)).astype(float)
    y[:, xmas] = 0.0
    origin = xmas + 10
    day_number = np.array([(d - dt.date(1970, 1, 1)).days for d in dates])[None, :]
    _, s_dates = G.build_features(y[:, :origin], 8, day_number)
    _, s_plain = G.build_features(y[:, :origin], 8)
    h = y[:, origin - 29:origin]
    change = np.abs(np.diff(h, axis=1))
    k = xmas - (origin - 29)
    keep = np.ones(change.shape[1], bool)
    keep[[k - 1, k]] = False
    assert np.allclose(s_plain, np.maximum(change.mean(axis=1), np.abs(np.diff(y[:, origin - 365:origin])).mean(1)))
    assert np.all(s_dates < s_plain)
    year = np.abs(np.diff(y[:, origin - 365:origin], axis=1))
    keep_year = np.ones(year.shape[1], bool)
    ky = xmas - (origin - 365)
    keep_year[[ky - 1, ky]] = False
    assert np.allclose(s_dates, np.maximum(change[:, keep].mean(axis=1), year[:, keep_year].mean(axis=1)))


def test_no_input_reads_further_back_than_the_lookback(monkeypatch):
    """build_features drops history beyond G.LOOKBACK (serving cost); no feature may have needed it."""
    rng = np.random.default_rng(2)
    n, T = 20, 700
    y = rng.poisson(rng.gamma(1.0, 3.0, (n, 1)), (n, T)).astype(float)
    y[:4, 250:] = 0.0  # long runs without a sale: since_sale reaches its cap
    price = 1.0 + rng.random((n, T + 40))
    promo = (rng.random((n, T + 40)) < 0.1).astype(float)
    day_number = (16000 + np.arange(T + 40))[None, :]
    for t in (364, 366, 500, 700):
        d = rng.integers(1, 32, (n, 3))
        trimmed, s1 = G.build_features(y[:, :t], d, day_number, price, promo)
        monkeypatch.setattr(G, "LOOKBACK", 10 ** 9)
        whole, s2 = G.build_features(y[:, :t], d, day_number, price, promo)
        monkeypatch.undo()
        assert np.array_equal(s1, s2) and np.allclose(trimmed, whole, rtol=1e-6, atol=1e-6)


def test_days_matrix_rows_match_single_days():
    """A days matrix (training) and one d for every row (serving: the past sums sliced, the plans summed over the
    coming days only) give the same inputs, with a history shorter than the past-sum windows too."""
    rng = np.random.default_rng(1)
    y = rng.poisson(2.0, (3, 380)).astype(float)
    price = 1.0 + rng.random((3, 420))
    promo = (rng.random((3, 420)) < 0.2).astype(float)
    for t in (60, 380):
        X, _ = G.build_features(y[:, :t], np.tile([[1, 8, 31]], (3, 1)), None, price, promo)
        for j, d in enumerate((1, 8, 31)):
            Xd, _ = G.build_features(y[:, :t], d, None, price, promo)
            assert np.array_equal(X[j::3], Xd)


@pytest.mark.training  # scikit-learn is a training dependency (requirements-train.txt), not in the fast tier's venv
def test_tree_converter_matches_scikit_learn():
    import onnxruntime as ort
    from sklearn.ensemble import HistGradientBoostingRegressor

    from engine.forecast.tree_onnx import trees_to_onnx
    rng = np.random.default_rng(2)
    X = rng.normal(size=(3000, 6)).astype(np.float32)
    X[:, 2] = rng.integers(0, 4, 3000)  # ties on thresholds: the float32 rounding must keep sides
    y = X[:, 0] + X[:, 2] + rng.normal(size=3000)
    ms = [HistGradientBoostingRegressor(loss="quantile", quantile=q, max_iter=30).fit(X, y) for q in (0.5, 0.9)]
    sess = ort.InferenceSession(trees_to_onnx(ms, 6).SerializeToString(), providers=["CPUExecutionProvider"])
    got = sess.run(None, {"X": X})[0]
    assert np.max(np.abs(got - np.stack([m.predict(X) for m in ms], axis=1))) < 1e-4


def test_meta_weights_go_to_the_member_that_knows_and_a_shift_calibrates():
    rng = np.random.default_rng(3)
    y = rng.exponential(1.0, 3000)
    good = np.full((3000, 2), [np.log(2.0), np.log(10.0)]) - 0.3    # right shape, shifted
    bad = rng.normal(0, 3, (3000, 2))
    meta = fit_meta({"good": good, "bad": bad}, y, (0.5, 0.9))
    for q, v in meta.items():
        assert v["weights"]["good"] > 0.9
        comb = v["weights"]["good"] * good[:, 0 if q == "0.5" else 1] + v["weights"]["bad"] * \
            bad[:, 0 if q == "0.5" else 1] + v["shift"]
        assert abs(np.mean(y <= comb) - float(q)) < 0.02


@pytest.mark.slow
def test_serving_loads_neither_tensorflow_nor_scikit_learn(global_entry):
    code = ("import sys, numpy as np\nfrom engine import paths\n"
            f"paths.use_models_dir({str(global_entry['models'])!r})\n"
            "from engine.forecast.registry import get_forecaster\n"
            "f = get_forecaster('ensemble:tiny-global')\n"
            "print(f.predict_sum_quantiles(np.full((2, 100), 3.0), None, 8, (0.5, 0.9)).shape)\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'sklearn', 'scipy')]\n"
            "assert not bad, bad\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "(2, 2)"


@pytest.mark.slow
def test_true_label_names_members_and_weights(global_entry, served):
    from engine.forecast.model_names import true_label
    label = true_label("tiny-global", global_entry["card"])
    assert label.startswith("Global quantile trees 'tiny-global' — trees 1.000 at every level")


@pytest.mark.slow
def test_backtest_cli_scores_the_global_model(global_entry):
    r = subprocess.run([sys.executable, "-m", "engine", "backtest", "--data", str(global_entry["data"]),
                        "--models-dir", str(global_entry["models"]), "--holdout-days", "16", "--sum-days", "8",
                        "--quantiles", "0.5,0.9", "--models", "ensemble:tiny-global,ses", "--json"],
                       cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    o = json.loads(r.stdout)["models"]["ensemble:tiny-global"]["overall"]
    assert o["method"] == "model" and set(o["coverage"]) == {"0.5", "0.9"}


@pytest.mark.slow
def test_backtest_refuses_a_global_model_trained_on_the_held_out_days(global_entry):
    r = subprocess.run([sys.executable, "-m", "engine", "backtest", "--data", str(global_entry["data"]),
                        "--models-dir", str(global_entry["models"]), "--holdout-days", "24", "--quantiles", "0.5",
                        "--sum-days", "5", "--models", "ensemble:tiny-global"],
                       cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "overlaps the held-out days" in r.stderr


@pytest.mark.slow
def test_backtest_without_holdout_days_scores_a_global_model_on_the_days_it_never_read(global_entry):
    """Run as the issue words it, without --holdout-days: the default 73 days would reach into the model's
    training, so the run holds out the days its card left unread, says so, and scores it."""
    left = global_entry["card"]["training"]["holdout_days"]
    base = [sys.executable, "-m", "engine", "backtest", "--data", str(global_entry["data"]), "--models-dir",
            str(global_entry["models"]), "--sum-days", "8", "--quantiles", "0.5,0.9"]
    r = subprocess.run(base + ["--models", "ensemble:tiny-global,ses", "--json"], cwd=REPO, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["holdout_days"] == left < 73 and set(out["models"]) == {"ensemble:tiny-global", "ses"}
    assert f"the last {left} days: the ones ensemble:tiny-global never read" in out["holdout_note"]
    baselines = subprocess.run(base + ["--models", "ses", "--json"], cwd=REPO, capture_output=True, text=True,
                               timeout=120)
    assert json.loads(baselines.stdout)["holdout_days"] == 73 and "holdout_note" not in baselines.stdout


def _cut_copy(src, out, drop_days: int, add: float = 0.0):
    """The training file without its last `drop_days` dates (demand + `add`: another file of the same layout)."""
    import pandas as pd
    frame = pd.read_csv(src)
    dates = sorted(frame["date"].unique())
    frame = frame[frame["date"] <= dates[-drop_days - 1]].copy()
    frame["sales"] = frame["sales"] + add
    frame.to_csv(out, index=False)
    return out


@pytest.mark.slow
def test_a_cut_copy_of_the_training_file_does_not_score_the_model_on_days_it_saw(global_entry, tmp_path):
    """The copy has another SHA-256 but the same histories: its held-out days (the last 16 of 250) lie inside the
    model's training (up to day 244 of 260). Named in --models the model is refused; in the default list it is left
    out with the reason, and the baselines are scored. A file of the same keys and dates with other demand is
    scored, flagged as another file."""
    cut = _cut_copy(global_entry["data"], tmp_path / "cut.csv", 10)
    base = [sys.executable, "-m", "engine", "backtest", "--data", str(cut), "--models-dir",
            str(global_entry["models"]), "--holdout-days", "16", "--sum-days", "8", "--quantiles", "0.5,0.9"]
    named = subprocess.run(base + ["--models", "ensemble:tiny-global,ses"], cwd=REPO, capture_output=True,
                           text=True, timeout=120)
    assert named.returncode == 2 and "holds the same history of" in named.stderr, named.stderr
    default = subprocess.run(base + ["--json"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert default.returncode == 0, default.stderr
    out = json.loads(default.stdout)
    assert "ensemble:tiny-global" not in out["models"] and "ses" in out["models"]
    assert "inside the held-out days" in out["skipped"]["ensemble:tiny-global"]
    other = _cut_copy(global_entry["data"], tmp_path / "other.csv", 10, add=1.0)
    r = subprocess.run(base[:5] + [str(other)] + base[6:] + ["--models", "ensemble:tiny-global", "--json"],
                       cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["models"]["ensemble:tiny-global"]["note"].startswith("trained on another file")


@pytest.mark.slow
def test_train_global_refuses_an_unknown_network(global_entry, tmp_path):
    r = subprocess.run([sys.executable, "-m", "engine", "train", "--global", "--data", str(global_entry["data"]),
                        "--networks", "transformer", "--out", str(tmp_path / "x")],
                       cwd=REPO, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "unknown member 'transformer'" in r.stderr


@pytest.mark.slow
@pytest.mark.training
def test_a_network_member_is_named_with_its_weight_and_shipped_only_with_weight(tmp_path):
    """With --networks mlp the card lists the MLP with its meta weight per level; its graph is exported (and served
    through the card's standardisation, agreeing with Keras) only when some level gives it weight."""
    pytest.importorskip("tensorflow")
    from engine.forecast.global_commands import train_global_model
    from engine.forecast.global_model import GlobalQuantileModel
    data = tmp_path / "retail.csv"
    write_retail_csv(data, n_items=4, days=240, seed=5)
    cfg = GlobalConfig(**SMALL, networks=("mlp",), network_rows=3000, network_epochs=2)
    card = train_global_model(data, tmp_path / "m" / "g", cfg=cfg, log=lambda m: None, backtest_models=())
    mlp = next(m for m in card["members"] if m["name"] == "mlp")
    assert set(mlp["weights"]) == set(card["meta"])
    shipped = any(w > 0 for w in mlp["weights"].values())
    assert (tmp_path / "m" / "g" / "mlp.onnx").exists() == shipped == (mlp["onnx"] is not None)
    if shipped:
        assert card["onnx_check"]["mlp"] < 1e-4
    model = GlobalQuantileModel.load(tmp_path / "m" / "g")
    q = model.predict_sum_quantiles(np.full((2, 120), 2.0), None, 8, (0.5, 0.9))
    assert q.shape == (2, 2) and np.all(np.diff(q, axis=1) >= 0)


@pytest.mark.slow
def test_policy_backtest_orders_up_to_the_global_models_calibrated_quantile(global_entry):
    """The model saw all but the last 16 days: origin 8 days before the end, calibrated on the 8 days before it."""
    base = [sys.executable, "-m", "engine", "backtest-policy", "--data", str(global_entry["data"]), "--models-dir",
            str(global_entry["models"]), "--forecaster", "ensemble:tiny-global", "--lead-time", "3"]
    r = subprocess.run(base + ["--holdout-days", "8", "--json"], cwd=REPO, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    levels = {rec["quantile_level"] for rec in out["records"]}
    assert len(levels) == 1 and 0.5 <= levels.pop() <= 0.99
    assert {rec["forecaster"] for rec in out["records"]} == {"ensemble:tiny-global"}
    assert out["totals"]["realised_fill_rate"] is not None
    r = subprocess.run(base + ["--holdout-days", "10"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "--holdout-days 20" in r.stderr and "Traceback" not in r.stderr
    assert "check it with --holdout-days 8 or fewer" in r.stderr   # the longest that fits the unseen days


@pytest.mark.slow
def test_an_entry_with_the_mean_as_the_trees_last_column_serves_the_same(global_entry, tmp_path):
    """Entries exported before the mean model got its own graph hold it as the trees graph's last column."""
    import shutil

    import onnx
    from onnx import TensorProto, helper

    from engine.forecast.global_model import GlobalQuantileModel
    src = global_entry["models"] / "tiny-global"
    old = tmp_path / "old-global"
    shutil.copytree(src, old)
    quant, mean = onnx.load(src / "model.onnx"), onnx.load(src / "mean.onnx")
    k = len(global_entry["card"]["quantiles"])
    quant.graph.node[0].output[0], mean.graph.node[0].output[0] = "Yq", "Ym"
    graph = helper.make_graph(
        [quant.graph.node[0], mean.graph.node[0], helper.make_node("Concat", ["Yq", "Ym"], ["Y"], axis=1)], "old",
        list(quant.graph.input), [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", k + 1])])
    combined = helper.make_model(graph, opset_imports=list(quant.opset_import))
    combined.ir_version = quant.ir_version
    onnx.save(combined, old / "model.onnx")
    (old / "mean.onnx").unlink()
    card = json.loads((old / "card.json").read_text())
    del card["members"][0]["mean_onnx"]
    (old / "card.json").write_text(json.dumps(card))
    new_model, old_model = GlobalQuantileModel.load(src), GlobalQuantileModel.load(old)
    D = np.abs(np.random.default_rng(3).normal(4.0, 2.0, size=(3, 150))).round()
    assert np.allclose(old_model.predict(D), new_model.predict(D))
    assert np.allclose(old_model.predict_sum_quantiles(D, None, 8, (0.5, 0.9)),
                       new_model.predict_sum_quantiles(D, None, 8, (0.5, 0.9)))


@pytest.mark.slow
def test_notes_in_the_entry_folder_survive_retraining_and_close_the_card(global_entry, tmp_path):
    from engine.forecast.global_commands import train_global_model
    out = tmp_path / "models" / "noted"
    out.mkdir(parents=True)
    (out / "NOTES.md").write_text("Measured elsewhere: 0.123 at cut 28.\n")
    train_global_model(global_entry["data"], out, cfg=GlobalConfig(**SMALL), log=lambda m: None, backtest_models=())
    card_md = (out / "CARD.md").read_text()
    assert card_md.startswith("# Model card") and card_md.endswith("Measured elsewhere: 0.123 at cut 28.\n")
    assert (out / "NOTES.md").read_text() == "Measured elsewhere: 0.123 at cut 28.\n"


@pytest.mark.slow
def test_train_global_refuses_zero_threads(global_entry, tmp_path):
    r = subprocess.run([sys.executable, "-m", "engine", "train", "--global", "--data", str(global_entry["data"]),
                        "--threads", "0", "--out", str(tmp_path / "x")],
                       cwd=REPO, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--threads must be at least 1" in r.stderr and "Traceback" not in r.stderr



@pytest.mark.slow
def test_the_mean_model_alone_learns_on_rows_weighted_by_the_scale_squared():
    """The quantile trees keep the scaled pinball loss (unweighted rows); the mean model's rows are weighted by s², so
    its squared error is the error in units. Rows where a fast mover's scaled target rises with an input and the slow
    movers' falls, with a tree budget for one slope: the mean model follows the fast mover, and its units error is
    below that of the same trees fitted unweighted."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    from engine.forecast.global_train import _fit_trees, _units_weight

    rng = np.random.default_rng(3)
    n = 4000
    X = np.zeros((n, len(G.FEATURES)), dtype=np.float32)
    fast = rng.random(n) < 0.1                               # 10 % of rows: a series of scale 50, the rest 0.5
    s = np.where(fast, 50.0, 0.5)
    X[:, G.FEATURES.index("log_scale")] = np.log(s)
    u = rng.random(n).astype(np.float32)
    X[:, G.FEATURES.index("mean_7")] = u
    y = np.where(fast, 2.0 * u, 1.0 - u) + rng.normal(0, 0.05, n)
    w = _units_weight(X)
    assert np.isclose(w.mean(), 1.0) and np.allclose(w[fast] / w[~fast][0], 1e4, rtol=1e-4)

    params = dict(max_iter=30, max_leaf_nodes=2, min_samples_leaf=20)
    q50, mean = _fit_trees(X, y, GlobalConfig(quantiles=(0.5,), threads=1, **params), log=lambda m: None)
    same = dict(learning_rate=0.05, early_stopping=False, random_state=1, max_iter=30, max_leaf_nodes=2,
                min_samples_leaf=20)
    plain_mean = HistGradientBoostingRegressor(loss="squared_error", **same).fit(X, y)
    plain_q50 = HistGradientBoostingRegressor(loss="quantile", quantile=0.5, **same).fit(X, y)

    def units_mse(model):
        return float(np.mean((s * (model.predict(X) - y)) ** 2))
    assert units_mse(mean) < 0.5 * units_mse(plain_mean)
    assert np.array_equal(q50.predict(X), plain_q50.predict(X))   # the quantile trees: unweighted, as before
