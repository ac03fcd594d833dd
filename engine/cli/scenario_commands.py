"""CLI commands of the scenario work: `compare` (scenarios on common random numbers) and `optimum` (bounds and
simulation-optimised policies). Registered by engine/cli/main.py through `register(subparsers, common)`.

    python -m engine compare --scenarios FILE.json [--replications R] [--days N] [--seed S] --json
    python -m engine optimum [simulate's options] [--replications R] --json
"""
from __future__ import annotations

import json
import sys

from engine.cli.recommend import add_recommendation_options
from engine.errors import ConfigError
from engine.json_safe import json_safe

DEFAULT_REPLICATIONS = 100


def register(subparsers, common) -> None:
    p = subparsers.add_parser("compare", allow_abbrev=False,
                              help="compare scenarios on common random numbers (mean ± 95%% CI, paired "
                                   "differences vs the first scenario)")
    p.add_argument("--scenarios", required=True, metavar="FILE.json",
                   help='a JSON list of objects: "name" plus simulate\'s long options with dashes as '
                        'underscores, e.g. [{"name": "LT14", "lead_time": 14, "policy": "order-up-to"}]')
    p.add_argument("--replications", type=int, default=None, help=f"replications (default {DEFAULT_REPLICATIONS})")
    p.add_argument("--days", type=int, default=None, help="days per replication (default: the scenarios' or 90)")
    p.add_argument("--seed", type=int, default=None, help="random seed shared by all scenarios (default 42)")
    p.add_argument("--data", default=None, help="CSV for scenarios that name none (default data/sample.csv)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_compare, _common=common)

    p = subparsers.add_parser("optimum", allow_abbrev=False,
                              help="perfect-information lower bound, best base-stock level and best z, regrets")
    common.add_simulation_options(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--quick", action="store_true", help="coarser searches (faster)")
    add_recommendation_options(p, simulation_options=True)
    p.set_defaults(func=cmd_optimum, _common=common)


def _read_scenarios(path: str) -> list:
    try:
        with open(path, encoding="utf-8-sig") as fh:
            text = fh.read(2_000_001)
    except OSError as err:
        raise ConfigError(f"cannot read the scenario file {path}: {err.strerror or err}", field="scenarios",
                          value=path) from None
    if len(text) > 2_000_000:
        raise ConfigError(f"scenario file {path} is larger than 2 MB", field="scenarios", value=path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigError(f"scenario file {path}: not valid JSON at line {err.lineno}, column {err.colno} "
                          f"({err.msg})", field="scenarios", value=path) from None
    if not isinstance(data, list):
        raise ConfigError(f"scenario file {path}: expected a JSON list of scenario objects, got "
                          f"{type(data).__name__}", field="scenarios", value=path)
    return data


def _set_level(data: list, key: str, given, default, path: str = ""):
    """A run-level setting: the command line wins; else the scenarios' common value; else the default."""
    if given is not None:
        return given
    vals = {json.dumps(s.get(key)) for s in data if isinstance(s, dict) and s.get(key) is not None}
    if len(vals) == 1:
        return json.loads(vals.pop())
    if len(vals) > 1:
        raise ConfigError(f"{path}: the scenarios set different {key} values; a comparison shares one (common random "
                          f"numbers): pass --{key}", field=key)
    return default


def cmd_compare(args) -> int:
    from engine.studies import scenarios as sc

    data = _read_scenarios(args.scenarios)
    try:
        sset = sc.canonical_set(data, replications=_set_level(data, "replications", args.replications,
                                                              DEFAULT_REPLICATIONS, args.scenarios),
                                days=_set_level(data, "days", args.days, None, args.scenarios),
                                seed=_set_level(data, "seed", args.seed, 42, args.scenarios))
        defaults = {"data": args.data or args._common.default_data_path()}
        read = {defaults["data"]: args._common.read_data(args, defaults["data"])} if args.data else None
        result = sc.compare(sset, allow_files=True, defaults=defaults, datasets=read)
    except sc.ScenarioError as err:
        text = str(err)
        for key in ("replications", "days", "seed"):   # a value typed on the command line is named as its flag
            if getattr(args, key) is not None and text.startswith(key + " "):
                raise ConfigError(f"--{key} {getattr(args, key)}: {text[len(key) + 1:]}", field=key) from None
        raise ConfigError(f"{args.scenarios}: {err}") from None
    out = json_safe(sc.cli_summary(sc.to_record(result)))
    if args.json:
        print(json.dumps(out, allow_nan=False))
        return 0
    print(f"{len(out['scenarios'])} scenarios × {out['replications']} replications × {out['days']} days, seed "
          f"{out['seed']}; baseline {out['baseline']!r}; mean ± 95% CI")
    for s in out["scenarios"]:
        tc, d = s["total_cost"], s["diff_vs_baseline"]["total_cost"]
        print(f"  {s['name']:<24} total cost {_pm(tc)}   vs baseline {_pm(d, signed=True)}   fill rate "
              f"{_pm(s['fill_rate'])}")
    return 0


def cmd_optimum(args) -> int:
    from engine.cli.recommend import describe
    from engine.studies.optimum import optimum_report

    config = args._common.config_from_args(args)
    if args.replications is None:
        from dataclasses import replace
        config = replace(config, replications=DEFAULT_REPLICATIONS)
    data = args._common.read_data(args, config.data)
    series = data.get(config.series)
    report = optimum_report(config, series, config.replications, quick=args.quick, objective=args.objective,
                            target_fill_rate=args.target_fill_rate, file_series=data.series.values())
    out = {k: report[k] for k in ("recommendation", "lower_bound", "best_base_stock", "best_z")}
    out["policies"] = [{"name": p["name"], "cost": p["cost"], "regret": p["regret"]} for p in report["policies"]]
    out["calibration"] = report["calibration"]
    out["saa"] = None if report["saa"] is None else {k: v for k, v in report["saa"].items() if k != "orders"}
    out.update({k: report[k] for k in ("initial_inventory", "costs", "replications", "days")})
    out = json_safe(out)
    if args.json:
        print(json.dumps(out, allow_nan=False))
        return 0
    print("recommended:\n  " + describe(out["recommendation"]).replace("\n", "\n  "))
    lb = out["lower_bound"]
    print(f"value of perfect information (cost if the future were known) {_pm(lb)} ({out['replications']} paths × "
          f"{out['days']} days)")
    print(f"best base-stock S = {out['best_base_stock']['level']:.2f}: cost {out['best_base_stock']['cost']:,.2f}")
    print(f"best z = {out['best_z']['z']:.3f}: cost {out['best_z']['cost']:,.2f}")
    for p in out["policies"]:
        reg = "n/a" if p["regret"] is None else f"{p['regret']:.1%}"
        print(f"  {p['name']:<20} cost {p['cost']:,.2f}  regret vs best found out of sample {reg}")
    cal = out["calibration"]
    if cal.get("coverage") is not None:
        print(f"order-up-to quantile: nominal {cal['nominal']:.4f}, coverage {cal['coverage']:.4f} "
              f"over {cal['n']} windows")
    return 0


def _pm(v: dict, signed: bool = False) -> str:
    if v.get("mean") is None:
        return "n/a"
    fmt = "+,.2f" if signed else ",.2f"
    hw = "" if v.get("ci95") is None else f" ± {v['ci95']:,.2f}"
    return f"{v['mean']:{fmt}}{hw}"




if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: python -m engine compare|optimum ...")
