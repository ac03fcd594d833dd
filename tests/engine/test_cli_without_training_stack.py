"""Without requirements-train.txt (the serving set-up of scripts/run.sh) the training commands say what to install."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Runs the CLI with TensorFlow and Keras made unimportable, as in a .venv holding only requirements.txt.
WITHOUT_TENSORFLOW = ("import sys; sys.modules['tensorflow'] = sys.modules['keras'] = None; "
                      "from engine.cli.main import main; sys.exit(main(sys.argv[1:]))")


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", WITHOUT_TENSORFLOW, *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


def test_train_without_tensorflow_names_the_requirements_file(tmp_path):
    r = run_cli("train", "--data", str(REPO / "data" / "sample.csv"), "--out", str(tmp_path / "m"), "--epochs", "1")
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert line in (f"error: this command needs the training packages ({module} is not installed): "
                    "pip install -r requirements-train.txt" for module in ("tensorflow", "keras"))


def test_import_pkl_without_keras_names_the_requirements_file(tmp_path):
    pkl = tmp_path / "model.pkl"
    pkl.write_bytes(b"garbage")
    r = run_cli("import-pkl", str(pkl), "--out", str(tmp_path / "o"))
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and "requirements-train.txt" in r.stderr
    assert not (tmp_path / "o").exists()


def test_train_and_import_refuse_an_existing_model_entry_before_any_work(tmp_path):
    entry = tmp_path / "entry"
    entry.mkdir()
    (entry / "card.json").write_text('{"kept": true}')
    pkl = tmp_path / "model.pkl"
    pkl.write_bytes(b"garbage")
    for args in (["train", "--data", str(REPO / "data" / "sample.csv"), "--epochs", "1"],
                 ["train", "--data", str(REPO / "data" / "sample.csv"), "--global"],
                 ["import-pkl", str(pkl)]):
        r = run_cli(*args, "--out", str(entry))
        assert r.returncode == 2, r.stderr
        assert r.stderr.strip() == (f"error: --out {entry}: already holds a model (card.json); add --replace to "
                                    "replace it")
    assert (entry / "card.json").read_text() == '{"kept": true}'
    (tmp_path / "file").write_text("x")
    r = run_cli("train", "--data", str(REPO / "data" / "sample.csv"), "--out", str(tmp_path / "file"))
    assert r.returncode == 2 and "is a file, not a folder" in r.stderr and "Traceback" not in r.stderr
    # with --replace the entry is accepted: the command goes on to the work (here: TensorFlow is missing)
    r = run_cli("train", "--data", str(REPO / "data" / "sample.csv"), "--epochs", "1", "--out", str(entry),
                "--replace")
    assert r.returncode == 2 and "requirements-train.txt" in r.stderr
