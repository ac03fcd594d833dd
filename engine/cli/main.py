"""Command line: `python -m engine simulate|validate|generate` (+ commands registered by optional modules).

Optional command modules `engine.forecast.commands` and `engine.cli.scenario_commands` expose
`register(subparsers, common)`; `common` offers `add_simulation_options(parser)` and `config_from_args(args)`.
A DataError / ConfigError / unknown forecaster anywhere → one message on stderr, exit code 2, no traceback.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from engine.data.dataset import load_csv
from engine.data.layout import ROLES
from engine.errors import ConfigError, DataError
from engine.forecast.registry import UnknownForecaster
from engine.json_safe import json_safe
from engine.paths import REPO_ROOT
from engine.policies.base import all_params, policy_names

__all__ = ["main", "build_parser", "add_simulation_options", "config_from_args", "write_ledger", "COMMON",
           "DEFAULT_DATA", "read_data"]

DEFAULT_DATA = "data/sample.csv"
OPTIONAL_COMMAND_MODULES = ("engine.forecast.commands", "engine.cli.scenario_commands", "engine.cli.portfolio",
                            "engine.cli.recommend", "engine.cli.orders", "engine.cli.backtest_policy",
                            "engine.exact.cli")
_SIM_DESTS = ["data", "series", "forecaster", "policy", "days", "lead_time", "lead_time_dist", "allow_crossing",
              "holding_rate", "unit_cost", "unit_price", "stockout_cost", "backorder_cost",
              "lost_sales", "backorders", "demand",
              "noise", "seed", "initial_inventory", "replications", "context_days",
              "moq", "pack_size", "order_days", "order_cost", "integer_orders"]  # + the policies' parameters


def default_data_path() -> str:
    """data/sample.csv relative to the working directory, else the repository's copy."""
    if Path(DEFAULT_DATA).exists():
        return DEFAULT_DATA
    return str(REPO_ROOT / DEFAULT_DATA)


def read_data(args: argparse.Namespace, path=None):
    """The Dataset of `path` (default the command's --data / csv) read with the command's --columns and
    --fill-missing-zero: the one way a command reads a data file."""
    return load_csv(path if path is not None else (getattr(args, "data", None) or getattr(args, "csv", None)),
                    columns=getattr(args, "columns", None),
                    fill_missing_zero=bool(getattr(args, "fill_missing_zero", False)))


def add_simulation_options(parser: argparse.ArgumentParser) -> None:
    """Every `simulate` option (defaults None = the SimConfig / data-derived default)."""
    g = parser.add_argument_group("simulation")
    g.add_argument("--data", help=f"CSV file (default {DEFAULT_DATA})")
    g.add_argument("--series", help="series key SKU/WAREHOUSE, e.g. SKU_1/WH_1 (default: first in file)")
    g.add_argument("--forecaster", help="forecaster name (default: ensemble:past-only when models/past-only "
                                        "exists, else ma7); see `python -m engine forecasters`")
    g.add_argument("--policy", help=" | ".join(n + " (default)" if n == "order-up-to" else n for n in policy_names()))
    g.add_argument("--days", type=int, help="days to simulate (default 90)")
    g.add_argument("--lead-time", type=int, help="fixed lead time L in days (default 7)")
    g.add_argument("--lead-time-dist", help="stochastic lead times: uniform:LOW:HIGH or poisson:MEAN")
    g.add_argument("--allow-crossing", action="store_const", const=True, default=None,
                   help="with stochastic lead times, let a later order arrive before an earlier one")
    g.add_argument("--holding-rate", type=float, help="annual holding rate (default 0.25)")
    g.add_argument("--unit-cost", type=float, help="unit cost (default: the file's last row, else 20)")
    g.add_argument("--unit-price", type=float, help="unit price (default: the file's last row, else 40)")
    g.add_argument("--stockout-cost", type=float, help="stockout cost per unit (default price − cost)")
    g.add_argument("--backorder-cost", type=float,
                   help="backorder cost per unit per day of backlog "
                        "(default --stockout-cost, else (price − cost) / 30)")
    ls = g.add_mutually_exclusive_group()
    ls.add_argument("--lost-sales", action="store_const", const=True, default=None,
                    help="unmet demand is lost (default)")
    ls.add_argument("--backorders", action="store_const", const=True, default=None,
                    help="unmet demand is backordered")
    g.add_argument("--demand", help="replay (default) | synthetic | forecast-noise")
    g.add_argument("--noise", type=float, help="forecast-noise relative σ (default 0.1)")
    g.add_argument("--seed", type=int, help="random seed (default 42)")
    g.add_argument("--initial-inventory", type=float, help="starting on-hand (default: the policy's day-1 level)")
    g.add_argument("--replications", type=int, help="Monte Carlo replications (default 1)")
    g.add_argument("--context-days", type=int, help="history rows before day 1 (default: replay all rows but the "
                                                    "last DAYS; synthetic/forecast-noise all rows)")
    o = parser.add_argument_group("supplier's order rules (engine/policies/order_rules.py)")
    o.add_argument("--moq", type=float, help="minimum order quantity in units (default none)")
    o.add_argument("--pack-size", type=float, help="order multiple (case pack), whole units (default any quantity)")
    o.add_argument("--order-days", help="weekdays orders may be placed on, e.g. mon,thu (default every day); "
                                        "the protection period becomes L + R, R the longest gap")
    o.add_argument("--order-cost", type=float, help="fixed cost K per order placed (default 0)")
    o.add_argument("--integer-orders", action="store_const", const=True, default=None,
                   help="order whole units (implied by --pack-size)")
    for p in all_params().values():  # declared once on each policy class (engine/policies/params.py)
        g.add_argument(p.flag, type=float, dest=p.name, help=p.help or p.label)


def config_from_args(args: argparse.Namespace):
    """SimConfig from parsed simulation options (ConfigError on bad values)."""
    from engine.simulation.simulator import SimConfig

    opts = {}
    params = all_params()
    for dest in _SIM_DESTS + list(params):
        v = getattr(args, dest, None)
        if v is not None:
            opts[dest] = v
    if "data" not in opts:
        opts["data"] = default_data_path()
    try:
        return SimConfig.from_options(opts)
    except ConfigError as exc:
        raise _in_flag_words(exc, params) from None


def _in_flag_words(exc: ConfigError, params: dict) -> ConfigError:
    """SimConfig's message ("lead_time = 1000 is out of range [0, 60]") in the command line's words ("--lead-time
    1000 is out of range [0, 60]"): the user typed the flag, not the field."""
    field, text = exc.field, str(exc)
    if not field or not text.startswith(field + " "):
        return exc
    flag = params[field].flag if field in params else "--" + field.replace("_", "-")
    rest = text[len(field):]
    rest = rest[3:] if rest.startswith(" = ") else rest.lstrip()
    return ConfigError(f"{flag} {rest}", field=field, value=exc.value)


class _Common(argparse.ArgumentParser):
    """What optional command modules receive as `common`: the helpers below as attributes. It is also an empty
    argparse parser, so a module that passes it as `parents=[common]` works too (it adds no options)."""

    def __init__(self) -> None:
        super().__init__(add_help=False)
        self.add_simulation_options = add_simulation_options
        self.config_from_args = config_from_args
        self.default_data_path = default_data_path
        self.read_data = read_data


COMMON = _Common()


def write_output(path: str, text: str, option: str = "--out") -> None:
    """Write a command's output file; a path that cannot be written (missing folder, no permission) is a line
    naming the option and the path, not a traceback: the one way a command writes a file it was asked for."""
    try:
        with open(path, "w", newline="", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise ConfigError(f"{option} {path}: cannot be written ({exc.strerror or exc})", field=option.lstrip("-"),
                          value=path) from None


def write_ledger(rows: list[dict], path: str) -> None:
    from engine.simulation.simulator import LEDGER_COLUMNS, ledger_csv

    write_output(path, ledger_csv(rows, LEDGER_COLUMNS), "--ledger")


def _add_window_info(info: dict, config, series) -> None:
    """info.first_date / last_date (simulated days) and info.warnings (a replay inside the model's training)."""
    from engine.forecast.registry import get_forecaster
    from engine.forecast.training_window import replay_warnings, simulated_dates

    first, last = simulated_dates(series, config.demand, int(info["context_days"]), int(info["days"]))
    info["first_date"], info["last_date"] = first, last
    warnings = []
    if config.demand == "replay":
        warnings = replay_warnings(get_forecaster(info["forecaster"]), series, first, config.data)
    info["warnings"] = warnings


def cmd_simulate(args) -> int:
    from engine.simulation.batch import run_batch
    from engine.simulation.simulator import Simulator

    config = config_from_args(args)
    series = read_data(args, config.data).get(config.series)
    config.series = series.key
    if config.replications > 1:
        res = run_batch(config, series, keep_ledgers=1 if args.ledger else 0)
        s = res.summary()
        out = dict(s["mean"])
        out.update({"half_width": s["half_width"], "replications": config.replications, "info": res.info})
        ledger = res.ledger(0) if args.ledger else None
    else:
        sim = Simulator(config, series)
        sim.run()
        out = sim.kpis()
        out.update({"replications": 1, "info": sim.info()})
        ledger = sim.ledger
    if args.ledger:
        write_ledger(ledger, args.ledger)
    _add_window_info(out["info"], config, series)
    out = json_safe(out)
    if args.json:
        print(json.dumps(out, allow_nan=False))
    else:
        info = out["info"]
        print(f"series {info['series']}  forecaster {info['forecaster']}  policy {info['policy']['policy']}  "
              f"demand {info['demand']}  days {info['days']}  replications {out['replications']}")
        for w in info["warnings"]:
            print(f"  warning: {w}")
        hw = out.get("half_width") or {}
        for k in ("total_cost", "holding_cost", "stockout_cost", "fill_rate", "cycle_service_level",
                  "days_without_stockout", "stockout_days", "orders_placed", "average_on_hand", "inventory_turns",
                  "ordering_cost", "orders_per_year", "cost_per_order_line"):
            v = out.get(k)
            text = "n/a" if v is None else f"{v:,.4f}"
            if hw.get(k) is not None:
                text += f" ± {hw[k]:,.4f}"
            print(f"  {k:<20} {text}")
        if args.ledger:
            print(f"ledger written to {args.ledger}")
    return 0


def cmd_validate(args) -> int:
    if args.csv is None and args.data_flag is None:
        raise ConfigError("validate needs the file: python -m engine validate FILE.csv (or --data FILE.csv)",
                          field="data")
    if args.csv is not None and args.data_flag is not None and args.csv != args.data_flag:
        raise ConfigError(f"two files given ({args.csv} and --data {args.data_flag}); validate checks one",
                          field="data")
    args.csv = args.csv if args.csv is not None else args.data_flag
    ds = read_data(args, args.csv)
    summary = ds.summary()
    if args.json:
        print(json.dumps(summary))
        return 0
    print(f"{args.csv}: OK — {len(summary['series'])} series, {summary['rows']} rows")
    if summary["date_range"]:
        print(f"  dates: {summary['date_range'][0]} .. {summary['date_range'][1]}")
    print(f"  columns: {', '.join(summary['columns'])}")
    if summary.get("layout"):
        lay = summary["layout"]
        roles = ", ".join(f"{r}={lay[r]}{' (detected)' if r in lay['guessed'] else ''}"
                          for r in ROLES if lay[r] is not None)
        print(f"  layout: {roles}")
    if summary["ignored_columns"]:
        print(f"  ignored columns: {', '.join(summary['ignored_columns'])}")
    if summary["defaults_applied"]:
        applied = summary["defaults_applied"].items()
        print("  defaults for missing columns: " + ", ".join(f"{k}={v}" for k, v in applied))
    for s in summary["series_detail"]:
        dates = f"{s['first_date']} .. {s['last_date']}" if s["first_date"] else "no dates"
        gaps = f", {s['missing_days']} calendar days missing" if s["missing_days"] else ""
        print(f"  {s['key']}: {s['rows']} rows, {dates}{gaps}{'' if s['has_planning'] else ', no Demand_Forecast'}")
    return 0


def cmd_generate(args) -> int:
    from engine.data.generator import generate_csv

    if not 1 <= args.days <= 36500:
        raise ConfigError(f"--days {args.days} is out of range [1, 36500]", field="days", value=args.days)
    if not 1 <= args.series <= 1000:
        raise ConfigError(f"--series {args.series} is out of range [1, 1000]", field="series", value=args.series)
    if not 0 <= args.seed < 2**32:
        raise ConfigError(f"--seed {args.seed} is out of range [0, 2^32)", field="seed", value=args.seed)
    try:
        import datetime as _dt
        _dt.date.fromisoformat(args.start)
    except ValueError:
        raise ConfigError(f"--start {args.start!r} is not a date (YYYY-MM-DD)", field="start",
                          value=args.start) from None
    from engine.data.generator import GeneratorParams

    for flag, value, ok, allowed in (("--weekly-amplitude", args.weekly_amplitude, 0 <= args.weekly_amplitude < 1,
                                      "[0, 1)"),
                                     ("--trend", args.trend, -1 <= args.trend <= 1, "[-1, 1]"),
                                     ("--promo-rate", args.promo_rate, 0 <= args.promo_rate <= 1, "[0, 1]")):
        if not ok:  # NaN fails every comparison: refused too
            raise ConfigError(f"{flag} {value:g} is out of range {allowed}", field=flag[2:], value=value)
    params = GeneratorParams(trend=args.trend, weekly_amplitude=args.weekly_amplitude, promo_rate=args.promo_rate)
    text = generate_csv(days=args.days, series=args.series, seed=args.seed, start=args.start, sku=args.sku,
                        params=params)
    if args.out == "-":
        sys.stdout.write(text)
    else:
        write_output(args.out, text)
        print(f"wrote {args.out}: {args.series} series × {args.days} days (seed {args.seed})")
    return 0


def cmd_forecasters(args) -> int:
    from engine.forecast.registry import default_forecaster_name, list_forecasters

    items = list_forecasters()
    if args.json:
        print(json.dumps({"default": default_forecaster_name(), "forecasters": items}))
    else:
        default = default_forecaster_name()
        for f in items:
            print(f"{f['name']:<20} {f['kind']:<12} {f['label']}{'  (default)' if f['name'] == default else ''}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m engine", allow_abbrev=False,
                                     description="Inventory simulation engine")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("simulate", allow_abbrev=False, help="simulate a policy and print its KPIs")
    add_simulation_options(p)
    p.add_argument("--ledger", metavar="OUT.csv", help="write one row per day (replication 0)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("validate", allow_abbrev=False, help="check a CSV file and describe what it holds")
    p.add_argument("csv", nargs="?", help="the file (or --data FILE, as every other command names it)")
    p.add_argument("--data", dest="data_flag", metavar="FILE", help="the file, as the other commands take it")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("generate", allow_abbrev=False, help="write a synthetic file in the public schema")
    p.add_argument("--out", required=True, help="output path ('-' for stdout)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--series", type=int, default=5, help="number of warehouse series")
    p.add_argument("--start", default="2024-01-01")
    p.add_argument("--sku", default="SKU_1")
    p.add_argument("--trend", type=float, default=0.0, help="change of the base level per day (units/day², default 0)")
    p.add_argument("--weekly-amplitude", type=float, default=0.0,
                   help="relative weekly swing (default 0: no weekly cycle, like the public data)")
    p.add_argument("--promo-rate", type=float, default=0.10, help="share of days with a promotion (default 0.10)")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("forecasters", allow_abbrev=False, help="list the forecasters available")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_forecasters)

    for modname in OPTIONAL_COMMAND_MODULES:
        try:
            mod = importlib.import_module(modname)
        except ImportError:
            continue
        register = getattr(mod, "register", None)
        if register is not None:
            try:
                register(sub, COMMON)
            except Exception as exc:  # an optional module must never break simulate/validate/generate
                print(f"warning: commands of {modname} are unavailable ({type(exc).__name__}: {exc})",
                      file=sys.stderr)
    _add_layout_options(sub)
    return parser


def _add_layout_options(sub) -> None:
    """--columns and --fill-missing-zero on every command that reads a data file (it has --data or a csv)."""
    for p in sub.choices.values():
        dests = {a.dest for a in p._actions}
        if not dests & {"data", "csv"} or "columns" in dests:
            continue
        p.add_argument("--columns", metavar="ROLE=COLUMN,...",
                       help="map a daily file's columns: date=…,item=…,location=…,demand=… (optional price=, "
                            "cost=, promotion=, lead_time=, forecast=, inventory=); default: detected from the "
                            "header (two possible demand columns are refused: choose one with demand=NAME)")
        p.add_argument("--fill-missing-zero", action="store_true",
                       help="a day missing inside a series is a zero-demand day (default: refuse the file)")


TRAINING_PACKAGES = ("tensorflow", "keras", "tf2onnx", "onnx", "sklearn")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (DataError, ConfigError, UnknownForecaster) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        # train / import-pkl need requirements-train.txt, which the serving set-up (scripts/run.sh) leaves out
        if (exc.name or "").split(".")[0] not in TRAINING_PACKAGES:
            raise
        print(f"error: this command needs the training packages ({exc.name} is not installed): "
              "pip install -r requirements-train.txt", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
