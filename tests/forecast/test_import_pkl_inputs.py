"""`import-pkl` with bad inputs: one `error:` line naming --out, the model file or the context file (row and column
where known), exit code 2, no traceback and no output folder; the cheap checks run before TensorFlow is loaded."""
from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from engine.forecast import legacy
from engine.forecast.onnx_model import ModelError
from tests.conftest import REPO

COLUMNS = ["Units_Sold", "Inventory_Level", "Order_Quantity", "Unit_Cost", "Unit_Price", "Demand_Forecast"]
HEADER = ",".join(COLUMNS) + "\n"
ROW = "24.0,704.0,0.0,13.95,20.48,30.09\n"

# The CLI with TensorFlow and Keras unimportable: a refusal printed here was decided before any TensorFlow work
# (otherwise the message would be the "needs the training packages" one).
WITHOUT_TENSORFLOW = ("import sys; sys.modules['tensorflow'] = sys.modules['keras'] = None; "
                      "from engine.cli.main import main; sys.exit(main(sys.argv[1:]))")


def run_without_tensorflow(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", WITHOUT_TENSORFLOW, "import-pkl", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    (line,) = stderr.strip().splitlines()
    assert line.startswith("error: ")
    return line


def write(path, text: str):
    path.write_text(text)
    return path


@pytest.fixture
def pkl(tmp_path):
    """A stand-in pickle path (never unpickled: every case here is refused before)."""
    return write(tmp_path / "model.pkl", "not read")


@pytest.mark.parametrize("text, why", [("", "is empty (no header, no rows)"),
                                       ("\n \n", "is empty (no header, no rows)"),
                                       (HEADER, "has a header but no data rows")])
def test_empty_context_is_refused_naming_the_context_file(tmp_path, pkl, text, why):
    ctx = write(tmp_path / "empty.csv", text)
    r = run_without_tensorflow(str(pkl), "--out", str(tmp_path / "o"), "--context", str(ctx))
    assert r.returncode == 2
    assert one_error_line(r.stderr) == f"error: context file {ctx}: {why}"
    assert not (tmp_path / "o").exists()


def test_out_that_is_a_file_is_refused_before_any_work(tmp_path, pkl):
    out = write(tmp_path / "existing", "keep me")
    r = run_without_tensorflow(str(pkl), "--out", str(out))
    assert r.returncode == 2
    assert one_error_line(r.stderr).startswith(f"error: --out {out}: is a file, not a folder")
    assert out.read_text() == "keep me"
    r = run_without_tensorflow(str(pkl), "--out", str(out / "sub"))
    assert r.returncode == 2
    assert one_error_line(r.stderr) == f"error: --out {out / 'sub'}: {out} is a file, not a folder"


def test_pickle_path_that_is_a_folder_says_folder(tmp_path):
    folder = tmp_path / "v"
    folder.mkdir()
    r = run_without_tensorflow(str(folder), "--out", str(tmp_path / "o"))
    assert r.returncode == 2
    line = one_error_line(r.stderr)
    assert line.startswith(f"error: model file {folder}: is a folder, not a file")
    assert "does not exist" not in line
    r = run_without_tensorflow(str(tmp_path / "nope.pkl"), "--out", str(tmp_path / "o"))
    assert one_error_line(r.stderr) == f"error: model file {tmp_path / 'nope.pkl'}: does not exist"
    assert not (tmp_path / "o").exists()


def test_missing_or_folder_context_names_the_context_file(tmp_path, pkl):
    r = run_without_tensorflow(str(pkl), "--out", str(tmp_path / "o"), "--context", str(tmp_path / "nope.csv"))
    assert r.returncode == 2
    assert one_error_line(r.stderr) == f"error: context file {tmp_path / 'nope.csv'}: does not exist"
    r = run_without_tensorflow(str(pkl), "--out", str(tmp_path / "o"), "--context", str(tmp_path))
    assert one_error_line(r.stderr) == f"error: context file {tmp_path}: is a folder, not a CSV file"
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("text, where, why", [
    (HEADER + ROW + "1,2,3\n", "row 3", "has 3 fields, the header has 6"),
    (b"Units_Sold\n\xff\xfe1\n", "row 2", "is not UTF-8 text (byte 0xff at offset 11); save it as UTF-8 CSV"),
    ("Units_Sold\x00\n1\n".encode(), "row 1", "is a binary file, not a CSV text file (NUL byte at offset 10)"),
])
def test_unreadable_context_text(tmp_path, text, where, why):
    ctx = tmp_path / "c.csv"
    ctx.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(legacy.ContextError) as err:
        legacy.read_context_table(ctx)
    assert str(err.value) == f"context file {ctx}{', ' + where if where else ''}: {why}"


@pytest.mark.parametrize("cell, why", [("abc", "'abc' is not a number"),
                                       ("", "is empty; the model reads a number here"),
                                       ("inf", "'inf' is not a finite number"),
                                       ("nan", "'nan' is not a finite number")])
def test_context_cells_must_be_finite_numbers(tmp_path, cell, why):
    ctx = write(tmp_path / "c.csv", HEADER + ROW + ROW.replace("13.95", cell))
    with pytest.raises(legacy.ContextError) as err:
        legacy.read_context(ctx, COLUMNS)
    assert str(err.value) == f"context file {ctx}, row 3, column Unit_Cost: {why}"


@pytest.mark.parametrize("sep", [";", "\t"])
def test_a_context_separated_like_a_sales_file_reads_the_same(tmp_path, sep):
    """The sales loader's separators and decimal commas (engine.data.layout.read_header): the context reader split
    on commas only and said a semicolon file "lacks the columns" it has."""
    comma = write(tmp_path / "comma.csv", HEADER + ROW * 3)
    other = write(tmp_path / "other.csv", (HEADER + ROW * 3).replace(",", sep).replace(".", ","))
    assert legacy.read_context(other, COLUMNS).tolist() == legacy.read_context(comma, COLUMNS).tolist()


def test_context_in_another_layout_or_too_short(tmp_path):
    m5 = write(tmp_path / "m5_60.csv", "date,item_id,store_id,sales,sell_price\n2016-01-01,A,CA_1,3,2.5\n")
    with pytest.raises(ModelError) as err:
        legacy.read_context(m5, COLUMNS)
    msg = str(err.value)
    assert msg.startswith(f"context file {m5}, row 1: lacks the columns {COLUMNS}")
    assert "found: date, item_id, store_id, sales, sell_price" in msg and "model file" not in msg
    short = write(tmp_path / "short.csv", HEADER + ROW * 5)
    with pytest.raises(legacy.ContextError, match="has 5 data rows; the model reads the last 30"):
        legacy.read_context(short, COLUMNS, min_rows=30)
    assert legacy.read_context(short, list(reversed(COLUMNS)), min_rows=5)[0].tolist() == [
        30.09, 20.48, 13.95, 0.0, 704.0, 24.0]  # model column order, blank lines skipped, extra columns ignored


def test_out_dir_problem(tmp_path):
    from engine.forecast.export import out_dir_problem
    assert out_dir_problem(tmp_path) is None
    assert out_dir_problem(tmp_path / "a" / "b") is None  # parents created, as `engine train --out` does
    (tmp_path / "link").symlink_to(tmp_path / "gone")
    assert out_dir_problem(tmp_path / "link") == "is a broken symbolic link"
    entry = tmp_path / "entry"
    entry.mkdir()
    (entry / "NOTES.md").write_text("kept notes")
    assert out_dir_problem(entry, replace=False) is None  # a folder without a model may be written into
    (entry / "card.json").write_text("{}")
    assert out_dir_problem(entry, replace=False) == "already holds a model (card.json); add --replace to replace it"
    assert out_dir_problem(entry, replace=True) is None
    with pytest.raises(ModelError, match=r"^output folder .*f: is a file, not a folder"):
        legacy.import_pickle(tmp_path / "x.pkl", write(tmp_path / "f", ""))  # the Python API refuses it too


def test_quiet_tensorflow_warnings_keeps_errors_and_restores_the_level(caplog):
    logger = logging.getLogger("tensorflow")
    before = logger.level
    with caplog.at_level(logging.DEBUG, logger="tensorflow"):
        with legacy.quiet_tensorflow_warnings():
            logger.warning("5 out of the last 7 calls triggered tf.function retracing")
            logger.error("a real failure")
        assert logger.level == logging.DEBUG  # the level set before the block, restored
        logger.warning("after the conversion")
    assert [r.getMessage() for r in caplog.records] == ["a real failure", "after the conversion"]
    assert logger.level == before


@pytest.mark.training  # unpickles the original's pickle through Keras
@pytest.mark.parametrize("name, text, where, why", [
    ("m5_60.csv", "date,item_id,store_id,sales,sell_price\n2016-01-01,A,CA_1,3,2.5\n", ", row 1",
     ": lacks the columns"),
    ("nonnum.csv", HEADER + ROW * 29 + ROW.replace("704.0", "lots"), ", row 31, column Inventory_Level",
     ": 'lots' is not a number"),
    ("short.csv", HEADER + ROW * 5, "", ": has 5 data rows; the model reads the last 30"),
])
def test_cli_refuses_context_that_does_not_fit_the_model(tmp_path, capsys, seed_pickle, name, text, where, why):
    from engine.cli.main import main
    ctx = write(tmp_path / name, text)
    assert main(["import-pkl", str(seed_pickle), "--out", str(tmp_path / "o"), "--context", str(ctx)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert line.startswith(f"error: context file {ctx}{where}{why}")
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
@pytest.mark.training
def test_successful_import_prints_no_tensorflow_warnings(tmp_path, seed_pickle, seed_context):
    """A run into a folder whose parents do not exist yet: created; stderr holds the agreement line only."""
    out = tmp_path / "new" / "original"
    r = subprocess.run([sys.executable, "-m", "engine", "import-pkl", str(seed_pickle), "--out", str(out),
                        "--context", str(seed_context)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "WARNING:tensorflow" not in r.stderr and "retracing" not in r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith("ONNX agrees with Keras within ") and line.endswith(" on 65 windows")
    assert (out / "model.onnx").is_file() and (out / "card.json").is_file()
