"""Forecast accuracy on the public file with the engine's honest backtest (engine/forecast/backtest.py): the
per-series protocol (last 73 days of each series held out, rolling one step ahead) and, outside quick mode, the
original notebook's split ("seed" protocol) for a like-for-like comparison with its published figures.

The public file lives beside the checkout (../shared/data, or $SIM_SHARED_DIR/data), never in it; without it the
section says so and measures nothing.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SECTION = "Forecast accuracy (public data)"
ORDER = 80


def shared_data() -> Path:
    base = Path(os.environ["SIM_SHARED_DIR"]) if os.environ.get("SIM_SHARED_DIR") else REPO.parent / "shared"
    return base / "data" / "supply_chain_sku1.csv"


def run(quick: bool = False) -> dict:
    data = shared_data()
    if not data.exists():
        return {"markdown": f"skipped: {data} is absent (the public dataset lives beside the checkout, never in it)\n"}
    from engine.data.dataset import load_csv
    from engine.forecast.backtest import DEFAULT_MODELS, markdown_table, run_backtest
    from engine.forecast.registry import list_forecasters

    ds = load_csv(str(data))
    listed = [f["name"] for f in list_forecasters()]
    models = [m for m in DEFAULT_MODELS if m in listed]
    models += [n for n in listed if n.startswith("ensemble:") and n not in models]
    if not quick:
        models += [n for n in ("ets", "arima") if n in listed and n not in models]
    texts, raw = [], {}
    protocols = [("per-series", "last 73 days of each series held out, one step ahead, rolling origin")]
    if not quick:
        protocols.append(("seed", "the original notebook's split: all rows sorted by date, last 10 % held out"))
    for protocol, what in protocols:
        t0 = time.perf_counter()
        try:
            res = run_backtest(ds, models, protocol=protocol, holdout_days=73, data_path=str(data))
        except Exception as exc:  # one protocol failing must not hide the other
            texts.append(f"### {protocol}\n\nFAILED: {type(exc).__name__}: {exc}\n")
            continue
        raw[protocol] = res
        notes = [f"- {m}: {r['note']}" for m, r in res["models"].items() if r.get("note")]
        skipped = [f"- {m} skipped: {why}" for m, why in res.get("skipped", {}).items()]
        texts.append(f"### {protocol} protocol\n\n{what}; {res['holdout_rows']} forecasts over "
                     f"{len(res['series'])} series ({time.perf_counter() - t0:.0f} s).\n\n"
                     + markdown_table(res) + "\n" + ("\n" + "\n".join(notes + skipped) + "\n"
                                                     if notes or skipped else ""))
    raw["markdown"] = ("The bundled models (trained on data/sample.csv, not on this file) and the baselines.\n\n"
                       f"Data: `{data.name}` (read in place, never copied).\n\n" + "\n".join(texts))
    return raw
