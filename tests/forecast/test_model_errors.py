"""A corrupt or missing model file gives a ModelError naming the file — never a crash or a traceback."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from engine.forecast.onnx_model import ModelError, OnnxEnsemble
from tests.conftest import REPO


@pytest.fixture
def entry(tmp_path, tiny_model):
    dst = tmp_path / "m"
    shutil.copytree(tiny_model, dst)
    return dst


def test_missing_folder_and_card(tmp_path):
    with pytest.raises(ModelError, match=r"card\.json: is missing"):
        OnnxEnsemble.load(tmp_path / "absent")
    assert isinstance(ModelError("x"), ValueError)


def test_missing_onnx_file(entry):
    (entry / "model.onnx").unlink()
    with pytest.raises(ModelError, match=r"model\.onnx: is missing") as exc:
        OnnxEnsemble.load(entry)
    assert exc.value.file.endswith("model.onnx")


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupt_onnx_file(entry, damage):
    path = entry / "model.onnx"
    data = path.read_bytes()
    path.write_bytes({"truncate": data[: len(data) // 3], "garbage": b"\x00\xffnot onnx" * 100,
                      "empty": b""}[damage])
    with pytest.raises(ModelError, match=r"model\.onnx: is not a valid ONNX model"):
        OnnxEnsemble.load(entry)


@pytest.mark.parametrize("text,match", [
    ("{not json", "is not valid JSON"),
    ("[1, 2]", "must hold a JSON object"),
    (json.dumps({"format": "other"}), "is not a model card"),
    (json.dumps({"format": "sim-forecast-card", "version": 9}), "has unsupported card version"),
    (json.dumps({"format": "sim-forecast-card", "version": 1, "kind": "magic"}), "has unknown kind"),
])
def test_corrupt_card(entry, text, match):
    (entry / "card.json").write_text(text)
    with pytest.raises(ModelError, match=r"card\.json: " + match):
        OnnxEnsemble.load(entry)


def test_card_that_does_not_match_the_graph(entry):
    card = json.loads((entry / "card.json").read_text())
    card["use_covariates"] = False  # the graph expects 3 channels
    (entry / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="card.json: the meta-learner input 'planning' needs a model with covar"):
        OnnxEnsemble.load(entry)  # the card contradicts itself: refused before the graph runs
    card["extra_inputs"] = ["seasonal"]
    (entry / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="does not run with the card's settings"):
        OnnxEnsemble.load(entry)
    card["onnx"] = "../../etc/passwd"
    (entry / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="invalid ONNX file"):
        OnnxEnsemble.load(entry)


@pytest.mark.training  # unpickling needs Keras
def test_cli_reports_a_bad_pickle_without_a_traceback(tmp_path):
    bad = tmp_path / "broken.pkl"
    bad.write_bytes(b"garbage")
    r = subprocess.run([sys.executable, "-m", "engine", "import-pkl", str(bad), "--out", str(tmp_path / "o")],
                       cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 2
    assert "broken.pkl" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "o").exists()
