"""An ensemble whose convex meta-learner put all its weight on one of the engine's own inputs is served as that
input in float64: the same forecast as its graph to float32 precision, and the baseline's forecast exactly."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from engine.data.dataset import days_of_year, load_csv
from engine.forecast import features as F
from engine.forecast.base import Covariates
from engine.forecast.baselines import FourierRegression
from engine.forecast.model_names import sole_meta_input
from engine.forecast.onnx_model import OnnxEnsemble
from tests.conftest import REPO

MODELS = REPO / "models"


def card(weights, inputs=("mlp", "lstm", "cnn", "fourier"), fit="convex", bias=0.0, per_horizon=False):
    return {"extra_inputs": list(inputs[3:]),
            "meta": {"fit": fit, "inputs": list(inputs), "weights": list(weights), "bias": bias,
                     "per_horizon": per_horizon}}


def test_only_a_convex_one_hot_weight_on_an_engine_input_is_a_sole_input():
    assert sole_meta_input(card([0, 0, 0, 1.0])) == "fourier"
    assert sole_meta_input(card([0, 0, 0, 1.0, 0], ("mlp", "lstm", "cnn", "seasonal", "planning"))) == "seasonal"
    assert sole_meta_input(card([0, 0, 0.5, 0.5])) is None          # a real combination
    assert sole_meta_input(card([1.0, 0, 0, 0])) is None            # a network: the graph must run
    assert sole_meta_input(card([0, 0, 0, 1.0], bias=0.1)) is None
    assert sole_meta_input(card([0, 0, 0, 1.0], fit="stack")) is None
    assert sole_meta_input(card([0, 0, 0, 1.0], per_horizon=True)) is None
    assert sole_meta_input(card([0, 0, 1.0])) is None               # weights and inputs disagree
    assert sole_meta_input({"meta": {}}) is None and sole_meta_input({}) is None


@pytest.fixture(scope="module")
def history():
    s = load_csv(REPO / "data" / "sample.csv").get(None)
    doy = days_of_year(s.dates)[None, :]
    return s.demand[None, :], doy


def test_the_bundled_past_only_model_is_the_fourier_regression_and_agrees_with_its_graph(history):
    demand, doy = history
    model = OnnxEnsemble.load(MODELS / "past-only")
    assert model._sole_input == "fourier"
    base = FourierRegression()
    for t in (200, 400, 600):
        extra = doy[:, :t + model.horizon]
        cov = Covariates(day_of_year=extra)
        got = model.predict(demand[:, :t], cov)
        want = base.predict(demand[:, :t], cov)
        inp = F.build_inputs(demand[:, :t], window=model.window, horizon=model.horizon,
                             extra_inputs=model.extra_inputs, day_of_year=extra)
        lo, hi = F.SEASON_CLIP[0] * inp.level[0], F.SEASON_CLIP[1] * inp.level[0]
        inside = (want[0] > lo) & (want[0] < hi)
        assert inside.any() and np.array_equal(got[0, inside], want[0, inside])     # bit for bit
        graph = model._sess.run([model._output], inp.feeds())[0] * inp.level[:, None]
        np.testing.assert_allclose(got, np.maximum(graph, 0.0), rtol=1e-6)


def test_a_card_whose_weights_are_not_its_graphs_leaves_the_graph_serving(tmp_path):
    folder = tmp_path / "relabelled"
    shutil.copytree(MODELS / "default", folder)
    c = json.loads((folder / "card.json").read_text())
    assert c["meta"]["inputs"][3] == "seasonal"
    c["meta"].update(fit="convex", weights=[0.0, 0.0, 0.0, 1.0, 0.0], bias=0.0, per_horizon=False)
    (folder / "card.json").write_text(json.dumps(c))
    assert sole_meta_input(c) == "seasonal"
    model = OnnxEnsemble.load(folder)
    assert model._sole_input is None                # the graph combines its inputs otherwise: it serves
