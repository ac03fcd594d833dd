"""Which forecasters exist, by name. Names are validated against this list and never used as paths, except that
`ensemble:NAME` maps to `<models dir>/NAME` when the scan found a directory NAME with a `card.json` and NAME
matches ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$. Models dir: $SIM_MODELS_DIR or <repo>/models.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from engine import paths
from engine.forecast.base import Forecaster
from engine.forecast.baselines import (
    FourierRegression,
    MovingAverage,
    Naive,
    PlanningForecast,
    SeasonalNaive,
    SimpleExpSmoothing,
)

__all__ = ["list_forecasters", "get_forecaster", "default_forecaster_name", "models_dir", "UnknownForecaster",
           "FALLBACK_FORECASTER"]

FALLBACK_FORECASTER = "ma7"
DEFAULT_ENSEMBLE = "ensemble:past-only"  # reads past demand only: no column derived from realised demand
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

_BASELINES = {
    "naive": (Naive.label, Naive),
    "seasonal-naive": (SeasonalNaive.label, SeasonalNaive),
    "ma7": ("Moving average (7 days)", lambda: MovingAverage(7)),
    "ma28": ("Moving average (28 days)", lambda: MovingAverage(28)),
    "ses": (SimpleExpSmoothing.label, SimpleExpSmoothing),
    "planning": (PlanningForecast.label, PlanningForecast),
    "fourier": (FourierRegression.label, FourierRegression),
}
from engine.forecast.ets_weekly import EtsWeekly  # noqa: E402
from engine.forecast.intermittent import REGISTRY as _INTERMITTENT  # noqa: E402 (after the baselines it extends)

_BASELINES.update(_INTERMITTENT)
_BASELINES["ets-weekly"] = (EtsWeekly.label, EtsWeekly)
_STATSMODELS = {"ets": ("ETS (statsmodels)", "EtsForecaster"), "arima": ("ARIMA (statsmodels)", "ArimaForecaster")}
_ensemble_cache: dict[tuple[str, float], Forecaster] = {}


class UnknownForecaster(ValueError):
    """A forecaster name that is not in list_forecasters()."""


def models_dir() -> Path:
    return paths.models_dir()


def _statsmodels_module():
    try:
        from engine.forecast import statsmodels_baselines  # written by the forecast work; optional
    except ImportError:
        return None
    return statsmodels_baselines


def _ensemble_names() -> list[str]:
    """Model folders with a card, read afresh on every call (a model trained meanwhile is listed at once); plain
    os calls, no pathlib: every page load lists the forecasters."""
    root = str(models_dir())
    try:
        with os.scandir(root) as it:
            entries = [e.name for e in it if _NAME_RE.match(e.name)]
    except OSError:
        return []
    return sorted(e for e in entries if os.path.isfile(os.path.join(root, e, "card.json")))


def _ensemble_available() -> bool:
    try:
        from engine.forecast import onnx_model  # noqa: F401
    except ImportError:
        return False
    return True


def list_forecasters() -> list[dict]:
    """Every forecaster a user may pick: dicts with name, label, kind ("baseline" | "statsmodels" | "ensemble")."""
    out = [{"name": n, "label": lbl, "kind": "baseline"} for n, (lbl, _) in _BASELINES.items()]
    mod = _statsmodels_module()
    if mod is not None:
        for n, (lbl, cls) in _STATSMODELS.items():
            if hasattr(mod, cls):
                out.append({"name": n, "label": lbl, "kind": "statsmodels"})
    if _ensemble_available():
        from engine.forecast.model_names import label_for_folder
        root = str(models_dir())
        for name in _ensemble_names():
            out.append({"name": f"ensemble:{name}", "label": label_for_folder(os.path.join(root, name), name),
                        "kind": "ensemble"})
    return out


def quantile_model_names() -> list[str]:
    """The ensembles that forecast quantiles of demand sums (global models, engine train --global): the ones a
    level can be read from (engine orders --forecaster, /orders' "Levels from")."""
    if not _ensemble_available():
        return []
    from engine.forecast.onnx_model import read_card
    out = []
    for name in _ensemble_names():
        try:
            if read_card(models_dir() / name).get("kind") == "global":
                out.append(f"ensemble:{name}")
        except Exception:   # an unreadable card lists nothing; choosing it would say why
            continue
    return out


def default_forecaster_name() -> str:
    """"ensemble:past-only" when models/past-only/card.json exists and can be served, else "ma7".

    Not ensemble:default: it reads the Demand_Forecast column, which in the public file is realised demand plus
    noise, so its accuracy there is not a forecaster's."""
    if _ensemble_available() and DEFAULT_ENSEMBLE.split(":", 1)[1] in _ensemble_names():
        return DEFAULT_ENSEMBLE
    return FALLBACK_FORECASTER


def get_forecaster(name: str | None = None) -> Forecaster:
    """A fresh (baselines) or cached (ensembles) forecaster for a listed name; UnknownForecaster otherwise."""
    if name is None:
        name = default_forecaster_name()
    if not isinstance(name, str):
        raise UnknownForecaster(f"forecaster name must be text, got {type(name).__name__}")
    listed = {f["name"] for f in list_forecasters()}
    if name not in listed:
        shown = name if len(name) <= 60 else name[:57] + "..."
        raise UnknownForecaster(f"unknown forecaster {shown!r}; choose one of: {', '.join(sorted(listed))}")
    if name in _BASELINES:
        f = _BASELINES[name][1]()
    elif name in _STATSMODELS:
        f = getattr(_statsmodels_module(), _STATSMODELS[name][1])()
    else:
        model = name.split(":", 1)[1]
        if not _NAME_RE.match(model) or model not in _ensemble_names():  # re-checked: never a path from input
            raise UnknownForecaster(f"unknown forecaster {name!r}")
        from engine.forecast.onnx_model import OnnxEnsemble, read_card
        folder = models_dir() / model
        key = (str(folder), (folder / "card.json").stat().st_mtime)
        f = _ensemble_cache.get(key)
        if f is None:
            if read_card(folder).get("kind") == "global":
                from engine.forecast.global_model import GlobalQuantileModel
                f = GlobalQuantileModel.load(folder)
            else:
                f = OnnxEnsemble.load(folder)
            _ensemble_cache[key] = f
    f.name = name
    return f
