"""Scenario and optimum benchmarks: `python -m bench.bench_scenarios [--quick]` prints the figures.

- 8 scenarios × 200 replications × 365 days on common random numbers, with a moving average (goal ≤ 3 s) and
  with the ONNX ensemble (goal ≤ 15 s); forecasts are computed once per path and shared by the scenarios of a
  demand group — the same 8 scenarios with every scenario forecasting on its own are timed in the same run
  (the ratio is the saving);
- the perfect-information LP for one 365-day path (goal ≤ 1 s), lost sales and backorders;
- policy quality on the default scenario (sample data, lead time 7, the original's defaults: 90 days, holding
  rate 0.25, noise 0.1, its forecast-noise demand): our order-up-to rule vs the simulation-optimised
  base-stock (goal: within 5%), and the original rule's gap beside it.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent


def _sample_data() -> Path:
    from engine.studies.scenarios import DEFAULT_DATA

    if DEFAULT_DATA.is_file():
        return DEFAULT_DATA
    from engine.data.generator import generate_csv

    out = REPO / "bench" / "out" / "sample.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(generate_csv())
    return out


def eight_scenarios(forecaster: str) -> list[dict]:
    common = {"forecaster": forecaster, "demand": "synthetic"}
    return [
        {"name": "L3", **common, "lead_time": 3},
        {"name": "L7", **common, "lead_time": 7},
        {"name": "L14", **common, "lead_time": 14},
        {"name": "L7 service 98%", **common, "service_level": 0.98},
        {"name": "L7 backorders", **common, "backorders": True},
        {"name": "holding 0.5", **common, "holding_rate": 0.5},
        {"name": "original rule", **common, "policy": "original"},
        {"name": "base-stock", **common, "policy": "base-stock"},
    ]


def time_compare(forecaster: str, replications: int, days: int, data: Path) -> dict:
    from engine.studies import scenarios as sc

    sset = sc.canonical_set(eight_scenarios(forecaster), replications=replications, days=days, seed=1)
    t0 = time.perf_counter()
    res = sc.compare(sset, default_data=data, keep_ledgers=1)
    shared = time.perf_counter() - t0
    return {"seconds": shared, "sharing": res["sharing"], "scenarios": len(sset["scenarios"])}


def time_unshared(forecaster: str, replications: int, days: int, data: Path) -> float:
    """The same 8 scenarios, each a separate batch run with its own forecasts (what sharing saves)."""
    from engine.data.dataset import load_csv
    from engine.simulation.batch import run_batch
    from engine.simulation.simulator import SimConfig

    series = load_csv(str(data)).get(None)
    t0 = time.perf_counter()
    for s in eight_scenarios(forecaster):
        opts = {k: v for k, v in s.items() if k != "name"}
        cfg = SimConfig.from_options({**opts, "days": days, "seed": 1, "replications": replications})
        run_batch(cfg, series)
    return time.perf_counter() - t0


def time_lp(days: int = 365, repeats: int = 5) -> dict:
    from engine.studies.optimum import perfect_information_bound

    rng = np.random.default_rng(0)
    out = {}
    for backorders in (False, True):
        times = []
        for _ in range(repeats):
            d = rng.gamma(4.0, 5.0, size=days)
            t0 = time.perf_counter()
            perfect_information_bound(d, lead_time=7, holding_cost=0.0137, stockout_cost=20.0,
                                      initial_inventory=150.0, backorders=backorders)
            times.append(time.perf_counter() - t0)
        out["backorders" if backorders else "lost_sales"] = {"median_s": float(np.median(times)),
                                                             "max_s": float(np.max(times))}
    return out


def policy_quality(data: Path, replications: int) -> dict:
    from engine.data.dataset import load_csv
    from engine.forecast.registry import default_forecaster_name
    from engine.simulation.simulator import SimConfig
    from engine.studies.optimum import optimum_report

    series = load_csv(str(data)).get(None)
    cfg = SimConfig.from_options({"lead_time": 7, "days": 90, "holding_rate": 0.25, "noise": 0.1,
                                  "demand": "forecast-noise", "seed": 1})
    rep = optimum_report(cfg, series, replications)
    pol = {p["name"]: p for p in rep["policies"]}
    best = rep["best_base_stock"]["cost"]
    return {
        "forecaster": cfg.forecaster or default_forecaster_name(), "replications": replications,
        "order_up_to_cost": pol["order-up-to"]["cost"], "best_base_stock_cost": best,
        "best_base_stock_level": rep["best_base_stock"]["level"],
        "order_up_to_gap_vs_best_base_stock": pol["order-up-to"]["gap_vs_best_base_stock"],
        "original_cost": pol["original"]["cost"],
        "original_gap_vs_best_base_stock": pol["original"]["gap_vs_best_base_stock"],
        "best_z": rep["best_z"], "lower_bound": rep["lower_bound"],
        "regrets": {p["name"]: p["regret"] for p in rep["policies"]},
        "saa_out_of_sample": None if rep["saa"] is None else rep["saa"]["cost_out_of_sample"],
        "seconds": rep["elapsed_s"],
    }


SECTION = "Scenarios"   # bench/report.py: this module writes the report's section of that title
ORDER = 40


def goals(result: dict) -> list:
    from bench.report import Goal

    out = []
    for key in ("ma7", "ensemble"):
        r = result.get(key, {})
        if "seconds" in r:
            out.append(Goal(f"8 scenarios × {result['replications']} × {result['days']} days, "
                            f"{r.get('forecaster') or key}", f"≤ {r['goal_s']:g} s", f"{r['seconds']:.2f} s",
                            r["seconds"] <= r["goal_s"]))
    lp = result["lp_365_days"]
    worst = max(lp["lost_sales"]["max_s"], lp["backorders"]["median_s"])
    out.append(Goal("perfect-information LP, one 365-day path", f"≤ {lp['goal_s']:g} s",
                    f"{worst * 1000:.0f} ms (slowest)", worst <= lp["goal_s"]))
    q = result["policy_quality"]
    gap = q["order_up_to_gap_vs_best_base_stock"]
    out.append(Goal("order-up-to vs best base-stock (default scenario)", "gap ≤ +5 %", f"{gap:+.1%}", gap <= 0.05,
                    timed=False))
    return out


def run(quick: bool = False) -> dict:
    from engine.forecast.registry import default_forecaster_name

    data = _sample_data()
    R = 50 if quick else 200
    days = 365
    out = {"data": str(data), "replications": R, "days": days}
    ma = time_compare("ma7", R, days, data)
    out["ma7"] = {**ma, "goal_s": 3.0, "unshared_s": time_unshared("ma7", R, days, data)}
    ens = default_forecaster_name()
    if ens.startswith("ensemble:"):
        e = time_compare(ens, R, days, data)
        out["ensemble"] = {**e, "forecaster": ens, "goal_s": 15.0,
                           "unshared_s": None if quick else time_unshared(ens, R, days, data)}
    else:
        out["ensemble"] = {"forecaster": None, "note": "no ONNX ensemble under models/: not measured"}
    out["lp_365_days"] = {**time_lp(), "goal_s": 1.0}
    out["policy_quality"] = policy_quality(data, 50 if quick else 100)
    out["markdown"] = "```\n" + report(out) + "\n```"
    return out


def report(res: dict) -> str:
    lines = [f"Scenarios: 8 scenarios × {res['replications']} replications × {res['days']} days "
             f"(common random numbers, data {res['data']})"]
    for key in ("ma7", "ensemble"):
        r = res[key]
        if "seconds" not in r:
            lines.append(f"  {key}: {r.get('note')}")
            continue
        name = r.get("forecaster") or key
        uns = r.get("unshared_s")
        ratio = (f"; each scenario forecasting on its own: {uns:.2f} s (speed-up from sharing "
                 f"{uns / r['seconds']:.2f}×)" if uns else "")
        lines.append(f"  {name}: {r['seconds']:.2f} s (goal ≤ {r['goal_s']:g} s){ratio}; forecast blocks "
                     f"computed {r['sharing']['forecast_blocks_computed']}, reused "
                     f"{r['sharing']['forecast_blocks_reused']}")
    lp = res["lp_365_days"]
    lines.append(f"  LP bound, one 365-day path: lost sales {lp['lost_sales']['median_s'] * 1000:.1f} ms (max "
                 f"{lp['lost_sales']['max_s'] * 1000:.1f}), backorders {lp['backorders']['median_s'] * 1000:.1f} ms "
                 f"(goal ≤ 1 s)")
    q = res["policy_quality"]
    lines.append(f"  Policy quality (default scenario, {q['forecaster']}, {q['replications']} paths): order-up-to "
                 f"{q['order_up_to_cost']:,.2f} vs best base-stock {q['best_base_stock_cost']:,.2f} (S = "
                 f"{q['best_base_stock_level']:.1f}): gap {q['order_up_to_gap_vs_best_base_stock']:+.1%} (goal ≤ +5%); "
                 f"original rule {q['original_cost']:,.2f}: gap {q['original_gap_vs_best_base_stock']:+.1%}; best z "
                 f"{q['best_z']['z']:.2f} → {q['best_z']['cost']:,.2f}; bound {q['lower_bound']['mean']:,.2f}")
    return "\n".join(lines)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    result = run(quick=a.quick)
    print(json.dumps(result, indent=1, default=float) if a.json else report(result))
