"""Forecasting benchmarks: training time, onnxruntime vs Keras latency on the same model (one run), serving RSS.

    python -m bench.bench_forecast [--quick]

- train_seconds: fitting the ensemble (with covariates) on data/sample.csv (5 series, 1,825 rows) on this machine
  (TensorFlow limited to 2 threads); quick mode trains 3 epochs only (not a training-time figure).
- Latency, same model measured in one run: our ensemble (the Keras model just trained, and its ONNX export served by
  OnnxEnsemble.predict, features included, timed in a fresh process that never imports TensorFlow — as the web app
  and the simulator serve it; TensorFlow's idle thread pools in this process would otherwise share the 2 cores; the
  same call timed here, beside TensorFlow, is reported too) and, when ../shared/seed is present, the original's
  pickle (four Keras predict() calls per forecast, as the original app) vs models/original via onnxruntime.
- serving_rss_mb: RSS of a fresh process that imports only serving code, loads models/default and forecasts.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "data" / "sample.csv"
SEED_PKL = REPO.parent / "shared" / "seed" / "ensemble_forecast_model.pkl"
SEED_CTX = REPO.parent / "shared" / "seed" / "sku1_last_30days.csv"


def _per_call(fn, n: int, repeats: int = 5) -> float:
    """Median over `repeats` of the mean seconds per call of fn() over n calls (after one warm-up)."""
    fn()
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        out.append((time.perf_counter() - t) / n)
    return statistics.median(out)


SERVING_CODE = r"""
import json, resource, sys, time
import numpy as np
t0 = time.perf_counter()
from engine.forecast.registry import get_forecaster
from engine.forecast.base import Covariates
f = get_forecaster(sys.argv[1])
load_s = time.perf_counter() - t0
y = np.random.default_rng(0).poisson(20, (1, 365)).astype(float)
cov = Covariates(np.zeros((1, 396)), np.full((1, 396), 20.0))
for _ in range(200):
    f.predict(y, cov)
import psutil
rss = psutil.Process().memory_info().rss / 2**20
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
tf = any(m.split('.')[0] == 'tensorflow' for m in sys.modules)
print(json.dumps({"rss_mb": rss, "peak_rss_mb": peak, "import_and_load_s": load_s, "tensorflow_loaded": tf}))
"""


def serving_rss(model: str = "ensemble:default") -> dict:
    r = subprocess.run([sys.executable, "-c", SERVING_CODE, model], cwd=REPO, capture_output=True, text=True,
                       timeout=300)
    if r.returncode != 0:
        return {"error": r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "failed"}
    return json.loads(r.stdout.strip().splitlines()[-1])


def _sample_arrays():
    from engine.data.dataset import load_csv
    from engine.forecast.train import SeriesArrays
    ds = load_csv(SAMPLE)
    return [SeriesArrays(s.key, s.demand, s.promo, s.planning, s.dates) for s in ds.series.values()]


SERVING_LATENCY_CODE = r"""
import json, sys
import numpy as np
sys.path.insert(0, sys.argv[3])
from bench.bench_forecast import _per_call
from engine.forecast.base import Covariates
from engine.forecast.onnx_model import OnnxEnsemble
model = OnnxEnsemble.load(sys.argv[1])
a = np.load(sys.argv[2])
y, cov = a["y"], Covariates(a["promo"], a["planning"])
from engine.forecast import features as F
inp = F.build_inputs(y, cov.promo, cov.planning, use_covariates=True, extra_inputs=model.extra_inputs)
n = int(sys.argv[4])
out = {"predict_s": _per_call(lambda: model.predict(y, cov), n),
       "graph_only_s": _per_call(lambda: model._sess.run(None, inp.feeds()), n),
       "features_s": _per_call(lambda: F.build_inputs(y, cov.promo, cov.planning, use_covariates=True,
                                                     extra_inputs=model.extra_inputs), n),
       "tensorflow_loaded": any(m.split(".")[0] == "tensorflow" for m in sys.modules)}
print(json.dumps(out))
"""


def serving_latency(model_dir: Path, y, cov, n: int) -> dict:
    """Per-call latency of OnnxEnsemble.predict in a fresh process that never imports TensorFlow (as the app)."""
    npz = Path(model_dir) / "inputs.npz"
    np.savez(npz, y=y, promo=cov.promo, planning=cov.planning)
    r = subprocess.run([sys.executable, "-c", SERVING_LATENCY_CODE, str(model_dir), str(npz), str(REPO), str(n)],
                       cwd=REPO, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise RuntimeError("serving latency process failed: " + r.stderr.strip()[-500:])
    return json.loads(r.stdout.strip().splitlines()[-1])


def bench_ensemble(quick: bool) -> dict:
    """Train the shipped configuration on data/sample.csv, export it, time it served (TF-free process) vs Keras."""
    from engine.forecast import commands as C
    from engine.forecast import export as E
    from engine.forecast import features as F
    from engine.forecast import train as T
    from engine.forecast.base import Covariates
    from engine.forecast.onnx_model import OnnxEnsemble

    series = _sample_arrays()
    extras = F.check_extra(None, True)
    cfg = T.TrainConfig(use_covariates=True, epochs=3 if quick else 150, seed=1,
                        meta_per_horizon=C.DEFAULT_META == "per-horizon", extra_inputs=extras)
    t = time.perf_counter()
    trained = T.train_ensemble(series, cfg, log=lambda m: None)
    train_s = time.perf_counter() - t
    W, H = cfg.window, cfg.horizon
    t = time.perf_counter()
    proto = E.to_onnx(trained.keras_model, [("seq", (W, 3)), ("aux", (F.aux_dim(H, True),)),
                                            ("extra", (H, len(extras)))])
    export_s = time.perf_counter() - t
    n_single = 500 if quick else 3000
    with tempfile.TemporaryDirectory() as tmp:
        E.write_entry(Path(tmp) / "m", proto, {"kind": "ensemble", "window": W, "horizon": H,
                                              "use_covariates": True, "extra_inputs": list(extras),
                                              "residuals": trained.residuals})
        model = OnnxEnsemble.load(Path(tmp) / "m")
        y = series[0].demand[None, :300]
        cov = Covariates(F._pad(series[0].promo[None, :], 331), F._pad(series[0].planning[None, :], 331))
        inp = F.build_inputs(y, cov.promo, cov.planning, use_covariates=True, extra_inputs=extras)
        keras_model = trained.keras_model
        x = [inp.seq, inp.aux, inp.extra]
        served = serving_latency(Path(tmp) / "m", y, cov, n_single)
        keras_predict = _per_call(lambda: keras_model.predict(x, verbose=0), 5 if quick else 20, 3)
        keras_call = _per_call(lambda: keras_model(x, training=False), 20 if quick else 100, 3)
        onnx_in_tf_process = _per_call(lambda: model.predict(y, cov), n_single)
        nb = 1000
        yb = np.repeat(y, nb, axis=0)
        covb = Covariates(np.repeat(cov.promo, nb, axis=0), np.repeat(cov.planning, nb, axis=0))
        onnx_batch = _per_call(lambda: model.predict(yb, covb), 3 if quick else 10)
        agree = float(np.max(np.abs(model.predict(y, cov) - T.keras_forecast(keras_model, inp))))
    onnx_single = served["predict_s"]
    return {
        "train_seconds": round(train_s, 1), "train_epochs_max": cfg.epochs, "export_seconds": round(export_s, 2),
        "keras_predict_ms": keras_predict * 1e3, "keras_direct_call_ms": keras_call * 1e3,
        "onnx_predict_ms": onnx_single * 1e3, "onnx_graph_only_ms": served["graph_only_s"] * 1e3,
        "onnx_features_ms": served["features_s"] * 1e3,
        "onnx_serving_process_has_tensorflow": served["tensorflow_loaded"],
        "onnx_predict_in_tensorflow_process_ms": onnx_in_tf_process * 1e3,
        "onnx_batch_1000_ms_per_row": onnx_batch * 1e3 / nb,
        "speedup_vs_keras_predict": keras_predict / onnx_single,
        "speedup_vs_keras_direct_call": keras_call / onnx_single,
        "max_abs_diff_onnx_vs_keras": agree,
    }


def bench_original(quick: bool) -> dict | None:
    if not SEED_PKL.exists():
        return None
    from engine.forecast import legacy
    from engine.forecast.onnx_model import OnnxEnsemble
    obj = legacy.load_pickle(SEED_PKL)
    raw = legacy.read_context(SEED_CTX, [str(c) for c in obj["feature_columns"]])[None, -30:]
    model = OnnxEnsemble.load(REPO / "models" / "original")
    keras_4_predict = _per_call(lambda: legacy.keras_forecast(obj, raw), 3 if quick else 10, 3)
    onnx_one = _per_call(lambda: model.forecast_raw(raw), 500 if quick else 3000)
    return {"keras_4_predict_ms": keras_4_predict * 1e3, "onnx_forecast_ms": onnx_one * 1e3,
            "speedup": keras_4_predict / onnx_one,
            "max_abs_diff": float(abs(model.forecast_raw(raw)[0] - legacy.keras_forecast(obj, raw)[0]))}


# bench/report.py: this module writes the report's section of this title
SECTION = "Forecast serving"
ORDER = 20


def run(quick: bool = False) -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    out = {"quick": quick}
    out["serving"] = serving_rss("ensemble:default")  # before TensorFlow is imported here (separate process anyway)
    out["ensemble"] = bench_ensemble(quick)
    out["original"] = bench_original(quick)
    return out


def main(argv=None) -> int:
    quick = "--quick" in (argv if argv is not None else sys.argv[1:])
    res = run(quick=quick)
    e, s, o = res["ensemble"], res["serving"], res["original"]
    print(f"training (sample.csv, 1,825 rows, {e['train_epochs_max']} max epochs): {e['train_seconds']} s "
          f"(+ ONNX export {e['export_seconds']} s)")
    print(f"our ensemble: Keras predict() {e['keras_predict_ms']:.2f} ms, Keras direct call "
          f"{e['keras_direct_call_ms']:.2f} ms, onnxruntime predict {e['onnx_predict_ms'] * 1e3:.1f} µs "
          f"in a TF-free serving process (graph only {e['onnx_graph_only_ms'] * 1e3:.1f} µs, features "
          f"{e['onnx_features_ms'] * 1e3:.1f} µs; {e['onnx_predict_in_tensorflow_process_ms'] * 1e3:.1f} µs beside "
          f"TensorFlow), batch of 1000: "
          f"{e['onnx_batch_1000_ms_per_row'] * 1e3:.2f} µs/row")
    print(f"  speed-up vs Keras predict(): {e['speedup_vs_keras_predict']:.0f}x, vs direct call: "
          f"{e['speedup_vs_keras_direct_call']:.0f}x; max |ONNX - Keras| {e['max_abs_diff_onnx_vs_keras']:.1e}")
    if o:
        print(f"original model: Keras 4x predict() {o['keras_4_predict_ms']:.1f} ms, onnxruntime "
              f"{o['onnx_forecast_ms'] * 1e3:.1f} µs, speed-up {o['speedup']:.0f}x, max diff {o['max_abs_diff']:.1e}")
    print(f"serving process (ensemble:default loaded, 200 forecasts): RSS {s.get('rss_mb', float('nan')):.0f} MB, "
          f"peak {s.get('peak_rss_mb', float('nan')):.0f} MB, import+load {s.get('import_and_load_s', 0):.2f} s, "
          f"tensorflow loaded: {s.get('tensorflow_loaded')}")
    print(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
