"""Common random numbers are real: identical scenarios differ by exactly 0 on every replication, every scenario
of a run saw identical demand paths, and sharing forecasts across scenarios changes no number."""
from __future__ import annotations

import json

import numpy as np
import pytest

from engine.simulation.batch import run_batch
from engine.simulation.simulator import SimConfig
from engine.studies import scenarios as sc


def run(scen, sample_csv, R=24, days=60, seed=5, **kw):
    sset = sc.canonical_set(scen, replications=R, days=days, seed=seed)
    return sc.compare(sset, default_data=sample_csv, **kw)


@pytest.mark.parametrize("demand", ["synthetic", "forecast-noise", "replay"])
def test_identical_scenarios_have_paired_differences_of_exactly_zero(sample_csv, demand):
    base = {"forecaster": "ma7", "demand": demand, "lead_time": 5}
    res = run([{"name": "A", **base}, {"name": "B", **base}, {"name": "C", **base, "lead_time": 9}], sample_csv)
    a, b, c = (s["_per_replication"] for s in res["scenarios"])
    for k in sc.REPORTED_KPIS:
        assert np.array_equal(a[k], b[k], equal_nan=True), k
        d = res["scenarios"][1]["diff_vs_baseline"][k]
        if d["mean"] is not None:
            assert d["mean"] == 0.0 and d["ci95"] == 0.0, (k, d)
    # a genuinely different scenario does differ (the test could fail)
    assert not np.array_equal(a["total_cost"], c["total_cost"])


def test_every_scenario_saw_identical_demand_paths(sample_csv):
    scen = [
        {"name": "ou", "forecaster": "ma7", "demand": "synthetic"},
        {"name": "bs", "forecaster": "ma7", "demand": "synthetic", "policy": "base-stock", "base_stock_level": 150},
        {"name": "sS", "forecaster": "ma7", "demand": "synthetic", "policy": "s-S", "s": 80, "S": 200},
        {"name": "rQ", "forecaster": "ma7", "demand": "synthetic", "policy": "r-Q", "r": 90, "Q": 120},
        {"name": "orig", "forecaster": "ma7", "demand": "synthetic", "policy": "original"},
        {"name": "L12 backorders", "forecaster": "ma7", "demand": "synthetic", "lead_time": 12, "backorders": True},
        {"name": "stochastic L", "forecaster": "ma7", "demand": "synthetic", "lead_time_dist": "uniform:4:10"},
        {"name": "costly", "forecaster": "ma7", "demand": "synthetic", "holding_rate": 0.6, "stockout_cost": 2.0},
    ]
    R = 12
    res = run(scen, sample_csv, R=R, keep_ledgers=R)
    paths = [np.asarray(s["_kept"]["demand"]) for s in res["scenarios"]]
    assert paths[0].shape == (R, 60)
    assert len({p.tobytes() for p in paths[0]}) == R  # replications do differ from each other
    for name, p in zip([s["name"] for s in scen], paths):
        assert np.array_equal(p, paths[0]), f"scenario {name} saw other demand"
    assert all(s["same_demand_as_baseline"] for s in res["scenarios"])
    # and they are the paths a plain batch run of the same seed produces (replication r = SeedSequence([seed, r]))
    cfg = SimConfig.from_options({"data": str(sample_csv), "forecaster": "ma7", "demand": "synthetic", "days": 60,
                                  "seed": 5, "replications": R})
    from engine.data.dataset import load_csv
    direct = run_batch(cfg, load_csv(str(sample_csv)).get(None), keep_ledgers=R)
    assert np.array_equal(direct.kept["demand"], paths[0])


def test_shared_forecasts_change_no_number(sample_csv):
    """Scenarios sharing one forecaster reuse its forecasts; each must equal its own separate batch run."""
    from engine.data.dataset import load_csv

    scen = [{"name": "L3", "forecaster": "ma7", "demand": "forecast-noise", "lead_time": 3},
            {"name": "L10", "forecaster": "ma7", "demand": "forecast-noise", "lead_time": 10},
            {"name": "orig", "forecaster": "ma7", "demand": "forecast-noise", "policy": "original"}]
    res = run(scen, sample_csv, R=20, chunk=7)
    assert res["sharing"]["forecast_blocks_reused"] > res["sharing"]["forecast_blocks_computed"]
    series = load_csv(str(sample_csv)).get(None)
    for s, opts in zip(res["scenarios"], scen):
        cfg = SimConfig.from_options({k: v for k, v in opts.items() if k != "name"} |
                                     {"days": 60, "seed": 5, "replications": 20})
        alone = run_batch(cfg, series)
        assert np.array_equal(np.asarray(alone.kpis["total_cost"]), s["_per_replication"]["total_cost"]), s["name"]


def test_paired_ci_is_narrower_than_unpaired(sample_csv):
    scen = [{"name": "L7", "forecaster": "ma7", "demand": "synthetic", "lead_time": 7},
            {"name": "L8", "forecaster": "ma7", "demand": "synthetic", "lead_time": 8}]
    res = run(scen, sample_csv, R=40)
    a, b = res["scenarios"]
    unpaired = (a["kpis"]["total_cost"]["ci95"] ** 2 + b["kpis"]["total_cost"]["ci95"] ** 2) ** 0.5
    assert b["diff_vs_baseline"]["total_cost"]["ci95"] < unpaired


def test_url_token_round_trip_and_hostile_tokens():
    sset = sc.canonical_set([{"name": "A", "lead_time": 7.0}, {"name": "B", "policy": "original"}],
                            replications=50, days=90, seed=3, baseline=1)
    assert sc.decode_set(sc.encode_set(sset)) == sset
    assert sset["scenarios"][0]["lead_time"] == 7 and isinstance(sset["scenarios"][0]["lead_time"], int)
    assert sc.set_hash(sset) == sc.set_hash(json.loads(json.dumps(sset)))
    for bad, msg in [("", "no scenario set"), ("!!!", "damaged"), ("x" * 9000, "too long"),
                     (sc.encode_set({"nope": 1}), "damaged")]:
        with pytest.raises(sc.ScenarioError, match=msg):
            sc.decode_set(bad)
    import base64
    import zlib
    bomb = base64.urlsafe_b64encode(zlib.compress(b"[" * 5_000_000, 9)).decode().rstrip("=")
    with pytest.raises(sc.ScenarioError, match="too large|too long|damaged"):
        sc.decode_set(bomb)


@pytest.mark.parametrize("scen,msg", [
    ([], "empty"),
    ([{"name": "A"}, {"name": "A"}], "used twice"),
    ([{"name": f"S{i}"} for i in range(9)], "at most 8"),
    ([{"lead_time": 3}], "name is missing"),
])
def test_bad_sets_are_refused_with_a_message(scen, msg):
    with pytest.raises(sc.ScenarioError, match=msg):
        sc.canonical_set(scen, replications=10, days=30, seed=1)


def test_bad_scenario_settings_name_the_scenario(sample_csv):
    sset = sc.canonical_set([{"name": "ok"}, {"name": "broken", "lead_time": -3}], replications=5, days=30, seed=1)
    with pytest.raises(sc.ScenarioError, match="scenario 'broken'.*lead_time"):
        sc.check_set(sset)
    sset = sc.canonical_set([{"name": "files", "data": "/etc/passwd"}], replications=5, days=30, seed=1)
    with pytest.raises(sc.ScenarioError, match="cannot name a file"):
        sc.check_set(sset)


def test_job_requests_from_the_browser_are_revalidated():
    good = sc.canonical_set([{"name": "A", "forecaster": "ma7"}], replications=10, days=30, seed=1)
    sset, key = sc.revalidate({"set": good, "key": "forged-key-of-another-set"})
    assert sset == good and key == sc.result_key(good) and key != "forged-key-of-another-set"
    for payload, msg in [
        (None, "malformed"),
        ({"set": "x"}, "malformed"),
        ({"set": {**good, "replications": 10**9}}, "replications must be between"),
        ({"set": {**good, "scenarios": [{"name": "A", "data": "/etc/passwd"}]}}, "cannot name a file"),
        ({"set": {**good, "scenarios": [{"name": "A", "forecaster": "../../etc/passwd"}]}}, "forecaster"),
        ({"set": sc.canonical_set([{"name": f"S{i}"} for i in range(8)], replications=2000, days=3650, seed=1)},
         "more than one run may compute"),
    ]:
        with pytest.raises(sc.ScenarioError, match=msg):
            sc.revalidate(payload)
