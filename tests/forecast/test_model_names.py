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


def _global_card(losses: dict, series: int = 5) -> dict:
    return {"kind": "global", "name": "g", "members": [{"name": "trees", "weights": {"0.5": 1.0, "0.9": 1.0}}],
            "training": {"series": [f"s{i}" for i in range(series)], "data_file": "f.csv"},
            "backtest": {"models": {k: {"overall": {"scaled_pinball": x}} for k, x in losses.items()}}}


def test_a_global_model_that_loses_to_a_per_series_forecaster_on_its_held_out_days_says_which_is_better():
    from engine.forecast.model_names import holdout_verdict
    card = _global_card({"ensemble:g": 0.30, "fourier": 0.06, "ses": 0.09})
    v = holdout_verdict(card)
    assert v["best_baseline"] == "fourier" and abs(v["ratio"] - 5.0) < 1e-12 and v["series"] == 5
    label = true_label("g", card)
    assert label.startswith("Global quantile trees 'g' — trees 1.000 at every level (ONNX); "
                            "held-out loss on f.csv 5.00 ×")
    assert label.endswith("fourier forecasts that file better")


def test_a_global_model_that_wins_carries_its_ratio_and_no_advice():
    card = _global_card({"ensemble:g": 0.14, "tsb": 0.16, "ses": 0.175})
    label = true_label("g", card)
    assert label.endswith("held-out loss on f.csv 0.88 × the best per-series forecaster's (tsb)")
    assert "better" not in label


def test_without_a_scored_backtest_the_global_label_claims_nothing():
    from engine.forecast.model_names import holdout_verdict
    for card in (_global_card({}), _global_card({"ensemble:g": 0.1}), {"kind": "global", "name": "g"},
                 _global_card({"ensemble:g": float("nan"), "ses": 0.1})):
        assert holdout_verdict(card) is None
        assert "held-out" not in true_label("g", card)
