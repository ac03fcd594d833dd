"""A model entry written over another (--replace) keeps only the graphs its new card names."""
from __future__ import annotations

from engine.forecast import export as E


class _Graph:
    def SerializeToString(self) -> bytes:  # noqa: N802 - the ModelProto method write_entry calls
        return b"graph"


def _names(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_an_entry_written_over_another_keeps_only_the_graphs_its_card_names(tmp_path):
    out = tmp_path / "entry"
    out.mkdir()
    for name in ("lstm.onnx", "mean.onnx", "NOTES.md"):
        (out / name).write_bytes(b"old")
    E.write_entry(out, _Graph(), {"kind": "global", "members": [
        {"name": "trees", "onnx": "model.onnx", "mean_onnx": "mean.onnx"}, {"name": "mlp", "onnx": None}]})
    assert _names(out) == ["NOTES.md", "card.json", "mean.onnx", "model.onnx"]  # the LSTM it no longer ships: gone
    assert (out / "mean.onnx").read_bytes() == b"old"  # named by the card: kept (the trainer writes it first)
    E.write_entry(out, _Graph(), {"kind": "ensemble"})  # a per-layout ensemble over the global entry
    assert _names(out) == ["NOTES.md", "card.json", "model.onnx"]
    assert E.drop_unreferenced_graphs(out, {"onnx": "model.onnx"}) == []
