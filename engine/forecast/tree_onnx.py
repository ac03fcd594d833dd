"""scikit-learn HistGradientBoostingRegressor models → one ONNX TreeEnsembleRegressor node (ai.onnx.ml), so the
served model runs in onnxruntime without scikit-learn.

Why our own converter: skl2onnx 1.20 fails on this project's numpy/onnx versions (it passes numpy booleans where
onnx.helper wants ints), and the mapping is short. Each model becomes one output column (target id): its trees'
leaves add their values to that column and its baseline is the column's base value, as HistGradientBoosting
predicts (baseline + Σ leaf values; scikit-learn's _predictors / TreePredictor.nodes). A split sends x to the left
child when x ≤ threshold; thresholds are rounded down to float32 (the graph compares float32 inputs), which keeps
every float32 input on the side scikit-learn sends it. NaN inputs are not supported (the features never hold one), so
no node tracks missing values: onnxruntime then takes its faster path (measured: ~7 % of the trees' serving time).
Training only: imports onnx, never onnxruntime or scikit-learn at serve time.
"""
from __future__ import annotations

import numpy as np

__all__ = ["trees_to_onnx"]


def _down_to_float32(x: float) -> float:
    f = np.float32(x)
    if float(f) > x:
        f = np.nextafter(f, np.float32(-np.inf))
    return float(f)


def trees_to_onnx(models, n_features: int, input_name: str = "X", output_name: str = "Y"):
    """One ONNX model: input (N, n_features) float32 → output (N, len(models)) float32, column k = models[k]."""
    from onnx import TensorProto, helper

    attrs = {k: [] for k in ("nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_values", "nodes_modes",
                             "nodes_truenodeids", "nodes_falsenodeids", "nodes_missing_value_tracks_true",
                             "target_treeids", "target_nodeids", "target_ids", "target_weights")}
    base = []
    tree_id = 0
    for k, m in enumerate(models):
        if getattr(m, "n_trees_per_iteration_", 1) != 1:
            raise ValueError("only single-output regressors convert")
        base.append(float(np.ravel(m._baseline_prediction)[0]))
        for iteration in m._predictors:
            nodes = iteration[0].nodes
            if np.any(nodes["is_categorical"]):
                raise ValueError("categorical splits are not supported")
            for i, nd in enumerate(nodes):
                attrs["nodes_treeids"].append(tree_id)
                attrs["nodes_nodeids"].append(i)
                if nd["is_leaf"]:
                    attrs["nodes_featureids"].append(0)
                    attrs["nodes_values"].append(0.0)
                    attrs["nodes_modes"].append("LEAF")
                    attrs["nodes_truenodeids"].append(0)
                    attrs["nodes_falsenodeids"].append(0)
                    attrs["nodes_missing_value_tracks_true"].append(0)
                    attrs["target_treeids"].append(tree_id)
                    attrs["target_nodeids"].append(i)
                    attrs["target_ids"].append(k)
                    attrs["target_weights"].append(float(nd["value"]))
                else:
                    attrs["nodes_featureids"].append(int(nd["feature_idx"]))
                    attrs["nodes_values"].append(_down_to_float32(float(nd["num_threshold"])))
                    attrs["nodes_modes"].append("BRANCH_LEQ")
                    attrs["nodes_truenodeids"].append(int(nd["left"]))
                    attrs["nodes_falsenodeids"].append(int(nd["right"]))
                    attrs["nodes_missing_value_tracks_true"].append(0)
            tree_id += 1
    node = helper.make_node("TreeEnsembleRegressor", [input_name], [output_name], domain="ai.onnx.ml",
                            n_targets=len(models), aggregate_function="SUM", post_transform="NONE",
                            base_values=base, **attrs)
    graph = helper.make_graph(
        [node], "global_quantile_trees",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["N", n_features])],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, ["N", len(models)])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)],
                              producer_name="engine.forecast.tree_onnx")
    model.ir_version = 8
    return model
