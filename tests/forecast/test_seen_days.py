"""The fingerprint of a training series' history (engine.forecast.seen_days): it recognises the same history in
another file (a cut copy) and not a file that only shares the keys and dates."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import numpy as np

from engine.forecast.seen_days import HISTORY_DIGEST_DAYS, history_digest, history_digests, same_history_seen


def _dates(n, start="2024-01-01"):
    d0 = dt.date.fromisoformat(start)
    return [(d0 + dt.timedelta(days=i)).isoformat() for i in range(n)]


def _target(key, demand, dates, held):
    return SimpleNamespace(key=key, demand=np.asarray(demand, dtype=float), dates=dates,
                           positions=list(range(len(demand) - held, len(demand))))


def test_the_digest_reads_the_first_day_and_the_first_days_of_demand():
    rng = np.random.default_rng(3)
    y = rng.poisson(4, 100).astype(float)
    dates = _dates(100)
    d = history_digest(dates, y)
    assert d.startswith("2024-01-01:")
    assert history_digest(dates[:60], y[:60]) == d                       # a cut copy: the same history
    assert history_digest(dates, y.astype(np.int64)) == d                # read as integers: the same
    changed = y.copy()
    changed[HISTORY_DIGEST_DAYS - 1] += 1
    assert history_digest(dates, changed) != d                           # one unit in the first days
    later = y.copy()
    later[HISTORY_DIGEST_DAYS] += 1
    assert history_digest(dates, later) == d                             # beyond them: not read
    assert history_digest(_dates(100, "2024-01-02"), y) != d             # another first day
    assert history_digest(None, y) is None and history_digest(dates[:5], y[:5]) is None


def test_a_held_out_day_inside_the_training_of_the_same_history_is_found():
    rng = np.random.default_rng(4)
    y = rng.poisson(4, 200).astype(float)
    dates = _dates(200)
    train = SimpleNamespace(key="A/S1", demand=y, dates=dates)
    card = {"history_digest_by_series": history_digests([train]),
            "last_train_date_by_series": {"A/S1": dates[179]}}
    cut = _target("A/S1", y[:170], dates[:170], held=20)                  # held out: days 150..169 ≤ 179
    assert same_history_seen(card, [cut]) == ("A/S1", dates[179], dates[150])
    assert same_history_seen(card, [_target("A/S1", y, dates, held=20)]) is None   # held out 180..199: unseen
    other = _target("A/S1", y[:170] + 1, dates[:170], held=20)             # same key and dates, other demand
    assert same_history_seen(card, [other]) is None
    assert same_history_seen({"last_train_date_by_series": card["last_train_date_by_series"]}, [cut]) is None


def test_a_replay_of_the_same_history_from_another_file_warns_and_another_history_does_not(tmp_path):
    """engine.forecast.training_window.replay_warnings: an upload cut from the model's training file has another
    SHA-256 but the same history, so a replay inside the training period warns; a file with the same key and dates
    but other demand does not."""
    from engine.forecast.training_window import replay_warnings

    rng = np.random.default_rng(5)
    y = rng.poisson(4, 200).astype(float)
    dates = _dates(200)
    series = SimpleNamespace(key="A/S1", demand=y, dates=dates, source="upload.csv")
    model = SimpleNamespace(name="ensemble:g", card={"training": {
        "data_file": "train.csv", "data_sha256": "0" * 64, "last_train_date_by_series": {"A/S1": dates[179]},
        "history_digest_by_series": history_digests([series])}})
    upload = tmp_path / "upload.csv"
    upload.write_text("another file\n")
    warned = replay_warnings(model, series, dates[150], data_path=upload)
    assert len(warned) == 1 and "inside the training period of ensemble:g" in warned[0]
    assert replay_warnings(model, series, dates[185], data_path=upload) == []          # after the training period
    other = SimpleNamespace(key="A/S1", demand=y + 1, dates=dates, source="upload.csv")
    assert replay_warnings(model, other, dates[150], data_path=upload) == []
