"""What the web layer asks of the engine: the choices the page offers, the chosen series, a simulator built from
validated controls, and the error types whose message a user should see."""
from __future__ import annotations

import os
import time
from functools import lru_cache

import engine.policies.original  # noqa: F401  registers the original app's rule ("original")
from dashapp.platform.config import settings
from dashapp.ui.policy_fields import field_map
from dashapp.ui.validation import DEFAULT_CONTROLS, InputError
from engine.data import dataset as edata
from engine.errors import ConfigError, DataError
from engine.forecast import registry
from engine.policies.base import policy_label, policy_names
from engine.protection.prior import PRIOR_DAYS, use_prior_store
from engine.simulation.simulator import SimConfig, Simulator
from engine.studies.recommend import both_on_the_run_s_days, recommend, rule_on_recommendation_paths, settings_for

__all__ = ["recommendation_hint", "forecaster_options", "forecaster_options_for", "policy_options",
           "default_forecaster", "new_controls", "warm_controls", "warm_default_run", "sample_dataset", "upload_key",
           "keep_upload", "kept_upload", "dataset_for", "sim_config", "build_simulator", "USER_ERRORS"]

# The web workers and job processes of this machine build each simulated prior once (engine.protection.prior_store).
use_prior_store(settings.prior_dir)

# Errors whose message is for the user (the page shows it); anything else is a bug (logged, generic message).
USER_ERRORS = (InputError, ConfigError, DataError, registry.UnknownForecaster)


def recommendation_hint(config, series) -> tuple[dict, dict, dict | None]:
    """(the recommendation for the run's series and settings, the run's rule costed on its evaluation paths, both
    rules on the run's own days — None when the recommendation's rule cannot run under the run's settings)."""
    rec_settings = settings_for(config)
    rec = recommend(series, rec_settings)
    try:
        on_days = both_on_the_run_s_days(config, series, rec)
    except (ConfigError, ValueError):   # e.g. a forecaster the run's history is too short for: the rest still holds
        on_days = None
    return rec, rule_on_recommendation_paths(config, series, rec, rec_settings), on_days


def default_forecaster() -> str:
    """The bundled ensemble when models/default is servable, else the 7-day moving average."""
    return registry.default_forecaster_name()


def new_controls() -> dict:
    return dict(DEFAULT_CONTROLS, forecaster=default_forecaster())


def forecaster_options() -> list[dict]:
    return [{"label": f["label"], "value": f["name"]} for f in registry.list_forecasters()]


def forecaster_options_for(series) -> list[dict]:
    """The forecaster choices for one series: a forecaster that needs a column the series lacks is offered
    disabled, its label saying why (instead of Start refusing it after the fact)."""
    out = []
    for f in registry.list_forecasters():
        reason = None
        try:
            fc = registry.get_forecaster(f["name"])
            if getattr(fc, "requires_planning", False) and series is not None and series.planning is None:
                reason = "needs the Demand_Forecast column, which this data lacks"
        except (ValueError, OSError) as exc:  # a model that cannot load here
            reason = f"cannot be loaded ({str(exc)[:80]})"
        out.append({"label": f["label"] + (f" — {reason}" if reason else ""), "value": f["name"],
                    "disabled": reason is not None})
    return out


def policy_options() -> dict[str, str]:
    return {name: policy_label(name) for name in policy_names()}


@lru_cache(maxsize=1)
def sample_dataset():
    """The bundled sample, parsed once per process and file version (every page load and Start asks for it;
    nothing changes a loaded SeriesData)."""
    try:
        st = os.stat(settings.sample_data)
    except OSError:  # the loader says what is wrong with the path
        return edata.load_csv(str(settings.sample_data), name="sample.csv")
    return _parsed_sample(str(settings.sample_data), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=2)
def _parsed_sample(path: str, _mtime_ns: int, _size: int):
    return edata.load_csv(path, name="sample.csv")


def upload_key(sid: str) -> str:
    return sid + ":upload"


def keep_upload(store, sid: str, dataset) -> None:
    """Make `dataset` this session's uploaded data (kept_upload reads it back)."""
    store.put(upload_key(sid), {"name": dataset.name, "series": {k: s.to_dict() for k, s in dataset.series.items()}})


def kept_upload(store, sid: str):
    """This session's uploaded data as an engine Dataset, or None when the session has none."""
    stored = store.get(upload_key(sid))
    if not stored:
        return None
    return edata.Dataset(name=stored["name"],
                         series={k: edata.SeriesData.from_dict(v) for k, v in stored["series"].items()})


def dataset_for(store, sid: str, controls: dict):
    """The chosen series: the bundled sample or this session's uploaded file (never a path from the browser)."""
    if controls["data_source"] == "upload":
        ds = kept_upload(store, sid)
        if ds is None:
            raise InputError("data: no uploaded file in this session; upload a CSV or choose the sample data")
    else:
        ds = sample_dataset()
    series, name = ds.series, ds.name
    key = controls.get("series")
    if key is None or key not in series:
        if key is not None:
            raise InputError(f"series: {str(key)[:60]!r} is not in {name}")
        key = next(iter(series))
    return series[key]


def sim_config(controls: dict, series_key: str | None = None) -> SimConfig:
    """Map validated controls to the engine's SimConfig, which validates again (ConfigError names the field)."""
    c = controls
    d = {
        "days": c["horizon"], "lead_time": c["lead_time"], "holding_rate": c["holding_rate"],
        "noise": c["noise"], "seed": c["seed"], "forecaster": c["forecaster"], "policy": c["policy"],
        "demand": c["demand_mode"], "backorders": c["backorders"], "series": series_key,
        "policy_params": {eng: c[page] for page, eng in field_map(c["policy"]).items() if c.get(page) is not None},
    }
    for f in ("unit_cost", "unit_price", "stockout_cost", "initial_inventory", "pack_size", "order_cost"):
        if c.get(f) is not None:
            d[f] = c[f]
    if c.get("moq"):  # blank or 0: no minimum
        d["moq"] = c["moq"]
    if c.get("order_days"):  # none checked: every day
        d["order_days"] = list(c["order_days"])
    return SimConfig.from_dict(d)


def build_simulator(store, sid: str, controls: dict) -> Simulator:
    series = dataset_for(store, sid, controls)
    return Simulator(sim_config(controls, series.key), series)


def warm_controls() -> list[dict]:
    """The runs a web worker prepares before it serves: the page's defaults in each demand mode, the simulated
    modes also over a season (their protection prior covers at most PRIOR_DAYS days, so that one serves every
    longer horizon too)."""
    base = new_controls()
    runs = [base]
    for mode in ("synthetic", "forecast-noise"):
        runs += [dict(base, demand_mode=mode), dict(base, demand_mode=mode, horizon=max(base["horizon"], PRIOR_DAYS))]
    return runs


def warm_default_run(first: int = 0) -> float:
    """Build each of warm_controls()' runs once and drop them: the page's default first, then the simulated ones
    from the `first`-th on (web workers start at different ones and read what the others built from the prior
    store); returns the seconds it took.

    Why: a process's first Start otherwise pays for loading the forecaster (onnxruntime and the ensemble's
    model, ~0.3 s), its rolling-origin errors on the context (cached per forecaster afterwards) and, in a simulated
    demand mode, the protection prior (~1 s; engine.protection.prior). A web worker calls this before it serves
    (dashapp.gunicorn_hooks), so the first planners to press Start do not wait."""
    t0 = time.perf_counter()
    base, *simulated = warm_controls()
    k = int(first) % len(simulated)
    for controls in [base, *simulated[k:], *simulated[:k]]:  # base first: the forecaster and its context errors
        build_simulator(None, "", controls)
    return time.perf_counter() - t0


def upload_layout(raw: bytes, name: str, columns: dict | None = None):
    """The column mapping the engine detects for an upload (roles in `columns` as the user picked them)."""
    return edata.detect_layout(raw, name, columns=columns, max_bytes=settings.upload_max_bytes)


def load_upload(raw: bytes, name: str, columns=None):
    """An uploaded CSV read by the engine's one loader with `columns` (a mapping; None: detected), or a DataError
    naming file, row and column."""
    return edata.load_csv(raw, name=name, max_bytes=settings.upload_max_bytes, columns=columns)


def series_from_dict(d: dict):
    return edata.SeriesData.from_dict(d)


def config_from_dict(d: dict) -> SimConfig:
    return SimConfig.from_dict(d)


def restore(state: dict) -> Simulator:
    """The simulator from its stored state (forecasters are cached per process by the registry)."""
    return Simulator.from_state(state)
