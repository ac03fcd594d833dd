"""“Levels from”: where a page's order-up-to levels come from — each series' recommendation (the portfolio's
choice) or a global quantile model of the models folder (engine.studies.global_orders on /orders,
engine.studies.quantile_backtest in /portfolio's check against history). One list and one reading for both pages;
the browser's value is only ever matched against the list, never used to open a path."""
from __future__ import annotations

from dashapp.ui.validation import InputError

__all__ = ["OWN_LEVELS", "level_options", "levels_choice"]

OWN_LEVELS = "own"   # each series' own recommendation


def level_options() -> list[dict]:
    """The recommendation, then every global model of the models folder (engine.forecast.registry)."""
    from engine.forecast.registry import quantile_model_names
    return [{"label": "the recommendation", "value": OWN_LEVELS}] + [
        {"label": f"global model {n.split(':', 1)[1]}", "value": n} for n in quantile_model_names()]


def levels_choice(raw) -> str | None:
    """None for the recommendation, else the listed model's name (ensemble:NAME); InputError for anything else."""
    if raw in (None, "", OWN_LEVELS):
        return None
    if raw not in {o["value"] for o in level_options()}:
        raise InputError(f"“Levels from”: {str(raw)[:60]!r} is not one of the listed models (reload the page for "
                         "the current list)")
    return raw
