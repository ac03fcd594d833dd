"""True names: a trained entry is labelled by what its card's weights make it (issue 20, item 5)."""
from __future__ import annotations

import json

from engine.forecast.model_names import label_for_folder, true_label
from engine.forecast.registry import list_forecasters
from tests.conftest import REPO


def _card(name):
    return json.loads((REPO / "models" / name / "card.json").read_text())


def test_an_ensemble_with_all_weight_on_fourier_is_named_the_fourier_regression():
    label = true_label("past-only", _card("past-only"))
    assert label == "Fourier regression (yearly sine/cosine + level) — ensemble 'past-only', networks weight 0"


def test_a_mixed_ensemble_names_its_weighted_inputs_and_its_zero_weight_networks():
    card = {"kind": "ensemble", "meta": {"inputs": ["mlp", "lstm", "cnn", "seasonal", "planning"],
                                         "weights": [0.0, 0.1, 0.0, 0.4, 0.5], "bias": 0.0, "fit": "stack"}}
    label = true_label("x", card)
    assert label.startswith("Ensemble 'x': planning 50%, seasonal 40%, LSTM 10%")
    assert "MLP, 1-D CNN weight 0" in label


def test_per_horizon_stacks_average_their_weights():
    card = {"kind": "ensemble", "meta": {"inputs": ["mlp", "seasonal"], "per_horizon": True,
                                         "weights": [[1.0, 0.0], [0.0, 1.0]], "bias": [0, 0]}}
    assert true_label("y", card).startswith("Ensemble 'y': MLP 50%, seasonal 50%")


def test_engine_forecasters_lists_true_labels_and_the_card_says_the_same():
    labels = {f["name"]: f["label"] for f in list_forecasters()}
    assert labels["ensemble:past-only"].startswith("Fourier regression")
    assert "MLP + LSTM" not in labels["ensemble:past-only"]
    md = (REPO / "models" / "past-only" / "CARD.md").read_text().splitlines()[0]
    assert md == "# Model card: " + labels["ensemble:past-only"]


def test_an_unreadable_card_gets_a_generic_label(tmp_path):
    (tmp_path / "card.json").write_text("{not json")
    assert label_for_folder(str(tmp_path), "broken") == "Ensemble model 'broken' (ONNX)"
