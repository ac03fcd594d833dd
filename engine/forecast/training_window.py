"""Whether a replay plays days a trained model has seen: forecasts on its own training days are in-sample, so the
costs of such a run are optimistic. The model card records the last training date per series."""
from __future__ import annotations

from engine.forecast.backtest import file_sha256
from engine.forecast.seen_days import holds_history

__all__ = ["training_last_date", "replay_warnings", "simulated_dates", "simulator_warnings"]


def training_last_date(forecaster, series_key: str) -> str | None:
    """Last date of `series_key` the forecaster trained on (from its card), None when unknown or untrained."""
    card = getattr(forecaster, "card", None) or {}
    training = card.get("training") or {}
    return (training.get("last_train_date_by_series") or {}).get(series_key)


def simulated_dates(series, demand_mode: str, context_days: int, days: int) -> tuple[str | None, str | None]:
    """First and last simulated date: replay plays the rows after the context; the other modes continue the
    series after its last row."""
    import datetime as _dt
    if not series.dates:
        return None, None
    if demand_mode == "replay":
        played = series.dates[context_days:context_days + days]
        return (played[0], played[-1]) if played else (None, None)
    last = _dt.date.fromisoformat(str(series.dates[-1])[:10])
    return (last + _dt.timedelta(days=1)).isoformat(), (last + _dt.timedelta(days=days)).isoformat()


def replay_warnings(forecaster, series, first_date: str | None, data_path=None) -> list[str]:
    """Warnings (text) when a replay from `first_date` plays days inside the forecaster's training period of this
    series. A card trained on another file (different SHA-256) is not compared — its dates are another history —
    unless the card's digest of this series' history matches the series' own (engine.forecast.seen_days: the same
    history in another file, e.g. an upload cut from the training file)."""
    last = training_last_date(forecaster, series.key)
    if not last or not first_date:
        return []
    training = (getattr(forecaster, "card", None) or {}).get("training") or {}
    card_sha, card_file = training.get("data_sha256"), training.get("data_file")
    if not holds_history(training, series.key, series.dates, series.demand):   # not the same history: compare files
        if card_sha and data_path is not None and file_sha256(data_path) not in (None, card_sha):
            return []
        if data_path is None and card_file and getattr(series, "source", None) not in (None, card_file):
            return []
    if str(first_date)[:10] > str(last)[:10]:
        return []
    return [f"the replay starts on {first_date}, inside the training period of {forecaster.name} (trained on "
            f"{series.key} up to {last}): its forecasts there are in-sample and the costs optimistic; replay fewer "
            f"days or pick a forecaster not trained on these days"]


def simulator_warnings(sim, data_path=None) -> list[str]:
    """replay_warnings for a built engine.simulation.simulator.Simulator (the app's run)."""
    if sim.config.demand != "replay":
        return []
    first, _ = simulated_dates(sim.series, "replay", int(sim.info()["context_days"]), int(sim.days))
    return replay_warnings(sim.forecaster, sim.series, first, data_path)
