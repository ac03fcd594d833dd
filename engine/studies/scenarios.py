"""Scenario comparison on common random numbers.

A scenario is a name plus the simulate command's long options with dashes as underscores
(``{"name": "LT14", "lead_time": 14, "policy": "order-up-to"}``). A scenario *set* is the list of scenarios plus
the run settings (replications, days, seed, data). Every scenario of a run sees the same demand paths (the batch
engine derives every random stream from ``SeedSequence([seed, replication, stream])``), so differences between
scenarios are paired per replication and their confidence intervals are much narrower than of independent runs.

Also here: the canonical form of a scenario set, its hash (the result-cache key) and its URL token (the
shareable link), all pure and JSON-safe.
"""
from __future__ import annotations

import base64
import hashlib
import json
import zlib

MAX_SCENARIOS = 8
MAX_TOKEN_CHARS = 8000  # a URL token longer than this is refused before it is decoded
MAX_REPLICATIONS = 2000
MAX_DAYS = 3650


class ScenarioError(ValueError):
    """A scenario set that cannot be run; ``str()`` names the scenario and the field."""


def canonical_set(scenarios: list[dict], *, replications: int, days: int | None, seed: int,
                  baseline: int = 0) -> dict:
    """The scenario set as one JSON-safe dict with stable key order, numbers normalised (1 == 1.0)."""
    if not isinstance(scenarios, list) or not scenarios:
        raise ScenarioError("the scenario set is empty: define at least one scenario")
    if len(scenarios) > MAX_SCENARIOS:
        raise ScenarioError(f"{len(scenarios)} scenarios: at most {MAX_SCENARIOS} can be compared at once")
    names = []
    clean = []
    for i, sc in enumerate(scenarios, 1):
        if not isinstance(sc, dict):
            raise ScenarioError(f"scenario {i}: expected an object with a name and options, got {type(sc).__name__}")
        name = str(sc.get("name") or "").strip()
        if not name:
            raise ScenarioError(f"scenario {i}: the name is missing")
        if len(name) > 60:
            raise ScenarioError(f"scenario {i}: name {name[:20]!r}... is longer than 60 characters")
        if name in names:
            raise ScenarioError(f"scenario {i}: the name {name!r} is used twice")
        names.append(name)
        opts = {}
        for key, value in sc.items():
            if key == "name" or value is None or value == "":
                continue
            key = str(key).replace("-", "_")
            if isinstance(value, float) and value.is_integer() and key not in _FLOAT_KEYS:
                value = int(value)
            opts[key] = value
        clean.append({"name": name, **dict(sorted(opts.items()))})
    replications = _int_in("replications", replications, 1, MAX_REPLICATIONS)
    days = None if days in (None, "") else _int_in("days", days, 1, MAX_DAYS)
    seed = _int_in("seed", seed, 0, 2**32 - 1)
    baseline = _int_in("baseline", baseline, 0, len(clean) - 1)
    return {"version": 1, "scenarios": clean, "replications": replications, "days": days, "seed": seed,
            "baseline": baseline}


_FLOAT_KEYS = {"holding_rate", "unit_cost", "unit_price", "stockout_cost", "noise", "service_level", "z"}


def _int_in(field: str, value, lo: int, hi: int) -> int:
    try:
        v = int(value)
        if isinstance(value, float) and not value.is_integer():
            raise ValueError
    except (TypeError, ValueError):
        raise ScenarioError(f"{field} must be a whole number, got {value!r}") from None
    if not lo <= v <= hi:
        raise ScenarioError(f"{field} must be between {lo} and {hi}, got {v}")
    return v


def set_hash(scenario_set: dict, extra: dict | None = None) -> str:
    """SHA-256 of the canonical JSON of the set (plus anything else the result depends on, e.g. the data key)."""
    payload = {"set": scenario_set, "extra": extra or {}}
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def encode_set(scenario_set: dict) -> str:
    """URL-safe token (zlib + base64url, no padding) carrying the whole scenario set: the shareable link."""
    blob = json.dumps(scenario_set, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()
    return base64.urlsafe_b64encode(zlib.compress(blob, 9)).decode().rstrip("=")


def decode_set(token: str) -> dict:
    """Inverse of ``encode_set``; any damaged or hostile token becomes a ``ScenarioError`` with a message."""
    if not isinstance(token, str) or not token:
        raise ScenarioError("the link carries no scenario set")
    if len(token) > MAX_TOKEN_CHARS:
        raise ScenarioError(f"the link's scenario set is too long ({len(token)} characters)")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        d = zlib.decompressobj()
        blob = d.decompress(raw, 200_000)
        if d.unconsumed_tail:
            raise ScenarioError("the link's scenario set is too large")
        data = json.loads(blob)
    except ScenarioError:
        raise
    except Exception:
        raise ScenarioError("the link's scenario set is damaged (cannot be decoded); ask for a fresh link") from None
    if not isinstance(data, dict) or "scenarios" not in data:
        raise ScenarioError("the link's scenario set is damaged (no scenarios in it)")
    return canonical_set(data["scenarios"], replications=data.get("replications", 100), days=data.get("days"),
                         seed=data.get("seed", 0), baseline=data.get("baseline", 0))


# ---------------------------------------------------------------------------------------------------------------
# Running a scenario set
# ---------------------------------------------------------------------------------------------------------------
import math  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import engine.policies.original  # noqa: E402,F401  (registers policy "original")
from engine.data.dataset import DataError, load_csv  # noqa: E402
from engine.errors import ConfigError  # noqa: E402
from engine.forecast.base import Forecaster  # noqa: E402
from engine.forecast.registry import UnknownForecaster, default_forecaster_name, get_forecaster  # noqa: E402
from engine.json_safe import json_safe  # noqa: E402
from engine.paths import sample_data  # noqa: E402
from engine.policies.base import policy_names, policy_params  # noqa: E402
from engine.simulation.confidence import mean_ci  # noqa: E402
from engine.simulation.metrics import KPI_NAMES  # noqa: E402

DEFAULT_DATA = sample_data()
SET_LEVEL = ("replications", "days", "seed")
REPORTED_KPIS = [k for k in KPI_NAMES if k != "days"]
_DEMAND_KEYS = ("data", "series", "demand", "noise", "context_days")


class SharedForecaster(Forecaster):
    """Wraps a forecaster so scenarios that see the same demand paths share its forecasts.

    The batch engine asks for forecasts of history[:, :t] day by day; scenarios of one demand group have the same
    history, so the first scenario computes each (n, H) block and the others reuse it. ``scope`` names the
    replications block being run; a stored block is reused only when scope, shape and the history's last day
    all match (otherwise it is recomputed — sharing is never silently wrong). σ over a window is cached too.
    """

    def __init__(self, inner: Forecaster) -> None:
        self.inner = inner
        self.name = inner.name
        self.label = getattr(inner, "label", "")
        self.horizon = inner.horizon
        self.min_history = inner.min_history
        self.uses_covariates = inner.uses_covariates
        self.uses_calendar = getattr(inner, "uses_calendar", False)
        self.requires_planning = getattr(inner, "requires_planning", False)
        self.max_sigma_origins = getattr(inner, "max_sigma_origins", 120)
        self.prior_budget = getattr(inner, "prior_budget", 0)
        self.scope = None
        self._blocks: dict = {}
        self._sigmas: dict = {}
        self.computed = 0
        self.reused = 0

    def set_scope(self, scope) -> None:
        if scope != self.scope:
            self._blocks.clear()
            self.scope = scope

    def predict(self, demand, covariates=None):
        demand = np.asarray(demand)
        key = (self.scope, demand.shape)
        hit = self._blocks.get(key)
        if hit is not None and np.array_equal(hit[0], demand[:, -1]) and np.array_equal(hit[1], demand[:, 0]):
            self.reused += 1
            return hit[2]
        out = self.inner.predict(demand, covariates)
        self._blocks[key] = (demand[:, -1].copy(), demand[:, 0].copy(), out)
        self.computed += 1
        return out

    def window_sigma(self, demand, covariates, window):
        a = np.ascontiguousarray(np.asarray(demand, dtype=np.float64))
        key = (int(window), a.shape, hashlib.sha256(a.tobytes()).hexdigest())
        if key not in self._sigmas:
            self._sigmas[key] = self.inner.window_sigma(demand, covariates, window)
        return self._sigmas[key]

    def window_errors(self, demand, covariates, window):
        a = np.ascontiguousarray(np.asarray(demand, dtype=np.float64))
        key = ("errors", int(window), a.shape, hashlib.sha256(a.tobytes()).hexdigest())
        if key not in self._sigmas:
            self._sigmas[key] = self.inner.window_errors(demand, covariates, window)
        return self._sigmas[key]


def _scenario_options(sc_: dict) -> dict:
    return {k: v for k, v in sc_.items() if k != "name"}


def build_configs(sset: dict, *, allow_files: bool = True, defaults: dict | None = None):
    """One SimConfig per scenario (ScenarioError naming the scenario on any bad setting)."""
    from engine.simulation.simulator import SimConfig

    configs = []
    for sc_ in sset["scenarios"]:
        name = sc_["name"]
        opts = {**(defaults or {}), **_scenario_options(sc_)}
        if not allow_files and opts.get("data"):
            raise ScenarioError(f"scenario {name!r}: a scenario from the web page cannot name a file (data)")
        for key in SET_LEVEL:
            if key in _scenario_options(sc_):
                want = sset[key]
                if want is not None and _scenario_options(sc_)[key] != want:
                    raise ScenarioError(f"scenario {name!r}: {key} = {sc_[key]!r} differs from the run's {key} "
                                        f"{want!r}; every scenario of a comparison shares it (common random "
                                        "numbers) — set it once for the run")
        opts.update({"seed": sset["seed"], "replications": sset["replications"]})
        if sset.get("days") is not None:
            opts["days"] = sset["days"]
        try:
            cfg = SimConfig.from_options(opts)
        except ConfigError as err:
            raise ScenarioError(f"scenario {name!r}: {err}") from None
        if cfg.forecaster is not None and cfg.forecaster not in _forecaster_names():
            raise ScenarioError(f"scenario {name!r}: unknown forecaster {str(cfg.forecaster)[:40]!r}; choose one "
                                f"of: {', '.join(sorted(_forecaster_names()))}")
        configs.append(cfg)
    return configs


def _forecaster_names() -> set:
    from engine.forecast.registry import list_forecasters

    return {f["name"] for f in list_forecasters()}


MAX_WORK = 8 * 2000 * 365  # scenario × replication × day cells one run may ask for


def check_set(sset: dict, *, allow_files: bool = False) -> list:
    """Validate a canonical set without running it (the page calls this before submitting a job)."""
    if len(sset["scenarios"]) < 1:
        raise ScenarioError("define at least one scenario")
    configs = build_configs(sset, allow_files=allow_files)
    work = len(configs) * sset["replications"] * max(int(c.days) for c in configs)
    if work > MAX_WORK:
        raise ScenarioError(f"{len(configs)} scenarios × {sset['replications']} replications × "
                            f"{max(int(c.days) for c in configs)} days is more than one run may compute "
                            f"({MAX_WORK:,} scenario-days); use fewer replications or days")
    return configs


def revalidate(payload) -> tuple[dict, str]:
    """A job request as it arrives from the browser: never trusted. Rebuilds the canonical set, checks it and
    recomputes the cache key (a forged key could otherwise poison another set's cached result)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("set"), dict):
        raise ScenarioError("malformed job request")
    raw = payload["set"]
    sset = canonical_set(raw.get("scenarios"), replications=raw.get("replications"), days=raw.get("days"),
                         seed=raw.get("seed"), baseline=raw.get("baseline", 0))
    check_set(sset)
    return sset, result_key(sset)


def result_key(sset: dict, extra: dict | None = None) -> str:
    """Cache key of a set's result: its hash plus what else the numbers depend on (the bundled data file)."""
    info = dict(extra or {})
    try:
        st = DEFAULT_DATA.stat()
        info.setdefault("default_data", [st.st_size, int(st.st_mtime)])
    except OSError:
        info.setdefault("default_data", None)
    models = _model_stamps(sset)
    if models:  # a retrained model must not be served from an old cached result
        info.setdefault("models", models)
    return set_hash(sset, info)


def _model_stamps(sset: dict) -> dict:
    from engine.forecast.registry import models_dir

    names = {s.get("forecaster") or default_forecaster_name() for s in sset["scenarios"]}
    out = {}
    for name in sorted(n for n in names if isinstance(n, str) and n.startswith("ensemble:")):
        try:
            st = (models_dir() / name.split(":", 1)[1] / "card.json").stat()
            out[name] = [st.st_size, int(st.st_mtime)]
        except OSError:
            out[name] = None
    return out


def _load_series(config, cache: dict, default_data: Path | None):
    path = config.data or (str(default_data) if default_data else None)
    if not path:
        raise ScenarioError("no data: name a CSV file (data) in the scenario or pass --data")
    if not config.data and not Path(path).is_file():
        raise ScenarioError(f"the bundled sample data {path} is missing; create it with "
                            f"`python -m engine generate --out {path}` or pass --data")
    if path not in cache:
        cache[path] = load_csv(path)
    return cache[path].get(config.series)


def _mean_ci(a: np.ndarray) -> dict:
    return mean_ci(a)


def compare(sset: dict, *, series=None, progress=None, allow_files: bool = False, defaults: dict | None = None,
            chunk: int | None = None, keep_ledgers: int = 1, default_data: Path | None = DEFAULT_DATA,
            forecaster_overrides: dict | None = None, datasets: dict | None = None) -> dict:
    """Run every scenario of a canonical set on common random numbers; the JSON-safe result record.

    series: a SeriesData used by every scenario that names no file (the page passes the chosen sample series);
    progress(done, total) is called after each block of replications of each scenario. Scenarios with the same
    demand settings share forecasts (computed once per path). datasets: {path: Dataset} already read (the command
    line's --data with its --columns); other files are read with detected columns. keep_ledgers=K keeps
    replication 0..K-1's ledgers of every scenario (used by the tests; the page keeps replication 0 for the
    overlaid traces).
    """
    from engine.simulation.batch import run_batch

    t0 = time.perf_counter()
    configs = build_configs(sset, allow_files=allow_files, defaults=defaults)
    R = sset["replications"]
    files: dict = dict(datasets or {})
    series_of = []
    for cfg in configs:
        if series is not None and not cfg.data:
            s = series if cfg.series in (None, series.key) else _load_series(cfg, files, default_data)
        else:
            try:
                s = _load_series(cfg, files, default_data)
            except DataError as err:
                raise ScenarioError(str(err)) from None
        series_of.append(s)
    shared: dict = {}
    forecasters = []
    for cfg in configs:
        name = cfg.forecaster or default_forecaster_name()
        if forecaster_overrides and name in forecaster_overrides:
            inner = forecaster_overrides[name]
        else:
            try:
                inner = get_forecaster(name)
            except UnknownForecaster as err:
                raise ScenarioError(str(err)) from None
        gkey = (tuple(getattr(cfg, k) for k in _DEMAND_KEYS), cfg.days, cfg.seed, name)
        if gkey not in shared:
            shared[gkey] = SharedForecaster(inner)
        forecasters.append((gkey, shared[gkey]))
    # Few, large blocks: the engine's day loop costs the same per call whatever the number of replications, so
    # a block per scenario (up to 500 replications) is fastest; progress is reported per scenario and block.
    block = int(chunk or min(R, max(500, math.ceil(R / 4))))
    blocks = [(s, min(block, R - s)) for s in range(0, R, block)]
    total_steps = len(blocks) * len(configs)
    per_kpi = [{k: [] for k in REPORTED_KPIS} for _ in configs]
    kept = [None] * len(configs)
    infos = [None] * len(configs)
    done = 0
    for start, n in blocks:
        for i, cfg in enumerate(configs):
            gkey, fc = forecasters[i]
            fc.set_scope((start, n))
            try:
                res = run_batch(cfg, series_of[i], replications=n, forecaster=fc, first_replication=start,
                                keep_ledgers=max(0, min(keep_ledgers - start, n)))
            except (ConfigError, DataError) as err:
                raise ScenarioError(f"scenario {sset['scenarios'][i]['name']!r}: {err}") from None
            for k in REPORTED_KPIS:
                per_kpi[i][k].append(np.asarray(res.kpis[k], dtype=np.float64))
            if res.kept:
                kept[i] = res.kept if kept[i] is None else {c: np.concatenate([kept[i][c], v])
                                                            for c, v in res.kept.items()}
            if infos[i] is None:
                infos[i] = res.info
            done += 1
            if progress is not None:
                progress(done, total_steps)
    per_kpi = [{k: np.concatenate(v) for k, v in d.items()} for d in per_kpi]
    b = sset.get("baseline", 0)
    out = []
    for i, sc_ in enumerate(sset["scenarios"]):
        kp = per_kpi[i]
        rec = {"name": sc_["name"], "options": _scenario_options(sc_),
               "kpis": {k: _mean_ci(kp[k]) for k in REPORTED_KPIS},
               "diff_vs_baseline": {k: _mean_ci(kp[k] - per_kpi[b][k]) for k in REPORTED_KPIS},
               "same_demand_as_baseline": bool(np.array_equal(kp["total_demand"], per_kpi[b]["total_demand"])),
               "demand_group": list(shared).index(forecasters[i][0]),
               "total_cost_samples": [float(x) for x in kp["total_cost"]],
               "info": json_safe(infos[i])}
        if kept[i] is not None:
            rec["trace"] = {c: [float(x) for x in kept[i][c][0]] for c in ("demand", "on_hand", "order_up_to",
                                                                            "order_qty")}
        rec["_per_replication"] = kp  # removed by to_record(); tests read it
        rec["_kept"] = kept[i]
        out.append(rec)
    sharing = {"forecast_blocks_computed": int(sum(f.computed for f in shared.values())),
               "forecast_blocks_reused": int(sum(f.reused for f in shared.values()))}
    return {"version": 1, "key": result_key(sset), "replications": R, "days": int(configs[0].days),
            "seed": sset["seed"], "baseline": b, "baseline_name": sset["scenarios"][b]["name"],
            "elapsed_s": time.perf_counter() - t0, "sharing": sharing, "scenarios": out}


def to_record(result: dict) -> dict:
    """The JSON-safe record (drops the in-memory per-replication arrays kept for tests)."""
    out = dict(result)
    out["scenarios"] = [{k: v for k, v in s.items() if not k.startswith("_")} for s in result["scenarios"]]
    return out


def cli_summary(result: dict) -> dict:
    """The `compare --json` shape: {"scenarios": [{"name", kpi: {"mean", "ci95"}, ..., "diff_vs_baseline"}]}."""
    scen = []
    for s in result["scenarios"]:
        item = {"name": s["name"]}
        item.update(s["kpis"])
        item["diff_vs_baseline"] = s["diff_vs_baseline"]
        scen.append(item)
    return {"scenarios": scen, "baseline": result["baseline_name"], "replications": result["replications"],
            "days": result["days"], "seed": result["seed"]}


def result_csv_rows(result: dict) -> list[list]:
    """Rows for the CSV export: one per scenario and KPI with mean, CI and the paired difference."""
    rows = [["scenario", "kpi", "mean", "ci95", "diff_vs_baseline_mean", "diff_vs_baseline_ci95"]]
    for s in result["scenarios"]:
        for k in REPORTED_KPIS:
            v = s["kpis"].get(k, {})
            d = s["diff_vs_baseline"].get(k, {})
            rows.append([s["name"], k, v.get("mean"), v.get("ci95"), d.get("mean"), d.get("ci95")])
    return rows


# ---------------------------------------------------------------------------------------------------------------
# The page's editable table <-> scenario sets
# ---------------------------------------------------------------------------------------------------------------
DEMAND_CHOICES = ["synthetic", "forecast-noise", "replay"]
SALES_CHOICES = ["lost sales", "backorders"]
# The table's columns besides name, policy, the policies' parameters (engine.policies.base.all_params) and sales:
# simulate's option names. Their labels and widgets are the page's (dashapp/ui/scenario_table.py).
TABLE_OPTION_COLUMNS = ("lead_time", "lead_time_dist", "holding_rate", "unit_cost", "unit_price", "stockout_cost",
                        "forecaster", "demand", "noise", "moq", "pack_size", "order_days", "order_cost")
REQUIRED_TABLE_COLUMNS = ("name", "policy", "sales", "demand")


def default_table_rows() -> list[dict]:
    """Two scenarios to start from: the textbook rule and the original app's rule, original defaults."""
    common = {"lead_time": 7, "holding_rate": 0.25, "sales": "lost sales", "demand": "synthetic", "noise": 0.1,
              "forecaster": None}
    return [{"name": "Order-up-to", "policy": "order-up-to", **common},
            {"name": "Original rule", "policy": "original", **common}]


def rows_to_set(rows, *, replications, days, seed, baseline: int = 0) -> dict:
    """Table rows → canonical set. Blank cells mean 'default'; parameters of other policies are ignored. A row's
    `series` (no column of its own: it comes with a simulator link) is kept."""
    if not rows:
        raise ScenarioError("the table is empty: add a scenario")
    scen = []
    for i, row in enumerate(rows, 1):
        row = dict(row or {})
        policy = row.get("policy") or "order-up-to"
        item = {"name": row.get("name"), "policy": policy}
        own = tuple(p.name for p in policy_params(policy)) if policy in policy_names() else ()
        for cid in TABLE_OPTION_COLUMNS + own:  # other policies' parameters are ignored
            v = row.get(cid)
            if v is not None and v != "":
                item[cid] = v
        sales = row.get("sales") or "lost sales"
        if sales not in SALES_CHOICES:
            raise ScenarioError(f"scenario {i}: unmet demand must be 'lost sales' or 'backorders', got {sales!r}")
        item["backorders"] = sales == "backorders"
        if row.get("series") not in (None, ""):  # not a column: a row from a link keeps the series it names
            item["series"] = row["series"]
        scen.append(item)
    return canonical_set(scen, replications=replications, days=days, seed=seed, baseline=baseline)


def set_to_rows(sset: dict) -> list[dict]:
    """Canonical set → table rows (the inverse of rows_to_set for what the table can show)."""
    rows = []
    for s in sset["scenarios"]:
        row = {k: v for k, v in s.items() if k != "backorders"}
        row["sales"] = "backorders" if s.get("backorders") else "lost sales"
        rows.append(row)
    return rows
